//! MTD connector settings end to end: `[connectors.NAME]` → plan (per-field
//! diff, version per property) → one PATCH of only what differs → a re-plan
//! with no change; ids that do not exist stop the plan with zero writes;
//! connectors in other states are configured with a warning; what the client
//! and the emulator refuse; export → plan shows no change.

use mtd_e2e::configs;
use mtd_e2e::graph::{client, emulator};
use mtdhost::emulator::{Emulator, EmulatorConfig};
use mtdhost::graph::schema::ApiVersion;
use mtdhost::graph::GraphError;
use mtdhost::plan::{self, ChangeKind};
use serde_json::{json, Map, Value};

/// The demo tenant's enabled third-party connector (iOS and Android on).
const LOOKOUT: &str = "3c9f4a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
/// The demo tenant's connector in state `available`.
const AVAILABLE: &str = "7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
/// The demo connector whose beta-only switches read null.
const NULL_MAC: &str = "e967a12f-0b2c-4d4e-985f-f4a5b6c7d80f";

async fn prepare(path: &std::path::Path) -> Result<mtdhost::prepare::Prepared, mtdhost::prepare::JobError> {
    mtdhost::prepare::prepare(path, false).await
}

fn writes(emu: &Emulator) -> Vec<mtdhost::emulator::Recorded> {
    emu.requests().into_iter().filter(|r| r.is_write()).collect()
}

