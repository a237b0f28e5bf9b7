//! Showing a plan: text that reads like a careful human wrote it, and JSON
//! with a documented, stable shape (`format_version` 1, see docs/plan-json.md).

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::resolve::Resolver;
use super::{CaChange, Change, ChangeKind, ConnectorChange, Plan, SettingChange};
use crate::graph::GraphError;
use crate::graph::{ActionItem, AssignmentTarget, Target};

fn kind_text(t: &AssignmentTarget, group: impl Fn(&String) -> String) -> String {
    match t {
        AssignmentTarget::Group(id) => format!("include {}", group(id)),
        AssignmentTarget::ExclusionGroup(id) => format!("exclude {}", group(id)),
        AssignmentTarget::AllLicensedUsers => "all users".into(),
        AssignmentTarget::AllDevices => "all devices".into(),
        AssignmentTarget::ConfigurationManagerCollection(id) => {
            format!("Configuration Manager collection {id}")
        }
    }
}

fn with_filter(text: String, t: &Target, filter: impl Fn(&String) -> String) -> String {
    match &t.filter {
        Some(f) => format!("{text} (filter {}, {})", filter(&f.id), f.mode.as_str()),
        None => text,
    }
}

fn target_name(plan: &Plan, t: &Target) -> String {
    let group = |id: &String| plan.group_names.get(id).cloned().unwrap_or_else(|| id.clone());
    let filter = |id: &String| plan.filter_names.get(id).cloned().unwrap_or_else(|| id.clone());
    with_filter(kind_text(&t.kind, group), t, filter)
}

/// A target in words, names looked up (for assignments the plan shows but does not change).
pub(super) async fn describe_target(t: &Target, r: &mut Resolver<'_>) -> Result<String, GraphError> {
    let group = match &t.kind {
        AssignmentTarget::Group(id) | AssignmentTarget::ExclusionGroup(id) => Some(r.group_name(id).await?),
        _ => None,
    };
    let filter = match &t.filter {
        Some(f) => Some(r.filter_name(&f.id).await?),
        None => None,
    };
    let text = kind_text(&t.kind, |id| group.clone().unwrap_or_else(|| id.clone()));
    Ok(with_filter(text, t, |id| filter.clone().unwrap_or_else(|| id.clone())))
}

fn action_text(plan: &Plan, a: &ActionItem) -> String {
    let when = if a.grace_period_hours == 0 {
        "at once".to_string()
    } else {
        format!("after {} h", a.grace_period_hours)
    };
    let mut s = format!("{} {when}", a.action_type);
    if !a.notification_template_id.is_empty() {
        let name =
            plan.template_names.get(&a.notification_template_id).unwrap_or(&a.notification_template_id);
        s = format!("{} \"{name}\" {when}", a.action_type);
    }
    if !a.notification_message_cc_list.is_empty() {
        let cc: Vec<String> = a
            .notification_message_cc_list
            .iter()
            .map(|id| plan.group_names.get(id).cloned().unwrap_or_else(|| id.clone()))
            .collect();
        s.push_str(&format!(", cc {}", cc.join(", ")));
    }
    s
}

fn list_diff<T: PartialEq>(
    out: &mut String,
    title: &str,
    before: &[T],
    after: &[T],
    show: impl Fn(&T) -> String,
) {
    let _ = writeln!(out, "    {title}:");
    for b in before.iter().filter(|b| !after.contains(b)) {
        let _ = writeln!(out, "      - {}", show(b));
    }
    for a in after {
        let mark = if before.contains(a) { '=' } else { '+' };
        let _ = writeln!(out, "      {mark} {}", show(a));
    }
}

