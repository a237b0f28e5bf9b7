//! Computing the plan from the desired policies and the tenant.

use std::collections::BTreeMap;

use serde_json::Value;

use super::compare::settings_diff;
use super::matching::Matches;
use super::prune::{verdict, Verdict};
use super::resolve::{Resolver, Wanted};
use super::targets::{resolve, Resolved};
use super::{Change, ChangeKind, ListChange, Plan, PlanError, SettingChange};
use crate::config::Platform;
use crate::graph::schema::{ApiVersion, PolicyType};
use crate::graph::GraphClient;
use crate::graph::RemotePolicy;
use crate::graph::{ActionItem, AssignmentTarget, Connector, Target};
use crate::pipeline::marker::{self, Ownership};
use crate::pipeline::DesiredPolicy;
use mtd_model::PartnerState;

/// How to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Delete policies this config's owner manages that it no longer names.
    pub prune: bool,
    /// Treat policies with the old plain marker (owner unknown) or another
    /// owner's marker as this config's (migration).
    pub adopt_owner: bool,
    /// `[tenant] owner`.
    pub owner: Option<String>,
    /// Every group of the tenant, when it was read already (for rules
    /// plugins): group names are then resolved without asking Graph again.
    pub directory: Option<Vec<crate::graph::Group>>,
}

fn sorted_actions(actions: &[ActionItem]) -> Vec<ActionItem> {
    let mut v: Vec<ActionItem> = actions.iter().map(ActionItem::normalized).collect();
    v.sort_by(|a, b| {
        (a.action_type.as_str(), a.grace_period_hours, a.notification_template_id.as_str()).cmp(&(
            b.action_type.as_str(),
            b.grace_period_hours,
            b.notification_template_id.as_str(),
        ))
    });
    v
}

fn sorted_targets(targets: &[Target]) -> Vec<Target> {
    let mut v = targets.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Reads the tenant and plans the change. Only reads.
pub async fn compute(
    client: &GraphClient,
    desired: &[DesiredPolicy],
    tenant: &str,
    prune: bool,
) -> Result<Plan, PlanError> {
    let owner = desired.iter().find_map(|d| d.owner.clone());
    compute_with(client, desired, tenant, &PlanOptions { prune, owner, ..PlanOptions::default() }).await
}

/// Why a matched tenant policy may not be written by this config, if so.
fn ownership_problem(d: &DesiredPolicy, p: &RemotePolicy, o: &PlanOptions) -> Option<String> {
    if !d.marker || o.adopt_owner {
        return None;
    }
    match marker::parse(&p.description).1 {
        Ownership::Owned { owner, .. } if o.owner.as_deref() != Some(owner.as_str()) => Some(format!(
            "{}: policy '{}' in the tenant is managed by owner '{owner}', not {}; run with --adopt-owner to take it over",
            d.location,
            d.display_name,
            o.owner.as_deref().map_or("this config (no [tenant] owner)".to_string(), |x| format!("'{x}'"))
        )),
        _ => None,
    }
}

/// Every name the config refers to, to read before planning.
fn wanted_by_config(desired: &[DesiredPolicy]) -> Wanted {
    let mut w = Wanted::default();
    for d in desired {
        w.groups.extend(d.assignments.include.iter().cloned());
        w.groups.extend(d.assignments.exclude.iter().cloned());
        for a in &d.actions {
            w.groups.extend(a.cc.iter().cloned());
            w.templates |= a.template.is_some();
        }
        w.filters |= !d.assignments.filters.is_empty();
    }
    w
}

/// Every id the plan will show for the tenant policies the config names.
fn wanted_by_tenant<'p>(matched: impl Iterator<Item = &'p RemotePolicy>) -> Wanted {
    let mut w = Wanted::default();
    for p in matched {
        for a in &p.assignments {
            if let AssignmentTarget::Group(id) | AssignmentTarget::ExclusionGroup(id) = &a.target.kind {
                w.group_ids.insert(id.clone());
            }
            w.filters |= a.target.filter.is_some();
            if let Some(set) = a.policy_set() {
                w.policy_sets.insert(set.to_string());
            }
        }
        for a in &p.actions {
            w.group_ids.extend(a.notification_message_cc_list.iter().cloned());
            w.templates |= !a.normalized().notification_template_id.is_empty();
        }
    }
    w
}

