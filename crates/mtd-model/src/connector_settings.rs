//! What Graph accepts in a PATCH of an MTD connector
//! (`mobileThreatDefenseConnector`): each writable property, its value type
//! and the API version that has it.
//!
//! Connectors are set up by the partner's console and only ever updated by
//! mtdhost, so there is no create body: only this list of switches. The
//! read-only properties (`id`, `partnerState`, `lastHeartbeatDateTime`) are
//! refused by name — the Graph docs' own PATCH example sends two of them.

use serde_json::Value;

use crate::platform::Platform;
use crate::schema::ApiVersion;

/// The value a connector property takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorValue {
    /// `Edm.Boolean`.
    Bool,
    /// `Edm.Int32`.
    Int32,
}

/// One writable connector property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectorProperty {
    /// Graph's property name, exactly (note `IOS` and `Ios` both occur).
    pub name: &'static str,
    /// Its value type.
    pub value: ConnectorValue,
    /// The lowest API version that has it.
    pub since: ApiVersion,
}

const fn prop(name: &'static str, value: ConnectorValue, since: ApiVersion) -> ConnectorProperty {
    ConnectorProperty { name, value, since }
}

use ApiVersion::{Beta, V1};
use ConnectorValue::{Bool, Int32};

/// Every writable property, v1.0 first. Partner information the beta SDK
/// also lists (`partnerDisplayName`, `partnerSupports…`) is the partner's,
/// never sent, and so not here.
pub const CONNECTOR_PROPERTIES: &[ConnectorProperty] = &[
    prop("androidEnabled", Bool, V1),
    prop("iosEnabled", Bool, V1),
    prop("windowsEnabled", Bool, V1),
    prop("androidDeviceBlockedOnMissingPartnerData", Bool, V1),
    prop("iosDeviceBlockedOnMissingPartnerData", Bool, V1),
    prop("windowsDeviceBlockedOnMissingPartnerData", Bool, V1),
    prop("androidMobileApplicationManagementEnabled", Bool, V1),
    prop("iosMobileApplicationManagementEnabled", Bool, V1),
    prop("partnerUnsupportedOsVersionBlocked", Bool, V1),
    prop("partnerUnresponsivenessThresholdInDays", Int32, V1),
    prop("allowPartnerToCollectIOSApplicationMetadata", Bool, V1),
    prop("allowPartnerToCollectIOSPersonalApplicationMetadata", Bool, V1),
    prop("microsoftDefenderForEndpointAttachEnabled", Bool, V1),
    prop("macEnabled", Bool, Beta),
    prop("macDeviceBlockedOnMissingPartnerData", Bool, Beta),
    prop("windowsMobileApplicationManagementEnabled", Bool, Beta),
    prop("allowPartnerToCollectIosCertificateMetadata", Bool, Beta),
    prop("allowPartnerToCollectIosPersonalCertificateMetadata", Bool, Beta),
    prop("grantMobileThreatDefensePartnerRole", Bool, Beta),
    prop("launchMobileThreatDefensePartnerOnSetupEnabled", Bool, Beta),
];

/// Set by Intune or the partner, never by a PATCH.
pub const CONNECTOR_READ_ONLY: &[&str] = &["id", "partnerState", "lastHeartbeatDateTime"];

/// The writable property called `name` (exact spelling).
pub fn connector_property(name: &str) -> Option<&'static ConnectorProperty> {
    CONNECTOR_PROPERTIES.iter().find(|p| p.name == name)
}

/// The connector-level switches a config names by platform, per platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorSwitch {
    /// Devices of the platform are evaluated by the partner.
    Enabled,
    /// Devices are noncompliant while the partner has no data on them.
    BlockOnMissingPartnerData,
    /// App protection policies use the partner's assessment (MAM).
    AppProtection,
}

