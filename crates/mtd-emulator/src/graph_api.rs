//! The emulated Graph resources: compliance policies (create, read, update,
//! delete, actions, assignments), groups, MTD connectors (in
//! [`super::connectors`]), notification
//! templates, assignment filters and policy sets, each answering as Intune
//! does — including its quirks: unset nullable properties come back as
//! `null`, assignments on v1.0 have no `source`, filters exist on beta only.

use serde_json::{json, Map, Value};

use super::conditional_access;
use super::connectors;
use super::me;
use super::odata::{self, bad_request, not_found, Query, Reply};
use super::policy_view::{assignment_view, render, PolicyView};
use super::tenant::{StoredPolicy, Tenant};
use super::validate;
use mtd_model::schema::{ApiVersion, PolicyType};

const POLICIES: &str = "deviceCompliancePolicies";
const NO_ROUTE: &str = "No OData route exists that match template ~/singleton/navigation with http verb PATCH for request /StatelessDeviceConfigurationFEService/deviceManagement/deviceCompliancePolicies.";
/// Everything a handler needs.
pub(crate) struct Ctx<'a> {
    pub tenant: &'a mut Tenant,
    pub version: ApiVersion,
    /// `http://host:port`, for nextLinks.
    pub base: &'a str,
    pub page_size: usize,
    pub quirks: super::ExpansionQuirks,
    /// The signed-in user of a delegated token; none for app-only.
    pub user: Option<&'a str>,
}

