//! `export`: the tenant's existing MTD compliance policies written as config
//! entries, so an admin can adopt what exists. A plan on the exported config
//! shows no change: every setting that differs from Intune's default, the
//! actions and the direct assignments (with their filters) are written
//! exactly, and descriptions are kept as they are. Defaults Graph echoes
//! (`roleScopeTagIds: ["0"]`, beta enums at member 0) are left out, and
//! `api = "beta"` is chosen only when a non-default beta-only value needs it.
//! Policy-set assignments are not the policy's own and are not exported.
//!
//! Every MTD connector is exported too, as `[connectors.NAME]` with the
//! switches Graph reports, so the export also pins the connector settings.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use toml::{Table, Value as Toml};

use crate::graph::schema::ApiVersion;
use crate::graph::{AssignmentTarget, RemotePolicy};
use crate::graph::{GraphClient, GraphError};
use crate::plan::{Resolver, Wanted};

mod ca_entry;
mod connector_entry;
mod entry;

/// The `[tenant]` table, copied from the config the export ran with.
#[derive(serde::Serialize)]
struct TenantDoc<'a> {
    tenant: &'a Table,
}

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
    /// How many MTD connectors were exported.
    pub connectors: usize,
    /// How many Conditional Access policies were exported.
    pub conditional_access: usize,
    /// What could not be expressed in the config and was left out.
    pub warnings: Vec<String>,
}

