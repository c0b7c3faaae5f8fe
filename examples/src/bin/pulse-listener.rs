//! Listens in on Taskcluster tasks being defined and running, as the Go client's AMQP example
//! does, with typed messages:
//!
//! ```text
//! PULSE_USERNAME=... PULSE_PASSWORD=... PULSE_HOSTNAME=pulse.example.com pulse-listener [--task-group <taskGroupId>]
//! pulse-listener --connection-string amqp://user:password@127.0.0.1:5672/ --max-messages 2
//! ```
//!
//! Ctrl-C stops it after the running handlers finish.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use apigen_runtime::pulse::{Connection, Consumer, Message, QueueSpec};
use apigen_runtime::EventError;
use taskcluster_queue::exchanges::{QueueEvent, TaskDefined, TaskRunning};

const USAGE: &str = "usage: pulse-listener [--task-group <taskGroupId>] [--connection-string <amqps://user:password@host/vhost>] [--max-messages <n>]
Without --connection-string, PULSE_USERNAME, PULSE_PASSWORD, PULSE_HOSTNAME (and PULSE_VHOST) are used.";

struct Args {
    task_group: Option<String>,
    connection_string: Option<String>,
    max_messages: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { task_group: None, connection_string: None, max_messages: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--task-group" => args.task_group = Some(value()?),
            "--connection-string" => args.connection_string = Some(value()?),
            "--max-messages" => {
                args.max_messages = Some(value()?.parse().map_err(|_| "--max-messages needs a number".to_owned())?)
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// One line per event.
fn describe(message: &Message<QueueEvent>) -> String {
    match &message.event {
        QueueEvent::TaskDefined { body, .. } => {
            let s = &body.status;
            format!("task defined: {} in group {} for {}", s.task_id, s.task_group_id, s.task_queue_id)
        }
        QueueEvent::TaskRunning { body, .. } => format!(
            "task running: {} run {} on {}/{} (group {})",
            body.status.task_id, body.run_id, body.worker_group, body.worker_id, body.status.task_group_id
        ),
        other => format!("other queue event: {other:?}"),
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args().map_err(|e| if e.is_empty() { USAGE.to_owned() } else { format!("{e}\n{USAGE}") })?;
    let connection = match &args.connection_string {
        Some(s) => Connection::from_url(s),
        None => Connection::from_env(),
    }
    .map_err(|e| e.to_string())?;

    // Bind to both exchanges; an unset field matches anything, so without a task group this
    // hears every task defined and running.
    let defined = TaskDefined { task_group_id: args.task_group.clone(), ..Default::default() };
    let running = TaskRunning { task_group_id: args.task_group.clone(), ..Default::default() };
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let seen = Arc::new(AtomicU64::new(0));
    let max = args.max_messages;
    let consumer = Consumer::builder(connection)
        .queue(QueueSpec::exclusive())
        .bind(&defined)
        .and_then(|b| b.bind(&running))
        .map_err(|e| e.to_string())?
        .start(move |message: Result<Message<QueueEvent>, EventError>| {
            match &message {
                Ok(m) => println!("{}", describe(m)),
                Err(e) => eprintln!("undecodable message: {e}"),
            }
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            if max.is_some_and(|max| n >= max) {
                let _ = done_tx.send(true);
            }
            async { Ok::<_, std::convert::Infallible>(()) }
        })
        .await
        .map_err(|e| e.to_string())?;
    println!("listening on {}", consumer.queue());

    tokio::select! {
        _ = done_rx.wait_for(|done| *done) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    consumer.stop().await.map_err(|e| e.to_string())
}
