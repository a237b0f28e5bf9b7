//! Golden tests per documented export shape: every shipped partner plugin
//! runs over its `plugins/<name>/fixtures/` cases (written from the vendors'
//! documented shapes: envelopes, nested paths, integer ids, lifecycles,
//! status-only exports) through the same harness as `mtdhost plugin test`,
//! which checks both `plugin run` (one call) and `evaluate` (streamed in
//! batches) against every device's level and every diagnostic.

use std::path::{Path, PathBuf};

use mtdhost::evaluate;
use mtdhost::plugin_test::{self, Outcome};
use mtdhost::runtime::{Cache, EventBatch, LoadOptions, LoadedPlugin, PluginSource, Runtime, ThreatLevel};

fn fixtures(plugin: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins").join(plugin).join("fixtures")
}

fn loader(plugin: &str) -> impl Fn(&str) -> Result<LoadedPlugin, String> + '_ {
    move |settings: &str| -> Result<LoadedPlugin, String> {
        let rt = Runtime::new(Cache::disabled());
        let src = PluginSource::builtin(plugin).ok_or_else(|| format!("no builtin {plugin}"))?;
        rt.load(&src, &LoadOptions { settings_json: settings.into(), ..LoadOptions::default() })
            .map_err(|e| e.to_string())
    }
}

fn run_all(plugin: &str, dir: &Path) -> Vec<Outcome> {
    let cases = plugin_test::discover(dir).unwrap_or_else(|e| panic!("{plugin}: {e}"));
    cases.iter().map(|c| plugin_test::run_case(c, "{}", &loader(plugin))).collect()
}

fn assert_all_pass(plugin: &str, expected_cases: &[&str]) {
    let outcomes = run_all(plugin, &fixtures(plugin));
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, expected_cases, "{plugin}: fixture cases");
    let failures: Vec<String> =
        outcomes.iter().filter_map(|o| o.difference.as_ref().map(|d| format!("{}: {d}", o.name))).collect();
    assert!(failures.is_empty(), "{plugin}:\n{}", failures.join("\n"));
}

#[test]
fn lookout_v1_v2_sse_mixed_and_unknown_values() {
    assert_all_pass(
        "lookout",
        &["mixed-v1-v2", "unknown-values", "v1-device-status-only", "v1-threat-lifecycle", "v2-stream"],
    );
}

#[test]
fn zimperium_mtd_api_data_export_v2_and_legacy() {
    assert_all_pass("zimperium", &["data-export-v2", "legacy", "mtd-api-devices", "mtd-api-threats"]);
}

#[test]
fn jamf_threat_events_stream_and_risk_api() {
    assert_all_pass("jamf", &["risk-api-v1", "risk-api-v2", "threat-events-stream"]);
}

#[test]
fn defender_alerts_machines_and_graph_alerts_v2() {
    assert_all_pass("defender", &["alerts", "graph-alerts-v2", "machines"]);
}

#[test]
fn check_point_alerts_v3_and_device_status() {
    assert_all_pass("checkpoint", &["alerts-v3", "device-status"]);
}

/// A device-status record never counts as a threat, in any partner's
/// status-only export; and no record of those documented shapes is rejected.
#[test]
fn device_status_records_are_never_threats() {
    let cases = [
        ("lookout", "v1-device-status-only.json"),
        ("zimperium", "mtd-api-devices.json"),
        ("jamf", "risk-api-v1.json"),
        ("jamf", "risk-api-v2.json"),
        ("defender", "machines.json"),
        ("checkpoint", "device-status.json"),
    ];
    for (plugin, file) in cases {
        let p = loader(plugin)("{}").unwrap();
        let raw = std::fs::read_to_string(fixtures(plugin).join(file)).unwrap();
        let out = p.map_events(&EventBatch { raw: Some(raw), records: vec![], first_record: 1 }).unwrap();
        assert!(out.threats.is_empty(), "{plugin}/{file}: statuses read as threats: {:?}", out.threats);
        assert!(!out.statuses.is_empty(), "{plugin}/{file}");
        assert!(
            out.diagnostics.iter().all(|d| d.severity != mtdhost::runtime::DiagnosticSeverity::Error),
            "{plugin}/{file}: {:?}",
            out.diagnostics
        );
        let file = std::fs::File::open(fixtures(plugin).join(file)).unwrap();
        let ev = evaluate::evaluate(&p, file, true, Vec::new()).unwrap();
        assert_eq!((ev.threats, ev.active), (0, 0), "{plugin}: evaluate counts no threats");
    }
}

