//! What Graph accepts on each compliance policy type, per API version.
//!
//! Written from Microsoft Graph's v1.0 CSDL and the beta type mappings
//! (msgraph-metadata, 2026-08). The client validates payloads against these
//! tables before sending, and the emulator enforces the same tables on what it
//! receives, so a payload Graph would reject never leaves mtdhost, and a test
//! against the emulator means something.
//!
//! Beta-only properties whose types the beta mappings do not give are typed by
//! their documented meaning; beta-only enums whose members are not in the
//! mappings accept any string (`Kind::Text`) rather than guess members.

use serde_json::Value;

/// Graph API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiVersion {
    /// `v1.0`, the supported API.
    V1,
    /// `beta`, where Intune's newer properties and types live.
    Beta,
}

impl ApiVersion {
    /// The path segment: `v1.0` or `beta`.
    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
    /// Parses a path segment.
    pub fn from_segment(s: &str) -> Option<Self> {
        match s {
            "v1.0" => Some(ApiVersion::V1),
            "beta" => Some(ApiVersion::Beta),
            _ => None,
        }
    }
}

/// The compliance policy types mtdhost manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyType {
    /// `androidCompliancePolicy` (device administrator).
    Android,
    /// `androidWorkProfileCompliancePolicy`.
    AndroidWorkProfile,
    /// `androidDeviceOwnerCompliancePolicy` (beta only).
    AndroidDeviceOwner,
    /// `iosCompliancePolicy`.
    Ios,
    /// `macOSCompliancePolicy`.
    MacOs,
    /// `windows10CompliancePolicy`.
    Windows10,
    /// `aospDeviceOwnerCompliancePolicy` (beta only).
    AospDeviceOwner,
}

impl PolicyType {
    /// Every type mtdhost manages.
    pub const ALL: [PolicyType; 7] = [
        PolicyType::Android,
        PolicyType::AndroidWorkProfile,
        PolicyType::AndroidDeviceOwner,
        PolicyType::Ios,
        PolicyType::MacOs,
        PolicyType::Windows10,
        PolicyType::AospDeviceOwner,
    ];

    /// The entity type name, e.g. `iosCompliancePolicy`.
    pub fn type_name(self) -> &'static str {
        match self {
            PolicyType::Android => "androidCompliancePolicy",
            PolicyType::AndroidWorkProfile => "androidWorkProfileCompliancePolicy",
            PolicyType::AndroidDeviceOwner => "androidDeviceOwnerCompliancePolicy",
            PolicyType::Ios => "iosCompliancePolicy",
            PolicyType::MacOs => "macOSCompliancePolicy",
            PolicyType::Windows10 => "windows10CompliancePolicy",
            PolicyType::AospDeviceOwner => "aospDeviceOwnerCompliancePolicy",
        }
    }

    /// The `@odata.type` value.
    pub fn odata_type(self) -> String {
        format!("#microsoft.graph.{}", self.type_name())
    }

    /// Parses `#microsoft.graph.X` or `microsoft.graph.X` or `X`.
    pub fn from_odata_type(s: &str) -> Option<Self> {
        let name = s.trim_start_matches('#').trim_start_matches("microsoft.graph.");
        Self::ALL.into_iter().find(|t| t.type_name() == name)
    }

    /// The lowest API version that has this type.
    pub fn min_version(self) -> ApiVersion {
        match self {
            PolicyType::AndroidDeviceOwner | PolicyType::AospDeviceOwner => ApiVersion::Beta,
            _ => ApiVersion::V1,
        }
    }

    /// The lowest API version where the third-party MTD level
    /// (`deviceThreatProtectionRequiredSecurityLevel`) exists, if any.
    pub fn mtd_level_version(self) -> Option<ApiVersion> {
        self.property("deviceThreatProtectionRequiredSecurityLevel").map(|p| p.since)
    }

    /// The lowest API version where Defender for Endpoint's risk level
    /// (`advancedThreatProtectionRequiredSecurityLevel`) exists, if any.
    pub fn defender_level_version(self) -> Option<ApiVersion> {
        self.property("advancedThreatProtectionRequiredSecurityLevel").map(|p| p.since)
    }

    /// A writable property of this type (own or inherited).
    pub fn property(self, name: &str) -> Option<&'static Property> {
        self.properties().find(|p| p.name == name)
    }

    /// All writable properties (base first).
    pub fn properties(self) -> impl Iterator<Item = &'static Property> {
        BASE.iter().chain(self.own().iter().flat_map(|table| table.iter()))
    }

    fn own(self) -> &'static [&'static [Property]] {
        match self {
            PolicyType::Android => &[ANDROID_COMMON, ANDROID],
            PolicyType::AndroidWorkProfile => &[ANDROID_COMMON, ANDROID_WORK_PROFILE],
            PolicyType::AndroidDeviceOwner => &[ANDROID_DEVICE_OWNER],
            PolicyType::Ios => &[IOS],
            PolicyType::MacOs => &[MACOS],
            PolicyType::Windows10 => &[WINDOWS10],
            PolicyType::AospDeviceOwner => &[AOSP],
        }
    }
}

