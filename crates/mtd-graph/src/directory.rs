//! What policies point at: Entra groups, notification templates,
//! assignment filters and policy sets. Every query goes through
//! the URL builder ([`super::query`]), so names with `&`, `'`, `#`, `+`, `%`
//! or non-ASCII text are looked up as they are.
//!
//! Nothing is dropped: an object that cannot be read is an error.

use reqwest::Method;
use serde_json::Value;

use super::client::GraphClient;
use super::error::GraphError;
use super::model::Group;
use super::query::{display_name_eq, relative};
use super::schema::ApiVersion;

pub(crate) const GROUP_FIELDS: &str = "id,displayName,securityEnabled";

/// Result of looking a group up by display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupLookup {
    /// No group has the name.
    None,
    /// Exactly one group has it.
    One(Group),
    /// Several groups share it.
    Many(Vec<Group>),
}

/// A named object (assignment filter, policy set, template): id and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The object id.
    pub id: String,
    /// Its display name.
    pub display_name: String,
}

fn decode(path: &str, reason: String) -> GraphError {
    GraphError::Decode { method: "GET".into(), path: path.into(), reason }
}

pub(crate) fn group(v: Value, path: &str) -> Result<Group, GraphError> {
    let shown = v.to_string();
    serde_json::from_value(v).map_err(|e| decode(path, format!("cannot read group {shown}: {e}")))
}

pub(crate) fn named(v: &Value, path: &str, what: &str) -> Result<Named, GraphError> {
    let id = v.get("id").and_then(Value::as_str).ok_or_else(|| {
        decode(
            path,
            format!("a {what} has no id: field 'id' has value {}", v.get("id").unwrap_or(&Value::Null)),
        )
    })?;
    let display_name = match v.get("displayName") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(decode(path, format!("{what} {id}: field 'displayName' has value {other}")));
        }
    };
    Ok(Named { id: id.to_string(), display_name })
}

/// The groups among `groups` named exactly `name`, as a lookup result.
pub fn lookup(name: &str, mut groups: Vec<Group>) -> GroupLookup {
    groups.retain(|g| g.display_name == name);
    match groups.len() {
        0 => GroupLookup::None,
        1 => GroupLookup::One(groups.remove(0)),
        _ => GroupLookup::Many(groups),
    }
}

impl GraphClient {
    /// Groups by display name, many at once (`$batch`es of 20, overlapped).
    /// One lookup per name, in input order.
    pub async fn find_groups(&self, names: &[String]) -> Result<Vec<GroupLookup>, GraphError> {
        let paths = names
            .iter()
            .map(|n| {
                let filter = display_name_eq(n);
                relative(&["groups"], &[("$filter", &filter), ("$select", GROUP_FIELDS)])
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(names.len());
        for (name, r) in names.iter().zip(self.batch_get(ApiVersion::V1, &paths).await?) {
            let body = r?;
            let items = if body.get("@odata.nextLink").is_some() {
                // More than a page of groups with one name: read them all.
                self.find_group_items(name).await?
            } else {
                body.get("value")
                    .and_then(Value::as_array)
                    .cloned()
                    .ok_or_else(|| decode("/groups", "no \"value\" array in a collection response".into()))?
            };
            let groups = items.into_iter().map(|v| group(v, "/groups")).collect::<Result<Vec<_>, _>>()?;
            out.push(lookup(name, groups));
        }
        Ok(out)
    }

    /// Groups by object id, many at once (`$batch`es of 20); None for an
    /// id that does not exist. In input order.
    pub async fn get_groups(&self, ids: &[String]) -> Result<Vec<Option<Group>>, GraphError> {
        let paths = ids
            .iter()
            .map(|id| relative(&["groups", id], &[("$select", GROUP_FIELDS)]))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for r in self.batch_get(ApiVersion::V1, &paths).await? {
            match r {
                Ok(v) => out.push(Some(group(v, "/groups/{id}")?)),
                Err(e) if e.status() == Some(404) => out.push(None),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Policy sets by id (beta), many at once; None for one that does not exist.
    pub async fn get_policy_sets(&self, ids: &[String]) -> Result<Vec<Option<Named>>, GraphError> {
        let paths = ids
            .iter()
            .map(|id| relative(&["deviceAppManagement", "policySets", id], &[("$select", "id,displayName")]))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for r in self.batch_get(ApiVersion::Beta, &paths).await? {
            match r {
                Ok(v) => out.push(Some(named(&v, "/deviceAppManagement/policySets/{id}", "policy set")?)),
                Err(e) if e.status() == Some(404) => out.push(None),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn find_group_items(&self, name: &str) -> Result<Vec<Value>, GraphError> {
        let filter = display_name_eq(name);
        let url =
            self.endpoint(ApiVersion::V1, &["groups"], &[("$filter", &filter), ("$select", GROUP_FIELDS)])?;
        self.get_all(&url).await
    }

    /// Groups with exactly this display name.
    pub async fn find_group(&self, name: &str) -> Result<GroupLookup, GraphError> {
        let items = self.find_group_items(name).await?;
        let groups = items.into_iter().map(|v| group(v, "/groups")).collect::<Result<Vec<_>, _>>()?;
        Ok(lookup(name, groups))
    }

    /// Every group (id and name), for rules plugins' tenant context.
    pub async fn list_groups(&self) -> Result<Vec<Group>, GraphError> {
        let url = self.endpoint(ApiVersion::V1, &["groups"], &[("$select", GROUP_FIELDS)])?;
        self.get_all(&url).await?.into_iter().map(|v| group(v, "/groups")).collect()
    }

    /// A group by object id, or None if it does not exist.
    pub async fn get_group(&self, id: &str) -> Result<Option<Group>, GraphError> {
        let url = self.endpoint(ApiVersion::V1, &["groups", id], &[("$select", GROUP_FIELDS)])?;
        match self.request(Method::GET, &url, None).await {
            Ok(r) => group(r.body, "/groups/{id}").map(Some),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Notification message templates (id, display name).
    pub async fn list_notification_templates(&self) -> Result<Vec<(String, String)>, GraphError> {
        let path = "/deviceManagement/notificationMessageTemplates";
        let url =
            self.endpoint(ApiVersion::V1, &["deviceManagement", "notificationMessageTemplates"], &[])?;
        self.get_all(&url)
            .await?
            .iter()
            .map(|v| named(v, path, "notification template").map(|n| (n.id, n.display_name)))
            .collect()
    }

    /// Every assignment filter (beta only).
    pub async fn list_assignment_filters(&self) -> Result<Vec<Named>, GraphError> {
        let path = "/deviceManagement/assignmentFilters";
        let url = self.endpoint(
            ApiVersion::Beta,
            &["deviceManagement", "assignmentFilters"],
            &[("$select", "id,displayName")],
        )?;
        self.get_all(&url).await?.iter().map(|v| named(v, path, "assignment filter")).collect()
    }

    /// A policy set's name by id (beta only), or None if it does not exist.
    pub async fn get_policy_set(&self, id: &str) -> Result<Option<Named>, GraphError> {
        let url = self.endpoint(
            ApiVersion::Beta,
            &["deviceAppManagement", "policySets", id],
            &[("$select", "id,displayName")],
        )?;
        match self.request(Method::GET, &url, None).await {
            Ok(r) => named(&r.body, "/deviceAppManagement/policySets/{id}", "policy set").map(Some),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
