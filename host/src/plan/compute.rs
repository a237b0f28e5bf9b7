//! Computing the plan from the desired policies and the tenant.

use std::collections::BTreeMap;

use super::compliance::CompliancePolicies;
use super::conditional_access::ConditionalAccess;
use super::connectors::MtdConnectors;
use super::kind::plan_kind;
use super::resolve::Resolver;
use super::{Change, Plan, PlanError};
use crate::config::Platform;
use crate::graph::GraphClient;
use crate::graph::{AssignmentTarget, Connector};
use crate::pipeline::{DesiredCa, DesiredConnector, DesiredPolicy};
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
    /// The tenant's Conditional Access policies, when they were read
    /// already (for rules plugins): the CA kind then does not read them again.
    pub conditional_access: Option<crate::graph::CaRead>,
    /// Partner (plugin) name → MTD connector id, for warnings about the
    /// connectors policies get their threat levels from.
    pub connector_ids: BTreeMap<String, String>,
}

/// Reads the tenant and plans the change to `desired` policies alone. Only reads.
pub async fn compute(
    client: &GraphClient,
    desired: &[DesiredPolicy],
    tenant: &str,
    prune: bool,
) -> Result<Plan, PlanError> {
    let owner = desired.iter().find_map(|d| d.owner.clone());
    compute_with(client, desired, &[], tenant, &PlanOptions { prune, owner, ..PlanOptions::default() }).await
}

/// Plans MTD connector settings and compliance policies with options
/// (prune, adopt, owner). Only reads.
pub async fn compute_with(
    client: &GraphClient,
    policies: &[DesiredPolicy],
    connectors: &[DesiredConnector],
    tenant: &str,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    compute_all(client, policies, connectors, None, tenant, options).await
}

/// Plans every kind: MTD connector settings, compliance policies and
/// Conditional Access (`None`: CA is left out — not read, not pruned). The
/// kinds read concurrently; the problems of all of them are reported
/// together. Only reads.
pub async fn compute_all(
    client: &GraphClient,
    policies: &[DesiredPolicy],
    connectors: &[DesiredConnector],
    conditional_access: Option<&[DesiredCa]>,
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
    let mut compliance = CompliancePolicies::new(client, options, policies);
    let mut mtd = MtdConnectors::new(client);
    let mut ca = ConditionalAccess::new(client, options, policies, conditional_access.is_some());
    let (planned, connector_plan, ca_plan) = tokio::join!(
        plan_kind(&mut compliance, policies),
        plan_kind(&mut mtd, connectors),
        plan_kind(&mut ca, conditional_access.unwrap_or_default())
    );
    let (planned, connector_plan, ca_plan) = (
        problems_of(planned, &mut problems)?,
        problems_of(connector_plan, &mut problems)?,
        problems_of(ca_plan, &mut problems)?,
    );
    let (Some(planned), Some(connector_plan), Some(ca_plan)) = (planned, connector_plan, ca_plan) else {
        return Err(PlanError::Problems(problems));
    };
    if !problems.is_empty() {
        return Err(PlanError::Problems(problems));
    }
    let (changes, mut warnings) = (planned.changes, planned.warnings);
    warnings.extend(connector_plan.warnings);
    warnings.extend(mtd.read_warnings);
    warnings.extend(ca_plan.warnings);
    warnings.extend(ca.read_warnings);
    let planned_connectors = as_planned(&mtd.read, &connector_plan.changes);
    warnings.extend(connector_warnings(policies, &planned_connectors, &options.connector_ids));
    let names = display_names(&changes, &mut compliance.resolver).await?;
    warnings.sort();
    warnings.dedup();
    Ok(Plan {
        tenant: tenant.to_string(),
        changes,
        connectors: connector_plan.changes,
        conditional_access: ca_plan.changes,
        warnings,
        group_names: names.groups,
        template_names: names.templates,
        filter_names: names.filters,
        prune: options.prune,
    })
}

/// A kind's plan, or its problems added to `problems` (a Graph error stops at once).
fn problems_of<T>(r: Result<T, PlanError>, problems: &mut Vec<String>) -> Result<Option<T>, PlanError> {
    match r {
        Err(PlanError::Problems(more)) => {
            problems.extend(more);
            Ok(None)
        }
        Err(e) => Err(e),
        Ok(p) => Ok(Some(p)),
    }
}

/// The connectors as they will be once the plan's connector changes are
/// applied, so a switch the same plan turns on is not warned about.
fn as_planned(read: &[Connector], changes: &[super::ConnectorChange]) -> Vec<Connector> {
    let mut out = read.to_vec();
    for change in changes {
        let Some(c) = out.iter_mut().find(|c| c.id == change.id) else { continue };
        for s in &change.settings {
            let on = s.after.as_bool().unwrap_or(false);
            match s.property.as_str() {
                "androidEnabled" => c.android_enabled = on,
                "iosEnabled" => c.ios_enabled = on,
                "windowsEnabled" => c.windows_enabled = on,
                "macEnabled" => c.mac_enabled = on,
                _ => {}
            }
        }
    }
    out
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
            out.push(format!("no connector id is configured for partner '{partner}' (as [connectors.{partner}] id or under [tenant.connectors]); its connector state is not checked"));
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
