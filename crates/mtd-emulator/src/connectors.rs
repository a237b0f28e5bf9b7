//! The emulated MTD connectors: list and get show each version's own
//! properties and partner states (v1.0 has no mac switches and reports beta's
//! newer states as `unknownFutureValue`); PATCH takes writable properties of
//! the version only — read-only, unknown and mistyped ones are refused as
//! Graph refuses them — and answers 200 with the updated entity, as the
//! Graph docs say. Connectors are set up by partners: there is no POST.

use serde_json::{Map, Value};

use super::metadata::{self, MetaKind};
use super::odata::{bad_request, not_found, Reply};
use super::tenant::Tenant;
use mtd_model::schema::ApiVersion;

const TYPE: &str = "microsoft.graph.mobileThreatDefenseConnector";

/// Set by Intune or the partner (Graph docs: id, lastHeartbeatDateTime, partnerState).
const READ_ONLY: &[&str] = &["id", "lastHeartbeatDateTime", "partnerState"];

/// A stored connector as `version` shows it.
pub(crate) fn view(c: &Value, version: ApiVersion) -> Value {
    let props = metadata::connector_properties(version);
    let mut out = Map::new();
    for (k, v) in c.as_object().into_iter().flatten() {
        if k == "id" || props.iter().any(|p| &p.name == k) {
            out.insert(k.clone(), v.clone());
        }
    }
    if version == ApiVersion::V1 {
        let state = out.get("partnerState").and_then(Value::as_str);
        let known = props.iter().find(|p| p.name == "partnerState").and_then(|p| match &p.kind {
            MetaKind::Enum(members) => Some(members),
            _ => None,
        });
        if let (Some(s), Some(members)) = (state, known) {
            if !members.iter().any(|m| m == s) {
                out.insert("partnerState".into(), Value::String("unknownFutureValue".into()));
            }
        }
    }
    Value::Object(out)
}

fn check(version: ApiVersion, k: &str, v: &Value) -> Result<(), Reply> {
    if k == "@odata.type" {
        return match v.as_str().map(|t| t.trim_start_matches('#')) {
            Some(TYPE) => Ok(()),
            _ => Err(bad_request(&format!(
                "A type named '{}' could not be resolved by the model.",
                v.as_str().unwrap_or_default().trim_start_matches('#')
            ))),
        };
    }
    if READ_ONLY.contains(&k) {
        return Err(bad_request(&format!("The property '{k}' is read-only and cannot be set on '{TYPE}'.")));
    }
    let Some(p) = metadata::connector_properties(version).iter().find(|p| p.name == k) else {
        return Err(bad_request(&format!(
            "The property '{k}' does not exist on type '{TYPE}'. Make sure to only use property names that are defined by the type or mark the type as open type."
        )));
    };
    // v1.0's connector properties are all non-nullable.
    if v.is_null() && !p.default.is_null() {
        return Err(bad_request(&format!("A null value was found for the property named '{k}', which has the expected type 'Edm.Boolean[Nullable=False]'.")));
    }
    match metadata::check(p, v) {
        None => Ok(()),
        Some(_) => Err(bad_request(&format!("Cannot convert the value of property '{k}' on '{TYPE}'."))),
    }
}

/// PATCH `/deviceManagement/mobileThreatDefenseConnectors/{id}`.
pub(crate) fn patch(
    tenant: &mut Tenant,
    version: ApiVersion,
    id: &str,
    body: Option<&Value>,
) -> Result<Reply, Reply> {
    let body = body
        .and_then(Value::as_object)
        .ok_or_else(|| bad_request("The request body must be a JSON object."))?;
    for (k, v) in body {
        check(version, k, v)?;
    }
    let stored = tenant
        .connectors
        .iter_mut()
        .find(|c| c.get("id").and_then(Value::as_str).is_some_and(|i| i.eq_ignore_ascii_case(id)))
        .ok_or_else(|| not_found(&format!("mobileThreatDefenseConnector '{id}'")))?;
    if let Some(o) = stored.as_object_mut() {
        for (k, v) in body.iter().filter(|(k, _)| !k.starts_with('@')) {
            o.insert(k.clone(), v.clone());
        }
    }
    let mut shown = view(stored, version);
    if let Some(o) = shown.as_object_mut() {
        o.insert("@odata.type".into(), Value::String(format!("#{TYPE}")));
    }
    Ok(Reply::json(200, shown))
}
