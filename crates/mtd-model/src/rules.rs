//! The one table of rules Intune enforces on a compliance policy beyond each
//! property's own type: which API version has the policy type, its device
//! threat level, each setting and each action; exactly one block action; the
//! grace period's range; and, for MTD connectors, which properties a PATCH
//! may carry ([`check_connector`]).
//!
//! The config check, the desired-state pipeline, the Graph client and the
//! emulator all call [`check_policy`] or [`check_actions`] and only word the
//! [`Rule`]s broken for their audience (a config location and a hint, a
//! plugin's policy, a refused request, Graph's own error text), so the four
//! can never disagree on what a valid policy is.

use serde_json::Value;

use crate::action::ActionKind;
use crate::connector_settings::{check_connector_property, ConnectorViolation};
use crate::schema::{self, ApiVersion, PolicyType};

/// Intune's longest grace period for an action for noncompliance: one year.
pub const MAX_GRACE_PERIOD_HOURS: i64 = 8760;

/// One action for noncompliance, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionShape<'a> {
    /// Graph's spelling (`block`, `remoteLock`, …); unknown words are a [`Rule::UnknownAction`].
    pub action_type: &'a str,
    /// Hours before the action is taken.
    pub grace_period_hours: i64,
}

impl ActionShape<'_> {
    /// An action of a known kind.
    pub fn of(kind: ActionKind, grace_period_hours: i64) -> ActionShape<'static> {
        ActionShape { action_type: kind.graph_name(), grace_period_hours }
    }
}

/// A compliance policy, as the rules see it.
#[derive(Debug, Clone, Default)]
pub struct PolicyShape<'a> {
    /// The settings (Graph property name and value), threat level included or not.
    pub settings: Vec<(&'a str, &'a Value)>,
    /// Whether the policy requires a third-party MTD threat level.
    pub threat_level: bool,
    /// Its actions for noncompliance.
    pub actions: Vec<ActionShape<'a>>,
}

/// A rule a policy breaks. Indices point into [`PolicyShape::actions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The policy type exists only in a later API version.
    TypeNotInVersion {
        /// The policy type.
        ty: PolicyType,
        /// The lowest version that has it.
        since: ApiVersion,
    },
    /// The policy type has no third-party MTD threat level at all.
    NoThreatLevel {
        /// The policy type.
        ty: PolicyType,
    },
    /// The policy type's third-party MTD threat level exists only in a later version.
    ThreatLevelNotInVersion {
        /// The policy type.
        ty: PolicyType,
        /// The lowest version that has it.
        since: ApiVersion,
    },
    /// A setting Graph would refuse (unknown, beta-only, read-only, wrong type or value).
    Setting(schema::Violation),
    /// Intune requires exactly one block action.
    BlockActions {
        /// How many the policy has.
        found: usize,
    },
    /// An action type Graph does not have in this version at all.
    UnknownAction {
        /// Which action.
        index: usize,
        /// Its type as given.
        action_type: String,
    },
    /// An action that exists only in a later API version.
    ActionNotInVersion {
        /// Which action.
        index: usize,
        /// Its kind.
        kind: ActionKind,
        /// The lowest version that has it.
        since: ApiVersion,
    },
    /// A grace period outside 0 ..= [`MAX_GRACE_PERIOD_HOURS`].
    GracePeriod {
        /// Which action.
        index: usize,
        /// The hours given.
        hours: i64,
    },
    /// An MTD connector property Graph would refuse in a PATCH.
    Connector(ConnectorViolation),
    /// A conditional access policy body Graph would refuse (see
    /// [`crate::check_ca_body`]).
    ConditionalAccess(String),
}

/// Every rule `policy` of `ty` breaks in `version`, in a fixed order: the
/// type, its threat level, the settings in the order given, the block
/// count, then each action.
pub fn check_policy(ty: PolicyType, version: ApiVersion, policy: &PolicyShape<'_>) -> Vec<Rule> {
    let mut broken = check_settings(ty, version, policy.threat_level, &policy.settings);
    broken.extend(check_actions(version, &policy.actions));
    broken
}

/// The rules on the policy itself, without its actions (a PATCH of
/// settings): the type, its threat level (if `threat_level`), each setting.
pub fn check_settings(
    ty: PolicyType,
    version: ApiVersion,
    threat_level: bool,
    settings: &[(&str, &Value)],
) -> Vec<Rule> {
    let mut broken = Vec::new();
    let since = ty.min_version();
    if since > version {
        broken.push(Rule::TypeNotInVersion { ty, since });
    }
    if threat_level {
        match ty.mtd_level_version() {
            None => broken.push(Rule::NoThreatLevel { ty }),
            Some(since) if since > version => broken.push(Rule::ThreatLevelNotInVersion { ty, since }),
            Some(_) => {}
        }
    }
    for (name, value) in settings {
        if let Err(v) = schema::check_property(ty, version, name, value) {
            broken.push(Rule::Setting(v));
        }
    }
    broken
}

