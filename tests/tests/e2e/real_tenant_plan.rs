//! Plans against a tenant that holds what production holds: filtered and
//! policy-set assignments kept, ownership that never prunes a portal copy
//! or another owner's policy, settings removed from the config planned back
//! to Intune's defaults, complex settings stable, and an export that plans
//! no change. Each test fails on mtdhost before issue 11.

use mtd_e2e::configs;
use mtd_e2e::graph::emulator;
use mtdhost::emulator::{Emulator, EmulatorConfig, Tenant, CORPORATE_IPHONES, OBRIEN, RD_USERS};
use mtdhost::graph::AssignmentTarget;
use mtdhost::plan::{self, ChangeKind};
use serde_json::{json, Value};

fn writes(emu: &Emulator) -> usize {
    emu.requests().iter().filter(|r| r.is_write() && (200..300).contains(&r.status)).count()
}

async fn apply(path: &std::path::Path, prune: bool) -> plan::Plan {
    let p = mtdhost::prepare::prepare(path, prune).await.unwrap_or_else(|e| panic!("{e}"));
    plan::apply(&p.session.client, &p.plan, &()).await.unwrap();
    p.plan
}

fn stored<'a>(t: &'a Tenant, name: &str) -> &'a mtdhost::emulator::StoredPolicy {
    t.ordered_policies().find(|p| p.properties["displayName"] == name).unwrap_or_else(|| panic!("{name}"))
}

const FILTERED: &str = r#"
[[policy]]
name = "MTD - iPhones"
platforms = ["ios"]
platform-suffix = false
max-threat-level = "low"

