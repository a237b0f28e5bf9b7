//! Settling, as the tenant is read, the compliance policies that already
//! are what the config wants.
//!
//! A no-op plan of a large tenant is the common run (CI checks for drift),
//! and holding every policy's settings, actions and assignments until the
//! diff was most of its memory. So the config's names are resolved first,
//! and each tenant policy is compared with its desired policy as its page
//! arrives: one with nothing to change, nothing unreadable, no policy-set
//! assignment and an owner this config may write keeps only what matching
//! needs (id, name, type) and is remembered as settled; the
//! diff then plans it unchanged. Anything else is kept whole and diffed as
//! before, so a plan is the same either way — only its memory differs.

use std::collections::HashMap;

use futures_util::FutureExt;

use super::compliance::{differences, ownership_problem};
use super::resolve::Resolver;
use super::targets::{resolve, Resolved};
use super::PlanOptions;
use crate::graph::schema::PolicyType;
use crate::graph::{Properties, RemotePolicy};
use crate::pipeline::DesiredPolicy;

/// One desired policy, and whether its tenant policy was settled.
struct Entry<'d> {
    policy: &'d DesiredPolicy,
    settled: bool,
    /// Another desired policy has the same key: never settled, so the full
    /// diff decides for each (the config refuses such twins; rules plugins
    /// might not).
    twin: bool,
}

/// The desired policies by type and display name (borrowed, not copied),
/// each marked once its tenant policy is settled.
pub(crate) struct Settler<'d> {
    desired: HashMap<PolicyType, HashMap<&'d str, Entry<'d>>>,
    options: &'d PlanOptions,
}

impl<'d> Settler<'d> {
    /// Indexes the desired policies.
    pub(crate) fn new(desired: &'d [DesiredPolicy], options: &'d PlanOptions) -> Settler<'d> {
        let mut by_type: HashMap<PolicyType, HashMap<&'d str, Entry<'d>>> = HashMap::new();
        for d in desired {
            by_type
                .entry(d.policy_type())
                .or_default()
                .entry(d.display_name.as_str())
                .and_modify(|e| e.twin = true)
                .or_insert(Entry { policy: d, settled: false, twin: false });
        }
        Settler { desired: by_type, options }
    }

    /// Strips `p` to what matching needs if it already is what its desired
    /// policy wants. The desired policy's names come from `resolver`'s cache
    /// only: a name that would need a request leaves `p` whole. A second
    /// tenant policy with the same key is never settled: the plan stops on
    /// the duplicate, naming both ids.
    pub(crate) fn settle(&mut self, p: &mut RemotePolicy, resolver: &mut Resolver<'_>) {
        let Some(ty) = p.policy_type else { return };
        let Some(entry) = self.desired.get_mut(&ty).and_then(|m| m.get_mut(p.display_name.as_str())) else {
            return;
        };
        if entry.settled || entry.twin {
            return;
        }
        let d = entry.policy;
        let clean = p.problems.is_empty()
            && p.assignments.iter().all(|a| a.is_direct())
            && ownership_problem(d, p, self.options).is_none();
        if !clean {
            return;
        }
        let mut problems = Vec::new();
        let Some(Ok(resolved)) = resolve(d, resolver, &mut problems).now_or_never() else { return };
        if problems.is_empty() && differences(d, &resolved, p).is_none() {
            // Ownership was checked here already, and the type is in
            // `policy_type`: the description and Graph's type name go too.
            p.properties = Properties::default();
            p.actions = Vec::new();
            p.assignments = Vec::new();
            p.description = String::new();
            p.odata_type = String::new();
            entry.settled = true;
        }
    }

    /// Whether the tenant policy of `d` was settled (then it is unchanged,
    /// and `d` needs no names resolved).
    pub(crate) fn is_settled(&self, d: &DesiredPolicy) -> bool {
        self.desired
            .get(&d.policy_type())
            .and_then(|m| m.get(d.display_name.as_str()))
            .is_some_and(|e| e.settled)
    }

    /// How many tenant policies were settled.
    pub(crate) fn settled(&self) -> usize {
        self.desired.values().flat_map(HashMap::values).filter(|e| e.settled).count()
    }

    /// For a settled `d`, its resolution: none needed (empty).
    pub(crate) fn resolved_if_settled(&self, d: &DesiredPolicy) -> Option<Resolved> {
        self.is_settled(d).then(|| Resolved { actions: Vec::new(), targets: Vec::new() })
    }
}
