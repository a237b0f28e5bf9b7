//! Choosing a secretless credential from what the environment provides:
//! `workload-identity`, `managed-identity` and `auto`.
//!
//! The environment is read through an injected lookup, so callers (and
//! tests) decide what it holds; the process environment is only the
//! default. Variable names are azure-identity's (`AZURE_CLIENT_ID`,
//! `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`, `IDENTITY_ENDPOINT`,
//! `IDENTITY_HEADER`) and the GitHub runner's (`ACTIONS_ID_TOKEN_REQUEST_*`),
//! so pipelines set up for az CLI or Terraform work unchanged. No secret is
//! ever taken from the environment by these methods.

use std::path::PathBuf;

use secrecy::SecretString;

use super::federated::FederatedTokenSource;
use super::managed::{ManagedIdentitySource, IMDS_DEFAULT_URL, IMDS_URL_ENV};
use super::{AuthError, Credential};

/// Which secretless method the config asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmbientMethod {
    /// An external OIDC token (CI, Kubernetes).
    WorkloadIdentity,
    /// The Azure host's identity.
    ManagedIdentity,
    /// Whichever the environment offers.
    Auto,
}

/// What the config says; the environment fills the rest.
#[derive(Debug, Clone, Default)]
pub struct AmbientSettings {
    /// The directory (tenant) id.
    pub tenant: Option<String>,
    /// The app (workload identity) or the user-assigned identity (managed identity).
    pub client_id: Option<String>,
    /// Whether `auto` may try the VM metadata endpoint.
    pub imds: bool,
}

/// Looks up an environment variable.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, for [`resolve`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Everything `auto` looks for, for its one error message.
const LOOKED_FOR: &str = "AZURE_FEDERATED_TOKEN_FILE (workload identity from a token file), \
ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN (GitHub Actions with `permissions: id-token: write`), \
IDENTITY_ENDPOINT and IDENTITY_HEADER (managed identity on App Service, Functions, Container Apps); \
the VM metadata endpoint is tried only with `imds = true` in [tenant.auth] or MTDHOST_IMDS_URL set";

fn non_empty(env: EnvLookup<'_>, name: &str) -> Option<String> {
    env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn federated_source(env: EnvLookup<'_>) -> Option<FederatedTokenSource> {
    if let Some(file) = non_empty(env, "AZURE_FEDERATED_TOKEN_FILE") {
        return Some(FederatedTokenSource::File(PathBuf::from(file)));
    }
    match (non_empty(env, "ACTIONS_ID_TOKEN_REQUEST_URL"), non_empty(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")) {
        (Some(request_url), Some(token)) => Some(FederatedTokenSource::GitHubActions {
            request_url,
            request_token: SecretString::from(token),
        }),
        _ => None,
    }
}

fn workload(
    settings: &AmbientSettings,
    env: EnvLookup<'_>,
    source: FederatedTokenSource,
) -> Result<Credential, AuthError> {
    let pick = |configured: &Option<String>, var: &str, what: &str| {
        configured.clone().filter(|v| !v.is_empty()).or_else(|| non_empty(env, var)).ok_or_else(|| {
            AuthError::Ambient(format!(
                "workload identity needs the {what}: set it in the config or in {var}"
            ))
        })
    };
    Ok(Credential::WorkloadIdentity {
        tenant: pick(&settings.tenant, "AZURE_TENANT_ID", "tenant id")?,
        client_id: pick(&settings.client_id, "AZURE_CLIENT_ID", "app's client id")?,
        source,
    })
}

fn app_service(env: EnvLookup<'_>) -> Option<ManagedIdentitySource> {
    match (non_empty(env, "IDENTITY_ENDPOINT"), non_empty(env, "IDENTITY_HEADER")) {
        (Some(endpoint), Some(header)) => {
            Some(ManagedIdentitySource::AppService { endpoint, header: SecretString::from(header) })
        }
        _ => None,
    }
}

fn imds(env: EnvLookup<'_>) -> ManagedIdentitySource {
    ManagedIdentitySource::Imds {
        base_url: non_empty(env, IMDS_URL_ENV).unwrap_or_else(|| IMDS_DEFAULT_URL.to_string()),
    }
}

fn managed(settings: &AmbientSettings, source: ManagedIdentitySource) -> Credential {
    Credential::ManagedIdentity { client_id: settings.client_id.clone().filter(|c| !c.is_empty()), source }
}

/// The credential `method` yields in this environment.
pub fn resolve(
    method: AmbientMethod,
    settings: &AmbientSettings,
    env: EnvLookup<'_>,
) -> Result<Credential, AuthError> {
    match method {
        AmbientMethod::WorkloadIdentity => {
            let source = federated_source(env).ok_or_else(|| {
                AuthError::Ambient(
                    "workload identity found no external token: set AZURE_FEDERATED_TOKEN_FILE, or run in \
                     GitHub Actions with `permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and \
                     ACTIONS_ID_TOKEN_REQUEST_TOKEN)"
                        .into(),
                )
            })?;
            workload(settings, env, source)
        }
        // Asked for explicitly: without an App Service endpoint, this must be a VM.
        AmbientMethod::ManagedIdentity => {
            Ok(managed(settings, app_service(env).unwrap_or_else(|| imds(env))))
        }
        AmbientMethod::Auto => {
            if let Some(source) = federated_source(env) {
                return workload(settings, env, source);
            }
            if let Some(source) = app_service(env) {
                return Ok(managed(settings, source));
            }
            if settings.imds || non_empty(env, IMDS_URL_ENV).is_some() {
                return Ok(managed(settings, imds(env)));
            }
            Err(AuthError::Ambient(format!(
                "method = \"auto\" found no secretless credential; it looked for {LOOKED_FOR}"
            )))
        }
    }
}
