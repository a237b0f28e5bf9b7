//! The smallest useful mtdhost plugin: maps events in the SDK's generic shape
//! whose severities are Intune's words plus "none"; overrides per classification.
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
        let bad = s.overrides.iter().filter(|(_, l)| ThreatLevel::parse(l).is_none());
        bad.map(|(k, l)| Diagnostic::error(format!("overrides.{k}"), format!("'{l}' is not a level")))
            .collect()
    }

    fn severity_vocabulary(_: &Settings) -> Vec<SeverityTerm> {
        let none = SeverityTerm::new("none", ThreatLevel::Secured);
        let rest = ThreatLevel::ALL[1..].iter().map(|l| SeverityTerm::new(l.as_str(), *l));
        std::iter::once(none).chain(rest).collect()
    }

    fn map_events(s: &Settings, batch: EventBatch) -> Result<MappingOutput, String> {
        let mut out = MappingBuilder::starting_at(batch.first_record);
        let (records, problems) = mtd_sdk::events::generic_records(&batch);
        problems.into_iter().for_each(|d| out.diagnostic(d));
        for r in &records {
            let active = !matches!(r.status.as_str(), "RESOLVED" | "IGNORED");
            let overridden = s.overrides.get(&r.classification).and_then(|l| ThreatLevel::parse(l));
            let (level, reason) = match (overridden, translate::<Self>(s, &r.severity)) {
                (Some(l), _) => (l, format!("override for {}", r.classification)),
                (None, Ok(l)) => (l, format!("severity {}", r.severity)),
                (None, Err(e)) => {
                    out.diagnostic(Diagnostic::warning(&r.threat_id, format!("{e}; counted as high")));
                    (ThreatLevel::High, "unknown severity: fail closed".into())
                }
            };
            out.threat(r, level, active, reason);
        }
        Ok(out.finish())
    }
}

mtd_sdk::export_plugin!(Example);
