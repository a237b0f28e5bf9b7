//! Builds every plugin (shipped and test-only) from source for the end-to-end
//! tests, and tells them where the components are (`MTD_PLUGIN_DIR`).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest.parent().expect("tests/ lives in the workspace").to_path_buf();
    let mut crates = Vec::new();
    for dir in [workspace.join("plugins"), manifest.join("plugins")] {
        match plugin_build::discover(&dir) {
            Ok(found) => crates.extend(found),
            Err(e) => fail(&e),
        }
    }
    let out_dir = plugin_build::build(&workspace, &crates).unwrap_or_else(|e| fail(&e));
    println!("cargo:rustc-env=MTD_PLUGIN_DIR={}", out_dir.display());
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
