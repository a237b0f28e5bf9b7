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

use std::collections::{HashMap, HashSet};

use super::compliance::{differences, ownership_problem};
use super::matching::{Keyed, PolicyKey};
use super::resolve::Resolver;
use super::targets::{resolve, Resolved};
use super::{PlanError, PlanOptions};
use crate::graph::{Properties, RemotePolicy};
use crate::pipeline::DesiredPolicy;

/// The desired policies by key, with their names resolved, and which
/// tenant policies were settled.
pub(crate) struct Settler<'d> {
    desired: HashMap<PolicyKey, (&'d DesiredPolicy, Resolved)>,
    options: &'d PlanOptions,
    /// Settled tenant policies, by id.
    settled: HashSet<String>,
    /// The desired policies whose tenant policy was settled: their
    /// resolution is dropped, since a settled policy's diff needs none.
    settled_keys: HashSet<PolicyKey>,
}

impl<'d> Settler<'d> {
    /// Resolves every desired policy's names (from the resolver's cache:
    /// prefetch first). A policy whose names do not all resolve is left
    /// out; the plan reports it when it resolves it again.
    pub(crate) async fn new(
        desired: &'d [DesiredPolicy],
        resolver: &mut Resolver<'_>,
        options: &'d PlanOptions,
    ) -> Result<Settler<'d>, PlanError> {
        let mut by_key = HashMap::with_capacity(desired.len());
        for d in desired {
            let mut problems = Vec::new();
            let resolved = resolve(d, resolver, &mut problems).await?;
            if let (true, Some(key)) = (problems.is_empty(), d.key()) {
                by_key.insert(key, (d, resolved));
            }
        }
        Ok(Settler { desired: by_key, options, settled: HashSet::new(), settled_keys: HashSet::new() })
    }

    /// Strips `p` to what matching needs if it already is what its desired
    /// policy wants. A second tenant policy with the same key is never
    /// settled: the plan stops on the duplicate, naming both ids.
    pub(crate) fn settle(&mut self, p: &mut RemotePolicy) {
        let Some(key) = p.key() else { return };
        let Some((d, resolved)) = self.desired.get(&key) else { return };
        let clean = p.problems.is_empty()
            && p.assignments.iter().all(|a| a.is_direct())
            && ownership_problem(d, p, self.options).is_none();
        if clean && differences(d, resolved, p).is_none() {
            // Ownership was checked here already, and the type is in
            // `policy_type`: the description and Graph's type name go too.
            p.properties = Properties::default();
            p.actions = Vec::new();
            p.assignments = Vec::new();
            p.description = String::new();
            p.odata_type = String::new();
            self.settled.insert(p.id.clone());
            self.desired.remove(&key);
            self.settled_keys.insert(key);
        }
    }

    /// Whether the tenant policy `id` was settled.
    pub(crate) fn is_settled(&self, id: &str) -> bool {
        self.settled.contains(id)
    }

    /// `d`'s resolved names, handed over once; none at all (empty) when its
    /// tenant policy was settled. None: resolve `d` again (its names did not
    /// all resolve, and the plan reports why).
    pub(crate) fn take_resolved(&mut self, d: &DesiredPolicy) -> Option<Resolved> {
        let key = d.key()?;
        if self.settled_keys.contains(&key) {
            return Some(Resolved { actions: Vec::new(), targets: Vec::new() });
        }
        self.desired.remove(&key).map(|(_, r)| r)
    }
}
