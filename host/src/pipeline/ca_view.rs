//! What rules plugins see of Conditional Access (`tenant.conditional-access`,
//! contract 0.2.1): the policies the config declares, as they are about to be
//! applied, and the tenant's policies this config does not manage, which
//! enforce compliance just the same.
//!
//! Lists keep Graph's own words (platform and control names), so a policy the
//! host does not fully understand still reaches the plugin as the tenant
//! holds it; anything Graph left `null` reads as empty.

use serde_json::Value;

use super::conditional_access::{DesiredCa, CA_TYPE};
use super::marker;
use crate::graph::RemoteCaPolicy;
use crate::runtime::{CaPolicy, CaSource, CaState as WitCaState, Group};
use mtd_model::CaState;

fn wit_state(s: CaState) -> WitCaState {
    match s {
        CaState::On => WitCaState::On,
        CaState::Off => WitCaState::Off,
        CaState::ReportOnly => WitCaState::ReportOnly,
    }
}

/// Groups by id or name, named where the tenant knows them.
fn groups(refs: &[String], known: &[Group]) -> Vec<Group> {
    refs.iter()
        .map(|r| {
            known
                .iter()
                .find(|g| g.id.eq_ignore_ascii_case(r) || g.display_name == *r)
                .cloned()
                .unwrap_or_else(|| {
                    // An id the directory did not list, or a name not created yet.
                    if mtd_model::is_guid(r) {
                        Group { id: r.clone(), display_name: String::new() }
                    } else {
                        Group { id: String::new(), display_name: r.clone() }
                    }
                })
        })
        .collect()
}

fn from_desired(d: &DesiredCa, id: Option<&str>, known: &[Group]) -> CaPolicy {
    CaPolicy {
        id: id.unwrap_or_default().to_string(),
        display_name: d.display_name.clone(),
        source: CaSource::Config,
        state: wit_state(d.state),
        platforms: d.platforms.clone(),
        exclude_platforms: Vec::new(),
        apps: d.apps.clone(),
        exclude_apps: Vec::new(),
        all_users: d.all_users,
        include_groups: groups(&d.include, known),
        exclude_groups: groups(&d.exclude, known),
        include_users: Vec::new(),
        exclude_users: Vec::new(),
        include_roles: Vec::new(),
        exclude_roles: Vec::new(),
        grant_controls: d.grant.iter().map(|g| g.graph_name().to_string()).collect(),
        grant_operator: d.operator.graph_name().to_string(),
    }
}

/// Every grant control: the built-in ones by name, then authentication
/// strength, terms of use and custom factors, so none that can stand in for
/// a compliant device is hidden.
fn controls(r: &RemoteCaPolicy) -> Vec<String> {
    let mut out = r.strings(&["grantControls", "builtInControls"]);
    if let Some(id) = r.at(&["grantControls", "authenticationStrength", "id"]).and_then(Value::as_str) {
        out.push(format!("authenticationStrength:{id}"));
    }
    out.extend(r.strings(&["grantControls", "termsOfUse"]).into_iter().map(|t| format!("termsOfUse:{t}")));
    out.extend(
        r.strings(&["grantControls", "customAuthenticationFactors"])
            .into_iter()
            .map(|f| format!("customAuthenticationFactors:{f}")),
    );
    out
}

fn from_remote(r: &RemoteCaPolicy, known: &[Group]) -> CaPolicy {
    let users = |k: &str| r.strings(&["conditions", "users", k]);
    let include_users = users("includeUsers");
    let state = match CaState::from_graph(&r.state) {
        Some(s) => wit_state(s),
        // An unknown state word may enforce; say so rather than hide it.
        None => WitCaState::On,
    };
    CaPolicy {
        id: r.id.clone(),
        display_name: r.display_name.clone(),
        source: CaSource::Tenant,
        state,
        platforms: r.strings(&["conditions", "platforms", "includePlatforms"]),
        exclude_platforms: r.strings(&["conditions", "platforms", "excludePlatforms"]),
        apps: r.strings(&["conditions", "applications", "includeApplications"]),
        exclude_apps: r.strings(&["conditions", "applications", "excludeApplications"]),
        all_users: include_users.iter().any(|u| u.eq_ignore_ascii_case("All")),
        include_groups: groups(&users("includeGroups"), known),
        exclude_groups: groups(&users("excludeGroups"), known),
        include_users: include_users.into_iter().filter(|u| !u.eq_ignore_ascii_case("All")).collect(),
        exclude_users: users("excludeUsers"),
        include_roles: users("includeRoles"),
        exclude_roles: users("excludeRoles"),
        grant_controls: controls(r),
        grant_operator: r
            .at(&["grantControls", "operator"])
            .and_then(Value::as_str)
            .unwrap_or("OR")
            .to_string(),
    }
}

