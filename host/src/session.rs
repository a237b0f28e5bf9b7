//! Connecting to the tenant a config names: the embedded emulator (started
//! in-process, signed in with its demo app) or a real tenant in any cloud
//! with the configured sign-in method.

use std::sync::Arc;

use secrecy::SecretString;

use crate::config::{AuthMethod, Config};
use crate::graph::auth::ambient::{self, AmbientMethod, AmbientSettings, EnvLookup};
use crate::graph::auth::{CertificateCredential, Credential, TokenProvider};
use crate::graph::Endpoints;
use crate::graph::{ClientOptions, GraphClient};

/// A signed-in connection to the tenant.
pub struct Session {
    /// The Graph client, signed in to the tenant.
    pub client: GraphClient,
    /// `"the emulator tenant (state …)"` or `"tenant <id> (global)"`.
    pub label: String,
    /// Keeps the in-process emulator alive for the session.
    #[cfg(feature = "emulator")]
    pub emulator: Option<crate::emulator::Emulator>,
}

/// Why the tenant could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The tenant or sign-in settings cannot be used: a missing secret, an unreadable file, a bad URL.
    #[error("{0}")]
    Config(String),
    /// The embedded emulator tenant failed to start.
    #[cfg(feature = "emulator")]
    #[error("cannot start the emulator tenant: {0}")]
    Emulator(#[from] crate::emulator::EmulatorError),
}

/// Connects as the config says, with the process environment.
pub async fn connect(config: &Config, options: ClientOptions) -> Result<Session, SessionError> {
    connect_with_env(config, options, &ambient::process_env).await
}

/// Connects as the config says; secretless methods and `secret-env` /
/// `token-env` read the environment through `env`.
pub async fn connect_with_env(
    config: &Config,
    options: ClientOptions,
    env: EnvLookup<'_>,
) -> Result<Session, SessionError> {
    let t = &config.file.tenant;
    let http = crate::graph::http_client().map_err(|e| SessionError::Config(e.to_string()))?;
    if let Some(emu) = &t.emulator {
        return embedded(config, emu, http, options).await;
    }
    let endpoints = Endpoints::with_overrides(t.cloud, t.graph_url.as_deref(), t.login_url.as_deref())
        .map_err(|e| SessionError::Config(format!("{}: [tenant]: {e}", config.path.display())))?
        .with_scope(t.scope.as_deref());
    let auth = t.auth.as_ref().ok_or_else(|| SessionError::Config("[tenant.auth] is missing".into()))?;
    let tenant = t.tenant_id.clone().unwrap_or_default();
    let client_id = auth.client_id.clone().unwrap_or_default();
    let credential = match auth.method {
        AuthMethod::ClientSecret => {
            let secret = match (&auth.secret_env, &auth.secret_file) {
                (Some(var), _) => env(var).ok_or_else(|| {
                    SessionError::Config(format!("the client secret environment variable {var} is not set"))
                })?,
                (None, Some(file)) => std::fs::read_to_string(config.relative(file)).map_err(|e| {
                    SessionError::Config(format!("cannot read the client secret file {file}: {e}"))
                })?,
                (None, None) => return Err(SessionError::Config("no client secret source".into())),
            };
            Credential::ClientSecret {
                tenant: tenant.clone(),
                client_id,
                secret: SecretString::from(secret.trim().to_string()),
            }
        }
        AuthMethod::Certificate => {
            let read = |f: &Option<String>, what: &str| {
                let f = f.as_deref().unwrap_or_default();
                std::fs::read_to_string(config.relative(f))
                    .map_err(|e| SessionError::Config(format!("cannot read the {what} {f}: {e}")))
            };
            let certificate = CertificateCredential::from_pem(
                &read(&auth.certificate, "certificate")?,
                &read(&auth.private_key, "private key")?,
            )
            .map_err(|e| SessionError::Config(e.to_string()))?;
            Credential::Certificate { tenant: tenant.clone(), client_id, certificate }
        }
        AuthMethod::DeviceCode => Credential::DeviceCode {
            tenant: tenant.clone(),
            client_id,
            prompt: Box::new(|p| {
                let text = if p.message.is_empty() {
                    format!("To sign in, open {} and enter the code {}", p.verification_uri, p.user_code)
                } else {
                    p.message.clone()
                };
                eprintln!("{}", crate::runtime::sanitize(&text));
            }),
        },
        AuthMethod::Bearer => {
            let var = auth.token_env.as_deref().unwrap_or_default();
            let token = env(var).ok_or_else(|| {
                SessionError::Config(format!("the token environment variable {var} is not set"))
            })?;
            Credential::Bearer(SecretString::from(token.trim().to_string()))
        }
        AuthMethod::WorkloadIdentity | AuthMethod::ManagedIdentity | AuthMethod::Auto => {
            let method = match auth.method {
                AuthMethod::WorkloadIdentity => AmbientMethod::WorkloadIdentity,
                AuthMethod::ManagedIdentity => AmbientMethod::ManagedIdentity,
                _ => AmbientMethod::Auto,
            };
            let settings = AmbientSettings {
                tenant: t.tenant_id.clone(),
                client_id: auth.client_id.clone(),
                imds: auth.imds.unwrap_or(false),
            };
            let credential =
                ambient::resolve(method, &settings, env).map_err(|e| SessionError::Config(e.to_string()))?;
            tracing::info!(credential = ?credential, "secretless sign-in");
            credential
        }
    };
    let tenant = match &credential {
        Credential::WorkloadIdentity { tenant, .. } => tenant.clone(),
        _ => tenant,
    };
    let label = format!(
        "tenant {} ({})",
        if tenant.is_empty() { "from the token" } else { &tenant },
        endpoints.graph.host_str().unwrap_or("?")
    );
    let tokens = Arc::new(TokenProvider::new(credential, endpoints.clone(), http.clone()));
    Ok(Session {
        client: GraphClient::new(http, endpoints, tokens, options),
        label,
        #[cfg(feature = "emulator")]
        emulator: None,
    })
}

