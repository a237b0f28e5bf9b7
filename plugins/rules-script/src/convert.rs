//! Policies as scripts see them (plain maps with snake_case keys) and back.

use mtd_sdk::prelude::*;
use serde_json::{json, Map, Value};

const PLATFORMS: [(Platform, &str); 6] = [
    (Platform::Ios, "ios"),
    (Platform::Android, "android"),
    (Platform::AndroidWorkProfile, "android-work-profile"),
    (Platform::AndroidDeviceOwner, "android-device-owner"),
    (Platform::Macos, "macos"),
    (Platform::Windows, "windows"),
];

const ACTIONS: [(ActionType, &str); 8] = [
    (ActionType::Block, "block"),
    (ActionType::Notification, "notification"),
    (ActionType::PushNotification, "push-notification"),
    (ActionType::Retire, "retire"),
    (ActionType::Wipe, "wipe"),
    (ActionType::RemoveResourceAccessProfiles, "remove-resource-access-profiles"),
    (ActionType::RemoteLock, "remote-lock"),
    (ActionType::NoAction, "no-action"),
];

pub fn platform_name(p: Platform) -> &'static str {
    PLATFORMS.iter().find(|(x, _)| *x == p).map(|(_, n)| *n).unwrap_or("unknown")
}

/// A policy as a script sees it.
pub fn to_value(p: &Policy) -> Value {
    let settings: Value = serde_json::from_str(&p.settings_json).unwrap_or_else(|_| json!({}));
    json!({
        "name": p.name,
        "description": p.description,
        "platform": platform_name(p.platform),
        "partner": p.partner,
        "max_threat_level": p.max_threat_level.map(|l| l.as_str()),
        "settings": settings,
        "actions": p.actions.iter().map(|a| json!({
            "type": ACTIONS.iter().find(|(t, _)| *t == a.action_type).map(|(_, n)| *n).unwrap_or("no-action"),
            "grace_period_hours": a.grace_period_hours,
            "template": a.notification_template,
            "cc": a.cc_groups,
        })).collect::<Vec<_>>(),
        "include": p.assignments.include_groups,
        "exclude": p.assignments.exclude_groups,
        "all_users": p.assignments.all_users,
        "all_devices": p.assignments.all_devices,
    })
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(|| format!("{what} must hold strings")))
            .collect(),
        Some(_) => Err(format!("{what} must be a list of strings")),
    }
}

/// A script's policy map back into a contract policy; errors name the policy and field.
pub fn from_value(v: &Value) -> Result<Policy, String> {
    let o: &Map<String, Value> = v.as_object().ok_or("a rule returned something that is not a policy map")?;
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or("a policy has no name")?
        .to_string();
    let bad = |m: String| format!("policy '{name}': {m}");
    let platform_word = o.get("platform").and_then(Value::as_str).unwrap_or("");
    let platform = PLATFORMS
        .iter()
        .find(|(_, n)| *n == platform_word)
        .map(|(p, _)| *p)
        .ok_or_else(|| bad(format!("platform '{platform_word}' is not one of ios, android, android-work-profile, android-device-owner, macos, windows")))?;
    let max_threat_level = match o.get("max_threat_level") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            ThreatLevel::parse(s)
                .ok_or_else(|| bad(format!("max_threat_level '{s}' is not secured, low, medium or high")))?,
        ),
        Some(_) => return Err(bad("max_threat_level must be a string or ()".into())),
    };
    let settings = match o.get("settings") {
        None | Some(Value::Null) => json!({}),
        Some(s @ Value::Object(_)) => s.clone(),
        Some(_) => return Err(bad("settings must be a map".into())),
    };
    let mut actions = Vec::new();
    for a in o.get("actions").and_then(Value::as_array).cloned().unwrap_or_default() {
        let t = a.get("type").and_then(Value::as_str).unwrap_or("");
        let action_type = ACTIONS
            .iter()
            .find(|(_, n)| *n == t)
            .map(|(x, _)| *x)
            .ok_or_else(|| bad(format!("action type '{t}' is unknown")))?;
        let grace = a.get("grace_period_hours").and_then(Value::as_u64).unwrap_or(0);
        actions.push(Action {
            action_type,
            grace_period_hours: u32::try_from(grace)
                .map_err(|_| bad("grace_period_hours is too large".into()))?,
            notification_template: a.get("template").and_then(Value::as_str).map(str::to_string),
            cc_groups: strings(a.get("cc"), "cc").map_err(bad)?,
        });
    }
    Ok(Policy {
        description: o.get("description").and_then(Value::as_str).unwrap_or("").to_string(),
        platform,
        partner: o.get("partner").and_then(Value::as_str).map(str::to_string),
        max_threat_level,
        settings_json: settings.to_string(),
        actions,
        assignments: Assignments {
            include_groups: strings(o.get("include"), "include").map_err(bad)?,
            exclude_groups: strings(o.get("exclude"), "exclude").map_err(bad)?,
            all_users: o.get("all_users").and_then(Value::as_bool).unwrap_or(false),
            all_devices: o.get("all_devices").and_then(Value::as_bool).unwrap_or(false),
        },
        name,
    })
}

