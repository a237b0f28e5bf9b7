//! Everything a plan or export looks names up in — groups by name and by id,
//! policy sets, notification templates, assignment filters — read in one
//! round trip: a single beta `$batch` (20 items a batch, batches overlapped),
//! since `$batch` items share their batch's API version and filters and
//! policy sets exist on beta only. A list longer than a page, or a name more
//! than a page of groups share, is read to its end afterwards.
//!
//! Nothing is dropped: an item that cannot be read is an error naming it,
//! except a group or policy set id that does not exist (404), which is an
//! answer of its own.

use serde_json::Value;

use super::client::GraphClient;
use super::directory::{group, lookup, named, GroupLookup, Named, GROUP_FIELDS};
use super::error::GraphError;
use super::model::Group;
use super::query::{display_name_eq, relative};
use super::schema::ApiVersion;

const TEMPLATES: &str = "/deviceManagement/notificationMessageTemplates";
const FILTERS: &str = "/deviceManagement/assignmentFilters";

/// What to look up.
#[derive(Debug, Default, Clone)]
pub struct ReferenceQuery {
    /// Groups by exact display name.
    pub group_names: Vec<String>,
    /// Groups by object id.
    pub group_ids: Vec<String>,
    /// Policy sets by id.
    pub policy_sets: Vec<String>,
    /// Read every notification template.
    pub templates: bool,
    /// Read every assignment filter.
    pub filters: bool,
}

/// The answers, each list in its query's order.
#[derive(Debug, Default)]
pub struct References {
    /// One lookup per name.
    pub groups_by_name: Vec<GroupLookup>,
    /// One per id; none where the id does not exist.
    pub groups_by_id: Vec<Option<Group>>,
    /// One per id; none where the id does not exist.
    pub policy_sets: Vec<Option<Named>>,
    /// Every template (id, display name), when asked.
    pub templates: Option<Vec<(String, String)>>,
    /// Every assignment filter, when asked.
    pub filters: Option<Vec<Named>>,
}

fn items(body: &Value, path: &str) -> Result<Vec<Value>, GraphError> {
    body.get("value").and_then(Value::as_array).cloned().ok_or_else(|| GraphError::Decode {
        method: "GET".into(),
        path: path.into(),
        reason: "no \"value\" array in a collection response".into(),
    })
}

impl GraphClient {
    /// Reads everything `q` asks for in one round trip (more only for
    /// batches past 20 items or lists past a page).
    pub async fn read_references(&self, q: &ReferenceQuery) -> Result<References, GraphError> {
        let mut paths = Vec::new();
        for n in &q.group_names {
            let filter = display_name_eq(n);
            paths.push(relative(&["groups"], &[("$filter", &filter), ("$select", GROUP_FIELDS)])?);
        }
        for id in &q.group_ids {
            paths.push(relative(&["groups", id], &[("$select", GROUP_FIELDS)])?);
        }
        for id in &q.policy_sets {
            paths.push(relative(
                &["deviceAppManagement", "policySets", id],
                &[("$select", "id,displayName")],
            )?);
        }
        if q.templates {
            paths.push(relative(&["deviceManagement", "notificationMessageTemplates"], &[])?);
        }
        if q.filters {
            paths.push(relative(
                &["deviceManagement", "assignmentFilters"],
                &[("$select", "id,displayName")],
            )?);
        }
        let mut out = References::default();
        if paths.is_empty() {
            return Ok(out);
        }
        let mut answers = self.batch_get(ApiVersion::Beta, &paths).await?.into_iter();
        let mut next = || answers.next().unwrap_or(Ok(Value::Null));
        for name in &q.group_names {
            let body = next()?;
            let found = if body.get("@odata.nextLink").is_some() {
                // More than a page of groups with one name: read them all.
                self.find_group(name).await?
            } else {
                let groups = items(&body, "/groups")?
                    .into_iter()
                    .map(|v| group(v, "/groups"))
                    .collect::<Result<Vec<_>, _>>()?;
                lookup(name, groups)
            };
            out.groups_by_name.push(found);
        }
        for _ in &q.group_ids {
            out.groups_by_id.push(match next() {
                Ok(v) => Some(group(v, "/groups/{id}")?),
                Err(e) if e.status() == Some(404) => None,
                Err(e) => return Err(e),
            });
        }
        for _ in &q.policy_sets {
            out.policy_sets.push(match next() {
                Ok(v) => Some(named(&v, "/deviceAppManagement/policySets/{id}", "policy set")?),
                Err(e) if e.status() == Some(404) => None,
                Err(e) => return Err(e),
            });
        }
        if q.templates {
            let all = self.rest_of(next()?, TEMPLATES).await?;
            out.templates = Some(
                all.iter()
                    .map(|v| named(v, TEMPLATES, "notification template").map(|n| (n.id, n.display_name)))
                    .collect::<Result<_, _>>()?,
            );
        }
        if q.filters {
            let all = self.rest_of(next()?, FILTERS).await?;
            out.filters =
                Some(all.iter().map(|v| named(v, FILTERS, "assignment filter")).collect::<Result<_, _>>()?);
        }
        Ok(out)
    }

    /// A collection's first page (from a batch) and every page after it.
    async fn rest_of(&self, first: Value, path: &str) -> Result<Vec<Value>, GraphError> {
        let mut all = items(&first, path)?;
        if let Some(link) = first.get("@odata.nextLink").and_then(Value::as_str) {
            all.extend(self.get_all(link).await?);
        }
        Ok(all)
    }
}
