//! Splitting raw partner exports into records.
//!
//! Partners export threats as one JSON document, a JSON array, or JSON Lines
//! (one document per line, as webhooks and log pipelines write them). Plugins
//! get the raw text and call [`records`] to walk it; a malformed record becomes
//! an error carrying its record number and line instead of failing the batch.

use serde_json::Value;

use crate::{Diagnostic, EventBatch, ThreatRecord};

/// One record of a raw export.
#[derive(Debug)]
pub struct RawRecord {
    /// 1-based number of the record in the whole input (see `EventBatch::first_record`).
    pub number: u64,
    /// 1-based line of the record within this batch's text.
    pub line: u64,
    /// The parsed document, or why it could not be parsed.
    pub value: Result<Value, String>,
}

impl RawRecord {
    /// "record 17 (line 17)", for diagnostics.
    pub fn location(&self) -> String {
        format!("record {} (line {})", self.number, self.line)
    }
}

/// Splits `raw` into records numbered from `first_record`.
///
/// A top-level array yields its elements; any other single document yields
/// itself; text that is not one document is read as JSON Lines.
pub fn records(raw: &str, first_record: u64) -> Vec<RawRecord> {
    let trimmed = raw.trim_start();
    if trimmed.is_empty() {
        return Vec::new();
    }
    let offset_lines = (raw.len() - trimmed.len()) as u64;
    let leading_newlines = raw[..offset_lines as usize].matches('\n').count() as u64;
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| RawRecord {
                number: first_record + i as u64,
                line: leading_newlines + 1,
                value: Ok(v),
            })
            .collect(),
        Ok(doc) => vec![RawRecord { number: first_record, line: leading_newlines + 1, value: Ok(doc) }],
        Err(whole) if trimmed.starts_with('[') && !looks_like_lines(trimmed) => vec![RawRecord {
            number: first_record,
            line: leading_newlines + whole.line() as u64,
            value: Err(format!("the JSON array is malformed: {whole}")),
        }],
        Err(_) => json_lines(raw, first_record),
    }
}

fn looks_like_lines(text: &str) -> bool {
    text.lines().filter(|l| !l.trim().is_empty()).count() > 1
        && text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('{') || l.starts_with('[')
        })
}

/// JSON Lines, and the Server-Sent Events framing of Lookout's v2 stream
/// (`event:events` then `data:{"events":[…]}`; `id:`, `retry:` and `:` comment
/// lines; heartbeats). Every non-empty line keeps its own record number, as
/// the host counts lines, so framing lines use a number and yield nothing.
fn json_lines(raw: &str, first_record: u64) -> Vec<RawRecord> {
    let mut out = Vec::new();
    let mut number = first_record;
    let mut event = String::new();
    // A `data:` payload split over several lines (SSE allows it).
    let mut pending: Option<(u64, u64, String)> = None;
    for (idx, line) in raw.lines().enumerate() {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let this = (number, idx as u64 + 1);
        number += 1;
        if let Some(data) = text.strip_prefix("data:") {
            if is_framing_only(&event) {
                continue;
            }
            let (n, l, mut buf) = pending.take().unwrap_or((this.0, this.1, String::new()));
            if !buf.is_empty() {
                buf.push('\n');
            }
            buf.push_str(data.trim());
            if buf.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(&buf) {
                Ok(v) => out.push(RawRecord { number: n, line: l, value: Ok(v) }),
                Err(_) => pending = Some((n, l, buf)),
            }
            continue;
        }
        if let Some((n, l, buf)) = pending.take() {
            out.push(unparsable(n, l, &buf));
        }
        if let Some(name) = text.strip_prefix("event:") {
            event = name.trim().to_ascii_lowercase();
            continue;
        }
        if text.starts_with(':') || text.starts_with("id:") || text.starts_with("retry:") {
            continue;
        }
        let value = serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}"));
        out.push(RawRecord { number: this.0, line: this.1, value });
    }
    if let Some((n, l, buf)) = pending {
        out.push(unparsable(n, l, &buf));
    }
    out
}

