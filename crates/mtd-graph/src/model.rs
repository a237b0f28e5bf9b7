//! Typed values of the Intune compliance surface: actions for
//! noncompliance, groups, MTD connectors (assignments are in
//! [`super::assignment`]). Policies themselves stay JSON objects checked
//! against [`super::schema`], since each of the seven types has its own few
//! dozen settings.
//!
//! Graph returns `null` for unset nullable properties (a beta connector's
//! `macEnabled`, an action's `notificationTemplateId`), so every reader here
//! takes null as "unset". A value of the wrong shape is never skipped: the
//! parsers return an error naming the field and the value.

use mtd_model::{ActionKind, PartnerState};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

pub(crate) use super::assignment::{assign_body, Assignment, Target};

/// Deserialises `null` as the type's default (Graph's "unset").
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The rule name Intune files every action under (actions are per policy).
pub(crate) const RULE_NAME: &str = "PasswordRequired";

/// An action type as Graph spells it (`deviceComplianceActionType`): one
/// mtdhost knows, or another Graph returned, kept verbatim so nothing read
/// is lost (the plan shows it; export says it cannot be expressed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActionType {
    /// A kind mtdhost writes.
    Known(ActionKind),
    /// Anything else (`noAction`, a member Graph adds later).
    Other(String),
}

impl ActionType {
    /// Graph's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ActionType::Known(k) => k.graph_name(),
            ActionType::Other(s) => s,
        }
    }

    /// The kind, if mtdhost knows it.
    pub fn kind(&self) -> Option<ActionKind> {
        match self {
            ActionType::Known(k) => Some(*k),
            ActionType::Other(_) => None,
        }
    }
}

impl From<&str> for ActionType {
    fn from(s: &str) -> Self {
        ActionKind::from_graph(s).map_or_else(|| ActionType::Other(s.to_string()), ActionType::Known)
    }
}

impl From<ActionKind> for ActionType {
    fn from(k: ActionKind) -> Self {
        ActionType::Known(k)
    }
}

impl std::fmt::Display for ActionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActionType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActionType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ActionType::from(String::deserialize(d)?.as_str()))
    }
}

/// One action for noncompliance (`deviceComplianceActionItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionItem {
    /// Graph's action type (`block`, `notification`, …).
    pub action_type: ActionType,
    /// Hours before the action is taken.
    #[serde(default)]
    pub grace_period_hours: u32,
    /// The notification message template (notification only).
    #[serde(default, deserialize_with = "null_as_default")]
    pub notification_template_id: String,
    /// Extra recipients: group ids (notification only).
    #[serde(default, rename = "notificationMessageCCList", deserialize_with = "null_as_default")]
    pub notification_message_cc_list: Vec<String>,
}

impl ActionItem {
    /// Block at once or after a grace period.
    pub fn block(grace_period_hours: u32) -> Self {
        ActionItem {
            action_type: ActionType::Known(ActionKind::Block),
            grace_period_hours,
            notification_template_id: String::new(),
            notification_message_cc_list: Vec::new(),
        }
    }

    /// A canonical form for comparison: Graph may return the template id as
    /// an all-zero GUID or empty for "none", and CC lists in any order.
    pub fn normalized(&self) -> ActionItem {
        let mut a = self.clone();
        if a.notification_template_id == "00000000-0000-0000-0000-000000000000" {
            a.notification_template_id.clear();
        }
        a.notification_message_cc_list.sort();
        a
    }
}

/// The `scheduledActionsForRule` value carrying `actions`.
pub(crate) fn scheduled_actions_json(actions: &[ActionItem]) -> Value {
    json!([{ "ruleName": RULE_NAME, "scheduledActionConfigurations": actions }])
}

impl ActionItem {
    /// Parses one `deviceComplianceActionItem`; Err names the field and value.
    pub fn from_graph(v: &Value) -> Result<ActionItem, String> {
        let field = |k: &str| v.get(k).unwrap_or(&Value::Null);
        let bad = |k: &str, want: &str| format!("field '{k}' has value {}; expected {want}", field(k));
        let action_type = field("actionType").as_str().ok_or_else(|| bad("actionType", "a string"))?;
        let grace_period_hours = match field("gracePeriodHours") {
            Value::Null => 0,
            n => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("gracePeriodHours", "a whole number"))?,
        };
        let notification_template_id = match field("notificationTemplateId") {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            _ => return Err(bad("notificationTemplateId", "a string or null")),
        };
        let notification_message_cc_list = match field("notificationMessageCCList") {
            Value::Null => Vec::new(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("notificationMessageCCList", "a list of group ids"))?,
            _ => return Err(bad("notificationMessageCCList", "a list of group ids or null")),
        };
        Ok(ActionItem {
            action_type: ActionType::from(action_type),
            grace_period_hours,
            notification_template_id,
            notification_message_cc_list,
        })
    }
}

