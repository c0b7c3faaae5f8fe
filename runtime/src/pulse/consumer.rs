//! The consumer: declares a queue, binds it, hands each delivery to the handler as a typed
//! message, acknowledges by the handler's answer, and reconnects when the connection breaks.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::ConnectionProperties;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Connection, Error};
use crate::retry::{RetryMethods, RetryPolicy};
use crate::routing::{Binding, Event, EventError};

/// Longest name AMQP carries (queue, exchange, routing key, vhost): a "short string".
const MAX_NAME: usize = 255;
/// Reconnection waits: 250 ms doubling per failed attempt up to 15 s, ±25 % jitter so that many
/// consumers do not come back in lockstep; never gives up (only `stop` or a refused login end it).
const RECONNECT: RetryPolicy = RetryPolicy {
    retries: u32::MAX,
    delay_factor: Duration::from_millis(250),
    randomization_factor: 0.25,
    max_delay: Duration::from_secs(15),
    methods: RetryMethods::All,
};
const DEFAULT_PREFETCH: u16 = 10;

/// One message as the handler sees it: the typed event and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<E> {
    /// The decoded event: the exchange's variant, with the routing key's fields and the body.
    pub event: E,
    /// The exchange it was published on.
    pub exchange: String,
    /// The primary routing key it was published with.
    pub routing_key: String,
    /// The routes it was CC'd to (a task's `routes`), with the `route.` prefix removed.
    pub routes: Vec<String>,
    /// Whether the broker delivered it before (to this or another consumer) without an
    /// acknowledgement: the handler may have seen it already.
    pub redelivered: bool,
}

/// The queue to consume from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    name: Option<String>,
}

impl QueueSpec {
    /// A durable queue `queue/<username>/<name>`: it keeps messages while nobody listens,
    /// and every consumer using the same name shares its messages (each goes to one of
    /// them), which is how a listener scales past one process.
    pub fn durable(name: impl Into<String>) -> Self {
        QueueSpec { name: Some(name.into()) }
    }

    /// A queue of this process alone (`queue/<username>/exclusive/<random>`), deleted when
    /// its connection closes. Messages published while reconnecting are lost.
    pub fn exclusive() -> Self {
        QueueSpec { name: None }
    }
}

/// What handles messages: any `Fn(Result<Message<E>, EventError>) -> impl Future<Output =
/// Result<(), impl Display>>`. `Ok` acknowledges the message; `Err` requeues it once (then
/// rejects it, see the [module docs](super)).
///
/// Handlers run concurrently, up to the consumer's prefetch.
pub trait Handler<E>: Send + Sync + 'static {
    /// Handles one message; the error is only displayed (logged).
    fn handle(
        &self,
        message: Result<Message<E>, EventError>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
}

