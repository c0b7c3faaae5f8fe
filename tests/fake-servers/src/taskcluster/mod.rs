//! A fake Taskcluster deployment on loopback that authenticates like the auth service.
//!
//! ```no_run
//! # async fn demo() {
//! use fake_servers::taskcluster::{Fault, Reply, TaskclusterServer};
//! let server = TaskclusterServer::start().await;
//! server.add_client("tester", "no-secret", &["queue:*"]);
//! server.on("GET", "/api/queue/v1/ping", |_req| Reply::json(200, serde_json::json!({"alive": true})));
//! server.inject("/api/queue/", Fault::Status(503, 2));
//! let root_url = server.root_url(); // http://127.0.0.1:PORT
//! # }
//! ```
//!
//! Every request under `/api/` that no custom route answers gets the answer of auth's
//! `testAuthenticate`: who the caller is and its effective scopes, with the method, path, query
//! and body it sent. Authentication failures answer 401 `AuthenticationFailed` with the reason.

pub mod artifacts;
pub mod auth;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, AUTHORIZATION, CONTENT_TYPE, HOST};
use serde_json::{json, Value};

use crate::loopback::{self, lock, Answer, Loopback};
use auth::{AuthInput, ClientRecord, Identity, Target};

/// One request the server received, as handlers and tests see it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method, upper case.
    pub method: String,
    /// Path as sent (still percent-encoded), without the query.
    pub path: String,
    /// The raw query string as sent (bewit included), if any.
    pub raw_query: Option<String>,
    /// Decoded query pairs, in order, without `bewit`.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// The authenticated client id (`None`: anonymous, or authentication failed).
    pub client_id: Option<String>,
    /// Effective scopes after certificate and authorizedScopes (empty when anonymous).
    pub scopes: Vec<String>,
    /// Why authentication failed, if it did.
    pub auth_error: Option<String>,
    /// The Hawk nonce of the Authorization header, if one could be read.
    pub nonce: Option<String>,
    /// The Hawk timestamp of the Authorization header, if one could be read.
    pub ts: Option<String>,
}

impl Recorded {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        loopback::header(&self.headers, name)
    }

    /// The first value of query parameter `name`, decoded.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An answer from a custom route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(serde_json::to_vec(&value).expect("JSON values serialize")),
        }
    }

    /// A Taskcluster error answer `{"code", "message"}`.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(status, json!({"code": code, "message": message, "requestInfo": {}}))
    }

    /// An answer with a raw body.
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply { status, headers: vec![("content-type".into(), content_type.into())], body: body.into() }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Misbehaviour injected for requests whose path starts with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status (with a JSON error body) the given number of times, then behave.
    Status(u16, usize),
    /// Close the connection without answering, the given number of times.
    Reset(usize),
    /// Wait this long before answering, every time until cleared.
    Delay(Duration),
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync + 'static>;

struct Route {
    method: String,
    path: String,
    /// Whether `path` is a prefix (routes with path parameters) rather than the exact path.
    prefix: bool,
    handler: Option<Handler>,
    scopes: Vec<String>,
}

#[derive(Default)]
struct State {
    clients: Mutex<HashMap<String, ClientRecord>>,
    routes: Mutex<Vec<Route>>,
    faults: Mutex<Vec<(String, Fault)>>,
    requests: Mutex<Vec<Recorded>>,
    clock_offset_ms: Mutex<i64>,
}

/// A running fake Taskcluster on `127.0.0.1`; it stops when dropped.
#[derive(Debug)]
pub struct TaskclusterServer {
    server: Loopback<State>,
}

