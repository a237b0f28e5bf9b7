//! Time as a plugin sees it: a clock frozen at the Unix epoch, and timers
//! that never wait.
//!
//! The epoch deadline interrupts running wasm, but not the host: a guest
//! blocked in a WASI timer (`std::thread::sleep`, `poll` on a far-future
//! pollable) would hold the host for as long as it asked. Plugins map data
//! and have nothing to wait for, so `wasi:clocks/monotonic-clock`'s
//! `subscribe-duration` and `subscribe-instant` are replaced: a zero wait
//! gives a pollable that is already ready (the usual "poll without
//! blocking"), any other wait traps with [`SleepTrap`], which the host
//! reports as "plugins may not sleep". Every other pollable a plugin can
//! reach (closed stdin, captured stdout/stderr) is always ready.

use std::time::Duration;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::{DynPollable, Pollable};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiView};

/// The WASI interface whose timer functions are replaced. wasmtime's linker
/// matches guests built against any WASI 0.2.x version to this one.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// A clock that always reads the Unix epoch: plugins get no time source.
pub(crate) struct FrozenClock;

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

/// The trap raised when a plugin asks to wait.
#[derive(Debug, thiserror::Error)]
#[error("plugins may not sleep (it asked to wait {})", describe(*.nanos))]
pub struct SleepTrap {
    /// How long the plugin asked to wait, in nanoseconds.
    pub nanos: u64,
}

fn describe(nanos: u64) -> String {
    if nanos == u64::MAX {
        return "forever".into();
    }
    let d = Duration::from_nanos(nanos);
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis().max(1))
    }
}

/// A timer that has already fired.
struct Fired;

#[wasmtime_wasi::async_trait]
impl Pollable for Fired {
    async fn ready(&mut self) {}
}

/// Replaces the monotonic clock's timer functions in a linker that already
/// has WASI. Must run after `wasmtime_wasi::p2::add_to_linker_sync`.
pub(crate) fn forbid_waiting<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    // The frozen clock reads 0, so an instant is also a duration from now.
    clock.func_wrap("subscribe-instant", |mut store, (when,): (u64,)| timer(store.data_mut(), when))?;
    clock.func_wrap("subscribe-duration", |mut store, (wait,): (u64,)| timer(store.data_mut(), wait))?;
    linker.allow_shadowing(false);
    Ok(())
}

fn timer<T: WasiView>(state: &mut T, nanos: u64) -> wasmtime::Result<(Resource<DynPollable>,)> {
    if nanos > 0 {
        return Err(SleepTrap { nanos }.into());
    }
    let table = state.ctx().table;
    let fired = table.push(Fired)?;
    Ok((wasmtime_wasi::p2::subscribe(table, fired)?,))
}