/// Plans with options (prune, adopt, owner). Only reads.
pub async fn compute_with(
    client: &GraphClient,
    desired: &[DesiredPolicy],
    tenant: &str,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let mut problems = Vec::new();
    if options.prune && options.owner.is_none() {
        problems.push(
            "--prune needs an owner: set [tenant] owner = \"…\" so only this config's policies can be deleted"
                .to_string(),
        );
    }
    // The version deletes are sent on, as before the tenant was read on beta.
    let read_version =
        if desired.iter().any(|d| d.version == ApiVersion::Beta) { ApiVersion::Beta } else { ApiVersion::V1 };
    let mut resolver = match &options.directory {
        Some(groups) => Resolver::with_directory(client, groups.clone()),
        None => Resolver::new(client),
    };
    // Policies (beta: actions and assignments in one paged read) and the
    // names the config uses, overlapped.
    let by_config = wanted_by_config(desired);
    let (remote, prefetched) =
        tokio::join!(client.list_policies(ApiVersion::Beta), resolver.prefetch(&by_config));
    let remote = remote?;
    prefetched?;
    let matches = Matches::new(&remote);
    resolver
        .prefetch(&wanted_by_tenant(desired.iter().filter_map(|d| matches.of(d).first().copied())))
        .await?;
    let mut resolved = Vec::new();
    for d in desired {
        problems.extend(match_problems(d, matches.of(d), options));
        resolved.push(resolve(d, &mut resolver, &mut problems).await?);
    }
    if !problems.is_empty() {
        return Err(PlanError::Problems(problems));
    }

    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    for (d, res) in desired.iter().zip(resolved) {
        if d.policy_type() == PolicyType::Android {
            warnings.push(format!(
                "'{}' targets Android device administrator, which Google deprecated and Intune no longer supports on devices with Google Mobile Services (since 31 December 2024); use android-work-profile (personal devices) or android-device-owner (corporate devices)",
                d.display_name
            ));
        }
        changes.push(match matches.of(d).first() {
            None => create(d, &res),
            Some(existing) => update(d, &res, existing, &mut resolver).await?,
        });
    }
    for p in matches.unmatched(desired) {
        let Some(ty) = p.policy_type else { continue };
        match verdict(p, ty, read_version, options) {
            Verdict::Delete(c) => changes.push(*c),
            Verdict::Warn(w) => warnings.push(w),
            Verdict::Skip => {}
        }
        for what in &p.problems {
            warnings.push(format!("policy {} (not in the config): {what}", p.label()));
        }
    }
    let names = display_names(&changes, &mut resolver).await?;
    warnings.sort();
    warnings.dedup();
    Ok(Plan {
        tenant: tenant.to_string(),
        changes,
        warnings,
        group_names: names.groups,
        template_names: names.templates,
        filter_names: names.filters,
        prune: options.prune,
    })
}

/// Why the tenant policies matching `d` stop the plan: several of them, or
/// one mtdhost cannot fully read or may not write.
fn match_problems(d: &DesiredPolicy, found: &[&RemotePolicy], options: &PlanOptions) -> Vec<String> {
    match found {
        [p] => {
            // mtdhost would write this policy (and /assign replaces the
            // whole set): anything it could not read stops the plan.
            let mut problems: Vec<String> = p
                .problems
                .iter()
                .map(|what| {
                    format!(
                        "{}: policy {} in the tenant: {what}; mtdhost will not write a policy it cannot fully read",
                        d.location,
                        p.label()
                    )
                })
                .collect();
            problems.extend(ownership_problem(d, p, options));
            problems
        }
        [] => Vec::new(),
        several => vec![format!(
            "{}: policy '{}' ({}) exists {} times in the tenant (ids {}); mtdhost will not guess which one to manage — delete or rename the extras",
            d.location,
            d.display_name,
            d.policy_type().type_name(),
            several.len(),
            several.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
        )],
    }
}

/// A change that starts from `d` with nothing decided yet.
fn blank(d: &DesiredPolicy, kind: ChangeKind) -> Change {
    Change {
        kind,
        name: d.display_name.clone(),
        policy_type: d.policy_type(),
        version: d.version,
        id: None,
        settings: Vec::new(),
        actions: None,
        assignments: None,
        inherited: Vec::new(),
        origin: Some(d.location.to_string()),
        notes: d.notes.clone(),
        // Only a create sends the whole body; 5,000 unchanged policies
        // need not carry a second copy of their desired state.
        body: Default::default(),
    }
}

/// Creating `d`: every property, its actions and assignments.
fn create(d: &DesiredPolicy, res: &Resolved) -> Change {
    let want = d.graph_properties();
    let mut change = blank(d, ChangeKind::Create);
    change.settings = want
        .iter()
        .filter(|(k, _)| *k != "displayName")
        .map(|(k, v)| SettingChange { property: k.clone(), before: Value::Null, after: v.clone() })
        .collect();
    change.body = want;
    change.actions = Some(ListChange { before: Vec::new(), after: sorted_actions(&res.actions) });
    let targets = sorted_targets(&res.targets);
    if !targets.is_empty() {
        change.assignments = Some(ListChange { before: Vec::new(), after: targets });
    }
    change
}

