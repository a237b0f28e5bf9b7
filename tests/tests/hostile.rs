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
    assert!(err
        .to_string()
        .starts_with("plugin hostile 6.6.6 (map-events): panicked: the partner feed had 42 columns"));
    assert_host_healthy(&rt);
}

#[test]
fn output_over_the_cap_is_refused() {
    let rt = runtime();
    let p = hostile(&rt, "flood", Limits { output_mib: 4, memory_mib: 256, ..Limits::default() });
    let err = p.map_events(&empty_batch()).unwrap_err();
    match err.failure {
        Failure::OutputTooLarge { size_mib, cap_mib } => {
            assert_eq!(cap_mib, 4);
            assert!(size_mib > 20.0, "{size_mib}");
        }
        other => panic!("expected output cap, got {other:?}"),
    }
    assert!(err.to_string().contains("MiB of output, over its 4 MiB cap"));
    assert_host_healthy(&rt);
}

#[test]
fn chatty_plugin_is_truncated_not_trapped() {
    let rt = runtime();
    let p = hostile(&rt, "chatty", Limits::default());
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
    assert!(msg.ends_with("was built for mtd:plugin 2.0.0; this host supports mtd:plugin 0.2.x"), "{msg}");
    assert!(!msg.contains("linker") && !msg.contains("import"), "{msg}");
    assert_host_healthy(&rt);
}

#[test]
fn component_of_another_world_is_not_a_plugin() {
    let rt = runtime();
    let err = load_err(&rt, &source("mtd-test-other-world"));
    assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err:?}");
    assert!(
        err.to_string().contains("exports example:other/greeter@1.0.0 instead of mtd:plugin/guest@0.2.0"),
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
