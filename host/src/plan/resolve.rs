//! Resolving names in the desired state against the tenant: groups by
//! display name or id (0 or many matches is an error naming the group),
//! notification templates and assignment filters by name or id, and policy
//! set names for display. Lookups are cached per run.

use std::collections::HashMap;

use crate::graph::directory::Named;
use crate::graph::intune::GroupLookup;
use crate::graph::{GraphClient, GraphError};

/// True for an Entra object id (a GUID).
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Cached name lookups for one plan.
pub struct Resolver<'a> {
    client: &'a GraphClient,
    groups: HashMap<String, Result<String, String>>,
    names: HashMap<String, String>,
    templates: Option<Vec<(String, String)>>,
    filters: Option<Vec<Named>>,
    policy_sets: HashMap<String, String>,
}

impl<'a> Resolver<'a> {
    pub fn new(client: &'a GraphClient) -> Self {
        Resolver {
            client,
            groups: HashMap::new(),
            names: HashMap::new(),
            templates: None,
            filters: None,
            policy_sets: HashMap::new(),
        }
    }

    /// The object id of a group given by name or id; Err is a user-facing reason.
    pub async fn group(&mut self, name_or_id: &str) -> Result<Result<String, String>, GraphError> {
        if let Some(r) = self.groups.get(name_or_id) {
            return Ok(r.clone());
        }
        let r = if is_guid(name_or_id) {
            match self.client.get_group(name_or_id).await? {
                Some(g) => {
                    self.names.insert(g.id.clone(), g.display_name.clone());
                    Ok(g.id)
                }
                None => Err(format!("group id {name_or_id} does not exist")),
            }
        } else {
            match self.client.find_group(name_or_id).await? {
                GroupLookup::One(g) => {
                    self.names.insert(g.id.clone(), g.display_name.clone());
                    Ok(g.id)
                }
                GroupLookup::None => Err(format!("group '{name_or_id}' was not found")),
                GroupLookup::Many(gs) => Err(format!(
                    "group name '{name_or_id}' is ambiguous: {} groups have it ({}); use the id instead",
                    gs.len(),
                    gs.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ")
                )),
            }
        };
        self.groups.insert(name_or_id.to_string(), r.clone());
        Ok(r)
    }

    /// A display name for a group id (looked up if unknown), for plans.
    pub async fn group_name(&mut self, id: &str) -> Result<String, GraphError> {
        if let Some(n) = self.names.get(id) {
            return Ok(n.clone());
        }
        let name = match self.client.get_group(id).await? {
            Some(g) => g.display_name,
            None => format!("(deleted group {id})"),
        };
        self.names.insert(id.to_string(), name.clone());
        Ok(name)
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
