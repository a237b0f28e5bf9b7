//! From config to desired state: load the plugins (each validates its
//! settings), translate thresholds written in a partner's words, let rules
//! plugins adjust or add policies, then validate the result against what
//! each platform type and API version allows. Any failure stops here, before
//! anything touches the tenant.

mod ca_view;
mod conditional_access;
mod connector;
mod desired;
pub mod marker;
mod plugins;
mod rules;

use serde_json::{Map, Value};

pub use conditional_access::{covers, DesiredCa, CA_TYPE};
pub use connector::DesiredConnector;
pub use desired::{is_managed, DesiredAction, DesiredAssignments, DesiredPolicy, FilterSubject, MARKER};
pub use plugins::{load_plugins, resolve_script_file};

use crate::config::{ActionKind, Config, Location, Platform, PolicyConfig};
use crate::graph::RemoteCaPolicy;
use crate::runtime::{LoadedPlugin, Runtime, TenantContext, ThreatLevel};
use mtd_model::rules::{check_policy, ActionShape, PolicyShape, Rule};

/// Why the desired state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A plugin failed to load or refused its settings, or a policy or rule names one not loaded.
    #[error("{0}")]
    Plugin(String),
    /// A policy breaks Intune's rules, or its threat level cannot be translated.
    #[error("{location}: {message}")]
    Invalid {
        /// Where the policy or its threat level is in the config.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A rules plugin failed, or dropped or relaxed a policy it may not.
    #[error("{0}")]
    Rules(String),
    /// A `[[policy]]` table could not be read (the config's text changed after it was loaded).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// The desired state and the plugins that produced it.
pub struct Desired {
    /// The desired policies, one per policy and platform.
    pub policies: Vec<DesiredPolicy>,
    /// The desired MTD connector settings, one per `[connectors.NAME]`.
    pub connectors: Vec<DesiredConnector>,
    /// The desired Conditional Access policies, one per `[[conditional-access]]`.
    pub conditional_access: Vec<DesiredCa>,
    /// The loaded plugins, by their name in the config.
    pub plugins: Vec<(String, LoadedPlugin)>,
}

impl Desired {
    /// The loaded plugin configured as `name`, if any.
    pub fn plugin(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }
}

/// What rules plugins may know about the tenant.
#[derive(Debug, Clone)]
pub struct TenantView {
    /// Groups, connectors and platforms (`tenant-context`).
    pub context: TenantContext,
    /// The tenant's Conditional Access policies, read when the config
    /// manages Conditional Access (`tenant.conditional-access`).
    pub conditional_access: Vec<RemoteCaPolicy>,
}

impl TenantView {
    /// What rules see when validating offline: nothing of the tenant.
    pub fn offline() -> Self {
        TenantView {
            context: TenantContext { groups: Vec::new(), connectors: Vec::new(), platforms: Vec::new() },
            conditional_access: Vec::new(),
        }
    }
}

/// Builds the desired policies. `tenant` is what rules plugins may see
/// ([`TenantView::offline`] when validating offline).
pub fn build(config: &Config, runtime: &Runtime, tenant: &TenantView) -> Result<Desired, PipelineError> {
    let plugins = load_plugins(config, runtime)?;
    let conditional_access = conditional_access::from_config(config);
    let ca_seen = ca_view::view(&conditional_access, &tenant.conditional_access, &tenant.context.groups);
    let find = |name: &str| plugins.iter().find(|(n, _)| n == name).map(|(_, p)| p);
    // Sized up front: a config of thousands of policies would otherwise
    // leave a doubled vector's spare half in memory for the whole plan.
    let mut policies = Vec::with_capacity(config.expanded_len());
    // One table at a time (`Config::policies`): each is dropped once its
    // desired policies exist.
    for p in config.policies() {
        let p = p?;
        let p = p.as_ref();
        let (level, level_note) = threat_level(config, p, &find)?;
        for platform in &p.platforms {
            let mut d = from_config(config, p, *platform.get_ref());
            d.max_level = level;
            d.notes.extend(level_note.iter().cloned());
            policies.push(d);
        }
    }
    for rule in &config.file.rules {
        let plugin = find(rule.get_ref())
            .ok_or_else(|| PipelineError::Plugin(format!("plugin '{}' is not loaded", rule.get_ref())))?;
        policies = rules::apply(
            rule.get_ref(),
            plugin,
            policies,
            &tenant.context,
            &ca_seen,
            config.file.rules_may_relax,
            &config.at(rule.span()),
        )?;
    }
    for d in &policies {
        validate(d)?;
    }
    Ok(Desired { policies, connectors: connector::from_config(config), conditional_access, plugins })
}

/// The Intune level `p` requires, and a note when it was written in a
/// partner's words (translated by that partner's plugin).
fn threat_level<'p>(
    config: &Config,
    p: &PolicyConfig,
    find: &impl Fn(&str) -> Option<&'p LoadedPlugin>,
) -> Result<(Option<ThreatLevel>, Option<String>), PipelineError> {
    let Some(word) = &p.max_threat_level else { return Ok((None, None)) };
    let w = word.get_ref();
    if let Some(l) = ThreatLevel::parse(w) {
        return Ok((Some(l), None));
    }
    // The config check refuses this already; a config built in code may not have run it.
    let Some(name) = p.partner.as_ref().map(|n| n.get_ref().as_str()) else {
        return Err(PipelineError::Invalid {
            location: config.at(word.span()),
            message: format!("'{w}' is not an Intune threat level and the policy names no partner"),
        });
    };
    let plugin = find(name).ok_or_else(|| PipelineError::Plugin(format!("plugin '{name}' is not loaded")))?;
    let l = plugin.translate_severity(w).map_err(|e| PipelineError::Invalid {
        location: config.at(word.span()),
        message: format!("cannot translate max-threat-level '{w}': {e}"),
    })?;
    Ok((Some(l), Some(format!("'{w}' in {name}'s words is Intune level {}", l.as_str()))))
}

