//! Lookout (Mobile Endpoint Security, Mobile Risk API) → Intune levels.
//!
//! Threat severity NONE/LOW/MEDIUM/HIGH maps one to one (NONE is secured;
//! the console's "Moderate" is MEDIUM). Threats whose action is RESOLVED or
//! IGNORED do not count. Device records carry `securityStatus`
//! (SECURE, THREAT_LOW/MEDIUM/HIGH; the v2 spelling THREATS_* is accepted).
use mtd_sdk::partner::{severities, strs, DeviceStatus, Fields, PartnerSpec};
use mtd_sdk::prelude::*;

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Lookout".into(),
        severities: severities(&[
            ("NONE", Secured, "no risk; the device stays secured"),
            ("LOW", Low, "low risk"),
            ("MEDIUM", Medium, "medium risk"),
            ("MODERATE", Medium, "the console's word for MEDIUM"),
            ("HIGH", High, "high risk"),
        ]),
        fields: Fields {
            device: strs(&[
                "target.guid",
                "device.guid",
                "device_guid",
                "deviceGuid",
                "device.id",
                "device_id",
                "deviceId",
                "guid",
            ]),
            threat_id: strs(&["threat.guid", "threat.id", "threat_guid", "threatGuid", "details.guid", "id"]),
            classification: strs(&[
                "threat.classifications.0",
                "threat.classification",
                "details.classifications.0",
                "details.classification",
                "classifications.0",
                "classification",
                "threat.type",
                "details.type",
            ]),
            severity: strs(&["threat.severity", "details.severity", "severity", "risk"]),
            status: strs(&["threat.action", "details.action", "action", "threat.status", "status"]),
        },
        inactive: strs(&["RESOLVED", "IGNORED", "CLOSED"]),
        device_status: Some(DeviceStatus {
            status: strs(&[
                "details.securityStatus",
                "device.details.securityStatus",
                "securityStatus",
                "security_status",
            ]),
            levels: vec![
                ("SECURE".into(), ThreatLevel::Secured),
                ("THREAT_LOW".into(), ThreatLevel::Low),
                ("THREAT_MEDIUM".into(), ThreatLevel::Medium),
                ("THREAT_HIGH".into(), ThreatLevel::High),
                ("THREATS_LOW".into(), ThreatLevel::Low),
                ("THREATS_MEDIUM".into(), ThreatLevel::Medium),
                ("THREATS_HIGH".into(), ThreatLevel::High),
            ],
        }),
        wrappers: strs(&["events", "threats", "devices", "data"]),
        ..PartnerSpec::default()
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new("lookout", "0.1.0", "Lookout Mobile Risk API threats and device status to Intune levels")
        .with_partner("Lookout for Work")
        .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(Lookout, info(), spec(), variants: &[]);

#[cfg(test)]
mod tests {
    use super::*;

    fn map(raw: &str) -> MappingOutput {
        <Lookout as Plugin>::map_events(
            &mtd_sdk::partner::PartnerSettings::default(),
            EventBatch::from_raw(raw),
        )
        .unwrap()
    }

    #[test]
    fn v1_and_v2_spellings() {
        let out = map(concat!(
            r#"{"target":{"guid":"d1"},"threat":{"guid":"t1","classifications":["TROJAN"],"severity":"HIGH","action":"DETECTED"}}"#,
            "\n",
            r#"{"device":{"guid":"d2"},"threat":{"id":"t2","classification":"PHISHING","severity":"MEDIUM","status":"OPEN"}}"#,
            "\n",
            r#"{"guid":"d3","details":{"securityStatus":"THREATS_LOW"}}"#
        ));
        let levels: Vec<_> = out.devices.iter().map(|d| (d.device_id.as_str(), d.level)).collect();
        assert_eq!(
            levels,
            vec![("d1", ThreatLevel::High), ("d2", ThreatLevel::Medium), ("d3", ThreatLevel::Low)]
        );
    }
}
