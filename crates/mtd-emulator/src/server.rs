//! The emulator's HTTP server: hyper on a loopback socket, one task per
//! connection. Requests are authenticated, run through the fault injector,
//! served, recorded, and (with `--state`) persisted.
//!
//! A dropped connection is a real one: the service returns an error and
//! hyper closes the socket without answering.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::faults::Decision;
use super::graph_api::{self, Ctx};
use super::odata::{self, Query, Reply};
use super::{lock, Recorded, Shared};
use mtd_model::schema::ApiVersion;

/// Returned to hyper to close the connection without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for Dropped {}

const MAX_BODY: usize = 16 << 20;

fn respond(reply: &Reply) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let body = match (&reply.body, &reply.raw) {
        (Some(v), _) => {
            b = b.header("content-type", "application/json; odata.metadata=minimal");
            Bytes::from(serde_json::to_vec(v).unwrap_or_default())
        }
        (None, Some(raw)) => {
            b = b.header("content-type", "application/json; odata.metadata=minimal");
            Bytes::from(raw.clone())
        }
        (None, None) => Bytes::new(),
    };
    b.body(Full::new(body)).unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// One request, read off the connection.
struct Incoming {
    method: String,
    path: String,
    raw_query: String,
    /// `http://HOST` as the client addressed us.
    base: String,
    bearer: Option<String>,
    identity_headers: super::identity::Headers,
    body: Bytes,
}

/// Serves one request.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let host = req.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_string();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_string);
    let identity_headers = super::identity::Headers::from(req.headers());
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(respond(&odata::bad_request("The request body is too large or unreadable."))),
    };
    let inc =
        Incoming { method, path, raw_query, base: format!("http://{host}"), bearer, identity_headers, body };
    let path = inc.path.clone();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segs.len() == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && inc.method == "POST" {
        return Ok(respond(&token_service(&shared, inc, segs[3])));
    }
    if let Some(reply) = secretless(&shared, &inc, &segs) {
        return Ok(respond(&reply));
    }
    // Emulator controls (local use: approving device codes, inspecting requests).
    if segs.first() == Some(&"_emulator") {
        return Ok(respond(&control(&shared, &inc.method, &segs, &inc.raw_query)));
    }
    let Some(version) = segs.first().and_then(|s| ApiVersion::from_segment(s)) else {
        return Ok(respond(&odata::error(404, "NotFound", "Unknown API version; use /v1.0 or /beta.")));
    };
    let rest = format!("/{}", segs[1..].join("/"));
    graph(shared, inc, version, rest).await
}

/// The token service (`/{tenant}/oauth2/v2.0/token` and `devicecode`).
fn token_service(shared: &Shared, inc: Incoming, leaf: &str) -> Reply {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&inc.body).into_owned().collect();
    // Token requests carry secrets: record neither the form nor the answer.
    let record = |status: u16, fault: Option<&'static str>| {
        shared.record(Recorded {
            method: inc.method.clone(),
            path: inc.path.clone(),
            query: String::new(),
            status,
            body: None,
            fault,
            client_id: form.get("client_id").cloned(),
        })
    };
    if shared.faults().token_unavailable() {
        let retry_after = shared.faults().spec.retry_after;
        record(503, Some("503"));
        return Reply::json(503, json!({"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred. Please try again."}))
            .with_header("Retry-After", format!("{retry_after:.3}"));
    }
    // Borrowed, not cloned: a tenant of thousands of policies is not
    // copied for every sign-in. Lock order: tenant, then tokens.
    let tenant = shared.tenant_mut();
    let result = {
        let mut tokens = shared.tokens();
        match leaf {
            "token" => tokens.token(&tenant, &inc.base, &format!("{}{}", inc.base, inc.path), &form),
            "devicecode" => tokens.device_code(&tenant, &inc.base, &form),
            _ => Err((404, json!({"error": "not_found"}))),
        }
    };
    drop(tenant);
    let (status, body) = match result {
        Ok(b) => (200, b),
        Err((s, b)) => (s, b),
    };
    record(status, None);
    Reply::json(status, body)
}