/// What values a property takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Edm.Boolean`.
    Bool,
    /// `Edm.Int32`.
    Int32,
    /// `Edm.String`.
    Str,
    /// A string from a closed set.
    Enum(&'static [&'static str]),
    /// A string whose allowed values the schema facts do not list.
    Text,
    /// A collection of strings.
    StringList,
    /// A complex value (object or collection of objects) passed through.
    Complex,
}

/// One writable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    /// Graph's property name.
    pub name: &'static str,
    /// What values it takes.
    pub kind: Kind,
    /// First API version that has it.
    pub since: ApiVersion,
}

/// Defaults of beta-only enums the schema types as `Kind::Text`: each
/// enum's member 0 (androidRequiredPasswordComplexity, androidSafetyNetEvaluationType,
/// androidDeviceOwnerRequiredPasswordType, macOSGatekeeperAppSources).
const TEXT_DEFAULTS: &[(&str, &str)] = &[
    ("requiredPasswordComplexity", "none"),
    ("workProfileRequiredPasswordComplexity", "none"),
    ("securityRequiredAndroidSafetyNetEvaluationType", "basic"),
    ("workProfilePasswordRequiredType", "deviceDefault"),
    ("passwordRequiredType", "deviceDefault"),
    ("gatekeeperAllowedAppSource", "notConfigured"),
];

/// `roleScopeTagIds` of an object with only the built-in Default scope tag.
pub const DEFAULT_SCOPE_TAGS: &[&str] = &["0"];

impl Property {
    /// Intune's value for the property when nothing sets it: false, the
    /// enum's member 0, null for nullable strings, numbers and complex
    /// values, the Default scope tag. None where it is not known.
    pub fn default_value(&self) -> Option<Value> {
        Some(match self.kind {
            Kind::Bool => Value::Bool(false),
            Kind::Enum(members) => Value::String(members.first()?.to_string()),
            Kind::Text => Value::String(TEXT_DEFAULTS.iter().find(|(n, _)| *n == self.name)?.1.to_string()),
            Kind::StringList if self.name == "roleScopeTagIds" => {
                Value::Array(DEFAULT_SCOPE_TAGS.iter().map(|s| Value::String(s.to_string())).collect())
            }
            Kind::StringList => Value::Array(Vec::new()),
            Kind::Int32 | Kind::Str | Kind::Complex => Value::Null,
        })
    }
}

/// Properties Graph computes; never sent on POST or PATCH.
pub const READ_ONLY: &[&str] = &["id", "createdDateTime", "lastModifiedDateTime", "version"];

/// `deviceThreatProtectionLevel` members (v1.0).
pub const THREAT_LEVELS: &[&str] = &["unavailable", "secured", "low", "medium", "high", "notSet"];
const ANDROID_PASSWORD: &[&str] = &[
    "deviceDefault",
    "alphabetic",
    "alphanumeric",
    "alphanumericWithSymbols",
    "lowSecurityBiometric",
    "numeric",
    "numericComplex",
    "any",
];
const PASSWORD: &[&str] = &["deviceDefault", "alphanumeric", "numeric"];

macro_rules! props {
    ($($name:literal : $kind:expr, $since:ident;)*) => {
        &[$(Property { name: $name, kind: $kind, since: ApiVersion::$since }),*]
    };
}

use Kind::*;
const LEVEL: Kind = Enum(THREAT_LEVELS);

const BASE: &[Property] = props! {
    "displayName": Str, V1;
    "description": Str, V1;
    "roleScopeTagIds": StringList, Beta;
};

