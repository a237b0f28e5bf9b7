//! `mtdhost evaluate`: see what a policy would do before you enforce it.

use crate::cli::out::{out, outln};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::evaluate::{self, Enforcement, PolicyCheck};
use crate::prepare;
use crate::runtime::Capability;
use mtd_model::CaState;

/// Output formats of `evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EvalFormat {
    #[default]
    Text,
    Json,
    /// One row per device, one column per policy.
    Csv,
}

/// Options of `mtdhost evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The config file (mtdhost.toml): its mapping plugins and policies are used.
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    /// Partner events: JSON Lines, a JSON array, or one JSON document, as the partner exports them.
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    /// Which configured mapping plugin reads the events (needed when there are several).
    #[arg(long, value_name = "NAME")]
    pub partner: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub output: EvalFormat,
    /// Stop at the first malformed record or unknown value instead of reporting it.
    #[arg(long)]
    pub strict: bool,
}

pub(super) fn run(args: EvaluateArgs) -> anyhow::Result<i32> {
    let config = prepare::load_config(&args.config)?;
    let runtime = prepare::plugin_runtime()?;
    let desired = crate::pipeline::build(&config, &runtime, &crate::pipeline::TenantView::offline())?;
    let mapping: Vec<&str> = desired
        .plugins
        .iter()
        .filter(|(_, p)| p.has(Capability::ThreatMapping))
        .map(|(n, _)| n.as_str())
        .collect();
    let name = match (&args.partner, mapping.as_slice()) {
        (Some(p), _) if mapping.contains(&p.as_str()) => p.clone(),
        (Some(p), _) => anyhow::bail!(
            "--partner {p}: no mapping plugin of that name in the config (mapping plugins: {})",
            mapping.join(", ")
        ),
        (None, [one]) => one.to_string(),
        (None, []) => anyhow::bail!("the config has no threat-mapping plugin"),
        (None, many) => anyhow::bail!(
            "the config has several mapping plugins ({}); choose one with --partner",
            many.join(", ")
        ),
    };
    let plugin = desired.plugin(&name).expect("listed above");
    let policies: Vec<PolicyCheck> = desired
        .policies
        .iter()
        .filter(|d| d.partner.as_deref() == Some(name.as_str()))
        .filter_map(|d| {
            let enforced_by = desired
                .conditional_access
                .iter()
                .filter(|c| c.enforces(d))
                .map(|c| Enforcement {
                    policy: c.display_name.clone(),
                    apps: c.apps.clone(),
                    enforced: c.state == CaState::On,
                })
                .collect();
            Some(PolicyCheck { name: d.display_name.clone(), max_level: d.max_level?, enforced_by })
        })
        .collect();
    let file = std::fs::File::open(&args.events)
        .with_context(|| format!("cannot read events file {}", args.events.display()))?;
    let ev = evaluate::evaluate(plugin, file, args.strict, policies)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.events.display()))?;
    match args.output {
        EvalFormat::Text => out!("{}", evaluate::render_text(&ev))?,
        EvalFormat::Json => outln!("{}", serde_json::to_string_pretty(&evaluate::render_json(&ev))?)?,
        EvalFormat::Csv => out!("{}", evaluate::render_csv(&ev))?,
    }
    Ok(0)
}
