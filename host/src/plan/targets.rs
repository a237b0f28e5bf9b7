//! Resolving a desired policy's actions and assignment targets (groups,
//! templates, assignment filters by name or id) into Graph ids.

use super::resolve::Resolver;
use super::PlanError;
use crate::config::FilterModeConfig;
use crate::graph::{ActionItem, AssignmentFilter, AssignmentTarget, FilterMode, Target};
use crate::pipeline::{DesiredPolicy, FilterSubject};

/// Resolved actions and assignment targets of one desired policy.
pub(crate) struct Resolved {
    pub(crate) actions: Vec<ActionItem>,
    pub(crate) targets: Vec<Target>,
}

async fn filtered(
    kind: AssignmentTarget,
    subject: FilterSubject,
    d: &DesiredPolicy,
    r: &mut Resolver<'_>,
    fail: &mut impl FnMut(String),
) -> Result<Target, PlanError> {
    let Some((_, f)) = d.assignments.filters.iter().find(|(s, _)| *s == subject) else {
        return Ok(Target { kind, filter: None });
    };
    let mode = match f.mode {
        FilterModeConfig::Include => FilterMode::Include,
        FilterModeConfig::Exclude => FilterMode::Exclude,
    };
    Ok(match r.filter(&f.name).await? {
        Ok(id) => Target { kind, filter: Some(AssignmentFilter { id, mode }) },
        Err(e) => {
            fail(format!("assignment filter: {e}"));
            Target { kind, filter: None }
        }
    })
}

/// Resolves names; each failure is pushed to `problems` naming the policy.
pub(super) async fn resolve(
    d: &DesiredPolicy,
    r: &mut Resolver<'_>,
    problems: &mut Vec<String>,
) -> Result<Resolved, PlanError> {
    let mut fail =
        |what: String| problems.push(format!("{}: policy '{}': {what}", d.location, d.display_name));
    let mut actions = Vec::new();
    for a in &d.actions {
        let mut item = ActionItem {
            action_type: a.kind.into(),
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
            Ok(id) => targets.push(
                filtered(AssignmentTarget::Group(id), FilterSubject::Group(g.clone()), d, r, &mut fail)
                    .await?,
            ),
            Err(e) => fail(format!("assignment include: {e}")),
        }
    }
    for g in &d.assignments.exclude {
        match r.group(g).await? {
            Ok(id) => targets.push(Target::from(AssignmentTarget::ExclusionGroup(id))),
            Err(e) => fail(format!("assignment exclude: {e}")),
        }
    }
    if d.assignments.all_users {
        targets.push(
            filtered(AssignmentTarget::AllLicensedUsers, FilterSubject::AllUsers, d, r, &mut fail).await?,
        );
    }
    if d.assignments.all_devices {
        targets
            .push(filtered(AssignmentTarget::AllDevices, FilterSubject::AllDevices, d, r, &mut fail).await?);
    }
    Ok(Resolved { actions, targets })
}
