//! The Pulse consumer against a real RabbitMQ (`test-broker`): typed delivery, undecodable
//! bodies, redelivery rules, work sharing, stop, queue options, recycling, connection errors,
//! and the fault run (connection closed by the broker, broker restarted, 10,000 messages).
//!
//! One broker serves the whole file; the fault test restarts it, so it takes the broker
//! exclusively (`RwLock` write) while the others share it (read).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use apigen_runtime::bytes::Bytes;
use apigen_runtime::pulse::{Connection, Consumer, Error, Handler, Message, QueueSpec};
use apigen_runtime::{
    decode_event, parse_routing_key, routing_key, Binding, Event, EventError, RoutingKeyPart, RoutingKeySpec,
};
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, ExchangeKind};
use test_broker::{admin_channel, publish, Broker, User};
use tokio::sync::RwLock;

const ADMIN: (&str, &str) = ("admin", "admin-pw-1234");
const USER: (&str, &str) = ("pulse-user", "very-secret-password-42");
const FAULT_USER: (&str, &str) = ("fault-user", "fault-secret-password-42");
const PINGS: &str = "exchange/test-service/v1/ping";
const OTHER: &str = "exchange/test-service/v1/other";

// ---- a hand-written event type, shaped like the generated ones ----

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Ping {
    id: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct PingKey {
    shard: Option<String>,
    rest: Option<String>,
}

const PING_KEY: &RoutingKeySpec =
    &[RoutingKeyPart::Constant("primary"), RoutingKeyPart::Word("shard", None), RoutingKeyPart::Words("rest", None)];

impl Binding for PingKey {
    type Message = Ping;
    fn exchange(&self) -> &'static str {
        PINGS
    }
    fn routing_key(&self) -> Result<String, apigen_runtime::Error> {
        routing_key(&[
            RoutingKeyPart::Constant("primary"),
            RoutingKeyPart::Word("shard", self.shard.as_deref()),
            RoutingKeyPart::Words("rest", self.rest.as_deref()),
        ])
    }
}

#[derive(Debug, Clone, PartialEq)]
enum TestEvent {
    Ping { key: PingKey, body: Ping },
}

impl Event for TestEvent {
    fn decode(exchange: &str, routing_key: &str, body: &Bytes) -> Option<Result<Self, EventError>> {
        (exchange == PINGS).then(|| {
            decode_event(exchange, routing_key, body, |k| {
                let v = parse_routing_key(PING_KEY, k)?;
                Some(PingKey { shard: Some(v[0].clone()), rest: Some(v[1].clone()) })
            })
            .map(|(key, body)| TestEvent::Ping { key, body })
        })
    }
}

fn id_of(m: &Message<TestEvent>) -> u64 {
    let TestEvent::Ping { body, .. } = &m.event;
    body.id
}

type Received = Arc<Mutex<Vec<Result<Message<TestEvent>, EventError>>>>;

// ---- every log line of the process, to check that none carries a secret ----

static LOGS: Mutex<String> = Mutex::new(String::new());

/// Records every tracing event, at every level and from every crate (lapin's frame traces
/// included), as `name=value` text.
struct CaptureLogs;

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl tracing::Subscriber for CaptureLogs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut line = String::new();
        span.record(&mut Fields(&mut line));
        LOGS.lock().unwrap().push_str(&line);
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut line = String::new();
        values.record(&mut Fields(&mut line));
        LOGS.lock().unwrap().push_str(&line);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = format!("{} {}: ", event.metadata().level(), event.metadata().target());
        event.record(&mut Fields(&mut line));
        line.push('\n');
        LOGS.lock().unwrap().push_str(&line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Asserts that no password of this file appears in any log line so far; returns how many
/// lines there were.
fn assert_logs_secret_free() -> usize {
    let logs = LOGS.lock().unwrap();
    for secret in [USER.1, FAULT_USER.1, ADMIN.1, "not-the-password-1"] {
        assert!(!logs.contains(secret), "a password appears in the logs");
    }
    logs.lines().count()
}

// ---- the shared broker ----

struct Shared {
    broker: Broker,
    lock: RwLock<()>,
}

fn shared() -> Option<&'static Shared> {
    static BROKER: OnceLock<Option<Shared>> = OnceLock::new();
    BROKER
        .get_or_init(|| {
            let _ = tracing::subscriber::set_global_default(CaptureLogs);
            let users =
                [User::admin(ADMIN.0, ADMIN.1), User::pulse(USER.0, USER.1), User::pulse(FAULT_USER.0, FAULT_USER.1)];
            Broker::for_tests(&users).map(|broker| Shared { broker, lock: RwLock::new(()) })
        })
        .as_ref()
}

