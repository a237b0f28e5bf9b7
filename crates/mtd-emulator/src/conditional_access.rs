//! The emulated Conditional Access policies (`/identity/conditionalAccess/policies`,
//! v1.0 and beta), answering as Entra does per the Graph docs: POST 201 with
//! the policy (unset collections `[]`, unset objects `null`), PATCH 204 with
//! no body (nested objects merge, lists replace), DELETE 204. Bodies are
//! checked against Microsoft's metadata for the CA types, shipped in
//! `data/graph-conditional-access-names.json` — an unknown or mis-cased property is
//! "1007: … does not match the schema", naming nothing, as Graph answers —
//! and against the tenant: group ids must exist, apps are ids or Graph's
//! special values (display names fail). Rule errors carry no invented error
//! numbers: the reference documents only 1007's wording.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::odata::{error, not_found, Reply};
use super::tenant::Tenant;
use mtd_model::schema::ApiVersion;

const SCHEMA_ERROR: &str = "1007: Incoming ConditionalAccessPolicy object is null or does not match the schema of ConditionalAccessPolicy type. For more information, please visit https://aka.ms/CAGraphAPI";

/// Microsoft's names for the CA types, per version (`data/`).
const NAMES: &str = include_str!("data/graph-conditional-access-names.json");

/// Set by Entra, never in a body.
const READ_ONLY: &[&str] = &["id", "createdDateTime", "modifiedDateTime", "templateId"];
const SPECIAL_APPS: &[&str] = &["All", "Office365", "MicrosoftAdminPortals", "None"];

/// The names Microsoft's metadata lists under `kind`/`name` for `version`.
fn names(version: ApiVersion, kind: &str, name: &str) -> &'static [String] {
    static PARSED: OnceLock<Value> = OnceLock::new();
    static LISTS: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    let lists = LISTS.get_or_init(|| {
        let v = PARSED.get_or_init(|| {
            serde_json::from_str(NAMES)
                .unwrap_or_else(|e| panic!("the emulator's CA metadata is broken: {e}"))
        });
        let mut out = BTreeMap::new();
        for ver in ["v1.0", "beta"] {
            for k in ["entityTypes", "complexTypes", "enumTypes"] {
                for (n, list) in v[ver][k].as_object().into_iter().flatten() {
                    let items =
                        list.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string);
                    out.insert(format!("{ver}/{k}/{n}"), items.collect());
                }
            }
        }
        out
    });
    lists.get(&format!("{}/{kind}/{name}", version.segment())).map(Vec::as_slice).unwrap_or_default()
}

fn member(version: ApiVersion, kind: &str, name: &str, word: &str) -> bool {
    names(version, kind, name).iter().any(|n| n == word)
}

fn schema_error() -> Reply {
    error(400, "BadRequest", SCHEMA_ERROR)
}

fn rule_error(message: &str) -> Reply {
    error(400, "BadRequest", message)
}

fn guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// Only `allowed` keys, in an object (or null).
fn only<'v>(v: &'v Value, ty: &str, version: ApiVersion) -> Result<Option<&'v Map<String, Value>>, Reply> {
    match v {
        Value::Null => Ok(None),
        Value::Object(o) => {
            if o.keys().any(|k| !k.starts_with('@') && !member(version, "complexTypes", ty, k)) {
                return Err(schema_error());
            }
            Ok(Some(o))
        }
        _ => Err(schema_error()),
    }
}

/// A list of strings (or null), each a member of enum `members` when given.
fn words<'v>(v: Option<&'v Value>, members: Option<(ApiVersion, &str)>) -> Result<Vec<&'v str>, Reply> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for i in items {
                let s = i.as_str().ok_or_else(schema_error)?;
                if members.is_some_and(|(version, e)| !member(version, "enumTypes", e, s)) {
                    return Err(schema_error());
                }
                out.push(s);
            }
            Ok(out)
        }
        Some(_) => Err(schema_error()),
    }
}

