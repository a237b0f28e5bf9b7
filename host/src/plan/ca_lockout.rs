//! The second half of the lockout guard: an enforced Conditional Access
//! policy must not apply to the admin who is applying it, unless it excludes
//! them. Known only for a delegated session (device code, or a user's bearer
//! token): Graph's `/me` says who that is and `checkMemberGroups` whether they
//! are in the policy's groups. An app-only session has no such user, so the
//! break-glass exclusion is the whole guard there.

use std::collections::HashMap;

use super::PlanError;
use crate::graph::{GraphClient, SignedInUser};
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

impl AdminCheck {
    /// The check for a delegated session; none for an app-only one.
    pub(crate) async fn for_session(client: &GraphClient) -> Result<Option<Self>, PlanError> {
        Ok(client.signed_in_user().await?.map(|user| AdminCheck { user, member_of: HashMap::new() }))
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

    /// A problem if enforcing `d` (with its groups resolved to `include` and
    /// `exclude` ids) would apply it to the signed-in admin.
    pub(crate) async fn check(
        &mut self,
        client: &GraphClient,
        d: &DesiredCa,
        include: &[String],
        exclude: &[String],
    ) -> Result<Option<String>, PlanError> {
        if d.state != CaState::On {
            return Ok(None);
        }
        let ids: Vec<String> = include.iter().chain(exclude).cloned().collect();
        self.learn(client, &ids).await?;
        if exclude.iter().any(|g| self.member(g)) {
            return Ok(None);
        }
        let via = if d.all_users {
            "all users".to_string()
        } else {
            match include.iter().position(|g| self.member(g)) {
                // Names line up with ids when every name resolved (else the
                // plan stops anyway); the id is shown otherwise.
                Some(i) if include.len() == d.include.len() => format!("group '{}'", d.include[i]),
                Some(i) => format!("group {}", include[i]),
                None => return Ok(None),
            }
        };
        let who = if self.user.user_principal_name.is_empty() {
            self.user.id.clone()
        } else {
            crate::runtime::sanitize(&self.user.user_principal_name)
        };
        Ok(Some(format!(
            "{}: conditional access policy '{}' would be enforced on you, the signed-in admin {who}: it includes you through {via} and excludes none of your groups, so your next sign-in from a device that fails its controls is refused — exclude a group you belong to (such as a [tenant] break-glass group), or apply it as an account the policy excludes; mtdhost has no override for this, and nothing was changed",
            d.location, d.display_name
        )))
    }
}
