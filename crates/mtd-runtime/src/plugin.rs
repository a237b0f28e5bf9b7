//! A loaded plugin and the calls into it.
//!
//! Each call gets a fresh `Store` instantiated from the cached `PluginPre`:
//! a trapped call leaves nothing behind, so the next call starts clean. A
//! call's failure is classified (memory, deadline, stack, sleep, panic,
//! output) from the trap, the limiter's record and the captured stderr.
//! What a call returns is capped twice: wasmtime's hostcall budget refuses
//! an oversized result while it is being copied out of the guest, and the
//! exact wire size is checked against the output cap afterwards.

use std::sync::Arc;

use wasmtime::component::Component;
use wasmtime::{Engine, Store, Trap};

use super::bindings::*;
use super::capture::{Capture, LineSource};
use super::clock::SleepTrap;
use super::engine::deadline_ticks;
use super::error::{CallError, Failure};
use super::limits::{LimitHit, Limits};
use super::output::{Clean, WireSize};
use super::sandbox::State;

/// A plugin compiled, checked and ready to call.
pub struct LoadedPlugin {
    pub(crate) label: String,
    pub(crate) sha256: String,
    pub(crate) info: PluginInfo,
    pub(crate) limits: Limits,
    pub(crate) settings_json: String,
    pub(crate) settings_diagnostics: Vec<Diagnostic>,
    pub(crate) engine: Engine,
    pub(crate) pre: Arc<PluginPre<State>>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("label", &self.label)
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .finish()
    }
}

/// Prepares the linker for `component`: WASI (empty context) and our host API.
pub(crate) fn pre_instantiate(engine: &Engine, component: &Component) -> wasmtime::Result<PluginPre<State>> {
    let mut linker = wasmtime::component::Linker::<State>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    super::clock::forbid_waiting(&mut linker)?;
    Plugin::add_to_linker::<State, wasmtime::component::HasSelf<State>>(&mut linker, |s| s)?;
    PluginPre::new(linker.instantiate_pre(component)?)
}

impl LoadedPlugin {
    /// Where the plugin came from: a path or `builtin:NAME`.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The plugin's own description of itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }
    /// sha256 of the component bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
    /// What the plugin found in its settings at load.
    pub fn settings_diagnostics(&self) -> &[Diagnostic] {
        &self.settings_diagnostics
    }
    /// True if the plugin declares `capability`.
    pub fn has(&self, capability: Capability) -> bool {
        self.info.capabilities.contains(&capability)
    }

    /// Asks the plugin to check `settings_json`.
    pub fn validate_settings(&self, settings_json: &str) -> Result<Vec<Diagnostic>, CallError> {
        self.call("validate-settings", |g, s| g.call_validate_settings(s, settings_json))
    }

    /// Maps one batch of partner events.
    pub fn map_events(&self, batch: &EventBatch) -> Result<MappingOutput, CallError> {
        self.require(Capability::ThreatMapping, "map-events")?;
        let out = self.call("map-events", |g, s| g.call_map_events(s, &self.settings_json, batch))?;
        out.map_err(|message| self.fail("map-events", Failure::Plugin { message }))
    }

    /// The partner's severity vocabulary.
    pub fn severity_vocabulary(&self) -> Result<Vec<SeverityTerm>, CallError> {
        self.require(Capability::ThreatMapping, "severity-vocabulary")?;
        self.call("severity-vocabulary", |g, s| g.call_severity_vocabulary(s, &self.settings_json))
    }

    /// Translates a partner severity word into an Intune level.
    pub fn translate_severity(&self, term: &str) -> Result<ThreatLevel, CallError> {
        self.require(Capability::ThreatMapping, "translate-severity")?;
        let out =
            self.call("translate-severity", |g, s| g.call_translate_severity(s, &self.settings_json, term))?;
        out.map_err(|message| self.fail("translate-severity", Failure::Plugin { message }))
    }

