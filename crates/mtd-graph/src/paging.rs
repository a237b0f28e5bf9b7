//! Reading collections: every page, in Graph's order. The next page is
//! asked for as soon as a quick scan of the current one finds its
//! `@odata.nextLink` — before the current page is parsed — so the next
//! round trip starts without waiting for the parse.

use serde_json::value::RawValue;
use serde_json::Value;

use super::client::{json_body, no_value, GraphClient, MAX_PAGES};
use super::error::GraphError;

impl GraphClient {
    /// GETs a collection, following every `@odata.nextLink` to the end.
    pub async fn get_all(&self, url: &str) -> Result<Vec<Value>, GraphError> {
        self.get_pages(url, Ok).await
    }

    /// GETs a collection page by page, turning each item into a `T` as its
    /// page arrives, so a large tenant is never held twice (as JSON and as
    /// `T`) in memory. The next page is asked for as soon as its link is
    /// known — found by a quick scan of the answer — before the current page
    /// is parsed; items stay in Graph's order. An error in either stops at
    /// once.
    pub async fn get_pages<T>(
        &self,
        url: &str,
        mut item: impl FnMut(Value) -> Result<T, GraphError>,
    ) -> Result<Vec<T>, GraphError> {
        // Pages are kept apart until the end and then moved into a list of
        // exactly their length: a list grown by doubling would, at 5,000
        // policies, hold 8,192 slots and briefly both its old and new
        // buffers — megabytes no freed small allocation can serve.
        let mut pages_read: Vec<Vec<T>> = Vec::new();
        let mut current = (url.to_string(), self.get_bytes(url).await?);
        let mut pages = 1;
        loop {
            let (u, bytes) = current;
            let next = next_link(&bytes).map_err(|reason| GraphError::Decode {
                method: "GET".into(),
                path: Self::shown(&u),
                reason,
            })?;
            if next.is_some() {
                pages += 1;
                if pages > MAX_PAGES {
                    return Err(GraphError::TooManyPages {
                        request: format!("GET {}", Self::shown(url)),
                        pages: MAX_PAGES,
                    });
                }
            }
            let fetch = async {
                match &next {
                    Some(n) => self.get_bytes(n).await.map(Some),
                    None => Ok(None),
                }
            };
            // The next request is started first (try_join! polls in order),
            // then the page is parsed on this task. Parsing on the blocking
            // pool instead measured slower on 2 cores, where it competes with
            // everything else, and grew the heap by a fifth (BENCHMARKS.md).
            let decode =
                |reason: String| GraphError::Decode { method: "GET".into(), path: Self::shown(&u), reason };
            let parse = async {
                match page_items(&bytes) {
                    Ok(items) => Ok(items),
                    Err(PageError::NoValue) => Err(no_value(&u)),
                    Err(PageError::NotJson(reason)) => Err(decode(reason)),
                }
            };
            let (fetched, items) = tokio::try_join!(fetch, parse)?;
            // Item by item: a page of a hundred large policies never exists
            // as one JSON tree, and each item's tree is freed before the next
            // is built (the same few kilobytes, reused).
            let mut page = Vec::with_capacity(items.len());
            for raw in items {
                let v: Value =
                    serde_json::from_str(raw.get()).map_err(|e| decode(format!("body is not JSON: {e}")))?;
                page.push(item(v)?);
            }
            pages_read.push(page);
            match (next, fetched) {
                (Some(n), Some(b)) => current = (n, b),
                _ => {
                    let mut out = Vec::with_capacity(pages_read.iter().map(Vec::len).sum());
                    for page in pages_read {
                        out.extend(page);
                    }
                    return Ok(out);
                }
            }
        }
    }
}

/// Why a page's items could not be found.
enum PageError {
    /// The body is not JSON.
    NotJson(String),
    /// JSON, but not an object with a `value` array.
    NoValue,
}

/// The items of a collection page, each still its JSON text.
fn page_items(bytes: &[u8]) -> Result<Vec<&RawValue>, PageError> {
    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(borrow)]
        value: Option<&'a RawValue>,
    }
    let page = match serde_json::from_slice::<Page<'_>>(bytes) {
        Ok(page) => page,
        // Not an object (or not JSON at all): the whole-body reading says which.
        Err(e) => {
            return Err(match json_body(bytes) {
                Err(reason) => PageError::NotJson(reason),
                Ok(Value::Object(_)) => PageError::NotJson(format!("body is not JSON: {e}")),
                Ok(_) => PageError::NoValue,
            })
        }
    };
    match page.value {
        Some(raw) if raw.get().starts_with('[') => {
            serde_json::from_str(raw.get()).map_err(|e| PageError::NotJson(format!("body is not JSON: {e}")))
        }
        _ => Err(PageError::NoValue),
    }
}

/// The `@odata.nextLink` of a collection page, scanning past everything
/// else without building it. Anything but a JSON object has none (and is
/// refused when the page is decoded).
fn next_link(bytes: &[u8]) -> Result<Option<String>, String> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "@odata.nextLink")]
        next: Option<String>,
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Ok(None);
    }
    serde_json::from_slice::<Head>(bytes).map(|h| h.next).map_err(|e| format!("body is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_only_in_an_object() {
        let page = br#"{"value":[{"id":"1","displayName":"O'Brien & \"R&D\""}],"@odata.nextLink":"https://graph.microsoft.com/beta/x?$skiptoken=1"}"#;
        assert_eq!(
            next_link(page).unwrap().as_deref(),
            Some("https://graph.microsoft.com/beta/x?$skiptoken=1")
        );
        assert_eq!(next_link(br#"{"value":[],"@odata.nextLink":null}"#).unwrap(), None);
        assert_eq!(next_link(br#"["https://elsewhere"]"#).unwrap(), None, "an array has no next link");
        assert_eq!(next_link(b"").unwrap(), None);
        assert!(next_link(b"{\"value\": [").is_err(), "a cut-off page is an error");
    }

    #[test]
    fn items_are_found_in_a_value_array_only() {
        let page = br#"{"@odata.context":"x","value":[{"id":"1","displayName":"O'Brien & \"R&D\""}, {"id":"2","n":null}]}"#;
        let items = page_items(page).ok().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            serde_json::from_str::<Value>(items[0].get()).unwrap()["displayName"],
            "O'Brien & \"R&D\""
        );
        assert!(page_items(br#"{"value":[]}"#).ok().unwrap().is_empty());
        for no_value in [
            &br#"{"value":null}"#[..],
            br#"{"value":{"id":"1"}}"#,
            br#"{"items":[]}"#,
            br#"[{"id":"1"}]"#,
            b"",
        ] {
            assert!(
                matches!(page_items(no_value), Err(PageError::NoValue)),
                "{}",
                String::from_utf8_lossy(no_value)
            );
        }
        for broken in [&b"{\"value\": ["[..], b"{\"value\": [1,]}", b"<html>"] {
            assert!(
                matches!(page_items(broken), Err(PageError::NotJson(_))),
                "{}",
                String::from_utf8_lossy(broken)
            );
        }
    }
}
