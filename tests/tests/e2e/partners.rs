//! Vocabulary and settings tests for the partner mapping plugins, run as
//! real wasm components through the host: every documented severity,
//! resolved and ignored threats, unknown values, overrides and threshold
//! translation. Records are in the partners' documented shapes; the golden
//! per-shape cases are in `golden.rs` and `plugins/<name>/fixtures/`.

use std::collections::BTreeMap;

use mtdhost::runtime::{Cache, EventBatch, LoadOptions, LoadedPlugin, PluginSource, Runtime, ThreatLevel};
use ThreatLevel::*;

fn load(name: &str, settings: &str) -> LoadedPlugin {
    let rt = Runtime::new(Cache::disabled());
    let src = PluginSource::builtin(name).unwrap_or_else(|| panic!("builtin {name}"));
    let p = rt.load(&src, &LoadOptions { settings_json: settings.into(), ..LoadOptions::default() }).unwrap();
    assert!(p.settings_diagnostics().is_empty(), "{name}: {:?}", p.settings_diagnostics());
    p
}

fn levels(p: &LoadedPlugin, raw: &str) -> BTreeMap<String, ThreatLevel> {
    let out = p.map_events(&EventBatch { raw: Some(raw.into()), records: vec![], first_record: 1 }).unwrap();
    out.devices.into_iter().map(|d| (d.device_id, d.level)).collect()
}

fn expect(p: &LoadedPlugin, raw: &str, want: &[(&str, ThreatLevel)]) {
    let got = levels(p, raw);
    let want: BTreeMap<String, ThreatLevel> = want.iter().map(|(d, l)| (d.to_string(), *l)).collect();
    assert_eq!(got, want, "{} on {raw}", p.info().name);
}

fn translates(p: &LoadedPlugin, pairs: &[(&str, ThreatLevel)]) {
    for (word, level) in pairs {
        assert_eq!(p.translate_severity(word).unwrap(), *level, "{}: {word}", p.info().name);
    }
    assert!(p.translate_severity("Catastrophic").is_err(), "an unknown word is not silently mapped");
}

#[test]
fn lookout() {
    let p = load("lookout", "{}");
    assert_eq!(p.info().partner.as_deref(), Some("Lookout for Work"));
    translates(
        &p,
        &[
            ("NONE", Secured),
            ("LOW", Low),
            ("MEDIUM", Medium),
            ("Moderate", Medium),
            ("HIGH", High),
            ("medium", Medium),
        ],
    );
    // Lookout v1 THREAT events (device in target.id, lifecycle in details.action).
    let ev = |dev: &str, class: &str, sev: &str, action: &str| {
        format!(
            r#"{{"type":"THREAT","id":"1","eventTime":"2024-01-01T00:00:00Z","changeType":"CREATED","target":{{"type":"DEVICE","id":"{dev}"}},"details":{{"type":"APPLICATION","id":"{dev}-{class}","classifications":["{class}"],"severity":"{sev}","action":"{action}"}}}}"#
        )
    };
    let raw = [
        ev("a", "TROJAN", "HIGH", "DETECTED"),
        ev("b", "ADWARE", "LOW", "DETECTED"),
        ev("b", "PHISHING", "MEDIUM", "DETECTED"),
        ev("c", "SPY", "HIGH", "RESOLVED"),
        ev("c", "RISKWARE", "NONE", "DETECTED"),
        ev("d", "VULNERABILITY", "HIGH", "IGNORED"),
    ]
    .join("\n");
    expect(&p, &raw, &[("a", High), ("b", Medium), ("c", Secured), ("d", Secured)]);
    // v2 THREAT item: the device is the actor.
    expect(
        &p,
        r#"{"id":"x","type":"THREAT","created_time":"2025-02-20T09:55:18.817+00:00","threat":{"guid":"t","classifications":["BOT"],"severity":"MEDIUM","status":"OPEN"},"target":{"guid":"v2","type":"THREAT"},"actor":{"guid":"v2","type":"DEVICE"}}"#,
        &[("v2", Medium)],
    );
    // Device status records, v1 and v2.
    expect(
        &p,
        "{\"type\":\"DEVICE\",\"id\":\"5\",\"target\":{\"id\":\"s1\"},\"details\":{\"securityStatus\":\"SECURE\"}}\n{\"type\":\"DEVICE\",\"id\":\"6\",\"target\":{\"id\":\"s2\"},\"details\":{\"securityStatus\":\"THREAT_HIGH\"}}\n{\"type\":\"DEVICE\",\"device\":{\"guid\":\"s3\",\"status\":{\"security_status\":\"THREATS_LOW\"}}}",
        &[("s1", Secured), ("s2", High), ("s3", Low)],
    );
    // Unknown severity: reported, fail closed to high; or to the configured level.
    let out = p
        .map_events(&EventBatch {
            raw: Some(ev("u", "WORM", "EXTREME", "DETECTED")),
            records: vec![],
            first_record: 1,
        })
        .unwrap();
    assert_eq!(out.devices[0].level, High);
    assert!(out.diagnostics[0].message.contains("unknown Lookout severity 'EXTREME'"));
    let relaxed = load(
        "lookout",
        r#"{"unknown-level":"low","overrides":{"ADWARE":"high"},"severity-levels":{"MEDIUM":"low"}}"#,
    );
    expect(
        &relaxed,
        &[
            ev("u", "WORM", "EXTREME", "DETECTED"),
            ev("o", "ADWARE", "LOW", "DETECTED"),
            ev("m", "BOT", "MEDIUM", "DETECTED"),
        ]
        .join("\n"),
        &[("u", Low), ("o", High), ("m", Low)],
    );
    assert_eq!(
        relaxed.translate_severity("MEDIUM").unwrap(),
        Low,
        "threshold translation follows the override"
    );
}