/// The desired policy `p` describes for one platform, before its level and
/// before rules plugins run. With no block action listed, it blocks at once.
fn from_config(config: &Config, p: &PolicyConfig, platform: Platform) -> DesiredPolicy {
    let mut settings = Map::new();
    for table in [p.settings.as_ref(), p.platform_settings.get(&platform)].into_iter().flatten() {
        for (k, v) in table.get_ref() {
            settings.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
        }
    }
    let mut actions: Vec<DesiredAction> = p
        .actions
        .iter()
        .map(|a| {
            let a = a.get_ref();
            DesiredAction {
                kind: a.kind,
                grace_period_hours: a.grace_period_hours,
                template: a.template.clone(),
                cc: a.cc.clone(),
            }
        })
        .collect();
    if !actions.iter().any(|a| a.kind == ActionKind::Block) {
        let block =
            DesiredAction { kind: ActionKind::Block, grace_period_hours: 0, template: None, cc: Vec::new() };
        actions.insert(0, block);
    }
    DesiredPolicy {
        display_name: p.display_name(platform),
        platform,
        version: p.api.version(),
        description: p.description.clone(),
        marker: p.marker,
        owner: config.file.tenant.owner.as_ref().map(|o| o.get_ref().clone()),
        partner: p.partner.as_ref().map(|s| s.get_ref().clone()),
        max_level: None,
        settings,
        actions,
        assignments: DesiredAssignments::from_config(&p.assignments),
        location: config.at(p.name.span()),
        notes: Vec::new(),
    }
}

/// Final checks on one desired policy, after rules ran: the rule table,
/// worded for the plugin or config entry the policy came from.
fn validate(d: &DesiredPolicy) -> Result<(), PipelineError> {
    let invalid = |message: String| PipelineError::Invalid {
        location: d.location.clone(),
        message: format!("policy '{}': {message}", d.display_name),
    };
    let ty = d.platform.policy_type();
    let label = d.platform.label();
    let shape = PolicyShape {
        settings: d.settings.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        threat_level: d.max_level.is_some(),
        actions: d.actions.iter().map(|a| ActionShape::of(a.kind, i64::from(a.grace_period_hours))).collect(),
    };
    let Some(broken) = check_policy(ty, d.version, &shape).into_iter().next() else {
        return Ok(());
    };
    Err(invalid(match broken {
        Rule::TypeNotInVersion { .. } => {
            format!("{label} policies exist only in the Graph beta API; set api = \"beta\"")
        }
        Rule::NoThreatLevel { .. } => format!("{label} policies have no device threat level"),
        Rule::ThreatLevelNotInVersion { .. } => format!(
            "{label} has no third-party MTD threat level in Graph v1.0; set api = \"beta\" to use deviceThreatProtectionRequiredSecurityLevel"
        ),
        Rule::BlockActions { found } => format!("needs exactly one block action, has {found}"),
        Rule::ActionNotInVersion { kind, since, .. } => {
            format!("{} exists only in the Graph {} API", kind.key(), since.segment())
        }
        other => other.to_string(),
    }))
}
