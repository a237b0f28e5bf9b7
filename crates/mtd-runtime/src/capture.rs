//! What a plugin writes during one call — `host.log`, stdout, stderr — kept
//! under a budget that bounds time, memory and the bytes mtdhost prints.
//!
//! Each line costs a fixed [`LINE_COST`] plus its raw length before
//! cleaning, so empty lines and lines of control characters are not free.
//! Past the budget (or past the call's deadline) nothing is kept but a count
//! of the lines and bytes dropped; a flood then costs a counter increment per
//! write. Kept lines are cleaned ([`crate::sanitize::clean`]) and cut at
//! [`MAX_LINE_CHARS`]. The last [`STDERR_TAIL`] bytes of stderr are kept
//! apart, whatever the budget, because a Rust panic message is written there
//! last and explains the trap that follows.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

use super::bindings::LogLevel;
use crate::sanitize;

/// What one kept or dropped line costs on top of its bytes.
pub const LINE_COST: usize = 64;
/// Longest line kept, in characters; the rest of the line is cut.
pub const MAX_LINE_CHARS: usize = 2_000;
/// Bytes of stderr kept for reading a panic message.
pub(crate) const STDERR_TAIL: usize = 8 << 10;

/// A line of plugin output, kept until the call ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CapturedLine {
    pub source: LineSource,
    pub text: String,
}

/// Where a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineSource {
    Log(LogLevel),
    Stdout,
    Stderr,
}

/// Why lines were dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Lines dropped because the budget was spent.
    pub over_cap: u64,
    /// Lines dropped because they came after the call's deadline.
    pub after_deadline: u64,
    /// Raw bytes of all dropped lines.
    pub bytes: u64,
}

/// A line still being written to stdout or stderr.
#[derive(Debug, Default)]
struct Partial {
    kept: Vec<u8>,
    raw_len: usize,
}

/// Output captured from one call.
#[derive(Debug)]
pub(crate) struct Capture {
    budget: usize,
    used: usize,
    deadline: Instant,
    pub lines: Vec<CapturedLine>,
    pub dropped: Dropped,
    stdout: Partial,
    stderr: Partial,
    stderr_tail: Vec<u8>,
}

impl Default for Capture {
    fn default() -> Self {
        Capture::new(0, Instant::now())
    }
}

impl Capture {
    /// A capture allowing `budget` bytes (lines at [`LINE_COST`] each plus
    /// their raw length) until `deadline`.
    pub(crate) fn new(budget: usize, deadline: Instant) -> Self {
        Capture {
            budget,
            used: 0,
            deadline,
            lines: Vec::new(),
            dropped: Dropped::default(),
            stdout: Partial::default(),
            stderr: Partial::default(),
            stderr_tail: Vec::new(),
        }
    }

    fn spent(&self) -> bool {
        self.used + LINE_COST > self.budget
    }

    /// Records one complete line whose raw length was `raw_len`.
    pub(crate) fn push(&mut self, source: LineSource, text: &[u8], raw_len: usize) {
        if Instant::now() > self.deadline {
            self.dropped.after_deadline += 1;
            self.dropped.bytes += raw_len as u64;
            return;
        }
        let cost = LINE_COST.saturating_add(raw_len);
        if self.used.saturating_add(cost) > self.budget {
            self.dropped.over_cap += 1;
            self.dropped.bytes += raw_len as u64;
            // The budget stays as it is: a later short line may still fit,
            // which keeps the end of a burst (often the useful part).
            return;
        }
        self.used += cost;
        let text = String::from_utf8_lossy(text);
        self.lines.push(CapturedLine { source, text: sanitize::clean_truncated(&text, MAX_LINE_CHARS) });
    }

    /// A `host.log` call.
    pub(crate) fn log(&mut self, level: LogLevel, message: &str) {
        self.push(LineSource::Log(level), message.as_bytes(), message.len());
    }

