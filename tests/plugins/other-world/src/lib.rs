//! A valid WebAssembly component that is not an mtdhost plugin: it exports
//! an interface of some other package.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({ world: "other", path: "wit" });

struct Other;

impl exports::example::other::greeter::Guest for Other {
    fn greet() -> String {
        "hello from another world".to_string()
    }
}

export!(Other);
