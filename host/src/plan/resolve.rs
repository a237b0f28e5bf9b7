//! Resolving names in the desired state against the tenant: groups by
//! display name or id (0 or many matches is an error naming the group),
//! notification templates and assignment filters by name or id, and policy
//! set names for display. What a run needs is gathered first and read in one
//! round trip ([`Resolver::prefetch`]); lookups are cached per run.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::graph::Group;
use crate::graph::GroupLookup;
use crate::graph::Named;
use crate::graph::{GraphClient, GraphError, ReferenceQuery};

pub use mtd_model::is_guid;

/// What a plan or export will look up, gathered before reading so it can
/// be fetched in a few overlapped `$batch`es instead of one GET at a time.
#[derive(Debug, Default, Clone)]
pub struct Wanted {
    /// Group names or ids (from the config).
    pub groups: BTreeSet<String>,
    /// Group ids whose display names are shown (from the tenant).
    pub group_ids: BTreeSet<String>,
    /// Policy set ids whose display names are shown.
    pub policy_sets: BTreeSet<String>,
    /// Whether the notification templates are read.
    pub templates: bool,
    /// Whether the assignment filters are read.
    pub filters: bool,
}

/// Cached name lookups for one plan or export: groups, templates,
/// assignment filters, policy sets. [`Resolver::prefetch`] reads what a run
/// needs in overlapped batches; the single lookups after it are answered
/// from the cache (and still fall back to Graph for anything not prefetched).
pub struct Resolver<'a> {
    client: &'a GraphClient,
    groups: HashMap<String, Result<String, String>>,
    names: HashMap<String, String>,
    /// Group ids known not to exist.
    deleted: HashSet<String>,
    /// Every group of the tenant, when it was read anyway (rules context):
    /// name lookups are then answered without asking Graph.
    directory: Option<Vec<Group>>,
    templates: Option<Vec<(String, String)>>,
    filters: Option<Vec<Named>>,
    policy_sets: HashMap<String, String>,
}

