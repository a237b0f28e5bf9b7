//! A plugin for a contract this host does not speak: mtd:plugin@2.0.0.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({ world: "plugin", path: "wit" });

struct Future;

impl exports::mtd::plugin::guest::Guest for Future {
    fn info() -> String {
        "from the future".to_string()
    }
}

export!(Future);
