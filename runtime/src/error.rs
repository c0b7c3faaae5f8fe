//! One error type for every call: what went wrong, and a summary of the call it went wrong in.

use std::fmt;

use serde::de::DeserializeOwned;

/// The longest body excerpt kept in a [`CallSummary`].
const EXCERPT_LEN: usize = 500;

/// What happened during one API call, for error messages and debugging.
///
/// The URL never carries a bewit or credentials; body excerpts have secret-looking JSON
/// values (`accessToken`, `password`, `secret`, ...) masked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSummary {
    /// HTTP method.
    pub method: String,
    /// The URL called, without bewit.
    pub url: String,
    /// How many HTTP requests were made (1 + retries).
    pub attempts: u32,
    /// The start of the request body, masked.
    pub request_body: Option<String>,
    /// The start of the (last) response body, masked.
    pub response_body: Option<String>,
}

impl CallSummary {
    pub(crate) fn new(method: &str, url: &url::Url) -> Self {
        CallSummary { method: method.to_owned(), url: redact_url(url), ..Default::default() }
    }
}

impl fmt::Display for CallSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.attempts == 1 { "" } else { "s" };
        write!(f, "{} {} ({} attempt{s})", self.method, self.url, self.attempts)
    }
}

/// A field-level validation error, as GoCD reports them (`data.errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, e.g. `name`.
    pub field: String,
    /// What is wrong with it.
    pub messages: Vec<String>,
}

/// Everything that can go wrong in a call.
///
/// `Display` is one paragraph a person can act on: the call (method, URL, attempts) and what
/// went wrong, with the server's whole message. `Debug` (what `fn main() -> Result<_, Box<dyn
/// Error>>` prints) is the same text followed by the causes not already in it; `source()` chains
/// to the underlying transport, decoding or I/O error, so `anyhow` shows them as "Caused by".
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's input is unusable; nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The client's configuration (root URL, credentials, environment variables) is unusable;
    /// nothing was sent. Such errors are found by `build()` / `from_env()`, before any call.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// The request could not be completed: connection refused or reset, DNS, TLS, timeout.
    #[error("{summary}: {}", transport_cause(source))]
    Transport {
        /// The call.
        summary: Box<CallSummary>,
        /// The underlying error (without the URL, which `summary` carries redacted).
        #[source]
        source: reqwest::Error,
    },

    /// The server answered with an error status.
    #[error("{summary}: HTTP {status}{}", status_text(code, message, field_errors, summary))]
    Status {
        /// The call.
        summary: Box<CallSummary>,
        /// HTTP status code.
        status: u16,
        /// Taskcluster's error `code` (`ResourceNotFound`, `InsufficientScopes`, ...).
        code: Option<String>,
        /// The server's error message, whole.
        message: Option<String>,
        /// Field errors (GoCD's `data.errors`).
        field_errors: Vec<FieldError>,
    },

    /// The server answered successfully, but the body is not what the API promises.
    #[error("{summary}: cannot decode the response{}: {}{}", at_pointer(pointer), decode_message(source), summary.response_body.as_deref().map(|b| format!("; body starts {b:?}")).unwrap_or_default())]
    Decode {
        /// The call.
        summary: Box<CallSummary>,
        /// Where in the body decoding failed, as a JSON pointer (`/status/runs/0/state`;
        /// empty for the whole body).
        pointer: String,
        /// The decoding error: what was found and which type was expected.
        #[source]
        source: serde_json::Error,
    },

    /// Writing a downloaded body to its destination failed.
    #[error("{summary}: cannot write the response body: {source}")]
    Io {
        /// The call.
        summary: Box<CallSummary>,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The longest server message kept whole; longer ones are cut (a scope expression can be long,
/// but not this long).
const MESSAGE_LEN: usize = 8000;

/// ` <code>: <message>` with continuation lines indented, then GoCD's field errors; or the
/// body excerpt when the server sent no message.
fn status_text(
    code: &Option<String>,
    message: &Option<String>,
    field_errors: &[FieldError],
    summary: &CallSummary,
) -> String {
    let mut out = String::new();
    if let Some(code) = code {
        out.push(' ');
        out.push_str(code);
    }
    match message.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => {
            out.push_str(": ");
            out.push_str(&indent_continuation(&cut(m, MESSAGE_LEN)));
        }
        _ => {
            if let Some(body) = summary.response_body.as_deref().filter(|b| !b.is_empty()) {
                out.push_str(&format!("; body starts {body:?}"));
            }
        }
    }
    for fe in field_errors {
        out.push_str(&format!("\n  {}: {}", fe.field, fe.messages.join("; ")));
    }
    out
}

/// Lines after the first are indented, so a multi-line server message stays one readable block.
fn indent_continuation(text: &str) -> String {
    let mut lines = text.lines();
    let mut out = lines.next().unwrap_or("").to_owned();
    for line in lines {
        out.push('\n');
        if !line.trim().is_empty() {
            out.push_str("  ");
            out.push_str(line);
        }
    }
    out
}

/// What a transport failure was, named by reqwest's classification, followed by the distinct
/// messages of its cause chain (hyper, the connector, the OS): `cannot connect: tcp connect
/// error: Connection refused (os error 111)`, `timed out`, `cannot connect: dns error: ...`.
fn transport_cause(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_builder() {
        "cannot build the request"
    } else if e.is_body() || e.is_decode() {
        "the response body broke off"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "transport error"
    };
    let mut parts: Vec<String> = Vec::new();
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        let text = cause.to_string();
        // hyper-util's wrappers ("client error (Connect)") say nothing the kind does not.
        let generic = text.starts_with("client error (") || text == "operation timed out";
        if !text.is_empty() && !generic && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    if parts.is_empty() {
        // No deeper cause: reqwest's own message (it carries no URL, see `Error::transport`).
        let own = e.to_string();
        return if own.is_empty() { kind.to_owned() } else { format!("{kind}: {own}") };
    }
    format!("{kind}: {}", parts.join(": "))
}

fn at_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!(" at {pointer}")
    }
}

