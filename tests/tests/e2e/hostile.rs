//! The hostile-plugin suite: each misbehaving plugin ends in a clear,
//! specific error, and the same host process then evaluates a well-behaved
//! plugin correctly.

use mtd_e2e::{load, runtime, source};
use mtdhost::runtime::{
    EventBatch, Failure, Limits, LoadError, LoadOptions, PluginSource, Runtime, ThreatLevel, ThreatRecord,
};

/// The well-behaved plugin still works: proves the host was not poisoned.
fn assert_host_healthy(rt: &Runtime) {
    let example = load(rt, "mtd-plugin-example", "{}", Limits::default());
    let batch = EventBatch {
        raw: None,
        records: vec![
            ThreatRecord {
                device_id: "dev-1".into(),
                threat_id: "t-1".into(),
                classification: "TROJAN".into(),
                severity: "high".into(),
                status: "DETECTED".into(),
                detected_at: None,
            },
            ThreatRecord {
                device_id: "dev-2".into(),
                threat_id: "t-2".into(),
                classification: "ADWARE".into(),
                severity: "low".into(),
                status: "DETECTED".into(),
                detected_at: None,
            },
        ],
        first_record: 1,
    };
    let out = example.map_events(&batch).expect("example maps");
    let levels: Vec<_> = out.devices.iter().map(|d| (d.device_id.as_str(), d.level)).collect();
    assert_eq!(levels, vec![("dev-1", ThreatLevel::High), ("dev-2", ThreatLevel::Low)]);
}

