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

use crate::credentials::Credentials;
use crate::error::{excerpt, CallSummary, Error, FieldError};
use crate::hawk::{payload_hash, resource_of, HawkRequest, Signer};
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

    /// Use this `reqwest::Client` (custom TLS roots, proxies, ...). It should not follow
    /// redirects: Taskcluster's artifact endpoints answer 303 and the caller wants the answer.
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

    /// Send a Hawk payload hash with each request body (off by default, as in Taskcluster's
    /// own clients; the server then checks the body against it).
    pub fn hash_payloads(mut self, enabled: bool) -> Self {
        self.hash_payloads = enabled;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let root = urls::normalize_root_url(&self.root_url).to_owned();
        if !root.is_empty() {
            Url::parse(&root).map_err(|e| Error::invalid(format!("root URL {root:?} is not a URL: {e}")))?;
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::invalid(format!("cannot build the HTTP client: {e}")))?,
        };
        let authorization = match &self.auth {
            Auth::None | Auth::Hawk(_) => None,
            Auth::Basic { username, password } => {
                Some(secret_header(&format!("Basic {}", STANDARD.encode(format!("{username}:{password}"))))?)
            }
            Auth::Bearer(token) => Some(secret_header(&format!("Bearer {token}"))?),
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
        Ok(Client { base: root.clone().into(), root: root.into(), inner: Arc::new(inner) })
    }
}

fn secret_header(value: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value)
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
    /// Strings are sent as they are, other values as JSON text; `null`s are left out.
    pub fn form<T: Serialize + ?Sized>(value: &T) -> Result<Body, Error> {
        let v = serde_json::to_value(value).map_err(|e| Error::invalid(format!("cannot serialize the form: {e}")))?;
        let serde_json::Value::Object(map) = v else {
            return Err(Error::invalid("a form body must be an object"));
        };
        let pairs: Vec<(String, String)> = map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect();
        Ok(Body::Form(urls::encode_query(&pairs)))
    }

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

    /// Adds a header. Header values built from caller input are checked here.
    pub fn header(mut self, name: &'static str, value: &str) -> Result<Self, Error> {
        let v = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid(format!("{value:?} is not a valid value for header {name}")))?;
        self.headers.push((HeaderName::from_static(name), v));
        Ok(self)
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
    /// The call, for error messages built from this response.
    pub summary: CallSummary,
}

