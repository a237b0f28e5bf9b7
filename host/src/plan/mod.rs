//! Planning: compare the desired state with the tenant and decide, per
//! policy, create / update / unchanged / delete, with a per-field diff of
//! settings, actions for noncompliance and assignments.
//!
//! Policies match by display name AND type. A name+type that exists more
//! than once in the tenant stops the plan (we refuse to guess), and so does
//! any group or template name that resolves to nothing or to several objects.
//! Planning only reads; nothing is written until `apply` runs the plan.

mod apply;
mod ca_change;
mod ca_lockout;
mod compare;
mod compliance;
mod compute;
mod conditional_access;
mod connectors;
mod kind;
mod matching;
mod prune;
mod render;
mod resolve;
mod settle;
mod targets;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use apply::{apply, ApplyProgress, ApplySummary};
pub use ca_change::CaChange;
pub use compare::{is_default, normalize, same};
pub use compute::{compute, compute_all, compute_with, connector_warnings, PlanOptions};
pub use connectors::ConnectorChange;
use kind::Applicable;
pub use matching::{Keyed, Matches, PolicyKey};
pub use render::{other_kinds, render_json, render_text};
pub use resolve::{is_guid, Resolver, Wanted};

use crate::graph::schema::{ApiVersion, PolicyType};
use crate::graph::GraphError;
use crate::graph::{ActionItem, Target};

/// What happens to one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The policy is not in the tenant and will be created.
    Create,
    /// The policy exists and some of it will change.
    Update,
    /// The policy already matches the config.
    Unchanged,
    /// A managed policy the config no longer names will be deleted (`--prune`).
    Delete,
}

impl ChangeKind {
    /// The kind's lowercase name, as written in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Create => "create",
            ChangeKind::Update => "update",
            ChangeKind::Unchanged => "unchanged",
            ChangeKind::Delete => "delete",
        }
    }
}

/// One changed property.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingChange {
    /// Graph property name.
    pub property: String,
    /// Null when the property is new.
    pub before: Value,
    /// The value the plan sets.
    pub after: Value,
}

/// Before and after of a list-valued part of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ListChange<T> {
    /// The list as the tenant has it now.
    pub before: Vec<T>,
    /// The list once the change is applied.
    pub after: Vec<T>,
}

/// The planned change to one policy.
#[derive(Debug, Clone)]
pub struct Change {
    /// What happens to the policy.
    pub kind: ChangeKind,
    /// The policy's display name.
    pub name: String,
    /// The compliance policy's Graph type.
    pub policy_type: PolicyType,
    /// Graph API version the policy's writes are sent on.
    pub version: ApiVersion,
    /// The tenant policy's id; none for create.
    pub id: Option<String>,
    /// For create: every managed property; for update: the changed ones.
    pub settings: Vec<SettingChange>,
    /// Set when the actions change (always for create).
    pub actions: Option<ListChange<ActionItem>>,
    /// Set when the direct assignments change (for create: when there are any).
    pub assignments: Option<ListChange<Target>>,
    /// Assignments from policy sets: shown, never posted, never planned away.
    pub inherited: Vec<String>,
    /// Where the policy is defined, and what plugins did to it.
    pub origin: Option<String>,
    /// Remarks shown with the change, such as how a threat level was translated or why it is deleted.
    pub notes: Vec<String>,
    /// The full desired property set (used by create).
    pub body: Map<String, Value>,
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Which tenant was read.
    pub tenant: String,
    /// One change per policy, unchanged ones included.
    pub changes: Vec<Change>,
    /// One change per connector the config names, unchanged ones included.
    pub connectors: Vec<ConnectorChange>,
    /// One change per Conditional Access policy the config names, unchanged
    /// ones included, then deletes (`--prune`).
    pub conditional_access: Vec<CaChange>,
    /// Problems that do not stop the plan, sorted and without duplicates.
    pub warnings: Vec<String>,
    /// Group id → display name, for showing assignments.
    pub group_names: BTreeMap<String, String>,
    /// Template id → display name.
    pub template_names: BTreeMap<String, String>,
    /// Assignment filter id → display name.
    pub filter_names: BTreeMap<String, String>,
    /// Whether the plan was made with `--prune`, so it may delete policies.
    pub prune: bool,
}

impl Plan {
    /// Every change of every kind in the order they are applied: connectors
    /// (the prerequisite the threat levels come through), compliance
    /// policies, then the Conditional Access that enforces them.
    pub(crate) fn applicable(&self) -> impl Iterator<Item = &dyn Applicable> {
        let connectors = self.connectors.iter().map(|c| c as &dyn Applicable);
        let policies = self.changes.iter().map(|c| c as &dyn Applicable);
        connectors.chain(policies).chain(self.conditional_access.iter().map(|c| c as &dyn Applicable))
    }

    /// The changes grouped by kind, in the order the kinds are applied.
    pub(crate) fn phases(&self) -> [Vec<&dyn Applicable>; 3] {
        [
            self.connectors.iter().map(|c| c as &dyn Applicable).collect(),
            self.changes.iter().map(|c| c as &dyn Applicable).collect(),
            self.conditional_access.iter().map(|c| c as &dyn Applicable).collect(),
        ]
    }

    /// How many changes (of any kind) are of `kind`.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.applicable().filter(|c| c.change_kind() == kind).count()
    }

    /// True if applying would write anything.
    pub fn has_changes(&self) -> bool {
        self.applicable().any(|c| c.change_kind() != ChangeKind::Unchanged)
    }

    /// Number of Graph writes applying would make.
    pub fn write_count(&self) -> usize {
        self.applicable().map(|c| c.write_count()).sum()
    }
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Reading the tenant failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Names that resolve to nothing or to several objects, or other problems, one message each.
    #[error("the plan cannot be made; nothing was changed:\n  {}", .0.join("\n  "))]
    Problems(Vec<String>),
}
