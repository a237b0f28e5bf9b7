//! An Intune / Microsoft Graph emulator: the embedded default tenant for
//! demos, the test bed for partners, and how mtdhost's own tests prove the
//! client against something strict.
//!
//! It speaks Graph's wire protocol for the compliance surface mtdhost uses
//! and the identity platform's token endpoints, enforces the schema it reads
//! at start from Microsoft's published metadata shipped in `data/` (see
//! `metadata.rs`; independent of the client's table), answers the way a
//! production tenant does (nulls for unset properties, `roleScopeTagIds`,
//! filters and policy sets on beta), injects faults on demand, records every
//! request, and can persist its tenant to a JSON file.

mod conditional_access;
mod connectors;
mod faults;
mod federation;
mod graph_api;
mod identity;
mod me;
mod metadata;
mod odata;
mod policy_view;
mod scale;
mod server;
mod tenant;
mod token;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use faults::FaultSpec;
pub use federation::TOKEN_EXCHANGE_AUDIENCE;
pub use scale::{raise_policy_7, scale_policies, SCALE_GROUPS};
pub use tenant::{
    App, FederatedCredential, ManagedIdentity, StoredPolicy, Tenant, BASELINE_SET, CORPORATE_IPHONES,
    DEMO_ADMIN, DEMO_ADMIN_UPN, DEMO_CLIENT_ID, DEMO_FEDERATED_SUBJECTS, DEMO_SECRET, DEMO_SYSTEM_IDENTITY,
    DEMO_TENANT, DEMO_USER_IDENTITY, OBRIEN, PORTAL_CA_POLICY, RD_USERS,
};

use faults::Faults;
use token::Tokens;

/// Emulator settings.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen (loopback only; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Persist the tenant here (loaded at start if it exists).
    pub state_file: Option<PathBuf>,
    /// Faults to inject from the start.
    pub faults: FaultSpec,
    /// Items per page of a collection (small pages exercise paging).
    pub page_size: usize,
    /// Lifetime of the access tokens it issues.
    pub token_lifetime: Duration,
    /// Tenant to start with when there is no state file; the demo tenant by default.
    pub seed: Option<Tenant>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            faults: FaultSpec::default(),
            page_size: 100,
            token_lifetime: Duration::from_secs(3600),
            seed: None,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The state file is unreadable or not a tenant.
    #[error("cannot read emulator state {path}: {reason}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Only loopback addresses are served: the emulator is no real tenant.
    #[error("refusing to listen on {0}: the emulator serves loopback addresses only")]
    NotLoopback(SocketAddr),
}

/// One request as the emulator saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The HTTP method.
    pub method: String,
    /// The path, from the API version on (`/v1.0/…`).
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// 0 when the connection was dropped without an answer.
    pub status: u16,
    /// The JSON body (token requests: never recorded).
    pub body: Option<Value>,
    /// The injected fault, if any: "429", "503", "drop", "lose".
    pub fault: Option<&'static str>,
    /// The app that sent it, from its token.
    pub client_id: Option<String>,
}

impl Recorded {
    /// True for requests that change the tenant (POST/PATCH/PUT/DELETE, but
    /// not `$batch` reads) and were actually carried out.
    pub fn is_write(&self) -> bool {
        self.method != "GET" && !self.path.ends_with("/$batch") && !self.path.contains("/oauth2/")
    }

    /// The request as JSON (for `mtdhost emulator` logs).
    pub fn to_json(&self) -> Value {
        json!({"method": self.method, "path": self.path, "query": self.query, "status": self.status, "body": self.body, "fault": self.fault})
    }
}

/// Answers Graph gives in production that the emulator imitates on demand
/// (off by default): expansions cut short.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpansionQuirks {
    /// In a listed policy's `$expand=assignments`, show at most this many
    /// and add an `assignments@odata.nextLink` for the rest.
    pub truncate_assignments_over: Option<usize>,
    /// Refuse listing policies with more than one navigation expanded (400).
    pub refuse_combined_expand: bool,
}

