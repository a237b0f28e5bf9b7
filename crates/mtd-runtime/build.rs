//! Builds the plugins shipped with mtdhost (`plugins/*`) to wasm components
//! and embeds them, so `builtin:NAME` works from any installed binary.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest
        .parent()
        .and_then(std::path::Path::parent)
        .expect("crates/mtd-runtime lives in the workspace")
        .to_path_buf();
    let crates = plugin_build::discover(&workspace.join("plugins")).unwrap_or_else(|e| fail(&e));
    let out_dir = plugin_build::build(&workspace, &crates).unwrap_or_else(|e| fail(&e));
    let mut code = String::from("/// Plugins compiled into this binary: (name, component bytes).\npub static BUILTIN: &[(&str, &[u8])] = &[\n");
    for c in &crates {
        let name = c.package.trim_start_matches("mtd-plugin-");
        let path = c.artefact(&out_dir);
        writeln!(code, "    ({name:?}, include_bytes!({:?})),", path.display().to_string())
            .expect("string write");
    }
    code.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin_plugins.rs");
    std::fs::write(dest, code).unwrap_or_else(|e| fail(&e.to_string()));
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
