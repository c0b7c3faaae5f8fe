//! End-to-end tests over real loopback HTTP: `apigen_runtime::Client` against the fake
//! Taskcluster of `fake-servers`, which checks Hawk, certificates, authorizedScopes and bewits
//! with its own HMAC code.

use std::time::{Duration, Instant, SystemTime};

use apigen_runtime::hawk::{payload_hash, resource_of, HawkRequest, Signer};
use apigen_runtime::reqwest::Method;
use apigen_runtime::serde_json::{json, Value};
use apigen_runtime::{Body, Client, Credentials, Error, Request, RetryPolicy};
use fake_servers::taskcluster::{Fault, Reply, TaskclusterServer};

const TOKEN: &str = "perm-secret-token-XYZ";

/// Retries as the defaults, but fast.
fn fast_retry(retries: u32) -> RetryPolicy {
    RetryPolicy { retries, delay_factor: Duration::from_millis(5), ..RetryPolicy::default() }
}

async fn server() -> TaskclusterServer {
    let s = TaskclusterServer::start().await;
    s.add_client("perm", TOKEN, &["a:*", "b", "auth:create-client:named/*"]);
    s
}

fn client(server: &TaskclusterServer, creds: impl Into<Option<Credentials>>) -> Client {
    Client::builder(server.root_url()).credentials(creds).retry(fast_retry(5)).build().unwrap().service("auth", "v1")
}

fn perm() -> Credentials {
    Credentials::new("perm", TOKEN)
}

