//! The [`Plugin`] trait: what a plugin author implements.

use serde::de::DeserializeOwned;

use crate::{
    Capability, Diagnostic, EventBatch, MappingOutput, PluginInfo, Policy, RulesOutput, SeverityTerm,
    TenantContext, ThreatLevel,
};

/// A plugin's logic. Every method but [`Plugin::info`] has a default, so a
/// plugin implements only its capabilities. Methods are associated functions:
/// the host gives each evaluation a fresh instance, so there is no state to keep.
pub trait Plugin {
    /// The admin's settings for this plugin (the TOML table in the host's
    /// config, handed over as JSON). Use `#[serde(deny_unknown_fields)]` so
    /// typos are caught at load. An absent table means `Default`.
    type Settings: DeserializeOwned + Default;

    /// Name, version, partner, capabilities.
    fn info() -> PluginInfo;

    /// Checks settings beyond what deserialisation already checked.
    fn validate_settings(_settings: &Self::Settings) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Maps a batch of partner events to Intune levels.
    fn map_events(_settings: &Self::Settings, _batch: EventBatch) -> Result<MappingOutput, String> {
        Err(unsupported::<Self>(Capability::ThreatMapping))
    }

    /// The partner's severity words and their Intune levels.
    fn severity_vocabulary(_settings: &Self::Settings) -> Vec<SeverityTerm> {
        Vec::new()
    }

    /// Translates a partner severity word; by default a case-insensitive
    /// lookup in [`Plugin::severity_vocabulary`], then Intune's own words.
    fn translate_severity(settings: &Self::Settings, term: &str) -> Result<ThreatLevel, String> {
        let vocabulary = Self::severity_vocabulary(settings);
        let wanted = term.trim();
        vocabulary
            .iter()
            .find(|t| t.term.eq_ignore_ascii_case(wanted))
            .map(|t| t.level)
            .or_else(|| ThreatLevel::parse(wanted))
            .ok_or_else(|| {
                let known: Vec<&str> = vocabulary.iter().map(|t| t.term.as_str()).collect();
                format!(
                    "'{wanted}' is not a severity of {} (known: {})",
                    Self::info().partner.unwrap_or_else(|| Self::info().name),
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                )
            })
    }

    /// Adjusts the desired policies or adds policies.
    fn apply_rules(
        _settings: &Self::Settings,
        _policies: Vec<Policy>,
        _tenant: TenantContext,
    ) -> Result<RulesOutput, String> {
        Err(unsupported::<Self>(Capability::ComplianceRules))
    }
}

fn unsupported<P: Plugin + ?Sized>(capability: Capability) -> String {
    format!("plugin {} does not implement {capability:?}", P::info().name)
}

/// Shorthand for `P::translate_severity`, usable inside `map_events`.
pub fn translate<P: Plugin + ?Sized>(settings: &P::Settings, term: &str) -> Result<ThreatLevel, String> {
    P::translate_severity(settings, term)
}

/// Parses settings JSON into `S`; an empty document or `null` gives `S::default()`.
/// The error names the setting's path, e.g. `overrides.TROJAN: unknown variant`.
pub fn parse_settings<S: DeserializeOwned + Default>(json: &str) -> Result<S, Diagnostic> {
    let text = json.trim();
    if text.is_empty() || text == "null" {
        return Ok(S::default());
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        Diagnostic::error(path, e.into_inner().to_string())
    })
}
