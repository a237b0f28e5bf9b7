//! The lockout guard's second half: in a delegated session (device code) a
//! change that enforces a Conditional Access policy on the signed-in admin
//! stops the plan; excluding a group the admin is in (or the admin's id in the
//! tenant's copy), leaving the policy report-only, or a policy already
//! enforced as planned lets it through; an app-only session has no admin.

use std::sync::Arc;

use mtd_e2e::configs;
use mtd_e2e::graph::{client, client_with, demo_secret, emulator, endpoints, fast_options};
use mtdhost::emulator::{Emulator, EmulatorConfig, DEMO_ADMIN, DEMO_ADMIN_UPN, DEMO_CLIENT_ID, DEMO_TENANT};
use mtdhost::graph::auth::{Credential, DeviceCodePrompt, TokenProvider};
use mtdhost::graph::GraphClient;
use mtdhost::plan::{self, PlanError, PlanOptions};
use secrecy::ExposeSecret;

const BREAK_GLASS: &str = "3ebc6f84-5071-4293-8da4-4f5a6b7c8d04";

fn config(dir: &std::path::Path, emu: &Emulator, state: &str, exclude: &str) -> std::path::PathBuf {
    config_including(dir, emu, state, "\"MTD - iOS Users\"", exclude)
}

fn config_including(
    dir: &std::path::Path,
    emu: &Emulator,
    state: &str,
    include: &str,
    exclude: &str,
) -> std::path::PathBuf {
    let path = configs::write_owned(dir, emu, "contoso", "");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "[tenant]\n",
        "[tenant]\nbreak-glass = [\"Break Glass Admins\"]\n",
        1,
    );
    let ca = format!(
        r#"
[[conditional-access]]
name = "Require compliant device & 'no' exceptions"
apps = ["Office365"]
platforms = ["ios"]
include = [{include}]
exclude = [{exclude}]
grant = ["compliant-device"]
state = "{state}"
"#
    );
    std::fs::write(&path, format!("{text}{ca}")).unwrap();
    path
}

/// A client signed in as the demo admin through the device code flow.
fn signed_in_admin(emu: &Arc<Emulator>) -> GraphClient {
    let e = emu.clone();
    let prompt = Box::new(move |p: &DeviceCodePrompt| {
        assert!(e.decide_device_code(&p.user_code, true));
    });
    let cred =
        Credential::DeviceCode { tenant: DEMO_TENANT.into(), client_id: DEMO_CLIENT_ID.into(), prompt };
    client_with(emu, cred, fast_options())
}

