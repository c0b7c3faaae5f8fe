//! Runs every example program as a user would — a separate process configured by environment
//! variables — against the loopback fake Taskcluster (which verifies each Hawk signature,
//! certificate and authorized scope) and the fake GoCD (which replays the documented examples),
//! and checks what it prints.

use std::process::{Command, Output};

use fake_servers::gocd::{GoCdServer, PASSWORD, USER};
use fake_servers::taskcluster::{Reply, TaskclusterServer};
use serde_json::{json, Value};

const CLIENT: &str = "example-client";
const TOKEN: &str = "example-token-DO-NOT-PRINT";
const TEMP_NAME: &str = "demo-client/taskcluster-client-rust";

async fn taskcluster() -> TaskclusterServer {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["auth:update-client:*", "queue:*", "auth:create-client:demo-client/*"]);
    s
}

/// Runs example `bin` with `args` and the given environment (and no inherited TASKCLUSTER_* or
/// GOCD_* variables), on a blocking thread so that the server keeps answering.
async fn run(bin: &'static str, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("TASKCLUSTER_") || k.starts_with("GOCD_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn tc_env(s: &TaskclusterServer) -> Vec<(&'static str, String)> {
    s.env(CLIENT, TOKEN)
}

/// stdout of a run that must have succeeded.
fn stdout(out: &Output) -> String {
    fake_servers::process::succeeded(out)
}