impl TaskclusterServer {
    /// Binds `127.0.0.1:0` and serves in a spawned task. Panics if loopback cannot be bound.
    pub async fn start() -> TaskclusterServer {
        TaskclusterServer { server: loopback::serve(State::default(), handle).await }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The environment a program under test reads to call this server as `client_id`:
    /// `TASKCLUSTER_ROOT_URL`, `TASKCLUSTER_CLIENT_ID`, `TASKCLUSTER_ACCESS_TOKEN`.
    pub fn env(&self, client_id: &str, access_token: &str) -> Vec<(&'static str, String)> {
        vec![
            ("TASKCLUSTER_ROOT_URL", self.root_url()),
            ("TASKCLUSTER_CLIENT_ID", client_id.to_owned()),
            ("TASKCLUSTER_ACCESS_TOKEN", access_token.to_owned()),
        ]
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    fn state(&self) -> &State {
        self.server.state()
    }

    /// Registers permanent credentials and the scopes they hold (replacing any earlier ones).
    pub fn add_client(&self, client_id: &str, access_token: &str, scopes: &[&str]) {
        let record = ClientRecord {
            access_token: access_token.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        lock(&self.state().clients).insert(client_id.to_owned(), record);
    }

    /// Answers `method path` (exact path, query ignored; a path ending in `*` matches every
    /// path it is a prefix of, for ids a client makes up) with `handler`, after authentication.
    pub fn on<F>(&self, method: &str, path: &str, handler: F)
    where
        F: Fn(&Recorded) -> Reply + Send + Sync + 'static,
    {
        if let Some(prefix) = path.strip_suffix('*') {
            return self.on_prefix(method, prefix, handler);
        }
        let mut routes = lock(&self.state().routes);
        let handler: Handler = Arc::new(handler);
        match routes.iter_mut().find(|r| !r.prefix && r.method.eq_ignore_ascii_case(method) && r.path == path) {
            Some(r) => r.handler = Some(handler),
            None => routes.push(Route {
                method: method.to_ascii_uppercase(),
                path: path.to_owned(),
                prefix: false,
                handler: Some(handler),
                scopes: Vec::new(),
            }),
        }
    }

    /// Answers `method` on every path starting with `prefix` (for routes with parameters) with
    /// `handler`, after authentication. Exact routes of [`Self::on`] take precedence; among
    /// prefixes, the longest wins.
    pub fn on_prefix<F>(&self, method: &str, prefix: &str, handler: F)
    where
        F: Fn(&Recorded) -> Reply + Send + Sync + 'static,
    {
        let mut routes = lock(&self.state().routes);
        routes.retain(|r| !(r.prefix && r.method.eq_ignore_ascii_case(method) && r.path == prefix));
        routes.push(Route {
            method: method.to_ascii_uppercase(),
            path: prefix.to_owned(),
            prefix: true,
            handler: Some(Arc::new(handler)),
            scopes: Vec::new(),
        });
    }

    /// Requires `scopes` (all of them) for `method path`: callers without them get 403
    /// `InsufficientScopes`. Without a custom handler the route keeps the default answer.
    pub fn require_scopes(&self, method: &str, path: &str, scopes: &[&str]) {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let mut routes = lock(&self.state().routes);
        match routes.iter_mut().find(|r| !r.prefix && r.method.eq_ignore_ascii_case(method) && r.path == path) {
            Some(r) => r.scopes = scopes,
            None => routes.push(Route {
                method: method.to_ascii_uppercase(),
                path: path.to_owned(),
                prefix: false,
                handler: None,
                scopes,
            }),
        }
    }

    /// Injects `fault` for requests whose path starts with `path_prefix`. Faults are tried in
    /// the order injected; a used-up `Status` or `Reset` is skipped.
    pub fn inject(&self, path_prefix: &str, fault: Fault) {
        lock(&self.state().faults).push((path_prefix.to_owned(), fault));
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        lock(&self.state().faults).clear();
    }

    /// Moves the server's clock (for timestamp-skew and expiry tests).
    pub fn set_clock_offset(&self, offset_secs: i64) {
        *lock(&self.state().clock_offset_ms) = offset_secs * 1000;
    }

    /// How many requests arrived whose path starts with `path_prefix` (faulted ones included).
    pub fn hits(&self, path_prefix: &str) -> usize {
        lock(&self.state().requests).iter().filter(|r| r.path.starts_with(path_prefix)).count()
    }

    /// The last request received.
    pub fn last_request(&self) -> Option<Recorded> {
        lock(&self.state().requests).last().cloned()
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state().requests).clone()
    }

    /// The Hawk nonces of every request received with an Authorization header, oldest first.
    pub fn nonces(&self) -> Vec<String> {
        lock(&self.state().requests).iter().filter_map(|r| r.nonce.clone()).collect()
    }
}

fn now_ms(state: &State) -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    now + *lock(&state.clock_offset_ms)
}

/// Host and port from a Host header value (`host`, `host:port`, `[v6]:port`).
fn split_host(value: &str) -> (String, u16) {
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, p)) => (format!("[{h}]"), p.strip_prefix(':')),
            None => (value.to_owned(), None),
        }
    } else {
        match value.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (value.to_owned(), None),
        }
    };
    (host.to_ascii_lowercase(), port.and_then(|p| p.parse().ok()).unwrap_or(80))
}

