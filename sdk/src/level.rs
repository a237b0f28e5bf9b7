//! Intune threat levels: parsing, display and "highest level wins".
//!
//! The generated enum already orders `Secured < Low < Medium < High` (WIT
//! declaration order), which is exactly Intune's rule: a device is compliant
//! iff its level is at or under the policy's level.

use crate::ThreatLevel;

impl ThreatLevel {
    /// All levels, most secure first.
    pub const ALL: [ThreatLevel; 4] =
        [ThreatLevel::Secured, ThreatLevel::Low, ThreatLevel::Medium, ThreatLevel::High];

    /// Parses Intune's word for a level (case-insensitive).
    pub fn parse(word: &str) -> Option<ThreatLevel> {
        Self::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(word.trim()))
    }

    /// Intune's spelling, as in Graph's `deviceThreatProtectionLevel`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThreatLevel::Secured => "secured",
            ThreatLevel::Low => "low",
            ThreatLevel::Medium => "medium",
            ThreatLevel::High => "high",
        }
    }

    /// True if a device at `self` stays compliant under a policy requiring `max`.
    pub fn complies_with(self, max: ThreatLevel) -> bool {
        self <= max
    }

    /// The highest of a set of levels; `Secured` when there are none.
    pub fn highest(levels: impl IntoIterator<Item = ThreatLevel>) -> ThreatLevel {
        levels.into_iter().max().unwrap_or(ThreatLevel::Secured)
    }
}

impl std::fmt::Display for ThreatLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matches_intune() {
        assert!(ThreatLevel::Secured < ThreatLevel::Low);
        assert!(ThreatLevel::Low < ThreatLevel::Medium);
        assert!(ThreatLevel::Medium < ThreatLevel::High);
        assert!(ThreatLevel::Low.complies_with(ThreatLevel::Medium));
        assert!(!ThreatLevel::High.complies_with(ThreatLevel::Medium));
    }

    #[test]
    fn parse_and_highest() {
        assert_eq!(ThreatLevel::parse(" MEDIUM "), Some(ThreatLevel::Medium));
        assert_eq!(ThreatLevel::parse("elevated"), None);
        assert_eq!(ThreatLevel::highest([]), ThreatLevel::Secured);
        assert_eq!(
            ThreatLevel::highest([ThreatLevel::Low, ThreatLevel::High, ThreatLevel::Secured]),
            ThreatLevel::High
        );
    }
}
