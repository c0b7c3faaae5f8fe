//! What a client does when the user configures nothing: one shared HTTP stack, payload hashes
//! sent, header names in any case, and the runtime as users build it (not with features other
//! workspace members turn on).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use apigen_runtime::reqwest::Method;
use apigen_runtime::serde_json::{json, Value};
use apigen_runtime::{Body, Client, Credentials, Request, RetryPolicy};
use fake_servers::taskcluster::TaskclusterServer;

/// A loopback HTTP server answering `200 {}` that counts the TCP connections it accepted.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let svc = service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                        apigen_runtime::bytes::Bytes::from_static(b"{}"),
                    )))
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

#[tokio::test]
async fn separately_built_clients_share_one_connection_pool() {
    let (root, accepted) = counting_server().await;
    let build = || Client::builder(root.clone()).retry(RetryPolicy::none()).build().unwrap();
    let (queue, auth) = (build().service("queue", "v1"), build().service("auth", "v1"));
    for c in [&queue, &auth, &queue, &auth] {
        assert_eq!(c.send(Request::new(Method::GET, "ping")).await.unwrap().status, 200);
    }
    // Sequential calls on one keep-alive connection: the second client found the first's.
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    // A client given its own reqwest::Client has its own pool.
    let own = Client::builder(root.clone())
        .http_client(apigen_runtime::http::client_builder().unwrap().build().unwrap())
        .build()
        .unwrap();
    own.send(Request::new(Method::GET, "ping")).await.unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn bodies_carry_a_payload_hash_by_default() {
    let s = TaskclusterServer::start().await;
    s.add_client("perm", "perm-token", &["*"]);
    let c = Client::builder(s.root_url()).credentials(Credentials::new("perm", "perm-token")).build().unwrap();
    let c = c.service("auth", "v1");
    let v: Value = c.call_json(Request::new(Method::POST, "hashed").json(&json!({"a": 1})).unwrap()).await.unwrap();
    assert_eq!(v["clientId"], "perm");
    let auth = s.last_request().unwrap().header("authorization").unwrap().to_owned();
    assert!(auth.contains("hash=\""), "{auth}");
    // No body, nothing to hash.
    c.call(Request::new(Method::GET, "test")).await.unwrap();
    let auth = s.last_request().unwrap().header("authorization").unwrap().to_owned();
    assert!(!auth.contains("hash="), "{auth}");
}

#[test]
fn header_names_in_any_case_and_bad_ones_are_errors() {
    let r = Request::new(Method::GET, "x").header("If-Match", "\"abc\"").unwrap().header("X-Custom", "1").unwrap();
    assert_eq!(r.headers[0].0.as_str(), "if-match");
    assert_eq!(r.headers[1].0.as_str(), "x-custom");
    let e = Request::new(Method::GET, "x").header("Bad Name", "1").unwrap_err();
    assert!(e.to_string().contains("\"Bad Name\" is not a valid HTTP header name"), "{e}");
    let e = Request::new(Method::GET, "x").header("accept", "a\nb").unwrap_err();
    assert!(e.to_string().contains("not a valid value for header accept"), "{e}");
}

/// Form fields are sent in the order users get: serde_json's sorted map. This fails if another
/// workspace member's `serde_json/preserve_order` leaked into the runtime under test, which
/// `./build.sh --test` avoids by testing codegen in a separate cargo invocation.
#[test]
fn form_fields_in_the_order_users_get() {
    #[derive(apigen_runtime::serde::Serialize)]
    #[serde(crate = "apigen_runtime::serde")]
    struct Form {
        zeta: u8,
        alpha: &'static str,
    }
    let Body::Form(text) = Body::form(&Form { zeta: 1, alpha: "a b" }).unwrap() else { panic!("not a form") };
    assert_eq!(text, "alpha=a%20b&zeta=1");
}
