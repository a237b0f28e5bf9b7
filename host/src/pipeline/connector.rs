//! The desired state of one MTD connector: the Graph properties its
//! `[connectors.NAME]` table sets, and where that table is.

use serde_json::{Map, Value};

use crate::config::{Config, Location};

/// What the config wants of one connector.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredConnector {
    /// The partner (plugin) name the config gives it.
    pub partner: String,
    /// The connector's object id, as written.
    pub id: String,
    /// Graph property → value, only what the config sets.
    pub settings: Map<String, Value>,
    /// Where the table is in the config.
    pub location: Location,
}

/// Every `[connectors.NAME]` of `config`, in name order.
pub(super) fn from_config(config: &Config) -> Vec<DesiredConnector> {
    config
        .file
        .connectors
        .iter()
        .map(|(name, entry)| {
            let c = entry.get_ref();
            DesiredConnector {
                partner: name.clone(),
                id: c.id.get_ref().clone(),
                settings: c.graph_settings(),
                location: config.at(c.id.span()),
            }
        })
        .collect()
}
