//! Every exchange of the current references, through a real RabbitMQ: a message built from
//! the exchange's schema is published with a full routing key and CC'd routes, and arrives as
//! the generated event type with every routing-key field and the routes parsed.
//!
//! One consumer is bound to all 36 exchanges of six services with the generated binding
//! structs (every field open), and decodes into one enum combining the services' events.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apigen_runtime::pulse::{Connection, Consumer, ConsumerBuilder, Message, QueueSpec};
use apigen_runtime::{Binding, EventError};
use pulse_e2e::{admin_channel, exchanges, publish, Broker, User};

/// Lists every service's event enum and its variants (named like the binding structs). The
/// `match` in `inspect` is exhaustive, so a variant missing here does not compile.
macro_rules! services {
    ($($outer:ident($krate:ident::$event:ident) [$($v:ident),* $(,)?]);* $(;)?) => {
        apigen_runtime::pulse_events! {
            /// The events of every service with exchanges.
            pub enum AllEvents { $($outer($krate::exchanges::$event)),* }
        }

        fn bind_all(mut b: ConsumerBuilder) -> ConsumerBuilder {
            $($(b = b.bind(&$krate::exchanges::$v::default()).unwrap();)*)*
            b
        }

        /// The exchange, the routing key rebuilt from the parsed fields, the body re-encoded.
        fn inspect(e: &AllEvents) -> (&'static str, String, serde_json::Value) {
            match e {
                $($(AllEvents::$outer($krate::exchanges::$event::$v { key, body }) => {
                    (key.exchange(), key.routing_key().unwrap(), serde_json::to_value(body).unwrap())
                })*)*
            }
        }

        const LISTED: &[&str] = &[$($(stringify!($v)),*),*];
    };
}

services! {
    Auth(taskcluster_auth::AuthEvent) [ClientCreated, ClientUpdated, ClientDeleted, RoleCreated, RoleUpdated, RoleDeleted];
    Github(taskcluster_github::GithubEvent) [PullRequest, Push, Release, Rerun, TaskGroupCreationRequested];
    Hooks(taskcluster_hooks::HooksEvent) [HookCreated, HookUpdated, HookDeleted];
    Notify(taskcluster_notify::NotifyEvent) [Notify];
    Queue(taskcluster_queue::QueueEvent) [
        TaskDefined, TaskPending, TaskRunning, ArtifactCreated, TaskCompleted, TaskFailed, TaskException,
        TaskGroupResolved, TaskGroupSealed, TaskPriorityChanged, TaskGroupPriorityChanged,
    ];
    WorkerManager(taskcluster_worker_manager::WorkerManagerEvent) [
        WorkerPoolCreated, WorkerPoolUpdated, WorkerPoolError, WorkerRequested, WorkerRunning, WorkerStopped,
        WorkerRemoved, LaunchConfigCreated, LaunchConfigUpdated, LaunchConfigArchived,
    ];
}

type Delivered = Result<Message<AllEvents>, EventError>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_arrives_typed_with_key_fields_and_routes() {
    let exchanges = exchanges();
    assert_eq!(exchanges.len(), LISTED.len(), "the references have exchanges this test does not list");
    let Some(broker) =
        Broker::for_tests(&[User::admin("admin", "admin-pw-1234"), User::pulse("listener", "listener-pw-5678")])
    else {
        return;
    };
    let names: Vec<&str> = exchanges.iter().map(|e| e.name.as_str()).collect();
    let (_admin, ch) = admin_channel(&broker.url("admin", "admin-pw-1234"), &names).await;

    let got: Arc<Mutex<Vec<Delivered>>> = Arc::default();
    let sink = got.clone();
    let conn = Connection::new("127.0.0.1", "listener", "listener-pw-5678").without_tls(broker.port());
    let consumer = bind_all(Consumer::builder(conn).queue(QueueSpec::durable("every-exchange")))
        .start(move |m: Result<Message<AllEvents>, EventError>| {
            sink.lock().unwrap().push(m);
            async { Ok::<_, String>(()) }
        })
        .await
        .unwrap();

    for e in &exchanges {
        let body = serde_json::to_vec(&e.body).unwrap();
        publish(&ch, &e.name, &e.routing_key, &body, &["route.index.project.x", "route.notify-me"]).await;
    }
    let start = Instant::now();
    while got.lock().unwrap().len() < exchanges.len() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "only {} of {} arrived",
            got.lock().unwrap().len(),
            exchanges.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    consumer.stop().await.unwrap();

    let got = got.lock().unwrap();
    let mut failures = Vec::new();
    for e in &exchanges {
        // Handlers run concurrently: find each exchange's message rather than rely on order.
        let arrived = got.iter().find(|m| match m {
            Ok(m) => m.exchange == e.name,
            Err(err) => err.exchange == e.name,
        });
        let m = match arrived {
            Some(Ok(m)) => m,
            Some(Err(err)) => {
                failures.push(format!("{}: {err}", e.name));
                continue;
            }
            None => {
                failures.push(format!("{}: never arrived", e.name));
                continue;
            }
        };
        let (exchange, key, body) = inspect(&m.event);
        if exchange != e.name || m.exchange != e.name {
            failures.push(format!("{}: arrived as {exchange} (delivery says {})", e.name, m.exchange));
        }
        if key != e.routing_key || m.routing_key != e.routing_key {
            failures.push(format!("{}: routing key {:?} parsed back as {key:?}", e.name, e.routing_key));
        }
        if !same_json(&body, &e.body) {
            failures.push(format!("{}: body {} re-encodes as {body}", e.name, e.body));
        }
        if m.routes != ["index.project.x", "notify-me"] || m.redelivered {
            failures.push(format!("{}: routes {:?}, redelivered {}", e.name, m.routes, m.redelivered));
        }
    }
    assert!(failures.is_empty(), "{} of {} exchanges:\n{}", failures.len(), exchanges.len(), failures.join("\n"));
    eprintln!("{} exchanges: each message arrived typed, with routing-key fields and CC routes", exchanges.len());
}

#[test]
fn every_binding_struct_matches_its_exchange_name() {
    // The exchanges the bindings name are the references' exchanges.
    let mut from_refs: Vec<String> = exchanges().into_iter().map(|e| e.name).collect();
    let mut from_enums: Vec<&str> = [
        taskcluster_auth::exchanges::AuthEvent::EXCHANGES,
        taskcluster_github::exchanges::GithubEvent::EXCHANGES,
        taskcluster_hooks::exchanges::HooksEvent::EXCHANGES,
        taskcluster_notify::exchanges::NotifyEvent::EXCHANGES,
        taskcluster_queue::exchanges::QueueEvent::EXCHANGES,
        taskcluster_worker_manager::exchanges::WorkerManagerEvent::EXCHANGES,
    ]
    .concat();
    from_refs.sort();
    from_enums.sort();
    assert_eq!(from_refs, from_enums);
}

/// JSON equality where numbers compare by value (`0` and `0.0` are the same: a schema's
/// `number` is an `f64`).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Number, Object};
    match (a, b) {
        (Number(x), Number(y)) => x.as_f64() == y.as_f64(),
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
