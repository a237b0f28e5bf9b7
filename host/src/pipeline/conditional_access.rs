//! The desired state of one Conditional Access policy: its `[[conditional-access]]`
//! table in Graph's words, group names still unresolved (the plan resolves
//! them, and checks the break-glass exclusion by id).

use crate::config::{Config, GrantOperator, Location};
use crate::pipeline::{marker, DesiredPolicy};
use mtd_model::{CaPlatform, CaState, GrantControl, Platform};

/// The Graph type name the ownership marker's key is made with.
pub const CA_TYPE: &str = "conditionalAccessPolicy";

/// What the config wants of one CA policy.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredCa {
    /// The display name.
    pub display_name: String,
    /// The description with the ownership marker.
    pub description: String,
    /// `[tenant] owner`, if set.
    pub owner: Option<String>,
    /// Whether it is enforced.
    pub state: CaState,
    /// `includeApplications`.
    pub apps: Vec<String>,
    /// `includePlatforms` (Graph spelling); empty: every platform.
    pub platforms: Vec<String>,
    /// Group names or ids to include.
    pub include: Vec<String>,
    /// Every user (`includeUsers = ["All"]`).
    pub all_users: bool,
    /// Group names or ids to exclude.
    pub exclude: Vec<String>,
    /// `clientAppTypes` (Graph spelling).
    pub client_apps: Vec<String>,
    /// `builtInControls`.
    pub grant: Vec<GrantControl>,
    /// `AND` or `OR`.
    pub operator: GrantOperator,
    /// `[tenant] break-glass`, names or ids.
    pub break_glass: Vec<String>,
    /// Where the table is in the config.
    pub location: Location,
}

impl DesiredCa {
    /// Whether this policy requires a compliant device on `platform`.
    pub fn requires_compliance_on(&self, platform: Platform) -> bool {
        self.grant.contains(&GrantControl::CompliantDevice)
            && (self.platforms.is_empty()
                || self
                    .platforms
                    .iter()
                    .filter_map(|p| CaPlatform::from_graph(p))
                    .any(|p| covers(p, platform)))
    }

    /// Whether devices judged by compliance policy `p` meet this CA policy:
    /// it requires a compliant device on `p`'s platform and applies to a
    /// group `p` is assigned to (or to everyone). Groups compare as written.
    pub fn enforces(&self, p: &DesiredPolicy) -> bool {
        let a = &p.assignments;
        self.requires_compliance_on(p.platform)
            && (self.all_users
                || a.all_users
                || a.all_devices
                || self.include.iter().any(|g| a.include.iter().any(|i| i.eq_ignore_ascii_case(g))))
    }
}

/// Whether CA platform `ca` covers compliance platform `p`.
pub fn covers(ca: CaPlatform, p: Platform) -> bool {
    match ca {
        CaPlatform::All => true,
        CaPlatform::Ios => p == Platform::Ios,
        CaPlatform::Android => {
            matches!(
                p,
                Platform::Android
                    | Platform::AndroidWorkProfile
                    | Platform::AndroidDeviceOwner
                    | Platform::Aosp
            )
        }
        CaPlatform::Windows => p == Platform::Windows,
        CaPlatform::Macos => p == Platform::Macos,
        CaPlatform::Linux | CaPlatform::WindowsPhone => false,
    }
}

/// Every `[[conditional-access]]` of `config`, in file order.
pub(super) fn from_config(config: &Config) -> Vec<DesiredCa> {
    let owner = config.file.tenant.owner.as_ref().map(|o| o.get_ref().clone());
    config
        .file
        .conditional_access
        .iter()
        .map(|entry| {
            let c = entry.get_ref();
            let name = c.name.get_ref().clone();
            let m = marker::marker_for(owner.as_deref(), CA_TYPE, &name);
            let description = if c.description.is_empty() { m } else { format!("{} {m}", c.description) };
            let client_apps = if c.client_apps.is_empty() {
                vec!["all".to_string()]
            } else {
                c.client_apps.iter().map(|a| a.graph_name().to_string()).collect()
            };
            DesiredCa {
                display_name: name,
                description,
                owner: owner.clone(),
                state: c.state,
                apps: c.apps.get_ref().iter().map(|a| a.get_ref().clone()).collect(),
                platforms: c.platforms.iter().map(|p| p.graph_name().to_string()).collect(),
                include: c.include.iter().map(|g| g.get_ref().clone()).collect(),
                all_users: c.all_users,
                exclude: c.exclude.iter().map(|g| g.get_ref().clone()).collect(),
                client_apps,
                grant: c.grant.get_ref().clone(),
                operator: c.grant_operator,
                break_glass: config.file.tenant.break_glass.iter().map(|b| b.get_ref().clone()).collect(),
                location: config.at(c.name.span()),
            }
        })
        .collect()
}
