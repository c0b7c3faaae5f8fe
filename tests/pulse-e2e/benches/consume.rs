//! Consume-and-decode throughput: our typed consumer (`apigen_runtime::pulse`, decoding into
//! `QueueEvent`) against a bare lapin consumer loop that decodes the same body into the same
//! generated type, on the same real RabbitMQ, with the same realistic task-completed
//! messages. Runs alternate in one process; each run drains a queue pre-filled with N
//! persistent messages, timed from connecting to the last acknowledgement.
//!
//! `cargo bench -p pulse-e2e --bench consume` (env: `PULSE_BENCH_MESSAGES`, default 20000;
//! `PULSE_BENCH_ROUNDS`, default 3; `PULSE_BENCH_PREFETCH`, default 100).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apigen_runtime::futures_util::StreamExt;
use apigen_runtime::pulse::{Connection, Consumer, Message, QueueSpec};
use apigen_runtime::EventError;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::BasicProperties;
use pulse_e2e::{admin_channel, Broker, User};
use taskcluster_queue::exchanges::{QueueEvent, TaskCompleted};
use taskcluster_queue::TaskCompletedMessage;

const EXCHANGE: &str = "exchange/taskcluster-queue/v1/task-completed";
const KEY: &str = "primary.fN1SbArXTPSVFNUvaOlinQ.0.us-east-1.i-0123456789abcdef.proj-releng.b-linux-large.-.Ez3e5PvPQHmGDtIjO4dXnw._";

/// A task-completed message as the queue sends it: status with three runs, plus fields a
/// newer server might add.
fn body(i: u64) -> Vec<u8> {
    let run = |n: u64, state: &str, reason: &str| {
        serde_json::json!({
            "runId": n, "state": state, "reasonCreated": if n == 0 { "scheduled" } else { "retry" },
            "reasonResolved": reason, "workerGroup": "us-east-1", "workerId": "i-0123456789abcdef",
            "takenUntil": "2026-11-30T09:20:00.000Z", "scheduled": "2026-11-30T09:00:00.000Z",
            "started": "2026-11-30T09:00:01.123Z", "resolved": "2026-11-30T09:10:00.456Z"
        })
    };
    serde_json::to_vec(&serde_json::json!({
        "version": 1,
        "runId": 2,
        "workerGroup": "us-east-1",
        "workerId": "i-0123456789abcdef",
        "task": {"tags": {"kind": "build", "label": format!("build-linux64/opt-{i}"), "createdForUser": "someone@example.com"}},
        "status": {
            "taskId": "fN1SbArXTPSVFNUvaOlinQ",
            "provisionerId": "proj-releng",
            "workerType": "b-linux-large",
            "taskQueueId": "proj-releng/b-linux-large",
            "schedulerId": "-",
            "projectId": "releng",
            "taskGroupId": "Ez3e5PvPQHmGDtIjO4dXnw",
            "deadline": "2026-11-30T10:00:00.000Z",
            "expires": "2027-11-30T10:00:00.000Z",
            "retriesLeft": 3,
            "state": "completed",
            "runs": [run(0, "exception", "worker-shutdown"), run(1, "failed", "failed"), run(2, "completed", "completed")]
        }
    }))
    .unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Typed,
    Bare,
}

struct Run {
    secs: f64,
    peak_rss_delta_kb: u64,
}

