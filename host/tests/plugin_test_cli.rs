//! `mtdhost plugin test` and `mtdhost evaluate` as real processes over the
//! shipped partner plugins' golden fixtures (`plugins/<name>/fixtures/`).

use std::path::{Path, PathBuf};

const PARTNERS: &[&str] = &["lookout", "zimperium", "jamf", "defender", "checkpoint"];

fn fixtures(plugin: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins").join(plugin).join("fixtures")
}

fn mtdhost(args: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mtdhost"))
        .args(args)
        .env("MTDHOST_CACHE_DIR", cache.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("mtdhost runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `mtdhost plugin test` passes the shipped plugins' fixtures and fails,
/// with a non-zero exit, on a broken one.
#[test]
fn plugin_test_command_over_shipped_fixtures() {
    for plugin in PARTNERS {
        let dir = fixtures(plugin);
        let (code, stdout, stderr) =
            mtdhost(&["plugin", "test", &format!("builtin:{plugin}"), dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{plugin}: {stdout}{stderr}");
        assert!(stdout.starts_with("CASE"), "{stdout}");
        assert!(stdout.contains(" 0 failed"), "{stdout}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures("jamf").join("risk-api-v1.json"), dir.path().join("r.json")).unwrap();
    std::fs::write(dir.path().join("r.expected.json"), r#"{"devices":{"nope":"high"}}"#).unwrap();
    let (code, stdout, _) = mtdhost(&["plugin", "test", "builtin:jamf", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL") && stdout.contains("device nope missing"), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

/// `mtdhost evaluate` shows a device whose threats were all resolved as
/// secured, with the reason, and never counts a status as a threat.
#[test]
fn evaluate_shows_secured_devices_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mtdhost.toml");
    std::fs::write(
        &cfg,
        "[tenant]\nemulator = {}\n\n[plugins.lookout]\nsource = \"builtin:lookout\"\n\n[[policy]]\nname = \"MTD\"\nplatforms = [\"ios\", \"android\"]\npartner = \"lookout\"\nmax-threat-level = \"LOW\"\n",
    )
    .unwrap();
    let events = fixtures("lookout").join("mixed-v1-v2.jsonl");
    let (code, stdout, stderr) = mtdhost(&[
        "evaluate",
        "-c",
        cfg.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let device =
        |id: &str| v["devices"].as_array().unwrap().iter().find(|d| d["device_id"] == id).cloned().unwrap();
    let m = device("22222222-bbbb-4ccc-8ddd-000000000001");
    assert_eq!(m["level"], "secured");
    assert_eq!(m["reason"], "device status SECURE (secured); all 1 threat(s) resolved or ignored");
    assert_eq!(m["policies"][0]["compliant"], true);
    assert_eq!(v["threats"], 2, "two distinct threats, the status records are not threats");
    assert_eq!(v["device_statuses"], 2);
    let (_, text, _) =
        mtdhost(&["evaluate", "-c", cfg.to_str().unwrap(), "--events", events.to_str().unwrap()]);
    assert!(
        text.contains("- — device status SECURE (secured); all 1 threat(s) resolved or ignored"),
        "{text}"
    );
}
