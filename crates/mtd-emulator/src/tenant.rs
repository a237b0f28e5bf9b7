//! The emulated tenant's data: compliance policies (with actions and
//! assignments), groups, MTD connectors, notification templates, assignment
//! filters, policy sets and the app registrations allowed to sign in.
//! Serialisable, so `--state FILE` can persist it between runs.
//!
//! The demo tenant holds what a production tenant holds and mtdhost must not
//! lose: group names with `&`, `'`, `#`, `+`, `%` and non-ASCII text, a
//! connector with unset (null) switches, assignment filters and a policy
//! set; [`Tenant::showcase`] adds portal-made policies with filtered and
//! policy-set assignments, a null action template and complex settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An app registration that may obtain tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    /// The application (client) id.
    pub client_id: String,
    /// Client secrets accepted for this app.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// PEM certificates whose keys may sign client assertions.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Whether the device code flow is enabled (a public client).
    #[serde(default)]
    pub public_client: bool,
    /// External identities (e.g. a GitHub workflow) whose OIDC tokens this
    /// app accepts as client assertions.
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A federated identity credential, as Entra stores it on an app: an
/// assertion is accepted when issuer and subject match exactly and one of
/// its audiences is listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FederatedCredential {
    /// The token issuer it trusts.
    pub issuer: String,
    /// The subject it matches.
    pub subject: String,
    /// The audiences it accepts.
    pub audiences: Vec<String>,
}

/// A managed identity that the emulator's managed identity endpoints hand
/// tokens to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedIdentity {
    /// The application (client) id the identity signs in as.
    pub client_id: String,
    /// User-assigned identities are chosen by client id; the one
    /// system-assigned identity is used when none is named.
    pub user_assigned: bool,
}

/// A stored compliance policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// Every property, including `@odata.type`, `id`, timestamps, `version`.
    pub properties: Map<String, Value>,
    /// `deviceComplianceActionItem` objects.
    pub actions: Vec<Value>,
    /// `deviceCompliancePolicyAssignment` objects.
    pub assignments: Vec<Value>,
}

/// The whole tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    /// The directory (tenant) id.
    pub tenant_id: String,
    /// App registrations that may sign in.
    pub apps: Vec<App>,
    /// Entra ID groups (Graph JSON).
    pub groups: Vec<Value>,
    /// MTD connectors (Graph JSON).
    pub connectors: Vec<Value>,
    /// Notification message templates (Graph JSON).
    pub notification_templates: Vec<Value>,
    /// Policies by id, in creation order of ids (GUIDs sort randomly, so
    /// keep an explicit order for stable paging).
    pub policies: BTreeMap<String, StoredPolicy>,
    /// Policy ids in creation order (Graph lists them so).
    pub policy_order: Vec<String>,
    /// `deviceAndAppManagementAssignmentFilter` objects (beta).
    #[serde(default)]
    pub assignment_filters: Vec<Value>,
    /// `policySet` objects (beta; id and displayName).
    #[serde(default)]
    pub policy_sets: Vec<Value>,
    /// Identities of the (emulated) Azure host mtdhost runs on.
    #[serde(default)]
    pub managed_identities: Vec<ManagedIdentity>,
    /// Conditional Access policies (Graph JSON, as v1.0 returns them).
    #[serde(default)]
    pub conditional_access: Vec<Value>,
    /// Users (Graph JSON: id, displayName, userPrincipalName); the device
    /// code flow signs in as [`DEMO_ADMIN`].
    #[serde(default)]
    pub users: Vec<Value>,
    /// Group id → the ids of its members (users or groups; membership is
    /// transitive through member groups).
    #[serde(default)]
    pub members: BTreeMap<String, Vec<String>>,
}

/// The demo admin: who a device code sign-in is. A member of
/// "MTD - iOS Users", not of "Break Glass Admins".
pub const DEMO_ADMIN: &str = "e1a2b3c4-0001-4000-8000-00000000ad01";
/// The demo admin's sign-in name.
pub const DEMO_ADMIN_UPN: &str = "megan.admin@contoso.example";

