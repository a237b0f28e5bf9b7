//! The planned change to one Conditional Access policy, and its writes:
//! a create (POST, 201), an update of the changed top-level parts (PATCH,
//! 204), a delete of a policy this config's owner manages (`--prune`).

use serde_json::Value;

use super::apply::{ApplyProgress, ApplySummary};
use super::kind::{may_write, Applicable};
use super::{ChangeKind, SettingChange};
use crate::graph::{GraphClient, GraphError, RemoteCaPolicy};
use crate::pipeline::DesiredCa;
use futures_util::future::LocalBoxFuture;
use std::sync::atomic::AtomicBool;

/// The planned change to one CA policy.
#[derive(Debug, Clone)]
pub struct CaChange {
    /// What happens to the policy.
    pub kind: ChangeKind,
    /// The display name.
    pub name: String,
    /// The tenant policy's id; none for create.
    pub id: Option<String>,
    /// The tenant's state word before the change, for updates.
    pub state_before: Option<String>,
    /// Whether this change starts enforcing the policy (create with `on`, or
    /// an update to `on`): shown highlighted, since it can block sign-ins.
    pub enables_enforcement: bool,
    /// Whether this change stops enforcing a policy that is `enabled` now
    /// (back to report-only or off): shown highlighted too.
    pub stops_enforcement: bool,
    /// What changes, by property path; group lists show names.
    pub settings: Vec<SettingChange>,
    /// For create: the whole policy; for update: the PATCH body (changed top-level parts).
    pub body: Value,
    /// Where the policy is in the config; none for a delete.
    pub origin: Option<String>,
    /// Remarks shown with the change.
    pub notes: Vec<String>,
}

impl CaChange {
    /// A change for `d` with nothing decided yet.
    pub(crate) fn blank(d: &DesiredCa, kind: ChangeKind) -> CaChange {
        CaChange {
            kind,
            name: d.display_name.clone(),
            id: None,
            state_before: None,
            enables_enforcement: false,
            stops_enforcement: false,
            settings: Vec::new(),
            body: Value::Null,
            origin: Some(d.location.to_string()),
            notes: Vec::new(),
        }
    }

    /// Deleting `p` (managed by this config's owner, no longer in the config).
    pub(crate) fn delete(p: &RemoteCaPolicy) -> CaChange {
        CaChange {
            kind: ChangeKind::Delete,
            name: p.display_name.clone(),
            id: Some(p.id.clone()),
            state_before: Some(p.state.clone()),
            enables_enforcement: false,
            stops_enforcement: p.state == "enabled",
            settings: Vec::new(),
            body: Value::Null,
            origin: None,
            notes: vec!["managed by this config's owner and no longer in the config".into()],
        }
    }
}

async fn write(
    client: &GraphClient,
    c: &CaChange,
    progress: &dyn ApplyProgress,
    stop: &AtomicBool,
    done: &mut ApplySummary,
) -> Result<(), GraphError> {
    if !may_write(stop) {
        return Ok(());
    }
    match c.kind {
        ChangeKind::Create => {
            progress.step(&format!("creating conditional access policy {}", c.name));
            client.create_ca_policy(&c.body).await?;
            done.created += 1;
        }
        ChangeKind::Update => {
            progress.step(&format!("updating conditional access policy {}", c.name));
            let patch = c.body.as_object().cloned().unwrap_or_default();
            client.update_ca_policy(c.id.as_deref().unwrap_or_default(), &patch).await?;
            done.updated += 1;
        }
        ChangeKind::Delete => {
            progress.step(&format!("deleting conditional access policy {}", c.name));
            client.delete_ca_policy(c.id.as_deref().unwrap_or_default()).await?;
            done.deleted += 1;
        }
        ChangeKind::Unchanged => return Ok(()),
    }
    done.writes += 1;
    Ok(())
}

impl Applicable for CaChange {
    fn change_kind(&self) -> ChangeKind {
        self.kind
    }

    fn label(&self) -> String {
        format!("conditional access policy {}", self.name)
    }

    fn write_count(&self) -> usize {
        usize::from(self.kind != ChangeKind::Unchanged)
    }

    fn apply<'a>(
        &'a self,
        client: &'a GraphClient,
        progress: &'a dyn ApplyProgress,
        stop: &'a AtomicBool,
        done: &'a mut ApplySummary,
    ) -> LocalBoxFuture<'a, Result<(), GraphError>> {
        Box::pin(write(client, self, progress, stop, done))
    }
}
