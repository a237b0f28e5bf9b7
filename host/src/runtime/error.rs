//! Errors of the plugin runtime. Each one names the plugin (its file or
//! builtin name, and its version once known) and says what went wrong in
//! words an admin or a plugin author can act on.

use std::path::PathBuf;

use crate::sanitize::quote;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("plugin {label} is an empty file, not a WebAssembly component")]
    Empty { label: String },
    #[error("plugin {label} is not a WebAssembly file (it does not start with the \\0asm header)")]
    NotWasm { label: String },
    #[error(
        "plugin {label} is a core WebAssembly module, not a component; build it for the \
         wasm32-wasip2 target with the mtd-sdk"
    )]
    CoreModule { label: String },
    #[error("plugin {label} is not a valid WebAssembly component: {reason}")]
    Invalid { label: String, reason: String },
    #[error(
        "plugin {label} is a WebAssembly component but not an mtdhost plugin: it exports \
         {exports} instead of {expected}"
    )]
    NotAPlugin { label: String, exports: String, expected: String },
    #[error("plugin {label} was built for {found}; this host supports {supported}")]
    IncompatibleContract { label: String, found: String, supported: String },
    #[error("plugin {label} needs {import}, which this host does not provide ({why})")]
    UnsupportedImport { label: String, import: String, why: String },
    #[error("plugin {label} has sha256 {actual}, but the config pins {expected}; refusing to load it")]
    DigestMismatch { label: String, expected: String, actual: String },
    #[error("the sha256 pin for plugin {label} is not 64 hex digits: {pin:?}")]
    BadDigest { label: String, pin: String },
    #[error("plugin {label}: signature check failed: {reason}")]
    Signature { label: String, reason: String },
    #[error("plugin {label}: invalid limits: {reason}")]
    Limits { label: String, reason: String },
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("plugin {label} {version} reports contract version {reported} but exports {exported}")]
    ContractMismatch { label: String, version: String, reported: String, exported: String },
    #[error("plugin {label}: {reason}")]
    Engine { label: String, reason: String },
    #[error("plugin {label} describes itself badly: {reason}")]
    BadInfo { label: String, reason: String },
}

/// A call into a loaded plugin that did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
#[error("plugin {plugin} {version} ({call}): {failure}")]
pub struct CallError {
    pub plugin: String,
    pub version: String,
    pub call: &'static str,
    pub failure: Failure,
}

/// What went wrong in a call.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Failure {
    #[error("exceeded its {limit_mib} MiB memory limit (it asked for {asked_mib} MiB)")]
    Memory { limit_mib: u64, asked_mib: u64 },
    #[error("exceeded its table limit of {limit} elements")]
    Table { limit: u64 },
    #[error("ran past its {deadline_ms} ms deadline")]
    Deadline { deadline_ms: u64 },
    #[error("overflowed its {stack_kib} KiB stack (unbounded recursion?)")]
    StackOverflow { stack_kib: u64 },
    #[error(
        "overflowed its stack in linear memory (deep recursion with large locals; the guest's own \
         stack size is set when the plugin is built)"
    )]
    ShadowStackOverflow,
    #[error("{asked}; a plugin's clock is frozen and each call must return within its deadline")]
    Sleep { asked: String },
    #[error("called exit({code}) instead of returning")]
    Exit { code: i32 },
    #[error("panicked: {}", quote(.message))]
    Panic { message: String },
    #[error(
        "returned {size_mib:.1} MiB of output, over its {cap_mib} MiB cap (limits.output-mib raises it)"
    )]
    OutputTooLarge { size_mib: f64, cap_mib: u64 },
    #[error(
        "tried to return more data than its {cap_mib} MiB output cap allows; refused while copying \
         (limits.output-mib raises it)"
    )]
    OutputOverBudget { cap_mib: u64 },
    #[error("described itself in more than {cap_kib} KiB; refused while copying")]
    InfoTooLarge { cap_kib: usize },
    #[error("trapped: {message}")]
    Trap { message: String },
    #[error("returned an error: {}", quote(.message))]
    Plugin { message: String },
    #[error("does not declare the {capability} capability")]
    Unsupported { capability: &'static str },
    #[error("could not be instantiated: {message}")]
    Instantiate { message: String },
}

/// Why the runtime itself could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot use cache directory {path}: {source}")]
    CacheDir { path: PathBuf, source: std::io::Error },
}