fn change_text(plan: &Plan, c: &Change, out: &mut String) {
    let (sign, verb) = sign_and_verb(c.kind);
    let id = c.id.as_ref().map(|i| format!(", id {i}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "{sign} {verb} \"{}\" ({}, Graph {}{id})",
        c.name,
        c.policy_type.type_name(),
        c.version.segment()
    );
    for i in &c.inherited {
        let _ = writeln!(out, "    = {i}");
    }
    if c.kind == ChangeKind::Unchanged {
        return;
    }
    if let Some(o) = &c.origin {
        let _ = writeln!(out, "    from {o}");
    }
    settings_text(out, c.kind, &c.settings);
    if let Some(a) = &c.actions {
        list_diff(out, "actions for noncompliance", &a.before, &a.after, |x| action_text(plan, x));
    }
    if let Some(a) = &c.assignments {
        let title = if a.after.is_empty() { "assignments (all removed)" } else { "assignments" };
        list_diff(out, title, &a.before, &a.after, |t| target_name(plan, t));
    }
    for n in &c.notes {
        let _ = writeln!(out, "    note: {n}");
    }
}

/// ", 1 MTD connector, 2 conditional access policies": the kinds besides
/// compliance policies in a summary line (empty when there are none).
pub fn other_kinds(connectors: usize, conditional_access: usize) -> String {
    let count = |n: usize, one: &str, many: &str| match n {
        0 => String::new(),
        1 => format!(", 1 {one}"),
        n => format!(", {n} {many}"),
    };
    count(connectors, "MTD connector", "MTD connectors")
        + &count(conditional_access, "conditional access policy", "conditional access policies")
}

/// Each changed setting: its new value, or before -> after for an update.
fn settings_text(out: &mut String, kind: ChangeKind, settings: &[SettingChange]) {
    for s in settings {
        if kind == ChangeKind::Create || s.before.is_null() {
            let _ = writeln!(out, "    {}: {}", s.property, s.after);
        } else {
            let _ = writeln!(out, "    {}: {} -> {}", s.property, s.before, s.after);
        }
    }
}

fn sign_and_verb(kind: ChangeKind) -> (char, &'static str) {
    match kind {
        ChangeKind::Create => ('+', "create"),
        ChangeKind::Update => ('~', "update"),
        ChangeKind::Delete => ('-', "delete"),
        ChangeKind::Unchanged => ('=', "unchanged"),
    }
}

fn connector_text(c: &ConnectorChange, out: &mut String) {
    let (sign, verb) = sign_and_verb(c.kind);
    let state = if c.partner_state.as_str().is_empty() { "unknown" } else { c.partner_state.as_str() };
    let version = match c.kind {
        ChangeKind::Unchanged => String::new(),
        _ => format!(", Graph {}", c.version.segment()),
    };
    let _ = writeln!(
        out,
        "{sign} {verb} MTD connector \"{}\" (id {}{version}, partner {state})",
        c.partner, c.id
    );
    if c.kind == ChangeKind::Unchanged {
        return;
    }
    let _ = writeln!(out, "    from {}", c.origin);
    for s in &c.settings {
        let _ = writeln!(out, "    {}: {} -> {}", s.property, s.before, s.after);
    }
}

fn ca_text(c: &CaChange, out: &mut String) {
    let (sign, verb) = sign_and_verb(c.kind);
    let id = c.id.as_ref().map(|i| format!(", id {i}")).unwrap_or_default();
    let _ = writeln!(out, "{sign} {verb} conditional access policy \"{}\" (Graph v1.0{id})", c.name);
    if c.kind == ChangeKind::Unchanged {
        return;
    }
    if c.enables_enforcement {
        let _ = writeln!(
            out,
            "    !! turns enforcement ON: sign-ins that do not meet it are blocked from now on (report-only shows who first)"
        );
    }
    if c.stops_enforcement {
        let _ = writeln!(
            out,
            "    !! stops enforcement: the policy is enabled now and will no longer block sign-ins"
        );
    }
    if let Some(o) = &c.origin {
        let _ = writeln!(out, "    from {o}");
    }
    settings_text(out, c.kind, &c.settings);
    for n in &c.notes {
        let _ = writeln!(out, "    note: {n}");
    }
}

/// The plan for people.
pub fn render_text(plan: &Plan) -> String {
    let mut out = format!("Plan for {}:\n\n", plan.tenant);
    for c in plan.connectors.iter().filter(|c| c.kind != ChangeKind::Unchanged) {
        connector_text(c, &mut out);
        out.push('\n');
    }
    for c in plan.changes.iter().filter(|c| c.kind != ChangeKind::Unchanged) {
        change_text(plan, c, &mut out);
        out.push('\n');
    }
    for c in plan.conditional_access.iter().filter(|c| c.kind != ChangeKind::Unchanged) {
        ca_text(c, &mut out);
        out.push('\n');
    }
    for c in plan.connectors.iter().filter(|c| c.kind == ChangeKind::Unchanged) {
        connector_text(c, &mut out);
    }
    for c in plan.changes.iter().filter(|c| c.kind == ChangeKind::Unchanged) {
        change_text(plan, c, &mut out);
    }
    for c in plan.conditional_access.iter().filter(|c| c.kind == ChangeKind::Unchanged) {
        ca_text(c, &mut out);
    }
    if plan.count(ChangeKind::Unchanged) > 0 {
        out.push('\n');
    }
    if plan.has_changes() {
        let _ = writeln!(
            out,
            "Plan: {} to create, {} to update, {} to delete, {} unchanged ({} Graph writes).",
            plan.count(ChangeKind::Create),
            plan.count(ChangeKind::Update),
            plan.count(ChangeKind::Delete),
            plan.count(ChangeKind::Unchanged),
            plan.write_count()
        );
    } else {
        let connectors = other_kinds(plan.connectors.len(), plan.conditional_access.len());
        let _ = writeln!(
            out,
            "No changes: the tenant matches the config ({} policies{connectors}).",
            plan.changes.len()
        );
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

fn target_json(plan: &Plan, t: &Target) -> Value {
    let mut v = kind_json(plan, &t.kind);
    if let (Some(f), Some(o)) = (&t.filter, v.as_object_mut()) {
        o.insert(
            "filter".into(),
            json!({"id": f.id, "name": plan.filter_names.get(&f.id), "mode": f.mode.as_str()}),
        );
    }
    v
}

fn kind_json(plan: &Plan, t: &AssignmentTarget) -> Value {
    let name = |id: &String| plan.group_names.get(id).cloned();
    match t {
        AssignmentTarget::Group(id) => json!({"type": "group", "id": id, "name": name(id)}),
        AssignmentTarget::ExclusionGroup(id) => json!({"type": "exclusionGroup", "id": id, "name": name(id)}),
        AssignmentTarget::AllLicensedUsers => json!({"type": "allLicensedUsers"}),
        AssignmentTarget::AllDevices => json!({"type": "allDevices"}),
        AssignmentTarget::ConfigurationManagerCollection(id) => {
            json!({"type": "configurationManagerCollection", "id": id})
        }
    }
}

fn action_json(plan: &Plan, a: &ActionItem) -> Value {
    json!({
        "type": a.action_type,
        "grace_period_hours": a.grace_period_hours,
        "template_id": if a.notification_template_id.is_empty() { Value::Null } else { Value::String(a.notification_template_id.clone()) },
        "template_name": plan.template_names.get(&a.notification_template_id),
        "cc_group_ids": a.notification_message_cc_list,
    })
}

/// The plan for scripts (`--output json`).
pub fn render_json(plan: &Plan) -> Value {
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            json!({
                "action": c.kind.as_str(),
                "name": c.name,
                "type": c.policy_type.type_name(),
                "api_version": c.version.segment(),
                "id": c.id,
                "origin": c.origin,
                "settings": c.settings.iter().map(|s| json!({"property": s.property, "before": s.before, "after": s.after})).collect::<Vec<_>>(),
                "actions": c.actions.as_ref().map(|a| json!({
                    "before": a.before.iter().map(|x| action_json(plan, x)).collect::<Vec<_>>(),
                    "after": a.after.iter().map(|x| action_json(plan, x)).collect::<Vec<_>>(),
                })),
                "assignments": c.assignments.as_ref().map(|a| json!({
                    "before": a.before.iter().map(|t| target_json(plan, t)).collect::<Vec<_>>(),
                    "after": a.after.iter().map(|t| target_json(plan, t)).collect::<Vec<_>>(),
                })),
                "notes": c.notes,
                "policy_set_assignments": c.inherited,
            })
        })
        .collect();
    let connectors: Vec<Value> = plan
        .connectors
        .iter()
        .map(|c| {
            json!({
                "action": c.kind.as_str(),
                "partner": c.partner,
                "id": c.id,
                "api_version": c.version.segment(),
                "partner_state": c.partner_state,
                "origin": c.origin,
                "settings": c.settings.iter().map(|s| json!({"property": s.property, "before": s.before, "after": s.after})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "format_version": 1,
        "tenant": plan.tenant,
        "prune": plan.prune,
        "changes": changes,
        "connectors": connectors,
        "conditional_access": plan.conditional_access.iter().map(|c| json!({
            "action": c.kind.as_str(),
            "name": c.name,
            "id": c.id,
            "origin": c.origin,
            "state_before": c.state_before,
            "enables_enforcement": c.enables_enforcement,
            "stops_enforcement": c.stops_enforcement,
            "settings": c.settings.iter().map(|s| json!({"property": s.property, "before": s.before, "after": s.after})).collect::<Vec<_>>(),
            "notes": c.notes,
        })).collect::<Vec<_>>(),
        "summary": {
            "create": plan.count(ChangeKind::Create),
            "update": plan.count(ChangeKind::Update),
            "delete": plan.count(ChangeKind::Delete),
            "unchanged": plan.count(ChangeKind::Unchanged),
            "writes": plan.write_count(),
        },
        "warnings": plan.warnings,
    })
}
