//! The per-call sandbox: store data with an empty WASI context, captured and
//! budgeted output, and the `mtd:plugin/host` and `mtd:plugin/tenant` imports.
//!
//! WASI is linked only because Rust guests built for `wasm32-wasip2` import it
//! through `std`. The context grants nothing: no preopened directories, no
//! environment, no arguments, closed stdin, no sockets, a clock frozen at the
//! Unix epoch and timers that never wait (see [`super::clock`]). stdout,
//! stderr and `host.log` go into one budgeted [`Capture`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{mtd, CaPolicy, LogLevel};
use super::capture::{Capture, CapturePipe, LineSource};
use super::clock::FrozenClock;
use super::limits::{Limiter, Limits};

/// Store data for one call.
pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    pub capture: Arc<Mutex<Capture>>,
    /// What `tenant.conditional-access` answers; set only for `apply-rules`
    /// calls, so any other call that asks traps.
    pub conditional_access: Option<Arc<[CaPolicy]>>,
}

impl State {
    /// Fresh state for a call that starts now.
    pub(crate) fn new(limits: &Limits) -> Self {
        let deadline = Instant::now() + Duration::from_millis(limits.deadline_ms);
        let capture = Arc::new(Mutex::new(Capture::new(limits.log_bytes(), deadline)));
        let mut builder = WasiCtx::builder();
        builder
            .stdout(CapturePipe { capture: capture.clone(), source: LineSource::Stdout })
            .stderr(CapturePipe { capture: capture.clone(), source: LineSource::Stderr })
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
        State {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(limits),
            capture,
            conditional_access: None,
        }
    }

    fn capture(&self) -> std::sync::MutexGuard<'_, Capture> {
        // A poisoned lock only means another thread panicked mid-push; the
        // buffer is still usable for diagnostics.
        self.capture.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the captured output of the call.
    pub(crate) fn take_capture(&self) -> Capture {
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
        self.capture().log(level, &message);
        Ok(())
    }
}

impl mtd::plugin::tenant::Host for State {
    fn conditional_access(&mut self) -> wasmtime::Result<Vec<CaPolicy>> {
        match &self.conditional_access {
            Some(policies) => Ok(policies.to_vec()),
            None => {
                Err(wasmtime::Error::msg("tenant.conditional-access is available only during apply-rules"))
            }
        }
    }
}
