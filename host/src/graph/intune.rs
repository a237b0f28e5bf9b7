//! Intune operations: compliance policies with their actions and
//! assignments, groups, MTD connectors — each the way Graph documents it and
//! the way other tools got wrong (see the crate's README).

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::{Attempt, GraphClient, Retry};
use super::error::GraphError;
use super::model::{
    assign_body, odata_quote, scheduled_actions_json, ActionItem, Assignment, AssignmentTarget, Connector,
    Group, RULE_NAME,
};
use super::schema::{check_property, ApiVersion, PolicyType};

const POLICIES: &str = "/deviceManagement/deviceCompliancePolicies";
const EXPAND_ACTIONS: &str = "$expand=scheduledActionsForRule($expand=scheduledActionConfigurations)";

/// A compliance policy read from the tenant, with its actions and assignments.
#[derive(Debug, Clone)]
pub struct RemotePolicy {
    pub id: String,
    pub policy_type: Option<PolicyType>,
    pub odata_type: String,
    pub display_name: String,
    pub description: String,
    /// Every property Graph returned (settings included).
    pub raw: Map<String, Value>,
    pub actions: Vec<ActionItem>,
    pub assignments: Vec<Assignment>,
}

/// Result of looking a group up by display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupLookup {
    None,
    One(Group),
    Many(Vec<Group>),
}

impl GraphClient {
    /// All compliance policies with actions (`$expand`) and assignments (`$batch`).
    pub async fn list_policies(&self, version: ApiVersion) -> Result<Vec<RemotePolicy>, GraphError> {
        let items = self.get_all(&self.url(version, &format!("{POLICIES}?{EXPAND_ACTIONS}"))).await?;
        let mut policies: Vec<RemotePolicy> = items.into_iter().filter_map(parse_policy).collect();
        let paths: Vec<String> =
            policies.iter().map(|p| format!("{POLICIES}/{}/assignments", p.id)).collect();
        let results = self.batch_get(version, &paths).await?;
        for (p, r) in policies.iter_mut().zip(results) {
            let body = r?;
            let list = body.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
            p.assignments = list.iter().filter_map(Assignment::from_json).collect();
            if body.get("@odata.nextLink").is_some() {
                // Rare (more than a page of assignments): read the rest directly.
                let all =
                    self.get_all(&self.url(version, &format!("{POLICIES}/{}/assignments", p.id))).await?;
                p.assignments = all.iter().filter_map(Assignment::from_json).collect();
            }
        }
        Ok(policies)
    }

    /// Policies with this display name and type (normally zero or one).
    pub async fn find_policies(
        &self,
        version: ApiVersion,
        name: &str,
        ty: PolicyType,
    ) -> Result<Vec<RemotePolicy>, GraphError> {
        let filter = format!("$filter=displayName eq {}", odata_quote(name));
        let url = self.url(version, &format!("{POLICIES}?{}&{EXPAND_ACTIONS}", encode_query(&filter)));
        let items = self.get_all(&url).await?;
        // The filter narrows by name; the type is checked here, since names
        // are unique only per type.
        Ok(items
            .into_iter()
            .filter_map(parse_policy)
            .filter(|p| p.policy_type == Some(ty) && p.display_name == name)
            .collect())
    }

