//! Host-side bindings for the `mtd:plugin@0.2.1` world, generated from the
//! SDK's WIT so host and SDK can never disagree on the contract.

// The generated types carry the WIT's own comments, not rustdoc on every field.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../sdk/wit",
    world: "plugin",
    imports: { default: trappable },
});

pub(crate) use exports::mtd::plugin::guest;
pub(crate) use mtd::plugin::host::LogLevel;
pub use mtd::plugin::types::*;

/// The contract line this host implements.
pub const CONTRACT_PACKAGE: &str = "mtd:plugin";
/// The exact contract version of the bundled WIT.
pub const CONTRACT_VERSION: &str = "0.2.1";
