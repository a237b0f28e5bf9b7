//! Running a compliance-rules plugin over the desired policies.
//!
//! The rule of trust: unless the config sets `rules-may-relax = true`, a
//! rules plugin may only tighten — it may lower a policy's allowed threat
//! level or add one where there was none, but never raise or remove it, and
//! never drop a policy. What it changed is kept as notes for the plan.

use serde_json::Value;

use super::desired::{DesiredAction, DesiredAssignments, DesiredPolicy};
use super::PipelineError;
use crate::config::{ActionKind, Location, Platform};
use crate::runtime::{
    Action, ActionType, Assignments, CaPolicy, DiagnosticSeverity, LoadedPlugin, Platform as WitPlatform,
    Policy, TenantContext, ThreatLevel,
};

fn to_wit_platform(p: Platform) -> Option<WitPlatform> {
    Some(match p {
        Platform::Ios => WitPlatform::Ios,
        Platform::Android => WitPlatform::Android,
        Platform::AndroidWorkProfile => WitPlatform::AndroidWorkProfile,
        Platform::AndroidDeviceOwner => WitPlatform::AndroidDeviceOwner,
        Platform::Macos => WitPlatform::Macos,
        Platform::Windows => WitPlatform::Windows,
        Platform::Aosp => return None,
    })
}

fn from_wit_platform(p: WitPlatform) -> Platform {
    match p {
        WitPlatform::Ios => Platform::Ios,
        WitPlatform::Android => Platform::Android,
        WitPlatform::AndroidWorkProfile => Platform::AndroidWorkProfile,
        WitPlatform::AndroidDeviceOwner => Platform::AndroidDeviceOwner,
        WitPlatform::Macos => Platform::Macos,
        WitPlatform::Windows => Platform::Windows,
    }
}

fn action_to_wit(k: ActionKind) -> ActionType {
    match k {
        ActionKind::Block => ActionType::Block,
        ActionKind::Notification => ActionType::Notification,
        ActionKind::PushNotification => ActionType::PushNotification,
        ActionKind::Retire => ActionType::Retire,
        ActionKind::Wipe => ActionType::Wipe,
        ActionKind::RemoveResourceAccessProfiles => ActionType::RemoveResourceAccessProfiles,
        ActionKind::RemoteLock => ActionType::RemoteLock,
    }
}

fn action_from_wit(t: ActionType) -> Option<ActionKind> {
    Some(match t {
        ActionType::Block => ActionKind::Block,
        ActionType::Notification => ActionKind::Notification,
        ActionType::PushNotification => ActionKind::PushNotification,
        ActionType::Retire => ActionKind::Retire,
        ActionType::Wipe => ActionKind::Wipe,
        ActionType::RemoveResourceAccessProfiles => ActionKind::RemoveResourceAccessProfiles,
        ActionType::RemoteLock => ActionKind::RemoteLock,
        ActionType::NoAction => return None,
    })
}

/// The contract's view of a desired policy.
pub(super) fn to_wit(d: &DesiredPolicy) -> Option<Policy> {
    Some(Policy {
        name: d.display_name.clone(),
        description: d.description.clone(),
        platform: to_wit_platform(d.platform)?,
        partner: d.partner.clone(),
        max_threat_level: d.max_level,
        settings_json: Value::Object(d.settings.clone()).to_string(),
        actions: d
            .actions
            .iter()
            .map(|a| Action {
                action_type: action_to_wit(a.kind),
                grace_period_hours: a.grace_period_hours,
                notification_template: a.template.clone(),
                cc_groups: a.cc.clone(),
            })
            .collect(),
        assignments: Assignments {
            include_groups: d.assignments.include.clone(),
            exclude_groups: d.assignments.exclude.clone(),
            all_users: d.assignments.all_users,
            all_devices: d.assignments.all_devices,
        },
    })
}

