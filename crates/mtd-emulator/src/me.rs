//! The signed-in user (`GET /me`) and `POST /me/checkMemberGroups`, as Graph
//! answers them: only for a delegated token (an app-only token gets Graph's
//! 400, which is how a client tells the two apart), at most 20 group ids per
//! check, membership transitive through member groups.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::odata::{bad_request, error, Reply};
use super::tenant::Tenant;

const APP_ONLY: &str = "/me request is only valid with delegated authentication flow.";

fn signed_in<'t>(tenant: &'t Tenant, user: Option<&str>) -> Result<&'t Value, Reply> {
    let Some(user) = user else { return Err(bad_request(APP_ONLY)) };
    tenant
        .users
        .iter()
        .find(|u| u["id"].as_str().is_some_and(|id| id.eq_ignore_ascii_case(user)))
        .ok_or_else(|| error(404, "Request_ResourceNotFound", &format!("Resource '{user}' does not exist.")))
}

/// `GET /me`.
pub(crate) fn me(tenant: &Tenant, user: Option<&str>) -> Result<Reply, Reply> {
    Ok(Reply::json(200, signed_in(tenant, user)?.clone()))
}

/// Every group `member` belongs to, directly or through member groups.
fn groups_of(tenant: &Tenant, member: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut frontier = vec![member.to_ascii_lowercase()];
    while let Some(m) = frontier.pop() {
        for (group, members) in &tenant.members {
            let g = group.to_ascii_lowercase();
            if members.iter().any(|x| x.eq_ignore_ascii_case(&m)) && found.insert(g.clone()) {
                frontier.push(g);
            }
        }
    }
    found
}

/// `POST /me/checkMemberGroups` with `{"groupIds": [...]}`: the ids among
/// them the user is a member of.
pub(crate) fn check_member_groups(
    tenant: &Tenant,
    user: Option<&str>,
    body: Option<&Value>,
) -> Result<Reply, Reply> {
    let me = signed_in(tenant, user)?;
    let Some(ids) = body.and_then(|b| b.get("groupIds")).and_then(Value::as_array) else {
        return Err(bad_request("Required parameter 'groupIds' is missing."));
    };
    if ids.len() > 20 {
        return Err(bad_request("Number of groupIds exceeds the maximum of 20."));
    }
    let ids: Vec<&str> = ids
        .iter()
        .map(|v| {
            v.as_str()
                .filter(|s| mtd_model::is_guid(s))
                .ok_or_else(|| bad_request(&format!("Invalid GUID: {v}")))
        })
        .collect::<Result<_, _>>()?;
    let mine = groups_of(tenant, me["id"].as_str().unwrap_or_default());
    let value: Vec<&str> = ids.into_iter().filter(|id| mine.contains(&id.to_ascii_lowercase())).collect();
    Ok(Reply::json(
        200,
        json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)", "value": value}),
    ))
}
