//! Build-script helper that compiles workspace plugin crates to
//! `wasm32-wasip2` components.
//!
//! Plugins are built from source whenever the host or the tests are built, so
//! no `.wasm` is ever committed. The nested `cargo build` uses its own target
//! directory (so it never waits on the outer build's lock) and the `plugin`
//! profile from the workspace manifest (small, stripped components).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every plugin is built for.
pub const TARGET: &str = "wasm32-wasip2";
/// The workspace profile plugins are built with.
pub const PROFILE: &str = "plugin";

/// A plugin crate found in the workspace.
#[derive(Debug, Clone)]
pub struct PluginCrate {
    /// Cargo package name, e.g. `mtd-plugin-lookout`.
    pub package: String,
    /// The crate directory.
    pub dir: PathBuf,
}

impl PluginCrate {
    /// Where the built component lands (plugin crates are `cdylib` libraries).
    pub fn artefact(&self, out_dir: &Path) -> PathBuf {
        out_dir.join(format!("{}.wasm", self.package.replace('-', "_")))
    }
}

/// Lists the plugin crates directly under `dir` (each a folder with a Cargo.toml).
pub fn discover(dir: &Path) -> Result<Vec<PluginCrate>, String> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let manifest = path.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let package = text
            .lines()
            .find_map(|l| {
                let l = l.trim();
                let rest = l.strip_prefix("name")?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_string())
            })
            .ok_or_else(|| format!("{} has no package name", manifest.display()))?;
        found.push(PluginCrate { package, dir: path });
    }
    found.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(found)
}

/// Builds `crates` and returns the directory holding the `.wasm` files.
/// Prints `cargo:rerun-if-changed` lines for everything the build reads.
pub fn build(workspace: &Path, crates: &[PluginCrate]) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    check_target_installed()?;
    let target_dir = workspace.join("target").join("plugins");
    for dir in [workspace.join("sdk"), workspace.join("Cargo.lock"), workspace.join("Cargo.toml")] {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .arg("build")
        .arg("--target")
        .arg(TARGET)
        .arg("--profile")
        .arg(PROFILE)
        .arg("--target-dir")
        .arg(&target_dir);
    for c in crates {
        println!("cargo:rerun-if-changed={}", c.dir.display());
        cmd.arg("-p").arg(&c.package);
    }
    // The outer build's flags, wrappers (clippy) and target settings are for
    // the host, not for wasm guests.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd.output().map_err(|e| format!("cannot run cargo to build plugins: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the wasm plugins failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(target_dir.join(TARGET).join(PROFILE))
}

fn check_target_installed() -> Result<(), String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if Path::new(&sysroot).join("lib/rustlib").join(TARGET).exists() {
        Ok(())
    } else {
        Err(format!(
            "the {TARGET} target is not installed for this toolchain; run `rustup target add {TARGET}` \
             (plugins are WebAssembly components built from source)"
        ))
    }
}
