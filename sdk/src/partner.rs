//! A table-driven mapping engine for partner plugins.
//!
//! Most MTD partners differ only in where their export keeps the device,
//! threat, classification, severity and status, in their severity words, and
//! in which statuses mean "no longer active". A plugin describes that in a
//! [`PartnerSpec`]; [`map_events`] does the rest the same way for everyone:
//! parse the export (document, array or JSON Lines), map each threat with a
//! reason, aggregate per device (highest active threat wins), report unknown
//! values instead of dropping them (their level follows `unknown-level`,
//! default `high`: fail closed), and apply the admin's overrides.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::events::{self, text_field};
use crate::{
    Diagnostic, EventBatch, MappingBuilder, MappingOutput, SeverityTerm, ThreatLevel, ThreatVerdict,
};

/// Where a partner's export keeps each field (dotted paths, tried in order;
/// a numeric segment indexes a list: `threat.classifications.0`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Fields {
    pub device: Vec<String>,
    pub threat_id: Vec<String>,
    #[serde(default)]
    pub classification: Vec<String>,
    pub severity: Vec<String>,
    #[serde(default)]
    pub status: Vec<String>,
}

/// A device-level status record (e.g. Lookout's `securityStatus`).
#[derive(Debug, Clone, Default)]
pub struct DeviceStatus {
    /// Paths to the status word.
    pub status: Vec<String>,
    /// Status word → level.
    pub levels: Vec<(String, ThreatLevel)>,
}

/// Everything the engine needs to know about a partner.
#[derive(Debug, Clone, Default)]
pub struct PartnerSpec {
    /// The partner's name, for messages.
    pub partner: String,
    /// Severity word → level, with a description (the vocabulary admins see).
    pub severities: Vec<(String, ThreatLevel, String)>,
    pub fields: Fields,
    /// Status words (case-insensitive) meaning the threat no longer counts.
    pub inactive: Vec<String>,
    /// Classification → the partner's default severity word, for partners
    /// whose events carry a category but no severity (Jamf).
    pub classification_severity: Vec<(String, String)>,
    /// Classifications that by default do not affect device risk.
    pub log_only: Vec<String>,
    /// Device-level records, if the partner reports them.
    pub device_status: Option<DeviceStatus>,
    /// Keys under which an export wraps its list of records.
    pub wrappers: Vec<String>,
}

/// `&["a", "b"]` as owned strings, for building specs.
pub fn strs(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

/// Severity table rows as owned values.
pub fn severities(rows: &[(&str, ThreatLevel, &str)]) -> Vec<(String, ThreatLevel, String)> {
    rows.iter().map(|(t, l, d)| (t.to_string(), *l, d.to_string())).collect()
}

fn field(v: &Value, paths: &[String]) -> Option<String> {
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    text_field(v, &refs)
}

/// Settings every partner plugin accepts.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PartnerSettings {
    /// Classification → Intune level, replacing the partner's severity.
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    /// Partner severity word → Intune level, replacing the default mapping.
    #[serde(default)]
    pub severity_levels: BTreeMap<String, String>,
    /// Level for unknown severities or classifications (default: high).
    #[serde(default)]
    pub unknown_level: Option<String>,
    /// Classifications that do not affect device risk (reported, not counted).
    #[serde(default)]
    pub not_affecting_risk: Vec<String>,
    /// Partner-specific variant (e.g. Zimperium's "trellix" or "sentinelone").
    #[serde(default)]
    pub variant: Option<String>,
}

fn level(word: &str) -> Option<ThreatLevel> {
    ThreatLevel::parse(word)
}