/// A Conditional Access policy as a script sees it: `platforms` in the
/// scripts' platform words (the compliance platforms it covers), Graph's own
/// words kept in `graph_platforms` and `grant`.
fn ca_value(c: &CaPolicy) -> Value {
    let group =
        |g: &mtd_sdk::Group| if g.display_name.is_empty() { g.id.clone() } else { g.display_name.clone() };
    json!({
        "id": c.id,
        "name": c.display_name,
        "source": match c.source { mtd_sdk::CaSource::Config => "config", mtd_sdk::CaSource::Tenant => "tenant" },
        "state": match c.state {
            mtd_sdk::CaState::On => "on",
            mtd_sdk::CaState::Off => "off",
            mtd_sdk::CaState::ReportOnly => "report-only",
        },
        "platforms": PLATFORMS.iter().filter(|(p, _)| c.covers(*p)).map(|(_, n)| *n).collect::<Vec<_>>(),
        "graph_platforms": c.platforms,
        "graph_exclude_platforms": c.exclude_platforms,
        "apps": c.apps,
        "exclude_apps": c.exclude_apps,
        "all_users": c.all_users,
        "include": c.include_groups.iter().map(group).collect::<Vec<_>>(),
        "exclude": c.exclude_groups.iter().map(group).collect::<Vec<_>>(),
        "include_users": c.include_users,
        "exclude_users": c.exclude_users,
        "include_roles": c.include_roles,
        "exclude_roles": c.exclude_roles,
        "grant": c.grant_controls,
        "operator": c.grant_operator,
        "requires_compliant_device": c.requires_compliant_device(),
        "blocks": c.blocks(),
    })
}

/// The tenant as a script sees it.
pub fn tenant_value(t: &TenantContext, conditional_access: &[CaPolicy]) -> Value {
    json!({
        "conditional_access": conditional_access.iter().map(ca_value).collect::<Vec<_>>(),
        "groups": t.groups.iter().map(|g| json!({"id": g.id, "name": g.display_name})).collect::<Vec<_>>(),
        "connectors": t.connectors.iter().map(|c| json!({
            "id": c.id, "state": format!("{:?}", c.state).to_lowercase(),
            "android": c.android_enabled, "ios": c.ios_enabled, "windows": c.windows_enabled, "mac": c.mac_enabled,
        })).collect::<Vec<_>>(),
        "platforms": t.platforms.iter().map(|p| platform_name(*p)).collect::<Vec<_>>(),
    })
}

/// What changed between two versions of a policy, in words.
pub fn describe_changes(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let keys = [
        "max_threat_level",
        "description",
        "settings",
        "actions",
        "include",
        "exclude",
        "all_users",
        "all_devices",
    ];
    for k in keys {
        let (b, a) = (before.get(k).unwrap_or(&Value::Null), after.get(k).unwrap_or(&Value::Null));
        if b == a {
            continue;
        }
        let show = |v: &Value| if v.is_null() { "none".to_string() } else { v.to_string() };
        if k == "settings" {
            if let (Some(bo), Some(ao)) = (b.as_object(), a.as_object()) {
                for (sk, sv) in ao {
                    if bo.get(sk) != Some(sv) {
                        out.push(format!(
                            "settings.{sk}: {} -> {sv}",
                            bo.get(sk).map(show).unwrap_or_else(|| "unset".into())
                        ));
                    }
                }
                for sk in bo.keys().filter(|k| !ao.contains_key(*k)) {
                    out.push(format!("settings.{sk}: removed"));
                }
                continue;
            }
        }
        out.push(format!("{}: {} -> {}", k.replace('_', " "), show(b), show(a)));
    }
    out
}
