//! `mtdhost validate`: the config, its plugins and their settings checked,
//! and the desired policies and connector settings listed, without
//! contacting the tenant.

use super::out::outln;
use super::tenant_cmd::ConfigArgs;
use crate::prepare;

/// Runs `mtdhost validate`.
pub(super) fn validate(args: ConfigArgs) -> anyhow::Result<i32> {
    let config = prepare::load_config(&args.config)?;
    let runtime = prepare::plugin_runtime()?;
    let desired = crate::pipeline::build(&config, &runtime, &crate::pipeline::TenantView::offline())?;
    for d in &desired.policies {
        let level =
            d.max_level.map_or("no threat level".to_string(), |l| format!("max threat level {}", l.as_str()));
        outln!(
            "{} ({}, Graph {}): {level}",
            d.display_name,
            d.policy_type().type_name(),
            d.version.segment()
        )?;
        for n in &d.notes {
            outln!("    note: {n}")?;
        }
    }
    for c in &desired.connectors {
        let names: Vec<String> = c.settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        outln!("MTD connector {} ({}): {}", c.partner, c.id, names.join(", "))?;
    }
    for c in &desired.conditional_access {
        let grant: Vec<&str> = c.grant.iter().map(|g| g.key()).collect();
        outln!(
            "conditional access policy {} ({}): requires {} for {}",
            c.display_name,
            c.state.key(),
            grant.join(if c.operator == crate::config::GrantOperator::And { " and " } else { " or " }),
            c.apps.join(", ")
        )?;
    }
    let connectors = crate::plan::other_kinds(desired.connectors.len(), desired.conditional_access.len());
    outln!(
        "{}: valid — {} policies from {} plugin(s){connectors}; the tenant was not contacted.",
        config.path.display(),
        desired.policies.len(),
        desired.plugins.len()
    )?;
    Ok(0)
}
