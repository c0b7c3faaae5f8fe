//! A loopback blob store, like the S3 bucket behind Taskcluster's object service: `PUT /<key>`
//! stores a body, `GET /<key>` serves it. Bodies stream to and from files in a private temporary
//! directory, so a 200 MB object costs the server no more memory than a 2 kB one, and a client's
//! memory can be measured in the same process.
//!
//! Faults can be injected per method, each for a number of requests: an error status, a reset
//! connection, a truncated body, or wrong bytes.
//!
//! ```no_run
//! # async fn demo() {
//! use fake_servers::store::{ObjectStore, StoreFault};
//! let store = ObjectStore::start().await;
//! store.inject("GET", StoreFault::Truncate, 1);
//! let url = store.url("some-key"); // http://127.0.0.1:PORT/some-key
//! # }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::loopback::{self, lock};

/// Size of the chunks a GET streams.
const CHUNK: usize = 256 * 1024;

/// A misbehaviour of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFault {
    /// Answer this status with a short text body (for a PUT: without storing anything).
    Status(u16),
    /// Close the connection without answering.
    Reset,
    /// GET: announce the full `Content-Length` but close the connection halfway through the
    /// body. PUT: read half the body, then close the connection unanswered.
    Truncate,
    /// GET: serve the object with one byte changed. PUT: store it with one byte changed.
    WrongBytes,
}

/// Stores `(key, content type, data)` in a store (see [`ObjectStore::inserter`]).
pub type Inserter = Arc<dyn Fn(&str, &str, &[u8]) + Send + Sync>;

/// One stored object.
#[derive(Debug, Clone)]
struct Stored {
    path: PathBuf,
    len: u64,
    content_type: Option<String>,
}

struct State {
    dir: PathBuf,
    objects: Mutex<HashMap<String, Stored>>,
    faults: Mutex<Vec<(Method, StoreFault, usize)>>,
    requests: Mutex<Vec<(String, String)>>,
    next_file: AtomicUsize,
}

impl State {
    fn take_fault(&self, method: &Method) -> Option<StoreFault> {
        let mut faults = lock(&self.faults);
        let (_, fault, left) = faults.iter_mut().find(|(m, _, left)| m == method && *left > 0)?;
        *left -= 1;
        Some(*fault)
    }

    fn file_path(&self) -> PathBuf {
        self.dir.join(format!("blob-{}", self.next_file.fetch_add(1, Ordering::SeqCst)))
    }
}

impl Drop for State {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running store on `127.0.0.1`; it stops, and deletes its files, when dropped.
pub struct ObjectStore {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStore").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for ObjectStore {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ObjectStore {
    /// Binds `127.0.0.1:0` and serves in a spawned task, keeping blobs in a fresh directory under
    /// the system's temporary directory. Panics if either cannot be had.
    pub async fn start() -> ObjectStore {
        static SERIAL: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fake-store-{}-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("create the store's directory");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State {
            dir,
            objects: Mutex::default(),
            faults: Mutex::default(),
            requests: Mutex::default(),
            next_file: AtomicUsize::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, state.clone()));
        ObjectStore { addr, state, task }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `key` (`key` must be URL-path-safe).
    pub fn url(&self, key: &str) -> String {
        format!("http://{}/{key}", self.addr)
    }

    /// Injects `fault` for the next `times` requests with `method` (`GET` or `PUT`). Faults are
    /// used in the order injected.
    pub fn inject(&self, method: &str, fault: StoreFault, times: usize) {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap_or(Method::GET);
        lock(&self.state.faults).push((method, fault, times));
    }

    /// Stores `data` under `key` directly (for objects whose data reached the service inline).
    pub fn insert(&self, key: &str, content_type: &str, data: &[u8]) {
        insert(&self.state, key, content_type, data);
    }

    /// [`Self::insert`] as a function that keeps the store's state alive (for the object
    /// service, which stores `dataInline` uploads from inside a request handler).
    pub fn inserter(&self) -> Inserter {
        let state = self.state.clone();
        Arc::new(move |key, content_type, data| insert(&state, key, content_type, data))
    }

    /// The content stored under `key`, read back whole (for tests of small objects).
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let stored = lock(&self.state.objects).get(key).cloned()?;
        std::fs::read(stored.path).ok()
    }

    /// The length and content type stored under `key`.
    pub fn describe(&self, key: &str) -> Option<(u64, Option<String>)> {
        lock(&self.state.objects).get(key).map(|s| (s.len, s.content_type.clone()))
    }

    /// Every request received, as `(method, path)`, oldest first.
    pub fn requests(&self) -> Vec<(String, String)> {
        lock(&self.state.requests).clone()
    }

    /// How many requests with `method` arrived.
    pub fn hits(&self, method: &str) -> usize {
        lock(&self.state.requests).iter().filter(|(m, _)| m.eq_ignore_ascii_case(method)).count()
    }
}

fn insert(state: &State, key: &str, content_type: &str, data: &[u8]) {
    let path = state.file_path();
    if std::fs::write(&path, data).is_ok() {
        let stored = Stored { path, len: data.len() as u64, content_type: Some(content_type.to_owned()) };
        lock(&state.objects).insert(key.to_owned(), stored);
    }
}

