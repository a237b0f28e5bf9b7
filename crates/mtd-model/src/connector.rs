//! MTD connector states (Graph's `mobileThreatPartnerTenantState`).

/// Where a partner's MTD connector stands. Graph's v1.0 members, the ones
/// beta adds, and whatever else Graph returns, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartnerState {
    /// The partner is not set up.
    Unavailable,
    /// Set up, not yet enabled.
    Available,
    /// Sending device states: the only state in which levels reach Intune.
    Enabled,
    /// No heartbeat within the connector's threshold.
    Unresponsive,
    /// Beta: the connector was never set up.
    NotSetUp,
    /// Beta: the connector is in error.
    Error,
    /// A member this version of mtdhost does not know (`unknownFutureValue`, …).
    Other(String),
}

impl PartnerState {
    /// Graph's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            PartnerState::Unavailable => "unavailable",
            PartnerState::Available => "available",
            PartnerState::Enabled => "enabled",
            PartnerState::Unresponsive => "unresponsive",
            PartnerState::NotSetUp => "notSetUp",
            PartnerState::Error => "error",
            PartnerState::Other(s) => s,
        }
    }

    /// Parses Graph's spelling; anything unknown is kept as [`PartnerState::Other`].
    pub fn from_graph(s: &str) -> PartnerState {
        match s {
            "unavailable" => PartnerState::Unavailable,
            "available" => PartnerState::Available,
            "enabled" => PartnerState::Enabled,
            "unresponsive" => PartnerState::Unresponsive,
            "notSetUp" => PartnerState::NotSetUp,
            "error" => PartnerState::Error,
            other => PartnerState::Other(other.to_string()),
        }
    }
}

impl Default for PartnerState {
    /// Graph gave no state: unknown, never guessed as one of the members.
    fn default() -> Self {
        PartnerState::Other(String::new())
    }
}

impl std::fmt::Display for PartnerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so tables can align it with `{:<13}`.
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for PartnerState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for PartnerState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips_and_unknown_ones_are_kept() {
        for word in
            ["unavailable", "available", "enabled", "unresponsive", "notSetUp", "error", "unknownFutureValue"]
        {
            assert_eq!(PartnerState::from_graph(word).as_str(), word);
        }
        assert_eq!(
            PartnerState::from_graph("neverConfigured"),
            PartnerState::Other("neverConfigured".into())
        );
        assert_eq!(format!("[{:<9}]", PartnerState::Enabled), "[enabled  ]");
        assert_eq!(PartnerState::default().as_str(), "", "a missing state is not read as a member");
    }
}
