//! Conditional Access policies (`conditionalAccessPolicy`): the config's
//! words for states, grant controls, platforms and client apps, Graph's
//! spelling of each (camelCase; `iOS` and `macOS` exactly), and the check a
//! body must pass before it is sent — Graph answers an unknown or mis-cased
//! property with "1007: … does not match the schema", naming nothing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whether a policy is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaState {
    /// Evaluated and logged, not enforced (`enabledForReportingButNotEnforced`): the default.
    #[default]
    ReportOnly,
    /// Enforced (`enabled`).
    On,
    /// Off (`disabled`).
    Off,
}

impl CaState {
    /// Graph's spelling.
    pub fn graph_name(self) -> &'static str {
        match self {
            CaState::ReportOnly => "enabledForReportingButNotEnforced",
            CaState::On => "enabled",
            CaState::Off => "disabled",
        }
    }

    /// The config spelling.
    pub fn key(self) -> &'static str {
        match self {
            CaState::ReportOnly => "report-only",
            CaState::On => "on",
            CaState::Off => "off",
        }
    }

    /// Parses Graph's spelling.
    pub fn from_graph(s: &str) -> Option<CaState> {
        [CaState::ReportOnly, CaState::On, CaState::Off].into_iter().find(|c| c.graph_name() == s)
    }
}

/// A built-in grant control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantControl {
    /// Block access.
    Block,
    /// Require multifactor authentication.
    Mfa,
    /// Require the device to be marked compliant (where MTD threat levels count).
    CompliantDevice,
    /// Require a hybrid Entra joined device.
    DomainJoinedDevice,
    /// Require an approved client app.
    ApprovedApplication,
    /// Require an app protection policy.
    CompliantApplication,
    /// Require a password change.
    PasswordChange,
}

impl GrantControl {
    /// Every control, in config order.
    pub const ALL: [GrantControl; 7] = [
        GrantControl::Block,
        GrantControl::Mfa,
        GrantControl::CompliantDevice,
        GrantControl::DomainJoinedDevice,
        GrantControl::ApprovedApplication,
        GrantControl::CompliantApplication,
        GrantControl::PasswordChange,
    ];

    /// Graph's spelling (`conditionalAccessGrantControl`).
    pub fn graph_name(self) -> &'static str {
        match self {
            GrantControl::Block => "block",
            GrantControl::Mfa => "mfa",
            GrantControl::CompliantDevice => "compliantDevice",
            GrantControl::DomainJoinedDevice => "domainJoinedDevice",
            GrantControl::ApprovedApplication => "approvedApplication",
            GrantControl::CompliantApplication => "compliantApplication",
            GrantControl::PasswordChange => "passwordChange",
        }
    }

    /// The config spelling.
    pub fn key(self) -> &'static str {
        match self {
            GrantControl::Block => "block",
            GrantControl::Mfa => "mfa",
            GrantControl::CompliantDevice => "compliant-device",
            GrantControl::DomainJoinedDevice => "domain-joined-device",
            GrantControl::ApprovedApplication => "approved-application",
            GrantControl::CompliantApplication => "compliant-application",
            GrantControl::PasswordChange => "password-change",
        }
    }

    /// Parses Graph's spelling.
    pub fn from_graph(s: &str) -> Option<GrantControl> {
        GrantControl::ALL.into_iter().find(|c| c.graph_name() == s)
    }
}

/// A device platform a policy applies to (`conditionalAccessDevicePlatform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaPlatform {
    /// Android.
    Android,
    /// iOS and iPadOS.
    Ios,
    /// Windows.
    Windows,
    /// macOS.
    Macos,
    /// Linux.
    Linux,
    /// Windows Phone.
    WindowsPhone,
    /// Every platform.
    All,
}

impl CaPlatform {
    /// Every platform, in config order.
    pub const ALL: [CaPlatform; 7] = [
        CaPlatform::Android,
        CaPlatform::Ios,
        CaPlatform::Windows,
        CaPlatform::Macos,
        CaPlatform::Linux,
        CaPlatform::WindowsPhone,
        CaPlatform::All,
    ];

    /// Graph's spelling, exactly (`iOS`, `macOS`).
    pub fn graph_name(self) -> &'static str {
        match self {
            CaPlatform::Android => "android",
            CaPlatform::Ios => "iOS",
            CaPlatform::Windows => "windows",
            CaPlatform::Macos => "macOS",
            CaPlatform::Linux => "linux",
            CaPlatform::WindowsPhone => "windowsPhone",
            CaPlatform::All => "all",
        }
    }

    /// The config spelling.
    pub fn key(self) -> &'static str {
        match self {
            CaPlatform::Android => "android",
            CaPlatform::Ios => "ios",
            CaPlatform::Windows => "windows",
            CaPlatform::Macos => "macos",
            CaPlatform::Linux => "linux",
            CaPlatform::WindowsPhone => "windows-phone",
            CaPlatform::All => "all",
        }
    }

    /// Parses Graph's spelling.
    pub fn from_graph(s: &str) -> Option<CaPlatform> {
        CaPlatform::ALL.into_iter().find(|c| c.graph_name() == s)
    }
}