    /// Creates a policy with its actions inline (exactly one block action is
    /// required). After a lost answer it re-reads by name and type before
    /// trying again, so it never leaves a duplicate.
    pub async fn create_policy(
        &self,
        version: ApiVersion,
        ty: PolicyType,
        body: &Map<String, Value>,
        actions: &[ActionItem],
    ) -> Result<RemotePolicy, GraphError> {
        validate_body(version, ty, body)?;
        check_actions(version, actions)?;
        let name = body.get("displayName").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut payload = body.clone();
        payload.insert("@odata.type".into(), Value::String(ty.odata_type()));
        payload.insert("scheduledActionsForRule".into(), scheduled_actions_json(actions));
        let payload = Value::Object(payload);
        let url = self.url(version, POLICIES);
        for round in 1..=3 {
            match self.attempt(Method::POST, &url, Some(&payload), Retry::Create).await? {
                Attempt::Done(resp) => {
                    let mut p = parse_policy(resp.body).ok_or_else(|| GraphError::Decode {
                        method: "POST".into(),
                        path: POLICIES.into(),
                        reason: "the created policy has no id".into(),
                    })?;
                    p.actions = actions.to_vec();
                    return Ok(p);
                }
                Attempt::Uncertain(err) => {
                    tracing::warn!(policy = %name, error = %err, "create may or may not have happened; re-reading by name");
                    let found = self.find_policies(version, &name, ty).await?;
                    match found.len() {
                        0 if round < 3 => continue,
                        0 => return Err(err),
                        1 => {
                            let mut p = found.into_iter().next().expect("one element");
                            if p.actions.iter().map(ActionItem::normalized).collect::<Vec<_>>()
                                != actions.iter().map(ActionItem::normalized).collect::<Vec<_>>()
                            {
                                self.schedule_actions(version, &p.id, actions).await?;
                                p.actions = actions.to_vec();
                            }
                            return Ok(p);
                        }
                        _ => {
                            return Err(GraphError::Invalid(format!(
                            "after an interrupted create, {} policies named '{name}' of type {} exist: {}",
                            found.len(),
                            ty.type_name(),
                            found.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
                        )))
                        }
                    }
                }
            }
        }
        unreachable!("the loop returns on its last round")
    }

    /// PATCHes the given writable properties (only what changed).
    pub async fn update_policy(
        &self,
        version: ApiVersion,
        ty: PolicyType,
        id: &str,
        changes: &Map<String, Value>,
    ) -> Result<(), GraphError> {
        validate_body(version, ty, changes)?;
        let mut payload = changes.clone();
        payload.insert("@odata.type".into(), Value::String(ty.odata_type()));
        // Docs say 200 with the entity; 204 is also seen. Both are success.
        self.request(
            Method::PATCH,
            &self.url(version, &format!("{POLICIES}/{id}")),
            Some(&Value::Object(payload)),
        )
        .await?;
        Ok(())
    }

    /// Replaces the policy's actions for noncompliance.
    pub async fn schedule_actions(
        &self,
        version: ApiVersion,
        id: &str,
        actions: &[ActionItem],
    ) -> Result<(), GraphError> {
        check_actions(version, actions)?;
        let body = serde_json::json!({
            "deviceComplianceScheduledActionForRules": [{"ruleName": RULE_NAME, "scheduledActionConfigurations": actions}]
        });
        self.request(
            Method::POST,
            &self.url(version, &format!("{POLICIES}/{id}/scheduleActionsForRules")),
            Some(&body),
        )
        .await?;
        Ok(())
    }

