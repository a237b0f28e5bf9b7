//! The main job end to end: config → real plugins → plan → apply against
//! the emulator over HTTP, counting writes from the emulator's request log.

use mtd_e2e::configs;
use mtd_e2e::graph::emulator;
use mtdhost::emulator::{Emulator, EmulatorConfig, StoredPolicy};
use mtdhost::plan::{self, ChangeKind};
use serde_json::json;

const POLICIES: &str = r#"
[plugins.example]
source = "builtin:example"

[[policy]]
name = "MTD - Corporate"
description = "Corporate phones"
platforms = ["ios", "android"]
partner = "example"
max-threat-level = "medium"
actions = [
    { type = "block", grace-period-hours = 24 },
    { type = "notification", template = "MTD - Device at risk", cc = ["Executives"] },
]

[policy.platform-settings.ios]
osMinimumVersion = "17.0"

[policy.assignments]
include = ["MTD - iOS Users"]
exclude = ["Break Glass Admins"]
"#;

const IOS_USERS: &str = "0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01";
const ANDROID_USERS: &str = "1c9a4d62-3e5f-4071-8b82-2d3e4f5a6b02";
const BREAK_GLASS: &str = "3ebc6f84-5071-4293-8da4-4f5a6b7c8d04";
const EXECUTIVES: &str = "2dab5e73-4f60-4182-9c93-3e4f5a6b7c03";

async fn run(
    path: &std::path::Path,
    prune: bool,
) -> Result<(plan::Plan, plan::ApplySummary), mtdhost::prepare::JobError> {
    let p = mtdhost::prepare::prepare(path, prune).await?;
    let done = plan::apply(&p.session.client, &p.plan, &()).await.expect("apply");
    Ok((p.plan, done))
}

