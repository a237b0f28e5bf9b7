//! The Graph request engine: authentication, retries, write pacing, paging
//! and `$batch`. Operations on Intune objects are in `intune.rs`.
//!
//! Retries are decided by what a request is. Reads, PATCH, DELETE, `/assign`
//! and `scheduleActionsForRules` are idempotent and retried. A POST that
//! creates an object is never blindly re-sent after a lost answer: the caller
//! gets [`Attempt::Uncertain`] and re-reads by name, waiting with doubling
//! steps for up to [`ClientOptions::create_settle`] (longer than the request
//! timeout) for a create still running on Graph's side to land. Only when it
//! has not appeared by then is the create sent again. A create slower than
//! that could still leave a duplicate; the next plan stops on it (same name
//! and type twice) rather than guess.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::HeaderMap;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use super::auth::TokenProvider;
use super::cloud::Endpoints;
use super::error::{parse_odata_error, GraphError};
use super::pacer::{PaceLimit, Pacer};
use super::retry::{retryable_status, RetryPolicy};
use super::schema::ApiVersion;
use tokio::sync::Semaphore;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// How throttled and failed requests are retried.
    pub retry: RetryPolicy,
    /// Writes allowed per window (Intune's limit).
    pub pace: PaceLimit,
    /// Per-request timeout.
    pub timeout: Duration,
    /// After a create whose answer was lost, how long to keep re-reading
    /// (with doubling waits) before concluding it never landed and sending
    /// it again. Longer than `timeout`: a POST still running on Graph's side
    /// when the client gave up lands later.
    pub create_settle: Duration,
    /// Requests in flight at once (reads overlap; writes of different
    /// policies overlap under the pacer). Small: Graph's per-app limits are
    /// per tenant, and a burst gains nothing once the write pacer decides.
    pub max_in_flight: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry: RetryPolicy::default(),
            pace: PaceLimit::default(),
            timeout: Duration::from_secs(60),
            create_settle: Duration::from_secs(150),
            max_in_flight: 4,
        }
    }
}

/// An answer from Graph.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The JSON body (null when empty).
    pub body: Value,
}

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Safe to repeat.
    Idempotent,
    /// A create: repeat only when Graph certainly did not act (429, 503).
    Create,
}

/// The result of a create attempt.
#[derive(Debug)]
pub enum Attempt {
    Done(Response),
    /// The answer was lost; Graph may or may not have created the object.
    Uncertain(GraphError),
}

/// A Microsoft Graph client for one tenant.
pub struct GraphClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    tokens: Arc<TokenProvider>,
    options: ClientOptions,
    pacer: Pacer,
    in_flight: Semaphore,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient").field("graph", &self.endpoints.graph.as_str()).finish()
    }
}

/// Pages of one collection read at most (a `nextLink` loop ends here).
pub(crate) const MAX_PAGES: usize = 10_000;

