//! # mtd-sdk — write an mtdhost plugin in a few dozen lines
//!
//! mtdhost runs plugins as WebAssembly components in a sandbox. This crate holds
//! the contract they implement (the WIT package `mtd:plugin@0.2.1`, shipped in
//! `wit/`), ergonomic helpers on its types, and [`export_plugin!`], which turns
//! a type implementing [`Plugin`] into a component when built for
//! `wasm32-wasip2`. The same code builds natively, so plugin logic is unit-tested
//! with plain `cargo test` — no wasm runtime needed.
//!
//! ## A complete plugin
//!
//! ```
//! use mtd_sdk::prelude::*;
//!
//! /// Maps a partner that reports "none", "low", "medium" and "high".
//! pub struct Simple;
//!
//! #[derive(Default, serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! pub struct Settings {
//!     /// Level for severities the partner may add later.
//!     #[serde(default)]
//!     unknown_level: Option<String>,
//! }
//!
//! impl Plugin for Simple {
//!     type Settings = Settings;
//!
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("simple", "1.0.0", "Maps none/low/medium/high")
//!             .with_capability(Capability::ThreatMapping)
//!     }
//!
//!     fn validate_settings(settings: &Settings) -> Vec<Diagnostic> {
//!         match &settings.unknown_level {
//!             Some(l) if ThreatLevel::parse(l).is_none() => vec![Diagnostic::error(
//!                 "unknown_level",
//!                 format!("'{l}' is not an Intune level (secured, low, medium, high)"),
//!             )],
//!             _ => Vec::new(),
//!         }
//!     }
//!
//!     fn severity_vocabulary(_: &Settings) -> Vec<SeverityTerm> {
//!         vec![
//!             SeverityTerm::new("none", ThreatLevel::Secured),
//!             SeverityTerm::new("low", ThreatLevel::Low),
//!             SeverityTerm::new("medium", ThreatLevel::Medium),
//!             SeverityTerm::new("high", ThreatLevel::High),
//!         ]
//!     }
//!
//!     fn map_events(settings: &Settings, batch: EventBatch) -> Result<MappingOutput, String> {
//!         let fallback = settings.unknown_level.as_deref().and_then(ThreatLevel::parse);
//!         let mut out = MappingBuilder::starting_at(batch.first_record);
//!         for record in batch.records {
//!             let level = match translate::<Self>(settings, &record.severity) {
//!                 Ok(level) => level,
//!                 Err(msg) => {
//!                     out.diagnostic(Diagnostic::warning(&record.threat_id, msg));
//!                     fallback.unwrap_or(ThreatLevel::High)
//!                 }
//!             };
//!             let active = record.status != "RESOLVED";
//!             out.threat(&record, level, active, format!("severity {}", record.severity));
//!         }
//!         Ok(out.finish())
//!     }
//! }
//!
//! mtd_sdk::export_plugin!(Simple);
//!
//! // Natively, the logic is plain Rust:
//! let batch = EventBatch::from_records(vec![ThreatRecord::new("dev-1", "t-1", "MALWARE", "high", "DETECTED")]);
//! let out = Simple::map_events(&Settings::default(), batch).unwrap();
//! assert_eq!(out.devices[0].level, ThreatLevel::High);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` and check it
//! with `mtdhost plugin inspect target/wasm32-wasip2/release/simple.wasm`.

pub mod bindings;
mod diagnostic;
pub mod events;
#[doc(hidden)]
pub mod glue;
mod level;
mod log;
mod mapping;
pub mod partner;
mod plugin;
pub mod tenant;
pub mod time;
mod types;

pub use bindings::mtd::plugin::types::{
    Action, ActionType, Assignments, CaPolicy, CaSource, CaState, Capability, ChangeNote, Connector,
    ConnectorState, DeviceVerdict, Diagnostic, DiagnosticSeverity, EventBatch, Group, MappingOutput,
    Observation, Platform, PluginInfo, Policy, RulesOutput, SeverityTerm, StatusVerdict, TenantContext,
    ThreatLevel, ThreatRecord, ThreatVerdict,
};
pub use log::{debug, error, info, trace, warn};
pub use mapping::{order_key, MappingBuilder};
pub use plugin::{parse_settings, translate, Plugin};

/// The contract version this SDK implements; written into every plugin's info.
pub const CONTRACT_VERSION: &str = "0.2.1";

/// Everything a plugin usually needs, in one `use`.
pub mod prelude {
    pub use crate::{
        translate, Action, ActionType, Assignments, CaPolicy, Capability, ChangeNote, Diagnostic,
        DiagnosticSeverity, EventBatch, MappingBuilder, MappingOutput, Platform, Plugin, PluginInfo, Policy,
        RulesOutput, SeverityTerm, TenantContext, ThreatLevel, ThreatRecord,
    };
}

/// Exports a [`Plugin`] implementation as the component's `mtd:plugin/guest`.
///
/// On targets other than wasm32 this expands to nothing, so the crate still
/// builds and tests natively.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __MtdGuest;
            impl $crate::bindings::exports::mtd::plugin::guest::Guest for __MtdGuest {
                fn info() -> $crate::PluginInfo {
                    $crate::glue::info::<$plugin>()
                }
                fn validate_settings(settings_json: String) -> Vec<$crate::Diagnostic> {
                    $crate::glue::validate_settings::<$plugin>(&settings_json)
                }
                fn map_events(
                    settings_json: String,
                    batch: $crate::EventBatch,
                ) -> Result<$crate::MappingOutput, String> {
                    $crate::glue::map_events::<$plugin>(&settings_json, batch)
                }
                fn severity_vocabulary(settings_json: String) -> Vec<$crate::SeverityTerm> {
                    $crate::glue::severity_vocabulary::<$plugin>(&settings_json)
                }
                fn translate_severity(
                    settings_json: String,
                    term: String,
                ) -> Result<$crate::ThreatLevel, String> {
                    $crate::glue::translate_severity::<$plugin>(&settings_json, &term)
                }
                fn apply_rules(
                    settings_json: String,
                    policies: Vec<$crate::Policy>,
                    tenant: $crate::TenantContext,
                ) -> Result<$crate::RulesOutput, String> {
                    $crate::glue::apply_rules::<$plugin>(&settings_json, policies, tenant)
                }
            }
    $crate::bindings::__export_guest!(__MtdGuest with_types_in $crate::bindings);
        };
    };
}
