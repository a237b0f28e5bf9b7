//! The plugin runtime: loads WebAssembly components into a sandbox and calls
//! them through the `mtd:plugin` contract.
//!
//! Loading is fail-closed and ordered so that the cheapest, clearest checks
//! come first: header (is it a component?), integrity (sha256 pin, minisign
//! signature), compile or cache hit, contract check on import/export names,
//! then one sandboxed instantiation for `info` and `validate-settings`.

mod bindings;
pub mod builtin;
mod cache;
mod capture;
mod clock;
mod engine;
mod error;
mod inspect;
mod integrity;
mod limits;
mod output;
mod plugin;
mod sandbox;
pub mod sanitize;

use std::path::Path;
use std::sync::Arc;

pub use crate::sanitize::clean as sanitize;
pub use bindings::{
    Action, ActionType, Assignments, CaPolicy, CaSource, CaState, Capability, ChangeNote, Connector,
    ConnectorState, DeviceVerdict, Diagnostic, DiagnosticSeverity, EventBatch, Group, MappingOutput,
    Observation, Platform, PluginInfo, Policy, RulesOutput, SeverityTerm, StatusVerdict, TenantContext,
    ThreatLevel, ThreatRecord, ThreatVerdict, CONTRACT_PACKAGE, CONTRACT_VERSION,
};
pub use cache::{Cache, CacheOutcome};
pub use capture::{LINE_COST, MAX_LINE_CHARS};
pub use clock::SleepTrap;
pub use error::{CallError, Failure, LoadError, RuntimeError};
pub use inspect::supported_line;
pub use integrity::{check_public_key, sha256_hex, SignatureRequirement};
pub use limits::Limits;
pub use plugin::LoadedPlugin;

use engine::Engines;

/// A plugin's bytes and where they came from.
#[derive(Clone)]
pub struct PluginSource {
    /// A path, or `builtin:NAME`; used in every message about the plugin.
    pub label: String,
    /// The plugin's WebAssembly component bytes.
    pub bytes: Arc<[u8]>,
}

impl PluginSource {
    /// Reads a plugin file.
    pub fn from_file(path: &Path) -> Result<Self, LoadError> {
        let bytes =
            std::fs::read(path).map_err(|source| LoadError::Read { path: path.to_path_buf(), source })?;
        Ok(PluginSource { label: path.display().to_string(), bytes: bytes.into() })
    }

    /// A plugin compiled into this binary.
    pub fn builtin(name: &str) -> Option<Self> {
        crate::builtin::get(name)
            .map(|bytes| PluginSource { label: format!("builtin:{name}"), bytes: bytes.into() })
    }

    /// `builtin:NAME` or a file path.
    pub fn resolve(spec: &str) -> Result<Self, LoadError> {
        match spec.strip_prefix("builtin:") {
            Some(name) => Self::builtin(name).ok_or_else(|| LoadError::Read {
                path: spec.into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "no builtin plugin named '{name}' (builtin: {})",
                        crate::builtin::names().join(", ")
                    ),
                ),
            }),
            None => Self::from_file(Path::new(spec)),
        }
    }
}

/// How to load one plugin.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The sandbox limits for the plugin's calls (memory, deadline, stack, output and others).
    pub limits: Limits,
    /// Required sha256 of the component, if pinned.
    pub sha256: Option<String>,
    /// Required signature, if any.
    pub signature: Option<SignatureRequirement>,
    /// The admin's settings for the plugin, as JSON.
    pub settings_json: String,
}

/// Compiles, caches and loads plugins.
pub struct Runtime {
    engines: Engines,
    cache: Cache,
}

impl Runtime {
    /// A runtime using `cache` for compiled components.
    pub fn new(cache: Cache) -> Self {
        Runtime { engines: Engines::default(), cache }
    }

