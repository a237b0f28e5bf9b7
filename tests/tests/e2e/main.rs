//! The end-to-end suite, one test binary: each module was its own binary, and
//! every binary links wasmtime, so one binary saves CI most of its link time and
//! disk. `graph_no_secrets` stays a binary of its own because it installs a
//! process-wide log subscriber.

mod apply;
mod ca_lockout;
mod conditional_access;
mod config_errors;
mod connectors;
mod contract;
mod export;
mod golden;
mod graph_auth;
mod graph_client;
mod graph_faults;
mod graph_schema;
mod graph_secretless;
mod hostile;
mod integrity;
mod partners;
mod real_tenant;
mod real_tenant_plan;
mod rule_table;
mod rules_script;
mod scale;
