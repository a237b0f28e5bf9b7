//! Request counts at scale, from the emulator's request log: a no-op plan
//! and an export read a tenant of N policies in ⌈N/100⌉ pages plus a fixed
//! handful of requests (token, connectors, one `$batch` of every name
//! lookup — groups, filters, templates, policy sets), a
//! one-change apply adds exactly its one write, and a cold apply writes each
//! policy twice (create with actions inline, then `/assign`). The counts are
//! exact against the emulator, so a regression to per-policy reads fails
//! here. Wall-clock figures are in the scale benchmark, not in tests.

use std::path::Path;

use mtd_e2e::configs;
use mtd_e2e::graph::{emulator, fast_options};
use mtdhost::emulator::{
    raise_policy_7, scale_policies, Emulator, EmulatorConfig, ExpansionQuirks, Recorded, Tenant,
};
use mtdhost::plan::{self, ChangeKind};
use mtdhost::prepare::{prepare_opts, PrepareOptions};

/// Two pages of 100 and a partial third.
const N: usize = 230;
const PAGES: usize = N.div_ceil(100);

fn fast() -> PrepareOptions {
    PrepareOptions { client: Some(fast_options()), ..PrepareOptions::default() }
}

fn show(log: &[Recorded]) -> String {
    log.iter().map(|r| format!("  {} {}?{} -> {}\n", r.method, r.path, r.query, r.status)).collect()
}

async fn plan_only(path: &Path) -> plan::Plan {
    prepare_opts(path, &fast()).await.expect("plan").plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_export_and_apply_take_a_fixed_number_of_round_trips() {
    let emu: Emulator =
        emulator(EmulatorConfig { seed: Some(Tenant::scale()), ..EmulatorConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write_owned(dir.path(), &emu, "scale", &scale_policies(N));

    // Cold apply: every policy is one create (actions inline) and one /assign.
    let p = prepare_opts(&path, &fast()).await.expect("plan");
    assert_eq!(p.plan.count(ChangeKind::Create), N);
    let done = plan::apply(&p.session.client, &p.plan, &()).await.expect("apply");
    assert_eq!(done.writes, 2 * N);
    let log = emu.requests();
    assert_eq!(log.iter().filter(|r| r.is_write()).count(), 2 * N, "{}", show(&log));
    assert!(log.iter().all(|r| r.status != 429));

    // No-op plan: token + pages + connectors + one $batch (group names and filters).
    emu.clear_requests();
    let plan = plan_only(&path).await;
    assert!(!plan.has_changes(), "re-plan after apply changes nothing");
    let log = emu.requests();
    assert_eq!(log.len(), PAGES + 3, "no-op plan requests:\n{}", show(&log));
    assert!(log.iter().all(|r| !r.is_write()));
    let pages: Vec<&Recorded> =
        log.iter().filter(|r| r.path == "/beta/deviceManagement/deviceCompliancePolicies").collect();
    assert_eq!(pages.len(), PAGES);
    assert!(pages[0].query.contains("assignments"), "assignments come in the same read: {}", pages[0].query);

    // Export: token + connectors + pages + one $batch (group ids and filters)
    // + one $batch of those groups' names (a name is written only if unique).
    emu.clear_requests();
    let config = mtdhost::prepare::load_config(&path).unwrap();
    let session = mtdhost::session::connect(&config, fast_options()).await.unwrap();
    let tenant: toml::Table =
        toml::from_str::<toml::Table>(&config.text).unwrap()["tenant"].as_table().cloned().unwrap();
    let exported = mtdhost::export::export(&session.client, &tenant, false).await.unwrap();
    assert_eq!(exported.count, N);
    let log = emu.requests();
    assert_eq!(log.len(), PAGES + 4, "export requests:\n{}", show(&log));
    drop(session);

    // The export plans as no change, with names (not ids) for the groups.
    let exported_path = dir.path().join("exported.toml");
    std::fs::write(&exported_path, &exported.toml).unwrap();
    assert!(exported.toml.contains("Scale – R&D 'North'"), "groups are exported by name");
    assert!(!plan_only(&exported_path).await.has_changes());

    // One change: the plan's reads and exactly one write.
    let changed = raise_policy_7(&std::fs::read_to_string(&path).unwrap()).expect("policy 7 at level low");
    std::fs::write(&path, changed).unwrap();
    emu.clear_requests();
    let p = prepare_opts(&path, &fast()).await.expect("plan");
    assert_eq!(p.plan.count(ChangeKind::Update), 1);
    let done = plan::apply(&p.session.client, &p.plan, &()).await.expect("apply");
    assert_eq!(done.writes, 1);
    let log = emu.requests();
    assert_eq!(log.len(), PAGES + 3 + 1, "one-change apply requests:\n{}", show(&log));
    let write: Vec<&Recorded> = log.iter().filter(|r| r.is_write()).collect();
    assert_eq!(write.len(), 1);
    assert_eq!(write[0].method, "PATCH");
    assert_eq!(write[0].body.as_ref().unwrap()["deviceThreatProtectionRequiredSecurityLevel"], "high");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expansions_cut_short_are_read_again_and_nothing_is_lost() {
    // Graph may leave an expansion out or cut it short; the policies
    // concerned are read again through $batch, the rest are not.
    let emu = emulator(EmulatorConfig { seed: Some(Tenant::scale()), ..EmulatorConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write_owned(dir.path(), &emu, "scale", &scale_policies(30));
    let p = prepare_opts(&path, &fast()).await.expect("plan");
    plan::apply(&p.session.client, &p.plan, &()).await.expect("apply");
    emu.set_expansion_quirks(ExpansionQuirks {
        truncate_assignments_over: Some(1),
        ..ExpansionQuirks::default()
    });
    emu.clear_requests();
    let plan = plan_only(&path).await;
    assert!(!plan.has_changes(), "truncated expansions are completed, so nothing looks changed");
    let log = emu.requests();
    // 22 of the 30 policies have more than one assignment: two $batches of
    // ≤ 20 read them again; the name lookups (groups, filters) are one more.
    let batches = |p: &str| log.iter().filter(|r| r.path == p).count();
    assert_eq!(batches("/beta/$batch"), 3, "{}", show(&log));
    assert_eq!(batches("/v1.0/$batch"), 0, "{}", show(&log));
    assert!(!log.iter().any(|r| r.path.ends_with("/assignmentFilters")), "filters come in the name $batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_refusing_two_expansions_is_read_the_proven_way() {
    let emu = emulator(EmulatorConfig { seed: Some(Tenant::scale()), ..EmulatorConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let path = configs::write_owned(dir.path(), &emu, "scale", &scale_policies(45));
    let p = prepare_opts(&path, &fast()).await.expect("plan");
    plan::apply(&p.session.client, &p.plan, &()).await.expect("apply");
    emu.set_expansion_quirks(ExpansionQuirks { refuse_combined_expand: true, ..ExpansionQuirks::default() });
    emu.clear_requests();
    let plan = plan_only(&path).await;
    assert!(!plan.has_changes(), "assignments read through $batch instead");
    let log = emu.requests();
    assert!(log.iter().any(|r| r.status == 400), "the combined expansion was refused:\n{}", show(&log));
    // 45 policies' assignments: three $batches of ≤ 20 on beta, and one of
    // the name lookups (groups, filters).
    assert_eq!(log.iter().filter(|r| r.path == "/beta/$batch").count(), 4, "{}", show(&log));
}
