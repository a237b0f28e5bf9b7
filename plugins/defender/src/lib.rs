//! Microsoft Defender for Endpoint → Intune levels.
//!
//! Alerts (MDE alerts API and Graph `security/alerts_v2`): severity High,
//! Medium, Low → the same Intune level; Informational → secured (unverified).
//! Resolved alerts do not count. Machine records with `riskScore` (None,
//! Informational, Low, Medium, High) set the device level directly; in
//! Intune, Defender's level is the separate machine-risk setting
//! (advancedThreatProtectionRequiredSecurityLevel, beta) where "Clear" is
//! secured.
use mtd_sdk::partner::{severities, strs, DeviceStatus, Fields, PartnerSpec};
use mtd_sdk::prelude::*;

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Defender for Endpoint".into(),
        severities: severities(&[
            ("High", High, "high severity / high machine risk"),
            ("Medium", Medium, "medium"),
            ("Low", Low, "low"),
            ("Informational", Secured, "informational (counted as secured; unverified)"),
            ("None", Secured, "no risk (Intune: Clear)"),
            ("Clear", Secured, "Intune's word for no machine risk"),
        ]),
        fields: Fields {
            device: strs(&[
                "machineId",
                "mdeDeviceId",
                "deviceId",
                "evidence.0.mdeDeviceId",
                "devices.0.mdeDeviceId",
                "device.id",
                "id",
            ]),
            threat_id: strs(&["alertId", "id", "incidentId"]),
            classification: strs(&["category", "threatFamilyName", "title"]),
            severity: strs(&["severity", "alertSeverity"]),
            status: strs(&["status"]),
        },
        inactive: strs(&["Resolved", "resolved"]),
        device_status: Some(DeviceStatus {
            status: strs(&["riskScore", "deviceRiskScore", "riskLevel"]),
            levels: vec![
                ("None".into(), Secured),
                ("Informational".into(), Secured),
                ("Low".into(), Low),
                ("Medium".into(), Medium),
                ("High".into(), High),
            ],
        }),
        wrappers: strs(&["value", "alerts", "machines"]),
        ..PartnerSpec::default()
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new(
        "defender",
        "0.1.0",
        "Microsoft Defender for Endpoint alerts and machine risk to Intune levels",
    )
    .with_partner("Microsoft Defender for Endpoint")
    .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(Defender, info(), spec(), variants: &[]);
