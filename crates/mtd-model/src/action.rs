//! Actions for noncompliance (Graph's `deviceComplianceActionType`).

use serde::{Deserialize, Serialize};

use crate::schema::ApiVersion;

/// An action Intune takes on a noncompliant device. The config spells them
/// in kebab-case (`remote-lock`), Graph in camelCase (`remoteLock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// Mark the device noncompliant (every policy has exactly one).
    Block,
    /// Email the user, from a notification message template.
    Notification,
    /// Push a notification to the Company Portal app.
    PushNotification,
    /// Retire the device.
    Retire,
    /// Wipe the device.
    Wipe,
    /// Remove resource access profiles.
    RemoveResourceAccessProfiles,
    /// Lock the device remotely (Graph beta only).
    RemoteLock,
}

impl ActionKind {
    /// Every kind, in the order Graph's enum lists them.
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Block,
        ActionKind::Notification,
        ActionKind::PushNotification,
        ActionKind::Retire,
        ActionKind::Wipe,
        ActionKind::RemoveResourceAccessProfiles,
        ActionKind::RemoteLock,
    ];

    /// Graph's `deviceComplianceActionType` spelling.
    pub fn graph_name(self) -> &'static str {
        match self {
            ActionKind::Block => "block",
            ActionKind::Notification => "notification",
            ActionKind::PushNotification => "pushNotification",
            ActionKind::Retire => "retire",
            ActionKind::Wipe => "wipe",
            ActionKind::RemoveResourceAccessProfiles => "removeResourceAccessProfiles",
            ActionKind::RemoteLock => "remoteLock",
        }
    }

    /// The config spelling.
    pub fn key(self) -> &'static str {
        match self {
            ActionKind::Block => "block",
            ActionKind::Notification => "notification",
            ActionKind::PushNotification => "push-notification",
            ActionKind::Retire => "retire",
            ActionKind::Wipe => "wipe",
            ActionKind::RemoveResourceAccessProfiles => "remove-resource-access-profiles",
            ActionKind::RemoteLock => "remote-lock",
        }
    }

    /// Parses Graph's spelling.
    pub fn from_graph(s: &str) -> Option<ActionKind> {
        Self::ALL.into_iter().find(|k| k.graph_name() == s)
    }

    /// The lowest API version that has this action.
    pub fn since(self) -> ApiVersion {
        match self {
            ActionKind::RemoteLock => ApiVersion::Beta,
            _ => ApiVersion::V1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::from_graph(k.graph_name()), Some(k));
            let toml_word: ActionKind = serde_json::from_value(serde_json::json!(k.key())).unwrap();
            assert_eq!(toml_word, k);
        }
    }
}