impl Response {
    /// A header as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode { summary: self.summary_with_body(), source })
    }

    /// The body as text (lossy UTF-8), whatever the Content-Type claims.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn summary_with_body(&self) -> Box<CallSummary> {
        let mut s = self.summary.clone();
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
fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>, Vec<FieldError>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None, Vec::new());
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
            hash_payloads: false,
        }
    }

    /// A Taskcluster client from `TASKCLUSTER_PROXY_URL` or `TASKCLUSTER_ROOT_URL` and
    /// [`Credentials::from_env`].
    pub fn from_env() -> Result<Client, Error> {
        let root = root_url_from_env()
            .ok_or_else(|| Error::invalid("neither TASKCLUSTER_PROXY_URL nor TASKCLUSTER_ROOT_URL is set"))?;
        Client::builder(root).credentials(Credentials::from_env()).build()
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
        Ok(Client { root: self.root.clone(), base: self.base.clone(), inner: Arc::new(inner) })
    }

    /// The client of one Taskcluster service: calls go to `<rootUrl>/api/<service>/<version>/`.
    pub fn service(&self, service: &str, version: &str) -> Client {
        Client {
            root: self.root.clone(),
            base: urls::api(&self.root, service, version, "").trim_end_matches('/').into(),
            inner: self.inner.clone(),
        }
    }

    /// The full URL of `path` (already encoded) with `query`.
    /// With an empty root URL, a `path` that is already a full URL is used as it is (the
    /// taskcluster-proxy style of calling).
    pub fn url<K: AsRef<str>, V: AsRef<str>>(&self, path: &str, query: &[(K, V)]) -> String {
        if self.base.is_empty() && path.contains("://") {
            return urls::with_query(path.to_owned(), query);
        }
        urls::with_query(format!("{}/{}", self.base, path.trim_start_matches('/')), query)
    }

    /// A URL for a GET of `path` that carries its own authentication (a Hawk bewit) for `ttl`.
    /// Without credentials this is the plain URL.
    pub fn signed_url<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        query: &[(K, V)],
        ttl: Duration,
    ) -> Result<String, Error> {
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
    pub async fn send(&self, req: Request) -> Result<Response, Error> {
        let (url, summary) = self.target(&req)?;
        let span = tracing::info_span!(
            "api_call",
            method = %req.method,
            url = %summary.url,
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let result = self.send_loop(&req, &url, summary).instrument(span.clone()).await;
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

    async fn send_loop(&self, req: &Request, url: &Url, mut summary: CallSummary) -> Result<Response, Error> {
        let (status, headers, body) = match self.exchange(req, url, &mut summary, true).await? {
            Received::Whole(status, headers, body) => (status, headers, body),
            Received::Open(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let body = resp
                    .bytes()
                    .await
                    .map_err(|source| Error::Transport { summary: Box::new(summary.clone()), source })?;
                (status, headers, body)
            }
        };
        Ok(Response { status, headers, body, attempts: summary.attempts, summary })
    }

    /// The request loop every call goes through: each attempt is signed afresh; transport
    /// errors and 5xx are retried as the policy allows; a 401 while a session cookie is in use
    /// drops the cookie and tries once more with the password (sessions expire on the server).
    /// Error bodies are always read; success bodies only when `read_body`.
    async fn exchange(
        &self,
        req: &Request,
        url: &Url,
        summary: &mut CallSummary,
        read_body: bool,
    ) -> Result<Received, Error> {
        let retry = &self.inner.retry;
        let may_retry = retry.allows(&req.method);
        let mut used_session_fallback = false;
        let mut retries_done = 0u32;
        loop {
            summary.attempts += 1;
            let builder = self.prepare(req, url)?;
            let outcome = match builder.send().await {
                Ok(resp) => {
                    self.remember_session(resp.headers());
                    let status = resp.status().as_u16();
                    if read_body || status >= 400 {
                        let headers = resp.headers().clone();
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
            let retryable = status.is_none_or(|s| s >= 500);
            let delay = if retryable && may_retry { retry.delay(retries_done) } else { None };
            let Some(delay) = delay else {
                return outcome.map_err(|source| Error::Transport { summary: Box::new(summary.clone()), source });
            };
            tracing::debug!(
                attempt = summary.attempts,
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
    pub async fn open(&self, req: Request) -> Result<(reqwest::Response, CallSummary), Error> {
        let (url, mut summary) = self.target(&req)?;
        match self.exchange(&req, &url, &mut summary, false).await? {
            Received::Open(resp) => Ok((resp, summary)),
            Received::Whole(status, headers, body) => {
                let attempts = summary.attempts;
                Err(Response { status, headers, body, attempts, summary }.status_error())
            }
        }
    }

    /// The URL a request goes to, and the summary its errors will carry.
    fn target(&self, req: &Request) -> Result<(Url, CallSummary), Error> {
        let text = self.url(&req.path, &req.query);
        let url = Url::parse(&text).map_err(|e| Error::invalid(format!("{text} is not a URL: {e}")))?;
        let mut summary = CallSummary::new(req.method.as_str(), &url);
        summary.request_body = excerpt(req.body.bytes());
        Ok((url, summary))
    }

    fn prepare(&self, req: &Request, url: &Url) -> Result<reqwest::RequestBuilder, Error> {
        let mut b = self.inner.http.request(req.method.clone(), url.clone()).timeout(self.inner.timeout);
        for (name, value) in &req.headers {
            b = b.header(name, value);
        }
        let content_type = req.body.content_type();
        if let Some(ct) = content_type {
            b = b.header(CONTENT_TYPE, ct);
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
            other => b.body(other.bytes().to_vec()),
        };
        if let Some(session) = self.session_value() {
            b = b.header(COOKIE, session);
        } else if let Some(auth) = &self.inner.authorization {
            b = b.header(AUTHORIZATION, auth.clone());
        } else if let Some(signer) = &self.inner.signer {
            let resource = resource_of(url);
            let hawk_req = HawkRequest::from_url(req.method.as_str(), url, &resource)?;
            let hash = match (self.inner.hash_payloads, content_type) {
                (true, Some(ct)) => Some(payload_hash(ct, req.body.bytes())?),
                _ => None,
            };
            b = b.header(AUTHORIZATION, secret_header(&signer.header(&hawk_req, hash.as_deref())?)?);
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

    /// Vector `go2019_content_type`: Content-Type iff the body is non-empty.
    #[test]
    fn content_type_only_with_a_body() {
        assert_eq!(Body::Empty.content_type(), None);
        assert_eq!(Body::Json(Vec::new()).content_type(), None);
        assert_eq!(Body::Json(b"{}".to_vec()).content_type(), Some("application/json"));
        assert_eq!(Body::form(&serde_json::json!({"a": "b c", "n": 1, "skip": null})).unwrap().bytes(), b"a=b%20c&n=1");
    }
}