/// GET `test` and return the server's echo (clientId, scopes, ...), failing on any error.
/// The JSON body of a plain reqwest response.
async fn body_json(resp: reqwest::Response) -> Value {
    apigen_runtime::serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

async fn whoami(client: &Client) -> Value {
    client.call_json(Request::new(Method::GET, "test")).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn whoami_err(client: &Client) -> Error {
    match client.call(Request::new(Method::GET, "test")).await {
        Ok(r) => panic!("expected a failure, got {} {}", r.status, r.text()),
        Err(e) => e,
    }
}

fn assert_auth_failed(err: &Error, why: &str) {
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(err.code(), Some("AuthenticationFailed"), "{err}");
    assert!(err.to_string().contains(why), "expected {why:?} in: {err}");
}

#[tokio::test]
async fn permanent_credentials_are_accepted() {
    let s = server().await;
    let v = whoami(&client(&s, perm())).await;
    assert_eq!(v["clientId"], "perm");
    assert_eq!(v["scopes"], json!(["a:*", "b", "auth:create-client:named/*"]));
    assert_eq!(v["method"], "GET");
    assert_eq!(v["path"], "/api/auth/v1/test");
    let req = s.last_request().unwrap();
    assert!(req.header("authorization").unwrap().starts_with("Hawk id=\"perm\""));
    assert_eq!(req.auth_error, None);
}

#[tokio::test]
async fn unnamed_temporary_credentials_are_accepted() {
    let s = server().await;
    let temp = perm().create_temporary_credentials(Duration::from_secs(3600), ["a:x", "a:y", "b"]).unwrap();
    let v = whoami(&client(&s, temp.clone())).await;
    assert_eq!(v["clientId"], "perm");
    assert_eq!(v["scopes"], json!(["a:x", "a:y", "b"]));

    // authorizedScopes restrict temporary credentials further...
    let v = whoami(&client(&s, temp.clone().with_authorized_scopes(["a:y"]))).await;
    assert_eq!(v["scopes"], json!(["a:y"]));
    // ...but cannot go beyond the certificate.
    let err = whoami_err(&client(&s, temp.with_authorized_scopes(["a:z"]))).await;
    assert_auth_failed(&err, "authorizedScopes");

    // A certificate with scopes its issuer lacks is refused.
    let greedy = perm().create_temporary_credentials(Duration::from_secs(60), ["c"]).unwrap();
    assert_auth_failed(&whoami_err(&client(&s, greedy)).await, "sufficient scopes");

    // The temporary token is not the permanent one: signing with the permanent token fails.
    let mut wrong = perm().create_temporary_credentials(Duration::from_secs(60), ["b"]).unwrap();
    wrong.access_token = TOKEN.into();
    assert_auth_failed(&whoami_err(&client(&s, wrong)).await, "Bad mac");
}

#[tokio::test]
async fn named_temporary_credentials_are_accepted() {
    let s = server().await;
    let named =
        perm().create_named_temporary_credentials("named/worker-1", Duration::from_secs(3600), ["a:1", "b"]).unwrap();
    let v = whoami(&client(&s, named.clone())).await;
    assert_eq!(v["clientId"], "named/worker-1");
    assert_eq!(v["scopes"], json!(["a:1", "b"]));

    let v = whoami(&client(&s, named.with_authorized_scopes(["b"]))).await;
    assert_eq!(v["clientId"], "named/worker-1");
    assert_eq!(v["scopes"], json!(["b"]));

    // The issuer holds auth:create-client:named/* only.
    let other = perm().create_named_temporary_credentials("other", Duration::from_secs(60), ["b"]).unwrap();
    assert_auth_failed(&whoami_err(&client(&s, other)).await, "auth:create-client:other");
}

#[tokio::test]
async fn expired_temporary_credentials_are_rejected() {
    let s = server().await;
    let start = SystemTime::now() - Duration::from_secs(3600);
    let old = perm()
        .temporary(
            None,
            start,
            Duration::from_secs(600),
            ["b"],
            apigen_runtime::slug::v4() + &apigen_runtime::slug::v4(),
        )
        .unwrap();
    assert_auth_failed(&whoami_err(&client(&s, old)).await, "expiry");
}

#[tokio::test]
async fn authorized_scopes_on_permanent_credentials() {
    let s = server().await;
    let v = whoami(&client(&s, perm().with_authorized_scopes(["a:1", "b"]))).await;
    assert_eq!(v["clientId"], "perm");
    assert_eq!(v["scopes"], json!(["a:1", "b"]));
    // An empty list is sent and means "no scopes".
    let v = whoami(&client(&s, perm().with_authorized_scopes(Vec::<String>::new()))).await;
    assert_eq!(v["scopes"], json!([]));
    let err = whoami_err(&client(&s, perm().with_authorized_scopes(["c"]))).await;
    assert_auth_failed(&err, "authorizedScopes");
}

#[tokio::test]
async fn wrong_access_token_is_rejected_and_never_shown() {
    let s = server().await;
    let secret = "wrong-token-DO-NOT-PRINT";
    let err = whoami_err(&client(&s, Credentials::new("perm", secret))).await;
    assert!(matches!(err, Error::Status { status: 401, .. }), "{err:?}");
    assert_auth_failed(&err, "Bad mac");
    assert_eq!(err.attempts(), 1);
    let (display, debug) = (err.to_string(), format!("{err:?}"));
    assert!(display.contains("GET"), "{display}");
    assert!(display.contains(&format!("{}/api/auth/v1/test", s.root_url())), "{display}");
    assert!(display.contains("401"), "{display}");
    assert!(display.contains("1 attempt"), "{display}");
    for text in [&display, &debug] {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
    }
    // Unknown client ids are rejected too.
    assert_auth_failed(&whoami_err(&client(&s, Credentials::new("nobody", TOKEN))).await, "unknown clientId");
}

#[tokio::test]
async fn query_parameters_are_signed_as_sent() {
    let s = server().await;
    let c = client(&s, perm());
    let req = Request::new(Method::GET, "list%2Fthings/a%20b")
        .query("prefix", "a/b c")
        .query("sym", "x&y=z+ü~")
        .query("limit", 3);
    let v: Value = c.call_json(req).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["clientId"], "perm");
    assert_eq!(v["path"], "/api/auth/v1/list%2Fthings/a%20b");
    assert_eq!(v["query"], json!({"prefix": "a/b c", "sym": "x&y=z+ü~", "limit": "3"}));
    assert_eq!(v["rawQuery"], "prefix=a%2Fb%20c&sym=x%26y%3Dz%2B%C3%BC~&limit=3");
}

#[tokio::test]
async fn signed_urls_carry_their_own_authentication() {
    let s = server().await;
    let plain = apigen_runtime::http::client_builder().unwrap().build().unwrap();
    for creds in [
        perm(),
        perm().with_authorized_scopes(["b"]),
        perm().create_temporary_credentials(Duration::from_secs(600), ["a:q"]).unwrap(),
        perm().create_named_temporary_credentials("named/x", Duration::from_secs(600), ["a:r"]).unwrap(),
    ] {
        let c = client(&s, creds.clone());
        let url = c.signed_url("artifact/public%2Flog.txt", &[("q", "a/b c")], Duration::from_secs(60)).unwrap();
        assert!(url.contains("bewit="), "{url}");
        let resp = plain.get(&url).send().await.unwrap();
        let status = resp.status().as_u16();
        let v = body_json(resp).await;
        assert_eq!(status, 200, "{creds}: {v}");
        let req = s.last_request().unwrap();
        assert!(req.header("authorization").is_none());
        assert_eq!(v["clientId"], creds.client_id.as_str());
        let expected_scopes = match (&creds.authorized_scopes, creds.certificate().unwrap()) {
            (Some(a), _) => json!(a),
            (None, Some(cert)) => json!(cert.scopes),
            (None, None) => json!(["a:*", "b", "auth:create-client:named/*"]),
        };
        assert_eq!(v["scopes"], expected_scopes);
        assert_eq!(v["query"], json!({"q": "a/b c"}));
    }

    // Tampering with the signed URL breaks it.
    let c = client(&s, perm());
    let url = c.signed_url("artifact/x", &[("q", "1")], Duration::from_secs(60)).unwrap();
    for tampered in [url.replace("q=1", "q=2"), url.replace("artifact/x", "artifact/y")] {
        let resp = plain.get(&tampered).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{tampered}");
        let v = body_json(resp).await;
        assert_eq!(v["code"], "AuthenticationFailed");
        assert!(v["message"].as_str().unwrap().contains("Bad mac"), "{v}");
    }
    // So does its expiry passing.
    s.set_clock_offset(120);
    let resp = plain.get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.text().await.unwrap().contains("expired"));
    s.set_clock_offset(0);
    assert_eq!(plain.get(&url).send().await.unwrap().status().as_u16(), 200);

    // Without credentials, the signed URL is the plain one.
    let anon = client(&s, None);
    let url = anon.signed_url("artifact/x", &[("q", "1")], Duration::from_secs(60)).unwrap();
    assert_eq!(url, format!("{}/api/auth/v1/artifact/x?q=1", s.root_url()));
}

