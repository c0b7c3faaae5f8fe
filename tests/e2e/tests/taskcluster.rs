//! Generated Taskcluster clients over real loopback HTTP against the fake Taskcluster, which
//! verifies every Hawk header and bewit the way the auth service does.

use std::time::Duration;

use apigen_runtime::{Binding, Client, Credentials, Time};
use fake_servers::taskcluster::{Reply, TaskclusterServer};
use futures_util::TryStreamExt as _;
use serde_json::{json, Value};
use taskcluster_generic_worker::multiuser_posix::{AnyPayload, Payload};
use taskcluster_queue::exchanges::{ArtifactCreated, TaskDefined};
use taskcluster_queue::{CreateTaskRequest, Priority, Queue, TaskMetadata, TaskStatusState};

async fn server_and_client() -> (TaskclusterServer, Client) {
    let server = TaskclusterServer::start().await;
    server.add_client("tester", "no-secret", &["queue:*", "auth:*"]);
    let client = Client::builder(server.root_url())
        .credentials(Credentials::new("tester", "no-secret"))
        .retry(apigen_runtime::RetryPolicy { delay_factor: Duration::from_millis(5), ..Default::default() })
        .build()
        .unwrap();
    (server, client)
}

fn typed_payload() -> Payload {
    Payload::new(vec![vec!["/bin/bash".into(), "-c".into(), "echo hello".into()]], 600u64)
        .with_env([("LANG".to_owned(), "C".to_owned())])
}

#[tokio::test]
async fn create_task_with_a_typed_payload_round_trips() {
    let (server, client) = server_and_client().await;
    let task_id = apigen_runtime::slug::nice();
    server.on("PUT", &format!("/api/queue/v1/task/{task_id}"), move |req| {
        let task = req.json().unwrap();
        // The server side reads the payload back with the worker's own type.
        let payload: AnyPayload = serde_json::from_value(task["payload"].clone()).unwrap();
        assert!(matches!(payload, AnyPayload::GenericWorkerPayload(ref p) if p.max_run_time == 600));
        Reply::json(
            200,
            json!({"status": {
                "taskId": req.path.rsplit('/').next().unwrap(),
                "provisionerId": "proj", "workerType": "linux", "taskQueueId": "proj/linux",
                "schedulerId": "-", "projectId": "none", "taskGroupId": task["taskGroupId"],
                "deadline": task["deadline"], "expires": task["expires"], "retriesLeft": 5,
                "state": "pending", "runs": [],
                "aFieldFromANewerServer": true
            }}),
        )
    });
    let now = Time::now();
    // The constructor takes the required fields; a typed worker payload plugs straight in.
    let metadata =
        TaskMetadata::new("an end-to-end test", "example", "tester@example.com", "https://example.com/source");
    let task = CreateTaskRequest::new(now, now.offset("3 hours").unwrap(), metadata)
        .with_expires(now.offset("1 day").unwrap())
        .with_provisioner_id("proj")
        .with_worker_type("linux")
        .with_task_group_id(task_id.clone())
        .with_priority("very-high".parse::<Priority>().unwrap())
        .with_payload(typed_payload())
        .unwrap();
    let queue = Queue::new(&client);
    let status = queue.create_task(&task_id, &task).await.unwrap();
    assert_eq!(status.status.task_id, task_id);
    assert_eq!(status.status.state, TaskStatusState::Pending);
    assert_eq!(status.status.deadline, task.deadline);
    let sent = server.last_request().unwrap();
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert!(sent.header("authorization").unwrap().starts_with("Hawk id=\"tester\""));
    // Times go out with exactly three fraction digits.
    let body = sent.json().unwrap();
    assert_eq!(body["deadline"].as_str().unwrap().len(), "2015-10-27T20:36:19.255Z".len());
    // Unset optional fields stay out of the body; the typed payload went out as an object.
    assert_eq!(body["priority"], "very-high");
    assert!(body.get("routes").is_none() && body.get("taskQueueId").is_none());
    assert_eq!(body["payload"]["env"]["LANG"], "C");
}

#[tokio::test]
async fn a_list_call_follows_continuation_tokens_across_three_pages() {
    let (server, client) = server_and_client().await;
    let path = "/api/queue/v1/task/T1/runs/0/artifacts";
    server.on("GET", path, |req| {
        let (next, name) = match req.query_value("continuationToken") {
            None => (Some("page-2"), "a"),
            Some("page-2") => (Some("page/3 with spaces"), "b"),
            Some("page/3 with spaces") => (None, "c"),
            Some(other) => panic!("unexpected token {other}"),
        };
        let mut page = json!({"artifacts": [{"name": name, "storageType": "s3", "contentType": "text/plain", "expires": "2030-01-01T00:00:00.000Z"}]});
        if let Some(n) = next {
            page["continuationToken"] = n.into();
        }
        Reply::json(200, page)
    });
    let queue = Queue::new(&client);
    let pages: Vec<_> = queue.list_artifacts_pages("T1", "0", Some("1")).try_collect().await.unwrap();
    let names: Vec<&str> = pages.iter().flat_map(|p| p.artifacts.iter().map(|a| a.name.as_str())).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(server.hits(path), 3);
    // Every page request carried the limit and (after the first) the token, and verified.
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| r.query_value("limit") == Some("1")));
}