impl ConnectorSwitch {
    /// The Graph property for `platform`, if the connector has one for it.
    /// Every Android flavour shares the connector's one Android switch.
    pub fn property(self, platform: Platform) -> Option<&'static str> {
        use ConnectorSwitch::*;
        let name = match (self, connector_platform(platform)) {
            (Enabled, ConnectorPlatform::Android) => "androidEnabled",
            (Enabled, ConnectorPlatform::Ios) => "iosEnabled",
            (Enabled, ConnectorPlatform::Windows) => "windowsEnabled",
            (Enabled, ConnectorPlatform::Macos) => "macEnabled",
            (BlockOnMissingPartnerData, ConnectorPlatform::Android) => {
                "androidDeviceBlockedOnMissingPartnerData"
            }
            (BlockOnMissingPartnerData, ConnectorPlatform::Ios) => "iosDeviceBlockedOnMissingPartnerData",
            (BlockOnMissingPartnerData, ConnectorPlatform::Windows) => {
                "windowsDeviceBlockedOnMissingPartnerData"
            }
            (BlockOnMissingPartnerData, ConnectorPlatform::Macos) => "macDeviceBlockedOnMissingPartnerData",
            (AppProtection, ConnectorPlatform::Android) => "androidMobileApplicationManagementEnabled",
            (AppProtection, ConnectorPlatform::Ios) => "iosMobileApplicationManagementEnabled",
            (AppProtection, ConnectorPlatform::Windows) => "windowsMobileApplicationManagementEnabled",
            (AppProtection, ConnectorPlatform::Macos) => return None,
        };
        Some(name)
    }
}

/// The four platforms a connector has switches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorPlatform {
    /// Every Android flavour.
    Android,
    /// iOS and iPadOS.
    Ios,
    /// Windows.
    Windows,
    /// macOS.
    Macos,
}

impl ConnectorPlatform {
    /// All four, in config order.
    pub const ALL: [ConnectorPlatform; 4] = [
        ConnectorPlatform::Android,
        ConnectorPlatform::Ios,
        ConnectorPlatform::Windows,
        ConnectorPlatform::Macos,
    ];

    /// The config spelling.
    pub fn key(self) -> &'static str {
        match self {
            ConnectorPlatform::Android => "android",
            ConnectorPlatform::Ios => "ios",
            ConnectorPlatform::Windows => "windows",
            ConnectorPlatform::Macos => "macos",
        }
    }

    /// A platform of this connector platform, for [`ConnectorSwitch::property`].
    pub fn platform(self) -> Platform {
        match self {
            ConnectorPlatform::Android => Platform::Android,
            ConnectorPlatform::Ios => Platform::Ios,
            ConnectorPlatform::Windows => Platform::Windows,
            ConnectorPlatform::Macos => Platform::Macos,
        }
    }
}

/// The connector platform whose switches apply to devices of `platform`.
pub fn connector_platform(platform: Platform) -> ConnectorPlatform {
    match platform {
        Platform::Ios => ConnectorPlatform::Ios,
        Platform::Android | Platform::AndroidWorkProfile | Platform::AndroidDeviceOwner | Platform::Aosp => {
            ConnectorPlatform::Android
        }
        Platform::Windows => ConnectorPlatform::Windows,
        Platform::Macos => ConnectorPlatform::Macos,
    }
}

/// Why Graph would refuse a connector property in a PATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorViolation {
    /// Not a connector property (perhaps mis-cased).
    Unknown {
        /// The name given.
        name: String,
    },
    /// Set by Intune or the partner.
    ReadOnly {
        /// The name given.
        name: String,
    },
    /// The property exists only in a later version.
    NotInVersion {
        /// The property.
        name: String,
        /// The lowest version that has it.
        since: ApiVersion,
    },
    /// The value is not of the property's type.
    WrongType {
        /// The property.
        name: String,
        /// What it takes.
        expected: ConnectorValue,
        /// What was given.
        found: Value,
    },
}