    /// Bytes written to stdout or stderr.
    pub(crate) fn write_stream(&mut self, source: LineSource, bytes: &[u8]) {
        if source == LineSource::Stderr {
            keep_tail(&mut self.stderr_tail, bytes);
        }
        if self.spent() || Instant::now() > self.deadline {
            self.drop_stream(source, bytes);
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let (chunk, ended) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], Some(i + 1)),
                None => (rest, None),
            };
            let partial = self.partial(source);
            let room = (MAX_LINE_CHARS * 4).saturating_sub(partial.kept.len());
            partial.kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            partial.raw_len += chunk.len();
            match ended {
                Some(next) => {
                    let line = std::mem::take(partial);
                    let text = line.kept.strip_suffix(b"\r").unwrap_or(&line.kept);
                    self.push(source, text, line.raw_len + 1);
                    rest = &rest[next..];
                }
                None => break,
            }
        }
    }

    /// Counts a write that arrives after the budget is spent, without
    /// keeping any of it.
    fn drop_stream(&mut self, source: LineSource, bytes: &[u8]) {
        let after_deadline = Instant::now() > self.deadline;
        let partial = self.partial(source);
        let pending = u64::from(!partial.kept.is_empty() || partial.raw_len > 0);
        *partial = Partial::default();
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let lines = newlines.max(pending);
        if after_deadline {
            self.dropped.after_deadline += lines;
        } else {
            self.dropped.over_cap += lines;
        }
        self.dropped.bytes += bytes.len() as u64;
    }

    fn partial(&mut self, source: LineSource) -> &mut Partial {
        match source {
            LineSource::Stdout => &mut self.stdout,
            _ => &mut self.stderr,
        }
    }

    /// Flushes unterminated stdout/stderr text into lines.
    pub(crate) fn finish(&mut self) {
        for source in [LineSource::Stdout, LineSource::Stderr] {
            let line = std::mem::take(self.partial(source));
            if line.raw_len > 0 {
                self.push(source, &line.kept, line.raw_len);
            }
        }
    }

    /// The end of stderr, for reading a panic message.
    pub(crate) fn stderr_tail(&self) -> String {
        String::from_utf8_lossy(&self.stderr_tail).into_owned()
    }
}

/// Keeps the last [`STDERR_TAIL`] bytes written.
fn keep_tail(tail: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() >= STDERR_TAIL {
        tail.clear();
        tail.extend_from_slice(&bytes[bytes.len() - STDERR_TAIL..]);
        return;
    }
    let overflow = (tail.len() + bytes.len()).saturating_sub(STDERR_TAIL);
    tail.drain(..overflow);
    tail.extend_from_slice(bytes);
}

/// stdout/stderr of the guest: lines go to the capture; never fails, so a
/// chatty plugin is truncated rather than trapped.
#[derive(Clone)]
pub(crate) struct CapturePipe {
    pub(crate) capture: Arc<Mutex<Capture>>,
    pub(crate) source: LineSource,
}

impl IsTerminal for CapturePipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturePipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    /// Written synchronously into the capture: wasmtime's default adapter
    /// hands every write to a background task, which costs tens of
    /// microseconds per `eprintln!`.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturePipe {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturePipe {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.capture.lock().unwrap_or_else(|p| p.into_inner()).write_stream(self.source, &bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always writable: what is over the budget is counted and dropped.
        Ok(1 << 20)
    }
}

impl tokio::io::AsyncWrite for CapturePipe {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.capture.lock().unwrap_or_else(|p| p.into_inner()).write_stream(self.source, buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn capture(budget: usize) -> Capture {
        Capture::new(budget, Instant::now() + Duration::from_secs(60))
    }

    #[test]
    fn lines_are_split_cleaned_and_capped() {
        let mut c = capture(2 * LINE_COST + 13);
        c.write_stream(LineSource::Stderr, b"hello\nwor");
        c.write_stream(LineSource::Stderr, b"ld\r\nmore text that is dropped\n");
        c.finish();
        let kept: Vec<_> = c.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(kept, ["hello", "world"]);
        assert_eq!(c.dropped.over_cap, 1);
    }

    #[test]
    fn empty_and_control_lines_are_charged() {
        let mut c = capture(64 << 10);
        for _ in 0..1_000_000 {
            c.log(LogLevel::Info, "");
        }
        assert_eq!(c.lines.len(), (64 << 10) / LINE_COST);
        assert_eq!(c.dropped.over_cap, 1_000_000 - c.lines.len() as u64);
        let mut c = capture(64 << 10);
        let controls = "\u{1b}".repeat(4096);
        for _ in 0..1_000 {
            c.write_stream(LineSource::Stderr, controls.as_bytes());
            c.write_stream(LineSource::Stderr, b"\n");
        }
        assert!(c.lines.len() < 16, "{} lines of control characters kept", c.lines.len());
    }

    #[test]
    fn nothing_is_kept_after_the_deadline() {
        let mut c = Capture::new(1 << 20, Instant::now() - Duration::from_millis(1));
        c.log(LogLevel::Warn, "late");
        c.write_stream(LineSource::Stdout, b"late too\n");
        assert!(c.lines.is_empty());
        assert_eq!(c.dropped.after_deadline, 2);
    }

    #[test]
    fn long_lines_are_cut_and_the_stderr_tail_survives_a_flood() {
        let mut c = capture(1 << 20);
        c.write_stream(LineSource::Stderr, &vec![b'x'; 100_000]);
        c.write_stream(LineSource::Stderr, b"\n");
        assert_eq!(c.lines[0].text.chars().count(), MAX_LINE_CHARS + 1);
        let mut c = capture(LINE_COST);
        for _ in 0..10_000 {
            c.write_stream(LineSource::Stderr, b"noise noise noise\n");
        }
        c.write_stream(LineSource::Stderr, b"thread '<unnamed>' panicked at src/lib.rs:1:1:\nboom\n");
        assert!(c.stderr_tail().ends_with("panicked at src/lib.rs:1:1:\nboom\n"));
    }
}
