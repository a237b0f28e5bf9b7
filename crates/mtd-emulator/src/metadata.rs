//! The emulator's own schema, read at start from Microsoft's published
//! metadata shipped beside it (`data/`): the v1.0 CSDL excerpt (types,
//! nullability, enum members in value order) and the beta type mappings
//! (property names), plus `beta-supplement.json` for what the beta mappings
//! do not carry (types and enum members of beta-only properties). It does not
//! use the client's `graph::schema` table — a unit test below checks that the
//! two agree, so a mistake in either shows up instead of being shared.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use mtd_model::schema::{ApiVersion, PolicyType};

const CSDL: &str = include_str!("data/graph-v1.0-csdl-excerpt.xml");
const BETA: &str = include_str!("data/graph-beta-property-names.json");
const SUPPLEMENT: &str = include_str!("data/beta-supplement.json");

/// Computed by Graph or set through their own fields: not part of the settings.
const NOT_SETTINGS: &[&str] =
    &["id", "createdDateTime", "lastModifiedDateTime", "version", "displayName", "description"];

/// What values a property takes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MetaKind {
    Bool,
    Int32,
    Str,
    /// Members in value order; member 0 is the default.
    Enum(Vec<String>),
    StringList,
    /// A complex value (or a collection of them) and its members.
    Complex {
        type_name: String,
        collection: bool,
        members: Vec<String>,
    },
}

/// One writable property of a policy type in one API version.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetaProp {
    pub name: String,
    pub kind: MetaKind,
    /// What Graph returns when it was never set.
    pub default: Value,
}

/// Every policy type's properties per version.
struct Schema {
    v1: BTreeMap<String, Vec<MetaProp>>,
    beta: BTreeMap<String, Vec<MetaProp>>,
    v1_actions: Vec<String>,
    beta_actions: Vec<String>,
    /// `mobileThreatDefenseConnector`'s properties (read-only ones included).
    connector_v1: Vec<MetaProp>,
    connector_beta: Vec<MetaProp>,
}

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA
        .get_or_init(|| build().unwrap_or_else(|e| panic!("the emulator's shipped metadata is broken: {e}")))
}

/// Loads the metadata (at emulator start, so a broken file fails fast).
pub(crate) fn load() {
    let _ = schema();
}

/// The writable settings of `ty` in `version` (no name or description).
pub(crate) fn properties(ty: PolicyType, version: ApiVersion) -> &'static [MetaProp] {
    let s = schema();
    let map = if version == ApiVersion::V1 { &s.v1 } else { &s.beta };
    map.get(ty.type_name()).map(Vec::as_slice).unwrap_or_default()
}

/// `deviceComplianceActionType` members in `version` (v1.0: the CSDL; beta:
/// the beta enum mapping, which adds `remoteLock`).
pub(crate) fn action_type_allowed(version: ApiVersion, action: &str) -> bool {
    let s = schema();
    let list = if version == ApiVersion::V1 { &s.v1_actions } else { &s.beta_actions };
    list.iter().any(|a| a == action)
}

/// Every property of `mobileThreatDefenseConnector` in `version`, read-only ones included.
pub(crate) fn connector_properties(version: ApiVersion) -> &'static [MetaProp] {
    let s = schema();
    if version == ApiVersion::V1 {
        &s.connector_v1
    } else {
        &s.connector_beta
    }
}

/// One property, if `ty` has it in `version`.
pub(crate) fn property(ty: PolicyType, version: ApiVersion, name: &str) -> Option<MetaProp> {
    properties(ty, version).iter().find(|p| p.name == name).cloned()
}

/// A value as Graph echoes it: complex members get their `@odata.type`
/// and every member they do not set as null.
pub(crate) fn echo(p: &MetaProp, v: Value) -> Value {
    let MetaKind::Complex { type_name, members, .. } = &p.kind else { return v };
    let dress = |item: &Value| match item {
        Value::Object(o) => {
            let mut out = Map::new();
            out.insert("@odata.type".into(), Value::String(format!("#microsoft.graph.{type_name}")));
            for m in members {
                out.insert(m.clone(), o.get(m).cloned().unwrap_or(Value::Null));
            }
            for (k, val) in o.iter().filter(|(k, _)| !k.starts_with('@') && !members.contains(k)) {
                out.insert(k.clone(), val.clone());
            }
            Value::Object(out)
        }
        other => other.clone(),
    };
    match &v {
        Value::Array(a) => Value::Array(a.iter().map(dress).collect()),
        Value::Object(_) => dress(&v),
        _ => v,
    }
}