/// A client app type (`conditionalAccessClientApp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientApp {
    /// Every client.
    All,
    /// Browsers.
    Browser,
    /// Mobile apps and desktop clients (modern authentication).
    MobileAppsAndDesktopClients,
    /// Exchange ActiveSync clients.
    ExchangeActiveSync,
    /// Other (legacy authentication) clients.
    Other,
}

impl ClientApp {
    /// Every client app type, in config order.
    pub const ALL: [ClientApp; 5] = [
        ClientApp::All,
        ClientApp::Browser,
        ClientApp::MobileAppsAndDesktopClients,
        ClientApp::ExchangeActiveSync,
        ClientApp::Other,
    ];

    /// Graph's spelling.
    pub fn graph_name(self) -> &'static str {
        match self {
            ClientApp::All => "all",
            ClientApp::Browser => "browser",
            ClientApp::MobileAppsAndDesktopClients => "mobileAppsAndDesktopClients",
            ClientApp::ExchangeActiveSync => "exchangeActiveSync",
            ClientApp::Other => "other",
        }
    }

    /// Parses Graph's spelling.
    pub fn from_graph(s: &str) -> Option<ClientApp> {
        ClientApp::ALL.into_iter().find(|c| c.graph_name() == s)
    }
}

/// The special `includeApplications` values besides application ids.
pub const CA_SPECIAL_APPS: &[&str] = &["All", "Office365", "MicrosoftAdminPortals", "None"];

/// The top-level properties mtdhost writes on a CA policy.
const WRITABLE: &[&str] = &["displayName", "description", "state", "conditions", "grantControls"];
/// The members of `conditions` mtdhost writes.
const CONDITIONS: &[&str] = &["users", "applications", "platforms", "clientAppTypes"];
/// The members of `conditions.users` (a PATCH sends the object as read, so
/// all of Graph's members may appear).
const USERS: &[&str] = &[
    "includeUsers",
    "excludeUsers",
    "includeGroups",
    "excludeGroups",
    "includeRoles",
    "excludeRoles",
    "includeGuestsOrExternalUsers",
    "excludeGuestsOrExternalUsers",
];
/// The members of `conditions.applications` in v1.0.
const APPLICATIONS: &[&str] = &[
    "includeApplications",
    "excludeApplications",
    "includeUserActions",
    "includeAuthenticationContextClassReferences",
    "applicationFilter",
];
/// The members of `grantControls`.
const GRANT: &[&str] =
    &["operator", "builtInControls", "customAuthenticationFactors", "termsOfUse", "authenticationStrength"];

/// Whether `s` is a GUID in Graph's 8-4-4-4-12 hex form.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn strings<'v>(v: &'v Value, path: &str, out: &mut Vec<String>) -> Vec<&'v str> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .filter_map(|i| {
                let s = i.as_str();
                if s.is_none() {
                    out.push(format!("{path}: {i} is not a string"));
                }
                s
            })
            .collect(),
        other => {
            out.push(format!("{path}: {other} is not a list"));
            Vec::new()
        }
    }
}

fn members<'v>(
    v: &'v Value,
    path: &str,
    allowed: &[&str],
    out: &mut Vec<String>,
) -> Option<&'v serde_json::Map<String, Value>> {
    let Some(o) = v.as_object() else {
        if !v.is_null() {
            out.push(format!("{path}: {v} is not an object"));
        }
        return None;
    };
    for k in o.keys().filter(|k| !allowed.contains(&k.as_str()) && !k.starts_with('@')) {
        out.push(format!("{path}.{k} is not a property mtdhost writes (Graph would answer 1007: does not match the schema)"));
    }
    Some(o)
}

