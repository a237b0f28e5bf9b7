//! The emulated Microsoft identity platform: the v2.0 token and device code
//! endpoints. Tokens it issues are opaque random strings it remembers; Graph
//! routes accept only those, unexpired.
//!
//! Client assertions are verified like Entra does: the header's `x5t#S256`
//! (or SHA-1 `x5t`) picks a registered certificate, the signature must verify
//! with its key (PS256 or RS256), `aud` must be this token URL, `iss` and
//! `sub` the client id, and the token must be within its validity window.
//! Assertions issued by someone else are federated credentials, checked in
//! [`super::federation`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::tenant::{App, Tenant};

/// An issued token.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub client_id: String,
    /// The signed-in user's object id for a delegated token; none for an
    /// app-only one.
    pub user: Option<String>,
    pub expires: Instant,
}

/// A pending device code.
#[derive(Debug, Clone)]
pub(crate) struct DeviceCode {
    pub client_id: String,
    /// Whether the sign-in asked `offline_access` (Entra then issues a refresh token).
    pub offline: bool,
    pub user_code: String,
    pub state: DeviceCodeState,
    pub expires: Instant,
    pub last_poll: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceCodeState {
    Pending,
    Approved,
    Declined,
}

/// Token service state.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub lifetime: Duration,
    pub access: HashMap<String, Issued>,
    /// Refresh token → (client id, user).
    pub refresh: HashMap<String, (String, Option<String>)>,
    pub device_codes: HashMap<String, DeviceCode>,
    /// Seconds between polls the client is told to wait.
    pub device_interval: u64,
}

/// An OAuth error answer: (status, body).
pub(crate) type OAuthError = (u16, Value);

pub(crate) fn oauth_error(error: &str, code: u32, description: &str) -> OAuthError {
    (
        if error == "invalid_client" { 401 } else { 400 },
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "trace_id": uuid::Uuid::new_v4().to_string(),
            "correlation_id": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

impl Tokens {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Tokens { lifetime, device_interval: 1, ..Tokens::default() }
    }

    /// The client id behind a bearer token, if it is ours and unexpired.
    pub(crate) fn validate(&self, bearer: &str) -> Option<&str> {
        self.access.get(bearer).filter(|t| t.expires > Instant::now()).map(|t| t.client_id.as_str())
    }

    /// The signed-in user behind a delegated bearer token.
    pub(crate) fn user_of(&self, bearer: &str) -> Option<String> {
        self.access.get(bearer).and_then(|t| t.user.clone())
    }

    pub(crate) fn issue(&mut self, client_id: &str, with_refresh: bool) -> Value {
        self.issue_for(client_id, None, with_refresh)
    }

    /// A token for `client_id`, delegated when `user` is set.
    pub(crate) fn issue_for(&mut self, client_id: &str, user: Option<&str>, with_refresh: bool) -> Value {
        let token = random_token("emu.");
        self.access.insert(
            token.clone(),
            Issued {
                client_id: client_id.to_string(),
                user: user.map(str::to_string),
                expires: Instant::now() + self.lifetime,
            },
        );
        let mut body = json!({
            "token_type": "Bearer",
            "expires_in": self.lifetime.as_secs(),
            "ext_expires_in": self.lifetime.as_secs(),
            "access_token": token,
        });
        if with_refresh {
            let rt = random_token("emurt.");
            self.refresh.insert(rt.clone(), (client_id.to_string(), user.map(str::to_string)));
            body["refresh_token"] = Value::String(rt);
        }
        body
    }

    /// POST {tenant}/oauth2/v2.0/token; `base` is the emulator's URL.
    pub(crate) fn token(
        &mut self,
        tenant: &Tenant,
        base: &str,
        token_url: &str,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        let client_id = get("client_id");
        match get("grant_type") {
            "client_credentials" => {
                if !get("scope").ends_with("/.default") {
                    return Err(oauth_error("invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."));
                }
                let app = tenant.app(client_id).ok_or_else(|| unknown_app(client_id))?;
                client_credentials(app, base, token_url, &get)?;
                Ok(self.issue(client_id, false))
            }
            "urn:ietf:params:oauth:grant-type:device_code" => {
                self.redeem_device_code(get("device_code"), client_id)
            }
            "refresh_token" => {
                let rt = get("refresh_token");
                match self.refresh.get(rt) {
                    Some((c, user)) if c == client_id => {
                        let (client, user) = (c.clone(), user.clone());
                        self.refresh.remove(rt);
                        Ok(self.issue_for(&client, user.as_deref(), true))
                    }
                    _ => Err(oauth_error(
                        "invalid_grant",
                        9002313,
                        "Invalid request. Request is malformed or invalid.",
                    )),
                }
            }
            "" => Err(oauth_error(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )),
            other => Err(oauth_error(
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            )),
        }
    }

    /// The device code grant: pending (or polled too fast), declined, or a token.
    fn redeem_device_code(&mut self, code: &str, client_id: &str) -> Result<Value, OAuthError> {
        let Some(dc) = self.device_codes.get_mut(code) else {
            return Err(oauth_error(
                "bad_verification_code",
                70000,
                "The provided device code is not valid.",
            ));
        };
        if dc.client_id != client_id {
            return Err(oauth_error("invalid_grant", 70000, "The device code was issued to another client."));
        }
        if Instant::now() > dc.expires {
            return Err(oauth_error(
                "expired_token",
                70020,
                "The provided authorization code or refresh token has expired.",
            ));
        }
        match dc.state {
            DeviceCodeState::Pending => {
                let now = Instant::now();
                let too_fast = dc.last_poll.is_some_and(|t| {
                    now.duration_since(t) < Duration::from_millis(self.device_interval * 500)
                });
                dc.last_poll = Some(now);
                if too_fast {
                    Err(oauth_error("slow_down", 70016, "Polling too fast."))
                } else {
                    Err(oauth_error(
                        "authorization_pending",
                        70016,
                        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                    ))
                }
            }
            DeviceCodeState::Declined => {
                self.device_codes.remove(code);
                Err(oauth_error(
                    "authorization_declined",
                    70019,
                    "The end user denied the authorization request.",
                ))
            }
            DeviceCodeState::Approved => {
                let (client, offline) = (dc.client_id.clone(), dc.offline);
                self.device_codes.remove(code);
                // The device code flow signs a person in: the demo admin.
                Ok(self.issue_for(&client, Some(super::tenant::DEMO_ADMIN), offline))
            }
        }
    }

    /// POST {tenant}/oauth2/v2.0/devicecode.
    pub(crate) fn device_code(
        &mut self,
        tenant: &Tenant,
        base_url: &str,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
        let app = tenant.app(client_id).ok_or_else(|| unknown_app(client_id))?;
        if !app.public_client {
            return Err(oauth_error("invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."));
        }
        let device_code = random_token("emudc.");
        let n: u32 = rand::random_range(0..100_000_000);
        let user_code = format!("EMU{n:08}");
        self.device_codes.insert(
            device_code.clone(),
            DeviceCode {
                client_id: client_id.into(),
                offline: form
                    .get("scope")
                    .is_some_and(|s| s.split_whitespace().any(|x| x == "offline_access")),
                user_code: user_code.clone(),
                state: DeviceCodeState::Pending,
                expires: Instant::now() + Duration::from_secs(900),
                last_poll: None,
            },
        );
        let uri = format!("{base_url}/_emulator/device");
        Ok(json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": 900,
            "interval": self.device_interval,
            "message": format!("To sign in to the emulator, open {uri}?code={user_code} (or POST it) to approve."),
        }))
    }

    /// Approves (or declines) a device code by its user code.
    pub(crate) fn decide_device_code(&mut self, user_code: &str, approve: bool) -> bool {
        match self.device_codes.values_mut().find(|d| d.user_code == user_code) {
            Some(d) => {
                d.state = if approve { DeviceCodeState::Approved } else { DeviceCodeState::Declined };
                true
            }
            None => false,
        }
    }
}

