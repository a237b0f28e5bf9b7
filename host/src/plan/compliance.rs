//! Compliance policies as a resource kind: read with their actions and
//! assignments in one paged beta read, matched by display name and type,
//! resolved (groups, templates, filters by name), diffed per setting, action
//! and assignment, and pruned only when this config's owner manages them.

use std::sync::atomic::AtomicBool;

use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use super::apply::{ApplyProgress, ApplySummary};
use super::compare::settings_diff;
use super::kind::{may_write, Applicable, ResourceKind};
use super::prune::{verdict, Verdict};
use super::resolve::{Resolver, Wanted};
use super::settle::Settler;
use super::targets::{resolve, Resolved};
use super::{Change, ChangeKind, ListChange, PlanError, PlanOptions, SettingChange};
use crate::graph::schema::{ApiVersion, PolicyType};
use crate::graph::{ActionItem, AssignmentTarget, GraphClient, GraphError, RemotePolicy, Target};
use crate::pipeline::marker::{self, Ownership};
use crate::pipeline::DesiredPolicy;

/// The compliance-policy kind for one plan: the options it plans with and
/// the name resolver its reads fill.
pub(crate) struct CompliancePolicies<'c> {
    client: &'c GraphClient,
    options: &'c PlanOptions,
    /// Group, template, filter and policy-set names, cached for the run.
    pub(crate) resolver: Resolver<'c>,
    /// The version deletes are sent on, as before the tenant was read on beta.
    read_version: ApiVersion,
    /// The policies the config wants (`plan_kind` plans the same slice).
    desired: &'c [DesiredPolicy],
    /// Tenant policies settled as they were read (settle.rs).
    settler: Option<Settler<'c>>,
}

impl<'c> CompliancePolicies<'c> {
    /// The kind for planning `desired` with `options`.
    pub(crate) fn new(
        client: &'c GraphClient,
        options: &'c PlanOptions,
        desired: &'c [DesiredPolicy],
    ) -> Self {
        let read_version = if desired.iter().any(|d| d.version == ApiVersion::Beta) {
            ApiVersion::Beta
        } else {
            ApiVersion::V1
        };
        let resolver = match &options.directory {
            Some(groups) => Resolver::with_directory(client, groups.clone()),
            None => Resolver::new(client),
        };
        CompliancePolicies { client, options, resolver, read_version, desired, settler: None }
    }
}

