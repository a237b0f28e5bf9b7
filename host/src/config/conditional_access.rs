//! `[[conditional-access]]` and `[tenant] break-glass`: the checks that need
//! more than one value — unique names, apps Graph accepts, someone to apply
//! to, and the lockout guard's first half: a policy that can shut users out
//! must exclude a break-glass group the config names (the plan checks the
//! second half, by resolved group id).

use std::collections::BTreeSet;

use super::{CaConfig, Config, ConfigError};
use mtd_model::CA_SPECIAL_APPS;

impl Config {
    /// Every `[[conditional-access]]` table.
    pub(super) fn check_conditional_access(&self) -> Result<(), ConfigError> {
        for b in &self.file.tenant.break_glass {
            if b.get_ref().trim().is_empty() {
                return Err(self.err(b.span(), "[tenant] break-glass: a group name cannot be empty", None));
            }
        }
        if let (Some(first), None) = (self.file.conditional_access.first(), &self.file.tenant.owner) {
            return Err(self.err(
                first.get_ref().name.span(),
                "[[conditional-access]] needs [tenant] owner: it goes into each policy's ownership marker, so mtdhost changes and prunes only Conditional Access policies this config created",
                Some("add owner = \"contoso-prod\" (any stable id) to [tenant]"),
            ));
        }
        let mut names = BTreeSet::new();
        for entry in &self.file.conditional_access {
            let c = entry.get_ref();
            let name = c.name.get_ref();
            if name.trim().is_empty() {
                return Err(self.err(
                    c.name.span(),
                    "a conditional access policy name cannot be empty",
                    None,
                ));
            }
            if !names.insert(name.clone()) {
                return Err(self.err(
                    c.name.span(),
                    format!("conditional access policy '{name}' is defined twice"),
                    Some("Entra allows duplicate names, mtdhost does not: rename one"),
                ));
            }
            self.check_ca_apps(c)?;
            if c.include.is_empty() && !c.all_users {
                return Err(self.err(
                    c.name.span(),
                    format!("conditional access policy '{name}' applies to no one"),
                    Some("list groups in include, or set all-users = true"),
                ));
            }
            let grant = c.grant.get_ref();
            if grant.is_empty() {
                return Err(self.err(
                    c.grant.span(),
                    format!("conditional access policy '{name}': grant is empty"),
                    Some("e.g. grant = [\"compliant-device\"]"),
                ));
            }
            if let Some(g) = grant.iter().enumerate().find_map(|(i, g)| grant[..i].contains(g).then_some(g)) {
                return Err(self.err(
                    c.grant.span(),
                    format!("conditional access policy '{name}': grant lists {} twice", g.key()),
                    None,
                ));
            }
            self.check_lockout(c)?;
        }
        Ok(())
    }

    fn check_ca_apps(&self, c: &CaConfig) -> Result<(), ConfigError> {
        let name = c.name.get_ref();
        if c.apps.get_ref().is_empty() {
            return Err(self.err(
                c.apps.span(),
                format!("conditional access policy '{name}': apps is empty"),
                Some("e.g. apps = [\"Office365\"], or [\"All\"]"),
            ));
        }
        for app in c.apps.get_ref() {
            let a = app.get_ref();
            if !CA_SPECIAL_APPS.contains(&a.as_str()) && !crate::plan::is_guid(a) {
                return Err(self.err(
                    app.span(),
                    format!("conditional access policy '{name}': app '{a}' is neither an application id nor one of {}", CA_SPECIAL_APPS.join(", ")),
                    Some("Graph takes application ids (GUIDs), not display names"),
                ));
            }
        }
        Ok(())
    }

    /// Every policy must exclude a break-glass group (Entra's advice for
    /// every policy, not only blocking ones: MFA or an app requirement can
    /// shut an admin out too).
    fn check_lockout(&self, c: &CaConfig) -> Result<(), ConfigError> {
        let name = c.name.get_ref();
        let break_glass = &self.file.tenant.break_glass;
        if break_glass.is_empty() {
            return Err(self.err(
                c.name.span(),
                format!(
                    "conditional access policy '{name}' needs [tenant] break-glass: every Conditional Access policy must exclude an emergency-access group, or a mistake can lock every admin out of the tenant"
                ),
                Some("add break-glass = [\"Break Glass Admins\"] to [tenant] and that group to the policy's exclude"),
            ));
        }
        // Which excluded group is a break-glass group is checked by id when
        // planning (a name here may be an id there); none at all is an error now.
        if c.exclude.is_empty() {
            let listed: Vec<&str> = break_glass.iter().map(|b| b.get_ref().as_str()).collect();
            return Err(self.err(
                c.name.span(),
                format!(
                    "conditional access policy '{name}' excludes no group; without an excluded break-glass group ({}) a mistake can lock every admin out of the tenant",
                    listed.join(", ")
                ),
                Some("add one of the [tenant] break-glass groups to the policy's exclude"),
            ));
        }
        Ok(())
    }
}
