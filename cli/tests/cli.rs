//! Runs the `apigen` binary as a user would — a separate process configured by environment
//! variables — against the loopback fake Taskcluster (which checks every Hawk signature, bewit,
//! certificate and scope), its object service and store, and the fake GoCD.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use fake_servers::gocd::{self, GoCdServer, PASSWORD, USER};
use fake_servers::store::ObjectStore;
use fake_servers::taskcluster::{Reply, TaskclusterServer};
use serde_json::{json, Value};

const CLIENT: &str = "cli-client";
const TOKEN: &str = "cli-token-DO-NOT-PRINT";
const TASK: &str = "fN1SbArXTPSVFNUvaOlinQ";

/// Runs `apigen args...` with `env` (and no inherited TASKCLUSTER_*, GOCD_* or PULSE_* variables), with
/// `stdin` as its input, on a blocking thread so that the servers keep answering.
async fn run(args: &[&str], env: &[(&str, String)], stdin: &[u8]) -> Output {
    let mut cmd = apigen(args, env);
    cmd.stdout(Stdio::piped());
    let stdin = stdin.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(&stdin).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// `apigen args...` with `env` and no inherited TASKCLUSTER_*, GOCD_* or PULSE_* variables;
/// stdin and stderr piped.
fn apigen(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigen"));
    cmd.args(args).stdin(Stdio::piped()).stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("TASKCLUSTER_") || k.starts_with("GOCD_") || k.starts_with("PULSE_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Runs `apigen args...` with its stdout a pipe that nobody reads any more, as in
/// `apigen ... | head -1` once `head` has exited: every write fails with EPIPE.
async fn run_into_closed_pipe(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = apigen(args, env);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.stdout(writer);
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        // The command's copy of the writing end is the only one left.
        drop(cmd);
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// A run that must have ended as `cat` does when its reader has gone: exit 0, nothing on stderr.
fn ended_quietly(out: &Output, what: &str) {
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what}: stderr:\n{e}");
    assert!(e.is_empty(), "{what}: {e}");
}

fn tc_env(s: &TaskclusterServer) -> Vec<(&'static str, String)> {
    s.env(CLIENT, TOKEN)
}

/// stdout of a run that must have succeeded.
fn stdout(out: &Output) -> String {
    fake_servers::process::succeeded(out)
}

/// stderr of a run that must have failed with `code`; it is one line.
fn failed(out: &Output, code: i32) -> String {
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "stderr:\n{e}\nstdout:\n{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "nothing on stdout after a failure");
    assert!(!e.contains(TOKEN), "{e}");
    e
}

fn task_definition(owner: Value) -> Value {
    json!({
        "taskQueueId": "proj/linux",
        "created": "2030-01-01T00:00:00.000Z",
        "deadline": "2030-01-02T00:00:00.000Z",
        "payload": {"command": ["true"]},
        "metadata": {"name": "cli", "description": "made by apigen", "owner": owner, "source": "https://example.com"},
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn create_task_then_task_round_trips_and_bad_input_is_a_usage_error() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    let tasks: Arc<Mutex<BTreeMap<String, Value>>> = Arc::default();
    let store = tasks.clone();
    s.on("PUT", "/api/queue/v1/task/*", move |req| {
        let id = req.path.rsplit('/').next().unwrap().to_owned();
        let def = req.json().unwrap();
        let status = json!({"status": {
            "taskId": id, "provisionerId": "proj", "workerType": "linux", "taskQueueId": "proj/linux",
            "schedulerId": "-", "projectId": "none", "taskGroupId": id, "deadline": def["deadline"],
            "expires": "2031-01-01T00:00:00.000Z", "retriesLeft": 5, "state": "unscheduled", "runs": []
        }});
        store.lock().unwrap().insert(id, def);
        Reply::json(200, status)
    });
    let store = tasks.clone();
    s.on("GET", "/api/queue/v1/task/*", move |req| {
        let id = req.path.rsplit('/').next().unwrap();
        match store.lock().unwrap().get(id) {
            Some(def) => Reply::json(200, def.clone()),
            None => Reply::error(404, "ResourceNotFound", &format!("no task {id}")),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("task.json");
    std::fs::write(&input, task_definition(json!("me@example.com")).to_string()).unwrap();

    let out = stdout(&run(&["queue", "create-task", TASK, "--input", input.to_str().unwrap()], &tc_env(&s), b"").await);
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["status"]["taskId"], TASK);
    assert!(out.contains("\n  \"status\": {"), "pretty-printed: {out}");
    assert_eq!(s.last_request().unwrap().client_id.as_deref(), Some(CLIENT));

    let got: Value = serde_json::from_str(&stdout(&run(&["queue", "task", TASK], &tc_env(&s), b"").await)).unwrap();
    assert_eq!(got, task_definition(json!("me@example.com")));

    // The same through stdin, with the owner of the wrong type: refused before sending,
    // naming the field.
    let before = s.requests().len();
    let bad = task_definition(json!(42)).to_string();
    let out = run(&["queue", "create-task", "other", "--input", "-"], &tc_env(&s), bad.as_bytes()).await;
    let err = failed(&out, 2);
    assert!(err.contains("/metadata/owner: invalid type: integer `42`, expected a string"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // A missing required field, and input that is not JSON.
    let mut missing = task_definition(json!("me@example.com"));
    missing.as_object_mut().unwrap().remove("deadline");
    let out =
        run(&["queue", "create-task", "other", "--input", "-"], &tc_env(&s), missing.to_string().as_bytes()).await;
    assert!(failed(&out, 2).contains("missing field `deadline`"));
    let out = run(&["queue", "create-task", "other", "--input", "-"], &tc_env(&s), b"{nope").await;
    assert!(failed(&out, 2).contains("not JSON"));
    // JSON that is not an object: said so, not as serde's reading of an array as fields in order.
    let out = run(&["queue", "create-task", "other", "--input", "-"], &tc_env(&s), b"[]").await;
    let err = failed(&out, 2);
    // Named as the user typed the command, not by the API's camelCase name.
    assert!(err.contains("does not fit create-task: the body: expected a JSON object, got an array"), "{err}");
    assert!(!err.contains("invalid length"), "{err}");
    assert_eq!(s.requests().len(), before, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2_and_name_what_is_wrong() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    let out = run(&["queue", "list-task-group", "g1", "--query", "limt=5"], &tc_env(&s), b"").await;
    let err = failed(&out, 2);
    assert!(err.contains("no query parameter \"limt\" (it takes: continuationToken, limit)"), "{err}");
    let out = run(&["queue", "no-such-method"], &tc_env(&s), b"").await;
    failed(&out, 2);
    let out = run(&["queue", "task"], &tc_env(&s), b"").await;
    assert!(failed(&out, 2).contains("<taskId>"));
    // No deployment configured.
    let out = run(&["queue", "task", TASK], &[], b"").await;
    assert!(failed(&out, 2).contains("TASKCLUSTER_ROOT_URL"));
    // A body the endpoint needs, left out: the message says how to give it.
    let out = run(&["queue", "create-task", TASK], &tc_env(&s), b"").await;
    assert!(failed(&out, 2).contains("create-task needs a request body: give it with --input FILE"));
    // A signed URL without credentials would be a plain one: refused, naming what to set.
    let anonymous = [("TASKCLUSTER_ROOT_URL", s.root_url())];
    let out = run(&["queue", "task", TASK, "--signed-url"], &anonymous, b"").await;
    assert!(failed(&out, 2).contains("--signed-url needs credentials"));
    // Half the credentials: a usage error, not an anonymous call.
    let half = [("TASKCLUSTER_ROOT_URL", s.root_url()), ("TASKCLUSTER_ACCESS_TOKEN", TOKEN.to_owned())];
    let out = run(&["auth", "current-scopes"], &half, b"").await;
    assert!(failed(&out, 2).contains("TASKCLUSTER_CLIENT_ID is not"));
    assert!(stdout(&run(&["--version"], &[], b"").await).starts_with("apigen "));
    assert!(s.requests().is_empty());

    // A known query parameter goes out as given.
    s.on("GET", "/api/queue/v1/task-group/g1/list", |req| {
        Reply::json(200, json!({"taskGroupId": "g1", "tasks": [], "limit": req.query_value("limit")}))
    });
    let out = stdout(&run(&["queue", "list-task-group", "g1", "--query", "limit=5"], &tc_env(&s), b"").await);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["limit"], "5");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_is_one_line_with_the_missing_scopes_and_exit_1() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    s.require_scopes("GET", "/api/auth/v1/clients/other", &["auth:get-client:other"]);
    let out = run(&["auth", "client", "other"], &tc_env(&s), b"").await;
    let err = failed(&out, 1);
    let url = format!("{}/api/auth/v1/clients/other", s.root_url());
    assert!(err.starts_with(&format!("apigen: GET {url} (1 attempt): HTTP 403 InsufficientScopes: ")), "{err}");
    assert!(err.contains("auth:get-client:other"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_url_is_fetched_without_credentials() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:get-artifact:*"]);
    let path = format!("/api/queue/v1/task/{TASK}/artifacts/private%2Flog.txt");
    s.require_scopes("GET", &path, &["queue:get-artifact:private/log.txt"]);
    s.on("GET", &path, |req| Reply::json(200, json!({"servedTo": req.client_id})));
    let args = ["queue", "get-latest-artifact", TASK, "private/log.txt", "--signed-url", "--ttl", "10m"];
    let url = stdout(&run(&args, &tc_env(&s), b"").await).trim().to_owned();
    assert!(url.starts_with(&format!("{}{path}?bewit=", s.root_url())), "{url}");
    assert!(s.requests().is_empty(), "--signed-url only prints");

    let http = apigen_runtime::http::client_builder().unwrap().build().unwrap();
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(serde_json::from_slice::<Value>(&resp.bytes().await.unwrap()).unwrap(), json!({"servedTo": CLIENT}));
    assert!(s.last_request().unwrap().header("authorization").is_none());
    // Without the bewit the same URL is refused.
    let plain = url.split('?').next().unwrap();
    assert_eq!(http.get(plain).send().await.unwrap().status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn help_comes_from_the_reference() {
    let bundle: Value =
        serde_json::from_str(&std::fs::read_to_string(fake_servers::shared::references()).unwrap()).unwrap();
    let entry = bundle
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["content"]["serviceName"] == "auth")
        .flat_map(|r| r["content"]["entries"].as_array().cloned().unwrap_or_default())
        .find(|e| e["name"] == "currentScopes")
        .unwrap();
    let help = stdout(&run(&["auth", "current-scopes", "--help"], &[], b"").await);
    assert!(help.starts_with(entry["title"].as_str().unwrap()), "{help}");
    assert!(help.contains(entry["description"].as_str().unwrap().trim()), "{help}");
    assert!(help.contains("GET <TASKCLUSTER_ROOT_URL>/api/auth/v1/scopes/current"), "{help}");

    let help = stdout(&run(&["queue", "--help"], &[], b"").await);
    assert!(help.contains("create-task") && help.contains("Create New Task"), "{help}");
    let help = stdout(&run(&["queue", "task", "--help"], &[], b"").await);
    assert!(help.contains("- `queue:get-task:<taskId>`") && help.contains("--signed-url"), "{help}");
    // The route relative to what the user sets: GOCD_URL already ends in /go.
    let help = stdout(&run(&["gocd", "get-all-agents", "--help"], &[], b"").await);
    assert!(help.contains("GET <GOCD_URL>/api/agents"), "{help}");
    assert!(!help.contains("/go/api"), "{help}");
}

/// The short help of `args` (`-h`: one line per argument).
async fn short_help(args: &[&str]) -> String {
    let args: Vec<&str> = args.iter().copied().chain(["-h"]).collect();
    stdout(&run(&args, &[], b"").await)
}

/// The text `-h` shows after `arg` (an argument's or option's spelling) on its line.
fn described(help: &str, arg: &str) -> String {
    let line = help.lines().find(|l| l.trim_start().starts_with(arg)).unwrap_or_else(|| panic!("{arg} in {help}"));
    line.trim_start()[arg.len()..].trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn help_describes_every_argument_and_offers_only_what_applies() {
    let help = short_help(&["queue", "task"]).await;
    assert_eq!(described(&help, "<taskId>"), "Fills <taskId> in the route /task/<taskId>", "{help}");
    assert!(!help.contains("--query") && !help.contains("--input"), "task takes neither: {help}");
    let help = short_help(&["gocd", "append-to-artifact"]).await;
    assert!(described(&help, "<path_to_file>").ends_with("(a path: its / are kept)"), "{help}");
    let help = short_help(&["queue", "list-task-group"]).await;
    assert!(described(&help, "--query").contains("continuationToken, limit"), "{help}");
    assert!(!help.contains("--signed-url") || help.contains("bewit"), "{help}");
    let help = short_help(&["queue", "create-task"]).await;
    assert!(!help.contains("--signed-url"), "a PUT has no signed URL: {help}");

    let help = short_help(&["from-now"]).await;
    assert!(described(&help, "<EXPR>...").contains("2 days 3h"), "{help}");
    let help = short_help(&["slugid"]).await;
    assert!(described(&help, "--v4").contains("starts with '-'"), "{help}");
    assert!(described(&help, "--nice").contains("never start with '-'"), "{help}");

    // Two endpoints that upstream titles alike are told apart in the list.
    let help = short_help(&["queue"]).await;
    let (tasks, statuses) = (described(&help, "tasks "), described(&help, "statuses "));
    assert_ne!(tasks, statuses, "{help}");
    assert!(statuses.contains("task statuses"), "{help}");
}

#[tokio::test(flavor = "multi_thread")]
async fn options_an_endpoint_does_not_take_are_named_as_such() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.json");
    std::fs::write(&input, "{}").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["queue", "task", TASK, "--input", input.to_str().unwrap()], "task takes no request body"),
        (&["queue", "create-task", TASK, "--signed-url"], "--signed-url only applies to GET endpoints"),
        (&["queue", "task", TASK, "--query", "nosuch=1"], "task has no query parameter \"nosuch\" (it takes: none)"),
        // The same prefix as every other mistake in the arguments.
        (&["queue", "list-task-group", "g1", "--query", "limit"], "--query \"limit\": expected NAME=VALUE"),
        (&["gocd", "get-all-agents", "--signed-url"], "GoCD has no signed URLs"),
    ];
    for (args, expected) in cases {
        let err = failed(&run(args, &tc_env(&s), b"").await, 2);
        assert!(err.starts_with("apigen: invalid input: ") && err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("tip:"), "{err}");
    }
    assert!(s.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_other_clients_names_lead_to_the_endpoint() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    s.on("GET", "/api/queue/v1/task/*", |req| Reply::json(200, json!({"path": req.path})));
    for name in ["task", "get-task"] {
        let out = stdout(&run(&["queue", name, TASK], &tc_env(&s), b"").await);
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["path"], format!("/api/queue/v1/task/{TASK}"));
    }
    // The reference's own camelCase name works too.
    let help = stdout(&run(&["queue", "createTask", "--help"], &[], b"").await);
    assert!(help.starts_with("Create New Task"), "{help}");
    // They are not offered for a typo: the tip lists the command-line names only.
    let err = failed(&run(&["queue", "get-tsk", TASK], &tc_env(&s), b"").await, 2);
    assert!(err.contains("unrecognized subcommand 'get-tsk'") && !err.contains("getTask"), "{err}");
    // `get-` never shadows an endpoint's own name.
    let help = stdout(&run(&["queue", "get-artifact", "--help"], &[], b"").await);
    assert!(help.contains("/task/<taskId>/runs/<runId>/artifacts/<name>"), "{help}");
    // `get-` is added once: `get-task-group` is an endpoint's name, `get-get-task-group` nothing.
    let err = failed(&run(&["queue", "get-get-task-group", "g1"], &tc_env(&s), b"").await, 2);
    assert!(err.contains("unrecognized subcommand 'get-get-task-group'"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_mistakes_name_the_variable() {
    let s = GoCdServer::start().await;
    let creds = || [("GOCD_USERNAME", USER.to_owned()), ("GOCD_PASSWORD", PASSWORD.to_owned())];
    let with_url = |url: String| creds().into_iter().chain([("GOCD_URL", url)]).collect::<Vec<_>>();
    let err = failed(&run(&["gocd", "get-all-agents"], &with_url("127.0.0.1:9/go".into()), b"").await, 2);
    assert!(err.contains("GOCD_URL is not a URL") && err.contains("https://ci.example.com/go"), "{err}");
    assert!(!err.contains("root URL"), "a Taskcluster term: {err}");
    let into_api = with_url(format!("{}/api/agents", s.base_url()));
    let err = failed(&run(&["gocd", "get-all-agents"], &into_api, b"").await, 2);
    assert!(err.contains("GOCD_URL points into the API (/api/agents)"), "{err}");
    let with_login = with_url(s.base_url().replace("http://", "http://me:supersecretvalue123@"));
    let err = failed(&run(&["gocd", "get-all-agents"], &with_login, b"").await, 2);
    assert!(err.contains("GOCD_URL carries a user name or password") && !err.contains("supersecret"), "{err}");
    assert!(s.requests().is_empty());
    // Without /go: a warning, and the call goes where GOCD_URL says (this server answers 404).
    let root = s.base_url().strip_suffix("/go").unwrap().to_owned();
    let err = failed(&run(&["gocd", "get-all-agents"], &with_url(root.clone()), b"").await, 1);
    assert!(err.starts_with("apigen: warning: GOCD_URL does not end in /go"), "{err}");
    assert!(err.contains(&format!("GET {root}/api/agents")) && err.contains("HTTP 404"), "{err}");
    // With /go, no warning.
    let out = run(&["gocd", "get-all-agents"], &with_url(s.base_url()), b"").await;
    stdout(&out);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    let exchange = "exchange/taskcluster-queue/v1/task-completed";
    let err = failed(&run(&["pulse", "listen", exchange], &[("PULSE_URL", "notaurl".into())], b"").await, 2);
    assert!(err.contains("PULSE_URL: invalid Pulse connection string"), "{err}");
    let err = failed(&run(&["pulse", "listen", exchange], &[], b"").await, 2);
    assert!(err.contains("PULSE_HOSTNAME is not set") && err.contains("or PULSE_URL=amqps://"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn gocd_calls_use_the_documented_headers_and_print_the_answer() {
    let s = GoCdServer::start().await;
    let documented = s.examples().iter().find(|e| e.endpoint == "getAllAgents").unwrap().response_body.clone();
    let env = [("GOCD_URL", s.base_url()), ("GOCD_USERNAME", USER.to_owned()), ("GOCD_PASSWORD", PASSWORD.to_owned())];
    let out = stdout(&run(&["gocd", "get-all-agents"], &env, b"").await);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), documented);

    let wrong = [("GOCD_URL", s.base_url()), ("GOCD_USERNAME", USER.to_owned()), ("GOCD_PASSWORD", "nope".into())];
    let err = failed(&run(&["gocd", "get-all-agents"], &wrong, b"").await, 1);
    assert!(err.contains("HTTP 401") && !err.contains("nope"), "{err}");
    let err = failed(&run(&["gocd", "get-all-agents"], &[], b"").await, 2);
    assert!(err.contains("GOCD_URL"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn slugid_and_from_now() {
    let out = stdout(&run(&["slugid", "-n", "50"], &[], b"").await);
    let ids: Vec<&str> = out.lines().collect();
    assert_eq!(ids.len(), 50);
    for id in &ids {
        assert_eq!(id.len(), 22, "{id}");
        assert!(!id.starts_with('-'), "nice ids never start with '-': {id}");
        assert!(id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{id}");
    }
    assert_eq!(stdout(&run(&["slugid", "--v4"], &[], b"").await).trim().len(), 22);
    let err = failed(&run(&["slugid", "--v4", "--nice"], &[], b"").await, 2);
    assert!(err.contains("Usage: apigen slugid [--nice|--v4] [-n N]"), "{err}");

    let out = stdout(&run(&["from-now", "2", "days", "3h"], &[], b"").await);
    let t: apigen_runtime::Time = out.trim().parse().unwrap();
    let expected = apigen_runtime::Time::from_now("2 days 3 hours").unwrap();
    assert!(expected.duration_since(t).unwrap() < std::time::Duration::from_secs(60), "{out}");
    assert!(failed(&run(&["from-now", "3 fortnights"], &[], b"").await, 2).contains("unknown unit"));
    let err = failed(&run(&["from-now", "1.5h"], &[], b"").await, 2);
    assert!(err.contains("fractions are not supported") && !err.contains("unit \"\""), "{err}");
    let err = failed(&run(&["from-now", "2"], &[], b"").await, 2);
    assert!(err.contains("missing a unit after 2"), "{err}");
}

/// The `export` lines as environment variables (the values are single-quoted).
fn exports(text: &str) -> Vec<(&'static str, String)> {
    text.lines()
        .map(|l| {
            let (k, v) = l.strip_prefix("export ").unwrap().split_once('=').unwrap();
            let v = v.strip_prefix('\'').unwrap().strip_suffix('\'').unwrap().replace("'\\''", "'");
            (&*String::leak(k.to_owned()), v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn temp_credentials_exports_work_when_used() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*", "auth:create-client:cli-client/*"]);
    s.on("GET", "/api/auth/v1/scopes/current", |req| {
        Reply::json(200, json!({"scopes": req.scopes, "clientId": req.client_id}))
    });
    for name in [None, Some("cli-client/temp")] {
        let mut args = vec!["temp-credentials", "--scopes", "queue:get-task:*", "queue:status:*", "--duration", "10m"];
        args.extend(name.map(|n| ["--name", n]).into_iter().flatten());
        let run_out = run(&args, &tc_env(&s), b"").await;
        assert!(run_out.stderr.is_empty(), "nothing on stderr");
        let env = exports(&stdout(&run_out));
        let keys: Vec<&str> = env.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN", "TASKCLUSTER_CERTIFICATE"]
        );
        assert_ne!(env[2].1, TOKEN);
        let out = stdout(&run(&["auth", "current-scopes"], &env, b"").await);
        let got: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(got["scopes"], json!(["queue:get-task:*", "queue:status:*"]), "{out}");
        assert_eq!(got["clientId"], name.unwrap_or(CLIENT));
    }
    // Too long: said in the user's own words, not in seconds.
    for duration in ["40 days", "40d"] {
        let err =
            failed(&run(&["temp-credentials", "--scopes", "a", "--duration", duration], &tc_env(&s), b"").await, 2);
        assert!(err.contains(&format!("at most 31 days, not {duration}")), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn artifact_upload_then_download_round_trips() {
    let s = TaskclusterServer::start().await;
    let store = ObjectStore::start().await;
    let _fake = s.serve_artifacts(&store);
    s.add_client(CLIENT, TOKEN, &["queue:create-artifact:*", "queue:get-artifact:*"]);
    let dir = tempfile::tempdir().unwrap();
    // Larger than the inline limit, so the data goes through the store.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let src = dir.path().join("build.bin");
    std::fs::write(&src, &data).unwrap();

    let out =
        stdout(&run(&["artifact", "upload", TASK, "public/build.bin", src.to_str().unwrap()], &tc_env(&s), b"").await);
    let up: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((up["length"].as_u64(), up["method"].as_str()), (Some(data.len() as u64), Some("putUrl")), "{out}");

    let dest = dir.path().join("got.bin");
    let args = ["artifact", "download", TASK, "public/build.bin", "-o", dest.to_str().unwrap()];
    let got: Value = serde_json::from_str(&stdout(&run(&args, &tc_env(&s), b"").await)).unwrap();
    assert_eq!(got["sha256"], up["sha256"]);
    assert_eq!(std::fs::read(&dest).unwrap(), data);

    // To stdout, a run given, and from stdin.
    let out = run(&["artifact", "download", TASK, "public/build.bin", "--run", "0"], &tc_env(&s), b"").await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, data);
    let args = ["artifact", "upload", TASK, "public/small.txt", "-", "--content-type", "text/plain"];
    let up: Value = serde_json::from_str(&stdout(&run(&args, &tc_env(&s), b"hello").await)).unwrap();
    assert_eq!(up["method"], "dataInline");
    let out = run(&["artifact", "download", TASK, "public/small.txt"], &tc_env(&s), b"").await;
    assert_eq!(out.stdout, b"hello");

    let err = failed(&run(&["artifact", "download", TASK, "public/missing"], &tc_env(&s), b"").await, 1);
    assert!(err.contains("404"), "{err}");

    // Local file mistakes are usage errors (exit 2), found before any call.
    let calls = s.requests().len();
    let dir_arg = dir.path().to_str().unwrap();
    let nofile = dir.path().join("nofile");
    let cases: [(&[&str], &str); 3] = [
        (&["artifact", "upload", TASK, "public/x", nofile.to_str().unwrap()], "No such file"),
        (&["artifact", "upload", TASK, "public/x", dir_arg], "is a directory"),
        (&["artifact", "download", TASK, "public/build.bin", "-o", dir_arg], "is a directory"),
    ];
    for (args, why) in cases {
        let err = failed(&run(args, &tc_env(&s), b"").await, 2);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    let args = ["artifact", "upload", TASK, "public/x", "-", "--expires", "-1d"];
    let err = failed(&run(&args, &tc_env(&s), b"x").await, 2);
    assert!(err.contains("--expires \"-1d\" is not in the future"), "{err}");
    assert_eq!(s.requests().len(), calls, "no call was made");

    // To stdout for a reader that has gone (`| head -c 10`).
    let out = run_into_closed_pipe(&["artifact", "download", TASK, "public/build.bin"], &tc_env(&s)).await;
    ended_quietly(&out, "artifact download into a closed pipe");
}

#[tokio::test(flavor = "multi_thread")]
async fn gocd_credentials_are_whole_and_of_one_kind() {
    let s = GoCdServer::start().await;
    let url = ("GOCD_URL", s.base_url());
    let password = ("GOCD_PASSWORD", PASSWORD.to_owned());
    let (user, token) = (("GOCD_USERNAME", USER.to_owned()), ("GOCD_TOKEN", "a-token".to_owned()));
    // A password alone would be dropped, and the call made anonymously.
    let err = failed(&run(&["gocd", "get-all-agents"], &[url.clone(), password.clone()], b"").await, 2);
    assert!(err.contains("GOCD_PASSWORD is set but GOCD_USERNAME is not"), "{err}");
    // A token next to a user name or password: which one was meant is not for apigen to guess.
    let both: [&[(&str, String)]; 3] = [
        &[url.clone(), token.clone(), user.clone(), password.clone()],
        &[url.clone(), token.clone(), user.clone()],
        &[url.clone(), token.clone(), password.clone()],
    ];
    for env in both {
        let err = failed(&run(&["gocd", "get-all-agents"], env, b"").await, 2);
        assert!(
            err.contains("GOCD_TOKEN") && err.contains("GOCD_USERNAME") && err.contains("one or the other"),
            "{err}"
        );
        assert!(!err.contains(PASSWORD) && !err.contains("a-token"), "{err}");
    }
    assert_eq!(s.request_count(), 0, "nothing was sent");
    // Each kind alone still works (the fake knows the user; a token it does not know is a 401).
    stdout(&run(&["gocd", "get-all-agents"], &[url.clone(), user, password], b"").await);
    let err = failed(&run(&["gocd", "get-all-agents"], &[url, token], b"").await, 1);
    assert!(err.contains("HTTP 401"), "{err}");
    assert_eq!(s.last_request().unwrap().header("authorization"), Some("Bearer a-token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_ends_the_command_quietly() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    // More than a pipe holds, so that the write cannot succeed before the reader is gone.
    let big: Vec<String> = (0..20_000).map(|i| format!("route.{i}")).collect();
    s.on("GET", "/api/queue/v1/task/*", move |_| Reply::json(200, json!({"routes": big})));
    let runs: [&[&str]; 5] = [
        &["slugid", "-n", "200000"],
        &["from-now", "1h"],
        &["queue", "task", TASK],
        &["queue", "task", TASK, "--signed-url"],
        &["temp-credentials", "--scopes", "queue:get-task:*"],
    ];
    for args in runs {
        ended_quietly(&run_into_closed_pipe(args, &tc_env(&s)).await, &args.join(" "));
    }

    let g = GoCdServer::start().await;
    let xml = format!("<cruise>{}</cruise>", "<pipeline/>".repeat(20_000));
    g.on("GET", "/go/api/admin/config.xml", move |_| gocd::Reply::bytes(200, "text/xml", xml.clone()));
    let files = "/go/files/p/1/s/1/j/big.bin";
    g.on("GET", files, |_| gocd::Reply::bytes(200, "application/octet-stream", vec![7u8; 300_000]));
    let env = [("GOCD_URL", g.base_url()), ("GOCD_USERNAME", USER.to_owned()), ("GOCD_PASSWORD", PASSWORD.to_owned())];
    let runs: [&[&str]; 2] =
        [&["gocd", "get-config-xml"], &["gocd", "get-artifact-file", "p", "1", "s", "1", "j", "big.bin"]];
    for args in runs {
        ended_quietly(&run_into_closed_pipe(args, &env).await, &args.join(" "));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn durations_and_counts_out_of_range_are_named() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    let cases: [(&[&str], &str); 6] = [
        // Zero: a URL already expired, credentials dead on arrival.
        (&["queue", "task", TASK, "--signed-url", "--ttl", "0s"], "\"0s\" is not a positive duration"),
        (&["temp-credentials", "--scopes", "a", "--duration", "0s"], "\"0s\" is not a positive duration"),
        // Negative, after a space: read as the option's value, not as an unknown option.
        (&["queue", "task", TASK, "--signed-url", "--ttl", "-5m"], "\"-5m\" is not a positive duration"),
        (&["temp-credentials", "--scopes", "a", "--duration", "-1h"], "\"-1h\" is not a positive duration"),
        (&["slugid", "-n", "-1"], "-1 is not a count"),
        (&["pulse", "listen", "exchange/taskcluster-queue/v1/task-completed", "-n", "0"], "at least 1"),
    ];
    for (args, expected) in cases {
        let err = failed(&run(args, &tc_env(&s), b"").await, 2);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("tip:"), "{args:?}: {err}");
    }
    // Zero ids is a count like any other.
    assert_eq!(stdout(&run(&["slugid", "-n", "0"], &[], b"").await), "");
    assert!(s.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_name_commands_as_typed_once_prefixed_and_text_ends_in_a_newline() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    let mut bad_time = task_definition(json!("me@example.com"));
    bad_time["created"] = json!("yesterday");
    let out = run(&["queue", "create-task", TASK, "--input", "-"], &tc_env(&s), bad_time.to_string().as_bytes()).await;
    let err = failed(&out, 2);
    assert!(err.starts_with("apigen: invalid input: the request body does not fit create-task: /created: "), "{err}");
    assert_eq!(err.matches("invalid input").count(), 1, "{err}");
    assert!(err.contains("\"yesterday\" is not an RFC 3339 time"), "{err}");
    assert!(s.requests().is_empty());

    let g = GoCdServer::start().await;
    let env = [("GOCD_URL", g.base_url()), ("GOCD_USERNAME", USER.to_owned()), ("GOCD_PASSWORD", PASSWORD.to_owned())];
    let err = failed(&run(&["gocd", "update-agent", "u1", "--input", "-"], &env, br#"{"hostname": 5}"#).await, 2);
    assert!(err.contains("does not fit update-agent: /hostname: invalid type"), "{err}");
    // A text answer without a final newline gets one, so that the shell's prompt starts a line.
    g.on("GET", "/go/api/admin/config.xml", |_| gocd::Reply::bytes(200, "text/xml", "<cruise/>"));
    assert_eq!(stdout(&run(&["gocd", "get-config-xml"], &env, b"").await), "<cruise/>\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_url_names_the_deployment_not_the_in_task_proxy() {
    let s = TaskclusterServer::start().await;
    s.add_client(CLIENT, TOKEN, &["queue:*"]);
    let proxy = ("TASKCLUSTER_PROXY_URL", "http://127.0.0.1:9".to_owned());
    let env: Vec<_> = tc_env(&s).into_iter().chain([proxy.clone()]).collect();
    let url = stdout(&run(&["queue", "task", TASK, "--signed-url"], &env, b"").await);
    assert!(url.starts_with(&format!("{}/api/queue/v1/task/{TASK}?bewit=", s.root_url())), "{url}");
    // Only the proxy: a signed URL for it would work nowhere but inside this task.
    let only_proxy =
        [proxy, ("TASKCLUSTER_CLIENT_ID", CLIENT.to_owned()), ("TASKCLUSTER_ACCESS_TOKEN", TOKEN.to_owned())];
    let err = failed(&run(&["queue", "task", TASK, "--signed-url"], &only_proxy, b"").await, 2);
    assert!(err.contains("--signed-url") && err.contains("TASKCLUSTER_ROOT_URL"), "{err}");
    // So do temporary credentials, which are made to be handed on.
    let out = stdout(&run(&["temp-credentials", "--scopes", "queue:get-task:*"], &env, b"").await);
    assert!(out.starts_with(&format!("export TASKCLUSTER_ROOT_URL='{}'\n", s.root_url())), "{out}");
    // The help says which variable wins.
    let help = stdout(&run(&["--help"], &[], b"").await);
    assert!(help.contains("TASKCLUSTER_PROXY_URL, when set, is used instead of TASKCLUSTER_ROOT_URL"), "{help}");
    let help = short_help(&["queue", "task"]).await;
    assert!(described(&help, "--signed-url").ends_with("instead of calling the endpoint"), "{help}");
}