    /// Posts the complete assignment set (it replaces what is there; empty clears).
    pub async fn assign(
        &self,
        version: ApiVersion,
        id: &str,
        targets: &[AssignmentTarget],
    ) -> Result<Vec<Assignment>, GraphError> {
        let resp = self
            .request(
                Method::POST,
                &self.url(version, &format!("{POLICIES}/{id}/assign")),
                Some(&assign_body(targets)),
            )
            .await?;
        Ok(resp
            .body
            .get("value")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Assignment::from_json).collect())
            .unwrap_or_default())
    }

    /// Deletes a policy; one already gone (after a lost answer) counts as deleted.
    pub async fn delete_policy(&self, version: ApiVersion, id: &str) -> Result<(), GraphError> {
        match self.request(Method::DELETE, &self.url(version, &format!("{POLICIES}/{id}")), None).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => {
                tracing::info!(id, "policy already deleted");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Groups with exactly this display name.
    pub async fn find_group(&self, name: &str) -> Result<GroupLookup, GraphError> {
        let filter =
            format!("$filter=displayName eq {}&$select=id,displayName,securityEnabled", odata_quote(name));
        let items =
            self.get_all(&self.url(ApiVersion::V1, &format!("/groups?{}", encode_query(&filter)))).await?;
        let mut groups: Vec<Group> =
            items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
        groups.retain(|g| g.display_name == name);
        Ok(match groups.len() {
            0 => GroupLookup::None,
            1 => GroupLookup::One(groups.remove(0)),
            _ => GroupLookup::Many(groups),
        })
    }

    /// Every group (id and name), for rules plugins' tenant context.
    pub async fn list_groups(&self) -> Result<Vec<Group>, GraphError> {
        let items =
            self.get_all(&self.url(ApiVersion::V1, "/groups?$select=id,displayName,securityEnabled")).await?;
        Ok(items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect())
    }

    /// A group by object id, or None if it does not exist.
    pub async fn get_group(&self, id: &str) -> Result<Option<Group>, GraphError> {
        let url = self.url(ApiVersion::V1, &format!("/groups/{id}?$select=id,displayName,securityEnabled"));
        match self.request(Method::GET, &url, None).await {
            Ok(r) => Ok(serde_json::from_value(r.body).ok()),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Notification message templates (id, display name).
    pub async fn list_notification_templates(&self) -> Result<Vec<(String, String)>, GraphError> {
        let items =
            self.get_all(&self.url(ApiVersion::V1, "/deviceManagement/notificationMessageTemplates")).await?;
        Ok(items
            .iter()
            .filter_map(|v| {
                Some((v.get("id")?.as_str()?.to_string(), v.get("displayName")?.as_str()?.to_string()))
            })
            .collect())
    }

    /// The tenant's MTD connectors.
    pub async fn list_connectors(&self, version: ApiVersion) -> Result<Vec<Connector>, GraphError> {
        let items =
            self.get_all(&self.url(version, "/deviceManagement/mobileThreatDefenseConnectors")).await?;
        Ok(items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect())
    }
}

/// Checks a POST/PATCH body against the schema before it leaves mtdhost.
pub fn validate_body(
    version: ApiVersion,
    ty: PolicyType,
    body: &Map<String, Value>,
) -> Result<(), GraphError> {
    if ty.min_version() > version {
        return Err(GraphError::Invalid(format!("{} exists only in the beta API", ty.type_name())));
    }
    let problems: Vec<String> = body
        .iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .filter_map(|(k, v)| check_property(ty, version, k, v).err())
        .map(|v| v.to_string())
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(GraphError::Invalid(format!(
            "{} ({}): {}",
            ty.type_name(),
            version.segment(),
            problems.join("; ")
        )))
    }
}

/// Exactly one block action, valid types, grace period in range.
pub fn check_actions(version: ApiVersion, actions: &[ActionItem]) -> Result<(), GraphError> {
    let blocks = actions.iter().filter(|a| a.action_type == "block").count();
    if blocks != 1 {
        return Err(GraphError::Invalid(format!(
            "a compliance policy needs exactly one block action; this one has {blocks}"
        )));
    }
    for a in actions {
        if !super::schema::action_type_allowed(version, &a.action_type) {
            return Err(GraphError::Invalid(format!(
                "'{}' is not an action type in {}",
                a.action_type,
                version.segment()
            )));
        }
        if a.grace_period_hours > 8760 {
            return Err(GraphError::Invalid(format!(
                "grace period {} h is over the 8760 h maximum",
                a.grace_period_hours
            )));
        }
    }
    Ok(())
}

fn parse_policy(v: Value) -> Option<RemotePolicy> {
    let Value::Object(raw) = v else { return None };
    let s = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let odata_type = s("@odata.type");
    let actions = super::model::actions_of(&Value::Object(raw.clone())).unwrap_or_default();
    Some(RemotePolicy {
        id: raw.get("id")?.as_str()?.to_string(),
        policy_type: PolicyType::from_odata_type(&odata_type),
        display_name: s("displayName"),
        description: s("description"),
        odata_type,
        actions,
        assignments: Vec::new(),
        raw,
    })
}

fn encode_query(q: &str) -> String {
    // Keep OData's own syntax readable; encode what URLs cannot carry.
    q.replace('%', "%25").replace(' ', "%20").replace('#', "%23").replace('+', "%2B")
}
