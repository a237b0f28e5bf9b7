//! Errors of the plugin runtime. Each one names the plugin (its file or
//! builtin name, and its version once known) and says what went wrong in
//! words an admin or a plugin author can act on.

use std::path::PathBuf;

use crate::sanitize::quote;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The plugin file could not be read, or no builtin plugin has the given name.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The file path, or the `builtin:NAME` spec, that was asked for.
        path: PathBuf,
        /// The I/O error from reading it.
        source: std::io::Error,
    },
    /// The plugin file has no bytes at all.
    #[error("plugin {label} is an empty file, not a WebAssembly component")]
    Empty {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
    },
    /// The plugin file does not start with the WebAssembly magic header.
    #[error("plugin {label} is not a WebAssembly file (it does not start with the \\0asm header)")]
    NotWasm {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
    },
    /// The plugin is a core WebAssembly module rather than a component.
    #[error(
        "plugin {label} is a core WebAssembly module, not a component; build it for the \
         wasm32-wasip2 target with the mtd-sdk"
    )]
    CoreModule {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
    },
    /// The header has an unknown layer, or wasmtime could not compile or cache the component.
    #[error("plugin {label} is not a valid WebAssembly component: {reason}")]
    Invalid {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// What was wrong with the bytes, as the header check or compiler reported it.
        reason: String,
    },
    /// The component exports no interface of the `mtd:plugin` contract package.
    #[error(
        "plugin {label} is a WebAssembly component but not an mtdhost plugin: it exports \
         {exports} instead of {expected}"
    )]
    NotAPlugin {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// The component's export names, comma-separated, or "nothing".
        exports: String,
        /// The guest interface this host expects, with its contract version.
        expected: String,
    },
    /// The component exports a contract version this host does not support.
    #[error("plugin {label} was built for {found}; this host supports {supported}")]
    IncompatibleContract {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// The contract package and version the plugin exports.
        found: String,
        /// The contract versions this host supports.
        supported: String,
    },
    /// The component imports an interface the host does not link for plugins.
    #[error("plugin {label} needs {import}, which this host does not provide ({why})")]
    UnsupportedImport {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// The full name of the refused import.
        import: String,
        /// Why the host refuses that import.
        why: String,
    },
    /// The plugin's sha256 differs from the one pinned in the config.
    #[error("plugin {label} has sha256 {actual}, but the config pins {expected}; refusing to load it")]
    DigestMismatch {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// The pinned sha256, normalised to lower-case hex.
        expected: String,
        /// The sha256 of the plugin's bytes, in lower-case hex.
        actual: String,
    },
    /// The sha256 pin in the config is not 64 hex digits.
    #[error("the sha256 pin for plugin {label} is not 64 hex digits: {pin:?}")]
    BadDigest {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// The pin exactly as the config gave it.
        pin: String,
    },
    /// The minisign check failed: no trusted keys, a malformed signature or key, or no key matched.
    #[error("plugin {label}: signature check failed: {reason}")]
    Signature {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// Why the signature was refused.
        reason: String,
    },
    /// The limits configured for the plugin are out of their allowed ranges.
    #[error("plugin {label}: invalid limits: {reason}")]
    Limits {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// Which limit is out of range, and its allowed range.
        reason: String,
    },
    /// A call made while loading, such as `info` or `validate-settings`, failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The contract version the plugin reports in `info` does not match the one it exports.
    #[error("plugin {label} {version} reports contract version {reported} but exports {exported}")]
    ContractMismatch {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// The plugin's own version, as it reports it.
        version: String,
        /// The contract version the plugin reports in `info`.
        reported: String,
        /// The contract version of the guest interface the plugin exports.
        exported: String,
    },
    /// No wasmtime engine could be set up for the plugin's limits, or the plugin could not be linked.
    #[error("plugin {label}: {reason}")]
    Engine {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// What wasmtime reported.
        reason: String,
    },
    /// The plugin's `info` gives a name, version or contract version that is empty or too long.
    #[error("plugin {label} describes itself badly: {reason}")]
    BadInfo {
        /// The plugin's path or `builtin:NAME`, as used in messages.
        label: String,
        /// Which part of `info` is wrong, and its allowed length.
        reason: String,
    },
}

