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
