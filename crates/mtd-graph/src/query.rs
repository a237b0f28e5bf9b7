//! The one place Graph URLs are built. Path segments and query values are
//! percent-encoded with the `url` crate, so a name holding `&`, `#`, `+`,
//! `%`, `'` or non-ASCII text stays one value: a hand-built query splits at
//! an unescaped `&` and Graph answers 400.
//!
//! OData string literals double a single quote (`O'Brien` → `'O''Brien'`);
//! that happens in [`odata_string`], before URL encoding, because the two
//! escapes belong to different layers.

use url::Url;

use super::error::GraphError;

/// An OData string literal: quoted, with `'` doubled.
pub(crate) fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `displayName eq '…'`, the filter Intune and Entra both accept.
pub(crate) fn display_name_eq(name: &str) -> String {
    format!("displayName eq {}", odata_string(name))
}

/// Percent-encodes one query value. Spaces become `%20`, never `+`: some
/// servers read `+` in a query as a space, others as a plus.
fn encode_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Builds `{root}/{segments…}?{query}`; `root` is the version root
/// (`https://graph.microsoft.com/v1.0`). Query keys are OData's own
/// (`$filter`, `$select`, …) and are written as they are.
pub(crate) fn build(root: &str, segments: &[&str], query: &[(&str, &str)]) -> Result<String, GraphError> {
    let mut url =
        Url::parse(root).map_err(|e| GraphError::BadUrl { url: root.to_string(), reason: e.to_string() })?;
    {
        let mut path = url.path_segments_mut().map_err(|()| GraphError::BadUrl {
            url: root.to_string(),
            reason: "it cannot take a path".into(),
        })?;
        path.pop_if_empty();
        for s in segments {
            path.push(s);
        }
    }
    if !query.is_empty() {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", encode_value(v))).collect();
        url.set_query(Some(&q.join("&")));
    }
    Ok(url.to_string())
}

/// A path and query relative to a version root, for `$batch` items.
pub(crate) fn relative(segments: &[&str], query: &[(&str, &str)]) -> Result<String, GraphError> {
    let full = build("http://graph.invalid/v", segments, query)?;
    Ok(full.trim_start_matches("http://graph.invalid/v").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_value() {
        let name = "R&D #1 + 100% O'Brien Zürich";
        let u =
            build("https://graph.microsoft.com/v1.0", &["groups"], &[("$filter", &display_name_eq(name))])
                .unwrap();
        let parsed = Url::parse(&u).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![("$filter".to_string(), "displayName eq 'R&D #1 + 100% O''Brien Zürich'".to_string())]
        );
        assert!(!u.contains(' ') && !u.contains('#'), "{u}");
    }

    #[test]
    fn segments_are_escaped() {
        let u = build("http://127.0.0.1:1/beta", &["groups", "a/b?c"], &[]).unwrap();
        assert_eq!(u, "http://127.0.0.1:1/beta/groups/a%2Fb%3Fc");
    }
}
