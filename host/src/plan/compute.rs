//! Computing the plan from the desired policies and the tenant.

use std::collections::BTreeMap;

use serde_json::Value;

use super::resolve::Resolver;
use super::{Change, ChangeKind, ListChange, Plan, PlanError, SettingChange};
use crate::config::Platform;
use crate::graph::intune::RemotePolicy;
use crate::graph::model::{ActionItem, AssignmentTarget, Connector};
use crate::graph::schema::ApiVersion;
use crate::graph::GraphClient;
use crate::pipeline::{is_managed, DesiredPolicy};

/// JSON equality where 6 and 6.0 are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
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

fn sorted_targets(targets: &[AssignmentTarget]) -> Vec<AssignmentTarget> {
    let mut v = targets.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Resolved actions and assignment targets of one desired policy.
struct Resolved {
    actions: Vec<ActionItem>,
    targets: Vec<AssignmentTarget>,
}

async fn resolve(
    d: &DesiredPolicy,
    r: &mut Resolver<'_>,
    problems: &mut Vec<String>,
) -> Result<Resolved, PlanError> {
    let mut fail =
        |what: String| problems.push(format!("{}: policy '{}': {what}", d.location, d.display_name));
    let mut actions = Vec::new();
    for a in &d.actions {
        let mut item = ActionItem {
            action_type: a.kind.graph_name().to_string(),
            grace_period_hours: a.grace_period_hours,
            notification_template_id: String::new(),
            notification_message_cc_list: Vec::new(),
        };
        if let Some(t) = &a.template {
            match r.template(t).await? {
                Ok(id) => item.notification_template_id = id,
                Err(e) => fail(e),
            }
        }
        for g in &a.cc {
            match r.group(g).await? {
                Ok(id) => item.notification_message_cc_list.push(id),
                Err(e) => fail(format!("notification cc: {e}")),
            }
        }
        actions.push(item);
    }
    let mut targets = Vec::new();
    for g in &d.assignments.include {
        match r.group(g).await? {
            Ok(id) => targets.push(AssignmentTarget::Group(id)),
            Err(e) => fail(format!("assignment include: {e}")),
        }
    }
    for g in &d.assignments.exclude {
        match r.group(g).await? {
            Ok(id) => targets.push(AssignmentTarget::ExclusionGroup(id)),
            Err(e) => fail(format!("assignment exclude: {e}")),
        }
    }
    if d.assignments.all_users {
        targets.push(AssignmentTarget::AllLicensedUsers);
    }
    if d.assignments.all_devices {
        targets.push(AssignmentTarget::AllDevices);
    }
    Ok(Resolved { actions, targets })
}

/// Reads the tenant and plans the change. Only reads.
pub async fn compute(
    client: &GraphClient,
    desired: &[DesiredPolicy],
    tenant: &str,
    prune: bool,
) -> Result<Plan, PlanError> {
    let read_version =
        if desired.iter().any(|d| d.version == ApiVersion::Beta) { ApiVersion::Beta } else { ApiVersion::V1 };
    let remote = client.list_policies(read_version).await?;
    let mut by_key: BTreeMap<(String, String), Vec<&RemotePolicy>> = BTreeMap::new();
    for p in &remote {
        by_key.entry((p.display_name.clone(), p.odata_type.clone())).or_default().push(p);
    }
    let mut resolver = Resolver::new(client);
    let mut problems = Vec::new();
    let mut resolved = Vec::new();
    for d in desired {
        let key = (d.display_name.clone(), d.policy_type().odata_type());
        if let Some(found) = by_key.get(&key).filter(|f| f.len() > 1) {
            problems.push(format!(
                "{}: policy '{}' ({}) exists {} times in the tenant (ids {}); mtdhost will not guess which one to manage — delete or rename the extras",
                d.location,
                d.display_name,
                d.policy_type().type_name(),
                found.len(),
                found.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        resolved.push(resolve(d, &mut resolver, &mut problems).await?);
    }
    if !problems.is_empty() {
        return Err(PlanError::Problems(problems));
    }

    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    for (d, res) in desired.iter().zip(resolved) {
        let key = (d.display_name.clone(), d.policy_type().odata_type());
        let want = d.graph_properties();
        let mut change = Change {
            kind: ChangeKind::Create,
            name: d.display_name.clone(),
            policy_type: d.policy_type(),
            version: d.version,
            id: None,
            settings: Vec::new(),
            actions: None,
            assignments: None,
            origin: Some(d.location.to_string()),
            notes: d.notes.clone(),
            body: want.clone(),
        };
        match by_key.get(&key).and_then(|v| v.first()) {
            None => {
                change.settings = want
                    .iter()
                    .filter(|(k, _)| *k != "displayName")
                    .map(|(k, v)| SettingChange {
                        property: k.clone(),
                        before: Value::Null,
                        after: v.clone(),
                    })
                    .collect();
                change.actions = Some(ListChange { before: Vec::new(), after: sorted_actions(&res.actions) });
                let targets = sorted_targets(&res.targets);
                if !targets.is_empty() {
                    change.assignments = Some(ListChange { before: Vec::new(), after: targets });
                }
            }
            Some(existing) => {
                change.id = Some(existing.id.clone());
                for (k, v) in want.iter().filter(|(k, _)| *k != "displayName") {
                    let have = existing.raw.get(k).cloned().unwrap_or(Value::Null);
                    if !same(&have, v) {
                        change.settings.push(SettingChange {
                            property: k.clone(),
                            before: have,
                            after: v.clone(),
                        });
                    }
                }
                let (before, after) = (sorted_actions(&existing.actions), sorted_actions(&res.actions));
                if before != after {
                    change.actions = Some(ListChange { before, after });
                }
                let direct: Vec<AssignmentTarget> =
                    existing.assignments.iter().filter(|a| a.is_direct()).map(|a| a.target.clone()).collect();
                let (before, after) = (sorted_targets(&direct), sorted_targets(&res.targets));
                if before != after {
                    change.assignments = Some(ListChange { before, after });
                }
                if existing.assignments.iter().any(|a| !a.is_direct()) {
                    warnings.push(format!(
                        "'{}' also has assignments from policy sets; mtdhost leaves those alone",
                        d.display_name
                    ));
                }
                change.kind =
                    if change.settings.is_empty() && change.actions.is_none() && change.assignments.is_none()
                    {
                        ChangeKind::Unchanged
                    } else {
                        ChangeKind::Update
                    };
            }
        }
        changes.push(change);
    }

    for p in &remote {
        let Some(ty) = p.policy_type else { continue };
        let wanted = desired.iter().any(|d| d.display_name == p.display_name && d.policy_type() == ty);
        if wanted || !is_managed(&p.description) {
            continue;
        }
        if prune {
            changes.push(Change {
                kind: ChangeKind::Delete,
                name: p.display_name.clone(),
                policy_type: ty,
                version: if ty.min_version() == ApiVersion::Beta { ApiVersion::Beta } else { read_version },
                id: Some(p.id.clone()),
                settings: Vec::new(),
                actions: None,
                assignments: None,
                origin: None,
                notes: vec!["managed by mtdhost and no longer in the config".into()],
                body: Default::default(),
            });
        } else {
            warnings.push(format!(
                "'{}' ({}) is managed by mtdhost but no longer in the config; run with --prune to delete it",
                p.display_name,
                ty.type_name()
            ));
        }
    }

    // Names for display: every group id in any before/after list.
    let mut group_names = BTreeMap::new();
    for c in &changes {
        let lists = c.assignments.iter().flat_map(|a| a.before.iter().chain(a.after.iter()));
        for t in lists {
            if let AssignmentTarget::Group(id) | AssignmentTarget::ExclusionGroup(id) = t {
                if !group_names.contains_key(id) {
                    group_names.insert(id.clone(), resolver.group_name(id).await?);
                }
            }
        }
        for a in c.actions.iter().flat_map(|a| a.before.iter().chain(a.after.iter())) {
            for id in &a.notification_message_cc_list {
                if !group_names.contains_key(id) {
                    group_names.insert(id.clone(), resolver.group_name(id).await?);
                }
            }
        }
    }
    let mut template_names = BTreeMap::new();
    for c in &changes {
        for a in c.actions.iter().flat_map(|a| a.before.iter().chain(a.after.iter())) {
            if !a.notification_template_id.is_empty() {
                template_names.insert(
                    a.notification_template_id.clone(),
                    resolver.template_name(&a.notification_template_id),
                );
            }
        }
    }
    Ok(Plan { tenant: tenant.to_string(), changes, warnings, group_names, template_names, prune })
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
        if c.partner_state != "enabled" {
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
