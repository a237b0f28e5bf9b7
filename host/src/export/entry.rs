//! One exported `[[policy]]` entry as a typed struct, serialised by `toml`:
//! the config's own keys, written from what the tenant holds. What the
//! config cannot express is left out with a warning, never silently.
//!
//! Fields are declared in the order TOML prints them (plain keys in
//! alphabetical order, then the tables), so an entry reads like one an
//! admin would write.

use serde::Serialize;
use serde_json::Value;
use toml::{Table, Value as Toml};

use crate::config::Platform;
use crate::graph::schema::{ApiVersion, PolicyType};
use crate::graph::{AssignmentTarget, Named, RemotePolicy, Target};
use crate::pipeline::marker::{self, Ownership};
use crate::plan::Resolver;

/// What every exported entry's names come from.
pub(super) struct Context<'a> {
    /// Groups, templates and filters, prefetched.
    pub(super) resolver: &'a Resolver<'a>,
}

/// The `[[policy]]` array of the export.
#[derive(Serialize)]
struct PolicyDoc<'a> {
    policy: &'a [PolicyEntry],
}

/// The `[[policy]]` tables, written one entry at a time (each dropped once
/// written) into text the same as the whole array's: a document of
/// thousands of entries is never built at once. No entries: empty text (an
/// empty `policy = []` after a table would become one of its keys).
pub(super) fn policies_text(entries: Vec<PolicyEntry>) -> Result<String, toml::ser::Error> {
    let mut text = String::new();
    for (i, e) in entries.into_iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&toml::to_string_pretty(&PolicyDoc { policy: std::slice::from_ref(&e) })?);
    }
    Ok(text)
}

/// One `[[policy]]` entry (docs/config.md has every key).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct PolicyEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<&'static str>,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_threat_level: Option<String>,
    name: String,
    platform_suffix: bool,
    platforms: [&'static str; 1],
    actions: Vec<ActionEntry>,
    #[serde(skip_serializing_if = "AssignmentsEntry::is_empty")]
    assignments: AssignmentsEntry,
    #[serde(skip_serializing_if = "Table::is_empty")]
    settings: Table,
}

/// One `[[policy.actions]]` entry.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct ActionEntry {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cc: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grace_period_hours: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// `[policy.assignments]`: include entries are a group (name or id) or an
/// inline table with its filter; all-users/all-devices are `true` or a filter.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssignmentsEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    all_devices: Option<Toml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    all_users: Option<Toml>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exclude: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    include: Vec<Toml>,
}

impl PolicyEntry {
    /// The policy's display name.
    pub(super) fn name(&self) -> &str {
        &self.name
    }
}

impl AssignmentsEntry {
    fn is_empty(&self) -> bool {
        self.all_devices.is_none()
            && self.all_users.is_none()
            && self.exclude.is_empty()
            && self.include.is_empty()
    }
}

/// The entry describing `p` (a policy of a type mtdhost manages), `owner`
/// being the export's `[tenant] owner`. Groups, templates and filters are
/// written as ids: [`name_refs`] names them once every id is known.
pub(super) fn policy_entry(p: &RemotePolicy, owner: Option<&str>, warnings: &mut Vec<String>) -> PolicyEntry {
    let ty = p.policy_type.expect("export selects policies of known types");
    let (description, marker) = description(p, ty, owner);
    let max_threat_level = threat_level(p).map(str::to_string);
    let (settings, beta_settings) = settings_table(p, ty);
    let beta = ty.min_version() == ApiVersion::Beta
        || (max_threat_level.is_some() && ty.mtd_level_version() == Some(ApiVersion::Beta))
        || beta_settings
        || p.actions.iter().any(|a| a.action_type.kind().is_some_and(|k| k.since() == ApiVersion::Beta));
    PolicyEntry {
        api: beta.then_some("beta"),
        description,
        marker,
        max_threat_level,
        name: p.display_name.clone(),
        platform_suffix: false,
        platforms: [Platform::from_policy_type(ty).key()],
        actions: action_entries(p, warnings),
        assignments: assignments(p, warnings),
        settings,
    }
}

