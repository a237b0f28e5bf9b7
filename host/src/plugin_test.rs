//! Fixture cases for mapping plugins: the harness behind `mtdhost plugin
//! test` and the project's golden tests.
//!
//! A case is a partner export `NAME.json` or `NAME.jsonl` next to
//! `NAME.expected.json`:
//!
//! ```json
//! {
//!   "settings": {"unknown-level": "medium"},
//!   "devices": {"dev-1": "high", "dev-2": {"level": "secured", "reason": "all 1 threat(s) resolved or ignored"}},
//!   "diagnostics": [{"severity": "warning", "path": "record 3 (line 3)", "contains": "unknown Lookout severity"}]
//! }
//! ```
//!
//! Each case runs twice, the two ways an admin sees a plugin: one
//! `map-events` call over the whole file (`mtdhost plugin run`) and the
//! streaming evaluation (`mtdhost evaluate`, batches, lifecycle state across
//! them). Both must give exactly the expected devices and levels, and the
//! single call exactly the expected diagnostics, in order; the first
//! difference is reported.

use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::evaluate;
use crate::runtime::{describe_diagnostic, Diagnostic, DiagnosticSeverity, EventBatch, LoadedPlugin};

/// What a case expects.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Plugin settings for this case (replacing the default settings).
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    /// Every device and its level (or level and reason).
    pub devices: BTreeMap<String, ExpectedDevice>,
    /// Every diagnostic, in order.
    #[serde(default)]
    pub diagnostics: Vec<ExpectedDiagnostic>,
}

/// A device's expected level, optionally with its reason.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ExpectedDevice {
    /// Just the level.
    Level(String),
    /// The level with a reason; the reason is compared only when given.
    Full {
        /// The expected threat level.
        level: String,
        /// The expected reason.
        reason: Option<String>,
    },
}

/// One expected diagnostic; unset fields are not compared.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDiagnostic {
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// Where in the export the diagnostic points, e.g. `record 3 (line 3)`.
    pub path: Option<String>,
    /// The exact message.
    pub message: Option<String>,
    /// Text the message contains.
    pub contains: Option<String>,
}

/// A case found in a fixture folder.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's name: the export's file name without its extension.
    pub name: String,
    /// The partner export the plugin reads.
    pub events: PathBuf,
    /// The `NAME.expected.json` file.
    pub expected: PathBuf,
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case's name.
    pub name: String,
    /// `None` when the case passed.
    pub difference: Option<String>,
    /// Devices the single `map-events` call returned.
    pub devices: usize,
    /// Diagnostics the single `map-events` call returned.
    pub diagnostics: usize,
}

impl Outcome {
    /// True if the plugin gave exactly what the case expects.
    pub fn passed(&self) -> bool {
        self.difference.is_none()
    }
}

/// Why a fixture folder cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The folder or one of its entries cannot be read.
    #[error("cannot read fixture folder {path}: {source}")]
    Folder {
        /// The fixture folder.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The folder holds no case files.
    #[error("no cases in {0} (a case is NAME.json or NAME.jsonl with NAME.expected.json)")]
    Empty(PathBuf),
}

/// The cases in `dir`, sorted by name. An export without its expectation
/// (or the reverse) is still a case, one that fails and says so.
pub fn discover(dir: &Path) -> Result<Vec<Case>, FixtureError> {
    let folder = |source| FixtureError::Folder { path: dir.to_path_buf(), source };
    let mut names: BTreeMap<String, (Option<PathBuf>, Option<PathBuf>)> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(folder)? {
        let path = entry.map_err(folder)?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()).map(str::to_string) else {
            continue;
        };
        if let Some(name) = file.strip_suffix(".expected.json") {
            names.entry(name.to_string()).or_default().1 = Some(path);
        } else if let Some(name) = file.strip_suffix(".jsonl").or_else(|| file.strip_suffix(".json")) {
            names.entry(name.to_string()).or_default().0 = Some(path);
        }
    }
    if names.is_empty() {
        return Err(FixtureError::Empty(dir.to_path_buf()));
    }
    Ok(names
        .into_iter()
        .map(|(name, (events, expected))| Case {
            events: events.unwrap_or_else(|| dir.join(format!("{name}.json"))),
            expected: expected.unwrap_or_else(|| dir.join(format!("{name}.expected.json"))),
            name,
        })
        .collect())
}

/// Runs one case. `load` loads the plugin with a settings JSON document
/// (the case's own settings, or `default_settings`).
pub fn run_case(
    case: &Case,
    default_settings: &str,
    load: &dyn Fn(&str) -> Result<LoadedPlugin, String>,
) -> Outcome {
    let mut outcome = Outcome { name: case.name.clone(), difference: None, devices: 0, diagnostics: 0 };
    if let Err(difference) = check(case, default_settings, load, &mut outcome) {
        outcome.difference = Some(difference);
    }
    outcome
}

