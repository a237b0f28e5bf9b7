//! Conditional Access end to end against the emulator: created report-only,
//! enforced only by a later, highlighted change; the lockout guard; duplicate
//! names; unmanaged policies never touched (not even by `--prune`); what the
//! client and the emulator refuse; export → plan shows no change.

use mtd_e2e::configs;
use mtd_e2e::graph::{client, emulator};
use mtdhost::emulator::{Emulator, EmulatorConfig, PORTAL_CA_POLICY};
use mtdhost::graph::GraphError;
use mtdhost::plan::{self, ChangeKind};
use serde_json::{json, Value};

const IOS_USERS: &str = "0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01";
const BREAK_GLASS: &str = "3ebc6f84-5071-4293-8da4-4f5a6b7c8d04";

const MTD_POLICY: &str = r#"
[plugins.example]
source = "builtin:example"

[[policy]]
name = "MTD"
platforms = ["ios"]
partner = "example"
max-threat-level = "medium"

[policy.assignments]
include = ["MTD - iOS Users"]
"#;

fn ca(state: &str) -> String {
    format!(
        r#"
[[conditional-access]]
name = "Require compliant device for Office 365"
apps = ["Office365"]
platforms = ["ios"]
include = ["MTD - iOS Users"]
exclude = ["Break Glass Admins"]
grant = ["compliant-device"]
{state}
"#
    )
}

fn config(dir: &std::path::Path, emu: &Emulator, owner: &str, rest: &str) -> std::path::PathBuf {
    let rest = rest.to_string();
    let path = configs::write_owned(dir, emu, owner, "");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "[tenant]\n",
        "[tenant]\nbreak-glass = [\"Break Glass Admins\"]\n",
        1,
    );
    std::fs::write(&path, format!("{text}{MTD_POLICY}{rest}")).unwrap();
    path
}

fn ca_writes(emu: &Emulator) -> Vec<mtdhost::emulator::Recorded> {
    emu.requests().into_iter().filter(|r| r.is_write() && r.path.contains("conditionalAccess")).collect()
}

fn stored(emu: &Emulator, name: &str) -> Vec<Value> {
    emu.with_tenant(|t| t.conditional_access.iter().filter(|p| p["displayName"] == name).cloned().collect())
}

