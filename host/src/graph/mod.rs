//! Microsoft Graph: sign-in, the request engine and the Intune operations
//! mtdhost needs, plus the schema facts both the client and the emulator
//! enforce.

pub mod assignment;
pub mod auth;
pub mod client;
pub mod cloud;
pub mod directory;
pub mod error;
pub mod intune;
pub mod model;
pub mod pacer;
pub mod policy_read;
pub mod query;
pub mod retry;
pub use mtd_model::schema;

pub use client::{ClientOptions, GraphClient};
pub use error::GraphError;
