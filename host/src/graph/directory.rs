//! What policies point at: Entra groups, notification templates, MTD
//! connectors, assignment filters and policy sets. Every query goes through
//! the URL builder ([`super::query`]), so names with `&`, `'`, `#`, `+`, `%`
//! or non-ASCII text are looked up as they are.
//!
//! Nothing is dropped: an object that cannot be read is an error, except
//! connectors, which mtdhost only reads for warnings — there an odd field is
//! itself reported as a warning.

use reqwest::Method;
use serde_json::Value;

use super::client::GraphClient;
use super::error::GraphError;
use super::model::{Connector, Group};
use super::query::display_name_eq;
use super::schema::ApiVersion;

const GROUP_FIELDS: &str = "id,displayName,securityEnabled";

/// Result of looking a group up by display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupLookup {
    None,
    One(Group),
    Many(Vec<Group>),
}

/// The tenant's connectors and what in them could not be read.
#[derive(Debug, Clone, Default)]
pub struct ConnectorRead {
    pub connectors: Vec<Connector>,
    /// Each names the connector, the field and the value.
    pub warnings: Vec<String>,
}

/// A named object (assignment filter, policy set, template): id and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub display_name: String,
}

fn decode(path: &str, reason: String) -> GraphError {
    GraphError::Decode { method: "GET".into(), path: path.into(), reason }
}

fn group(v: Value, path: &str) -> Result<Group, GraphError> {
    let shown = v.to_string();
    serde_json::from_value(v).map_err(|e| decode(path, format!("cannot read group {shown}: {e}")))
}

fn named(v: &Value, path: &str, what: &str) -> Result<Named, GraphError> {
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

impl GraphClient {
    /// Groups with exactly this display name.
    pub async fn find_group(&self, name: &str) -> Result<GroupLookup, GraphError> {
        let filter = display_name_eq(name);
        let url =
            self.endpoint(ApiVersion::V1, &["groups"], &[("$filter", &filter), ("$select", GROUP_FIELDS)])?;
        let items = self.get_all(&url).await?;
        let mut groups = items.into_iter().map(|v| group(v, "/groups")).collect::<Result<Vec<_>, _>>()?;
        groups.retain(|g| g.display_name == name);
        Ok(match groups.len() {
            0 => GroupLookup::None,
            1 => GroupLookup::One(groups.remove(0)),
            _ => GroupLookup::Many(groups),
        })
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

    /// The tenant's MTD connectors; odd fields are reported, never skipped.
    pub async fn read_connectors(&self, version: ApiVersion) -> Result<ConnectorRead, GraphError> {
        let url = self.endpoint(version, &["deviceManagement", "mobileThreatDefenseConnectors"], &[])?;
        let mut out = ConnectorRead::default();
        for v in self.get_all(&url).await? {
            match Connector::from_graph(&v) {
                Ok((c, problems)) => {
                    out.connectors.push(c);
                    out.warnings.extend(problems);
                }
                Err(e) => out.warnings.push(e),
            }
        }
        Ok(out)
    }

    /// The tenant's MTD connectors; what could not be read is logged as a warning.
    pub async fn list_connectors(&self, version: ApiVersion) -> Result<Vec<Connector>, GraphError> {
        let read = self.read_connectors(version).await?;
        for w in &read.warnings {
            tracing::warn!("{w}");
        }
        Ok(read.connectors)
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