impl ResourceKind for CompliancePolicies<'_> {
    type Desired = DesiredPolicy;
    type Remote = RemotePolicy;
    type Resolved = Resolved;
    type Change = Change;

    async fn read_all(&mut self, desired: &[DesiredPolicy]) -> Result<Vec<RemotePolicy>, PlanError> {
        // The names the config uses first (one `$batch`), then the policies
        // (beta: actions and assignments in one paged read), each settled as
        // its page arrives (settle.rs). Reading the names first costs one
        // round trip and makes every page settle the same way, every run.
        self.resolver.prefetch(&wanted_by_config(desired)).await?;
        let mut settler = Settler::new(self.desired, self.options);
        let resolver = &mut self.resolver;
        let remote =
            self.client.list_policies_with(ApiVersion::Beta, |p| settler.settle(p, resolver)).await?;
        tracing::debug!(
            policies = remote.len(),
            settled = settler.settled(),
            "tenant policies read; those already as configured were compared as they arrived"
        );
        self.settler = Some(settler);
        Ok(remote)
    }

    async fn read_related(&mut self, matched: Vec<&RemotePolicy>) -> Result<(), PlanError> {
        Ok(self.resolver.prefetch(&wanted_by_tenant(matched.into_iter())).await?)
    }

    fn match_problems(&self, d: &DesiredPolicy, found: &[&RemotePolicy]) -> Vec<String> {
        match_problems(d, found, self.options)
    }

    async fn resolve(
        &mut self,
        d: &DesiredPolicy,
        problems: &mut Vec<String>,
    ) -> Result<Resolved, PlanError> {
        if let Some(resolved) = self.settler.as_ref().and_then(|s| s.resolved_if_settled(d)) {
            return Ok(resolved);
        }
        resolve(d, &mut self.resolver, problems).await
    }

    async fn diff(
        &mut self,
        d: &DesiredPolicy,
        resolved: Resolved,
        found: Option<&RemotePolicy>,
        warnings: &mut Vec<String>,
    ) -> Result<Change, PlanError> {
        if d.policy_type() == PolicyType::Android {
            warnings.push(format!(
                "'{}' targets Android device administrator, which Google deprecated and Intune no longer supports on devices with Google Mobile Services (since 31 December 2024); use android-work-profile (personal devices) or android-device-owner (corporate devices)",
                d.display_name
            ));
        }
        match found {
            None => Ok(create(d, &resolved)),
            Some(existing) if self.settler.as_ref().is_some_and(|s| s.is_settled(d)) => {
                let mut change = blank(d, ChangeKind::Unchanged);
                change.id = Some(existing.id.clone());
                Ok(change)
            }
            Some(existing) => update(d, &resolved, existing, &mut self.resolver).await,
        }
    }

    fn leftover(&self, p: &RemotePolicy, warnings: &mut Vec<String>) -> Option<Change> {
        let ty = p.policy_type?;
        let delete = match verdict(p, ty, self.read_version, self.options) {
            Verdict::Delete(c) => Some(*c),
            Verdict::Warn(w) => {
                warnings.push(w);
                None
            }
            Verdict::Skip => None,
        };
        for what in &p.problems {
            warnings.push(format!("policy {} (not in the config): {what}", p.label()));
        }
        delete
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

fn sorted_targets(targets: &[Target]) -> Vec<Target> {
    let mut v = targets.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Why a matched tenant policy may not be written by this config, if so.
pub(super) fn ownership_problem(d: &DesiredPolicy, p: &RemotePolicy, o: &PlanOptions) -> Option<String> {
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

/// What `existing` lacks of what `d` wants.
pub(super) struct Differences {
    settings: Vec<SettingChange>,
    actions: Option<ListChange<ActionItem>>,
    assignments: Option<ListChange<Target>>,
}

/// The settings, actions and direct assignments to change on `existing`
/// so it is what `d` wants; None when nothing differs.
pub(super) fn differences(d: &DesiredPolicy, res: &Resolved, existing: &RemotePolicy) -> Option<Differences> {
    let mut diff = Differences { settings: settings_diff(d, existing), actions: None, assignments: None };
    let (before, after) = (sorted_actions(&existing.actions), sorted_actions(&res.actions));
    if before != after {
        diff.actions = Some(ListChange { before, after });
    }
    let direct: Vec<Target> =
        existing.assignments.iter().filter(|a| a.is_direct()).map(|a| a.target.clone()).collect();
    let (before, after) = (sorted_targets(&direct), sorted_targets(&res.targets));
    if before != after {
        diff.assignments = Some(ListChange { before, after });
    }
    let same = diff.settings.is_empty() && diff.actions.is_none() && diff.assignments.is_none();
    (!same).then_some(diff)
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
    if let Some(diff) = differences(d, res, existing) {
        change.settings = diff.settings;
        change.actions = diff.actions;
        change.assignments = diff.assignments;
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

impl Applicable for Change {
    fn change_kind(&self) -> ChangeKind {
        self.kind
    }

    fn label(&self) -> String {
        self.name.clone()
    }

    fn write_count(&self) -> usize {
        match self.kind {
            ChangeKind::Create => {
                1 + usize::from(self.assignments.as_ref().is_some_and(|a| !a.after.is_empty()))
            }
            ChangeKind::Update => {
                usize::from(!self.settings.is_empty())
                    + usize::from(self.actions.is_some())
                    + usize::from(self.assignments.is_some())
            }
            ChangeKind::Delete => 1,
            ChangeKind::Unchanged => 0,
        }
    }

    fn apply<'a>(
        &'a self,
        client: &'a GraphClient,
        progress: &'a dyn ApplyProgress,
        stop: &'a AtomicBool,
        done: &'a mut ApplySummary,
    ) -> LocalBoxFuture<'a, Result<(), GraphError>> {
        Box::pin(write(client, self, progress, stop, done))
    }
}

/// One policy's writes, in order: a create with its actions inline, then
/// its assignments; an update's changed properties, actions, assignments.
async fn write(
    client: &GraphClient,
    c: &Change,
    progress: &dyn ApplyProgress,
    stop: &AtomicBool,
    done: &mut ApplySummary,
) -> Result<(), GraphError> {
    if !may_write(stop) {
        return Ok(());
    }
    match c.kind {
        ChangeKind::Create => {
            progress.step(&format!("creating {}", c.name));
            let actions = c.actions.as_ref().map(|a| a.after.clone()).unwrap_or_default();
            let created = client.create_policy(c.version, c.policy_type, &c.body, &actions).await?;
            done.writes += 1;
            let targets = c.assignments.as_ref().map_or(&[][..], |a| a.after.as_slice());
            if !targets.is_empty() && may_write(stop) {
                progress.step(&format!("assigning {}", c.name));
                client.assign(c.version, &created.id, targets).await?;
                done.writes += 1;
            }
            done.created += 1;
        }
        ChangeKind::Update => {
            let id = c.id.as_deref().unwrap_or_default();
            if !c.settings.is_empty() {
                progress.step(&format!("updating {}", c.name));
                let changed: Map<String, Value> =
                    c.settings.iter().map(|s| (s.property.clone(), s.after.clone())).collect();
                client.update_policy(c.version, c.policy_type, id, &changed).await?;
                done.writes += 1;
            }
            if let (Some(a), true) = (&c.actions, may_write(stop)) {
                progress.step(&format!("setting actions of {}", c.name));
                client.schedule_actions(c.version, id, &a.after).await?;
                done.writes += 1;
            }
            if let (Some(a), true) = (&c.assignments, may_write(stop)) {
                progress.step(&format!("assigning {}", c.name));
                client.assign(c.version, id, &a.after).await?;
                done.writes += 1;
            }
            done.updated += 1;
        }
        ChangeKind::Delete => {
            progress.step(&format!("deleting {}", c.name));
            client.delete_policy(c.version, c.id.as_deref().unwrap_or_default()).await?;
            done.writes += 1;
            done.deleted += 1;
        }
        ChangeKind::Unchanged => {}
    }
    Ok(())
}
