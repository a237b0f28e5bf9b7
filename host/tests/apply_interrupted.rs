//! An apply killed after k writes (k = 1, 3, 5), then run again, converges to
//! the same tenant with no duplicate — with a real process kill (SIGKILL)
//! while it talks to an emulator over HTTP, also with faults injected.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mtdhost::emulator::{Emulator, EmulatorConfig, DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT};

const POLICIES: &str = r#"
[plugins.example]
source = "builtin:example"

[[policy]]
name = "MTD - Fleet"
platforms = ["ios", "android", "android-work-profile", "macos"]
partner = "example"
max-threat-level = "medium"
actions = [{ type = "block", grace-period-hours = 12 }]

[policy.assignments]
include = ["MTD - iOS Users"]
exclude = ["Break Glass Admins"]
"#;

fn config(dir: &std::path::Path, emu: &Emulator) -> std::path::PathBuf {
    let text = format!(
        "[tenant]\ntenant-id = \"{DEMO_TENANT}\"\ngraph-url = \"{url}\"\nlogin-url = \"{url}\"\n\n[tenant.auth]\nmethod = \"client-secret\"\nclient-id = \"{DEMO_CLIENT_ID}\"\nsecret-env = \"MTDHOST_KILL_TEST_SECRET\"\n{POLICIES}",
        url = emu.url()
    );
    let path = dir.join("mtdhost.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn apply(path: &std::path::Path, cache: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mtdhost"));
    c.args(["apply", "--auto-approve", "-c"])
        .arg(path)
        .env("MTDHOST_KILL_TEST_SECRET", DEMO_SECRET)
        .env("MTDHOST_CACHE_DIR", cache)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Runs to completion without blocking the runtime the emulator lives on;
/// a run that hangs fails the test instead of the test hanging.
async fn finish(mut cmd: Command) -> bool {
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("apply did not finish in 120 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn completed_writes(emu: &Emulator) -> usize {
    emu.requests().iter().filter(|r| r.is_write() && (200..300).contains(&r.status)).count()
}

async fn killed_after(k: usize, faults: &str) {
    let emu = Emulator::start(EmulatorConfig {
        // Jitter spreads the concurrent writes out, so the kill lands
        // between them rather than after a lock-step round.
        faults: format!("latency=10ms,jitter=80ms,{faults}").parse().unwrap(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &emu);
    let mut child = apply(&path, dir.path()).spawn().unwrap();
    let started = Instant::now();
    while completed_writes(&emu) < k {
        assert!(started.elapsed() < Duration::from_secs(60), "apply never reached {k} writes");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("apply ended before {k} writes: {status}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Policies are written concurrently, so mid-way can mean all four
    // created and some not yet assigned.
    let t = emu.tenant();
    let finished = t.policies.len() == 4 && t.policies.values().all(|p| p.assignments.len() == 2);
    assert!(!finished, "killed mid-way (k={k}, {} policies)", t.policies.len());

    assert!(finish(apply(&path, dir.path())).await, "the re-run succeeds (k={k})");
    let tenant = emu.tenant();
    let mut names: Vec<String> =
        tenant.policies.values().map(|p| p.properties["displayName"].as_str().unwrap().to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "MTD - Fleet - Android",
            "MTD - Fleet - Android Work Profile",
            "MTD - Fleet - iOS",
            "MTD - Fleet - macOS"
        ],
        "k={k}: converged with no duplicate"
    );
    for p in tenant.policies.values() {
        assert_eq!(p.assignments.len(), 2, "k={k}: assignments finished");
        assert_eq!(p.properties["deviceThreatProtectionRequiredSecurityLevel"], "medium");
    }

    // And a third run has nothing left to do.
    emu.clear_requests();
    assert!(finish(apply(&path, dir.path())).await);
    assert_eq!(completed_writes(&emu), 0, "k={k}: nothing left to do");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_1_3_5_writes_then_rerun_converges() {
    for k in [1, 3, 5] {
        killed_after(k, "seed=1").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_faults_then_rerun_converges() {
    for k in [1, 3, 5] {
        killed_after(k, "429=0.2,503=0.1,lose=0.1,retry-after=0.01,seed=5").await;
    }
}
