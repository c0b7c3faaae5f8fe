//! A fake GoCD server on loopback that replays the documented examples.
//!
//! [`GoCdServer`] loads every `tests/gocd/examples/*.json` (see `tests/gocd/README.md`) and, for
//! each request, finds the example with the same method and path, then checks what the GoCD
//! documentation requires of the request:
//!
//! - the query (the same set of name/value pairs);
//! - the `Accept` header, exactly (where the curl sends none, the media type of the documented
//!   answer's `Content-Type`; anything when that is not documented either);
//! - authentication: HTTP basic auth of a configured user, or a `JSESSIONID` cookie the server
//!   issued (every answer to a password-authenticated request sets a new one, `Path=/go`, so a
//!   client that reuses it gets exactly one);
//! - every other documented header exactly (`Confirm: true`, `If-Match`);
//! - the body: JSON bodies as JSON values (every documented field present with the documented
//!   value, see [`contained_in`]), form bodies as key/value sets, multipart uploads by a file
//!   part with the documented content, raw uploads byte for byte. Where the example shows a
//!   vendor JSON `Content-Type` (`application/vnd.go.cd.v1+json`), plain `application/json` is
//!   accepted too: GoCD reads both, and the description format always sends the latter.
//!
//! How a documented body is sent ([`BodyKind`]) follows from the example: a `Content-Type`
//! header means JSON, an object without one a form (curl `-d`), a string an upload, multipart
//! (curl `-F`) or raw (curl `-T`) as the endpoint checklist `../shared/gocd/endpoints.json` says.
//!
//! A request that passes gets the documented status, headers (`Content-Type`, `ETag`, ...) and
//! body. One that does not gets `400` with a GoCD-style error body
//! `{"message": "...", "data": {"errors": {"<what>": ["<why>"]}}}`, so the client's error says
//! what mismatched; a present but different `If-Match` gets `412`, as GoCD answers a stale
//! ETag. Unauthenticated requests get `401`, requests no example documents `404`.
//!
//! Tests can add routes ([`GoCdServer::on`]), inject faults ([`GoCdServer::fail`],
//! [`GoCdServer::not_ready`]), change a documented response header
//! ([`GoCdServer::set_response_header`]), and read what arrived ([`GoCdServer::requests`]).
//!
//! ```no_run
//! # async fn demo() {
//! use fake_servers::gocd::{GoCdServer, PASSWORD, USER};
//! let server = GoCdServer::start().await; // accepts basic auth of USER "admin", PASSWORD "badger"
//! server.fail("/go/api/version", 503, 1); // the next call of the version endpoint gets 503
//! let base_url = server.base_url(); // http://127.0.0.1:PORT/go, what a GoCD client is built for
//! # }
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use hyper::header::HeaderMap;
use serde_json::{json, Value};

use crate::loopback::{self, lock, Answer, Loopback};

/// The user [`GoCdServer::start`] accepts.
pub const USER: &str = "admin";
/// Its password.
pub const PASSWORD: &str = "badger";

// ---------------------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------------------

/// How a documented request carries its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// JSON (the example shows a `Content-Type`).
    Json,
    /// `application/x-www-form-urlencoded` fields (curl `-d`; the example body is an object and
    /// shows no `Content-Type`).
    Form,
    /// A `multipart/form-data` file upload (curl `-F`; the checklist says `multipart`).
    Multipart,
    /// The file content as the raw body (curl `-T`; the checklist says `binary`).
    Raw,
}

/// One documented request/response pair of `tests/gocd/examples/*.json`.
#[derive(Debug, Clone)]
pub struct Example {
    /// The examples file it comes from (`01-agents.json`).
    pub file: String,
    /// The endpoint's name in the descriptions (`getAgent`).
    pub endpoint: String,
    /// HTTP method, upper case.
    pub method: String,
    /// The documented path (`/go/api/agents/<uuid value>`), not percent-encoded.
    pub path: String,
    /// The documented query.
    pub query: BTreeMap<String, String>,
    /// The documented request headers (never `Authorization`).
    pub headers: Vec<(String, String)>,
    /// The documented request body (see `tests/gocd/README.md`).
    pub body: Value,
    /// How the body is sent.
    pub body_kind: BodyKind,
    /// The documented status.
    pub status: u16,
    /// The documented response headers.
    pub response_headers: Vec<(String, String)>,
    /// The documented response body: JSON, a string (text, XML, CSV) or `null`.
    pub response_body: Value,
}

fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

impl Example {
    /// A documented request header.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// A documented response header.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header_in(&self.response_headers, name)
    }

    /// The path's segments after `/go/` (`["api", "agents", "<uuid>"]`).
    pub fn segments(&self) -> Vec<&str> {
        self.path.trim_start_matches("/go/").split('/').collect()
    }

    /// Segment `i` after `/go/`. Panics when the path is shorter.
    pub fn seg(&self, i: usize) -> &str {
        let segs = self.segments();
        segs.get(i).copied().unwrap_or_else(|| panic!("{}: path {} has no segment {i}", self.endpoint, self.path))
    }

    /// Segments `i..` after `/go/`, joined with `/` (a wildcard parameter).
    pub fn rest(&self, i: usize) -> String {
        self.segments()[i..].join("/")
    }

    /// The documented request body as text (uploads).
    pub fn body_text(&self) -> &str {
        self.body.as_str().unwrap_or_else(|| panic!("{}: the documented body is not a string", self.endpoint))
    }

    /// Whether the documented response body is JSON (an object or an array).
    pub fn response_is_json(&self) -> bool {
        self.response_body.is_object() || self.response_body.is_array()
    }

    /// `METHOD path` for messages.
    pub fn label(&self) -> String {
        format!("{} ({} {} in {})", self.endpoint, self.method, self.path, self.file)
    }
}

/// `tests/gocd/examples`.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gocd/examples")
}

/// `../shared/gocd/endpoints.json` beside the checkout (the endpoint checklist).
pub fn checklist_path() -> PathBuf {
    crate::shared::path("gocd/endpoints.json")
}

/// `schemas/gocd/endpoints` (the endpoint descriptions).
pub fn descriptions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/gocd/endpoints")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The sorted `*.json` files of `dir`.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The checklist's entries (`endpoints` of `../shared/gocd/endpoints.json`).
pub fn load_checklist() -> Vec<Value> {
    match read_json(&checklist_path()).get("endpoints") {
        Some(Value::Array(entries)) => entries.clone(),
        _ => panic!("{} has no `endpoints` array", checklist_path().display()),
    }
}

/// Whether `path` matches a checklist route (`:name` one segment or part of it, `*name` the rest
/// of the path, a `?query` tail ignored).
pub fn checklist_route_matches(route: &str, path: &str) -> bool {
    let route = route.split('?').next().unwrap_or(route);
    glob(route.as_bytes(), path.as_bytes())
}