/// Why a value is not accepted (None: accepted): an enum member outside
/// the type, or what the value must be.
pub(crate) enum Rejection {
    NotAMember(String),
    MustBe(&'static str),
}

/// Checks a value against a property's type; null is always accepted.
pub(crate) fn check(p: &MetaProp, v: &Value) -> Option<Rejection> {
    if v.is_null() {
        return None;
    }
    let (ok, must_be) = match &p.kind {
        MetaKind::Bool => (v.is_boolean(), "true or false"),
        MetaKind::Int32 => (v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()), "a 32-bit integer"),
        MetaKind::Str => (v.is_string(), "a string"),
        MetaKind::Enum(members) => {
            return match v.as_str() {
                Some(s) if members.iter().any(|m| m == s) => None,
                Some(s) => Some(Rejection::NotAMember(s.to_string())),
                None => Some(Rejection::MustBe("a string")),
            };
        }
        MetaKind::StringList => {
            (v.as_array().is_some_and(|a| a.iter().all(Value::is_string)), "a list of strings")
        }
        MetaKind::Complex { collection: true, .. } => {
            (v.as_array().is_some_and(|a| a.iter().all(Value::is_object)), "a list of objects")
        }
        MetaKind::Complex { collection: false, .. } => (v.is_object(), "an object"),
    };
    (!ok).then_some(Rejection::MustBe(must_be))
}

/// A tag of the CSDL: its name and attributes.
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    attrs: Vec<(&'a str, &'a str)>,
}

/// The tags of an XML document (comments skipped). Enough for the CSDL,
/// whose attribute values hold no `>`.
fn tags(xml: &str) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let body = rest[..end].trim_end_matches('/');
        rest = &rest[end + 1..];
        let closing = body.starts_with('/');
        let body = body.trim_start_matches('/');
        let name = body.split_whitespace().next().unwrap_or("");
        let mut attrs = Vec::new();
        let mut a = &body[name.len()..];
        while let Some(eq) = a.find("=\"") {
            let key = a[..eq].trim();
            let v = &a[eq + 2..];
            let Some(close) = v.find('"') else { break };
            attrs.push((key, &v[..close]));
            a = &v[close + 1..];
        }
        out.push(Tag { name, closing, attrs });
    }
    out
}

fn attr<'a>(t: &Tag<'a>, k: &str) -> Option<&'a str> {
    t.attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
}

/// One `<Property>` of the CSDL: name, Edm type, nullable.
type CsdlProperty = (String, String, bool);

/// An entity type of the CSDL: its base type and own properties.
type CsdlEntity = (Option<String>, Vec<CsdlProperty>);

/// The v1.0 CSDL: enum members (value order) and each entity type.
struct Csdl {
    enums: BTreeMap<String, Vec<String>>,
    entities: BTreeMap<String, CsdlEntity>,
}

