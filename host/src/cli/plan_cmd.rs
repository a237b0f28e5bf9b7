//! `mtdhost plan` and `mtdhost apply`.

use crate::cli::out::{out, outln};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::OutputFormat;
use crate::plan::{self, ApplyProgress};
use crate::prepare;

/// Options of `mtdhost plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The config file (mtdhost.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Exit 2 when there are changes, 0 when there are none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also plan deleting policies this config's owner manages that are no longer in the config.
    #[arg(long)]
    pub prune: bool,
    /// Take over policies with mtdhost's old marker (owner unknown) or another owner's marker.
    #[arg(long)]
    pub adopt_owner: bool,
}

/// Options of `mtdhost apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The config file (mtdhost.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Delete policies this config's owner manages that are no longer in the config (never others).
    #[arg(long)]
    pub prune: bool,
    /// Take over policies with mtdhost's old marker (owner unknown) or another owner's marker.
    #[arg(long)]
    pub adopt_owner: bool,
}

pub(super) fn plan(args: PlanArgs) -> anyhow::Result<i32> {
    super::tokio_runtime()?.block_on(async {
        let p = prepare::prepare_with(&args.config, args.prune, args.adopt_owner).await?;
        match args.output {
            OutputFormat::Text => out!("{}", plan::render_text(&p.plan))?,
            OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&plan::render_json(&p.plan))?)?,
        }
        Ok(if args.detailed_exitcode && p.plan.has_changes() { 2 } else { 0 })
    })
}

/// The apply progress bar. Its ETA comes from the write pacer — how long
/// the remaining writes take at the write limit — since a rate measured
/// over the first, unthrottled writes would promise far too little.
struct Bar<'a> {
    bar: indicatif::ProgressBar,
    pacer: &'a crate::graph::Pacer,
}

impl ApplyProgress for Bar<'_> {
    fn step(&self, message: &str) {
        self.bar.inc(1);
        let remaining = self.bar.length().unwrap_or(0).saturating_sub(self.bar.position()) as usize;
        let eta = self.pacer.eta(remaining + 1).as_secs();
        let eta = if eta >= 60 { format!("{}m{:02}s", eta / 60, eta % 60) } else { format!("{eta}s") };
        self.bar.set_message(format!("ETA {eta}  {message}"));
    }
}

pub(super) fn apply(args: ApplyArgs) -> anyhow::Result<i32> {
    super::tokio_runtime()?.block_on(async {
        let p = prepare::prepare_with(&args.config, args.prune, args.adopt_owner).await?;
        out!("{}", plan::render_text(&p.plan))?;
        if !p.plan.has_changes() {
            return Ok(0);
        }
        if !args.auto_approve && !confirm(&p.plan.tenant)? {
            outln!("Apply cancelled; nothing was changed.")?;
            return Ok(1);
        }
        let bar = indicatif::ProgressBar::new(p.plan.write_count() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} writes  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let progress = Bar { bar: bar.clone(), pacer: p.session.client.pacer() };
        let result = plan::apply(&p.session.client, &p.plan, &progress).await;
        bar.finish_and_clear();
        let done = result?;
        outln!(
            "Apply complete: {} created, {} updated, {} deleted ({} Graph writes).",
            done.created,
            done.updated,
            done.deleted,
            done.writes
        )?;
        Ok(0)
    })
}

fn confirm(tenant: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to apply without confirmation: input is not a terminal (use --auto-approve in pipelines)");
    }
    out!("\nApply these changes to {tenant}? Only 'yes' is accepted: ")?;
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}
