//! The plugin author's CLI, run as a real process: `mtdhost plugin
//! inspect|check|run|precompile` on the shipped example plugin, and the
//! one-line errors for bad arguments and bad files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn mtdhost(args: &[&str], cache: &Path) -> Run {
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_mtdhost"))
        .args(args)
        .env("MTDHOST_CACHE_DIR", cache)
        .env_remove("RUST_LOG")
        .output()
        .expect("mtdhost runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/events")
}

fn one_line_error(r: &Run) {
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "expected one line, got: {}", r.stderr);
    assert!(r.stderr.starts_with("mtdhost: "), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn inspect_text_and_json() {
    let cache = tempfile::tempdir().unwrap();
    let r = mtdhost(&["plugin", "inspect", "builtin:example"], cache.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("name:         example\n"));
    assert!(r.stdout.contains("capabilities: threat-mapping\n"));
    assert!(r.stdout.contains("contract:     mtd:plugin 0.2.1\n"));

    let r = mtdhost(&["plugin", "inspect", "builtin:example", "--output", "json"], cache.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["name"], "example");
    assert_eq!(v["contract_version"], "0.2.1");
    assert_eq!(v["capabilities"][0], "threat-mapping");
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn check_reports_every_settings_problem() {
    let cache = tempfile::tempdir().unwrap();
    let good = examples().join("example-settings.toml");
    let r =
        mtdhost(&["plugin", "check", "builtin:example", "--settings", good.to_str().unwrap()], cache.path());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("settings are valid for example 0.1.0"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[overrides]\nTROJAN = \"severe\"\nADWARE = \"low\"\nSPY = \"critical\"\n").unwrap();
    let r =
        mtdhost(&["plugin", "check", "builtin:example", "--settings", bad.to_str().unwrap()], cache.path());
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("error: overrides.TROJAN: 'severe' is not a level"), "{}", r.stdout);
    assert!(r.stdout.contains("error: overrides.SPY: 'critical' is not a level"), "{}", r.stdout);
    assert!(r.stdout.contains("2 error(s) in settings for example 0.1.0"));

    std::fs::write(&bad, "overides = {}\n").unwrap();
    let r =
        mtdhost(&["plugin", "check", "builtin:example", "--settings", bad.to_str().unwrap()], cache.path());
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("unknown field `overides`"), "{}", r.stdout);

    std::fs::write(&bad, "[overrides]\nTROJAN = \n").unwrap();
    let r =
        mtdhost(&["plugin", "check", "builtin:example", "--settings", bad.to_str().unwrap()], cache.path());
    assert_eq!(r.code, 1);
    one_line_error(&r);
    assert!(r.stderr.contains("bad.toml: line 2, column"), "{}", r.stderr);
}

