//! Reading compliance policies with their actions for noncompliance and
//! their assignments, in as few round trips as Graph allows.
//!
//! On beta one paged read carries everything:
//! `$expand=assignments,scheduledActionsForRule($expand=scheduledActionConfigurations)`.
//! Only a policy whose expansion is missing, `null`, cut short (an
//! `assignments@odata.nextLink`) or without the assignments' `source` is
//! read again, through `$batch`. On v1.0 the
//! actions are expanded and the assignments still read on beta — v1.0's
//! expansion has neither the assignment's `source` (policy sets) nor its
//! filter.
//!
//! Nothing read is dropped: what cannot be understood is kept in
//! [`RemotePolicy::problems`] for the plan to refuse (a policy it would
//! write) or warn about (anything else).

use serde_json::{json, Value};

use super::client::GraphClient;
use super::error::GraphError;
use super::model::{ActionItem, Assignment};
use super::properties::Properties;
use super::query::{display_name_eq, relative};
use super::schema::{ApiVersion, PolicyType};

pub(crate) const POLICIES: &str = "/deviceManagement/deviceCompliancePolicies";
pub(crate) const POLICY_SEGS: [&str; 2] = ["deviceManagement", "deviceCompliancePolicies"];
const EXPAND_ACTIONS: &str = "scheduledActionsForRule($expand=scheduledActionConfigurations)";
const EXPAND_ALL: &str = "assignments,scheduledActionsForRule($expand=scheduledActionConfigurations)";

/// A compliance policy read from the tenant, with its actions and assignments.
#[derive(Debug, Clone, Default)]
pub struct RemotePolicy {
    /// The policy id.
    pub id: String,
    /// Its type, if mtdhost knows it.
    pub policy_type: Option<PolicyType>,
    /// Its `@odata.type` as Graph gave it.
    pub odata_type: String,
    /// Its display name.
    pub display_name: String,
    /// Its description (with the ownership marker, if any).
    pub description: String,
    /// Every property Graph returned (settings included) but the id, type
    /// and name above; the expanded navigation properties are parsed into
    /// `actions` and `assignments`.
    pub properties: Properties,
    /// Its actions for noncompliance.
    pub actions: Vec<ActionItem>,
    /// Read on beta: direct ones and ones from policy sets, with filters.
    pub assignments: Vec<Assignment>,
    /// What could not be read, each naming the field and value.
    pub problems: Vec<String>,
}

impl RemotePolicy {
    /// "'Name' (id …)", for messages.
    pub fn label(&self) -> String {
        format!("'{}' (id {})", self.display_name, self.id)
    }
}

/// Which expansions a listed policy came back without.
#[derive(Debug, Clone, Copy, Default)]
struct Missing {
    actions: bool,
    assignments: bool,
}

impl GraphClient {
    /// All compliance policies with their actions and assignments. Beta:
    /// one paged read (see the module doc); v1.0: actions expanded,
    /// assignments read on beta through `$batch`.
    pub async fn list_policies(&self, version: ApiVersion) -> Result<Vec<RemotePolicy>, GraphError> {
        self.list_policies_with(version, |_| {}).await
    }

    /// [`list_policies`](Self::list_policies), handing each policy to `each`
    /// once it is completely read — on beta, as its page arrives — so a
    /// caller can drop what it will not need before the rest of a large
    /// tenant is read.
    pub async fn list_policies_with(
        &self,
        version: ApiVersion,
        mut each: impl FnMut(&mut RemotePolicy),
    ) -> Result<Vec<RemotePolicy>, GraphError> {
        if version != ApiVersion::Beta {
            return self.list_with(version, EXPAND_ACTIONS, &mut each).await;
        }
        // Each policy is handed out once: the slower read below is only
        // tried while none has been.
        let mut handed = 0usize;
        let mut counted = |p: &mut RemotePolicy| {
            handed += 1;
            each(p);
        };
        let first = self.list_with(version, EXPAND_ALL, &mut counted).await;
        match first {
            // Tools in the field use this expansion on beta; should a tenant
            // refuse two expansions at once, read the slower, proven way.
            Err(e) if e.status() == Some(400) && handed == 0 => {
                tracing::warn!(error = %e, "Graph refused expanding assignments with the actions; reading assignments through $batch");
                self.list_with(version, EXPAND_ACTIONS, &mut each).await
            }
            other => other,
        }
    }