/// Checks a full (POST) or partial (PATCH) body.
fn check(tenant: &Tenant, version: ApiVersion, body: &Map<String, Value>) -> Result<(), Reply> {
    let top =
        |k: &str| member(version, "entityTypes", "conditionalAccessPolicy", k) && !READ_ONLY.contains(&k);
    if body.keys().any(|k| !top(k) && k != "@odata.type") {
        return Err(schema_error());
    }
    if let Some(s) = body.get("state") {
        if !s.as_str().is_some_and(|s| member(version, "enumTypes", "conditionalAccessPolicyState", s)) {
            return Err(schema_error());
        }
    }
    for k in ["displayName", "description"] {
        if body.get(k).is_some_and(|v| !(v.is_string() || k == "description" && v.is_null())) {
            return Err(schema_error());
        }
    }
    if let Some(c) = body.get("conditions") {
        let c = only(c, "conditionalAccessConditionSet", version)?.cloned().unwrap_or_default();
        if let Some(u) = c.get("users") {
            if let Some(u) = only(u, "conditionalAccessUsers", version)? {
                for k in ["includeGroups", "excludeGroups"] {
                    for id in words(u.get(k), None)? {
                        let exists = tenant
                            .groups
                            .iter()
                            .any(|g| g["id"].as_str().is_some_and(|g| g.eq_ignore_ascii_case(id)));
                        if !exists {
                            return Err(rule_error(&format!(
                                "Invalid group id '{id}' in {k}: the group does not exist in the directory."
                            )));
                        }
                    }
                }
                for k in ["includeUsers", "excludeUsers"] {
                    for id in words(u.get(k), None)? {
                        if !guid(id) && !matches!(id, "All" | "None" | "GuestsOrExternalUsers") {
                            return Err(rule_error(&format!("Invalid user id '{id}' in {k}.")));
                        }
                    }
                }
            }
        }
        if let Some(a) = c.get("applications") {
            if let Some(a) = only(a, "conditionalAccessApplications", version)? {
                for k in ["includeApplications", "excludeApplications"] {
                    for app in words(a.get(k), None)? {
                        if !guid(app) && !SPECIAL_APPS.contains(&app) {
                            return Err(rule_error(&format!(
                                "Application '{app}' in {k} is not a valid application id."
                            )));
                        }
                    }
                }
            }
        }
        if let Some(p) = c.get("platforms") {
            if let Some(p) = only(p, "conditionalAccessPlatforms", version)? {
                words(p.get("includePlatforms"), Some((version, "conditionalAccessDevicePlatform")))?;
                words(p.get("excludePlatforms"), Some((version, "conditionalAccessDevicePlatform")))?;
            }
        }
        words(c.get("clientAppTypes"), Some((version, "conditionalAccessClientApp")))?;
    }
    if let Some(g) = body.get("grantControls") {
        if let Some(g) = only(g, "conditionalAccessGrantControls", version)? {
            if g.get("operator").is_some_and(|op| !matches!(op.as_str(), Some("AND" | "OR"))) {
                return Err(schema_error());
            }
            words(g.get("builtInControls"), Some((version, "conditionalAccessGrantControl")))?;
        }
    }
    Ok(())
}

/// A stored policy with every unset collection `[]` and object `null`, as Graph returns it.
fn dressed(mut p: Map<String, Value>, version: ApiVersion) -> Map<String, Value> {
    let c = p.entry("conditions").or_insert_with(|| json!({}));
    if let Some(c) = c.as_object_mut() {
        for k in ["userRiskLevels", "signInRiskLevels", "servicePrincipalRiskLevels"] {
            c.entry(k).or_insert_with(|| json!([]));
        }
        for k in ["platforms", "locations", "devices", "clientApplications"] {
            c.entry(k).or_insert(Value::Null);
        }
        c.entry("clientAppTypes").or_insert_with(|| json!([]));
        if let Some(u) = c.get_mut("users").and_then(Value::as_object_mut) {
            for k in [
                "includeUsers",
                "excludeUsers",
                "includeGroups",
                "excludeGroups",
                "includeRoles",
                "excludeRoles",
            ] {
                u.entry(k).or_insert_with(|| json!([]));
            }
        }
        if let Some(a) = c.get_mut("applications").and_then(Value::as_object_mut) {
            for k in [
                "includeApplications",
                "excludeApplications",
                "includeUserActions",
                "includeAuthenticationContextClassReferences",
            ] {
                a.entry(k).or_insert_with(|| json!([]));
            }
        }
    }
    if let Some(g) = p.get_mut("grantControls").and_then(Value::as_object_mut) {
        for k in ["builtInControls", "customAuthenticationFactors", "termsOfUse"] {
            g.entry(k).or_insert_with(|| json!([]));
        }
    }
    p.entry("grantControls").or_insert(Value::Null);
    p.entry("sessionControls").or_insert(Value::Null);
    p.entry("description").or_insert(Value::Null);
    // templateId is in the v1.0 schema only.
    if version == ApiVersion::V1 {
        p.entry("templateId").or_insert(Value::Null);
    }
    p
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// POST: 201 with the stored policy.
pub(crate) fn create(tenant: &mut Tenant, version: ApiVersion, body: Option<&Value>) -> Result<Reply, Reply> {
    let body = body.and_then(Value::as_object).ok_or_else(schema_error)?;
    check(tenant, version, body)?;
    let missing = |path: &[&str]| {
        let mut v = body.get(path[0]);
        for p in &path[1..] {
            v = v.and_then(|x| x.get(p));
        }
        v.is_none_or(Value::is_null)
    };
    for required in
        [&["displayName"][..], &["state"], &["conditions", "applications"], &["conditions", "users"]]
    {
        if missing(required) {
            return Err(rule_error(&format!("{} is required.", required.join("."))));
        }
    }
    if missing(&["grantControls"]) && missing(&["sessionControls"]) {
        return Err(rule_error("grantControls or sessionControls is required."));
    }
    let mut p: Map<String, Value> =
        body.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.clone(), v.clone())).collect();
    p.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    p.insert("createdDateTime".into(), json!(now()));
    p.insert("modifiedDateTime".into(), Value::Null);
    let p = dressed(p, version);
    tenant.conditional_access.push(Value::Object(p.clone()));
    Ok(Reply::json(201, Value::Object(p)))
}

