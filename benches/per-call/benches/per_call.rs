//! Our runtime against the official `taskcluster` crate (114.0.0), call for call, in one run:
//! a Hawk-signed GET on loopback with a path only and one with a query string, then what
//! building a client costs.
//!
//! `cargo bench --manifest-path benches/per-call/Cargo.toml --target-dir target --offline`
//! (env `PER_CALL_REPS`, default 21, and `PER_CALL_BATCH`, default 400 calls per batch;
//! `PER_CALL_ONLY=<case number 0-3>` runs one case alone and nothing else, for a profiler or
//! `perf stat -e instructions:u`).
//!
//! Method: the server runs on a thread of its own; both clients run on the bench's main thread
//! (a current-thread tokio runtime), so the CPU time of that thread
//! is everything a client spends per call (`CLOCK_THREAD_CPUTIME_ID`), whatever else the machine
//! is doing. Each rep runs one
//! batch of every case in rotating order, and the ratio ours/official is taken per rep (paired),
//! so a change in the machine's load affects both sides of a ratio alike. Reported: the median
//! per-call wall and CPU time of each case, and the median and range of the paired ratios.
//!
//! The server answers `200 {}` to any request that carries an `Authorization: Hawk ...` header
//! and 401 otherwise; it does not check the MAC, because the official crate signs the path
//! without the query string (a real deployment refuses those calls; ours signs both, and the
//! runtime's tests check our MACs against an independent verifier).

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::time::{Duration, Instant};

use apigen_runtime::reqwest::Method;
use apigen_runtime::{Client, Credentials, Request, RetryPolicy};
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

const CLIENT_ID: &str = "bench-client";
const ACCESS_TOKEN: &str = "bench-access-token-0123456789abcdefghij";

/// CPU time this thread has used (`CLOCK_THREAD_CPUTIME_ID`, exact to the nanosecond).
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Starts the server on a thread of its own; returns its root URL.
fn start_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                        let signed = req
                            .headers()
                            .get("authorization")
                            .is_some_and(|v| v.as_bytes().starts_with(b"Hawk id=\"bench-client\""));
                        let mut resp = hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
                        if !signed {
                            *resp.status_mut() = hyper::StatusCode::UNAUTHORIZED;
                        }
                        Ok::<_, Infallible>(resp)
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

type Op<'a> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'a>;

