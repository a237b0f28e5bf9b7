//! MTD connectors (`mobileThreatDefenseConnector`): read all, and PATCH
//! the switches that differ. Connectors are set up from the partner's
//! console, so mtdhost never creates or deletes one.
//!
//! Reading never drops a connector silently: an odd field reads as unset and
//! is reported, a connector without an id is reported, and the plan decides
//! whether that stops it (a connector the config manages) or only warns.

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::GraphClient;
use super::error::GraphError;
use super::model::Connector;
use super::schema::ApiVersion;
use mtd_model::rules;

const SEGS: [&str; 2] = ["deviceManagement", "mobileThreatDefenseConnectors"];

/// The tenant's connectors and what in them could not be read.
#[derive(Debug, Clone, Default)]
pub struct ConnectorRead {
    /// The connectors read.
    pub connectors: Vec<Connector>,
    /// Each names the connector, the field and the value.
    pub warnings: Vec<String>,
}

impl GraphClient {
    /// The tenant's MTD connectors; odd fields are reported, never skipped.
    pub async fn read_connectors(&self, version: ApiVersion) -> Result<ConnectorRead, GraphError> {
        let url = self.endpoint(version, &SEGS, &[])?;
        let mut out = ConnectorRead::default();
        for v in self.get_all(&url).await? {
            match Connector::from_graph(&v) {
                Ok((c, problems)) => {
                    out.connectors.push(c);
                    out.warnings.extend(problems);
                }
                Err(e) => out.warnings.push(e),
            }
        }
        Ok(out)
    }

    /// The tenant's MTD connectors; what could not be read is logged as a warning.
    pub async fn list_connectors(&self, version: ApiVersion) -> Result<Vec<Connector>, GraphError> {
        let read = self.read_connectors(version).await?;
        for w in &read.warnings {
            tracing::warn!("{w}");
        }
        Ok(read.connectors)
    }

    /// Changes the given properties of connector `id` (and nothing else).
    /// Every property is checked against the connector's schema for
    /// `version` first; read-only and unknown ones are refused unsent.
    pub async fn update_connector(
        &self,
        version: ApiVersion,
        id: &str,
        changes: &Map<String, Value>,
    ) -> Result<(), GraphError> {
        let settings: Vec<(&str, &Value)> = changes.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let broken = rules::check_connector(version, &settings);
        if !broken.is_empty() {
            return Err(GraphError::Refused {
                subject: format!("MTD connector {id} ({})", version.segment()),
                broken,
            });
        }
        // The docs say 200 with the updated entity; 204 is accepted too.
        self.request(
            Method::PATCH,
            &self.endpoint(version, &[SEGS[0], SEGS[1], id], &[])?,
            Some(&Value::Object(changes.clone())),
        )
        .await?;
        Ok(())
    }
}