/// The description, and `marker = false` for an adopted policy: a marker
/// this config would write itself (same owner, or the plain one when the
/// config has no owner) is stripped; anything else is kept verbatim.
fn description(p: &RemotePolicy, ty: PolicyType, owner: Option<&str>) -> (String, Option<bool>) {
    let (text, ownership) = marker::parse(&p.description);
    let ours = match (&ownership, owner) {
        (Ownership::Legacy, None) => true,
        (Ownership::Owned { owner, key }, Some(o)) => {
            owner == o && *key == marker::key(o, ty, &p.display_name)
        }
        _ => false,
    };
    if ours {
        (text, None)
    } else {
        (p.description.clone(), Some(false))
    }
}

/// The Intune threat level the policy requires, if it requires one.
fn threat_level(p: &RemotePolicy) -> Option<&str> {
    if p.properties.get("deviceThreatProtectionEnabled").as_deref() != Some(&Value::Bool(true)) {
        return None;
    }
    let level = p.properties.get("deviceThreatProtectionRequiredSecurityLevel")?;
    let level = level.as_str()?;
    crate::runtime::ThreatLevel::parse(level).map(|l| l.as_str())
}

/// Every setting not at Intune's default (the ones mtdhost sets from the
/// policy's own keys aside), and whether any exists only in beta.
fn settings_table(p: &RemotePolicy, ty: PolicyType) -> (Table, bool) {
    let mut settings = Table::new();
    let mut beta = false;
    for prop in ty.properties() {
        if crate::config::MANAGED_KEYS.contains(&prop.name) {
            continue;
        }
        let Some(v) = p.properties.get(prop.name) else { continue };
        if crate::plan::is_default(prop, &v) {
            continue;
        }
        if let Some(tv) = to_toml(&v) {
            beta |= prop.since == ApiVersion::Beta;
            settings.insert(prop.name.to_string(), tv);
        }
    }
    (settings, beta)
}

/// The actions for noncompliance, templates and CC groups by id.
fn action_entries(p: &RemotePolicy, warnings: &mut Vec<String>) -> Vec<ActionEntry> {
    let mut actions = Vec::new();
    for a in &p.actions {
        let Some(kind) = a.action_type.kind() else {
            warnings.push(format!(
                "'{}': the action '{}' cannot be expressed in the config and was left out; a plan on the export will propose removing it",
                p.display_name, a.action_type
            ));
            continue;
        };
        let tid = a.normalized().notification_template_id;
        actions.push(ActionEntry {
            cc: a.notification_message_cc_list.clone(),
            grace_period_hours: (a.grace_period_hours > 0).then_some(a.grace_period_hours),
            template: (!tid.is_empty()).then_some(tid),
            kind: kind.key(),
        });
    }
    actions
}

/// The direct assignments (policy sets' are theirs to export), groups and
/// filters by id.
fn assignments(p: &RemotePolicy, warnings: &mut Vec<String>) -> AssignmentsEntry {
    let mut out = AssignmentsEntry::default();
    let filter = |t: &Target| {
        t.filter.as_ref().map(|f| {
            let mut ft = Table::new();
            ft.insert("filter".into(), Toml::String(f.id.clone()));
            ft.insert("filter-mode".into(), Toml::String(f.mode.as_str().into()));
            ft
        })
    };
    for a in p.assignments.iter().filter(|a| a.is_direct()) {
        match &a.target.kind {
            AssignmentTarget::Group(id) => {
                let group = Toml::String(id.clone());
                out.include.push(match filter(&a.target) {
                    Some(mut ft) => {
                        ft.insert("group".into(), group);
                        Toml::Table(ft)
                    }
                    None => group,
                });
            }
            AssignmentTarget::ExclusionGroup(id) => {
                if a.target.filter.is_some() {
                    warnings.push(format!(
                        "'{}': the filter on the exclusion of group {id} cannot be expressed in the config and was left out",
                        p.display_name
                    ));
                }
                out.exclude.push(id.clone());
            }
            AssignmentTarget::AllLicensedUsers => {
                out.all_users = Some(filter(&a.target).map_or(Toml::Boolean(true), Toml::Table));
            }
            AssignmentTarget::AllDevices => {
                out.all_devices = Some(filter(&a.target).map_or(Toml::Boolean(true), Toml::Table));
            }
            AssignmentTarget::ConfigurationManagerCollection(id) => warnings.push(format!(
                "'{}': the assignment to Configuration Manager collection {id} cannot be expressed in the config and was left out",
                p.display_name
            )),
        }
    }
    out
}