#[test]
fn zimperium_and_its_variants() {
    let p = load("zimperium", "{}");
    translates(
        &p,
        &[
            ("Critical", High),
            ("ELEVATED", Medium),
            ("Low", Low),
            ("Normal", Secured),
            ("3", High),
            ("2", Medium),
        ],
    );
    // MTD API threats (device in deviceId; state 1 is active) and a device's risk posture.
    let raw = r#"{"content":[
      {"id":"1","deviceId":"a","severity":3,"severityName":"CRITICAL","threatTypeName":"SYSTEM TAMPERING","state":1},
      {"id":"2","deviceId":"b","severity":2,"severityName":"ELEVATED","threatTypeName":"UNKNOWN SOURCES ON","state":1},
      {"id":"3","deviceId":"c","severity":1,"threatTypeName":"USB DEBUGGING","state":1},
      {"id":"4","deviceId":"d","severity":3,"severityName":"CRITICAL","threatTypeName":"MITM","state":"MITIGATED"},
      {"id":"5","deviceId":"e","severityName":"NORMAL","threatTypeName":"PIN DISABLED","state":1},
      {"id":"f","riskPosture":3,"riskPostureName":"CRITICAL"}
    ]}"#;
    expect(&p, raw, &[("a", High), ("b", Medium), ("c", Low), ("d", Secured), ("e", Secured), ("f", High)]);
    for variant in ["trellix", "sentinelone"] {
        let v = load("zimperium", &format!(r#"{{"variant":"{variant}"}}"#));
        expect(
            &v,
            raw,
            &[("a", High), ("b", Medium), ("c", Low), ("d", Secured), ("e", Secured), ("f", High)],
        );
    }
    let rt = Runtime::new(Cache::disabled());
    let bad = rt
        .load(
            &PluginSource::builtin("zimperium").unwrap(),
            &LoadOptions { settings_json: r#"{"variant":"mcafee"}"#.into(), ..Default::default() },
        )
        .unwrap();
    assert!(bad.settings_diagnostics()[0].message.contains("'mcafee' is not a variant"));
}

#[test]
fn jamf_categories_and_risk_switch() {
    let p = load("jamf", "{}");
    translates(
        &p,
        &[
            ("HIGHEST", High),
            ("HIGH", High),
            ("MEDIUM", Medium),
            ("LOW", Low),
            ("LOWEST", Low),
            ("INFO", Secured),
        ],
    );
    // Threat Events Stream events without a severity take their category's default.
    let ev = |dev: &str, cat: &str, action: &str| {
        format!(
            r#"{{"event":{{"timestamp":"2024-01-10T12:20:37.059Z","alertId":"{dev}{cat}","device":{{"deviceId":"{dev}"}},"eventType":{{"id":"1","name":"{cat}"}},"action":"{action}"}}}}"#
        )
    };
    let raw = [
        ev("a", "OS_JAILBREAK", "Detected"),
        ev("b", "APP_LEAK_PASSWORD", "Detected"),
        ev("c", "APP_LEAK_EMAIL", "Detected"),
        ev("d", "DEVICE_USB_DEBUGGING_ENABLED", "Detected"),
        ev("e", "DEVICE_APP_INACTIVITY", "Detected"),
        ev("f", "ACCESS_PHISHING_HOST", "Resolved"),
        ev("g", "ACCESS_PHISHING_HOST", "Blocked"),
    ]
    .join("\n");
    expect(
        &p,
        &raw,
        &[("a", High), ("b", Medium), ("c", Low), ("d", Low), ("e", Secured), ("f", Secured), ("g", High)],
    );
    // An explicit severity wins over the category default; the risk switch is configurable.
    expect(
        &p,
        r#"{"event":{"device":{"deviceId":"h"},"eventType":{"id":204,"name":"OS_JAILBREAK"},"severity":2,"action":"Detected"}}"#,
        &[("h", Secured)],
    );
    let switched = load("jamf", r#"{"not-affecting-risk":["OS_JAILBREAK"]}"#);
    expect(
        &switched,
        &[ev("a", "OS_JAILBREAK", "Detected"), ev("e", "DEVICE_APP_INACTIVITY", "Detected")].join("\n"),
        &[("a", Secured), ("e", Medium)],
    );
    // An unknown category without a severity is reported and fails closed.
    let out = p
        .map_events(&EventBatch {
            raw: Some(ev("z", "BRAND_NEW_THREAT", "Detected")),
            records: vec![],
            first_record: 1,
        })
        .unwrap();
    assert_eq!(out.devices[0].level, High);
    assert!(out.diagnostics[0].message.contains("unknown classification 'BRAND_NEW_THREAT'"));
    expect(&p, r#"{"records":[{"deviceId":"r","risk":"LOW"}]}"#, &[("r", Low)]);
}

#[test]
fn defender_alerts_and_machine_risk() {
    let p = load("defender", "{}");
    translates(
        &p,
        &[
            ("High", High),
            ("Medium", Medium),
            ("Low", Low),
            ("Informational", Secured),
            ("UnSpecified", High),
        ],
    );
    let raw = r#"{"value":[
      {"id":"1","severity":"High","status":"New","category":"Malware","machineId":"a"},
      {"id":"2","severity":"Medium","status":"InProgress","category":"Phishing","machineId":"b"},
      {"id":"3","severity":"Low","status":"New","category":"UnwantedSoftware","machineId":"c"},
      {"id":"4","severity":"High","status":"Resolved","category":"Malware","machineId":"d"},
      {"id":"5","severity":"Informational","status":"New","category":"Discovery","machineId":"e"}
    ]}"#;
    expect(&p, raw, &[("a", High), ("b", Medium), ("c", Low), ("d", Secured), ("e", Secured)]);
    // Graph alerts_v2 evidence shape, lower-case status.
    expect(
        &p,
        r##"{"id":"g","severity":"medium","status":"resolved","category":"x","evidence":[{"@odata.type":"#microsoft.graph.security.deviceEvidence","mdeDeviceId":"m1"}]}"##,
        &[("m1", Secured)],
    );
    expect(&p, r#"{"id":"m2","riskScore":"Medium"}"#, &[("m2", Medium)]);
}

#[test]
fn check_point_levels() {
    let p = load("checkpoint", "{}");
    translates(
        &p,
        &[
            ("High", High),
            ("High (Device Alert)", High),
            ("Medium (Device Alert)", Medium),
            ("Medium (No Device Alert)", Medium),
            ("Medium (Dismissive Device Alert)", Medium),
            ("Low", Low),
            ("No Risk", Secured),
            ("Off", Secured),
        ],
    );
    let raw = r#"{"objects":[
      {"id":1,"device_id":"cp-1","severity":"Critical","event":"Detected","attack_vector":"Device","threat_factors":"Root"},
      {"id":2,"device_id":2,"severity":"Warning","event":"Detected","attack_vector":"NetworkSecurity","threat_factors":"MitM"},
      {"id":3,"device_id":"cp-3","severity":"Information","event":"Detected","attack_vector":"Application","threat_factors":"PUA"},
      {"id":4,"device_id":"cp-4","severity":"Critical","event":"Ended","attack_vector":"Device","threat_factors":"Root"}
    ]}"#;
    expect(&p, raw, &[("cp-1", High), ("2", Medium), ("cp-3", Secured), ("cp-4", Secured)]);
    let relaxed =
        load("checkpoint", r#"{"severity-levels":{"Warning":"low"},"status-levels":{"3":"medium"}}"#);
    expect(
        &relaxed,
        r#"{"objects":[{"id":2,"device_id":2,"severity":"Warning","event":"Detected"},{"internal_id":"d","risk":"3"}]}"#,
        &[("2", Low), ("d", Medium)],
    );
}

#[test]
fn generic_plugin_takes_everything_from_settings() {
    let settings = r#"{"partner":"Pradeo","severities":{"Critical":"high","Warning":"medium","Notice":"low","OK":"secured"},
        "fields":{"device":["dev.id"],"threat-id":["uid"],"classification":["kind"],"severity":["grade"],"status":["st"]},"inactive":["fixed"]}"#;
    let p = load("generic", settings);
    translates(&p, &[("Critical", High), ("Warning", Medium), ("Notice", Low), ("OK", Secured)]);
    let raw = "{\"dev\":{\"id\":\"a\"},\"uid\":\"1\",\"kind\":\"malware\",\"grade\":\"Critical\",\"st\":\"open\"}\n{\"dev\":{\"id\":\"b\"},\"uid\":\"2\",\"kind\":\"malware\",\"grade\":\"Critical\",\"st\":\"fixed\"}\n{\"dev\":{\"id\":\"c\"},\"uid\":\"3\",\"kind\":\"x\",\"grade\":\"Notice\",\"st\":\"open\"}";
    expect(&p, raw, &[("a", High), ("b", Secured), ("c", Low)]);
    let rt = Runtime::new(Cache::disabled());
    let bad = rt
        .load(
            &PluginSource::builtin("generic").unwrap(),
            &LoadOptions { settings_json: r#"{"severities":{"Bad":"severe"}}"#.into(), ..Default::default() },
        )
        .unwrap();
    assert!(bad.settings_diagnostics().iter().any(|d| d.path == "severities.Bad"));
}

#[test]
fn malformed_records_are_named_by_number() {
    let p = load("lookout", "{}");
    let raw = "{\"type\":\"THREAT\",\"target\":{\"id\":\"a\"},\"details\":{\"id\":\"t\",\"severity\":\"LOW\"}}\nnot json\n[1,2]\n{\"type\":\"THREAT\",\"details\":{\"severity\":\"LOW\"}}";
    let out = p.map_events(&EventBatch { raw: Some(raw.into()), records: vec![], first_record: 41 }).unwrap();
    let paths: Vec<&str> = out.diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["record 42 (line 2)", "record 43 (line 3)", "record 44 (line 4)"]);
    assert!(out.diagnostics[2].message.contains("no device id"));
}

#[test]
fn every_partner_plugin_inspects_cleanly() {
    for name in ["lookout", "zimperium", "jamf", "defender", "checkpoint", "generic", "example"] {
        let p = load(name, if name == "generic" { r#"{"severities":{"High":"high"}}"# } else { "{}" });
        assert_eq!(p.info().contract_version, mtdhost::runtime::CONTRACT_VERSION);
        assert!(p.has(mtdhost::runtime::Capability::ThreatMapping));
        assert!(!p.severity_vocabulary().unwrap().is_empty(), "{name}");
    }
}
