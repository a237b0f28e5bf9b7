//! Intune's rules on a compliance policy — exactly one block action, the
//! grace period's range, what exists only in beta (the policy type, its
//! threat level, a setting, an action) — live once, in `mtd_model::rules`.
//! Each fires from every entry point: the config check (file:line), the
//! pipeline (a rules script that breaks it), the Graph client (refused
//! before sending) and the emulator (Graph's 400).

use std::path::Path;

use mtd_e2e::graph::{client, emulator};
use mtdhost::config::Config;
use mtdhost::emulator::EmulatorConfig;
use mtdhost::graph::schema::{ApiVersion, PolicyType};
use mtdhost::graph::ActionItem;
use mtdhost::pipeline;
use mtdhost::runtime::{Cache, Runtime};
use reqwest::Method;
use serde_json::{json, Map, Value};

/// One broken rule, as each entry point is fed it.
struct Case {
    rule: &'static str,
    /// The `[[policy]]` entry's keys after its name, breaking it (config entry point).
    config: String,
    /// What the config error says.
    config_says: &'static str,
    /// A Rhai statement breaking it on `p`, the iOS v1.0 policy, or adding
    /// a policy that breaks it (pipeline).
    script: &'static str,
    pipeline_says: &'static str,
    /// (type, version, settings, actions) sent by the client and raw to the emulator.
    graph: (PolicyType, ApiVersion, Value, Value),
    client_says: &'static str,
    emulator_says: &'static str,
}

fn cases() -> Vec<Case> {
    let block = json!([{"actionType": "block", "gracePeriodHours": 0}]);
    vec![
        Case {
            rule: "exactly one block action",
            config: format!("{IOS}actions = [{{ type = \"block\" }}, {{ type = \"block\", grace-period-hours = 24 }}]"),
            config_says: "has 2 block actions; Intune allows exactly one",
            script: "p.actions.push(#{ type: \"block\", grace_period_hours: 48 });",
            pipeline_says: "needs exactly one block action, has 2",
            graph: (PolicyType::Ios, ApiVersion::V1, json!({}), json!([{"actionType": "retire", "gracePeriodHours": 0}])),
            client_says: "needs exactly one block action; this one has 0",
            emulator_says: "one and only one block scheduled action",
        },
        Case {
            rule: "grace period at most 8760 h",
            config: format!("{IOS}actions = [{{ type = \"block\", grace-period-hours = 8761 }}]"),
            config_says: "grace-period-hours must be at most 8760",
            script: "p.actions.push(#{ type: \"retire\", grace_period_hours: 9000 });",
            pipeline_says: "grace period 9000 h is outside 0 to 8760 h",
            graph: (PolicyType::Ios, ApiVersion::V1, json!({}), json!([{"actionType": "block", "gracePeriodHours": 8761}])),
            client_says: "grace period 8761 h is outside 0 to 8760 h",
            emulator_says: "gracePeriodHours must be an integer from 0 to 8760",
        },
        Case {
            rule: "beta-only policy type",
            config: "platforms = [\"android-device-owner\"]\nplatform-suffix = false\n".into(),
            config_says: "Android Device Owner compliance policies exist only in the Graph beta API",
            script: "policies.push(#{ name: \"Added\", platform: \"android-device-owner\", include: [], exclude: [], actions: [#{ type: \"block\", grace_period_hours: 0 }] });",
            // A policy a rule adds gets its type's lowest API version, so a
            // plugin cannot break this one: the pipeline picks beta.
            pipeline_says: "",
            graph: (PolicyType::AndroidDeviceOwner, ApiVersion::V1, json!({}), block.clone()),
            client_says: "androidDeviceOwnerCompliancePolicy exists only in the beta API",
            emulator_says: "androidDeviceOwnerCompliancePolicy",
        },
        Case {
            rule: "beta-only threat level",
            config: "platforms = [\"windows\"]\nplatform-suffix = false\nmax-threat-level = \"low\"\n".into(),
            config_says: "Windows has no third-party MTD threat level in Graph v1.0",
            script: "policies.push(#{ name: \"Added\", platform: \"windows\", max_threat_level: \"low\", include: [], exclude: [], actions: [#{ type: \"block\", grace_period_hours: 0 }] });",
            pipeline_says: "Windows has no third-party MTD threat level in Graph v1.0",
            graph: (
                PolicyType::Windows10,
                ApiVersion::V1,
                json!({"deviceThreatProtectionRequiredSecurityLevel": "low"}),
                block.clone(),
            ),
            client_says: "'deviceThreatProtectionRequiredSecurityLevel' exists only in the beta API",
            emulator_says: "deviceThreatProtectionRequiredSecurityLevel",
        },
        Case {
            rule: "beta-only setting",
            config: format!("{IOS}[policy.settings]\nosMinimumBuildVersion = \"21A329\"\n"),
            config_says: "'osMinimumBuildVersion' exists only in the beta API",
            script: "p.settings.osMinimumBuildVersion = \"21A329\";",
            pipeline_says: "'osMinimumBuildVersion' exists only in the beta API",
            graph: (PolicyType::Ios, ApiVersion::V1, json!({"osMinimumBuildVersion": "21A329"}), block.clone()),
            client_says: "'osMinimumBuildVersion' exists only in the beta API",
            emulator_says: "osMinimumBuildVersion",
        },
        Case {
            rule: "beta-only action",
            config: format!("{IOS}actions = [{{ type = \"block\" }}, {{ type = \"remote-lock\", grace-period-hours = 24 }}]"),
            config_says: "remote-lock exists only in the Graph beta API",
            script: "p.actions.push(#{ type: \"remote-lock\", grace_period_hours: 24 });",
            pipeline_says: "remote-lock exists only in the Graph beta API",
            graph: (
                PolicyType::Ios,
                ApiVersion::V1,
                json!({}),
                json!([{"actionType": "block", "gracePeriodHours": 0}, {"actionType": "remoteLock", "gracePeriodHours": 24}]),
            ),
            client_says: "remote-lock exists only in the Graph beta API",
            emulator_says: "remoteLock",
        },
    ]
}

