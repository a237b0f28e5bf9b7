//! Check Point Harmony Mobile → Intune levels.
//!
//! Reads alerts v3 (`objects[]` pages; `device_id` a string or an integer;
//! severity Critical/Warning/Information; `event` carries the lifecycle —
//! Ended and Removed end a threat) and `device_status` (`objects[]`; `risk`
//! as raw codes "0"–"3" or decoded High/Medium/Low/No Risk; the device is
//! `internal_id`). Alerts carry no id linking a detection to its end, so a
//! threat is identified by its device, attack vector and threat factors.
use mtd_sdk::partner::{severities, strs, threat_fields, Match, PartnerSpec, Shape, ThreatFields};
use mtd_sdk::prelude::*;

fn shapes() -> Vec<Shape> {
    vec![
        Shape::threat(
            "Check Point alert",
            vec![Match::has("device_id"), Match::has("severity")],
            &["device_id"],
            ThreatFields {
                threat_key: strs(&["attack_vector", "threat_factors"]),
                ..threat_fields(&[], &["threat_factors", "attack_vector"], &["severity"], &["event"])
            },
        )
        .timed(&["event_timestamp", "backend_last_updated"])
        .sequenced(&["id"]),
        Shape::status(
            "Check Point device status",
            vec![Match::has("risk")],
            &["internal_id", "device_id", "mdm_uuid"],
            &["risk"],
        )
        .timed(&["last_connection"]),
    ]
}

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Check Point Harmony Mobile".into(),
        severities: severities(&[
            ("Critical", High, "alert severity Critical (vendor doc; mapping: our assumption)"),
            ("Warning", Medium, "alert severity Warning (vendor doc; mapping: our assumption)"),
            (
                "Information",
                Secured,
                "alert severity Information: informational (vendor doc; mapping: our assumption)",
            ),
            ("High", High, "High (Device Alert) risk level (vendor doc; mapping unverified)"),
            ("High (Device Alert)", High, "alerts the device (vendor doc)"),
            ("Medium", Medium, "medium risk (vendor doc)"),
            ("Medium (Device Alert)", Medium, "alerts the device (vendor doc)"),
            ("Medium (No Device Alert)", Medium, "no device alert (vendor doc)"),
            ("Medium (Dismissive Device Alert)", Medium, "dismissible device alert (vendor doc)"),
            ("Low", Low, "low risk (vendor doc)"),
            ("No Risk", Secured, "no risk (vendor doc)"),
            ("Off", Secured, "detection off (vendor doc)"),
        ]),
        statuses: severities(&[
            ("3", High, "raw risk code 3 = High (integration)"),
            ("2", Medium, "raw risk code 2 = Medium (integration)"),
            ("1", Low, "raw risk code 1 = Low (integration)"),
            ("0", Secured, "raw risk code 0 = No Risk (integration)"),
            ("High", High, "decoded risk (integration); Intune mapping unverified"),
            ("Medium", Medium, "decoded risk (integration)"),
            ("Low", Low, "decoded risk (integration)"),
            ("No Risk", Secured, "decoded risk (integration)"),
        ]),
        inactive: strs(&["Ended", "Removed", "Compliant", "Resolved"]),
        active: strs(&[
            "Detected",
            "Blocked",
            "Noncompliant",
            "Active",
            "Installed",
            "Policy changed",
            "Inactive",
            "Disconnected",
        ]),
        shapes: shapes(),
        wrappers: strs(&["objects"]),
        ..PartnerSpec::default()
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new(
        "checkpoint",
        "0.2.0",
        "Check Point Harmony Mobile alerts and device risk to Intune levels",
    )
    .with_partner("Check Point Harmony Mobile")
    .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(CheckPoint, info(), spec(), variants: &[]);