fn unparsable(number: u64, line: u64, data: &str) -> RawRecord {
    let value = serde_json::from_str::<Value>(data).map(|_| Value::Null);
    let reason = value.err().map_or_else(String::new, |e| e.to_string());
    RawRecord { number, line, value: Err(format!("the event-stream data is not valid JSON: {reason}")) }
}

/// SSE events that carry no records: keep-alives and stream control.
fn is_framing_only(event: &str) -> bool {
    matches!(event, "heartbeat" | "ping" | "keepalive" | "reconnect" | "end")
}

/// Reads a string field, trying several spellings (partners renamed fields
/// between API versions). Paths use [`lookup`]'s syntax.
pub fn str_field<'a>(value: &'a Value, paths: &[&str]) -> Option<&'a str> {
    paths.iter().find_map(|p| lookup(value, p).and_then(Value::as_str))
}

/// Like [`str_field`], but numbers and booleans are returned as text too
/// (ids are strings in one export and integers in another). `null` and
/// empty text count as absent.
pub fn text_field(value: &Value, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| scalar_text(lookup(value, p)?))
}

/// A scalar as text; `None` for null, empty text, objects and lists.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Follows a path into nested objects. Segments are separated by dots; a
/// numeric segment indexes a list; `*` tries every element of a list (the
/// first that has the rest of the path wins); `key[field=value]` takes the
/// child `key` only if its `field` equals `value` (case-insensitive) — or,
/// for a list, its first element that does. A bracketed field may contain
/// dots: `evidence[@odata.type=#microsoft.graph.security.deviceEvidence].mdeDeviceId`.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    walk(value, path)
}

/// Splits off the first segment at a dot outside brackets (no allocation:
/// this runs for every field of every record).
fn first_segment(path: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => return (&path[..i], Some(&path[i + 1..])),
            _ => {}
        }
    }
    (path, None)
}

fn walk<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let (first, rest) = first_segment(path);
    let next = |v: &'a Value| match rest {
        Some(r) => walk(v, r),
        None => Some(v).filter(|v| !v.is_null()),
    };
    if first == "*" {
        return value.as_array()?.iter().find_map(next);
    }
    let (key, filter) = match first.split_once('[') {
        Some((k, f)) => (k, f.strip_suffix(']').and_then(|f| f.split_once('='))),
        None => (first, None),
    };
    let child = match (value, key.parse::<usize>()) {
        (Value::Array(items), Ok(i)) => items.get(i)?,
        _ => value.get(key)?,
    };
    let Some((field, want)) = filter else {
        return next(child);
    };
    let matches =
        |v: &Value| v.get(field).and_then(scalar_text).is_some_and(|t| t.eq_ignore_ascii_case(want));
    match child {
        Value::Array(items) => items.iter().filter(|i| matches(i)).find_map(next),
        other if matches(other) => next(other),
        _ => None,
    }
}