fn glob(pat: &[u8], s: &[u8]) -> bool {
    match pat.first() {
        None => s.is_empty(),
        Some(&c @ (b':' | b'*')) => {
            let name_len = pat[1..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            let rest = &pat[1 + name_len..];
            // At least one character; `:x` stops at `/`.
            (1..=s.len()).take_while(|&n| c == b'*' || s[n - 1] != b'/').any(|n| glob(rest, &s[n..]))
        }
        Some(&c) => s.first() == Some(&c) && glob(&pat[1..], &s[1..]),
    }
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect(),
        _ => Vec::new(),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `tests/gocd/recorded`: responses shaped like those of real GoCD servers where they differ
/// from the documentation (same format as the examples, plus a `note`).
pub fn recorded_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gocd/recorded")
}

/// Loads every example of `tests/gocd/examples` (in file order). Panics on a malformed file.
pub fn load_examples() -> Vec<Example> {
    load_examples_from(&examples_dir())
}

/// Loads the real-server-shaped answers of `tests/gocd/recorded` (serve them with
/// [`GoCdServer::with_examples`]). Panics on a malformed file.
pub fn load_recorded() -> Vec<Example> {
    load_examples_from(&recorded_dir())
}

fn load_examples_from(dir: &Path) -> Vec<Example> {
    let checklist = load_checklist();
    let mut out = Vec::new();
    for file in json_files(dir) {
        let doc = read_json(&file);
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(Value::Array(examples)) = doc.get("examples") else {
            panic!("{name}: no `examples` array");
        };
        for e in examples {
            let text = |v: &Value| v.as_str().map(str::to_owned);
            let endpoint = text(&e["endpoint"]).unwrap_or_else(|| panic!("{name}: an example has no endpoint"));
            let req = &e["request"];
            let resp = &e["response"];
            let method =
                text(&req["method"]).unwrap_or_else(|| panic!("{name}/{endpoint}: no method")).to_ascii_uppercase();
            let path = text(&req["path"]).unwrap_or_else(|| panic!("{name}/{endpoint}: no path"));
            let headers = pairs(&req["headers"]);
            let body = req["body"].clone();
            let body_kind = match &body {
                Value::Null => BodyKind::None,
                Value::String(_) => {
                    let documented = checklist
                        .iter()
                        .filter(|c| c["method"].as_str() == Some(method.as_str()))
                        .find(|c| c["path"].as_str().is_some_and(|r| checklist_route_matches(r, &path)))
                        .and_then(|c| c["request_body"].as_str());
                    match documented {
                        Some("multipart") => BodyKind::Multipart,
                        Some("binary") => BodyKind::Raw,
                        other => panic!("{name}/{endpoint}: a string body, but the checklist says {other:?}"),
                    }
                }
                _ if header_in(&headers, "content-type").is_some() => BodyKind::Json,
                Value::Object(_) => BodyKind::Form,
                _ => panic!("{name}/{endpoint}: a JSON body without a documented Content-Type"),
            };
            out.push(Example {
                file: name.clone(),
                endpoint,
                method,
                path,
                query: pairs(&req["query"]).into_iter().collect(),
                headers,
                body,
                body_kind,
                status: resp["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                response_headers: pairs(&resp["headers"]),
                response_body: resp["body"].clone(),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// JSON containment
// ---------------------------------------------------------------------------------------------

/// Where `documented` is not contained in `actual`: every key of every documented object must be
/// present in `actual` with a contained value, arrays must have the same length and contained
/// elements, and scalars must be equal (a string never equals a number: `"1"` is not `1`;
/// numbers compare by value, so `1` equals `1.0`).
///
/// A documented `null` is also satisfied by an absent key: GoCD reads a missing attribute as
/// `null`, and the generated types leave `None` out when they encode. [`leniencies`] lists
/// those places.
///
/// Returns one message per difference, each starting with a JSON pointer.
pub fn contained_in(documented: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    contained_at(documented, actual, &mut String::new(), &mut out);
    out
}

fn contained_at(doc: &Value, act: &Value, at: &mut String, out: &mut Vec<String>) {
    let here = |at: &str| if at.is_empty() { "/".to_owned() } else { at.to_owned() };
    match (doc, act) {
        (Value::Object(d), Value::Object(a)) => {
            for (k, dv) in d {
                let len = at.len();
                at.push('/');
                at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                match a.get(k) {
                    Some(av) => contained_at(dv, av, at, out),
                    None if dv.is_null() => {}
                    None => out.push(format!("{at}: missing (documented {})", short(dv))),
                }
                at.truncate(len);
            }
        }
        (Value::Array(d), Value::Array(a)) => {
            if d.len() != a.len() {
                out.push(format!("{}: {} elements, documented {}", here(at), a.len(), d.len()));
            }
            for (i, (dv, av)) in d.iter().zip(a).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                contained_at(dv, av, at, out);
                at.truncate(len);
            }
        }
        (Value::Number(d), Value::Number(a)) => {
            let same = match (d.as_i64(), a.as_i64(), d.as_u64(), a.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => d.as_f64() == a.as_f64(),
            };
            if !same {
                out.push(format!("{}: {a}, documented {d}", here(at)));
            }
        }
        (d, a) if d == a => {}
        (d, a) => out.push(format!("{}: {}, documented {}", here(at), short(a), short(d))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

/// Where [`contained_in`] was lenient: documented `null`s that `actual` leaves out, and documented
/// numbers that `actual` writes differently (`1` as `1.0`). One message per place.
pub fn leniencies(documented: &Value, actual: &Value) -> Vec<String> {
    fn walk(d: &Value, a: &Value, at: &str, out: &mut Vec<String>) {
        match (d, a) {
            (Value::Object(d), Value::Object(a)) => {
                for (k, dv) in d {
                    let p = format!("{at}/{k}");
                    match a.get(k) {
                        Some(av) => walk(dv, av, &p, out),
                        None if dv.is_null() => out.push(format!("{p}: documented null left out")),
                        None => {}
                    }
                }
            }
            (Value::Array(d), Value::Array(a)) => {
                for (i, (dv, av)) in d.iter().zip(a).enumerate() {
                    walk(dv, av, &format!("{at}/{i}"), out);
                }
            }
            (Value::Number(d), Value::Number(a)) if d.to_string() != a.to_string() && d.as_f64() == a.as_f64() => {
                out.push(format!("{at}: documented {d} written as {a}"));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(documented, actual, "", &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Small codecs
// ---------------------------------------------------------------------------------------------

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`), lossily as UTF-8.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes `a=1&b=2` (query strings, form bodies).
pub fn decode_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The form field name.
    pub name: String,
    /// The file name, for a file part.
    pub file_name: Option<String>,
    /// The part's own `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The content.
    pub data: Bytes,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn disposition_param(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Parses a `multipart/form-data` body with `boundary`. `None` when it is malformed.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delim = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delim, 0)? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Some(parts);
        }
        pos += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let next = find(body, &[b"\r\n".as_slice(), &delim].concat(), head_end + 4)?;
        let data = Bytes::copy_from_slice(&body[head_end + 4..next]);
        let mut name = None;
        let mut file_name = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else { continue };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_param(v, "name");
                file_name = disposition_param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_owned());
            }
        }
        parts.push(Part { name: name?, file_name, content_type, data });
        pos = next + 2 + delim.len();
    }
}

fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn is_json_media_type(m: &str) -> bool {
    m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// How a request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthUsed {
    /// Basic auth of this (configured) user.
    Password(String),
    /// A session cookie the server issued.
    Session(String),
    /// Neither, or wrong credentials (the reason).
    Failed(String),
}

/// One request the server received, with what it answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method, upper case.
    pub method: String,
    /// The path as sent (percent-encoded), without the query.
    pub raw_path: String,
    /// The path, percent-decoded.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// The parts of a `multipart/form-data` body (empty otherwise).
    pub parts: Vec<Part>,
    /// How it authenticated.
    pub auth: AuthUsed,
    /// The example it matched (its endpoint name), if one did.
    pub endpoint: Option<String>,
    /// What did not match the documentation (field → reason); empty when it matched.
    pub mismatches: Vec<(String, String)>,
    /// The status the server answered.
    pub status: u16,
    /// The session cookie value set by the answer, if any.
    pub set_session: Option<String>,
}

impl Recorded {
    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        loopback::header(&self.headers, name)
    }
}

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// A reply with no headers and an empty body.
    pub fn status(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Bytes::new() }
    }

    /// A JSON reply (`application/json; charset=utf-8`).
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply::bytes(status, "application/json; charset=utf-8", serde_json::to_vec(body).unwrap_or_default())
    }

    /// A reply with this content type and body.
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }

    /// GoCD's error body: `{"message": ..., "data": {"errors": {field: [reason]}}}` (no `data`
    /// when `errors` is empty).
    pub fn gocd_error(status: u16, message: &str, errors: &[(String, String)]) -> Reply {
        let mut body = json!({ "message": message });
        if !errors.is_empty() {
            let mut map = serde_json::Map::new();
            for (field, reason) in errors {
                let entry = map.entry(field.clone()).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = entry {
                    list.push(Value::String(reason.clone()));
                }
            }
            body["data"] = json!({ "errors": map });
        }
        Reply::json(status, &body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

struct Route {
    method: String,
    path: String,
    handler: Handler,
}

#[derive(Debug, Clone)]
enum FaultKind {
    Status(u16),
    NotReady,
}

#[derive(Debug, Clone)]
struct Fault {
    method: Option<String>,
    path: String,
    kind: FaultKind,
    remaining: usize,
}

#[derive(Default)]
struct State {
    examples: Vec<Example>,
    users: Mutex<HashMap<String, String>>,
    sessions: Mutex<HashSet<String>>,
    next_session: AtomicU64,
    routes: Mutex<Vec<Route>>,
    faults: Mutex<Vec<Fault>>,
    header_overrides: Mutex<Vec<(String, String, String, String)>>,
    requests: Mutex<Vec<Recorded>>,
}

/// A running fake GoCD on `127.0.0.1`; it stops when dropped.
#[derive(Debug)]
pub struct GoCdServer {
    server: Loopback<State>,
}

impl GoCdServer {
    /// Serves every documented example, for user [`USER`] with [`PASSWORD`].
    pub async fn start() -> GoCdServer {
        GoCdServer::with_examples(load_examples()).await
    }

    /// Serves these examples (tests may edit them), for user [`USER`] with [`PASSWORD`].
    /// Binds `127.0.0.1:0`; panics if loopback cannot be bound.
    pub async fn with_examples(examples: Vec<Example>) -> GoCdServer {
        let users = HashMap::from([(USER.to_owned(), PASSWORD.to_owned())]);
        let state = State { examples, users: Mutex::new(users), ..State::default() };
        GoCdServer { server: loopback::serve(state, handle).await }
    }

    /// `http://127.0.0.1:PORT/go`, the base URL a GoCD client is built for.
    pub fn base_url(&self) -> String {
        format!("http://{}/go", self.server.addr())
    }

    fn state(&self) -> &State {
        self.server.state()
    }

    /// The examples served.
    pub fn examples(&self) -> &[Example] {
        &self.state().examples
    }

    /// Accepts basic auth of `user` with `password` too.
    pub fn add_user(&self, user: &str, password: &str) {
        lock(&self.state().users).insert(user.to_owned(), password.to_owned());
    }

    /// Forgets every session, as a restarted server or a session timeout would: requests that
    /// carry an old cookie get `401`.
    pub fn expire_sessions(&self) {
        lock(&self.state().sessions).clear();
    }

    /// Answers `method path` (exact, decoded path; query ignored) with `handler`, after
    /// authentication and before the examples.
    pub fn on<F>(&self, method: &str, path: &str, handler: F)
    where
        F: Fn(&Recorded) -> Reply + Send + Sync + 'static,
    {
        lock(&self.state().routes).push(Route {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            handler: Arc::new(handler),
        });
    }

    /// Answers the next `times` authenticated requests for `path` (any method) with `status`
    /// and a GoCD error body.
    pub fn fail(&self, path: &str, status: u16, times: usize) {
        self.push_fault(None, path, FaultKind::Status(status), times);
    }

    /// Like [`GoCdServer::fail`], for one method only.
    pub fn fail_method(&self, method: &str, path: &str, status: u16, times: usize) {
        self.push_fault(Some(method.to_ascii_uppercase()), path, FaultKind::Status(status), times);
    }

    /// Answers the next `times` authenticated GETs of `path` with `202 Accepted` (GoCD still
    /// compressing an artifact directory).
    pub fn not_ready(&self, path: &str, times: usize) {
        self.push_fault(Some("GET".into()), path, FaultKind::NotReady, times);
    }

    fn push_fault(&self, method: Option<String>, path: &str, kind: FaultKind, remaining: usize) {
        lock(&self.state().faults).push(Fault { method, path: path.to_owned(), kind, remaining });
    }

    /// Answers `method path`'s example with this response header instead of the documented one.
    pub fn set_response_header(&self, method: &str, path: &str, name: &str, value: &str) {
        lock(&self.state().header_overrides).push((
            method.to_ascii_uppercase(),
            path.to_owned(),
            name.to_owned(),
            value.to_owned(),
        ));
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state().requests).clone()
    }

    /// The last request received.
    pub fn last_request(&self) -> Option<Recorded> {
        lock(&self.state().requests).last().cloned()
    }

    /// How many `method path` requests arrived (decoded path, faulted ones included).
    pub fn hits(&self, method: &str, path: &str) -> usize {
        lock(&self.state().requests).iter().filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path).count()
    }

    /// How many requests arrived in all.
    pub fn request_count(&self) -> usize {
        lock(&self.state().requests).len()
    }

    /// How many requests authenticated with a password.
    pub fn password_logins(&self) -> usize {
        lock(&self.state().requests).iter().filter(|r| matches!(r.auth, AuthUsed::Password(_))).count()
    }

    /// How many requests authenticated with a session cookie.
    pub fn session_logins(&self) -> usize {
        lock(&self.state().requests).iter().filter(|r| matches!(r.auth, AuthUsed::Session(_))).count()
    }

    /// How many session cookies were issued.
    pub fn sessions_issued(&self) -> u64 {
        self.state().next_session.load(Ordering::SeqCst)
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.state().requests).clear();
    }
}

fn authenticate(state: &State, headers: &HeaderMap) -> AuthUsed {
    let cookie = headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("JSESSIONID=").map(str::to_owned));
    if let Some(id) = cookie {
        return if lock(&state.sessions).contains(&id) {
            AuthUsed::Session(id)
        } else {
            AuthUsed::Failed(format!("session {id} is not (or no longer) valid"))
        };
    }
    let Some(auth) = loopback::header(headers, hyper::header::AUTHORIZATION) else {
        return AuthUsed::Failed("no Authorization header and no JSESSIONID cookie".into());
    };
    let Some(encoded) = auth.strip_prefix("Basic ") else {
        return AuthUsed::Failed("the Authorization scheme is not Basic".into());
    };
    let Some(decoded) = STANDARD.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok()) else {
        return AuthUsed::Failed("the Basic credentials are not base64 of UTF-8".into());
    };
    let Some((user, password)) = decoded.split_once(':') else {
        return AuthUsed::Failed("the Basic credentials have no `:`".into());
    };
    match lock(&state.users).get(user) {
        Some(p) if p == password => AuthUsed::Password(user.to_owned()),
        _ => AuthUsed::Failed(format!("wrong user name or password for {user:?}")),
    }
}

