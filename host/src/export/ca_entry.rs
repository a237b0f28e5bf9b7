//! One exported `[[conditional-access]]` entry. Only policies this config's
//! owner manages (its marker) are exported: mtdhost never takes over a
//! Conditional Access policy it did not create, so exporting one would only
//! produce a config that refuses to plan. What the config cannot express
//! (locations, session controls, user and role targets, …) is not managed,
//! so it is left out with a warning, never silently.

use serde::Serialize;
use serde_json::Value;

use crate::graph::RemoteCaPolicy;
use crate::pipeline::marker::{self, Ownership};
use crate::pipeline::CA_TYPE;
use crate::plan::Resolver;
use mtd_model::{CaPlatform, CaState, ClientApp, GrantControl};

/// The `[[conditional-access]]` array of the export.
#[derive(Serialize)]
pub(super) struct CaDoc<'a> {
    #[serde(rename = "conditional-access")]
    pub(super) conditional_access: &'a [CaEntry],
}

/// One `[[conditional-access]]` (docs/config.md has every key).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct CaEntry {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    all_users: bool,
    apps: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    client_apps: Vec<ClientApp>,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exclude: Vec<String>,
    grant: Vec<GrantControl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant_operator: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    include: Vec<String>,
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    platforms: Vec<CaPlatform>,
    state: CaState,
}

fn list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

/// Whether `p` is this owner's to export.
pub(super) fn is_ours(p: &RemoteCaPolicy, owner: Option<&str>) -> bool {
    match marker::parse(&p.description).1 {
        Ownership::Owned { owner: o, key } => {
            owner == Some(o.as_str()) && key == marker::key_for(&o, CA_TYPE, &p.display_name)
        }
        Ownership::Legacy => owner.is_none(),
        Ownership::Unmanaged => false,
    }
}

/// Every group id `p` targets.
pub(super) fn group_ids(p: &RemoteCaPolicy) -> Vec<String> {
    ["includeGroups", "excludeGroups"].iter().flat_map(|k| list(p.at(&["conditions", "users", k]))).collect()
}

/// The entry for `p`; what cannot be written is pushed to `warnings`.
pub(super) fn ca_entry(
    p: &RemoteCaPolicy,
    resolver: &Resolver<'_>,
    unique: &dyn Fn(&str) -> bool,
    warnings: &mut Vec<String>,
) -> Option<CaEntry> {
    let mut skipped = Vec::new();
    let Some(state) = CaState::from_graph(&p.state) else {
        warnings.push(format!(
            "conditional access policy '{}': state '{}' is not one mtdhost knows; not in the export",
            p.display_name, p.state
        ));
        return None;
    };
    let name_of = |id: &String| match resolver.cached_group_name(id) {
        Some(n) if unique(n) => n.to_string(),
        _ => id.clone(),
    };
    let users = |k: &str| list(p.at(&["conditions", "users", k]));
    let include_users = users("includeUsers");
    let all_users = include_users.iter().any(|u| u == "All");
    if include_users.iter().any(|u| u != "All") {
        skipped.push("includeUsers");
    }
    for k in ["excludeUsers", "includeRoles", "excludeRoles"] {
        if !users(k).is_empty() {
            skipped.push(k);
        }
    }
    let mut words = |path: &[&str], what: &'static str| -> Vec<String> {
        let v = list(p.at(path));
        if v.is_empty() && p.at(path).is_some_and(|x| !x.is_array()) {
            skipped.push(what);
        }
        v
    };
    let platforms_raw = words(&["conditions", "platforms", "includePlatforms"], "includePlatforms");
    let clients_raw = words(&["conditions", "clientAppTypes"], "clientAppTypes");
    let controls_raw = words(&["grantControls", "builtInControls"], "builtInControls");
    let platforms: Vec<CaPlatform> = platforms_raw.iter().filter_map(|s| CaPlatform::from_graph(s)).collect();
    let client_apps: Vec<ClientApp> = clients_raw.iter().filter_map(|s| ClientApp::from_graph(s)).collect();
    let grant: Vec<GrantControl> = controls_raw.iter().filter_map(|s| GrantControl::from_graph(s)).collect();
    if platforms.len() != platforms_raw.len()
        || client_apps.len() != clients_raw.len()
        || grant.len() != controls_raw.len()
    {
        warnings.push(format!("conditional access policy '{}' uses a platform, client app or control mtdhost does not know; not in the export", p.display_name));
        return None;
    }
    let nonempty = |path: &[&str]| {
        p.at(path).is_some_and(|v| {
            !v.as_array().is_some_and(Vec::is_empty) && !v.as_str().is_some_and(str::is_empty)
        })
    };
    let unmanaged: [(&[&str], &'static str); 16] = [
        (&["conditions", "locations"], "locations"),
        (&["conditions", "devices"], "devices"),
        (&["conditions", "clientApplications"], "clientApplications"),
        (&["conditions", "signInRiskLevels"], "signInRiskLevels"),
        (&["conditions", "userRiskLevels"], "userRiskLevels"),
        (&["conditions", "servicePrincipalRiskLevels"], "servicePrincipalRiskLevels"),
        (&["conditions", "insiderRiskLevels"], "insiderRiskLevels"),
        (&["conditions", "authenticationFlows"], "authenticationFlows"),
        (&["conditions", "users", "includeGuestsOrExternalUsers"], "includeGuestsOrExternalUsers"),
        (&["conditions", "users", "excludeGuestsOrExternalUsers"], "excludeGuestsOrExternalUsers"),
        (&["conditions", "applications", "excludeApplications"], "excludeApplications"),
        (&["conditions", "applications", "includeUserActions"], "includeUserActions"),
        (&["conditions", "applications", "applicationFilter"], "applicationFilter"),
        (&["grantControls", "termsOfUse"], "termsOfUse"),
        (&["grantControls", "customAuthenticationFactors"], "customAuthenticationFactors"),
        (&["grantControls", "authenticationStrength"], "authenticationStrength"),
    ];
    for (path, what) in unmanaged {
        if nonempty(path) {
            skipped.push(what);
        }
    }
    if p.at(&["conditions", "platforms", "excludePlatforms"])
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        skipped.push("excludePlatforms");
    }
    if p.at(&["sessionControls"]).is_some() {
        skipped.push("sessionControls");
    }
    if !skipped.is_empty() {
        warnings.push(format!(
            "conditional access policy '{}': {} not managed by mtdhost; the export leaves them out and plans never change them",
            p.display_name,
            skipped.join(", ")
        ));
    }
    let operator = p.at(&["grantControls", "operator"]).and_then(Value::as_str).unwrap_or("OR");
    let client_apps = if client_apps == [ClientApp::All] { Vec::new() } else { client_apps };
    Some(CaEntry {
        all_users,
        apps: list(p.at(&["conditions", "applications", "includeApplications"])),
        client_apps,
        description: marker::parse(&p.description).0,
        exclude: users("excludeGroups").iter().map(name_of).collect(),
        grant,
        grant_operator: (operator == "AND").then_some("and"),
        include: users("includeGroups").iter().map(name_of).collect(),
        name: p.display_name.clone(),
        platforms,
        state,
    })
}
