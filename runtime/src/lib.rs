//! The runtime of the generated Taskcluster and GoCD clients.
//!
//! Generated crates build [`Request`]s and hand them to a [`Client`], which signs them
//! (Taskcluster's Hawk scheme, or basic/bearer auth for GoCD), retries transport errors and
//! 5xx answers with exponential backoff, and maps failures to one typed [`Error`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), apigen_runtime::Error> {
//! use apigen_runtime::{Client, Credentials};
//! let client = Client::builder("https://tc.example.com")
//!     .credentials(Credentials::new("my-client", "my-token"))
//!     .build()?;
//! let ping = client.raw(reqwest::Method::GET, "queue", "v1", "ping", &[], None).await?;
//! assert_eq!(ping.status, 200);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod config;
mod credentials;
pub mod endpoint;
mod error;
pub mod gocd;
pub mod hawk;
pub mod http;
mod json;
mod pagination;
#[cfg(feature = "pulse")]
pub mod pulse;
mod retry;
mod routing;
pub mod slug;
mod time;
pub mod urls;

pub use client::{root_url_from_env, Auth, Body, Client, ClientBuilder, Request, Response};
pub use credentials::{Certificate, Credentials, MAX_TEMPORARY_DURATION};
pub use error::{CallSummary, Error, FieldError};
pub use gocd::Upload;
pub use gocd::{HalCollection, Link, Links, Versioned};
pub use json::json_object;
pub use pagination::{pages, Paginated};
pub use retry::{RetryMethods, RetryPolicy};
pub use routing::{
    decode_event, exchange_name, parse_routing_key, routing_key, routing_key_pattern, Binding, Event, EventError,
    RoutingKeyPart, RoutingKeySpec,
};
pub use time::Time;

/// Re-exported so generated crates and their users name the same versions.
pub use {bytes, futures_util, reqwest, serde, serde_json, tokio};