/// A call into a loaded plugin that did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
#[error("plugin {plugin} {version} ({call}): {failure}")]
pub struct CallError {
    /// The plugin's name as it reports it, or its path or `builtin:NAME` before `info` has answered.
    pub plugin: String,
    /// The plugin's version, or "(version unknown)" before `info` has answered.
    pub version: String,
    /// The contract function that was called, such as `info` or `map-events`.
    pub call: &'static str,
    /// What went wrong in the call.
    pub failure: Failure,
}

/// What went wrong in a call.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Failure {
    /// The plugin tried to grow its memory past its memory limit.
    #[error("exceeded its {limit_mib} MiB memory limit (it asked for {asked_mib} MiB)")]
    Memory {
        /// The plugin's memory limit, in MiB.
        limit_mib: u64,
        /// The memory size the plugin asked to grow to, in MiB rounded up.
        asked_mib: u64,
    },
    /// The plugin tried to grow a table past its table limit.
    #[error("exceeded its table limit of {limit} elements")]
    Table {
        /// The plugin's table limit, in elements.
        limit: u64,
    },
    /// The plugin ran past its wall-clock deadline.
    #[error("ran past its {deadline_ms} ms deadline")]
    Deadline {
        /// The plugin's deadline, in milliseconds.
        deadline_ms: u64,
    },
    /// The plugin overflowed the wasm stack that the host sets for it.
    #[error("overflowed its {stack_kib} KiB stack (unbounded recursion?)")]
    StackOverflow {
        /// The plugin's stack limit, in KiB.
        stack_kib: u64,
    },
    /// The plugin ran out of the stack it keeps in its own linear memory.
    #[error(
        "overflowed its stack in linear memory (deep recursion with large locals; the guest's own \
         stack size is set when the plugin is built)"
    )]
    ShadowStackOverflow,
    /// The plugin asked to wait on a timer, which plugins may not do.
    #[error("{asked}; a plugin's clock is frozen and each call must return within its deadline")]
    Sleep {
        /// The sleep trap's message, saying how long the plugin asked to wait.
        asked: String,
    },
    /// The plugin called `exit` instead of returning from the call.
    #[error("called exit({code}) instead of returning")]
    Exit {
        /// The exit code the plugin passed.
        code: i32,
    },
    /// The plugin trapped after printing a Rust panic message.
    #[error("panicked: {}", quote(.message))]
    Panic {
        /// The panic message, taken from the plugin's captured stderr.
        message: String,
    },
    /// The plugin's result, measured by its wire size, is over its output cap.
    #[error(
        "returned {size_mib:.1} MiB of output, over its {cap_mib} MiB cap (limits.output-mib raises it)"
    )]
    OutputTooLarge {
        /// The size of the result, in MiB.
        size_mib: f64,
        /// The plugin's output cap, in MiB.
        cap_mib: u64,
    },
    /// The host's copy budget ran out while copying the plugin's result out of its memory.
    #[error(
        "tried to return more data than its {cap_mib} MiB output cap allows; refused while copying \
         (limits.output-mib raises it)"
    )]
    OutputOverBudget {
        /// The plugin's output cap, in MiB.
        cap_mib: u64,
    },
    /// The plugin's `info` answer ran out of the copy budget for `info`.
    #[error("described itself in more than {cap_kib} KiB; refused while copying")]
    InfoTooLarge {
        /// The most `info` may return, in KiB.
        cap_kib: usize,
    },
    /// The plugin trapped, or the call failed, for a reason not matched by any other variant.
    #[error("trapped: {message}")]
    Trap {
        /// The trap, or the first line of the error's root cause.
        message: String,
    },
    /// The plugin returned an error from the call.
    #[error("returned an error: {}", quote(.message))]
    Plugin {
        /// The error message the plugin returned.
        message: String,
    },
    /// The call needs a capability the plugin does not declare in `info`.
    #[error("does not declare the {capability} capability")]
    Unsupported {
        /// The WIT name of the missing capability.
        capability: &'static str,
    },
    /// The plugin could not be instantiated for the call.
    #[error("could not be instantiated: {message}")]
    Instantiate {
        /// Why instantiation failed.
        message: String,
    },
}

/// Why the runtime itself could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime could not create an engine or start its deadline timer.
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
    /// The cache directory could not be created, or its key file could not be read or written.
    #[error("cannot use cache directory {path}: {source}")]
    CacheDir {
        /// The cache directory.
        path: PathBuf,
        /// The I/O error from using it.
        source: std::io::Error,
    },
}
