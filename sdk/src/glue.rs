//! Adapters between the generated `Guest` trait and [`Plugin`]; called by the
//! code [`export_plugin!`](crate::export_plugin) expands to. Not public API.

use crate::{
    parse_settings, Diagnostic, EventBatch, MappingOutput, Plugin, PluginInfo, Policy, RulesOutput,
    SeverityTerm, TenantContext, ThreatLevel,
};

fn settings<P: Plugin>(json: &str) -> Result<P::Settings, String> {
    parse_settings::<P::Settings>(json).map_err(|d| format!("invalid settings: {}", d))
}

pub fn info<P: Plugin>() -> PluginInfo {
    P::info()
}

pub fn validate_settings<P: Plugin>(json: &str) -> Vec<Diagnostic> {
    match parse_settings::<P::Settings>(json) {
        Ok(s) => P::validate_settings(&s),
        Err(d) => vec![d],
    }
}

pub fn map_events<P: Plugin>(json: &str, batch: EventBatch) -> Result<MappingOutput, String> {
    P::map_events(&settings::<P>(json)?, batch)
}

pub fn severity_vocabulary<P: Plugin>(json: &str) -> Vec<SeverityTerm> {
    settings::<P>(json).map(|s| P::severity_vocabulary(&s)).unwrap_or_default()
}

pub fn translate_severity<P: Plugin>(json: &str, term: &str) -> Result<ThreatLevel, String> {
    P::translate_severity(&settings::<P>(json)?, term)
}

pub fn apply_rules<P: Plugin>(
    json: &str,
    policies: Vec<Policy>,
    tenant: TenantContext,
) -> Result<RulesOutput, String> {
    P::apply_rules(&settings::<P>(json)?, policies, tenant)
}
