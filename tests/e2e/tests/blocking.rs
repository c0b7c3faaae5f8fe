//! The `blocking` feature: generated clients called from plain, non-async code against the
//! loopback fake Taskcluster. The fake server runs on its own runtime's worker thread; the
//! test thread never starts a runtime.

use std::time::Duration;

use apigen_runtime::{Client, Credentials, RetryPolicy};
use fake_servers::taskcluster::{Reply, TaskclusterServer};
use serde_json::json;
use taskcluster_queue::blocking::Queue;

/// A fake Taskcluster served from a background runtime (kept alive by the returned value).
fn server() -> (tokio::runtime::Runtime, TaskclusterServer, Client) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = rt.block_on(TaskclusterServer::start());
    server.add_client("tester", "no-secret", &["queue:*", "auth:*"]);
    let client = Client::builder(server.root_url())
        .credentials(Credentials::new("tester", "no-secret"))
        .retry(RetryPolicy { delay_factor: Duration::from_millis(5), ..Default::default() })
        .build()
        .unwrap();
    (rt, server, client)
}

#[test]
fn blocking_clients_call_pages_and_sign_without_a_runtime() {
    let (_rt, server, client) = server();

    // A signed call, answered by the fake auth service after it verified the Hawk header.
    let auth = taskcluster_auth::blocking::Auth::new(&client);
    let who = auth.test_authenticate_get().unwrap();
    assert_eq!(who.client_id, "tester");

    // Pages are an iterator; each page is fetched when it is reached.
    let path = "/api/queue/v1/task/T1/runs/0/artifacts";
    server.on("GET", path, |req| {
        let (next, name) = match req.query_value("continuationToken") {
            None => (Some("page-2"), "a"),
            _ => (None, "b"),
        };
        let mut page = json!({"artifacts": [{"name": name, "storageType": "s3", "contentType": "text/plain", "expires": "2030-01-01T00:00:00.000Z"}]});
        if let Some(n) = next {
            page["continuationToken"] = n.into();
        }
        Reply::json(200, page)
    });
    let queue = Queue::new(&client);
    let mut pages = queue.list_artifacts_pages("T1", "0", None);
    assert_eq!(pages.next().unwrap().unwrap().artifacts[0].name, "a");
    assert_eq!(server.hits(path), 1);
    assert_eq!(pages.next().unwrap().unwrap().artifacts[0].name, "b");
    assert!(pages.next().is_none());
    assert_eq!(server.hits(path), 2);

    // Errors are the same typed errors as from the async client.
    server.on("GET", "/api/queue/v1/task/missing", |_| Reply::error(404, "ResourceNotFound", "no such task"));
    let err = queue.task("missing").unwrap_err();
    assert_eq!(err.status(), Some(404));

    // URL helpers are there too, and the twin exposes the async client it wraps.
    assert_eq!(queue.task_url("T1"), queue.as_async().task_url("T1"));
}

#[test]
fn blocking_clients_work_from_several_threads_sharing_one_client() {
    let (_rt, _server, client) = server();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let auth = taskcluster_auth::blocking::Auth::new(&client);
            std::thread::spawn(move || {
                for _ in 0..3 {
                    assert_eq!(auth.test_authenticate_get().unwrap().client_id, "tester");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[tokio::test]
async fn a_blocking_call_inside_an_async_runtime_is_an_error_not_a_hang() {
    let server = TaskclusterServer::start().await;
    let client = Client::builder(server.root_url()).build().unwrap();
    let err = Queue::new(&client).ping().unwrap_err();
    assert!(err.to_string().contains("inside an async runtime"), "{err}");
}
