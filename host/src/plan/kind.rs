//! The resource-kind seam: what planning and applying need from one kind of
//! Intune object, so that compliance policies, MTD connectors (and the next
//! kind) are implementations of two traits, not branches in the planner.
//!
//! Planning a kind is always the same walk ([`plan_kind`]): read every
//! object of the kind, match what the config wants by key ([`Keyed`]), read
//! what the matched objects refer to, collect every problem before any diff
//! (a plan stops as a whole or not at all), diff each desired object against
//! its one match, then decide about the tenant objects nothing matched.
//! Applying a kind's change is [`Applicable`]; the apply driver runs them
//! all under the client's shared write pacer.

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::LocalBoxFuture;

use super::apply::{ApplyProgress, ApplySummary};
use super::matching::{Keyed, Matches};
use super::{ChangeKind, PlanError};
use crate::graph::{GraphClient, GraphError};

/// One kind of Intune object mtdhost plans.
pub(crate) trait ResourceKind {
    /// What the config wants of one object.
    type Desired: Keyed;
    /// One object as the tenant holds it.
    type Remote: Keyed<Key = <Self::Desired as Keyed>::Key>;
    /// A desired object with every name it uses resolved to an id.
    type Resolved;
    /// The planned change to one object.
    type Change;

    /// Reads every object of the kind (and, overlapped, whatever the desired
    /// objects name that the kind can read ahead).
    async fn read_all(&mut self, desired: &[Self::Desired]) -> Result<Vec<Self::Remote>, PlanError>;

    /// Reads what the matched tenant objects refer to, before they are diffed.
    async fn read_related(&mut self, matched: Vec<&Self::Remote>) -> Result<(), PlanError>;

    /// Why `d` cannot be planned against the tenant objects with its key
    /// (none where one must exist, several, one mtdhost may not write).
    fn match_problems(&self, d: &Self::Desired, found: &[&Self::Remote]) -> Vec<String>;

    /// Resolves the names `d` uses; each failure is pushed to `problems`.
    async fn resolve(
        &mut self,
        d: &Self::Desired,
        problems: &mut Vec<String>,
    ) -> Result<Self::Resolved, PlanError>;

    /// The change that makes `found` (none: a create) what `d` wants.
    async fn diff(
        &mut self,
        d: &Self::Desired,
        resolved: Self::Resolved,
        found: Option<&Self::Remote>,
        warnings: &mut Vec<String>,
    ) -> Result<Self::Change, PlanError>;

    /// What happens to a tenant object no desired object names: a change
    /// (a delete), or nothing, with any warning pushed.
    fn leftover(&self, r: &Self::Remote, warnings: &mut Vec<String>) -> Option<Self::Change>;
}

/// One kind's part of a plan.
pub(crate) struct KindPlan<C> {
    /// One change per desired object, in config order, then leftovers in Graph's order.
    pub(crate) changes: Vec<C>,
    /// Problems that do not stop the plan.
    pub(crate) warnings: Vec<String>,
}

/// Plans one kind. Only reads.
pub(crate) async fn plan_kind<K: ResourceKind>(
    kind: &mut K,
    desired: &[K::Desired],
) -> Result<KindPlan<K::Change>, PlanError> {
    let remote = kind.read_all(desired).await?;
    let matches = Matches::new(&remote);
    kind.read_related(desired.iter().filter_map(|d| matches.of(d).first().copied()).collect()).await?;
    let mut problems = Vec::new();
    let mut resolved = Vec::with_capacity(desired.len());
    for d in desired {
        problems.extend(kind.match_problems(d, matches.of(d)));
        resolved.push(kind.resolve(d, &mut problems).await?);
    }
    if !problems.is_empty() {
        return Err(PlanError::Problems(problems));
    }
    let mut plan = KindPlan { changes: Vec::with_capacity(desired.len()), warnings: Vec::new() };
    for (d, r) in desired.iter().zip(resolved) {
        let change = kind.diff(d, r, matches.of(d).first().copied(), &mut plan.warnings).await?;
        plan.changes.push(change);
    }
    for r in matches.unmatched(desired) {
        plan.changes.extend(kind.leftover(r, &mut plan.warnings));
    }
    Ok(plan)
}

/// A planned change the apply driver can carry out, whatever its kind.
pub(crate) trait Applicable: Sync {
    /// What happens to the object.
    fn change_kind(&self) -> ChangeKind;
    /// The object's name in messages (`'MTD - iOS'`, `MTD connector 'lookout'`).
    fn label(&self) -> String;
    /// How many Graph writes applying makes.
    fn write_count(&self) -> usize;
    /// Makes the writes, in order; `done` counts what succeeded. Stops
    /// before any further write once `stop` is set (another change failed).
    fn apply<'a>(
        &'a self,
        client: &'a GraphClient,
        progress: &'a dyn ApplyProgress,
        stop: &'a AtomicBool,
        done: &'a mut ApplySummary,
    ) -> LocalBoxFuture<'a, Result<(), GraphError>>;
}

/// Whether writes may still start.
pub(crate) fn may_write(stop: &AtomicBool) -> bool {
    !stop.load(Ordering::SeqCst)
}
