//! The Graph client against the emulator over real HTTP: every platform
//! type, actions, assignments, groups, connectors, paging, `$batch`,
//! Retry-After, pacing and typed OData errors.

use std::time::{Duration, Instant};

use mtd_e2e::graph::{client, client_with, demo_secret, emulator, fast_options};
use mtdhost::emulator::{EmulatorConfig, FaultSpec};
use mtdhost::graph::schema::{ApiVersion, PolicyType};
use mtdhost::graph::GraphError;
use mtdhost::graph::GroupLookup;
use mtdhost::graph::PaceLimit;
use mtdhost::graph::{ActionItem, AssignmentTarget};
use serde_json::{json, Map, Value};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

fn actions() -> Vec<ActionItem> {
    vec![
        ActionItem::block(24),
        ActionItem {
            action_type: "notification".into(),
            grace_period_hours: 0,
            notification_template_id: "a1b2c3d4-0001-4000-8000-000000000001".into(),
            notification_message_cc_list: vec!["2dab5e73-4f60-4182-9c93-3e4f5a6b7c03".into()],
        },
    ]
}

/// One realistic MTD body per type, at the API version it needs.
fn bodies() -> Vec<(PolicyType, ApiVersion, Map<String, Value>)> {
    let mtd = |name: &str, level: &str| json!({"displayName": name, "description": "managed by mtdhost", "deviceThreatProtectionEnabled": true, "deviceThreatProtectionRequiredSecurityLevel": level});
    let mut android = mtd("MTD - Android", "medium");
    android["securityBlockJailbrokenDevices"] = json!(true);
    android["passwordRequiredType"] = json!("numericComplex");
    let mut ios = mtd("MTD - iOS", "low");
    ios["osMinimumVersion"] = json!("17.0");
    ios["passcodeMinimumLength"] = json!(6);
    let mut owner = mtd("MTD - Android Device Owner", "secured");
    owner["advancedThreatProtectionRequiredSecurityLevel"] = json!("medium");
    vec![
        (PolicyType::Android, ApiVersion::V1, obj(android)),
        (PolicyType::AndroidWorkProfile, ApiVersion::V1, obj(mtd("MTD - Android Work Profile", "low"))),
        (PolicyType::Ios, ApiVersion::V1, obj(ios)),
        (PolicyType::MacOs, ApiVersion::V1, obj(mtd("MTD - macOS", "medium"))),
        (
            PolicyType::Windows10,
            ApiVersion::V1,
            obj(json!({"displayName": "Windows baseline", "bitLockerEnabled": true})),
        ),
        (PolicyType::Windows10, ApiVersion::Beta, obj(mtd("MTD - Windows", "high"))),
        (PolicyType::AndroidDeviceOwner, ApiVersion::Beta, obj(owner)),
        (
            PolicyType::AospDeviceOwner,
            ApiVersion::Beta,
            obj(json!({"displayName": "AOSP baseline", "passwordRequired": true})),
        ),
    ]
}

#[tokio::test]
async fn every_platform_type_round_trips_with_actions() {
    let emu = emulator(EmulatorConfig { page_size: 3, ..EmulatorConfig::default() }).await;
    let c = client(&emu);
    for (ty, version, body) in bodies() {
        let created =
            c.create_policy(version, ty, &body, &actions()).await.unwrap_or_else(|e| panic!("{ty:?}: {e}"));
        assert_eq!(created.policy_type, Some(ty));
        // The body that went over the wire: the type, the settings, exactly one block inline.
        let sent = emu
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.method == "POST" && r.path.ends_with("deviceCompliancePolicies"))
            .unwrap();
        let sent = sent.body.unwrap();
        assert_eq!(sent["@odata.type"], ty.odata_type());
        for (k, v) in &body {
            assert_eq!(&sent[k], v, "{ty:?} {k}");
        }
        let configs = sent["scheduledActionsForRule"][0]["scheduledActionConfigurations"].as_array().unwrap();
        assert_eq!(sent["scheduledActionsForRule"][0]["ruleName"], "PasswordRequired");
        assert_eq!(configs.iter().filter(|a| a["actionType"] == "block").count(), 1);
        assert_eq!(configs[0]["gracePeriodHours"], 24);
    }
    // Read back through beta (sees every type), paging through pages of 3.
    let listed = c.list_policies(ApiVersion::Beta).await.unwrap();
    assert_eq!(listed.len(), 8);
    let pages = emu.requests().iter().filter(|r| r.method == "GET" && r.query.contains("skiptoken")).count();
    assert_eq!(pages, 2, "8 policies in pages of 3 means two follow-up pages");
    for p in &listed {
        assert_eq!(p.actions.len(), 2, "{}: actions come back through $expand", p.display_name);
        assert_eq!(p.actions[1].notification_message_cc_list.len(), 1);
    }
    // v1.0 hides the beta-only types.
    let v1 = c.list_policies(ApiVersion::V1).await.unwrap();
    assert_eq!(v1.len(), 6);
    assert!(v1.iter().all(|p| !p.properties.contains("advancedThreatProtectionRequiredSecurityLevel")));
}

