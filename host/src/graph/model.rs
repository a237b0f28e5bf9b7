//! Typed values of the Intune compliance surface: actions for
//! noncompliance, assignment targets, groups, MTD connectors. Policies
//! themselves stay JSON objects checked against [`super::schema`], since
//! each of the seven types has its own few dozen settings.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The rule name Intune files every action under (actions are per policy).
pub const RULE_NAME: &str = "PasswordRequired";

/// One action for noncompliance (`deviceComplianceActionItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionItem {
    pub action_type: String,
    #[serde(default)]
    pub grace_period_hours: u32,
    #[serde(default)]
    pub notification_template_id: String,
    #[serde(default, rename = "notificationMessageCCList")]
    pub notification_message_cc_list: Vec<String>,
}

impl ActionItem {
    /// Block at once or after a grace period.
    pub fn block(grace_period_hours: u32) -> Self {
        ActionItem {
            action_type: "block".into(),
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
pub fn scheduled_actions_json(actions: &[ActionItem]) -> Value {
    json!([{ "ruleName": RULE_NAME, "scheduledActionConfigurations": actions }])
}

/// Reads the actions out of an expanded policy, if the expansion is there.
pub fn actions_of(policy: &Value) -> Option<Vec<ActionItem>> {
    let rules = policy.get("scheduledActionsForRule")?.as_array()?;
    let mut out = Vec::new();
    for rule in rules {
        if let Some(configs) = rule.get("scheduledActionConfigurations").and_then(Value::as_array) {
            for c in configs {
                if let Ok(a) = serde_json::from_value::<ActionItem>(c.clone()) {
                    out.push(a);
                }
            }
        }
    }
    Some(out)
}

/// Who a policy is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssignmentTarget {
    Group(String),
    ExclusionGroup(String),
    AllLicensedUsers,
    AllDevices,
    ConfigurationManagerCollection(String),
}

impl AssignmentTarget {
    /// The `target` object for `/assign`.
    pub fn to_json(&self) -> Value {
        match self {
            AssignmentTarget::Group(id) => {
                json!({"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": id})
            }
            AssignmentTarget::ExclusionGroup(id) => {
                json!({"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": id})
            }
            AssignmentTarget::AllLicensedUsers => {
                json!({"@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget"})
            }
            AssignmentTarget::AllDevices => {
                json!({"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"})
            }
            AssignmentTarget::ConfigurationManagerCollection(id) => json!({
                "@odata.type": "#microsoft.graph.configurationManagerCollectionAssignmentTarget",
                "collectionId": id
            }),
        }
    }

    /// Parses a `target` object.
    pub fn from_json(v: &Value) -> Option<Self> {
        let ty = v.get("@odata.type")?.as_str()?.trim_start_matches("#microsoft.graph.");
        let id = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(match ty {
            "groupAssignmentTarget" => AssignmentTarget::Group(id("groupId")?),
            "exclusionGroupAssignmentTarget" => AssignmentTarget::ExclusionGroup(id("groupId")?),
            "allLicensedUsersAssignmentTarget" => AssignmentTarget::AllLicensedUsers,
            "allDevicesAssignmentTarget" => AssignmentTarget::AllDevices,
            "configurationManagerCollectionAssignmentTarget" => {
                AssignmentTarget::ConfigurationManagerCollection(id("collectionId")?)
            }
            _ => return None,
        })
    }
}

/// An assignment as read back from Graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: String,
    pub target: AssignmentTarget,
    /// `direct`, or e.g. `policySets` when it comes from a policy set
    /// (not ours to manage). Absent means direct.
    pub source: Option<String>,
}

impl Assignment {
    pub fn is_direct(&self) -> bool {
        self.source.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("direct"))
    }

    pub fn from_json(v: &Value) -> Option<Self> {
        Some(Assignment {
            id: v.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
            target: AssignmentTarget::from_json(v.get("target")?)?,
            source: v.get("source").and_then(Value::as_str).map(str::to_string),
        })
    }
}

/// The body of `/assign`: the complete set.
pub fn assign_body(targets: &[AssignmentTarget]) -> Value {
    json!({ "assignments": targets.iter().map(|t| json!({"target": t.to_json()})).collect::<Vec<_>>() })
}

/// An Entra ID group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub security_enabled: Option<bool>,
}

/// An MTD connector (`mobileThreatDefenseConnector`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    pub id: String,
    #[serde(default)]
    pub partner_state: String,
    #[serde(default)]
    pub android_enabled: bool,
    #[serde(default)]
    pub ios_enabled: bool,
    #[serde(default)]
    pub windows_enabled: bool,
    /// Beta only.
    #[serde(default)]
    pub mac_enabled: bool,
    #[serde(default)]
    pub last_heartbeat_date_time: Option<String>,
    #[serde(default)]
    pub partner_unresponsiveness_threshold_in_days: Option<i64>,
}

/// Defender for Endpoint's connector id (the only one that is public).
pub const DEFENDER_CONNECTOR_ID: &str = "fc780465-2017-40d4-a0c5-307022471b92";

/// Escapes a string for an OData literal: `'` becomes `''`.
pub fn odata_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
