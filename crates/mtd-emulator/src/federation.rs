//! Secretless sign-in on the emulator: an OIDC issuer (standing in for
//! GitHub Actions, Kubernetes or any other workload identity provider), the
//! federated identity credentials an app trusts, the check Entra makes on a
//! federated client assertion, a GitHub-Actions-style token endpoint, and
//! managed identity token endpoints (App Service style and IMDS style).
//!
//! The issuer's signing key is committed to the source tree: like the demo
//! secret, it protects nothing, and a fixed key keeps `--state` files and
//! recorded tokens reproducible. Only the emulator's own issuer is trusted,
//! so no JWKS is ever fetched from elsewhere.

use std::sync::OnceLock;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{json, Value};

use super::tenant::App;
use super::token::{oauth_error, OAuthError};

const SIGNING_KEY_PEM: &str = include_str!("data/oidc-signing-key.pem");
/// The key's RSA modulus, base64url, for the JWKS.
const SIGNING_KEY_N: &str = include_str!("data/oidc-signing-key.n");
const KEY_ID: &str = "emulator-oidc-1";

/// The audience Entra expects on federated assertions.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The issuer path under the emulator's URL.
pub(crate) const ISSUER_PATH: &str = "/_emulator/oidc";

/// The issuer URL for an emulator at `base`.
pub(crate) fn issuer(base: &str) -> String {
    format!("{base}{ISSUER_PATH}")
}

fn keys() -> &'static (EncodingKey, DecodingKey) {
    static KEYS: OnceLock<(EncodingKey, DecodingKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        // Both come from constants checked by the tests; failing here is a build defect.
        let enc = EncodingKey::from_rsa_pem(SIGNING_KEY_PEM.as_bytes()).expect("embedded OIDC key");
        let dec = DecodingKey::from_rsa_components(SIGNING_KEY_N.trim(), "AQAB").expect("embedded OIDC key");
        (enc, dec)
    })
}

/// Issues a token from the emulator's issuer, valid from `nbf_offset` to
/// `exp_offset` seconds from now (negative offsets make expired tokens).
pub(crate) fn issue(base: &str, subject: &str, audience: &str, nbf_offset: i64, exp_offset: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.into());
    let claims = json!({
        "iss": issuer(base),
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now + nbf_offset,
        "exp": now + exp_offset,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    // Signing with a valid embedded RSA key cannot fail.
    jsonwebtoken::encode(&header, &claims, &keys().0).expect("signing with the embedded OIDC key")
}

/// `GET {issuer}/.well-known/openid-configuration`.
pub(crate) fn openid_configuration(base: &str) -> Value {
    let iss = issuer(base);
    json!({
        "issuer": iss,
        "jwks_uri": format!("{iss}/keys"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"],
    })
}

/// `GET {issuer}/keys`.
pub(crate) fn jwks() -> Value {
    json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID, "n": SIGNING_KEY_N.trim(), "e": "AQAB"}]})
}

/// The unverified claims of a JWT, to route it (certificate assertion or federated).
pub(crate) fn peek_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn claim<'a>(claims: &'a Value, k: &str) -> &'a str {
    claims.get(k).and_then(Value::as_str).unwrap_or("")
}

fn audiences(claims: &Value) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Checks a federated client assertion for `app` as Entra does: a federated
/// identity credential must match issuer, subject and audience exactly
/// (AADSTS70021); the issuer's key must have signed it (AADSTS50013); and
/// it must be within its validity window (AADSTS700024).
pub(crate) fn verify(app: &App, base: &str, jwt: &str) -> Result<(), OAuthError> {
    let malformed = || oauth_error("invalid_request", 50027, "JWT token is invalid or malformed.");
    let claims = peek_claims(jwt).ok_or_else(malformed)?;
    let (iss, sub) = (claim(&claims, "iss"), claim(&claims, "sub"));
    let auds = audiences(&claims);
    let matched = app
        .federated_credentials
        .iter()
        .any(|f| f.issuer == iss && f.subject == sub && auds.iter().any(|a| f.audiences.contains(a)));
    if !matched {
        return Err(oauth_error(
            "invalid_client",
            70021,
            &format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'.",
                auds.join(",")
            ),
        ));
    }
    // Only our own issuer's key is known; a record naming another issuer
    // cannot be verified here.
    let bad_signature = |reason: &str| {
        oauth_error(
            "invalid_client",
            50013,
            &format!("Assertion failed signature validation. [Reason - {reason}]"),
        )
    };
    let header_alg = jwt
        .split('.')
        .next()
        .and_then(|h| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    if header_alg != "RS256" || jwt.split('.').nth(2).is_none_or(str::is_empty) {
        return Err(bad_signature("The token is not signed with a supported algorithm."));
    }
    if iss != issuer(base) {
        return Err(bad_signature("The key was not found."));
    }
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    // Time is checked below, with Entra's own error.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims::<&str>(&[]);
    jsonwebtoken::decode::<Value>(jwt, &keys().1, &validation)
        .map_err(|e| bad_signature(&format!("The signature is invalid: {e}")))?;
    let now = chrono::Utc::now().timestamp();
    let (nbf, exp) = (
        claims.get("nbf").and_then(Value::as_i64).unwrap_or(0),
        claims.get("exp").and_then(Value::as_i64).unwrap_or(0),
    );
    // Entra allows five minutes of clock skew.
    if now + 300 < nbf || now - 300 >= exp {
        return Err(oauth_error(
            "invalid_client",
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}.",
                rfc3339(now),
                rfc3339(nbf),
                rfc3339(exp)
            ),
        ));
    }
    Ok(())
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.to_rfc3339()).unwrap_or_else(|| t.to_string())
}
