//! The per-call sandbox: store data with an empty WASI context, captured and
//! capped output, and the `mtd:plugin/host` imports.
//!
//! WASI is linked only because Rust guests built for `wasm32-wasip2` import it
//! through `std`. The context grants nothing: no preopened directories, no
//! environment, no arguments, closed stdin, no sockets, a clock frozen at the
//! Unix epoch. stdout, stderr and `host.log` go into one size-capped buffer.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::bindings::{mtd, LogLevel};
use super::limits::{Limiter, Limits};

/// A line of plugin output, kept until the call ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedLine {
    pub source: LineSource,
    pub text: String,
}

/// Where a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSource {
    Log(LogLevel),
    Stdout,
    Stderr,
}

/// Output captured from one call, bounded by the log cap.
#[derive(Debug, Default)]
pub struct Capture {
    cap: usize,
    used: usize,
    pub lines: Vec<CapturedLine>,
    /// Bytes dropped because the cap was reached.
    pub dropped: usize,
    stdout_partial: String,
    stderr_partial: String,
}

impl Capture {
    fn new(cap: usize) -> Self {
        Capture { cap, ..Capture::default() }
    }

    fn push(&mut self, source: LineSource, text: &str) {
        let clean = sanitize(text);
        if self.used + clean.len() > self.cap {
            self.dropped += clean.len();
            return;
        }
        self.used += clean.len();
        self.lines.push(CapturedLine { source, text: clean });
    }

    fn write_stream(&mut self, source: LineSource, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let mut partial = std::mem::take(match source {
            LineSource::Stdout => &mut self.stdout_partial,
            _ => &mut self.stderr_partial,
        });
        // Stop buffering once over the cap, so a flood cannot grow memory.
        if partial.len() < self.cap {
            partial.push_str(&text);
        } else {
            self.dropped += bytes.len();
        }
        while let Some(pos) = partial.find('\n') {
            let line: String = partial.drain(..=pos).collect();
            self.push(source, line.trim_end_matches(['\n', '\r']));
        }
        match source {
            LineSource::Stdout => self.stdout_partial = partial,
            _ => self.stderr_partial = partial,
        }
    }

    /// Flushes unterminated stdout/stderr text into lines.
    pub fn finish(&mut self) {
        for source in [LineSource::Stdout, LineSource::Stderr] {
            let rest = std::mem::take(match source {
                LineSource::Stdout => &mut self.stdout_partial,
                _ => &mut self.stderr_partial,
            });
            if !rest.is_empty() {
                self.push(source, &rest);
            }
        }
    }

    /// All stderr text, for reading a panic message.
    pub fn stderr_text(&self) -> String {
        let mut out = String::new();
        for l in self.lines.iter().filter(|l| l.source == LineSource::Stderr) {
            out.push_str(&l.text);
            out.push('\n');
        }
        out.push_str(&self.stderr_partial);
        out
    }
}

/// Strips control characters (terminal escapes, carriage returns) so plugin
/// text cannot forge log lines or repaint an admin's terminal.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Drop a CSI sequence whole: ESC [ params final-byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for n in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&n) {
                        break;
                    }
                }
            }
            continue;
        }
        if c == '\t' {
            out.push(' ');
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// Store data for one call.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    pub capture: Arc<Mutex<Capture>>,
}

impl State {
    pub fn new(limits: &Limits) -> Self {
        let capture = Arc::new(Mutex::new(Capture::new(limits.log_bytes())));
        let mut builder = WasiCtx::builder();
        builder
            .stdout(CapturePipe { capture: capture.clone(), source: LineSource::Stdout })
            .stderr(CapturePipe { capture: capture.clone(), source: LineSource::Stderr })
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
        State { wasi: builder.build(), table: ResourceTable::new(), limiter: Limiter::new(limits), capture }
    }

    fn capture(&self) -> std::sync::MutexGuard<'_, Capture> {
        // A poisoned lock only means another thread panicked mid-push; the
        // buffer is still usable for diagnostics.
        self.capture.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the captured output of the call.
    pub fn take_capture(&self) -> Capture {
        let mut c = self.capture();
        c.finish();
        std::mem::take(&mut *c)
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl mtd::plugin::types::Host for State {}

impl mtd::plugin::host::Host for State {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        self.capture().push(LineSource::Log(level), &message);
        Ok(())
    }
}

/// A clock that always reads the Unix epoch: plugins get no time source.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// stdout/stderr of the guest: lines go to the capture; never fails, so a
/// chatty plugin is truncated rather than trapped.
#[derive(Clone)]
struct CapturePipe {
    capture: Arc<Mutex<Capture>>,
    source: LineSource,
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
    use super::*;

    #[test]
    fn sanitize_strips_escapes_and_controls() {
        assert_eq!(sanitize("a\u{1b}[31mred\u{1b}[0m\r\x07b\tc"), "aredb c");
    }

    #[test]
    fn capture_is_capped_and_split_into_lines() {
        let mut c = Capture::new(10);
        c.write_stream(LineSource::Stderr, b"hello\nwor");
        c.write_stream(LineSource::Stderr, b"ld\nmore text that is dropped\n");
        c.finish();
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.lines[1].text, "world");
        assert!(c.dropped > 0);
    }
}