/// The demo tenant's id.
pub const DEMO_TENANT: &str = "8e6f7a1c-0b2d-4c3e-9f40-5a6b7c8d9e01";
/// The demo app that the example config signs in with.
pub const DEMO_CLIENT_ID: &str = "5d1f3c2a-7e4b-4a69-8c10-2b3e4f5a6b7c";
/// The demo app's secret (the emulator is local-only; this protects nothing).
pub const DEMO_SECRET: &str = "emulator-demo-secret";
/// The workflow subjects the demo app trusts (GitHub Actions' format).
pub const DEMO_FEDERATED_SUBJECTS: [&str; 2] =
    ["repo:contoso/compliance:ref:refs/heads/main", "repo:contoso/compliance:pull_request"];
/// The demo host's system-assigned managed identity.
pub const DEMO_SYSTEM_IDENTITY: &str = "6e2a4d3b-8f5c-4b7a-9d21-3c4f5a6b7c8d";
/// A user-assigned managed identity of the demo host.
pub const DEMO_USER_IDENTITY: &str = "7f3b5e4c-9a6d-4c8b-8e32-4d5a6b7c8d9e";

/// Group "R&D Users" of the demo tenant.
pub const RD_USERS: &str = "9412c5ea-b6d7-48f9-a30a-afb0c1d2e30a";
/// Group "O'Brien Team" of the demo tenant.
pub const OBRIEN: &str = "a523d6fb-c7e8-490a-b41b-b0c1d2e3f40b";
/// Assignment filter "Corporate iPhones" of the demo tenant.
pub const CORPORATE_IPHONES: &str = "f2a3b4c5-0001-4000-8000-00000000f001";
/// Policy set "Contoso baseline – iOS" of the demo tenant.
pub const BASELINE_SET: &str = "5e7a1b2c-0001-4000-8000-0000000005e7";
const PORTAL_IOS: &str = "0f1e2d3c-0001-4000-8000-00000000a001";
const PORTAL_WINDOWS: &str = "0f1e2d3c-0002-4000-8000-00000000a002";

fn filter(id: &str, name: &str, platform: &str, rule: &str) -> Value {
    serde_json::json!({"id": id, "displayName": name, "description": null, "platform": platform, "rule": rule,
        "assignmentFilterManagementType": "devices", "roleScopeTags": ["0"]})
}

fn group(id: &str, name: &str) -> Value {
    serde_json::json!({"id": id, "displayName": name, "securityEnabled": true, "mailEnabled": false})
}

fn connector(
    id: &str,
    state: &str,
    android: bool,
    ios: bool,
    windows: bool,
    mac: bool,
    heartbeat: &str,
) -> Value {
    serde_json::json!({
        "id": id,
        "partnerState": state,
        "androidEnabled": android,
        "iosEnabled": ios,
        "windowsEnabled": windows,
        "macEnabled": mac,
        "androidDeviceBlockedOnMissingPartnerData": false,
        "iosDeviceBlockedOnMissingPartnerData": false,
        "windowsDeviceBlockedOnMissingPartnerData": false,
        "partnerUnsupportedOsVersionBlocked": false,
        "partnerUnresponsivenessThresholdInDays": 7,
        "lastHeartbeatDateTime": heartbeat,
        "androidMobileApplicationManagementEnabled": false,
        "iosMobileApplicationManagementEnabled": false,
        "allowPartnerToCollectIOSApplicationMetadata": false,
        "allowPartnerToCollectIOSPersonalApplicationMetadata": false,
        "microsoftDefenderForEndpointAttachEnabled": false,
    })
}

/// A Conditional Access policy an admin made in the Entra portal (mtdhost
/// never touches it): report-only MFA for everyone but the break-glass group,
/// with the unset collections and objects Graph returns as `[]` and `null`.
pub const PORTAL_CA_POLICY: &str = "c0a1b2c3-0001-4000-8000-0000000000ca";