fn hostile(rt: &Runtime, behaviour: &str, limits: Limits) -> mtdhost::runtime::LoadedPlugin {
    load(rt, "mtd-test-hostile", &format!(r#"{{"behaviour":"{behaviour}"}}"#), limits)
}

fn empty_batch() -> EventBatch {
    EventBatch { raw: None, records: Vec::new(), first_record: 1 }
}

#[test]
fn infinite_loop_hits_the_deadline() {
    let rt = runtime();
    let p = hostile(&rt, "spin", Limits { deadline_ms: 150, ..Limits::default() });
    let started = std::time::Instant::now();
    let err = p.map_events(&empty_batch()).unwrap_err();
    assert_eq!(err.failure, Failure::Deadline { deadline_ms: 150 });
    assert!(started.elapsed().as_secs() < 10, "deadline was not enforced promptly");
    assert_eq!(err.to_string(), "plugin hostile 6.6.6 (map-events): ran past its 150 ms deadline");
    // The same plugin can be called again: each call gets a fresh store.
    assert!(p.severity_vocabulary().unwrap().is_empty());
    assert_host_healthy(&rt);
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    let rt = runtime();
    let p = hostile(&rt, "membomb", Limits { memory_mib: 32, ..Limits::default() });
    let err = p.map_events(&empty_batch()).unwrap_err();
    assert!(matches!(err.failure, Failure::Memory { limit_mib: 32, .. }), "{err}");
    assert!(err.to_string().contains("exceeded its 32 MiB memory limit"), "{err}");
    assert_host_healthy(&rt);
}

#[test]
fn unbounded_recursion_overflows_the_stack() {
    let rt = runtime();
    let p = hostile(&rt, "recurse", Limits { stack_kib: 256, ..Limits::default() });
    let err = p.map_events(&empty_batch()).unwrap_err();
    assert_eq!(err.failure, Failure::StackOverflow { stack_kib: 256 }, "{err}");
    assert!(err.to_string().contains("overflowed its 256 KiB stack"));
    assert_host_healthy(&rt);
}

#[test]
fn panic_message_is_shown() {
    let rt = runtime();
    let p = hostile(&rt, "panic", Limits::default());
    let err = p.map_events(&empty_batch()).unwrap_err();
    match &err.failure {
        Failure::Panic { message } => {
            assert!(message.starts_with("the partner feed had 42 columns (at "), "{message}")
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with(
            "plugin hostile 6.6.6 (map-events): panicked: \"the partner feed had 42 columns (at "
        ),
        "{err}"
    );
    assert_host_healthy(&rt);
}

#[test]
fn output_over_the_cap_is_refused() {
    let rt = runtime();
    // 200,000 diagnostics: far over the cap once copied, so refused while copying.
    let p = hostile(&rt, "flood", Limits { output_mib: 4, memory_mib: 256, ..Limits::default() });
    let err = p.map_events(&empty_batch()).unwrap_err();
    assert_eq!(err.failure, Failure::OutputOverBudget { cap_mib: 4 }, "{err}");
    // 8 MiB in a few long strings: copied (within the copy budget), then
    // measured and refused by its exact size.
    let p = hostile(&rt, "bulky", Limits { output_mib: 4, ..Limits::default() });
    let err = p.map_events(&empty_batch()).unwrap_err();
    match err.failure {
        Failure::OutputTooLarge { size_mib, cap_mib } => {
            assert_eq!(cap_mib, 4);
            assert!((8.0..8.1).contains(&size_mib), "{size_mib}");
        }
        other => panic!("expected output cap, got {other:?}"),
    }
    assert!(
        err.to_string().contains("8.0 MiB of output, over its 4 MiB cap (limits.output-mib raises it)"),
        "{err}"
    );
    assert_host_healthy(&rt);
}

#[test]
fn chatty_plugin_is_truncated_not_trapped() {
    let rt = runtime();
    // A generous deadline: this test is about truncation, and a loaded
    // machine must not turn 40,000 writes into a timeout.
    let p = hostile(&rt, "chatty", Limits { deadline_ms: 60_000, ..Limits::default() });
    // 20k log lines and 20k stderr lines (~1 MiB): kept up to the log cap, the rest dropped.
    let out = p.map_events(&empty_batch()).expect("chatty output is truncated, not fatal");
    assert!(out.devices.is_empty());
    assert_host_healthy(&rt);
}

#[test]
fn file_env_and_clock_are_not_available() {
    let rt = runtime();
    std::env::set_var("MTD_SECRET_FOR_TEST", "hunter2");
    let p = hostile(&rt, "snoop", Limits::default());
    let out = p.map_events(&empty_batch()).expect("snoop returns what it saw");
    let seen = |path: &str| {
        out.diagnostics
            .iter()
            .find(|d| d.path == path)
            .map(|d| d.message.clone())
            .unwrap_or_else(|| panic!("no {path} diagnostic"))
    };
    assert!(seen("file").starts_with("error:"), "file read: {}", seen("file"));
    assert!(seen("dir").starts_with("error:"), "dir listing: {}", seen("dir"));
    assert!(seen("env").starts_with("error:"), "env: {}", seen("env"));
    assert_eq!(seen("env-count"), "0");
    assert_eq!(seen("clock"), "0", "the clock is frozen at the epoch");
    assert_host_healthy(&rt);
}

fn load_err(rt: &Runtime, source: &PluginSource) -> LoadError {
    rt.load(source, &LoadOptions::default()).expect_err("must not load")
}

#[test]
fn incompatible_contract_version_is_explained() {
    let rt = runtime();
    let err = load_err(&rt, &source("mtd-test-future-contract"));
    assert!(matches!(err, LoadError::IncompatibleContract { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.ends_with("was built for mtd:plugin 2.0.0; this host supports mtd:plugin 0.2.0 to 0.2.1"),
        "{msg}"
    );
    assert!(!msg.contains("linker") && !msg.contains("import"), "{msg}");
    assert_host_healthy(&rt);
}

#[test]
fn component_of_another_world_is_not_a_plugin() {
    let rt = runtime();
    let err = load_err(&rt, &source("mtd-test-other-world"));
    assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err:?}");
    assert!(
        err.to_string().contains("exports example:other/greeter@1.0.0 instead of mtd:plugin/guest@0.2.1"),
        "{err}"
    );
    assert_host_healthy(&rt);
}

fn bytes(label: &str, bytes: Vec<u8>) -> PluginSource {
    PluginSource { label: label.into(), bytes: bytes.into() }
}

#[test]
fn core_module_empty_file_and_random_bytes() {
    let rt = runtime();
    let core = wat::parse_str("(module (func (export \"f\")))").unwrap();
    let err = load_err(&rt, &bytes("core.wasm", core));
    assert_eq!(
        err.to_string(),
        "plugin core.wasm is a core WebAssembly module, not a component; build it for the wasm32-wasip2 target with the mtd-sdk"
    );

    let err = load_err(&rt, &bytes("empty.wasm", Vec::new()));
    assert_eq!(err.to_string(), "plugin empty.wasm is an empty file, not a WebAssembly component");

    // Deterministic "random" bytes (xorshift), with and without a component header.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let err = load_err(&rt, &bytes("noise.wasm", noise.clone()));
    assert!(matches!(err, LoadError::NotWasm { .. }), "{err:?}");

    let mut fake = b"\0asm\x0d\0\x01\0".to_vec();
    fake.extend_from_slice(&noise);
    let err = load_err(&rt, &bytes("fake.wasm", fake));
    assert!(matches!(err, LoadError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().starts_with("plugin fake.wasm is not a valid WebAssembly component: "), "{err}");
    assert_host_healthy(&rt);
}

#[test]
fn many_traps_in_a_row_do_not_poison_the_host() {
    let rt = runtime();
    let p = hostile(&rt, "panic", Limits::default());
    for _ in 0..20 {
        assert!(matches!(p.map_events(&empty_batch()).unwrap_err().failure, Failure::Panic { .. }));
    }
    assert_host_healthy(&rt);
}

/// How long a refused or bounded call may take beyond its deadline.
const MARGIN: std::time::Duration = std::time::Duration::from_secs(1);

fn timed<T>(f: impl FnOnce() -> T) -> (T, std::time::Duration) {
    let started = std::time::Instant::now();
    let out = f();
    (out, started.elapsed())
}

#[test]
fn sleeping_is_refused_at_once() {
    let rt = runtime();
    for behaviour in ["sleep", "poll", "poll-forever"] {
        let p = hostile(&rt, behaviour, Limits::default());
        let (err, took) = timed(|| p.map_events(&empty_batch()).unwrap_err());
        assert!(took < MARGIN, "{behaviour}: held the host for {took:?}");
        assert!(matches!(err.failure, Failure::Sleep { .. }), "{behaviour}: {err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("plugin hostile 6.6.6 (map-events): plugins may not sleep (it asked to wait "),
            "{msg}"
        );
        assert!(
            msg.ends_with("a plugin's clock is frozen and each call must return within its deadline"),
            "{msg}"
        );
    }
    let p = hostile(&rt, "sleep", Limits::default());
    assert!(p.map_events(&empty_batch()).unwrap_err().to_string().contains("asked to wait 40.0 s"));
    let p = hostile(&rt, "poll-forever", Limits::default());
    assert!(p.map_events(&empty_batch()).unwrap_err().to_string().contains("asked to wait forever"));
    assert_host_healthy(&rt);
}

#[test]
fn sleeping_while_validating_settings_fails_the_load_at_once() {
    let rt = runtime();
    let opts =
        LoadOptions { settings_json: r#"{"behaviour":"sleep-at-load"}"#.into(), ..LoadOptions::default() };
    let (err, took) = timed(|| rt.load(&source("mtd-test-hostile"), &opts).unwrap_err());
    assert!(took < Limits::default().deadline() + MARGIN, "load held the host for {took:?}");
    assert!(err.to_string().contains("(validate-settings): plugins may not sleep"), "{err}");
    assert_host_healthy(&rt);
}

#[test]
fn floods_end_at_the_deadline_with_bounded_logs() {
    let rt = runtime();
    for behaviour in ["log-flood", "stderr-flood", "control-flood"] {
        let limits = Limits { deadline_ms: 300, ..Limits::default() };
        let p = hostile(&rt, behaviour, limits.clone());
        let (err, took) = timed(|| p.map_events(&empty_batch()).unwrap_err());
        assert_eq!(err.failure, Failure::Deadline { deadline_ms: 300 }, "{behaviour}: {err}");
        assert!(took < limits.deadline() + MARGIN, "{behaviour}: took {took:?}");
    }
    assert_host_healthy(&rt);
}

#[test]
fn aliased_output_is_refused_while_copying() {
    let rt = runtime();
    let p = hostile(&rt, "aliased-output", Limits::default());
    let err = p.map_events(&empty_batch()).unwrap_err();
    assert_eq!(err.failure, Failure::OutputOverBudget { cap_mib: 16 }, "{err}");
    assert_eq!(
        err.to_string(),
        "plugin hostile 6.6.6 (map-events): tried to return more data than its 16 MiB output cap allows; \
         refused while copying (limits.output-mib raises it)"
    );
    assert_host_healthy(&rt);
}

#[test]
fn exit_and_big_frames_are_named() {
    let rt = runtime();
    let p = hostile(&rt, "exit", Limits::default());
    let err = p.map_events(&empty_batch()).unwrap_err();
    // WASI's exit carries only success or failure: exit(3) arrives as 1.
    assert_eq!(err.failure, Failure::Exit { code: 1 }, "{err}");
    assert!(err.to_string().ends_with("called exit(1) instead of returning"), "{err}");
    assert!(!err.to_string().contains('\n'), "{err}");

    let p = hostile(&rt, "bigframe", Limits::default());
    let err = p.map_events(&empty_batch()).unwrap_err();
    assert_eq!(err.failure, Failure::ShadowStackOverflow, "{err}");
    assert!(err.to_string().contains("overflowed its stack in linear memory"), "{err}");
    assert!(!err.to_string().contains('\n'), "{err}");
    assert_host_healthy(&rt);
}

#[test]
fn a_huge_info_is_refused_without_copying_it() {
    let rt = runtime();
    let err = load_err(&rt, &source("mtd-test-huge-info"));
    let msg = err.to_string();
    assert!(msg.contains("(info): described itself in more than 64 KiB; refused while copying"), "{msg}");
    assert!(msg.len() < 500, "the message must not carry the name: {} bytes", msg.len());
    assert_host_healthy(&rt);
}

/// Nothing that can drive a terminal: no C0/C1 controls, no bidi or
/// zero-width characters, no line separators.
fn assert_inert(text: &str) {
    for c in text.chars() {
        let bad = c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
        assert!(!bad, "{c:?} survived in {text:?}");
    }
}

#[test]
fn plugin_text_cannot_drive_the_terminal() {
    let rt = runtime();
    let p = load(&rt, "mtd-test-escape-info", "", Limits::default());
    let info = p.info();
    assert_eq!(info.name, "escape");
    assert_eq!(info.version, "1.00.9");
    assert_eq!(info.partner.as_deref(), Some("Partner"));
    assert_eq!(info.description, "Says nothing  mtdhost: all plugins verified");
    let err = p.map_events(&empty_batch()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"plugin escape 1.00.9 (map-events): returned an error: "\"quoted\" \\ and bold""#
    );

    let p = hostile(&rt, "impostor", Limits::default());
    let d = &p.settings_diagnostics()[0];
    assert_eq!(d.path, "behaviour");
    assert_eq!(d.message, "looks fine mtdhost: settings OK");
    let err = p.map_events(&empty_batch()).unwrap_err();
    let msg = err.to_string();
    assert_inert(&msg);
    assert!(msg.ends_with(r#"returned an error: " Apply complete!txt.exe forged""#), "{msg}");
    assert_host_healthy(&rt);
}
