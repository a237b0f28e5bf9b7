//! Managed identity: the Azure host hands out tokens for its own identity
//! (system-assigned, or a user-assigned one named by client id), so nothing
//! secret is configured at all.
//!
//! Two endpoints, as azure-identity's `ManagedIdentityCredential` uses them:
//! App Service / Functions / Container Apps (`IDENTITY_ENDPOINT`, with
//! `IDENTITY_HEADER` sent as `X-IDENTITY-HEADER`, api-version 2019-08-01)
//! and the VM instance metadata service (IMDS, `Metadata: true`,
//! api-version 2018-02-01). Both take a `resource`, not a scope.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::{AuthError, TokenBody};

/// The instance metadata service's address on every Azure VM.
pub const IMDS_DEFAULT_URL: &str = "http://169.254.169.254";
/// Environment variable overriding [`IMDS_DEFAULT_URL`]: for tests against
/// the emulator and for proxies; never needed on a real VM.
pub const IMDS_URL_ENV: &str = "MTDHOST_IMDS_URL";
/// IMDS answers within milliseconds on a VM; off Azure the address is a
/// black hole, so give up quickly rather than hang a pipeline.
pub const IMDS_TIMEOUT: Duration = Duration::from_secs(3);

/// Which managed identity endpoint to ask.
pub enum ManagedIdentitySource {
    /// App Service, Functions, Container Apps.
    AppService {
        /// `IDENTITY_ENDPOINT`.
        endpoint: String,
        /// `IDENTITY_HEADER`.
        header: SecretString,
    },
    /// The VM instance metadata service at this base URL.
    Imds {
        /// The instance metadata service.
        base_url: String,
    },
}

impl std::fmt::Debug for ManagedIdentitySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManagedIdentitySource::AppService { endpoint, .. } => write!(f, "AppService({endpoint})"),
            ManagedIdentitySource::Imds { base_url } => write!(f, "Imds({base_url})"),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    expires_on: Option<Value>,
    #[serde(default)]
    expires_in: Option<Value>,
}

/// A number of seconds sent as a JSON number or a string (both happen).
fn seconds(v: &Option<Value>) -> Option<i64> {
    match v.as_ref()? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl ManagedIdentitySource {
    /// A token for `resource` (e.g. `https://graph.microsoft.com`) for the
    /// system-assigned identity, or the user-assigned one with `client_id`.
    pub(super) async fn token(
        &self,
        http: &reqwest::Client,
        resource: &str,
        client_id: Option<&str>,
    ) -> Result<TokenBody, AuthError> {
        let (url, timeout) = match self {
            ManagedIdentitySource::AppService { endpoint, .. } => (endpoint.clone(), super::TOKEN_TIMEOUT),
            ManagedIdentitySource::Imds { base_url } => {
                (format!("{}/metadata/identity/oauth2/token", base_url.trim_end_matches('/')), IMDS_TIMEOUT)
            }
        };
        let mut parsed = url::Url::parse(&url)
            .map_err(|e| AuthError::ManagedIdentity(format!("bad endpoint {url}: {e}")))?;
        {
            let mut q = parsed.query_pairs_mut();
            q.append_pair(
                "api-version",
                if matches!(self, ManagedIdentitySource::AppService { .. }) {
                    "2019-08-01"
                } else {
                    "2018-02-01"
                },
            );
            q.append_pair("resource", resource);
            if let Some(c) = client_id {
                q.append_pair("client_id", c);
            }
        }
        let mut req = http.get(parsed).timeout(timeout);
        req = match self {
            ManagedIdentitySource::AppService { header, .. } => {
                req.header("X-IDENTITY-HEADER", header.expose_secret())
            }
            ManagedIdentitySource::Imds { .. } => req.header("Metadata", "true"),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| AuthError::Transport { url: url.clone(), reason: e.without_url().to_string() })?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| AuthError::Transport { url: url.clone(), reason: e.without_url().to_string() })?;
        if !status.is_success() {
            // Both endpoints answer OAuth-style errors; the body holds no token.
            let detail = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .map(|v| {
                    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    format!("{}: {}", field("error"), field("error_description"))
                })
                .unwrap_or_default();
            return Err(AuthError::ManagedIdentity(format!(
                "the managed identity endpoint {url} answered HTTP {status} {detail}"
            )));
        }
        let answer: Answer = serde_json::from_slice(&bytes)
            .map_err(|e| AuthError::Decode { url: url.clone(), reason: e.to_string() })?;
        let now = chrono::Utc::now().timestamp();
        let expires_in = seconds(&answer.expires_in)
            .or_else(|| seconds(&answer.expires_on).map(|on| on - now))
            .map(|s| s.max(0) as u64);
        Ok(TokenBody { access_token: answer.access_token, expires_in, refresh_token: None })
    }
}
