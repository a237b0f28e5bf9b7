//! Which tenant policies that the config no longer names may be deleted.
//!
//! Only a policy whose marker names this config's owner AND carries the key
//! of its own name and type (see [`crate::pipeline::marker`]) is deleted.
//! A portal copy (its marker names another policy), another owner's policy,
//! or a policy with the old plain marker (owner unknown, unless
//! `--adopt-owner`) is left alone with a warning.

use super::{Change, ChangeKind, PlanOptions};
use crate::graph::schema::{ApiVersion, PolicyType};
use crate::graph::RemotePolicy;
use crate::pipeline::marker::{self, Ownership};

/// A delete, or a warning saying why not.
pub(super) enum Verdict {
    Delete(Box<Change>),
    Warn(String),
    Skip,
}

fn delete(p: &RemotePolicy, ty: PolicyType, read_version: ApiVersion, note: &str) -> Change {
    Change {
        kind: ChangeKind::Delete,
        name: p.display_name.clone(),
        policy_type: ty,
        version: if ty.min_version() == ApiVersion::Beta { ApiVersion::Beta } else { read_version },
        id: Some(p.id.clone()),
        settings: Vec::new(),
        actions: None,
        assignments: None,
        inherited: Vec::new(),
        origin: None,
        notes: vec![note.to_string()],
        body: Default::default(),
    }
}

/// What to do with `p` (not in the config).
pub(super) fn verdict(
    p: &RemotePolicy,
    ty: PolicyType,
    read_version: ApiVersion,
    o: &PlanOptions,
) -> Verdict {
    let label = format!("'{}' ({})", p.display_name, ty.type_name());
    let ours = o.owner.as_deref();
    match marker::parse(&p.description).1 {
        Ownership::Unmanaged => Verdict::Skip,
        Ownership::Owned { owner, key } if Some(owner.as_str()) == ours => {
            if key != marker::key(&owner, ty, &p.display_name) {
                Verdict::Warn(format!(
                    "{label} carries owner {owner}'s marker but for another policy (a portal copy or a renamed policy); it is not pruned — delete it by hand or add it to the config"
                ))
            } else if o.prune {
                Verdict::Delete(Box::new(delete(
                    p,
                    ty,
                    read_version,
                    "managed by this config's owner and no longer in the config",
                )))
            } else {
                Verdict::Warn(format!(
                    "{label} is managed by mtdhost but no longer in the config; run with --prune to delete it"
                ))
            }
        }
        Ownership::Owned { owner, .. } => {
            if o.prune {
                Verdict::Warn(format!("{label} belongs to owner '{owner}', not this config; it is not pruned"))
            } else {
                Verdict::Skip
            }
        }
        Ownership::Legacy if o.prune && o.adopt_owner => {
            Verdict::Delete(Box::new(delete(
                p,
                ty,
                read_version,
                "old marker (owner unknown), adopted with --adopt-owner",
            )))
        }
        Ownership::Legacy => Verdict::Warn(format!(
            "{label} has mtdhost's old marker without an owner and is no longer in the config; it is not pruned — run with --prune --adopt-owner to delete such policies"
        )),
    }
}