#[tokio::test]
async fn unauthenticated_clients_send_no_authorization() {
    let s = server().await;
    let v = whoami(&client(&s, None)).await;
    assert_eq!(v["clientId"], Value::Null);
    assert_eq!(v["scopes"], json!([]));
    assert!(s.last_request().unwrap().header("authorization").is_none());
    // Credentials::from_lookup with no client id gives an unauthenticated client as well.
    let none = Credentials::from_lookup(|_| None).unwrap();
    assert!(none.is_none());
    whoami(&client(&s, none)).await;
    assert!(s.last_request().unwrap().header("authorization").is_none());
}

#[tokio::test]
async fn scopes_are_enforced_per_route() {
    let s = server().await;
    s.require_scopes("GET", "/api/auth/v1/secret", &["a:secret"]);
    let req = || Request::new(Method::GET, "secret");
    assert_eq!(client(&s, perm()).call(req()).await.unwrap().status, 200);
    let err = client(&s, perm().with_authorized_scopes(["b"])).call(req()).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.code(), Some("InsufficientScopes"));
}

#[tokio::test]
async fn retries_5xx_then_succeeds_and_resigns_each_attempt() {
    let s = server().await;
    s.inject("/api/auth/v1/flaky", Fault::Status(503, 2));
    let resp = client(&s, perm()).call(Request::new(Method::GET, "flaky")).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 3);
    assert_eq!(s.hits("/api/auth/v1/flaky"), 3);
    let v: Value = resp.json().unwrap();
    assert_eq!(v["clientId"], "perm");
    // Every attempt was signed afresh: three different nonces, all verified.
    let reqs = s.requests();
    assert!(reqs.iter().all(|r| r.auth_error.is_none() && r.client_id.as_deref() == Some("perm")));
    let nonces = s.nonces();
    assert_eq!(nonces.len(), 3);
    assert!(nonces[0] != nonces[1] && nonces[1] != nonces[2] && nonces[0] != nonces[2], "{nonces:?}");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let s = server().await;
    s.inject("/api/auth/v1/bad", Fault::Status(400, 10));
    let err = client(&s, perm()).call(Request::new(Method::POST, "bad")).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.attempts(), 1);
    assert_eq!(s.hits("/api/auth/v1/bad"), 1);
}