/// Serves one Graph request. The bool says whether the tenant changed.
pub(crate) fn handle(
    ctx: &mut Ctx<'_>,
    method: &str,
    path: &str,
    query: &Query,
    body: Option<&Value>,
) -> (Reply, bool) {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let self_url = format!("{}/{}{}", ctx.base, ctx.version.segment(), path);
    let read = |r: Result<Reply, Reply>| (r.unwrap_or_else(|e| e), false);
    match (method, segs.as_slice()) {
        ("GET", ["deviceManagement", POLICIES]) => read(list_policies(ctx, query, &self_url)),
        ("POST", ["deviceManagement", POLICIES]) => match create_policy(ctx, body) {
            Ok(r) => (r, true),
            Err(e) => (e, false),
        },
        ("PATCH", ["deviceManagement", POLICIES]) => (bad_request(NO_ROUTE), false),
        ("GET", ["deviceManagement", POLICIES, id]) => read(get_policy(ctx, id, query)),
        ("PATCH", ["deviceManagement", POLICIES, id]) => mutate(update_policy(ctx, id, body)),
        ("DELETE", ["deviceManagement", POLICIES, id]) => {
            if ctx.tenant.remove_policy(id) {
                (Reply::empty(204), true)
            } else {
                (not_found(&format!("deviceCompliancePolicy '{id}'")), false)
            }
        }
        ("GET", ["deviceManagement", POLICIES, _, "scheduledActionsForRule"]) => {
            (bad_request("No method match route template"), false)
        }
        ("POST", ["deviceManagement", POLICIES, id, "scheduleActionsForRules"]) => {
            mutate(schedule_actions(ctx, id, body))
        }
        ("GET", ["deviceManagement", POLICIES, id, "assignments"]) => {
            read(list_assignments(ctx, id, query, &self_url))
        }
        ("POST", ["deviceManagement", POLICIES, id, "assign"]) => mutate(assign(ctx, id, body)),
        ("GET", ["deviceManagement", "assignmentFilters"]) if ctx.version == ApiVersion::Beta => {
            read(list_plain(&ctx.tenant.assignment_filters.clone(), query, &self_url, ctx.page_size))
        }
        ("GET", ["deviceManagement", "assignmentFilters", id]) if ctx.version == ApiVersion::Beta => read(
            find(&ctx.tenant.assignment_filters, id, "deviceAndAppManagementAssignmentFilter")
                .map(|f| Reply::json(200, select(&f, query))),
        ),
        ("GET", ["deviceAppManagement", "policySets"]) if ctx.version == ApiVersion::Beta => {
            read(list_plain(&ctx.tenant.policy_sets.clone(), query, &self_url, ctx.page_size))
        }
        ("GET", ["deviceAppManagement", "policySets", id]) if ctx.version == ApiVersion::Beta => {
            read(find(&ctx.tenant.policy_sets, id, "policySet").map(|p| Reply::json(200, select(&p, query))))
        }
        ("GET", ["groups"]) => read(list_plain(&ctx.tenant.groups.clone(), query, &self_url, ctx.page_size)),
        ("GET", ["groups", id]) => {
            read(find(&ctx.tenant.groups, id, "group").map(|g| Reply::json(200, select(&g, query))))
        }
        ("GET", ["deviceManagement", "mobileThreatDefenseConnectors"]) => {
            let items: Vec<Value> =
                ctx.tenant.connectors.iter().map(|c| connectors::view(c, ctx.version)).collect();
            read(list_plain(&items, query, &self_url, ctx.page_size))
        }
        ("GET", ["deviceManagement", "mobileThreatDefenseConnectors", id]) => read(
            find(&ctx.tenant.connectors, id, "mobileThreatDefenseConnector")
                .map(|c| Reply::json(200, connectors::view(&c, ctx.version))),
        ),
        ("PATCH", ["deviceManagement", "mobileThreatDefenseConnectors", id]) => {
            mutate(connectors::patch(ctx.tenant, ctx.version, id, body))
        }
        ("GET", ["identity", "conditionalAccess", "policies"]) => {
            read(list_plain(&ctx.tenant.conditional_access.clone(), query, &self_url, ctx.page_size))
        }
        ("GET", ["identity", "conditionalAccess", "policies", id]) => read(
            find(&ctx.tenant.conditional_access, &id.to_ascii_lowercase(), "conditionalAccessPolicy")
                .map(|p| Reply::json(200, select(&p, query))),
        ),
        ("POST", ["identity", "conditionalAccess", "policies"]) => {
            mutate(conditional_access::create(ctx.tenant, ctx.version, body))
        }
        ("PATCH", ["identity", "conditionalAccess", "policies", id]) => {
            mutate(conditional_access::update(ctx.tenant, ctx.version, id, body))
        }
        ("DELETE", ["identity", "conditionalAccess", "policies", id]) => {
            mutate(conditional_access::delete(ctx.tenant, id))
        }
        ("GET", ["me"]) => read(
            me::me(ctx.tenant, ctx.user)
                .map(|r| Reply::json(200, select(&r.body.unwrap_or_default(), query))),
        ),
        ("POST", ["me", "checkMemberGroups"]) => read(me::check_member_groups(ctx.tenant, ctx.user, body)),
        ("GET", ["deviceManagement", "notificationMessageTemplates"]) => {
            read(list_plain(&ctx.tenant.notification_templates.clone(), query, &self_url, ctx.page_size))
        }
        _ => (
            odata::error(
                400,
                "BadRequest",
                &format!("Resource not found for the segment '{}'.", segs.last().unwrap_or(&"")),
            ),
            false,
        ),
    }
}