type Body = BoxBody<Bytes, io::Error>;

fn text(status: u16, message: String) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(message)).map_err(|never: Infallible| match never {}).boxed());
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/plain"));
    resp
}

/// Streams bodies, so it serves connections itself rather than through the buffering
/// [`crate::loopback::serve`], on the same accept loop.
async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    crate::loopback::accept_loop(listener, move |stream| {
        let state = state.clone();
        async move {
            let svc = service_fn(move |req| handle(state.clone(), req));
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc).await;
        }
    })
    .await
}

/// Why the connection is being closed unanswered (a service error makes hyper drop it).
#[derive(Debug)]
struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injected: connection closed")
    }
}

impl std::error::Error for Hangup {}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Hangup> {
    let key = req.uri().path().trim_start_matches('/').to_owned();
    lock(&state.requests).push((req.method().as_str().to_owned(), req.uri().path().to_owned()));
    let fault = state.take_fault(req.method());
    match (req.method().clone(), fault) {
        (_, Some(StoreFault::Status(status))) => Ok(text(status, format!("injected HTTP {status}"))),
        (_, Some(StoreFault::Reset)) => Err(Hangup),
        (Method::GET, fault) => {
            get(&state, &key, fault == Some(StoreFault::Truncate), fault == Some(StoreFault::WrongBytes)).await
        }
        (Method::PUT, fault) => put(&state, key, req, fault).await,
        (m, _) => Ok(text(405, format!("{m} is not supported"))),
    }
}

async fn get(state: &State, key: &str, truncate: bool, corrupt: bool) -> Result<Response<Body>, Hangup> {
    let Some(stored) = lock(&state.objects).get(key).cloned() else {
        return Ok(text(404, format!("no object {key:?}")));
    };
    let Ok(file) = tokio::fs::File::open(&stored.path).await else {
        return Ok(text(500, "the blob file is gone".into()));
    };
    // Halfway for a truncation; the middle byte for corruption.
    let stop_at = if truncate { stored.len / 2 } else { u64::MAX };
    let flip_at = if corrupt { Some(stored.len / 2) } else { None };
    let chunks = stream::unfold((file, 0u64), move |(mut file, sent)| async move {
        if sent == u64::MAX {
            return None;
        }
        if sent >= stop_at {
            let err = io::Error::new(io::ErrorKind::ConnectionAborted, "fault injected: truncated body");
            return Some((Err(err), (file, u64::MAX)));
        }
        // Never past the truncation point, so a truncated body is really short.
        let mut buf = vec![0u8; CHUNK.min((stop_at - sent).try_into().unwrap_or(CHUNK))];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                if let Some(at) = flip_at.filter(|at| (sent..sent + n as u64).contains(at)) {
                    buf[(at - sent) as usize] ^= 0xff;
                }
                Some((Ok(Frame::data(Bytes::from(buf))), (file, sent + n as u64)))
            }
            Err(e) => Some((Err(e), (file, u64::MAX))),
        }
    });
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(chunks)));
    resp.headers_mut().insert("content-length", stored.len.into());
    if let Some(ct) = stored.content_type.as_deref().and_then(|c| hyper::header::HeaderValue::from_str(c).ok()) {
        resp.headers_mut().insert("content-type", ct);
    }
    Ok(resp)
}

async fn put(
    state: &State,
    key: String,
    req: Request<Incoming>,
    fault: Option<StoreFault>,
) -> Result<Response<Body>, Hangup> {
    // Like S3: a PUT must say how long it is (no chunked uploads).
    let Some(len) = loopback::header(req.headers(), "content-length").and_then(|v| v.parse::<u64>().ok()) else {
        return Ok(text(411, "Content-Length is required".into()));
    };
    let content_type = loopback::header(req.headers(), "content-type").map(str::to_owned);
    let path = state.file_path();
    let written = receive(&path, req.into_body(), len, fault).await;
    match written {
        Ok(n) if n == len => {}
        Ok(n) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Ok(text(400, format!("received {n} bytes, Content-Length said {len}")));
        }
        Err(_) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(Hangup);
        }
    }
    lock(&state.objects).insert(key, Stored { path, len, content_type });
    Ok(text(200, String::new()))
}

/// Streams a request body into `path`; with [`StoreFault::Truncate`] stops halfway (an error),
/// with [`StoreFault::WrongBytes`] changes one byte.
async fn receive(path: &Path, mut body: Incoming, len: u64, fault: Option<StoreFault>) -> io::Result<u64> {
    let mut file = tokio::fs::File::create(path).await?;
    let mut n = 0u64;
    let flip_at = (fault == Some(StoreFault::WrongBytes)).then_some(len / 2);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(io::Error::other)?;
        let Ok(data) = frame.into_data() else { continue };
        let mut data = data.to_vec();
        if let Some(at) = flip_at.filter(|at| (n..n + data.len() as u64).contains(at)) {
            data[(at - n) as usize] ^= 0xff;
        }
        file.write_all(&data).await?;
        n += data.len() as u64;
        if fault == Some(StoreFault::Truncate) && n >= len / 2 {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "fault injected: upload cut"));
        }
    }
    file.flush().await?;
    Ok(n)
}
