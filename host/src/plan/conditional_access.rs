//! Conditional Access policies as a resource kind. Matched by display name
//! plus the ownership marker (names are not unique in Entra: two with one
//! name stop the plan, and a same-named policy mtdhost did not create is
//! never taken over); created report-only unless the config says `on`, and
//! turning enforcement on is shown as its own, highlighted change; a policy
//! that can shut users out must exclude a `[tenant] break-glass` group,
//! checked here by resolved group id (the lockout guard), and an enforced one
//! must not apply to the signed-in admin ([`super::ca_lockout`]); unmanaged
//! policies are never touched, not even by `--prune`.

use serde_json::{json, Map, Value};

use super::kind::ResourceKind;
use super::matching::Keyed;
use super::resolve::{Resolver, Wanted};
use super::{ChangeKind, PlanError, PlanOptions, SettingChange};
use crate::graph::{GraphClient, RemoteCaPolicy};
use crate::pipeline::marker::{self, Ownership};
use crate::pipeline::{covers, DesiredCa, DesiredPolicy, CA_TYPE};
use mtd_model::{CaPlatform, CaState, GrantControl};

use super::ca_change::CaChange;
use super::ca_lockout::{self, AdminCheck, Finding};

impl Keyed for DesiredCa {
    type Key = String;
    fn key(&self) -> Option<String> {
        Some(self.display_name.clone())
    }
}

impl Keyed for RemoteCaPolicy {
    type Key = String;
    fn key(&self) -> Option<String> {
        Some(self.display_name.clone())
    }
}

/// Group ids a desired policy resolved to.
pub(crate) struct ResolvedCa {
    include: Vec<String>,
    exclude: Vec<String>,
}

/// The CA kind for one plan.
pub(crate) struct ConditionalAccess<'c> {
    client: &'c GraphClient,
    options: &'c PlanOptions,
    /// The compliance policies of the same config, for the link check.
    policies: &'c [DesiredPolicy],
    resolver: Resolver<'c>,
    /// False when the caller plans no CA at all (then nothing is read or pruned).
    managed: bool,
    /// Every policy read, to recognise one of ours renamed in the portal.
    remote: Vec<RemoteCaPolicy>,
    /// What in the tenant's policies could not be read.
    pub(crate) read_warnings: Vec<String>,
    /// The signed-in admin, in a delegated session planning an enforced policy.
    admin: Option<AdminCheck>,
}

impl<'c> ConditionalAccess<'c> {
    /// The kind, with nothing read yet; `managed` false leaves CA out of the
    /// plan entirely (no read, no prune).
    pub(crate) fn new(
        client: &'c GraphClient,
        options: &'c PlanOptions,
        policies: &'c [DesiredPolicy],
        managed: bool,
    ) -> Self {
        let resolver = match &options.directory {
            Some(groups) => Resolver::with_directory(client, groups.clone()),
            None => Resolver::new(client),
        };
        ConditionalAccess {
            client,
            options,
            policies,
            resolver,
            managed,
            remote: Vec::new(),
            read_warnings: Vec::new(),
            admin: None,
        }
    }
}

impl ConditionalAccess<'_> {
    /// Whether `r` is the tenant's copy of `d`: its name, and this owner's
    /// marker (or the one `--adopt-owner` takes over).
    fn is_copy_of(&self, r: &RemoteCaPolicy, d: &DesiredCa) -> bool {
        r.display_name == d.display_name
            && marker::is_ours(
                &r.description,
                d.owner.as_deref(),
                CA_TYPE,
                &d.display_name,
                self.options.adopt_owner,
            )
    }
}

/// A list at `path` in a Graph object, normalised for comparing: sorted,
/// ids lower-cased, null and absent read as empty.
pub(super) fn list_at(p: &RemoteCaPolicy, path: &[&str]) -> Vec<String> {
    norm(p.strings(path))
}

pub(super) fn norm(mut v: Vec<String>) -> Vec<String> {
    for s in &mut v {
        if super::is_guid(s) {
            *s = s.to_ascii_lowercase();
        }
    }
    v.sort();
    v.dedup();
    v
}