impl From<Reply> for Answer {
    fn from(reply: Reply) -> Answer {
        Answer::reply(reply.status, reply.headers, reply.body)
    }
}

fn handle(state: &State, req: hyper::Request<Bytes>) -> Answer {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().map(str::to_owned);
    let resource = parts.uri.path_and_query().map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let header_text = |name: HeaderName| loopback::header(&parts.headers, name);
    let authorization = header_text(AUTHORIZATION);
    let (host, port) = split_host(header_text(HOST).unwrap_or(""));

    let verdict = {
        let clients = lock(&state.clients);
        let input = AuthInput {
            target: Target { method: &method, resource: &resource, host: &host, port },
            authorization,
            content_type: header_text(CONTENT_TYPE),
            body: &body,
        };
        auth::authenticate(&clients, &input, now_ms(state))
    };
    let parsed = authorization.and_then(|a| auth::parse_authorization(a).ok());
    let query = raw_query
        .as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != "bewit")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let (identity, auth_error) = match verdict {
        Ok(id) => (id, None),
        Err(e) => (Identity { client_id: None, scopes: Vec::new() }, Some(e)),
    };
    let recorded = Recorded {
        method,
        path,
        raw_query,
        query,
        headers: parts.headers.clone(),
        body,
        client_id: identity.client_id,
        scopes: identity.scopes,
        auth_error,
        nonce: parsed.as_ref().map(|h| h.nonce.clone()),
        ts: parsed.as_ref().map(|h| h.ts.clone()),
    };
    lock(&state.requests).push(recorded.clone());

    let (delay, fault) = take_fault(state, &recorded.path);
    let answer = fault.unwrap_or_else(|| answer(state, &recorded).into());
    match delay {
        Some(d) => answer.delayed(d),
        None => answer,
    }
}

/// The delay to apply and the faulty answer to give, using up one count of a counted fault.
fn take_fault(state: &State, path: &str) -> (Option<Duration>, Option<Answer>) {
    let mut faults = lock(&state.faults);
    let mut delay = None;
    for (prefix, fault) in faults.iter_mut() {
        if !path.starts_with(prefix.as_str()) {
            continue;
        }
        match fault {
            Fault::Delay(d) => {
                delay.get_or_insert(*d);
            }
            Fault::Status(status, n) if *n > 0 => {
                *n -= 1;
                let reply = Reply::error(*status, "InjectedFault", &format!("injected HTTP {status} for {prefix}"));
                return (delay, Some(reply.into()));
            }
            Fault::Reset(n) if *n > 0 => {
                *n -= 1;
                return (delay, Some(Answer::reset()));
            }
            _ => {}
        }
    }
    (delay, None)
}

fn answer(state: &State, req: &Recorded) -> Reply {
    if let Some(why) = &req.auth_error {
        return Reply::error(401, "AuthenticationFailed", why);
    }
    let (handler, scopes) = {
        let routes = lock(&state.routes);
        let exact = routes.iter().find(|r| !r.prefix && r.method == req.method && r.path == req.path);
        let by_prefix = || {
            routes
                .iter()
                .filter(|r| r.prefix && r.method == req.method && req.path.starts_with(r.path.as_str()))
                .max_by_key(|r| r.path.len())
        };
        match exact.or_else(by_prefix) {
            Some(r) => (r.handler.clone(), r.scopes.clone()),
            None => (None, Vec::new()),
        }
    };
    let missing = auth::missing_scopes(&req.scopes, &scopes);
    if !missing.is_empty() {
        let who = req.client_id.as_deref().unwrap_or("(anonymous)");
        return Reply::error(
            403,
            "InsufficientScopes",
            &format!("Client {who:?} is missing scopes {missing:?} for {} {}", req.method, req.path),
        );
    }
    match handler {
        Some(h) => h(req),
        None if req.path.starts_with("/api/") => Reply::json(200, echo(req)),
        None => Reply::error(404, "ResourceNotFound", &format!("no route for {} {}", req.method, req.path)),
    }
}

