//! Comparing a desired setting with Graph's echo of it. Graph adds
//! `@odata.type` to nested objects, returns `null` for unset members, may
//! reorder collections and writes 6 as 6.0; none of that is a change. Lists
//! of strings and of complex values are compared as sets (Intune keeps no
//! meaningful order in any of the compliance collections), objects by their
//! non-null members.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::SettingChange;
use crate::graph::schema::{Kind, Property};
use crate::graph::RemotePolicy;
use crate::pipeline::DesiredPolicy;

/// Never reset when a managed policy's config leaves them out: the name and
/// description are always written, and scope tags decide who may see the
/// policy (resetting them could lock admins out), so they are compared only
/// when listed.
const NOT_RESET: &[&str] = &["displayName", "description", "roleScopeTagIds"];

/// The canonical form of a value of `kind` for comparison.
pub fn normalize(kind: Kind, v: &Value) -> Value {
    let collection = matches!(kind, Kind::StringList | Kind::Complex);
    let out = canonical(v, collection);
    // An empty collection or string and an unset one mean the same to Intune.
    match &out {
        Value::Array(a) if a.is_empty() && collection => Value::Null,
        Value::String(s) if s.is_empty() && matches!(kind, Kind::Str | Kind::Text) => Value::Null,
        _ => out,
    }
}

fn canonical(v: &Value, unordered: bool) -> Value {
    match v {
        Value::Object(o) => {
            let m: BTreeMap<String, Value> = o
                .iter()
                .filter(|(k, v)| !k.starts_with("@odata.") && !v.is_null())
                .map(|(k, v)| (k.clone(), canonical(v, true)))
                .collect();
            Value::Object(m.into_iter().collect::<Map<String, Value>>())
        }
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(|x| canonical(x, true)).collect();
            if unordered {
                items.sort_by_cached_key(|x| x.to_string());
            }
            Value::Array(items)
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}

/// True if Graph's `have` already is `want` for a property of `kind`.
pub fn same(kind: Kind, have: &Value, want: &Value) -> bool {
    normalize(kind, have) == normalize(kind, want)
}

/// True if `v` is the property's default (null, Graph's "unset", counts).
pub fn is_default(p: &Property, v: &Value) -> bool {
    v.is_null() || p.default_value().is_some_and(|d| same(p.kind, v, &d))
}

/// The settings to change on `existing` so it matches `d`.
///
/// A managed policy (marker on) is all config: every writable property of its
/// type and API version that the config leaves out is planned back to
/// Intune's default (removing `max-threat-level` plans
/// `deviceThreatProtectionEnabled: false`). An adopted policy (`marker =
/// false`) compares only what the config lists.
pub(super) fn settings_diff(d: &DesiredPolicy, existing: &RemotePolicy) -> Vec<SettingChange> {
    let want = d.graph_properties();
    let ty = d.policy_type();
    let kind_of = |k: &str| ty.property(k).map_or(Kind::Complex, |p| p.kind);
    let mut out = Vec::new();
    for (k, v) in want.iter().filter(|(k, _)| *k != "displayName") {
        let have = existing.properties.get(k).map_or(Value::Null, |v| v.into_owned());
        if !same(kind_of(k), &have, v) {
            out.push(SettingChange { property: k.clone(), before: have, after: v.clone() });
        }
    }
    if !d.marker {
        return out;
    }
    for p in ty.properties().filter(|p| p.since <= d.version) {
        if want.contains_key(p.name) || NOT_RESET.contains(&p.name) {
            continue;
        }
        let Some(have) = existing.properties.get(p.name) else { continue };
        if is_default(p, &have) {
            continue;
        }
        // Without a known default there is nothing true to reset to.
        if let Some(default) = p.default_value() {
            out.push(SettingChange {
                property: p.name.to_string(),
                before: have.into_owned(),
                after: default,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_echo_is_not_a_change() {
        let want = json!([{"lowestVersion": "10.0.22631.0", "highestVersion": "10.0.22631.9999", "description": "23H2"},
                          {"lowestVersion": "10.0.26100.0", "highestVersion": "10.0.26100.9999"}]);
        let have = json!([{"@odata.type": "#microsoft.graph.operatingSystemVersionRange", "description": null,
                            "lowestVersion": "10.0.26100.0", "highestVersion": "10.0.26100.9999"},
                          {"@odata.type": "#microsoft.graph.operatingSystemVersionRange", "description": "23H2",
                            "lowestVersion": "10.0.22631.0", "highestVersion": "10.0.22631.9999"}]);
        assert!(same(Kind::Complex, &have, &want));
        assert!(!same(Kind::Complex, &have, &json!([])));
        assert!(same(Kind::Int32, &json!(6.0), &json!(6)));
        assert!(same(Kind::Complex, &json!([]), &Value::Null));
    }
}
