//! Zimperium (zConsole MTD; also the engine behind Trellix and SentinelOne
//! Mobile) → Intune levels.
//!
//! Reads the MTD API threats (`content` pages, `deviceId`, `severity` int and
//! `severityName`, `state`, `timestamp` in ms) and devices (`riskPostureName`),
//! the Data Export V2 threat and mitigation logs (flat snake_case; the same
//! `threat_uuid` goes Pending → Resolved), and the legacy shapes: Sentinel v1
//! logs (`*_s`, `*_g`, `mitigated_b`), the webhook JSON (`device_info`,
//! `threat`, `mitigated`) and the v1 device API (`riskPostureCode`).
//! Critical/Elevated/Low/Normal map to high/medium/low/secured.
use mtd_sdk::partner::{severities, strs, threat_fields, Match, PartnerSpec, Shape, ThreatFields};
use mtd_sdk::prelude::*;

/// Variants sharing Zimperium's scale: named in messages.
pub const VARIANTS: &[&str] = &["zimperium", "trellix", "sentinelone"];

fn shapes() -> Vec<Shape> {
    let v2_log = ThreatFields {
        resolved_flag: Vec::new(),
        ..threat_fields(
            &["threat_uuid"],
            &["threat_name", "threat_display_name", "threat_category"],
            &["severity_name", "severity"],
            &["threat_status"],
        )
    };
    let legacy_sentinel = ThreatFields {
        resolved_flag: strs(&["mitigated_b"]),
        ..threat_fields(
            &["threat_uuid_g", "threat_uuid_s", "event_id_g", "event_id_s"],
            &["threat_name_s", "threat_type_name_s"],
            &["severity_name_s", "severity_d"],
            &["threat_status_s"],
        )
    };
    let webhook = ThreatFields {
        resolved_flag: strs(&["mitigated"]),
        ..threat_fields(
            &["event_id", "threat.uuid", "threat.id", "uuid"],
            &["threat.name", "threat.general.name", "threat_name"],
            &["severity_name", "severity"],
            &["threat_status"],
        )
    };
    vec![
        Shape::threat(
            "Zimperium MTD API threat",
            vec![Match::has("threatTypeName")],
            &["deviceId", "device.id"],
            threat_fields(
                &["id", "zeventId"],
                &["threatTypeName"],
                &["severityName", "severity"],
                &["state", "stateName"],
            ),
        )
        .timed(&["lastModified", "timestamp", "eventProcessedTimestamp"]),
        Shape::status(
            "Zimperium MTD API device",
            vec![Match::has("riskPostureName")],
            &["id", "deviceId", "zdeviceId"],
            &["riskPostureName", "riskPosture"],
        )
        .timed(&["lastSeen"]),
        Shape::status(
            "Zimperium v1 device (legacy)",
            vec![Match::has("riskPostureCode")],
            &["deviceId", "id", "zdeviceId"],
            &["riskPosture", "riskPostureCode"],
        )
        .timed(&["lastSeen"]),
        Shape::threat(
            "Zimperium Data Export V2 threat or mitigation log",
            vec![Match::has("threat_uuid")],
            &["device_id", "zdevice_id"],
            v2_log,
        )
        .timed(&["device_time", "event_time", "TimeGenerated"]),
        Shape::threat(
            "Zimperium Sentinel v1 log (legacy)",
            vec![Match::has("device_id_g")],
            &["device_id_g", "device_id_s", "zdevice_id_g"],
            legacy_sentinel,
        )
        .timed(&["device_time_d", "event_timestamp_t", "TimeGenerated"]),
        Shape::threat(
            "Zimperium webhook event (legacy)",
            vec![Match::has("device_info.device_id")],
            &["device_info.device_id", "device_info.zdevice_id"],
            webhook,
        )
        .timed(&["device_time", "timestamp", "event_timestamp"]),
        Shape::status(
            "Zimperium device risk posture (legacy)",
            vec![Match::has("risk_posture_name")],
            &["device_id", "zdevice_id"],
            &["risk_posture_name", "risk_posture"],
        )
        .timed(&["device_time"]),
    ]
}

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    let scale = |rows: &[(&str, ThreatLevel, &str)]| severities(rows);
    PartnerSpec {
        partner: "Zimperium".into(),
        severities: scale(&[
            ("CRITICAL", High, "zConsole Critical (vendor doc; mapping: integration)"),
            ("ELEVATED", Medium, "zConsole Elevated (vendor doc; mapping: integration)"),
            ("LOW", Low, "zConsole Low (vendor doc; mapping: integration)"),
            ("NORMAL", Secured, "zConsole Normal: no threat (vendor doc; mapping: integration)"),
            ("3", High, "numeric severity 3 = CRITICAL (integration sample data)"),
            ("2", Medium, "numeric severity 2 = ELEVATED (integration sample data)"),
            ("1", Low, "numeric severity 1 = LOW (our assumption, unverified)"),
            ("0", Secured, "numeric severity 0 = NORMAL (our assumption, unverified)"),
        ]),
        statuses: scale(&[
            ("CRITICAL", High, "risk posture Critical (integration sample data)"),
            ("ELEVATED", Medium, "risk posture Elevated (integration sample data)"),
            ("LOW", Low, "risk posture Low (our assumption, same scale)"),
            ("NORMAL", Secured, "risk posture Normal (integration sample data, v1 API)"),
            ("3", High, "riskPostureCode 3 (our assumption, same as severity)"),
            ("2", Medium, "riskPostureCode 2 (integration: riskPosture 2 = ELEVATED)"),
            ("1", Low, "riskPostureCode 1 (our assumption)"),
            ("0", Secured, "riskPostureCode 0 = Normal (integration sample data)"),
        ]),
        inactive: strs(&["Resolved", "MITIGATED", "DELETED", "INACTIVE", "IGNORED"]),
        active: strs(&["1", "Pending", "ACTIVE", "OPEN", "DETECTED"]),
        shapes: shapes(),
        wrappers: strs(&["content"]),
        ..PartnerSpec::default()
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new(
        "zimperium",
        "0.2.0",
        "Zimperium zConsole threats (also Trellix, SentinelOne Mobile) to Intune levels",
    )
    .with_partner("Zimperium")
    .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(Zimperium, info(), spec(), variants: VARIANTS);
