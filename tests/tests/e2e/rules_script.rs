//! Scripted compliance rules: real Rhai scripts through the real
//! rules-script plugin in the host — the example rules, every kind of script
//! failure, the tighten-only rule, and a plan that shows what each rule did.

use std::path::{Path, PathBuf};

use mtd_e2e::configs;
use mtd_e2e::graph::emulator;
use mtdhost::config::Config;
use mtdhost::emulator::EmulatorConfig;
use mtdhost::pipeline::{self, DesiredPolicy};
use mtdhost::runtime::{Cache, Runtime, ThreatLevel};

const POLICIES: &str = r#"
[plugins.rules]
source = "builtin:rules-script"

[plugins.rules.settings]
script-file = "rules.rhai"

[[policy]]
name = "Execs"
platforms = ["ios"]
max-threat-level = "low"
[policy.assignments]
include = ["Executives"]

[[policy]]
name = "Fleet"
platforms = ["android-device-owner", "android-work-profile"]
api = "beta"
max-threat-level = "high"

[[policy]]
name = "Mac"
platforms = ["macos"]
"#;

fn write(dir: &Path, top: &str, script: &str) -> PathBuf {
    std::fs::write(dir.join("rules.rhai"), script).unwrap();
    let path = dir.join("mtdhost.toml");
    std::fs::write(&path, format!("rules = [\"rules\"]\n{top}\n[tenant]\nemulator = {{}}\n{POLICIES}"))
        .unwrap();
    path
}

fn build(dir: &Path, top: &str, script: &str) -> Result<Vec<DesiredPolicy>, String> {
    let path = write(dir, top, script);
    let config = Config::load(&path).map_err(|e| e.to_string())?;
    let rt = Runtime::new(Cache::disabled());
    let empty = pipeline::TenantView::offline();
    pipeline::build(&config, &rt, &empty).map(|d| d.policies).map_err(|e| e.to_string())
}

fn example_script() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/contoso/rules.rhai")).unwrap()
}

fn find<'a>(ps: &'a [DesiredPolicy], name: &str) -> &'a DesiredPolicy {
    ps.iter().find(|p| p.display_name == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn the_example_rules_do_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let ps = build(dir.path(), "", &example_script()).unwrap();
    let execs = find(&ps, "Execs - iOS");
    assert_eq!(execs.max_level, Some(ThreatLevel::Secured), "executives' iPhones must be secured");
    assert_eq!(execs.settings["osMinimumVersion"], "17.0", "iOS 17 on every MTD policy");
    assert!(
        ps.iter().all(|p| p.assignments.exclude == vec!["Break Glass Admins".to_string()]),
        "break-glass excluded everywhere"
    );
    assert_eq!(find(&ps, "Fleet - Android Device Owner").max_level, Some(ThreatLevel::Medium));
    assert_eq!(find(&ps, "Fleet - Android Work Profile").max_level, Some(ThreatLevel::Low));
    assert!(!find(&ps, "Mac - macOS").settings.contains_key("osMinimumVersion"));
    let notes = &execs.notes;
    assert!(
        notes.iter().any(|n| n.starts_with(
            "rule executives iphones secured (rules): max threat level: \"low\" -> \"secured\""
        )),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("rule require ios 17") && n.contains("osMinimumVersion")),
        "{notes:?}"
    );
}

#[test]
fn syntax_errors_have_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        build(dir.path(), "", "fn rule_x(policies, tenant) {\n    let a = ;\n    policies\n}\n").unwrap_err();
    assert!(err.contains("rules.rhai:2:13: syntax error"), "{err}");
}

#[test]
fn runtime_errors_have_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let script = "fn rule_x(policies, tenant) {\n    if policies.len() > 0 {\n        throw \"no policy may be named Execs\";\n    }\n    policies\n}\n";
    let err = build(dir.path(), "", script).unwrap_err();
    assert!(err.contains("rules.rhai:3:9: in rule_x: failed: no policy may be named Execs"), "{err}");
    let err = build(
        dir.path(),
        "",
        "fn rule_x(policies, tenant) {\n    policies[0].nope.deeper = 1;\n    policies\n}\n",
    )
    .unwrap_err();
    assert!(err.contains("rules.rhai:2:"), "{err}");
}

#[test]
fn a_runaway_script_hits_the_operation_limit() {
    let dir = tempfile::tempdir().unwrap();
    let err = build(dir.path(), "", "fn rule_spin(policies, tenant) {\n    loop { }\n    policies\n}\n")
        .unwrap_err();
    assert!(
        err.contains("rules.rhai") && err.contains("in rule_spin: ran past its limit of 2000000 operations"),
        "{err}"
    );
}

