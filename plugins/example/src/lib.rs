//! The smallest useful mtdhost plugin: maps a partner whose severities are
//! Intune's own words plus "none", with per-classification overrides.
use std::collections::BTreeMap;

use mtd_sdk::prelude::*;

pub struct Example;

#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Level per classification, replacing the partner's severity.
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
}

impl Plugin for Example {
    type Settings = Settings;

    fn info() -> PluginInfo {
        PluginInfo::new("example", "0.1.0", "Maps none/low/medium/high severities")
            .with_capability(Capability::ThreatMapping)
    }

    fn validate_settings(s: &Settings) -> Vec<Diagnostic> {
        (s.overrides.iter())
            .filter(|(_, level)| ThreatLevel::parse(level).is_none())
            .map(|(k, l)| Diagnostic::error(format!("overrides.{k}"), format!("'{l}' is not secured, low, medium or high")))
            .collect()
    }

    fn severity_vocabulary(_: &Settings) -> Vec<SeverityTerm> {
        let none = SeverityTerm::new("none", ThreatLevel::Secured);
        let rest = ThreatLevel::ALL[1..].iter().map(|l| SeverityTerm::new(l.as_str(), *l));
        std::iter::once(none).chain(rest).collect()
    }

    fn map_events(s: &Settings, batch: EventBatch) -> Result<MappingOutput, String> {
        let mut out = MappingBuilder::default();
        for r in &batch.records {
            let active = !matches!(r.status.as_str(), "RESOLVED" | "IGNORED");
            if let Some(level) = s.overrides.get(&r.classification).and_then(|l| ThreatLevel::parse(l)) {
                out.threat(r, level, active, format!("override for {}", r.classification));
                continue;
            }
            match translate::<Self>(s, &r.severity) {
                Ok(level) => out.threat(r, level, active, format!("severity {}", r.severity)),
                Err(e) => {
                    out.diagnostic(Diagnostic::warning(&r.threat_id, format!("{e}; counted as high")));
                    out.threat(r, ThreatLevel::High, active, "unknown severity: fail closed")
                }
            }
        }
        Ok(out.finish())
    }
}

mtd_sdk::export_plugin!(Example);
