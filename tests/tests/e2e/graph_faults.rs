//! Convergence under faults: with 30% of requests answered 429/503, and
//! connections dropped before or after the request is carried out, a
//! sequence of creates, updates and assigns ends with nothing lost and no
//! duplicate policy.

use mtd_e2e::graph::{client, emulator};
use mtdhost::emulator::EmulatorConfig;
use mtdhost::graph::schema::{ApiVersion, PolicyType};
use mtdhost::graph::{ActionItem, AssignmentTarget};
use serde_json::{json, Value};

const IOS_USERS: &str = "0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01";
const BREAK_GLASS: &str = "3ebc6f84-5071-4293-8da4-4f5a6b7c8d04";

#[tokio::test]
async fn creates_updates_and_assigns_converge_under_faults() {
    let faults = "429=0.2,503=0.1,drop=0.1,lose=0.1,retry-after=0.01,seed=42".parse().unwrap();
    let emu = emulator(EmulatorConfig { faults, page_size: 4, ..EmulatorConfig::default() }).await;
    let c = client(&emu);
    let levels = ["secured", "low", "medium", "high"];
    for i in 0..12 {
        let body = json!({"displayName": format!("MTD - iOS - {i}"), "deviceThreatProtectionEnabled": true, "deviceThreatProtectionRequiredSecurityLevel": levels[i % 4]});
        let p = c
            .create_policy(
                ApiVersion::V1,
                PolicyType::Ios,
                body.as_object().unwrap(),
                &[ActionItem::block(i as u32)],
            )
            .await
            .unwrap_or_else(|e| panic!("create {i}: {e}"));
        let patch =
            json!({"deviceThreatProtectionRequiredSecurityLevel": "medium", "osMinimumVersion": "17.0"});
        c.update_policy(ApiVersion::V1, PolicyType::Ios, &p.id, patch.as_object().unwrap()).await.unwrap();
        let set =
            [AssignmentTarget::Group(IOS_USERS.into()), AssignmentTarget::ExclusionGroup(BREAK_GLASS.into())];
        c.assign(ApiVersion::V1, &p.id, &set).await.unwrap();
    }

    let log = emu.requests();
    let injected = log.iter().filter(|r| r.fault.is_some()).count();
    assert!(injected >= 10, "faults were injected ({injected} of {})", log.len());
    assert!(
        log.iter().any(|r| r.fault == Some("lose") && r.method == "POST"),
        "some creates lost their answer"
    );

    let tenant = emu.tenant();
    assert_eq!(tenant.policies.len(), 12, "no duplicate and nothing lost");
    let mut names: Vec<String> =
        tenant.policies.values().map(|p| p.properties["displayName"].as_str().unwrap().to_string()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 12);
    for p in tenant.policies.values() {
        assert_eq!(p.properties["deviceThreatProtectionRequiredSecurityLevel"], "medium");
        assert_eq!(p.properties["osMinimumVersion"], "17.0");
        assert_eq!(p.actions.iter().filter(|a| a["actionType"] == "block").count(), 1);
        let mut groups: Vec<&str> =
            p.assignments.iter().map(|a| a["target"]["groupId"].as_str().unwrap()).collect();
        groups.sort();
        assert_eq!(groups, vec![IOS_USERS, BREAK_GLASS]);
        assert!(p.assignments.iter().all(|a| a["source"] == Value::String("direct".into())));
    }
}