impl<E, F, Fut, Err> Handler<E> for F
where
    F: Fn(Result<Message<E>, EventError>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Err>> + Send + 'static,
    Err: std::fmt::Display,
{
    fn handle(
        &self,
        message: Result<Message<E>, EventError>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
        let fut = self(message);
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    }
}

/// Entry point: `Consumer::builder(connection)`.
#[derive(Debug)]
pub struct Consumer;

impl Consumer {
    /// Starts configuring a consumer on `connection` (default: an exclusive queue, prefetch 10).
    pub fn builder(connection: Connection) -> ConsumerBuilder {
        ConsumerBuilder {
            connection,
            queue: QueueSpec::exclusive(),
            prefetch: DEFAULT_PREFETCH,
            max_length: None,
            expires: None,
            dead_letter_exchange: None,
            bindings: Vec::new(),
            recycle: None,
        }
    }
}

/// Options of a consumer; finish with [`start`](ConsumerBuilder::start) or
/// [`run`](ConsumerBuilder::run).
#[derive(Debug, Clone)]
pub struct ConsumerBuilder {
    connection: Connection,
    queue: QueueSpec,
    prefetch: u16,
    max_length: Option<u32>,
    expires: Option<Duration>,
    dead_letter_exchange: Option<String>,
    bindings: Vec<(String, String)>,
    recycle: Option<Duration>,
}

impl ConsumerBuilder {
    /// The queue to declare and consume from.
    pub fn queue(mut self, queue: QueueSpec) -> Self {
        self.queue = queue;
        self
    }

    /// How many unacknowledged messages the broker hands this consumer at once, which is
    /// also how many handlers run at once (default 10, at least 1).
    pub fn prefetch(mut self, prefetch: u16) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// The most messages the queue holds; beyond it the oldest are dropped (or
    /// dead-lettered). Applied when the queue is created.
    pub fn max_length(mut self, messages: u32) -> Self {
        self.max_length = Some(messages);
        self
    }

    /// Deletes the queue after it has had no consumer for `after` (whole milliseconds, at
    /// least 1). Applied when the queue is created.
    pub fn expires(mut self, after: Duration) -> Self {
        self.expires = Some(after);
        self
    }

    /// Where rejected messages go (the queue's `x-dead-letter-exchange`): messages whose
    /// handler failed twice, and messages dropped by [`max_length`](Self::max_length). On
    /// Pulse you may only publish to `exchange/<username>/...`. Without it they are dropped.
    pub fn dead_letter_exchange(mut self, exchange: impl Into<String>) -> Self {
        self.dead_letter_exchange = Some(exchange.into());
        self
    }

    /// Binds the queue with `binding` (a generated struct: fields left `None` match
    /// anything). Call it once per pattern, for as many exchanges as needed.
    pub fn bind<B: Binding>(self, binding: &B) -> Result<Self, Error> {
        let pattern = binding.routing_key().map_err(|e| Error::Config(e.to_string()))?;
        self.bind_pattern(binding.exchange(), pattern)
    }

    /// Binds the queue to `exchange` with a raw routing-key pattern (`*` one word, `#` any
    /// number of words). For CC'd routes: `route.<route>`.
    pub fn bind_pattern(mut self, exchange: impl Into<String>, pattern: impl Into<String>) -> Result<Self, Error> {
        let (exchange, pattern) = (exchange.into(), pattern.into());
        check_name("exchange name", &exchange)?;
        check_name("routing-key pattern", &pattern)?;
        self.bindings.push((exchange, pattern));
        Ok(self)
    }

    /// Closes and re-opens the connection every `interval` (after the running handlers
    /// finish), as long-lived Pulse clients are asked to; off by default.
    pub fn recycle_every(mut self, interval: Duration) -> Self {
        self.recycle = Some(interval);
        self
    }

    /// Connects, declares the queue and its bindings, and starts handing messages to
    /// `handler` in the background. Errors here are final: wrong credentials, unreachable
    /// broker, refused queue or binding.
    pub async fn start<E, H>(self, handler: H) -> Result<ConsumerHandle, Error>
    where
        E: Event + Send + 'static,
        H: Handler<E>,
    {
        let settings = Arc::new(self.settings()?);
        let session = Session::open(&settings).await?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let reconnects = Arc::new(AtomicU64::new(0));
        let task =
            tokio::spawn(run_loop::<E, H>(settings.clone(), Arc::new(handler), session, stop_rx, reconnects.clone()));
        Ok(ConsumerHandle { stop: stop_tx, task, queue: settings.queue.clone(), reconnects })
    }

    /// [`start`](Self::start), then runs until the consumer fails for good (the broker
    /// refuses a reconnection's login).
    pub async fn run<E, H>(self, handler: H) -> Result<(), Error>
    where
        E: Event + Send + 'static,
        H: Handler<E>,
    {
        self.start::<E, H>(handler).await?.wait().await
    }

    fn settings(self) -> Result<Settings, Error> {
        let user = &self.connection.username;
        if user.is_empty() {
            return Err(Error::Config("the user name is empty".into()));
        }
        check_name("vhost", &self.connection.vhost)?;
        let (queue, exclusive) = match self.queue.name {
            Some(name) if name.is_empty() => return Err(Error::Config("the queue name is empty".into())),
            Some(name) => (format!("queue/{user}/{name}"), false),
            None => (format!("queue/{user}/exclusive/{}", crate::slug::nice()), true),
        };
        check_name("queue name", &queue)?;
        if self.bindings.is_empty() {
            return Err(Error::Config(format!("queue {queue} has no bindings: call bind() at least once")));
        }
        let mut arguments = FieldTable::default();
        if let Some(n) = self.max_length {
            arguments.insert("x-max-length".into(), AMQPValue::LongLongInt(i64::from(n)));
        }
        if let Some(after) = self.expires {
            let ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX).max(1);
            arguments.insert("x-expires".into(), AMQPValue::LongLongInt(ms));
        }
        if let Some(dlx) = &self.dead_letter_exchange {
            check_name("dead-letter exchange", dlx)?;
            arguments.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(dlx.as_str().into()));
        }
        Ok(Settings {
            connection: self.connection,
            queue,
            exclusive,
            arguments,
            prefetch: self.prefetch,
            bindings: self.bindings,
            recycle: self.recycle,
        })
    }
}

