//! Collecting threat verdicts and aggregating them per device.
//!
//! Intune takes one level per device: the highest level among its active
//! threats. Resolved or ignored threats are reported but do not count.

use std::collections::BTreeMap;

use crate::{DeviceVerdict, Diagnostic, MappingOutput, ThreatLevel, ThreatRecord, ThreatVerdict};

/// Builds a [`MappingOutput`]: add threats and diagnostics, then `finish`.
#[derive(Default)]
pub struct MappingBuilder {
    threats: Vec<ThreatVerdict>,
    devices: BTreeMap<String, (ThreatLevel, Vec<String>)>,
    diagnostics: Vec<Diagnostic>,
}

impl MappingBuilder {
    /// Records the verdict for one threat of a structured record.
    pub fn threat(
        &mut self,
        record: &ThreatRecord,
        level: ThreatLevel,
        active: bool,
        reason: impl Into<String>,
    ) {
        self.push(ThreatVerdict {
            device_id: record.device_id.clone(),
            threat_id: record.threat_id.clone(),
            classification: record.classification.clone(),
            partner_severity: record.severity.clone(),
            level,
            active,
            reason: reason.into(),
        });
    }

    /// Records a verdict built by the plugin.
    pub fn push(&mut self, verdict: ThreatVerdict) {
        let entry =
            self.devices.entry(verdict.device_id.clone()).or_insert((ThreatLevel::Secured, Vec::new()));
        if verdict.active && verdict.level > ThreatLevel::Secured {
            if verdict.level > entry.0 {
                entry.0 = verdict.level;
                entry.1.clear();
            }
            if verdict.level == entry.0 {
                entry.1.push(verdict.threat_id.clone());
            }
        }
        self.threats.push(verdict);
    }

    /// Sets a device's level directly (a partner's own device risk), raising
    /// but never lowering what its threats set.
    pub fn device(&mut self, device_id: &str, level: ThreatLevel) {
        let entry = self.devices.entry(device_id.to_string()).or_insert((ThreatLevel::Secured, Vec::new()));
        if level > entry.0 {
            entry.0 = level;
            entry.1.clear();
        }
    }

    /// Adds a finding (malformed record, unknown severity, …).
    pub fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The finished output, devices sorted by id.
    pub fn finish(self) -> MappingOutput {
        MappingOutput {
            threats: self.threats,
            devices: self
                .devices
                .into_iter()
                .map(|(device_id, (level, threat_ids))| DeviceVerdict { device_id, level, threat_ids })
                .collect(),
            diagnostics: self.diagnostics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_active_wins() {
        let mut b = MappingBuilder::default();
        let t = |id: &str| ThreatRecord::new("d1", id, "X", "s", "DETECTED");
        b.threat(&t("a"), ThreatLevel::Low, true, "");
        b.threat(&t("b"), ThreatLevel::High, false, "resolved");
        b.threat(&t("c"), ThreatLevel::Medium, true, "");
        b.threat(&t("d"), ThreatLevel::Medium, true, "");
        let out = b.finish();
        assert_eq!(out.devices.len(), 1);
        assert_eq!(out.devices[0].level, ThreatLevel::Medium);
        assert_eq!(out.devices[0].threat_ids, vec!["c", "d"]);
        assert_eq!(out.threats.len(), 4);
    }

    #[test]
    fn device_only_inactive_is_secured() {
        let mut b = MappingBuilder::default();
        b.threat(&ThreatRecord::new("d2", "a", "X", "s", "RESOLVED"), ThreatLevel::High, false, "");
        b.device("d3", ThreatLevel::Low);
        let out = b.finish();
        assert_eq!(out.devices[0].level, ThreatLevel::Secured);
        assert_eq!(out.devices[1].level, ThreatLevel::Low);
    }
}