/// What Android device administrator and work profile policies share.
const ANDROID_COMMON: &[Property] = props! {
    "deviceThreatProtectionEnabled": Bool, V1;
    "deviceThreatProtectionRequiredSecurityLevel": LEVEL, V1;
    "advancedThreatProtectionRequiredSecurityLevel": LEVEL, Beta;
    "minAndroidSecurityPatchLevel": Str, V1;
    "osMaximumVersion": Str, V1;
    "osMinimumVersion": Str, V1;
    "passwordExpirationDays": Int32, V1;
    "passwordMinimumLength": Int32, V1;
    "passwordMinutesOfInactivityBeforeLock": Int32, V1;
    "passwordPreviousPasswordBlockCount": Int32, V1;
    "passwordRequired": Bool, V1;
    "passwordRequiredType": Enum(ANDROID_PASSWORD), V1;
    "securityBlockJailbrokenDevices": Bool, V1;
    "securityDisableUsbDebugging": Bool, V1;
    "securityPreventInstallAppsFromUnknownSources": Bool, V1;
    "securityRequireCompanyPortalAppIntegrity": Bool, V1;
    "securityRequireGooglePlayServices": Bool, V1;
    "securityRequireSafetyNetAttestationBasicIntegrity": Bool, V1;
    "securityRequireSafetyNetAttestationCertifiedDevice": Bool, V1;
    "securityRequireUpToDateSecurityProviders": Bool, V1;
    "securityRequireVerifyApps": Bool, V1;
    "storageRequireEncryption": Bool, V1;
    "passwordSignInFailureCountBeforeFactoryReset": Int32, Beta;
    "requiredPasswordComplexity": Text, Beta;
};

const ANDROID: &[Property] = props! {
    "conditionStatementId": Str, Beta;
    "restrictedApps": Complex, Beta;
    "securityBlockDeviceAdministratorManagedDevices": Bool, Beta;
};

const ANDROID_WORK_PROFILE: &[Property] = props! {
    "securityRequiredAndroidSafetyNetEvaluationType": Text, Beta;
    "workProfileInactiveBeforeScreenLockInMinutes": Int32, Beta;
    "workProfilePasswordExpirationInDays": Int32, Beta;
    "workProfilePasswordMinimumLength": Int32, Beta;
    "workProfilePasswordRequiredType": Text, Beta;
    "workProfilePreviousPasswordBlockCount": Int32, Beta;
    "workProfileRequiredPasswordComplexity": Text, Beta;
    "workProfileRequirePassword": Bool, Beta;
};

const ANDROID_DEVICE_OWNER: &[Property] = props! {
    "deviceThreatProtectionEnabled": Bool, Beta;
    "deviceThreatProtectionRequiredSecurityLevel": LEVEL, Beta;
    "advancedThreatProtectionRequiredSecurityLevel": LEVEL, Beta;
    "minAndroidSecurityPatchLevel": Str, Beta;
    "osMaximumVersion": Str, Beta;
    "osMinimumVersion": Str, Beta;
    "passwordExpirationDays": Int32, Beta;
    "passwordMinimumLength": Int32, Beta;
    "passwordMinimumLetterCharacters": Int32, Beta;
    "passwordMinimumLowerCaseCharacters": Int32, Beta;
    "passwordMinimumNonLetterCharacters": Int32, Beta;
    "passwordMinimumNumericCharacters": Int32, Beta;
    "passwordMinimumSymbolCharacters": Int32, Beta;
    "passwordMinimumUpperCaseCharacters": Int32, Beta;
    "passwordMinutesOfInactivityBeforeLock": Int32, Beta;
    "passwordPreviousPasswordCountToBlock": Int32, Beta;
    "passwordRequired": Bool, Beta;
    "passwordRequiredType": Text, Beta;
    "requireNoPendingSystemUpdates": Bool, Beta;
    "securityBlockJailbrokenDevices": Bool, Beta;
    "securityRequiredAndroidSafetyNetEvaluationType": Text, Beta;
    "securityRequireIntuneAppIntegrity": Bool, Beta;
    "securityRequireSafetyNetAttestationBasicIntegrity": Bool, Beta;
    "securityRequireSafetyNetAttestationCertifiedDevice": Bool, Beta;
    "storageRequireEncryption": Bool, Beta;
};

const IOS: &[Property] = props! {
    "deviceThreatProtectionEnabled": Bool, V1;
    "deviceThreatProtectionRequiredSecurityLevel": LEVEL, V1;
    "advancedThreatProtectionRequiredSecurityLevel": LEVEL, Beta;
    "managedEmailProfileRequired": Bool, V1;
    "osMaximumVersion": Str, V1;
    "osMinimumVersion": Str, V1;
    "passcodeBlockSimple": Bool, V1;
    "passcodeExpirationDays": Int32, V1;
    "passcodeMinimumCharacterSetCount": Int32, V1;
    "passcodeMinimumLength": Int32, V1;
    "passcodeMinutesOfInactivityBeforeLock": Int32, V1;
    "passcodePreviousPasscodeBlockCount": Int32, V1;
    "passcodeRequired": Bool, V1;
    "passcodeRequiredType": Enum(PASSWORD), V1;
    "securityBlockJailbrokenDevices": Bool, V1;
    "osMaximumBuildVersion": Str, Beta;
    "osMinimumBuildVersion": Str, Beta;
    "passcodeMinutesOfInactivityBeforeScreenTimeout": Int32, Beta;
    "restrictedApps": Complex, Beta;
};

