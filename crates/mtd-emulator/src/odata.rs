//! OData plumbing for the emulator: replies, error bodies with request-id,
//! query options, `$filter` (the subset Intune accepts) and paging.

use std::collections::HashMap;

use serde_json::{json, Value};

/// A reply to one Graph request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    /// A body already serialised (large pages), sent as is.
    pub raw: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Reply { status, body: Some(body), raw: None, headers: Vec::new() }
    }
    pub(crate) fn empty(status: u16) -> Self {
        Reply { status, body: None, raw: None, headers: Vec::new() }
    }
    /// The body as a `Value` (for a `$batch` answer), however it was made.
    pub(crate) fn body_value(&self) -> Option<Value> {
        match (&self.body, &self.raw) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(raw)) => serde_json::from_str(raw).ok(),
            (None, None) => None,
        }
    }
    pub(crate) fn with_header(mut self, k: &str, v: String) -> Self {
        self.headers.push((k.to_string(), v));
        self
    }
}

/// An OData error with a fresh request-id, in Graph's shape.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Reply {
    let request_id = uuid::Uuid::new_v4().to_string();
    Reply::json(
        status,
        json!({"error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": request_id,
                "client-request-id": request_id,
            }
        }}),
    )
    .with_header("request-id", request_id)
}

pub(crate) fn bad_request(message: &str) -> Reply {
    error(400, "BadRequest", message)
}

pub(crate) fn not_found(what: &str) -> Reply {
    error(404, "ResourceNotFound", &format!("{what} was not found."))
}

/// Parsed query options (`$filter`, `$expand`, `$skiptoken`, `$top`, …).
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pub params: HashMap<String, String>,
    pub raw: String,
}

impl Query {
    pub(crate) fn parse(raw: &str) -> Self {
        Query {
            params: url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect(),
            raw: raw.to_string(),
        }
    }
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.params.get(k).map(String::as_str)
    }
    /// True if `$expand` names `nav` (at top level).
    pub(crate) fn expands(&self, nav: &str) -> bool {
        self.get("$expand")
            .is_some_and(|e| top_level_items(e).iter().any(|i| i.split('(').next() == Some(nav)))
    }
    /// True if the `$expand` of `nav` itself expands `inner`.
    pub(crate) fn expands_nested(&self, nav: &str, inner: &str) -> bool {
        self.get("$expand").is_some_and(|e| {
            top_level_items(e)
                .iter()
                .filter(|i| i.starts_with(nav))
                .any(|i| i.contains(&format!("$expand={inner}")))
        })
    }
}

fn top_level_items(expand: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in expand.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        items.push(cur.trim().to_string());
    }
    items
}

/// One `$filter` condition Intune accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    Eq { property: String, value: String },
    IsOf(String),
}

/// Parses `displayName eq 'X'`, `isof('microsoft.graph.T')` and `and` of those.
/// Functions Intune rejects (startswith, contains, …) are refused the same way.
pub(crate) fn parse_filter(filter: &str) -> Result<Vec<Condition>, String> {
    let mut out = Vec::new();
    for part in split_and(filter) {
        let p = part.trim();
        if let Some(rest) = p.strip_prefix("isof(") {
            let inner = rest.strip_suffix(')').ok_or("unbalanced isof(")?;
            out.push(Condition::IsOf(unquote(inner.trim()).ok_or("isof needs a quoted type name")?));
            continue;
        }
        let mut words = p.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some(prop), Some("eq"), Some(lit)) if prop.chars().all(|c| c.is_ascii_alphanumeric()) => {
                out.push(Condition::Eq {
                    property: prop.to_string(),
                    value: unquote(lit.trim()).ok_or("eq needs a quoted string")?,
                });
            }
            _ => return Err(format!("Invalid filter clause: '{p}' is not supported")),
        }
    }
    Ok(out)
}

