//! The platforms a config names, each one Intune compliance policy type.

use serde::{Deserialize, Serialize};

use crate::schema::PolicyType;

/// A platform in the config's spelling (`ios`, `android-work-profile`, …);
/// each becomes one Intune policy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// iOS/iPadOS.
    Ios,
    /// Android device administrator (deprecated by Google and Intune).
    Android,
    /// Android Enterprise personally-owned work profile.
    AndroidWorkProfile,
    /// Android Enterprise fully managed, dedicated and corporate-owned work profile.
    AndroidDeviceOwner,
    /// macOS.
    Macos,
    /// Windows 10 and later.
    Windows,
    /// Android (AOSP) device owner.
    Aosp,
}

impl Platform {
    /// The Intune policy type for this platform.
    pub fn policy_type(self) -> PolicyType {
        match self {
            Platform::Ios => PolicyType::Ios,
            Platform::Android => PolicyType::Android,
            Platform::AndroidWorkProfile => PolicyType::AndroidWorkProfile,
            Platform::AndroidDeviceOwner => PolicyType::AndroidDeviceOwner,
            Platform::Macos => PolicyType::MacOs,
            Platform::Windows => PolicyType::Windows10,
            Platform::Aosp => PolicyType::AospDeviceOwner,
        }
    }

    /// The platform of an Intune policy type.
    pub fn from_policy_type(t: PolicyType) -> Platform {
        match t {
            PolicyType::Ios => Platform::Ios,
            PolicyType::Android => Platform::Android,
            PolicyType::AndroidWorkProfile => Platform::AndroidWorkProfile,
            PolicyType::AndroidDeviceOwner => Platform::AndroidDeviceOwner,
            PolicyType::MacOs => Platform::Macos,
            PolicyType::Windows10 => Platform::Windows,
            PolicyType::AospDeviceOwner => Platform::Aosp,
        }
    }

    /// The suffix in policy names and the word in messages.
    pub fn label(self) -> &'static str {
        match self {
            Platform::Ios => "iOS",
            Platform::Android => "Android",
            Platform::AndroidWorkProfile => "Android Work Profile",
            Platform::AndroidDeviceOwner => "Android Device Owner",
            Platform::Macos => "macOS",
            Platform::Windows => "Windows",
            Platform::Aosp => "AOSP",
        }
    }

    /// The config spelling.
    pub fn key(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::AndroidWorkProfile => "android-work-profile",
            Platform::AndroidDeviceOwner => "android-device-owner",
            Platform::Macos => "macos",
            Platform::Windows => "windows",
            Platform::Aosp => "aosp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_type_has_exactly_one_platform() {
        for t in PolicyType::ALL {
            assert_eq!(Platform::from_policy_type(t).policy_type(), t);
        }
    }
}
