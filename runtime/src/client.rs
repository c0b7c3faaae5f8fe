//! The HTTP client every generated crate calls: one request loop with signing, retries,
//! timeouts and error mapping.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, SET_COOKIE,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument as _;
use url::Url;

use crate::config;
use crate::credentials::Credentials;
use crate::error::{decode_json, excerpt, CallSummary, Error, FieldError};
use crate::hawk::{payload_hash, resource, resource_of, HawkRequest, Signer};
use crate::retry::RetryPolicy;
use crate::urls;

/// How requests authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header at all.
    None,
    /// Taskcluster's Hawk scheme.
    Hawk(Credentials),
    /// HTTP basic authentication (GoCD).
    Basic {
        /// User name.
        username: String,
        /// Password. Secret.
        password: String,
    },
    /// A bearer token (GoCD access tokens). Secret.
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Hawk(c) => f.debug_tuple("Hawk").field(c).finish(),
            Auth::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).field("password", &"***").finish()
            }
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// Configures a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    root_url: String,
    auth: Auth,
    retry: RetryPolicy,
    timeout: Duration,
    http: Option<reqwest::Client>,
    session_cookie: bool,
    hash_payloads: bool,
}

impl ClientBuilder {
    /// Authenticate with Taskcluster credentials (`None`: unauthenticated).
    pub fn credentials(mut self, credentials: impl Into<Option<Credentials>>) -> Self {
        self.auth = credentials.into().map_or(Auth::None, Auth::Hawk);
        self
    }

