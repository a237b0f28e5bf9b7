//! Check Point Harmony Mobile → Intune levels.
//!
//! Risk levels per classification: High (Device Alert) → high; Medium
//! (Device Alert / No Device Alert / Dismissive Device Alert) → medium;
//! Low → low; No Risk (or Off) → secured. The levels are documented; this
//! mapping to Intune is logical but unverified — override it with
//! `severity-levels` if your console behaves otherwise.
use mtd_sdk::partner::{self, severities, strs, Fields, PartnerSettings, PartnerSpec};
use mtd_sdk::prelude::*;

pub struct CheckPoint;

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Check Point Harmony Mobile".into(),
        severities: severities(&[
            ("High", High, "High (Device Alert)"),
            ("High (Device Alert)", High, "alerts the device"),
            ("Medium", Medium, "medium"),
            ("Medium (Device Alert)", Medium, "alerts the device"),
            ("Medium (No Device Alert)", Medium, "no device alert"),
            ("Medium (Dismissive Device Alert)", Medium, "dismissible device alert"),
            ("Low", Low, "low"),
            ("No Risk", Secured, "no risk"),
            ("Off", Secured, "detection off"),
        ]),
        fields: Fields {
            device: strs(&["device_id", "deviceId", "device.id", "device_guid", "mdm_id", "device.mdm_id"]),
            threat_id: strs(&["event_id", "eventId", "threat_id", "id"]),
            classification: strs(&["threat_type", "threatType", "attack_vector", "category", "type"]),
            severity: strs(&["risk_level", "riskLevel", "risk", "severity"]),
            status: strs(&["status", "state", "action"]),
        },
        inactive: strs(&["resolved", "closed", "dismissed", "mitigated"]),
        wrappers: strs(&["events", "threats", "data", "alerts"]),
        ..PartnerSpec::default()
    }
}

impl Plugin for CheckPoint {
    type Settings = PartnerSettings;

    fn info() -> PluginInfo {
        PluginInfo::new("checkpoint", "0.1.0", "Check Point Harmony Mobile risk levels to Intune levels")
            .with_partner("Check Point Harmony Mobile")
            .with_capability(Capability::ThreatMapping)
    }
    fn validate_settings(s: &PartnerSettings) -> Vec<Diagnostic> {
        partner::validate(&spec(), s, &[])
    }
    fn severity_vocabulary(s: &PartnerSettings) -> Vec<SeverityTerm> {
        partner::vocabulary(&spec(), s)
    }
    fn map_events(s: &PartnerSettings, batch: EventBatch) -> Result<MappingOutput, String> {
        Ok(partner::map_events(&spec(), s, batch))
    }
}

mtd_sdk::export_plugin!(CheckPoint);
