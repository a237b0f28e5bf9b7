//! The emulator's strictness: what Intune rejects, rejected the same way —
//! unknown or beta-only properties, wrong `@odata.type`, enum values outside
//! the schema, read-only properties, and a create without exactly one block
//! action.

use serde_json::{Map, Value};

use super::metadata;
use super::odata::{bad_request, Reply};
use super::tenant::Tenant;
use mtd_model::rules::{self, ActionShape, Rule, MAX_GRACE_PERIOD_HOURS};
use mtd_model::schema::{ApiVersion, PolicyType};

/// Computed by Graph; a POST or PATCH that sets one is refused.
const READ_ONLY: &[&str] = &["id", "createdDateTime", "lastModifiedDateTime", "version"];

const NAVIGATION: &[&str] = &[
    "assignments",
    "deviceSettingStateSummaries",
    "deviceStatuses",
    "deviceStatusOverview",
    "scheduledActionsForRule",
    "userStatuses",
    "userStatusOverview",
];

/// Resolves `@odata.type` for a version, as Graph's model would.
pub(crate) fn policy_type(version: ApiVersion, body: &Map<String, Value>) -> Result<PolicyType, Reply> {
    let Some(raw) = body.get("@odata.type").and_then(Value::as_str) else {
        return Err(bad_request(
            "Cannot create an abstract class. The @odata.type annotation is required for microsoft.graph.deviceCompliancePolicy.",
        ));
    };
    match PolicyType::from_odata_type(raw) {
        Some(t) if t.min_version() <= version => Ok(t),
        _ => Err(bad_request(&format!(
            "A type named '{}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.",
            raw.trim_start_matches('#')
        ))),
    }
}

/// Checks one property against the emulator's own metadata.
fn check_property(version: ApiVersion, ty: PolicyType, k: &str, v: &Value) -> Result<(), Reply> {
    let t = ty.type_name();
    if READ_ONLY.contains(&k) {
        return Err(bad_request(&format!(
            "The property '{k}' is read-only and cannot be set on 'microsoft.graph.{t}'."
        )));
    }
    if matches!(k, "displayName" | "description") {
        return if v.is_string() || (k == "description" && v.is_null()) {
            Ok(())
        } else {
            Err(bad_request(&format!("Cannot convert the value of property '{k}' on 'microsoft.graph.{t}'.")))
        };
    }
    let Some(p) = metadata::property(ty, version, k) else {
        return Err(bad_request(&format!(
            "The property '{k}' does not exist on type 'microsoft.graph.{t}'. Make sure to only use property names that are defined by the type or mark the type as open type."
        )));
    };
    match metadata::check(&p, v) {
        None => Ok(()),
        Some(metadata::Rejection::NotAMember(value)) => {
            Err(bad_request(&format!("Requested value '{value}' was not found.")))
        }
        Some(metadata::Rejection::MustBe(what)) => Err(bad_request(&format!(
            "Cannot convert the value of property '{k}' on 'microsoft.graph.{t}': it must be {what}."
        ))),
    }
}

/// Checks the plain properties of a POST or PATCH body.
pub(crate) fn properties(
    version: ApiVersion,
    ty: PolicyType,
    body: &Map<String, Value>,
    allow_nav: &[&str],
) -> Result<Map<String, Value>, Reply> {
    let mut out = Map::new();
    for (k, v) in body {
        if k.starts_with('@') {
            continue;
        }
        if NAVIGATION.contains(&k.as_str()) {
            if allow_nav.contains(&k.as_str()) {
                continue;
            }
            return Err(bad_request(&format!(
                "The navigation property '{k}' cannot be set here; use its own endpoint."
            )));
        }
        check_property(version, ty, k, v)?;
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

/// Checks the inline `scheduledActionsForRule` of a create, returning the action items.
pub(crate) fn create_actions(
    version: ApiVersion,
    body: &Map<String, Value>,
    tenant: &Tenant,
) -> Result<Vec<Value>, Reply> {
    let rules = body.get("scheduledActionsForRule").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut items = Vec::new();
    for rule in &rules {
        if let Some(configs) = rule.get("scheduledActionConfigurations").and_then(Value::as_array) {
            items.extend(configs.iter().cloned());
        }
    }
    action_items(version, &items, tenant)
}

/// Checks a list of action items: valid fields, exactly one block.
pub(crate) fn action_items(
    version: ApiVersion,
    items: &[Value],
    tenant: &Tenant,
) -> Result<Vec<Value>, Reply> {
    let mut out = Vec::new();
    for item in items {
        let Some(obj) = item.as_object() else {
            return Err(bad_request("An action for noncompliance must be an object."));
        };
        for k in obj.keys() {
            if !matches!(
                k.as_str(),
                "actionType"
                    | "gracePeriodHours"
                    | "notificationTemplateId"
                    | "notificationMessageCCList"
                    | "id"
                    | "@odata.type"
            ) {
                return Err(bad_request(&format!(
                    "The property '{k}' does not exist on type 'microsoft.graph.deviceComplianceActionItem'. Make sure to only use property names that are defined by the type or mark the type as open type."
                )));
            }
        }
        let action = obj.get("actionType").and_then(Value::as_str).unwrap_or("");
        if !metadata::action_type_allowed(version, action) {
            return Err(bad_request(&format!("Requested value '{action}' was not found.")));
        }
        let Some(grace) = obj.get("gracePeriodHours").map_or(Some(0), Value::as_i64) else {
            return Err(grace_refused());
        };
        let template = obj.get("notificationTemplateId").and_then(Value::as_str).unwrap_or("");
        if !template.is_empty()
            && template != "00000000-0000-0000-0000-000000000000"
            && !tenant.template_exists(template)
        {
            return Err(bad_request(&format!("Notification message template '{template}' was not found.")));
        }
        let cc = obj.get("notificationMessageCCList").cloned().unwrap_or(Value::Array(Vec::new()));
        if !cc.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
            return Err(bad_request("notificationMessageCCList must be a list of group ids."));
        }
        out.push(serde_json::json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "actionType": action,
            "gracePeriodHours": grace,
            "notificationTemplateId": if template.is_empty() { "00000000-0000-0000-0000-000000000000" } else { template },
            "notificationMessageCCList": cc,
        }));
    }
    let shapes: Vec<ActionShape<'_>> = out
        .iter()
        .map(|a| ActionShape {
            action_type: a["actionType"].as_str().unwrap_or_default(),
            grace_period_hours: a["gracePeriodHours"].as_i64().unwrap_or_default(),
        })
        .collect();
    // Action types were checked against Microsoft's metadata above; the
    // rule table adds what the metadata cannot say.
    for broken in rules::check_actions(version, &shapes) {
        match broken {
            Rule::BlockActions { .. } => {
                return Err(bad_request(
                    "Compliance policy must have one and only one block scheduled action",
                ))
            }
            Rule::GracePeriod { .. } => return Err(grace_refused()),
            _ => {}
        }
    }
    Ok(out)
}

