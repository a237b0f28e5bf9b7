//! The config file's shape, field by field (documented in docs/config.md).

use std::collections::BTreeMap;

use serde::Deserialize;
pub use toml::Spanned;

use crate::graph::Cloud;
use crate::runtime::Limits;
pub use mtd_model::{CaPlatform, CaState, ClientApp, ConnectorPlatform, GrantControl};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Which tenant, and how to sign in.
    pub tenant: TenantConfig,
    /// Plugins by the name policies and rules use.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginConfig>,
    /// Rules plugins to run, in order, after mapping.
    #[serde(default)]
    pub rules: Vec<Spanned<String>>,
    /// Whether rules plugins may lower a policy's protection (raise its
    /// allowed threat level). Off by default: rules may only tighten.
    #[serde(default)]
    pub rules_may_relax: bool,
    /// The policies, one per `[[policy]]` table.
    #[serde(default, rename = "policy")]
    pub policies: Vec<PolicyConfig>,
    /// MTD connector settings by partner (plugin) name, one per `[connectors.NAME]`.
    #[serde(default)]
    pub connectors: BTreeMap<String, Spanned<ConnectorConfig>>,
    /// Conditional Access policies, one per `[[conditional-access]]` table.
    #[serde(default, rename = "conditional-access")]
    pub conditional_access: Vec<Spanned<CaConfig>>,
}

/// `[[conditional-access]]`: one Conditional Access policy requiring what
/// `grant` says (typically a compliant device) for `apps` on `platforms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CaConfig {
    /// The display name (with the ownership marker, matched exactly).
    pub name: Spanned<String>,
    /// The admin's description; the ownership marker is appended.
    #[serde(default)]
    pub description: String,
    /// `report-only` (the default), `on` or `off`.
    #[serde(default)]
    pub state: CaState,
    /// Cloud apps: `All`, `Office365`, `MicrosoftAdminPortals` or application ids.
    pub apps: Spanned<Vec<Spanned<String>>>,
    /// Device platforms; none: every platform.
    #[serde(default)]
    pub platforms: Vec<CaPlatform>,
    /// Groups (display names or ids) the policy applies to.
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
    /// Apply to every user (`includeUsers = ["All"]`).
    #[serde(default)]
    pub all_users: bool,
    /// Groups (display names or ids) the policy never applies to.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// Client app types; none: Graph's `all`.
    #[serde(default)]
    pub client_apps: Vec<ClientApp>,
    /// The built-in controls to require (`compliant-device`, `block`, `mfa`, …).
    pub grant: Spanned<Vec<GrantControl>>,
    /// Whether every control (`and`) or one of them (`or`, the default) is required.
    #[serde(default)]
    pub grant_operator: GrantOperator,
}

/// How several grant controls combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantOperator {
    /// Any one of them.
    #[default]
    Or,
    /// All of them.
    And,
}

impl GrantOperator {
    /// Graph's spelling.
    pub fn graph_name(self) -> &'static str {
        match self {
            GrantOperator::Or => "OR",
            GrantOperator::And => "AND",
        }
    }
}

/// `[connectors.NAME]`: the settings of one partner's MTD connector. Every
/// field but `id` is optional; what is left out is not managed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConnectorConfig {
    /// The connector's object id (`mtdhost connectors` lists them).
    pub id: Spanned<String>,
    /// Evaluate Android devices (`androidEnabled`).
    pub android: Option<bool>,
    /// Evaluate iOS/iPadOS devices (`iosEnabled`).
    pub ios: Option<bool>,
    /// Evaluate Windows devices (`windowsEnabled`).
    pub windows: Option<bool>,
    /// Evaluate macOS devices (`macEnabled`, beta).
    pub macos: Option<bool>,
    /// Platforms whose devices are noncompliant while the partner has no
    /// data on them; the others are set not to block.
    pub block_when_partner_data_missing: Option<Spanned<Vec<ConnectorPlatform>>>,
    /// Platforms whose app protection policies use the partner's assessment
    /// (android, ios; windows on beta); the others are set off.
    pub app_protection: Option<Spanned<Vec<ConnectorPlatform>>>,
    /// Days without a heartbeat before the partner counts as unresponsive.
    pub unresponsive_after_days: Option<Spanned<i64>>,
    /// Block devices on OS versions the partner does not support.
    pub partner_unsupported_os_blocked: Option<bool>,
    /// Any other writable connector property, by its Graph name.
    pub settings: Option<Spanned<toml::Table>>,
}