impl std::fmt::Display for ConnectorViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectorViolation::Unknown { name } => {
                write!(f, "'{name}' is not a property of mobileThreatDefenseConnector")
            }
            ConnectorViolation::ReadOnly { name } => {
                write!(
                    f,
                    "'{name}' is read-only on mobileThreatDefenseConnector (set by Intune or the partner)"
                )
            }
            ConnectorViolation::NotInVersion { name, since } => {
                write!(
                    f,
                    "'{name}' exists only in Graph {} for mobileThreatDefenseConnector",
                    since.segment()
                )
            }
            ConnectorViolation::WrongType { name, expected, found } => {
                let what = match expected {
                    ConnectorValue::Bool => "true or false",
                    ConnectorValue::Int32 => "a 32-bit integer",
                };
                write!(f, "'{name}' takes {what}, not {found}")
            }
        }
    }
}

/// Whether `name = value` may be sent in a connector PATCH on `version`.
pub fn check_connector_property(
    version: ApiVersion,
    name: &str,
    value: &Value,
) -> Result<(), ConnectorViolation> {
    if CONNECTOR_READ_ONLY.contains(&name) {
        return Err(ConnectorViolation::ReadOnly { name: name.to_string() });
    }
    let Some(p) = connector_property(name) else {
        return Err(ConnectorViolation::Unknown { name: name.to_string() });
    };
    if p.since > version {
        return Err(ConnectorViolation::NotInVersion { name: name.to_string(), since: p.since });
    }
    let fits = match p.value {
        ConnectorValue::Bool => value.is_boolean(),
        ConnectorValue::Int32 => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
    };
    if !fits {
        return Err(ConnectorViolation::WrongType {
            name: name.to_string(),
            expected: p.value,
            found: value.clone(),
        });
    }
    Ok(())
}

/// The lowest API version on which every property in `names` can be sent.
pub fn connector_version<'a>(names: impl IntoIterator<Item = &'a str>) -> ApiVersion {
    names.into_iter().filter_map(connector_property).map(|p| p.since).max().unwrap_or(ApiVersion::V1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_are_checked_by_name_version_and_type() {
        assert_eq!(check_connector_property(V1, "iosEnabled", &json!(true)), Ok(()));
        assert_eq!(check_connector_property(V1, "partnerUnresponsivenessThresholdInDays", &json!(7)), Ok(()));
        assert!(matches!(
            check_connector_property(V1, "macEnabled", &json!(true)),
            Err(ConnectorViolation::NotInVersion { since: Beta, .. })
        ));
        assert_eq!(check_connector_property(Beta, "macEnabled", &json!(true)), Ok(()));
        assert!(matches!(
            check_connector_property(Beta, "IosEnabled", &json!(true)),
            Err(ConnectorViolation::Unknown { .. })
        ));
        for name in CONNECTOR_READ_ONLY {
            assert!(matches!(
                check_connector_property(Beta, name, &json!("x")),
                Err(ConnectorViolation::ReadOnly { .. })
            ));
        }
        assert!(check_connector_property(V1, "iosEnabled", &Value::Null).is_err(), "null is not a boolean");
        assert!(check_connector_property(V1, "partnerUnresponsivenessThresholdInDays", &json!(1u64 << 31))
            .is_err());
        assert!(check_connector_property(V1, "partnerUnresponsivenessThresholdInDays", &json!(7.5)).is_err());
    }

    #[test]
    fn every_switch_names_a_known_property_and_versions_follow_the_newest() {
        use Platform::*;
        for platform in [Ios, Android, AndroidWorkProfile, AndroidDeviceOwner, Macos, Windows, Aosp] {
            for switch in [
                ConnectorSwitch::Enabled,
                ConnectorSwitch::BlockOnMissingPartnerData,
                ConnectorSwitch::AppProtection,
            ] {
                if let Some(name) = switch.property(platform) {
                    assert!(connector_property(name).is_some(), "{name}");
                }
            }
        }
        assert_eq!(connector_version(["iosEnabled", "androidEnabled"]), V1);
        assert_eq!(connector_version(["iosEnabled", "macEnabled"]), Beta);
        assert_eq!(connector_version([]), V1);
    }
}