/// What changes on `existing` to match `d`; unchanged when nothing does.
async fn update(
    d: &DesiredPolicy,
    res: &Resolved,
    existing: &RemotePolicy,
    resolver: &mut Resolver<'_>,
) -> Result<Change, PlanError> {
    let mut change = blank(d, ChangeKind::Update);
    change.id = Some(existing.id.clone());
    change.settings = settings_diff(d, existing);
    let (before, after) = (sorted_actions(&existing.actions), sorted_actions(&res.actions));
    if before != after {
        change.actions = Some(ListChange { before, after });
    }
    let direct: Vec<Target> =
        existing.assignments.iter().filter(|a| a.is_direct()).map(|a| a.target.clone()).collect();
    let (before, after) = (sorted_targets(&direct), sorted_targets(&res.targets));
    if before != after {
        change.assignments = Some(ListChange { before, after });
    }
    for a in existing.assignments.iter() {
        if let Some(set) = a.policy_set() {
            let set_name = resolver.policy_set_name(set).await?;
            change.inherited.push(format!(
                "{} (from policy set {set_name}, not managed)",
                super::render::describe_target(&a.target, resolver).await?
            ));
        }
    }
    if change.settings.is_empty() && change.actions.is_none() && change.assignments.is_none() {
        change.kind = ChangeKind::Unchanged;
    }
    Ok(change)
}

/// Display names of every group, filter and template id the plan shows.
#[derive(Default)]
struct Names {
    groups: BTreeMap<String, String>,
    filters: BTreeMap<String, String>,
    templates: BTreeMap<String, String>,
}

/// Names for display: every group and filter id in any before/after list.
async fn display_names(changes: &[Change], resolver: &mut Resolver<'_>) -> Result<Names, PlanError> {
    let mut names = Names::default();
    for c in changes {
        let lists = c.assignments.iter().flat_map(|a| a.before.iter().chain(a.after.iter()));
        for t in lists {
            if let AssignmentTarget::Group(id) | AssignmentTarget::ExclusionGroup(id) = &t.kind {
                if !names.groups.contains_key(id) {
                    names.groups.insert(id.clone(), resolver.group_name(id).await?);
                }
            }
            if let Some(f) = &t.filter {
                if !names.filters.contains_key(&f.id) {
                    names.filters.insert(f.id.clone(), resolver.filter_name(&f.id).await?);
                }
            }
        }
        for a in c.actions.iter().flat_map(|a| a.before.iter().chain(a.after.iter())) {
            for id in &a.notification_message_cc_list {
                if !names.groups.contains_key(id) {
                    names.groups.insert(id.clone(), resolver.group_name(id).await?);
                }
            }
            if !a.notification_template_id.is_empty() {
                names.templates.insert(
                    a.notification_template_id.clone(),
                    resolver.template_name(&a.notification_template_id),
                );
            }
        }
    }
    Ok(names)
}

/// Warnings for partners whose MTD connector is not enabled for a platform a
/// policy with a threat level targets. `ids` maps partner (plugin) name to connector id.
pub fn connector_warnings(
    desired: &[DesiredPolicy],
    connectors: &[Connector],
    ids: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for d in desired.iter().filter(|d| d.max_level.is_some()) {
        let Some(partner) = &d.partner else { continue };
        let Some(id) = ids.get(partner) else {
            out.push(format!("no connector id is configured for partner '{partner}' under [tenant.connectors]; its connector state is not checked"));
            continue;
        };
        let Some(c) = connectors.iter().find(|c| c.id.eq_ignore_ascii_case(id)) else {
            out.push(format!("the MTD connector {id} for partner '{partner}' does not exist in the tenant"));
            continue;
        };
        if c.partner_state != PartnerState::Enabled {
            out.push(format!(
                "'{}': the {partner} connector is {}, not enabled; devices will not get levels from it",
                d.display_name, c.partner_state
            ));
        }
        let enabled = match d.platform {
            Platform::Ios => c.ios_enabled,
            Platform::Android
            | Platform::AndroidWorkProfile
            | Platform::AndroidDeviceOwner
            | Platform::Aosp => c.android_enabled,
            Platform::Windows => c.windows_enabled,
            Platform::Macos => c.mac_enabled,
        };
        if !enabled {
            out.push(format!(
                "'{}': the {partner} connector is not enabled for {}",
                d.display_name,
                d.platform.label()
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}
