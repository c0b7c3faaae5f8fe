//! `apigen pulse listen <exchange> [pattern]`: the runtime's Pulse consumer on an exclusive
//! queue, one JSON line per message that decodes as the exchange's typed event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use apigen_runtime::pulse::{Connection, Consumer, Message};
use apigen_runtime::{Event, EventError};
use clap::{Arg, ArgMatches, Command};
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

/// The exchanges of each service in [`AnyEvent`], for suggestions.
const EXCHANGES: &[&[&str]] = &[
    taskcluster_auth::exchanges::AuthEvent::EXCHANGES,
    taskcluster_github::exchanges::GithubEvent::EXCHANGES,
    taskcluster_hooks::exchanges::HooksEvent::EXCHANGES,
    taskcluster_notify::exchanges::NotifyEvent::EXCHANGES,
    taskcluster_queue::exchanges::QueueEvent::EXCHANGES,
    taskcluster_worker_manager::exchanges::WorkerManagerEvent::EXCHANGES,
];

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
                    .allow_negative_numbers(true)
                    .value_parser(at_least_one)
                    .help("Stop after printing N messages (at least 1; without -n, listen until Ctrl-C)"),
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
        return Err(Failure::input(format!("no service of apigen publishes on {exchange:?}; {}", suggest(&exchange))));
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
    // Why the listener stopped early: stdout could not be written (its reader may have gone).
    let failed: Arc<Mutex<Option<Failure>>> = Arc::default();
    let (seen_h, done_h, failed_h) = (seen.clone(), done.clone(), failed.clone());
    let handler = move |msg: Result<Message<Checked>, EventError>| {
        let (seen, done, failed) = (seen_h.clone(), done_h.clone(), failed_h.clone());
        async move {
            let stopping = failed.lock().is_ok_and(|f| f.is_some());
            if stopping || count.is_some_and(|n| seen.load(Ordering::SeqCst) >= n) {
                // Past the count: leave it for the queue, which goes with this process.
                return Err("stopping");
            }
            match msg {
                Ok(m) => {
                    let line = json!({
                        "exchange": m.exchange, "routingKey": m.routing_key, "routes": m.routes,
                        "redelivered": m.redelivered, "message": m.event.0,
                    });
                    if let Err(f) = crate::output::print_line(line.to_string()) {
                        if let Ok(mut slot) = failed.lock() {
                            slot.get_or_insert(f);
                        }
                        done.notify_one();
                        return Err("stopping");
                    }
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
    handle.stop().await.map_err(pulse_failure)?;
    match failed.lock().ok().and_then(|mut f| f.take()) {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// clap's parser of `-n`: a count of at least 1 (with 0, nothing would ever be printed).
fn at_least_one(value: &str) -> Result<u64, String> {
    match crate::helpers::count::<u64>(value)? {
        0 => {
            Err("0 would stop before the first message: give at least 1, or leave -n out to listen until Ctrl-C".into())
        }
        n => Ok(n),
    }
}

/// What to try instead of an exchange no service publishes on: the close names, else the
/// exchanges of the service its prefix names, else where the services' exchanges start.
fn suggest(exchange: &str) -> String {
    let all = EXCHANGES.iter().flat_map(|e| e.iter().copied());
    let mut close: Vec<(usize, &str)> =
        all.map(|e| (strsim::levenshtein(exchange, e), e)).filter(|(d, _)| *d <= 3).collect();
    close.sort();
    if !close.is_empty() {
        let names: Vec<String> = close.iter().take(3).map(|(_, e)| format!("{e:?}")).collect();
        return format!("did you mean {}?", names.join(" or "));
    }
    let prefix = |e: &str| e.rsplit_once('/').map_or("", |(p, _)| p).to_owned();
    let wanted = prefix(exchange);
    if let Some(service) = EXCHANGES.iter().find(|e| e.first().is_some_and(|first| prefix(first) == wanted)) {
        let names: Vec<&str> = service.iter().filter_map(|e| e.rsplit_once('/').map(|(_, n)| n)).collect();
        let service_name = wanted.split('/').nth(1).unwrap_or("").trim_start_matches("taskcluster-");
        return format!("the {service_name}'s exchanges are {} (each after {wanted}/)", names.join(", "));
    }
    let prefixes: Vec<String> = EXCHANGES.iter().filter_map(|e| e.first()).map(|e| format!("{}/", prefix(e))).collect();
    format!("the services' exchanges start with {}", prefixes.join(", "))
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
