//! Assignments of a compliance policy as Graph beta shows them: the target
//! (a group, an exclusion group, all users, all devices, a Configuration
//! Manager collection), the assignment filter on it, and where the
//! assignment comes from (`direct`, or a policy set that mtdhost does not
//! manage).
//!
//! Reading never drops what it cannot understand: an unknown target type or
//! a malformed filter is an error string naming the field and value, and the
//! caller decides whether that stops the plan (a policy mtdhost would
//! re-assign: `/assign` replaces the whole set, so an unread assignment would
//! be deleted) or is a warning (anything else).

use serde_json::{json, Map, Value};

/// Who a policy is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssignmentTarget {
    /// An Entra ID group, included.
    Group(String),
    /// An Entra ID group, excluded.
    ExclusionGroup(String),
    /// All users.
    AllLicensedUsers,
    /// All devices.
    AllDevices,
    /// A Configuration Manager collection (read, never written).
    ConfigurationManagerCollection(String),
}

/// How an assignment filter narrows a target (`deviceAndAppManagementAssignmentFilterType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FilterMode {
    /// Only devices the filter matches.
    Include,
    /// All but the devices the filter matches.
    Exclude,
}

impl FilterMode {
    /// Graph's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterMode::Include => "include",
            FilterMode::Exclude => "exclude",
        }
    }

    /// Parses Graph's spelling.
    pub fn parse(s: &str) -> Option<FilterMode> {
        match s {
            "include" => Some(FilterMode::Include),
            "exclude" => Some(FilterMode::Exclude),
            _ => None,
        }
    }
}

/// An assignment filter on a target (beta only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssignmentFilter {
    /// The `deviceAndAppManagementAssignmentFilter` id.
    pub id: String,
    /// Include or exclude the matched devices.
    pub mode: FilterMode,
}

/// A target with its optional filter: one entry of an `/assign` body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// Who is targeted.
    pub kind: AssignmentTarget,
    /// The assignment filter, if any.
    pub filter: Option<AssignmentFilter>,
}

impl From<AssignmentTarget> for Target {
    fn from(kind: AssignmentTarget) -> Self {
        Target { kind, filter: None }
    }
}

impl From<&AssignmentTarget> for Target {
    fn from(kind: &AssignmentTarget) -> Self {
        Target { kind: kind.clone(), filter: None }
    }
}

impl From<&Target> for Target {
    fn from(t: &Target) -> Self {
        t.clone()
    }
}

const FILTER_ID: &str = "deviceAndAppManagementAssignmentFilterId";
const FILTER_TYPE: &str = "deviceAndAppManagementAssignmentFilterType";
const NO_FILTER_ID: &str = "00000000-0000-0000-0000-000000000000";

impl AssignmentTarget {
    /// The `target` object for `/assign` (no filter).
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

    /// Parses a `target` object's kind; Err names the field and value.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let raw = v
            .get("@odata.type")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("target has no @odata.type: {}", v))?;
        let ty = raw.trim_start_matches('#').trim_start_matches("microsoft.graph.");
        let id = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("{ty}: field '{k}' has value {}", v.get(k).unwrap_or(&Value::Null)))
        };
        Ok(match ty {
            "groupAssignmentTarget" => AssignmentTarget::Group(id("groupId")?),
            "exclusionGroupAssignmentTarget" => AssignmentTarget::ExclusionGroup(id("groupId")?),
            "allLicensedUsersAssignmentTarget" => AssignmentTarget::AllLicensedUsers,
            "allDevicesAssignmentTarget" => AssignmentTarget::AllDevices,
            "configurationManagerCollectionAssignmentTarget" => {
                AssignmentTarget::ConfigurationManagerCollection(id("collectionId")?)
            }
            other => {
                return Err(format!(
                    "field 'target.@odata.type' has value \"{other}\", a target type mtdhost does not know"
                ))
            }
        })
    }
}