/// Secretless sign-in: OIDC issuer, CI token endpoint, managed identity.
fn secretless(shared: &Shared, inc: &Incoming, segs: &[&str]) -> Option<Reply> {
    let reply = super::identity::route(
        shared,
        &inc.method,
        segs,
        &inc.raw_query,
        &inc.base,
        inc.bearer.as_deref(),
        &inc.identity_headers,
    )?;
    // The answers carry tokens: record the call, never the body.
    shared.record(Recorded {
        method: inc.method.clone(),
        path: inc.path.clone(),
        query: String::new(),
        status: reply.status,
        body: None,
        fault: None,
        // Managed identity answers name the identity that got a token.
        client_id: reply
            .body
            .as_ref()
            .and_then(|b| b.get("client_id"))
            .and_then(Value::as_str)
            .map(str::to_string),
    });
    Some(reply)
}

/// A Graph request: signed in, then maybe a fault, then carried out.
async fn graph(
    shared: Arc<Shared>,
    inc: Incoming,
    version: ApiVersion,
    rest: String,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let body: Option<Value> = if inc.body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&inc.body) {
            Ok(v) => Some(v),
            Err(e) => {
                return Ok(respond(&odata::bad_request(&format!("Invalid JSON in the request body: {e}"))))
            }
        }
    };
    let rec =
        |status: u16, fault: Option<&'static str>, body: Option<Value>, client_id: Option<String>| Recorded {
            method: inc.method.clone(),
            path: inc.path.clone(),
            query: inc.raw_query.clone(),
            status,
            body,
            fault,
            client_id,
        };
    let Some(client_id) = inc.bearer.as_deref().and_then(|t| shared.tokens().validate(t).map(str::to_string))
    else {
        shared.record(rec(401, None, body, None));
        return Ok(respond(&odata::error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience or token not issued by this tenant.",
        )));
    };
    let decision = match injected_fault(&shared, &client_id, inc.method != "GET" && rest != "/$batch").await {
        Err(fault) => {
            let label = match fault.status {
                0 => "drop",
                429 => "429",
                _ => "503",
            };
            shared.record(rec(fault.status, Some(label), body, Some(client_id)));
            return if fault.status == 0 { Err(Dropped) } else { Ok(respond(&fault)) };
        }
        Ok(d) => d,
    };
    let user = inc.bearer.as_deref().and_then(|t| shared.tokens().user_of(t));
    let reply = carry_out(&shared, &inc, version, &rest, &client_id, user, body.clone()).await?;
    if decision == Decision::ServeAndLose {
        shared.record(rec(reply.status, Some("lose"), body, Some(client_id)));
        return Err(Dropped);
    }
    shared.record(rec(reply.status, None, body, Some(client_id)));
    Ok(respond(&reply))
}

