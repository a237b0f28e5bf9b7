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

fn json_lines(raw: &str, first_record: u64) -> Vec<RawRecord> {
    let mut out = Vec::new();
    let mut number = first_record;
    for (idx, line) in raw.lines().enumerate() {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let value = serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}"));
        out.push(RawRecord { number, line: idx as u64 + 1, value });
        number += 1;
    }
    out
}

/// Reads a string field, trying several spellings (partners renamed fields
/// between API versions). Nested fields use dots: `details.securityStatus`.
pub fn str_field<'a>(value: &'a Value, paths: &[&str]) -> Option<&'a str> {
    paths.iter().find_map(|p| lookup(value, p).and_then(Value::as_str))
}

/// Like [`str_field`], but numbers are returned as text too.
pub fn text_field(value: &Value, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| match lookup(value, p)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// Follows a dotted path into nested objects.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| match (v, key.parse::<usize>()) {
        (Value::Array(items), Ok(i)) => items.get(i),
        _ => v.get(key),
    })
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
        let v: Value = serde_json::json!({"details": {"securityStatus": "SECURE"}, "severity": 3});
        assert_eq!(str_field(&v, &["x", "details.securityStatus"]), Some("SECURE"));
        assert_eq!(text_field(&v, &["severity"]).as_deref(), Some("3"));
    }
}
