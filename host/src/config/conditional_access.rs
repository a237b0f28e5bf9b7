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

    /// A policy that can shut users out must exclude a break-glass group.
    fn check_lockout(&self, c: &CaConfig) -> Result<(), ConfigError> {
        let name = c.name.get_ref();
        let Some(control) = c.grant.get_ref().iter().find(|g| g.can_lock_out()) else { return Ok(()) };
        let break_glass = &self.file.tenant.break_glass;
        if break_glass.is_empty() {
            return Err(self.err(
                c.name.span(),
                format!(
                    "conditional access policy '{name}' requires {} but [tenant] break-glass names no emergency-access group; a policy like this without an excluded break-glass group can lock every admin out of the tenant",
                    control.key()
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
                    "conditional access policy '{name}' requires {} but excludes no group; without an excluded break-glass group ({}) a mistake can lock every admin out of the tenant",
                    control.key(),
                    listed.join(", ")
                ),
                Some("add one of the [tenant] break-glass groups to the policy's exclude"),
            ));
        }
        Ok(())
    }
}