/// The configured latency, then the fault dice: `Err` with the reply to
/// send instead (status 0: drop the connection), or the decision to serve.
async fn injected_fault(shared: &Shared, client_id: &str, is_write: bool) -> Result<Decision, Reply> {
    let (decision, latency, retry_after) = {
        let mut f = shared.faults();
        (f.decide(client_id, is_write), f.delay(), f.spec.retry_after)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match decision {
        Decision::Drop => Err(Reply::json(0, Value::Null)),
        Decision::Status429 { retry_after_ms } => Err(odata::error(
            429,
            "TooManyRequests",
            "Too many requests; retry after the time in Retry-After.",
        )
        .with_header("Retry-After", format!("{:.3}", retry_after_ms as f64 / 1000.0))),
        Decision::Status503 => {
            Err(odata::error(503, "ServiceUnavailable", "The service is temporarily unavailable.")
                .with_header("Retry-After", format!("{retry_after:.3}")))
        }
        d => Ok(d),
    }
}

/// Serves the request against the tenant (saving it after a change). A
/// slow create runs in its own task: Graph finishes a create the client
/// stopped waiting for, so a closed connection must not cancel it.
async fn carry_out(
    shared: &Arc<Shared>,
    inc: &Incoming,
    version: ApiVersion,
    rest: &str,
    client_id: &str,
    user: Option<String>,
    body: Option<Value>,
) -> Result<Reply, Dropped> {
    let slow = shared.faults().spec.slow_create;
    let query = Query::parse(&inc.raw_query);
    let serve_now = {
        let (shared, method, rest, base, client_id) =
            (shared.clone(), inc.method.clone(), rest.to_string(), inc.base.clone(), client_id.to_string());
        move || {
            let (reply, mutated) = if rest == "/$batch" && method == "POST" {
                batch(&shared, version, &base, &client_id, user.as_deref(), body.as_ref())
            } else {
                let mut tenant = shared.tenant_mut();
                let mut ctx = Ctx {
                    tenant: &mut tenant,
                    version,
                    base: &base,
                    page_size: shared.page_size,
                    quirks: *lock(&shared.quirks),
                    user: user.as_deref(),
                };
                graph_api::handle(&mut ctx, &method, &rest, &query, body.as_ref())
            };
            if mutated {
                shared.persist();
            }
            reply
        }
    };
    if inc.method == "POST" && rest == "/deviceManagement/deviceCompliancePolicies" && !slow.is_zero() {
        let task = tokio::spawn(async move {
            tokio::time::sleep(slow).await;
            serve_now()
        });
        task.await.map_err(|_| Dropped)
    } else {
        Ok(serve_now())
    }
}

/// `POST /$batch`: up to 20 requests, each served (or throttled) on its own.
fn batch(
    shared: &Shared,
    version: ApiVersion,
    base: &str,
    client_id: &str,
    user: Option<&str>,
    body: Option<&Value>,
) -> (Reply, bool) {
    let Some(requests) = body.and_then(|b| b.get("requests")).and_then(Value::as_array) else {
        return (odata::bad_request("The batch request must contain 'requests'."), false);
    };
    if requests.len() > 20 {
        return (odata::bad_request("Number of batch request steps exceeds the maximum of 20."), false);
    }
    let mut responses = Vec::new();
    let mut status_of: HashMap<String, u16> = HashMap::new();
    let mut mutated = false;
    for r in requests {
        let id = r
            .get("id")
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .unwrap_or_default();
        let method = r.get("method").and_then(Value::as_str).unwrap_or("GET").to_ascii_uppercase();
        let url = r.get("url").and_then(Value::as_str).unwrap_or("");
        let failed_dep = r.get("dependsOn").and_then(Value::as_array).is_some_and(|deps| {
            deps.iter()
                .filter_map(Value::as_str)
                .any(|d| !status_of.get(d).is_some_and(|s| (200..300).contains(s)))
        });
        let reply = if failed_dep {
            odata::error(424, "FailedDependency", "A request this one depends on failed.")
        } else {
            // Decide first: the faults lock must not be held in the arms below.
            let (decision, retry_after) = {
                let mut f = shared.faults();
                (f.decide(client_id, method != "GET"), f.spec.retry_after)
            };
            match decision {
                Decision::Status429 { retry_after_ms } => {
                    odata::error(429, "TooManyRequests", "Too many requests.")
                        .with_header("Retry-After", format!("{:.3}", retry_after_ms as f64 / 1000.0))
                }
                Decision::Status503 => {
                    odata::error(503, "ServiceUnavailable", "The service is temporarily unavailable.")
                        .with_header("Retry-After", format!("{retry_after:.3}"))
                }
                _ => {
                    let (p, q) = url.split_once('?').unwrap_or((url, ""));
                    let path = if p.starts_with('/') { p.to_string() } else { format!("/{p}") };
                    let mut tenant = shared.tenant_mut();
                    let mut ctx = Ctx {
                        tenant: &mut tenant,
                        version,
                        base,
                        page_size: shared.page_size,
                        quirks: *lock(&shared.quirks),
                        user,
                    };
                    let (reply, m) =
                        graph_api::handle(&mut ctx, &method, &path, &Query::parse(q), r.get("body"));
                    mutated |= m;
                    reply
                }
            }
        };
        status_of.insert(id.clone(), reply.status);
        let headers: serde_json::Map<String, Value> =
            reply.headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        responses
            .push(json!({"id": id, "status": reply.status, "headers": headers, "body": reply.body_value()}));
    }
    (Reply::json(200, json!({"responses": responses})), mutated)
}

fn control(shared: &Shared, method: &str, segs: &[&str], raw_query: &str) -> Reply {
    let q = Query::parse(raw_query);
    match (method, segs) {
        ("GET" | "POST", ["_emulator", "device"]) => match q.get("code") {
            Some(code) if shared.tokens().decide_device_code(code, q.get("decline").is_none()) => {
                Reply::json(200, json!({"approved": q.get("decline").is_none(), "user_code": code}))
            }
            _ => odata::bad_request("Unknown or missing ?code= (the user code shown at sign-in)."),
        },
        ("GET", ["_emulator", "requests"]) => Reply::json(
            200,
            json!({"value": shared.requests().iter().map(Recorded::to_json).collect::<Vec<_>>()}),
        ),
        _ => odata::error(404, "NotFound", "Unknown emulator control path."),
    }
}
