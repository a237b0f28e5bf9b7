//! `export` writes what exists as config; a plan on the export shows no change.

use mtd_e2e::configs;
use mtd_e2e::graph::emulator;
use mtdhost::emulator::{EmulatorConfig, StoredPolicy};
use serde_json::json;

const POLICIES: &str = r#"
[plugins.example]
source = "builtin:example"

[[policy]]
name = "MTD - Corporate"
description = "Corporate phones"
platforms = ["ios", "android", "android-device-owner"]
api = "beta"
max-threat-level = "low"
actions = [
    { type = "block", grace-period-hours = 24 },
    { type = "notification", template = "MTD - Device at risk", cc = ["Executives"] },
    { type = "remote-lock", grace-period-hours = 48 },
]

[policy.platform-settings.ios]
osMinimumVersion = "17.0"
passcodeMinimumLength = 6
osMinimumBuildVersion = "21A329"

[policy.assignments]
include = ["MTD - iOS Users", "8301b4d9-a5c6-47e8-92f9-9eafb0c1d209"]
exclude = ["Break Glass Admins"]
all-devices = true
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_config_plans_no_change() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), &emu, POLICIES);
    let p = mtdhost::prepare::prepare(&path, false).await.unwrap();
    mtdhost::plan::apply(&p.session.client, &p.plan, &()).await.unwrap();
    // A policy made in the portal: no marker, MTD level set.
    emu.with_tenant(|t| {
        let mut props = serde_json::Map::new();
        for (k, v) in [
            ("@odata.type", json!("#microsoft.graph.androidWorkProfileCompliancePolicy")),
            ("id", json!("12345678-0000-4000-8000-000000000abc")),
            ("displayName", json!("Portal - Work Profile")),
            ("description", json!("made by hand")),
            ("deviceThreatProtectionEnabled", json!(true)),
            ("deviceThreatProtectionRequiredSecurityLevel", json!("medium")),
            ("storageRequireEncryption", json!(true)),
            ("version", json!(3)),
        ] {
            props.insert(k.into(), v);
        }
        let actions = vec![json!({"id": "a", "actionType": "block", "gracePeriodHours": 0, "notificationTemplateId": "00000000-0000-0000-0000-000000000000", "notificationMessageCCList": []})];
        t.insert_policy("12345678-0000-4000-8000-000000000abc".into(), StoredPolicy { properties: props, actions, assignments: vec![] });
    });

    let exported = mtdhost::export::export(
        &p.session.client,
        &toml::from_str::<toml::Table>(&configs::tenant(&emu)).unwrap()["tenant"].as_table().unwrap().clone(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(exported.count, 4, "{}", exported.toml);
    assert!(exported.toml.contains("name = \"Portal - Work Profile\""));
    assert!(exported.toml.contains("marker = false"), "the hand-made policy keeps its description");
    assert!(
        exported.toml.contains("\"8301b4d9-a5c6-47e8-92f9-9eafb0c1d209\""),
        "an ambiguous group name is exported as its id"
    );
    // Graph lists in no promised order (the emulator by random id); the
    // export is sorted by name so it diffs cleanly in version control.
    let doc: toml::Table = toml::from_str(&exported.toml).unwrap();
    let names: Vec<&str> =
        doc["policy"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "{}", exported.toml);
    let out = dir.path().join("exported.toml");
    std::fs::write(&out, &exported.toml).unwrap();

    emu.clear_requests();
    let again = mtdhost::prepare::prepare(&out, false).await.unwrap();
    assert!(!again.plan.has_changes(), "{}", mtdhost::plan::render_text(&again.plan));
    assert_eq!(again.plan.changes.len(), 4);
    assert!(emu.requests().iter().all(|r| !r.is_write() || r.status == 0 || r.path.ends_with("$batch")));
}