    /// Authenticate with HTTP basic auth.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Auth::Basic { username: username.into(), password: password.into() };
        self
    }

    /// Authenticate with a bearer token.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.auth = Auth::Bearer(token.into());
        self
    }

    /// Sets the authentication scheme.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Time limit of each HTTP request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Use this `reqwest::Client` (custom TLS roots, proxies, ...) instead of the process's
    /// shared one; [`crate::http::client_builder`] starts from this runtime's settings. It
    /// should not follow redirects: Taskcluster's artifact endpoints answer 303 and the caller
    /// wants the answer.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Keep the `JSESSIONID` cookie of the first answer and authenticate later requests with
    /// it instead of the password (GoCD; saves an LDAP round trip per call on the server).
    pub fn session_cookie(mut self, enabled: bool) -> Self {
        self.session_cookie = enabled;
        self
    }

    /// Send a Hawk payload hash with each request body, so the server can check that the body
    /// it received is the one signed (on by default, as Taskcluster's official Python and Rust
    /// clients always send it; SHA-256 over 1 MiB takes about 0.7 ms, see the `signing` bench).
    pub fn hash_payloads(mut self, enabled: bool) -> Self {
        self.hash_payloads = enabled;
        self
    }

    /// A builder configured as [`Client::from_env`] configures a client, to change before
    /// `build()`: e.g. the deployment of the environment with other credentials.
    pub fn from_env() -> Result<ClientBuilder, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`ClientBuilder::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientBuilder, Error> {
        let root = config::root_url_from_lookup(&lookup)?;
        Ok(Client::builder(root).credentials(Credentials::from_lookup(&lookup)?))
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let root = config::check_root_url(&self.root_url).map_err(Error::Config)?;
        if let Auth::Hawk(c) = &self.auth {
            config::check_credentials(c)?;
        }
        let http = match self.http {
            Some(c) => c,
            None => crate::http::shared_client()?,
        };
        let authorization = match &self.auth {
            Auth::None | Auth::Hawk(_) => None,
            Auth::Basic { username, .. } if username.contains(':') => {
                // RFC 7617: the server splits at the first `:`, so the name would be cut.
                return Err(Error::invalid(format!(
                    "the user name {username:?} contains `:`, which basic auth cannot carry"
                )));
            }
            Auth::Basic { username, password } => {
                Some(secret_header(format!("Basic {}", STANDARD.encode(format!("{username}:{password}"))))?)
            }
            Auth::Bearer(token) => Some(secret_header(format!("Bearer {token}"))?),
        };
        let signer = match &self.auth {
            Auth::Hawk(c) => Some(Signer::new(c)?),
            _ => None,
        };
        let inner = Inner {
            http,
            signer,
            authorization,
            retry: self.retry,
            timeout: self.timeout,
            session: self.session_cookie.then(|| Mutex::new(None)),
            hash_payloads: self.hash_payloads,
        };
        Ok(Client { base_url: parse_base(&root), base: root.clone().into(), root: root.into(), inner: Arc::new(inner) })
    }
}

fn secret_header(value: impl Into<Bytes>) -> Result<HeaderValue, Error> {
    // From `Bytes`: a header built as a `String` is taken over, not copied.
    let mut v = HeaderValue::from_maybe_shared(value.into())
        .map_err(|_| Error::invalid("credentials contain characters not allowed in an HTTP header"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// What one attempt received: the whole body, or the response still open for streaming.
enum Received {
    Whole(u16, HeaderMap, Bytes),
    Open(reqwest::Response),
}

struct Inner {
    http: reqwest::Client,
    signer: Option<Signer>,
    authorization: Option<HeaderValue>,
    retry: RetryPolicy,
    timeout: Duration,
    session: Option<Mutex<Option<HeaderValue>>>,
    hash_payloads: bool,
}

/// A configured API client: cheap to clone, safe to share between tasks.
///
/// A client has a root URL (a Taskcluster deployment, or a GoCD server's `.../go`) and a base URL
/// its calls are relative to; [`Client::service`] derives the client of one Taskcluster service.
#[derive(Clone)]
pub struct Client {
    root: Arc<str>,
    base: Arc<str>,
    /// `base` parsed once, so that a call parses only its own path and query (parsing the whole
    /// URL again cost about as much per call as its Hawk MAC, most of it scheme and host);
    /// `None` if it does not parse, and then each call parses its whole URL.
    base_url: Option<Arc<Url>>,
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base)
            .field("authenticated", &(self.inner.signer.is_some() || self.inner.authorization.is_some()))
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// A request body.
#[derive(Debug, Clone, Default)]
pub enum Body {
    /// No body (POST and PUT still send `Content-Length: 0`).
    #[default]
    Empty,
    /// JSON bytes, sent as `application/json`.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded` text.
    Form(String),
    /// Raw bytes with their content type.
    Bytes {
        /// Content type.
        content_type: String,
        /// The data.
        data: Bytes,
    },
    /// A `multipart/form-data` upload of one file.
    Multipart {
        /// The form field name.
        field: String,
        /// The file name sent with it.
        file_name: String,
        /// The content.
        data: Bytes,
    },
}

impl Body {
    /// Serializes `value` as a JSON body.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Body, Error> {
        serde_json::to_vec(value)
            .map(Body::Json)
            .map_err(|e| Error::invalid(format!("cannot serialize the request body: {e}")))
    }

    /// Encodes the fields of `value` (a struct or map) as `application/x-www-form-urlencoded`.
    /// Strings are sent as they are, a nested object as one field per entry named
    /// `field[key]` (GoCD's `materials[svn]=3456`, `variables[NAME]=value`), other values as
    /// JSON text; `null`s are left out.
    pub fn form<T: Serialize + ?Sized>(value: &T) -> Result<Body, Error> {
        let v = serde_json::to_value(value).map_err(|e| Error::invalid(format!("cannot serialize the form: {e}")))?;
        let serde_json::Value::Object(map) = v else {
            return Err(Error::invalid("a form body must be an object"));
        };
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in map {
            form_pairs(k, v, &mut pairs);
        }
        Ok(Body::Form(urls::encode_query(&pairs)))
    }

    /// Moves the bytes to send out of the body (no copy); `Empty` and `Multipart` give none.
    /// The variant, and so the content type, stays.
    fn take_data(&mut self) -> Bytes {
        match self {
            Body::Empty | Body::Multipart { .. } => Bytes::new(),
            Body::Json(b) => Bytes::from(std::mem::take(b)),
            Body::Form(s) => Bytes::from(std::mem::take(s)),
            Body::Bytes { data, .. } => data.clone(),
        }
    }

    #[cfg(test)]
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Empty | Body::Multipart { .. } => &[],
            Body::Json(b) => b,
            Body::Form(s) => s.as_bytes(),
            Body::Bytes { data, .. } => data,
        }
    }

    fn content_type(&self) -> Option<&str> {
        match self {
            Body::Empty | Body::Multipart { .. } => None,
            Body::Json(b) if b.is_empty() => None,
            Body::Json(_) => Some("application/json"),
            Body::Form(_) => Some("application/x-www-form-urlencoded"),
            Body::Bytes { content_type, .. } => Some(content_type),
        }
    }
}