/// The lifecycle survives batch boundaries: a threat detected in the first
/// batch and resolved thousands of records later is resolved, and a stale
/// DETECTED after its RESOLVED does not revive it.
#[test]
fn lifecycle_state_spans_batches() {
    let p = loader("lookout")("{}").unwrap();
    let ev = |id: u64, t: &str, action: &str, device: &str, threat: &str| {
        format!(
            r#"{{"type":"THREAT","id":"{id}","eventTime":"{t}","changeType":"UPDATED","target":{{"type":"DEVICE","id":"{device}"}},"details":{{"id":"{threat}","action":"{action}","severity":"HIGH","type":"OS"}}}}"#
        )
    };
    let mut lines = vec![
        ev(1, "2024-01-01T00:00:00Z", "DETECTED", "keep", "k"),
        ev(2, "2024-01-01T00:00:00Z", "DETECTED", "fix", "f"),
    ];
    for i in 0..(evaluate::BATCH as u64 * 2) {
        lines.push(ev(
            10 + i,
            "2024-01-02T00:00:00Z",
            "DETECTED",
            &format!("filler-{}", i % 7),
            &format!("t{i}"),
        ));
    }
    lines.push(ev(99_998, "2024-01-03T00:00:00Z", "RESOLVED", "fix", "f"));
    lines.push(ev(99_999, "2024-01-01T12:00:00Z", "DETECTED", "fix", "f"));
    let text = lines.join("\n");
    let out = evaluate::evaluate(&p, text.as_bytes(), true, Vec::new()).unwrap();
    assert_eq!(out.devices["keep"].level, ThreatLevel::High);
    assert_eq!(out.devices["fix"].level, ThreatLevel::Secured, "{}", out.devices["fix"].reason);
    assert_eq!(out.devices["fix"].reason, "all 1 threat(s) resolved or ignored");
    assert_eq!(out.threats, 2 + evaluate::BATCH as u64 * 2);
}

/// The harness can fail: a wrong level, a missing diagnostic and an
/// unexpected device are each reported as the case's first difference.
#[test]
fn the_harness_reports_the_first_difference() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures("lookout");
    for name in ["v1-threat-lifecycle", "unknown-values", "v2-stream"] {
        let ext = if name == "v1-threat-lifecycle" { "json" } else { "jsonl" };
        std::fs::copy(src.join(format!("{name}.{ext}")), dir.path().join(format!("{name}.{ext}"))).unwrap();
    }
    let wrong_level = std::fs::read_to_string(src.join("v1-threat-lifecycle.expected.json"))
        .unwrap()
        .replace("\"medium\"", "\"high\"");
    std::fs::write(dir.path().join("v1-threat-lifecycle.expected.json"), wrong_level).unwrap();
    let mut missing: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("unknown-values.expected.json")).unwrap())
            .unwrap();
    missing["diagnostics"].as_array_mut().unwrap().pop();
    std::fs::write(dir.path().join("unknown-values.expected.json"), missing.to_string()).unwrap();
    // v2-stream has no expectation file at all.
    let outcomes = run_all("lookout", dir.path());
    let diff =
        |n: &str| outcomes.iter().find(|o| o.name == n).unwrap().difference.clone().unwrap_or_default();
    assert!(
        diff("v1-threat-lifecycle").contains("is medium, expected high"),
        "{}",
        diff("v1-threat-lifecycle")
    );
    assert!(diff("unknown-values").starts_with("unexpected diagnostic 7"), "{}", diff("unknown-values"));
    assert!(diff("v2-stream").contains("v2-stream.expected.json"), "{}", diff("v2-stream"));
}
