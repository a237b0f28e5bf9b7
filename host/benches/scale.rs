//! Tenant-scale benchmark: the real `mtdhost` binary against the emulator
//! seeded with N policies (mixed platforms, 1–3 group assignments, some
//! filtered, some exclusions; see `emulator::scale`), with a fixed latency
//! on every Graph request. For each N it reports HTTP requests (counted from
//! the emulator's request log, token included), wall time and the process's
//! peak RSS for `export`, a no-op `plan` and a one-change `apply`; for the
//! cold sizes, a cold `apply` of N creates under Intune's write limit
//! (emulator throttle 100 writes / 20 s, `[tenant] write-limit = 100`)
//! against the bound writes ÷ 100 × 20 s.
//!
//! ```sh
//! cargo bench -p mtdhost --bench scale                        # N = 50, 500, 5000; cold 50, 500
//! cargo bench -p mtdhost --bench scale -- --sizes 500 --cold none --latency 20ms
//! MTDHOST_BENCH_WRAP=heaptrack cargo bench -p mtdhost --bench scale -- --sizes 5000 --cold none --runs 1
//! ```
//!
//! `MTDHOST_BENCH_WRAP` runs each `mtdhost` under that program (a profiler);
//! the RSS column then measures the wrapper, so use it to find memory, not
//! to report it.
//!
//! Results and method: BENCHMARKS.md.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mtdhost::emulator::{
    raise_policy_7, scale_policies, Emulator, EmulatorConfig, Tenant, DEMO_CLIENT_ID, DEMO_SECRET,
    DEMO_TENANT,
};
use mtdhost::graph::ClientOptions;
use mtdhost::graph::PaceLimit;
use mtdhost::prepare::{prepare_opts, PrepareOptions};

const SECRET_ENV: &str = "MTDHOST_BENCH_SECRET";

struct Args {
    sizes: Vec<usize>,
    cold: Vec<usize>,
    latency: String,
    runs: usize,
}

fn parse_sizes(v: &str) -> Vec<usize> {
    if v == "none" {
        return Vec::new();
    }
    v.split(',').map(|s| s.trim().parse().expect("sizes are numbers, e.g. 50,500")).collect()
}

fn args() -> Args {
    let mut a = Args { sizes: vec![50, 500, 5000], cold: vec![50, 500], latency: "20ms".into(), runs: 3 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sizes" => a.sizes = parse_sizes(&it.next().expect("--sizes N,N")),
            "--cold" => a.cold = parse_sizes(&it.next().expect("--cold N,N|none")),
            "--latency" => a.latency = it.next().expect("--latency 20ms"),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            // cargo bench passes --bench; anything else is cargo's business.
            _ => {}
        }
    }
    a
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    wall: Duration,
    peak_rss_mib: f64,
}