fn check(
    case: &Case,
    default_settings: &str,
    load: &dyn Fn(&str) -> Result<LoadedPlugin, String>,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let text = std::fs::read_to_string(&case.expected)
        .map_err(|e| format!("cannot read {}: {e}", case.expected.display()))?;
    let expected: Expected = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a valid expectation: {e}", case.expected.display()))?;
    let raw = std::fs::read_to_string(&case.events)
        .map_err(|e| format!("cannot read {}: {e}", case.events.display()))?;
    let settings = expected.settings.as_ref().map_or_else(|| default_settings.to_string(), |s| s.to_string());
    let plugin = load(&settings)?;

    // `plugin run`: one call over the whole export.
    let out = plugin
        .map_events(&EventBatch { raw: Some(raw), records: Vec::new(), first_record: 1 })
        .map_err(|e| format!("plugin run: {e}"))?;
    outcome.devices = out.devices.len();
    outcome.diagnostics = out.diagnostics.len();
    let single: BTreeMap<String, (String, String)> = out
        .devices
        .iter()
        .map(|d| (d.device_id.clone(), (d.level.as_str().to_string(), d.reason.clone())))
        .collect();
    compare_devices("plugin run", &expected.devices, &single)?;
    compare_diagnostics(&expected.diagnostics, &out.diagnostics)?;

    // `evaluate`: the streaming path, batches and state across them.
    let file = std::fs::File::open(&case.events)
        .map_err(|e| format!("cannot read {}: {e}", case.events.display()))?;
    let ev = evaluate::evaluate(&plugin, file, false, Vec::new()).map_err(|e| format!("evaluate: {e}"))?;
    let streamed: BTreeMap<String, (String, String)> = ev
        .devices
        .iter()
        .map(|(id, d)| (id.clone(), (d.level.as_str().to_string(), d.reason.clone())))
        .collect();
    compare_devices("evaluate", &expected.devices, &streamed)?;
    if ev.diagnostic_count != expected.diagnostics.len() as u64 {
        return Err(format!(
            "evaluate: {} diagnostic(s), expected {}",
            ev.diagnostic_count,
            expected.diagnostics.len()
        ));
    }
    Ok(())
}

/// Expected values are written as the partner exports them; the host shows
/// (and compares) every plugin string cleaned of terminal controls, so the
/// expectations are cleaned the same way before comparing.
fn compare_devices(
    how: &str,
    want: &BTreeMap<String, ExpectedDevice>,
    got: &BTreeMap<String, (String, String)>,
) -> Result<(), String> {
    let want: BTreeMap<String, &ExpectedDevice> = want.iter().map(|(id, e)| (clean(id), e)).collect();
    for (id, exp) in &want {
        let (level, reason) = match exp {
            ExpectedDevice::Level(l) => (l, None),
            ExpectedDevice::Full { level, reason } => (level, reason.as_ref().map(|r| clean(r))),
        };
        let Some((got_level, got_reason)) = got.get(id) else {
            return Err(format!("{how}: device {id} missing (expected {level})"));
        };
        if !got_level.eq_ignore_ascii_case(level) {
            return Err(format!("{how}: device {id} is {got_level}, expected {level} ({got_reason})"));
        }
        if let Some(r) = reason.filter(|r| r != got_reason) {
            return Err(format!("{how}: device {id} reason is \"{got_reason}\", expected \"{r}\""));
        }
    }
    if let Some((id, (level, _))) = got.iter().find(|(id, _)| !want.contains_key(*id)) {
        return Err(format!("{how}: unexpected device {id} ({level})"));
    }
    Ok(())
}

fn severity_word(d: &Diagnostic) -> &'static str {
    match d.severity {
        DiagnosticSeverity::Error => "error",
        DiagnosticSeverity::Warning => "warning",
        DiagnosticSeverity::Info => "info",
    }
}

fn compare_diagnostics(want: &[ExpectedDiagnostic], got: &[Diagnostic]) -> Result<(), String> {
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        let n = i + 1;
        let shown = describe_diagnostic(g);
        if !w.severity.eq_ignore_ascii_case(severity_word(g)) {
            return Err(format!("diagnostic {n} is \"{shown}\", expected a {}", w.severity));
        }
        if w.path.as_ref().is_some_and(|p| clean(p) != g.path) {
            return Err(format!(
                "diagnostic {n} is \"{shown}\", expected path \"{}\"",
                w.path.as_deref().unwrap_or("")
            ));
        }
        if w.message.as_ref().is_some_and(|m| clean(m) != g.message) {
            return Err(format!(
                "diagnostic {n} is \"{shown}\", expected message \"{}\"",
                w.message.as_deref().unwrap_or("")
            ));
        }
        if w.contains.as_ref().is_some_and(|c| !g.message.contains(clean(c).as_str())) {
            return Err(format!(
                "diagnostic {n} is \"{shown}\", expected it to contain \"{}\"",
                w.contains.as_deref().unwrap_or("")
            ));
        }
    }
    match got.len().cmp(&want.len()) {
        std::cmp::Ordering::Greater => Err(format!(
            "unexpected diagnostic {}: \"{}\"",
            want.len() + 1,
            describe_diagnostic(&got[want.len()])
        )),
        std::cmp::Ordering::Less => Err(format!(
            "{} diagnostic(s), expected {} (missing: {} {})",
            got.len(),
            want.len(),
            want[got.len()].severity,
            want[got.len()].contains.as_deref().or(want[got.len()].message.as_deref()).unwrap_or("")
        )),
        std::cmp::Ordering::Equal => Ok(()),
    }
}