fn form_pairs(name: String, value: serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => out.push((name, s)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                form_pairs(format!("{name}[{k}]"), v, out);
            }
        }
        other => out.push((name, other.to_string())),
    }
}

/// One request, relative to the client's base URL.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path below the base URL, already encoded (see [`crate::urls::encode_path_segment`]).
    pub path: String,
    /// Query pairs, in the order they are sent.
    pub query: Vec<(String, String)>,
    /// Extra headers (`Accept`, `Confirm`, `If-Match`, ...).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: Body,
}

impl Request {
    /// A request with no query, headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request { method, path: path.into(), query: Vec::new(), headers: Vec::new(), body: Body::Empty }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub fn query_opt(self, name: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    /// Adds a header (names are case-insensitive: `If-Match` and `if-match` are one header).
    /// Names and values built from caller input are checked here.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid(format!("{name:?} is not a valid HTTP header name")))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid(format!("{value:?} is not a valid value for header {name}")))?;
        self.headers.push((n, v));
        Ok(self)
    }

    /// Adds a header whose name and value are already valid, so nothing is checked or parsed per
    /// call: what generated clients send as constants (`HeaderValue::from_static`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        Ok(self.body(Body::json(value)?))
    }
}

/// What a call is, kept as it was sent (the URL moved in, the body shared, nothing rendered), so
/// that the [`CallSummary`] of an error is built only when there is an error.
#[derive(Clone)]
struct Call {
    method: Method,
    url: Url,
    /// The request body as sent (empty for multipart uploads, which are streamed).
    body: Bytes,
    content_type: Option<HeaderValue>,
}

impl Call {
    fn new(method: Method, url: Url, body: &mut Body) -> Result<Call, Error> {
        let content_type = body
            .content_type()
            .map(|ct| {
                HeaderValue::from_str(ct).map_err(|_| Error::invalid(format!("{ct:?} is not a valid content type")))
            })
            .transpose()?;
        Ok(Call { method, url, body: body.take_data(), content_type })
    }

    fn summary(&self, attempts: u32) -> CallSummary {
        let mut s = CallSummary::new(self.method.as_str(), &self.url);
        s.attempts = attempts;
        s.request_body = excerpt(&self.body);
        s
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The summary's URL has no bewit or password and its body excerpt is masked.
        fmt::Debug::fmt(&self.summary(0), f)
    }
}

/// A response: status, headers, body, and how many requests it took.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// How many HTTP requests were made (1 + retries).
    pub attempts: u32,
    call: Call,
}

impl Response {
    /// The call, as error messages built from this response describe it.
    pub fn summary(&self) -> CallSummary {
        self.call.summary(self.attempts)
    }

    /// A header as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode_json(&self.body, || self.summary_with_body())
    }

    /// The body as text (lossy UTF-8), whatever the Content-Type claims.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn summary_with_body(&self) -> Box<CallSummary> {
        let mut s = self.summary();
        s.response_body = excerpt(&self.body);
        Box::new(s)
    }

    /// Turns an error status (400 and above) into [`Error::Status`].
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.status < 400 {
            Ok(self)
        } else {
            Err(self.status_error())
        }
    }

    fn status_error(&self) -> Error {
        let (code, message, field_errors) = parse_error_body(&self.body);
        Error::Status { summary: self.summary_with_body(), status: self.status, code, message, field_errors }
    }
}