impl Target {
    /// The `target` object, with the filter fields when there is a filter.
    pub fn to_json(&self) -> Value {
        let mut v = self.kind.to_json();
        if let (Some(f), Some(o)) = (&self.filter, v.as_object_mut()) {
            o.insert(FILTER_ID.into(), Value::String(f.id.clone()));
            o.insert(FILTER_TYPE.into(), Value::String(f.mode.as_str().into()));
        }
        v
    }

    /// Parses a `target` object with its filter; `none`, a null id or the
    /// all-zero id mean no filter.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let kind = AssignmentTarget::from_json(v)?;
        let id = match v.get(FILTER_ID) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() || s == NO_FILTER_ID => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(format!("field 'target.{FILTER_ID}' has value {other}")),
        };
        let mode = match v.get(FILTER_TYPE) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s == "none" => None,
            Some(Value::String(s)) => Some(
                FilterMode::parse(s)
                    .ok_or_else(|| format!("field 'target.{FILTER_TYPE}' has value \"{s}\""))?,
            ),
            Some(other) => return Err(format!("field 'target.{FILTER_TYPE}' has value {other}")),
        };
        let filter = match (id, mode) {
            (Some(id), Some(mode)) => Some(AssignmentFilter { id, mode }),
            (None, None) => None,
            (Some(id), None) => {
                return Err(format!(
                    "filter {id} has no include/exclude mode ('{FILTER_TYPE}' is none or missing)"
                ))
            }
            (None, Some(mode)) => {
                return Err(format!("'{FILTER_TYPE}' is {} but there is no filter id", mode.as_str()))
            }
        };
        Ok(Target { kind, filter })
    }

    /// True if the target carries a filter (which only beta accepts).
    pub fn has_filter(&self) -> bool {
        self.filter.is_some()
    }
}

/// An assignment as read back from Graph (beta: with its source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The assignment's id.
    pub id: String,
    /// Who it targets.
    pub target: Target,
    /// `direct`, or `policySets` when it comes from a policy set (not ours
    /// to manage). Absent (v1.0) means direct.
    pub source: Option<String>,
    /// The policy set's id when `source` is `policySets`.
    pub source_id: Option<String>,
}

impl Assignment {
    /// True unless it comes from a policy set.
    pub fn is_direct(&self) -> bool {
        self.source.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("direct"))
    }

    /// The policy set this assignment comes from, if any.
    pub fn policy_set(&self) -> Option<&str> {
        if self.is_direct() {
            None
        } else {
            Some(self.source_id.as_deref().unwrap_or("(unknown policy set)"))
        }
    }

    /// Parses one `deviceCompliancePolicyAssignment`; Err names the field and value.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let s = |k: &str| match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("field '{k}' has value {other}")),
        };
        let target = v.get("target").ok_or_else(|| "assignment has no 'target'".to_string())?;
        Ok(Assignment {
            id: s("id")?.unwrap_or_default(),
            target: Target::from_json(target)?,
            source: s("source")?,
            source_id: s("sourceId")?,
        })
    }
}

/// The body of `/assign`: the complete set of direct assignments.
pub(crate) fn assign_body(targets: &[Target]) -> Value {
    let list: Vec<Value> = targets
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("target".into(), t.to_json());
            Value::Object(m)
        })
        .collect();
    json!({ "assignments": list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_and_none_means_none() {
        let t = Target {
            kind: AssignmentTarget::Group("g".into()),
            filter: Some(AssignmentFilter { id: "f".into(), mode: FilterMode::Exclude }),
        };
        assert_eq!(Target::from_json(&t.to_json()).unwrap(), t);
        let plain = json!({"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget",
            FILTER_ID: null, FILTER_TYPE: "none"});
        assert_eq!(Target::from_json(&plain).unwrap(), Target::from(AssignmentTarget::AllDevices));
        let odd = json!({"@odata.type": "#microsoft.graph.someFutureTarget"});
        assert!(Target::from_json(&odd).unwrap_err().contains("someFutureTarget"));
    }
}