#[tokio::test]
async fn a_signed_url_is_accepted_without_an_authorization_header() {
    let (server, client) = server_and_client().await;
    let auth = taskcluster_auth::Auth::new(&client);
    let url = auth.test_authenticate_get_signed_url(Duration::from_secs(300)).unwrap();
    assert!(url.contains("/api/auth/v1/test-authenticate-get/?bewit="), "{url}");
    let plain = apigen_runtime::http::client_builder().unwrap().build().unwrap();
    let resp = plain.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["clientId"], "tester");
    assert!(server.last_request().unwrap().header("authorization").is_none());

    // The same call made directly, signed with a header, decodes into the generated type.
    server.on("GET", "/api/auth/v1/test-authenticate-get/", |req| {
        Reply::json(200, json!({"clientId": req.client_id.clone().unwrap_or_default(), "scopes": req.scopes.clone()}))
    });
    let answer = auth.test_authenticate_get().await.unwrap();
    assert_eq!(answer.client_id, "tester");
}

#[tokio::test]
async fn url_helpers_match_the_published_vector() {
    // Vector rust_make_url: Auth.listClients_url(Some("static/"), None, None).
    let client = Client::builder("https://tc-tests.example.com").build().unwrap();
    let auth = taskcluster_auth::Auth::new(&client);
    assert_eq!(
        auth.list_clients_url(Some("static/"), None, None),
        "https://tc-tests.example.com/api/auth/v1/clients/?prefix=static%2F"
    );
    let queue = Queue::new(&client);
    assert_eq!(
        queue.get_artifact_url("T1", "0", "public/build/a b.txt"),
        "https://tc-tests.example.com/api/queue/v1/task/T1/runs/0/artifacts/public%2Fbuild%2Fa%20b.txt"
    );
}

#[tokio::test]
async fn errors_are_typed() {
    let (server, client) = server_and_client().await;
    server.on("GET", "/api/queue/v1/task/missing", |_| {
        Reply::error(404, "ResourceNotFound", "no such task\nmore detail")
    });
    let err = Queue::new(&client).task("missing").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("ResourceNotFound"));
    assert_eq!(err.attempts(), 1);
    let shown = err.to_string();
    assert!(
        shown.contains("GET") && shown.contains("/api/queue/v1/task/missing") && shown.contains("no such task"),
        "{shown}"
    );
    // The whole message, continuation lines indented.
    assert!(shown.ends_with("HTTP 404 ResourceNotFound: no such task\n  more detail"), "{shown}");

    // A body that does not match the schema is a decode error with an excerpt.
    server.on("GET", "/api/queue/v1/task/garbled", |_| Reply::json(200, json!({"unexpected": "shape"})));
    let err = Queue::new(&client).task("garbled").await.unwrap_err();
    assert!(matches!(err, apigen_runtime::Error::Decode { .. }), "{err}");
    assert!(err.to_string().contains("unexpected"), "{err}");
}

#[test]
fn routing_keys_of_several_exchanges() {
    let all = TaskDefined::default();
    assert_eq!(all.exchange(), "exchange/taskcluster-queue/v1/task-defined");
    assert_eq!(all.routing_key().unwrap(), "primary.*.*.*.*.*.*.*.*.#");
    let one_task = TaskDefined { task_id: Some("abc".into()), ..Default::default() };
    assert_eq!(one_task.routing_key().unwrap(), "primary.abc.*.*.*.*.*.*.*.#");
    let created = ArtifactCreated {
        provisioner_id: Some("proj".into()),
        worker_type: Some("linux".into()),
        ..Default::default()
    };
    assert_eq!(created.exchange(), "exchange/taskcluster-queue/v1/artifact-created");
    assert_eq!(created.routing_key().unwrap(), "primary.*.*.*.*.proj.linux.*.*.#");
    let multi = TaskDefined { reserved: Some("a.b".into()), ..Default::default() };
    assert!(multi.routing_key().unwrap().ends_with(".a.b"));
    let bad = TaskDefined { task_id: Some("a.b".into()), ..Default::default() };
    assert!(bad.routing_key().unwrap_err().to_string().contains("single word"));

    let hook = taskcluster_hooks::exchanges::HookCreated::default();
    assert_eq!(hook.exchange(), "exchange/taskcluster-hooks/v1/hook-created");
    assert_eq!(hook.routing_key().unwrap(), "#");
    let push = taskcluster_github::exchanges::Push { organization: Some("mozilla".into()), ..Default::default() };
    assert_eq!(push.routing_key().unwrap(), "primary.mozilla.*");
}

