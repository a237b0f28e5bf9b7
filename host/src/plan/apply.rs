//! Carrying out a plan: creates with their actions inline, then the
//! complete assignment set; updates that PATCH only changed properties,
//! reschedule actions only when they differ and post the full assignment set
//! once; deletes of managed policies only (with --prune).
//!
//! Different policies are written concurrently (a few at a time, as the
//! client allows in flight) under the client's shared write pacer, so a
//! large apply runs at Intune's write limit rather than at one round trip
//! per write; each policy's own writes stay in order, and a slow policy
//! (backing off, or settling a lost create) does not hold up the others.
//! After the first failure no further write is started, in any policy;
//! writes already sent finish.
//!
//! Every step is safe to interrupt: the next run re-plans from the tenant,
//! finds what exists by name and type, and finishes the rest without
//! duplicates.

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;

use super::kind::Applicable;
use super::{ChangeKind, Plan};
use crate::graph::{GraphClient, GraphError};

/// What was done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplySummary {
    /// Policies created.
    pub created: usize,
    /// Policies updated.
    pub updated: usize,
    /// Policies deleted.
    pub deleted: usize,
    /// Graph writes that succeeded.
    pub writes: usize,
}

impl ApplySummary {
    pub(super) fn add(&mut self, other: &ApplySummary) {
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.writes += other.writes;
    }
}

/// Told about each step, for a progress bar.
pub trait ApplyProgress: Sync {
    /// A write is about to be sent.
    fn step(&self, message: &str);
}

impl ApplyProgress for () {
    fn step(&self, _: &str) {}
}

/// Why an apply stopped.
#[derive(Debug, thiserror::Error)]
#[error("apply stopped at '{policy}' after {} write(s): {source}{}; nothing is left half-done that a re-run cannot finish — run apply again", .done.writes, also(.also_failed))]
pub struct ApplyError {
    /// The first policy (in plan order) whose write failed.
    pub policy: String,
    /// Everything that was done, by all policies.
    pub done: ApplySummary,
    /// The Graph error that stopped it.
    pub source: GraphError,
    /// Other policies whose writes failed while they were under way.
    pub also_failed: Vec<(String, GraphError)>,
}

fn also(failed: &[(String, GraphError)]) -> String {
    failed.iter().map(|(p, e)| format!("; '{p}' also failed: {e}")).collect()
}

/// Applies `plan`, one kind after another — connectors, compliance
/// policies, then Conditional Access — so enforcement never starts before
/// what it enforces is in place, and nothing of a later kind is written
/// once an earlier one failed.
pub async fn apply(
    client: &GraphClient,
    plan: &Plan,
    progress: &dyn ApplyProgress,
) -> Result<ApplySummary, ApplyError> {
    let stop = AtomicBool::new(false);
    let mut results = Vec::new();
    for phase in plan.phases() {
        let changes: Vec<&dyn Applicable> =
            phase.into_iter().filter(|c| c.change_kind() != ChangeKind::Unchanged).collect();
        let offset = results.len();
        let mut ran: Vec<(usize, &dyn Applicable, ApplySummary, Option<GraphError>)> =
            futures_util::stream::iter(changes.into_iter().enumerate().map(|(i, c)| {
                let stop = &stop;
                async move {
                    let mut done = ApplySummary::default();
                    let failed = c.apply(client, progress, stop, &mut done).await.err();
                    if failed.is_some() {
                        stop.store(true, Ordering::SeqCst);
                    }
                    (offset + i, c, done, failed)
                }
            }))
            .buffer_unordered(client.options().max_in_flight.max(1))
            .collect()
            .await;
        results.append(&mut ran);
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    // Completion order varies; the first failure is reported in plan order.
    results.sort_by_key(|r| r.0);
    let mut done = ApplySummary::default();
    let mut failures = Vec::new();
    for (_, c, d, e) in results {
        done.add(&d);
        if let Some(e) = e {
            failures.push((c.label(), e));
        }
    }
    if failures.is_empty() {
        return Ok(done);
    }
    let (policy, source) = failures.remove(0);
    Err(ApplyError { policy, done, source, also_failed: failures })
}