    /// Runs compliance rules over the desired policies. `conditional_access`
    /// is what the plugin gets if it asks `tenant.conditional-access` (0.2.1).
    pub fn apply_rules(
        &self,
        policies: &[Policy],
        tenant: &TenantContext,
        conditional_access: &[CaPolicy],
    ) -> Result<RulesOutput, CallError> {
        self.require(Capability::ComplianceRules, "apply-rules")?;
        let ca: Arc<[CaPolicy]> = conditional_access.into();
        let out = self.call("apply-rules", |g, s| {
            s.data_mut().conditional_access = Some(ca);
            g.call_apply_rules(s, &self.settings_json, policies, tenant)
        })?;
        out.map_err(|message| self.fail("apply-rules", Failure::Plugin { message }))
    }

    fn require(&self, capability: Capability, call: &'static str) -> Result<(), CallError> {
        if self.has(capability) {
            return Ok(());
        }
        let capability = match capability {
            Capability::ThreatMapping => "threat-mapping",
            Capability::ComplianceRules => "compliance-rules",
        };
        Err(self.fail(call, Failure::Unsupported { capability }))
    }

    fn fail(&self, call: &'static str, failure: Failure) -> CallError {
        CallError { plugin: self.info.name.clone(), version: self.info.version.clone(), call, failure }
    }

