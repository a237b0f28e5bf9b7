//! The main job up to the plan, as `plan`, `apply` and the end-to-end tests
//! run it: load the config, start the plugin runtime, connect to the tenant,
//! build the desired state and plan it. Nothing here writes to the tenant.

use std::path::Path;

use crate::config::Config;
use crate::graph::schema::ApiVersion;
use crate::graph::ClientOptions;
use crate::pipeline::{self, TenantView};
use crate::plan::{self, Plan};
use crate::runtime::{
    Cache, Connector, ConnectorState, Group, Platform as WitPlatform, Runtime, TenantContext,
};
use crate::session::{self, Session};
use mtd_model::PartnerState;

/// Why the job stopped before writing anything. Boxed: the parts are large
/// and this travels through every `?` of the job.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct JobError(Box<JobErrorKind>);

/// The kinds of [`JobError`].
#[derive(Debug, thiserror::Error)]
pub enum JobErrorKind {
    /// The config cannot be read or is not valid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The plugin runtime or its cache could not be set up.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// The desired state could not be built.
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    /// The tenant could not be connected to.
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    /// A Graph read failed.
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    /// The plan could not be made.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
}

impl JobError {
    /// What went wrong.
    pub fn kind(&self) -> &JobErrorKind {
        &self.0
    }
}

impl<E: Into<JobErrorKind>> From<E> for JobError {
    fn from(e: E) -> Self {
        JobError(Box::new(e.into()))
    }
}

/// A runtime with the default on-disk cache (or none if there is no cache dir).
pub fn plugin_runtime() -> Result<Runtime, JobError> {
    let cache = match Cache::default_dir() {
        Some(dir) => Cache::at(dir)?,
        None => Cache::disabled(),
    };
    Ok(Runtime::new(cache))
}

/// Graph client settings for a config: default retries and timeouts, its
/// write limit.
pub fn client_options(config: &Config) -> ClientOptions {
    ClientOptions { pace: config.pace_limit(), ..ClientOptions::default() }
}

/// Reads and checks the config at `path`.
pub fn load_config(path: &Path) -> Result<Config, JobError> {
    Ok(Config::load(path)?)
}

/// What rules plugins may know about the tenant, and the groups and CA
/// policies read for it (the plan uses them instead of asking again). CA policies
/// are read only when the config manages CA, so rules need no more
/// permission than the plan does.
async fn tenant_view(
    s: &Session,
    config: &Config,
) -> Result<(TenantView, Vec<crate::graph::Group>, Option<crate::graph::CaRead>), JobError> {
    let read_ca = async {
        if config.file.conditional_access.is_empty() {
            return Ok(None);
        }
        s.client.read_ca_policies().await.map(Some)
    };
    let (groups, connectors, ca) =
        tokio::join!(s.client.list_groups(), s.client.list_connectors(ApiVersion::Beta), read_ca);
    let (groups, connectors, ca) = (groups?, connectors?, ca?);
    // What could not be read is reported once, by the plan.
    let conditional_access = ca.as_ref().map(|read| read.policies.clone()).unwrap_or_default();
    let partners = config.connector_ids();
    let partner_of =
        |id: &str| partners.iter().find(|(_, v)| v.eq_ignore_ascii_case(id)).map(|(k, _)| k.clone());
    let state = |s: &PartnerState| match s {
        PartnerState::Unavailable => ConnectorState::Unavailable,
        PartnerState::Available => ConnectorState::Available,
        PartnerState::Enabled => ConnectorState::Enabled,
        PartnerState::Unresponsive => ConnectorState::Unresponsive,
        PartnerState::NotSetUp => ConnectorState::NotSetUp,
        PartnerState::Error => ConnectorState::Error,
        PartnerState::Other(_) => ConnectorState::Unknown,
    };
    let context = TenantContext {
        groups: groups
            .iter()
            .map(|g| Group { id: g.id.clone(), display_name: g.display_name.clone() })
            .collect(),
        connectors: connectors
            .into_iter()
            .map(|c| Connector {
                partner: partner_of(&c.id),
                state: state(&c.partner_state),
                android_enabled: c.android_enabled,
                ios_enabled: c.ios_enabled,
                windows_enabled: c.windows_enabled,
                mac_enabled: c.mac_enabled,
                id: c.id,
            })
            .collect(),
        platforms: vec![
            WitPlatform::Android,
            WitPlatform::AndroidWorkProfile,
            WitPlatform::AndroidDeviceOwner,
            WitPlatform::Ios,
            WitPlatform::Macos,
            WitPlatform::Windows,
        ],
    };
    Ok((TenantView { context, conditional_access }, groups, ca))
}

/// Everything up to and including the plan; reads only.
pub struct Prepared {
    /// The connection to the tenant, for applying the plan.
    pub session: Session,
    /// The planned changes.
    pub plan: Plan,
}

/// Plans `path` against its tenant. Blocking plugin calls run in
/// `block_in_place`, so this needs the multi-threaded tokio runtime.
pub async fn prepare(path: &Path, prune: bool) -> Result<Prepared, JobError> {
    prepare_with(path, prune, false).await
}

/// [`prepare`] with `--adopt-owner`: take over policies with the old plain
/// marker or another owner's marker.
pub async fn prepare_with(path: &Path, prune: bool, adopt_owner: bool) -> Result<Prepared, JobError> {
    prepare_opts(path, &PrepareOptions { prune, adopt_owner, client: None }).await
}

/// How to prepare a plan.
#[derive(Debug, Clone, Default)]
pub struct PrepareOptions {
    /// Plan deletes of managed policies the config no longer names (`--prune`).
    pub prune: bool,
    /// Take over policies with the old plain marker or another owner's marker (`--adopt-owner`).
    pub adopt_owner: bool,
    /// Graph client settings to use instead of the config's (tests and
    /// benchmarks: fast retries, no pacing while seeding).
    pub client: Option<ClientOptions>,
}

/// [`prepare`] with every option.
pub async fn prepare_opts(path: &Path, o: &PrepareOptions) -> Result<Prepared, JobError> {
    let (prune, adopt_owner) = (o.prune, o.adopt_owner);
    let config = load_config(path)?;
    let runtime = plugin_runtime()?;
    let client_options = o.client.clone().unwrap_or_else(|| client_options(&config));
    // Without rules plugins, everything is checked before the tenant is
    // touched; rules need the tenant context, read first. Either way nothing
    // is written before the plan is complete.
    let (session, desired, directory, conditional_access) = if config.file.rules.is_empty() {
        let desired =
            tokio::task::block_in_place(|| pipeline::build(&config, &runtime, &TenantView::offline()))?;
        (session::connect(&config, client_options).await?, desired, None, None)
    } else {
        let session = session::connect(&config, client_options).await?;
        let (view, groups, ca) = tenant_view(&session, &config).await?;
        let desired = tokio::task::block_in_place(|| pipeline::build(&config, &runtime, &view))?;
        (session, desired, Some(groups), ca)
    };
    let options = plan::PlanOptions {
        prune,
        adopt_owner,
        owner: config.file.tenant.owner.as_ref().map(|o| o.get_ref().clone()),
        directory,
        conditional_access,
        connector_ids: config.connector_ids(),
    };
    // Everything the plan needs is in `desired` and `options` now; a config
    // of thousands of policies need not stay in memory while the tenant is read.
    drop(config);
    let plan = plan::compute_all(
        &session.client,
        &desired.policies,
        &desired.connectors,
        Some(&desired.conditional_access),
        &session.label,
        &options,
    )
    .await?;
    Ok(Prepared { session, plan })
}
