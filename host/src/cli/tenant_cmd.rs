//! `mtdhost export` and `mtdhost connectors`: commands that read the tenant.

use crate::cli::out::{out, outln};
use std::path::PathBuf;

use clap::Args;

use crate::graph::schema::ApiVersion;
use crate::graph::ClientOptions;
use crate::graph::DEFENDER_CONNECTOR_ID;
use crate::prepare;

/// Options naming just the config.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The config file (mtdhost.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
}

/// Options of `mtdhost export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The config file naming the tenant (its [tenant] table is copied into the export).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    /// Write the exported config here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Export every compliance policy, not only those requiring a device threat level.
    #[arg(long)]
    pub all: bool,
}

pub(super) fn export(args: ExportArgs) -> anyhow::Result<i32> {
    let config = prepare::load_config(&args.config)?;
    let tenant_table = toml::from_str::<toml::Table>(&crate::config::without_policies(&config.text))?
        .get("tenant")
        .and_then(|t| t.as_table())
        .cloned()
        .unwrap_or_default();
    super::tokio_runtime()?.block_on(async {
        let session = crate::session::connect(&config, ClientOptions::default()).await?;
        let (connector_ids, conditional_access) =
            (config.connector_ids(), !config.file.conditional_access.is_empty());
        // An export writes the tenant, not the config: a config of thousands
        // of policies need not stay in memory while the tenant is read.
        drop(config);
        let exported = crate::export::export_with(
            &session.client,
            &tenant_table,
            args.all,
            &connector_ids,
            conditional_access,
        )
        .await?;
        match &args.output {
            Some(path) => {
                std::fs::write(path, &exported.toml)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                eprintln!(
                    "exported {} policies, {} MTD connectors and {} conditional access policies to {}",
                    exported.count,
                    exported.connectors,
                    exported.conditional_access,
                    path.display()
                );
            }
            None => out!("{}", exported.toml)?,
        }
        for w in &exported.warnings {
            eprintln!("warning: {w}");
        }
        Ok(0)
    })
}

pub(super) fn connectors(args: ConfigArgs) -> anyhow::Result<i32> {
    let config = prepare::load_config(&args.config)?;
    super::tokio_runtime()?.block_on(async {
        let session = crate::session::connect(&config, ClientOptions::default()).await?;
        let list = session.client.list_connectors(ApiVersion::Beta).await?;
        let ids = config.connector_ids();
        let partner_of = |id: &str| {
            ids.iter()
                .find(|(_, cid)| cid.eq_ignore_ascii_case(id))
                .map(|(p, _)| p.clone())
                .or_else(|| {
                    id.eq_ignore_ascii_case(DEFENDER_CONNECTOR_ID)
                        .then(|| "Microsoft Defender for Endpoint".to_string())
                })
                .unwrap_or_else(|| "(not named in the config)".to_string())
        };
        let yn = |b: bool| if b { "yes" } else { "no" };
        outln!("MTD connectors in {}:", session.label)?;
        outln!(
            "{:<38} {:<34} {:<13} {:<8} {:<4} {:<8} {:<4} LAST HEARTBEAT",
            "ID",
            "PARTNER",
            "STATE",
            "ANDROID",
            "IOS",
            "WINDOWS",
            "MAC"
        )?;
        for c in &list {
            outln!(
                "{:<38} {:<34} {:<13} {:<8} {:<4} {:<8} {:<4} {}",
                c.id,
                partner_of(&c.id),
                c.partner_state,
                yn(c.android_enabled),
                yn(c.ios_enabled),
                yn(c.windows_enabled),
                yn(c.mac_enabled),
                c.last_heartbeat_date_time.as_deref().unwrap_or("-")
            )?;
        }
        Ok(0)
    })
}