    /// One sandboxed call: fresh store, limits, deadline, output capture.
    fn call<R: WireSize + Clean>(
        &self,
        call: &'static str,
        f: impl FnOnce(&guest::Guest, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let fuel = self.limits.hostcall_fuel();
        let (result, capture, hit) = run(&self.engine, &self.pre, &self.limits, fuel, |bindings, store| {
            f(bindings.mtd_plugin_guest(), store)
        });
        forward_logs(&self.info.name, &self.info.version, &capture);
        let mut value = result.map_err(|e| self.fail(call, classify(&e, hit, &capture, &self.limits)))?;
        check_output_size(&value, &self.limits).map_err(|failure| self.fail(call, failure))?;
        value.clean();
        Ok(value)
    }
}

/// Instantiates in a fresh store and runs `f`, allowing `fuel` bytes of
/// host copies per guest-to-host transfer. Also used at load, before a
/// `LoadedPlugin` exists.
pub(crate) fn run<R>(
    engine: &Engine,
    pre: &PluginPre<State>,
    limits: &Limits,
    fuel: usize,
    f: impl FnOnce(&Plugin, &mut Store<State>) -> wasmtime::Result<R>,
) -> (wasmtime::Result<R>, Capture, Option<LimitHit>) {
    let mut store = Store::new(engine, State::new(limits));
    store.limiter(|s| &mut s.limiter);
    store.set_hostcall_fuel(fuel);
    store.set_epoch_deadline(deadline_ticks(limits.deadline_ms));
    store.epoch_deadline_trap();
    let result = pre.instantiate(&mut store).and_then(|bindings| f(&bindings, &mut store));
    let capture = store.data().take_capture();
    let hit = store.data().limiter.hit;
    (result, capture, hit)
}

/// Refuses a result over the output cap, by its exact wire size.
pub(crate) fn check_output_size<R: WireSize>(value: &R, limits: &Limits) -> Result<(), Failure> {
    let size = value.wire_size();
    if size > limits.output_bytes() {
        return Err(Failure::OutputTooLarge {
            size_mib: size as f64 / (1u64 << 20) as f64,
            cap_mib: limits.output_mib,
        });
    }
    Ok(())
}

/// Turns a failed call into the reason an admin can act on.
pub(crate) fn classify(
    err: &wasmtime::Error,
    hit: Option<LimitHit>,
    capture: &Capture,
    limits: &Limits,
) -> Failure {
    tracing::debug!(error = ?err, "plugin call failed");
    match hit {
        Some(LimitHit::Memory { desired }) => {
            return Failure::Memory {
                limit_mib: limits.memory_mib,
                asked_mib: (desired as u64).div_ceil(1 << 20),
            }
        }
        Some(LimitHit::Table { .. }) if err.downcast_ref::<Trap>().is_some() => {
            return Failure::Table { limit: limits.table_elements }
        }
        _ => {}
    }
    if let Some(sleep) = err.downcast_ref::<SleepTrap>() {
        return Failure::Sleep { asked: sleep.to_string() };
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Failure::Exit { code: exit.0 };
    }
    if is_hostcall_budget(err) {
        return Failure::OutputOverBudget { cap_mib: limits.output_mib };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Failure::Deadline { deadline_ms: limits.deadline_ms },
        Some(Trap::StackOverflow) => Failure::StackOverflow { stack_kib: limits.stack_kib },
        Some(Trap::MemoryOutOfBounds) if recursed(err) => Failure::ShadowStackOverflow,
        Some(trap) => match panic_message(&capture.stderr_tail()) {
            Some(message) => Failure::Panic { message },
            None => Failure::Trap { message: trap.to_string() },
        },
        None => Failure::Trap { message: first_line(&err.root_cause().to_string()) },
    }
}

/// wasmtime's hostcall budget ran out while copying data out of the guest.
/// The error type is private to wasmtime, so its message is matched; the
/// hostile-plugin tests fail if a wasmtime upgrade changes it.
fn is_hostcall_budget(err: &wasmtime::Error) -> bool {
    err.chain().any(|c| c.to_string().contains("fuel allocated for hostcalls has been exhausted"))
}

/// A Rust guest keeps large locals on a stack in its own linear memory; when
/// deep recursion runs that stack past address 0 the guest traps with an
/// out-of-bounds access. Told apart from other out-of-bounds bugs by the
/// backtrace: one function on nearly every frame.
fn recursed(err: &wasmtime::Error) -> bool {
    let Some(trace) = err.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return false;
    };
    let frames = trace.frames();
    if frames.len() < 8 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for f in frames {
        *counts.entry(f.func_index()).or_insert(0usize) += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    most * 4 >= frames.len() * 3
}

fn first_line(text: &str) -> String {
    crate::sanitize::clean(text.lines().next().unwrap_or_default().trim())
}

/// Extracts a Rust panic message from stderr:
/// `thread '<unnamed>' panicked at src/lib.rs:9:5:\n<message>`.
pub(crate) fn panic_message(stderr: &str) -> Option<String> {
    // The last panic: text written before it may mention one too.
    let start = stderr.rfind("panicked at ")?;
    let rest = &stderr[start..];
    let (location, after) = rest.split_once('\n').unwrap_or((rest, ""));
    let location = location.trim_start_matches("panicked at ").trim_end_matches(':');
    let message: Vec<&str> =
        after.lines().take_while(|l| !l.starts_with("note: ") && !l.is_empty()).collect();
    let message = message.join(" ");
    if message.is_empty() {
        Some(format!("at {location}"))
    } else {
        Some(format!("{message} (at {location})"))
    }
}

/// Sends captured plugin output to the host log, each line marked as the
/// plugin's (`[plugin NAME VERSION]`), and says how much was dropped.
fn forward_logs(plugin: &str, version: &str, capture: &Capture) {
    for line in &capture.lines {
        let text = line.text.as_str();
        match line.source {
            LineSource::Log(LogLevel::Trace) => tracing::trace!("[plugin {plugin} {version}] {text}"),
            LineSource::Log(LogLevel::Debug) => tracing::debug!("[plugin {plugin} {version}] {text}"),
            LineSource::Log(LogLevel::Info) => tracing::info!("[plugin {plugin} {version}] {text}"),
            LineSource::Log(LogLevel::Warn) => tracing::warn!("[plugin {plugin} {version}] {text}"),
            LineSource::Log(LogLevel::Error) => tracing::error!("[plugin {plugin} {version}] {text}"),
            LineSource::Stdout => tracing::info!("[plugin {plugin} {version} stdout] {text}"),
            LineSource::Stderr => tracing::warn!("[plugin {plugin} {version} stderr] {text}"),
        }
    }
    let dropped = capture.dropped;
    if dropped.over_cap > 0 {
        tracing::warn!(
            "[plugin {plugin} {version}] … {} more lines ({}) dropped: over its log cap (limits.log-kib)",
            count(dropped.over_cap),
            bytes(dropped.bytes)
        );
    }
    if dropped.after_deadline > 0 {
        tracing::warn!(
            "[plugin {plugin} {version}] … {} more lines written after its deadline dropped",
            count(dropped.after_deadline)
        );
    }
}

fn count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

fn bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_extracted() {
        let s = "thread '<unnamed>' panicked at src/lib.rs:9:5:\nthe feed had 42 columns\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(s).unwrap(), "the feed had 42 columns (at src/lib.rs:9:5)");
        assert_eq!(panic_message("nothing here"), None);
    }
}
