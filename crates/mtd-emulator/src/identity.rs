//! HTTP routes for secretless sign-in: the OIDC issuer's discovery document
//! and JWKS, a GitHub-Actions-style ID token endpoint, and the two managed
//! identity endpoints (App Service / Container Apps / Functions, and the VM
//! instance metadata service), each with the header its real counterpart
//! demands.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::federation;
use super::odata::Reply;
use super::{lock, Shared};

/// The request headers these routes look at.
pub(crate) struct Headers {
    identity_header: Option<String>,
    metadata: Option<String>,
}

impl From<&hyper::HeaderMap> for Headers {
    fn from(h: &hyper::HeaderMap) -> Self {
        let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
        Headers { identity_header: get("x-identity-header"), metadata: get("metadata") }
    }
}

fn error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(status, json!({"error": error, "error_description": description}))
}

/// Serves the request if it is one of these routes.
pub(crate) fn route(
    shared: &Shared,
    method: &str,
    segs: &[&str],
    raw_query: &str,
    base: &str,
    bearer: Option<&str>,
    headers: &Headers,
) -> Option<Reply> {
    if method != "GET" {
        return None;
    }
    let q: HashMap<String, String> = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    let reply = match segs {
        ["_emulator", "oidc", ".well-known", "openid-configuration"] => {
            Reply::json(200, federation::openid_configuration(base))
        }
        ["_emulator", "oidc", "keys"] => Reply::json(200, federation::jwks()),
        ["_emulator", "github", "token"] => github_token(shared, base, bearer, &q),
        ["_emulator", "msi", "token"] => {
            if headers.identity_header.as_deref() != Some(shared.identity_header.as_str()) {
                return Some(error(
                    401,
                    "invalid_request",
                    "The X-IDENTITY-HEADER header is missing or wrong.",
                ));
            }
            if q.get("api-version").map(String::as_str) != Some("2019-08-01") {
                return Some(error(400, "invalid_request", "Use api-version=2019-08-01."));
            }
            managed_token(shared, &q, true)
        }
        ["metadata", "identity", "oauth2", "token"] => {
            if headers.metadata.as_deref() != Some("true") {
                return Some(error(400, "invalid_request", "Required metadata header not specified"));
            }
            managed_token(shared, &q, false)
        }
        _ => return None,
    };
    Some(reply)
}

/// GitHub answers `{"count": n, "value": "<jwt>"}` to the runner's request token.
fn github_token(shared: &Shared, base: &str, bearer: Option<&str>, q: &HashMap<String, String>) -> Reply {
    let github = lock(&shared.github).clone();
    let Some((request_token, subject)) = github else {
        return error(404, "not_found", "The GitHub Actions endpoint is not enabled on this emulator.");
    };
    if bearer != Some(request_token.as_str()) {
        return error(401, "unauthorized", "Bad ACTIONS_ID_TOKEN_REQUEST_TOKEN.");
    }
    // GitHub's default audience is the repository owner's URL.
    let audience = q.get("audience").cloned().unwrap_or_else(|| "https://github.com/contoso".into());
    let jwt = federation::issue(base, &subject, &audience, 0, 300);
    Reply::json(200, json!({"count": 1, "value": jwt}))
}

/// A managed identity token. The App Service endpoint answers `expires_on`
/// in seconds since the epoch (as a string); IMDS adds `expires_in`.
fn managed_token(shared: &Shared, q: &HashMap<String, String>, app_service: bool) -> Reply {
    let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
        return error(400, "invalid_request", "Required query variable 'resource' is missing");
    };
    let tenant = shared.tenant();
    let wanted = q.get("client_id").filter(|c| !c.is_empty());
    let identity = tenant.managed_identities.iter().find(|m| match wanted {
        Some(c) => m.user_assigned && &m.client_id == c,
        None => !m.user_assigned,
    });
    let Some(identity) = identity else {
        return error(400, "invalid_request", "Identity not found");
    };
    let mut body: Value = shared.tokens().issue(&identity.client_id, false);
    let expires_in = body.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
    let expires_on = chrono::Utc::now().timestamp() + expires_in as i64;
    body["expires_on"] = Value::String(expires_on.to_string());
    body["resource"] = Value::String(resource.clone());
    body["client_id"] = Value::String(identity.client_id.clone());
    if app_service {
        if let Some(o) = body.as_object_mut() {
            o.remove("expires_in");
            o.remove("ext_expires_in");
        }
    } else {
        body["expires_in"] = Value::String(expires_in.to_string());
    }
    Reply::json(200, body)
}
