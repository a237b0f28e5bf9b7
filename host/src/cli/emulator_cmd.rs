//! `mtdhost emulator`: run the Intune/Graph emulator in the foreground.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use std::io::Write as _;

use clap::Args;

use crate::emulator::{Emulator, EmulatorConfig, FaultSpec, Tenant, DEMO_CLIENT_ID, DEMO_TENANT};

/// Options of `mtdhost emulator` (its help text is on the subcommand).
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub listen: SocketAddr,
    /// Keep the tenant in this JSON file (loaded at start if it exists, saved after every change).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Inject faults, e.g. "429=0.3,503=0.1,drop=0.05,lose=0.05,latency=20ms,jitter=10ms,burst429=3,throttle=100/20s,retry-after=0.5,seed=7".
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Items per page of collections.
    #[arg(long, default_value_t = 100)]
    pub page_size: usize,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime: u64,
}

pub(super) fn run(args: EmulatorArgs) -> anyhow::Result<i32> {
    let faults: FaultSpec = match &args.faults {
        Some(s) => s.parse().map_err(|e| anyhow::anyhow!("--faults: {e}"))?,
        None => FaultSpec::default(),
    };
    let config = EmulatorConfig {
        listen: args.listen,
        state_file: args.state.clone(),
        faults,
        page_size: args.page_size,
        token_lifetime: Duration::from_secs(args.token_lifetime.max(1)),
        // The demo tenant as production holds it (filters, policy sets, nulls).
        seed: Some(Tenant::showcase()),
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let emulator = Emulator::start(config).await?;
        let url = emulator.url();
        let mut banner = format!(
            "mtdhost emulator listening on {url}\n  tenant id:   {DEMO_TENANT}\n  client id:   {DEMO_CLIENT_ID}\n  \
             token URL:   {url}/{DEMO_TENANT}/oauth2/v2.0/token\n  Graph:       {url}/v1.0 and {url}/beta\n"
        );
        if let Some(p) = &args.state {
            banner.push_str(&format!("  state file:  {}\n", p.display()));
        }
        banner.push_str("Press Ctrl-C to stop.\n");
        // Whoever reads stdout may go away (`| head`); the server keeps running.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|_| out.flush());
        drop(out);
        tokio::signal::ctrl_c().await?;
        emulator.stop();
        Ok::<_, anyhow::Error>(0)
    })
}