struct Sample {
    wall: Duration,
    cpu: Duration,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let reps: usize = std::env::var("PER_CALL_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(21);
    let batch: u32 = std::env::var("PER_CALL_BATCH").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let root = start_server();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let ours = Client::builder(root.clone())
        .credentials(Credentials::new(CLIENT_ID, ACCESS_TOKEN))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .service("queue", "v1");
    let official = rt.block_on(async {
        taskcluster::ClientBuilder::new(root.clone())
            .credentials(taskcluster::Credentials::new(CLIENT_ID, ACCESS_TOKEN))
            .retry(taskcluster::Retry { retries: 0, ..Default::default() })
            .build()
            .unwrap()
    });

    let cases: Vec<(&str, Op<'_>)> = vec![
        (
            "ours, path only",
            Box::new(|| {
                Box::pin(async {
                    let r = ours.call(Request::new(Method::GET, "task/abc/status")).await.unwrap();
                    black_box(r.body);
                })
            }),
        ),
        (
            "official, path only",
            Box::new(|| {
                Box::pin(async {
                    let r = official.request("GET", "api/queue/v1/task/abc/status", None, None).await.unwrap();
                    black_box(r.bytes().await.unwrap());
                })
            }),
        ),
        (
            "ours, with query",
            Box::new(|| {
                Box::pin(async {
                    let req = Request::new(Method::GET, "task-group/abc/list")
                        .query("limit", 10)
                        .query("continuationToken", "a/b c");
                    let r = ours.call(req).await.unwrap();
                    black_box(r.body);
                })
            }),
        ),
        (
            "official, with query",
            Box::new(|| {
                Box::pin(async {
                    let q = vec![("limit", "10"), ("continuationToken", "a/b c")];
                    let r = official.request("GET", "api/queue/v1/task-group/abc/list", Some(q), None).await.unwrap();
                    black_box(r.bytes().await.unwrap());
                })
            }),
        ),
    ];

    if let Some(only) = std::env::var("PER_CALL_ONLY").ok().and_then(|v| v.parse::<usize>().ok()) {
        let (name, op) = &cases[only.min(cases.len() - 1)];
        rt.block_on(async {
            for _ in 0..reps * batch as usize {
                op().await;
            }
        });
        println!("{name}: {} calls", reps * batch as usize);
        return;
    }
    println!("per-call benchmark: {reps} reps x {batch} calls per case, cases rotating within each rep\n");
    let samples: Vec<Vec<Sample>> = rt.block_on(async {
        // Warm-up: connections open, allocator and caches settled.
        for (_, op) in &cases {
            for _ in 0..batch.min(200) {
                op().await;
            }
        }
        let mut samples: Vec<Vec<Sample>> = cases.iter().map(|_| Vec::new()).collect();
        for rep in 0..reps {
            for k in 0..cases.len() {
                let i = (rep + k) % cases.len();
                let (cpu0, t0) = (thread_cpu(), Instant::now());
                for _ in 0..batch {
                    (cases[i].1)().await;
                }
                let (wall, cpu) = (t0.elapsed() / batch, (thread_cpu() - cpu0) / batch);
                samples[i].push(Sample { wall, cpu });
            }
        }
        samples
    });

    println!("{:<24} {:>14} {:>14}", "case (median per call)", "wall µs", "client CPU µs");
    for ((name, _), s) in cases.iter().zip(&samples) {
        let wall = median(s.iter().map(|x| micros(x.wall)).collect());
        let cpu = median(s.iter().map(|x| micros(x.cpu)).collect());
        println!("{name:<24} {wall:>14.2} {cpu:>14.2}");
    }
    println!("\npaired ratios ours / official (median [min..max] over {reps} reps):");
    for (label, o, t) in [("path only", 0, 1), ("with query", 2, 3)] {
        for (what, get) in [("wall", (|x: &Sample| x.wall) as fn(&Sample) -> Duration), ("CPU", |x: &Sample| x.cpu)] {
            let ratios: Vec<f64> =
                samples[o].iter().zip(&samples[t]).map(|(a, b)| get(a).as_secs_f64() / get(b).as_secs_f64()).collect();
            let (lo, hi) = ratios.iter().fold((f64::MAX, 0.0f64), |(l, h), r| (l.min(*r), h.max(*r)));
            println!("  {label:<11} {what:<5} {:.3}x  [{lo:.3}..{hi:.3}]", median(ratios.clone()));
        }
    }

    // Construction. The first client of a process builds the HTTP stack (TLS configuration,
    // the platform's trust store); our further clients share it, the official crate builds a
    // new reqwest client for every client.
    println!("\nclient construction (median of 30, wall and CPU of this thread):");
    let construct = |name: &str, f: &dyn Fn()| {
        let mut wall = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..30 {
            let (c0, t0) = (thread_cpu(), Instant::now());
            f();
            wall.push(micros(t0.elapsed()));
            cpu.push(micros(thread_cpu() - c0));
        }
        println!("  {name:<62} {:>9.1} µs wall {:>9.1} µs CPU", median(wall), median(cpu));
    };
    let _guard = rt.enter();
    construct("ours, HTTP stack of a first client (TLS config + trust store)", &|| {
        black_box(apigen_runtime::http::client_builder().unwrap().build().unwrap());
    });
    construct("ours, each further client (shares the HTTP stack)", &|| {
        black_box(
            Client::builder(root.clone()).credentials(Credentials::new(CLIENT_ID, ACCESS_TOKEN)).build().unwrap(),
        );
    });
    construct("official, each client (builds its own reqwest client)", &|| {
        black_box(
            taskcluster::ClientBuilder::new(root.clone())
                .credentials(taskcluster::Credentials::new(CLIENT_ID, ACCESS_TOKEN))
                .build()
                .unwrap(),
        );
    });
}