/// Merges `patch` into `into`: objects member by member, everything else replaced.
fn merge(into: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match (into.get_mut(k), v) {
            (Some(Value::Object(have)), Value::Object(new)) => merge(have, new),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// PATCH: 204, no body.
pub(crate) fn update(
    tenant: &mut Tenant,
    version: ApiVersion,
    id: &str,
    body: Option<&Value>,
) -> Result<Reply, Reply> {
    let body = body.and_then(Value::as_object).ok_or_else(schema_error)?;
    check(tenant, version, body)?;
    let stored = tenant
        .conditional_access
        .iter_mut()
        .find(|p| p["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
        .ok_or_else(|| not_found(&format!("conditionalAccessPolicy '{id}'")))?;
    if let Some(o) = stored.as_object_mut() {
        let patch: Map<String, Value> =
            body.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.clone(), v.clone())).collect();
        merge(o, &patch);
        o.insert("modifiedDateTime".into(), json!(now()));
        let again = dressed(std::mem::take(o), version);
        *o = again;
    }
    Ok(Reply::empty(204))
}

/// DELETE: 204.
pub(crate) fn delete(tenant: &mut Tenant, id: &str) -> Result<Reply, Reply> {
    let before = tenant.conditional_access.len();
    tenant.conditional_access.retain(|p| !p["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)));
    if tenant.conditional_access.len() == before {
        return Err(not_found(&format!("conditionalAccessPolicy '{id}'")));
    }
    Ok(Reply::empty(204))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtd_model::{check_ca_body, CaPlatform, CaState, ClientApp, GrantControl};

    /// The client's words are Microsoft's members, in both versions.
    #[test]
    fn the_clients_words_are_microsofts_members() {
        for v in [ApiVersion::V1, ApiVersion::Beta] {
            for p in CaPlatform::ALL {
                assert!(member(v, "enumTypes", "conditionalAccessDevicePlatform", p.graph_name()), "{p:?}");
            }
            for g in GrantControl::ALL {
                assert!(member(v, "enumTypes", "conditionalAccessGrantControl", g.graph_name()), "{g:?}");
            }
            for c in ClientApp::ALL {
                assert!(member(v, "enumTypes", "conditionalAccessClientApp", c.graph_name()), "{c:?}");
            }
            for s in [CaState::ReportOnly, CaState::On, CaState::Off] {
                assert!(member(v, "enumTypes", "conditionalAccessPolicyState", s.graph_name()), "{s:?}");
            }
        }
    }

    /// Every member Microsoft lists for the parts a PATCH sends back as read
    /// passes the client's check, and a name Microsoft does not list fails it.
    #[test]
    fn the_clients_body_check_accepts_microsofts_members_only() {
        let v = ApiVersion::V1;
        let object = |ty: &str| -> Value {
            Value::Object(names(v, "complexTypes", ty).iter().map(|n| (n.clone(), Value::Null)).collect())
        };
        let mut body = json!({
            "conditions": {"users": object("conditionalAccessUsers"), "applications": object("conditionalAccessApplications"),
                "platforms": object("conditionalAccessPlatforms"), "clientAppTypes": []},
            "grantControls": object("conditionalAccessGrantControls"),
        });
        body["grantControls"]["operator"] = json!("OR");
        assert_eq!(check_ca_body(&body), Vec::<String>::new());
        for (part, bad) in
            [("users", "includeGroup"), ("applications", "includeApps"), ("platforms", "include")]
        {
            let mut b = body.clone();
            b["conditions"][part][bad] = json!([]);
            assert!(!check_ca_body(&b).is_empty(), "{part}.{bad}");
            assert!(!member(v, "complexTypes", "conditionalAccessUsers", bad));
        }
    }
}