fn by_name(name_or_id: &str, lookup: GroupLookup) -> Result<String, String> {
    match lookup {
        GroupLookup::One(g) => Ok(g.id),
        GroupLookup::None => Err(format!("group '{name_or_id}' was not found")),
        GroupLookup::Many(gs) => Err(format!(
            "group name '{name_or_id}' is ambiguous: {} groups have it ({}); use the id instead",
            gs.len(),
            gs.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

impl<'a> Resolver<'a> {
    /// A resolver with an empty cache, asking `client` for what it lacks.
    pub fn new(client: &'a GraphClient) -> Self {
        Resolver {
            client,
            groups: HashMap::new(),
            names: HashMap::new(),
            deleted: HashSet::new(),
            directory: None,
            templates: None,
            filters: None,
            policy_sets: HashMap::new(),
        }
    }

    /// A resolver that answers group lookups from `groups`, every group of
    /// the tenant (already read for rules plugins).
    pub fn with_directory(client: &'a GraphClient, groups: Vec<Group>) -> Self {
        let mut r = Resolver::new(client);
        for g in &groups {
            r.names.insert(g.id.clone(), g.display_name.clone());
        }
        r.directory = Some(groups);
        r
    }

    /// Reads everything in `wanted` that is not cached yet — group names and
    /// ids, policy sets, templates, filters — in one round trip (one beta
    /// `$batch` per 20 items, overlapped; see `read_references`).
    pub async fn prefetch(&mut self, wanted: &Wanted) -> Result<(), GraphError> {
        let client = self.client;
        let (names, ids) = self.groups_to_read(wanted);
        let sets: Vec<String> =
            wanted.policy_sets.iter().filter(|s| !self.policy_sets.contains_key(*s)).cloned().collect();
        let query = ReferenceQuery {
            group_names: names.clone(),
            group_ids: ids.clone(),
            policy_sets: sets.clone(),
            templates: wanted.templates && self.templates.is_none(),
            filters: wanted.filters && self.filters.is_none(),
        };
        let read = client.read_references(&query).await?;
        for (name, lookup) in names.iter().zip(read.groups_by_name) {
            if let GroupLookup::One(g) = &lookup {
                self.names.insert(g.id.clone(), g.display_name.clone());
            }
            self.groups.insert(name.clone(), by_name(name, lookup));
        }
        for (id, g) in ids.iter().zip(read.groups_by_id) {
            match g {
                Some(g) => {
                    self.names.insert(g.id.clone(), g.display_name.clone());
                    self.groups.insert(id.clone(), Ok(g.id));
                }
                None => {
                    self.deleted.insert(id.clone());
                    self.groups.insert(id.clone(), Err(format!("group id {id} does not exist")));
                }
            }
        }
        for (id, set) in sets.iter().zip(read.policy_sets) {
            let name = set.map_or_else(|| format!("(policy set {id})"), |s| s.display_name);
            self.policy_sets.insert(id.clone(), name);
        }
        if let Some(t) = read.templates {
            self.templates = Some(t);
        }
        if let Some(f) = read.filters {
            self.filters = Some(f);
        }
        Ok(())
    }

    /// The group names to look up and ids to read for `wanted`; what the
    /// caches or the directory (when read) can answer is answered here.
    fn groups_to_read(&mut self, wanted: &Wanted) -> (Vec<String>, Vec<String>) {
        let (ids, names): (Vec<String>, Vec<String>) =
            wanted.groups.iter().filter(|g| !self.groups.contains_key(*g)).cloned().partition(|g| is_guid(g));
        let mut fetch = BTreeSet::new();
        for id in ids {
            // An id already seen (in the directory or an earlier lookup)
            // exists; Graph's ids are case-insensitive GUIDs, written lowercase.
            let answer = match self.known_id(&id) {
                Some(canonical) => Ok(canonical),
                // The directory is every group: an id not in it does not exist.
                None if self.directory.is_some() => Err(format!("group id {id} does not exist")),
                None => {
                    fetch.insert(id);
                    continue;
                }
            };
            self.groups.insert(id, answer);
        }
        let Some(dir) = &self.directory else {
            fetch.extend(
                wanted
                    .group_ids
                    .iter()
                    .filter(|id| !self.names.contains_key(*id) && !self.deleted.contains(*id))
                    .cloned(),
            );
            return (names, fetch.into_iter().collect());
        };
        for n in names {
            let named = dir.iter().filter(|g| g.display_name == n).cloned().collect();
            let lookup = crate::graph::lookup(&n, named);
            self.groups.insert(n.clone(), by_name(&n, lookup));
        }
        (Vec::new(), fetch.into_iter().collect())
    }

    /// The canonical id of a group id already seen, if it was.
    fn known_id(&self, id: &str) -> Option<String> {
        self.names.get_key_value(id).map(|(k, _)| k.clone()).or_else(|| {
            self.directory
                .as_ref()
                .and_then(|d| d.iter().find(|g| g.id.eq_ignore_ascii_case(id)).map(|g| g.id.clone()))
        })
    }

    /// The object id of a group given by name or id; Err is a user-facing reason.
    pub async fn group(&mut self, name_or_id: &str) -> Result<Result<String, String>, GraphError> {
        if let Some(r) = self.groups.get(name_or_id) {
            return Ok(r.clone());
        }
        let wanted = Wanted { groups: BTreeSet::from([name_or_id.to_string()]), ..Wanted::default() };
        self.prefetch(&wanted).await?;
        Ok(self
            .groups
            .get(name_or_id)
            .cloned()
            .unwrap_or_else(|| Err(format!("group '{name_or_id}' was not found"))))
    }

    /// A display name for a group id (looked up if unknown), for plans.
    pub async fn group_name(&mut self, id: &str) -> Result<String, GraphError> {
        if let Some(n) = self.names.get(id) {
            return Ok(n.clone());
        }
        if self.deleted.contains(id) {
            return Ok(format!("(deleted group {id})"));
        }
        let wanted = Wanted { group_ids: BTreeSet::from([id.to_string()]), ..Wanted::default() };
        self.prefetch(&wanted).await?;
        Ok(self.names.get(id).cloned().unwrap_or_else(|| format!("(deleted group {id})")))
    }

    /// The id of a notification template given by name or id.
    pub async fn template(&mut self, name_or_id: &str) -> Result<Result<String, String>, GraphError> {
        if self.templates.is_none() {
            self.templates = Some(self.client.list_notification_templates().await?);
        }
        let all = self.templates.as_deref().unwrap_or_default();
        if let Some((id, _)) = all.iter().find(|(id, _)| id.eq_ignore_ascii_case(name_or_id)) {
            return Ok(Ok(id.clone()));
        }
        let hits: Vec<&(String, String)> = all.iter().filter(|(_, n)| n == name_or_id).collect();
        Ok(match hits.as_slice() {
            [one] => Ok(one.0.clone()),
            [] => Err(format!("notification template '{name_or_id}' was not found")),
            many => Err(format!(
                "notification template name '{name_or_id}' is ambiguous ({}); use the id",
                many.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        })
    }

    async fn all_filters(&mut self) -> Result<&[Named], GraphError> {
        if self.filters.is_none() {
            self.filters = Some(self.client.list_assignment_filters().await?);
        }
        Ok(self.filters.as_deref().unwrap_or_default())
    }

    /// The id of an assignment filter given by name or id.
    pub async fn filter(&mut self, name_or_id: &str) -> Result<Result<String, String>, GraphError> {
        let all = self.all_filters().await?;
        if let Some(f) = all.iter().find(|f| f.id.eq_ignore_ascii_case(name_or_id)) {
            return Ok(Ok(f.id.clone()));
        }
        let hits: Vec<&Named> = all.iter().filter(|f| f.display_name == name_or_id).collect();
        Ok(match hits.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(format!("assignment filter '{name_or_id}' was not found")),
            many => Err(format!(
                "assignment filter name '{name_or_id}' is ambiguous ({}); use the id",
                many.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        })
    }

    /// An assignment filter's display name for an id (the id if unknown).
    pub async fn filter_name(&mut self, id: &str) -> Result<String, GraphError> {
        let all = self.all_filters().await?;
        Ok(all.iter().find(|f| f.id == id).map(|f| f.display_name.clone()).unwrap_or_else(|| id.to_string()))
    }

    /// A policy set's display name for an id, for plans.
    pub async fn policy_set_name(&mut self, id: &str) -> Result<String, GraphError> {
        if let Some(n) = self.policy_sets.get(id) {
            return Ok(n.clone());
        }
        let name = match self.client.get_policy_set(id).await? {
            Some(p) => p.display_name,
            None => format!("(policy set {id})"),
        };
        self.policy_sets.insert(id.to_string(), name.clone());
        Ok(name)
    }

    /// A group's display name, if the id was looked up and exists.
    pub fn cached_group_name(&self, id: &str) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }

    /// What a group name or id resolved to, if it was looked up.
    pub fn cached_group(&self, name_or_id: &str) -> Option<&Result<String, String>> {
        self.groups.get(name_or_id)
    }

    /// The notification templates, if they were read.
    pub fn cached_templates(&self) -> &[(String, String)] {
        self.templates.as_deref().unwrap_or_default()
    }

    /// The assignment filters, if they were read.
    pub fn cached_filters(&self) -> &[Named] {
        self.filters.as_deref().unwrap_or_default()
    }

    /// A template's display name for an id, for plans.
    pub fn template_name(&self, id: &str) -> String {
        self.templates
            .as_deref()
            .and_then(|t| t.iter().find(|(i, _)| i == id))
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn guids() {
        assert!(super::is_guid("0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01"));
        assert!(!super::is_guid("Executives"));
        assert!(!super::is_guid("0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a0"));
    }
}
