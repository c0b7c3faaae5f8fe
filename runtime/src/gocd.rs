//! What GoCD needs beyond plain JSON calls: ETags, HAL collections, streamed and
//! "202 until ready" downloads.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use crate::client::{Client, ClientBuilder, Request, Response};
use crate::error::{decode_value, CallSummary, Error};
use crate::retry::{RetryMethods, RetryPolicy};

/// A value read together with its `ETag`, to send back as `If-Match` when updating it.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// The entity tag, exactly as the server sent it (quotes included).
    pub etag: Option<String>,
}

/// One HAL link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Target URL.
    pub href: String,
    /// Other attributes of the link (`templated`, ...), kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// HAL `_links`: relation name → link.
pub type Links = BTreeMap<String, Link>;

/// A HAL collection: the list under `_embedded.<key>`, with the collection's own links.
#[derive(Debug, Clone, PartialEq)]
pub struct HalCollection<T> {
    /// The elements.
    pub items: Vec<T>,
    /// The collection's `_links`.
    pub links: Links,
}

impl<T: DeserializeOwned> HalCollection<T> {
    /// Decodes a HAL document whose elements are under `_embedded.<key>`, or, as older
    /// servers send some collections (templates before 17.x), under `<key>` at the top level.
    pub fn from_response(resp: &Response, key: &str) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default, rename = "_links")]
            links: Links,
            #[serde(default, rename = "_embedded")]
            embedded: Option<BTreeMap<String, serde_json::Value>>,
            #[serde(flatten)]
            top: BTreeMap<String, serde_json::Value>,
        }
        let mut doc: Doc = resp.json()?;
        let (list, base) = match (doc.embedded.as_mut(), doc.top.remove(key)) {
            (Some(embedded), _) => {
                (embedded.remove(key).unwrap_or(serde_json::Value::Array(Vec::new())), format!("/_embedded/{key}"))
            }
            (None, Some(list)) => (list, format!("/{key}")),
            (None, None) => {
                let missing = <serde_json::Error as serde::de::Error>::custom(format!(
                    "the collection has neither `_embedded.{key}` nor `{key}`"
                ));
                return Err(Error::Decode {
                    summary: resp.summary_with_body(),
                    pointer: String::new(),
                    source: missing,
                });
            }
        };
        let items = decode_value(list, &base, || resp.summary_with_body())?;
        Ok(HalCollection { items, links: doc.links })
    }
}

/// A file to upload: its name and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The file name sent with the content.
    pub file_name: String,
    /// The content.
    pub data: bytes::Bytes,
}

impl Upload {
    /// An upload of `data` named `file_name`.
    pub fn from_bytes(file_name: impl Into<String>, data: impl Into<bytes::Bytes>) -> Self {
        Upload { file_name: file_name.into(), data: data.into() }
    }

    /// Reads a file; the upload is named after the file.
    pub async fn from_path(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let data = tokio::fs::read(path)
            .await
            .map_err(|e| Error::InvalidInput(format!("cannot read {}: {e}", path.display())))?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Upload { file_name, data: data.into() })
    }

    /// The multipart body carrying this upload in form field `field`.
    pub fn into_body(self, field: &str) -> crate::Body {
        crate::Body::Multipart { field: field.to_owned(), file_name: self.file_name, data: self.data }
    }
}

impl Client {
    /// Starts configuring a GoCD client for `base_url` (e.g. `https://ci.example.com/go`):
    /// session cookie reuse on, and retries only for GET, HEAD, PUT and DELETE.
    pub fn gocd_builder(base_url: impl Into<String>) -> ClientBuilder {
        Client::builder(base_url)
            .session_cookie(true)
            .retry(RetryPolicy { methods: RetryMethods::Idempotent, ..RetryPolicy::default() })
    }

