//! The plumbing every fake server shares: bind `127.0.0.1:0`, serve each connection with hyper,
//! hand each request (its body already read) to a per-request handler, and stop when dropped.
//!
//! A server is its state `S` and a handler `fn(&S, Request<Bytes>) -> Answer`; [`serve`] runs it
//! and returns the [`Loopback`] handle that owns the address, the state and the accept loop.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use fake_servers::loopback::{self, Answer};
//!
//! let server = loopback::serve(AtomicUsize::new(0), |hits, _req| {
//!     let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
//!     Answer::reply(200, vec![("content-type".into(), "text/plain".into())], format!("hit {n}"))
//! })
//! .await;
//! assert!(server.addr().ip().is_loopback());
//! assert_eq!(server.state().load(Ordering::SeqCst), 0);
//! # }
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{AsHeaderName, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// Locks `m`, also when a panicking handler poisoned it (the fake servers' state stays usable).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A header as text (`None` when absent or not visible ASCII).
pub fn header<K: AsHeaderName>(headers: &HeaderMap, name: K) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What the server does with one request: answer it, or close the connection without answering;
/// either after an optional delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    delay: Option<Duration>,
    reply: Option<Wire>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Wire {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Answer {
    /// Answers with this status, headers (a name or value hyper refuses is left out) and body.
    pub fn reply(status: u16, headers: Vec<(String, String)>, body: impl Into<Bytes>) -> Answer {
        Answer { delay: None, reply: Some(Wire { status, headers, body: body.into() }) }
    }

    /// Closes the connection without answering (the client sees a reset or an early EOF).
    pub fn reset() -> Answer {
        Answer { delay: None, reply: None }
    }

    /// Waits `delay` before answering (or resetting). The handler itself has already run.
    pub fn delayed(self, delay: Duration) -> Answer {
        Answer { delay: Some(delay), ..self }
    }
}

/// A running loopback server: its address, its state, and the accept loop, which stops (with
/// every open connection) when the handle is dropped.
pub struct Loopback<S> {
    addr: SocketAddr,
    state: Arc<S>,
    task: JoinHandle<()>,
}

impl<S> Loopback<S> {
    /// The bound address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state the handler sees.
    pub fn state(&self) -> &S {
        &self.state
    }
}

impl<S> Drop for Loopback<S> {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

impl<S> std::fmt::Debug for Loopback<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loopback").field("addr", &self.addr).finish_non_exhaustive()
    }
}

type Handler = Arc<dyn Fn(Request<Bytes>) -> Answer + Send + Sync>;

/// Binds `127.0.0.1:0` and serves HTTP/1.1 (keep-alive) in a spawned task, answering every request
/// with `handler(&state, request)`. A request whose body cannot be read gets `400` without
/// reaching the handler. Panics if loopback cannot be bound.
pub async fn serve<S, H>(state: S, handler: H) -> Loopback<S>
where
    S: Send + Sync + 'static,
    H: Fn(&S, Request<Bytes>) -> Answer + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let state = Arc::new(state);
    let shared = state.clone();
    let handler: Handler = Arc::new(move |req| handler(&shared, req));
    let task = tokio::spawn(accept_loop(listener, move |stream| serve_connection(stream, handler.clone())));
    Loopback { addr, state, task }
}

/// Accepts connections until the task is aborted, serving each with `serve` on a task of its
/// own (finished ones are reaped as it goes, so a long test does not accumulate them).
pub(crate) async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(stream));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, handler: Handler) {
    let reset = Arc::new(Notify::new());
    let svc_reset = reset.clone();
    let svc = service_fn(move |req| {
        let handler = handler.clone();
        let reset = svc_reset.clone();
        async move { Ok::<_, Infallible>(respond(&handler, &reset, req).await) }
    });
    let conn = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        _ = conn => {}
        // Answer::reset: dropping the connection future drops the TCP stream unanswered.
        _ = reset.notified() => {}
    }
}

async fn respond(handler: &Handler, reset: &Notify, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let answer = match body.collect().await {
        Ok(body) => handler(Request::from_parts(parts, body.to_bytes())),
        Err(e) => Answer::reply(
            400,
            vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            format!("cannot read the request body: {e}"),
        ),
    };
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    let Some(Wire { status, headers, body }) = answer.reply else {
        reset.notify_one();
        return std::future::pending().await;
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// Sends `raw` on a fresh connection and reads until the server closes it.
    async fn exchange(addr: SocketAddr, raw: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn answers_resets_delays_and_stops_when_dropped() {
        let server = serve(Mutex::new(Vec::<String>::new()), |seen, req| {
            lock(seen).push(format!("{} {}", req.method(), String::from_utf8_lossy(req.body())));
            match req.uri().path() {
                "/reset" => Answer::reset(),
                "/slow" => Answer::reply(204, Vec::new(), "").delayed(Duration::from_millis(50)),
                _ => Answer::reply(201, vec![("x-a".into(), "1".into()), ("bad name".into(), "x".into())], "ok"),
            }
        })
        .await;
        let addr = server.addr();
        let post = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
        let out = exchange(addr, post).await;
        assert!(out.starts_with("HTTP/1.1 201 "), "{out}");
        assert!(out.contains("x-a: 1") && !out.contains("bad name") && out.ends_with("ok"), "{out}");
        assert_eq!(exchange(addr, "GET /reset HTTP/1.1\r\nHost: x\r\n\r\n").await, "");
        let started = std::time::Instant::now();
        let out = exchange(addr, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(out.starts_with("HTTP/1.1 204 ") && started.elapsed() >= Duration::from_millis(50), "{out}");
        assert_eq!(*lock(server.state()), ["POST hi", "GET ", "GET "]);
        assert!(format!("{server:?}").contains(&addr.to_string()));

        drop(server);
        tokio::task::yield_now().await;
        assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
    }
}
