//! The ownership marker at the end of a managed policy's description.
//!
//! Format (docs/config.md): `[managed by mtdhost owner=OWNER key=KEY]`, where
//! OWNER is `[tenant] owner` and KEY is the first 12 hex digits of
//! SHA-256(`OWNER` LF `type name` LF `display name`). The key ties the marker
//! to the policy it was written on: a copy made in the portal (new name) or
//! a policy renamed by hand carries a key that does not match, and is never
//! pruned. The plain `[managed by mtdhost]` of earlier versions is read as
//! "owner unknown": such policies are updated when the config names them,
//! but pruned only with `--adopt-owner`.

use sha2::{Digest, Sha256};

use crate::graph::schema::PolicyType;

/// The marker of earlier versions (and of configs without an owner).
pub const MARKER: &str = "[managed by mtdhost]";
const PREFIX: &str = "[managed by mtdhost";

/// Who a description says owns the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// No marker: not managed by mtdhost.
    Unmanaged,
    /// The plain marker: managed, owner unknown.
    Legacy,
    /// A marker with an owner and the policy's key.
    Owned {
        /// The `[tenant] owner` the marker names.
        owner: String,
        /// The 12-hex-digit policy key the marker carries.
        key: String,
    },
}

/// The key binding a marker to one policy of one owner.
pub fn key(owner: &str, ty: PolicyType, display_name: &str) -> String {
    key_for(owner, ty.type_name(), display_name)
}

/// [`key`] for any kind of object, by its Graph type name
/// (`conditionalAccessPolicy`, …).
pub fn key_for(owner: &str, type_name: &str, display_name: &str) -> String {
    let digest = Sha256::digest(format!("{owner}\n{type_name}\n{display_name}").as_bytes());
    hex::encode(digest)[..12].to_string()
}

/// The marker to write.
pub fn marker(owner: Option<&str>, ty: PolicyType, display_name: &str) -> String {
    marker_for(owner, ty.type_name(), display_name)
}

/// [`marker`] for any kind of object, by its Graph type name.
pub fn marker_for(owner: Option<&str>, type_name: &str, display_name: &str) -> String {
    match owner {
        None => MARKER.to_string(),
        Some(o) => format!("{PREFIX} owner={o} key={}]", key_for(o, type_name, display_name)),
    }
}

/// Splits a description into the admin's text and the marker's ownership.
pub fn parse(description: &str) -> (String, Ownership) {
    let d = description.trim_end();
    let Some(start) = d.rfind(PREFIX).filter(|_| d.ends_with(']')) else {
        return (description.to_string(), Ownership::Unmanaged);
    };
    let text = d[..start].trim_end().to_string();
    let inner = &d[start + PREFIX.len()..d.len() - 1];
    if inner.trim().is_empty() {
        return (text, Ownership::Legacy);
    }
    let mut owner = None;
    let mut k = None;
    for part in inner.split_whitespace() {
        match part.split_once('=') {
            Some(("owner", v)) => owner = Some(v.to_string()),
            Some(("key", v)) => k = Some(v.to_string()),
            _ => return (description.to_string(), Ownership::Unmanaged),
        }
    }
    match (owner, k) {
        (Some(owner), Some(key)) => (text, Ownership::Owned { owner, key }),
        _ => (description.to_string(), Ownership::Unmanaged),
    }
}

/// True if an object named `display_name` with `description` belongs to
/// `owner` (for objects of `type_name`): its marker names that owner and the
/// key of that name, or it has the old plain marker and there is no owner.
/// `adopt` takes over another owner's marker or the plain one too.
pub fn is_ours(
    description: &str,
    owner: Option<&str>,
    type_name: &str,
    display_name: &str,
    adopt: bool,
) -> bool {
    match parse(description).1 {
        Ownership::Owned { owner: theirs, key } => {
            (adopt || owner == Some(theirs.as_str())) && key == key_for(&theirs, type_name, display_name)
        }
        Ownership::Legacy => owner.is_none() || adopt,
        Ownership::Unmanaged => false,
    }
}

/// True if a description carries any mtdhost marker.
pub fn is_managed(description: &str) -> bool {
    parse(description).1 != Ownership::Unmanaged
}

/// A valid owner id: 1–64 of `A-Z a-z 0-9 . _ -`.
pub fn valid_owner(owner: &str) -> bool {
    (1..=64).contains(&owner.len())
        && owner.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_legacy() {
        let m = marker(Some("contoso-prod"), PolicyType::Ios, "MTD - iOS");
        let (text, o) = parse(&format!("Corporate phones {m}"));
        assert_eq!(text, "Corporate phones");
        assert_eq!(
            o,
            Ownership::Owned {
                owner: "contoso-prod".into(),
                key: key("contoso-prod", PolicyType::Ios, "MTD - iOS")
            }
        );
        assert_eq!(parse("x [managed by mtdhost]"), ("x".into(), Ownership::Legacy));
        assert_eq!(parse("made by hand").1, Ownership::Unmanaged);
        assert_ne!(key("a", PolicyType::Ios, "n"), key("b", PolicyType::Ios, "n"));
        assert!(!valid_owner("has space") && valid_owner("contoso-prod"));
    }
}
