//! A rules plugin as a partner built it against contract 0.2.0, before 0.2.1
//! added `tenant.conditional-access`: generated from a frozen copy of the
//! 0.2.0 WIT with wit-bindgen directly, not through today's SDK. It tightens
//! every policy to `low` and says so, and reports the groups it was given.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({ world: "plugin", path: "wit" });

use exports::mtd::plugin::guest::Guest;
use mtd::plugin::types::*;

struct Old;

impl Guest for Old {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "old-rules".into(),
            version: "1.0.0".into(),
            partner: None,
            description: "built for mtd:plugin 0.2.0".into(),
            capabilities: vec![Capability::ComplianceRules],
            contract_version: "0.2.0".into(),
        }
    }

    fn validate_settings(_settings_json: String) -> Vec<Diagnostic> {
        Vec::new()
    }

    fn map_events(_settings_json: String, _batch: EventBatch) -> Result<MappingOutput, String> {
        Err("not a mapping plugin".into())
    }

    fn severity_vocabulary(_settings_json: String) -> Vec<SeverityTerm> {
        Vec::new()
    }

    fn translate_severity(_settings_json: String, term: String) -> Result<ThreatLevel, String> {
        Err(format!("unknown severity {term}"))
    }

    fn apply_rules(
        _settings_json: String,
        mut policies: Vec<Policy>,
        tenant: TenantContext,
    ) -> Result<RulesOutput, String> {
        mtd::plugin::host::log(mtd::plugin::host::LogLevel::Info, "0.2.0 rules running");
        let mut notes = Vec::new();
        for p in &mut policies {
            p.max_threat_level = Some(ThreatLevel::Low);
            notes.push(ChangeNote {
                rule: "old".into(),
                policy: p.name.clone(),
                message: format!("tightened to low; saw {} groups", tenant.groups.len()),
            });
        }
        Ok(RulesOutput { policies, notes, diagnostics: Vec::new() })
    }
}

export!(Old);
