//! Fake servers on loopback for end-to-end tests of the generated clients.
//!
//! [`taskcluster::TaskclusterServer`] checks Hawk signatures, temporary credentials,
//! `authorizedScopes` and bewits the way the Taskcluster auth service does, with its own
//! HMAC-SHA256 (the `hmac` and `sha2` crates), independently of the runtime under test.
//!
//! [`gocd::GoCdServer`] replays the documented GoCD examples of `tests/gocd/examples`, checking
//! each request against the documentation, with GoCD's basic auth and session cookie.
//!
//! Both are a state and a per-request handler on the shared plumbing of [`loopback`].

#![warn(missing_docs)]

pub mod gocd;
pub mod loopback;
pub mod process;
pub mod shared;
pub mod store;
pub mod taskcluster;