/// The batch's structured records plus the records of its raw text read in
/// the generic shape: `device_id` (or `deviceId`), `threat_id` (or `id`;
/// default "record N"), `classification` (or `type`), `severity`, `status`
/// (default DETECTED), `detected_at`. Partner plugins parse their own formats;
/// this shape is for simple partners and for testing.
pub fn generic_records(batch: &EventBatch) -> (Vec<ThreatRecord>, Vec<Diagnostic>) {
    let mut out = batch.records.clone();
    let mut diags = Vec::new();
    let raw = batch.raw.as_deref().unwrap_or("");
    for rec in records(raw, batch.first_record) {
        let location = rec.location();
        let value = match rec.value {
            Ok(Value::Object(map)) => Value::Object(map),
            Ok(_) => {
                diags.push(Diagnostic::error(location, "expected a JSON object"));
                continue;
            }
            Err(e) => {
                diags.push(Diagnostic::error(location, e));
                continue;
            }
        };
        let (Some(device), Some(severity)) =
            (text_field(&value, &["device_id", "deviceId"]), text_field(&value, &["severity"]))
        else {
            diags.push(Diagnostic::error(location.clone(), "needs device_id and severity"));
            continue;
        };
        out.push(ThreatRecord {
            device_id: device,
            threat_id: text_field(&value, &["threat_id", "id"])
                .unwrap_or_else(|| format!("record {}", rec.number)),
            classification: text_field(&value, &["classification", "type"]).unwrap_or_default(),
            severity,
            status: text_field(&value, &["status"]).unwrap_or_else(|| "DETECTED".into()),
            detected_at: text_field(&value, &["detected_at", "detectedAt"]),
        });
    }
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_document_and_lines() {
        let arr = records(r#"[{"a":1},{"a":2}]"#, 10);
        assert_eq!(arr.len(), 2);
        assert_eq!(arr[1].number, 11);

        let one = records(r#"{"a":1}"#, 1);
        assert_eq!(one.len(), 1);

        let lines = records("{\"a\":1}\n\n{broken\n{\"a\":3}\n", 1);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].number, 2);
        assert_eq!(lines[1].line, 3);
        assert!(lines[1].value.is_err());
        assert!(lines[2].value.is_ok());
    }

    #[test]
    fn server_sent_events() {
        let raw = "event:events\nid:7\ndata:{\"events\":[{\"a\":1}]}\n\n: comment\nevent:heartbeat\ndata:\nevent:events\ndata:{\"events\":\ndata:[]}\ndata:{broken\n";
        let r = records(raw, 1);
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!((r[0].number, r[0].line), (3, 3));
        assert!(r[0].value.as_ref().is_ok_and(|v| v["events"][0]["a"] == 1));
        assert_eq!(r[1].number, 8, "a payload over two data lines is one record");
        assert!(r[1].value.is_ok());
        assert!(r[2].value.as_ref().unwrap_err().contains("event-stream data"));
    }

    #[test]
    fn broken_array_is_one_error() {
        let r = records("[{\"a\":1},", 1);
        assert_eq!(r.len(), 1);
        assert!(r[0].value.as_ref().unwrap_err().contains("malformed"));
    }

    #[test]
    fn generic_shape() {
        let batch =
            EventBatch::from_raw("{\"device_id\":\"d\",\"severity\":\"low\"}\n{\"severity\":1}\nnope\n");
        let (recs, diags) = generic_records(&batch);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].threat_id, "record 1");
        assert_eq!(diags.len(), 2);
        assert!(diags[0].path.starts_with("record 2"));
    }

    #[test]
    fn fields() {
        let v: Value =
            serde_json::json!({"details": {"securityStatus": "SECURE"}, "severity": 3, "n": null, "e": " "});
        assert_eq!(str_field(&v, &["x", "details.securityStatus"]), Some("SECURE"));
        assert_eq!(text_field(&v, &["severity"]).as_deref(), Some("3"));
        assert_eq!(text_field(&v, &["n", "e"]), None, "null and blank are absent");
    }

    #[test]
    fn wildcards_and_filters() {
        let v: Value = serde_json::json!({
            "evidence": [
                {"@odata.type": "#microsoft.graph.security.userEvidence", "userAccount": {}},
                {"@odata.type": "#microsoft.graph.security.deviceEvidence", "mdeDeviceId": "m1"},
            ],
            "actor": {"type": "DEVICE", "guid": "d"},
            "target": {"type": "THREAT", "guid": "t"},
        });
        assert_eq!(
            str_field(&v, &["evidence[@odata.type=#microsoft.graph.security.deviceEvidence].mdeDeviceId"]),
            Some("m1")
        );
        assert_eq!(str_field(&v, &["evidence.*.mdeDeviceId"]), Some("m1"));
        assert_eq!(str_field(&v, &["actor[type=device].guid"]), Some("d"));
        assert_eq!(str_field(&v, &["target[type=DEVICE].guid"]), None);
    }
}
