//! What Hawk signing costs: per header, and per loopback round trip compared with an unsigned
//! `reqwest` GET to the same server.
//!
//! `cargo bench -p apigen-runtime --bench signing` (a plain timing harness: warm-up, then N
//! timed iterations, median and p90 per operation). Set `SIGNING_BENCH_ITERS` to change N.

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::time::{Duration, Instant};

use apigen_runtime::hawk::{resource_of, HawkRequest, Signer};
use apigen_runtime::reqwest::Method;
use apigen_runtime::{Client, Credentials, Request, RetryPolicy};
use bytes::Bytes;
use fake_servers::taskcluster::TaskclusterServer;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

struct Stats {
    median: Duration,
    p90: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats { median: at(0.5), p90: at(0.9) }
}

fn report(name: &str, iters: usize, s: &Stats) {
    println!("{name:<58} n={iters:<6} median {:>10.2?}   p90 {:>10.2?}", s.median, s.p90);
}

/// Times `f` one call at a time (sub-microsecond calls are timed in batches of `batch`).
fn bench_sync(name: &str, warmup: usize, iters: usize, batch: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..warmup {
        f();
    }
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed() / batch as u32);
    }
    let s = stats(samples);
    report(name, iters * batch, &s);
    s
}

type Op<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'a>;

/// Times async operations interleaved (one of each per round, in rotating order), so that
/// drift in the machine's state affects every operation alike.
async fn bench_interleaved(warmup: usize, iters: usize, ops: &mut [(&str, Op<'_>)]) -> Vec<Stats> {
    for _ in 0..warmup {
        for (_, op) in ops.iter_mut() {
            op().await;
        }
    }
    let n = ops.len();
    let mut samples = vec![Vec::with_capacity(iters); n];
    for round in 0..iters {
        for k in 0..n {
            let i = (round + k) % n;
            let t = Instant::now();
            (ops[i].1)().await;
            samples[i].push(t.elapsed());
        }
    }
    samples
        .into_iter()
        .zip(ops.iter())
        .map(|(smp, (name, _))| {
            let s = stats(smp);
            report(name, iters, &s);
            s
        })
        .collect()
}

/// A minimal hyper server answering every request `200 {}` without looking at it.
async fn minimal_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let svc = service_fn(|_req| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"{}"))))
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    format!("http://{addr}")
}

