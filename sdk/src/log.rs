//! Logging into the host's log. In wasm this calls the host import; natively
//! (unit tests) it writes to stderr so the test harness captures it.

use crate::bindings::mtd::plugin::host::LogLevel;

fn emit(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::mtd::plugin::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Logs at trace level.
pub fn trace(message: &str) {
    emit(LogLevel::Trace, message)
}
/// Logs at debug level.
pub fn debug(message: &str) {
    emit(LogLevel::Debug, message)
}
/// Logs at info level.
pub fn info(message: &str) {
    emit(LogLevel::Info, message)
}
/// Logs at warn level.
pub fn warn(message: &str) {
    emit(LogLevel::Warn, message)
}
/// Logs at error level.
pub fn error(message: &str) {
    emit(LogLevel::Error, message)
}