fn unmanaged_ca_policy() -> Value {
    serde_json::json!({
        "id": PORTAL_CA_POLICY,
        "templateId": null,
        "displayName": "Require MFA for all users",
        "description": null,
        "createdDateTime": "2026-02-01T10:00:00Z",
        "modifiedDateTime": null,
        "state": "enabledForReportingButNotEnforced",
        "sessionControls": null,
        "conditions": {
            "userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": ["all"],
            "servicePrincipalRiskLevels": [], "platforms": null, "locations": null, "devices": null,
            "clientApplications": null,
            "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
            "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [],
                "excludeGroups": ["3ebc6f84-5071-4293-8da4-4f5a6b7c8d04"], "includeRoles": [], "excludeRoles": [],
                "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null}
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [],
            "termsOfUse": [], "authenticationStrength": null}
    })
}

impl Tenant {
    /// The demo tenant: groups (one name deliberately duplicated), connectors
    /// in several partner states, notification templates, one app.
    pub fn demo() -> Self {
        Tenant {
            tenant_id: DEMO_TENANT.into(),
            apps: vec![App {
                client_id: DEMO_CLIENT_ID.into(),
                secrets: vec![DEMO_SECRET.into()],
                certificates: Vec::new(),
                public_client: true,
                // The issuer is re-pointed to the running emulator's URL at start.
                federated_credentials: DEMO_FEDERATED_SUBJECTS
                    .iter()
                    .map(|s| FederatedCredential {
                        issuer: format!("http://127.0.0.1{}", super::federation::ISSUER_PATH),
                        subject: s.to_string(),
                        audiences: vec![super::federation::TOKEN_EXCHANGE_AUDIENCE.into()],
                    })
                    .collect(),
            }],
            groups: vec![
                group("0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01", "MTD - iOS Users"),
                group("1c9a4d62-3e5f-4071-8b82-2d3e4f5a6b02", "MTD - Android Users"),
                group("2dab5e73-4f60-4182-9c93-3e4f5a6b7c03", "Executives"),
                group("3ebc6f84-5071-4293-8da4-4f5a6b7c8d04", "Break Glass Admins"),
                group("4fcd7095-6182-43a4-9eb5-5a6b7c8d9e05", "BYOD Users"),
                group("50de81a6-7293-44b5-afc6-6b7c8d9eaf06", "Android Device Owner Fleet"),
                group("61ef92b7-83a4-45c6-b0d7-7c8d9eafb007", "Mac Users"),
                group("72f0a3c8-94b5-46d7-81e8-8d9eafb0c108", "Contractors"),
                group("8301b4d9-a5c6-47e8-92f9-9eafb0c1d209", "Contractors"),
                group(RD_USERS, "R&D Users"),
                group(OBRIEN, "O'Brien Team"),
                group("b634e7fc-d8f9-4a1b-a52c-c1d2e3f4a50c", "Zürich Ops – Geräte"),
                group("c745f80d-e90a-4b2c-b63d-d2e3f4a5b60d", "Sales + Marketing #1 (100%)"),
                group("d856091e-fa1b-4c3d-874e-e3f4a5b6c70e", "Android Work Profile Users"),
            ],
            connectors: vec![
                connector(
                    "fc780465-2017-40d4-a0c5-307022471b92",
                    "enabled",
                    true,
                    true,
                    true,
                    true,
                    "2026-11-26T08:00:00Z",
                ),
                connector(
                    "3c9f4a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
                    "enabled",
                    true,
                    true,
                    false,
                    false,
                    "2026-11-26T07:55:00Z",
                ),
                connector(
                    "7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
                    "available",
                    true,
                    false,
                    false,
                    false,
                    "2026-11-20T10:00:00Z",
                ),
                connector(
                    "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a",
                    "unresponsive",
                    false,
                    true,
                    false,
                    false,
                    "2026-10-30T12:00:00Z",
                ),
                // Set up before macOS support: beta returns its unset switches as null.
                {
                    let mut c = connector(
                        "e967a12f-0b2c-4d4e-985f-f4a5b6c7d80f",
                        "enabled",
                        true,
                        true,
                        false,
                        false,
                        "2026-11-26T07:50:00Z",
                    );
                    c["macEnabled"] = Value::Null;
                    c["macDeviceBlockedOnMissingPartnerData"] = Value::Null;
                    c
                },
            ],
            notification_templates: vec![
                serde_json::json!({"id": "a1b2c3d4-0001-4000-8000-000000000001", "displayName": "MTD - Device at risk"}),
                serde_json::json!({"id": "a1b2c3d4-0002-4000-8000-000000000002", "displayName": "MTD - Final warning"}),
            ],
            policies: BTreeMap::new(),
            policy_order: Vec::new(),
            assignment_filters: vec![
                filter(
                    CORPORATE_IPHONES,
                    "Corporate iPhones",
                    "iOS",
                    "(device.deviceOwnership -eq \"Corporate\")",
                ),
                filter(
                    "f2a3b4c5-0002-4000-8000-00000000f002",
                    "Pixel & Samsung (work profile)",
                    "androidForWork",
                    "(device.manufacturer -in [\"Google\", \"samsung\"])",
                ),
            ],
            policy_sets: vec![
                serde_json::json!({"id": BASELINE_SET, "displayName": "Contoso baseline – iOS"}),
            ],
            managed_identities: vec![
                ManagedIdentity { client_id: DEMO_SYSTEM_IDENTITY.into(), user_assigned: false },
                ManagedIdentity { client_id: DEMO_USER_IDENTITY.into(), user_assigned: true },
            ],
            conditional_access: vec![unmanaged_ca_policy()],
            users: vec![serde_json::json!({
                "id": DEMO_ADMIN,
                "displayName": "Megan Bowen (admin)",
                "userPrincipalName": DEMO_ADMIN_UPN,
            })],
            members: BTreeMap::from([(
                "0b8f3c51-2d4e-4f60-9a71-1c2d3e4f5a01".to_string(),
                vec![DEMO_ADMIN.to_string()],
            )]),
        }
    }