    /// Lists with `expand`; whatever it did not bring is read through `$batch`.
    async fn list_with(
        &self,
        version: ApiVersion,
        expand: &str,
        each: &mut impl FnMut(&mut RemotePolicy),
    ) -> Result<Vec<RemotePolicy>, GraphError> {
        let url = self.endpoint(version, &POLICY_SEGS, &[("$expand", expand)])?;
        // v1.0's expansion never has the assignments' source: all are read again.
        let complete = |m: &Missing| version == ApiVersion::Beta && !m.actions && !m.assignments;
        // What each policy lacks, kept beside the list (a list of pairs
        // would be copied apart afterwards, twice the list at once).
        let mut missing = Vec::new();
        let mut policies = self
            .get_pages(&url, |v| {
                let (mut p, lacks) = parse_listed(v)?;
                if complete(&lacks) {
                    each(&mut p);
                }
                missing.push(lacks);
                Ok(p)
            })
            .await?;
        let needs_actions: Vec<usize> = (0..policies.len()).filter(|&i| missing[i].actions).collect();
        let needs_assignments: Vec<usize> =
            (0..policies.len()).filter(|&i| version != ApiVersion::Beta || missing[i].assignments).collect();
        if !needs_actions.is_empty() {
            tracing::debug!(
                policies = needs_actions.len(),
                "actions were not expanded; reading them one by one"
            );
            self.read_actions(version, &mut policies, &needs_actions).await?;
        }
        if expand == EXPAND_ALL && !needs_assignments.is_empty() {
            tracing::debug!(
                policies = needs_assignments.len(),
                "assignments were not expanded in full; reading them one by one"
            );
        }
        self.read_assignments(&mut policies, &needs_assignments).await?;
        for (p, m) in policies.iter_mut().zip(&missing) {
            if !complete(m) {
                each(p);
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
        let filter = display_name_eq(name);
        let url = self.endpoint(
            version,
            &POLICY_SEGS,
            &[("$filter", filter.as_str()), ("$expand", EXPAND_ACTIONS)],
        )?;
        // The filter narrows by name; the type is checked here, since names
        // are unique only per type.
        let mut found: Vec<RemotePolicy> = self
            .get_pages(&url, parse_policy)
            .await?
            .into_iter()
            .filter(|p| p.policy_type == Some(ty) && p.display_name == name)
            .collect();
        let all: Vec<usize> = (0..found.len()).collect();
        self.read_assignments(&mut found, &all).await?;
        Ok(found)
    }

    /// Reads the actions of `which` policies, one `$batch` item each.
    async fn read_actions(
        &self,
        version: ApiVersion,
        policies: &mut [RemotePolicy],
        which: &[usize],
    ) -> Result<(), GraphError> {
        let paths = which
            .iter()
            .map(|&i| {
                relative(
                    &[POLICY_SEGS[0], POLICY_SEGS[1], &policies[i].id],
                    &[("$select", "id"), ("$expand", EXPAND_ACTIONS)],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.batch_get(version, &paths).await?;
        for (&i, r) in which.iter().zip(results) {
            let p = &mut policies[i];
            let body = r?;
            match body.get("scheduledActionsForRule") {
                None | Some(Value::Null) => {
                    p.problems.push("Graph did not return its actions for noncompliance".into())
                }
                Some(rules) => {
                    p.actions.clear();
                    push_actions(rules, &mut p.actions, &mut p.problems);
                }
            }
        }
        Ok(())
    }

    /// Fills in the assignments of `which` policies, read on beta.
    async fn read_assignments(
        &self,
        policies: &mut [RemotePolicy],
        which: &[usize],
    ) -> Result<(), GraphError> {
        let paths = which
            .iter()
            .map(|&i| relative(&[POLICY_SEGS[0], POLICY_SEGS[1], &policies[i].id, "assignments"], &[]))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.batch_get(ApiVersion::Beta, &paths).await?;
        for (&i, r) in which.iter().zip(results) {
            let p = &mut policies[i];
            let body = r?;
            let mut list =
                body.get("value").and_then(Value::as_array).cloned().ok_or_else(|| GraphError::Decode {
                    method: "GET".into(),
                    path: format!("{POLICIES}/{}/assignments", p.id),
                    reason: "no \"value\" array in a collection response".into(),
                })?;
            if body.get("@odata.nextLink").is_some() {
                // Rare (more than a page of assignments): read the rest directly.
                let url = self.endpoint(
                    ApiVersion::Beta,
                    &[POLICY_SEGS[0], POLICY_SEGS[1], &p.id, "assignments"],
                    &[],
                )?;
                list = self.get_all(&url).await?;
            }
            p.assignments.clear();
            push_assignments(&list, &mut p.assignments, &mut p.problems);
        }
        Ok(())
    }
}

fn push_actions(rules: &Value, actions: &mut Vec<ActionItem>, problems: &mut Vec<String>) {
    let wrapped = json!({ "scheduledActionsForRule": rules });
    match super::model::actions_of(&wrapped) {
        Some(items) => {
            for (i, a) in items.into_iter().enumerate() {
                match a {
                    Ok(a) => actions.push(a),
                    Err(e) => problems.push(format!("action {}: {e}", i + 1)),
                }
            }
        }
        None => problems.push(format!("field 'scheduledActionsForRule' has value {rules}")),
    }
}

fn push_assignments(list: &[Value], out: &mut Vec<Assignment>, problems: &mut Vec<String>) {
    for (i, a) in list.iter().enumerate() {
        match Assignment::from_json(a) {
            Ok(a) => out.push(a),
            Err(e) => problems.push(format!("assignment {}: {e}", i + 1)),
        }
    }
}

/// Reads one listed policy and says which expansions it lacks.
fn parse_listed(mut v: Value) -> Result<(RemotePolicy, Missing), GraphError> {
    let mut missing =
        Missing { actions: v.get("scheduledActionsForRule").is_none_or(Value::is_null), assignments: false };
    let mut assignments = None;
    if let Value::Object(raw) = &mut v {
        // Annotations of the expansions (`…@odata.context`, `…@odata.nextLink`):
        // a next link means the expansion was cut short.
        let truncated = raw.contains_key("assignments@odata.nextLink");
        raw.retain(|k, _| !k.starts_with("assignments@") && !k.starts_with("scheduledActionsForRule@"));
        match raw.remove("assignments") {
            // Only an assignment that names its `source` can be told apart from
            // one a policy set made; without it, read the assignments directly.
            Some(Value::Array(list)) if !truncated && list.iter().all(|a| a.get("source").is_some()) => {
                assignments = Some(list)
            }
            _ => missing.assignments = true,
        }
    }
    let mut p = parse_policy(v)?;
    if let Some(list) = assignments {
        push_assignments(&list, &mut p.assignments, &mut p.problems);
    }
    Ok((p, missing))
}

/// Reads one policy (its settings; actions if they were expanded). Without
/// an id it cannot be named or matched: an error. Unreadable actions are
/// kept as problems.
pub(crate) fn parse_policy(v: Value) -> Result<RemotePolicy, GraphError> {
    let decode = |reason: String| GraphError::Decode { method: "GET".into(), path: POLICIES.into(), reason };
    let Value::Object(mut raw) = v else {
        return Err(decode(format!("a compliance policy is not an object: {v}")));
    };
    // The id, type and name are the policy's own fields, moved out of the
    // properties rather than copied (a tenant has thousands of policies).
    let mut take = |k: &str| match raw.remove(k) {
        Some(Value::String(s)) => s,
        Some(other) => {
            let text = other.as_str().map(str::to_string).unwrap_or_default();
            raw.insert(k.to_string(), other);
            text
        }
        None => String::new(),
    };
    let display_name = take("displayName");
    let odata_type = take("@odata.type");
    let id = take("id");
    if id.is_empty() {
        return Err(decode(format!("policy '{display_name}' has no id")));
    }
    let description = raw.get("description").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut actions = Vec::new();
    let mut problems = Vec::new();
    if let Some(rules) = raw.remove("scheduledActionsForRule").filter(|r| !r.is_null()) {
        push_actions(&rules, &mut actions, &mut problems);
    }
    let policy_type = PolicyType::from_odata_type(&odata_type);
    Ok(RemotePolicy {
        id,
        policy_type,
        display_name,
        description,
        odata_type,
        actions,
        assignments: Vec::new(),
        problems,
        properties: Properties::new(policy_type, raw),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(extra: Value) -> (RemotePolicy, Missing) {
        let mut v = json!({"@odata.type": "#microsoft.graph.iosCompliancePolicy", "id": "p1",
            "displayName": "R&D 'North'", "description": null});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        parse_listed(v).unwrap()
    }

    #[test]
    fn full_expansions_need_no_second_read() {
        let (p, m) = listed(json!({
            "scheduledActionsForRule": [{"ruleName": "PasswordRequired", "scheduledActionConfigurations": [
                {"actionType": "block", "gracePeriodHours": 0, "notificationTemplateId": null, "notificationMessageCCList": null}]}],
            "scheduledActionsForRule@odata.context": "x",
            "assignments": [{"id": "a", "source": "direct", "sourceId": "p1",
                "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}],
        }));
        assert!(!m.actions && !m.assignments);
        assert_eq!((p.actions.len(), p.assignments.len()), (1, 1));
        assert!(p.problems.is_empty());
        for k in ["assignments", "scheduledActionsForRule", "scheduledActionsForRule@odata.context"] {
            assert!(!p.properties.contains(k), "{k} is read, not kept as a property");
        }
        assert_eq!(p.description, "", "a null description reads as empty");
    }

    #[test]
    fn missing_null_or_cut_expansions_are_read_again() {
        let (_, m) = listed(json!({}));
        assert!(m.actions && m.assignments);
        let (_, m) = listed(json!({"scheduledActionsForRule": null, "assignments": null}));
        assert!(m.actions && m.assignments);
        let (p, m) = listed(json!({"scheduledActionsForRule": [], "assignments": [],
            "assignments@odata.nextLink": "https://graph.microsoft.com/beta/next"}));
        assert!(!m.actions && m.assignments, "a next link means the expansion was cut short");
        assert!(!p.properties.contains("assignments@odata.nextLink"));
        let (_, m) = listed(json!({"scheduledActionsForRule": [], "assignments": [
            {"id": "a", "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]}));
        assert!(m.assignments, "without `source` a policy-set assignment would pass for a direct one");
    }

    #[test]
    fn odd_assignments_are_problems_not_dropped() {
        let (p, m) = listed(json!({"scheduledActionsForRule": [], "assignments": [
            {"id": "a", "source": "direct", "target": {"@odata.type": "#microsoft.graph.someFutureTarget"}}]}));
        assert!(!m.assignments);
        assert!(p.assignments.is_empty());
        assert!(p.problems[0].contains("someFutureTarget"), "{:?}", p.problems);
    }
}