[policy.assignments]
include = [{ group = "R&D Users", filter = "Corporate iPhones", filter-mode = "include" }, "O'Brien Team"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_assignment_survives_a_group_change() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), &emu, FILTERED);
    let first = apply(&path, false).await;
    assert!(plan::render_text(&first).contains("include R&D Users (filter Corporate iPhones, include)"));

    // Another group is added; the filtered one keeps its filter.
    configs::write(
        dir.path(),
        &emu,
        &FILTERED.replace(", \"O'Brien Team\"]", ", \"O'Brien Team\", \"Executives\"]"),
    );
    let second = apply(&path, false).await;
    assert_eq!(second.count(ChangeKind::Update), 1);
    let t = emu.tenant();
    let rd =
        stored(&t, "MTD - iPhones").assignments.iter().find(|a| a["target"]["groupId"] == RD_USERS).cloned();
    let rd = rd.expect("R&D Users still assigned");
    assert_eq!(rd["target"]["deviceAndAppManagementAssignmentFilterId"], CORPORATE_IPHONES);
    assert_eq!(rd["target"]["deviceAndAppManagementAssignmentFilterType"], "include");

    // A filter the config does not mention is a planned change, not a silent drop.
    configs::write(
        dir.path(),
        &emu,
        &FILTERED.replace(
            "{ group = \"R&D Users\", filter = \"Corporate iPhones\", filter-mode = \"include\" }",
            "\"R&D Users\"",
        ),
    );
    let p = mtdhost::prepare::prepare(&path, false).await.unwrap();
    let text = plan::render_text(&p.plan);
    assert!(text.contains("- include R&D Users (filter Corporate iPhones, include)"), "{text}");
    assert!(text.contains("+ include R&D Users\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_set_assignment_is_shown_and_kept() {
    let emu = emulator(EmulatorConfig { seed: Some(Tenant::showcase()), ..EmulatorConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    // The portal policy, adopted, with its direct assignment changed.
    let path = configs::write(
        dir.path(),
        &emu,
        r#"
[[policy]]
name = "Portal – iOS corporate & BYOD"
platforms = ["ios"]
platform-suffix = false
marker = false
description = "Made in the Intune portal"
max-threat-level = "medium"
actions = [{ type = "block", grace-period-hours = 12 }]

[policy.assignments]
include = ["R&D Users"]
"#,
    );
    let p = mtdhost::prepare::prepare(&path, false).await.unwrap();
    let text = plan::render_text(&p.plan);
    assert!(
        text.contains("= include O'Brien Team (from policy set Contoso baseline – iOS, not managed)"),
        "{text}"
    );
    let c = &p.plan.changes[0];
    let a = c.assignments.as_ref().expect("the filter is dropped on purpose");
    assert!(
        a.after.iter().all(|t| t.kind != AssignmentTarget::Group(OBRIEN.into())),
        "never posted: {:?}",
        a.after
    );
    assert!(a.before.iter().all(|t| t.kind != AssignmentTarget::Group(OBRIEN.into())), "never planned away");
    plan::apply(&p.session.client, &p.plan, &()).await.unwrap();
    let t = emu.tenant();
    let from_set = stored(&t, "Portal – iOS corporate & BYOD")
        .assignments
        .iter()
        .filter(|a| a["source"] == "policySets")
        .count();
    assert_eq!(from_set, 1, "the policy-set assignment is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_only_this_owners_own_policies() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let two = r#"
[[policy]]
name = "Keep"
platforms = ["ios"]
max-threat-level = "low"

[[policy]]
name = "Gone"
platforms = ["ios"]
max-threat-level = "low"
"#;
    let write = |body: &str| configs::write_owned(dir.path(), &emu, "contoso-prod", body);
    let path = write(two);
    apply(&path, false).await;
    // A portal copy of "Gone" (same description, so same marker), another
    // owner's policy, and one with the old plain marker.
    let gone = stored(&emu.tenant(), "Gone - iOS").clone();
    emu.with_tenant(|t| {
        let mut copy = gone.clone();
        copy.properties.insert("id".into(), json!("22222222-0000-4000-8000-000000000001"));
        copy.properties.insert("displayName".into(), json!("Gone - iOS - Copy"));
        t.insert_policy("22222222-0000-4000-8000-000000000001".into(), copy);
        let mut other = gone.clone();
        other.properties.insert("id".into(), json!("22222222-0000-4000-8000-000000000002"));
        other.properties.insert("displayName".into(), json!("Fabrikam - iOS"));
        let key = mtdhost::pipeline::marker::marker(
            Some("fabrikam"),
            mtdhost::graph::schema::PolicyType::Ios,
            "Fabrikam - iOS",
        );
        other.properties.insert("description".into(), Value::String(key));
        t.insert_policy("22222222-0000-4000-8000-000000000002".into(), other);
        let mut legacy = gone.clone();
        legacy.properties.insert("id".into(), json!("22222222-0000-4000-8000-000000000003"));
        legacy.properties.insert("displayName".into(), json!("Old - iOS"));
        legacy.properties.insert("description".into(), json!("[managed by mtdhost]"));
        t.insert_policy("22222222-0000-4000-8000-000000000003".into(), legacy);
    });
    let path = write(
        &two.replace("[[policy]]\nname = \"Gone\"\nplatforms = [\"ios\"]\nmax-threat-level = \"low\"\n", ""),
    );
    let p = apply(&path, true).await;
    assert_eq!(p.count(ChangeKind::Delete), 1, "{}", plan::render_text(&p));
    let names: Vec<Value> =
        emu.tenant().ordered_policies().map(|p| p.properties["displayName"].clone()).collect();
    assert_eq!(
        names,
        vec![json!("Keep - iOS"), json!("Gone - iOS - Copy"), json!("Fabrikam - iOS"), json!("Old - iOS")]
    );
    let w = p.warnings.join("\n");
    assert!(w.contains("'Gone - iOS - Copy'") && w.contains("portal copy"), "{w}");
    assert!(w.contains("'Fabrikam - iOS'") && w.contains("owner 'fabrikam'"), "{w}");
    assert!(w.contains("'Old - iOS'") && w.contains("--adopt-owner"), "{w}");

    // --adopt-owner migrates the old plain marker: only that one is pruned.
    let adopted = mtdhost::prepare::prepare_with(&path, true, true).await.unwrap();
    let deletes: Vec<&str> = adopted
        .plan
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Delete)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(deletes, ["Old - iOS"]);

    // A config naming another owner's policy stops instead of taking it over.
    let theirs = write("\n[[policy]]\nname = \"Fabrikam\"\nplatforms = [\"ios\"]\n");
    let err = mtdhost::prepare::prepare(&theirs, false).await.err().expect("refused");
    assert!(err.to_string().contains("managed by owner 'fabrikam'"), "{err}");
    assert!(
        mtdhost::prepare::prepare_with(&theirs, false, true).await.is_ok(),
        "--adopt-owner takes it over"
    );

    // --prune without an owner refuses to plan.
    let bare = configs::write(dir.path(), &emu, "");
    let err = mtdhost::prepare::prepare(&bare, true).await.err().expect("refused");
    assert!(err.to_string().contains("--prune needs an owner"), "{err}");
}

const LEVEL: &str = r#"
[[policy]]
name = "MTD - Phones"
platforms = ["ios"]
max-threat-level = "medium"

[policy.settings]
osMinimumVersion = "17.0"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_level_and_setting_are_planned_back_to_defaults() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), &emu, LEVEL);
    apply(&path, false).await;
    configs::write(dir.path(), &emu, "\n[[policy]]\nname = \"MTD - Phones\"\nplatforms = [\"ios\"]\n");
    let p = apply(&path, false).await;
    let c = &p.changes[0];
    let after = |k: &str| c.settings.iter().find(|s| s.property == k).map(|s| s.after.clone());
    assert_eq!(after("deviceThreatProtectionEnabled"), Some(json!(false)), "{}", plan::render_text(&p));
    assert_eq!(after("deviceThreatProtectionRequiredSecurityLevel"), Some(json!("unavailable")));
    assert_eq!(after("osMinimumVersion"), Some(Value::Null));
    let t = emu.tenant();
    assert_eq!(stored(&t, "MTD - Phones - iOS").properties["deviceThreatProtectionEnabled"], false);
    emu.clear_requests();
    let again = mtdhost::prepare::prepare(&path, false).await.unwrap();
    assert!(!again.plan.has_changes(), "{}", plan::render_text(&again.plan));

    // An adopted policy (marker = false) compares only what it lists.
    configs::write(dir.path(), &emu, "\n[[policy]]\nname = \"MTD - Phones\"\nplatforms = [\"ios\"]\nmarker = false\ndescription = \"[managed by mtdhost]\"\n[policy.settings]\npasscodeRequired = false\n");
    let adopted = mtdhost::prepare::prepare(&path, false).await.unwrap();
    assert!(!adopted.plan.has_changes(), "{}", plan::render_text(&adopted.plan));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complex_settings_are_stable_on_re_plan() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(
        dir.path(),
        &emu,
        r#"
[[policy]]
name = "MTD - Windows"
platforms = ["windows"]
api = "beta"
max-threat-level = "low"

[[policy.settings.validOperatingSystemBuildRanges]]
description = "24H2"
lowestVersion = "10.0.26100.0"
highestVersion = "10.0.26100.9999"

[[policy.settings.validOperatingSystemBuildRanges]]
lowestVersion = "10.0.22631.0"
highestVersion = "10.0.22631.9999"
"#,
    );
    apply(&path, false).await;
    let echoed = stored(&emu.tenant(), "MTD - Windows - Windows").properties
        ["validOperatingSystemBuildRanges"]
        .clone();
    assert_eq!(echoed.as_array().map(Vec::len), Some(2));
    emu.clear_requests();
    let again = apply(&path, false).await;
    assert!(!again.has_changes(), "{}", plan::render_text(&again));
    assert_eq!(writes(&emu), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_of_the_demo_tenant_plans_no_change() {
    let emu = emulator(EmulatorConfig { seed: Some(Tenant::showcase()), ..EmulatorConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    // A v1.0 policy mtdhost made: Graph beta echoes roleScopeTagIds ["0"] and beta enum defaults.
    let made = configs::write(
        dir.path(),
        &emu,
        "\n[[policy]]\nname = \"MTD - Made\"\nplatforms = [\"android-work-profile\"]\nmax-threat-level = \"low\"\n",
    );
    apply(&made, false).await;
    let p = mtdhost::prepare::prepare(&made, false).await.unwrap();
    let tenant: toml::Table = toml::from_str(&configs::tenant(&emu)).unwrap();
    let exported = mtdhost::export::export(&p.session.client, tenant["tenant"].as_table().unwrap(), false)
        .await
        .unwrap();
    let text = exported.toml.clone();
    assert_eq!(exported.count, 3, "{text}");
    let made_entry = text.split("[[policy]]").find(|e| e.contains("MTD - Made")).unwrap();
    assert!(!made_entry.contains("roleScopeTagIds") && !made_entry.contains("api = "), "{made_entry}");
    assert!(
        !made_entry.contains("requiredPasswordComplexity"),
        "beta enum defaults are not settings: {made_entry}"
    );
    assert!(text.contains("filter = \"Corporate iPhones\""), "{text}");
    assert!(!text.contains("O'Brien Team"), "policy-set assignments are not the policy's own: {text}");
    let out = dir.path().join("exported.toml");
    std::fs::write(&out, &text).unwrap();
    emu.clear_requests();
    let again = mtdhost::prepare::prepare(&out, false).await.unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(!again.plan.has_changes(), "{}\n{text}", plan::render_text(&again.plan));
    plan::apply(&again.session.client, &again.plan, &()).await.unwrap();
    assert_eq!(writes(&emu), 0, "a second apply writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_warns_about_android_device_administrator() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(
        dir.path(),
        &emu,
        "\n[[policy]]\nname = \"Old\"\nplatforms = [\"android\", \"android-work-profile\"]\n",
    );
    let p = mtdhost::prepare::prepare(&path, false).await.unwrap();
    let w = &p.plan.warnings;
    assert!(w.iter().any(|w| w.contains("'Old - Android' targets Android device administrator")), "{w:?}");
    assert!(!w.iter().any(|w| w.contains("'Old - Android Work Profile'")), "{w:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contoso_applies_once_then_exports_to_a_config_that_plans_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/contoso");
    for f in ["mtdhost.toml", "rules.rhai"] {
        std::fs::copy(format!("{examples}/{f}"), dir.path().join(f)).unwrap();
    }
    let path = dir.path().join("mtdhost.toml");
    // The embedded demo tenant (with its portal-made policies) kept in the state file.
    let first = apply(&path, false).await;
    // One apply sets the connector's switches, creates the compliance
    // policies and a report-only Conditional Access policy.
    assert_eq!(first.connectors.len(), 1);
    assert_eq!(first.connectors[0].kind, plan::ChangeKind::Update, "{}", plan::render_text(&first));
    assert_eq!(first.conditional_access.len(), 1);
    assert_eq!(first.conditional_access[0].kind, plan::ChangeKind::Create);
    assert!(!first.conditional_access[0].enables_enforcement, "report-only by default");
    assert!(first.warnings.iter().all(|w| !w.contains("no MTD compliance policy")), "{:?}", first.warnings);
    let second = mtdhost::prepare::prepare(&path, false).await.unwrap();
    assert!(!second.plan.has_changes(), "{}", plan::render_text(&second.plan));

    let config = mtdhost::prepare::load_config(&path).unwrap();
    let tenant: toml::Table =
        toml::from_str::<toml::Table>(&config.text).unwrap()["tenant"].as_table().cloned().unwrap();
    let exported =
        mtdhost::export::export_with(&second.session.client, &tenant, false, &config.connector_ids(), true)
            .await
            .unwrap();
    assert_eq!((exported.connectors, exported.conditional_access), (5, 1));
    drop(second);
    let out = dir.path().join("exported.toml");
    std::fs::write(&out, &exported.toml).unwrap();
    let again =
        mtdhost::prepare::prepare(&out, false).await.unwrap_or_else(|e| panic!("{e}\n{}", exported.toml));
    assert!(!again.plan.has_changes(), "{}\n{}", plan::render_text(&again.plan), exported.toml);
}