fn unknown_app(client_id: &str) -> OAuthError {
    oauth_error(
        "unauthorized_client",
        700016,
        &format!("Application with identifier '{client_id}' was not found in the directory."),
    )
}

/// How an app proves itself for the client credentials grant: a
/// certificate assertion it signed, a federated token, or a secret.
fn client_credentials<'f>(
    app: &App,
    base: &str,
    token_url: &str,
    get: &impl Fn(&str) -> &'f str,
) -> Result<(), OAuthError> {
    let assertion = get("client_assertion");
    if assertion.is_empty() {
        let secret = get("client_secret");
        if secret.is_empty() || !app.secrets.iter().any(|s| s == secret) {
            return Err(oauth_error("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."));
        }
        return Ok(());
    }
    if get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        return Err(oauth_error(
            "invalid_request",
            90014,
            "The request body must contain the client_assertion_type parameter.",
        ));
    }
    // A certificate assertion is issued by the app itself; anything else
    // must be a federated credential.
    let iss = super::federation::peek_claims(assertion)
        .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string));
    if iss.as_deref() == Some(app.client_id.as_str()) {
        verify_assertion(app, token_url, assertion)
    } else {
        super::federation::verify(app, base, assertion)
    }
}

fn verify_assertion(app: &App, token_url: &str, jwt: &str) -> Result<(), OAuthError> {
    let bad = |d: &str| {
        oauth_error("invalid_client", 700027, &format!("Client assertion failed signature validation: {d}"))
    };
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| bad(&format!("malformed: {e}")))?;
    if !matches!(header.alg, jsonwebtoken::Algorithm::PS256 | jsonwebtoken::Algorithm::RS256) {
        return Err(bad("only PS256 and RS256 are accepted"));
    }
    let cert = app
        .certificates
        .iter()
        .filter_map(|pem| certificate_der(pem))
        .find(|der| {
            header.x5t_s256.as_deref() == Some(&sha256_thumbprint(der))
                || header.x5t.as_deref() == Some(&sha1_thumbprint(der))
        })
        .ok_or_else(|| {
            oauth_error(
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. The key was not found.",
            )
        })?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&cert)
        .map_err(|e| bad(&format!("bad registered certificate: {e}")))?;
    let spki = parsed.tbs_certificate.subject_pki.subject_public_key.data.to_vec();
    let key = jsonwebtoken::DecodingKey::from_rsa_der(&spki);
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[token_url]);
    validation.set_issuer(&[app.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub", "nbf"]);
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<Value>(jwt, &key, &validation).map_err(|e| bad(&e.to_string()))?;
    if data.claims.get("sub").and_then(Value::as_str) != Some(app.client_id.as_str()) {
        return Err(bad("sub is not the client id"));
    }
    Ok(())
}

/// The DER of the first CERTIFICATE block of a PEM text.
fn certificate_der(cert_pem: &str) -> Option<Vec<u8>> {
    let blocks = pem::parse_many(cert_pem).ok()?;
    blocks.into_iter().find(|b| b.tag() == "CERTIFICATE").map(|b| b.into_contents())
}

/// `x5t#S256`: base64url (no padding) SHA-256 of the certificate DER.
fn sha256_thumbprint(der: &[u8]) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der))
}

fn sha1_thumbprint(der: &[u8]) -> String {
    use sha1::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(der))
}