fn split_and(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let (mut parts, mut start, mut in_quote, mut i) = (Vec::new(), 0, false, 0);
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            in_quote = !in_quote;
        } else if !in_quote && bytes[i..].starts_with(b" and ") {
            parts.push(&s[start..i]);
            i += 5;
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

fn unquote(lit: &str) -> Option<String> {
    let inner = lit.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// Checks an entity against conditions.
pub(crate) fn matches(entity: &Value, conds: &[Condition]) -> bool {
    conds.iter().all(|c| match c {
        Condition::Eq { property, value } => {
            entity.get(property).and_then(Value::as_str) == Some(value.as_str())
        }
        Condition::IsOf(t) => {
            let want = t.trim_start_matches('#');
            entity.get("@odata.type").and_then(Value::as_str).map(|s| s.trim_start_matches('#')) == Some(want)
        }
    })
}

/// Which slice of a collection a request asks for: `(skip, size, top given)`.
pub(crate) fn page_bounds(query: &Query, page_size: usize) -> Result<(usize, usize, bool), Reply> {
    let skip: usize = match query.get("$skiptoken") {
        Some(t) => t.parse().map_err(|_| bad_request("The skip token is not valid."))?,
        None => 0,
    };
    let top = match query.get("$top") {
        Some(t) => Some(t.parse::<usize>().map_err(|_| bad_request("Invalid value for $top."))?),
        None => None,
    };
    Ok((skip, top.unwrap_or(page_size).min(page_size).max(1), top.is_some()))
}

/// One page of `items`, with a full `@odata.nextLink` when more remain.
pub(crate) fn page(
    items: Vec<Value>,
    query: &Query,
    self_url: &str,
    page_size: usize,
) -> Result<Value, Reply> {
    let total = items.len();
    let (skip, size, _) = page_bounds(query, page_size)?;
    let slice: Vec<Value> = items.into_iter().skip(skip).take(size).collect();
    page_of(slice, total, query, self_url, page_size)
}

/// One page of `items`, with a full `@odata.nextLink` when more remain.
fn page_of(
    slice: Vec<Value>,
    total: usize,
    query: &Query,
    self_url: &str,
    page_size: usize,
) -> Result<Value, Reply> {
    let (skip, size, top) = page_bounds(query, page_size)?;
    let next = (skip + size < total && !top).then_some(skip + size);
    Ok(page_at(slice, next, query, self_url))
}

/// A page body for `slice`, with a next link whose skip token is `next`.
pub(crate) fn page_at(slice: Vec<Value>, next: Option<usize>, query: &Query, self_url: &str) -> Value {
    let mut body = json!({ "value": slice });
    if let Some(next) = next {
        body["@odata.nextLink"] = Value::String(next_link(next, query, self_url));
    }
    body
}

/// [`page_at`] serialised straight from `slice` (no JSON tree is built).
pub(crate) fn page_raw<T: serde::Serialize>(
    slice: &[T],
    next: Option<usize>,
    query: &Query,
    self_url: &str,
) -> Reply {
    #[derive(serde::Serialize)]
    struct Page<'a, T> {
        value: &'a [T],
        #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    }
    let page = Page { value: slice, next: next.map(|n| next_link(n, query, self_url)) };
    match serde_json::to_string(&page) {
        Ok(raw) => Reply { status: 200, body: None, raw: Some(raw), headers: Vec::new() },
        Err(e) => error(500, "InternalServerError", &format!("cannot render the page: {e}")),
    }
}

/// The next link: the same query with the skip token at `next`.
fn next_link(next: usize, query: &Query, self_url: &str) -> String {
    let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.raw.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "$skiptoken")
        .collect();
    params.push(("$skiptoken".into(), next.to_string()));
    let qs = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("{self_url}?{qs}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert_eq!(
            parse_filter("displayName eq 'O''Brien and co' and isof('microsoft.graph.iosCompliancePolicy')")
                .unwrap(),
            vec![
                Condition::Eq { property: "displayName".into(), value: "O'Brien and co".into() },
                Condition::IsOf("microsoft.graph.iosCompliancePolicy".into())
            ]
        );
        assert!(parse_filter("startswith(displayName,'x')").is_err());
    }

    #[test]
    fn expands() {
        let q = Query::parse(
            "$expand=scheduledActionsForRule($expand=scheduledActionConfigurations),assignments",
        );
        assert!(q.expands("scheduledActionsForRule"));
        assert!(q.expands("assignments"));
        assert!(q.expands_nested("scheduledActionsForRule", "scheduledActionConfigurations"));
        assert!(!Query::parse("$expand=scheduledActionsForRule")
            .expands_nested("scheduledActionsForRule", "scheduledActionConfigurations"));
    }
}
