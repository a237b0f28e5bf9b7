//! Sign-in to Microsoft Entra ID (identity platform v2.0) for Graph.
//!
//! The ways in: a client secret, a certificate (signed JWT client
//! assertion), the device code flow for interactive admins, a pre-obtained
//! bearer token, and two secretless ones for pipelines and Azure-hosted
//! runs: workload identity federation (an external OIDC token as the client
//! assertion, see [`federated`]) and managed identity (see [`managed`]);
//! [`ambient`] picks those from the environment. Tokens are cached in memory
//! and refreshed before they expire. Secrets are held in `SecretString`,
//! whose `Debug` prints nothing, and are never logged.
//!
//! The token requests are plain form posts; `reqwest` does them, and
//! `jsonwebtoken` signs the client assertion. `azure_identity` would drag in
//! the whole Azure SDK core and cannot point at an emulator's login URL
//! per cloud as cleanly; `oauth2` does not do Entra's client assertions.

pub mod ambient;
mod assertion;
mod device_code;
pub mod federated;
pub mod managed;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

pub use assertion::{certificate_der, thumbprint_s256, CertificateCredential, CertificateError};
pub use device_code::DeviceCodePrompt;
pub use federated::FederatedTokenSource;
pub use managed::ManagedIdentitySource;

use super::cloud::Endpoints;

/// How to obtain tokens.
pub enum Credential {
    /// App-only sign-in with a client secret.
    ClientSecret {
        /// The directory (tenant) id.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// The client secret.
        secret: SecretString,
    },
    /// App-only sign-in with a certificate.
    Certificate {
        /// The directory (tenant) id.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// The certificate and its private key.
        certificate: CertificateCredential,
    },
    /// Delegated sign-in: the admin enters a code in a browser.
    DeviceCode {
        /// The directory (tenant) id.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// Shows the admin the code and where to enter it.
        prompt: Box<dyn Fn(&DeviceCodePrompt) + Send + Sync>,
    },
    /// A token obtained elsewhere.
    Bearer(SecretString),
    /// App-only sign-in with an external OIDC token (CI, Kubernetes) that
    /// the app trusts through a federated identity credential.
    WorkloadIdentity {
        /// The directory (tenant) id.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// Where the token comes from.
        source: FederatedTokenSource,
    },
    /// The Azure host's own identity; `client_id` picks a user-assigned one.
    ManagedIdentity {
        /// The application (client) id.
        client_id: Option<String>,
        /// Where the token comes from.
        source: ManagedIdentitySource,
    },
}

/// Who a sign-in acts as: the app itself, or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// App-only: client secret, certificate, workload or managed identity.
    App,
    /// Delegated: a person signed in (device code).
    User,
    /// A token obtained elsewhere: either.
    Unknown,
}

impl Credential {
    /// Who tokens from this credential act as.
    pub fn principal(&self) -> Principal {
        match self {
            Credential::ClientSecret { .. }
            | Credential::Certificate { .. }
            | Credential::WorkloadIdentity { .. }
            | Credential::ManagedIdentity { .. } => Principal::App,
            Credential::DeviceCode { .. } => Principal::User,
            Credential::Bearer(_) => Principal::Unknown,
        }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ClientSecret { tenant, client_id, .. } => {
                write!(f, "ClientSecret {{ tenant: {tenant}, client_id: {client_id} }}")
            }
            Credential::Certificate { tenant, client_id, .. } => {
                write!(f, "Certificate {{ tenant: {tenant}, client_id: {client_id} }}")
            }
            Credential::DeviceCode { tenant, client_id, .. } => {
                write!(f, "DeviceCode {{ tenant: {tenant}, client_id: {client_id} }}")
            }
            Credential::Bearer(_) => f.write_str("Bearer"),
            Credential::WorkloadIdentity { tenant, client_id, source } => {
                write!(
                    f,
                    "WorkloadIdentity {{ tenant: {tenant}, client_id: {client_id}, source: {source:?} }}"
                )
            }
            Credential::ManagedIdentity { client_id, source } => {
                write!(f, "ManagedIdentity {{ client_id: {client_id:?}, source: {source:?} }}")
            }
        }
    }
}