/// The rules on a policy's actions alone: exactly one block, each type
/// known in `version`, each grace period in range.
pub fn check_actions(version: ApiVersion, actions: &[ActionShape<'_>]) -> Vec<Rule> {
    let mut broken = Vec::new();
    let found = actions.iter().filter(|a| a.action_type == ActionKind::Block.graph_name()).count();
    if found != 1 {
        broken.push(Rule::BlockActions { found });
    }
    for (index, a) in actions.iter().enumerate() {
        match ActionKind::from_graph(a.action_type) {
            Some(kind) if kind.since() > version => {
                broken.push(Rule::ActionNotInVersion { index, kind, since: kind.since() })
            }
            Some(_) => {}
            // Graph's enum has `noAction` too; Intune ignores it.
            None if a.action_type == "noAction" => {}
            None => broken.push(Rule::UnknownAction { index, action_type: a.action_type.to_string() }),
        }
        if !(0..=MAX_GRACE_PERIOD_HOURS).contains(&a.grace_period_hours) {
            broken.push(Rule::GracePeriod { index, hours: a.grace_period_hours });
        }
    }
    broken
}

impl std::fmt::Display for Rule {
    /// A neutral wording; each entry point may word it for its audience.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::TypeNotInVersion { ty, since } => {
                write!(f, "{} exists only in the {} API", ty.type_name(), since.segment())
            }
            Rule::NoThreatLevel { ty } => write!(f, "{} has no device threat level", ty.type_name()),
            Rule::ThreatLevelNotInVersion { ty, since } => write!(
                f,
                "{} has its third-party MTD threat level only in the {} API",
                ty.type_name(),
                since.segment()
            ),
            Rule::Setting(v) => v.fmt(f),
            Rule::BlockActions { found } => {
                write!(f, "a compliance policy needs exactly one block action; this one has {found}")
            }
            Rule::UnknownAction { action_type, .. } => write!(f, "'{action_type}' is not an action type"),
            Rule::ActionNotInVersion { kind, since, .. } => {
                write!(f, "{} exists only in the Graph {} API", kind.key(), since.segment())
            }
            Rule::GracePeriod { hours, .. } => {
                write!(f, "grace period {hours} h is outside 0 to {MAX_GRACE_PERIOD_HOURS} h")
            }
            Rule::Connector(v) => v.fmt(f),
            Rule::ConditionalAccess(why) => f.write_str(why),
        }
    }
}

/// Every rule a PATCH of an MTD connector with `settings` breaks on
/// `version`, in the order given.
pub fn check_connector(version: ApiVersion, settings: &[(&str, &Value)]) -> Vec<Rule> {
    settings
        .iter()
        .filter_map(|(name, value)| check_connector_property(version, name, value).err())
        .map(Rule::Connector)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(hours: i64) -> ActionShape<'static> {
        ActionShape::of(ActionKind::Block, hours)
    }

    #[test]
    fn a_valid_policy_breaks_nothing() {
        let level = json!("low");
        let p = PolicyShape {
            settings: vec![("deviceThreatProtectionRequiredSecurityLevel", &level)],
            threat_level: true,
            actions: vec![block(0), ActionShape::of(ActionKind::Retire, MAX_GRACE_PERIOD_HOURS)],
        };
        assert_eq!(check_policy(PolicyType::Ios, ApiVersion::V1, &p), vec![]);
    }

    #[test]
    fn each_rule_fires() {
        let build = json!("21A329");
        let p = PolicyShape {
            settings: vec![("osMinimumBuildVersion", &build)],
            threat_level: true,
            actions: vec![
                ActionShape::of(ActionKind::RemoteLock, MAX_GRACE_PERIOD_HOURS + 1),
                ActionShape { action_type: "selfDestruct", grace_period_hours: -1 },
            ],
        };
        let broken = check_policy(PolicyType::Ios, ApiVersion::V1, &p);
        assert_eq!(
            broken,
            vec![
                Rule::Setting(schema::Violation::BetaOnly { property: "osMinimumBuildVersion".into() }),
                Rule::BlockActions { found: 0 },
                Rule::ActionNotInVersion { index: 0, kind: ActionKind::RemoteLock, since: ApiVersion::Beta },
                Rule::GracePeriod { index: 0, hours: 8761 },
                Rule::UnknownAction { index: 1, action_type: "selfDestruct".into() },
                Rule::GracePeriod { index: 1, hours: -1 },
            ]
        );
        let windows =
            PolicyShape { threat_level: true, actions: vec![block(0), block(1)], ..PolicyShape::default() };
        assert_eq!(
            check_policy(PolicyType::Windows10, ApiVersion::V1, &windows),
            vec![
                Rule::ThreatLevelNotInVersion { ty: PolicyType::Windows10, since: ApiVersion::Beta },
                Rule::BlockActions { found: 2 }
            ]
        );
        let aosp = PolicyShape { threat_level: true, actions: vec![block(0)], ..PolicyShape::default() };
        assert_eq!(
            check_policy(PolicyType::AospDeviceOwner, ApiVersion::V1, &aosp),
            vec![
                Rule::TypeNotInVersion { ty: PolicyType::AospDeviceOwner, since: ApiVersion::Beta },
                Rule::NoThreatLevel { ty: PolicyType::AospDeviceOwner },
            ]
        );
    }

    #[test]
    fn remote_lock_and_no_action_by_version() {
        let allowed = |version, action_type| {
            let actions = [block(0), ActionShape { action_type, grace_period_hours: 0 }];
            check_actions(version, &actions).is_empty()
        };
        assert!(!allowed(ApiVersion::V1, "remoteLock"));
        assert!(allowed(ApiVersion::Beta, "remoteLock"));
        assert!(allowed(ApiVersion::V1, "noAction"));
        assert!(!allowed(ApiVersion::Beta, "Block"), "Graph's enum words are case-sensitive");
    }
}
