//! More of the tenant than `tenant-context` carries, asked for by the plugin
//! (contract 0.2.1): the run's Conditional Access policies, so a rule can
//! tighten the compliance policies that CA actually enforces.
//!
//! Natively (plugin unit tests) there is no host to ask: [`conditional_access`]
//! returns what the test gave [`set_conditional_access_for_tests`], or nothing.

use crate::{CaPolicy, CaSource, CaState, Platform};

/// The Conditional Access policies of this run: those the admin's config
/// declares (`source == CaSource::Config`), then those the tenant holds that
/// the config does not manage (`CaSource::Tenant`). Empty unless the config
/// manages Conditional Access. Call it only from `apply_rules`: in any other
/// call the host stops the plugin.
pub fn conditional_access() -> Vec<CaPolicy> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::mtd::plugin::tenant::conditional_access()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        NATIVE.with(|n| n.borrow().clone())
    }
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static NATIVE: std::cell::RefCell<Vec<CaPolicy>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What [`conditional_access`] returns on this thread when built natively, for
/// unit tests of rules. Has no effect in a real plugin.
pub fn set_conditional_access_for_tests(policies: Vec<CaPolicy>) {
    #[cfg(not(target_arch = "wasm32"))]
    NATIVE.with(|n| *n.borrow_mut() = policies);
    #[cfg(target_arch = "wasm32")]
    drop(policies);
}

impl CaPolicy {
    /// Enforced (`on`), as opposed to report-only or off.
    pub fn is_enforced(&self) -> bool {
        self.state == CaState::On
    }

    /// Evaluated at all: enforced or report-only.
    pub fn is_active(&self) -> bool {
        self.state != CaState::Off
    }

    /// Declared in the admin's config, rather than found in the tenant.
    pub fn from_config(&self) -> bool {
        self.source == CaSource::Config
    }

    /// Grants access only to compliant devices (alone, or with every other
    /// control when the operator is AND; with OR another control — MFA, an
    /// authentication strength, terms of use — may do instead).
    pub fn requires_compliant_device(&self) -> bool {
        let has = self.grant_controls.iter().any(|c| c == "compliantDevice");
        has && (self.grant_operator.eq_ignore_ascii_case("AND") || self.grant_controls.len() == 1)
    }

    /// Blocks access outright.
    pub fn blocks(&self) -> bool {
        self.grant_controls.iter().any(|c| c == "block")
    }

    /// Whether the policy's platform condition includes compliance platform
    /// `p`: no platform condition, or "all", includes every platform, and an
    /// excluded platform is taken out again.
    pub fn covers(&self, p: Platform) -> bool {
        let names = |list: &[String]| {
            list.iter().any(|name| match name.as_str() {
                "all" => true,
                "android" => {
                    matches!(
                        p,
                        Platform::Android | Platform::AndroidWorkProfile | Platform::AndroidDeviceOwner
                    )
                }
                "iOS" => p == Platform::Ios,
                "macOS" => p == Platform::Macos,
                "windows" => p == Platform::Windows,
                _ => false,
            })
        };
        (self.platforms.is_empty() || names(&self.platforms)) && !names(&self.exclude_platforms)
    }

    /// Whether the policy names group `g` (display name or id) among the
    /// groups it includes, or includes all users.
    pub fn includes_group(&self, g: &str) -> bool {
        self.all_users
            || self
                .include_groups
                .iter()
                .any(|x| x.display_name == g || (!x.id.is_empty() && x.id.eq_ignore_ascii_case(g)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Group;

    fn policy(grant: &[&str], operator: &str, platforms: &[&str]) -> CaPolicy {
        CaPolicy {
            id: String::new(),
            display_name: "Require compliant device".into(),
            source: CaSource::Config,
            state: CaState::ReportOnly,
            platforms: platforms.iter().map(|s| s.to_string()).collect(),
            exclude_platforms: Vec::new(),
            apps: vec!["Office365".into()],
            exclude_apps: Vec::new(),
            all_users: false,
            include_groups: vec![Group { id: String::new(), display_name: "MTD - iOS Users".into() }],
            exclude_groups: Vec::new(),
            include_users: Vec::new(),
            exclude_users: Vec::new(),
            include_roles: Vec::new(),
            exclude_roles: Vec::new(),
            grant_controls: grant.iter().map(|s| s.to_string()).collect(),
            grant_operator: operator.into(),
        }
    }

    #[test]
    fn compliance_is_required_only_when_no_other_control_can_stand_in() {
        assert!(policy(&["compliantDevice"], "OR", &[]).requires_compliant_device());
        assert!(policy(&["compliantDevice", "mfa"], "AND", &[]).requires_compliant_device());
        assert!(!policy(&["compliantDevice", "mfa"], "OR", &[]).requires_compliant_device());
        assert!(!policy(&["mfa"], "AND", &[]).requires_compliant_device());
        let strength = ["compliantDevice", "authenticationStrength:00000000-0000-0000-0000-000000000004"];
        assert!(
            !policy(&strength, "OR", &[]).requires_compliant_device(),
            "phishing-resistant MFA may do instead"
        );
    }

    #[test]
    fn platforms_use_graphs_names() {
        let p = policy(&["compliantDevice"], "OR", &["iOS", "android"]);
        assert!(p.covers(Platform::Ios) && p.covers(Platform::AndroidWorkProfile));
        assert!(!p.covers(Platform::Windows));
        assert!(policy(&["block"], "OR", &[]).covers(Platform::Macos));
        let mut all_but_ios = policy(&["block"], "OR", &["all"]);
        all_but_ios.exclude_platforms = vec!["iOS".into()];
        assert!(all_but_ios.covers(Platform::Windows) && !all_but_ios.covers(Platform::Ios));
        assert!(p.includes_group("MTD - iOS Users") && !p.includes_group("Everyone else"));
    }

    #[test]
    fn natively_the_test_value_is_returned() {
        assert!(conditional_access().is_empty());
        set_conditional_access_for_tests(vec![policy(&["block"], "OR", &[])]);
        assert_eq!(conditional_access().len(), 1);
    }
}