#[tokio::test]
async fn update_actions_assign_and_delete() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    let (ty, version, body) = bodies().remove(2);
    let p = c.create_policy(version, ty, &body, &[ActionItem::block(0)]).await.unwrap();

    c.update_policy(
        version,
        ty,
        &p.id,
        &obj(json!({"deviceThreatProtectionRequiredSecurityLevel": "medium"})),
    )
    .await
    .unwrap();
    let patch = emu.requests().into_iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(patch.status, 204, "204 is accepted as success");
    assert_eq!(
        patch.body.unwrap(),
        json!({"@odata.type": ty.odata_type(), "deviceThreatProtectionRequiredSecurityLevel": "medium"})
    );

    c.schedule_actions(version, &p.id, &actions()).await.unwrap();
    let ios = "0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01".to_string();
    let glass = "3ebc6f84-5071-4293-8da4-4f5a6b7c8d04".to_string();
    let set = vec![
        AssignmentTarget::Group(ios.clone()),
        AssignmentTarget::ExclusionGroup(glass.clone()),
        AssignmentTarget::Group(ios.clone()),
    ];
    let assigned = c.assign(version, &p.id, &set).await.unwrap();
    assert_eq!(assigned.len(), 2, "a duplicate target is ignored");

    let read = c.find_policies(version, "MTD - iOS", ty).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(
        read[0].properties.get("deviceThreatProtectionRequiredSecurityLevel").as_deref(),
        Some(&json!("medium"))
    );
    assert_eq!(read[0].actions.len(), 2);
    let listed = c.list_policies(version).await.unwrap();
    assert_eq!(listed[0].assignments.len(), 2);
    assert!(listed[0].assignments.iter().all(|a| a.is_direct()));

    // The posted set replaces; an empty set clears.
    c.assign(version, &p.id, &[AssignmentTarget::AllLicensedUsers]).await.unwrap();
    assert_eq!(c.list_policies(version).await.unwrap()[0].assignments.len(), 1);
    c.assign(version, &p.id, &Vec::<AssignmentTarget>::new()).await.unwrap();
    assert!(c.list_policies(version).await.unwrap()[0].assignments.is_empty());

    c.delete_policy(version, &p.id).await.unwrap();
    c.delete_policy(version, &p.id).await.expect("deleting twice is not an error");
    assert!(c.list_policies(version).await.unwrap().is_empty());
}

#[tokio::test]
async fn groups_by_name_zero_one_many_and_connectors() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    assert_eq!(c.find_group("No Such Group").await.unwrap(), GroupLookup::None);
    match c.find_group("Executives").await.unwrap() {
        GroupLookup::One(g) => assert_eq!(g.id, "2dab5e73-4f60-4182-9c93-3e4f5a6b7c03"),
        other => panic!("{other:?}"),
    }
    match c.find_group("Contractors").await.unwrap() {
        GroupLookup::Many(gs) => assert_eq!(gs.len(), 2),
        other => panic!("{other:?}"),
    }
    let q = emu.requests().into_iter().find(|r| r.path == "/v1.0/groups").unwrap();
    assert!(q.query.starts_with("$filter=displayName%20eq%20%27No%20Such%20Group%27"), "{}", q.query);
    assert!(c.get_group("2dab5e73-4f60-4182-9c93-3e4f5a6b7c03").await.unwrap().is_some());
    assert!(c.get_group("00000000-0000-0000-0000-000000000000").await.unwrap().is_none());

    let v1 = c.list_connectors(ApiVersion::V1).await.unwrap();
    assert_eq!(v1.len(), 5, "the demo tenant's connectors, including one with null switches");
    assert!(v1.iter().any(|k| k.partner_state == "unresponsive"));
    let beta = c.list_connectors(ApiVersion::Beta).await.unwrap();
    assert!(beta.iter().any(|k| k.mac_enabled), "macEnabled is beta only");
    assert!(v1.iter().all(|k| !k.mac_enabled));
}

