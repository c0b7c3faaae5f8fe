//! Pulse exchanges: typed bindings and their routing-key patterns.
//!
//! The AMQP listener itself will live behind the `pulse` feature; bindings are plain data
//! and cost nothing without it.

use serde::de::DeserializeOwned;

use crate::error::Error;

/// A binding to one exchange: which exchange, which routing-key pattern, and what messages
/// arrive on it. Generated per exchange.
pub trait Binding {
    /// The message type published on the exchange.
    type Message: DeserializeOwned;

    /// The full exchange name (`exchangePrefix` + `exchange`).
    fn exchange(&self) -> &'static str;

    /// The routing-key pattern: constants as they are, given values as they are, a missing
    /// single word `*`, a missing multi-word element `#`.
    fn routing_key(&self) -> Result<String, Error>;
}

/// One element of a routing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingKeyPart<'a> {
    /// A constant element.
    Constant(&'a str),
    /// A single-word element (`name`, value): a value may not contain `.`.
    Word(&'a str, Option<&'a str>),
    /// A multi-word element (`name`, value).
    Words(&'a str, Option<&'a str>),
}

/// Joins routing-key parts into a binding pattern.
pub fn routing_key(parts: &[RoutingKeyPart<'_>]) -> Result<String, Error> {
    let mut words = Vec::with_capacity(parts.len());
    for part in parts {
        words.push(match *part {
            RoutingKeyPart::Constant(c) => c,
            RoutingKeyPart::Word(name, Some(v)) => {
                if v.contains('.') {
                    return Err(Error::InvalidInput(format!(
                        "routing-key element {name} is a single word, but {v:?} contains '.'"
                    )));
                }
                v
            }
            RoutingKeyPart::Word(_, None) => "*",
            RoutingKeyPart::Words(_, Some(v)) => v,
            RoutingKeyPart::Words(_, None) => "#",
        });
    }
    Ok(words.join("."))
}

/// `exchangePrefix` + `exchange`, with exactly one `/` between them.
pub fn exchange_name(prefix: &str, exchange: &str) -> String {
    format!("{}/{}", prefix.trim_end_matches('/'), exchange.trim_start_matches('/'))
}

/// The shape of one exchange's routing key, for reading the fields back out of a concrete key.
///
/// `Word`/`Words` carry the element's name (for error messages).
pub type RoutingKeySpec = [RoutingKeyPart<'static>];

/// Splits a concrete routing key (as a publisher sent it) into the values of its non-constant
/// elements, in reference order. Constants must match; a multi-word element takes every word
/// the single-word elements around it leave (at most one element is multi-word).
///
/// Returns `None` when the key does not fit the shape.
pub fn parse_routing_key(spec: &RoutingKeySpec, key: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = key.split('.').collect();
    let multi = spec.iter().position(|p| matches!(p, RoutingKeyPart::Words(..)));
    let fixed = spec.len() - usize::from(multi.is_some());
    if words.len() < fixed || (multi.is_none() && words.len() != fixed) {
        return None;
    }
    let mut values = Vec::with_capacity(spec.len());
    let mut w = 0;
    for (i, part) in spec.iter().enumerate() {
        match part {
            RoutingKeyPart::Constant(c) => {
                if words[w] != *c {
                    return None;
                }
                w += 1;
            }
            RoutingKeyPart::Word(..) => {
                values.push(words[w].to_owned());
                w += 1;
            }
            RoutingKeyPart::Words(..) => {
                // Everything up to the words the remaining single-word elements need.
                let rest = spec.len() - i - 1;
                let end = words.len() - rest;
                values.push(words[w..end].join("."));
                w = end;
            }
        }
    }
    Some(values)
}

/// A message that arrived on an exchange but could not be turned into a typed event: the
/// body is not JSON, does not match the exchange's schema, or the routing key does not fit the
/// exchange's routing-key shape. Carries everything needed to inspect or re-process it.
#[derive(Clone, PartialEq, Eq)]
pub struct EventError {
    /// The exchange the message came from.
    pub exchange: String,
    /// The routing key it was published with.
    pub routing_key: String,
    /// The raw body, as received.
    pub body: bytes::Bytes,
    /// What did not fit, with the JSON path where the body is at fault.
    pub reason: String,
}

impl std::fmt::Debug for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventError")
            .field("exchange", &self.exchange)
            .field("routing_key", &self.routing_key)
            .field("body_len", &self.body.len())
            .field("reason", &self.reason)
            .finish()
    }
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "message on {} with routing key {:?} ({} bytes) could not be decoded: {}",
            self.exchange,
            self.routing_key,
            self.body.len(),
            self.reason
        )
    }
}

impl std::error::Error for EventError {}

