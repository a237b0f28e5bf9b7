//! The emulator is strict like Intune: each kind of violation is rejected
//! with Graph's status and message, over raw HTTP (the client would refuse
//! to send these).

use mtd_e2e::graph::{emulator, endpoints};
use mtdhost::emulator::{EmulatorConfig, DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT};
use serde_json::{json, Value};

struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Raw {
    async fn new(url: &str) -> Raw {
        let http = reqwest::Client::new();
        let form = [
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_SECRET),
            ("scope", &format!("{url}/.default")),
            ("grant_type", "client_credentials"),
        ];
        let t: Value = http
            .post(format!("{url}/{DEMO_TENANT}/oauth2/v2.0/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Raw { http, base: url.to_string(), token: t["access_token"].as_str().unwrap().to_string() }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn message(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap_or("")
}

fn block() -> Value {
    json!([{"ruleName": "PasswordRequired", "scheduledActionConfigurations": [{"actionType": "block", "gracePeriodHours": 0}]}])
}

const POLICIES: &str = "/v1.0/deviceManagement/deviceCompliancePolicies";

#[tokio::test]
async fn each_kind_of_violation_is_rejected() {
    let emu = emulator(EmulatorConfig::default()).await;
    let _ = endpoints(&emu);
    let raw = Raw::new(emu.url()).await;
    let post = |body: Value| raw.send(reqwest::Method::POST, POLICIES, Some(body));

    let ios = |extra: Value| {
        let mut b = json!({"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "x", "scheduledActionsForRule": block()});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };

    let (s, e) = post(ios(json!({"passwordRequired": true}))).await;
    assert_eq!(s, 400);
    assert!(message(&e).contains(
        "The property 'passwordRequired' does not exist on type 'microsoft.graph.iosCompliancePolicy'"
    ));
    assert!(e["error"]["innerError"]["request-id"].is_string(), "OData error bodies carry a request-id");

    let (s, e) = post(ios(json!({"osMinimumBuildVersion": "21A"}))).await;
    assert_eq!(s, 400, "beta-only property on v1.0");
    assert!(message(&e).contains("'osMinimumBuildVersion' does not exist"));

    let (s, e) = post(ios(json!({"deviceThreatProtectionRequiredSecurityLevel": "severe"}))).await;
    assert_eq!(s, 400, "enum outside the schema");
    assert_eq!(message(&e), "Requested value 'severe' was not found.");

    let (s, e) = post(ios(json!({"passcodeMinimumLength": "six"}))).await;
    assert_eq!(s, 400, "wrong JSON type");
    assert!(message(&e).contains("32-bit integer"));

    let mut wrong_type = ios(json!({}));
    wrong_type["@odata.type"] = json!("#microsoft.graph.androidDeviceOwnerCompliancePolicy");
    let (s, e) = post(wrong_type).await;
    assert_eq!(s, 400, "beta-only type on v1.0");
    assert!(message(&e).contains("could not be resolved by the model"));

    let mut no_type = ios(json!({}));
    no_type.as_object_mut().unwrap().remove("@odata.type");
    assert_eq!(post(no_type).await.0, 400);

    let mut no_actions = ios(json!({}));
    no_actions.as_object_mut().unwrap().remove("scheduledActionsForRule");
    let (s, e) = post(no_actions).await;
    assert_eq!(s, 400);
    assert_eq!(message(&e), "Compliance policy must have one and only one block scheduled action");

    let two_blocks = ios(
        json!({"scheduledActionsForRule": [{"ruleName": "PasswordRequired", "scheduledActionConfigurations": [{"actionType": "block"}, {"actionType": "block", "gracePeriodHours": 5}]}]}),
    );
    assert_eq!(
        message(&post(two_blocks).await.1),
        "Compliance policy must have one and only one block scheduled action"
    );

    let remote_lock = ios(
        json!({"scheduledActionsForRule": [{"ruleName": "PasswordRequired", "scheduledActionConfigurations": [{"actionType": "block"}, {"actionType": "remoteLock"}]}]}),
    );
    assert_eq!(post(remote_lock).await.0, 400, "remoteLock is beta only");

    // A valid create, then violations on it.
    let (s, created) = post(ios(json!({"passcodeRequired": true}))).await;
    assert_eq!(s, 201);
    let id = created["id"].as_str().unwrap().to_string();
    assert!(created.get("scheduledActionsForRule").is_none());
    let one = format!("{POLICIES}/{id}");

    let (s, e) = raw
        .send(
            reqwest::Method::PATCH,
            &one,
            Some(json!({"@odata.type": "#microsoft.graph.iosCompliancePolicy", "version": 7})),
        )
        .await;
    assert_eq!(s, 400, "read-only property in PATCH");
    assert!(message(&e).contains("'version' is read-only"));
    let (s, _) = raw.send(reqwest::Method::PATCH, &one, Some(json!({"passcodeRequired": false}))).await;
    assert_eq!(s, 400, "PATCH needs @odata.type");
    let (s, e) = raw
        .send(
            reqwest::Method::PATCH,
            POLICIES,
            Some(json!({"@odata.type": "#microsoft.graph.iosCompliancePolicy"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(message(&e).starts_with("No OData route exists"));

    // Actions are hidden unless expanded; the navigation GET fails as observed.
    let (_, plain) = raw.send(reqwest::Method::GET, &one, None).await;
    assert!(plain.get("scheduledActionsForRule").is_none());
    assert_eq!(plain["passcodeRequired"], true);
    assert_eq!(plain["passcodeMinimumLength"], Value::Null, "unset properties come back with defaults");
    let (_, expanded) = raw
        .send(
            reqwest::Method::GET,
            &format!("{one}?$expand=scheduledActionsForRule($expand=scheduledActionConfigurations)"),
            None,
        )
        .await;
    assert_eq!(
        expanded["scheduledActionsForRule"][0]["scheduledActionConfigurations"][0]["actionType"],
        "block"
    );
    let (s, e) = raw.send(reqwest::Method::GET, &format!("{one}/scheduledActionsForRule"), None).await;
    assert_eq!((s, message(&e)), (400, "No method match route template"));

    // /assign replaces the set; unknown groups and target types are refused.
    let (s, _) = raw.send(reqwest::Method::POST, &format!("{one}/assign"), Some(json!({"assignments": [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "nope"}}]}))).await;
    assert_eq!(s, 400);
    let (s, _) = raw
        .send(
            reqwest::Method::POST,
            &format!("{one}/assign"),
            Some(json!({"assignments": [{"target": {"@odata.type": "#microsoft.graph.everyoneTarget"}}]})),
        )
        .await;
    assert_eq!(s, 400);

    // Filters Intune rejects are rejected.
    let (s, _) = raw
        .send(reqwest::Method::GET, &format!("{POLICIES}?$filter=startswith(displayName,'x')"), None)
        .await;
    assert_eq!(s, 400);

    // Without a token from this emulator, nothing is served.
    let resp = raw.http.get(format!("{}{POLICIES}", raw.base)).bearer_auth("forged").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn state_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant.json");
    let config = EmulatorConfig { state_file: Some(state.clone()), ..EmulatorConfig::default() };
    let emu = emulator(config.clone()).await;
    let raw = Raw::new(emu.url()).await;
    let body = json!({"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "kept", "scheduledActionsForRule": block()});
    assert_eq!(raw.send(reqwest::Method::POST, POLICIES, Some(body)).await.0, 201);
    drop(emu);
    let again = emulator(config).await;
    let names: Vec<String> = again
        .tenant()
        .policies
        .values()
        .map(|p| p.properties["displayName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["kept"]);
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("\"displayName\": \"kept\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_all_reach_the_state_file() {
    // Apply writes different policies concurrently; each write saves the
    // tenant, and an older snapshot must never be saved over a newer one.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant.json");
    let config = EmulatorConfig { state_file: Some(state.clone()), ..EmulatorConfig::default() };
    let emu = emulator(config.clone()).await;
    let raw = std::sync::Arc::new(Raw::new(emu.url()).await);
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..32 {
        let raw = raw.clone();
        writes.spawn(async move {
            let body = json!({"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": format!("p{i}"), "scheduledActionsForRule": block()});
            raw.send(reqwest::Method::POST, POLICIES, Some(body)).await.0
        });
    }
    while let Some(status) = writes.join_next().await {
        assert_eq!(status.unwrap(), 201);
    }
    drop(emu);
    let again = emulator(config).await;
    assert_eq!(again.tenant().policies.len(), 32, "every create is in {}", state.display());
}