/// Runs one rules plugin and enforces the tightening rule.
pub(super) fn apply(
    rule: &str,
    plugin: &LoadedPlugin,
    policies: Vec<DesiredPolicy>,
    tenant: &TenantContext,
    conditional_access: &[CaPolicy],
    may_relax: bool,
    at: &Location,
) -> Result<Vec<DesiredPolicy>, PipelineError> {
    let (wit, passthrough): (Vec<_>, Vec<_>) =
        policies.into_iter().partition(|d| to_wit_platform(d.platform).is_some());
    // Every policy of one config has the same owner; one a rule adds gets it too.
    let wit_owner = wit.iter().chain(passthrough.iter()).find_map(|d| d.owner.clone());
    let input: Vec<Policy> = wit.iter().filter_map(to_wit).collect();
    let out = plugin
        .apply_rules(&input, tenant, conditional_access)
        .map_err(|e| PipelineError::Rules(format!("{at}: rules '{rule}': {e}")))?;
    let errors: Vec<String> = out
        .diagnostics
        .iter()
        .filter(|d| d.severity == DiagnosticSeverity::Error)
        .map(crate::runtime::describe_diagnostic)
        .collect();
    if !errors.is_empty() {
        return Err(PipelineError::Rules(format!("{at}: rules '{rule}' failed:\n  {}", errors.join("\n  "))));
    }
    let mut result = Vec::new();
    for p in &out.policies {
        let platform = from_wit_platform(p.platform);
        let before = wit.iter().find(|d| d.display_name == p.name && d.platform == platform);
        let settings = match serde_json::from_str::<Value>(&p.settings_json) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(PipelineError::Rules(format!(
                    "{at}: rules '{rule}': policy '{}' has settings that are not a JSON object",
                    p.name
                )))
            }
        };
        if let Some(b) = before {
            check_not_relaxed(rule, b, p.max_threat_level, may_relax, at)?;
        }
        let mut notes = before.map(|b| b.notes.clone()).unwrap_or_default();
        for n in out.notes.iter().filter(|n| n.policy == p.name) {
            notes.push(format!(
                "rule {} ({rule}): {}",
                crate::runtime::sanitize(&n.rule),
                crate::runtime::sanitize(&n.message)
            ));
        }
        if before.is_none() {
            notes.push(format!("added by rules plugin '{rule}'"));
        }
        let mut actions = Vec::new();
        for a in &p.actions {
            if let Some(kind) = action_from_wit(a.action_type) {
                actions.push(DesiredAction {
                    kind,
                    grace_period_hours: a.grace_period_hours,
                    template: a.notification_template.clone(),
                    cc: a.cc_groups.clone(),
                });
            }
        }
        result.push(DesiredPolicy {
            display_name: p.name.clone(),
            platform,
            // A policy a rule adds uses the lowest API version its type exists in.
            version: before.map(|b| b.version).unwrap_or_else(|| platform.policy_type().min_version()),
            description: p.description.clone(),
            marker: before.is_none_or(|b| b.marker),
            owner: before.and_then(|b| b.owner.clone()).or_else(|| wit_owner.clone()),
            partner: p.partner.clone(),
            max_level: p.max_threat_level,
            settings,
            actions,
            assignments: DesiredAssignments {
                include: p.assignments.include_groups.clone(),
                exclude: p.assignments.exclude_groups.clone(),
                all_users: p.assignments.all_users,
                all_devices: p.assignments.all_devices,
                // Rules see groups, not filters: keep the config's filters on
                // whatever the rule left in place.
                filters: before.map(|b| b.assignments.filters.clone()).unwrap_or_default(),
            },
            location: before.map(|b| b.location.clone()).unwrap_or_else(|| at.clone()),
            notes,
        });
    }
    for d in &wit {
        if !result.iter().any(|r| r.display_name == d.display_name && r.platform == d.platform) {
            return Err(PipelineError::Rules(format!(
                "{at}: rules '{rule}' dropped policy '{}'; rules may adjust or add policies, not remove them",
                d.display_name
            )));
        }
    }
    result.extend(passthrough);
    Ok(result)
}

fn check_not_relaxed(
    rule: &str,
    before: &DesiredPolicy,
    after: Option<ThreatLevel>,
    may_relax: bool,
    at: &Location,
) -> Result<(), PipelineError> {
    if may_relax {
        return Ok(());
    }
    let relaxed = match (before.max_level, after) {
        (Some(_), None) => true,
        (Some(b), Some(a)) => a.rank() > b.rank(),
        _ => false,
    };
    if relaxed {
        return Err(PipelineError::Rules(format!(
            "{at}: rules '{rule}' tried to relax '{}' from {} to {}; rules may only tighten unless the config sets rules-may-relax = true",
            before.display_name,
            before.max_level.map_or("-", |l| l.as_str()),
            after.map_or("no requirement", |l| l.as_str())
        )));
    }
    Ok(())
}
