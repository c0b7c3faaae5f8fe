//! `codegen fetch` against a loopback server that serves the bundle's files.

use codegen::{fetch, generate, Inputs};
use fake_servers::taskcluster::{Fault, Reply, TaskclusterServer};

mod common;
use common::TempDir;

fn bundle() -> std::path::PathBuf {
    fake_servers::shared::path("taskcluster/references.json")
}

async fn serve_bundle() -> TaskclusterServer {
    let server = TaskclusterServer::start().await;
    let text = std::fs::read_to_string(bundle()).unwrap();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for e in entries {
        let content = e["content"].clone();
        server.on("GET", &format!("/{}", e["filename"].as_str().unwrap()), move |_| Reply::json(200, content.clone()));
    }
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_mirrors_a_deployment_and_generates_the_same_crates() {
    let server = serve_bundle().await;
    let root = server.root_url();
    let dir = TempDir::new("fetch");
    let out = dir.to_path_buf();
    let (count, lines) = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        let n = fetch::fetch(&root, &out, fetch::WORKER_PAYLOAD_SCHEMAS, &mut |l| lines.push(l.to_owned())).unwrap();
        (n, lines)
    })
    .await
    .unwrap();
    assert_eq!(lines.len(), count, "one progress line per file");
    assert!(lines.iter().all(|l| l.starts_with("fetched ")), "{lines:?}");
    assert!(dir.join("references/manifest.json").exists());
    assert!(dir.join("schemas/queue/v1/task.json").exists(), "followed $ref from create-task-request.json");
    assert!(dir.join("schemas/generic-worker/multiuser_posix.json").exists());
    // Logs and metrics references are fetched (the manifest lists them) but need no schemas.
    let from_dir = generate(&Inputs { taskcluster: Some(dir.to_path_buf()), gocd: None }).unwrap();
    let from_bundle = generate(&Inputs { taskcluster: Some(bundle()), gocd: None }).unwrap();
    assert_eq!(from_dir.keys().collect::<Vec<_>>(), from_bundle.keys().collect::<Vec<_>>());
    assert!(from_dir == from_bundle, "a fetched directory and the bundle must generate the same crates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_failures_name_the_url() {
    let server = serve_bundle().await;
    server.inject("/schemas/queue/v1/task.json", Fault::Status(500, 100));
    let root = server.root_url();
    let dir = TempDir::new("fetch-fail");
    let out = dir.to_path_buf();
    let e =
        tokio::task::spawn_blocking(move || fetch::fetch(&root, &out, &[], &mut |_| {}).unwrap_err()).await.unwrap();
    assert!(e.file.ends_with("/schemas/queue/v1/task.json"), "{e}");
    assert!(e.message.contains("HTTP 500"), "{e}");

    // Nothing listens on the port of a stopped server.
    let root = server.root_url();
    drop(server);
    let dir = TempDir::new("fetch-down");
    let out = dir.to_path_buf();
    let e =
        tokio::task::spawn_blocking(move || fetch::fetch(&root, &out, &[], &mut |_| {}).unwrap_err()).await.unwrap();
    assert!(e.file.ends_with("/references/manifest.json"), "{e}");
    assert!(e.message.contains("request failed"), "{e}");
}
