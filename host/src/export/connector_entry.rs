//! One exported `[connectors.NAME]` table, written from what the tenant
//! holds so that a plan on the export shows no change: each switch Graph
//! reports, unset (null) ones left out, platform lists complete.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use toml::{Table, Value as Toml};

use crate::graph::{Connector, DEFENDER_CONNECTOR_ID};
use mtd_model::{ConnectorPlatform, ConnectorSwitch, CONNECTOR_PROPERTIES};

/// The `[connectors]` tables of the export.
#[derive(Serialize)]
pub(super) struct ConnectorsDoc<'a> {
    pub(super) connectors: &'a BTreeMap<String, ConnectorEntry>,
}

/// One `[connectors.NAME]` (docs/config.md has every key).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct ConnectorEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    android: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_protection: Option<Vec<ConnectorPlatform>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block_when_partner_data_missing: Option<Vec<ConnectorPlatform>>,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ios: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    macos: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_unsupported_os_blocked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unresponsive_after_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    windows: Option<bool>,
    #[serde(skip_serializing_if = "Table::is_empty")]
    settings: Table,
}

/// The name a connector is exported under: the config's own name for its
/// id, `defender` for Defender for Endpoint's public id, else one made from
/// the id (connectors carry no partner name).
pub(super) fn name_for(c: &Connector, names: &BTreeMap<String, String>) -> String {
    if let Some((name, _)) = names.iter().find(|(_, id)| id.eq_ignore_ascii_case(&c.id)) {
        return name.clone();
    }
    if c.id.eq_ignore_ascii_case(DEFENDER_CONNECTOR_ID) {
        return "defender".into();
    }
    format!("connector-{}", c.id.chars().take(8).collect::<String>().to_ascii_lowercase())
}

/// The entry for `c`; what cannot be written is pushed to `warnings`.
pub(super) fn connector_entry(c: &Connector, name: &str, warnings: &mut Vec<String>) -> ConnectorEntry {
    let mut used: Vec<&str> = Vec::new();
    let mut flag = |p: Option<&'static str>, used: &mut Vec<&'static str>| -> Option<bool> {
        let p = p?;
        used.push(p);
        match c.raw.get(p) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                warnings
                    .push(format!("connector {name} ({}): {p} has value {other}; not in the export", c.id));
                None
            }
        }
    };
    let enabled = |platform: ConnectorPlatform| ConnectorSwitch::Enabled.property(platform.platform());
    let android = flag(enabled(ConnectorPlatform::Android), &mut used);
    let ios = flag(enabled(ConnectorPlatform::Ios), &mut used);
    let windows = flag(enabled(ConnectorPlatform::Windows), &mut used);
    let macos = flag(enabled(ConnectorPlatform::Macos), &mut used);
    let mut list =
        |switch: ConnectorSwitch, used: &mut Vec<&'static str>| -> Option<Vec<ConnectorPlatform>> {
            let mut on = Vec::new();
            let mut any = false;
            for platform in ConnectorPlatform::ALL {
                let Some(p) = switch.property(platform.platform()) else { continue };
                match flag(Some(p), used) {
                    Some(true) => {
                        on.push(platform);
                        any = true;
                    }
                    Some(false) => any = true,
                    None => {}
                }
            }
            any.then_some(on)
        };
    let block_when_partner_data_missing = list(ConnectorSwitch::BlockOnMissingPartnerData, &mut used);
    let app_protection = list(ConnectorSwitch::AppProtection, &mut used);
    let partner_unsupported_os_blocked = flag(Some("partnerUnsupportedOsVersionBlocked"), &mut used);
    used.push("partnerUnresponsivenessThresholdInDays");
    let unresponsive_after_days = match c.raw.get("partnerUnresponsivenessThresholdInDays") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|n| i32::try_from(*n).is_ok_and(|n| n >= 0)) {
            Some(n) => Some(n),
            None => {
                warnings.push(format!(
                    "connector {name} ({}): partnerUnresponsivenessThresholdInDays has value {v}; not in the export",
                    c.id
                ));
                None
            }
        },
    };
    let mut settings = Table::new();
    for p in CONNECTOR_PROPERTIES.iter().filter(|p| !used.contains(&p.name)) {
        match c.raw.get(p.name) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => {
                settings.insert(p.name.to_string(), Toml::Boolean(*b));
            }
            Some(other) => warnings.push(format!(
                "connector {name} ({}): {} has value {other}; not in the export",
                c.id, p.name
            )),
        }
    }
    ConnectorEntry {
        android,
        app_protection,
        block_when_partner_data_missing,
        id: c.id.clone(),
        ios,
        macos,
        partner_unsupported_os_blocked,
        unresponsive_after_days,
        windows,
        settings,
    }
}