    /// The demo tenant plus two policies made in the portal, the way a
    /// production tenant holds them: a filtered assignment, a policy-set
    /// assignment, an action whose template is null, a complex setting with
    /// Graph's nested `@odata.type`. `mtdhost export` then `plan` on it shows
    /// no change.
    pub fn showcase() -> Self {
        let mut t = Tenant::demo();
        let mut ios = Map::new();
        for (k, v) in [
            ("@odata.type", serde_json::json!("#microsoft.graph.iosCompliancePolicy")),
            ("id", serde_json::json!(PORTAL_IOS)),
            ("displayName", serde_json::json!("Portal – iOS corporate & BYOD")),
            ("description", serde_json::json!("Made in the Intune portal")),
            ("createdDateTime", serde_json::json!("2026-03-02T09:00:00Z")),
            ("lastModifiedDateTime", serde_json::json!("2026-03-02T09:00:00Z")),
            ("version", serde_json::json!(4)),
            ("deviceThreatProtectionEnabled", serde_json::json!(true)),
            ("deviceThreatProtectionRequiredSecurityLevel", serde_json::json!("medium")),
            ("osMinimumVersion", serde_json::json!("17.5")),
            ("passcodeRequired", serde_json::json!(true)),
        ] {
            ios.insert(k.into(), v);
        }
        let target = |group: &str, filter: Option<(&str, &str)>| {
            serde_json::json!({
                "@odata.type": "#microsoft.graph.groupAssignmentTarget",
                "groupId": group,
                "deviceAndAppManagementAssignmentFilterId": filter.map(|f| f.0),
                "deviceAndAppManagementAssignmentFilterType": filter.map_or("none", |f| f.1),
            })
        };
        t.insert_policy(
            PORTAL_IOS.into(),
            StoredPolicy {
                properties: ios,
                actions: vec![serde_json::json!({"id": "a-portal-ios", "actionType": "block", "gracePeriodHours": 12,
                    "notificationTemplateId": null, "notificationMessageCCList": null})],
                assignments: vec![
                    serde_json::json!({"id": format!("{PORTAL_IOS}_{RD_USERS}"), "source": "direct", "sourceId": PORTAL_IOS,
                        "target": target(RD_USERS, Some((CORPORATE_IPHONES, "include")))}),
                    serde_json::json!({"id": format!("{PORTAL_IOS}_{OBRIEN}"), "source": "policySets", "sourceId": BASELINE_SET,
                        "target": target(OBRIEN, None)}),
                ],
            },
        );
        let mut win = Map::new();
        for (k, v) in [
            ("@odata.type", serde_json::json!("#microsoft.graph.windows10CompliancePolicy")),
            ("id", serde_json::json!(PORTAL_WINDOWS)),
            ("displayName", serde_json::json!("Portal - Windows 11 builds")),
            ("description", serde_json::Value::Null),
            ("createdDateTime", serde_json::json!("2026-03-02T09:05:00Z")),
            ("lastModifiedDateTime", serde_json::json!("2026-03-02T09:05:00Z")),
            ("version", serde_json::json!(2)),
            ("deviceThreatProtectionEnabled", serde_json::json!(true)),
            ("deviceThreatProtectionRequiredSecurityLevel", serde_json::json!("low")),
            ("roleScopeTagIds", serde_json::json!(["0", "3"])),
            (
                "validOperatingSystemBuildRanges",
                serde_json::json!([{"@odata.type": "microsoft.graph.operatingSystemVersionRange",
                    "description": "24H2", "lowestVersion": "10.0.26100.0", "highestVersion": "10.0.26100.9999"}]),
            ),
        ] {
            win.insert(k.into(), v);
        }
        t.insert_policy(
            PORTAL_WINDOWS.into(),
            StoredPolicy {
                properties: win,
                actions: vec![serde_json::json!({"id": "a-portal-win", "actionType": "block", "gracePeriodHours": 0,
                    "notificationTemplateId": "00000000-0000-0000-0000-000000000000", "notificationMessageCCList": []})],
                assignments: vec![serde_json::json!({"id": format!("{PORTAL_WINDOWS}_all"), "source": "direct",
                    "sourceId": PORTAL_WINDOWS, "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget",
                    "deviceAndAppManagementAssignmentFilterId": null, "deviceAndAppManagementAssignmentFilterType": "none"}})],
            },
        );
        t
    }

    /// Whether an assignment filter with this id exists.
    pub fn filter_exists(&self, id: &str) -> bool {
        self.assignment_filters.iter().any(|f| f.get("id").and_then(Value::as_str) == Some(id))
    }

    /// The app registration with this client id.
    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    /// Whether a group with this id exists.
    pub fn group_exists(&self, id: &str) -> bool {
        self.groups.iter().any(|g| g.get("id").and_then(Value::as_str) == Some(id))
    }

    /// Whether a notification template with this id exists.
    pub fn template_exists(&self, id: &str) -> bool {
        self.notification_templates.iter().any(|g| g.get("id").and_then(Value::as_str) == Some(id))
    }

    /// Policies in creation order.
    pub fn ordered_policies(&self) -> impl Iterator<Item = &StoredPolicy> {
        self.policy_order.iter().filter_map(|id| self.policies.get(id))
    }

    /// Stores a policy (test setup), keeping creation order.
    pub fn insert_policy(&mut self, id: String, p: StoredPolicy) {
        self.policy_order.push(id.clone());
        self.policies.insert(id, p);
    }

    /// Removes a policy; false if there was none.
    pub fn remove_policy(&mut self, id: &str) -> bool {
        self.policy_order.retain(|x| x != id);
        self.policies.remove(id).is_some()
    }
}

/// Points federated credentials naming an emulator issuer on loopback at
/// this run's issuer: the port changes between runs, a `--state` file and
/// the demo tenant do not.
pub(crate) fn repoint_emulator_issuers(tenant: &mut Tenant, issuer: &str) {
    let loopback = |i: &str| {
        i.ends_with(super::federation::ISSUER_PATH)
            && (i.starts_with("http://127.0.0.1") || i.starts_with("http://localhost"))
    };
    for f in tenant.apps.iter_mut().flat_map(|a| a.federated_credentials.iter_mut()) {
        if loopback(&f.issuer) {
            f.issuer = issuer.to_string();
        }
    }
}