#[test]
fn old_clients_survive_new_servers() {
    // Unknown enum values and fields from a newer deployment still decode, and unknown
    // values survive a round trip.
    let status: taskcluster_queue::TaskStatusResponse = serde_json::from_value(json!({"status": {
        "taskId": "T", "provisionerId": "p", "workerType": "w", "taskQueueId": "p/w", "schedulerId": "-",
        "projectId": "none", "taskGroupId": "G", "deadline": "2030-01-01T00:00:00.000Z",
        "expires": "2031-01-01T00:00:00Z", "retriesLeft": 5, "state": "quantum-superposition",
        "runs": [{"runId": 0, "state": "pending", "reasonCreated": "a-new-reason", "scheduled": "2030-01-01T00:00:00.000Z"}],
        "brandNewField": {"x": 1}
    }}))
    .unwrap();
    assert_eq!(status.status.state, TaskStatusState::Unknown("quantum-superposition".into()));
    let back = serde_json::to_value(&status).unwrap();
    assert_eq!(back["status"]["state"], "quantum-superposition");
    assert_eq!(back["status"]["runs"][0]["reasonCreated"], "a-new-reason");

    // A tagged union with a kind this client does not know.
    let teleport = json!({"storageType": "teleport", "anything": 1});
    let unknown: taskcluster_queue::PostArtifactResponse = serde_json::from_value(teleport.clone()).unwrap();
    assert_eq!(unknown, taskcluster_queue::PostArtifactResponse::Other(teleport.clone()));
    assert_eq!(serde_json::to_value(&unknown).unwrap(), teleport, "kept as sent");
    let s3: taskcluster_queue::PostArtifactResponse = serde_json::from_value(json!({
        "storageType": "s3", "putUrl": "https://s3/x", "expires": "2030-01-01T00:00:00.000Z", "contentType": "text/plain"
    }))
    .unwrap();
    assert!(matches!(s3, taskcluster_queue::PostArtifactResponse::S3(_)));
    assert_eq!(serde_json::to_value(&s3).unwrap()["storageType"], "s3");

    // docker-worker's payload is its own type, not generic-worker's.
    let docker: taskcluster_docker_worker::Payload = serde_json::from_value(json!({
        "image": "ubuntu:22.04", "command": ["echo", "hi"], "maxRunTime": 60,
        "features": {"taskclusterProxy": true, "someFutureFeature": true}
    }))
    .unwrap();
    assert_eq!(docker.max_run_time, 60);
}

/// A path parameter that is `.` or `..` would be removed by URL parsing (with the segment
/// before it): `task("..")` would call the queue's root. Such values are refused before
/// anything is sent; values that merely contain dots reach their route, `/` encoded.
#[tokio::test]
async fn dot_path_parameters_reach_their_route_or_are_refused() {
    let (server, client) = server_and_client().await;
    let queue = Queue::new(&client);
    server.on("GET", "/api/queue/v1/task/a%2F..%2Fb", |_| Reply::error(404, "ResourceNotFound", "no such task"));
    let e = queue.task("a/../b").await.expect_err("404 from the task route");
    assert_eq!(e.status(), Some(404), "{e}");
    assert_eq!(server.last_request().unwrap().path, "/api/queue/v1/task/a%2F..%2Fb");
    let before = server.requests().len();
    for value in [".", ".."] {
        let e = queue.task(value).await.expect_err("refused");
        assert!(matches!(e, apigen_runtime::Error::InvalidInput(ref m) if m.contains("cannot carry")), "{e}");
        let e = queue.task_signed_url(value, Duration::from_secs(60)).expect_err("refused");
        assert!(matches!(e, apigen_runtime::Error::InvalidInput(_)), "{e}");
        // The unsigned URL string keeps the dots encoded.
        assert!(queue.task_url(value).ends_with(&format!("/task/{}", value.replace('.', "%2E"))));
    }
    assert_eq!(server.requests().len(), before, "nothing was sent");
}

#[test]
fn a_payload_that_is_not_an_object_is_refused_naming_what_it_got() {
    let now = Time::now();
    let metadata = TaskMetadata::new("d", "n", "o", "s");
    let err = CreateTaskRequest::new(now, now, metadata).with_payload(vec!["not", "an", "object"]).unwrap_err();
    assert_eq!(err.to_string(), "expected a JSON object, got an array");
}

#[test]
fn string_enums_print_parse_and_keep_unknown_values() {
    // One `Priority` for the task, the priority-change request and its response.
    let p: Priority = "very-high".parse().unwrap();
    assert_eq!(p, Priority::VeryHigh);
    assert_eq!(p.to_string(), "very-high");
    assert_eq!(p.as_str(), "very-high");
    let change = taskcluster_queue::ChangeTaskPriorityRequest::new(Priority::Low);
    assert_eq!(serde_json::to_value(&change).unwrap(), json!({"newPriority": "low"}));
    let future: Priority = "urgent".parse().unwrap();
    assert_eq!(future, Priority::Unknown("urgent".into()));
    assert_eq!(serde_json::to_value(&future).unwrap(), json!("urgent"));
    // Six provisioner, worker-type and task-queue responses share one `Stability`.
    let s: taskcluster_queue::Stability = serde_json::from_value(json!("experimental")).unwrap();
    assert_eq!(s.to_string(), "experimental");
}