/// Reads Taskcluster's `{code, message}` and GoCD's `{message, data: {errors: {field: [..]}}}`.
/// A body that is not a JSON object (GoCD's unversioned APIs answer errors as plain text, even
/// under `Content-Type: application/json`) is the message itself, unless it is an HTML page.
fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>, Vec<FieldError>) {
    let v = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        Ok(serde_json::Value::String(text)) => return (None, text_message(text.as_bytes()), Vec::new()),
        _ => return (None, text_message(body), Vec::new()),
    };
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let mut field_errors = Vec::new();
    if let Some(errors) = v.pointer("/data/errors").and_then(|e| e.as_object()) {
        for (field, msgs) in errors {
            let messages = match msgs {
                serde_json::Value::Array(a) => {
                    a.iter().map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned)).collect()
                }
                serde_json::Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            field_errors.push(FieldError { field: field.clone(), messages });
        }
        // By field name, whatever order the JSON map keeps.
        field_errors.sort_by(|a, b| a.field.cmp(&b.field));
    }
    (text("code"), text("message"), field_errors)
}

/// Refuses a path with a `.` or `..` segment, literal or percent-encoded: URL parsing (here and
/// in every server that follows the URL standard) removes it together with the segment before,
/// so the call would reach another endpoint (`secret/..` is the service root). A parameter
/// value that is exactly `.` or `..` cannot be sent as a path segment at all; one that only
/// contains dots (`a/../b`, `..x`) is sent as it is, `/` encoded.
fn refuse_dot_segments(path: &str) -> Result<(), Error> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    for segment in path.split('/') {
        if urls::is_dot_segment(segment) {
            return Err(Error::invalid(format!(
                "path {path:?} has the segment {segment:?}: a URL cannot carry `.` or `..` as a path segment (even percent-encoded, URL parsing removes it and the call would reach another endpoint)"
            )));
        }
    }
    Ok(())
}

/// A plain-text error body as a message: trimmed, cut to the excerpt length; `None` for an
/// empty body, binary data or an HTML page (the excerpt in the summary shows those).
fn text_message(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() || text.starts_with('<') {
        return None;
    }
    crate::error::excerpt(text.as_bytes())
}

/// A client's base URL, parsed once for all its calls (see [`Client::target`]).
fn parse_base(base: &str) -> Option<Arc<Url>> {
    Url::parse(base)
        .ok()
        .filter(|u| u.query().is_none() && u.fragment().is_none() && !u.cannot_be_a_base())
        .map(Arc::new)
}

/// Builds a client for the Taskcluster deployment in the environment.
pub fn root_url_from_env() -> Option<String> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    get("TASKCLUSTER_PROXY_URL")
        .or_else(|| get("TASKCLUSTER_ROOT_URL"))
        .map(|u| urls::normalize_root_url(&u).to_owned())
}