fn stored(emu: &Emulator, id: &str) -> Value {
    emu.with_tenant(|t| t.connectors.iter().find(|c| c["id"] == id).cloned()).expect("connector")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_switches_are_planned_patched_once_and_then_unchanged() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(
        dir.path(),
        &emu,
        &format!(
            r#"
[connectors.lookout]
id = "{LOOKOUT}"
ios = true
android = true
windows = false
block-when-partner-data-missing = ["ios"]
unresponsive-after-days = 3
partner-unsupported-os-blocked = true
app-protection = ["ios", "android"]

[connectors.lookout.settings]
allowPartnerToCollectIOSApplicationMetadata = true
"#
        ),
    );
    let p = prepare(&path).await.unwrap();
    assert_eq!(p.plan.connectors.len(), 1);
    let c = &p.plan.connectors[0];
    assert_eq!(c.kind, ChangeKind::Update);
    assert_eq!(c.version, ApiVersion::V1, "no changed property is beta-only");
    let changed: Vec<(&str, &Value, &Value)> =
        c.settings.iter().map(|s| (s.property.as_str(), &s.before, &s.after)).collect();
    assert_eq!(
        changed,
        [
            ("allowPartnerToCollectIOSApplicationMetadata", &json!(false), &json!(true)),
            ("androidMobileApplicationManagementEnabled", &json!(false), &json!(true)),
            ("iosDeviceBlockedOnMissingPartnerData", &json!(false), &json!(true)),
            ("iosMobileApplicationManagementEnabled", &json!(false), &json!(true)),
            ("partnerUnresponsivenessThresholdInDays", &json!(7), &json!(3)),
            ("partnerUnsupportedOsVersionBlocked", &json!(false), &json!(true)),
        ],
        "only what differs; macDeviceBlockedOnMissingPartnerData false = false is not a change"
    );
    let text = plan::render_text(&p.plan);
    assert!(text.contains("~ update MTD connector \"lookout\""), "{text}");
    assert!(text.contains("partnerUnresponsivenessThresholdInDays: 7 -> 3"), "{text}");
    assert_eq!(p.plan.write_count(), 1);

    emu.clear_requests();
    let done = plan::apply(&p.session.client, &p.plan, &()).await.unwrap();
    assert_eq!((done.updated, done.writes), (1, 1));
    let w = writes(&emu);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!((w[0].method.as_str(), w[0].status), ("PATCH", 200));
    assert_eq!(w[0].path, format!("/v1.0/deviceManagement/mobileThreatDefenseConnectors/{LOOKOUT}"));
    let body = w[0].body.clone().unwrap();
    let sent: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(sent.len(), 6, "only the changed properties are sent: {sent:?}");
    assert!(body.get("partnerState").is_none() && body.get("lastHeartbeatDateTime").is_none());
    assert_eq!(stored(&emu, LOOKOUT)["partnerUnresponsivenessThresholdInDays"], 3);
    assert_eq!(stored(&emu, LOOKOUT)["partnerState"], "enabled", "untouched");

    emu.clear_requests();
    let again = prepare(&path).await.unwrap();
    assert_eq!(again.plan.connectors[0].kind, ChangeKind::Unchanged, "{}", plan::render_text(&again.plan));
    assert!(!again.plan.has_changes());
    assert!(writes(&emu).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_beta_only_switch_goes_out_on_beta_and_null_counts_as_off() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // This connector's macEnabled and macDeviceBlockedOnMissingPartnerData read null.
    let path = configs::write(
        dir.path(),
        &emu,
        &format!(
            "[connectors.mac]\nid = \"{NULL_MAC}\"\nmacos = false\nblock-when-partner-data-missing = []\n"
        ),
    );
    let p = prepare(&path).await.unwrap();
    assert_eq!(p.plan.connectors[0].kind, ChangeKind::Unchanged, "null is off: {:?}", p.plan.connectors[0]);

    let path = configs::write(
        dir.path(),
        &emu,
        &format!("[connectors.mac]\nid = \"{NULL_MAC}\"\nmacos = true\nblock-when-partner-data-missing = [\"macos\"]\n"),
    );
    let p = prepare(&path).await.unwrap();
    let c = &p.plan.connectors[0];
    assert_eq!(c.version, ApiVersion::Beta);
    assert_eq!(c.settings.len(), 2);
    assert!(c.settings.iter().all(|s| s.before.is_null() && s.after == json!(true)));
    emu.clear_requests();
    plan::apply(&p.session.client, &p.plan, &()).await.unwrap();
    let w = writes(&emu);
    assert_eq!(w.len(), 1);
    assert!(w[0].path.starts_with("/beta/"), "{}", w[0].path);
    assert_eq!(stored(&emu, NULL_MAC)["macEnabled"], true);
    assert!(!prepare(&path).await.unwrap().plan.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_that_does_not_exist_stops_the_plan_with_zero_writes() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = "00000000-1111-4222-8333-444444444444";
    let path = configs::write(
        dir.path(),
        &emu,
        &format!(
            "[connectors.ghost]\nid = \"{missing}\"\nios = true\n\n[connectors.lookout]\nid = \"{LOOKOUT}\"\nios = false\n"
        ),
    );
    let err = prepare(&path).await.err().expect("the plan stops").to_string();
    assert!(err.contains(&format!("[connectors.ghost] connector {missing} does not exist")), "{err}");
    assert!(err.contains("mtdhost.toml:"), "names the config line: {err}");
    assert!(err.contains("never creates connectors"), "{err}");
    assert!(writes(&emu).is_empty(), "nothing is written, not even the other connector");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_not_enabled_is_configured_with_a_warning() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(
        dir.path(),
        &emu,
        &format!("[connectors.partner]\nid = \"{AVAILABLE}\"\nios = true\n"),
    );
    let p = prepare(&path).await.unwrap();
    assert_eq!(p.plan.connectors[0].kind, ChangeKind::Update);
    assert!(
        p.plan
            .warnings
            .iter()
            .any(|w| w.contains("connector 'partner'") && w.contains("is available, not enabled")),
        "{:?}",
        p.plan.warnings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_values_from_graph_are_shown_and_rewritten_not_trusted() {
    let emu = emulator(EmulatorConfig::default()).await;
    emu.with_tenant(|t| {
        let c = t.connectors.iter_mut().find(|c| c["id"] == LOOKOUT).unwrap();
        c["iosEnabled"] = json!("true");
        c["partnerState"] = Value::Null;
    });
    let dir = tempfile::tempdir().unwrap();
    let path =
        configs::write(dir.path(), &emu, &format!("[connectors.lookout]\nid = \"{LOOKOUT}\"\nios = true\n"));
    let p = prepare(&path).await.unwrap();
    let c = &p.plan.connectors[0];
    assert_eq!(c.kind, ChangeKind::Update, "a string \"true\" is not the boolean true");
    assert_eq!((&c.settings[0].before, &c.settings[0].after), (&json!("true"), &json!(true)));
    assert!(
        p.plan.warnings.iter().any(|w| w.contains("iosEnabled") && w.contains("\"true\"")),
        "{:?}",
        p.plan.warnings
    );
    assert!(p.plan.warnings.iter().any(|w| w.contains("in no reported state")), "{:?}", p.plan.warnings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_graph_would_refuse_are_refused_by_the_client_unsent_and_by_the_emulator() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    let body = |pairs: &[(&str, Value)]| -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    };
    emu.clear_requests();
    for (version, bad) in [
        (ApiVersion::V1, body(&[("partnerState", json!("enabled"))])),
        (ApiVersion::V1, body(&[("lastHeartbeatDateTime", json!("2026-01-01T00:00:00Z"))])),
        (ApiVersion::V1, body(&[("IosEnabled", json!(true))])),
        (ApiVersion::V1, body(&[("macEnabled", json!(true))])),
        (ApiVersion::Beta, body(&[("iosEnabled", json!("yes"))])),
        (ApiVersion::Beta, body(&[("partnerUnresponsivenessThresholdInDays", json!(3_000_000_000u64))])),
        (ApiVersion::Beta, body(&[("partnerDisplayName", json!("Lookout"))])),
    ] {
        let err = c.update_connector(version, LOOKOUT, &bad).await.expect_err("refused");
        assert!(matches!(err, GraphError::Refused { .. }), "{bad:?}: {err}");
    }
    assert!(writes(&emu).is_empty(), "nothing refused was sent");

    // The emulator, asked directly, refuses the same (its rules come from
    // Microsoft's metadata, not from the client's table).
    for (version, bad) in [
        ("v1.0", json!({"partnerState": "enabled"})),
        ("v1.0", json!({"macEnabled": true})),
        ("beta", json!({"IosEnabled": true})),
        ("v1.0", json!({"iosEnabled": null})),
        ("beta", json!({"partnerUnresponsivenessThresholdInDays": "7"})),
    ] {
        let r = c
            .request(
                reqwest::Method::PATCH,
                &format!("{}/{version}/deviceManagement/mobileThreatDefenseConnectors/{LOOKOUT}", emu.url()),
                Some(&bad),
            )
            .await;
        assert_eq!(r.err().and_then(|e| e.status()), Some(400), "{version} {bad}");
    }
    let ok = c
        .request(
            reqwest::Method::PATCH,
            &format!("{}/beta/deviceManagement/mobileThreatDefenseConnectors/{LOOKOUT}", emu.url()),
            Some(
                &json!({"@odata.type": "#microsoft.graph.mobileThreatDefenseConnector", "macEnabled": true}),
            ),
        )
        .await
        .expect("a valid beta PATCH");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["macEnabled"], true, "200 with the updated entity");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_connectors_plan_no_change() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write(dir.path(), &emu, &format!("[tenant.connectors]\nlookout = \"{LOOKOUT}\"\n"));
    let p = prepare(&path).await.unwrap();
    let tenant: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let exported = mtdhost::export::export(&p.session.client, tenant["tenant"].as_table().unwrap(), false)
        .await
        .unwrap();
    assert_eq!(exported.connectors, 5, "every connector of the demo tenant");
    assert!(exported.toml.contains("[connectors.lookout]\nandroid = true"), "{}", exported.toml);
    assert!(exported.toml.contains("[connectors.defender]"), "{}", exported.toml);
    let back = dir.path().join("exported.toml");
    std::fs::write(&back, &exported.toml).unwrap();
    emu.clear_requests();
    let again = prepare(&back).await.unwrap();
    assert_eq!(again.plan.connectors.len(), 5);
    assert!(!again.plan.has_changes(), "{}", plan::render_text(&again.plan));
}