/// The default answer, like auth's testAuthenticate.
fn echo(req: &Recorded) -> Value {
    let query: serde_json::Map<String, Value> =
        req.query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json!({
        "clientId": req.client_id,
        "scopes": req.scopes,
        "method": req.method,
        "path": req.path,
        "query": query,
        "rawQuery": req.raw_query,
        "body": req.json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_split() {
        assert_eq!(split_host("127.0.0.1:8080"), ("127.0.0.1".into(), 8080));
        assert_eq!(split_host("Example.COM"), ("example.com".into(), 80));
        assert_eq!(split_host("[::1]:9"), ("[::1]".into(), 9));
    }

    #[tokio::test]
    async fn anonymous_and_unknown_routes() {
        let server = TaskclusterServer::start().await;
        let addr = server.addr();
        let (status, body) = raw_get(addr, "/api/x/v1/y?a=b%20c", None).await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["clientId"], Value::Null);
        assert_eq!(v["scopes"], json!([]));
        assert_eq!(v["query"], json!({"a": "b c"}));
        let (status, _) = raw_get(addr, "/nothing", None).await;
        assert_eq!(status, 404);
        let (status, body) = raw_get(addr, "/api/x/v1/y", Some("Hawk id=\"nobody\"")).await;
        assert_eq!(status, 401);
        assert!(body.contains("AuthenticationFailed"), "{body}");
        assert_eq!(server.hits("/api/"), 2);
    }

    #[tokio::test]
    async fn self_signed_header_round_trip() {
        // Signs with this crate's own primitives, to check the server's plumbing (host, port,
        // resource) independently of any client.
        let server = TaskclusterServer::start().await;
        server.add_client("c", "key", &["a:*"]);
        let addr = server.addr();
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
        let resource = "/api/x/v1/y?q=1";
        let normalized =
            auth::normalized_string("header", &ts, "n1", "GET", resource, "127.0.0.1", addr.port(), "", "");
        let mac = auth::mac_of("key", &normalized);
        let header = format!("Hawk id=\"c\", ts=\"{ts}\", nonce=\"n1\", mac=\"{mac}\"");
        let (status, body) = raw_get(addr, resource, Some(&header)).await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["clientId"], "c");
        assert_eq!(v["scopes"], json!(["a:*"]));
        // Same header on another resource: rejected.
        let (status, _) = raw_get(addr, "/api/x/v1/y?q=2", Some(&header)).await;
        assert_eq!(status, 401);
        // A server clock 20 minutes ahead rejects the timestamp.
        server.set_clock_offset(20 * 60);
        let (status, body) = raw_get(addr, resource, Some(&header)).await;
        assert_eq!(status, 401);
        assert!(body.contains("Stale timestamp"), "{body}");
        assert_eq!(server.nonces(), vec!["n1", "n1", "n1"]);
    }

    #[tokio::test]
    async fn faults_count_down() {
        let server = TaskclusterServer::start().await;
        server.inject("/api/f/", Fault::Status(503, 1));
        assert_eq!(raw_get(server.addr(), "/api/f/v1/x", None).await.0, 503);
        assert_eq!(raw_get(server.addr(), "/api/f/v1/x", None).await.0, 200);
        assert_eq!(raw_get(server.addr(), "/api/g/v1/x", None).await.0, 200);
        assert_eq!(server.hits("/api/f/"), 2);
    }

    /// A minimal HTTP/1.0 GET over a fresh TCP connection; returns status and body.
    async fn raw_get(addr: SocketAddr, resource: &str, authorization: Option<&str>) -> (u16, String) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        let req = format!("GET {resource} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let status = out[9..12].parse().unwrap();
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        (status, body)
    }
}
