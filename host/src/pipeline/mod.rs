//! From config to desired state: load the plugins (each validates its
//! settings), translate thresholds written in a partner's words, let rules
//! plugins adjust or add policies, then validate the result against what
//! each platform type and API version allows. Any failure stops here, before
//! anything touches the tenant.

mod desired;
pub mod marker;
mod plugins;
mod rules;

use serde_json::{Map, Value};

pub use desired::{is_managed, DesiredAction, DesiredAssignments, DesiredPolicy, FilterSubject, MARKER};
pub use plugins::{load_plugins, resolve_script_file};

use crate::config::{ActionKind, Config, Location};
use crate::runtime::{LoadedPlugin, Runtime, TenantContext, ThreatLevel};
use mtd_model::rules::{check_policy, ActionShape, PolicyShape, Rule};

/// Why the desired state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Plugin(String),
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{0}")]
    Rules(String),
}

/// The desired state and the plugins that produced it.
pub struct Desired {
    pub policies: Vec<DesiredPolicy>,
    pub plugins: Vec<(String, LoadedPlugin)>,
}

impl Desired {
    pub fn plugin(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }
}

/// Builds the desired policies. `tenant` is what rules plugins may see
/// (empty when validating offline).
pub fn build(config: &Config, runtime: &Runtime, tenant: &TenantContext) -> Result<Desired, PipelineError> {
    let plugins = load_plugins(config, runtime)?;
    let find = |name: &str| plugins.iter().find(|(n, _)| n == name).map(|(_, p)| p);
    let mut policies = Vec::new();
    for p in &config.file.policies {
        let location = config.at(p.name.span());
        let (level, level_note) = match &p.max_threat_level {
            None => (None, None),
            Some(word) => {
                let w = word.get_ref();
                match (ThreatLevel::parse(w), &p.partner) {
                    (Some(l), _) => (Some(l), None),
                    (None, Some(partner)) => {
                        let plugin = find(partner.get_ref()).ok_or_else(|| {
                            PipelineError::Plugin(format!("plugin '{}' is not loaded", partner.get_ref()))
                        })?;
                        let l = plugin.translate_severity(w).map_err(|e| PipelineError::Invalid {
                            location: config.at(word.span()),
                            message: format!("cannot translate max-threat-level '{w}': {e}"),
                        })?;
                        (
                            Some(l),
                            Some(format!(
                                "'{w}' in {}'s words is Intune level {}",
                                partner.get_ref(),
                                l.as_str()
                            )),
                        )
                    }
                    (None, None) => unreachable!("config checks reject a partner word without a partner"),
                }
            }
        };
        for platform in &p.platforms {
            let platform = *platform.get_ref();
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
                actions.insert(
                    0,
                    DesiredAction {
                        kind: ActionKind::Block,
                        grace_period_hours: 0,
                        template: None,
                        cc: Vec::new(),
                    },
                );
            }
            policies.push(DesiredPolicy {
                display_name: p.display_name(platform),
                platform,
                version: p.api.version(),
                description: p.description.clone(),
                marker: p.marker,
                owner: config.file.tenant.owner.as_ref().map(|o| o.get_ref().clone()),
                partner: p.partner.as_ref().map(|s| s.get_ref().clone()),
                max_level: level,
                settings,
                actions,
                assignments: DesiredAssignments::from_config(&p.assignments),
                location: location.clone(),
                notes: level_note.iter().cloned().collect(),
            });
        }
    }
    for rule in &config.file.rules {
        let plugin = find(rule.get_ref())
            .ok_or_else(|| PipelineError::Plugin(format!("plugin '{}' is not loaded", rule.get_ref())))?;
        policies = rules::apply(
            rule.get_ref(),
            plugin,
            policies,
            tenant,
            config.file.rules_may_relax,
            &config.at(rule.span()),
        )?;
    }
    for d in &policies {
        validate(d)?;
    }
    Ok(Desired { policies, plugins })
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
            format!("{} exists only in the Graph {} API", kind.key(), since.label())
        }
        other => other.to_string(),
    }))
}