fn conn(b: &Broker, (user, password): (&str, &str)) -> Connection {
    Connection::new("127.0.0.1", user, password).without_tls(b.port()).connect_timeout(Duration::from_secs(20))
}

/// An administrator's channel with publisher confirms and the test exchanges declared.
async fn admin(b: &Broker) -> (lapin::Connection, lapin::Channel) {
    admin_channel(&b.url(ADMIN.0, ADMIN.1), &[PINGS, OTHER]).await
}

fn collector() -> (Received, impl Handler<TestEvent>) {
    let got: Received = Arc::default();
    let sink = got.clone();
    (got, move |m| {
        sink.lock().unwrap().push(m);
        std::future::ready(Ok::<(), String>(()))
    })
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---- tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_messages_routes_and_undecodable_bodies() {
    let Some(s) = shared() else { return };
    let _g = s.lock.read().await;
    let (_a, ch) = admin(&s.broker).await;
    let (got, handler) = collector();
    let consumer = Consumer::builder(conn(&s.broker, USER))
        .queue(QueueSpec::exclusive())
        .bind(&PingKey { shard: Some("s1".into()), rest: None })
        .unwrap()
        .bind_pattern(OTHER, "#")
        .unwrap()
        .start::<TestEvent, _>(handler)
        .await
        .unwrap();
    assert!(consumer.queue().starts_with("queue/pulse-user/exclusive/"), "{}", consumer.queue());

    publish(
        &ch,
        PINGS,
        "primary.s1.a.b",
        br#"{"id":1,"unknown":"fields are fine"}"#,
        &["route.index.x.y", "route.notify"],
    )
    .await;
    publish(&ch, PINGS, "primary.s2.a", br#"{"id":99}"#, &[]).await; // not bound: never arrives
    publish(&ch, PINGS, "primary.s1.z", b"{not json", &[]).await;
    publish(&ch, PINGS, "primary.s1.z", br#"{"id":"seven"}"#, &[]).await;
    publish(&ch, OTHER, "anything", br#"{"id":3}"#, &[]).await; // an exchange TestEvent does not know
    publish(&ch, PINGS, "primary.s1.last", br#"{"id":2}"#, &[]).await;
    wait_for("6 messages", Duration::from_secs(20), || got.lock().unwrap().len() >= 5).await;
    consumer.stop().await.unwrap();

    let got = got.lock().unwrap();
    assert_eq!(got.len(), 5, "{got:?}");
    // Handlers run concurrently (up to the prefetch), so the order they finish in is not the
    // order of publication: each message is found by what it carries.
    let decoded: Vec<&Message<TestEvent>> = got.iter().filter_map(|m| m.as_ref().ok()).collect();
    let failed: Vec<&EventError> = got.iter().filter_map(|m| m.as_ref().err()).collect();
    let mut ids: Vec<u64> = decoded.iter().map(|m| id_of(m)).collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2], "the consumer went on after the bad ones");
    let first = decoded.iter().find(|m| id_of(m) == 1).unwrap();
    assert_eq!(
        first.event,
        TestEvent::Ping { key: PingKey { shard: Some("s1".into()), rest: Some("a.b".into()) }, body: Ping { id: 1 } }
    );
    assert_eq!((first.exchange.as_str(), first.routing_key.as_str()), (PINGS, "primary.s1.a.b"));
    assert_eq!(first.routes, ["index.x.y", "notify"]);
    assert!(!first.redelivered);

    let by_body = |body: &[u8]| *failed.iter().find(|e| &e.body[..] == body).expect("an undecodable message");
    let not_json = by_body(b"{not json");
    assert_eq!((not_json.exchange.as_str(), not_json.routing_key.as_str()), (PINGS, "primary.s1.z"));
    let wrong_schema = by_body(br#"{"id":"seven"}"#);
    assert!(wrong_schema.reason.starts_with("at id:"), "{}", wrong_schema.reason);
    let unknown = failed.iter().find(|e| e.exchange == OTHER).expect("the message of the unknown exchange");
    assert!(unknown.reason.contains("no variant"), "{}", unknown.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_once_is_retried_and_always_failing_is_dead_lettered() {
    let Some(s) = shared() else { return };
    let _g = s.lock.read().await;
    let (_a, ch) = admin(&s.broker).await;
    // The user's own dead-letter exchange and a queue on it, as Pulse's permissions allow.
    let dlx = "exchange/pulse-user/dead";
    ch.exchange_declare(dlx.into(), ExchangeKind::Fanout, ExchangeDeclareOptions::default(), FieldTable::default())
        .await
        .unwrap();
    let dead = "queue/pulse-user/dead";
    ch.queue_declare(dead.into(), QueueDeclareOptions::default(), FieldTable::default()).await.unwrap();
    ch.queue_bind(dead.into(), dlx.into(), "".into(), QueueBindOptions::default(), FieldTable::default())
        .await
        .unwrap();

    let seen: Arc<Mutex<Vec<(u64, bool)>>> = Arc::default();
    let log = seen.clone();
    let consumer = Consumer::builder(conn(&s.broker, USER))
        .queue(QueueSpec::durable("retries"))
        .dead_letter_exchange(dlx)
        .bind(&PingKey { shard: Some("retry".into()), rest: None })
        .unwrap()
        .start(move |m: Result<Message<TestEvent>, EventError>| {
            let m = m.unwrap();
            let (id, again) = (id_of(&m), m.redelivered);
            log.lock().unwrap().push((id, again));
            // 1 fails the first time only; 2 always fails; 3 panics every time.
            let outcome = match id {
                1 if !again => Err("first attempt fails"),
                2 => Err("always fails"),
                3 => panic!("handler panics on purpose"),
                _ => Ok(()),
            };
            async move { outcome }
        })
        .await
        .unwrap();
    for id in [1, 2, 3] {
        publish(&ch, PINGS, "primary.retry.x", format!(r#"{{"id":{id}}}"#).as_bytes(), &[]).await;
    }
    wait_for("6 deliveries", Duration::from_secs(20), || seen.lock().unwrap().len() >= 6).await;
    // Nothing loops: give a would-be third delivery time to show up.
    tokio::time::sleep(Duration::from_millis(700)).await;
    consumer.stop().await.unwrap();

    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, [(1, false), (1, true), (2, false), (2, true), (3, false), (3, true)]);
    let mut dead_ids = Vec::new();
    while let Some(m) = ch.basic_get(dead.into(), BasicGetOptions { no_ack: true }).await.unwrap() {
        dead_ids.push(serde_json::from_slice::<Ping>(&m.delivery.data).unwrap().id);
    }
    dead_ids.sort();
    assert_eq!(dead_ids, [2, 3], "twice-failed messages go to the dead-letter exchange");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consumers_on_one_named_queue_share_the_work() {
    let Some(s) = shared() else { return };
    let _g = s.lock.read().await;
    let (_a, ch) = admin(&s.broker).await;
    let counts: [Arc<Mutex<Vec<u64>>>; 2] = Default::default();
    let mut consumers = Vec::new();
    for c in &counts {
        let log = c.clone();
        consumers.push(
            Consumer::builder(conn(&s.broker, USER))
                .queue(QueueSpec::durable("shared-work"))
                .prefetch(5)
                .bind(&PingKey { shard: Some("shared".into()), rest: None })
                .unwrap()
                .start(move |m: Result<Message<TestEvent>, EventError>| {
                    log.lock().unwrap().push(id_of(&m.unwrap()));
                    // Slow enough that both consumers get work.
                    async {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        Ok::<_, String>(())
                    }
                })
                .await
                .unwrap(),
        );
    }
    const N: u64 = 400;
    for id in 0..N {
        publish(&ch, PINGS, "primary.shared.x", format!(r#"{{"id":{id}}}"#).as_bytes(), &[]).await;
    }
    let total = || counts.iter().map(|c| c.lock().unwrap().len()).sum::<usize>();
    wait_for("every message", Duration::from_secs(30), || total() >= N as usize).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for c in consumers {
        c.stop().await.unwrap();
    }
    let (a, b) = (counts[0].lock().unwrap().clone(), counts[1].lock().unwrap().clone());
    eprintln!("work sharing: consumer A handled {}, consumer B {}", a.len(), b.len());
    assert!(!a.is_empty() && !b.is_empty(), "both consumers got work: {} / {}", a.len(), b.len());
    let mut all: Vec<u64> = a.into_iter().chain(b).collect();
    all.sort();
    assert_eq!(all, (0..N).collect::<Vec<_>>(), "each message handled exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_waits_for_running_handlers() {
    let Some(s) = shared() else { return };
    let _g = s.lock.read().await;
    let (_a, ch) = admin(&s.broker).await;
    let (started, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (st, fin) = (started.clone(), finished.clone());
    let consumer = Consumer::builder(conn(&s.broker, USER))
        .queue(QueueSpec::durable("stopping"))
        .bind(&PingKey { shard: Some("stop".into()), rest: None })
        .unwrap()
        .start(move |_m: Result<Message<TestEvent>, EventError>| {
            st.fetch_add(1, Ordering::SeqCst);
            let fin = fin.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                fin.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(())
            }
        })
        .await
        .unwrap();
    publish(&ch, PINGS, "primary.stop.x", br#"{"id":1}"#, &[]).await;
    wait_for("the handler to start", Duration::from_secs(20), || started.load(Ordering::SeqCst) == 1).await;
    consumer.stop().await.unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), 1, "stop() returned before the handler finished");
    // ... and its message was acknowledged before the connection closed.
    let q = ch
        .queue_declare(
            "queue/pulse-user/stopping".into(),
            QueueDeclareOptions { passive: true, ..Default::default() },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(q.message_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycling_reconnects_and_loses_nothing() {
    let Some(s) = shared() else { return };
    let _g = s.lock.read().await;
    let (_a, ch) = admin(&s.broker).await;
    let (got, handler) = collector();
    let consumer = Consumer::builder(conn(&s.broker, USER))
        .queue(QueueSpec::durable("recycled"))
        .recycle_every(Duration::from_millis(300))
        .bind(&PingKey { shard: Some("recycle".into()), rest: None })
        .unwrap()
        .start::<TestEvent, _>(handler)
        .await
        .unwrap();
    for id in 0..20 {
        publish(&ch, PINGS, "primary.recycle.x", format!(r#"{{"id":{id}}}"#).as_bytes(), &[]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for("recycling twice", Duration::from_secs(20), || consumer.reconnects() >= 2).await;
    wait_for("every message", Duration::from_secs(20), || got.lock().unwrap().len() >= 20).await;
    let reconnects = consumer.reconnects();
    consumer.stop().await.unwrap();
    let mut ids: Vec<u64> = got.lock().unwrap().iter().map(|m| id_of(m.as_ref().unwrap())).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, (0..20).collect::<Vec<_>>(), "recycled {reconnects} times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_length_and_expiry_reach_the_broker() {
    let Some(s) = shared() else { return };
    let _g = s.lock.read().await;
    let (_a, ch) = admin(&s.broker).await;
    let consumer = Consumer::builder(conn(&s.broker, USER))
        .queue(QueueSpec::durable("options"))
        .max_length(3)
        .expires(Duration::from_millis(1500))
        .bind(&PingKey { shard: Some("opt".into()), rest: None })
        .unwrap()
        .start(|_m: Result<Message<TestEvent>, EventError>| async { Ok::<_, String>(()) })
        .await
        .unwrap();
    consumer.stop().await.unwrap();
    // max-length: with nobody consuming, the queue keeps the newest 3.
    for id in 100..110 {
        publish(&ch, PINGS, "primary.opt.x", format!(r#"{{"id":{id}}}"#).as_bytes(), &[]).await;
    }
    let passive = QueueDeclareOptions { passive: true, ..Default::default() };
    let q = ch.queue_declare("queue/pulse-user/options".into(), passive, FieldTable::default()).await.unwrap();
    assert_eq!(q.message_count(), 3);
    // expires: unused for 1.5 s, the queue is gone.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_b, ch2) = admin(&s.broker).await;
    let err = ch2.queue_declare("queue/pulse-user/options".into(), passive, FieldTable::default()).await.unwrap_err();
    assert!(err.to_string().contains("NOT_FOUND"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_and_queue_errors_are_clear_bounded_and_secret_free() {
    let Some(s) = shared() else { return };
    let _g = s.lock.read().await;
    let (_a, _ch) = admin(&s.broker).await; // declares the exchanges
    let start = |c: Connection, queue: QueueSpec, exchange: &'static str| async move {
        let t = Instant::now();
        let r = Consumer::builder(c)
            .queue(queue)
            .bind_pattern(exchange, "#")
            .unwrap()
            .start::<TestEvent, _>(|_m| async { Ok::<_, String>(()) })
            .await;
        (r.map(drop).unwrap_err(), t.elapsed())
    };
    let secret = USER.1;
    let mut outputs = Vec::new();

    let (e, took) = start(
        Connection::new("127.0.0.1", USER.0, "not-the-password-1").without_tls(s.broker.port()),
        QueueSpec::exclusive(),
        PINGS,
    )
    .await;
    assert!(matches!(e, Error::AccessRefused { .. }), "{e}");
    assert!(!e.to_string().contains("not-the-password-1"), "{e}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    outputs.push(format!("{e} / {e:?}"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (e, took) = start(conn(&s.broker, USER).port(closed), QueueSpec::exclusive(), PINGS).await;
    assert!(matches!(e, Error::Connect { .. }) && e.to_string().contains("connection refused"), "{e}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    outputs.push(format!("{e} / {e:?}"));

    let (e, took) =
        start(Connection::new("no-such-host.invalid", USER.0, secret).without_tls(5672), QueueSpec::exclusive(), PINGS)
            .await;
    assert!(matches!(e, Error::Connect { .. }) && e.to_string().contains("no-such-host.invalid"), "{e}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    outputs.push(format!("{e} / {e:?}"));

    // A black-holed address: nothing answers, the timeout bounds the wait.
    let blackhole =
        Connection::new("10.255.255.1", USER.0, secret).without_tls(5672).connect_timeout(Duration::from_secs(2));
    let (e, took) = start(blackhole, QueueSpec::exclusive(), PINGS).await;
    assert!(matches!(e, Error::Timeout { .. } | Error::Connect { .. }), "{e}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    outputs.push(format!("{e} / {e:?}"));

    // Binding to an exchange the user may not read (Pulse lets users read `exchange/...` only).
    let (e, _) = start(conn(&s.broker, USER), QueueSpec::durable("refused"), "amq.topic").await;
    assert!(
        matches!(&e, Error::Queue { action, .. } if action.contains("amq.topic"))
            && e.to_string().contains("ACCESS_REFUSED"),
        "{e}"
    );
    outputs.push(format!("{e} / {e:?}"));

    // An exchange that does not exist.
    let (e, _) = start(conn(&s.broker, USER), QueueSpec::durable("refused"), "exchange/nobody/v1/missing").await;
    assert!(matches!(e, Error::Queue { .. }) && e.to_string().contains("NOT_FOUND"), "{e}");
    outputs.push(format!("{e} / {e:?}"));

    // A queue that exists with other options.
    let (e, _) = {
        let t = Instant::now();
        let r = Consumer::builder(conn(&s.broker, USER))
            .queue(QueueSpec::durable("refused"))
            .max_length(7)
            .bind_pattern(PINGS, "#")
            .unwrap()
            .start::<TestEvent, _>(|_m| async { Ok::<_, String>(()) })
            .await;
        (r.map(drop).unwrap_err(), t.elapsed())
    };
    assert!(
        matches!(&e, Error::Queue { action, .. } if action == "declare")
            && e.to_string().contains("PRECONDITION_FAILED"),
        "{e}"
    );
    outputs.push(format!("{e} / {e:?}"));

    let c = conn(&s.broker, USER);
    outputs.push(format!("{c} / {c:?}"));
    assert!(assert_logs_secret_free() > 0, "the logs were captured");
    for out in &outputs {
        eprintln!("{out}");
        assert!(!out.contains(secret) && !out.contains(ADMIN.1), "secret in output: {out}");
    }
}

/// 10,000 persistent messages in a durable queue; mid-way the broker closes the consumer's
/// connection, later the broker restarts. Afterwards every id was handled, and every
/// repeated delivery had `redelivered` set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_message_lost_across_connection_close_and_broker_restart() {
    let Some(s) = shared() else { return };
    let _g = s.lock.write().await;
    const N: u64 = 10_000;
    let (a, ch) = admin(&s.broker).await;
    let queue = "queue/fault-user/faults";
    ch.queue_declare(queue.into(), QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default())
        .await
        .unwrap();
    ch.queue_bind(
        queue.into(),
        PINGS.into(),
        "primary.fault.#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let t = Instant::now();
    for id in 0..N {
        let body = format!(r#"{{"id":{id}}}"#);
        // Confirms are awaited in batches: publishing stays fast and nothing is unconfirmed.
        let confirm = ch
            .basic_publish(
                PINGS.into(),
                "primary.fault.x".into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        if id % 500 == 499 {
            confirm.await.unwrap();
        }
    }
    ch.wait_for_confirms().await.unwrap();
    eprintln!("published {N} persistent messages in {:?}", t.elapsed());
    drop(ch);
    let _ = a.close(200, "done".into()).await;

    // Handlers record every delivery; at 2,000 and at 5,000 deliveries they hold on until
    // the test has applied the next fault, so each fault hits a consumer mid-flow.
    let deliveries: Arc<Mutex<Vec<(u64, bool)>>> = Arc::default();
    let (gate_tx, gate_rx) = tokio::sync::watch::channel(0u8);
    let log = deliveries.clone();
    let consumer = Consumer::builder(conn(&s.broker, FAULT_USER))
        .queue(QueueSpec::durable("faults"))
        .prefetch(50)
        .bind(&PingKey { shard: Some("fault".into()), rest: None })
        .unwrap()
        .start(move |m: Result<Message<TestEvent>, EventError>| {
            let m = m.unwrap();
            let n = {
                let mut d = log.lock().unwrap();
                d.push((id_of(&m), m.redelivered));
                d.len()
            };
            let mut gate = gate_rx.clone();
            async move {
                let phase = if n >= 5000 {
                    2
                } else if n >= 2000 {
                    1
                } else {
                    0
                };
                if phase > 0 {
                    let _ = gate.wait_for(|g| *g >= phase).await;
                }
                Ok::<_, String>(())
            }
        })
        .await
        .unwrap();
    let count = || deliveries.lock().unwrap().len();
    wait_for("2,000 deliveries", Duration::from_secs(60), || count() >= 2000).await;
    let closed = s.broker.close_connections_of(FAULT_USER.0).unwrap();
    assert_eq!(closed, 1, "the consumer's one connection");
    gate_tx.send(1).unwrap();
    wait_for("5,000 deliveries", Duration::from_secs(120), || count() >= 5000).await;
    s.broker.restart().unwrap();
    gate_tx.send(2).unwrap();
    let all_ids = || {
        let d = deliveries.lock().unwrap();
        let mut ids: Vec<u64> = d.iter().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        ids.len() as u64 == N
    };
    wait_for("every id", Duration::from_secs(180), all_ids).await;
    let reconnects = consumer.reconnects();
    consumer.stop().await.unwrap();

    let d = deliveries.lock().unwrap();
    let mut first: HashMap<u64, usize> = HashMap::new();
    let mut duplicates = 0;
    for (id, redelivered) in d.iter() {
        let seen = first.entry(*id).or_default();
        if *seen > 0 {
            duplicates += 1;
            assert!(redelivered, "id {id} came again without `redelivered`");
        }
        *seen += 1;
    }
    assert_eq!(first.len() as u64, N, "lost messages");
    assert!(reconnects >= 2, "reconnected {reconnects} times");
    let lines = assert_logs_secret_free();
    let warnings = LOGS.lock().unwrap().lines().filter(|l| l.starts_with("WARN apigen_runtime")).count();
    assert!(warnings > 0, "reconnections are logged");
    eprintln!("logs: {lines} lines at every level, {warnings} warnings from the consumer, no password in any");
    eprintln!("fault run: {N} messages, 0 lost, {duplicates} duplicates (all with redelivered set), {reconnects} reconnections");
}
