//! `export`: the tenant's existing MTD compliance policies written as config
//! entries, so an admin can adopt what exists. A plan on the exported config
//! shows no change: every setting that differs from Intune's default, the
//! actions and the direct assignments (with their filters) are written
//! exactly, and descriptions are kept as they are. Defaults Graph echoes
//! (`roleScopeTagIds: ["0"]`, beta enums at member 0) are left out, and
//! `api = "beta"` is chosen only when a non-default beta-only value needs it.
//! Policy-set assignments are not the policy's own and are not exported.

use std::collections::BTreeSet;

use serde_json::Value;
use toml::{Table, Value as Toml};

use crate::config::Platform;
use crate::graph::schema::{ApiVersion, PolicyType};
use crate::graph::Named;
use crate::graph::RemotePolicy;
use crate::graph::{AssignmentTarget, Target};
use crate::graph::{GraphClient, GraphError};
use crate::pipeline::marker::{self, Ownership};
use crate::plan::{Resolver, Wanted};

/// Why the export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the tenant failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// What was read cannot be written as TOML.
    #[error("cannot write TOML: {0}")]
    Toml(String),
}

/// What `export` produced.
pub struct Exported {
    /// The config text: a header comment, `[tenant]`, then one `[[policy]]` per exported policy.
    pub toml: String,
    /// How many policies were exported.
    pub count: usize,
    /// What could not be expressed in the config and was left out.
    pub warnings: Vec<String>,
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

/// Every group id, template and filter the exported policies point at.
fn wanted(policies: &[&RemotePolicy]) -> Wanted {
    let mut w = Wanted::default();
    for p in policies {
        for a in p.assignments.iter().filter(|a| a.is_direct()) {
            if let AssignmentTarget::Group(id) | AssignmentTarget::ExclusionGroup(id) = &a.target.kind {
                w.group_ids.insert(id.clone());
            }
            w.filters |= a.target.filter.is_some();
        }
        for a in &p.actions {
            w.group_ids.extend(a.notification_message_cc_list.iter().cloned());
            w.templates |= !a.normalized().notification_template_id.is_empty();
        }
    }
    w
}

/// Exports MTD policies (those requiring a device threat level), or every
/// compliance policy with `all`, as `[[policy]]` entries under `tenant`.
///
/// Reads in a handful of round trips: the policies with actions and
/// assignments in one paged read, then the group ids, templates and filters
/// they use (overlapped), then the groups' names once more to learn which
/// names are unique.
pub async fn export(client: &GraphClient, tenant: &Table, all: bool) -> Result<Exported, ExportError> {
    let policies = client.list_policies(ApiVersion::Beta).await?;
    let mut selected: Vec<&RemotePolicy> = policies
        .iter()
        .filter(|p| p.policy_type.is_some())
        .filter(|p| all || p.raw.get("deviceThreatProtectionEnabled") == Some(&Value::Bool(true)))
        .collect();
    // Graph lists in no promised order; a stable one keeps exports diffable.
    selected.sort_by(|a, b| {
        (&a.display_name, a.odata_type.as_str(), &a.id).cmp(&(&b.display_name, b.odata_type.as_str(), &b.id))
    });
    let mut resolver = Resolver::new(client);
    let wanted = wanted(&selected);
    resolver.prefetch(&wanted).await?;
    // A name is written only when it names exactly one group.
    let names: BTreeSet<String> =
        wanted.group_ids.iter().filter_map(|id| resolver.cached_group_name(id).map(str::to_string)).collect();
    resolver.prefetch(&Wanted { groups: names, ..Wanted::default() }).await?;
    let owner = tenant.get("owner").and_then(Toml::as_str).map(str::to_string);
    let ctx = Context { resolver: &resolver, owner: owner.as_deref() };
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for p in selected {
        for what in &p.problems {
            warnings.push(format!("{}: {what}; not in the export", p.label()));
        }
        out.push(policy_entry(p, &ctx, &mut warnings));
    }
    // Two documents so [tenant] comes first (tables serialise in key order).
    let write = |key: &str, value: Toml| {
        let mut root = Table::new();
        root.insert(key.into(), value);
        toml::to_string_pretty(&root).map_err(|e| ExportError::Toml(e.to_string()))
    };
    let body = write("tenant", Toml::Table(tenant.clone()))?
        + "\n"
        + &write("policy", Toml::Array(out.iter().cloned().map(Toml::Table).collect()))?;
    let header = format!(
        "# Exported by mtdhost {} from the tenant's {} compliance policies.\n# Review, then plan: `mtdhost plan -c THIS_FILE` shows no change.\n\n",
        env!("CARGO_PKG_VERSION"),
        if all { "" } else { "MTD" }
    );
    Ok(Exported { toml: header + &body, count: out.len(), warnings })
}

/// What every exported entry is resolved against.
struct Context<'a> {
    /// Groups, templates and filters, prefetched.
    resolver: &'a Resolver<'a>,
    /// `[tenant] owner` of the export's tenant table.
    owner: Option<&'a str>,
}