fn writes(emu: &Emulator) -> Vec<mtdhost::emulator::Recorded> {
    emu.requests().into_iter().filter(|r| r.is_write() && (200..300).contains(&r.status)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_apply_creates_then_nothing_changes() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), &emu, POLICIES);

    let (plan, done) = run(&path, false).await.unwrap();
    assert_eq!(plan.count(ChangeKind::Create), 2);
    assert_eq!(done.created, 2);
    let w = writes(&emu);
    assert_eq!(w.len(), 4, "two creates and two assigns");
    let create = w
        .iter()
        .find(|r| r.method == "POST" && r.body.as_ref().unwrap()["displayName"] == "MTD - Corporate - iOS")
        .unwrap();
    let body = create.body.clone().unwrap();
    assert_eq!(create.path, "/v1.0/deviceManagement/deviceCompliancePolicies");
    assert_eq!(body["@odata.type"], "#microsoft.graph.iosCompliancePolicy");
    assert_eq!(body["description"], "Corporate phones [managed by mtdhost]");
    assert_eq!(body["deviceThreatProtectionEnabled"], true);
    assert_eq!(body["deviceThreatProtectionRequiredSecurityLevel"], "medium");
    assert_eq!(body["osMinimumVersion"], "17.0");
    let configs = &body["scheduledActionsForRule"][0]["scheduledActionConfigurations"];
    assert_eq!(
        configs[0],
        json!({"actionType": "block", "gracePeriodHours": 24, "notificationTemplateId": "", "notificationMessageCCList": []})
    );
    assert_eq!(configs[1]["actionType"], "notification");
    assert_eq!(configs[1]["notificationTemplateId"], "a1b2c3d4-0001-4000-8000-000000000001");
    assert_eq!(configs[1]["notificationMessageCCList"], json!([EXECUTIVES]));
    let android = w
        .iter()
        .find(|r| {
            r.method == "POST" && r.body.as_ref().unwrap()["displayName"] == "MTD - Corporate - Android"
        })
        .unwrap();
    assert!(
        android.body.as_ref().unwrap().get("osMinimumVersion").is_none(),
        "platform settings stay on their platform"
    );
    let assign = w.iter().find(|r| r.path.ends_with("/assign")).unwrap();
    assert_eq!(
        assign.body.clone().unwrap(),
        json!({"assignments": [
            {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": IOS_USERS}},
            {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": BREAK_GLASS}},
        ]})
    );

    emu.clear_requests();
    let (plan, done) = run(&path, false).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan::render_text(&plan));
    assert_eq!(done.writes, 0);
    assert_eq!(writes(&emu).len(), 0, "a second apply makes zero writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_level_is_one_patch_and_a_changed_group_list_one_assign() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), &emu, POLICIES);
    run(&path, false).await.unwrap();

    configs::write(
        dir.path(),
        &emu,
        &POLICIES.replace(r#"max-threat-level = "medium""#, r#"max-threat-level = "low""#),
    );
    emu.clear_requests();
    let (plan, _) = run(&path, false).await.unwrap();
    assert_eq!(plan.count(ChangeKind::Update), 2);
    let w = writes(&emu);
    assert_eq!(w.len(), 2, "one PATCH per policy and nothing else: {w:?}");
    for r in &w {
        assert_eq!(r.method, "PATCH");
        let body = r.body.clone().unwrap();
        assert_eq!(body.as_object().unwrap().len(), 2, "only @odata.type and the changed level: {body}");
        assert_eq!(body["deviceThreatProtectionRequiredSecurityLevel"], "low");
    }

    let with_android_group = POLICIES.replace(
        r#"include = ["MTD - iOS Users"]"#,
        r#"include = ["MTD - iOS Users", "MTD - Android Users"]"#,
    );
    configs::write(
        dir.path(),
        &emu,
        &with_android_group.replace(r#"max-threat-level = "medium""#, r#"max-threat-level = "low""#),
    );
    emu.clear_requests();
    let (plan, _) = run(&path, false).await.unwrap();
    let text = plan::render_text(&plan);
    assert!(text.contains("+ include MTD - Android Users"), "{text}");
    assert!(text.contains("= include MTD - iOS Users"), "{text}");
    let w = writes(&emu);
    assert_eq!(w.len(), 2, "one /assign per policy");
    for r in &w {
        assert!(r.path.ends_with("/assign"));
        let targets = r.body.as_ref().unwrap()["assignments"].as_array().unwrap().len();
        assert_eq!(targets, 3, "the full set, not just the addition");
    }
    let tenant = emu.tenant();
    assert!(tenant.policies.values().all(|p| p.assignments.len() == 3));
    let _ = ANDROID_USERS;
}

fn unmanaged(emu: &Emulator, name: &str) {
    emu.with_tenant(|t| {
        let id = uuid_like(name);
        let mut props = serde_json::Map::new();
        props.insert("@odata.type".into(), json!("#microsoft.graph.iosCompliancePolicy"));
        props.insert("id".into(), json!(id));
        props.insert("displayName".into(), json!(name));
        props.insert("description".into(), json!("made in the portal"));
        props.insert("version".into(), json!(1));
        t.insert_policy(
            id,
            StoredPolicy {
                properties: props,
                actions: vec![json!({"actionType": "block", "gracePeriodHours": 0})],
                assignments: vec![],
            },
        );
    });
}

fn uuid_like(seed: &str) -> String {
    let h = seed.bytes().fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64));
    format!("{:08x}-0000-4000-8000-{:012x}", h as u32, h & 0xffff_ffff_ffff)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_policies_are_deleted_only_with_prune_and_only_if_managed() {
    let emu = emulator(EmulatorConfig::default()).await;
    unmanaged(&emu, "Portal policy - iOS");
    let dir = tempfile::tempdir().unwrap();
    // --prune needs an owner (issue 11: a global marker let one config prune another's policies).
    let path = configs::write_owned(dir.path(), &emu, "e2e", POLICIES);
    run(&path, false).await.unwrap();

    // Drop Android from the config.
    configs::write_owned(
        dir.path(),
        &emu,
        "e2e",
        &POLICIES.replace(r#"platforms = ["ios", "android"]"#, r#"platforms = ["ios"]"#),
    );
    emu.clear_requests();
    let (plan, _) = run(&path, false).await.unwrap();
    assert!(!plan.has_changes());
    assert!(
        plan.warnings.iter().any(|w| w.contains("'MTD - Corporate - Android'") && w.contains("--prune")),
        "{:?}",
        plan.warnings
    );
    assert_eq!(writes(&emu).len(), 0, "without --prune nothing is deleted");

    let (plan, done) = run(&path, true).await.unwrap();
    assert_eq!(plan.count(ChangeKind::Delete), 1);
    assert_eq!(done.deleted, 1);
    let names: Vec<String> = emu
        .tenant()
        .policies
        .values()
        .map(|p| p.properties["displayName"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"Portal policy - iOS".to_string()), "unmanaged policies are never deleted");
    assert!(!names.contains(&"MTD - Corporate - Android".to_string()));
    assert_eq!(names.len(), 2);
}

async fn assert_stops_before_writing(emu: &Emulator, rest: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), emu, rest);
    emu.clear_requests();
    let err = match mtdhost::prepare::prepare(&path, true).await {
        Ok(_) => panic!("expected the run to stop"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(needle), "{err}");
    assert_eq!(writes(emu).len(), 0, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_unknown_groups_and_failing_plugins_stop_before_any_write() {
    let emu = emulator(EmulatorConfig::default()).await;
    unmanaged(&emu, "MTD - Corporate - iOS");
    emu.with_tenant(|t| {
        let mut p = t.policies.values().next().unwrap().clone();
        p.properties.insert("id".into(), json!("99999999-0000-4000-8000-000000000001"));
        t.insert_policy("99999999-0000-4000-8000-000000000001".into(), p);
    });
    assert_stops_before_writing(&emu, POLICIES, "exists 2 times in the tenant (ids").await;

    let emu = emulator(EmulatorConfig::default()).await;
    assert_stops_before_writing(
        &emu,
        &POLICIES.replace("MTD - iOS Users", "No Such Group"),
        "group 'No Such Group' was not found",
    )
    .await;
    assert_stops_before_writing(
        &emu,
        &POLICIES.replace("MTD - iOS Users", "Contractors"),
        "group name 'Contractors' is ambiguous",
    )
    .await;
    assert_stops_before_writing(
        &emu,
        &POLICIES.replace("MTD - Device at risk", "Nope"),
        "notification template 'Nope' was not found",
    )
    .await;

    // A plugin whose settings it rejects, and one that panics while translating.
    let bad_settings = POLICIES.replace(
        "source = \"builtin:example\"",
        "source = \"builtin:example\"\nsettings = { overrides = { TROJAN = \"severe\" } }",
    );
    assert_stops_before_writing(&emu, &bad_settings, "overrides.TROJAN").await;
    let hostile = mtd_e2e::plugin_path("mtd-test-hostile");
    let panicking = format!(
        "[plugins.hostile]\nsource = {:?}\nsettings = {{ behaviour = \"panic\" }}\n\n[[policy]]\nname = \"X\"\nplatforms = [\"ios\"]\npartner = \"hostile\"\nmax-threat-level = \"ELEVATED\"\n",
        hostile.display().to_string()
    );
    assert_stops_before_writing(&emu, &panicking, "panicked: \"cannot translate ELEVATED").await;
    assert!(emu.tenant().policies.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_under_throttling_and_unavailability() {
    // The dice follow the order of requests; with this seed some of the
    // first apply's own requests (not only items inside a `$batch`, whose
    // faults the request log does not show) are answered 429 or 503.
    let faults = "429=0.2,503=0.1,retry-after=0.01,seed=7".parse().unwrap();
    let emu = emulator(EmulatorConfig { faults, ..EmulatorConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), &emu, POLICIES);
    run(&path, false).await.unwrap();
    assert!(emu.requests().iter().any(|r| r.fault.is_some()));
    let (plan, _) = run(&path, false).await.unwrap();
    assert!(!plan.has_changes());
    assert_eq!(emu.tenant().policies.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_warns_when_the_partner_connector_is_not_enabled() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // This connector is "available" (not enabled) and enabled for Android only.
    let path = configs::write(
        dir.path(),
        &emu,
        &POLICIES.replace(
            "[plugins.example]",
            "[tenant.connectors]\nexample = \"7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d\"\n\n[plugins.example]",
        ),
    );
    let p = mtdhost::prepare::prepare(&path, false).await.unwrap();
    let w = &p.plan.warnings;
    assert!(
        w.iter()
            .any(|w| w.contains("'MTD - Corporate - iOS': the example connector is available, not enabled")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|w| w.contains("'MTD - Corporate - iOS': the example connector is not enabled for iOS")),
        "{w:?}"
    );
    assert!(!w.iter().any(|w| w.contains("not enabled for Android")), "{w:?}");
    assert!(mtdhost::plan::render_text(&p.plan).contains("warning: 'MTD - Corporate - iOS'"));
}
