//! Workload identity federation: where the external OIDC token comes from.
//! It is exchanged at the token endpoint as a `client_assertion`
//! (`jwt-bearer`), so no secret is stored anywhere.
//!
//! Sources follow azure-identity's conventions: a file whose path is in
//! `AZURE_FEDERATED_TOKEN_FILE` (Kubernetes, Azure DevOps, any CI that can
//! write one), read again on every token request because the platform
//! rotates it; and GitHub Actions' ID token endpoint
//! (`ACTIONS_ID_TOKEN_REQUEST_URL`, authorised with
//! `ACTIONS_ID_TOKEN_REQUEST_TOKEN`), asked each time for a token with the
//! audience Entra expects.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::AuthError;

/// The audience Entra requires on federated assertions.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Where the external token comes from.
pub enum FederatedTokenSource {
    /// A file the platform keeps current.
    File(PathBuf),
    /// GitHub Actions' OIDC endpoint (the job needs `permissions: id-token: write`).
    GitHubActions {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        request_url: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        request_token: SecretString,
    },
}

impl std::fmt::Debug for FederatedTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FederatedTokenSource::File(p) => write!(f, "File({})", p.display()),
            FederatedTokenSource::GitHubActions { .. } => f.write_str("GitHubActions"),
        }
    }
}

#[derive(Deserialize)]
struct GitHubAnswer {
    value: String,
}

impl FederatedTokenSource {
    /// A current external token.
    pub async fn token(&self, http: &reqwest::Client) -> Result<SecretString, AuthError> {
        match self {
            FederatedTokenSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    AuthError::Federated(format!(
                        "cannot read the federated token file {}: {e}",
                        path.display()
                    ))
                })?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(AuthError::Federated(format!(
                        "the federated token file {} is empty",
                        path.display()
                    )));
                }
                Ok(SecretString::from(token.to_string()))
            }
            FederatedTokenSource::GitHubActions { request_url, request_token } => {
                let mut url = url::Url::parse(request_url).map_err(|e| {
                    AuthError::Federated(format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: {e}"))
                })?;
                url.query_pairs_mut().append_pair("audience", TOKEN_EXCHANGE_AUDIENCE);
                let shown = format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or(""), url.path());
                let transport = |e: reqwest::Error| AuthError::Transport {
                    url: shown.clone(),
                    reason: e.without_url().to_string(),
                };
                let resp = http
                    .get(url)
                    .bearer_auth(request_token.expose_secret())
                    .timeout(super::TOKEN_TIMEOUT)
                    .send()
                    .await
                    .map_err(transport)?;
                let status = resp.status();
                if !status.is_success() {
                    return Err(AuthError::Federated(format!(
                        "the GitHub Actions OIDC endpoint {shown} answered HTTP {status} (does the job have `permissions: id-token: write`?)"
                    )));
                }
                let body: GitHubAnswer = resp.json().await.map_err(|e| AuthError::Decode {
                    url: shown.clone(),
                    reason: e.without_url().to_string(),
                })?;
                Ok(SecretString::from(body.value))
            }
        }
    }
}
