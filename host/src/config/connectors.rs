//! `[connectors.NAME]`: checking an MTD connector's settings and turning
//! the config's words into the Graph properties they set.
//!
//! The platform lists (`block-when-partner-data-missing`, `app-protection`)
//! are complete sets: a platform left out is switched off, so a config that
//! says `["ios"]` means exactly iOS, whatever the portal had before.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Config, ConfigError, ConnectorConfig, ConnectorPlatform};
use mtd_model::{check_connector_property, ConnectorSwitch, ConnectorViolation};

impl ConnectorConfig {
    /// Every Graph property this entry sets, by name.
    pub fn graph_settings(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let toggles = [
            (self.android, ConnectorPlatform::Android),
            (self.ios, ConnectorPlatform::Ios),
            (self.windows, ConnectorPlatform::Windows),
            (self.macos, ConnectorPlatform::Macos),
        ];
        for (on, platform) in toggles {
            if let (Some(on), Some(name)) = (on, ConnectorSwitch::Enabled.property(platform.platform())) {
                out.insert(name.into(), Value::Bool(on));
            }
        }
        let lists = [
            (&self.block_when_partner_data_missing, ConnectorSwitch::BlockOnMissingPartnerData),
            (&self.app_protection, ConnectorSwitch::AppProtection),
        ];
        for (list, switch) in lists {
            let Some(list) = list else { continue };
            for platform in ConnectorPlatform::ALL {
                if let Some(name) = switch.property(platform.platform()) {
                    out.insert(name.into(), Value::Bool(list.get_ref().contains(&platform)));
                }
            }
        }
        if let Some(days) = &self.unresponsive_after_days {
            out.insert("partnerUnresponsivenessThresholdInDays".into(), Value::from(*days.get_ref()));
        }
        if let Some(blocked) = self.partner_unsupported_os_blocked {
            out.insert("partnerUnsupportedOsVersionBlocked".into(), Value::Bool(blocked));
        }
        for (k, v) in self.settings.iter().flat_map(|t| t.get_ref().iter()) {
            out.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
        }
        out
    }

    /// The Graph properties the named fields (not `settings`) set.
    fn named_properties(&self) -> Vec<String> {
        let mut named = self.clone();
        named.settings = None;
        named.graph_settings().into_iter().map(|(k, _)| k).collect()
    }
}

impl Config {
    /// Every `[connectors.NAME]`: a GUID id named once, agreeing with
    /// `[tenant.connectors]`, lists without repeats or impossible platforms,
    /// a threshold Graph can hold, and settings that are writable connector
    /// properties not already set by a named field.
    pub(super) fn check_connectors(&self) -> Result<(), ConfigError> {
        let mut ids: BTreeMap<String, &str> = BTreeMap::new();
        for (name, entry) in &self.file.connectors {
            let c = entry.get_ref();
            let id = c.id.get_ref();
            if !crate::plan::is_guid(id) {
                return Err(self.err(
                    c.id.span(),
                    format!("[connectors.{name}] id '{id}' is not a connector id (a GUID)"),
                    Some("`mtdhost connectors -c FILE` on a config without this table lists the tenant's connectors and their ids"),
                ));
            }
            if let Some(other) = ids.insert(id.to_ascii_lowercase(), name) {
                return Err(self.err(
                    c.id.span(),
                    format!("[connectors.{name}] and [connectors.{other}] name the same connector {id}"),
                    Some("one connector has one set of settings: merge the two tables"),
                ));
            }
            if let Some(mapped) = self.file.tenant.connectors.get(name) {
                if !mapped.eq_ignore_ascii_case(id) {
                    return Err(self.err(
                        c.id.span(),
                        format!(
                            "[connectors.{name}] id {id} differs from [tenant.connectors] {name} = \"{mapped}\""
                        ),
                        Some("[connectors.NAME] id replaces the [tenant.connectors] entry: remove one"),
                    ));
                }
            }
            self.check_lists(name, c)?;
            if let Some(days) = &c.unresponsive_after_days {
                if !(0..=i64::from(i32::MAX)).contains(days.get_ref()) {
                    return Err(self.err(
                        days.span(),
                        format!(
                            "[connectors.{name}] unresponsive-after-days {} is not a day count",
                            days.get_ref()
                        ),
                        Some("Graph holds it as a 32-bit count of days, 0 or more"),
                    ));
                }
            }
            self.check_raw_settings(name, c)?;
        }
        Ok(())
    }

    fn check_lists(&self, name: &str, c: &ConnectorConfig) -> Result<(), ConfigError> {
        let lists = [
            (
                "block-when-partner-data-missing",
                &c.block_when_partner_data_missing,
                ConnectorSwitch::BlockOnMissingPartnerData,
            ),
            ("app-protection", &c.app_protection, ConnectorSwitch::AppProtection),
        ];
        for (key, list, switch) in lists {
            let Some(list) = list else { continue };
            let mut seen = Vec::new();
            for p in list.get_ref() {
                if seen.contains(p) {
                    return Err(self.err(
                        list.span(),
                        format!("[connectors.{name}] {key} lists {} twice", p.key()),
                        None,
                    ));
                }
                seen.push(*p);
                if switch.property(p.platform()).is_none() {
                    return Err(self.err(
                        list.span(),
                        format!(
                            "[connectors.{name}] {key}: an MTD connector has no such switch for {}",
                            p.key()
                        ),
                        Some("app protection (MAM) is available for android, ios and windows"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_raw_settings(&self, name: &str, c: &ConnectorConfig) -> Result<(), ConfigError> {
        let Some(table) = &c.settings else { return Ok(()) };
        let named = c.named_properties();
        for (k, v) in table.get_ref() {
            let json = serde_json::to_value(v).unwrap_or(Value::Null);
            // The version is chosen per change; here only whether any version takes it.
            if let Err(e) = check_connector_property(mtd_model::ApiVersion::Beta, k, &json) {
                let hint = match e {
                    ConnectorViolation::Unknown { .. } => {
                        Some("settings take Graph's property names exactly, e.g. allowPartnerToCollectIOSApplicationMetadata")
                    }
                    _ => None,
                };
                return Err(self.err(table.span(), format!("[connectors.{name}] settings: {e}"), hint));
            }
            if named.iter().any(|n| n == k) {
                return Err(self.err(
                    table.span(),
                    format!(
                        "[connectors.{name}] settings: '{k}' is already set by a named field of this table"
                    ),
                    Some("set it in one place only"),
                ));
            }
        }
        Ok(())
    }

    /// Partner (plugin) name → connector id, from `[tenant.connectors]` and
    /// every `[connectors.NAME]`.
    pub fn connector_ids(&self) -> BTreeMap<String, String> {
        let mut ids = self.file.tenant.connectors.clone();
        for (name, c) in &self.file.connectors {
            ids.insert(name.clone(), c.get_ref().id.get_ref().clone());
        }
        ids
    }
}
