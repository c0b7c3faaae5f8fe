//! Runs the example program against a real RabbitMQ: it must print the task-defined and
//! task-running messages of its task group, skip the other group's, and stop by itself.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pulse_e2e::{admin_channel, exchanges, publish, Broker, User};

const DEFINED: &str = "exchange/taskcluster-queue/v1/task-defined";
const RUNNING: &str = "exchange/taskcluster-queue/v1/task-running";

#[test]
fn listens_to_one_task_group() {
    let Some(broker) =
        Broker::for_tests(&[User::admin("admin", "admin-pw-1234"), User::pulse("listener", "listener-pw-5678")])
    else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (_admin, ch) = rt.block_on(admin_channel(&broker.url("admin", "admin-pw-1234"), &[DEFINED, RUNNING]));

    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse-listener"))
        .args(["--task-group", "GroupA", "--max-messages", "2", "--connection-string"])
        .arg(broker.url("listener", "listener-pw-5678"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hung program fails the test instead of hanging it.
    let finished = Arc::new(AtomicBool::new(false));
    let (flag, pid) = (finished.clone(), child.id());
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(120));
        if !flag.load(Ordering::SeqCst) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("listening on queue/listener/exclusive/"), "{first}");

    // Messages built from the exchanges' schemas, with this test's task and group.
    let body = |exchange: &str, task: &str, group: &str| {
        let mut b = exchanges().into_iter().find(|e| e.name == exchange).unwrap().body;
        b["status"]["taskId"] = task.into();
        b["status"]["taskGroupId"] = group.into();
        serde_json::to_vec(&b).unwrap()
    };
    let key = |task: &str, group: &str| format!("primary.{task}.0.wg.wid.proj.linux.-.{group}._");
    rt.block_on(async {
        publish(&ch, DEFINED, &key("TaskB1", "GroupB"), &body(DEFINED, "TaskB1", "GroupB"), &[]).await;
        publish(&ch, DEFINED, &key("TaskA1", "GroupA"), &body(DEFINED, "TaskA1", "GroupA"), &[]).await;
        publish(&ch, RUNNING, &key("TaskB1", "GroupB"), &body(RUNNING, "TaskB1", "GroupB"), &[]).await;
        publish(&ch, RUNNING, &key("TaskA1", "GroupA"), &body(RUNNING, "TaskA1", "GroupA"), &[]).await;
    });

    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert!(rest.iter().any(|l| l.starts_with("task defined: TaskA1 in group GroupA")), "{rest:?}");
    assert!(rest.iter().any(|l| l.starts_with("task running: TaskA1 run 0 on x/x (group GroupA)")), "{rest:?}");
    assert!(!stderr.contains("listener-pw-5678"));
    finished.store(true, Ordering::SeqCst);
}
