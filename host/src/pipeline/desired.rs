//! The desired state of one Intune compliance policy, before group and
//! template names are resolved against the tenant.

use serde_json::{Map, Value};

use crate::config::{ActionKind, FilterConfig, Location, Platform};
use crate::graph::schema::{ApiVersion, PolicyType};
use crate::runtime::ThreatLevel;

pub use super::marker::{is_managed, MARKER};

/// An action for noncompliance, names unresolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredAction {
    /// What the action does.
    pub kind: ActionKind,
    /// Hours before the action is taken.
    pub grace_period_hours: u32,
    /// Notification template, by display name or id (notification actions only).
    pub template: Option<String>,
    /// Extra notification recipients: group names or ids.
    pub cc: Vec<String>,
}

/// Assignments by group name or id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DesiredAssignments {
    /// Groups targeted, by name or id as written.
    pub include: Vec<String>,
    /// Groups left out, by name or id as written.
    pub exclude: Vec<String>,
    /// Whether all users are targeted.
    pub all_users: bool,
    /// Whether all devices are targeted.
    pub all_devices: bool,
    /// Assignment filters on included groups, all users or all devices: a
    /// few at most, so a list (a map's first node alone is ~750 bytes, and
    /// a large config has thousands of policies).
    pub filters: Vec<(FilterSubject, FilterConfig)>,
}

/// What an assignment filter narrows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilterSubject {
    /// An included group, as written (name or id).
    Group(String),
    /// The all-users target.
    AllUsers,
    /// The all-devices target.
    AllDevices,
}

impl DesiredAssignments {
    /// From the config's `[policy.assignments]`.
    pub fn from_config(a: &crate::config::AssignmentsConfig) -> Self {
        let mut filters: Vec<(FilterSubject, FilterConfig)> = Vec::new();
        let mut set =
            |subject: FilterSubject, f: FilterConfig| match filters.iter_mut().find(|(s, _)| *s == subject) {
                Some(slot) => slot.1 = f,
                None => filters.push((subject, f)),
            };
        for e in &a.include {
            if let Some(f) = e.get_ref().filter() {
                set(FilterSubject::Group(e.get_ref().group().to_string()), f);
            }
        }
        if let Some(f) = a.all_users.filter() {
            set(FilterSubject::AllUsers, f);
        }
        if let Some(f) = a.all_devices.filter() {
            set(FilterSubject::AllDevices, f);
        }
        filters.shrink_to_fit();
        DesiredAssignments {
            include: a.include.iter().map(|s| s.get_ref().group().to_string()).collect(),
            exclude: a.exclude.iter().map(|s| s.get_ref().clone()).collect(),
            all_users: a.all_users.is_on(),
            all_devices: a.all_devices.is_on(),
            filters,
        }
    }
}

/// One policy as it should be.
#[derive(Debug, Clone)]
pub struct DesiredPolicy {
    /// The Intune display name, platform suffix included.
    pub display_name: String,
    /// The platform the policy is for.
    pub platform: Platform,
    /// Graph API version the policy is written with.
    pub version: ApiVersion,
    /// The admin's description, without the marker.
    pub description: String,
    /// Whether the description carries the marker.
    pub marker: bool,
    /// `[tenant] owner`, written into the marker.
    pub owner: Option<String>,
    /// The plugin whose vocabulary the config's threat level was written in.
    pub partner: Option<String>,
    /// The highest device threat level that stays compliant, in Intune's terms.
    pub max_level: Option<ThreatLevel>,
    /// Extra Graph settings (not the MTD level, name or description).
    pub settings: Map<String, Value>,
    /// Actions for noncompliance; a block at once is added when the config lists none.
    pub actions: Vec<DesiredAction>,
    /// Who the policy applies to, names unresolved.
    pub assignments: DesiredAssignments,
    /// Where the policy is in the config.
    pub location: Location,
    /// What translations and rules did to it, for the plan.
    pub notes: Vec<String>,
}

impl DesiredPolicy {
    /// The Graph policy type for the platform.
    pub fn policy_type(&self) -> PolicyType {
        self.platform.policy_type()
    }

    /// The description as written to Intune: the admin's text plus the marker.
    pub fn graph_description(&self) -> String {
        let d = self.description.trim();
        let marker = super::marker::marker(self.owner.as_deref(), self.policy_type(), &self.display_name);
        if !self.marker {
            self.description.clone()
        } else if d.is_empty() {
            marker
        } else {
            format!("{d} {marker}")
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
