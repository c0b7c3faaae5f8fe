//! `apigen pulse listen` against a real RabbitMQ (`test-broker`, loopback, stopped with the
//! tests; skipped when RabbitMQ is not installed, except under `CI=true`).

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStderr, Command, Stdio};

use serde_json::{json, Value};
use test_broker::{admin_channel, publish, Broker, User};

const EXCHANGE: &str = "exchange/taskcluster-queue/v1/task-defined";
const TASK: &str = "fN1SbArXTPSVFNUvaOlinQ";

fn status(task_id: &str) -> Value {
    json!({
        "taskId": task_id, "provisionerId": "proj", "workerType": "linux", "taskQueueId": "proj/linux",
        "schedulerId": "-", "projectId": "none", "taskGroupId": task_id, "deadline": "2030-01-02T00:00:00.000Z",
        "expires": "2031-01-01T00:00:00.000Z", "retriesLeft": 5, "state": "unscheduled", "runs": []
    })
}

/// Starts `apigen pulse listen args...` on `broker` as the `cli` user with `stdout`, and waits for
/// its "listening on" line (from then on no message is missed), which it returns.
async fn start_listening(broker: &Broker, args: &[&str], stdout: Stdio) -> (Child, BufReader<ChildStderr>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apigen"))
        .args(["pulse", "listen"])
        .args(args)
        .env("PULSE_URL", broker.url("cli", "cli-pw@2"))
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (line, stderr) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        (line, stderr)
    })
    .await
    .unwrap();
    (child, stderr, line)
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_prints_one_json_line_per_typed_event() {
    let Some(broker) = Broker::for_tests(&[User::admin("admin", "admin-pw@1"), User::pulse("cli", "cli-pw@2")]) else {
        return;
    };
    let (_conn, ch) = admin_channel(&broker.url("admin", "admin-pw@1"), &[EXCHANGE]).await;
    let (child, mut stderr, line) =
        start_listening(&broker, &[EXCHANGE, "primary.*.#", "-n", "2"], Stdio::piped()).await;
    assert!(line.starts_with("apigen: listening on queue/cli/exclusive/"), "{line}");

    let key = |id: &str| format!("primary.{id}._._._.proj.linux.-.{id}");
    let message = |id: &str| json!({"status": status(id), "version": 1, "futureField": true}).to_string();
    publish(&ch, EXCHANGE, &key(TASK), message(TASK).as_bytes(), &["route.index.x"]).await;
    // Does not fit TaskDefinedMessage: reported on stderr, not printed.
    publish(&ch, EXCHANGE, &key("bad"), br#"{"status": {"taskId": 5}, "version": 1}"#, &[]).await;
    publish(&ch, EXCHANGE, &key("second"), message("second").as_bytes(), &[]).await;

    let out = tokio::task::spawn_blocking(move || {
        let out = child.wait_with_output().unwrap();
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        (out, rest)
    });
    let (out, rest) = out.await.unwrap();
    assert!(out.status.success(), "{rest}");
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["exchange"], EXCHANGE);
    assert_eq!(lines[0]["routingKey"], key(TASK));
    assert_eq!(lines[0]["routes"], json!(["index.x"]));
    assert_eq!(lines[0]["message"]["status"]["taskId"], TASK);
    assert_eq!(lines[0]["message"]["futureField"], true, "printed as received");
    assert_eq!(lines[1]["message"]["status"]["taskId"], "second");
    assert!(rest.contains("does not fit its type") && rest.contains("at status.taskId: invalid type"), "{rest}");
    assert!(!rest.contains("cli-pw@2"), "{rest}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_exchange_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_apigen"))
        .args(["pulse", "listen", "exchange/nobody/v1/nothing"])
        .env("PULSE_URL", "amqp://u:secret-pw@127.0.0.1:1/%2f")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no service of apigen publishes on \"exchange/nobody/v1/nothing\""), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_exchange_of_a_known_service_gets_suggestions() {
    let listen = |exchange: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_apigen")).args(["pulse", "listen", exchange]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // A typo: the close name.
    let err = listen("exchange/taskcluster-queue/v1/task-complete");
    assert!(err.contains("did you mean \"exchange/taskcluster-queue/v1/task-completed\"?"), "{err}");
    // Nothing close, but the service is known: its exchanges.
    let err = listen("exchange/taskcluster-queue/v1/nothing-like-it");
    assert!(err.contains("the queue's exchanges are") && err.contains("task-defined, task-pending"), "{err}");
    // Nothing known at all: where the list is.
    let err = listen("exchange/nobody/v1/nothing");
    assert!(err.contains("exchange/taskcluster-queue/v1/"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_stops_quietly_when_stdout_is_closed() {
    let Some(broker) = Broker::for_tests(&[User::admin("admin", "admin-pw@1"), User::pulse("cli", "cli-pw@2")]) else {
        return;
    };
    let (_conn, ch) = admin_channel(&broker.url("admin", "admin-pw@1"), &[EXCHANGE]).await;
    // `apigen pulse listen ... | head -0`: the reader is gone before the first line.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let (mut child, mut stderr, line) = start_listening(&broker, &[EXCHANGE], writer.into()).await;
    assert!(line.starts_with("apigen: listening on "), "{line}");
    let key = format!("primary.{TASK}._._._.proj.linux.-.{TASK}");
    let message = json!({"status": status(TASK), "version": 1}).to_string();
    publish(&ch, EXCHANGE, &key, message.as_bytes(), &[]).await;
    let waited = tokio::task::spawn_blocking(move || {
        // Without the fix the listener would wait for Ctrl-C: give up after a while.
        for _ in 0..200 {
            if let Some(status) = child.try_wait().unwrap() {
                let mut rest = String::new();
                stderr.read_to_string(&mut rest).unwrap();
                return Some((status, rest));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        None
    });
    let (status, rest) = waited.await.unwrap().expect("apigen stops once its stdout is closed");
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.is_empty(), "nothing more on stderr: {rest}");
}