/// The peak RSS of a running process so far (`VmHWM`), in KiB; None once
/// it has exited. Unlike `ru_maxrss` — which keeps the high-water mark of
/// the memory a child shared with this (large) benchmark process before
/// `exec` — `VmHWM` belongs to the program's own address space.
fn high_water_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs the mtdhost binary; its peak RSS is sampled from `/proc` every
/// 2 ms until it exits (the high-water mark only grows, so the last sample
/// is the peak unless it grew in its last 2 ms).
fn mtdhost(args: &[&str], cache: &Path) -> Run {
    let started = Instant::now();
    let wrap = std::env::var("MTDHOST_BENCH_WRAP").ok();
    let mut cmd = match &wrap {
        Some(w) => {
            let mut c = Command::new(w);
            c.arg(env!("CARGO_BIN_EXE_mtdhost"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_mtdhost")),
    };
    let mut child = cmd
        .args(args)
        .env(SECRET_ENV, DEMO_SECRET)
        .env("MTDHOST_CACHE_DIR", cache)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mtdhost starts");
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let pid = child.id();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while let Some(kib) = high_water_kib(pid) {
            peak = peak.max(kib);
            std::thread::sleep(Duration::from_millis(2));
        }
        peak
    });
    let status = child.wait().expect("mtdhost ends");
    let wall = started.elapsed();
    Run {
        code: status.code(),
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
        wall,
        peak_rss_mib: sampler.join().expect("sampler") as f64 / 1024.0,
    }
}

fn config(dir: &Path, emu: &Emulator, n: usize) -> PathBuf {
    let path = dir.join("mtdhost.toml");
    let text = format!(
        "[tenant]\ntenant-id = \"{DEMO_TENANT}\"\ngraph-url = \"{url}\"\nlogin-url = \"{url}\"\n\
         owner = \"scale\"\nwrite-limit = 100\n\n[tenant.auth]\nmethod = \"client-secret\"\n\
         client-id = \"{DEMO_CLIENT_ID}\"\nsecret-env = \"{SECRET_ENV}\"\n\n{}",
        scale_policies(n),
        url = emu.url()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Fills the tenant through mtdhost itself (in process, unpaced, no latency).
async fn seed(path: &Path) {
    std::env::set_var(SECRET_ENV, DEMO_SECRET);
    let client = ClientOptions {
        pace: PaceLimit { max: 1_000_000, window: Duration::from_secs(1) },
        max_in_flight: 8,
        ..ClientOptions::default()
    };
    let p = prepare_opts(path, &PrepareOptions { client: Some(client), ..PrepareOptions::default() })
        .await
        .expect("seeding plan");
    mtdhost::plan::apply(&p.session.client, &p.plan, &()).await.expect("seeding apply");
}

struct Row {
    n: usize,
    work: &'static str,
    requests: usize,
    seconds: f64,
    rss: f64,
    note: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `args` `runs` times; requests of the last run, median wall time and RSS.
fn measured(emu: &Emulator, args: &[&str], cache: &Path, runs: usize) -> (usize, f64, f64, Run) {
    let (mut walls, mut rss) = (Vec::new(), Vec::new());
    let mut last = None;
    let mut requests = 0;
    for _ in 0..runs.max(1) {
        emu.clear_requests();
        let r = mtdhost(args, cache);
        assert_eq!(r.code, Some(0), "mtdhost {args:?} failed:\n{}\n{}", r.stdout, r.stderr);
        requests = emu.requests().len();
        walls.push(r.wall.as_secs_f64());
        rss.push(r.peak_rss_mib);
        last = Some(r);
    }
    (requests, median(walls), median(rss), last.expect("ran at least once"))
}

async fn steady(n: usize, a: &Args, rows: &mut Vec<Row>) {
    let emu = Emulator::start(EmulatorConfig { seed: Some(Tenant::scale()), ..EmulatorConfig::default() })
        .await
        .expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), &emu, n);
    let seeding = Instant::now();
    seed(&path).await;
    eprintln!("N = {n}: seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    emu.set_faults(format!("latency={}", a.latency).parse().expect("latency"));
    let cache = dir.path().join("cache");
    let cfg = path.to_str().expect("utf-8 path");
    let out = dir.path().join("export.toml");
    let out = out.to_str().expect("utf-8 path");

    let (requests, seconds, rss, _) = tokio::task::block_in_place(|| {
        measured(&emu, &["export", "-c", cfg, "--output", out], &cache, a.runs)
    });
    rows.push(Row { n, work: "export", requests, seconds, rss, note: String::new() });

    let (requests, seconds, rss, run) =
        tokio::task::block_in_place(|| measured(&emu, &["plan", "-c", cfg], &cache, a.runs));
    assert!(run.stdout.contains("No changes"), "the seeded tenant plans as no change:\n{}", run.stdout);
    rows.push(Row { n, work: "no-op plan", requests, seconds, rss, note: String::new() });

    let changed =
        raise_policy_7(&std::fs::read_to_string(&path).expect("config")).expect("policy 7 at level low");
    std::fs::write(&path, changed).expect("config");
    let (requests, seconds, rss, run) =
        tokio::task::block_in_place(|| measured(&emu, &["apply", "-c", cfg, "--auto-approve"], &cache, 1));
    let writes = emu.requests().iter().filter(|r| r.is_write()).count();
    assert!(run.stdout.contains("1 updated"), "{}", run.stdout);
    rows.push(Row { n, work: "one-change apply", requests, seconds, rss, note: format!("{writes} write") });
}

async fn cold(n: usize, a: &Args, rows: &mut Vec<Row>) {
    let faults = format!("latency={},throttle=100/20s", a.latency);
    let emu = Emulator::start(EmulatorConfig {
        seed: Some(Tenant::scale()),
        faults: faults.parse().expect("faults"),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), &emu, n);
    let cache = dir.path().join("cache");
    let cfg = path.to_str().expect("utf-8 path");
    let (requests, seconds, rss, _) =
        tokio::task::block_in_place(|| measured(&emu, &["apply", "-c", cfg, "--auto-approve"], &cache, 1));
    let log = emu.requests();
    let writes = log.iter().filter(|r| r.is_write()).count();
    let throttled = log.iter().filter(|r| r.status == 429).count();
    // The issue's bound: writes ÷ limit × window.
    let bound = writes as f64 / 100.0 * 20.0;
    rows.push(Row {
        n,
        work: "cold apply",
        requests,
        seconds,
        rss,
        note: format!(
            "{writes} writes, {throttled} × 429; bound {bound:.0} s → {:.3}× the bound",
            if bound > 0.0 { seconds / bound } else { f64::NAN }
        ),
    });
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    let mut rows = Vec::new();
    rt.block_on(async {
        for &n in &a.sizes {
            steady(n, &a, &mut rows).await;
        }
        for &n in &a.cold {
            cold(n, &a, &mut rows).await;
        }
    });
    println!(
        "latency {} per request, page size 100, median of {} runs (applies: 1 run)\n",
        a.latency, a.runs
    );
    println!("| N | work | HTTP requests | ⌈N/100⌉+4 | wall time | peak RSS | notes |");
    println!("|---:|---|---:|---:|---:|---:|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.3} s | {:.1} MiB | {} |",
            r.n,
            r.work,
            r.requests,
            r.n.div_ceil(100) + 4,
            r.seconds,
            r.rss,
            r.note
        );
    }
    let rss = |n: usize| rows.iter().filter(|r| r.n == n && r.work == "no-op plan").map(|r| r.rss).next();
    if let (Some(small), Some(large)) =
        (a.sizes.first().and_then(|&n| rss(n)), a.sizes.last().and_then(|&n| rss(n)))
    {
        println!("\npeak RSS of a no-op plan, largest N ÷ smallest N: {:.2}×", large / small);
    }
    // The issue's reference: IntuneCD 2.6.0 at N = 500, 20 ms.
    for (work, intunecd) in [("export", 1.98), ("no-op plan", 3.23)] {
        if let Some(r) = rows.iter().find(|r| r.n == 500 && r.work == work) {
            println!(
                "{work} at N = 500: {:.1}× faster than IntuneCD 2.6.0's {intunecd} s",
                intunecd / r.seconds
            );
        }
    }
}