/// Diagnostics for settings every partner plugin shares.
pub fn validate(spec: &PartnerSpec, s: &PartnerSettings, variants: &[&str]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (k, v) in &s.overrides {
        if level(v).is_none() {
            out.push(Diagnostic::error(
                format!("overrides.{k}"),
                format!("'{v}' is not an Intune level (secured, low, medium, high)"),
            ));
        }
    }
    for (k, v) in &s.severity_levels {
        if level(v).is_none() {
            out.push(Diagnostic::error(
                format!("severity-levels.{k}"),
                format!("'{v}' is not an Intune level (secured, low, medium, high)"),
            ));
        }
        if !spec.severities.iter().any(|(t, _, _)| t.eq_ignore_ascii_case(k)) {
            let known: Vec<&str> = spec.severities.iter().map(|t| t.0.as_str()).collect();
            out.push(Diagnostic::warning(
                format!("severity-levels.{k}"),
                format!("'{k}' is not a {} severity (known: {})", spec.partner, known.join(", ")),
            ));
        }
    }
    if let Some(u) = &s.unknown_level {
        if level(u).is_none() {
            out.push(Diagnostic::error(
                "unknown-level",
                format!("'{u}' is not an Intune level (secured, low, medium, high)"),
            ));
        }
    }
    if let Some(v) = &s.variant {
        if !variants.iter().any(|x| x.eq_ignore_ascii_case(v)) {
            out.push(Diagnostic::error(
                "variant",
                format!(
                    "'{v}' is not a variant of this plugin (known: {})",
                    if variants.is_empty() { "none".into() } else { variants.join(", ") }
                ),
            ));
        }
    }
    out
}

/// The vocabulary with the admin's severity overrides applied.
pub fn vocabulary(spec: &PartnerSpec, s: &PartnerSettings) -> Vec<SeverityTerm> {
    spec.severities
        .iter()
        .map(|(term, default, desc)| {
            let term = term.as_str();
            let lvl = s
                .severity_levels
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(term))
                .and_then(|(_, v)| level(v))
                .unwrap_or(*default);
            SeverityTerm::new(term, lvl).described(desc)
        })
        .collect()
}

fn severity_level(spec: &PartnerSpec, s: &PartnerSettings, word: &str) -> Option<ThreatLevel> {
    vocabulary(spec, s).into_iter().find(|t| t.term.eq_ignore_ascii_case(word.trim())).map(|t| t.level)
}

fn records_in(spec: &PartnerSpec, v: Value) -> Vec<Value> {
    if let Value::Object(map) = &v {
        for w in &spec.wrappers {
            if let Some(Value::Array(items)) = map.get(w) {
                return items.clone();
            }
        }
    }
    vec![v]
}

/// Maps a batch for `spec`.
pub fn map_events(spec: &PartnerSpec, s: &PartnerSettings, batch: EventBatch) -> MappingOutput {
    // Partners sharing an engine (Zimperium's Trellix and SentinelOne) are named in messages.
    let named;
    let spec = match &s.variant {
        Some(v) => {
            named = PartnerSpec { partner: format!("{v} ({} scale)", spec.partner), ..spec.clone() };
            &named
        }
        None => spec,
    };
    let unknown = s.unknown_level.as_deref().and_then(level).unwrap_or(ThreatLevel::High);
    let mut out = MappingBuilder::default();
    for r in batch.records {
        let value = serde_json::json!({
            "device": r.device_id, "id": r.threat_id, "classification": r.classification,
            "severity": r.severity, "status": r.status,
        });
        let fields = Fields {
            device: strs(&["device"]),
            threat_id: strs(&["id"]),
            classification: strs(&["classification"]),
            severity: strs(&["severity"]),
            status: strs(&["status"]),
        };
        map_one(spec, s, unknown, &fields, &value, "structured record", &mut out);
    }
    let raw = batch.raw.unwrap_or_default();
    for rec in events::records(&raw, batch.first_record) {
        let location = rec.location();
        match rec.value {
            Ok(v) => {
                for (i, item) in records_in(spec, v).into_iter().enumerate() {
                    let at = if i == 0 { location.clone() } else { format!("{location} item {}", i + 1) };
                    map_one(spec, s, unknown, &spec.fields, &item, &at, &mut out);
                }
            }
            Err(e) => out.diagnostic(Diagnostic::error(location, e)),
        }
    }
    out.finish()
}

