//! A compliance policy's properties as Graph returned them, held compactly.
//!
//! Graph returns every property of a policy's type, and most are `null` or
//! at their default (`false`, `[]`, an enum's first member). Held as JSON
//! maps, a tenant of 5,000 policies was most of a plan's memory (~36 MB).
//! So `null`s are dropped (everything reading a policy treats absent and
//! `null` alike), a property whose value is *exactly* its type's default is
//! kept as one bit, and only the rest as JSON. [`Properties::get`] gives
//! back exactly what Graph returned, `null`s aside.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::schema::{PolicyType, Property};

/// The properties of one policy.
#[derive(Debug, Clone, Default)]
pub struct Properties {
    ty: Option<PolicyType>,
    /// What is neither `null` nor at its default.
    values: Map<String, Value>,
    /// Bit `i`: the type's `i`-th property (in `PolicyType::properties`
    /// order) was returned at exactly its default.
    at_default: u128,
}

impl Properties {
    /// Takes Graph's properties of a policy of type `ty` (None: a type
    /// mtdhost does not know, kept whole).
    pub(crate) fn new(ty: Option<PolicyType>, mut values: Map<String, Value>) -> Properties {
        values.retain(|_, v| !v.is_null());
        let mut at_default = 0u128;
        if let Some(ty) = ty {
            for (i, p) in ty.properties().enumerate().take(u128::BITS as usize) {
                let default = values.get(p.name).is_some_and(|v| Some(v) == p.default_value().as_ref());
                if default {
                    values.remove(p.name);
                    at_default |= 1 << i;
                }
            }
        }
        Properties { ty, values, at_default }
    }

    /// The value Graph returned for `name`; None if it returned none or `null`.
    pub fn get(&self, name: &str) -> Option<Cow<'_, Value>> {
        if let Some(v) = self.values.get(name) {
            return Some(Cow::Borrowed(v));
        }
        self.defaulted(name).and_then(Property::default_value).map(Cow::Owned)
    }

    /// Whether Graph returned a value (not `null`) for `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name) || self.defaulted(name).is_some()
    }

    /// The property `name` if it was returned at its default.
    fn defaulted(&self, name: &str) -> Option<&'static Property> {
        let i = self.index_of(name)?;
        (self.at_default & (1 << i) != 0).then(|| self.ty.and_then(|t| t.properties().nth(i))).flatten()
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.ty?.properties().take(u128::BITS as usize).position(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_type_fits_the_bits() {
        for ty in PolicyType::ALL {
            assert!(ty.properties().count() <= u128::BITS as usize, "{ty:?} has more properties than bits");
        }
    }

    #[test]
    fn what_graph_returned_comes_back_exactly() {
        for ty in PolicyType::ALL {
            // Every property at its default, plus values that only look like one.
            let mut raw = Map::new();
            for p in ty.properties() {
                raw.insert(p.name.to_string(), p.default_value().unwrap_or(Value::Null));
            }
            raw.insert("@odata.type".into(), json!(ty.odata_type()));
            raw.insert("displayName".into(), json!("R&D 'North'"));
            raw.insert("passwordRequired".into(), json!(true));
            raw.insert("roleScopeTagIds".into(), json!(["0", "7"]));
            raw.insert("passwordMinimumLength".into(), json!(6.0));
            raw.insert("aFutureProperty".into(), json!({"x": [1]}));
            let props = Properties::new(Some(ty), raw.clone());
            for (k, v) in &raw {
                if v.is_null() {
                    assert!(props.get(k).is_none() && !props.contains(k), "{ty:?} {k}: null reads as absent");
                } else {
                    assert_eq!(props.get(k).as_deref(), Some(v), "{ty:?} {k}");
                    assert!(props.contains(k));
                }
            }
            assert!(props.get("neverReturned").is_none() && !props.contains("neverReturned"));
            assert!(props.values.len() <= 6, "{ty:?}: defaults are bits, not JSON: {:?}", props.values);
        }
    }

    #[test]
    fn an_unknown_type_is_kept_whole() {
        let raw = json!({"passwordRequired": false, "x": null}).as_object().cloned().unwrap();
        let props = Properties::new(None, raw);
        assert_eq!(props.get("passwordRequired").as_deref(), Some(&json!(false)));
        assert!(!props.contains("x"));
        let raw = json!({"deviceThreatProtectionEnabled": false}).as_object().cloned().unwrap();
        let props = Properties::new(Some(PolicyType::Ios), raw);
        assert!(props.values.is_empty(), "kept as a bit");
        assert_eq!(props.get("deviceThreatProtectionEnabled").as_deref(), Some(&json!(false)));
    }
}
