//! Microsoft Graph for mtdhost: sign-in in every national cloud ([`auth`]),
//! a request engine that paces writes under Intune's limit, retries what
//! Graph says to retry and never logs a secret ([`GraphClient`]), and the
//! Intune compliance operations mtdhost needs — policies with their actions
//! and assignments, groups, filters, policy sets, notification templates,
//! MTD connectors. Every write is checked against [`mtd_model`]'s rule
//! table before it is sent.

mod assignment;
pub mod auth;
mod client;
mod cloud;
mod conditional_access;
mod connectors;
mod directory;
mod error;
mod intune;
mod me;
mod model;
mod pacer;
mod paging;
mod policy_read;
mod properties;
mod query;
mod references;
mod retry;

pub use mtd_model::schema;

pub use assignment::{Assignment, AssignmentFilter, AssignmentTarget, FilterMode, Target};
pub use client::{http_client, ClientOptions, GraphClient, Response};
pub use cloud::{Cloud, EndpointError, Endpoints};
pub use conditional_access::{CaRead, RemoteCaPolicy};
pub use connectors::ConnectorRead;
pub use directory::{lookup, GroupLookup, Named};
pub use error::GraphError;
pub use me::SignedInUser;
pub use model::{ActionItem, ActionType, Connector, Group, DEFENDER_CONNECTOR_ID};
pub use pacer::{PaceLimit, Pacer, WritePermit};
pub use policy_read::RemotePolicy;
pub use properties::Properties;
pub use references::{ReferenceQuery, References};
pub use retry::RetryPolicy;