fn main() {
    let iters: usize = std::env::var("SIGNING_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    println!("signing benchmark: {iters} iterations per round-trip case (after warm-up), cases interleaved\n");

    // (a) Hawk header signing.
    let perm = Credentials::new("bench-client", "bench-access-token-0123456789abcdefghij");
    let temp = perm
        .create_named_temporary_credentials(
            "bench/temp",
            Duration::from_secs(3600),
            ["queue:create-task:*", "queue:route:index.*", "secrets:get:project/bench/*"],
        )
        .unwrap();
    let url = url::Url::parse("https://tc.example.com/api/queue/v1/task/abc/status?limit=10&x=a%2Fb%20c").unwrap();
    let resource = resource_of(&url);
    let req = HawkRequest::from_url("GET", &url, &resource).unwrap();
    let perm_signer = Signer::new(&perm).unwrap();
    let temp_signer = Signer::new(&temp).unwrap();
    let sign_perm = bench_sync("Signer::header, permanent credentials", 10_000, 2000, 20, || {
        black_box(perm_signer.header(black_box(&req), None).unwrap());
    });
    let sign_temp = bench_sync("Signer::header, temporary credentials (cert in ext)", 10_000, 2000, 20, || {
        black_box(temp_signer.header(black_box(&req), None).unwrap());
    });
    bench_sync("Signer::new, temporary credentials (once per client)", 1000, 2000, 5, || {
        black_box(Signer::new(black_box(&temp)).unwrap());
    });
    // What building a client costs: the HTTP stack (TLS configuration, trust roots) and the signer.
    bench_sync("Client::builder(..).build(), permanent credentials", 20, 200, 1, || {
        black_box(Client::builder("https://tc.example.com").credentials(perm.clone()).build().unwrap());
    });
    // The first client of a process (or one given its own HTTP stack) builds a reqwest::Client.
    bench_sync("reqwest::Client with the runtime's TLS (first client / own stack)", 5, 100, 1, || {
        black_box(apigen_runtime::http::client_builder().unwrap().build().unwrap());
    });
    // Payload hashing (on by default): SHA-256 over the content type and body of each request.
    let mib = vec![b'x'; 1 << 20];
    bench_sync("hawk::payload_hash, 1 MiB body", 5, 200, 1, || {
        black_box(apigen_runtime::hawk::payload_hash("application/json", black_box(&mib)).unwrap());
    });
    println!(
        "  temporary / permanent header signing: {:.2}x\n",
        sign_temp.median.as_secs_f64() / sign_perm.median.as_secs_f64()
    );

    // (b) Full round trips on loopback.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let plain = apigen_runtime::http::client_builder().unwrap().build().unwrap();
        let warmup = 200;

        for (label, root, verifying) in [
            ("minimal hyper server", minimal_server().await, None),
            ("fake Taskcluster (verifies Hawk)", String::new(), Some(TaskclusterServer::start().await)),
        ] {
            let root = match &verifying {
                Some(s) => {
                    s.add_client("bench-client", &perm.access_token, &["*"]);
                    s.root_url()
                }
                None => root,
            };
            println!("round trips against the {label}:");
            let build = |creds: Option<Credentials>| {
                Client::builder(root.clone())
                    .credentials(creds)
                    .retry(RetryPolicy::none())
                    .build()
                    .unwrap()
                    .service("queue", "v1")
            };
            let signed_client = build(Some(perm.clone()));
            let temp_client = build(Some(temp.clone()));
            let anon_client = build(None);
            let url = format!("{root}/api/queue/v1/task/abc/status");
            let url_query = format!("{root}/api/queue/v1/task-group/abc/list?limit=10&continuationToken=a%2Fb%20c");

            let call = |c: &Client| -> Pin<Box<dyn Future<Output = ()> + '_>> {
                let c = c.clone();
                Box::pin(async move {
                    let r = c.send(Request::new(Method::GET, "task/abc/status")).await.unwrap();
                    assert_eq!(r.status, 200, "{}", r.text());
                    black_box(r);
                })
            };
            let call_query = |c: &Client| -> Pin<Box<dyn Future<Output = ()> + '_>> {
                let c = c.clone();
                Box::pin(async move {
                    let req = Request::new(Method::GET, "task-group/abc/list")
                        .query("limit", 10)
                        .query("continuationToken", "a/b c");
                    let r = c.send(req).await.unwrap();
                    assert_eq!(r.status, 200, "{}", r.text());
                    black_box(r);
                })
            };
            let mut ops: Vec<(&str, Op<'_>)> = vec![
                (
                    "  plain reqwest GET (unsigned)",
                    Box::new(|| {
                        let fut = plain.get(&url).send();
                        Box::pin(async move {
                            let resp = fut.await.unwrap();
                            assert_eq!(resp.status().as_u16(), 200);
                            black_box(resp.bytes().await.unwrap());
                        })
                    }),
                ),
                ("  Client::send GET, no credentials", Box::new(|| call(&anon_client))),
                ("  Client::send GET, Hawk (permanent)", Box::new(|| call(&signed_client))),
                ("  Client::send GET, Hawk (temporary)", Box::new(|| call(&temp_client))),
                (
                    "  plain reqwest GET with query (unsigned)",
                    Box::new(|| {
                        let fut = plain.get(&url_query).send();
                        Box::pin(async move {
                            let resp = fut.await.unwrap();
                            assert_eq!(resp.status().as_u16(), 200);
                            black_box(resp.bytes().await.unwrap());
                        })
                    }),
                ),
                ("  Client::send GET with query, Hawk (permanent)", Box::new(|| call_query(&signed_client))),
            ];
            let results = bench_interleaved(warmup, iters, &mut ops).await;
            let [plain_get, anon, signed, signed_temp, plain_query, signed_query] = &results[..] else {
                unreachable!()
            };
            let ratio = |s: &Stats| s.median.as_secs_f64() / plain_get.median.as_secs_f64();
            println!(
                "  median ratio vs plain reqwest: Client unsigned {:.2}x, signed permanent {:.2}x, signed temporary {:.2}x",
                ratio(anon),
                ratio(signed),
                ratio(signed_temp)
            );
            println!(
                "  with query: signed permanent {:.2}x plain reqwest with the same query",
                signed_query.median.as_secs_f64() / plain_query.median.as_secs_f64()
            );
            println!(
                "  signing overhead per call (median signed - median unsigned Client): {:.2?}\n",
                signed.median.saturating_sub(anon.median)
            );
            if let Some(s) = &verifying {
                assert!(s.requests().iter().all(|r| r.auth_error.is_none()));
            }
        }
    });
}
