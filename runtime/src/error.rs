//! One error type for every call: what went wrong, and a summary of the call it went wrong in.

use std::fmt;

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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's input or the client's configuration is unusable; nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The request could not be completed: connection refused or reset, TLS, timeout.
    #[error("{summary}: transport error: {source}")]
    Transport {
        /// The call.
        summary: Box<CallSummary>,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// The server answered with an error status.
    #[error("{summary}: HTTP {status}{}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), message.as_deref().map(|m| format!(": {}", first_line(m))).unwrap_or_default(), body_hint(summary, message))]
    Status {
        /// The call.
        summary: Box<CallSummary>,
        /// HTTP status code.
        status: u16,
        /// Taskcluster's error `code` (`ResourceNotFound`, `InsufficientScopes`, ...).
        code: Option<String>,
        /// The server's error message.
        message: Option<String>,
        /// Field errors (GoCD's `data.errors`).
        field_errors: Vec<FieldError>,
    },

    /// The server answered successfully, but the body is not what the API promises.
    #[error("{summary}: cannot decode the response: {source}{}", summary.response_body.as_deref().map(|b| format!("; body starts {:?}", b)).unwrap_or_default())]
    Decode {
        /// The call.
        summary: Box<CallSummary>,
        /// The decoding error.
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

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn body_hint(summary: &CallSummary, message: &Option<String>) -> String {
    match (&summary.response_body, message) {
        (Some(body), None) if !body.is_empty() => format!("; body starts {body:?}"),
        _ => String::new(),
    }
}

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }

    /// The call summary, for every error that happened during a call.
    pub fn summary(&self) -> Option<&CallSummary> {
        match self {
            Error::InvalidInput(_) => None,
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

    /// Whether the call failed because its time ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is_timeout())
    }

    /// How many HTTP requests the call made.
    pub fn attempts(&self) -> u32 {
        self.summary().map_or(0, |s| s.attempts)
    }
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
