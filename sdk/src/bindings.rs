//! Bindings generated from `wit/plugin.wit` by wit-bindgen.
//!
//! Kept in their own module so the rest of the SDK can add methods to the
//! generated types without touching generated code.
#![allow(missing_docs, clippy::all)]

wit_bindgen::generate!({
    world: "plugin",
    path: "wit",
    pub_export_macro: true,
    export_macro_name: "__export_guest",
    default_bindings_module: "mtd_sdk::bindings",
    additional_derives: [PartialEq],
});