/// The `[[policy]]` entry describing `p`; what the config cannot express
/// is left out with a warning.
fn policy_entry(p: &RemotePolicy, ctx: &Context<'_>, warnings: &mut Vec<String>) -> Table {
    let ty = p.policy_type.expect("checked by the caller");
    let mut t = Table::new();
    t.insert("name".into(), Toml::String(p.display_name.clone()));
    t.insert(
        "platforms".into(),
        Toml::Array(vec![Toml::String(Platform::from_policy_type(ty).key().into())]),
    );
    t.insert("platform-suffix".into(), Toml::Boolean(false));
    insert_description(&mut t, p, ty, ctx.owner);
    let mut beta = ty.min_version() == ApiVersion::Beta;
    if let Some(level) = threat_level(p) {
        t.insert("max-threat-level".into(), Toml::String(level.into()));
        beta |= ty.mtd_level_version() == Some(ApiVersion::Beta);
    }
    let (settings, beta_settings) = settings_table(p, ty);
    beta |= beta_settings;
    if !settings.is_empty() {
        t.insert("settings".into(), Toml::Table(settings));
    }
    beta |= p.actions.iter().any(|a| a.action_type.kind().is_some_and(|k| k.since() == ApiVersion::Beta));
    if beta {
        t.insert("api".into(), Toml::String("beta".into()));
    }
    t.insert("actions".into(), Toml::Array(action_entries(p, ctx, warnings)));
    let assign = assignments_table(p, ctx, warnings);
    if !assign.is_empty() {
        t.insert("assignments".into(), Toml::Table(assign));
    }
    t
}

/// The description: a marker this config would write itself (same owner,
/// or the plain one when the config has no owner) is stripped; anything
/// else is kept verbatim and the policy adopted (`marker = false`).
fn insert_description(t: &mut Table, p: &RemotePolicy, ty: PolicyType, owner: Option<&str>) {
    let (text, ownership) = marker::parse(&p.description);
    let ours = match (&ownership, owner) {
        (Ownership::Legacy, None) => true,
        (Ownership::Owned { owner, key }, Some(o)) => {
            owner == o && *key == marker::key(o, ty, &p.display_name)
        }
        _ => false,
    };
    if ours {
        t.insert("description".into(), Toml::String(text));
    } else {
        t.insert("description".into(), Toml::String(p.description.clone()));
        t.insert("marker".into(), Toml::Boolean(false));
    }
}

/// The Intune threat level the policy requires, if it requires one.
fn threat_level(p: &RemotePolicy) -> Option<&str> {
    if p.raw.get("deviceThreatProtectionEnabled") != Some(&Value::Bool(true)) {
        return None;
    }
    let level = p.raw.get("deviceThreatProtectionRequiredSecurityLevel").and_then(Value::as_str)?;
    crate::runtime::ThreatLevel::parse(level).map(|_| level)
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
        let Some(v) = p.raw.get(prop.name) else { continue };
        if crate::plan::is_default(prop, v) {
            continue;
        }
        if let Some(tv) = to_toml(v) {
            beta |= prop.since == ApiVersion::Beta;
            settings.insert(prop.name.to_string(), tv);
        }
    }
    (settings, beta)
}

/// The actions for noncompliance, templates and CC groups by unique name.
fn action_entries(p: &RemotePolicy, ctx: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Toml> {
    let templates = ctx.resolver.cached_templates();
    let mut actions = Vec::new();
    for a in &p.actions {
        let Some(kind) = a.action_type.kind() else {
            warnings.push(format!(
                "'{}': the action '{}' cannot be expressed in the config and was left out; a plan on the export will propose removing it",
                p.display_name, a.action_type
            ));
            continue;
        };
        let mut at = Table::new();
        at.insert("type".into(), Toml::String(kind.key().into()));
        if a.grace_period_hours > 0 {
            at.insert("grace-period-hours".into(), Toml::Integer(a.grace_period_hours.into()));
        }
        let tid = a.normalized().notification_template_id;
        if !tid.is_empty() {
            let name = templates.iter().find(|(id, _)| *id == tid).map(|(_, n)| n.clone());
            let unique = name.as_ref().is_some_and(|n| templates.iter().filter(|(_, m)| m == n).count() == 1);
            at.insert(
                "template".into(),
                Toml::String(if unique { name.unwrap_or_default() } else { tid.clone() }),
            );
        }
        if !a.notification_message_cc_list.is_empty() {
            let cc =
                a.notification_message_cc_list.iter().map(|id| Toml::String(group_ref(ctx.resolver, id)));
            at.insert("cc".into(), Toml::Array(cc.collect()));
        }
        actions.push(Toml::Table(at));
    }
    actions
}

/// The direct assignments (policy sets' are theirs to export).
fn assignments_table(p: &RemotePolicy, ctx: &Context<'_>, warnings: &mut Vec<String>) -> Table {
    let mut assign = Table::new();
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    let filter = |t: &Target| {
        t.filter.as_ref().map(|f| {
            let mut ft = Table::new();
            ft.insert("filter".into(), Toml::String(filter_ref(ctx.resolver.cached_filters(), &f.id)));
            ft.insert("filter-mode".into(), Toml::String(f.mode.as_str().into()));
            ft
        })
    };
    for a in p.assignments.iter().filter(|a| a.is_direct()) {
        match &a.target.kind {
            AssignmentTarget::Group(id) => {
                let group = Toml::String(group_ref(ctx.resolver, id));
                include.push(match filter(&a.target) {
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
                exclude.push(Toml::String(group_ref(ctx.resolver, id)));
            }
            AssignmentTarget::AllLicensedUsers => {
                assign.insert("all-users".into(), filter(&a.target).map_or(Toml::Boolean(true), Toml::Table));
            }
            AssignmentTarget::AllDevices => {
                assign.insert("all-devices".into(), filter(&a.target).map_or(Toml::Boolean(true), Toml::Table));
            }
            AssignmentTarget::ConfigurationManagerCollection(id) => warnings.push(format!(
                "'{}': the assignment to Configuration Manager collection {id} cannot be expressed in the config and was left out",
                p.display_name
            )),
        }
    }
    if !include.is_empty() {
        assign.insert("include".into(), Toml::Array(include));
    }
    if !exclude.is_empty() {
        assign.insert("exclude".into(), Toml::Array(exclude));
    }
    assign
}