fn main() {
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let n = env("PULSE_BENCH_MESSAGES", 20_000);
    let rounds = env("PULSE_BENCH_ROUNDS", 3);
    let prefetch = env("PULSE_BENCH_PREFETCH", 100) as u16;
    let broker = match Broker::start(&[User::admin("admin", "admin-pw-1234"), User::pulse("bench", "bench-pw-5678")]) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("the benchmark needs RabbitMQ: {e}");
            std::process::exit(1);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let bytes = body(0).len();
    println!("consume-and-decode: {n} task-completed messages ({bytes} bytes each) per run, prefetch {prefetch}, {rounds} rounds, alternating");
    let mut results: Vec<(Kind, Run)> = Vec::new();
    rt.block_on(async {
        let (_admin, ch) = admin_channel(&broker.url("admin", "admin-pw-1234"), &[EXCHANGE]).await;
        for round in 0..rounds {
            // Alternate which goes first, so neither always runs on a warmer broker.
            let order = if round % 2 == 0 { [Kind::Typed, Kind::Bare] } else { [Kind::Bare, Kind::Typed] };
            for kind in order {
                let queue = format!("run-{round}-{kind:?}").to_lowercase();
                prefill(&ch, &format!("queue/bench/{queue}"), n).await;
                let run = match kind {
                    Kind::Typed => typed(&broker, &queue, n, prefetch).await,
                    Kind::Bare => bare(&broker, &format!("queue/bench/{queue}"), n, prefetch).await,
                };
                println!(
                    "round {round} {kind:?}: {:.0} msgs/s ({:.3} s), peak RSS +{} KiB",
                    n as f64 / run.secs,
                    run.secs,
                    run.peak_rss_delta_kb
                );
                results.push((kind, run));
            }
        }
    });
    let median = |kind: Kind| {
        let mut v: Vec<f64> = results.iter().filter(|(k, _)| *k == kind).map(|(_, r)| n as f64 / r.secs).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let peak =
        |kind: Kind| results.iter().filter(|(k, _)| *k == kind).map(|(_, r)| r.peak_rss_delta_kb).max().unwrap_or(0);
    let (t, b) = (median(Kind::Typed), median(Kind::Bare));
    println!("median typed consumer: {t:.0} msgs/s, peak RSS +{} KiB", peak(Kind::Typed));
    println!("median bare lapin loop: {b:.0} msgs/s, peak RSS +{} KiB", peak(Kind::Bare));
    println!("ratio typed/bare: {:.2} (target >= 0.90)", t / b);
    println!("process peak RSS (VmHWM): {} KiB", status_kb("VmHWM:"));
}

/// Declares the durable queue bound to the exchange and publishes `n` persistent messages.
async fn prefill(ch: &lapin::Channel, queue: &str, n: u64) {
    ch.queue_declare(queue.into(), QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default())
        .await
        .unwrap();
    ch.queue_bind(queue.into(), EXCHANGE.into(), "#".into(), QueueBindOptions::default(), FieldTable::default())
        .await
        .unwrap();
    for i in 0..n {
        let confirm = ch
            .basic_publish(
                EXCHANGE.into(),
                KEY.into(),
                BasicPublishOptions::default(),
                &body(i),
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        if i % 1000 == 999 {
            confirm.await.unwrap();
        }
    }
    ch.wait_for_confirms().await.unwrap();
    // Only this run's messages: the queue is unbound before the next prefill.
    ch.queue_unbind(queue.into(), EXCHANGE.into(), "#".into(), FieldTable::default()).await.unwrap();
}

async fn typed(broker: &Broker, queue: &str, n: u64, prefetch: u16) -> Run {
    let sampler = RssSampler::start();
    let t = Instant::now();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let done_tx = std::sync::Mutex::new(Some(done_tx));
    let count = AtomicU64::new(0);
    let conn = Connection::new("127.0.0.1", "bench", "bench-pw-5678").without_tls(broker.port());
    let consumer = Consumer::builder(conn)
        .queue(QueueSpec::durable(queue))
        .prefetch(prefetch)
        .bind(&TaskCompleted::default())
        .unwrap()
        .start(move |m: Result<Message<QueueEvent>, EventError>| {
            let ok = matches!(m, Ok(Message { event: QueueEvent::TaskCompleted { .. }, .. }));
            assert!(ok, "decode failed: {m:?}");
            if count.fetch_add(1, Ordering::Relaxed) + 1 == n {
                if let Some(tx) = done_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
            }
            std::future::ready(Ok::<(), String>(()))
        })
        .await
        .unwrap();
    done_rx.await.unwrap();
    consumer.stop().await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    Run { secs, peak_rss_delta_kb: sampler.stop() }
}

async fn bare(broker: &Broker, queue: &str, n: u64, prefetch: u16) -> Run {
    let sampler = RssSampler::start();
    let t = Instant::now();
    let conn =
        lapin::Connection::connect(&broker.url("bench", "bench-pw-5678"), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.basic_qos(prefetch, BasicQosOptions::default()).await.unwrap();
    ch.queue_declare(queue.into(), QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default())
        .await
        .unwrap();
    let pattern = apigen_runtime::Binding::routing_key(&TaskCompleted::default()).unwrap();
    ch.queue_bind(
        queue.into(),
        EXCHANGE.into(),
        pattern.as_str().into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let mut consumer =
        ch.basic_consume(queue.into(), "".into(), BasicConsumeOptions::default(), FieldTable::default()).await.unwrap();
    let mut count = 0;
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery.unwrap();
        // The same decoding work: routing-key fields and the body into the generated types.
        let key = TaskCompleted::from_routing_key(delivery.routing_key.as_str());
        let body: Result<TaskCompletedMessage, _> = serde_json::from_slice(&delivery.data);
        assert!(key.is_some() && body.is_ok(), "decode failed");
        delivery.ack(BasicAckOptions::default()).await.unwrap();
        count += 1;
        if count == n {
            break;
        }
    }
    let _ = ch.close(200, "bye".into()).await;
    let _ = conn.close(200, "bye".into()).await;
    let secs = t.elapsed().as_secs_f64();
    Run { secs, peak_rss_delta_kb: sampler.stop() }
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Samples the resident set every 5 ms on a thread; reports the peak above the start.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
    base: u64,
}

impl RssSampler {
    fn start() -> Self {
        let base = status_kb("VmRSS:");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(status_kb("VmRSS:"));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        });
        RssSampler { stop, thread, base }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(0).saturating_sub(self.base)
    }
}
