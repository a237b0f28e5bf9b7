//! Plugin runtime benchmarks: cold compile vs cached load, fresh instance +
//! one call, and batch mapping of 100k events. Run with `cargo bench -p mtdhost`;
//! method and numbers are in BENCHMARKS.md.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mtdhost::runtime::{Cache, EventBatch, Limits, LoadOptions, PluginSource, Runtime, ThreatRecord};

fn source() -> PluginSource {
    PluginSource::builtin("example").expect("the example plugin is built in")
}

fn loading(c: &mut Criterion) {
    let src = source();
    let opts = LoadOptions::default();
    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    let cold = Runtime::new(Cache::disabled());
    g.bench_function("cold_compile", |b| b.iter(|| cold.precompile(black_box(&src), &opts).unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let warm = Runtime::new(Cache::at(dir.path()).unwrap());
    warm.precompile(&src, &opts).unwrap();
    g.bench_function("cached_load", |b| b.iter(|| warm.precompile(black_box(&src), &opts).unwrap()));
    g.finish();
}

fn calls(c: &mut Criterion) {
    let rt = Runtime::new(Cache::disabled());
    let plugin = rt.load(&source(), &LoadOptions::default()).unwrap();
    c.bench_function("instantiate_and_call", |b| b.iter(|| plugin.severity_vocabulary().unwrap()));
}

fn events_jsonl(n: usize) -> String {
    let severities = ["none", "low", "medium", "high"];
    let mut s = String::with_capacity(n * 120);
    for i in 0..n {
        let _ = writeln!(
            s,
            r#"{{"device_id":"device-{}","threat_id":"T-{i}","classification":"TROJAN","severity":"{}","status":"DETECTED"}}"#,
            i % 3000,
            severities[i % 4]
        );
    }
    s
}

fn mapping(c: &mut Criterion) {
    const N: usize = 100_000;
    let rt = Runtime::new(Cache::disabled());
    let limits = Limits { memory_mib: 1024, output_mib: 512, deadline_ms: 60_000, ..Limits::default() };
    let plugin = rt.load(&source(), &LoadOptions { limits, ..LoadOptions::default() }).unwrap();
    let raw = EventBatch { raw: Some(events_jsonl(N)), records: Vec::new(), first_record: 1 };
    let records = EventBatch {
        raw: None,
        records: (0..N)
            .map(|i| ThreatRecord {
                device_id: format!("device-{}", i % 3000),
                threat_id: format!("T-{i}"),
                classification: "TROJAN".into(),
                severity: ["none", "low", "medium", "high"][i % 4].into(),
                status: "DETECTED".into(),
                detected_at: None,
            })
            .collect(),
        first_record: 1,
    };
    let mut g = c.benchmark_group("map_100k_events");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("raw_json_lines", |b| b.iter(|| plugin.map_events(black_box(&raw)).unwrap()));
    g.bench_function("structured_records", |b| b.iter(|| plugin.map_events(black_box(&records)).unwrap()));
    g.finish();
}

criterion_group!(benches, loading, calls, mapping);
criterion_main!(benches);
