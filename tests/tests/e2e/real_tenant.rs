//! What a production tenant holds, read through the client against the
//! emulator: null connector and action fields, names with `&`, `'`, `#`,
//! `+`, `%` and non-ASCII text, assignment filters and policy sets on beta,
//! device-code refresh, token retry, and a slow create that must not be
//! duplicated. Each test fails on the client before issue 11.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtd_e2e::graph::{client, client_with, emulator, fast_options};
use mtdhost::emulator::{
    EmulatorConfig, StoredPolicy, Tenant, BASELINE_SET, CORPORATE_IPHONES, DEMO_CLIENT_ID, DEMO_TENANT,
    OBRIEN, RD_USERS,
};
use mtdhost::graph::auth::Credential;
use mtdhost::graph::schema::{ApiVersion, PolicyType};
use mtdhost::graph::ClientOptions;
use mtdhost::graph::GroupLookup;
use mtdhost::graph::{ActionItem, AssignmentFilter, AssignmentTarget, FilterMode, Target};
use serde_json::{json, Map, Value};

fn ios_policy(id: &str, name: &str, actions: Vec<Value>, assignments: Vec<Value>) -> StoredPolicy {
    let mut props = Map::new();
    for (k, v) in [
        ("@odata.type", json!("#microsoft.graph.iosCompliancePolicy")),
        ("id", json!(id)),
        ("displayName", json!(name)),
        ("description", json!("from the portal")),
        ("version", json!(1)),
    ] {
        props.insert(k.into(), v);
    }
    StoredPolicy { properties: props, actions, assignments }
}

#[tokio::test]
async fn null_connector_and_action_fields_are_read_not_dropped() {
    let emu = emulator(EmulatorConfig::default()).await;
    emu.with_tenant(|t| {
        t.insert_policy(
            "11111111-0000-4000-8000-000000000001".into(),
            ios_policy(
                "11111111-0000-4000-8000-000000000001",
                "Portal - iOS",
                vec![json!({"id": "a", "actionType": "block", "gracePeriodHours": 6,
                    "notificationTemplateId": null, "notificationMessageCCList": null})],
                vec![],
            ),
        )
    });
    let c = client(&emu);
    let read = c.read_connectors(ApiVersion::Beta).await.unwrap();
    let unset = read.connectors.iter().find(|c| c.id == "e967a12f-0b2c-4d4e-985f-f4a5b6c7d80f");
    let unset = unset.expect("a connector whose macEnabled is null is still listed");
    assert!(unset.ios_enabled && !unset.mac_enabled, "null reads as off: {unset:?}");
    assert_eq!(read.connectors.len(), 5, "every connector of the demo tenant");
    assert!(read.warnings.is_empty(), "null is not an odd value: {:?}", read.warnings);

    let policies = c.list_policies(ApiVersion::V1).await.unwrap();
    assert_eq!(policies[0].actions, vec![ActionItem::block(6)], "a null template is no template");
    assert!(policies[0].problems.is_empty(), "{:?}", policies[0].problems);

    // A field of the wrong shape is reported with the field and the value.
    emu.with_tenant(|t| t.connectors[0]["iosEnabled"] = json!("yes"));
    let read = c.read_connectors(ApiVersion::Beta).await.unwrap();
    assert_eq!(read.connectors.len(), 5);
    assert!(
        read.warnings.iter().any(|w| w.contains("iosEnabled") && w.contains("\"yes\"")),
        "{:?}",
        read.warnings
    );
}

#[tokio::test]
async fn an_unknown_assignment_target_is_a_problem_naming_it() {
    let emu = emulator(EmulatorConfig::default()).await;
    emu.with_tenant(|t| {
        t.insert_policy(
            "11111111-0000-4000-8000-000000000002".into(),
            ios_policy(
                "11111111-0000-4000-8000-000000000002",
                "Portal - iOS",
                vec![json!({"id": "a", "actionType": "block", "gracePeriodHours": 0})],
                vec![json!({"id": "x", "source": "direct", "target": {"@odata.type": "#microsoft.graph.someFutureAssignmentTarget"}})],
            ),
        )
    });
    let policies = client(&emu).list_policies(ApiVersion::V1).await.unwrap();
    assert_eq!(policies.len(), 1, "the policy is not dropped");
    assert!(
        policies[0].problems.iter().any(|p| p.contains("someFutureAssignmentTarget")),
        "{:?}",
        policies[0].problems
    );
}

