//! Lookout (Mobile Endpoint Security, Mobile Risk API) → Intune levels.
//!
//! Reads the documented shapes of both API versions: v1 `/events` pages
//! (`{"events":[…]}`, THREAT and DEVICE events, device in `target.id`,
//! lifecycle in `details.action`, ordered by `eventTime` then the numeric
//! event `id`), and v2 stream items (SSE `data:` pages or JSON Lines; THREAT
//! items with `threat.status`, DEVICE items whose
//! `device.status.security_status` is the device's level, AUDIT items read
//! and skipped). Severity NONE/LOW/MEDIUM/HIGH maps one to one; ADVISORY
//! (v2 only, in no vendor table) is secured by our decision, configurable.
use mtd_sdk::partner::{severities, strs, threat_fields, Match, PartnerSpec, Shape};
use mtd_sdk::prelude::*;

/// Where the device is in a v2 THREAT item: the actor when it is a device,
/// else the target (every real sample has `target.guid == actor.guid`).
const V2_DEVICE: &[&str] = &["actor[type=DEVICE].guid", "target[type=DEVICE].guid", "target.guid"];

fn shapes() -> Vec<Shape> {
    let v1 = |t: &str| vec![Match::is("type", &[t]), Match::has("details")];
    let v2 = |t: &str, key: &str| vec![Match::is("type", &[t]), Match::has(key)];
    vec![
        Shape::threat(
            "Lookout v1 THREAT event",
            v1("THREAT"),
            &["target.id", "target.guid"],
            threat_fields(
                &["details.id"],
                &["details.classifications.0", "details.assessments.0.classification", "details.type"],
                &["details.severity", "details.assessments.0.severity"],
                &["details.action"],
            ),
        )
        .timed(&["eventTime"])
        .sequenced(&["id"]),
        Shape::status(
            "Lookout v1 DEVICE event",
            v1("DEVICE"),
            &["target.id", "target.guid"],
            &["details.securityStatus", "parentDetails.securityStatus"],
        )
        .timed(&["eventTime"])
        .sequenced(&["id"]),
        Shape::threat(
            "Lookout v2 THREAT item",
            v2("THREAT", "threat"),
            V2_DEVICE,
            threat_fields(
                &["threat.guid"],
                &["threat.classifications.0", "threat.assessments.0.classification", "threat.type"],
                &["threat.severity"],
                &["threat.status"],
            ),
        )
        .timed(&["created_time"]),
        Shape::status(
            "Lookout v2 DEVICE item",
            v2("DEVICE", "device"),
            &["device.guid", "target.guid", "actor[type=DEVICE].guid"],
            &["device.status.security_status"],
        )
        .timed(&["created_time"]),
        Shape::skip(
            "Lookout AUDIT",
            vec![Match::is("type", &["AUDIT"])],
            "audit records are console changes, not threats or device status",
        ),
    ]
}

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Lookout".into(),
        severities: severities(&[
            ("NONE", Secured, "no risk; the device stays secured (vendor doc)"),
            ("LOW", Low, "low risk (vendor doc)"),
            ("MEDIUM", Medium, "medium risk (vendor doc)"),
            ("MODERATE", Medium, "the console's word for MEDIUM (vendor doc)"),
            ("HIGH", High, "high risk (vendor doc)"),
            (
                "ADVISORY",
                Secured,
                "v2 notices (out-of-date ASPL, paused PCP, port scan, vulnerability); in no vendor mapping table — secured (our assumption)",
            ),
        ]),
        statuses: severities(&[
            ("SECURE", Secured, "no active threats (vendor doc)"),
            ("THREAT_LOW", Low, "highest active threat low (vendor doc)"),
            ("THREAT_MEDIUM", Medium, "highest active threat medium (vendor doc)"),
            ("THREAT_HIGH", High, "highest active threat high (vendor doc)"),
            ("THREATS_LOW", Low, "v2 spelling seen only in community integrations (integration, unverified)"),
            ("THREATS_MEDIUM", Medium, "v2 spelling seen only in community integrations (integration, unverified)"),
            ("THREATS_HIGH", High, "v2 spelling seen only in community integrations (integration, unverified)"),
        ]),
        inactive: strs(&["RESOLVED", "IGNORED"]),
        active: strs(&["DETECTED", "OPEN"]),
        shapes: shapes(),
        wrappers: strs(&["events"]),
        ..PartnerSpec::default()
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new("lookout", "0.2.0", "Lookout Mobile Risk API threats and device status to Intune levels")
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
    fn v1_lifecycle_out_of_order() {
        let out = map(concat!(
            r#"{"events":["#,
            r#"{"type":"THREAT","id":"12","eventTime":"2024-01-02T00:00:00Z","changeType":"UPDATED","target":{"type":"DEVICE","id":"d1"},"details":{"id":"t1","action":"RESOLVED","severity":"HIGH"}},"#,
            r#"{"type":"THREAT","id":"11","eventTime":"2024-01-01T00:00:00Z","changeType":"CREATED","target":{"type":"DEVICE","id":"d1"},"details":{"id":"t1","action":"DETECTED","severity":"HIGH"}}"#,
            "]}"
        ));
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(out.devices[0].level, ThreatLevel::Secured);
        assert_eq!(out.threats.len(), 1);
    }

    #[test]
    fn v2_device_item_is_a_status_not_a_threat() {
        let out = map(
            r#"{"id":"x","type":"DEVICE","change_type":"UPDATED","device":{"guid":"d2","status":{"security_status":"SECURE"}},"target":{"guid":"d2","type":"DEVICE"}}"#,
        );
        assert!(out.threats.is_empty());
        assert_eq!(out.statuses.len(), 1);
        assert_eq!(out.devices[0].level, ThreatLevel::Secured);
    }
}