#[test]
fn run_prints_per_device_levels() {
    let cache = tempfile::tempdir().unwrap();
    let events = examples().join("example.jsonl");
    let r =
        mtdhost(&["plugin", "run", "builtin:example", "--events", events.to_str().unwrap()], cache.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("DEVICE"));
    let level = |device: &str| {
        let line = lines.iter().find(|l| l.starts_with(device)).unwrap_or_else(|| panic!("{device} missing"));
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    assert_eq!(level("iphone-ceo"), "high");
    assert_eq!(level("pixel-sales-7"), "medium", "the resolved high threat does not count");
    assert_eq!(level("ipad-warehouse"), "secured");
    assert_eq!(level("galaxy-ops-2"), "high", "an unknown severity fails closed");
    assert!(r.stdout.contains("warning: T-1006: 'severe' is not a severity of example"));

    let settings = examples().join("example-settings.toml");
    let r = mtdhost(
        &[
            "plugin",
            "run",
            "builtin:example",
            "--events",
            events.to_str().unwrap(),
            "--settings",
            settings.to_str().unwrap(),
            "--output",
            "json",
        ],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let galaxy = v["devices"].as_array().unwrap().iter().find(|d| d["device_id"] == "galaxy-ops-2").unwrap();
    assert_eq!(galaxy["level"], "medium", "the override applies");
    assert_eq!(v["threats"].as_array().unwrap().len(), 6);
}

#[test]
fn precompile_fills_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("c");
    let r = mtdhost(
        &["plugin", "precompile", "builtin:example", "--cache-dir", dir.to_str().unwrap()],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("builtin:example: compiled and cached"), "{}", r.stdout);
    let r = mtdhost(
        &["plugin", "precompile", "builtin:example", "--cache-dir", dir.to_str().unwrap()],
        cache.path(),
    );
    assert!(r.stdout.contains("builtin:example: already cached"), "{}", r.stdout);
}

#[test]
fn bad_arguments_and_files_give_one_line_errors() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wasm");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, b"this is not wasm at all").unwrap();

    let wrong_pin = "ab".repeat(32);
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["plugin", "inspect"], 64, "required"),
        (vec!["plugin", "frobnicate"], 64, "unrecognized subcommand"),
        (vec!["plugin", "inspect", "builtin:example", "--output", "yaml"], 64, "invalid value 'yaml'"),
        (vec!["plugin", "inspect", "/no/such/plugin.wasm"], 1, "cannot read plugin /no/such/plugin.wasm"),
        (vec!["plugin", "inspect", "builtin:nope"], 1, "no builtin plugin named 'nope'"),
        (vec!["plugin", "inspect", empty.to_str().unwrap()], 1, "is an empty file"),
        (vec!["plugin", "inspect", text.to_str().unwrap()], 1, "is not a WebAssembly file"),
        (
            vec!["plugin", "run", "builtin:example", "--events", "/no/events.json"],
            1,
            "cannot read events file",
        ),
        (vec!["plugin", "inspect", "builtin:example", "--sha256", &wrong_pin], 1, "refusing to load it"),
        (
            vec!["plugin", "inspect", "builtin:example", "--trusted-key", "RWQ"],
            1,
            "cannot read signature file builtin:example.minisig",
        ),
        (
            vec!["plugin", "inspect", "builtin:example", "--memory-mib", "0"],
            1,
            "memory-mib = 0 is out of range",
        ),
    ];
    for (args, code, needle) in cases {
        let r = mtdhost(&args, cache.path());
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        one_line_error(&r);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn help_explains_each_command() {
    let cache = tempfile::tempdir().unwrap();
    let r = mtdhost(&["plugin", "--help"], cache.path());
    assert_eq!(r.code, 0);
    for sub in ["inspect", "check", "run", "precompile"] {
        assert!(r.stdout.contains(sub), "{}", r.stdout);
    }
    let r = mtdhost(&["plugin", "run", "--help"], cache.path());
    assert!(r.stdout.contains("JSON Lines"), "{}", r.stdout);
    assert!(r.stdout.contains("builtin:NAME"), "{}", r.stdout);
}

/// `mtdhost emulator` as a newcomer uses it: start it, get a token, list policies.
#[test]
fn emulator_starts_and_answers_a_token_and_a_policy_list() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtdhost"))
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("emulator starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, policies) = rt.block_on(async {
        let http = reqwest::Client::new();
        let form = [
            ("client_id", mtdhost::emulator::DEMO_CLIENT_ID),
            ("client_secret", mtdhost::emulator::DEMO_SECRET),
            ("scope", &format!("{url}/.default")),
            ("grant_type", "client_credentials"),
        ];
        let token: serde_json::Value = http
            .post(format!("{url}/{}/oauth2/v2.0/token", mtdhost::emulator::DEMO_TENANT))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let resp = http
            .get(format!("{url}/v1.0/deviceManagement/deviceCompliancePolicies"))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<serde_json::Value>().await.unwrap())
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
    // The demo tenant holds two policies made in the portal (issue 11).
    let names: Vec<&str> =
        policies["value"].as_array().unwrap().iter().filter_map(|p| p["displayName"].as_str()).collect();
    assert_eq!(names, ["Portal – iOS corporate & BYOD", "Portal - Windows 11 builds"], "{policies}");
}

#[test]
fn emulator_help_explains_how_to_use_it() {
    let cache = tempfile::tempdir().unwrap();
    let r = mtdhost(&["emulator", "--help"], cache.path());
    assert_eq!(r.code, 0);
    for needle in ["--listen", "--state", "--faults", "graph-url", "login-url"] {
        assert!(r.stdout.contains(needle), "{needle} missing from: {}", r.stdout);
    }
    let r = mtdhost(&["emulator", "--faults", "429=7"], cache.path());
    assert_eq!(r.code, 1);
    one_line_error(&r);
    assert!(r.stderr.contains("a rate is a number from 0 to 1"));
}

fn evaluate_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/evaluate/mtdhost.toml")
}

