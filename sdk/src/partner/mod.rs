//! A table-driven mapping engine for partner plugins.
//!
//! MTD partners differ in the shapes of their exports (envelopes, nesting,
//! field names, ids as strings or numbers, severities as words or integers),
//! in their severity and device-status words, and in their lifecycle words.
//! A plugin describes that in a [`PartnerSpec`] — a list of record
//! [`Shape`]s plus vocabularies — and [`map_events`] does the rest the same
//! way for everyone: unwrap envelopes and event streams, recognise each
//! record's shape, keep the latest state of each threat, read device-status
//! records as the partner's own verdict (never as threats), report unknown
//! values instead of dropping them (their level follows `unknown-level`,
//! default `high`: fail closed), and apply the admin's overrides.

mod engine;
mod shape;

use std::collections::BTreeMap;

pub use engine::map_events;
pub use shape::{threat_fields, Kind, Match, Shape, ThreatFields};

use crate::{Diagnostic, SeverityTerm, ThreatLevel};

/// Field paths of a single threat shape, as the generic plugin's settings
/// spell them (dotted paths, tried in order; a number indexes a list).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Fields {
    /// The device id.
    pub device: Vec<String>,
    /// The threat's id, which links its detection to its later states.
    pub threat_id: Vec<String>,
    /// The threat's classification (type, name), shown in reasons.
    #[serde(default)]
    pub classification: Vec<String>,
    /// The partner's severity word.
    pub severity: Vec<String>,
    /// The lifecycle word (active, resolved, …).
    #[serde(default)]
    pub status: Vec<String>,
    /// When the record was observed; orders the states of one threat.
    #[serde(default)]
    pub time: Vec<String>,
}

impl Fields {
    /// The one shape these fields describe: every record is a threat.
    pub fn shape(&self, name: &str) -> Shape {
        Shape {
            name: name.to_string(),
            when: Vec::new(),
            device: self.device.clone(),
            time: self.time.clone(),
            sequence: Vec::new(),
            kind: Kind::Threat(ThreatFields {
                threat_id: self.threat_id.clone(),
                classification: self.classification.clone(),
                severity: self.severity.clone(),
                status: self.status.clone(),
                resolved_flag: Vec::new(),
                threat_key: Vec::new(),
            }),
        }
    }
}

/// A vocabulary row: the partner's word, its Intune level, and a
/// description naming the source (vendor doc, integration, our assumption).
pub type Term = (String, ThreatLevel, String);

/// Everything the engine needs to know about a partner.
#[derive(Debug, Clone, Default)]
pub struct PartnerSpec {
    /// The partner's name, for messages.
    pub partner: String,
    /// Threat severity word → level (the vocabulary admins see).
    pub severities: Vec<Term>,
    /// Device-status word → level (Lookout `securityStatus`, Defender `riskScore`, …).
    pub statuses: Vec<Term>,
    /// Lifecycle words (case-insensitive) meaning the threat no longer counts.
    pub inactive: Vec<String>,
    /// Lifecycle words known to mean "still active". When this list is not
    /// empty, any other word is reported (and counted as active: fail closed).
    pub active: Vec<String>,
    /// Classification → the partner's default severity word, for partners
    /// whose events carry a category but no severity.
    pub classification_severity: Vec<(String, String)>,
    /// Classifications that by default do not affect device risk.
    pub log_only: Vec<String>,
    /// The record shapes, tried in order; the first that matches reads the record.
    pub shapes: Vec<Shape>,
    /// Keys under which an export wraps its list of records (`events`,
    /// `content`, `value`, `objects`, …); unwrapped recursively.
    pub wrappers: Vec<String>,
}

/// `&["a", "b"]` as owned strings, for building specs.
pub fn strs(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

/// Vocabulary rows as owned values.
pub fn severities(rows: &[(&str, ThreatLevel, &str)]) -> Vec<Term> {
    rows.iter().map(|(t, l, d)| (t.to_string(), *l, d.to_string())).collect()
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
    /// Partner device-status word → Intune level, replacing the default mapping.
    #[serde(default)]
    pub status_levels: BTreeMap<String, String>,
    /// Level for unknown severities, classifications or statuses (default: high).
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
    for (k, v) in &s.status_levels {
        if level(v).is_none() {
            out.push(Diagnostic::error(
                format!("status-levels.{k}"),
                format!("'{v}' is not an Intune level (secured, low, medium, high)"),
            ));
        }
        if !spec.statuses.iter().any(|(t, _, _)| t.eq_ignore_ascii_case(k)) {
            let known: Vec<&str> = spec.statuses.iter().map(|t| t.0.as_str()).collect();
            out.push(Diagnostic::warning(
                format!("status-levels.{k}"),
                format!(
                    "'{k}' is not a {} device status (known: {})",
                    spec.partner,
                    if known.is_empty() { "none".into() } else { known.join(", ") }
                ),
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

/// The severity vocabulary with the admin's overrides applied.
pub fn vocabulary(spec: &PartnerSpec, s: &PartnerSettings) -> Vec<SeverityTerm> {
    apply(&spec.severities, &s.severity_levels)
}

/// The device-status vocabulary with the admin's overrides applied.
pub fn status_vocabulary(spec: &PartnerSpec, s: &PartnerSettings) -> Vec<SeverityTerm> {
    apply(&spec.statuses, &s.status_levels)
}

fn apply(terms: &[Term], overrides: &BTreeMap<String, String>) -> Vec<SeverityTerm> {
    terms
        .iter()
        .map(|(term, default, desc)| {
            let lvl = overrides
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(term))
                .and_then(|(_, v)| level(v))
                .unwrap_or(*default);
            SeverityTerm::new(term, lvl).described(desc)
        })
        .collect()
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