    /// The cache in use.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Checks, compiles (or loads from cache) and instantiates a plugin,
    /// calling `info` and `validate-settings`. Settings problems are returned
    /// in [`LoadedPlugin::settings_diagnostics`], not as an error, so callers
    /// can show them all; [`ensure_valid_settings`] turns errors into one.
    pub fn load(&self, source: &PluginSource, opts: &LoadOptions) -> Result<LoadedPlugin, LoadError> {
        let Compiled { engine, component, sha256, .. } = self.compile(source, opts)?;
        let label = source.label.clone();
        let exported = inspect::check_contract(&label, &engine, &component)?;
        let pre = plugin::pre_instantiate(&engine, &component).map_err(|e| LoadError::Engine {
            label: label.clone(),
            reason: format!("cannot be linked: {e:#}"),
        })?;
        let (info, capture, hit) =
            plugin::run(&engine, &pre, &opts.limits, INFO_BYTES, |b, s| b.mtd_plugin_guest().call_info(s));
        let info_error = |failure| {
            LoadError::Call(CallError {
                plugin: label.clone(),
                version: "(version unknown)".into(),
                call: "info",
                failure,
            })
        };
        let info = info.map_err(|e| {
            info_error(match plugin::classify(&e, hit, &capture, &opts.limits) {
                Failure::OutputOverBudget { .. } => Failure::InfoTooLarge { cap_kib: INFO_BYTES >> 10 },
                other => other,
            })
        })?;
        let info = checked_info(&label, info)?;
        if !inspect::compatible(&info.contract_version) || !same_line(&info.contract_version, &exported) {
            return Err(LoadError::ContractMismatch {
                label,
                version: info.version,
                reported: info.contract_version,
                exported,
            });
        }
        let mut loaded = LoadedPlugin {
            label,
            sha256,
            info,
            limits: opts.limits.clone(),
            settings_json: opts.settings_json.clone(),
            settings_diagnostics: Vec::new(),
            engine,
            pre: Arc::new(pre),
        };
        loaded.settings_diagnostics = loaded.validate_settings(&opts.settings_json)?;
        tracing::debug!(plugin = %loaded.info.name, version = %loaded.info.version, source = %loaded.label, "plugin loaded");
        Ok(loaded)
    }

    /// Checks integrity and compiles (or loads from cache) without running anything.
    pub fn precompile(&self, source: &PluginSource, opts: &LoadOptions) -> Result<CacheOutcome, LoadError> {
        let compiled = self.compile(source, opts)?;
        inspect::check_contract(&source.label, &compiled.engine, &compiled.component)?;
        Ok(compiled.outcome)
    }

    /// Checks the bytes (header, pin, signature, limits) and compiles them,
    /// or loads the compiled component from the cache.
    fn compile(&self, source: &PluginSource, opts: &LoadOptions) -> Result<Compiled, LoadError> {
        let label = &source.label;
        let bytes = &source.bytes[..];
        inspect::check_header(label, bytes)?;
        let sha256 = sha256_hex(bytes);
        if let Some(pin) = &opts.sha256 {
            integrity::check_pin(label, &sha256, pin)?;
        }
        if let Some(req) = &opts.signature {
            let key = integrity::check_signature(label, bytes, req)?;
            tracing::debug!(plugin = %label, key = %key, "signature verified");
        }
        opts.limits.check().map_err(|reason| LoadError::Limits { label: label.clone(), reason })?;
        let engine = self
            .engines
            .get(opts.limits.stack_bytes())
            .map_err(|e| LoadError::Engine { label: label.clone(), reason: e.to_string() })?;
        let (component, outcome) = self
            .cache
            .load(&engine, bytes, &sha256)
            .map_err(|e| LoadError::Invalid { label: label.clone(), reason: format!("{e:#}") })?;
        Ok(Compiled { engine, component, sha256, outcome })
    }
}

/// A plugin checked and compiled, not yet run.
struct Compiled {
    /// The engine for the plugin's stack size.
    engine: wasmtime::Engine,
    component: wasmtime::component::Component,
    /// SHA-256 of the component's bytes, in hex.
    sha256: String,
    /// Whether the cache had it.
    outcome: CacheOutcome,
}