/// TOML for a Graph value, without the `@odata.*` annotations and nulls
/// Graph adds inside complex values (the plan ignores them too).
fn to_toml(v: &Value) -> Option<Toml> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => Toml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Toml::Integer(i),
            None => Toml::Float(n.as_f64()?),
        },
        Value::String(s) => Toml::String(s.clone()),
        Value::Array(a) => Toml::Array(a.iter().filter_map(to_toml).collect()),
        Value::Object(o) => Toml::Table(
            o.iter()
                .filter(|(k, _)| !k.starts_with("@odata."))
                .filter_map(|(k, v)| Some((k.clone(), to_toml(v)?)))
                .collect(),
        ),
    })
}

/// Names the ids [`policy_entry`] wrote: a group, template or filter by
/// its display name where that name is unique, else by id.
pub(super) fn name_refs(e: &mut PolicyEntry, ctx: &Context<'_>) {
    let r = ctx.resolver;
    let templates = r.cached_templates();
    for a in &mut e.actions {
        for g in &mut a.cc {
            *g = group_ref(r, g);
        }
        if let Some(tid) = &mut a.template {
            let name = templates.iter().find(|(id, _)| id == tid).map(|(_, n)| n.clone());
            if let Some(n) = name.filter(|n| templates.iter().filter(|(_, m)| m == n).count() == 1) {
                *tid = n;
            }
        }
    }
    let filter = |t: &mut Table| {
        if let Some(Toml::String(id)) = t.get_mut("filter") {
            *id = filter_ref(r.cached_filters(), id);
        }
    };
    let a = &mut e.assignments;
    for i in &mut a.include {
        match i {
            Toml::String(id) => *id = group_ref(r, id),
            Toml::Table(t) => {
                if let Some(Toml::String(id)) = t.get_mut("group") {
                    *id = group_ref(r, id);
                }
                filter(t);
            }
            _ => {}
        }
    }
    for g in &mut a.exclude {
        *g = group_ref(r, g);
    }
    for all in [&mut a.all_users, &mut a.all_devices].into_iter().flatten() {
        if let Toml::Table(t) = all {
            filter(t);
        }
    }
}

/// An assignment filter's unique display name, or its id.
fn filter_ref(filters: &[Named], id: &str) -> String {
    match filters.iter().find(|f| f.id == id) {
        Some(f) if filters.iter().filter(|g| g.display_name == f.display_name).count() == 1 => {
            f.display_name.clone()
        }
        _ => id.to_string(),
    }
}

/// A group's unique display name, or its id when the name is not unique
/// (or the group is gone). Answered from the resolver's cache.
fn group_ref(r: &Resolver<'_>, id: &str) -> String {
    match r.cached_group_name(id) {
        Some(name) if r.cached_group(name).is_some_and(|g| g.as_deref() == Ok(id)) => name.to_string(),
        _ => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, with_tables: bool) -> PolicyEntry {
        let mut settings = Table::new();
        if with_tables {
            settings.insert("passcodeRequired".into(), Toml::Boolean(true));
        }
        PolicyEntry {
            api: with_tables.then_some("beta"),
            description: "R&D 'North' \"quoted\"".into(),
            marker: None,
            max_threat_level: Some("low".into()),
            name: name.into(),
            platform_suffix: false,
            platforms: ["ios"],
            actions: vec![ActionEntry {
                cc: vec!["G".into()],
                grace_period_hours: Some(24),
                template: None,
                kind: "block",
            }],
            assignments: AssignmentsEntry {
                include: vec![Toml::String("MTD - iOS Users".into())],
                all_devices: with_tables.then_some(Toml::Boolean(true)),
                ..AssignmentsEntry::default()
            },
            settings,
        }
    }

    #[test]
    fn entry_by_entry_text_is_the_whole_arrays() {
        let entries = || vec![entry("A", true), entry("B", false), entry("C & 'D'", true)];
        let whole = toml::to_string_pretty(&PolicyDoc { policy: &entries() }).unwrap();
        assert_eq!(policies_text(entries()).unwrap(), whole);
        assert_eq!(policies_text(Vec::new()).unwrap(), "");
    }
}