#[tokio::test]
async fn names_with_reserved_characters_resolve() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    for name in ["R&D Users", "O'Brien Team", "Zürich Ops – Geräte", "Sales + Marketing #1 (100%)"] {
        match c.find_group(name).await.unwrap_or_else(|e| panic!("{name}: {e}")) {
            GroupLookup::One(g) => assert_eq!(g.display_name, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    // A policy name with the same characters is found again by name and type.
    let name = "R&D – O'Brien #1 + 100%";
    let body = json!({"displayName": name, "passcodeRequired": true}).as_object().cloned().unwrap();
    c.create_policy(ApiVersion::V1, PolicyType::Ios, &body, &[ActionItem::block(0)]).await.unwrap();
    assert_eq!(c.find_policies(ApiVersion::V1, name, PolicyType::Ios).await.unwrap().len(), 1);
}

#[tokio::test]
async fn filters_and_policy_sets_are_read_on_beta_and_posted_back() {
    let emu = emulator(EmulatorConfig { seed: Some(Tenant::showcase()), ..EmulatorConfig::default() }).await;
    let c = client(&emu);
    // Read with a v1.0 body: the assignments still come from beta.
    let policies = c.list_policies(ApiVersion::V1).await.unwrap();
    let ios = policies.iter().find(|p| p.policy_type == Some(PolicyType::Ios)).unwrap();
    let filtered = Target {
        kind: AssignmentTarget::Group(RD_USERS.into()),
        filter: Some(AssignmentFilter { id: CORPORATE_IPHONES.into(), mode: FilterMode::Include }),
    };
    let direct: Vec<&Target> = ios.assignments.iter().filter(|a| a.is_direct()).map(|a| &a.target).collect();
    assert_eq!(direct, vec![&filtered]);
    let from_set: Vec<_> = ios.assignments.iter().filter_map(|a| a.policy_set()).collect();
    assert_eq!(from_set, vec![BASELINE_SET]);

    // Posting the direct set (with its filter, so on beta) keeps the policy-set one.
    let extra = Target::from(AssignmentTarget::ExclusionGroup(OBRIEN.into()));
    c.assign(ApiVersion::V1, &ios.id, &[filtered.clone(), extra]).await.unwrap();
    let post = emu.requests().into_iter().rev().find(|r| r.path.ends_with("/assign")).unwrap();
    assert!(post.path.starts_with("/beta/"), "filters exist only on beta: {}", post.path);
    let again = c.list_policies(ApiVersion::V1).await.unwrap();
    let ios = again.iter().find(|p| p.policy_type == Some(PolicyType::Ios)).unwrap();
    assert_eq!(ios.assignments.len(), 3, "{:?}", ios.assignments);
    assert!(ios.assignments.iter().any(|a| a.target == filtered));
    assert_eq!(c.list_assignment_filters().await.unwrap().len(), 2);
    assert_eq!(c.get_policy_set(BASELINE_SET).await.unwrap().unwrap().display_name, "Contoso baseline – iOS");
}

#[tokio::test]
async fn a_slow_create_is_waited_for_not_duplicated() {
    let emu = emulator(EmulatorConfig {
        faults: "slow-create=700ms".parse().unwrap(),
        ..EmulatorConfig::default()
    })
    .await;
    let options = ClientOptions {
        timeout: Duration::from_millis(250),
        create_settle: Duration::from_secs(3),
        ..fast_options()
    };
    let c = client_with(&emu, mtd_e2e::graph::demo_secret(), options);
    let body = json!({"displayName": "Slow", "passcodeRequired": true}).as_object().cloned().unwrap();
    let p = c.create_policy(ApiVersion::V1, PolicyType::Ios, &body, &[ActionItem::block(0)]).await.unwrap();
    // Let any create still running on the server finish before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stored: Vec<_> = emu.tenant().ordered_policies().map(|s| s.properties["id"].clone()).collect();
    assert_eq!(stored, vec![json!(p.id)], "one policy, not a duplicate from a re-sent create");
}

#[tokio::test]
async fn device_code_sign_in_asks_offline_access_and_refreshes() {
    let emu = Arc::new(
        emulator(EmulatorConfig { token_lifetime: Duration::from_secs(2), ..EmulatorConfig::default() })
            .await,
    );
    let prompts = Arc::new(Mutex::new(0));
    let (e, n) = (emu.clone(), prompts.clone());
    let prompt = Box::new(move |p: &mtdhost::graph::auth::DeviceCodePrompt| {
        *n.lock().unwrap() += 1;
        assert!(e.decide_device_code(&p.user_code, true));
    });
    let cred =
        Credential::DeviceCode { tenant: DEMO_TENANT.into(), client_id: DEMO_CLIENT_ID.into(), prompt };
    let c = client_with(&emu, cred, fast_options());
    c.list_groups().await.unwrap();
    // The token is refreshed at 50% of a 2 s lifetime; by then only a refresh may happen.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    c.list_groups().await.unwrap();
    assert_eq!(
        *prompts.lock().unwrap(),
        1,
        "the admin is asked once; the token is refreshed, not re-prompted"
    );
    let device_codes = emu.requests().iter().filter(|r| r.path.ends_with("/devicecode")).count();
    assert_eq!(device_codes, 1);
}

#[tokio::test]
async fn token_requests_are_retried_on_503() {
    let emu = emulator(EmulatorConfig {
        faults: "token503=2,retry-after=0.05".parse().unwrap(),
        ..EmulatorConfig::default()
    })
    .await;
    client(&emu).list_groups().await.expect("signed in after two 503s");
    let token_calls: Vec<u16> =
        emu.requests().iter().filter(|r| r.path.ends_with("/token")).map(|r| r.status).collect();
    assert_eq!(token_calls, vec![503, 503, 200]);
}
