//! Graph errors: OData error bodies parsed into code, message and request-id,
//! shown to the user in one readable line.

use serde_json::Value;

use super::auth::AuthError;

/// An error from talking to Graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("{method} {path}: {status} {code}: {message}{}", request_id_suffix(.request_id))]
    Api {
        method: String,
        path: String,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    #[error("{method} {path}: {reason}")]
    Transport { method: String, path: String, reason: String },
    #[error("{method} {path}: still failing after {attempts} attempts: {last}")]
    GaveUp { method: String, path: String, attempts: u32, last: String },
    #[error("{method} {path}: unexpected response: {reason}")]
    Decode { method: String, path: String, reason: String },
    #[error("sign-in failed: {0}")]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Invalid(String),
    /// Refused before sending: what would be written breaks Intune's rules.
    #[error("{subject}: {}", join_rules(.broken))]
    Refused { subject: String, broken: Vec<mtd_model::Rule> },
}

fn join_rules(broken: &[mtd_model::Rule]) -> String {
    broken.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(" (request-id {id})")).unwrap_or_default()
}

impl GraphError {
    /// The OData error code, for branching (never branch on the message).
    pub fn code(&self) -> Option<&str> {
        match self {
            GraphError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
    /// The HTTP status, if Graph answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Parts of an OData error body: `{"error":{"code","message","innerError":{"request-id"}}}`.
/// Both `innerError` and `innererror` spellings occur.
pub fn parse_odata_error(body: &[u8]) -> Option<(String, String, Option<String>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    let code = e.get("code").and_then(Value::as_str).unwrap_or("unknownError").to_string();
    let message = e.get("message").and_then(Value::as_str).unwrap_or("").to_string();
    let inner = e.get("innerError").or_else(|| e.get("innererror"));
    let request_id = inner
        .and_then(|i| i.get("request-id").or_else(|| i.get("requestId")))
        .and_then(Value::as_str)
        .map(str::to_string);
    Some((code, message, request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_spellings() {
        let a = br#"{"error":{"code":"BadRequest","message":"nope","innerError":{"request-id":"r1"}}}"#;
        assert_eq!(parse_odata_error(a), Some(("BadRequest".into(), "nope".into(), Some("r1".into()))));
        let b = br#"{"error":{"code":"X","message":"m","innererror":{"request-id":"r2"}}}"#;
        assert_eq!(parse_odata_error(b).unwrap().2.as_deref(), Some("r2"));
        assert_eq!(parse_odata_error(b"<html>"), None);
    }

    #[test]
    fn one_line() {
        let e = GraphError::Api {
            method: "POST".into(),
            path: "/v1.0/x".into(),
            status: 400,
            code: "BadRequest".into(),
            message: "bad".into(),
            request_id: Some("abc".into()),
        };
        assert_eq!(e.to_string(), "POST /v1.0/x: 400 BadRequest: bad (request-id abc)");
    }
}
