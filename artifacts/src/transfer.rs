//! One HTTP transfer to or from a store URL, and what a failed attempt means for retrying.

use bytes::BytesMut;
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use crate::dest::Restartable;
use crate::error::{display_url, ArtifactError};
use crate::hashing::{BackgroundHasher, Digests, Wanted};

/// The longest error-body excerpt kept.
const EXCERPT: usize = 300;

/// Why one attempt failed.
pub(crate) enum Failure {
    /// The HTTP exchange failed; `retryable` for transport errors, short bodies and 5xx.
    Http { status: Option<u16>, problem: String, body: Option<String>, retryable: bool },
    /// The destination refused the data: never retried.
    Destination(std::io::Error),
}

impl Failure {
    pub(crate) fn transport(e: &reqwest::Error) -> Failure {
        Failure::Http { status: None, problem: chain(e), body: None, retryable: true }
    }

    pub(crate) fn retryable(&self) -> bool {
        matches!(self, Failure::Http { retryable: true, .. })
    }

    /// The error for the caller, after `attempts` attempts.
    pub(crate) fn into_error(self, method: &'static str, url: &str, attempts: u32) -> ArtifactError {
        match self {
            Failure::Http { status, problem, body, .. } => {
                ArtifactError::Transfer { method, url: display_url(url), attempts, status, problem, body }
            }
            Failure::Destination(e) => ArtifactError::Destination(e),
        }
    }
}

/// An error and its sources on one line (reqwest's own message alone says little, e.g. "error
/// decoding response body").
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// A non-success answer as a failure (5xx and 429 are retryable), with the start of its body.
pub(crate) async fn status_failure(resp: reqwest::Response) -> Failure {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.ok().filter(|b| !b.is_empty()).map(|b| {
        let text = String::from_utf8_lossy(&b[..b.len().min(EXCERPT * 4)]).into_owned();
        text.chars().take(EXCERPT).collect()
    });
    let problem = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error status")
        .to_owned();
    Failure::Http { status: Some(status), problem, body, retryable: status >= 500 || status == 429 }
}

/// What a successful GET delivered.
pub(crate) struct Fetched {
    pub(crate) digests: Digests,
    pub(crate) content_type: Option<String>,
}

/// Bytes gathered before one write to the destination and one hand-over to the hashers (a
/// `tokio::fs::File` write is a trip to a blocking thread, so small writes are slow).
const BATCH: usize = 1 << 20;

/// GETs `url` into `dest`, computing the `wanted` digests. Each batch is handed to the hashers
/// (each digest on a thread of its own) and then written, so hashing runs in parallel with
/// writing and receiving. A body shorter than its `Content-Length` is a (retryable) failure even
/// when the connection closed cleanly.
pub(crate) async fn get_once<W: Restartable>(
    http: &reqwest::Client,
    url: &str,
    wanted: Wanted,
    dest: &mut W,
) -> Result<Fetched, Failure> {
    let resp = http.get(url).send().await.map_err(|e| Failure::transport(&e))?;
    if !resp.status().is_success() {
        return Err(status_failure(resp).await);
    }
    let expected = resp.content_length();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut hasher = BackgroundHasher::start(wanted);
    let received = receive(resp, dest, &mut hasher).await;
    let digests = hasher.finish().await.map_err(Failure::Destination)?;
    received?;
    if let Some(n) = expected.filter(|n| *n != digests.length) {
        let problem = format!("the body ended after {} of {n} bytes", digests.length);
        return Err(Failure::Http { status: None, problem, body: None, retryable: true });
    }
    Ok(Fetched { digests, content_type })
}

/// Streams the body into `dest` in batches, handing each batch to the hashers first.
async fn receive<W: Restartable>(
    resp: reqwest::Response,
    dest: &mut W,
    hasher: &mut BackgroundHasher,
) -> Result<(), Failure> {
    let mut body = resp.bytes_stream();
    let mut batch = BytesMut::with_capacity(BATCH);
    loop {
        let chunk = body.next().await.transpose().map_err(|e| Failure::transport(&e))?;
        let done = chunk.is_none();
        if let Some(c) = chunk {
            batch.extend_from_slice(&c);
        }
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            let full = batch.split().freeze();
            batch.reserve(BATCH);
            hasher.update(full.clone()).await;
            dest.write_all(&full).await.map_err(Failure::Destination)?;
        }
        if done {
            return dest.flush().await.map_err(Failure::Destination);
        }
    }
}
