//! Zimperium (zConsole) → Intune levels; also Trellix Mobile Security and
//! SentinelOne Mobile, which are built on the same engine and scale
//! (`variant = "trellix"` / `"sentinelone"`; that they share the scale is
//! unverified).
//!
//! Threat Response Matrix severities: Critical → high, Elevated → medium,
//! Low → low, Normal → secured (the mapping Intune integrations use). The
//! API's numeric `severity` is accepted too: 3 = critical and 2 = elevated
//! are documented; 1 = low and 0 = normal are assumed.
use mtd_sdk::partner::{severities, strs, DeviceStatus, Fields, PartnerSpec};
use mtd_sdk::prelude::*;

pub const VARIANTS: &[&str] = &["zimperium", "trellix", "sentinelone"];

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Zimperium".into(),
        severities: severities(&[
            ("CRITICAL", High, "critical threat"),
            ("ELEVATED", Medium, "elevated threat"),
            ("LOW", Low, "low threat"),
            ("NORMAL", Secured, "no threat"),
            ("3", High, "numeric severity 3 (CRITICAL)"),
            ("2", Medium, "numeric severity 2 (ELEVATED)"),
            ("1", Low, "numeric severity 1 (LOW, unverified)"),
            ("0", Secured, "numeric severity 0 (NORMAL, unverified)"),
        ]),
        fields: Fields {
            device: strs(&[
                "zdeviceId",
                "zdevice_id",
                "deviceId",
                "device_id",
                "device.zdeviceId",
                "device.id",
                "mdmId",
            ]),
            threat_id: strs(&["id", "threatId", "threat_id", "eventId"]),
            classification: strs(&[
                "threatTypeName",
                "threat_type_name",
                "threatType",
                "threat.threatTypeName",
            ]),
            severity: strs(&["severityName", "severity_name", "threat.severityName", "severity"]),
            status: strs(&["stateName", "state", "status"]),
        },
        inactive: strs(&["RESOLVED", "MITIGATED", "DELETED", "INACTIVE", "IGNORED"]),
        device_status: Some(DeviceStatus {
            status: strs(&["riskPostureName", "riskPosture", "risk_posture"]),
            levels: vec![
                ("CRITICAL".into(), High),
                ("ELEVATED".into(), Medium),
                ("LOW".into(), Low),
                ("NORMAL".into(), Secured),
            ],
        }),
        wrappers: strs(&["content", "threats", "devices", "data"]),
        ..PartnerSpec::default()
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new(
        "zimperium",
        "0.1.0",
        "Zimperium zConsole threats (also Trellix, SentinelOne Mobile) to Intune levels",
    )
    .with_partner("Zimperium")
    .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(Zimperium, info(), spec(), variants: VARIANTS);
