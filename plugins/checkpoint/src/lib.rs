//! Check Point Harmony Mobile → Intune levels.
//!
//! Risk levels per classification: High (Device Alert) → high; Medium
//! (Device Alert / No Device Alert / Dismissive Device Alert) → medium;
//! Low → low; No Risk (or Off) → secured. The levels are documented; this
//! mapping to Intune is logical but unverified — override it with
//! `severity-levels` if your console behaves otherwise.
use mtd_sdk::partner::{severities, strs, Fields, PartnerSpec};
use mtd_sdk::prelude::*;

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

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new("checkpoint", "0.1.0", "Check Point Harmony Mobile risk levels to Intune levels")
        .with_partner("Check Point Harmony Mobile")
        .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(CheckPoint, info(), spec(), variants: &[]);
