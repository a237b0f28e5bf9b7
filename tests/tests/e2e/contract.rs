//! Contract versions side by side: a plugin built for 0.2.0 (before
//! `tenant.conditional-access`) runs unchanged on this 0.2.1 host, a 0.2.1
//! plugin gets the run's Conditional Access policies during `apply-rules`,
//! and asking for them in any other call stops the plugin with a clear error.

use mtd_e2e::{load, runtime};
use mtdhost::runtime::{
    Assignments, CaPolicy, CaSource, CaState, EventBatch, Failure, Group, Limits, Platform, Policy,
    TenantContext, ThreatLevel,
};

fn policy(name: &str, platform: Platform, level: Option<ThreatLevel>) -> Policy {
    Policy {
        name: name.into(),
        description: String::new(),
        platform,
        partner: None,
        max_threat_level: level,
        settings_json: "{}".into(),
        actions: Vec::new(),
        assignments: Assignments {
            include_groups: vec!["MTD - iOS Users".into()],
            exclude_groups: Vec::new(),
            all_users: false,
            all_devices: false,
        },
    }
}

fn tenant() -> TenantContext {
    TenantContext {
        groups: vec![Group {
            id: "0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01".into(),
            display_name: "MTD - iOS Users".into(),
        }],
        connectors: Vec::new(),
        platforms: vec![Platform::Ios],
    }
}

fn ca(name: &str, grant: &[&str], state: CaState) -> CaPolicy {
    CaPolicy {
        id: String::new(),
        display_name: name.into(),
        source: CaSource::Config,
        state,
        platforms: vec!["iOS".into()],
        exclude_platforms: Vec::new(),
        apps: vec!["Office365".into()],
        exclude_apps: Vec::new(),
        all_users: false,
        include_groups: tenant().groups,
        exclude_groups: Vec::new(),
        include_users: Vec::new(),
        exclude_users: Vec::new(),
        include_roles: Vec::new(),
        exclude_roles: Vec::new(),
        grant_controls: grant.iter().map(|g| g.to_string()).collect(),
        grant_operator: "OR".into(),
    }
}

#[test]
fn a_plugin_built_for_0_2_0_still_loads_and_runs() {
    let rt = runtime();
    let old = load(&rt, "mtd-test-contract-0-2-0", "{}", Limits::default());
    assert_eq!(old.info().contract_version, "0.2.0");
    let input = [policy("MTD - iOS", Platform::Ios, Some(ThreatLevel::Medium))];
    let out = old.apply_rules(&input, &tenant(), &[ca("x", &["compliantDevice"], CaState::On)]).unwrap();
    assert_eq!(out.policies[0].max_threat_level, Some(ThreatLevel::Low));
    assert_eq!(out.notes[0].message, "tightened to low; saw 1 groups");
}

#[test]
fn a_0_2_1_rules_plugin_sees_the_runs_conditional_access() {
    let rt = runtime();
    let script = r#"fn rule_ca(policies, tenant) {
    for ca in tenant.conditional_access {
        if ca.state == "off" || !ca.requires_compliant_device { continue; }
        for i in 0..policies.len() {
            if policies[i].platform in ca.platforms && ca.include.contains(policies[i].include[0]) {
                policies[i].max_threat_level = stricter(policies[i].max_threat_level, "low");
                policies[i].description = `enforced by ${ca.name} (${ca.source}, ${ca.state})`;
            }
        }
    }
    policies
}"#;
    let settings = serde_json::json!({ "script": script }).to_string();
    let rules = load(&rt, "mtd-plugin-rules-script", &settings, Limits::default());
    let input = [
        policy("MTD - iOS", Platform::Ios, Some(ThreatLevel::Medium)),
        policy("MTD - Windows", Platform::Windows, Some(ThreatLevel::Medium)),
    ];
    let policies = [
        ca("Off & ignored", &["compliantDevice"], CaState::Off),
        ca("MFA or compliant", &["compliantDevice", "mfa"], CaState::On),
        ca("Require compliant device for 'Office 365'", &["compliantDevice"], CaState::ReportOnly),
    ];
    let out = rules.apply_rules(&input, &tenant(), &policies).unwrap();
    let ios = &out.policies[0];
    assert_eq!(ios.max_threat_level, Some(ThreatLevel::Low));
    assert_eq!(
        ios.description,
        "enforced by Require compliant device for 'Office 365' (config, report-only)"
    );
    assert_eq!(out.policies[1].max_threat_level, Some(ThreatLevel::Medium), "no CA on Windows");

    // No CA in the run: nothing to act on, nothing changed.
    let out = rules.apply_rules(&input, &tenant(), &[]).unwrap();
    assert_eq!(out.policies[0].max_threat_level, Some(ThreatLevel::Medium));
}

#[test]
fn asking_for_conditional_access_outside_rules_stops_the_plugin() {
    let rt = runtime();
    let p = load(&rt, "mtd-test-hostile", r#"{"behaviour":"ca-outside-rules"}"#, Limits::default());
    let err = p
        .map_events(&EventBatch { raw: Some("[]".into()), records: Vec::new(), first_record: 1 })
        .unwrap_err();
    assert!(matches!(err.failure, Failure::Trap { .. }), "{err:?}");
    assert!(
        err.to_string().contains("tenant.conditional-access is available only during apply-rules"),
        "{err}"
    );
}
