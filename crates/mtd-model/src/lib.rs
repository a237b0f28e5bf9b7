//! mtdhost's domain: the Intune compliance policy types and what Graph
//! accepts on each per API version ([`schema`]), the platforms a config
//! names ([`Platform`]), the actions for noncompliance ([`ActionKind`]), MTD
//! connector states ([`PartnerState`]) and settings ([`CONNECTOR_PROPERTIES`]), and
//! the one table of rules Intune enforces on a policy ([`rules`]).
//!
//! No I/O and no knowledge of configs, plugins or HTTP: the config check, the
//! desired-state pipeline, the Graph client and the emulator all ask this
//! crate, and each only words the answer for its own audience.

mod action;
mod conditional_access;
mod connector;
mod connector_settings;
mod platform;
pub mod rules;
pub mod schema;

pub use action::ActionKind;
pub use conditional_access::{
    check_ca_body, is_guid, CaPlatform, CaState, ClientApp, GrantControl, CA_SPECIAL_APPS,
};
pub use connector::PartnerState;
pub use connector_settings::{
    check_connector_property, connector_platform, connector_property, connector_version, ConnectorPlatform,
    ConnectorProperty, ConnectorSwitch, ConnectorValue, ConnectorViolation, CONNECTOR_PROPERTIES,
    CONNECTOR_READ_ONLY,
};
pub use platform::Platform;
pub use rules::{
    check_actions, check_connector, check_policy, check_settings, ActionShape, PolicyShape, Rule,
    MAX_GRACE_PERIOD_HOURS,
};
pub use schema::{ApiVersion, PolicyType};