/// The object at `path` as read (annotations dropped), or an empty one.
fn object_at(p: &RemoteCaPolicy, path: &[&str]) -> Map<String, Value> {
    p.at(path)
        .and_then(Value::as_object)
        .map(|o| o.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// `includeUsers` as the config wants it: `All` or not, and whatever specific
/// users or guest markers the tenant lists — mtdhost manages only `All`.
fn users_wanted(p: &RemoteCaPolicy, d: &DesiredCa) -> Vec<String> {
    let mut v: Vec<String> =
        list_at(p, &["conditions", "users", "includeUsers"]).into_iter().filter(|u| u != "All").collect();
    if d.all_users {
        v.push("All".into());
    }
    norm(v)
}

/// The managed parts of a desired policy, in Graph's shape.
struct Shape {
    include_users: Vec<String>,
    include_groups: Vec<String>,
    exclude_groups: Vec<String>,
    apps: Vec<String>,
    platforms: Vec<String>,
    client_apps: Vec<String>,
    controls: Vec<String>,
    operator: String,
}

impl Shape {
    fn of(d: &DesiredCa, r: &ResolvedCa) -> Self {
        Shape {
            include_users: if d.all_users { vec!["All".into()] } else { Vec::new() },
            include_groups: norm(r.include.clone()),
            exclude_groups: norm(r.exclude.clone()),
            apps: norm(d.apps.clone()),
            // `all` is the same as listing none: every platform.
            platforms: {
                let p = norm(d.platforms.clone());
                if p.iter().any(|x| x == "all") {
                    Vec::new()
                } else {
                    p
                }
            },
            client_apps: norm(d.client_apps.clone()),
            controls: norm(d.grant.iter().map(|g| g.graph_name().to_string()).collect()),
            operator: d.operator.graph_name().to_string(),
        }
    }

    fn users(&self) -> Value {
        json!({"includeUsers": self.include_users, "includeGroups": self.include_groups, "excludeGroups": self.exclude_groups})
    }

    fn platforms(&self) -> Value {
        if self.platforms.is_empty() {
            Value::Null
        } else {
            json!({"includePlatforms": self.platforms})
        }
    }

    fn grant(&self) -> Value {
        json!({"operator": self.operator, "builtInControls": self.controls})
    }

    fn body(&self, d: &DesiredCa, state: CaState) -> Value {
        json!({
            "displayName": d.display_name,
            "description": d.description,
            "state": state.graph_name(),
            "conditions": {
                "users": self.users(),
                "applications": {"includeApplications": self.apps},
                "platforms": self.platforms(),
                "clientAppTypes": self.client_apps,
            },
            "grantControls": self.grant(),
        })
    }
}

impl ConditionalAccess<'_> {
    /// Group ids shown as names.
    fn named(&self, ids: &[String]) -> Value {
        Value::Array(
            ids.iter()
                .map(|id| {
                    Value::String(
                        self.resolver.cached_group_name(id).map_or_else(|| id.clone(), str::to_string),
                    )
                })
                .collect(),
        )
    }

    /// Where a CA requirement has no MTD compliance policy behind it.
    fn link_warnings(&self, d: &DesiredCa, warnings: &mut Vec<String>) {
        if !d.grant.contains(&GrantControl::CompliantDevice) {
            return;
        }
        let platforms: Vec<CaPlatform> =
            d.platforms.iter().filter_map(|p| CaPlatform::from_graph(p)).collect();
        let mobile = [CaPlatform::Ios, CaPlatform::Android];
        let checked: Vec<CaPlatform> = if platforms.is_empty() || platforms.contains(&CaPlatform::All) {
            mobile.to_vec()
        } else {
            platforms
        };
        let mut targets: Vec<(String, &str)> =
            d.include.iter().map(|g| (format!("group '{g}'"), g.as_str())).collect();
        if d.all_users {
            targets.push(("all users".to_string(), ""));
        }
        for ca in checked
            .iter()
            .copied()
            .filter(|c| !matches!(c, CaPlatform::Linux | CaPlatform::WindowsPhone | CaPlatform::All))
        {
            for (label, group) in &targets {
                let covered = self.policies.iter().any(|p| {
                    p.max_level.is_some()
                        && covers(ca, p.platform)
                        && (p.assignments.all_users
                            || p.assignments.all_devices
                            || (!group.is_empty()
                                && p.assignments.include.iter().any(|i| i.eq_ignore_ascii_case(group))))
                });
                if !covered {
                    warnings.push(format!(
                        "conditional access policy '{}' requires a compliant device on {} for {label}, but no MTD compliance policy in this config covers it there: those devices are judged by compliance rules that do not check threat levels (or by none)",
                        d.display_name,
                        ca.graph_name()
                    ));
                }
            }
        }
    }
}

impl ConditionalAccess<'_> {
    /// A policy of ours whose marker was written for `d`'s name but which
    /// now has another: renamed in the portal. Creating `d` again would leave
    /// two policies enforcing the same thing.
    fn renamed(&self, d: &DesiredCa) -> Option<String> {
        let owner = d.owner.as_deref()?;
        let key = marker::key_for(owner, CA_TYPE, &d.display_name);
        let p = self.remote.iter().find(|p| {
            p.display_name != d.display_name
                && matches!(marker::parse(&p.description).1, Ownership::Owned { owner: o, key: k } if o == owner && k == key)
        })?;
        Some(format!(
            "{}: conditional access policy '{}' was renamed in the tenant to '{}' (id {}); rename it back, or rename the config's policy to match — creating it again would leave two",
            d.location, d.display_name, p.display_name, p.id
        ))
    }
}

