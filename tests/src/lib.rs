//! Helpers for the end-to-end tests: where the plugins built from source
//! are, and a runtime to load them with.

use std::path::PathBuf;

use mtdhost::runtime::{Cache, Limits, LoadOptions, LoadedPlugin, PluginSource, Runtime};

/// The directory holding every plugin component built by this crate's build script.
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("MTD_PLUGIN_DIR"))
}

/// Path of a built plugin by cargo package name (e.g. `mtd-test-hostile`).
pub fn plugin_path(package: &str) -> PathBuf {
    let lib = plugin_dir().join(format!("{}.wasm", package.replace('-', "_")));
    if lib.exists() {
        lib
    } else {
        plugin_dir().join(format!("{package}.wasm"))
    }
}

/// The plugin's source.
pub fn source(package: &str) -> PluginSource {
    PluginSource::from_file(&plugin_path(package)).expect("plugin built by build.rs")
}

/// A runtime without a disk cache, so tests never share state.
pub fn runtime() -> Runtime {
    Runtime::new(Cache::disabled())
}

/// Loads `package` with settings and limits.
pub fn load(rt: &Runtime, package: &str, settings_json: &str, limits: Limits) -> LoadedPlugin {
    let opts = LoadOptions { limits, settings_json: settings_json.to_string(), ..LoadOptions::default() };
    rt.load(&source(package), &opts).unwrap_or_else(|e| panic!("loading {package}: {e}"))
}
