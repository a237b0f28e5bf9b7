//! The sandbox's guarantees, measured on the real binary: for each class of
//! hostile plugin, `mtdhost` ends within the deadline plus a margin, keeps
//! its peak memory and what it writes to stderr bounded, and says what
//! happened in one line naming the plugin, its version and the limit.
//!
//! The hostile plugins (`tests/plugins/*`) are built from source on first
//! use, into the same place the end-to-end tests build them.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const DEADLINE_MS: u64 = 500;
const MARGIN: Duration = Duration::from_secs(1);
const MAX_RSS_MIB: u64 = 200;
const MAX_STDERR: usize = 1 << 20;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ is in the workspace").to_path_buf()
}

/// Builds the test-only plugins once per test binary.
fn test_plugin(package: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let crates = plugin_build::discover(&workspace().join("tests/plugins")).expect("test plugins listed");
        plugin_build::build(&workspace(), &crates).expect("test plugins build")
    });
    dir.join(format!("{}.wasm", package.replace('-', "_")))
}

struct Measured {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    stderr_bytes: usize,
    wall: Duration,
    peak_rss_mib: u64,
}

/// Runs mtdhost with stdout and stderr piped (so not a terminal), reaping
/// it with wait4 to read its own peak RSS.
// The child is reaped by wait4 below, not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measure(args: &[&str], cache: &Path) -> Measured {
    // One measured process at a time: timings are of mtdhost, not of the
    // other tests in this binary competing for the same cores.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtdhost"))
        .args(args)
        .env("MTDHOST_CACHE_DIR", cache)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mtdhost starts");
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    // Count every byte, keep only the first MiB.
    let err_reader = std::thread::spawn(move || {
        let (mut kept, mut total, mut buf) = (Vec::new(), 0usize, vec![0u8; 64 << 10]);
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
            if kept.len() < MAX_STDERR {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        (kept, total)
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet reaped; the pointers are valid.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let wall = started.elapsed();
    let stdout = out_reader.join().expect("stdout reader");
    let (stderr, stderr_bytes) = err_reader.join().expect("stderr reader");
    let status = std::process::ExitStatus::from_raw(status);
    Measured {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        stderr_bytes,
        wall,
        // ru_maxrss is in KiB on Linux.
        peak_rss_mib: (usage.ru_maxrss as u64).div_ceil(1024),
    }
}

fn settings(dir: &Path, behaviour: &str) -> PathBuf {
    let path = dir.join(format!("{behaviour}.toml"));
    std::fs::write(&path, format!("behaviour = \"{behaviour}\"\n")).expect("write settings");
    path
}

fn events(dir: &Path) -> PathBuf {
    let path = dir.join("events.json");
    std::fs::write(&path, "[]").expect("write events");
    path
}

/// The bounds every hostile run must keep, and the one line it must print.
fn assert_bounded(m: &Measured, what: &str, expected: &str) {
    assert_eq!(m.code, Some(1), "{what}: exit code; stderr: {}", m.stderr);
    let limit = Duration::from_millis(DEADLINE_MS) + MARGIN;
    assert!(m.wall <= limit, "{what}: took {:?}, over {limit:?}", m.wall);
    assert!(m.peak_rss_mib <= MAX_RSS_MIB, "{what}: peak RSS {} MiB", m.peak_rss_mib);
    assert!(m.stderr_bytes <= MAX_STDERR, "{what}: wrote {} bytes to stderr", m.stderr_bytes);
    let last = m.stderr.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("mtdhost: "), "{what}: last line {last:?}");
    assert!(last.contains(expected), "{what}: {last:?} lacks {expected:?}");
    assert!(!m.stderr.contains("panicked at"), "{what}: {}", m.stderr);
    assert!(!m.stderr.contains('\u{1b}'), "{what}: escape codes on a non-terminal stderr");
}

fn run_hostile(dir: &Path, cache: &Path, behaviour: &str) -> Measured {
    let wasm = test_plugin("mtd-test-hostile");
    let deadline = DEADLINE_MS.to_string();
    let settings = settings(dir, behaviour);
    let events = events(dir);
    measure(
        &[
            "plugin",
            "run",
            wasm.to_str().expect("utf-8 path"),
            "--events",
            events.to_str().expect("utf-8 path"),
            "--settings",
            settings.to_str().expect("utf-8 path"),
            "--deadline-ms",
            &deadline,
        ],
        cache,
    )
}

/// Compiles the plugin into the cache first, so timings measure the call.
fn warm(cache: &Path, package: &str) {
    let wasm = test_plugin(package);
    let m = measure(&["plugin", "precompile", wasm.to_str().expect("utf-8 path")], cache);
    assert_eq!(m.code, Some(0), "precompile {package}: {}", m.stderr);
}

#[test]
fn waiting_plugins_return_control_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    warm(&cache, "mtd-test-hostile");
    for behaviour in ["sleep", "poll", "poll-forever"] {
        let m = run_hostile(dir.path(), &cache, behaviour);
        assert_bounded(&m, behaviour, "plugin hostile 6.6.6 (map-events): plugins may not sleep");
    }
    let m = run_hostile(dir.path(), &cache, "sleep-at-load");
    assert_bounded(&m, "sleep-at-load", "plugin hostile 6.6.6 (validate-settings): plugins may not sleep");
}