/// serde_json's message without its `at line L column C` suffix: the pointer says where.
fn decode_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).map_or_else(|| text.clone(), str::to_owned)
}

impl fmt::Debug for Error {
    /// The `Display` text, then each cause of the `source()` chain not already in it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.to_string();
        f.write_str(&shown)?;
        let mut next = std::error::Error::source(self);
        let mut n = 0;
        while let Some(cause) = next {
            let text = cause.to_string();
            if !shown.contains(&text) {
                if n == 0 {
                    f.write_str("\n\nCaused by:")?;
                }
                write!(f, "\n    {n}: {text}")?;
                n += 1;
            }
            next = cause.source();
        }
        Ok(())
    }
}

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }

    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    /// A transport error of `summary`'s call. The URL is dropped from reqwest's error: the
    /// summary carries it, redacted.
    pub(crate) fn transport(summary: &CallSummary, source: reqwest::Error) -> Self {
        Error::Transport { summary: Box::new(summary.clone()), source: source.without_url() }
    }

    /// The summary of every error that happened during a call (`None` for input and
    /// configuration errors: nothing was sent).
    pub fn summary(&self) -> Option<&CallSummary> {
        match self {
            Error::InvalidInput(_) | Error::Config(_) => None,
            Error::Transport { summary, .. }
            | Error::Status { summary, .. }
            | Error::Decode { summary, .. }
            | Error::Io { summary, .. } => Some(summary),
        }
    }

    /// The HTTP status, when the server answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Taskcluster's error code (`ResourceNotFound`, ...), when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The server's whole error message, when it sent one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Status { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// Whether the call failed because its time ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is_timeout())
    }

    /// How many HTTP requests the call made.
    pub fn attempts(&self) -> u32 {
        self.summary().map_or(0, |s| s.attempts)
    }
}

/// Decodes JSON `body`, naming the JSON pointer of the first mismatch.
pub(crate) fn decode_json<T: DeserializeOwned>(
    body: &[u8],
    summary: impl FnOnce() -> Box<CallSummary>,
) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| decode_error(e, "", summary()))
}

/// Decodes a value taken from `base` (a JSON pointer) in a response body.
pub(crate) fn decode_value<T: DeserializeOwned>(
    value: serde_json::Value,
    base: &str,
    summary: impl FnOnce() -> Box<CallSummary>,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| decode_error(e, base, summary()))
}

fn decode_error(e: serde_path_to_error::Error<serde_json::Error>, base: &str, summary: Box<CallSummary>) -> Error {
    let pointer = format!("{base}{}", json_pointer(e.path()));
    Error::Decode { summary, pointer, source: e.into_inner() }
}

/// A serde path as an RFC 6901 JSON pointer (`/status/runs/0/state`).
pub(crate) fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(&variant.replace('~', "~0").replace('/', "~1")),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// The URL without a `bewit` query parameter and without user info.
pub(crate) fn redact_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    if url.query_pairs().any(|(k, _)| k == "bewit") {
        let kept: Vec<(String, String)> =
            url.query_pairs().filter(|(k, _)| k != "bewit").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

/// Key names whose values are never shown in excerpts.
const SECRET_KEYS: &[&str] =
    &["accesstoken", "password", "secret", "token", "certificate", "privatekey", "encryptedvalue", "secretaccesskey"];

/// The start of a body, with secret-looking JSON values masked and long text cut.
pub(crate) fn excerpt(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            mask(&mut v);
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(EXCERPT_LEN * 4)]).into_owned(),
    };
    Some(cut(&text, EXCERPT_LEN))
}

fn mask(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let key = k.to_ascii_lowercase().replace(['_', '-'], "");
                if SECRET_KEYS.iter().any(|s| key.contains(s)) && !v.is_null() {
                    *v = serde_json::Value::String("***".into());
                } else {
                    mask(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