async fn run(
    path: &std::path::Path,
    prune: bool,
) -> Result<(plan::Plan, plan::ApplySummary), mtdhost::prepare::JobError> {
    let p = mtdhost::prepare::prepare(path, prune).await?;
    let done = plan::apply(&p.session.client, &p.plan, &()).await.expect("apply");
    Ok((p.plan, done))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_report_only_then_turned_on_by_its_own_change_then_unchanged() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &emu, "contoso", &ca(""));

    let (p, done) = run(&path, false).await.unwrap();
    let c = &p.conditional_access[0];
    assert_eq!(c.kind, ChangeKind::Create);
    assert!(!c.enables_enforcement);
    assert_eq!(done.created, 2, "the compliance policy and the CA policy");
    let post = ca_writes(&emu);
    assert_eq!(post.len(), 1);
    assert_eq!((post[0].method.as_str(), post[0].status), ("POST", 201));
    let body = post[0].body.clone().unwrap();
    assert_eq!(body["state"], "enabledForReportingButNotEnforced", "safe by default");
    assert_eq!(body["conditions"]["users"]["includeGroups"], json!([IOS_USERS]));
    assert_eq!(body["conditions"]["users"]["excludeGroups"], json!([BREAK_GLASS]));
    assert_eq!(body["conditions"]["platforms"]["includePlatforms"], json!(["iOS"]), "Graph's spelling");
    assert_eq!(body["grantControls"], json!({"operator": "OR", "builtInControls": ["compliantDevice"]}));
    assert!(body["description"].as_str().unwrap().contains("[managed by mtdhost owner=contoso key="));
    // Compliance before the Conditional Access that enforces it.
    let log = emu.requests();
    let first_ca = log.iter().position(|r| r.path.contains("conditionalAccess") && r.is_write()).unwrap();
    let last_policy =
        log.iter().rposition(|r| r.path.contains("deviceCompliancePolicies") && r.is_write()).unwrap();
    assert!(last_policy < first_ca, "the compliance policy is written first");

    emu.clear_requests();
    let (p, _) = run(&path, false).await.unwrap();
    assert!(!p.has_changes(), "{}", plan::render_text(&p));
    assert!(ca_writes(&emu).is_empty());

    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("grant = [\"compliant-device\"]\n", "grant = [\"compliant-device\"]\nstate = \"on\"\n"),
    )
    .unwrap();
    emu.clear_requests();
    let prepared = mtdhost::prepare::prepare(&path, false).await.unwrap();
    let c = &prepared.plan.conditional_access[0];
    assert_eq!(c.kind, ChangeKind::Update);
    assert!(c.enables_enforcement);
    assert_eq!(c.settings.len(), 1, "only the state: {:?}", c.settings);
    let text = plan::render_text(&prepared.plan);
    assert!(text.contains("!! turns enforcement ON"), "{text}");
    assert_eq!(plan::render_json(&prepared.plan)["conditional_access"][0]["enables_enforcement"], true);
    plan::apply(&prepared.session.client, &prepared.plan, &()).await.unwrap();
    let patch = ca_writes(&emu);
    assert_eq!(patch.len(), 1);
    assert_eq!((patch[0].method.as_str(), patch[0].status), ("PATCH", 204));
    assert_eq!(patch[0].body.clone().unwrap(), json!({"state": "enabled"}), "only what changed");
    assert_eq!(stored(&emu, "Require compliant device for Office 365")[0]["state"], "enabled");
    assert!(!run(&path, false).await.unwrap().0.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lockout_guard_refuses_a_policy_without_a_break_glass_exclusion() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // Excludes a group, but not the break-glass one.
    let path = config(
        dir.path(),
        &emu,
        "contoso",
        &ca("").replace("exclude = [\"Break Glass Admins\"]", "exclude = [\"Executives\"]"),
    );
    let err = mtdhost::prepare::prepare(&path, false).await.err().expect("refused").to_string();
    assert!(err.contains("excludes none of the [tenant] break-glass groups"), "{err}");
    assert!(err.contains("lock every admin out"), "{err}");
    // The same group by id counts: ids and names resolve to the same group.
    let by_id =
        ca("").replace("exclude = [\"Break Glass Admins\"]", &format!("exclude = [\"{BREAK_GLASS}\"]"));
    let path = config(dir.path(), &emu, "contoso", &by_id);
    mtdhost::prepare::prepare(&path, false).await.expect("the break-glass group by id is an exclusion");
    assert!(emu.requests().iter().all(|r| !r.is_write()), "nothing was written");

    // No exclusion at all, or no break-glass configured: a config error, before any request.
    let none = ca("").replace("exclude = [\"Break Glass Admins\"]\n", "");
    let path = config(dir.path(), &emu, "contoso", &none);
    let err = mtdhost::prepare::prepare(&path, false).await.err().unwrap().to_string();
    assert!(err.contains("excludes no group") && err.contains("mtdhost.toml:"), "{err}");
    let path = configs::write_owned(dir.path(), &emu, "contoso", &format!("{MTD_POLICY}{}", ca("")));
    let err = mtdhost::prepare::prepare(&path, false).await.err().unwrap().to_string();
    assert!(err.contains("needs [tenant] break-glass"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_names_and_unmanaged_policies_stop_the_plan_and_prune_leaves_them_alone() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // A policy of the same name made in the portal: never taken over.
    let portal = |id: &str| {
        json!({"id": id, "displayName": "Require compliant device for Office 365", "description": "made by hand",
            "state": "enabled", "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}})
    };
    emu.with_tenant(|t| t.conditional_access.push(portal("c0a1b2c3-0002-4000-8000-0000000000ca")));
    let path = config(dir.path(), &emu, "contoso", &ca(""));
    let err = mtdhost::prepare::prepare(&path, false).await.err().unwrap().to_string();
    assert!(err.contains("is not managed by this config"), "{err}");
    emu.with_tenant(|t| t.conditional_access.push(portal("c0a1b2c3-0003-4000-8000-0000000000ca")));
    let err = mtdhost::prepare::prepare(&path, false).await.err().unwrap().to_string();
    assert!(err.contains("exists 2 times in the tenant"), "{err}");
    assert!(emu.requests().iter().all(|r| !r.is_write()));

    // Prune removes only this owner's own CA policy, never the portal's.
    emu.with_tenant(|t| t.conditional_access.retain(|p| p["description"] != "made by hand"));
    let path = config(dir.path(), &emu, "contoso", &ca(""));
    run(&path, false).await.unwrap();
    let path = config(dir.path(), &emu, "contoso", "");
    emu.clear_requests();
    let (p, _) = run(&path, true).await.unwrap();
    assert_eq!(p.conditional_access.len(), 1);
    assert_eq!(p.conditional_access[0].kind, ChangeKind::Delete);
    let deletes: Vec<_> = ca_writes(&emu);
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].method, "DELETE");
    let left: Vec<String> = emu.with_tenant(|t| {
        t.conditional_access.iter().map(|p| p["id"].as_str().unwrap().to_string()).collect()
    });
    assert_eq!(left, [PORTAL_CA_POLICY], "the unmanaged policy is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_without_an_mtd_policy_behind_it_is_warned_about() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &emu,
        "contoso",
        &ca("").replace("platforms = [\"ios\"]", "platforms = [\"ios\", \"android\"]"),
    );
    let p = mtdhost::prepare::prepare(&path, false).await.unwrap();
    let w = p.plan.warnings.join("\n");
    assert!(w.contains("requires a compliant device on android for group 'MTD - iOS Users'"), "{w}");
    assert!(!w.contains("on iOS for group"), "iOS has its MTD policy: {w}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_graph_would_refuse_are_refused_unsent_and_by_the_emulator() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    let good = json!({"displayName": "x", "state": "enabledForReportingButNotEnforced",
        "conditions": {"users": {"includeGroups": [IOS_USERS], "excludeGroups": [BREAK_GLASS]},
            "applications": {"includeApplications": ["Office365"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["compliantDevice"]}});
    for bad in [
        json!({"displayname": "x"}),
        json!({"state": "on"}),
        json!({"conditions": {"platforms": {"includePlatforms": ["ios"]}}}),
        json!({"conditions": {"applications": {"includeApplications": ["Office 365"]}}}),
        json!({"conditions": {"users": {"includeGroups": ["MTD - iOS Users"]}}}),
        json!({"grantControls": {"operator": "or", "builtInControls": ["compliantDevice"]}}),
    ] {
        let mut body = good.clone();
        for (k, v) in bad.as_object().unwrap() {
            body.as_object_mut().unwrap().insert(k.clone(), v.clone());
        }
        let err = c.create_ca_policy(&body).await.expect_err("refused");
        assert!(matches!(err, GraphError::Refused { .. }), "{bad}: {err}");
        // Sent anyway, the emulator refuses it too (its own schema, not the client's).
        let url = format!("{}/v1.0/identity/conditionalAccess/policies", emu.url());
        let r = c.request(reqwest::Method::POST, &url, Some(&body)).await;
        assert_eq!(r.err().and_then(|e| e.status()), Some(400), "{bad}");
    }
    // An unknown group id is a rule error from the emulator.
    let mut unknown = good.clone();
    unknown["conditions"]["users"]["includeGroups"] = json!(["00000000-0000-4000-8000-000000000000"]);
    let err = c.create_ca_policy(&unknown).await.expect_err("unknown group");
    assert_eq!(err.status(), Some(400), "{err}");
    let created = c.create_ca_policy(&good).await.expect("a valid policy");
    assert_eq!(created.raw["conditions"]["locations"], Value::Null, "unset objects are null");
    assert_eq!(created.raw["conditions"]["users"]["includeRoles"], json!([]), "unset collections are []");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_conditional_access_plans_no_change() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &emu, "contoso", &ca("state = \"on\""));
    run(&path, false).await.unwrap();
    let cfg = mtdhost::prepare::load_config(&path).unwrap();
    let session = mtdhost::session::connect(&cfg, mtd_e2e::graph::fast_options()).await.unwrap();
    let tenant: toml::Table =
        toml::from_str::<toml::Table>(&cfg.text).unwrap()["tenant"].as_table().cloned().unwrap();
    let exported = mtdhost::export::export_with(&session.client, &tenant, false, &cfg.connector_ids(), true)
        .await
        .unwrap();
    assert_eq!(exported.conditional_access, 1, "only the policy this owner manages: {}", exported.toml);
    assert!(exported.toml.contains("[[conditional-access]]"), "{}", exported.toml);
    assert!(exported.toml.contains("grant = [\"compliant-device\"]"), "{}", exported.toml);
    assert!(exported.toml.contains("state = \"on\""), "{}", exported.toml);
    let back = dir.path().join("exported.toml");
    std::fs::write(&back, &exported.toml).unwrap();
    emu.clear_requests();
    let p = mtdhost::prepare::prepare(&back, false).await.unwrap();
    assert_eq!(p.plan.conditional_access.len(), 1);
    assert!(!p.plan.has_changes(), "{}", plan::render_text(&p.plan));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_an_admin_added_in_the_portal_survives_an_update() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &emu, "contoso", &ca(""));
    run(&path, false).await.unwrap();
    let user = "5a5a5a5a-0001-4000-8000-00000000abcd";
    emu.with_tenant(|t| {
        let p = t
            .conditional_access
            .iter_mut()
            .find(|p| p["displayName"] == "Require compliant device for Office 365")
            .unwrap();
        p["conditions"]["users"]["excludeUsers"] = json!([user]);
        p["conditions"]["users"]["includeUsers"] = json!([user]);
        p["conditions"]["users"]["excludeRoles"] = json!(["62e90394-69f5-4237-9190-012177145e10"]);
        p["conditions"]["platforms"]["excludePlatforms"] = json!(["windows"]);
    });
    emu.clear_requests();
    assert!(
        !mtdhost::prepare::prepare(&path, false).await.unwrap().plan.has_changes(),
        "portal additions are not managed"
    );

    // A managed change: the users object is sent as read, with only the managed lists replaced.
    let wider = ca("")
        .replace("include = [\"MTD - iOS Users\"]", "include = [\"MTD - iOS Users\", \"Executives\"]")
        .replace("platforms = [\"ios\"]", "platforms = [\"ios\", \"android\"]");
    let path = config(dir.path(), &emu, "contoso", &wider);
    run(&path, false).await.unwrap();
    let w = ca_writes(&emu);
    assert_eq!(w.len(), 1);
    let users = &w[0].body.as_ref().unwrap()["conditions"]["users"];
    assert_eq!(users["excludeUsers"], json!([user]), "{users}");
    assert_eq!(users["includeUsers"], json!([user]), "{users}");
    let stored = &stored(&emu, "Require compliant device for Office 365")[0];
    assert_eq!(stored["conditions"]["users"]["excludeUsers"], json!([user]));
    assert_eq!(
        stored["conditions"]["users"]["excludeRoles"],
        json!(["62e90394-69f5-4237-9190-012177145e10"])
    );
    assert_eq!(stored["conditions"]["platforms"]["excludePlatforms"], json!(["windows"]));
    assert_eq!(stored["conditions"]["platforms"]["includePlatforms"], json!(["android", "iOS"]));
    assert!(!run(&path, false).await.unwrap().0.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_renamed_in_the_portal_is_not_created_twice_and_stopping_enforcement_is_highlighted() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &emu, "contoso", &ca("state = \"on\""));
    let (p, _) = run(&path, false).await.unwrap();
    assert!(p.conditional_access[0].enables_enforcement, "created enforced only because the config says on");
    assert!(plan::render_text(&p).contains("!! turns enforcement ON"));

    let path = config(dir.path(), &emu, "contoso", &ca(""));
    let prepared = mtdhost::prepare::prepare(&path, false).await.unwrap();
    assert!(prepared.plan.conditional_access[0].stops_enforcement);
    assert!(plan::render_text(&prepared.plan).contains("!! stops enforcement"));

    emu.with_tenant(|t| {
        t.conditional_access.iter_mut().for_each(|p| {
            if p["displayName"] == "Require compliant device for Office 365" {
                p["displayName"] = json!("Renamed in the portal");
            }
        })
    });
    emu.clear_requests();
    let err = mtdhost::prepare::prepare(&path, false).await.err().unwrap().to_string();
    assert!(err.contains("was renamed in the tenant to 'Renamed in the portal'"), "{err}");
    assert!(ca_writes(&emu).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_platforms_settles_after_one_apply() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let all = ca("").replace("platforms = [\"ios\"]", "platforms = [\"all\"]");
    let path = config(dir.path(), &emu, "contoso", &all);
    let (p, _) = run(&path, false).await.unwrap();
    let body = ca_writes(&emu)[0].body.clone().unwrap();
    assert_eq!(body["conditions"]["platforms"], Value::Null, "every platform: no platform condition");
    assert!(
        p.conditional_access[0].settings.iter().any(|s| s.property == "grantControls.operator"),
        "the plan shows how controls combine"
    );
    assert!(!run(&path, false).await.unwrap().0.has_changes(), "`all` is not re-planned forever");
    // A portal policy set to "Any device" reads back as includePlatforms ["all"]: the same.
    emu.with_tenant(|t| {
        let p = t
            .conditional_access
            .iter_mut()
            .find(|p| p["displayName"] == "Require compliant device for Office 365")
            .unwrap();
        p["conditions"]["platforms"] = json!({"includePlatforms": ["all"], "excludePlatforms": []});
    });
    assert!(!run(&path, false).await.unwrap().0.has_changes());
}

/// Rules plugins see the config's CA policy and the tenant's unmanaged one
/// (`tenant.conditional-access`), and once the config's policy exists it is
/// seen once, as the config's: a re-plan is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_plugins_see_conditional_access_and_tighten_what_it_enforces() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let script = r#"fn rule_ca(policies, tenant) {
    let seen = "";
    for ca in tenant.conditional_access {
        seen += `[${ca.source}: ${ca.name}: ${ca.state}: ${ca.requires_compliant_device}: ${ca.include}: ${ca.exclude}]`;
    }
    for i in 0..policies.len() {
        policies[i].description = seen;
        for ca in tenant.conditional_access {
            if ca.state != "off" && ca.requires_compliant_device && policies[i].platform in ca.platforms
                && ca.include.contains(policies[i].include[0]) {
                policies[i].max_threat_level = stricter(policies[i].max_threat_level, "low");
            }
        }
    }
    policies
}"#;
    std::fs::write(dir.path().join("rules.rhai"), script).unwrap();
    let rules = "\n[plugins.rules]\nsource = \"builtin:rules-script\"\n[plugins.rules.settings]\nscript-file = \"rules.rhai\"\n";
    let path = config(dir.path(), &emu, "contoso", &format!("{}{rules}", ca("")));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("rules = [\"rules\"]\n{text}")).unwrap();

    let (p, _) = run(&path, false).await.unwrap();
    let shown = plan::render_text(&p);
    let expected = "[config: Require compliant device for Office 365: report-only: true: [\"MTD - iOS Users\"]: [\"Break Glass Admins\"]]\
        [tenant: Require MFA for all users: report-only: false: []: [\"Break Glass Admins\"]]";
    assert!(shown.contains("max threat level: \"medium\" -> \"low\""), "{shown}");
    let written: Vec<Value> =
        emu.with_tenant(|t| t.policies.values().map(|p| p.properties["description"].clone()).collect());
    assert!(
        written.iter().any(|d| d.as_str().unwrap_or_default().starts_with(expected)),
        "the config's policy, then the portal's, groups by name: {written:?}"
    );

    // Now the config's CA policy is in the tenant too: still seen once.
    let (p, _) = run(&path, false).await.unwrap();
    assert!(!p.has_changes(), "{}", plan::render_text(&p));
}
