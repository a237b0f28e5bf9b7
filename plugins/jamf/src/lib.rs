//! Jamf Mobile Threat Defense (Jamf Security Cloud, ex-Wandera) → Intune levels.
//!
//! Reads the Threat Events Stream (`{"event":{…}}`: device in
//! `event.device.deviceId`, integer severity 2/4/6/8/10 in `event.severity`,
//! `event.action` Detected/Blocked, `event.eventType` with an id that is an
//! integer or a string) and the Risk API device risk (v1 `records[]` with
//! `risk`, v2 `userDeviceList[]` with `riskCategory`; SECURE, LOW, MEDIUM,
//! HIGH, NOT_APPLICABLE). A stream threat is identified by its event type on
//! its device (the stream has no id linking a detection to a later
//! resolution); records without a severity take their category's default.
use mtd_sdk::partner::{severities, strs, threat_fields, Match, PartnerSpec, Shape};
use mtd_sdk::prelude::*;

/// Jamf's categories and their default severities (policy API), for records
/// that carry a category but no severity.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("ACCESS_PHISHING_HOST", "HIGHEST"),
    ("APP_LEAK_CREDIT_CARD", "HIGH"),
    ("APP_LEAK_PASSWORD", "MEDIUM"),
    ("APP_LEAK_EMAIL", "LOW"),
    ("APP_LEAK_USERID", "LOW"),
    ("APP_LEAK_LOCATION", "LOW"),
    ("ACCESS_BAD_HOST", "HIGH"),
    ("ACCESS_CRYPTOJACKING_HOST", "MEDIUM"),
    ("ACCESS_SPAM_HOST", "MEDIUM"),
    ("RISKY_APP_DOWNLOAD", "LOW"),
    ("APP_MALICIOUS", "HIGHEST"),
    ("SPYWARE", "HIGHEST"),
    ("TROJAN_MALWARE", "HIGHEST"),
    ("RANSOMWARE", "HIGHEST"),
    ("BANKER_MALWARE", "HIGHEST"),
    ("SMS_MALWARE", "HIGHEST"),
    ("ADWARE", "HIGHEST"),
    ("ROOTING_MALWARE_APP_IN_INVENTORY", "HIGHEST"),
    ("APP_POTENTIALLY_UNWANTED_APP_IN_INVENTORY", "MEDIUM"),
    ("APP_ADMIN_APP_IN_INVENTORY", "MEDIUM"),
    ("APP_SIDE_LOADED_APP_IN_INVENTORY", "MEDIUM"),
    ("APP_THIRD_PARTY_APP_STORES_IN_INVENTORY", "LOW"),
    ("APP_VULNERABLE_APP_IN_INVENTORY", "LOW"),
    ("CERTIFICATE_SSL_TRUST_COMPROMISE", "HIGHEST"),
    ("NETWORK_ACCESS_POINT_SSL_MITM_TRUSTED_VALID_CERT", "HIGHEST"),
    ("NETWORK_ACCESS_POINT_SSL_MITM_UNTRUSTED_VALID_CERT", "HIGH"),
    ("NETWORK_ACCESS_POINT_SSL_STRIP_MITM", "HIGHEST"),
    ("RISKY_HOTSPOT", "MEDIUM"),
    ("OS_JAILBREAK", "HIGHEST"),
    ("OS_OUTDATED_OS", "HIGH"),
    ("OS_OUTDATED_OS_LOW", "MEDIUM"),
    ("OS_OUT_OF_DATE_OS", "LOW"),
    ("DEVICE_APP_INACTIVITY", "MEDIUM"),
    ("DEVICE_STORAGE_ENCRYPTION_DISABLED", "MEDIUM"),
    ("DEVICE_LOCK_SCREEN_DISABLED", "MEDIUM"),
    ("IOS_PROFILE", "MEDIUM"),
    ("DEVICE_MISSING_ANDROID_SECURITY_PATCHES", "LOW"),
    ("DEVICE_UNKNOWN_SOURCES_ENABLED", "LOW"),
    ("DEVICE_USB_APP_VERIFICATION_DISABLED", "LOW"),
    ("DEVICE_USER_PASSWORD_DISABLED", "LOW"),
    ("DEVICE_DEVELOPER_MODE_ENABLED", "LOWEST"),
    ("DEVICE_USB_DEBUGGING_ENABLED", "LOWEST"),
    ("DEVICE_ANTIVIRUS_DISABLED", "MEDIUM"),
    ("DEVICE_FIREWALL_DISABLED", "MEDIUM"),
];

fn shapes() -> Vec<Shape> {
    vec![
        Shape::threat(
            "Jamf Threat Events Stream event",
            vec![Match::has("event.device")],
            &["event.device.deviceId", "event.device.externalId"],
            threat_fields(
                &["event.eventType.name", "event.eventType.id", "event.alertId"],
                &["event.eventType.name", "event.eventType.description"],
                &["event.severity"],
                &["event.action"],
            ),
        )
        .timed(&["event.timestamp"]),
        Shape::status(
            "Jamf Risk API v2 device",
            vec![Match::has("riskCategory")],
            &["guid", "deviceId"],
            &["riskCategory"],
        ),
        Shape::status(
            "Jamf Risk API v1 device",
            vec![Match::has("risk")],
            &["deviceId", "externalId"],
            &["risk"],
        ),
    ]
}

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Jamf".into(),
        severities: severities(&[
            ("10", High, "stream severity 10 (Jamf's Sentinel parser: High)"),
            ("8", High, "stream severity 8 (Jamf's Sentinel parser: High)"),
            ("6", Medium, "stream severity 6 (Jamf's Sentinel parser: Medium)"),
            ("4", Low, "stream severity 4 (Jamf's Sentinel parser: Low)"),
            (
                "2",
                Secured,
                "stream severity 2 (Jamf's Sentinel parser: Informational; Intune: info leaves the device secured)",
            ),
            ("HIGHEST", High, "policy severity, category defaults (vendor doc)"),
            ("HIGH", High, "policy severity (vendor doc)"),
            ("MEDIUM", Medium, "policy severity (vendor doc)"),
            ("LOW", Low, "policy severity (vendor doc)"),
            ("LOWEST", Low, "least severe that still counts (our assumption)"),
            ("INFO", Secured, "informational; the device stays secured (vendor doc)"),
        ]),
        statuses: severities(&[
            ("SECURE", Secured, "device risk Secure (vendor doc)"),
            ("LOW", Low, "device risk Low (vendor doc)"),
            ("MEDIUM", Medium, "device risk Medium (vendor doc)"),
            ("HIGH", High, "device risk High (vendor doc)"),
            (
                "NOT_APPLICABLE",
                Secured,
                "no risk calculated for the device (AWS Verified Access doc); secured (our assumption)",
            ),
        ]),
        inactive: strs(&["Resolved", "Dismissed"]),
        active: strs(&["Detected", "Blocked"]),
        classification_severity: CATEGORIES.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect(),
        log_only: strs(&["DEVICE_APP_INACTIVITY"]),
        shapes: shapes(),
        wrappers: strs(&["records", "userDeviceList", "events"]),
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new("jamf", "0.2.0", "Jamf Mobile Threat Defense events and device risk to Intune levels")
        .with_partner("Jamf Mobile Threat Defense")
        .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(Jamf, info(), spec(), variants: &[]);
