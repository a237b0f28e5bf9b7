//! Microsoft Defender for Endpoint → Intune levels.
//!
//! Reads MDE alerts (`value[]` pages; device `machineId`; status New,
//! InProgress, Resolved; ordered by `lastUpdateTime`), MDE machines
//! (`riskScore` None/Informational/Low/Medium/High: the device's own level,
//! never a threat) and Graph `alerts_v2` (lower-camel enums; the device is
//! the `mdeDeviceId` of the `deviceEvidence` in `evidence[]`).
use mtd_sdk::partner::{severities, strs, threat_fields, Match, PartnerSpec, Shape};
use mtd_sdk::prelude::*;

const DEVICE_EVIDENCE: &str = "evidence[@odata.type=#microsoft.graph.security.deviceEvidence].mdeDeviceId";

fn shapes() -> Vec<Shape> {
    vec![
        Shape::threat(
            "Defender for Endpoint alert",
            vec![Match::has("machineId")],
            &["machineId"],
            threat_fields(
                &["id", "alertId"],
                &["category", "threatFamilyName", "title"],
                &["severity"],
                &["status"],
            ),
        )
        .timed(&["lastUpdateTime", "resolvedTime", "alertCreationTime"]),
        Shape::threat(
            "Graph security alert (alerts_v2)",
            vec![Match::has("evidence")],
            &[DEVICE_EVIDENCE, "evidence.*.mdeDeviceId"],
            threat_fields(&["id"], &["category", "title"], &["severity"], &["status"]),
        )
        .timed(&["lastUpdateDateTime", "resolvedDateTime", "createdDateTime"]),
        Shape::status(
            "Defender for Endpoint machine",
            vec![Match::has("riskScore"), Match::has("id")],
            &["id"],
            &["riskScore"],
        )
        .timed(&["lastSeen"]),
    ]
}

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Defender for Endpoint".into(),
        severities: severities(&[
            ("High", High, "alert severity High (vendor doc)"),
            ("Medium", Medium, "alert severity Medium (vendor doc)"),
            ("Low", Low, "alert severity Low (vendor doc)"),
            ("Informational", Secured, "informational leaves the device secured (vendor doc; Intune: unverified)"),
            (
                "UnSpecified",
                High,
                "no severity given: counted as high, the same fail-closed default as unknown values (our assumption)",
            ),
            ("unknown", High, "Graph's unknown severity: as UnSpecified (our assumption)"),
            ("unknownFutureValue", High, "Graph's sentinel for new values: as unknown (our assumption)"),
        ]),
        statuses: severities(&[
            ("None", Secured, "machine risk None = Intune Clear (vendor doc)"),
            ("Informational", Secured, "informational machine risk (vendor doc; secured: unverified)"),
            ("Low", Low, "machine risk Low (vendor doc)"),
            ("Medium", Medium, "machine risk Medium (vendor doc)"),
            ("High", High, "machine risk High (vendor doc)"),
            ("unknownFutureValue", High, "Graph's sentinel for new values: fail closed (our assumption)"),
        ]),
        inactive: strs(&["Resolved"]),
        active: strs(&["New", "InProgress", "Unknown", "unknownFutureValue"]),
        shapes: shapes(),
        wrappers: strs(&["value"]),
        ..PartnerSpec::default()
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new(
        "defender",
        "0.2.0",
        "Microsoft Defender for Endpoint alerts and machine risk to Intune levels",
    )
    .with_partner("Microsoft Defender for Endpoint")
    .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(Defender, info(), spec(), variants: &[]);
