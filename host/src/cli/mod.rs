//! The `mtdhost` command line: argument definitions and dispatch.
//!
//! Each subcommand lives in its own module; this one only parses and routes.
//! Errors surface as one line on stderr with a non-zero exit code.

#[cfg(feature = "emulator")]
mod emulator_cmd;
mod evaluate_cmd;
pub mod out;
mod plan_cmd;
mod plugin_cmd;
mod plugin_test_cmd;
mod render;
mod settings;
mod tenant_cmd;
mod validate_cmd;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use plugin_cmd::PluginCommand;

/// Intune Mobile Threat Defense compliance as code.
///
/// mtdhost runs partner threat-mapping and compliance-rule plugins
/// (WebAssembly components) in a sandbox, plans the compliance policies they
/// describe against an Intune tenant, and applies them through Microsoft Graph.
#[derive(Debug, Parser)]
#[command(name = "mtdhost", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The `mtdhost` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change in the tenant (reads only).
    Plan(plan_cmd::PlanArgs),
    /// Make the tenant's MTD compliance policies and assignments match the config.
    Apply(plan_cmd::ApplyArgs),
    /// Write the tenant's existing MTD compliance policies as config entries.
    Export(tenant_cmd::ExportArgs),
    /// Show which devices a policy would make noncompliant, from a partner's event export.
    Evaluate(evaluate_cmd::EvaluateArgs),
    /// List the tenant's MTD connectors and their states.
    Connectors(tenant_cmd::ConfigArgs),
    /// Check the config and its plugins without contacting the tenant.
    Validate(tenant_cmd::ConfigArgs),
    /// Work with a single plugin: inspect, check settings, run on sample events, precompile.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Run a local Intune / Microsoft Graph emulator (the embedded demo tenant).
    ///
    /// It serves Graph (/v1.0 and /beta) and the sign-in endpoints on one
    /// loopback address, with a demo tenant: groups, MTD connectors in several
    /// partner states, notification templates, and an app that signs in with a
    /// client secret or the device code flow (the README lists its id and secret).
    /// Point a config at it by setting both `graph-url` and `login-url` to the
    /// printed URL. Device code sign-ins are approved by opening the printed
    /// verification URL with `?code=USER_CODE`.
    #[cfg(feature = "emulator")]
    Emulator(emulator_cmd::EmulatorArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// JSON with a stable shape, for scripts.
    Json,
}

/// Options shared by every plugin subcommand: integrity, limits, cache.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Refuse the plugin unless its sha256 is this (hex).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,

    /// Require a minisign signature: the .minisig file (default: PLUGIN.minisig when a key is given).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// A minisign public key (RW…) allowed to sign the plugin; repeatable. Implies a signature check.
    #[arg(long = "trusted-key", value_name = "KEY")]
    pub trusted_keys: Vec<String>,

    /// Wall-clock deadline per call, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub deadline_ms: Option<u64>,

    /// Memory cap, in MiB.
    #[arg(long, value_name = "MIB")]
    pub memory_mib: Option<u64>,

    /// Directory for compiled plugins (default: $MTDHOST_CACHE_DIR or ~/.cache/mtdhost/components).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,

    /// Compile every time; do not read or write the cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// Runs the parsed command; the returned code is the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Plan(args) => plan_cmd::plan(args),
        Command::Apply(args) => plan_cmd::apply(args),
        Command::Export(args) => tenant_cmd::export(args),
        Command::Connectors(args) => tenant_cmd::connectors(args),
        Command::Evaluate(args) => evaluate_cmd::run(args),
        Command::Validate(args) => validate_cmd::validate(args),
        Command::Plugin(cmd) => plugin_cmd::run(cmd),
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => emulator_cmd::run(args),
    }
}

/// The async runtime the tenant-facing commands block on.
fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
