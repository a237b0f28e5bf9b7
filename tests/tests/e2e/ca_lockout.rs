//! The lockout guard's second half: in a delegated session (device code) an
//! enforced Conditional Access policy that applies to the signed-in admin
//! stops the plan; excluding a group the admin is in, or leaving the policy
//! report-only, lets it through; an app-only session has no admin to check.

use std::sync::Arc;

use mtd_e2e::configs;
use mtd_e2e::graph::{client, client_with, emulator, fast_options};
use mtdhost::emulator::{Emulator, EmulatorConfig, DEMO_ADMIN, DEMO_ADMIN_UPN, DEMO_CLIENT_ID, DEMO_TENANT};
use mtdhost::graph::auth::{Credential, DeviceCodePrompt};
use mtdhost::graph::GraphClient;
use mtdhost::plan::{self, PlanError, PlanOptions};

const BREAK_GLASS: &str = "3ebc6f84-5071-4293-8da4-4f5a6b7c8d04";

fn config(dir: &std::path::Path, emu: &Emulator, state: &str, exclude: &str) -> std::path::PathBuf {
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
include = ["MTD - iOS Users"]
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
    let me: Vec<_> = emu.requests().into_iter().filter(|r| r.path.contains("/me")).collect();
    assert_eq!(me.len(), 1, "asked once who is signed in");
    assert_eq!(me[0].status, 400, "Graph's answer to /me with an app-only token");
}