/// Which tenant, and how to sign in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TenantConfig {
    /// Use the embedded emulator tenant instead of a real one.
    pub emulator: Option<EmulatorTenant>,
    /// The Entra tenant id; secretless and bearer sign-in may do without it.
    pub tenant_id: Option<String>,
    /// National cloud; sets both the Graph and the login hosts.
    #[serde(default)]
    pub cloud: Cloud,
    /// Graph base URL overriding the cloud's (https; plain http only for loopback).
    pub graph_url: Option<String>,
    /// Sign-in base URL overriding the cloud's (https; plain http only for loopback).
    pub login_url: Option<String>,
    /// How to sign in to a real tenant (`[tenant.auth]`).
    pub auth: Option<AuthConfig>,
    /// Who this config is: written into the ownership marker of every
    /// policy it manages, and required for `--prune` (see docs/config.md).
    pub owner: Option<Spanned<String>>,
    /// OAuth scope override; by default the cloud's Graph scope, even when
    /// `graph-url` points at a proxy.
    pub scope: Option<String>,
    /// Partner (plugin) name → MTD connector id, since connectors carry no
    /// partner name (for state warnings; `[connectors.NAME] id` does the same
    /// and manages the settings too).
    #[serde(default)]
    pub connectors: BTreeMap<String, String>,
    /// Writes per 20 seconds mtdhost allows itself (1–100; default 90, under
    /// Intune's 100 per app per tenant).
    pub write_limit: Option<Spanned<i64>>,
    /// Emergency-access (break-glass) groups, by display name or id: every
    /// Conditional Access policy must exclude one.
    #[serde(default)]
    pub break_glass: Vec<Spanned<String>>,
}

/// The embedded emulator tenant.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EmulatorTenant {
    /// JSON file keeping the tenant between runs (relative to the config).
    pub state: Option<String>,
    /// Faults to inject, as for `mtdhost emulator --faults`.
    pub faults: Option<String>,
}

/// Sign-in method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// A client secret read from an environment variable or a file.
    ClientSecret,
    /// A client certificate and its private key (PEM files).
    Certificate,
    /// Interactive device-code sign-in through a public client app.
    DeviceCode,
    /// A token obtained elsewhere, read from an environment variable.
    Bearer,
    /// An external OIDC token (CI) exchanged through a federated credential.
    WorkloadIdentity,
    /// The Azure host's managed identity.
    ManagedIdentity,
    /// Workload identity, then managed identity, whichever the environment offers.
    Auto,
}

/// `[tenant.auth]`. Secrets are never written in the config itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuthConfig {
    /// How to sign in.
    pub method: AuthMethod,
    /// The app registration's client id; for a managed identity, picks a user-assigned one.
    pub client_id: Option<String>,
    /// Environment variable holding the client secret.
    pub secret_env: Option<String>,
    /// File holding the client secret.
    pub secret_file: Option<String>,
    /// PEM certificate file.
    pub certificate: Option<String>,
    /// PEM private key file.
    pub private_key: Option<String>,
    /// Environment variable holding a bearer token.
    pub token_env: Option<String>,
    /// Whether `method = "auto"` may try the VM instance metadata endpoint
    /// (off by default: off Azure that address only times out).
    pub imds: Option<bool>,
}

/// `[plugins.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PluginConfig {
    /// A .wasm path (relative to the config) or builtin:NAME.
    pub source: Spanned<String>,
    /// The plugin file's expected sha256 in hex; the plugin is refused unless it matches.
    pub sha256: Option<Spanned<String>>,
    /// minisign signature file; requires trusted-keys.
    pub signature: Option<Spanned<String>>,
    /// minisign public keys, one of which must have made the signature;
    /// requires signature.
    pub trusted_keys: Option<Spanned<Vec<Spanned<String>>>>,
    /// Resource limits the plugin runs under.
    #[serde(default)]
    pub limits: Limits,
    /// The plugin's own settings, checked by the plugin at load.
    #[serde(default)]
    pub settings: toml::Table,
}

impl PluginConfig {
    /// The trusted keys' text (empty when none are listed).
    pub fn trusted_key_list(&self) -> Vec<String> {
        self.trusted_keys
            .as_ref()
            .map(|keys| keys.get_ref().iter().map(|k| k.get_ref().clone()).collect())
            .unwrap_or_default()
    }
}

pub use mtd_model::Platform;

/// Graph API version for a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum ApiChoice {
    /// Graph v1.0 (the default).
    #[default]
    #[serde(rename = "v1.0")]
    V1,
    /// Graph beta.
    #[serde(rename = "beta")]
    Beta,
}

/// One `[[policy]]`: a compliance policy per listed platform.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyConfig {
    /// Base display name, to which the platform is appended unless `platform-suffix` is off.
    pub name: Spanned<String>,
    /// Description written before mtdhost's marker.
    #[serde(default)]
    pub description: String,
    /// Platforms to make a compliance policy for, one policy each.
    pub platforms: Vec<Spanned<Platform>>,
    /// Append `" - <Platform>"` to the name (default). Off only for single-platform policies.
    #[serde(default = "default_true")]
    pub platform_suffix: bool,
    /// Graph API version for this policy.
    #[serde(default)]
    pub api: ApiChoice,
    /// End the description with mtdhost's marker (default). Policies adopted
    /// by `export` keep their description as is (`marker = false`); such
    /// policies are never deleted by `--prune`.
    #[serde(default = "default_true")]
    pub marker: bool,
    /// The plugin whose partner vocabulary `max-threat-level` may use.
    pub partner: Option<Spanned<String>>,
    /// The highest device threat level that stays compliant.
    pub max_threat_level: Option<Spanned<String>>,
    /// Extra Graph settings for every platform of this policy.
    pub settings: Option<Spanned<toml::Table>>,
    /// Extra Graph settings for one platform.
    #[serde(default)]
    pub platform_settings: BTreeMap<Platform, Spanned<toml::Table>>,
    /// Actions for noncompliance; a block at once is added when none is listed.
    #[serde(default)]
    pub actions: Vec<Spanned<ActionConfig>>,
    /// Who the policy applies to.
    #[serde(default)]
    pub assignments: AssignmentsConfig,
}

