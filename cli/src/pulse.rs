//! `apigen pulse listen <exchange> [pattern]`: the runtime's Pulse consumer on an exclusive
//! queue, one JSON line per message that decodes as the exchange's typed event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use apigen_runtime::pulse::{Connection, Consumer, Message};
use apigen_runtime::{Event, EventError};
use clap::{value_parser, Arg, ArgMatches, Command};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::Failure;

apigen_runtime::pulse_events! {
    /// Every typed event of the services `apigen` knows (only decoded, to check a message).
    #[allow(dead_code)]
    enum AnyEvent {
        Auth(taskcluster_auth::exchanges::AuthEvent),
        Github(taskcluster_github::exchanges::GithubEvent),
        Hooks(taskcluster_hooks::exchanges::HooksEvent),
        Notify(taskcluster_notify::exchanges::NotifyEvent),
        Queue(taskcluster_queue::exchanges::QueueEvent),
        WorkerManager(taskcluster_worker_manager::exchanges::WorkerManagerEvent),
    }
}

/// A message that decoded as its exchange's typed event (routing key and body), kept as the
/// JSON it arrived as so that the printed line loses nothing this version does not know.
struct Checked(Value);

impl Event for Checked {
    fn decode(
        exchange: &str,
        routing_key: &str,
        body: &apigen_runtime::bytes::Bytes,
    ) -> Option<Result<Self, EventError>> {
        let typed = AnyEvent::decode(exchange, routing_key, body)?;
        Some(typed.and_then(|_| {
            serde_json::from_slice(body).map(Checked).map_err(|e| EventError {
                exchange: exchange.to_owned(),
                routing_key: routing_key.to_owned(),
                body: body.clone(),
                reason: e.to_string(),
            })
        }))
    }
}

/// `pulse listen`.
pub fn command() -> Command {
    Command::new("pulse").about("Listen to Pulse").subcommand_required(true).arg_required_else_help(true).subcommand(
        Command::new("listen")
            .about(
                "Print one JSON line per message on an exchange: {exchange, routingKey, routes, redelivered, message}",
            )
            .long_about(
                "Print one JSON line per message on an exchange, checked against the exchange's typed event: \
                 {\"exchange\", \"routingKey\", \"routes\", \"redelivered\", \"message\"}. Messages that do not \
                 decode are reported on stderr.\n\n\
                 Connects with PULSE_URL (amqps://user:password@host[:port][/vhost]) if set, else PULSE_USERNAME, \
                 PULSE_PASSWORD, PULSE_HOSTNAME (and PULSE_VHOST) over amqps, on a queue of this process alone. \
                 Stops on Ctrl-C, or after --count printed messages.",
            )
            .arg(
                Arg::new("exchange")
                    .required(true)
                    .help("The exchange, e.g. exchange/taskcluster-queue/v1/task-completed"),
            )
            .arg(Arg::new("pattern").default_value("#").help("Routing-key pattern (`*` one word, `#` any words)"))
            .arg(
                Arg::new("count")
                    .short('n')
                    .long("count")
                    .value_name("N")
                    .value_parser(value_parser!(u64).range(1..))
                    .help("Stop after printing N messages"),
            ),
    )
}

/// Runs `pulse listen`.
pub async fn run(m: &ArgMatches) -> Result<(), Failure> {
    let Some(("listen", m)) = m.subcommand() else { return Err(Failure::Usage("pulse: expected listen".into())) };
    let exchange = m.get_one::<String>("exchange").cloned().unwrap_or_default();
    let pattern = m.get_one::<String>("pattern").cloned().unwrap_or_else(|| "#".into());
    let count = m.get_one::<u64>("count").copied();
    if AnyEvent::decode(&exchange, "", &apigen_runtime::bytes::Bytes::new()).is_none() {
        return Err(Failure::input(format!("no service of apigen publishes on {exchange:?}")));
    }
    // The runtime's messages do not know which variable a setting came from; these name it.
    let connection = match std::env::var("PULSE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => Connection::from_url(&url).map_err(|e| in_variable(e, |m| format!("PULSE_URL: {m}"))),
        None => Connection::from_env().map_err(|e| {
            in_variable(e, |m| {
                format!("{m} (set PULSE_HOSTNAME, PULSE_USERNAME and PULSE_PASSWORD, or PULSE_URL={URL_FORM})")
            })
        }),
    }?;
    let mut builder =
        Consumer::builder(connection).bind_pattern(exchange.clone(), pattern.clone()).map_err(pulse_failure)?;
    if count.is_some() {
        // One message at a time, so that exactly N are printed.
        builder = builder.prefetch(1);
    }
    let seen = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let (seen_h, done_h) = (seen.clone(), done.clone());
    let handler = move |msg: Result<Message<Checked>, EventError>| {
        let (seen, done) = (seen_h.clone(), done_h.clone());
        async move {
            if count.is_some_and(|n| seen.load(Ordering::SeqCst) >= n) {
                // Past the count: leave it for the queue, which goes with this process.
                return Err("stopping");
            }
            match msg {
                Ok(m) => {
                    let line = json!({
                        "exchange": m.exchange, "routingKey": m.routing_key, "routes": m.routes,
                        "redelivered": m.redelivered, "message": m.event.0,
                    });
                    println!("{line}");
                    if count.is_some_and(|n| seen.fetch_add(1, Ordering::SeqCst) + 1 >= n) {
                        done.notify_one();
                    }
                }
                // Reported and acknowledged: redelivery would not make it fit.
                Err(e) => eprintln!(
                    "apigen: a message on {} ({}) does not fit its type: {}",
                    e.exchange, e.routing_key, e.reason
                ),
            }
            Ok(())
        }
    };
    let handle = builder.start::<Checked, _>(handler).await.map_err(pulse_failure)?;
    // Bound: from here on no message is missed (scripts may wait for this line).
    eprintln!("apigen: listening on {} ({exchange} {pattern})", handle.queue());
    tokio::select! {
        _ = done.notified() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    handle.stop().await.map_err(pulse_failure)
}

/// The form of PULSE_URL.
const URL_FORM: &str = "amqps://user:password@host[:port][/vhost]";

fn pulse_failure(e: apigen_runtime::pulse::Error) -> Failure {
    in_variable(e, str::to_owned)
}

/// A configuration error's message as `explain` puts it; other errors as they are.
fn in_variable(e: apigen_runtime::pulse::Error, explain: impl Fn(&str) -> String) -> Failure {
    match e {
        apigen_runtime::pulse::Error::Config(m) => Failure::config(explain(&m)),
        other => Failure::Api(other.to_string()),
    }
}