fn mutate(r: Result<Reply, Reply>) -> (Reply, bool) {
    match r {
        Ok(r) => (r, true),
        Err(e) => (e, false),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn body_object(body: Option<&Value>) -> Result<&Map<String, Value>, Reply> {
    body.and_then(Value::as_object).ok_or_else(|| bad_request("The request body must be a JSON object."))
}

fn list_policies(ctx: &Ctx<'_>, query: &Query, self_url: &str) -> Result<Reply, Reply> {
    if ctx.quirks.refuse_combined_expand
        && query.expands("assignments")
        && query.expands("scheduledActionsForRule")
    {
        return Err(bad_request("Only one navigation property can be expanded in this request."));
    }
    let Some(filter) = query.get("$filter") else {
        // Without a filter the skip token is a position in the tenant's
        // policy order and only the requested page is rendered, so paging
        // through a large tenant costs each page, not the tenant, per request.
        let (from, size, top) = odata::page_bounds(query, ctx.page_size)?;
        let order = &ctx.tenant.policy_order;
        let cut = ctx.quirks.truncate_assignments_over;
        // Serialised straight from the stored policies: a page of a large
        // tenant is written, never built as a JSON tree first.
        let mut slice = Vec::with_capacity(size);
        let mut at = from;
        while at < order.len() && slice.len() < size {
            if let Some(view) = ctx
                .tenant
                .policies
                .get(&order[at])
                .and_then(|p| PolicyView::new(p, ctx.version, query, cut, ctx.base))
            {
                slice.push(view);
            }
            at += 1;
        }
        let more = !top
            && order[at.min(order.len())..]
                .iter()
                .any(|id| ctx.tenant.policies.get(id).is_some_and(|p| visible_in(p, ctx.version)));
        return Ok(odata::page_raw(&slice, more.then_some(at), query, self_url));
    };
    let conds = odata::parse_filter(filter).map_err(|m| bad_request(&m))?;
    let items: Vec<Value> = ctx
        .tenant
        .ordered_policies()
        .filter_map(|p| render(p, ctx.version, query))
        .filter(|v| odata::matches(v, &conds))
        .collect();
    Ok(Reply::json(200, odata::page(items, query, self_url, ctx.page_size)?))
}

/// True if the policy's type exists in `version` (what `render` shows).
fn visible_in(p: &StoredPolicy, version: ApiVersion) -> bool {
    p.properties
        .get("@odata.type")
        .and_then(Value::as_str)
        .and_then(PolicyType::from_odata_type)
        .is_some_and(|ty| ty.min_version() <= version)
}

fn get_policy(ctx: &Ctx<'_>, id: &str, query: &Query) -> Result<Reply, Reply> {
    let p =
        ctx.tenant.policies.get(id).ok_or_else(|| not_found(&format!("deviceCompliancePolicy '{id}'")))?;
    render(p, ctx.version, query)
        .map(|v| Reply::json(200, v))
        .ok_or_else(|| not_found(&format!("deviceCompliancePolicy '{id}'")))
}

fn create_policy(ctx: &mut Ctx<'_>, body: Option<&Value>) -> Result<Reply, Reply> {
    let obj = body_object(body)?;
    let ty = validate::policy_type(ctx.version, obj)?;
    let mut props = validate::properties(ctx.version, ty, obj, &["scheduledActionsForRule"])?;
    if props.get("displayName").and_then(Value::as_str).is_none_or(|n| n.trim().is_empty()) {
        return Err(bad_request("The displayName property is required."));
    }
    let actions = validate::create_actions(ctx.version, obj, ctx.tenant)?;
    let id = uuid::Uuid::new_v4().to_string();
    let ts = now();
    props.insert("@odata.type".into(), Value::String(ty.odata_type()));
    props.insert("id".into(), Value::String(id.clone()));
    props.insert("createdDateTime".into(), Value::String(ts.clone()));
    props.insert("lastModifiedDateTime".into(), Value::String(ts));
    props.insert("version".into(), json!(1));
    let stored = StoredPolicy { properties: props, actions, assignments: Vec::new() };
    let mut rendered = render(&stored, ctx.version, &Query::default()).unwrap_or(Value::Null);
    rendered["@odata.context"] = Value::String(format!(
        "{}/{}/$metadata#deviceManagement/deviceCompliancePolicies/$entity",
        ctx.base,
        ctx.version.segment()
    ));
    ctx.tenant.insert_policy(id, stored);
    Ok(Reply::json(201, rendered))
}

/// The stored policy `id`, or Graph's 404.
fn policy_mut<'t>(tenant: &'t mut Tenant, id: &str) -> Result<&'t mut StoredPolicy, Reply> {
    tenant.policies.get_mut(id).ok_or_else(|| not_found(&format!("deviceCompliancePolicy '{id}'")))
}

fn update_policy(ctx: &mut Ctx<'_>, id: &str, body: Option<&Value>) -> Result<Reply, Reply> {
    let obj = body_object(body)?;
    let version = ctx.version;
    let p = policy_mut(ctx.tenant, id)?;
    let current =
        p.properties.get("@odata.type").and_then(Value::as_str).and_then(PolicyType::from_odata_type);
    let sent = validate::policy_type(version, obj)?;
    if current != Some(sent) {
        return Err(bad_request("The @odata.type of a PATCH must match the policy's type."));
    }
    let changes = validate::properties(version, sent, obj, &[])?;
    if changes.get("displayName").is_some_and(|n| n.as_str().is_none_or(|n| n.trim().is_empty())) {
        return Err(bad_request("The displayName property is required."));
    }
    for (k, v) in changes {
        p.properties.insert(k, v);
    }
    let version_no = p.properties.get("version").and_then(Value::as_i64).unwrap_or(1) + 1;
    p.properties.insert("version".into(), json!(version_no));
    p.properties.insert("lastModifiedDateTime".into(), Value::String(now()));
    Ok(Reply::empty(204))
}