fn default_true() -> bool {
    true
}

impl PolicyConfig {
    /// The Intune display name for a platform.
    pub fn display_name(&self, platform: Platform) -> String {
        if self.platform_suffix {
            format!("{} - {}", self.name.get_ref(), platform.label())
        } else {
            self.name.get_ref().clone()
        }
    }
}

pub use mtd_model::ActionKind;

/// One action for noncompliance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ActionConfig {
    /// What the action does.
    #[serde(rename = "type")]
    pub kind: ActionKind,
    /// Hours before the action is taken.
    #[serde(default)]
    pub grace_period_hours: u32,
    /// Notification template, by display name or id.
    pub template: Option<String>,
    /// Extra notification recipients: group names or ids.
    #[serde(default)]
    pub cc: Vec<String>,
}

/// Who the policy applies to. Groups by display name or object id; an
/// include entry, all users and all devices may carry an assignment filter
/// (by display name or id): `{ group = "R&D Users", filter = "Corporate
/// iPhones", filter-mode = "include" }`, `all-devices = { filter = "…" }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AssignmentsConfig {
    /// Groups to target, each optionally with an assignment filter.
    #[serde(default)]
    pub include: Vec<Spanned<IncludeEntry>>,
    /// Groups left out, by display name or id (never filtered).
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// Whether all users are targeted, optionally through a filter.
    #[serde(default)]
    pub all_users: AllTarget,
    /// Whether all devices are targeted, optionally through a filter.
    #[serde(default)]
    pub all_devices: AllTarget,
}

/// One `include` entry: a group, or a group with an assignment filter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum IncludeEntry {
    /// A group by display name or id, without a filter.
    Group(String),
    /// A group with an assignment filter.
    Filtered(FilteredGroup),
}

impl IncludeEntry {
    /// The group's display name or id.
    pub fn group(&self) -> &str {
        match self {
            IncludeEntry::Group(g) => g,
            IncludeEntry::Filtered(f) => &f.group,
        }
    }

    /// The entry's assignment filter with its mode, if it has one.
    pub fn filter(&self) -> Option<FilterConfig> {
        match self {
            IncludeEntry::Group(_) => None,
            IncludeEntry::Filtered(f) => {
                f.filter.clone().map(|name| FilterConfig { name, mode: f.filter_mode })
            }
        }
    }
}

/// `{ group = "…", filter = "…", filter-mode = "include" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FilteredGroup {
    /// Group display name or id.
    pub group: String,
    /// Assignment filter display name or id.
    pub filter: Option<String>,
    /// Whether the filter's matching devices are targeted or left out.
    #[serde(default)]
    pub filter_mode: FilterModeConfig,
}

/// `all-users` / `all-devices`: `true`, or a table with a filter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AllTarget {
    /// `true` targets all users or all devices, `false` (the default) none; no filter.
    On(bool),
    /// Targeted through an assignment filter.
    Filtered(FilterOnly),
}

impl Default for AllTarget {
    fn default() -> Self {
        AllTarget::On(false)
    }
}

impl AllTarget {
    /// Whether this target is used at all.
    pub fn is_on(&self) -> bool {
        !matches!(self, AllTarget::On(false))
    }

    /// The assignment filter with its mode, when one is given.
    pub fn filter(&self) -> Option<FilterConfig> {
        match self {
            AllTarget::On(_) => None,
            AllTarget::Filtered(f) => Some(FilterConfig { name: f.filter.clone(), mode: f.filter_mode }),
        }
    }
}

/// `{ filter = "…", filter-mode = "exclude" }` for all users / all devices.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FilterOnly {
    /// Assignment filter display name or id.
    pub filter: String,
    /// Whether the filter's matching devices are targeted or left out.
    #[serde(default)]
    pub filter_mode: FilterModeConfig,
}

/// Whether the filter's matching devices are the ones targeted (`include`,
/// the default) or the ones left out (`exclude`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FilterModeConfig {
    /// Only devices matching the filter are targeted (the default).
    #[default]
    Include,
    /// Devices matching the filter are left out.
    Exclude,
}

/// A filter reference with its mode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FilterConfig {
    /// Display name or id.
    pub name: String,
    /// Whether matching devices are targeted or left out.
    pub mode: FilterModeConfig,
}