#[tokio::test]
async fn server_errors_exhaust_retries() {
    let s = server().await;
    s.inject("/api/auth/v1/down", Fault::Status(500, 1000));
    let c =
        Client::builder(s.root_url()).credentials(perm()).retry(fast_retry(2)).build().unwrap().service("auth", "v1");
    let started = Instant::now();
    let err = c.call(Request::new(Method::GET, "down").query("x", "1")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(s.hits("/api/auth/v1/down"), 3);
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.code(), Some("InjectedFault"));
    assert_eq!(err.attempts(), 3);
    let display = err.to_string();
    for part in ["GET", &format!("{}/api/auth/v1/down?x=1", s.root_url()), "HTTP 500", "3 attempts"] {
        assert!(display.contains(part), "{part:?} missing from {display}");
    }
    assert!(!display.contains(TOKEN) && !format!("{err:?}").contains(TOKEN));

    // `send` returns the final answer instead.
    let resp = c.send(Request::new(Method::GET, "down")).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (500, 3));
}

#[tokio::test]
async fn connection_resets_are_retried() {
    let s = server().await;
    s.inject("/api/auth/v1/reset", Fault::Reset(2));
    let resp = client(&s, perm()).call(Request::new(Method::GET, "reset")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 3);
    assert_eq!(s.hits("/api/auth/v1/reset"), 3);

    // Without retries the reset is a transport error that names the call.
    s.inject("/api/auth/v1/reset2", Fault::Reset(1));
    let c = Client::builder(s.root_url()).credentials(perm()).retry(RetryPolicy::none()).build().unwrap();
    let err = c.service("auth", "v1").call(Request::new(Method::GET, "reset2")).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("/api/auth/v1/reset2"), "{err}");
}

#[tokio::test]
async fn timeouts_fire() {
    let s = server().await;
    s.inject("/api/auth/v1/slow", Fault::Delay(Duration::from_secs(2)));
    let c = Client::builder(s.root_url())
        .credentials(perm())
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .service("auth", "v1");
    let started = Instant::now();
    let err = c.call(Request::new(Method::GET, "slow")).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    assert_eq!(err.attempts(), 1);
    assert_eq!(s.hits("/api/auth/v1/slow"), 1);
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let s = server().await;
    let target = format!("{}/api/auth/v1/elsewhere", s.root_url());
    let location = target.clone();
    s.on("GET", "/api/auth/v1/artifact", move |_| {
        Reply::json(303, json!({"url": location})).with_header("location", &location)
    });
    let resp = client(&s, perm()).call(Request::new(Method::GET, "artifact")).await.unwrap();
    assert_eq!(resp.status, 303);
    assert_eq!(resp.header("location"), Some(target.as_str()));
    assert_eq!(resp.json::<Value>().unwrap()["url"], target.as_str());
    assert_eq!(s.hits("/api/auth/v1/elsewhere"), 0);
}

#[tokio::test]
async fn post_without_body_sends_content_length_zero() {
    let s = server().await;
    let v: Value = client(&s, perm()).call_json(Request::new(Method::POST, "run")).await.unwrap();
    assert_eq!(v["clientId"], "perm");
    assert_eq!(v["body"], Value::Null);
    let req = s.last_request().unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.header("content-length"), Some("0"));
    assert_eq!(req.header("content-type"), None);
    assert!(req.body.is_empty());
}