/// True if `r` is the tenant's copy of `d`: same name, and this owner's
/// marker for that name (or the old plain marker, for a config without an
/// owner — the plan matches them the same way).
fn is_copy_of(r: &RemoteCaPolicy, d: &DesiredCa) -> bool {
    d.display_name == r.display_name
        && marker::is_ours(&r.description, d.owner.as_deref(), CA_TYPE, &d.display_name, false)
}

/// The policies a rules plugin sees: the config's first, in file order (with
/// the id of the tenant's copy once it exists), then the tenant's that the
/// config does not declare, in the tenant's order.
pub(super) fn view(desired: &[DesiredCa], tenant: &[RemoteCaPolicy], known: &[Group]) -> Vec<CaPolicy> {
    desired
        .iter()
        .map(|d| {
            let id = tenant.iter().find(|r| is_copy_of(r, d)).map(|r| r.id.as_str());
            from_desired(d, id, known)
        })
        .chain(
            tenant
                .iter()
                .filter(|r| !desired.iter().any(|d| is_copy_of(r, d)))
                .map(|r| from_remote(r, known)),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn remote(v: Value) -> RemoteCaPolicy {
        let Value::Object(raw) = v.clone() else { unreachable!("test input is an object") };
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        RemoteCaPolicy {
            id: s("id"),
            display_name: s("displayName"),
            description: s("description"),
            state: s("state"),
            raw,
        }
    }

    #[test]
    fn a_portal_policy_reads_in_graphs_words_with_nulls_as_empty() {
        let r = remote(json!({
            "id": "7d0c3b1a-0000-4000-8000-000000000001",
            "displayName": "Require compliant device & 'MFA'",
            "description": null,
            "state": "enabledForReportingButNotEnforced",
            "conditions": {
                "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": null,
                          "excludeGroups": ["11111111-1111-4111-8111-111111111111"]},
                "applications": {"includeApplications": ["Office365"]},
                "platforms": null
            },
            "grantControls": {"operator": "AND", "builtInControls": ["compliantDevice", "mfa"],
                "termsOfUse": null, "customAuthenticationFactors": [],
                "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA"}}
        }));
        let known =
            [Group { id: "11111111-1111-4111-8111-111111111111".into(), display_name: "Break Glass".into() }];
        let v = view(&[], &[r], &known);
        assert_eq!(v.len(), 1);
        let p = &v[0];
        assert_eq!(p.source, CaSource::Tenant);
        assert_eq!(p.state, WitCaState::ReportOnly);
        assert!(p.all_users && p.include_users.is_empty() && p.include_groups.is_empty());
        assert!(p.platforms.is_empty(), "no platform condition: every platform");
        assert_eq!(p.exclude_groups[0].display_name, "Break Glass");
        assert_eq!(
            p.grant_controls,
            ["compliantDevice", "mfa", "authenticationStrength:00000000-0000-0000-0000-000000000004"],
            "a control that can stand in for compliance is never hidden"
        );
        assert!(p.exclude_platforms.is_empty() && p.include_roles.is_empty());
        assert_eq!(p.grant_operator, "AND");
        assert_eq!(p.display_name, "Require compliant device & 'MFA'");
    }

    #[test]
    fn an_unknown_state_word_is_taken_as_enforcing() {
        let r = remote(json!({"id": "x", "displayName": "n", "state": "somethingNew"}));
        assert_eq!(view(&[], &[r], &[])[0].state, WitCaState::On);
    }
}
