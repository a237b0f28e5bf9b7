//! Engines: one per distinct stack limit (the only limit wasmtime fixes at
//! engine level), each with an epoch ticker that drives call deadlines.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use wasmtime::{Config, Engine};

use super::error::RuntimeError;

/// Epoch granularity: deadlines are rounded up to this.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Engines keyed by stack size in bytes.
#[derive(Default)]
pub(crate) struct Engines {
    by_stack: Mutex<HashMap<usize, Engine>>,
}

impl Engines {
    /// The engine for `stack_bytes`, created (with its ticker) on first use.
    pub(crate) fn get(&self, stack_bytes: usize) -> Result<Engine, RuntimeError> {
        let mut map = self.by_stack.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get(&stack_bytes) {
            return Ok(e.clone());
        }
        let engine = new_engine(stack_bytes)?;
        start_ticker(&engine)?;
        map.insert(stack_bytes, engine.clone());
        Ok(engine)
    }
}

fn new_engine(stack_bytes: usize) -> Result<Engine, RuntimeError> {
    let mut config = Config::new();
    config.wasm_component_model(true).epoch_interruption(true).max_wasm_stack(stack_bytes);
    Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

/// Ticks the engine's epoch until the engine is dropped.
fn start_ticker(engine: &Engine) -> Result<(), RuntimeError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("mtdhost-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        })
        .map(|_| ())
        .map_err(|e| RuntimeError::Engine(format!("cannot start the deadline timer: {e}")))
}

/// Epoch ticks for a deadline, rounded up, plus one for the tick in progress.
pub(crate) fn deadline_ticks(deadline_ms: u64) -> u64 {
    let tick = TICK.as_millis() as u64;
    deadline_ms.div_ceil(tick) + 1
}