fn check_name(what: &str, name: &str) -> Result<(), Error> {
    if name.len() > MAX_NAME {
        return Err(Error::Config(format!("{what} is {} bytes long; AMQP allows at most {MAX_NAME}", name.len())));
    }
    Ok(())
}

/// A running consumer. [`stop`](Self::stop) it to finish cleanly; dropping the handle
/// stops it too, without waiting.
#[derive(Debug)]
pub struct ConsumerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
    queue: String,
    reconnects: Arc<AtomicU64>,
}

impl ConsumerHandle {
    /// The full queue name (`queue/<username>/...`).
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// How many times the connection was re-established (after a failure or a recycle).
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// Stops taking messages, waits for the running handlers (their messages are
    /// acknowledged or requeued as usual), then closes the connection. Messages the broker
    /// had already sent but no handler had started go back to the queue.
    pub async fn stop(self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        join(self.task).await
    }

    /// Waits until the consumer ends by itself, which happens only when reconnecting fails
    /// for good (the broker refuses the login).
    pub async fn wait(self) -> Result<(), Error> {
        let ConsumerHandle { stop, task, .. } = self;
        let result = join(task).await;
        drop(stop);
        result
    }
}

async fn join(task: tokio::task::JoinHandle<Result<(), Error>>) -> Result<(), Error> {
    task.await.unwrap_or_else(|e| {
        Err(Error::Connection { endpoint: String::new(), reason: format!("the consumer task ended abnormally: {e}") })
    })
}

/// Everything needed to (re)establish a session.
struct Settings {
    connection: Connection,
    queue: String,
    exclusive: bool,
    arguments: FieldTable,
    prefetch: u16,
    bindings: Vec<(String, String)>,
    recycle: Option<Duration>,
}

/// One connection with its channel and consumer.
struct Session {
    connection: lapin::Connection,
    channel: lapin::Channel,
    consumer: lapin::Consumer,
}

impl Session {
    async fn open(s: &Settings) -> Result<Session, Error> {
        let connection = connect(&s.connection).await?;
        match Self::declare(s, &connection).await {
            Ok((channel, consumer)) => Ok(Session { connection, channel, consumer }),
            Err(e) => {
                let _ = connection.close(200, "declaration failed".into()).await;
                Err(e)
            }
        }
    }

    async fn declare(s: &Settings, connection: &lapin::Connection) -> Result<(lapin::Channel, lapin::Consumer), Error> {
        let queue = || ShortString::from(s.queue.as_str());
        let refused =
            |action: String| move |e: lapin::Error| classify_channel_error(&s.connection, &s.queue, action, e);
        let channel = connection.create_channel().await.map_err(refused("open a channel".into()))?;
        channel.basic_qos(s.prefetch, BasicQosOptions::default()).await.map_err(refused("set prefetch".into()))?;
        let options = QueueDeclareOptions {
            durable: !s.exclusive,
            exclusive: s.exclusive,
            auto_delete: s.exclusive,
            ..QueueDeclareOptions::default()
        };
        channel.queue_declare(queue(), options, s.arguments.clone()).await.map_err(refused("declare".into()))?;
        for (exchange, pattern) in &s.bindings {
            channel
                .queue_bind(
                    queue(),
                    exchange.as_str().into(),
                    pattern.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(refused(format!("bind to exchange {exchange} with pattern {pattern:?}")))?;
        }
        let consumer = channel
            .basic_consume(queue(), ShortString::from(""), BasicConsumeOptions::default(), FieldTable::default())
            .await
            .map_err(refused("consume".into()))?;
        Ok((channel, consumer))
    }

    /// Cancels the consumer so no new deliveries arrive; the channel stays open for the
    /// acknowledgements of running handlers.
    async fn cancel(&self) {
        let _ = self.channel.basic_cancel(self.consumer.tag(), BasicCancelOptions::default()).await;
    }

    async fn close(self) {
        let _ = self.channel.close(200, "bye".into()).await;
        let _ = self.connection.close(200, "bye".into()).await;
    }
}

async fn connect(c: &Connection) -> Result<lapin::Connection, Error> {
    let properties = ConnectionProperties::default()
        .with_connection_name(concat!("apigen-runtime ", env!("CARGO_PKG_VERSION")).into());
    match tokio::time::timeout(c.connect_timeout, lapin::Connection::connect_uri(c.amqp_uri(), properties)).await {
        Err(_) => Err(Error::Timeout { endpoint: c.endpoint(), after: c.connect_timeout }),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(classify_connect_error(c, &e)),
    }
}

/// The AMQP reply code of a broker-side close (403 access refused, 404 not found, ...).
fn reply_code(e: &lapin::Error) -> Option<u16> {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => Some(amqp.get_id()),
        _ => None,
    }
}

