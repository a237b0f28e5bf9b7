//! Conditional Access policies (`/identity/conditionalAccess/policies`, v1.0):
//! read all (following nextLink, never `$top`, which cuts paging short),
//! create (201 with the policy; a lost answer is settled by reading the name
//! back, never by posting again), update (PATCH of the changed parts, 204),
//! delete. Every body is checked against [`mtd_model::check_ca_body`] first.
//!
//! Names are not unique in Entra; matching and refusing duplicates is the
//! planner's, by name plus the ownership marker in the description.

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::{Attempt, GraphClient, Retry};
use super::error::GraphError;
use super::query::display_name_eq;
use super::schema::ApiVersion;
use mtd_model::{check_ca_body, Rule};

const SEGS: [&str; 3] = ["identity", "conditionalAccess", "policies"];

/// A conditional access policy as the tenant holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteCaPolicy {
    /// The object id.
    pub id: String,
    /// The display name.
    pub display_name: String,
    /// The description (where mtdhost's marker is); empty when unset.
    pub description: String,
    /// Graph's state word (`enabled`, `disabled`, `enabledForReportingButNotEnforced`).
    pub state: String,
    /// The whole object as read.
    pub raw: Map<String, Value>,
}

/// Every policy read, and what could not be read (named, never dropped silently).
#[derive(Debug, Clone, Default)]
pub struct CaRead {
    /// The policies read.
    pub policies: Vec<RemoteCaPolicy>,
    /// Each names the policy and the field.
    pub warnings: Vec<String>,
}

impl RemoteCaPolicy {
    /// The value at `path` (`["conditions", "users", "includeGroups"]`);
    /// none where Graph gave nothing or `null`.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        rest.iter().try_fold(self.raw.get(*first)?, |v, p| v.get(p)).filter(|v| !v.is_null())
    }

    /// The strings of the list at `path`, as Graph wrote them; empty where
    /// Graph gave nothing or `null`.
    pub fn strings(&self, path: &[&str]) -> Vec<String> {
        self.at(path)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    }
}

fn parse(v: Value) -> Result<RemoteCaPolicy, String> {
    let Value::Object(raw) = v else {
        return Err(format!("a conditional access policy is not an object: {v}"));
    };
    let text = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_string);
    let id = text("id")
        .ok_or_else(|| format!("a conditional access policy has no id: {}", Value::Object(raw.clone())))?;
    let display_name =
        text("displayName").ok_or_else(|| format!("conditional access policy {id} has no displayName"))?;
    Ok(RemoteCaPolicy {
        description: text("description").unwrap_or_default(),
        state: text("state").unwrap_or_default(),
        id,
        display_name,
        raw,
    })
}

fn refuse(subject: String, body: &Value) -> Result<(), GraphError> {
    let broken: Vec<Rule> = check_ca_body(body).into_iter().map(Rule::ConditionalAccess).collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(GraphError::Refused { subject, broken })
    }
}

impl GraphClient {
    /// Every conditional access policy of the tenant.
    pub async fn read_ca_policies(&self) -> Result<CaRead, GraphError> {
        let url = self.endpoint(ApiVersion::V1, &SEGS, &[])?;
        let mut out = CaRead::default();
        for v in self.get_all(&url).await? {
            match parse(v) {
                Ok(p) => out.policies.push(p),
                Err(e) => out.warnings.push(e),
            }
        }
        Ok(out)
    }

    /// The policies named exactly `name`.
    async fn find_ca_policies(&self, name: &str) -> Result<Vec<RemoteCaPolicy>, GraphError> {
        let filter = display_name_eq(name);
        let url = self.endpoint(ApiVersion::V1, &SEGS, &[("$filter", filter.as_str())])?;
        Ok(self
            .get_all(&url)
            .await?
            .into_iter()
            .filter_map(|v| parse(v).ok())
            .filter(|p| p.display_name == name)
            .collect())
    }

    /// Creates a policy. After a lost answer it waits `create_settle`, reads
    /// the name back and takes the one it finds; it never posts twice.
    pub async fn create_ca_policy(&self, body: &Value) -> Result<RemoteCaPolicy, GraphError> {
        let name = body.get("displayName").and_then(Value::as_str).unwrap_or_default().to_string();
        refuse(format!("conditional access policy '{name}'"), body)?;
        let url = self.endpoint(ApiVersion::V1, &SEGS, &[])?;
        match self.attempt(Method::POST, &url, Some(body), Retry::Create).await? {
            Attempt::Done(resp) => {
                parse(resp.body).map_err(|e| GraphError::Setup(format!("create answered oddly: {e}")))
            }
            Attempt::Uncertain(err) => {
                tracing::warn!(policy = %name, error = %err, "create may or may not have happened; re-reading by name");
                // A new policy may take a while to be listed: read again with
                // doubling waits until create_settle has passed, and take only
                // a policy carrying this body's description (its marker).
                let description = body.get("description").and_then(Value::as_str).unwrap_or_default();
                let settle = self.options().create_settle;
                let mut wait = (settle / 8).max(std::time::Duration::from_millis(10));
                let mut waited = std::time::Duration::ZERO;
                loop {
                    let mut found: Vec<RemoteCaPolicy> = self
                        .find_ca_policies(&name)
                        .await?
                        .into_iter()
                        .filter(|p| p.description == description)
                        .collect();
                    match found.len() {
                        1 => return Ok(found.remove(0)),
                        0 if waited < settle => {
                            tokio::time::sleep(wait).await;
                            waited += wait;
                            wait *= 2;
                        }
                        0 => {
                            return Err(GraphError::Setup(format!(
                                "creating conditional access policy '{name}': {err}; it is not listed after {} s, but Entra may still be adding it — plan again in a few minutes before applying, so it is not created twice",
                                settle.as_secs()
                            )))
                        }
                        _ => {
                            return Err(GraphError::Ambiguous {
                                name,
                                type_name: "conditionalAccessPolicy",
                                ids: found.into_iter().map(|p| p.id).collect(),
                            })
                        }
                    }
                }
            }
        }
    }

    /// Changes the given top-level parts of policy `id` (Graph merges nested
    /// objects and replaces lists).
    pub async fn update_ca_policy(&self, id: &str, changes: &Map<String, Value>) -> Result<(), GraphError> {
        let body = Value::Object(changes.clone());
        refuse(format!("conditional access policy {id}"), &body)?;
        self.request(
            Method::PATCH,
            &self.endpoint(ApiVersion::V1, &[SEGS[0], SEGS[1], SEGS[2], id], &[])?,
            Some(&body),
        )
        .await?;
        Ok(())
    }

    /// Deletes policy `id`; one already gone is not an error.
    pub async fn delete_ca_policy(&self, id: &str) -> Result<(), GraphError> {
        let url = self.endpoint(ApiVersion::V1, &[SEGS[0], SEGS[1], SEGS[2], id], &[])?;
        match self.request(Method::DELETE, &url, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
