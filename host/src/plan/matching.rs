//! Matching what the config wants with what the tenant holds, by a typed
//! key — for a compliance policy its display name and type, since Intune
//! names are unique only per type. Every kind of object the plan handles
//! names its key through [`Keyed`]; matching, duplicates and leftovers
//! (prune candidates) then work the same way for all of them.

use std::collections::{BTreeMap, BTreeSet};

use crate::graph::schema::PolicyType;
use crate::graph::RemotePolicy;
use crate::pipeline::DesiredPolicy;

/// An object the plan matches by key.
pub trait Keyed {
    /// What identifies the object in its kind.
    type Key: Ord + Clone;
    /// Its key; `None` for an object that can match nothing (a tenant
    /// object of a type mtdhost does not manage).
    fn key(&self) -> Option<Self::Key>;
}

/// A compliance policy's identity: display name and type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyKey {
    /// The display name, exactly (Intune compares it case-sensitively).
    pub name: String,
    /// The policy type.
    pub ty: PolicyType,
}

impl Keyed for DesiredPolicy {
    type Key = PolicyKey;
    fn key(&self) -> Option<PolicyKey> {
        Some(PolicyKey { name: self.display_name.clone(), ty: self.policy_type() })
    }
}

impl Keyed for RemotePolicy {
    type Key = PolicyKey;
    fn key(&self) -> Option<PolicyKey> {
        Some(PolicyKey { name: self.display_name.clone(), ty: self.policy_type? })
    }
}

/// The tenant's objects of one kind, by key.
pub struct Matches<'r, R: Keyed> {
    all: &'r [R],
    by_key: BTreeMap<R::Key, Vec<&'r R>>,
}

impl<'r, R: Keyed> Matches<'r, R> {
    /// Indexes `remote` (objects without a key are left out).
    pub fn new(remote: &'r [R]) -> Self {
        let mut by_key: BTreeMap<R::Key, Vec<&'r R>> = BTreeMap::new();
        for r in remote {
            if let Some(k) = r.key() {
                by_key.entry(k).or_default().push(r);
            }
        }
        Matches { all: remote, by_key }
    }

    /// Every tenant object with `desired`'s key: none, one, or (a problem)
    /// several.
    pub fn of<D: Keyed<Key = R::Key>>(&self, desired: &D) -> &[&'r R] {
        desired.key().and_then(|k| self.by_key.get(&k)).map_or(&[], Vec::as_slice)
    }

    /// The tenant objects (with a key) that no desired object has the key
    /// of, in the order Graph listed them.
    pub fn unmatched<'d, D: Keyed<Key = R::Key> + 'd>(
        &self,
        desired: impl IntoIterator<Item = &'d D>,
    ) -> impl Iterator<Item = &'r R> + 'r {
        let wanted: BTreeSet<R::Key> = desired.into_iter().filter_map(Keyed::key).collect();
        self.all.iter().filter(move |r| r.key().is_some_and(|k| !wanted.contains(&k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(id: &str, name: &str, ty: Option<PolicyType>) -> RemotePolicy {
        RemotePolicy {
            id: id.into(),
            policy_type: ty,
            odata_type: ty.map_or("#microsoft.graph.windows81CompliancePolicy".into(), |t| t.odata_type()),
            display_name: name.into(),
            description: String::new(),
            properties: Default::default(),
            actions: Vec::new(),
            assignments: Vec::new(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn matches_by_name_and_type_and_keeps_graphs_order_for_leftovers() {
        let tenant = vec![
            remote("1", "MTD", Some(PolicyType::Ios)),
            remote("2", "MTD", Some(PolicyType::MacOs)),
            remote("3", "Old", Some(PolicyType::Ios)),
            remote("4", "MTD", Some(PolicyType::Ios)),
            remote("5", "Legacy", None),
        ];
        let m = Matches::new(&tenant);
        let want = PolicyKey { name: "MTD".into(), ty: PolicyType::Ios };
        let ids = |found: &[&RemotePolicy]| found.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(m.of(&KeyOnly(want.clone()))), ["1", "4"], "a duplicate name+type is seen as such");
        assert_eq!(
            ids(m.of(&KeyOnly(PolicyKey { name: "mtd".into(), ty: PolicyType::Ios }))),
            Vec::<String>::new()
        );
        let left: Vec<String> = m.unmatched([&KeyOnly(want)]).map(|p| p.id.clone()).collect();
        assert_eq!(left, ["2", "3"], "an unknown type is never a leftover");
    }

    struct KeyOnly(PolicyKey);
    impl Keyed for KeyOnly {
        type Key = PolicyKey;
        fn key(&self) -> Option<PolicyKey> {
            Some(self.0.clone())
        }
    }
}