fn handle(state: &State, req: hyper::Request<Bytes>) -> Answer {
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_owned();
    let headers = parts.headers;
    let content_type = loopback::header(&headers, hyper::header::CONTENT_TYPE).unwrap_or("");
    let multipart = if media_type(content_type) == "multipart/form-data" {
        content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary=").map(|b| b.trim_matches('"').to_owned()))
            .and_then(|b| parse_multipart(&body, &b))
    } else {
        None
    };
    let mut rec = Recorded {
        method: parts.method.as_str().to_owned(),
        path: percent_decode(&raw_path, false),
        raw_path,
        query: parts.uri.query().map(decode_form).unwrap_or_default(),
        parts: multipart.clone().unwrap_or_default(),
        auth: authenticate(state, &headers),
        headers,
        body,
        endpoint: None,
        mismatches: Vec::new(),
        status: 0,
        set_session: None,
    };
    let mut reply = answer(state, &mut rec, multipart.is_some());
    if matches!(rec.auth, AuthUsed::Password(_)) && reply.status != 401 {
        // A new session for a password login, as GoCD's servlet container does.
        let n = state.next_session.fetch_add(1, Ordering::SeqCst) + 1;
        let id = format!("FAKE-SESSION-{n:04}");
        lock(&state.sessions).insert(id.clone());
        reply.headers.push(("Set-Cookie".into(), format!("JSESSIONID={id}; Path=/go; HttpOnly")));
        rec.set_session = Some(id);
    }
    rec.status = reply.status;
    lock(&state.requests).push(rec);
    Answer::reply(reply.status, reply.headers, reply.body)
}

