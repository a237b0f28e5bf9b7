//! Who is signed in: `GET /me` and `POST /me/checkMemberGroups` (v1.0;
//! delegated permission User.Read is enough for both). Only a delegated
//! token has a user. An app-only credential is not asked at all; for a token
//! obtained elsewhere, Graph's 400 "/me request is only valid with delegated
//! authentication flow" is the one answer that means "app-only". Any other
//! failure is an error: the caller cannot tell who is signed in.

use reqwest::Method;
use serde_json::{json, Value};

use super::auth::Principal;
use super::client::GraphClient;
use super::error::GraphError;
use super::schema::ApiVersion;

const APP_ONLY: &str = "only valid with delegated authentication flow";

/// The signed-in user of a delegated session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInUser {
    /// The user's object id.
    pub id: String,
    /// The sign-in name, for messages (empty if Graph gave none).
    pub user_principal_name: String,
}

impl GraphClient {
    /// The signed-in user, or none when the session is app-only.
    pub async fn signed_in_user(&self) -> Result<Option<SignedInUser>, GraphError> {
        if self.principal() == Principal::App {
            return Ok(None);
        }
        let url = self.endpoint(ApiVersion::V1, &["me"], &[("$select", "id,userPrincipalName")])?;
        let r = match self.request(Method::GET, &url, None).await {
            Ok(r) => r,
            Err(e)
                if self.principal() == Principal::Unknown
                    && e.status() == Some(400)
                    && e.to_string().contains(APP_ONLY) =>
            {
                tracing::debug!("the token is app-only: no signed-in user");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let id = r.body.get("id").and_then(Value::as_str).ok_or_else(|| GraphError::Decode {
            method: "GET".into(),
            path: "/v1.0/me".into(),
            reason: format!("the signed-in user has no id: {}", r.body),
        })?;
        let upn = r.body.get("userPrincipalName").and_then(Value::as_str).unwrap_or_default();
        Ok(Some(SignedInUser { id: id.to_string(), user_principal_name: upn.to_string() }))
    }

    /// The ids among `group_ids` the signed-in user is a member of,
    /// transitively (Graph takes 20 per request).
    pub async fn my_member_groups(&self, group_ids: &[String]) -> Result<Vec<String>, GraphError> {
        let url = self.endpoint(ApiVersion::V1, &["me", "checkMemberGroups"], &[])?;
        let mut found = Vec::new();
        for chunk in group_ids.chunks(20) {
            let r = self.request(Method::POST, &url, Some(&json!({ "groupIds": chunk }))).await?;
            let value = r.body.get("value").and_then(Value::as_array).ok_or_else(|| GraphError::Decode {
                method: "POST".into(),
                path: "/v1.0/me/checkMemberGroups".into(),
                reason: format!("no 'value' list in {}", r.body),
            })?;
            found.extend(value.iter().filter_map(Value::as_str).map(str::to_string));
        }
        Ok(found)
    }
}