impl Client {
    /// Starts configuring a client for `root_url`: a Taskcluster root URL
    /// (`https://tc.example.com`) or a GoCD server URL (`https://ci.example.com/go`).
    pub fn builder(root_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            root_url: root_url.into(),
            auth: Auth::None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            http: None,
            session_cookie: false,
            hash_payloads: true,
        }
    }

    /// A Taskcluster client from `TASKCLUSTER_PROXY_URL` or `TASKCLUSTER_ROOT_URL` and
    /// [`Credentials::from_env`].
    /// Configuration mistakes are [`Error::Config`]s naming the variable.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// Like [`Client::from_env`], reading variables through `lookup` (useful in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Client, Error> {
        ClientBuilder::from_lookup(lookup)?.build()
    }

    /// The root URL, without trailing `/`.
    pub fn root_url(&self) -> &str {
        &self.root
    }

    /// The URL calls are relative to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The retry policy this client's calls follow (for transfers outside the request loop, such
    /// as artifact downloads, which retry a whole transfer rather than one request).
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The underlying HTTP client (it does not follow redirects).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The same client (root URL, base URL, HTTP client, retry policy, timeout) with other
    /// Taskcluster credentials, e.g. the temporary credentials the queue hands out for an object.
    pub fn with_credentials(&self, credentials: impl Into<Option<Credentials>>) -> Result<Client, Error> {
        let signer = credentials.into().as_ref().map(Signer::new).transpose()?;
        let inner = Inner {
            http: self.inner.http.clone(),
            signer,
            authorization: None,
            retry: self.inner.retry.clone(),
            timeout: self.inner.timeout,
            session: None,
            hash_payloads: self.inner.hash_payloads,
        };
        Ok(Client {
            root: self.root.clone(),
            base: self.base.clone(),
            base_url: self.base_url.clone(),
            inner: Arc::new(inner),
        })
    }

    /// The client of one Taskcluster service: calls go to `<rootUrl>/api/<service>/<version>/`.
    pub fn service(&self, service: &str, version: &str) -> Client {
        let base = urls::api(&self.root, service, version, "");
        let base = base.trim_end_matches('/');
        Client { root: self.root.clone(), base_url: parse_base(base), base: base.into(), inner: self.inner.clone() }
    }

    /// The full URL of `path` (already encoded) with `query`.
    pub fn url<K: AsRef<str>, V: AsRef<str>>(&self, path: &str, query: &[(K, V)]) -> String {
        let path = path.trim_start_matches('/');
        let mut url = String::with_capacity(self.base.len() + 1 + path.len() + 32 * query.len());
        url.push_str(&self.base);
        url.push('/');
        url.push_str(path);
        if !query.is_empty() {
            url.push('?');
            urls::push_query(&mut url, query);
        }
        url
    }

    /// A URL for a GET of `path` that carries its own authentication (a Hawk bewit) for `ttl`.
    /// Without credentials this is the plain URL.
    pub fn signed_url<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        query: &[(K, V)],
        ttl: Duration,
    ) -> Result<String, Error> {
        refuse_dot_segments(path)?;
        let plain = self.url(path, query);
        let Some(signer) = &self.inner.signer else {
            return Ok(plain);
        };
        let url = Url::parse(&plain).map_err(|e| Error::invalid(format!("{plain} is not a URL: {e}")))?;
        let resource = resource_of(&url);
        let bewit = signer.bewit(&HawkRequest::from_url("GET", &url, &resource)?, ttl)?;
        let sep = if url.query().is_some() { '&' } else { '?' };
        Ok(format!("{plain}{sep}bewit={bewit}"))
    }

    /// Sends a request, retrying as the policy allows, and returns the final response whatever
    /// its status. This is the raw API for endpoints users call by hand.
    pub async fn send(&self, mut req: Request) -> Result<Response, Error> {
        let call = self.target(&mut req)?;
        let span = tracing::info_span!(
            "api_call",
            method = %req.method,
            // Rendered (without bewit or password) only when a subscriber records the span.
            url = %crate::error::redact_url(&call.url),
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        if span.is_disabled() {
            return self.send_loop(&req, call).await;
        }
        let result = self.send_loop(&req, call).instrument(span.clone()).await;
        match &result {
            Ok(r) => {
                span.record("attempts", r.attempts);
                span.record("status", r.status);
            }
            Err(e) => {
                span.record("attempts", e.attempts());
                if let Some(s) = e.status() {
                    span.record("status", s);
                }
            }
        }
        result
    }

    /// A raw Taskcluster call: `method` on `<rootUrl>/api/<service>/<version>/<route>`, where
    /// `route` is already encoded, with an optional JSON body. Returns the final response
    /// whatever its status.
    pub async fn raw(
        &self,
        method: Method,
        service: &str,
        version: &str,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, Error> {
        let mut req = Request::new(method, route);
        req.query = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        if let Some(b) = body {
            req = req.json(b)?;
        }
        self.service(service, version).send(req).await
    }

    /// Sends a request and turns an error status into [`Error::Status`].
    pub async fn call(&self, req: Request) -> Result<Response, Error> {
        self.send(req).await?.error_for_status()
    }

    /// Sends a request and decodes the JSON answer.
    pub async fn call_json<T: DeserializeOwned>(&self, req: Request) -> Result<T, Error> {
        self.call(req).await?.json()
    }

    async fn send_loop(&self, req: &Request, call: Call) -> Result<Response, Error> {
        let (attempts, received) = self.exchange(req, &call, true).await?;
        let (status, headers, body) = match received {
            Received::Whole(status, headers, body) => (status, headers, body),
            Received::Open(mut resp) => {
                let status = resp.status().as_u16();
                let headers = std::mem::take(resp.headers_mut());
                let body = resp.bytes().await.map_err(|source| Error::transport(&call.summary(attempts), source))?;
                (status, headers, body)
            }
        };
        Ok(Response { status, headers, body, attempts, call })
    }

    /// The request loop every call goes through: each attempt is signed afresh; transport
    /// errors and 5xx are retried as the policy allows; a 401 while a session cookie is in use
    /// drops the cookie and tries once more with the password (sessions expire on the server).
    /// Error bodies are always read; success bodies only when `read_body`. Returns the number
    /// of attempts made with what the last one received.
    async fn exchange(&self, req: &Request, call: &Call, read_body: bool) -> Result<(u32, Received), Error> {
        let retry = &self.inner.retry;
        let may_retry = retry.allows(&req.method);
        let mut used_session_fallback = false;
        let mut retries_done = 0u32;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let builder = self.prepare(req, call)?;
            let outcome = match builder.send().await {
                Ok(mut resp) => {
                    self.remember_session(resp.headers());
                    let status = resp.status().as_u16();
                    if read_body || status >= 400 {
                        let headers = std::mem::take(resp.headers_mut());
                        resp.bytes().await.map(|body| Received::Whole(status, headers, body))
                    } else {
                        Ok(Received::Open(resp))
                    }
                }
                Err(e) => Err(e),
            };
            let status = match &outcome {
                Ok(Received::Whole(s, ..)) => Some(*s),
                Ok(Received::Open(r)) => Some(r.status().as_u16()),
                Err(_) => None,
            };
            if status == Some(401) && !used_session_fallback && self.drop_session() {
                used_session_fallback = true;
                continue;
            }
            let retryable = match (&outcome, status) {
                (Err(e), _) => crate::retry::may_succeed_later(e),
                (_, Some(s)) => s >= 500,
                (_, None) => false,
            };
            let delay = if retryable && may_retry { retry.delay(retries_done) } else { None };
            let Some(delay) = delay else {
                return outcome
                    .map(|received| (attempts, received))
                    .map_err(|source| Error::transport(&call.summary(attempts), source));
            };
            tracing::debug!(
                attempt = attempts,
                delay_ms = delay.as_millis() as u64,
                error = %match &outcome { Ok(_) => format!("HTTP {}", status.unwrap_or_default()), Err(e) => e.to_string() },
                "retrying"
            );
            // Release the failed response's connection before waiting.
            drop(outcome);
            retries_done += 1;
            tokio::time::sleep(delay).await;
        }
    }

    /// Opens a response for streaming: the same signing and retries as [`Client::send`], but the
    /// body is left unread. Error statuses become [`Error::Status`].
    pub async fn open(&self, mut req: Request) -> Result<(reqwest::Response, CallSummary), Error> {
        let call = self.target(&mut req)?;
        match self.exchange(&req, &call, false).await? {
            (attempts, Received::Open(resp)) => Ok((resp, call.summary(attempts))),
            (attempts, Received::Whole(status, headers, body)) => {
                Err(Response { status, headers, body, attempts, call }.status_error())
            }
        }
    }

    /// The URL a request goes to, with the body moved out of `req` to be shared by every
    /// attempt. The base URL was parsed when the client was made; here only the path and the
    /// query (encoded once, straight into the URL) are parsed, as `Url::parse` of the whole
    /// text would parse them.
    fn target(&self, req: &mut Request) -> Result<Call, Error> {
        refuse_dot_segments(&req.path)?;
        let path = req.path.trim_start_matches('/');
        let url = match &self.base_url {
            // A path with its own `?` or `#` is split by the full parser, as before.
            Some(base) if !path.contains(['?', '#']) => {
                let mut url = Url::clone(base);
                let base_path = url.path().trim_end_matches('/');
                let mut full = String::with_capacity(base_path.len() + 1 + path.len());
                full.push_str(base_path);
                full.push('/');
                full.push_str(path);
                url.set_path(&full);
                if !req.query.is_empty() {
                    let mut query = String::with_capacity(32 * req.query.len());
                    urls::push_query(&mut query, &req.query);
                    url.set_query(Some(&query));
                }
                url
            }
            _ => {
                let text = self.url(path, &req.query);
                Url::parse(&text).map_err(|e| Error::invalid(format!("{text} is not a URL: {e}")))?
            }
        };
        Call::new(req.method.clone(), url, &mut req.body)
    }

    fn prepare(&self, req: &Request, call: &Call) -> Result<reqwest::RequestBuilder, Error> {
        let mut b = self.inner.http.request(req.method.clone(), call.url.clone()).timeout(self.inner.timeout);
        for (name, value) in &req.headers {
            b = b.header(name, value);
        }
        if let Some(ct) = &call.content_type {
            b = b.header(CONTENT_TYPE, ct.clone());
        }
        b = match &req.body {
            Body::Empty => {
                if matches!(req.method, Method::POST | Method::PUT | Method::PATCH) {
                    b.header(CONTENT_LENGTH, "0")
                } else {
                    b
                }
            }
            Body::Multipart { field, file_name, data } => {
                let part = reqwest::multipart::Part::stream(data.clone()).file_name(file_name.clone());
                b.multipart(reqwest::multipart::Form::new().part(field.clone(), part))
            }
            _ => b.body(call.body.clone()),
        };
        if let Some(session) = self.session_value() {
            b = b.header(COOKIE, session);
        } else if let Some(auth) = &self.inner.authorization {
            b = b.header(AUTHORIZATION, auth.clone());
        } else if let Some(signer) = &self.inner.signer {
            let hawk_req = HawkRequest::from_url(req.method.as_str(), &call.url, resource(&call.url))?;
            let content_type = call.content_type.as_ref().and_then(|ct| ct.to_str().ok());
            let hash = match (self.inner.hash_payloads, content_type) {
                (true, Some(ct)) => Some(payload_hash(ct, &call.body)?),
                _ => None,
            };
            b = b.header(AUTHORIZATION, secret_header(signer.header(&hawk_req, hash.as_deref())?)?);
        }
        Ok(b)
    }

    fn session_value(&self) -> Option<HeaderValue> {
        let session = self.inner.session.as_ref()?;
        session.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn remember_session(&self, headers: &HeaderMap) {
        let Some(session) = &self.inner.session else { return };
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or("").trim();
            if pair.starts_with("JSESSIONID=") {
                if let Ok(mut v) = HeaderValue::from_str(pair) {
                    v.set_sensitive(true);
                    *session.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
                }
            }
        }
    }

    /// Forgets the session cookie; true if there was one.
    fn drop_session(&self) -> bool {
        let Some(session) = &self.inner.session else { return false };
        session.lock().unwrap_or_else(|p| p.into_inner()).take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_header_is_the_header_a_checked_one_would_be() {
        const CONFIRM: HeaderName = HeaderName::from_static("confirm");
        let checked = Request::new(Method::POST, "p").header("Confirm", "true").unwrap().header("accept", "text/csv");
        let constant = Request::new(Method::POST, "p")
            .with_header(CONFIRM, HeaderValue::from_static("true"))
            .with_header(reqwest::header::ACCEPT, HeaderValue::from_static("text/csv"));
        assert_eq!(checked.unwrap().headers, constant.headers);
    }

    /// Vector `go2019_content_type`: Content-Type iff the body is non-empty.
    #[test]
    fn content_type_only_with_a_body() {
        assert_eq!(Body::Empty.content_type(), None);
        assert_eq!(Body::Json(Vec::new()).content_type(), None);
        assert_eq!(Body::Json(b"{}".to_vec()).content_type(), Some("application/json"));
        assert_eq!(Body::form(&serde_json::json!({"a": "b c", "n": 1, "skip": null})).unwrap().bytes(), b"a=b%20c&n=1");
    }

    /// A call's URL, built from the base parsed once, is the URL the whole text parses to.
    #[test]
    fn urls_from_the_parsed_base_match_parsing_the_whole_text() {
        let roots =
            ["https://tc.example.com", "http://127.0.0.1:8080", "https://ci.example.com/go/", "http://[::1]:81/x"];
        let paths =
            ["", "/", "task/abc", "task/abc/", "a:b/c", "x%2Fy/%20z", "sp ace/ü/\\back", "a//b", "q?x=1", "f#frag"];
        let queries: [&[(&str, &str)]; 3] = [&[], &[("limit", "10")], &[("continuationToken", "a/b c"), ("ü", "&=")]];
        for root in roots {
            let root_client = Client::builder(root).build().unwrap();
            for client in [root_client.service("queue", "v1"), root_client] {
                assert!(client.base_url.is_some(), "{root}");
                for path in paths {
                    for query in queries {
                        let mut req = Request::new(Method::GET, path);
                        req.query = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
                        let built = client.target(&mut req).unwrap().url;
                        let parsed = Url::parse(&client.url(path, query)).unwrap();
                        assert_eq!(built.as_str(), parsed.as_str(), "{root} {path:?} {query:?}");
                    }
                }
            }
        }
    }

    /// A `:` in the user name would move the split between name and password.
    #[test]
    fn basic_auth_refuses_a_colon_in_the_user_name() {
        let e = Client::builder("http://127.0.0.1:1/go").basic_auth("a:b", "secret").build().expect_err("refused");
        assert!(e.to_string().contains("\"a:b\" contains `:`"), "{e}");
        assert!(!e.to_string().contains("secret"));
        Client::builder("http://127.0.0.1:1/go")
            .basic_auth("a", "pass:word")
            .build()
            .expect("a colon in the password is fine");
    }

    /// GoCD's scheduling fields: `materials[NAME]=revision`, `variables[NAME]=value`.
    #[test]
    fn form_nests_objects_in_brackets() {
        // Keys in sorted order: serde_json's map keeps insertion order when a crate in the
        // build enables `preserve_order`, and sorts them otherwise.
        let body = Body::form(&serde_json::json!({
            "empty": {},
            "materials": {"repo-name:pkg-name": "gcc-4.4.7-3.el6.x86_64", "svn_material": "3456"},
            "variables": {"ENV_VAR_1": "value1"},
        }))
        .unwrap();
        assert_eq!(
            std::str::from_utf8(body.bytes()).unwrap(),
            "materials%5Brepo-name%3Apkg-name%5D=gcc-4.4.7-3.el6.x86_64&materials%5Bsvn_material%5D=3456&variables%5BENV_VAR_1%5D=value1"
        );
    }

    /// A 404 of GoCD's unversioned APIs: text under a JSON content type.
    #[test]
    fn plain_text_error_bodies_are_the_message() {
        assert_eq!(parse_error_body(b"Not Found").1.as_deref(), Some("Not Found"));
        assert_eq!(
            parse_error_body(b"Not Found { Pipeline x not found }\n").1.as_deref(),
            Some("Not Found { Pipeline x not found }")
        );
        assert_eq!(
            parse_error_body(br#""Pipeline named [x] is not known""#).1.as_deref(),
            Some("Pipeline named [x] is not known")
        );
        assert_eq!(parse_error_body(br#"{"message": "m"}"#).1.as_deref(), Some("m"));
        assert_eq!(parse_error_body(b"<html><body>Error</body></html>").1, None);
        assert_eq!(parse_error_body(b"  ").1, None);
        assert_eq!(parse_error_body(&[0xff, 0xfe]).1, None);
    }
}