const MACOS: &[Property] = props! {
    "deviceThreatProtectionEnabled": Bool, V1;
    "deviceThreatProtectionRequiredSecurityLevel": LEVEL, V1;
    "advancedThreatProtectionRequiredSecurityLevel": LEVEL, Beta;
    "firewallBlockAllIncoming": Bool, V1;
    "firewallEnabled": Bool, V1;
    "firewallEnableStealthMode": Bool, V1;
    "osMaximumVersion": Str, V1;
    "osMinimumVersion": Str, V1;
    "passwordBlockSimple": Bool, V1;
    "passwordExpirationDays": Int32, V1;
    "passwordMinimumCharacterSetCount": Int32, V1;
    "passwordMinimumLength": Int32, V1;
    "passwordMinutesOfInactivityBeforeLock": Int32, V1;
    "passwordPreviousPasswordBlockCount": Int32, V1;
    "passwordRequired": Bool, V1;
    "passwordRequiredType": Enum(PASSWORD), V1;
    "storageRequireEncryption": Bool, V1;
    "systemIntegrityProtectionEnabled": Bool, V1;
    "deviceCompliancePolicyScript": Complex, Beta;
    "gatekeeperAllowedAppSource": Text, Beta;
    "osMaximumBuildVersion": Str, Beta;
    "osMinimumBuildVersion": Str, Beta;
};

const WINDOWS10: &[Property] = props! {
    "bitLockerEnabled": Bool, V1;
    "codeIntegrityEnabled": Bool, V1;
    "earlyLaunchAntiMalwareDriverEnabled": Bool, V1;
    "mobileOsMaximumVersion": Str, V1;
    "mobileOsMinimumVersion": Str, V1;
    "osMaximumVersion": Str, V1;
    "osMinimumVersion": Str, V1;
    "passwordBlockSimple": Bool, V1;
    "passwordExpirationDays": Int32, V1;
    "passwordMinimumCharacterSetCount": Int32, V1;
    "passwordMinimumLength": Int32, V1;
    "passwordMinutesOfInactivityBeforeLock": Int32, V1;
    "passwordPreviousPasswordBlockCount": Int32, V1;
    "passwordRequired": Bool, V1;
    "passwordRequiredToUnlockFromIdle": Bool, V1;
    "passwordRequiredType": Enum(PASSWORD), V1;
    "requireHealthyDeviceReport": Bool, V1;
    "secureBootEnabled": Bool, V1;
    "storageRequireEncryption": Bool, V1;
    "deviceThreatProtectionEnabled": Bool, Beta;
    "deviceThreatProtectionRequiredSecurityLevel": LEVEL, Beta;
    "activeFirewallRequired": Bool, Beta;
    "antiSpywareRequired": Bool, Beta;
    "antivirusRequired": Bool, Beta;
    "configurationManagerComplianceRequired": Bool, Beta;
    "defenderEnabled": Bool, Beta;
    "defenderVersion": Str, Beta;
    "deviceCompliancePolicyScript": Complex, Beta;
    "firmwareProtectionEnabled": Bool, Beta;
    "kernelDmaProtectionEnabled": Bool, Beta;
    "memoryIntegrityEnabled": Bool, Beta;
    "rtpEnabled": Bool, Beta;
    "signatureOutOfDate": Bool, Beta;
    "tpmRequired": Bool, Beta;
    "validOperatingSystemBuildRanges": Complex, Beta;
    "virtualizationBasedSecurityEnabled": Bool, Beta;
    "wslDistributions": Complex, Beta;
};

const AOSP: &[Property] = props! {
    "minAndroidSecurityPatchLevel": Str, Beta;
    "osMaximumVersion": Str, Beta;
    "osMinimumVersion": Str, Beta;
    "passwordMinimumLength": Int32, Beta;
    "passwordMinutesOfInactivityBeforeLock": Int32, Beta;
    "passwordRequired": Bool, Beta;
    "passwordRequiredType": Text, Beta;
    "securityBlockJailbrokenDevices": Bool, Beta;
    "storageRequireEncryption": Bool, Beta;
};

