//! Graph errors: OData error bodies parsed into code, message and request-id,
//! shown to the user in one readable line.

use serde_json::Value;

use super::auth::AuthError;

/// An error from talking to Graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an OData error.
    #[error("{request}: {status} {code}: {message}{}", request_id_suffix(.request_id))]
    Api {
        /// The method and path (no query secrets): `PATCH /v1.0/…`.
        request: String,
        /// The HTTP status.
        status: u16,
        /// Graph's OData error code.
        code: String,
        /// Graph's message.
        message: String,
        /// Graph's request-id, for Microsoft support.
        request_id: Option<String>,
    },
    /// No answer (connection, TLS, timeout).
    #[error("{method} {path}: {reason}")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The path (no query secrets).
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Throttled or failing past the retry budget.
    #[error("{method} {path}: still failing after {attempts} attempts: {last}")]
    GaveUp {
        /// The HTTP method.
        method: String,
        /// The path (no query secrets).
        path: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// An answer that is not what Graph documents.
    #[error("{method} {path}: unexpected response: {reason}")]
    Decode {
        /// The HTTP method.
        method: String,
        /// The path (no query secrets).
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Sign-in failed.
    #[error("sign-in failed: {0}")]
    Auth(#[from] AuthError),
    /// The HTTPS client could not be set up.
    #[error("cannot set up HTTPS: {0}")]
    Setup(String),
    /// A URL mtdhost was given or built is not usable.
    #[error("bad URL {url}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `nextLink` pointed away from Graph: the token is never sent there.
    #[error("refusing to send the Graph token to {origin}")]
    ForeignHost {
        /// Where the link pointed.
        origin: String,
    },
    /// A collection that does not end (a `nextLink` loop).
    #[error("{request}: more than {pages} pages; giving up")]
    TooManyPages {
        /// The first page's request.
        request: String,
        /// The page limit.
        pages: usize,
    },
    /// After an interrupted create, several policies carry the name: which
    /// one the create made cannot be told.
    #[error("after an interrupted create, {} policies named '{name}' of type {type_name} exist: {}", ids.len(), ids.join(", "))]
    Ambiguous {
        /// The display name.
        name: String,
        /// The policy type's Graph name.
        type_name: &'static str,
        /// The ids of the policies with that name and type.
        ids: Vec<String>,
    },
    /// Refused before sending: what would be written breaks Intune's rules.
    #[error("{subject}: {}", join_rules(.broken))]
    Refused {
        /// What was refused.
        subject: String,
        /// The rules it breaks.
        broken: Vec<mtd_model::Rule>,
    },
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
pub(crate) fn parse_odata_error(body: &[u8]) -> Option<(String, String, Option<String>)> {
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
            request: "POST /v1.0/x".into(),
            status: 400,
            code: "BadRequest".into(),
            message: "bad".into(),
            request_id: Some("abc".into()),
        };
        assert_eq!(e.to_string(), "POST /v1.0/x: 400 BadRequest: bad (request-id abc)");
    }
}