/// What `info()` may return, in bytes (host copies included): a name, a
/// version, a description and a few capabilities need far less.
pub const INFO_BYTES: usize = 64 << 10;
/// Longest plugin name, in characters: names appear in every message.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest plugin version, in characters.
pub const MAX_VERSION_CHARS: usize = 64;
/// Longest description or partner name kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;

/// Cleans what a plugin says about itself and refuses a name or version no
/// message could show.
fn checked_info(label: &str, mut info: PluginInfo) -> Result<PluginInfo, LoadError> {
    use output::Clean;
    info.clean();
    for (what, value, max) in [
        ("name", &info.name, MAX_NAME_CHARS),
        ("version", &info.version, MAX_VERSION_CHARS),
        ("contract version", &info.contract_version, MAX_VERSION_CHARS),
    ] {
        let chars = value.chars().count();
        if chars == 0 || chars > max {
            return Err(LoadError::BadInfo {
                label: label.to_string(),
                reason: format!("its {what} is {chars} characters long; it must be 1 to {max}"),
            });
        }
    }
    info.description = crate::sanitize::clean_truncated(&info.description, MAX_DESCRIPTION_CHARS);
    info.partner = info.partner.map(|p| crate::sanitize::clean_truncated(&p, MAX_NAME_CHARS));
    Ok(info)
}

fn same_line(a: &str, b: &str) -> bool {
    let line = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    line(a) == line(b)
}

/// Fails if the plugin reported any settings error, listing them all.
pub fn ensure_valid_settings(plugin: &LoadedPlugin) -> Result<(), String> {
    let errors: Vec<String> = plugin
        .settings_diagnostics()
        .iter()
        .filter(|d| d.severity == DiagnosticSeverity::Error)
        .map(describe_diagnostic)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "plugin {} {} rejected its settings:\n  {}",
            plugin.info().name,
            plugin.info().version,
            errors.join("\n  ")
        ))
    }
}

/// One line for a diagnostic: `error: overrides.X: message`.
pub fn describe_diagnostic(d: &Diagnostic) -> String {
    let sev = match d.severity {
        DiagnosticSeverity::Error => "error",
        DiagnosticSeverity::Warning => "warning",
        DiagnosticSeverity::Info => "info",
    };
    let path = sanitize(&d.path);
    // Cleaned, not quoted: a diagnostic is always shown after its severity
    // and path, which mark it as the plugin's.
    let message = sanitize(&d.message);
    if path.is_empty() {
        format!("{sev}: {message}")
    } else {
        format!("{sev}: {path}: {message}")
    }
}

impl ThreatLevel {
    /// All levels, most secure first.
    pub const ALL: [ThreatLevel; 4] =
        [ThreatLevel::Secured, ThreatLevel::Low, ThreatLevel::Medium, ThreatLevel::High];

    /// Parses Intune's word for a level (case-insensitive).
    pub fn parse(word: &str) -> Option<ThreatLevel> {
        Self::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(word.trim()))
    }

    /// Position in Intune's order (secured 0 … high 3): higher allows more risk.
    pub fn rank(self) -> u8 {
        match self {
            ThreatLevel::Secured => 0,
            ThreatLevel::Low => 1,
            ThreatLevel::Medium => 2,
            ThreatLevel::High => 3,
        }
    }

    /// The level at a rank (see [`ThreatLevel::rank`]); ranks above 3 are high.
    pub fn from_rank(rank: u8) -> ThreatLevel {
        Self::ALL[usize::from(rank.min(3))]
    }

    /// The higher (less secure) of two levels.
    pub fn max_level(self, other: ThreatLevel) -> ThreatLevel {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// Intune's spelling of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            ThreatLevel::Secured => "secured",
            ThreatLevel::Low => "low",
            ThreatLevel::Medium => "medium",
            ThreatLevel::High => "high",
        }
    }
}

impl Capability {
    /// The capability's WIT name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::ThreatMapping => "threat-mapping",
            Capability::ComplianceRules => "compliance-rules",
        }
    }
}