#[test]
fn evaluate_shows_levels_verdicts_and_a_summary() {
    let cache = tempfile::tempdir().unwrap();
    let cfg = evaluate_config();
    let events = examples().join("zimperium.json");
    let args = [
        "evaluate",
        "-c",
        cfg.to_str().unwrap(),
        "--partner",
        "zimperium",
        "--events",
        events.to_str().unwrap(),
    ];
    let r = mtdhost(&args, cache.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = |d: &str| {
        r.stdout.lines().find(|l| l.starts_with(d)).unwrap_or_else(|| panic!("{d}: {}", r.stdout)).to_string()
    };
    assert!(row("zim-android-01").contains("high") && row("zim-android-01").contains("NONCOMPLIANT"));
    assert!(row("zim-iphone-03").contains("low") && row("zim-iphone-03").contains("compliant"));
    assert!(row("zim-iphone-04").contains("secured"));
    assert!(r.stdout.contains("3 of 5 devices would become noncompliant under 'MTD - Zimperium - Android' (at or under low required) and so would be blocked (report-only) from Office365 by 'Require compliant device for Office 365'."), "{}", r.stdout);
    assert!(
        row("zim-android-01").ends_with(
            "→ would be blocked (report-only) from Office365 by 'Require compliant device for Office 365'"
        ),
        "{}",
        row("zim-android-01")
    );
    assert!(!row("zim-iphone-03").contains("blocked"), "compliant devices are not blocked");

    let mut csv_args = args.to_vec();
    csv_args.extend(["--output", "csv"]);
    let r = mtdhost(&csv_args, cache.path());
    assert!(
        r.stdout.starts_with("device_id,level,active_threats,threats,MTD - Zimperium - Android,reason\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("zim-android-02,medium,1,UNKNOWN SOURCES ON")
            || r.stdout.contains("zim-android-02,medium,1,z-1002"),
        "{}",
        r.stdout
    );

    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&mtdhost(&json_args, cache.path()).stdout).unwrap();
    assert_eq!(v["policies"][0]["noncompliant"], 3);
    assert_eq!(
        v["policies"][0]["enforced_by"],
        serde_json::json!([{"policy": "Require compliant device for Office 365", "apps": ["Office365"], "enforced": false}])
    );
    assert_eq!(v["devices"].as_array().unwrap().len(), 5);
}

#[test]
fn evaluate_reports_malformed_records_and_strict_stops_on_them() {
    let cache = tempfile::tempdir().unwrap();
    let cfg = evaluate_config();
    let events = examples().join("lookout-v2.jsonl");
    let base = [
        "evaluate",
        "-c",
        cfg.to_str().unwrap(),
        "--partner",
        "lookout",
        "--events",
        events.to_str().unwrap(),
    ];
    let r = mtdhost(&base, cache.path());
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("error: record 5 (line 5): not valid JSON"), "{}", r.stdout);
    let mut strict = base.to_vec();
    strict.push("--strict");
    let r = mtdhost(&strict, cache.path());
    assert_eq!(r.code, 1);
    one_line_error(&r);
    assert!(r.stderr.contains("record 4 (line 4)") && r.stderr.contains("--strict"), "{}", r.stderr);

    let r = mtdhost(
        &["evaluate", "-c", cfg.to_str().unwrap(), "--events", events.to_str().unwrap()],
        cache.path(),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("several mapping plugins") && r.stderr.contains("--partner"), "{}", r.stderr);
}

#[test]
fn validate_checks_scripts_without_touching_the_tenant() {
    let cache = tempfile::tempdir().unwrap();
    let contoso = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/contoso/mtdhost.toml");
    let r = mtdhost(&["validate", "-c", contoso.to_str().unwrap()], cache.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("the tenant was not contacted"));
    assert!(r.stdout.contains("note: rule require ios 17 (contoso-rules)"), "{}", r.stdout);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.rhai"),
        "// rules\nfn rule_x(policies, tenant) {\n    let = 1;\n    policies\n}\n",
    )
    .unwrap();
    let cfg = dir.path().join("mtdhost.toml");
    std::fs::write(
        &cfg,
        "rules = [\"r\"]\n[tenant]\nemulator = {}\n[plugins.r]\nsource = \"builtin:rules-script\"\n[plugins.r.settings]\nscript-file = \"rules.rhai\"\n",
    )
    .unwrap();
    let r = mtdhost(&["validate", "-c", cfg.to_str().unwrap()], cache.path());
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("rules.rhai:3:9: syntax error"), "{}", r.stderr);
    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, "script-file = \"rules.rhai\"\n").unwrap();
    let r = mtdhost(
        &["plugin", "check", "builtin:rules-script", "--settings", settings.to_str().unwrap()],
        cache.path(),
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("error: script: rules.rhai:3:9: syntax error"), "{}", r.stdout);
}

#[test]
fn half_configured_integrity_stops_validate_plan_and_apply() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mtdhost.toml");
    std::fs::write(
        &cfg,
        "[tenant]\nemulator = {}\n\n[plugins.mine]\nsource = \"builtin:example\"\n\
         trusted-keys = [\"RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\"]\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    for args in
        [vec!["validate", "-c", cfg], vec!["plan", "-c", cfg], vec!["apply", "-c", cfg, "--auto-approve"]]
    {
        let r = mtdhost(&args, dir.path());
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        one_line_error(&r);
        assert!(r.stderr.contains("mtdhost.toml:6:"), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("trusted-keys without a signature"), "{args:?}: {}", r.stderr);
    }
    assert!(!dir.path().join(".mtdhost-tenant.json").exists(), "nothing was applied");
}