#[tokio::test]
async fn odata_errors_are_typed_and_one_line() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    let err = c
        .update_policy(
            ApiVersion::V1,
            PolicyType::Ios,
            "does-not-exist",
            &obj(json!({"passcodeRequired": true})),
        )
        .await
        .unwrap_err();
    match &err {
        GraphError::Api { status, code, request_id, .. } => {
            assert_eq!(*status, 404);
            assert_eq!(code, "ResourceNotFound");
            assert!(request_id.as_ref().is_some_and(|r| r.len() == 36));
        }
        other => panic!("{other:?}"),
    }
    let line = err.to_string();
    assert!(
        line.starts_with(
            "PATCH /v1.0/deviceManagement/deviceCompliancePolicies/does-not-exist: 404 ResourceNotFound:"
        ),
        "{line}"
    );
    assert!(!line.contains('\n'));

    // Client-side schema checks stop bad payloads before any request.
    emu.clear_requests();
    let bad = c
        .create_policy(
            ApiVersion::V1,
            PolicyType::Windows10,
            &obj(json!({"displayName": "x", "deviceThreatProtectionRequiredSecurityLevel": "low"})),
            &[ActionItem::block(0)],
        )
        .await
        .unwrap_err();
    assert!(
        bad.to_string().contains("'deviceThreatProtectionRequiredSecurityLevel' exists only in the beta API"),
        "{bad}"
    );
    let no_block = c
        .create_policy(ApiVersion::V1, PolicyType::Ios, &obj(json!({"displayName": "x"})), &[])
        .await
        .unwrap_err();
    assert!(no_block.to_string().contains("exactly one block action"));
    assert!(
        emu.requests().iter().all(|r| r.method != "POST" || r.path.contains("oauth2")),
        "nothing invalid was sent"
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let emu = emulator(EmulatorConfig {
        faults: "burst429=2,retry-after=0.25".parse().unwrap(),
        ..EmulatorConfig::default()
    })
    .await;
    let c = client(&emu);
    let started = Instant::now();
    let groups = c.find_group("Executives").await.unwrap();
    assert!(matches!(groups, GroupLookup::One(_)));
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "waited Retry-After twice: {:?}",
        started.elapsed()
    );
    let throttled = emu.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(throttled, 2);
}

#[tokio::test]
async fn writes_are_paced_under_the_intune_limit() {
    // Intune's limit, scaled down: 5 writes per second per app.
    let spec: FaultSpec = "throttle=5/1s".parse().unwrap();
    let emu = emulator(EmulatorConfig { faults: spec, ..EmulatorConfig::default() }).await;
    let paced = client_with(
        &emu,
        demo_secret(),
        mtdhost::graph::ClientOptions {
            pace: PaceLimit { max: 5, window: Duration::from_secs(1) },
            ..fast_options()
        },
    );
    let started = Instant::now();
    for i in 0..12 {
        let body = obj(json!({"displayName": format!("paced {i}"), "passcodeRequired": true}));
        paced.create_policy(ApiVersion::V1, PolicyType::Ios, &body, &[ActionItem::block(0)]).await.unwrap();
    }
    assert!(started.elapsed() >= Duration::from_secs(2), "12 writes at 5/s need two full windows");
    assert_eq!(emu.requests().iter().filter(|r| r.status == 429).count(), 0, "pacing avoided every 429");

    // Without pacing the emulator throttles, and Retry-After still gets every write through.
    let unpaced = client(&emu);
    for i in 0..12 {
        let body = obj(json!({"displayName": format!("unpaced {i}"), "passcodeRequired": true}));
        unpaced.create_policy(ApiVersion::V1, PolicyType::Ios, &body, &[ActionItem::block(0)]).await.unwrap();
    }
    assert!(emu.requests().iter().filter(|r| r.status == 429).count() > 0);
    assert_eq!(emu.tenant().policies.len(), 24);
}

#[tokio::test]
async fn batch_reads_retry_throttled_items() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    for i in 0..25 {
        let body = obj(json!({"displayName": format!("p{i:02}"), "passcodeRequired": true}));
        let p =
            c.create_policy(ApiVersion::V1, PolicyType::Ios, &body, &[ActionItem::block(0)]).await.unwrap();
        c.assign(ApiVersion::V1, &p.id, &[AssignmentTarget::AllDevices]).await.unwrap();
    }
    emu.set_faults("429=0.3,retry-after=0.01,seed=3".parse().unwrap());
    let listed = c.list_policies(ApiVersion::V1).await.unwrap();
    assert_eq!(listed.len(), 25);
    assert!(listed.iter().all(|p| p.assignments
        == vec![mtdhost::graph::Assignment {
            id: format!("{}_all", p.id),
            target: AssignmentTarget::AllDevices.into(),
            source: Some("direct".into()),
            source_id: Some(p.id.clone()),
        }]));
    // Assignments are read on beta whatever the policy's version: only beta
    // shows their source (policy sets) and filters.
    let batches = emu.requests().iter().filter(|r| r.path == "/beta/$batch").count();
    assert!(batches >= 2, "25 assignment reads need at least two batches of 20");
}

#[tokio::test]
async fn tokens_are_never_sent_to_another_host() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    let err = c.get_all("http://127.0.0.2:9/v1.0/groups").await.unwrap_err();
    assert!(err.to_string().contains("refusing to send the Graph token to http://127.0.0.2:9"), "{err}");
}