/// The ids of `names`; each that resolves to no group or several is a problem.
async fn group_ids(
    resolver: &mut Resolver<'_>,
    d: &DesiredCa,
    names: &[String],
    what: &str,
    problems: &mut Vec<String>,
) -> Result<Vec<String>, PlanError> {
    let mut out = Vec::new();
    for n in names {
        match resolver.group(n).await? {
            Ok(id) => out.push(id),
            Err(e) => problems
                .push(format!("{}: conditional access policy '{}': {what}: {e}", d.location, d.display_name)),
        }
    }
    Ok(out)
}

impl ResourceKind for ConditionalAccess<'_> {
    type Desired = DesiredCa;
    type Remote = RemoteCaPolicy;
    type Resolved = ResolvedCa;
    type Change = CaChange;

    async fn read_all(&mut self, desired: &[DesiredCa]) -> Result<Vec<RemoteCaPolicy>, PlanError> {
        if !self.managed || (desired.is_empty() && !self.options.prune) {
            // Nothing to plan and nothing to prune: CA is not read at all, so
            // a config without CA needs no Policy.Read.All.
            return Ok(Vec::new());
        }
        let mut wanted = Wanted::default();
        for d in desired {
            wanted.groups.extend(d.include.iter().chain(&d.exclude).chain(&d.break_glass).cloned());
        }
        let client = self.client;
        let admin = async {
            if ca_lockout::needs_check(desired) {
                AdminCheck::for_session(client).await
            } else {
                Ok(None)
            }
        };
        let read = async {
            match &self.options.conditional_access {
                Some(read) => Ok(read.clone()),
                None => client.read_ca_policies().await,
            }
        };
        let (read, prefetched, admin) = tokio::join!(read, self.resolver.prefetch(&wanted), admin);
        prefetched?;
        self.admin = admin?;
        let read = match read {
            // Only pruning wanted them: an app without Policy.Read.All has no
            // managed CA policies to prune, and loses nothing else.
            Err(e) if desired.is_empty() && e.status() == Some(403) => {
                self.read_warnings
                    .push(format!("Conditional Access policies could not be read ({e}); none is pruned"));
                return Ok(Vec::new());
            }
            other => other?,
        };
        self.read_warnings.extend(read.warnings);
        self.remote = read.policies.clone();
        Ok(read.policies)
    }

    async fn read_related(&mut self, matched: Vec<&RemoteCaPolicy>) -> Result<(), PlanError> {
        let mut wanted = Wanted::default();
        for p in matched {
            for k in ["includeGroups", "excludeGroups"] {
                wanted.group_ids.extend(list_at(p, &["conditions", "users", k]));
            }
        }
        Ok(self.resolver.prefetch(&wanted).await?)
    }

    fn match_problems(&self, d: &DesiredCa, found: &[&RemoteCaPolicy]) -> Vec<String> {
        let p = match found {
            [] => return self.renamed(d).into_iter().collect(),
            [p] => p,
            several => {
                return vec![format!(
                    "{}: conditional access policy '{}' exists {} times in the tenant (ids {}); Entra allows duplicate names, mtdhost will not guess which one to manage — delete or rename the extras",
                    d.location,
                    d.display_name,
                    several.len(),
                    several.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
                )]
            }
        };
        if self.is_copy_of(p, d) {
            return Vec::new();
        }
        vec![format!(
            "{}: conditional access policy '{}' already exists in the tenant (id {}) and is not managed by this config; mtdhost never changes a Conditional Access policy it did not create — rename the config's policy, or the existing one",
            d.location, d.display_name, p.id
        )]
    }

    async fn resolve(&mut self, d: &DesiredCa, problems: &mut Vec<String>) -> Result<ResolvedCa, PlanError> {
        let include = group_ids(&mut self.resolver, d, &d.include, "include", problems).await?;
        let exclude = group_ids(&mut self.resolver, d, &d.exclude, "exclude", problems).await?;
        let break_glass =
            group_ids(&mut self.resolver, d, &d.break_glass, "[tenant] break-glass", problems).await?;
        if !break_glass.is_empty() {
            let excluded = exclude.iter().any(|e| break_glass.iter().any(|b| b.eq_ignore_ascii_case(e)));
            if !excluded {
                problems.push(format!(
                    "{}: conditional access policy '{}' excludes none of the [tenant] break-glass groups ({}); without an emergency-access exclusion a mistake can lock every admin out of the tenant — nothing was changed",
                    d.location,
                    d.display_name,
                    d.break_glass.join(", ")
                ));
            }
        }
        // The tenant's copy of this policy, when it exists (a duplicate name
        // or someone else's policy stops the plan in match_problems).
        let current = self.remote.iter().find(|r| self.is_copy_of(r, d)).cloned();
        if let Some(admin) = &mut self.admin {
            match admin.check(self.client, d, &include, &exclude, current.as_ref()).await? {
                Finding::Fine => {}
                Finding::Problem(p) => problems.push(p),
                Finding::Warning(w) => self.read_warnings.push(w),
            }
        }
        Ok(ResolvedCa { include, exclude })
    }

    async fn diff(
        &mut self,
        d: &DesiredCa,
        r: ResolvedCa,
        found: Option<&RemoteCaPolicy>,
        warnings: &mut Vec<String>,
    ) -> Result<CaChange, PlanError> {
        self.link_warnings(d, warnings);
        let want = Shape::of(d, &r);
        let Some(p) = found else {
            let body = want.body(d, d.state);
            let mut c = CaChange::blank(d, ChangeKind::Create);
            c.enables_enforcement = d.state == CaState::On;
            c.settings = [
                ("state", json!(d.state.graph_name())),
                ("description", json!(d.description)),
                ("conditions.users.includeUsers", json!(want.include_users)),
                ("conditions.users.includeGroups", self.named(&want.include_groups)),
                ("conditions.users.excludeGroups", self.named(&want.exclude_groups)),
                ("conditions.applications.includeApplications", json!(want.apps)),
                ("conditions.platforms.includePlatforms", json!(want.platforms)),
                ("conditions.clientAppTypes", json!(want.client_apps)),
                ("grantControls.builtInControls", json!(want.controls)),
                ("grantControls.operator", json!(want.operator)),
            ]
            .into_iter()
            .filter(|(_, after)| after.as_array().is_none_or(|a| !a.is_empty()))
            .map(|(property, after)| SettingChange { property: property.into(), before: Value::Null, after })
            .collect();
            c.body = body;
            return Ok(c);
        };
        let mut c = CaChange::blank(d, ChangeKind::Update);
        c.id = Some(p.id.clone());
        c.state_before = Some(p.state.clone());
        let mut patch = Map::new();
        let changed = |property: &str, before: Value, after: Value, c: &mut CaChange| {
            c.settings.push(SettingChange { property: property.into(), before, after });
        };
        if p.state != d.state.graph_name() {
            changed("state", json!(p.state), json!(d.state.graph_name()), &mut c);
            patch.insert("state".into(), json!(d.state.graph_name()));
            c.enables_enforcement = d.state == CaState::On;
            c.stops_enforcement = p.state == CaState::On.graph_name();
        }
        if p.description != d.description {
            changed("description", json!(p.description), json!(d.description), &mut c);
            patch.insert("description".into(), json!(d.description));
        }
        // Each changed part is sent as read, with only the managed lists
        // replaced: whether Graph merges nested objects or replaces them,
        // what an admin added in the portal (excluded users, roles, guests,
        // excluded platforms, terms of use) stays.
        let mut conditions = Map::new();
        let users = [
            ("includeUsers", list_at(p, &["conditions", "users", "includeUsers"]), users_wanted(p, d)),
            (
                "includeGroups",
                list_at(p, &["conditions", "users", "includeGroups"]),
                want.include_groups.clone(),
            ),
            (
                "excludeGroups",
                list_at(p, &["conditions", "users", "excludeGroups"]),
                want.exclude_groups.clone(),
            ),
        ];
        let mut users_obj = object_at(p, &["conditions", "users"]);
        for (k, before, after) in users {
            if before != after {
                let show = |v: &Vec<String>| if k == "includeUsers" { json!(v) } else { self.named(v) };
                changed(&format!("conditions.users.{k}"), show(&before), show(&after), &mut c);
                users_obj.insert(k.into(), json!(after));
                conditions.insert("users".into(), Value::Null);
            }
        }
        if conditions.contains_key("users") {
            conditions.insert("users".into(), Value::Object(users_obj));
        }
        let apps = list_at(p, &["conditions", "applications", "includeApplications"]);
        if apps != want.apps {
            changed("conditions.applications.includeApplications", json!(apps), json!(want.apps), &mut c);
            let mut o = object_at(p, &["conditions", "applications"]);
            o.insert("includeApplications".into(), json!(want.apps));
            conditions.insert("applications".into(), Value::Object(o));
        }
        // No platforms in the config means every platform: `all` or unset.
        let every = |v: Vec<String>| if v == ["all"] { Vec::new() } else { v };
        let platforms = every(list_at(p, &["conditions", "platforms", "includePlatforms"]));
        if platforms != want.platforms {
            changed("conditions.platforms.includePlatforms", json!(platforms), json!(want.platforms), &mut c);
            let mut o = object_at(p, &["conditions", "platforms"]);
            let include =
                if want.platforms.is_empty() { vec!["all".to_string()] } else { want.platforms.clone() };
            o.insert("includePlatforms".into(), json!(include));
            conditions.insert("platforms".into(), Value::Object(o));
        }
        // Unset client app types read as [] and mean all.
        let all_clients = |v: Vec<String>| if v.is_empty() { vec!["all".to_string()] } else { v };
        let clients = all_clients(list_at(p, &["conditions", "clientAppTypes"]));
        if clients != want.client_apps {
            changed("conditions.clientAppTypes", json!(clients), json!(want.client_apps), &mut c);
            conditions.insert("clientAppTypes".into(), json!(want.client_apps));
        }
        if !conditions.is_empty() {
            patch.insert("conditions".into(), Value::Object(conditions));
        }
        let controls = list_at(p, &["grantControls", "builtInControls"]);
        let operator =
            p.at(&["grantControls", "operator"]).and_then(Value::as_str).unwrap_or_default().to_string();
        if controls != want.controls || operator != want.operator {
            if controls != want.controls {
                changed("grantControls.builtInControls", json!(controls), json!(want.controls), &mut c);
            }
            if operator != want.operator {
                changed("grantControls.operator", json!(operator), json!(want.operator), &mut c);
            }
            let mut o = object_at(p, &["grantControls"]);
            o.insert("operator".into(), json!(want.operator));
            o.insert("builtInControls".into(), json!(want.controls));
            // An authentication strength is referred to by id only.
            if let Some(id) = o.get("authenticationStrength").and_then(|a| a.get("id")).cloned() {
                o.insert("authenticationStrength".into(), json!({ "id": id }));
            }
            patch.insert("grantControls".into(), Value::Object(o));
        }
        if patch.is_empty() {
            c.kind = ChangeKind::Unchanged;
        }
        c.body = Value::Object(patch);
        Ok(c)
    }

    fn leftover(&self, p: &RemoteCaPolicy, warnings: &mut Vec<String>) -> Option<CaChange> {
        let Ownership::Owned { owner, key } = marker::parse(&p.description).1 else { return None };
        if self.options.owner.as_deref() != Some(owner.as_str())
            || key != marker::key_for(&owner, CA_TYPE, &p.display_name)
        {
            return None;
        }
        if !self.options.prune {
            warnings.push(format!(
                "conditional access policy '{}' is managed by mtdhost but no longer in the config; run with --prune to delete it",
                p.display_name
            ));
            return None;
        }
        Some(CaChange::delete(p))
    }
}
