//! Jamf Mobile Threat Defense (Jamf Security Cloud; connector "Wandera") →
//! Intune levels.
//!
//! Events carry a category id; the category's default severity applies
//! unless the event carries its own. HIGHEST and HIGH → high, MEDIUM →
//! medium, LOW and LOWEST → low, INFO → secured; numeric severities 5..1 are
//! read as HIGHEST..LOWEST (that correspondence is unverified). Jamf's own
//! device-risk algorithm is proprietary: a device record with `riskLevel`
//! (Secure/Low/Medium/High) sets the level directly. DEVICE_APP_INACTIVITY is
//! log-only by default and does not count (`not-affecting-risk` replaces
//! that list). Resolved events do not count; Blocked ones still do.
use mtd_sdk::partner::{severities, strs, DeviceStatus, Fields, PartnerSpec};
use mtd_sdk::prelude::*;

/// Category ids and their default severities.
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

pub fn spec() -> PartnerSpec {
    use ThreatLevel::*;
    PartnerSpec {
        partner: "Jamf".into(),
        severities: severities(&[
            ("HIGHEST", High, "most severe"),
            ("HIGH", High, "severe"),
            ("MEDIUM", Medium, "medium"),
            ("LOW", Low, "low"),
            ("LOWEST", Low, "least severe that still counts"),
            ("INFO", Secured, "informational; the device stays secured"),
            ("5", High, "numeric 5 (HIGHEST, unverified)"),
            ("4", High, "numeric 4 (HIGH, unverified)"),
            ("3", Medium, "numeric 3 (MEDIUM, unverified)"),
            ("2", Low, "numeric 2 (LOW, unverified)"),
            ("1", Low, "numeric 1 (LOWEST, unverified)"),
        ]),
        fields: Fields {
            device: strs(&[
                "device.deviceId",
                "device.externalId",
                "deviceId",
                "device_id",
                "device.id",
                "externalId",
            ]),
            threat_id: strs(&["eventId", "event.id", "id", "threatId"]),
            classification: strs(&[
                "category",
                "categoryId",
                "event.category",
                "event.type.id",
                "type.id",
                "threatCategory",
            ]),
            severity: strs(&["severity", "event.severity", "risk"]),
            status: strs(&["action", "event.action", "state", "status"]),
        },
        inactive: strs(&["RESOLVED", "Resolved", "DISMISSED"]),
        classification_severity: CATEGORIES.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect(),
        log_only: strs(&["DEVICE_APP_INACTIVITY"]),
        device_status: Some(DeviceStatus {
            status: strs(&["riskLevel", "deviceRisk", "risk_level", "device.riskLevel"]),
            levels: vec![
                ("SECURE".into(), Secured),
                ("LOW".into(), Low),
                ("MEDIUM".into(), Medium),
                ("HIGH".into(), High),
            ],
        }),
        wrappers: strs(&["events", "threats", "devices", "data", "records"]),
    }
}

/// What `mtdhost plugin inspect` shows.
pub fn info() -> PluginInfo {
    PluginInfo::new("jamf", "0.1.0", "Jamf Mobile Threat Defense events and device risk to Intune levels")
        .with_partner("Jamf Mobile Threat Defense")
        .with_capability(Capability::ThreatMapping)
}

mtd_sdk::partner_plugin!(Jamf, info(), spec(), variants: &[]);