fn parse_csdl(xml: &str) -> Csdl {
    let mut csdl = Csdl { enums: BTreeMap::new(), entities: BTreeMap::new() };
    let mut current: Option<(String, bool)> = None; // (name, is_enum)
    let mut members: Vec<(i64, String)> = Vec::new();
    for t in tags(xml) {
        match (t.name, t.closing) {
            ("EnumType", false) => {
                current = attr(&t, "Name").map(|n| (n.to_string(), true));
                members.clear();
            }
            ("EnumType", true) => {
                if let Some((name, true)) = current.take() {
                    members.sort_by_key(|(v, _)| *v);
                    csdl.enums.insert(name, members.drain(..).map(|(_, n)| n).collect());
                }
            }
            ("Member", false) => {
                if let (Some(n), Some(v)) = (attr(&t, "Name"), attr(&t, "Value").and_then(|v| v.parse().ok()))
                {
                    members.push((v, n.to_string()));
                }
            }
            ("EntityType", false) => {
                let name = attr(&t, "Name").unwrap_or_default().to_string();
                let base = attr(&t, "BaseType").map(|b| b.trim_start_matches("graph.").to_string());
                csdl.entities.insert(name.clone(), (base, Vec::new()));
                current = Some((name, false));
            }
            ("EntityType", true) => current = None,
            ("Property", false) => {
                if let Some((entity, false)) = &current {
                    if let (Some(n), Some(ty)) = (attr(&t, "Name"), attr(&t, "Type")) {
                        let nullable = attr(&t, "Nullable") != Some("false");
                        if let Some(e) = csdl.entities.get_mut(entity) {
                            e.1.push((n.to_string(), ty.to_string(), nullable));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    csdl
}

fn edm_kind(ty: &str, enums: &BTreeMap<String, Vec<String>>) -> Result<MetaKind, String> {
    Ok(match ty {
        "Edm.Boolean" => MetaKind::Bool,
        "Edm.Int32" => MetaKind::Int32,
        "Edm.String" | "Edm.DateTimeOffset" => MetaKind::Str,
        "Collection(Edm.String)" => MetaKind::StringList,
        other => {
            let name = other.trim_start_matches("graph.");
            MetaKind::Enum(enums.get(name).cloned().ok_or_else(|| format!("unknown type {other}"))?)
        }
    })
}

fn default_of(kind: &MetaKind, nullable: bool, name: &str) -> Value {
    match kind {
        _ if name == "roleScopeTagIds" => Value::Array(vec![Value::String("0".into())]),
        MetaKind::Bool if !nullable => Value::Bool(false),
        MetaKind::Enum(m) if !nullable => m.first().cloned().map_or(Value::Null, Value::String),
        MetaKind::StringList => Value::Array(Vec::new()),
        MetaKind::Complex { collection: true, .. } => Value::Array(Vec::new()),
        _ => Value::Null,
    }
}

fn supplement_kind(
    spec: &Value,
    enums: &BTreeMap<String, Vec<String>>,
    complex: &Map<String, Value>,
) -> Result<MetaKind, String> {
    if let Some(ty) = spec.get("type").and_then(Value::as_str) {
        return edm_kind(ty, enums);
    }
    match spec.get("enum") {
        Some(Value::String(name)) => return edm_kind(name, enums),
        Some(Value::Array(m)) => {
            return Ok(MetaKind::Enum(m.iter().filter_map(Value::as_str).map(str::to_string).collect()));
        }
        _ => {}
    }
    let type_name =
        spec.get("complex").and_then(Value::as_str).ok_or("a property needs type, enum or complex")?;
    let members = complex
        .get(type_name)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("complex type {type_name} has no member list"))?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    Ok(MetaKind::Complex {
        type_name: type_name.to_string(),
        collection: spec.get("collection").and_then(Value::as_bool).unwrap_or(false),
        members,
    })
}

fn build() -> Result<Schema, String> {
    let csdl = parse_csdl(CSDL);
    let beta: Value = serde_json::from_str(BETA).map_err(|e| format!("beta property names: {e}"))?;
    let sup: Value = serde_json::from_str(SUPPLEMENT).map_err(|e| format!("beta supplement: {e}"))?;
    let sup_props = sup.get("properties").and_then(Value::as_object).ok_or("supplement has no properties")?;
    let sup_complex =
        sup.get("complexTypes").and_then(Value::as_object).ok_or("supplement has no complexTypes")?;
    let names = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let mut schema = Schema {
        v1: BTreeMap::new(),
        beta: BTreeMap::new(),
        v1_actions: csdl.enums.get("deviceComplianceActionType").cloned().ok_or("no v1.0 action types")?,
        beta_actions: names(beta.pointer("/enumTypes/deviceComplianceActionType")),
        connector_v1: Vec::new(),
        connector_beta: Vec::new(),
    };
    (schema.connector_v1, schema.connector_beta) = connector_schema(&csdl, &beta, sup_props)?;
    for ty in PolicyType::ALL {
        let name = ty.type_name();
        // v1.0: the entity and its bases, from the CSDL.
        let mut v1 = Vec::new();
        let mut cursor = Some(name.to_string());
        while let Some(entity) = cursor.take() {
            let Some((base, props)) = csdl.entities.get(&entity) else { break };
            for (p, t, nullable) in props.iter().filter(|(p, ..)| !NOT_SETTINGS.contains(&p.as_str())) {
                let kind = edm_kind(t, &csdl.enums)?;
                v1.push(MetaProp { name: p.clone(), default: default_of(&kind, *nullable, p), kind });
            }
            cursor = base.clone();
        }
        let in_v1 = csdl.entities.contains_key(name);
        // beta: the type mapping's names (own and the base's); v1.0 types
        // for names v1.0 has, the supplement for the rest.
        let names: Vec<String> = ["deviceCompliancePolicy", name]
            .iter()
            .filter_map(|e| beta.pointer(&format!("/entityTypes/{e}/properties")).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .filter(|p| !NOT_SETTINGS.contains(p))
            .map(str::to_string)
            .collect();
        let mut b = Vec::new();
        for p in names {
            let from_v1 = v1.iter().find(|m| m.name == p).cloned().or_else(|| {
                // A beta-only type shares Android's v1.0 definitions of the same names.
                csdl.entities.get("androidCompliancePolicy").and_then(|(_, props)| {
                    let (_, t, nullable) = props.iter().find(|(n, ..)| *n == p)?;
                    let kind = edm_kind(t, &csdl.enums).ok()?;
                    Some(MetaProp { name: p.clone(), default: default_of(&kind, *nullable, &p), kind })
                })
            });
            let spec = sup_props.get(&format!("{name}/{p}")).or_else(|| sup_props.get(&p));
            // A name this type has in v1.0 keeps its v1.0 type on beta.
            let own_v1 = in_v1 && v1.iter().any(|m| m.name == p);
            let prop = match (spec.filter(|_| !own_v1), from_v1) {
                (Some(spec), _) => {
                    let kind =
                        supplement_kind(spec, &csdl.enums, sup_complex).map_err(|e| format!("{p}: {e}"))?;
                    let default =
                        spec.get("default").cloned().unwrap_or_else(|| default_of(&kind, false, &p));
                    MetaProp { name: p.clone(), kind, default }
                }
                (None, Some(m)) => m,
                (None, None) => {
                    return Err(format!("{name}.{p}: neither the v1.0 CSDL nor the supplement types it"))
                }
            };
            b.push(prop);
        }
        if in_v1 {
            schema.v1.insert(name.to_string(), v1);
        }
        schema.beta.insert(name.to_string(), b);
    }
    Ok(schema)
}

/// The connector entity: v1.0 from the CSDL; beta from the type mapping's
/// names, typed by v1.0 where it has the name and by the supplement's
/// `mobileThreatDefenseConnector/NAME` entries otherwise.
fn connector_schema(
    csdl: &Csdl,
    beta: &Value,
    sup: &Map<String, Value>,
) -> Result<(Vec<MetaProp>, Vec<MetaProp>), String> {
    const ENTITY: &str = "mobileThreatDefenseConnector";
    let (_, props) = csdl.entities.get(ENTITY).ok_or("the CSDL has no mobileThreatDefenseConnector")?;
    let mut v1 = Vec::new();
    for (name, ty, nullable) in props {
        let kind = edm_kind(ty, &csdl.enums)?;
        v1.push(MetaProp { name: name.clone(), default: default_of(&kind, *nullable, name), kind });
    }
    let mut b = Vec::new();
    let names = beta
        .pointer(&format!("/entityTypes/{ENTITY}/properties"))
        .and_then(Value::as_array)
        .ok_or("the beta mapping has no mobileThreatDefenseConnector")?;
    for name in names.iter().filter_map(Value::as_str) {
        let prop = match v1.iter().find(|m| m.name == name) {
            Some(m) => m.clone(),
            None => {
                let spec = sup.get(&format!("{ENTITY}/{name}")).ok_or_else(|| {
                    format!("{ENTITY}.{name}: neither the v1.0 CSDL nor the supplement types it")
                })?;
                let kind = supplement_kind(spec, &csdl.enums, &Map::new())?;
                // Beta returns unset beta-only switches as null.
                MetaProp { name: name.to_string(), kind, default: Value::Null }
            }
        };
        b.push(prop);
    }
    Ok((v1, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtd_model::schema::Kind;

    /// The client's schema table and Microsoft's metadata agree: the same
    /// properties per type and version, compatible kinds, the same enum
    /// members and the same defaults where the client knows one.
    #[test]
    fn client_table_agrees_with_microsofts_metadata() {
        for ty in PolicyType::ALL {
            for version in [ApiVersion::V1, ApiVersion::Beta] {
                if ty.min_version() > version {
                    assert!(properties(ty, version).is_empty(), "{ty:?} is not in {version:?}");
                    continue;
                }
                let meta = properties(ty, version);
                let mut client: Vec<&str> = ty
                    .properties()
                    .filter(|p| p.since <= version && !NOT_SETTINGS.contains(&p.name))
                    .map(|p| p.name)
                    .collect();
                let mut theirs: Vec<&str> = meta.iter().map(|p| p.name.as_str()).collect();
                client.sort();
                theirs.sort();
                assert_eq!(client, theirs, "{ty:?} {version:?}: property names");
                for p in ty.properties().filter(|p| p.since <= version && !NOT_SETTINGS.contains(&p.name)) {
                    let m = meta.iter().find(|m| m.name == p.name).expect("same names");
                    let compatible = match (&p.kind, &m.kind) {
                        (Kind::Bool, MetaKind::Bool)
                        | (Kind::Int32, MetaKind::Int32)
                        | (Kind::Str, MetaKind::Str)
                        | (Kind::StringList, MetaKind::StringList)
                        | (Kind::Text, MetaKind::Enum(_))
                        | (Kind::Complex, MetaKind::Complex { .. }) => true,
                        (Kind::Enum(a), MetaKind::Enum(b)) => {
                            a.iter().copied().eq(b.iter().map(String::as_str))
                        }
                        _ => false,
                    };
                    assert!(
                        compatible,
                        "{ty:?} {version:?} {}: client {:?}, metadata {:?}",
                        p.name, p.kind, m.kind
                    );
                    // An empty collection and null are the same "unset".
                    let norm =
                        |v: Value| if v.as_array().is_some_and(|a| a.is_empty()) { Value::Null } else { v };
                    if let Some(d) = p.default_value() {
                        assert_eq!(
                            norm(d),
                            norm(m.default.clone()),
                            "{ty:?} {version:?} {}: default",
                            p.name
                        );
                    }
                }
            }
        }
    }

    /// The client's connector table names exactly the writable properties
    /// Microsoft's metadata has per version, with the same value types.
    #[test]
    fn client_connector_table_agrees_with_microsofts_metadata() {
        use mtd_model::{ConnectorValue, CONNECTOR_PROPERTIES, CONNECTOR_READ_ONLY};
        for version in [ApiVersion::V1, ApiVersion::Beta] {
            let mut theirs: Vec<&str> = connector_properties(version)
                .iter()
                .map(|p| p.name.as_str())
                .filter(|n| !CONNECTOR_READ_ONLY.contains(n))
                .collect();
            let mut ours: Vec<&str> =
                CONNECTOR_PROPERTIES.iter().filter(|p| p.since <= version).map(|p| p.name).collect();
            theirs.sort();
            ours.sort();
            assert_eq!(ours, theirs, "{version:?}");
            for p in CONNECTOR_PROPERTIES.iter().filter(|p| p.since <= version) {
                let m = connector_properties(version).iter().find(|m| m.name == p.name).expect("same names");
                let same = matches!(
                    (p.value, &m.kind),
                    (ConnectorValue::Bool, MetaKind::Bool) | (ConnectorValue::Int32, MetaKind::Int32)
                );
                assert!(same, "{version:?} {}: {:?} vs {:?}", p.name, p.value, m.kind);
            }
        }
    }

    #[test]
    fn csdl_is_read_in_value_order() {
        let csdl = parse_csdl(CSDL);
        assert_eq!(csdl.enums["deviceThreatProtectionLevel"].last().map(String::as_str), Some("notSet"));
        let p = property(PolicyType::Ios, ApiVersion::V1, "osMinimumVersion").unwrap();
        assert_eq!((p.kind, p.default), (MetaKind::Str, Value::Null));
        let b = property(PolicyType::Windows10, ApiVersion::Beta, "validOperatingSystemBuildRanges").unwrap();
        let echoed = echo(&b, serde_json::json!([{"lowestVersion": "1"}]));
        assert_eq!(echoed[0]["@odata.type"], "#microsoft.graph.operatingSystemVersionRange");
        assert!(echoed[0]["description"].is_null());
    }
}