fn answer(state: &State, rec: &mut Recorded, multipart_ok: bool) -> Reply {
    if let AuthUsed::Failed(reason) = &rec.auth {
        return Reply::gocd_error(401, &format!("You are not authenticated! ({reason})"), &[])
            .header("WWW-Authenticate", "Basic realm=\"GoCD\"");
    }
    if !rec.path.starts_with("/go/") {
        return Reply::gocd_error(404, &format!("{} is not below /go/", rec.path), &[]);
    }
    {
        let mut faults = lock(&state.faults);
        let hit = faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.path == rec.path && f.method.iter().all(|m| *m == rec.method));
        if let Some(f) = hit {
            f.remaining -= 1;
            return match f.kind {
                FaultKind::Status(s) => Reply::gocd_error(s, &format!("injected fault: HTTP {s}"), &[]),
                FaultKind::NotReady => {
                    Reply::bytes(202, "text/plain; charset=utf-8", "the artifact is being compressed")
                }
            };
        }
    }
    let route = lock(&state.routes)
        .iter()
        .rev()
        .find(|r| r.method == rec.method && r.path == rec.path)
        .map(|r| r.handler.clone());
    if let Some(handler) = route {
        return handler(rec);
    }
    let candidates: Vec<&Example> =
        state.examples.iter().filter(|e| e.method == rec.method && e.path == rec.path).collect();
    if candidates.is_empty() {
        return Reply::gocd_error(404, &format!("no documented example for {} {}", rec.method, rec.path), &[]);
    }
    // The first example the request matches, or the mismatches against the first candidate.
    let mut first: Option<(&Example, Vec<(String, String)>)> = None;
    for ex in candidates {
        let problems = check(ex, rec, multipart_ok);
        if problems.is_empty() {
            rec.endpoint = Some(ex.endpoint.clone());
            return documented_reply(state, ex);
        }
        first.get_or_insert((ex, problems));
    }
    let (ex, problems) = first.expect("at least one candidate");
    rec.endpoint = Some(ex.endpoint.clone());
    rec.mismatches = problems.clone();
    let stale_etag = problems.iter().all(|(k, _)| k == "If-Match") && rec.header("if-match").is_some();
    let summary: Vec<String> = problems.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    if stale_etag {
        return Reply::gocd_error(
            412,
            &format!(
                "Someone has modified the configuration for {}. Please update your copy of the config with the changes. ({})",
                ex.path,
                summary.join("; ")
            ),
            &problems,
        );
    }
    Reply::gocd_error(
        400,
        &format!("The request does not match the documented example {}: {}", ex.label(), summary.join("; ")),
        &problems,
    )
}