    /// Sends a request and decodes the JSON answer together with its `ETag`.
    pub async fn call_versioned<T: DeserializeOwned>(&self, req: Request) -> Result<Versioned<T>, Error> {
        let resp = self.call(req).await?;
        let etag = resp.header("etag").map(str::to_owned);
        Ok(Versioned { value: resp.json()?, etag })
    }

    /// Sends a request and decodes a HAL collection under `_embedded.<key>`.
    pub async fn call_hal<T: DeserializeOwned>(&self, req: Request, key: &str) -> Result<HalCollection<T>, Error> {
        HalCollection::from_response(&self.call(req).await?, key)
    }

    /// Sends a request and decodes a HAL collection together with its `ETag`.
    pub async fn call_hal_versioned<T: DeserializeOwned>(
        &self,
        req: Request,
        key: &str,
    ) -> Result<Versioned<HalCollection<T>>, Error> {
        let resp = self.call(req).await?;
        let etag = resp.header("etag").map(str::to_owned);
        Ok(Versioned { value: HalCollection::from_response(&resp, key)?, etag })
    }

    /// Sends a request and returns the body as text, whatever the `Content-Type` says.
    pub async fn call_text(&self, req: Request) -> Result<String, Error> {
        Ok(self.call(req).await?.text())
    }

    /// Streams the response body of a GET into `out`; returns the number of bytes written.
    pub async fn download<W: AsyncWrite + Unpin>(&self, req: Request, out: &mut W) -> Result<u64, Error> {
        let (resp, summary) = self.open(req).await?;
        stream_body(resp, summary, out).await
    }

    /// Streams a body that the server may still be preparing: while it answers
    /// `202 Accepted`, asks again with backoff, for at most `timeout` in all.
    pub async fn download_when_ready<W: AsyncWrite + Unpin>(
        &self,
        req: Request,
        out: &mut W,
        timeout: Duration,
    ) -> Result<u64, Error> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(200);
        // Every poll is an HTTP request (more with retries): the summary counts them all.
        let mut attempts = 0u32;
        let mut polls = 0u32;
        loop {
            let (resp, mut summary) = match self.open(req.clone()).await {
                Ok(opened) => opened,
                Err(mut e) => {
                    if let Some(s) = summary_mut(&mut e) {
                        s.attempts += attempts;
                    }
                    return Err(e);
                }
            };
            attempts += summary.attempts;
            polls += 1;
            summary.attempts = attempts;
            if resp.status().as_u16() != 202 {
                return stream_body(resp, summary, out).await;
            }
            if started.elapsed() + delay > timeout {
                let body = resp.bytes().await.unwrap_or_default();
                summary.response_body = crate::error::excerpt(&body);
                let s = if polls == 1 { "" } else { "s" };
                return Err(Error::Status {
                    summary: Box::new(summary),
                    status: 202,
                    code: None,
                    message: Some(format!(
                        "still not ready after {polls} poll{s} in {:.1} s (limit {} s)",
                        started.elapsed().as_secs_f64(),
                        timeout.as_secs_f64()
                    )),
                    field_errors: Vec::new(),
                });
            }
            // Release the 202's connection while waiting.
            drop(resp);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    }
}

/// The call summary of an error, to add earlier polls to its attempts.
fn summary_mut(e: &mut Error) -> Option<&mut CallSummary> {
    match e {
        Error::InvalidInput(_) | Error::Config(_) => None,
        Error::Transport { summary, .. }
        | Error::Status { summary, .. }
        | Error::Decode { summary, .. }
        | Error::Io { summary, .. } => Some(summary),
    }
}

async fn stream_body<W: AsyncWrite + Unpin>(
    resp: reqwest::Response,
    summary: CallSummary,
    out: &mut W,
) -> Result<u64, Error> {
    let mut written = 0u64;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| Error::transport(&summary, source))?;
        out.write_all(&chunk).await.map_err(|source| Error::Io { summary: Box::new(summary.clone()), source })?;
        written += chunk.len() as u64;
    }
    out.flush().await.map_err(|source| Error::Io { summary: Box::new(summary), source })?;
    Ok(written)
}