/// Every reason Graph would refuse `body` as a (partial, for a PATCH)
/// conditional access policy: unknown or mis-cased properties, enum values
/// outside Graph's members, ids that are not GUIDs.
pub fn check_ca_body(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(top) = members(body, "policy", WRITABLE, &mut out) else {
        out.push("a conditional access policy body must be an object".into());
        return out;
    };
    if let Some(s) = top.get("state") {
        if s.as_str().and_then(CaState::from_graph).is_none() {
            out.push(format!("state: {s} is not enabled, disabled or enabledForReportingButNotEnforced"));
        }
    }
    for k in ["displayName", "description"] {
        if let Some(v) = top.get(k).filter(|v| !(v.is_string() || k == "description" && v.is_null())) {
            out.push(format!("{k}: {v} is not a string"));
        }
    }
    if let Some(c) = top.get("conditions").and_then(|c| members(c, "conditions", CONDITIONS, &mut out)) {
        if let Some(u) = c.get("users").and_then(|u| members(u, "conditions.users", USERS, &mut out)) {
            for k in ["includeGroups", "excludeGroups"] {
                for id in u.get(k).map(|v| strings(v, k, &mut out)).unwrap_or_default() {
                    if !is_guid(id) {
                        out.push(format!("conditions.users.{k}: '{id}' is not a group id"));
                    }
                }
            }
            for k in ["includeUsers", "excludeUsers"] {
                for id in u.get(k).map(|v| strings(v, k, &mut out)).unwrap_or_default() {
                    if !is_guid(id) && !matches!(id, "All" | "None" | "GuestsOrExternalUsers") {
                        out.push(format!("conditions.users.{k}: '{id}' is not a user id, All, None or GuestsOrExternalUsers"));
                    }
                }
            }
        }
        if let Some(a) =
            c.get("applications").and_then(|a| members(a, "conditions.applications", APPLICATIONS, &mut out))
        {
            for k in ["includeApplications", "excludeApplications"] {
                for app in a.get(k).map(|v| strings(v, k, &mut out)).unwrap_or_default() {
                    if !is_guid(app) && !CA_SPECIAL_APPS.contains(&app) {
                        out.push(format!(
                            "conditions.applications.{k}: '{app}' is not an application id or one of {}",
                            CA_SPECIAL_APPS.join(", ")
                        ));
                    }
                }
            }
        }
        if let Some(p) = c.get("platforms").and_then(|p| {
            members(p, "conditions.platforms", &["includePlatforms", "excludePlatforms"], &mut out)
        }) {
            for k in ["includePlatforms", "excludePlatforms"] {
                for name in p.get(k).map(|v| strings(v, k, &mut out)).unwrap_or_default() {
                    if CaPlatform::from_graph(name).is_none() {
                        out.push(format!("conditions.platforms.{k}: '{name}' is not a platform (android, iOS, windows, macOS, linux, windowsPhone, all)"));
                    }
                }
            }
        }
        for name in
            c.get("clientAppTypes").map(|v| strings(v, "clientAppTypes", &mut out)).unwrap_or_default()
        {
            if ClientApp::from_graph(name).is_none() {
                out.push(format!("conditions.clientAppTypes: '{name}' is not a client app type"));
            }
        }
    }
    if let Some(g) = top.get("grantControls").and_then(|g| members(g, "grantControls", GRANT, &mut out)) {
        if let Some(op) = g.get("operator").filter(|op| !matches!(op.as_str(), Some("AND" | "OR"))) {
            out.push(format!("grantControls.operator: {op} is not AND or OR"));
        }
        for c in g.get("builtInControls").map(|v| strings(v, "builtInControls", &mut out)).unwrap_or_default()
        {
            if GrantControl::from_graph(c).is_none() {
                out.push(format!("grantControls.builtInControls: '{c}' is not a grant control"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_spellings_are_exact() {
        assert_eq!(CaPlatform::Ios.graph_name(), "iOS");
        assert_eq!(CaPlatform::Macos.graph_name(), "macOS");
        assert_eq!(CaState::ReportOnly.graph_name(), "enabledForReportingButNotEnforced");
        assert_eq!(GrantControl::from_graph("compliantDevice"), Some(GrantControl::CompliantDevice));
        assert_eq!(CaPlatform::from_graph("ios"), None, "Graph's member is iOS");
    }

    #[test]
    fn the_reference_body_passes_and_mistakes_are_named() {
        let good = json!({"displayName":"MTD: require compliant device","state":"enabledForReportingButNotEnforced",
            "conditions":{"users":{"includeGroups":["0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01"],"excludeGroups":["3ebc6f84-5071-4293-8da4-4f5a6b7c8d04"]},
            "applications":{"includeApplications":["Office365"]},"platforms":{"includePlatforms":["android","iOS"]},
            "clientAppTypes":["browser","mobileAppsAndDesktopClients"]},
            "grantControls":{"operator":"OR","builtInControls":["compliantDevice"]}});
        assert_eq!(check_ca_body(&good), Vec::<String>::new());
        let bad = json!({"displayname":"x","state":"on",
            "conditions":{"users":{"includeGroups":["MTD Users"]},"platforms":{"includePlatforms":["ios"]},
            "applications":{"includeApplications":["Office 365"]},"clientAppTypes":"browser"},
            "grantControls":{"operator":"or","builtInControls":["compliant"]}});
        let found = check_ca_body(&bad).join("\n");
        for expected in [
            "policy.displayname",
            "state:",
            "'MTD Users' is not a group id",
            "'ios' is not a platform",
            "'Office 365' is not an application id",
            "is not a list",
            "operator",
            "'compliant' is not a grant control",
        ] {
            assert!(found.contains(expected), "{expected} in:\n{found}");
        }
    }
}