/// Starts the embedded demo tenant in-process and signs in with its demo app.
#[cfg(feature = "emulator")]
async fn embedded(
    config: &Config,
    emu: &crate::config::EmulatorTenant,
    http: reqwest::Client,
    options: ClientOptions,
) -> Result<Session, SessionError> {
    use crate::emulator::{Emulator, EmulatorConfig, Tenant, DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT};
    use crate::graph::Cloud;
    let faults = match &emu.faults {
        Some(s) => s.parse().map_err(|e| {
            SessionError::Config(format!("{}: [tenant] emulator faults: {e}", config.path.display()))
        })?,
        None => Default::default(),
    };
    let state_file = emu.state.as_deref().map(|s| config.relative(s));
    let label = match &state_file {
        Some(p) => format!("the emulator tenant (state in {})", p.display()),
        None => "the emulator tenant (in memory)".to_string(),
    };
    let emulator = Emulator::start(EmulatorConfig {
        state_file,
        faults,
        // The demo tenant as production holds it: portal-made
        // policies with filters, policy sets and Graph's nulls.
        seed: Some(Tenant::showcase()),
        ..EmulatorConfig::default()
    })
    .await?;
    let endpoints = Endpoints::with_overrides(Cloud::Global, Some(emulator.url()), Some(emulator.url()))
        .map_err(|e| SessionError::Config(e.to_string()))?;
    let credential = Credential::ClientSecret {
        tenant: DEMO_TENANT.into(),
        client_id: DEMO_CLIENT_ID.into(),
        secret: SecretString::from(DEMO_SECRET.to_string()),
    };
    let tokens = Arc::new(TokenProvider::new(credential, endpoints.clone(), http.clone()));
    Ok(Session {
        client: GraphClient::new(http, endpoints, tokens, options),
        label,
        emulator: Some(emulator),
    })
}

/// Without the `emulator` feature there is no embedded tenant to start.
#[cfg(not(feature = "emulator"))]
async fn embedded(
    config: &Config,
    _emu: &crate::config::EmulatorTenant,
    _http: reqwest::Client,
    _options: ClientOptions,
) -> Result<Session, SessionError> {
    Err(SessionError::Config(format!(
        "{}: [tenant] emulator needs an mtdhost built with the `emulator` feature (on by default)",
        config.path.display()
    )))
}
