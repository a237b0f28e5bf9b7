//! MTD connectors as a resource kind: read all on beta, matched by id,
//! diffed per property, PATCHed with only what differs on the lowest API
//! version that has every changed property. mtdhost never creates or deletes
//! a connector (the partner's console sets it up), so a configured id that
//! does not exist stops the plan, and connectors the config does not name
//! are left alone.

use std::sync::atomic::AtomicBool;

use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use super::apply::{ApplyProgress, ApplySummary};
use super::kind::{may_write, Applicable, ResourceKind};
use super::matching::Keyed;
use super::{ChangeKind, PlanError, SettingChange};
use crate::graph::schema::ApiVersion;
use crate::graph::{Connector, GraphClient, GraphError};
use crate::pipeline::DesiredConnector;
use mtd_model::{connector_property, connector_version, ConnectorValue, PartnerState};

/// The planned change to one connector's settings.
#[derive(Debug, Clone)]
pub struct ConnectorChange {
    /// Update, or unchanged.
    pub kind: ChangeKind,
    /// The partner name the config gives the connector.
    pub partner: String,
    /// The connector's id as the tenant spells it.
    pub id: String,
    /// The partner's state, shown with the change.
    pub partner_state: PartnerState,
    /// The API version the PATCH is sent on.
    pub version: ApiVersion,
    /// The properties that change.
    pub settings: Vec<SettingChange>,
    /// Where the connector's table is in the config.
    pub origin: String,
}

impl Keyed for DesiredConnector {
    type Key = String;
    fn key(&self) -> Option<String> {
        Some(self.id.to_ascii_lowercase())
    }
}

impl Keyed for Connector {
    type Key = String;
    fn key(&self) -> Option<String> {
        Some(self.id.to_ascii_lowercase())
    }
}

/// The connector kind for one plan; keeps what it read, because the
/// compliance side warns about connectors too.
pub(crate) struct MtdConnectors<'c> {
    client: &'c GraphClient,
    /// Every connector read.
    pub(crate) read: Vec<Connector>,
    /// What in them could not be read.
    pub(crate) read_warnings: Vec<String>,
}

impl<'c> MtdConnectors<'c> {
    /// The kind, with nothing read yet.
    pub(crate) fn new(client: &'c GraphClient) -> Self {
        MtdConnectors { client, read: Vec::new(), read_warnings: Vec::new() }
    }
}

/// How Graph's value of `name` compares: an unset (null) switch is off.
fn effective(name: &str, v: Option<&Value>) -> Value {
    match (v, connector_property(name).map(|p| p.value)) {
        (None | Some(Value::Null), Some(ConnectorValue::Bool)) => Value::Bool(false),
        (None, _) => Value::Null,
        (Some(v), _) => v.clone(),
    }
}

impl ResourceKind for MtdConnectors<'_> {
    type Desired = DesiredConnector;
    type Remote = Connector;
    type Resolved = ();
    type Change = ConnectorChange;

    async fn read_all(&mut self, _: &[DesiredConnector]) -> Result<Vec<Connector>, PlanError> {
        let read = self.client.read_connectors(ApiVersion::Beta).await?;
        self.read = read.connectors.clone();
        self.read_warnings = read.warnings;
        Ok(read.connectors)
    }

    async fn read_related(&mut self, _: Vec<&Connector>) -> Result<(), PlanError> {
        Ok(())
    }

    fn match_problems(&self, d: &DesiredConnector, found: &[&Connector]) -> Vec<String> {
        if !found.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "{}: [connectors.{}] connector {} does not exist in the tenant; mtdhost never creates connectors — connect the partner from its console and add it in Intune (Tenant administration > Connectors and tokens > Mobile Threat Defense), or fix the id (`mtdhost connectors` lists them)",
            d.location, d.partner, d.id
        )]
    }

    async fn resolve(&mut self, _: &DesiredConnector, _: &mut Vec<String>) -> Result<(), PlanError> {
        Ok(())
    }

    async fn diff(
        &mut self,
        d: &DesiredConnector,
        _: (),
        found: Option<&Connector>,
        warnings: &mut Vec<String>,
    ) -> Result<ConnectorChange, PlanError> {
        // match_problems stopped the plan if it is missing.
        let Some(c) = found else {
            return Err(PlanError::Problems(self.match_problems(d, &[])));
        };
        if c.partner_state != PartnerState::Enabled {
            warnings.push(format!(
                "connector '{}' ({}) is {}, not enabled: its settings are applied, but devices get no threat levels from it until the partner's console connects it",
                d.partner,
                c.id,
                if c.partner_state.as_str().is_empty() { "in no reported state" } else { c.partner_state.as_str() }
            ));
        }
        let settings: Vec<SettingChange> = d
            .settings
            .iter()
            .filter_map(|(name, after)| {
                let before = effective(name, c.raw.get(name));
                (before != *after).then(|| SettingChange {
                    property: name.clone(),
                    before: c.raw.get(name).cloned().unwrap_or(Value::Null),
                    after: after.clone(),
                })
            })
            .collect();
        Ok(ConnectorChange {
            kind: if settings.is_empty() { ChangeKind::Unchanged } else { ChangeKind::Update },
            partner: d.partner.clone(),
            id: c.id.clone(),
            partner_state: c.partner_state.clone(),
            version: connector_version(settings.iter().map(|s| s.property.as_str())),
            settings,
            origin: d.location.to_string(),
        })
    }

    fn leftover(&self, _: &Connector, _: &mut Vec<String>) -> Option<ConnectorChange> {
        // Connectors the config does not name are not mtdhost's to change.
        None
    }
}

async fn write(
    client: &GraphClient,
    c: &ConnectorChange,
    progress: &dyn ApplyProgress,
    stop: &AtomicBool,
    done: &mut ApplySummary,
) -> Result<(), GraphError> {
    if c.kind != ChangeKind::Update || !may_write(stop) {
        return Ok(());
    }
    progress.step(&format!("updating connector {}", c.partner));
    let changed: Map<String, Value> =
        c.settings.iter().map(|s| (s.property.clone(), s.after.clone())).collect();
    client.update_connector(c.version, &c.id, &changed).await?;
    done.writes += 1;
    done.updated += 1;
    Ok(())
}

impl Applicable for ConnectorChange {
    fn change_kind(&self) -> ChangeKind {
        self.kind
    }

    fn label(&self) -> String {
        format!("MTD connector {}", self.partner)
    }

    fn write_count(&self) -> usize {
        usize::from(self.kind == ChangeKind::Update)
    }

    fn apply<'a>(
        &'a self,
        client: &'a GraphClient,
        progress: &'a dyn ApplyProgress,
        stop: &'a AtomicBool,
        done: &'a mut ApplySummary,
    ) -> LocalBoxFuture<'a, Result<(), GraphError>> {
        Box::pin(write(client, self, progress, stop, done))
    }
}