fn map_one(
    spec: &PartnerSpec,
    s: &PartnerSettings,
    unknown: ThreatLevel,
    f: &Fields,
    v: &Value,
    at: &str,
    out: &mut MappingBuilder,
) {
    if !v.is_object() {
        out.diagnostic(Diagnostic::error(at, "expected a JSON object"));
        return;
    }
    let Some(device) = field(v, &f.device) else {
        out.diagnostic(Diagnostic::error(at, format!("no device id (looked for {})", f.device.join(", "))));
        return;
    };
    // A device-level status record: a status word and no threat in it.
    if let Some(ds) = &spec.device_status {
        let is_threat = field(v, &f.severity).is_some() || field(v, &f.classification).is_some();
        if let (false, Some(status)) = (is_threat, field(v, &ds.status)) {
            match ds.levels.iter().find(|(w, _)| w.eq_ignore_ascii_case(&status)) {
                Some((_, l)) => out.device(&device, *l),
                None => {
                    out.diagnostic(Diagnostic::warning(
                        at,
                        format!("unknown {} device status '{status}'; counted as {unknown}", spec.partner),
                    ));
                    out.device(&device, unknown);
                }
            }
            return;
        }
    }
    let threat_id = field(v, &f.threat_id).unwrap_or_else(|| at.to_string());
    let classification = field(v, &f.classification).unwrap_or_default();
    let status = field(v, &f.status).unwrap_or_default();
    let active = !spec.inactive.iter().any(|w| w.eq_ignore_ascii_case(&status));
    let severity = field(v, &f.severity).or_else(|| {
        spec.classification_severity
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(&classification))
            .map(|(_, sev)| sev.to_string())
    });
    let verdict = |lvl: ThreatLevel, reason: String, active: bool| ThreatVerdict {
        device_id: device.clone(),
        threat_id: threat_id.clone(),
        classification: classification.clone(),
        partner_severity: severity.clone().unwrap_or_default(),
        level: lvl,
        active,
        reason,
    };
    if let Some((_, l)) = s.overrides.iter().find(|(k, _)| k.eq_ignore_ascii_case(&classification)) {
        if let Some(l) = level(l) {
            out.push(verdict(l, format!("override for {classification}: {l}"), active));
            return;
        }
    }
    let log_only = |c: &String| c.eq_ignore_ascii_case(&classification);
    if s.not_affecting_risk.iter().any(log_only)
        || (s.not_affecting_risk.is_empty() && spec.log_only.iter().any(log_only))
    {
        out.push(verdict(
            ThreatLevel::Secured,
            format!("{classification} does not affect device risk (settings)"),
            false,
        ));
        return;
    }
    match severity.as_deref().map(|w| (w, severity_level(spec, s, w))) {
        Some((w, Some(l))) => {
            out.push(verdict(l, format!("{} severity {w} is Intune {l}", spec.partner), active))
        }
        Some((w, None)) => {
            out.diagnostic(Diagnostic::warning(
                at,
                format!("unknown {} severity '{w}' for {threat_id}; counted as {unknown}", spec.partner),
            ));
            out.push(verdict(
                unknown,
                format!("unknown severity {w}: counted as {unknown} (unknown-level)"),
                active,
            ));
        }
        None => {
            out.diagnostic(Diagnostic::warning(at, format!("no severity and unknown classification '{classification}' for {threat_id}; counted as {unknown}")));
            out.push(verdict(
                unknown,
                format!("unknown classification {classification}: counted as {unknown} (unknown-level)"),
                active,
            ));
        }
    }
}

/// Implements [`crate::Plugin`] for a partner plugin described by a
/// [`PartnerSpec`] and exports it:
/// `partner_plugin!(Lookout, info(), spec(), variants: &[])`.
#[macro_export]
macro_rules! partner_plugin {
    ($ty:ident, $info:expr, $spec:expr, variants: $variants:expr) => {
        pub struct $ty;

        impl $crate::Plugin for $ty {
            type Settings = $crate::partner::PartnerSettings;

            fn info() -> $crate::PluginInfo {
                $info
            }
            fn validate_settings(s: &Self::Settings) -> Vec<$crate::Diagnostic> {
                $crate::partner::validate(&$spec, s, $variants)
            }
            fn severity_vocabulary(s: &Self::Settings) -> Vec<$crate::SeverityTerm> {
                $crate::partner::vocabulary(&$spec, s)
            }
            fn map_events(
                s: &Self::Settings,
                batch: $crate::EventBatch,
            ) -> Result<$crate::MappingOutput, String> {
                Ok($crate::partner::map_events(&$spec, s, batch))
            }
        }

        $crate::export_plugin!($ty);
    };
}