/// Why sign-in failed. Messages carry Entra's error code and description, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Entra refused the sign-in.
    #[error("the token service refused the request: {error}: {description}")]
    Refused {
        /// Entra's error code.
        error: String,
        /// Entra's description.
        description: String,
    },
    /// The token service could not be reached.
    #[error("cannot reach the token service at {url}: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The token service answered something unexpected.
    #[error("unexpected answer from the token service at {url}: {reason}")]
    Decode {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The device code sign-in was declined or expired.
    #[error("the device code sign-in was {0}")]
    DeviceCode(String),
    /// The certificate or key could not be used.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// The workload identity token could not be read.
    #[error("workload identity: {0}")]
    Federated(String),
    /// The managed identity endpoint failed.
    #[error("managed identity: {0}")]
    ManagedIdentity(String),
    /// A secretless method could not find what it needs in the environment.
    #[error("{0}")]
    Ambient(String),
}

/// Overall time for one token request.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Token requests tried at most this often (429, 5xx, lost connection).
const TOKEN_ATTEMPTS: u32 = 4;
/// The longest wait between token attempts, whatever Retry-After says.
const TOKEN_MAX_WAIT: Duration = Duration::from_secs(30);

/// The token service's error body.
#[derive(Debug, Deserialize)]
struct TokenErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Deserialize)]
pub(crate) struct TokenBody {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

struct Cached {
    token: SecretString,
    refresh_at: Instant,
    refresh_token: Option<SecretString>,
}

/// Hands out valid access tokens for one credential.
pub struct TokenProvider {
    credential: Credential,
    endpoints: Endpoints,
    http: reqwest::Client,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider").field("credential", &self.credential).finish()
    }
}

impl TokenProvider {
    /// A provider that signs in with `credential` on first use.
    pub fn new(credential: Credential, endpoints: Endpoints, http: reqwest::Client) -> Self {
        TokenProvider { credential, endpoints, http, cache: Mutex::new(None) }
    }

    /// Who the tokens act as.
    pub fn principal(&self) -> Principal {
        self.credential.principal()
    }