fn classify_connect_error(c: &Connection, e: &lapin::Error) -> Error {
    let endpoint = c.endpoint();
    let reason = c.mask(&e.to_string());
    match (reply_code(e), e.kind()) {
        (Some(403), _) | (_, lapin::ErrorKind::AuthProviderError(_)) => Error::AccessRefused { endpoint, reason },
        (_, lapin::ErrorKind::IOError(io)) => {
            let reason = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (is the broker running on that port?)".to_owned()
                }
                _ if reason.contains("lookup") || reason.contains("resolve") || reason.contains("Name or service") => {
                    format!("unknown host {} ({reason})", c.hostname)
                }
                _ => reason,
            };
            Error::Connect { endpoint, reason }
        }
        // Something answered, but not in AMQP 0-9-1: a wrong port, a TLS port spoken to
        // without TLS (or the reverse), a proxy.
        (_, lapin::ErrorKind::ParsingError(_) | lapin::ErrorKind::InvalidProtocolVersion(_)) => Error::Connect {
            endpoint,
            reason: format!(
                "the server does not speak AMQP 0-9-1 on that port (wrong port, or TLS on one side only?): {reason}"
            ),
        },
        _ => Error::Connect { endpoint, reason },
    }
}

fn classify_channel_error(c: &Connection, queue: &str, action: String, e: lapin::Error) -> Error {
    let reason = c.mask(&e.to_string());
    if reply_code(&e).is_some() {
        Error::Queue { queue: queue.to_owned(), action, reason }
    } else {
        Error::Connection { endpoint: c.endpoint(), reason: format!("{action} on queue {queue}: {reason}") }
    }
}

/// How one session ended.
enum End {
    Stop,
    Recycle,
    Lost(String),
}

async fn run_loop<E, H>(
    settings: Arc<Settings>,
    handler: Arc<H>,
    mut session: Session,
    mut stop: watch::Receiver<bool>,
    reconnects: Arc<AtomicU64>,
) -> Result<(), Error>
where
    E: Event + Send + 'static,
    H: Handler<E>,
{
    // Handlers of every session: a broken connection does not wait for them (their
    // acknowledgements fail and the broker redelivers), stop() does.
    let mut running = JoinSet::new();
    loop {
        let end = consume::<E, H>(&settings, &handler, &mut session, &mut stop, &mut running).await;
        match &end {
            End::Stop | End::Recycle => {
                session.cancel().await;
                while running.join_next().await.is_some() {}
                session.close().await;
                if matches!(end, End::Stop) {
                    return Ok(());
                }
                tracing::debug!(queue = %settings.queue, "recycling the Pulse connection");
            }
            End::Lost(reason) => {
                tracing::warn!(queue = %settings.queue, %reason, "Pulse connection lost; reconnecting");
                session.close().await;
            }
        }
        session = match reconnect(&settings, &mut stop).await {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                while running.join_next().await.is_some() {}
                return Err(e);
            }
            None => {
                while running.join_next().await.is_some() {}
                return Ok(());
            }
        };
        reconnects.fetch_add(1, Ordering::Relaxed);
    }
}