fn documented_reply(state: &State, ex: &Example) -> Reply {
    let body = match &ex.response_body {
        Value::Null => Bytes::new(),
        Value::String(s) => Bytes::from(s.clone()),
        other => Bytes::from(serde_json::to_vec_pretty(other).unwrap_or_default()),
    };
    let mut headers = ex.response_headers.clone();
    for (m, p, name, value) in lock(&state.header_overrides).iter() {
        if *m == ex.method && *p == ex.path {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
    }
    Reply { status: ex.status, headers, body }
}

/// What of `rec` does not match `ex` (field → reason).
fn check(ex: &Example, rec: &Recorded, multipart_ok: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut problem = |k: &str, v: String| out.push((k.to_owned(), v));

    // Query: the same set of pairs.
    let sent: BTreeMap<String, String> = rec.query.iter().cloned().collect();
    if sent != ex.query || sent.len() != rec.query.len() {
        problem("query", format!("sent {:?}, documented {:?}", rec.query, ex.query));
    }

    // Headers.
    // Where the curl sends no Accept, the client must ask for the media type of the documented
    // answer (a real server may pick an HTML page for `*/*`); with no documented type, anything.
    let answered = ex.response_header("content-type").map(media_type);
    match (ex.request_header("accept"), rec.header("accept"), answered) {
        (Some(d), Some(s), _) if d == s => {}
        (Some(d), s, _) => problem("Accept", format!("sent {s:?}, documented {d:?}")),
        (None, Some(s), Some(a)) if media_type(s) == a => {}
        (None, s, Some(a)) => problem("Accept", format!("sent {s:?}, the documented answer is {a:?}")),
        (None, _, None) => {}
    }
    for (name, value) in &ex.headers {
        if name.eq_ignore_ascii_case("accept") || name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        match rec.header(name) {
            Some(s) if s == value => {}
            s => problem(name, format!("sent {s:?}, documented {value:?}")),
        }
    }

    // Body.
    let ct = rec.header("content-type").unwrap_or("");
    let mt = media_type(ct);
    match ex.body_kind {
        BodyKind::None => {
            if !rec.body.is_empty() {
                problem("body", format!("{} bytes sent, none documented", rec.body.len()));
            }
        }
        BodyKind::Json => {
            let documented = media_type(ex.request_header("content-type").unwrap_or(""));
            // GoCD reads any JSON media type; the documented vendor type and plain JSON are equal.
            let same = mt == documented || (is_json_media_type(&documented) && mt == "application/json");
            if !same {
                problem("Content-Type", format!("sent {ct:?}, documented {documented:?}"));
            }
            match serde_json::from_slice::<Value>(&rec.body) {
                Ok(sent) => {
                    for m in contained_in(&ex.body, &sent) {
                        let (at, why) = m.split_once(": ").unwrap_or((m.as_str(), ""));
                        problem(&format!("body{at}"), why.to_owned());
                    }
                }
                Err(e) => problem("body", format!("not JSON: {e}")),
            }
        }
        BodyKind::Form => {
            let documented: BTreeMap<String, String> = pairs(&ex.body).into_iter().collect();
            if !(rec.body.is_empty() && documented.is_empty()) {
                if mt != "application/x-www-form-urlencoded" {
                    problem("Content-Type", format!("sent {ct:?}, documented application/x-www-form-urlencoded"));
                }
                let sent_pairs = decode_form(&String::from_utf8_lossy(&rec.body));
                let sent: BTreeMap<String, String> = sent_pairs.iter().cloned().collect();
                if sent != documented || sent.len() != sent_pairs.len() {
                    problem("body", format!("form fields {sent_pairs:?}, documented {documented:?}"));
                }
            }
        }
        BodyKind::Multipart => {
            if !multipart_ok {
                problem("Content-Type", format!("sent {ct:?}, documented a multipart/form-data upload"));
            } else if !rec.parts.iter().any(|p| p.file_name.is_some() && p.data == ex.body_text().as_bytes()) {
                let seen: Vec<String> = rec
                    .parts
                    .iter()
                    .map(|p| format!("{} (file {:?}, {} bytes)", p.name, p.file_name, p.data.len()))
                    .collect();
                problem("body", format!("no file part with the documented content; parts: {seen:?}"));
            }
        }
        BodyKind::Raw => {
            if rec.body != ex.body_text().as_bytes() {
                problem("body", format!("{:?}, documented {:?}", String::from_utf8_lossy(&rec.body), ex.body_text()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment() {
        let doc = json!({"a": "1", "b": [1, {"c": null}], "d": null});
        assert!(contained_in(&doc, &json!({"a": "1", "b": [1.0, {}], "x": 2})).is_empty());
        assert_eq!(contained_in(&doc, &json!({"a": 1, "b": [1, {}]})), vec!["/a: 1, documented \"1\""]);
        assert_eq!(contained_in(&doc, &json!({"b": [1]})).len(), 2);
        assert_eq!(
            leniencies(&doc, &json!({"a": "1", "b": [1.0, {}]})),
            vec![
                "/b/0: documented 1 written as 1.0",
                "/b/1/c: documented null left out",
                "/d: documented null left out"
            ]
        );
    }

    #[test]
    fn codecs() {
        assert_eq!(percent_decode("a%20b+c%2", true), "a b c%2");
        assert_eq!(decode_form("x=1&y=a%5Bb%5D"), vec![("x".into(), "1".into()), ("y".into(), "a[b]".into())]);
        let body =
            b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jar\"\r\n\r\nhello\r\n--XX--\r\n";
        let parts = parse_multipart(body, "XX").unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].name.as_str(), parts[0].file_name.as_deref()), ("file", Some("a.jar")));
        assert_eq!(parts[0].data, "hello");
    }

    #[test]
    fn checklist_routes() {
        assert!(checklist_route_matches("/go/api/agents/:uuid", "/go/api/agents/x-1"));
        assert!(!checklist_route_matches("/go/api/agents/:uuid", "/go/api/agents/x/y"));
        assert!(checklist_route_matches("/go/files/:a/:b.json", "/go/files/p/j.json"));
        assert!(checklist_route_matches("/go/files/:a/*path", "/go/files/p/x/y.jar"));
        assert!(checklist_route_matches("/go/p/search?x=:y", "/go/p/search"));
    }
}