#[tokio::test]
async fn json_post_verifies() {
    let s = server().await;
    let body = json!({"name": "x", "tags": ["a/b c"]});
    let req = Request::new(Method::POST, "create").json(&body).unwrap();
    let v: Value = client(&s, perm()).call_json(req).await.unwrap();
    assert_eq!(v["body"], body);
    assert_eq!(s.last_request().unwrap().header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn payload_hashes_verify_and_mismatches_are_rejected() {
    let s = server().await;
    let c = Client::builder(s.root_url())
        .credentials(perm())
        .hash_payloads(true)
        .retry(fast_retry(1))
        .build()
        .unwrap()
        .service("auth", "v1");
    let body = json!({"a": 1});
    let v: Value = c.call_json(Request::new(Method::POST, "hashed").json(&body).unwrap()).await.unwrap();
    assert_eq!(v["clientId"], "perm");
    assert_eq!(v["body"], body);
    let auth = s.last_request().unwrap().header("authorization").unwrap().to_owned();
    assert!(auth.contains("hash=\""), "{auth}");

    // A content type with parameters: Hawk hashes the bare, lower-case type.
    let raw = Body::Bytes { content_type: "Text/Plain; charset=utf-8".into(), data: "hello".into() };
    let resp = c.call(Request::new(Method::PUT, "hashed").body(raw)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status, 200);

    // By hand: a valid signature over a hash of one body, sent with another body.
    let url = url::Url::parse(&format!("{}/api/auth/v1/hashed", s.root_url())).unwrap();
    let resource = resource_of(&url);
    let signer = Signer::new(&perm()).unwrap();
    let hawk_req = HawkRequest::from_url("POST", &url, &resource).unwrap();
    let signed_hash = payload_hash("application/json", br#"{"a":1}"#).unwrap();
    let header = signer.header(&hawk_req, Some(&signed_hash)).unwrap();
    let plain = apigen_runtime::http::client_builder().unwrap().build().unwrap();
    let send = |body: &'static str| {
        plain
            .post(url.clone())
            .header("authorization", header.clone())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = send(r#"{"a":2}"#).await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let v = body_json(resp).await;
    assert_eq!(v["code"], "AuthenticationFailed");
    assert!(v["message"].as_str().unwrap().contains("payload hash"), "{v}");
    // The same header with the body it hashed is accepted.
    let resp = send(r#"{"a":1}"#).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn dropping_the_call_during_backoff_stops_requests() {
    let s = server().await;
    s.inject("/api/auth/v1/gone", Fault::Status(500, 1000));
    let c = Client::builder(s.root_url())
        .credentials(perm())
        .retry(RetryPolicy {
            retries: 5,
            delay_factor: Duration::from_millis(300),
            randomization_factor: 0.0,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
        .service("auth", "v1");
    let call = tokio::spawn(async move { c.send(Request::new(Method::GET, "gone")).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.hits("/api/auth/v1/gone") == 0 {
        assert!(Instant::now() < deadline, "the first request never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    // Normally 1; 2 only if this machine stalled for more than the first backoff.
    let at_abort = s.hits("/api/auth/v1/gone");
    assert!(at_abort <= 2);
    // Longer than the next backoff (300 ms, then 600 ms) would have been.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(s.hits("/api/auth/v1/gone"), at_abort);
}

#[tokio::test]
async fn streamed_downloads_are_signed_and_retried() {
    let s = server().await;
    s.inject("/api/auth/v1/file", Fault::Status(503, 1));
    s.on("GET", "/api/auth/v1/file", |req| {
        if req.client_id.as_deref() == Some("perm") {
            Reply::bytes(200, "application/octet-stream", vec![7u8; 100_000])
        } else {
            Reply::error(403, "InsufficientScopes", "who are you?")
        }
    });
    let c = client(&s, perm());
    let mut out = Vec::new();
    let n = c.download(Request::new(Method::GET, "file"), &mut out).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 100_000);
    assert!(out.iter().all(|b| *b == 7));
    assert_eq!(s.hits("/api/auth/v1/file"), 2);
    let nonces = s.nonces();
    assert_ne!(nonces[0], nonces[1]);

    // Outside /api/ the fake answers 404: an error status, not retried.
    let root = Client::builder(s.root_url()).credentials(perm()).retry(fast_retry(3)).build().unwrap();
    let err = root.download(Request::new(Method::GET, "nowhere"), &mut Vec::new()).await.unwrap_err();
    assert_eq!((err.status(), err.code(), err.attempts()), (Some(404), Some("ResourceNotFound"), 1));
}
