//! How a stored compliance policy is shown: every property of its type in
//! the asked version (the default where unset, beta-only ones hidden on
//! v1.0), the expansions the query asks for, and the assignment shape of
//! the version (v1.0 has no `source` or filter).
//!
//! [`PolicyView`] serialises straight from the stored policy, borrowing, so
//! a page of a large tenant is written without first building a JSON tree;
//! [`render`] is the same view as a `Value` for the few places that need one.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};

use super::metadata::{self, MetaKind};
use super::odata::Query;
use super::tenant::StoredPolicy;
use mtd_model::schema::{ApiVersion, PolicyType};

const BASE_PROPS: &[&str] = &[
    "@odata.type",
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "version",
    "displayName",
    "description",
];

/// An assignment as `version` shows it.
pub(crate) fn assignment_view(a: &Value, version: ApiVersion) -> Value {
    let mut v = a.clone();
    let Some(o) = v.as_object_mut() else { return v };
    if version == ApiVersion::V1 {
        o.remove("source");
        o.remove("sourceId");
        if let Some(t) = o.get_mut("target").and_then(Value::as_object_mut) {
            t.remove("deviceAndAppManagementAssignmentFilterId");
            t.remove("deviceAndAppManagementAssignmentFilterType");
        }
    } else {
        o.entry("source").or_insert_with(|| Value::String("direct".into()));
        o.entry("sourceId").or_insert(Value::Null);
        if let Some(t) = o.get_mut("target").and_then(Value::as_object_mut) {
            t.entry("deviceAndAppManagementAssignmentFilterId").or_insert(Value::Null);
            t.entry("deviceAndAppManagementAssignmentFilterType")
                .or_insert_with(|| Value::String("none".into()));
        }
    }
    v
}

/// One policy as Graph returns it, ready to serialise.
pub(crate) struct PolicyView<'a> {
    p: &'a StoredPolicy,
    ty: PolicyType,
    version: ApiVersion,
    query: &'a Query,
    /// Cut the assignments expansion after this many (a production quirk).
    cut: Option<usize>,
    /// Roots the next link of a cut expansion.
    base: &'a str,
}

impl<'a> PolicyView<'a> {
    /// The view, or none if the policy's type does not exist in `version`.
    pub(crate) fn new(
        p: &'a StoredPolicy,
        version: ApiVersion,
        query: &'a Query,
        cut: Option<usize>,
        base: &'a str,
    ) -> Option<Self> {
        let ty = PolicyType::from_odata_type(p.properties.get("@odata.type")?.as_str()?)?;
        (ty.min_version() <= version).then_some(PolicyView { p, ty, version, query, cut, base })
    }
}

impl Serialize for PolicyView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let props = &self.p.properties;
        let mut m = s.serialize_map(None)?;
        let schema = metadata::properties(self.ty, self.version);
        for k in BASE_PROPS {
            // A schema property of the same name is shown once, as below.
            if !schema.iter().any(|p| p.name == *k) {
                m.serialize_entry(k, props.get(*k).unwrap_or(&Value::Null))?;
            }
        }
        for prop in schema {
            let v = props.get(&prop.name).unwrap_or(&prop.default);
            if matches!(prop.kind, MetaKind::Complex { .. }) {
                m.serialize_entry(&prop.name, &metadata::echo(prop, v.clone()))?;
            } else {
                m.serialize_entry(&prop.name, v)?;
            }
        }
        if self.query.expands("scheduledActionsForRule") {
            let id = props.get("id").and_then(Value::as_str).unwrap_or("");
            let mut rule = json!({"id": format!("{id}_rule"), "ruleName": "PasswordRequired"});
            if self.query.expands_nested("scheduledActionsForRule", "scheduledActionConfigurations") {
                rule["scheduledActionConfigurations"] = Value::Array(self.p.actions.clone());
            }
            m.serialize_entry("scheduledActionsForRule", &[rule])?;
        }
        if self.query.expands("assignments") {
            let all = self.p.assignments.iter().map(|a| assignment_view(a, self.version));
            match self.cut {
                Some(k) if self.p.assignments.len() > k => {
                    let id = props.get("id").and_then(Value::as_str).unwrap_or_default();
                    m.serialize_entry("assignments", &all.take(k).collect::<Vec<_>>())?;
                    m.serialize_entry(
                        "assignments@odata.nextLink",
                        &format!(
                            "{}/{}/deviceManagement/deviceCompliancePolicies/{id}/assignments?$skiptoken={k}",
                            self.base,
                            self.version.segment()
                        ),
                    )?;
                }
                _ => m.serialize_entry("assignments", &all.collect::<Vec<_>>())?,
            }
        }
        m.end()
    }
}

/// A policy as Graph returns it in `version`, as a `Value`.
pub(crate) fn render(p: &StoredPolicy, version: ApiVersion, query: &Query) -> Option<Value> {
    PolicyView::new(p, version, query, None, "").and_then(|v| serde_json::to_value(v).ok())
}
