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
    let body = match &reply.body {
        Some(v) => {
            b = b.header("content-type", "application/json; odata.metadata=minimal");
            Bytes::from(serde_json::to_vec(v).unwrap_or_default())
        }
        None => Bytes::new(),
    };
    b.body(Full::new(body)).unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
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
    let base = format!("http://{host}");
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_string);
    let identity_headers = super::identity::Headers::from(req.headers());
    let body_bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(respond(&odata::bad_request("The request body is too large or unreadable."))),
    };
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();

    // The token service.
    if segs.len() == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && method == "POST" {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&body_bytes).into_owned().collect();
        if shared.faults().token_unavailable() {
            let retry_after = shared.faults().spec.retry_after;
            shared.record(Recorded {
                method,
                path,
                query: String::new(),
                status: 503,
                body: None,
                fault: Some("503"),
                client_id: form.get("client_id").cloned(),
            });
            return Ok(respond(
                &Reply::json(503, json!({"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred. Please try again."}))
                    .with_header("Retry-After", format!("{retry_after:.3}")),
            ));
        }
        // Borrowed, not cloned: a tenant of thousands of policies is not
        // copied for every sign-in. Lock order: tenant, then tokens.
        let tenant = shared.tenant_mut();
        let result = {
            let mut tokens = shared.tokens();
            match segs[3] {
                "token" => tokens.token(&tenant, &base, &format!("{base}{path}"), &form),
                "devicecode" => tokens.device_code(&tenant, &base, &form),
                _ => Err((404, json!({"error": "not_found"}))),
            }
        };
        drop(tenant);
        let (status, body) = match result {
            Ok(b) => (200, b),
            Err((s, b)) => (s, b),
        };
        // Token requests carry secrets: record neither the form nor the answer.
        shared.record(Recorded {
            method,
            path,
            query: String::new(),
            status,
            body: None,
            fault: None,
            client_id: form.get("client_id").cloned(),
        });
        return Ok(respond(&Reply::json(status, body)));
    }

    // Secretless sign-in: OIDC issuer, CI token endpoint, managed identity.
    if let Some(reply) = super::identity::route(
        &shared,
        &method,
        &segs,
        &raw_query,
        &base,
        bearer.as_deref(),
        &identity_headers,
    ) {
        // The answers carry tokens: record the call, never the body.
        shared.record(Recorded {
            method,
            path,
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
        return Ok(respond(&reply));
    }

    // Emulator controls (local use: approving device codes, inspecting requests).
    if segs.first() == Some(&"_emulator") {
        return Ok(respond(&control(&shared, &method, &segs, &raw_query)));
    }

    let Some(version) = segs.first().and_then(|s| ApiVersion::from_segment(s)) else {
        return Ok(respond(&odata::error(404, "NotFound", "Unknown API version; use /v1.0 or /beta.")));
    };
    let rest = format!("/{}", segs[1..].join("/"));
    let body: Option<Value> = if body_bytes.is_empty() {
        None
    } else {
        match serde_json::from_slice(&body_bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                return Ok(respond(&odata::bad_request(&format!("Invalid JSON in the request body: {e}"))))
            }
        }
    };
    let client_id = match bearer.as_deref().and_then(|t| shared.tokens().validate(t).map(str::to_string)) {
        Some(c) => c,
        None => {
            let reply = odata::error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience or token not issued by this tenant.",
            );
            shared.record(Recorded {
                method,
                path,
                query: raw_query,
                status: 401,
                body,
                fault: None,
                client_id: None,
            });
            return Ok(respond(&reply));
        }
    };

    let is_write = method != "GET";
    let (decision, latency, retry_after) = {
        let mut f = shared.faults();
        (f.decide(&client_id, is_write && rest != "/$batch"), f.delay(), f.spec.retry_after)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault_reply = |d: Decision| match d {
        Decision::Status429 { retry_after_ms } => Some(
            odata::error(429, "TooManyRequests", "Too many requests; retry after the time in Retry-After.")
                .with_header("Retry-After", format!("{:.3}", retry_after_ms as f64 / 1000.0)),
        ),
        Decision::Status503 => Some(
            odata::error(503, "ServiceUnavailable", "The service is temporarily unavailable.")
                .with_header("Retry-After", format!("{retry_after:.3}")),
        ),
        _ => None,
    };
    let rec = |status: u16, fault: Option<&'static str>, body: Option<Value>| Recorded {
        method: method.clone(),
        path: path.clone(),
        query: raw_query.clone(),
        status,
        body,
        fault,
        client_id: Some(client_id.clone()),
    };
    match decision {
        Decision::Drop => {
            shared.record(rec(0, Some("drop"), body));
            return Err(Dropped);
        }
        d @ (Decision::Status429 { .. } | Decision::Status503) => {
            let reply = fault_reply(d).expect("fault reply");
            shared.record(rec(reply.status, Some(if reply.status == 429 { "429" } else { "503" }), body));
            return Ok(respond(&reply));
        }
        _ => {}
    }

    let slow = shared.faults().spec.slow_create;
    let query = Query::parse(&raw_query);
    let serve_now = {
        let (shared, method, rest, base, client_id, body) =
            (shared.clone(), method.clone(), rest.clone(), base.clone(), client_id.clone(), body.clone());
        move || {
            let (reply, mutated) = if rest == "/$batch" && method == "POST" {
                batch(&shared, version, &base, &client_id, body.as_ref())
            } else {
                let mut tenant = shared.tenant_mut();
                let mut ctx = Ctx {
                    tenant: &mut tenant,
                    version,
                    base: &base,
                    page_size: shared.page_size,
                    quirks: *lock(&shared.quirks),
                };
                graph_api::handle(&mut ctx, &method, &rest, &query, body.as_ref())
            };
            if mutated {
                shared.persist();
            }
            reply
        }
    };
    let reply = if method == "POST" && rest == "/deviceManagement/deviceCompliancePolicies" && !slow.is_zero()
    {
        // Graph finishes a create the client stopped waiting for: run it in
        // its own task, so a closed connection does not cancel it.
        let task = tokio::spawn(async move {
            tokio::time::sleep(slow).await;
            serve_now()
        });
        task.await.map_err(|_| Dropped)?
    } else {
        serve_now()
    };
    if decision == Decision::ServeAndLose {
        shared.record(rec(reply.status, Some("lose"), body));
        return Err(Dropped);
    }
    shared.record(rec(reply.status, None, body));
    Ok(respond(&reply))
}

/// `POST /$batch`: up to 20 requests, each served (or throttled) on its own.
fn batch(
    shared: &Shared,
    version: ApiVersion,
    base: &str,
    client_id: &str,
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
        responses.push(json!({"id": id, "status": reply.status, "headers": headers, "body": reply.body}));
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