fn client_json(description: &str, expires: &str, scopes: &[&str]) -> Value {
    json!({
        "clientId": CLIENT, "created": "2024-01-01T00:00:00.000Z", "deleteOnExpiration": true,
        "description": description, "disabled": false, "expires": expires,
        "lastDateUsed": "2024-06-01T00:00:00.000Z", "lastModified": "2024-01-01T00:00:00.000Z",
        "lastRotated": "2024-01-01T00:00:00.000Z", "scopes": scopes,
        "expandedScopes": scopes.iter().chain(&["assume:client-id:example-client"]).collect::<Vec<_>>(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn client_info_prints_expiry_and_expanded_scopes() {
    let s = taskcluster().await;
    s.on("GET", &format!("/api/auth/v1/clients/{CLIENT}"), |_| {
        Reply::json(200, client_json("an example", "2031-02-03T04:05:06.789Z", &["queue:create-task:*"]))
    });
    let out = stdout(&run(env!("CARGO_BIN_EXE_client-info"), &[CLIENT], &tc_env(&s)).await);
    assert_eq!(
        out,
        "Client example-client expires 2031-02-03T04:05:06.789Z\nExpanded scopes:\n  queue:create-task:*\n  \
         assume:client-id:example-client\n"
    );
    assert_eq!(
        s.last_request().unwrap().client_id.as_deref(),
        Some(CLIENT),
        "signed with the environment's credentials"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn configuration_and_http_errors_read_well_from_main() {
    let s = taskcluster().await;
    // A client id without an access token: caught before any call, naming the variable.
    let env = vec![("TASKCLUSTER_ROOT_URL", s.root_url()), ("TASKCLUSTER_CLIENT_ID", CLIENT.to_owned())];
    let out = run(env!("CARGO_BIN_EXE_client-info"), &[CLIENT], &env).await;
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: invalid configuration: TASKCLUSTER_CLIENT_ID is set (\"example-client\") but TASKCLUSTER_ACCESS_TOKEN is \
         not\n"
    );
    assert!(s.requests().is_empty());

    // A 403: what `main` prints is the call and the server's whole message, not a struct dump.
    s.require_scopes("GET", "/api/auth/v1/clients/other", &["auth:get-client:other"]);
    let out = run(env!("CARGO_BIN_EXE_client-info"), &["other"], &tc_env(&s)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let url = format!("{}/api/auth/v1/clients/other", s.root_url());
    assert!(stderr.starts_with(&format!("Error: GET {url} (1 attempt): HTTP 403 InsufficientScopes: ")), "{stderr}");
    assert!(stderr.contains("auth:get-client:other"), "{stderr}");
    assert!(!stderr.contains("summary") && !stderr.contains(TOKEN), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_client_sends_the_new_description_and_expiry_and_keeps_the_scopes() {
    let s = taskcluster().await;
    let path = format!("/api/auth/v1/clients/{CLIENT}");
    s.on("GET", &path, |_| Reply::json(200, client_json("old", "2024-12-31T00:00:00.000Z", &["queue:a", "queue:b"])));
    s.on("POST", &path, |req| {
        let body = req.json().unwrap();
        assert_eq!(body["scopes"], json!(["queue:a", "queue:b"]));
        let (description, expires) = (body["description"].as_str().unwrap(), body["expires"].as_str().unwrap());
        Reply::json(200, client_json(description, expires, &["queue:a", "queue:b"]))
    });
    let out = stdout(&run(env!("CARGO_BIN_EXE_update-client"), &[CLIENT, "new words", "2 days"], &tc_env(&s)).await);
    let sent = s.last_request().unwrap().json().unwrap();
    assert_eq!(sent["description"], "new words");
    let expires: apigen_runtime::Time = sent["expires"].as_str().unwrap().parse().unwrap();
    let in_two_days = apigen_runtime::Time::from_now("2 days").unwrap();
    assert!(in_two_days.duration_since(expires).unwrap() < std::time::Duration::from_secs(60), "{expires}");
    assert_eq!(out, format!("Client {CLIENT}: \"new words\", expires {expires}\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_task_sends_a_generic_worker_payload() {
    let s = taskcluster().await;
    s.on("PUT", "/api/queue/v1/task/*", |req| {
        let task = req.json().unwrap();
        assert_eq!(task["payload"], json!({"command": ["echo Hello World!"], "maxRunTime": 60}));
        assert_eq!(task["taskQueueId"], "proj-x/win");
        let task_id = req.path.rsplit('/').next().unwrap();
        Reply::json(
            200,
            json!({"status": {
                "taskId": task_id, "provisionerId": "proj-x", "workerType": "win", "taskQueueId": "proj-x/win",
                "schedulerId": "-", "projectId": "none", "taskGroupId": task_id, "deadline": task["deadline"],
                "expires": task["expires"], "retriesLeft": 5, "state": "pending", "runs": []
            }}),
        )
    });
    let out = stdout(&run(env!("CARGO_BIN_EXE_create-task"), &["proj-x/win"], &tc_env(&s)).await);
    let task_id = s.last_request().unwrap().path.rsplit('/').next().unwrap().to_owned();
    assert_eq!(task_id.len(), 22);
    let log = format!("{}/api/queue/v1/task/{task_id}/artifacts/public%2Flogs%2Flive.log", s.root_url());
    assert_eq!(out, format!("Task {task_id} is pending\nLive log: {log}\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn temp_credentials_list_artifacts_with_authorized_scopes() {
    let s = taskcluster().await;
    s.on("GET", "/api/queue/v1/task/T1/runs/0/artifacts", |req| {
        // The fake verified the certificate; the call carries the named temporary client and
        // only the authorized scope.
        if req.client_id.as_deref() != Some(TEMP_NAME) || req.scopes != ["queue:list-artifacts:*"] {
            return Reply::error(403, "InsufficientScopes", &format!("{:?} with {:?}", req.client_id, req.scopes));
        }
        let artifact = |name: &str| json!({"name": name, "storageType": "s3", "contentType": "text/plain", "expires": "2030-01-01T00:00:00.000Z"});
        Reply::json(200, json!({"artifacts": [artifact("public/logs/live.log"), artifact("public/build/a.zip")]}))
    });
    let out = stdout(&run(env!("CARGO_BIN_EXE_temp-credentials"), &["T1"], &tc_env(&s)).await);
    assert_eq!(out, "Task T1 run 0 artifacts:\n  * public/logs/live.log\n  * public/build/a.zip\n");
    assert!(s.last_request().unwrap().header("authorization").unwrap().contains("ext=\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn gocd_agents_lists_the_agents_and_schedules_the_pipeline() {
    let s = GoCdServer::start().await;
    let documented = s.examples().iter().find(|e| e.endpoint == "getAllAgents").unwrap().response_body.clone();
    let env = [("GOCD_URL", s.base_url()), ("GOCD_USERNAME", USER.to_owned()), ("GOCD_PASSWORD", PASSWORD.to_owned())];
    let out = stdout(&run(env!("CARGO_BIN_EXE_gocd-agents"), &["pipeline1"], &env).await);
    let agents = documented["_embedded"]["agents"].as_array().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), agents.len() + 1, "{out}");
    for (line, agent) in lines.iter().zip(agents) {
        let start = format!("{} {} ", agent["uuid"].as_str().unwrap(), agent["hostname"].as_str().unwrap());
        assert!(line.starts_with(&start), "{line:?} does not start with {start:?}");
    }
    assert_eq!(lines.last(), Some(&"Request to schedule pipeline pipeline1 accepted"));
}
