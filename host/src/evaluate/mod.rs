//! What-if evaluation: run a partner's mapping plugin over an export of
//! threat events and show, per device, its Intune level, the threats behind
//! it, and for each policy using that partner whether the device would be
//! compliant — before the policy is enforced.
//!
//! The export is streamed in batches; memory grows with the number of
//! devices and distinct threats, not of events: per threat only its latest
//! state is kept in 24 bytes (see `state`), per device its counters, latest
//! status and a few threat names; diagnostics beyond the first hundred are
//! counted, not kept.

mod reader;
mod render;
mod state;

use std::collections::BTreeMap;
use std::io::Read;

pub use render::{render_csv, render_json, render_text};

use crate::runtime::{describe_diagnostic, DiagnosticSeverity, EventBatch, LoadedPlugin, ThreatLevel};

/// Records per plugin call.
pub const BATCH: usize = 2_000;
const KEPT_DIAGNOSTICS: usize = 100;

/// One device's result.
#[derive(Debug, Clone)]
pub struct DeviceResult {
    /// The device's Intune threat level.
    pub level: ThreatLevel,
    /// Active threats at the device's level (at most ten named), or the
    /// device status that set it.
    pub threats: Vec<String>,
    /// How many threats are active on the device in their latest state.
    pub active_threats: u64,
    /// Why the device has its level ("all 2 threat(s) resolved or ignored").
    pub reason: String,
}

/// A policy the evaluation judges devices against.
#[derive(Debug, Clone)]
pub struct PolicyCheck {
    /// The policy's display name.
    pub name: String,
    /// The highest device threat level that stays compliant.
    pub max_level: ThreatLevel,
    /// The Conditional Access policies of the config that require a
    /// compliant device where this policy applies: what noncompliance costs.
    pub enforced_by: Vec<Enforcement>,
}

/// A Conditional Access policy that blocks noncompliant devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enforcement {
    /// Its display name.
    pub policy: String,
    /// The cloud apps it guards (`Office365`, `All`, ids).
    pub apps: Vec<String>,
    /// False while it is report-only or off: sign-ins are logged, not blocked.
    pub enforced: bool,
}

impl PolicyCheck {
    /// What noncompliance under this policy means, in words
    /// ("blocked from Office365 by 'Require compliant device'").
    pub fn consequence(&self) -> Option<String> {
        let parts: Vec<String> = self
            .enforced_by
            .iter()
            .map(|e| {
                let verb = if e.enforced { "blocked" } else { "would be blocked (report-only)" };
                format!("{verb} from {} by '{}'", e.apps.join(", "), e.policy)
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// The plugin's name and version.
    pub plugin: String,
    /// Records read from the export.
    pub records: u64,
    /// Distinct threats (each counted once, in its latest state).
    pub threats: u64,
    /// Distinct threats active in their latest state.
    pub active: u64,
    /// Device-status records read.
    pub statuses: u64,
    /// Each device's result, by device id.
    pub devices: BTreeMap<String, DeviceResult>,
    /// The first diagnostics, rendered.
    pub diagnostics: Vec<String>,
    /// How many diagnostics there were, kept or not.
    pub diagnostic_count: u64,
    /// The policies devices are judged against.
    pub policies: Vec<PolicyCheck>,
}

impl Evaluation {
    /// Devices whose level is over a policy's maximum.
    pub fn noncompliant(&self, policy: &PolicyCheck) -> usize {
        self.devices.values().filter(|d| d.level.rank() > policy.max_level.rank()).count()
    }
}

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// The export cannot be read, or its JSON array is not closed.
    #[error("{0}")]
    Read(String),
    /// A plugin call failed.
    #[error(transparent)]
    Plugin(#[from] crate::runtime::CallError),
    /// With `strict`, the plugin reported a warning or an error (a malformed or unknown record).
    #[error("{0} (--strict makes malformed or unknown records fatal)")]
    Strict(String),
}

/// Evaluates `input` with `plugin`. With `strict`, the first error
/// diagnostic (a malformed record, an unknown value) stops the run.
pub fn evaluate<R: Read>(
    plugin: &LoadedPlugin,
    input: R,
    strict: bool,
    policies: Vec<PolicyCheck>,
) -> Result<Evaluation, EvaluateError> {
    let mut ev = Evaluation {
        plugin: format!("{} {}", plugin.info().name, plugin.info().version),
        policies,
        ..Evaluation::default()
    };
    let mut failure: Option<EvaluateError> = None;
    let mut tally = state::Tally::default();
    let records = reader::for_each_batch(input, BATCH, |batch| {
        let out = match plugin.map_events(&EventBatch {
            raw: Some(batch.text),
            records: Vec::new(),
            first_record: batch.first_record,
        }) {
            Ok(o) => o,
            Err(e) => {
                failure = Some(e.into());
                return Err(String::new());
            }
        };
        for d in &out.diagnostics {
            ev.diagnostic_count += 1;
            if strict && d.severity != DiagnosticSeverity::Info {
                failure = Some(EvaluateError::Strict(describe_diagnostic(d)));
                return Err(String::new());
            }
            if ev.diagnostics.len() < KEPT_DIAGNOSTICS {
                ev.diagnostics.push(describe_diagnostic(d));
            }
        }
        for t in &out.threats {
            tally.threat(t);
        }
        // Device-status records: the partner's own verdict, never a threat.
        for st in &out.statuses {
            ev.statuses += 1;
            tally.status(st);
        }
        Ok(())
    });
    if let Some(f) = failure {
        return Err(f);
    }
    ev.records = records.map_err(EvaluateError::Read)?;
    (ev.threats, ev.active) = tally.counts();
    for (id, device) in std::mem::take(&mut tally.devices) {
        let (level, active_threats, threats, reason) = device.verdict();
        ev.devices.insert(id, DeviceResult { level, threats, active_threats, reason });
    }
    Ok(ev)
}