    /// A valid access token, from the cache or freshly obtained.
    pub async fn token(&self) -> Result<SecretString, AuthError> {
        if let Credential::Bearer(t) = &self.credential {
            return Ok(t.clone());
        }
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref() {
            if Instant::now() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        let refresh = cache.as_ref().and_then(|c| c.refresh_token.clone());
        let body = match (&self.credential, refresh) {
            (Credential::DeviceCode { tenant, client_id, .. }, Some(rt)) => {
                match self.refresh(tenant, client_id, &rt).await {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::info!(error = %e, "refreshing the token failed; signing in again");
                        self.acquire().await?
                    }
                }
            }
            _ => self.acquire().await?,
        };
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(3600));
        // Refresh at 80% of the lifetime, and at least a minute early.
        let early = (lifetime / 5).max(Duration::from_secs(60)).min(lifetime / 2);
        let token = SecretString::from(body.access_token);
        *cache = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime - early,
            refresh_token: body.refresh_token.map(SecretString::from),
        });
        tracing::debug!(expires_in_s = lifetime.as_secs(), "obtained a Graph access token");
        Ok(token)
    }

    /// Forgets the cached token (after Graph answered 401).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    async fn acquire(&self) -> Result<TokenBody, AuthError> {
        let scope = self.endpoints.scope();
        match &self.credential {
            Credential::ClientSecret { tenant, client_id, secret } => {
                let form = [
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                    ("client_secret", secret.expose_secret()),
                    ("grant_type", "client_credentials"),
                ];
                self.post_token(tenant, &form).await
            }
            Credential::Certificate { tenant, client_id, certificate } => {
                let url = self.endpoints.oauth_url(tenant, "token");
                let jwt = certificate.assertion(client_id, &url)?;
                let form = [
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", jwt.expose_secret()),
                    ("grant_type", "client_credentials"),
                ];
                self.post_token(tenant, &form).await
            }
            Credential::DeviceCode { tenant, client_id, prompt } => {
                // offline_access: without it Entra returns no refresh token,
                // and a long apply would ask the admin to sign in again.
                let scope = format!("{scope} offline_access");
                device_code::run(self, tenant, client_id, &scope, prompt.as_ref()).await
            }
            Credential::WorkloadIdentity { tenant, client_id, source } => {
                // Fetched anew for every Graph token: the file rotates and
                // GitHub's tokens live minutes.
                let external = source.token(&self.http).await?;
                let form = [
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", external.expose_secret()),
                    ("grant_type", "client_credentials"),
                ];
                self.post_token(tenant, &form).await
            }
            Credential::ManagedIdentity { client_id, source } => {
                // Managed identity endpoints take the v1 resource, not a scope.
                let resource = scope.strip_suffix("/.default").unwrap_or(&scope);
                source.token(&self.http, resource, client_id.as_deref()).await
            }
            Credential::Bearer(_) => unreachable!("bearer tokens are returned before acquiring"),
        }
    }

    async fn refresh(
        &self,
        tenant: &str,
        client_id: &str,
        rt: &SecretString,
    ) -> Result<TokenBody, AuthError> {
        let scope = format!("{} offline_access", self.endpoints.scope());
        let form = [
            ("client_id", client_id),
            ("scope", scope.as_str()),
            ("refresh_token", rt.expose_secret()),
            ("grant_type", "refresh_token"),
        ];
        self.post_token(tenant, &form).await
    }

    async fn post_token(&self, tenant: &str, form: &[(&str, &str)]) -> Result<TokenBody, AuthError> {
        match self.post_form(&self.endpoints.oauth_url(tenant, "token"), form).await? {
            Ok(body) => Ok(body),
            Err(e) => Err(AuthError::Refused { error: e.error, description: e.error_description }),
        }
    }

    /// Posts a form; Ok(Err) is the token service's own error answer.
    /// Each attempt has an overall timeout; 429 and 5xx answers and lost
    /// connections are retried (token requests are idempotent), honouring
    /// Retry-After.
    async fn post_form<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<Result<T, TokenErrorBody>, AuthError> {
        let mut attempt = 0;
        let (status, bytes) = loop {
            attempt += 1;
            let sent = async {
                let resp = self.http.post(url).form(form).timeout(TOKEN_TIMEOUT).send().await?;
                let status = resp.status();
                let headers = resp.headers().clone();
                Ok::<_, reqwest::Error>((status, headers, resp.bytes().await?))
            }
            .await;
            let transport = |e: reqwest::Error| AuthError::Transport {
                url: url.to_string(),
                reason: e.without_url().to_string(),
            };
            let retry_after = match sent {
                Ok((status, headers, bytes)) => {
                    if !(status.as_u16() == 429 || status.is_server_error()) || attempt >= TOKEN_ATTEMPTS {
                        break (status, bytes);
                    }
                    super::retry::retry_after(&headers)
                }
                Err(e) if attempt >= TOKEN_ATTEMPTS => return Err(transport(e)),
                Err(_) => None,
            };
            let wait =
                retry_after.unwrap_or(Duration::from_millis(500) * 2u32.pow(attempt - 1)).min(TOKEN_MAX_WAIT);
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, "the token service asked us to retry");
            tokio::time::sleep(wait).await;
        };
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map(Ok)
                .map_err(|e| AuthError::Decode { url: url.to_string(), reason: e.to_string() });
        }
        match serde_json::from_slice::<TokenErrorBody>(&bytes) {
            Ok(e) => Ok(Err(e)),
            Err(_) => Err(AuthError::Decode {
                url: url.to_string(),
                reason: format!("HTTP {status} without an OAuth error body"),
            }),
        }
    }
}