/// The shared HTTP client: rustls, no cookies, a user agent naming us.
pub fn http_client() -> Result<reqwest::Client, GraphError> {
    reqwest::Client::builder()
        .user_agent(concat!("mtdhost/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| GraphError::Setup(e.to_string()))
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

impl GraphClient {
    /// A client over `http`, signing in through `tokens`.
    pub fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        tokens: Arc<TokenProvider>,
        options: ClientOptions,
    ) -> Self {
        let pacer = Pacer::new(options.pace);
        let in_flight = Semaphore::new(options.max_in_flight.max(1));
        GraphClient { http, endpoints, tokens, options, pacer, in_flight }
    }

    /// Who the client's tokens act as.
    pub fn principal(&self) -> super::auth::Principal {
        self.tokens.principal()
    }

    /// The endpoints it talks to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Absolute URL of a fixed path under a version root (no query, no
    /// values from outside: those go through [`GraphClient::endpoint`]).
    pub fn url(&self, version: ApiVersion, path: &str) -> String {
        format!("{}{}", self.endpoints.graph_root(version.segment()), path)
    }

    /// Absolute URL of path segments and query options, every part
    /// percent-encoded (see `query.rs`).
    pub fn endpoint(
        &self,
        version: ApiVersion,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<String, GraphError> {
        super::query::build(&self.endpoints.graph_root(version.segment()), segments, query)
    }

    /// The client's settings.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The write pacer (for progress estimates).
    pub fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    /// Display form of a URL for messages: the path and query, no host.
    pub(crate) fn shown(url: &str) -> String {
        url::Url::parse(url)
            .map(|u| {
                let mut s = u.path().to_string();
                if let Some(q) = u.query() {
                    s.push('?');
                    s.push_str(&percent_decode(q));
                }
                s
            })
            .unwrap_or_else(|_| url.to_string())
    }

    /// Sends an idempotent request with retries; non-2xx is an error.
    pub async fn request(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Response, GraphError> {
        match self.attempt(method, url, body, Retry::Idempotent).await? {
            Attempt::Done(r) => Ok(r),
            Attempt::Uncertain(e) => Err(e),
        }
    }

    /// Sends a request, retrying as `retry` allows.
    pub async fn attempt(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Attempt, GraphError> {
        Ok(match self.attempt_decoded(method, url, body, retry, |b| json_body(&b)).await? {
            Ok((status, headers, body)) => Attempt::Done(Response { status, headers, body }),
            Err(e) => Attempt::Uncertain(e),
        })
    }

    /// A GET's successful answer as bytes, with the same retries as
    /// [`GraphClient::request`]; the caller decodes it.
    pub(crate) async fn get_bytes(&self, url: &str) -> Result<bytes::Bytes, GraphError> {
        match self.attempt_decoded(Method::GET, url, None, Retry::Idempotent, Ok).await? {
            Ok((_, _, b)) => Ok(b),
            Err(e) => Err(e),
        }
    }

    /// [`GraphClient::attempt`] with the successful body decoded by
    /// `decode`; the inner error means the answer was lost (a create).
    async fn attempt_decoded<T>(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        retry: Retry,
        decode: fn(bytes::Bytes) -> Result<T, String>,
    ) -> Result<Result<(u16, HeaderMap, T), GraphError>, GraphError> {
        self.check_host(url)?;
        let shown = Self::shown(url);
        let max = self.options.retry.max_attempts.max(1);
        let mut reauthenticated = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let exchange = self.exchange(&method, url, body).await?;
            let (status, headers, bytes) = match exchange {
                Ok(x) => x,
                Err(e) => {
                    let reason = describe_transport(&e);
                    if retry == Retry::Create {
                        return Ok(Err(GraphError::Transport {
                            method: method.to_string(),
                            path: shown,
                            reason,
                        }));
                    }
                    if attempt >= max {
                        return Err(GraphError::GaveUp {
                            method: method.to_string(),
                            path: shown,
                            attempts: attempt,
                            last: reason,
                        });
                    }
                    let wait = self.options.retry.delay(attempt, None);
                    tracing::warn!(%method, path = %shown, attempt, wait_ms = wait.as_millis() as u64, %reason, "request failed; retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            if (200..300).contains(&status) {
                let body = decode(bytes).map_err(|reason| GraphError::Decode {
                    method: method.to_string(),
                    path: shown.clone(),
                    reason,
                })?;
                return Ok(Ok((status, headers, body)));
            }
            let err = api_error(&method, &shown, status, &headers, &bytes);
            if status == 401 && !reauthenticated {
                reauthenticated = true;
                self.tokens.invalidate().await;
                attempt -= 1;
                continue;
            }
            if !retryable_status(status) {
                return Err(err);
            }
            // A create answered 500/502/504 may have been carried out.
            if retry == Retry::Create && !matches!(status, 429 | 503) {
                return Ok(Err(err));
            }
            if attempt >= max {
                return Err(GraphError::GaveUp {
                    method: method.to_string(),
                    path: shown,
                    attempts: attempt,
                    last: err.to_string(),
                });
            }
            let wait = self.options.retry.delay(attempt, Some(&headers));
            tracing::warn!(%method, path = %shown, status, attempt, wait_ms = wait.as_millis() as u64, "Graph asked us to retry");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request and its whole answer: a write waits for the pacer, every
    /// request for a slot among those in flight. The outer error is sign-in;
    /// the inner one means the answer was lost (sending and reading the body
    /// fail alike).
    async fn exchange(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Result<(u16, HeaderMap, bytes::Bytes), reqwest::Error>, GraphError> {
        // A `$batch` of reads is a POST but writes nothing; it is not
        // counted against the write limit.
        let _permit = if is_write(method) && !url.ends_with("/$batch") {
            Some(self.pacer.acquire().await)
        } else {
            None
        };
        let token = self.tokens.token().await?;
        let mut req = self
            .http
            .request(method.clone(), url)
            .bearer_auth(token.expose_secret())
            .timeout(self.options.timeout)
            .header("client-request-id", uuid::Uuid::new_v4().to_string());
        if let Some(b) = body {
            req = req.json(b);
        }
        let _slot = self.in_flight.acquire().await;
        Ok(async {
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            Ok((status, headers, resp.bytes().await?))
        }
        .await)
    }

    /// GETs many relative paths through `$batch` (20 per batch, up to
    /// `max_in_flight` batches at once), retrying throttled items on their
    /// own. Results come back in input order.
    pub async fn batch_get(
        &self,
        version: ApiVersion,
        paths: &[String],
    ) -> Result<Vec<Result<Value, GraphError>>, GraphError> {
        let chunks: Vec<&[String]> = paths.chunks(20).collect();
        let answered: Vec<Vec<Result<Value, GraphError>>> =
            futures_util::stream::iter(chunks.into_iter().map(|c| self.batch_chunk(version, c)))
                .buffered(self.options.max_in_flight.max(1))
                .try_collect()
                .await?;
        Ok(answered.into_iter().flatten().collect())
    }

    /// One `$batch` of at most 20 GETs, with per-item retries.
    async fn batch_chunk(
        &self,
        version: ApiVersion,
        paths: &[String],
    ) -> Result<Vec<Result<Value, GraphError>>, GraphError> {
        let mut results: Vec<Option<Result<Value, GraphError>>> = (0..paths.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..paths.len()).collect();
        let mut round = 0;
        while !pending.is_empty() {
            round += 1;
            let requests: Vec<Value> = pending
                .iter()
                .map(|&i| json!({"id": i.to_string(), "method": "GET", "url": paths[i]}))
                .collect();
            let resp = self
                .request(Method::POST, &self.url(version, "/$batch"), Some(&json!({"requests": requests})))
                .await?;
            let answers = resp.body.get("responses").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut retry_wait = Duration::ZERO;
            let mut still = Vec::new();
            for &i in &pending {
                let Some(a) =
                    answers.iter().find(|a| a.get("id").and_then(Value::as_str) == Some(&i.to_string()))
                else {
                    still.push(i);
                    continue;
                };
                let status = a.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
                let body = a.get("body").cloned().unwrap_or(Value::Null);
                if (200..300).contains(&status) {
                    results[i] = Some(Ok(body));
                } else if retryable_status(status) && round < self.options.retry.max_attempts {
                    let mut h = HeaderMap::new();
                    if let Some(ra) =
                        a.pointer("/headers/Retry-After").or_else(|| a.pointer("/headers/retry-after"))
                    {
                        let text = ra.as_str().map(str::to_string).unwrap_or_else(|| ra.to_string());
                        if let Ok(v) = text.parse() {
                            h.insert(reqwest::header::RETRY_AFTER, v);
                        }
                    }
                    retry_wait = retry_wait.max(self.options.retry.delay(round, Some(&h)));
                    still.push(i);
                } else {
                    let bytes = serde_json::to_vec(&body).unwrap_or_default();
                    results[i] =
                        Some(Err(api_error(&Method::GET, &paths[i], status, &HeaderMap::new(), &bytes)));
                }
            }
            if !still.is_empty() && round >= self.options.retry.max_attempts {
                for &i in &still {
                    results[i] = Some(Err(GraphError::GaveUp {
                        method: "GET".into(),
                        path: paths[i].clone(),
                        attempts: round,
                        last: "throttled inside $batch".into(),
                    }));
                }
                break;
            }
            if !still.is_empty() {
                tracing::debug!(
                    items = still.len(),
                    wait_ms = retry_wait.as_millis() as u64,
                    "retrying throttled $batch items"
                );
                tokio::time::sleep(retry_wait).await;
            }
            pending = still;
        }
        Ok(results
            .into_iter()
            .zip(paths)
            .map(|(r, p)| {
                r.unwrap_or_else(|| {
                    Err(GraphError::Decode {
                        method: "GET".into(),
                        path: p.clone(),
                        reason: "the $batch answer has no response for this request".into(),
                    })
                })
            })
            .collect())
    }

    /// Refuses to send the token to any host but Graph's (a nextLink could point elsewhere).
    fn check_host(&self, url: &str) -> Result<(), GraphError> {
        let u = url::Url::parse(url)
            .map_err(|e| GraphError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
        let g = &self.endpoints.graph;
        if u.scheme() == g.scheme()
            && u.host_str() == g.host_str()
            && u.port_or_known_default() == g.port_or_known_default()
        {
            Ok(())
        } else {
            Err(GraphError::ForeignHost { origin: u.origin().ascii_serialization() })
        }
    }
}

pub(crate) fn no_value(url: &str) -> GraphError {
    GraphError::Decode {
        method: "GET".into(),
        path: GraphClient::shown(url),
        reason: "no \"value\" array in a collection response".into(),
    }
}

fn api_error(method: &Method, shown: &str, status: u16, headers: &HeaderMap, bytes: &[u8]) -> GraphError {
    let header_id = headers.get("request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    match parse_odata_error(bytes) {
        Some((code, message, request_id)) => GraphError::Api {
            request: format!("{method} {shown}"),
            status,
            code,
            message,
            request_id: request_id.or(header_id),
        },
        None => GraphError::Api {
            request: format!("{method} {shown}"),
            status,
            code: format!("HTTP{status}"),
            message: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).replace('\n', " "),
            request_id: header_id,
        },
    }
}

/// A success body: empty is `null`, anything else must be JSON.
pub(crate) fn json_body(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| format!("body is not JSON: {e}"))
}

fn describe_transport(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    // without_url: URLs can carry skip tokens; the path is shown separately.
    let mut s = format!("{kind}: {}", e.to_string().split(" for url").next().unwrap_or_default());
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| if v.is_empty() { k.into_owned() } else { format!("{k}={v}") })
        .collect::<Vec<_>>()
        .join("&")
}