#[test]
fn with_a_huge_operation_budget_the_wasm_deadline_still_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "", "fn rule_spin(policies, tenant) {\n    loop { }\n    policies\n}\n");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "script-file = \"rules.rhai\"",
        "script-file = \"rules.rhai\"\nmax-operations = 1000000000000\n\n[plugins.rules.limits]\ndeadline-ms = 300",
    );
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let empty = pipeline::TenantView::offline();
    let err = pipeline::build(&config, &Runtime::new(Cache::disabled()), &empty).err().unwrap().to_string();
    assert!(err.contains("plugin rules-script 0.1.0 (apply-rules): ran past its 300 ms deadline"), "{err}");
}

#[test]
fn a_huge_allocation_hits_the_data_limits() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        "fn rule_grow(policies, tenant) {\n    let s = \"x\";\n    loop { s += s; }\n    policies\n}\n";
    let err = build(dir.path(), "", script).unwrap_err();
    assert!(err.contains("built data over the script limits"), "{err}");
    let script =
        "fn rule_grow(policies, tenant) {\n    let a = [];\n    a.pad(50000000, 0);\n    policies\n}\n";
    let err = build(dir.path(), "", script).unwrap_err();
    assert!(err.contains("built data over the script limits") || err.contains("memory limit"), "{err}");
}

#[test]
fn rules_may_only_tighten_unless_the_config_allows_relaxing() {
    let dir = tempfile::tempdir().unwrap();
    let relax = "fn rule_relax(policies, tenant) {\n    for i in 0..policies.len() { policies[i].max_threat_level = \"high\"; }\n    policies\n}\n";
    let err = build(dir.path(), "", relax).unwrap_err();
    assert!(
        err.contains("tried to relax 'Execs - iOS' from low to high")
            && err.contains("rules-may-relax = true"),
        "{err}"
    );
    let drop_level = "fn rule_drop(policies, tenant) {\n    for i in 0..policies.len() { policies[i].max_threat_level = (); }\n    policies\n}\n";
    assert!(build(dir.path(), "", drop_level).unwrap_err().contains("to no requirement"));
    let dropped = "fn rule_drop(policies, tenant) {\n    []\n}\n";
    assert!(build(dir.path(), "", dropped).unwrap_err().contains("dropped policy"));
    let ps = build(dir.path(), "rules-may-relax = true", relax).unwrap();
    assert_eq!(find(&ps, "Execs - iOS").max_level, Some(ThreatLevel::High));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_policy_for_an_unknown_group_is_caught_before_any_write() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let script = r#"fn rule_add(policies, tenant) {
    policies.push(#{ name: "Added by rule - iOS", platform: "ios", max_threat_level: "medium",
        include: ["Ghost Group"], exclude: [], actions: [#{ type: "block", grace_period_hours: 0 }] });
    policies
}
"#;
    std::fs::write(dir.path().join("rules.rhai"), script).unwrap();
    // Only the Execs policy (and the rules plugin) from the shared config.
    let execs_only = POLICIES.split("[[policy]]\nname = \"Fleet\"").next().unwrap();
    let path = configs::write(dir.path(), &emu, execs_only);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("rules = [\"rules\"]\n{text}")).unwrap();
    let err = match mtdhost::prepare::prepare(&path, false).await {
        Ok(_) => panic!("must stop"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("policy 'Added by rule - iOS'") && err.contains("group 'Ghost Group' was not found"),
        "{err}"
    );
    assert!(emu.requests().iter().all(|r| !r.is_write() || r.path.ends_with("$batch")), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_shows_which_rule_changed_what() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.rhai"), example_script()).unwrap();
    let path = configs::write(dir.path(), &emu, POLICIES);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("rules = [\"rules\"]\n{text}")).unwrap();
    let p = mtdhost::prepare::prepare(&path, false).await.unwrap();
    let shown = mtdhost::plan::render_text(&p.plan);
    assert!(
        shown.contains(
            "note: rule executives iphones secured (rules): max threat level: \"low\" -> \"secured\""
        ),
        "{shown}"
    );
    assert!(
        shown.contains("note: rule android fleets (rules): max threat level: \"high\" -> \"medium\""),
        "{shown}"
    );
    assert!(shown.contains("deviceThreatProtectionRequiredSecurityLevel: \"secured\""), "{shown}");
}
