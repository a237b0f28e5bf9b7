//! `mtdhost emulator`: run the Intune/Graph emulator in the foreground.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::emulator::{Emulator, EmulatorConfig, FaultSpec, DEMO_CLIENT_ID, DEMO_TENANT};

/// Run a local Intune / Microsoft Graph emulator.
///
/// It serves Graph (/v1.0 and /beta) and the sign-in endpoints on one
/// loopback address, with a demo tenant: groups, MTD connectors in several
/// partner states, notification templates, and an app that signs in with a
/// client secret or the device code flow (see the README for its id and secret).
/// Point a config at it with `graph-url` and `login-url` set to the printed URL.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub listen: SocketAddr,
    /// Keep the tenant in this JSON file (loaded at start if it exists, saved after every change).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Inject faults, e.g. "429=0.3,503=0.1,drop=0.05,lose=0.05,latency=20ms,burst429=3,throttle=100/20s,retry-after=0.5,seed=7".
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Items per page of collections.
    #[arg(long, default_value_t = 100)]
    pub page_size: usize,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime: u64,
}

pub fn run(args: EmulatorArgs) -> anyhow::Result<i32> {
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
        seed: None,
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let emulator = Emulator::start(config).await?;
        println!("mtdhost emulator listening on {}", emulator.url());
        println!("  tenant id:   {DEMO_TENANT}");
        println!("  client id:   {DEMO_CLIENT_ID}");
        println!("  token URL:   {}/{DEMO_TENANT}/oauth2/v2.0/token", emulator.url());
        println!("  Graph:       {}/v1.0 and {}/beta", emulator.url(), emulator.url());
        if let Some(p) = &args.state {
            println!("  state file:  {}", p.display());
        }
        println!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await?;
        emulator.stop();
        Ok::<_, anyhow::Error>(0)
    })
}