/// Reads the actions out of an expanded policy: None when the expansion is
/// missing; each unreadable action is an Err naming its field and value.
pub(crate) fn actions_of(policy: &Value) -> Option<Vec<Result<ActionItem, String>>> {
    let rules = policy.get("scheduledActionsForRule")?.as_array()?;
    let mut out = Vec::new();
    for rule in rules {
        match rule.get("scheduledActionConfigurations") {
            Some(Value::Array(configs)) => out.extend(configs.iter().map(ActionItem::from_graph)),
            None | Some(Value::Null) => {}
            Some(other) => out.push(Err(format!("field 'scheduledActionConfigurations' has value {other}"))),
        }
    }
    Some(out)
}

/// An Entra ID group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The object id.
    pub id: String,
    /// Its display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub display_name: String,
    /// Whether it is a security group.
    #[serde(default)]
    pub security_enabled: Option<bool>,
}

/// An MTD connector (`mobileThreatDefenseConnector`). Unset (null) switches read as off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    /// The object id.
    pub id: String,
    /// The partner's state (`enabled`, `unresponsive`, …).
    pub partner_state: PartnerState,
    /// Android devices are evaluated.
    pub android_enabled: bool,
    /// iOS devices are evaluated.
    pub ios_enabled: bool,
    /// Windows devices are evaluated.
    pub windows_enabled: bool,
    /// Beta only.
    pub mac_enabled: bool,
    /// The partner's last heartbeat.
    pub last_heartbeat_date_time: Option<String>,
    /// Days without a heartbeat before the partner counts as unresponsive.
    pub partner_unresponsiveness_threshold_in_days: Option<i64>,
    /// Every property as Graph returned it, for planning connector settings.
    #[serde(skip)]
    pub raw: serde_json::Map<String, Value>,
}

impl Connector {
    /// Parses a connector. A field of the wrong shape reads as unset and is
    /// reported (connectors are not managed, so it is a warning, not an error);
    /// a connector without an id cannot be named and is an error.
    pub fn from_graph(v: &Value) -> Result<(Connector, Vec<String>), String> {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!("a connector has no id: field 'id' has value {}", v.get("id").unwrap_or(&Value::Null))
            })?
            .to_string();
        let mut problems = Vec::new();
        let mut flag = |k: &str| match v.get(k) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                problems.push(format!("connector {id}: field '{k}' has value {other}; read as off"));
                false
            }
        };
        let (android, ios, windows, mac) =
            (flag("androidEnabled"), flag("iosEnabled"), flag("windowsEnabled"), flag("macEnabled"));
        let mut text = |k: &str| match v.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                problems.push(format!("connector {id}: field '{k}' has value {other}; read as unset"));
                None
            }
        };
        let partner_state = text("partnerState").map(|s| PartnerState::from_graph(&s)).unwrap_or_default();
        let last_heartbeat_date_time = text("lastHeartbeatDateTime");
        let threshold = match v.get("partnerUnresponsivenessThresholdInDays") {
            None | Some(Value::Null) => None,
            Some(n) if n.is_i64() => n.as_i64(),
            Some(other) => {
                problems.push(format!(
                    "connector {id}: field 'partnerUnresponsivenessThresholdInDays' has value {other}; read as unset"
                ));
                None
            }
        };
        Ok((
            Connector {
                id,
                partner_state,
                android_enabled: android,
                ios_enabled: ios,
                windows_enabled: windows,
                mac_enabled: mac,
                last_heartbeat_date_time,
                partner_unresponsiveness_threshold_in_days: threshold,
                raw: v.as_object().cloned().unwrap_or_default(),
            },
            problems,
        ))
    }
}

/// Defender for Endpoint's connector id (the only one that is public).
pub const DEFENDER_CONNECTOR_ID: &str = "fc780465-2017-40d4-a0c5-307022471b92";
