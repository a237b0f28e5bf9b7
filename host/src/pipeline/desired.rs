//! The desired state of one Intune compliance policy, before group and
//! template names are resolved against the tenant.

use serde_json::{Map, Value};

use crate::config::{ActionKind, Location, Platform};
use crate::graph::schema::{ApiVersion, PolicyType};
use crate::runtime::ThreatLevel;

/// Ends the description of every policy mtdhost manages; `--prune` deletes
/// only policies that carry it.
pub const MARKER: &str = "[managed by mtdhost]";

/// An action for noncompliance, names unresolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredAction {
    pub kind: ActionKind,
    pub grace_period_hours: u32,
    pub template: Option<String>,
    pub cc: Vec<String>,
}

/// Assignments by group name or id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DesiredAssignments {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub all_users: bool,
    pub all_devices: bool,
}

/// One policy as it should be.
#[derive(Debug, Clone)]
pub struct DesiredPolicy {
    pub display_name: String,
    pub platform: Platform,
    pub version: ApiVersion,
    /// The admin's description, without the marker.
    pub description: String,
    /// Whether the description carries the marker.
    pub marker: bool,
    pub partner: Option<String>,
    pub max_level: Option<ThreatLevel>,
    /// Extra Graph settings (not the MTD level, name or description).
    pub settings: Map<String, Value>,
    pub actions: Vec<DesiredAction>,
    pub assignments: DesiredAssignments,
    /// Where the policy is in the config.
    pub location: Location,
    /// What translations and rules did to it, for the plan.
    pub notes: Vec<String>,
}

impl DesiredPolicy {
    pub fn policy_type(&self) -> PolicyType {
        self.platform.policy_type()
    }

    /// The description as written to Intune: the admin's text plus the marker.
    pub fn graph_description(&self) -> String {
        let d = self.description.trim();
        if !self.marker {
            self.description.clone()
        } else if d.is_empty() {
            MARKER.to_string()
        } else {
            format!("{d} {MARKER}")
        }
    }

    /// Every property mtdhost manages on this policy, as Graph spells them.
    pub fn graph_properties(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("displayName".into(), Value::String(self.display_name.clone()));
        m.insert("description".into(), Value::String(self.graph_description()));
        if let Some(level) = self.max_level {
            m.insert("deviceThreatProtectionEnabled".into(), Value::Bool(true));
            m.insert(
                "deviceThreatProtectionRequiredSecurityLevel".into(),
                Value::String(level.as_str().into()),
            );
        }
        for (k, v) in &self.settings {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

/// True if a description carries mtdhost's marker.
pub fn is_managed(description: &str) -> bool {
    description.trim_end().ends_with(MARKER)
}
