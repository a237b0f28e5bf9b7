//! Intune compliance policy writes: create, update, reschedule actions,
//! assign, delete — each the way Graph documents it and the way other tools
//! got wrong (see the crate's README). Reading is in
//! [`super::policy_read`]; groups, templates, connectors, filters and policy
//! sets are in [`super::directory`].

use std::time::Duration;

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::{Attempt, GraphClient, Retry};
use super::error::GraphError;
use super::model::{assign_body, scheduled_actions_json, ActionItem, Assignment, Target, RULE_NAME};
use super::policy_read::{parse_policy, POLICIES, POLICY_SEGS};
use super::schema::{ApiVersion, PolicyType};
use mtd_model::rules::{self, ActionShape, Rule};

pub(crate) use super::policy_read::RemotePolicy;

impl GraphClient {
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
                    let mut p = parse_policy(resp.body)?;
                    p.actions = actions.to_vec();
                    return Ok(p);
                }
                Attempt::Uncertain(err) => {
                    tracing::warn!(policy = %name, error = %err, "create may or may not have happened; re-reading by name");
                    let found = self.settle_create(version, &name, ty).await?;
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
                            return Err(GraphError::Ambiguous {
                                name,
                                type_name: ty.type_name(),
                                ids: found.iter().map(|p| p.id.clone()).collect(),
                            })
                        }
                    }
                }
            }
        }
        unreachable!("the loop returns on its last round")
    }

    /// Re-reads by name and type after a lost create answer: at once, then
    /// with doubling waits until `create_settle` has passed, so a first POST
    /// still running on Graph's side when the client gave up has landed
    /// before anything is sent again.
    async fn settle_create(
        &self,
        version: ApiVersion,
        name: &str,
        ty: PolicyType,
    ) -> Result<Vec<RemotePolicy>, GraphError> {
        let settle = self.options().create_settle;
        let mut wait = (settle / 16).max(Duration::from_millis(10));
        let mut waited = Duration::ZERO;
        loop {
            let found = self.find_policies(version, name, ty).await?;
            if !found.is_empty() || waited >= settle {
                return Ok(found);
            }
            let step = wait.min(settle - waited);
            tracing::info!(policy = %name, wait_ms = step.as_millis() as u64, "not there yet; waiting before reading again");
            tokio::time::sleep(step).await;
            waited += step;
            wait *= 2;
        }
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
            &self.endpoint(version, &[POLICY_SEGS[0], POLICY_SEGS[1], id], &[])?,
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
            &self.endpoint(version, &[POLICY_SEGS[0], POLICY_SEGS[1], id, "scheduleActionsForRules"], &[])?,
            Some(&body),
        )
        .await?;
        Ok(())
    }

    /// Posts the complete set of direct assignments (it replaces the direct
    /// ones; empty clears). On beta when any target has a filter, since
    /// v1.0 has no filter properties. Assignments from policy sets are never
    /// posted (see docs/config.md for what is known about how `/assign`
    /// treats them).
    pub async fn assign<T>(
        &self,
        version: ApiVersion,
        id: &str,
        targets: &[T],
    ) -> Result<Vec<Assignment>, GraphError>
    where
        for<'a> &'a T: Into<Target>,
    {
        let targets: Vec<Target> = targets.iter().map(Into::into).collect();
        let version = if targets.iter().any(Target::has_filter) { ApiVersion::Beta } else { version };
        let url = self.endpoint(version, &[POLICY_SEGS[0], POLICY_SEGS[1], id, "assign"], &[])?;
        let resp = self.request(Method::POST, &url, Some(&assign_body(&targets))).await?;
        let list = resp.body.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
        list.iter()
            .map(|a| {
                Assignment::from_json(a).map_err(|reason| GraphError::Decode {
                    method: "POST".into(),
                    path: format!("{POLICIES}/{id}/assign"),
                    reason,
                })
            })
            .collect()
    }

    /// Deletes a policy; one already gone (after a lost answer) counts as deleted.
    pub async fn delete_policy(&self, version: ApiVersion, id: &str) -> Result<(), GraphError> {
        let url = self.endpoint(version, &[POLICY_SEGS[0], POLICY_SEGS[1], id], &[])?;
        match self.request(Method::DELETE, &url, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => {
                tracing::info!(id, "policy already deleted");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Checks a POST/PATCH body against the rule table before it leaves mtdhost.
pub(crate) fn validate_body(
    version: ApiVersion,
    ty: PolicyType,
    body: &Map<String, Value>,
) -> Result<(), GraphError> {
    let settings: Vec<(&str, &Value)> =
        body.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.as_str(), v)).collect();
    let broken = rules::check_settings(ty, version, false, &settings);
    refuse(format!("{} ({})", ty.type_name(), version.segment()), broken)
}

/// Exactly one block action, valid types, grace period in range.
pub(crate) fn check_actions(version: ApiVersion, actions: &[ActionItem]) -> Result<(), GraphError> {
    let shapes: Vec<ActionShape<'_>> = actions
        .iter()
        .map(|a| ActionShape {
            action_type: a.action_type.as_str(),
            grace_period_hours: i64::from(a.grace_period_hours),
        })
        .collect();
    refuse(
        format!("actions for noncompliance ({})", version.segment()),
        rules::check_actions(version, &shapes),
    )
}

fn refuse(subject: String, broken: Vec<Rule>) -> Result<(), GraphError> {
    if broken.is_empty() {
        Ok(())
    } else {
        Err(GraphError::Refused { subject, broken })
    }
}
