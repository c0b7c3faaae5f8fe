//! Listening to Taskcluster's Pulse exchanges (AMQP 0-9-1, RabbitMQ) with typed messages.
//!
//! Bind a queue to exchanges with the generated binding structs, name the event type the
//! messages decode into (a generated `<Service>Event` enum, or several of them combined with
//! [`pulse_events!`](crate::pulse_events)), and hand a handler to the consumer:
//!
//! ```no_run
//! # use apigen_runtime::{pulse::{Connection, Consumer, Message, QueueSpec}, EventError, Event};
//! # async fn demo<E: Event + std::fmt::Debug + Send + 'static>(binding: impl apigen_runtime::Binding) -> Result<(), apigen_runtime::pulse::Error> {
//! let consumer = Consumer::builder(Connection::from_env()?)
//!     .queue(QueueSpec::durable("task-watcher"))
//!     .bind(&binding)?
//!     .start(|msg: Result<Message<E>, EventError>| async move {
//!         match msg {
//!             Ok(msg) => println!("{:?} (routes {:?})", msg.event, msg.routes),
//!             Err(bad) => eprintln!("undecodable: {bad}"),
//!         }
//!         Ok::<_, std::convert::Infallible>(())
//!     })
//!     .await?;
//! // ... later:
//! consumer.stop().await?;
//! # Ok(()) }
//! ```
//!
//! # Delivery
//!
//! At least once. A handler that returns `Ok` acknowledges the message. One that returns
//! `Err` (or panics) has the message requeued once; when that redelivered message fails
//! again it is rejected without requeueing: RabbitMQ then moves it to the queue's dead-letter
//! exchange ([`ConsumerBuilder::dead_letter_exchange`]) or, without one, drops it. A message
//! whose body does not decode reaches the handler as an [`EventError`](crate::EventError)
//! with the raw bytes, and follows the same rules by the handler's answer.
//!
//! Messages that were in flight when a connection broke are delivered again with
//! `redelivered` set, so handlers should be idempotent.
//!
//! # Connections
//!
//! A lost connection is re-established with backoff (250 ms doubling up to 15 s, with
//! jitter), and queue, bindings and prefetch are declared again. The first connection
//! happens in [`ConsumerBuilder::start`], so a wrong password, an unknown host or a refused
//! queue is reported right there as an [`Error`].

mod connection;
mod consumer;

use std::time::Duration;

pub use connection::Connection;
pub use consumer::{Consumer, ConsumerBuilder, ConsumerHandle, Handler, Message, QueueSpec};

/// What can go wrong while connecting, declaring or consuming. Messages never contain the
/// password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection settings or consumer options are unusable; nothing was sent.
    #[error("pulse: {0}")]
    Config(String),

    /// The broker could not be reached: unknown host, connection refused, TLS failure.
    #[error("pulse: cannot connect to {endpoint}: {reason}")]
    Connect {
        /// Where (`amqps://user@host:port/vhost`, no password).
        endpoint: String,
        /// What failed.
        reason: String,
    },

    /// The broker refused the login: wrong user name or password, or no access to the vhost.
    #[error("pulse: {endpoint}: login refused (wrong user name or password, or no access to the vhost): {reason}")]
    AccessRefused {
        /// Where (no password).
        endpoint: String,
        /// The broker's words.
        reason: String,
    },

    /// Connecting took longer than the connection's timeout.
    #[error("pulse: connecting to {endpoint} timed out after {after:?}")]
    Timeout {
        /// Where (no password).
        endpoint: String,
        /// The timeout.
        after: Duration,
    },

    /// The broker refused to declare, bind or consume from the queue (no permission, an
    /// existing queue with other options, an exchange that does not exist).
    #[error("pulse: queue {queue}: {action} refused: {reason}")]
    Queue {
        /// The full queue name.
        queue: String,
        /// What was refused (`declare`, `bind to <exchange> with <pattern>`, `consume`, ...).
        action: String,
        /// The broker's words.
        reason: String,
    },

    /// An established connection failed (and, for a running consumer, could not be
    /// re-established because the broker refuses it).
    #[error("pulse: connection to {endpoint} failed: {reason}")]
    Connection {
        /// Where (no password).
        endpoint: String,
        /// What failed.
        reason: String,
    },
}

impl Error {
    /// Whether retrying later could help (the broker was unreachable or the connection
    /// broke), as opposed to a refusal that will repeat (login, permissions, options).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Connect { .. } | Error::Timeout { .. } | Error::Connection { .. })
    }
}