/// Why a property value is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// No such property on the type at all.
    Unknown {
        /// The property name.
        property: String,
    },
    /// The property exists only in beta.
    BetaOnly {
        /// The property name.
        property: String,
    },
    /// Computed by Graph.
    ReadOnly {
        /// The property name.
        property: String,
    },
    /// Wrong JSON type.
    WrongType {
        /// The property name.
        property: String,
        /// What it must be, in words.
        expected: &'static str,
    },
    /// An enum value outside the schema.
    BadEnum {
        /// The property name.
        property: String,
        /// The value given.
        value: String,
        /// The enum's members.
        allowed: &'static [&'static str],
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Unknown { property } => {
                write!(f, "'{property}' is not a property of this policy type")
            }
            Violation::BetaOnly { property } => write!(f, "'{property}' exists only in the beta API"),
            Violation::ReadOnly { property } => write!(f, "'{property}' is read-only"),
            Violation::WrongType { property, expected } => write!(f, "'{property}' must be {expected}"),
            Violation::BadEnum { property, value, allowed } => {
                write!(f, "'{value}' is not a valid {property} (allowed: {})", allowed.join(", "))
            }
        }
    }
}

/// Checks one property value of `ty` for `version`.
pub fn check_property(
    ty: PolicyType,
    version: ApiVersion,
    name: &str,
    value: &Value,
) -> Result<(), Violation> {
    let property = name.to_string();
    if READ_ONLY.contains(&name) {
        return Err(Violation::ReadOnly { property });
    }
    let Some(p) = ty.property(name) else {
        return Err(Violation::Unknown { property });
    };
    if p.since > version {
        return Err(Violation::BetaOnly { property });
    }
    if value.is_null() {
        return Ok(());
    }
    let wrong = |expected| Err(Violation::WrongType { property: name.to_string(), expected });
    match p.kind {
        Kind::Bool if !value.is_boolean() => wrong("true or false"),
        Kind::Int32 if value.as_i64().is_none_or(|n| i32::try_from(n).is_err()) => wrong("a 32-bit integer"),
        Kind::Str | Kind::Text if !value.is_string() => wrong("a string"),
        Kind::StringList if !value.as_array().is_some_and(|a| a.iter().all(Value::is_string)) => {
            wrong("a list of strings")
        }
        Kind::Complex if !(value.is_object() || value.is_array()) => wrong("an object or a list of objects"),
        Kind::Enum(allowed) => match value.as_str() {
            Some(v) if allowed.contains(&v) => Ok(()),
            Some(v) => Err(Violation::BadEnum { property, value: v.to_string(), allowed }),
            None => wrong("a string"),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn version_rules() {
        assert_eq!(PolicyType::Ios.mtd_level_version(), Some(ApiVersion::V1));
        assert_eq!(PolicyType::Windows10.mtd_level_version(), Some(ApiVersion::Beta));
        assert_eq!(PolicyType::AndroidDeviceOwner.min_version(), ApiVersion::Beta);
        assert_eq!(PolicyType::AospDeviceOwner.mtd_level_version(), None);
        assert_eq!(PolicyType::Ios.defender_level_version(), Some(ApiVersion::Beta));
        assert_eq!(PolicyType::Windows10.defender_level_version(), None);
    }

    #[test]
    fn checks() {
        let ios = PolicyType::Ios;
        assert!(check_property(ios, ApiVersion::V1, "passcodeRequired", &json!(true)).is_ok());
        assert!(matches!(
            check_property(ios, ApiVersion::V1, "passwordRequired", &json!(true)),
            Err(Violation::Unknown { .. })
        ));
        assert!(matches!(
            check_property(ios, ApiVersion::V1, "osMinimumBuildVersion", &json!("1")),
            Err(Violation::BetaOnly { .. })
        ));
        assert!(check_property(ios, ApiVersion::Beta, "osMinimumBuildVersion", &json!("1")).is_ok());
        assert!(matches!(
            check_property(
                ios,
                ApiVersion::V1,
                "deviceThreatProtectionRequiredSecurityLevel",
                &json!("severe")
            ),
            Err(Violation::BadEnum { .. })
        ));
        assert!(matches!(
            check_property(ios, ApiVersion::V1, "passcodeMinimumLength", &json!("6")),
            Err(Violation::WrongType { .. })
        ));
        assert!(matches!(
            check_property(ios, ApiVersion::V1, "version", &json!(3)),
            Err(Violation::ReadOnly { .. })
        ));
        assert_eq!(
            PolicyType::from_odata_type("#microsoft.graph.macOSCompliancePolicy"),
            Some(PolicyType::MacOs)
        );
    }
}