/// The typed messages of a set of exchanges: generated as one enum per service (`QueueEvent`,
/// ...) with a variant per exchange holding the parsed routing key and the decoded body.
///
/// Combine several services' events in one consumer with [`pulse_events!`](crate::pulse_events).
pub trait Event: Sized {
    /// Decodes a message from `exchange`. `None` when the exchange is not one of this type's;
    /// otherwise the typed event, or why it could not be decoded.
    fn decode(exchange: &str, routing_key: &str, body: &bytes::Bytes) -> Option<Result<Self, EventError>>;
}

/// Decodes one exchange's message: the routing key with `parse` (a generated
/// `from_routing_key`), the body as `T`. Unknown fields in the body are ignored.
pub fn decode_event<K, T: DeserializeOwned>(
    exchange: &str,
    routing_key: &str,
    body: &bytes::Bytes,
    parse: impl FnOnce(&str) -> Option<K>,
) -> Result<(K, T), EventError> {
    let fail = |reason: String| EventError {
        exchange: exchange.to_owned(),
        routing_key: routing_key.to_owned(),
        body: body.clone(),
        reason,
    };
    let key =
        parse(routing_key).ok_or_else(|| fail("routing key does not fit the exchange's routing-key shape".into()))?;
    let de = &mut serde_json::Deserializer::from_slice(body);
    let message = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            fail(inner.to_string())
        } else {
            fail(format!("at {path}: {inner}"))
        }
    })?;
    Ok((key, message))
}

/// Declares an enum over the events of several services, so that one consumer bound to
/// exchanges of several services stays typed:
///
/// ```ignore
/// apigen_runtime::pulse_events! {
///     /// What this listener handles.
///     pub enum MyEvents {
///         Queue(taskcluster_queue::exchanges::QueueEvent),
///         Github(taskcluster_github::exchanges::GithubEvent),
///     }
/// }
/// ```
#[macro_export]
macro_rules! pulse_events {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident($ty:ty)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis enum $name { $($variant($ty)),+ }

        impl $crate::Event for $name {
            fn decode(
                exchange: &str,
                routing_key: &str,
                body: &$crate::bytes::Bytes,
            ) -> Option<Result<Self, $crate::EventError>> {
                $(
                    if let Some(r) = <$ty as $crate::Event>::decode(exchange, routing_key, body) {
                        return Some(r.map($name::$variant));
                    }
                )+
                None
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &RoutingKeySpec = &[
        RoutingKeyPart::Constant("primary"),
        RoutingKeyPart::Word("taskId", None),
        RoutingKeyPart::Word("runId", None),
        RoutingKeyPart::Words("reserved", None),
    ];

    #[test]
    fn parses_single_and_multi_word_elements() {
        assert_eq!(parse_routing_key(TASK, "primary.abc.0._"), Some(vec!["abc".into(), "0".into(), "_".into()]));
        assert_eq!(
            parse_routing_key(TASK, "primary.abc.0.a.b.c"),
            Some(vec!["abc".into(), "0".into(), "a.b.c".into()])
        );
        assert_eq!(parse_routing_key(TASK, "primary.abc.0"), Some(vec!["abc".into(), "0".into(), String::new()]));
        assert_eq!(parse_routing_key(TASK, "route.abc.0._"), None);
        assert_eq!(parse_routing_key(TASK, "primary.abc"), None);
    }

    #[test]
    fn multi_word_element_in_the_middle() {
        let spec: &RoutingKeySpec =
            &[RoutingKeyPart::Word("a", None), RoutingKeyPart::Words("m", None), RoutingKeyPart::Word("z", None)];
        assert_eq!(parse_routing_key(spec, "1.x.y.2"), Some(vec!["1".into(), "x.y".into(), "2".into()]));
        let fixed: &RoutingKeySpec = &[RoutingKeyPart::Word("a", None), RoutingKeyPart::Word("b", None)];
        assert_eq!(parse_routing_key(fixed, "1.2.3"), None);
    }

    #[test]
    fn decode_errors_name_the_path_and_keep_the_body() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct M {
            status: S,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            runs: Vec<u32>,
        }
        let body = bytes::Bytes::from_static(br#"{"status":{"runs":["x"]},"extra":1}"#);
        let err = decode_event::<(), M>("ex", "primary.a", &body, |_| Some(())).unwrap_err();
        assert!(err.reason.starts_with("at status.runs[0]:"), "{}", err.reason);
        assert_eq!(err.body, body);
        let ok = bytes::Bytes::from_static(br#"{"status":{"runs":[1]},"extra":1}"#);
        assert!(decode_event::<(), M>("ex", "k", &ok, |_| Some(())).is_ok());
        let not_json = bytes::Bytes::from_static(b"\xff");
        assert!(decode_event::<(), M>("ex", "k", &not_json, |_| Some(())).is_err());
    }
}
