//! Scripted compliance rules: an admin's Rhai script adjusts or adds
//! policies, inside the same wasm sandbox as any plugin, with Rhai's own
//! limits (operations, string/array/map sizes, call depth) on top.
//!
//! A script defines rules as functions named `rule_…`, each taking the
//! policies and the tenant and returning the policies. They run in the order
//! they are written; after each, the plugin compares the policies and reports
//! what that rule changed, so the plan can say which rule changed what.
mod convert;
mod engine;

use mtd_sdk::prelude::*;

pub use engine::{run_rules, ScriptError};

pub struct RulesScript;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// The script text (the host fills it from `script-file`).
    #[serde(default)]
    pub script: String,
    /// The script's file name, for error locations.
    pub script_name: Option<String>,
    /// Rhai operation budget per run.
    pub max_operations: Option<u64>,
}

impl Settings {
    pub fn name(&self) -> &str {
        self.script_name.as_deref().unwrap_or("script")
    }
}

impl Plugin for RulesScript {
    type Settings = Settings;

    fn info() -> PluginInfo {
        PluginInfo::new("rules-script", "0.1.0", "Compliance rules written as Rhai scripts by the admin")
            .with_capability(Capability::ComplianceRules)
    }

    fn validate_settings(s: &Settings) -> Vec<Diagnostic> {
        if s.script.trim().is_empty() {
            return vec![Diagnostic::error(
                "script",
                "no script: set script = \"…\" or script-file = \"rules.rhai\"",
            )];
        }
        match engine::compile(s) {
            Ok((_, rules)) if rules.is_empty() => {
                vec![Diagnostic::error(
                    "script",
                    format!("{} defines no rule: name rule functions rule_…(policies, tenant)", s.name()),
                )]
            }
            Ok(_) => Vec::new(),
            Err(e) => vec![Diagnostic::error("script", e.to_string())],
        }
    }

    fn apply_rules(
        s: &Settings,
        policies: Vec<Policy>,
        tenant: TenantContext,
    ) -> Result<RulesOutput, String> {
        run_rules(s, policies, &tenant, &mtd_sdk::tenant::conditional_access()).map_err(|e| e.to_string())
    }
}

mtd_sdk::export_plugin!(RulesScript);
