//! Carrying out a plan: creates with their actions inline, then the
//! complete assignment set; updates that PATCH only changed properties,
//! reschedule actions only when they differ and post the full assignment set
//! once; deletes of managed policies only (with --prune).
//!
//! Every step is safe to interrupt: the next run re-plans from the tenant,
//! finds what exists by name and type, and finishes the rest without
//! duplicates.

use serde_json::{Map, Value};

use super::{ChangeKind, Plan};
use crate::graph::{GraphClient, GraphError};

/// What was done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplySummary {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub writes: usize,
}

/// Told about each step, for a progress bar.
pub trait ApplyProgress {
    fn step(&self, message: &str);
}

impl ApplyProgress for () {
    fn step(&self, _: &str) {}
}

/// Why an apply stopped.
#[derive(Debug, thiserror::Error)]
#[error("apply stopped at '{policy}' after {} write(s): {source}; nothing is left half-done that a re-run cannot finish — run apply again", .done.writes)]
pub struct ApplyError {
    pub policy: String,
    pub done: ApplySummary,
    pub source: GraphError,
}

/// Applies `plan`.
pub async fn apply(
    client: &GraphClient,
    plan: &Plan,
    progress: &dyn ApplyProgress,
) -> Result<ApplySummary, ApplyError> {
    let mut done = ApplySummary::default();
    for c in plan.changes.iter().filter(|c| c.kind != ChangeKind::Unchanged) {
        let fail = |source: GraphError, done: &ApplySummary| ApplyError {
            policy: c.name.clone(),
            done: done.clone(),
            source,
        };
        match c.kind {
            ChangeKind::Create => {
                progress.step(&format!("creating {}", c.name));
                let actions = c.actions.as_ref().map(|a| a.after.clone()).unwrap_or_default();
                let created = client
                    .create_policy(c.version, c.policy_type, &c.body, &actions)
                    .await
                    .map_err(|e| fail(e, &done))?;
                done.writes += 1;
                if let Some(a) = c.assignments.as_ref().filter(|a| !a.after.is_empty()) {
                    progress.step(&format!("assigning {}", c.name));
                    client.assign(c.version, &created.id, &a.after).await.map_err(|e| fail(e, &done))?;
                    done.writes += 1;
                }
                done.created += 1;
            }
            ChangeKind::Update => {
                let id = c.id.as_deref().unwrap_or_default();
                if !c.settings.is_empty() {
                    progress.step(&format!("updating {}", c.name));
                    let changed: Map<String, Value> =
                        c.settings.iter().map(|s| (s.property.clone(), s.after.clone())).collect();
                    client
                        .update_policy(c.version, c.policy_type, id, &changed)
                        .await
                        .map_err(|e| fail(e, &done))?;
                    done.writes += 1;
                }
                if let Some(a) = &c.actions {
                    progress.step(&format!("setting actions of {}", c.name));
                    client.schedule_actions(c.version, id, &a.after).await.map_err(|e| fail(e, &done))?;
                    done.writes += 1;
                }
                if let Some(a) = &c.assignments {
                    progress.step(&format!("assigning {}", c.name));
                    client.assign(c.version, id, &a.after).await.map_err(|e| fail(e, &done))?;
                    done.writes += 1;
                }
                done.updated += 1;
            }
            ChangeKind::Delete => {
                progress.step(&format!("deleting {}", c.name));
                client
                    .delete_policy(c.version, c.id.as_deref().unwrap_or_default())
                    .await
                    .map_err(|e| fail(e, &done))?;
                done.writes += 1;
                done.deleted += 1;
            }
            ChangeKind::Unchanged => {}
        }
    }
    Ok(done)
}
