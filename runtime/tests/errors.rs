//! What errors say, over real loopback HTTP against the fake Taskcluster: the server's whole
//! message, the cause of transport failures, a readable `Debug`, JSON pointers in decode
//! errors, `source()` chains as `anyhow` shows them, and configuration mistakes caught by
//! `build()` / `from_lookup()` before anything is sent.

use std::time::Duration;

use apigen_runtime::reqwest::Method;
use apigen_runtime::serde_json::json;
use apigen_runtime::{Client, Credentials, Error, Request, RetryPolicy};
use fake_servers::taskcluster::{Fault, Reply, TaskclusterServer};

const TOKEN: &str = "perm-secret-token-XYZ";

async fn server() -> TaskclusterServer {
    let s = TaskclusterServer::start().await;
    s.add_client("perm", TOKEN, &["a:*"]);
    s
}

fn client(s: &TaskclusterServer, retry: RetryPolicy) -> Client {
    Client::builder(s.root_url())
        .credentials(Credentials::new("perm", TOKEN))
        .retry(retry)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .service("queue", "v1")
}

fn fast(retries: u32) -> RetryPolicy {
    RetryPolicy { retries, delay_factor: Duration::from_millis(2), ..RetryPolicy::default() }
}

/// A 403 as the auth service words it: several lines, the scope lists in the middle.
const SCOPES_MESSAGE: &str = "Client ID perm does not have sufficient scopes and is missing the following scopes:\n\n```\n{\n  \"AnyOf\": [\n    \"queue:create-task:highest:proj/linux\",\n    \"queue:create-task:very-high:proj/linux\"\n  ]\n}\n```\n\nThis request requires the client to satisfy the following scope expression:\n\n```\n\"queue:create-task:project:none\"\n```";

#[tokio::test]
async fn http_errors_show_the_whole_server_message() {
    let s = server().await;
    s.on("PUT", "/api/queue/v1/task/T1", |_| Reply::error(403, "InsufficientScopes", SCOPES_MESSAGE));
    let body = json!({"payload": {"env": {"accessToken": TOKEN}}});
    let req = Request::new(Method::PUT, "task/T1").json(&body).unwrap();
    let err = client(&s, fast(5)).call(req).await.unwrap_err();
    assert_eq!((err.status(), err.code(), err.attempts()), (Some(403), Some("InsufficientScopes"), 1));
    assert_eq!(err.message(), Some(SCOPES_MESSAGE));
    let shown = err.to_string();
    for needle in [
        "PUT",
        "/api/queue/v1/task/T1",
        "HTTP 403 InsufficientScopes: Client ID perm does not have sufficient scopes",
        "queue:create-task:highest:proj/linux",
        "queue:create-task:very-high:proj/linux",
        "queue:create-task:project:none",
    ] {
        assert!(shown.contains(needle), "{needle:?} missing from:\n{shown}");
    }
    // Continuation lines are indented under the first.
    assert!(shown.contains("\n      \"queue:create-task:highest:proj/linux\","), "{shown}");
    // Debug is the same readable text, not a struct dump; the secret sent stays out of both.
    let debug = format!("{err:?}");
    assert!(debug.starts_with(&shown), "{debug}");
    assert!(!debug.contains("summary:") && !debug.contains("CallSummary"), "{debug}");
    assert!(!shown.contains(TOKEN) && !debug.contains(TOKEN), "{debug}");
    assert!(err.summary().unwrap().request_body.as_deref().unwrap().contains("***"));
}

#[tokio::test]
async fn gocd_field_errors_are_listed() {
    let s = server().await;
    s.on("POST", "/api/queue/v1/thing", |_| {
        Reply::json(
            422,
            json!({"message": "Validation error", "data": {"errors": {"name": ["must not be blank"], "url": ["bad", "worse"]}}}),
        )
    });
    let err = client(&s, fast(0)).call(Request::new(Method::POST, "thing")).await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.ends_with("HTTP 422: Validation error\n  name: must not be blank\n  url: bad; worse"), "{shown}");
}

#[tokio::test]
async fn a_refused_connection_names_its_cause_and_chains_its_sources() {
    // A port that was just free: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let c = Client::builder(format!("http://{addr}")).retry(fast(2)).build().unwrap().service("queue", "v1");
    let err = c.call(Request::new(Method::GET, "ping")).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.attempts(), 3, "connection failures are retried");
    let shown = err.to_string();
    assert!(shown.contains(&format!("GET http://{addr}/api/queue/v1/ping (3 attempts): cannot connect: ")), "{shown}");
    assert!(shown.to_lowercase().contains("connection refused"), "{shown}");

    // source() reaches the operating system's error; anyhow shows the chain as "Caused by".
    let mut chain = Vec::new();
    let mut next = std::error::Error::source(&err);
    while let Some(cause) = next {
        chain.push(cause);
        next = cause.source();
    }
    assert!(chain.iter().any(|c| c.downcast_ref::<std::io::Error>().is_some()), "{chain:?}");
    let with_anyhow = format!("{:?}", anyhow::Error::from(err));
    assert!(with_anyhow.contains("\n\nCaused by:\n"), "{with_anyhow}");
    // The URL is in the summary only (redacted there), not repeated by reqwest's error.
    assert_eq!(with_anyhow.matches(&addr.to_string()).count(), 1, "{with_anyhow}");
}

