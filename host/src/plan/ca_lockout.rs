//! The second half of the lockout guard: a change that enforces a Conditional
//! Access policy must not enforce it on the admin who applies it, unless the
//! policy excludes them. Known only in a delegated session (device code, or a
//! user's bearer token): Graph's `/me` says who that is and
//! `checkMemberGroups` whether they are in the policy's groups. An app-only
//! session has no such user, so the break-glass exclusion is the whole guard.
//!
//! Only changes are checked: a policy already enforced with the same groups
//! enforces nothing new, so a later plan (even a read-only reviewer's) is not
//! stopped by what is already live. The users the tenant lists beside the
//! config's groups (kept on update) count: an excluded admin id lets the
//! policy through, an included one does not.

use std::collections::HashMap;

use super::conditional_access::{list_at, norm};
use super::PlanError;
use crate::graph::{GraphClient, RemoteCaPolicy, SignedInUser};
use crate::pipeline::DesiredCa;
use mtd_model::CaState;

/// Whether planning `desired` can lock out whoever applies it: only a policy
/// that is enforced can.
pub(crate) fn needs_check(desired: &[DesiredCa]) -> bool {
    desired.iter().any(|d| d.state == CaState::On)
}

/// The signed-in admin and what is known of their group membership.
pub(crate) struct AdminCheck {
    user: SignedInUser,
    member_of: HashMap<String, bool>,
}

/// What the check found for one policy.
pub(crate) enum Finding {
    /// Nothing to say.
    Fine,
    /// The plan must stop.
    Problem(String),
    /// Worth saying; the plan goes on.
    Warning(String),
}

/// A users-condition list of the tenant's copy, ids lower-cased.
fn users_at(p: &RemoteCaPolicy, key: &str) -> Vec<String> {
    list_at(p, &["conditions", "users", key])
}

impl AdminCheck {
    /// The check for a delegated session; none for an app-only one. Not
    /// knowing who is signed in in a delegated session stops the plan.
    pub(crate) async fn for_session(client: &GraphClient) -> Result<Option<Self>, PlanError> {
        match client.signed_in_user().await {
            Ok(user) => Ok(user.map(|user| AdminCheck { user, member_of: HashMap::new() })),
            Err(e) => Err(PlanError::Problems(vec![format!(
                "cannot tell who is signed in ({e}); planning an enforced Conditional Access policy in a delegated session checks that it does not lock you out — grant the app the delegated permission User.Read, or plan with an app-only sign-in"
            )])),
        }
    }

    /// Asks Graph about the groups not asked about yet, in one call per 20.
    async fn learn(&mut self, client: &GraphClient, ids: &[String]) -> Result<(), PlanError> {
        let mut new: Vec<String> = ids.iter().map(|i| i.to_ascii_lowercase()).collect();
        new.retain(|i| !self.member_of.contains_key(i));
        new.sort();
        new.dedup();
        if new.is_empty() {
            return Ok(());
        }
        let mine: Vec<String> =
            client.my_member_groups(&new).await?.into_iter().map(|i| i.to_ascii_lowercase()).collect();
        for id in new {
            let member = mine.contains(&id);
            self.member_of.insert(id, member);
        }
        Ok(())
    }

    fn member(&self, id: &str) -> bool {
        self.member_of.get(&id.to_ascii_lowercase()).copied().unwrap_or(false)
    }

    fn who(&self) -> String {
        if self.user.user_principal_name.is_empty() {
            self.user.id.clone()
        } else {
            crate::runtime::sanitize(&self.user.user_principal_name)
        }
    }

    /// Whether applying `d` (groups resolved to `include` and `exclude` ids;
    /// `current` the tenant's copy, if it exists) would enforce it on the
    /// signed-in admin.
    pub(crate) async fn check(
        &mut self,
        client: &GraphClient,
        d: &DesiredCa,
        include: &[String],
        exclude: &[String],
        current: Option<&RemoteCaPolicy>,
    ) -> Result<Finding, PlanError> {
        if d.state != CaState::On {
            return Ok(Finding::Fine);
        }
        if let Some(r) = current {
            let already = r.state == CaState::On.graph_name()
                && users_at(r, "includeGroups") == norm(include.to_vec())
                && users_at(r, "excludeGroups") == norm(exclude.to_vec())
                && users_at(r, "includeUsers").iter().any(|u| u == "All") == d.all_users;
            if already {
                return Ok(Finding::Fine);
            }
        }
        let me = self.user.id.to_ascii_lowercase();
        let users = |k: &str| current.map(|r| users_at(r, k)).unwrap_or_default();
        if users("excludeUsers").contains(&me) {
            return Ok(Finding::Fine);
        }
        let ids: Vec<String> = include.iter().chain(exclude).cloned().collect();
        self.learn(client, &ids).await?;
        if exclude.iter().any(|g| self.member(g)) {
            return Ok(Finding::Fine);
        }
        let via = if d.all_users {
            "all users".to_string()
        } else if users("includeUsers").contains(&me) {
            "your user id (listed in the tenant's copy)".to_string()
        } else {
            match include.iter().position(|g| self.member(g)) {
                // Names line up with ids when every name resolved (else the
                // plan stops anyway); the id is shown otherwise.
                Some(i) if include.len() == d.include.len() => format!("group '{}'", d.include[i]),
                Some(i) => format!("group {}", include[i]),
                None => {
                    let roles = users("includeRoles");
                    if roles.is_empty() {
                        return Ok(Finding::Fine);
                    }
                    return Ok(Finding::Warning(format!(
                        "{}: conditional access policy '{}' also includes {} directory role(s) from the tenant; mtdhost cannot tell whether you, {}, hold one — check with the portal's What If tool before relying on this sign-in",
                        d.location,
                        d.display_name,
                        roles.len(),
                        self.who()
                    )));
                }
            }
        };
        if !users("excludeRoles").is_empty() {
            // Role exclusions are a common way to spare admins; which roles
            // the admin holds is not asked, so say it rather than refuse.
            return Ok(Finding::Warning(format!(
                "{}: conditional access policy '{}' includes you, {}, through {via}; it spares you only if you hold one of the directory roles it excludes — mtdhost cannot tell, so check with the portal's What If tool",
                d.location,
                d.display_name,
                self.who()
            )));
        }
        Ok(Finding::Problem(format!(
            "{}: conditional access policy '{}' would be enforced on you, the signed-in admin {}: it includes you through {via} and excludes none of your groups, so your next sign-in from a device that fails its controls is refused — exclude a group you belong to (such as a [tenant] break-glass group), or apply it as an account the policy excludes; mtdhost has no override for this, and nothing was changed",
            d.location,
            d.display_name,
            self.who()
        )))
    }
}