/// Opens a new session with backoff. `None` when stopped meanwhile; an error only when the
/// broker refuses the login (anything else may heal: a restarting broker, a network
/// outage, a missing exchange).
async fn reconnect(settings: &Settings, stop: &mut watch::Receiver<bool>) -> Option<Result<Session, Error>> {
    for attempt in 0.. {
        if *stop.borrow() {
            return None;
        }
        let delay = RECONNECT.delay(attempt).unwrap_or(RECONNECT.max_delay);
        match Session::open(settings).await {
            Ok(s) => return Some(Ok(s)),
            Err(e @ Error::AccessRefused { .. }) => return Some(Err(e)),
            Err(e) => {
                tracing::warn!(queue = %settings.queue, error = %e, retry_in = ?delay, "Pulse reconnection failed")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return None,
        }
    }
    None
}

async fn consume<E, H>(
    settings: &Settings,
    handler: &Arc<H>,
    session: &mut Session,
    stop: &mut watch::Receiver<bool>,
    running: &mut JoinSet<()>,
) -> End
where
    E: Event + Send + 'static,
    H: Handler<E>,
{
    let recycle = async {
        match settings.recycle {
            Some(interval) => tokio::time::sleep(interval).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(recycle);
    loop {
        tokio::select! {
            biased;
            // A dropped handle (Err) stops the consumer too.
            _ = stop.changed() => return End::Stop,
            _ = &mut recycle => return End::Recycle,
            Some(_) = running.join_next(), if !running.is_empty() => {}
            delivery = session.consumer.next() => match delivery {
                Some(Ok(delivery)) => {
                    running.spawn(deliver::<E, H>(handler.clone(), delivery));
                }
                Some(Err(e)) => return End::Lost(settings.connection.mask(&e.to_string())),
                None => return End::Lost("the broker cancelled the consumer".into()),
            },
        }
    }
}

/// The CC'd routes of a message (header `CC`, an array of strings), without `route.`.
fn routes(properties: &lapin::BasicProperties) -> Vec<String> {
    let Some(AMQPValue::FieldArray(cc)) = properties.headers().as_ref().and_then(|h| h.inner().get("CC")) else {
        return Vec::new();
    };
    cc.as_slice()
        .iter()
        .filter_map(|v| match v {
            AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
            _ => None,
        })
        .map(|r| r.strip_prefix("route.").map(str::to_owned).unwrap_or(r))
        .collect()
}

/// Decodes one delivery, runs the handler, and acknowledges by its answer.
async fn deliver<E, H>(handler: Arc<H>, delivery: Delivery)
where
    E: Event,
    H: Handler<E>,
{
    let Delivery { exchange, routing_key, redelivered, properties, data, acker, .. } = delivery;
    let exchange = String::from(exchange);
    let routing_key = String::from(routing_key);
    let body = bytes::Bytes::from(data);
    let origin = format!("{exchange} {routing_key}");
    let input = match E::decode(&exchange, &routing_key, &body) {
        Some(Ok(event)) => Ok(Message { event, routes: routes(&properties), exchange, routing_key, redelivered }),
        Some(Err(e)) => Err(e),
        None => Err(EventError {
            exchange,
            routing_key,
            body,
            reason: "the consumer's event type has no variant for this exchange".into(),
        }),
    };
    // A panicking handler counts as a failed one; the consumer goes on.
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| handler.handle(input))) {
        Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await.unwrap_or_else(|_| Err("the handler panicked".into())),
        Err(_) => Err("the handler panicked".into()),
    };
    let acked = match outcome {
        Ok(()) => acker.ack(BasicAckOptions::default()).await,
        Err(reason) if !redelivered => {
            tracing::warn!(message = %origin, %reason, "handler failed; requeueing the message once");
            acker.nack(BasicNackOptions { requeue: true, multiple: false }).await
        }
        Err(reason) => {
            tracing::warn!(message = %origin, %reason, "handler failed on a redelivered message; rejecting it (dead-lettered if the queue has a dead-letter exchange, else dropped)");
            acker.reject(BasicRejectOptions { requeue: false }).await
        }
    };
    if let Err(e) = acked {
        // The channel is gone; the broker redelivers the message on another one.
        tracing::debug!(message = %origin, error = %e, "acknowledgement not sent");
    }
}
