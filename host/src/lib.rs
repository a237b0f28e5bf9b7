//! mtdhost: Intune Mobile Threat Defense compliance as code.
//!
//! The library behind the `mtdhost` binary: the sandboxed plugin
//! [`runtime`], the plugins shipped in the binary ([`builtin`]) and the
//! command line ([`cli`]).

pub mod cli;
pub mod config;
#[cfg(feature = "emulator")]
pub use mtd_emulator as emulator;
pub mod evaluate;
pub mod export;
pub use mtd_graph as graph;
pub mod pipeline;
pub mod plan;
pub mod plugin_test;
pub mod prepare;
pub use mtd_runtime as runtime;
pub use mtd_runtime::{builtin, sanitize};
pub mod session;