/// State shared by the connection tasks.
pub(crate) struct Shared {
    tenant: Mutex<Tenant>,
    tokens: Mutex<Tokens>,
    faults: Mutex<Faults>,
    log: Mutex<Vec<Recorded>>,
    quirks: Mutex<ExpansionQuirks>,
    page_size: usize,
    state_file: Option<PathBuf>,
    /// Held from snapshot to rename, so concurrent writes cannot save an
    /// older snapshot over a newer one.
    persisting: Mutex<()>,
    /// The secret a managed identity caller must send as `X-IDENTITY-HEADER`.
    identity_header: String,
    /// The GitHub-Actions-style OIDC endpoint: (request token, subject) once enabled.
    github: Mutex<Option<(String, String)>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler never panics while holding a lock on purpose; if one did,
    // the data is still consistent enough to keep serving tests.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn tenant(&self) -> Tenant {
        lock(&self.tenant).clone()
    }
    fn tenant_mut(&self) -> MutexGuard<'_, Tenant> {
        lock(&self.tenant)
    }
    fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }
    fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
    fn record(&self, r: Recorded) {
        tracing::debug!(method = %r.method, path = %r.path, status = r.status, fault = ?r.fault, "emulator served");
        lock(&self.log).push(r);
    }
    fn requests(&self) -> Vec<Recorded> {
        lock(&self.log).clone()
    }
    /// Writes the tenant to the state file atomically.
    fn persist(&self) {
        let Some(path) = &self.state_file else { return };
        let _saving = lock(&self.persisting);
        let text = match serde_json::to_vec_pretty(&*lock(&self.tenant)) {
            Ok(t) => t,
            Err(e) => return tracing::error!(error = %e, "cannot serialise emulator state"),
        };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        let result = tempfile::NamedTempFile::new_in(dir).and_then(|mut f| {
            std::io::Write::write_all(&mut f, &text)?;
            f.persist(path).map(|_| ()).map_err(|e| e.error)
        });
        if let Err(e) = result {
            tracing::error!(path = %path.display(), error = %e, "cannot save emulator state");
        }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl Emulator {
    /// Starts serving on `config.listen` (port 0 picks a free port).
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        if !config.listen.ip().is_loopback() {
            return Err(EmulatorError::NotLoopback(config.listen));
        }
        metadata::load();
        let tenant = match &config.state_file {
            Some(p) if p.exists() => {
                let text = std::fs::read(p)
                    .map_err(|e| EmulatorError::State { path: p.clone(), reason: e.to_string() })?;
                serde_json::from_slice(&text)
                    .map_err(|e| EmulatorError::State { path: p.clone(), reason: e.to_string() })?
            }
            _ => config.seed.clone().unwrap_or_else(Tenant::demo),
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind { addr: config.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| EmulatorError::Bind { addr: config.listen, source })?;
        let shared = Arc::new(Shared {
            tenant: Mutex::new(tenant),
            tokens: Mutex::new(Tokens::new(config.token_lifetime)),
            faults: Mutex::new(Faults::new(config.faults.clone())),
            log: Mutex::new(Vec::new()),
            quirks: Mutex::new(ExpansionQuirks::default()),
            page_size: config.page_size.max(1),
            state_file: config.state_file.clone(),
            persisting: Mutex::new(()),
            identity_header: uuid::Uuid::new_v4().to_string(),
            github: Mutex::new(None),
        });
        let url = format!("http://{addr}");
        tenant::repoint_emulator_issuers(&mut shared.tenant_mut(), &federation::issuer(&url));
        shared.persist();
        let (stop, mut stopped) = watch::channel(false);
        let accept_shared = shared.clone();
        tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    c = listener.accept() => c,
                    _ = stopped.changed() => break,
                };
                let Ok((stream, _)) = conn else { continue };
                let s = accept_shared.clone();
                let mut conn_stopped = stopped.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| server::serve(s.clone(), req));
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = conn_stopped.changed() => {}
                    }
                });
            }
        });
        Ok(Emulator { url, shared, stop })
    }

    /// `http://127.0.0.1:PORT` — both the Graph and the login URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request served so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Turns production quirks of expansions on or off.
    pub fn set_expansion_quirks(&self, quirks: ExpansionQuirks) {
        *lock(&self.shared.quirks) = quirks;
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, spec: FaultSpec) {
        *self.shared.faults() = Faults::new(spec);
    }

    /// A copy of the tenant.
    pub fn tenant(&self) -> Tenant {
        self.shared.tenant()
    }

    /// Changes the tenant directly (test setup), then persists it.
    pub fn with_tenant<R>(&self, f: impl FnOnce(&mut Tenant) -> R) -> R {
        let r = f(&mut self.shared.tenant_mut());
        self.shared.persist();
        r
    }

    /// Approves or declines a pending device code sign-in by its user code.
    pub fn decide_device_code(&self, user_code: &str, approve: bool) -> bool {
        self.shared.tokens().decide_device_code(user_code, approve)
    }

    /// The emulator's OIDC issuer (a stand-in for a CI system's token issuer).
    pub fn issuer(&self) -> String {
        federation::issuer(&self.url)
    }

    /// A token from the emulator's issuer, valid from `nbf_offset` to
    /// `exp_offset` seconds from now, as a workload identity provider
    /// would write to `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn federated_token(&self, subject: &str, audience: &str, nbf_offset: i64, exp_offset: i64) -> String {
        federation::issue(&self.url, subject, audience, nbf_offset, exp_offset)
    }

    /// Enables the GitHub-Actions-style OIDC endpoint for a workflow with
    /// `subject`; returns what the runner would put in
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub fn github_actions(&self, subject: &str) -> (String, String) {
        let request_token = uuid::Uuid::new_v4().to_string();
        *lock(&self.shared.github) = Some((request_token.clone(), subject.to_string()));
        (format!("{}/_emulator/github/token?api-version=2.0", self.url), request_token)
    }

    /// What an App Service / Container Apps host puts in `IDENTITY_ENDPOINT`
    /// and `IDENTITY_HEADER`.
    pub fn identity_endpoint(&self) -> (String, String) {
        (format!("{}/_emulator/msi/token", self.url), self.shared.identity_header.clone())
    }

    /// Stops accepting connections and closes open ones.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}