/// Adds every group id, template and filter `p` points at to `w`.
fn want(w: &mut Wanted, p: &RemotePolicy) {
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

/// One exported policy until names are known: its entry with ids where
/// names will go, what could not be exported, and its place in the order.
struct Pending {
    /// Graph's type name and the id: with the entry's name, the order.
    order: (String, String),
    entry: entry::PolicyEntry,
    warnings: Vec<String>,
}

/// Exports MTD policies (those requiring a device threat level), or every
/// compliance policy with `all`, as `[[policy]]` entries under `tenant`.
///
/// Reads in a handful of round trips: the policies with actions and
/// assignments in one paged read, then the group ids, templates and filters
/// they use (overlapped), then the groups' names once more to learn which
/// names are unique.
pub async fn export(client: &GraphClient, tenant: &Table, all: bool) -> Result<Exported, ExportError> {
    let names: BTreeMap<String, String> = tenant
        .get("connectors")
        .and_then(Toml::as_table)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    export_with(client, tenant, all, &names, false).await
}

/// [`export`], naming connectors by `names` (partner name → connector id,
/// as [`crate::config::Config::connector_ids`] gives them), and with
/// `conditional_access` the Conditional Access policies this config's owner
/// manages (read only then: it needs Policy.Read.All).
pub async fn export_with(
    client: &GraphClient,
    tenant: &Table,
    all: bool,
    connector_names: &BTreeMap<String, String>,
    conditional_access: bool,
) -> Result<Exported, ExportError> {
    let owner = tenant.get("owner").and_then(Toml::as_str).map(str::to_string);
    // Each exported policy becomes its entry as its page arrives (names
    // are filled in once all ids are known), and the policy is dropped: a
    // tenant of thousands is never held whole.
    // Boxed: a list of thousands of entries grows by doubling, and a box
    // is one small allocation where the list's slots would be megabytes.
    let mut pending: Vec<Box<Pending>> = Vec::new();
    let mut wanted = Wanted::default();
    let listing = client.list_policies_with(ApiVersion::Beta, |p| {
        let exported = p.policy_type.is_some()
            && (all
                || p.properties.get("deviceThreatProtectionEnabled").as_deref() == Some(&Value::Bool(true)));
        if exported {
            want(&mut wanted, p);
            let mut warnings: Vec<String> =
                p.problems.iter().map(|what| format!("{}: {what}; not in the export", p.label())).collect();
            let entry = entry::policy_entry(p, owner.as_deref(), &mut warnings);
            let order = (p.odata_type.clone(), p.id.clone());
            pending.push(Box::new(Pending { order, entry, warnings }));
        }
        *p = RemotePolicy::default();
    });
    let (policies, connectors, ca) = tokio::join!(listing, client.read_connectors(ApiVersion::Beta), async {
        if conditional_access {
            client.read_ca_policies().await
        } else {
            Ok(Default::default())
        }
    });
    let (connectors, ca) = (connectors?, ca?);
    drop(policies?);
    // Graph lists in no promised order; a stable one keeps exports diffable.
    pending.sort_by(|a, b| (a.entry.name(), &a.order).cmp(&(b.entry.name(), &b.order)));
    let mut warnings: Vec<String> = ca.warnings.iter().map(|w| format!("{w}; not in the export")).collect();
    let mut ca_selected = Vec::new();
    if conditional_access && tenant.get("break-glass").is_none() {
        warnings.push(
            "[tenant] has no break-glass: add your emergency-access groups before planning the exported Conditional Access policies".into(),
        );
    }
    for p in &ca.policies {
        if ca_entry::is_ours(p, owner.as_deref()) {
            ca_selected.push(p);
        } else if p
            .raw
            .get("grantControls")
            .and_then(|g| g.get("builtInControls"))
            .is_some_and(|c| c.to_string().contains("compliantDevice"))
        {
            warnings.push(format!(
                "conditional access policy '{}' requires a compliant device but is not managed by this config; mtdhost never takes over a policy it did not create, so it is not in the export",
                p.display_name
            ));
        }
    }
    let mut resolver = Resolver::new(client);
    wanted.group_ids.extend(ca_selected.iter().flat_map(|p| ca_entry::group_ids(p)));
    resolver.prefetch(&wanted).await?;
    // A name is written only when it names exactly one group.
    let names: BTreeSet<String> =
        wanted.group_ids.iter().filter_map(|id| resolver.cached_group_name(id).map(str::to_string)).collect();
    resolver.prefetch(&Wanted { groups: names, ..Wanted::default() }).await?;
    let ctx = entry::Context { resolver: &resolver };
    let mut out = Vec::new();
    warnings.extend(connectors.warnings.iter().map(|w| format!("{w}; not in the export")));
    let mut connector_tables = BTreeMap::new();
    for c in &connectors.connectors {
        let name = connector_entry::name_for(c, connector_names);
        let entry = connector_entry::connector_entry(c, &name, &mut warnings);
        connector_tables.entry(name).or_insert(entry);
    }
    for mut p in pending {
        warnings.append(&mut p.warnings);
        entry::name_refs(&mut p.entry, &ctx);
        out.push(p.entry);
    }
    // Two documents so [tenant] comes first.
    let tenant =
        toml::to_string_pretty(&TenantDoc { tenant }).map_err(|e| ExportError::Toml(e.to_string()))?;
    // No policies must mean no `policy = []`: appended after a table, that
    // line would become one of the table's keys.
    let count = out.len();
    let policies = entry::policies_text(out).map_err(|e| ExportError::Toml(e.to_string()))?;
    let connector_text = if connector_tables.is_empty() {
        String::new()
    } else {
        toml::to_string_pretty(&connector_entry::ConnectorsDoc { connectors: &connector_tables })
            .map_err(|e| ExportError::Toml(e.to_string()))?
            + "\n"
    };
    let unique = |name: &str| matches!(resolver.cached_group(name), Some(Ok(_)));
    let ca_entries: Vec<ca_entry::CaEntry> =
        ca_selected.iter().filter_map(|p| ca_entry::ca_entry(p, &resolver, &unique, &mut warnings)).collect();
    let ca_text = if ca_entries.is_empty() {
        String::new()
    } else {
        "\n".to_string()
            + &toml::to_string_pretty(&ca_entry::CaDoc { conditional_access: &ca_entries })
                .map_err(|e| ExportError::Toml(e.to_string()))?
    };
    let header = format!(
        "# Exported by mtdhost {} from the tenant's {} compliance policies.\n# Review, then plan: `mtdhost plan -c THIS_FILE` shows no change.\n\n",
        env!("CARGO_PKG_VERSION"),
        if all { "" } else { "MTD" }
    );
    // One exactly sized text: the policies' part is megabytes at scale.
    let parts = [header.as_str(), &tenant, "\n", &connector_text, &policies, &ca_text];
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| text.push_str(p));
    Ok(Exported {
        toml: text,
        count,
        connectors: connector_tables.len(),
        conditional_access: ca_entries.len(),
        warnings,
    })
}