fn schedule_actions(ctx: &mut Ctx<'_>, id: &str, body: Option<&Value>) -> Result<Reply, Reply> {
    let rules = body
        .and_then(|b| b.get("deviceComplianceScheduledActionForRules"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            bad_request("The request body must contain 'deviceComplianceScheduledActionForRules'.")
        })?;
    let mut items = Vec::new();
    for r in rules {
        if let Some(c) = r.get("scheduledActionConfigurations").and_then(Value::as_array) {
            items.extend(c.iter().cloned());
        }
    }
    let actions = validate::action_items(ctx.version, &items, ctx.tenant)?;
    let p = policy_mut(ctx.tenant, id)?;
    p.actions = actions;
    p.properties.insert("lastModifiedDateTime".into(), Value::String(now()));
    Ok(Reply::empty(204))
}

fn list_assignments(ctx: &Ctx<'_>, id: &str, query: &Query, self_url: &str) -> Result<Reply, Reply> {
    let p =
        ctx.tenant.policies.get(id).ok_or_else(|| not_found(&format!("deviceCompliancePolicy '{id}'")))?;
    let items = p.assignments.iter().map(|a| assignment_view(a, ctx.version)).collect();
    Ok(Reply::json(200, odata::page(items, query, self_url, ctx.page_size)?))
}

fn assign(ctx: &mut Ctx<'_>, id: &str, body: Option<&Value>) -> Result<Reply, Reply> {
    let body = body.ok_or_else(|| bad_request("The request body must be a JSON object."))?;
    let targets = validate::assignment_targets(ctx.version, body, ctx.tenant)?;
    let version = ctx.version;
    let p = policy_mut(ctx.tenant, id)?;
    // The posted set replaces every direct assignment; ones from policy sets stay.
    p.assignments.retain(|a| a.get("source").and_then(Value::as_str).is_some_and(|s| s != "direct"));
    for t in targets {
        let key = t.get("groupId").or_else(|| t.get("collectionId")).and_then(Value::as_str).unwrap_or("all");
        p.assignments.push(json!({
            "id": format!("{id}_{key}"),
            "source": "direct",
            "sourceId": id,
            "target": t,
        }));
    }
    let shown: Vec<Value> = p.assignments.iter().map(|a| assignment_view(a, version)).collect();
    Ok(Reply::json(200, json!({"value": shown})))
}

fn list_plain(items: &[Value], query: &Query, self_url: &str, page_size: usize) -> Result<Reply, Reply> {
    let conds = match query.get("$filter") {
        Some(f) => odata::parse_filter(f).map_err(|m| bad_request(&m))?,
        None => Vec::new(),
    };
    let selected: Vec<Value> =
        items.iter().filter(|v| odata::matches(v, &conds)).map(|v| select(v, query)).collect();
    Ok(Reply::json(200, odata::page(selected, query, self_url, page_size)?))
}

fn select(v: &Value, query: &Query) -> Value {
    let Some(sel) = query.get("$select") else { return v.clone() };
    let fields: Vec<&str> = sel.split(',').map(str::trim).collect();
    let mut out = Map::new();
    if let Some(obj) = v.as_object() {
        for (k, val) in obj {
            if k == "id" || fields.contains(&k.as_str()) {
                out.insert(k.clone(), val.clone());
            }
        }
    }
    Value::Object(out)
}

fn find(items: &[Value], id: &str, what: &str) -> Result<Value, Reply> {
    items
        .iter()
        .find(|v| v.get("id").and_then(Value::as_str) == Some(id))
        .cloned()
        .ok_or_else(|| not_found(&format!("{what} '{id}'")))
}