async fn plan_with(client: &GraphClient, path: &std::path::Path) -> Result<plan::Plan, PlanError> {
    let config = mtdhost::config::Config::load(path).unwrap();
    let rt = mtd_e2e::runtime();
    let desired = mtdhost::pipeline::build(&config, &rt, &mtdhost::pipeline::TenantView::offline()).unwrap();
    let options = PlanOptions {
        owner: Some("contoso".into()),
        connector_ids: config.connector_ids(),
        ..PlanOptions::default()
    };
    let ca = Some(desired.conditional_access.as_slice());
    plan::compute_all(client, &desired.policies, &desired.connectors, ca, "emulator", &options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enforced_policy_that_applies_to_the_signed_in_admin_stops_the_plan() {
    let emu = Arc::new(emulator(EmulatorConfig::default()).await);
    let dir = tempfile::tempdir().unwrap();
    let admin = signed_in_admin(&emu);

    // The admin is in "MTD - iOS Users", not in "Break Glass Admins".
    let path = config(dir.path(), &emu, "on", "\"Break Glass Admins\"");
    let err = plan_with(&admin, &path).await.expect_err("must stop");
    let text = err.to_string();
    let expected = format!(
        "conditional access policy 'Require compliant device & 'no' exceptions' would be enforced on you, the signed-in admin {DEMO_ADMIN_UPN}: it includes you through group 'MTD - iOS Users'"
    );
    assert!(text.contains(&expected), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    let asked = emu.requests();
    let check = asked.iter().find(|r| r.path.ends_with("/me/checkMemberGroups")).expect("membership asked");
    let ids = check.body.as_ref().unwrap()["groupIds"].as_array().unwrap().len();
    assert_eq!(ids, 2, "the include and exclude groups, nothing else: {:?}", check.body);
    assert!(asked.iter().all(|r| !r.is_write() || r.path.ends_with("checkMemberGroups")), "zero writes");

    // Report-only cannot lock anyone out: no membership question, a plan.
    emu.clear_requests();
    let path = config(dir.path(), &emu, "report-only", "\"Break Glass Admins\"");
    let p = plan_with(&admin, &path).await.unwrap();
    assert_eq!(p.conditional_access.len(), 1);
    assert!(emu.requests().iter().all(|r| !r.path.contains("/me")), "not even /me");

    // The admin joins the break-glass group: excluded, so the plan goes on.
    emu.with_tenant(|t| t.members.entry(BREAK_GLASS.into()).or_default().push(DEMO_ADMIN.into()));
    let path = config(dir.path(), &emu, "on", "\"Break Glass Admins\"");
    plan_with(&admin, &path).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_only_session_has_no_admin_to_lock_out() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &emu, "on", "\"Break Glass Admins\"");
    let p = plan_with(&client(&emu), &path).await.unwrap();
    assert_eq!(p.conditional_access.len(), 1);
    assert!(emu.requests().iter().all(|r| !r.path.contains("/me")), "a client secret is app-only: not asked");

    // A token obtained elsewhere may be either: Graph's 400 on /me says app-only.
    let tokens = TokenProvider::new(demo_secret(), endpoints(&emu), mtdhost::graph::http_client().unwrap());
    let token = tokens.token().await.unwrap();
    let bearer =
        client_with(&emu, Credential::Bearer(token.expose_secret().to_string().into()), fast_options());
    emu.clear_requests();
    plan_with(&bearer, &path).await.unwrap();
    let me: Vec<_> = emu.requests().into_iter().filter(|r| r.path.contains("/me")).collect();
    assert_eq!(me.len(), 1, "asked once who is signed in");
    assert_eq!(me[0].status, 400, "Graph's answer to /me with an app-only token");
}

/// Apply with the app-only pipeline identity.
async fn apply_app_only(emu: &Emulator, path: &std::path::Path) {
    let c = client(emu);
    let p = plan_with(&c, path).await.unwrap();
    plan::apply(&c, &p, &()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_changes_are_checked_and_the_tenants_user_exclusions_count() {
    let emu = Arc::new(emulator(EmulatorConfig::default()).await);
    let dir = tempfile::tempdir().unwrap();
    let admin = signed_in_admin(&emu);
    let path = config(dir.path(), &emu, "on", "\"Break Glass Admins\"");
    apply_app_only(&emu, &path).await;

    // Enforced already, with these groups: nothing new is enforced on anyone.
    emu.clear_requests();
    let p = plan_with(&admin, &path).await.unwrap();
    assert!(!p.has_changes(), "{}", plan::render_text(&p));
    assert!(emu.requests().iter().all(|r| !r.path.ends_with("checkMemberGroups")), "no membership question");

    // Adding a group is a change: checked, and the admin is still included.
    let wider = config_including(
        dir.path(),
        &emu,
        "on",
        "\"MTD - iOS Users\", \"Executives\"",
        "\"Break Glass Admins\"",
    );
    let err = plan_with(&admin, &wider).await.expect_err("must stop").to_string();
    assert!(err.contains("through group 'MTD - iOS Users'"), "{err}");

    // The tenant's copy excludes the admin by id (upper-case, as some tools write it).
    emu.with_tenant(|t| {
        for p in t
            .conditional_access
            .iter_mut()
            .filter(|p| p["displayName"] == "Require compliant device & 'no' exceptions")
        {
            p["conditions"]["users"]["excludeUsers"] = serde_json::json!([DEMO_ADMIN.to_ascii_uppercase()]);
        }
    });
    plan_with(&admin, &wider).await.expect("the admin is excluded by id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_is_asked_twenty_groups_at_a_time() {
    let emu = Arc::new(emulator(EmulatorConfig::default()).await);
    let dir = tempfile::tempdir().unwrap();
    let extra: Vec<(String, String)> = (0..21)
        .map(|i| (format!("0000{i:04}-1111-4111-8111-111111111111"), format!("Extra {i:02} & 'Ops'")))
        .collect();
    emu.with_tenant(|t| {
        for (id, name) in &extra {
            t.groups.push(serde_json::json!({"id": id, "displayName": name, "securityEnabled": true, "mailEnabled": false}));
        }
        t.members.insert(extra[20].0.clone(), vec![DEMO_ADMIN.into()]);
    });
    let include: Vec<String> = extra.iter().map(|(_, n)| format!("\"{n}\"")).collect();
    let path = config_including(dir.path(), &emu, "on", &include.join(", "), "\"Break Glass Admins\"");
    let err = plan_with(&signed_in_admin(&emu), &path).await.expect_err("must stop").to_string();
    assert!(err.contains("through group 'Extra 20 & 'Ops''"), "{err}");
    let checks: Vec<_> =
        emu.requests().into_iter().filter(|r| r.path.ends_with("checkMemberGroups")).collect();
    let sizes: Vec<usize> =
        checks.iter().map(|r| r.body.as_ref().unwrap()["groupIds"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, vec![20, 2], "22 groups (21 included, 1 excluded), at most 20 per request");
    assert!(checks.iter().all(|r| r.status == 200));
}
