//! Writing command output to stdout without panicking.
//!
//! `print!` panics when stdout is closed (`mtdhost plan --output json | head`).
//! Commands write through `outln!` and `out!` instead, which return the
//! I/O error; `main` ends quietly with exit 0 when that error is a broken
//! pipe ([`is_broken_pipe`]): the reader has all it wanted.

use std::io::Write;

/// Writes formatted text to stdout, returning any I/O error.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::write_stdout(format_args!($($arg)*))
    };
}

/// Writes formatted text and a newline to stdout, returning any I/O error.
macro_rules! outln {
    () => {
        $crate::cli::out::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

/// Writes to stdout and flushes, so a closed pipe is seen at the write that
/// met it.
pub fn write_stdout(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args)?;
    stdout.flush()
}

/// True when `err` (or any cause) is a write to a closed pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
