//! A table-driven plugin for partners whose scale is not public (Sophos,
//! Pradeo, Better Mobile, BlackBerry, Symantec, …): the vocabulary, the
//! field paths and the inactive statuses all come from settings.
use std::collections::BTreeMap;

use mtd_sdk::partner::{self, strs, Fields, PartnerSettings, PartnerSpec};
use mtd_sdk::prelude::*;

pub struct Generic;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// The partner's name, for messages.
    pub partner: Option<String>,
    /// The partner's severity words → Intune levels.
    #[serde(default)]
    pub severities: BTreeMap<String, String>,
    /// Where records keep each field; defaults to the SDK's generic shape.
    pub fields: Option<Fields>,
    /// Status words meaning a threat no longer counts.
    #[serde(default)]
    pub inactive: Vec<String>,
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    pub unknown_level: Option<String>,
    #[serde(default)]
    pub not_affecting_risk: Vec<String>,
}

fn common(s: &Settings) -> PartnerSettings {
    PartnerSettings {
        overrides: s.overrides.clone(),
        unknown_level: s.unknown_level.clone(),
        not_affecting_risk: s.not_affecting_risk.clone(),
        ..PartnerSettings::default()
    }
}

fn spec(s: &Settings) -> PartnerSpec {
    let severities = s
        .severities
        .iter()
        .filter_map(|(w, l)| Some((w.clone(), ThreatLevel::parse(l)?, format!("configured: {l}"))))
        .collect();
    let fields = s.fields.clone().unwrap_or_else(|| Fields {
        device: strs(&["device_id", "deviceId"]),
        threat_id: strs(&["threat_id", "id"]),
        classification: strs(&["classification", "type"]),
        severity: strs(&["severity"]),
        status: strs(&["status"]),
        time: strs(&["detected_at", "detectedAt"]),
    });
    let inactive = if s.inactive.is_empty() { strs(&["RESOLVED", "IGNORED"]) } else { s.inactive.clone() };
    PartnerSpec {
        partner: s.partner.clone().unwrap_or_else(|| "the partner".into()),
        severities,
        shapes: vec![fields.shape("record")],
        inactive,
        wrappers: strs(&["events", "threats", "data", "value"]),
        ..PartnerSpec::default()
    }
}

impl Plugin for Generic {
    type Settings = Settings;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "generic",
            "0.2.0",
            "Maps any partner whose vocabulary and fields are given in settings",
        )
        .with_capability(Capability::ThreatMapping)
    }
    fn validate_settings(s: &Settings) -> Vec<Diagnostic> {
        let mut out = partner::validate(&spec(s), &common(s), &[]);
        if s.severities.is_empty() {
            out.push(Diagnostic::error(
                "severities",
                "list the partner's severity words, e.g. severities = { Critical = \"high\" }",
            ));
        }
        for (w, l) in &s.severities {
            if ThreatLevel::parse(l).is_none() {
                out.push(Diagnostic::error(
                    format!("severities.{w}"),
                    format!("'{l}' is not an Intune level (secured, low, medium, high)"),
                ));
            }
        }
        if let Some(f) = &s.fields {
            for (name, paths) in
                [("device", &f.device), ("threat-id", &f.threat_id), ("severity", &f.severity)]
            {
                if paths.is_empty() {
                    out.push(Diagnostic::error(format!("fields.{name}"), "needs at least one path"));
                }
            }
        }
        out
    }
    fn severity_vocabulary(s: &Settings) -> Vec<SeverityTerm> {
        partner::vocabulary(&spec(s), &common(s))
    }
    fn map_events(s: &Settings, batch: EventBatch) -> Result<MappingOutput, String> {
        Ok(partner::map_events(&spec(s), &common(s), batch))
    }
}

mtd_sdk::export_plugin!(Generic);