fn grace_refused() -> Reply {
    bad_request(&format!("gracePeriodHours must be an integer from 0 to {MAX_GRACE_PERIOD_HOURS}."))
}

const FILTER_ID: &str = "deviceAndAppManagementAssignmentFilterId";
const FILTER_TYPE: &str = "deviceAndAppManagementAssignmentFilterType";

/// Checks a target's assignment filter: beta only, a known filter, a valid mode.
fn target_filter(version: ApiVersion, target: &Value, ty: &str, tenant: &Tenant) -> Result<(), Reply> {
    let id = target.get(FILTER_ID).filter(|v| !v.is_null());
    let mode = target.get(FILTER_TYPE).filter(|v| !v.is_null());
    if version == ApiVersion::V1 {
        if let Some(k) = [FILTER_ID, FILTER_TYPE].into_iter().find(|k| target.get(*k).is_some()) {
            return Err(bad_request(&format!(
                "The property '{k}' does not exist on type 'microsoft.graph.{ty}'. Make sure to only use property names that are defined by the type or mark the type as open type."
            )));
        }
        return Ok(());
    }
    let mode = match mode {
        None => "none",
        Some(m) => {
            m.as_str().ok_or_else(|| bad_request(&format!("Cannot convert the value of '{FILTER_TYPE}'.")))?
        }
    };
    if !matches!(mode, "none" | "include" | "exclude") {
        return Err(bad_request(&format!("Requested value '{mode}' was not found.")));
    }
    match (id.and_then(Value::as_str), mode) {
        (None, "none") => Ok(()),
        (Some("00000000-0000-0000-0000-000000000000"), "none") => Ok(()),
        (Some(id), "include" | "exclude") if tenant.filter_exists(id) => Ok(()),
        (Some(id), _) => Err(bad_request(&format!(
            "Assignment filter '{id}' was not found or does not match the filter type."
        ))),
        (None, _) => Err(bad_request(&format!("'{FILTER_TYPE}' {mode} needs '{FILTER_ID}'."))),
    }
}

/// Checks an `/assign` body and returns the de-duplicated targets.
pub(crate) fn assignment_targets(
    version: ApiVersion,
    body: &Value,
    tenant: &Tenant,
) -> Result<Vec<Value>, Reply> {
    let Some(list) = body.get("assignments").and_then(Value::as_array) else {
        return Err(bad_request("The request body must contain 'assignments'."));
    };
    let mut targets: Vec<Value> = Vec::new();
    for a in list {
        let Some(target) = a.get("target") else {
            return Err(bad_request("Each assignment needs a target."));
        };
        let ty = target
            .get("@odata.type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_start_matches("#microsoft.graph.");
        match ty {
            "groupAssignmentTarget" | "exclusionGroupAssignmentTarget" => {
                let id = target.get("groupId").and_then(Value::as_str).unwrap_or("");
                if !tenant.group_exists(id) {
                    return Err(bad_request(&format!("Group '{id}' was not found.")));
                }
            }
            "allLicensedUsersAssignmentTarget" | "allDevicesAssignmentTarget" => {}
            "configurationManagerCollectionAssignmentTarget" => {
                if target.get("collectionId").and_then(Value::as_str).is_none() {
                    return Err(bad_request("collectionId is required."));
                }
            }
            other => {
                return Err(bad_request(&format!(
                    "A type named 'microsoft.graph.{other}' could not be resolved by the model."
                )))
            }
        }
        target_filter(version, target, ty, tenant)?;
        // Intune ignores a duplicate target.
        if !targets.contains(target) {
            targets.push(target.clone());
        }
    }
    Ok(targets)
}