#[test]
fn floods_are_bounded_in_time_memory_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    warm(&cache, "mtd-test-hostile");
    for behaviour in ["log-flood", "stderr-flood", "control-flood"] {
        let m = run_hostile(dir.path(), &cache, behaviour);
        assert_bounded(&m, behaviour, "plugin hostile 6.6.6 (map-events): ran past its 500 ms deadline");
        assert!(m.stderr.contains("more lines"), "{behaviour}: no count of dropped lines: {}", m.stderr);
        eprintln!(
            "{behaviour}: {:?}, peak RSS {} MiB, {} bytes on stderr",
            m.wall, m.peak_rss_mib, m.stderr_bytes
        );
    }
}

#[test]
fn oversized_results_are_refused_before_they_are_copied() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    warm(&cache, "mtd-test-hostile");
    let m = run_hostile(dir.path(), &cache, "aliased-output");
    assert_bounded(
        &m,
        "aliased-output",
        "plugin hostile 6.6.6 (map-events): tried to return more data than its 16 MiB output cap allows",
    );

    warm(&cache, "mtd-test-huge-info");
    let wasm = test_plugin("mtd-test-huge-info");
    let m = measure(&["plugin", "inspect", wasm.to_str().expect("utf-8 path")], &cache);
    assert_bounded(&m, "huge info", "(info): described itself in more than 64 KiB; refused while copying");
    assert!(m.stderr_bytes < 4096, "huge info: {} bytes on stderr", m.stderr_bytes);
    assert!(m.stdout.is_empty());
}

#[test]
fn nothing_a_plugin_writes_reaches_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let wasm = test_plugin("mtd-test-escape-info");
    let m = measure(&["plugin", "inspect", wasm.to_str().expect("utf-8 path")], &cache);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    for text in [&m.stdout, &m.stderr] {
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(!text.contains('\u{202e}') && !text.contains('\u{200b}'), "{text:?}");
    }
    assert!(m.stdout.contains("name:         escape\n"), "{}", m.stdout);
    assert!(m.stdout.contains("description:  Says nothing  mtdhost: all plugins verified\n"), "{}", m.stdout);

    let m = run_hostile(dir.path(), &cache, "impostor");
    assert_eq!(m.code, Some(1));
    assert!(!m.stderr.chars().any(|c| c.is_control() && c != '\n'), "{:?}", m.stderr);
    let lines: Vec<&str> = m.stderr.lines().collect();
    // The plugin's warning is a log line tagged with its name; its error is
    // quoted inside mtdhost's one-line message. Neither starts a line of its own.
    assert!(lines.iter().all(|l| !l.starts_with("plan OK") && !l.starts_with("Apply complete")), "{lines:?}");
    assert!(m.stderr.contains(r#"returned an error: " Apply complete!txt.exe forged""#), "{}", m.stderr);
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe() returns.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: closing the read end we own; every write to the pipe now fails with EPIPE.
    unsafe { libc::close(fds[0]) };
    // SAFETY: fds[1] is an open descriptor we own; Stdio takes ownership.
    let stdout = unsafe { <Stdio as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
    let out = Command::new(env!("CARGO_BIN_EXE_mtdhost"))
        .args(["plugin", "inspect", "builtin:example", "--output", "json"])
        .env("MTDHOST_CACHE_DIR", dir.path())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("mtdhost runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