/// The iOS v1.0 policy every case starts from.
const IOS: &str = "platforms = [\"ios\"]\nplatform-suffix = false\nmax-threat-level = \"low\"\n";

fn write_config(dir: &Path, rules: bool, policy: &str) -> std::path::PathBuf {
    let path = dir.join("mtdhost.toml");
    let top = if rules {
        "rules = [\"rules\"]\n[plugins.rules]\nsource = \"builtin:rules-script\"\n[plugins.rules.settings]\nscript-file = \"rules.rhai\"\n"
    } else {
        ""
    };
    std::fs::write(&path, format!("{top}\n[tenant]\nemulator = {{}}\n\n[[policy]]\nname = \"P\"\n{policy}"))
        .unwrap();
    path
}

#[test]
fn each_rule_fires_from_the_config_check() {
    for c in cases() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), false, &c.config);
        let e = Config::load(&path).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(c.config_says), "{}: {e}", c.rule);
        assert!(e.contains("mtdhost.toml:"), "{}: names the file and line: {e}", c.rule);
    }
}

#[test]
fn each_rule_fires_from_the_pipeline() {
    let rt = Runtime::new(Cache::disabled());
    for c in cases() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), true, IOS);
        let script = format!("fn rule_break(policies, tenant) {{\n    let p = policies[0];\n    {}\n    policies[0] = p;\n    policies\n}}\n", c.script);
        std::fs::write(dir.path().join("rules.rhai"), script).unwrap();
        let config =
            Config::load(&path).unwrap_or_else(|e| panic!("{}: the config itself is valid: {e}", c.rule));
        let tenant = mtdhost::pipeline::TenantView::offline();
        let built = pipeline::build(&config, &rt, &tenant);
        if c.pipeline_says.is_empty() {
            let added = built.unwrap_or_else(|e| panic!("{}: {e}", c.rule)).policies;
            let added = added.iter().find(|p| p.display_name == "Added").expect("the added policy");
            assert_eq!(added.version, ApiVersion::Beta, "{}", c.rule);
            continue;
        }
        let e = match built {
            Ok(d) => panic!("{}: passed the pipeline: {:?}", c.rule, d.policies),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(c.pipeline_says), "{}: {e}", c.rule);
    }
}

fn actions_of(v: &Value) -> Vec<ActionItem> {
    serde_json::from_value(v.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_fires_from_the_client_and_the_emulator() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    for case in cases() {
        let (ty, version, settings, actions) = &case.graph;
        let mut body: Map<String, Value> = settings.as_object().cloned().unwrap();
        body.insert("displayName".into(), json!(format!("rule {}", case.rule)));
        emu.clear_requests();
        let refused = c.create_policy(*version, *ty, &body, &actions_of(actions)).await.unwrap_err();
        assert!(refused.to_string().contains(case.client_says), "{}: {refused}", case.rule);
        assert!(
            emu.requests().iter().all(|r| r.method != "POST" || r.path.contains("oauth2")),
            "nothing sent"
        );

        // The same body sent raw: the emulator answers as Graph would.
        body.insert("@odata.type".into(), json!(ty.odata_type()));
        body.insert(
            "scheduledActionsForRule".into(),
            json!([{"ruleName": "PasswordRequired", "scheduledActionConfigurations": actions}]),
        );
        let url = c.url(*version, "/deviceManagement/deviceCompliancePolicies");
        let e = c.request(Method::POST, &url, Some(&Value::Object(body))).await.unwrap_err();
        assert_eq!(e.status(), Some(400), "{}: {e}", case.rule);
        assert!(e.to_string().contains(case.emulator_says), "{}: {e}", case.rule);
    }
    assert!(emu.tenant().policies.is_empty(), "no broken policy was created");
}