#[tokio::test]
async fn a_timeout_says_so() {
    let s = server().await;
    s.inject("/api/queue/v1/slow", Fault::Delay(Duration::from_secs(2)));
    let err = client(&s, fast(0)).call(Request::new(Method::GET, "slow")).await.unwrap_err();
    assert!(err.is_timeout());
    let shown = err.to_string();
    assert!(shown.contains("(1 attempt): timed out"), "{shown}");
}

#[tokio::test]
async fn decode_errors_name_the_json_pointer_and_the_expected_type() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Run {
        #[serde(rename = "runId")]
        run_id: u32,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Status {
        runs: Vec<Run>,
    }
    let s = server().await;
    s.on("GET", "/api/queue/v1/status", |_| Reply::json(200, json!({"runs": [{"runId": 0}, {"runId": "one"}]})));
    let err = client(&s, fast(0)).call_json::<Status>(Request::new(Method::GET, "status")).await.unwrap_err();
    let Error::Decode { pointer, .. } = &err else { panic!("{err:?}") };
    assert_eq!(pointer, "/runs/1/runId");
    let shown = err.to_string();
    assert!(
        shown.contains("cannot decode the response at /runs/1/runId: invalid type: string \"one\", expected u32"),
        "{shown}"
    );
    assert!(!shown.contains("line 1 column"), "{shown}");

    // A missing field names the object it is missing from.
    s.on("GET", "/api/queue/v1/status2", |_| Reply::json(200, json!({"runs": [{}]})));
    let err = client(&s, fast(0)).call_json::<Status>(Request::new(Method::GET, "status2")).await.unwrap_err();
    assert!(err.to_string().contains("at /runs/0: missing field `runId`"), "{err}");
    assert!(format!("{:?}", anyhow::Error::from(err)).contains("Caused by"));
}

#[tokio::test]
async fn configuration_mistakes_are_caught_before_anything_is_sent() {
    let s = server().await;
    let root = s.root_url();
    let config_error = |r: Result<Client, Error>| match r {
        Err(e @ Error::Config(_)) => e.to_string(),
        other => panic!("expected a configuration error, got {other:?}"),
    };
    let build = |url: &str| config_error(Client::builder(url).build());

    assert!(build("").contains("root URL is empty"));
    let shown = build(&root.replace("http://", "htp://"));
    assert!(shown.contains("has scheme \"htp\"; expected http or https"), "{shown}");
    let shown = build(&format!("{root}/api/queue/v1/"));
    assert!(shown.contains("points into an API (/api/queue/v1)"), "{shown}");
    assert!(shown.contains(&format!("use the deployment's root URL {root:?}")), "{shown}");
    assert!(build("not a url").contains("\"not a url\" is not a URL"));
    // Passwords in a root URL are not repeated.
    let shown = build("ftp://user:hunter2@example.com");
    assert!(!shown.contains("hunter2"), "{shown}");

    let with = |creds: Credentials| config_error(Client::builder(&root).credentials(creds).build());
    assert!(with(Credentials::new("perm", "")).contains("client \"perm\" have an empty access token"));
    let bad_cert = Credentials { certificate: Some("{\"version\":1".into()), ..Credentials::new("perm", TOKEN) };
    assert!(with(bad_cert).contains("the certificate of client \"perm\""));

    // From the environment, the message names the variable.
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    };
    let shown = config_error(Client::from_lookup(env(&[
        ("TASKCLUSTER_ROOT_URL", "https://tc.example.com"),
        ("TASKCLUSTER_CLIENT_ID", "me"),
    ])));
    assert!(shown.contains("TASKCLUSTER_CLIENT_ID is set (\"me\") but TASKCLUSTER_ACCESS_TOKEN is not"), "{shown}");
    let shown = config_error(Client::from_lookup(env(&[
        ("TASKCLUSTER_ROOT_URL", "https://tc.example.com"),
        ("TASKCLUSTER_CLIENT_ID", "me"),
        ("TASKCLUSTER_ACCESS_TOKEN", "secret-value"),
        ("TASKCLUSTER_CERTIFICATE", "{not json"),
    ])));
    assert!(shown.starts_with("invalid configuration: TASKCLUSTER_CERTIFICATE: "), "{shown}");
    assert!(!shown.contains("secret-value"), "{shown}");
    let shown = config_error(Client::from_lookup(env(&[("TASKCLUSTER_ROOT_URL", "htp://tc.example.com")])));
    assert!(shown.contains("TASKCLUSTER_ROOT_URL: root URL \"htp://tc.example.com\" has scheme"), "{shown}");
    let shown =
        config_error(Client::from_lookup(env(&[("TASKCLUSTER_ROOT_URL", "https://me:hunter2@tc.example.com")])));
    assert!(
        shown.contains("TASKCLUSTER_ROOT_URL: root URL \"https://tc.example.com/\" carries a user name"),
        "{shown}"
    );
    let shown = config_error(Client::from_lookup(env(&[("TASKCLUSTER_PROXY_URL", "http://tc/api/queue/v1")])));
    assert!(shown.contains("TASKCLUSTER_PROXY_URL: root URL"), "{shown}");
    assert!(
        config_error(Client::from_lookup(env(&[]))).contains("neither TASKCLUSTER_PROXY_URL nor TASKCLUSTER_ROOT_URL")
    );
    // A good environment gives a working client.
    let ok = Client::from_lookup(env(&[("TASKCLUSTER_ROOT_URL", "https://tc.example.com/")])).unwrap();
    assert_eq!(ok.root_url(), "https://tc.example.com");

    assert!(s.requests().is_empty(), "nothing was sent");
}
