//! Fake servers on loopback for end-to-end tests of the generated clients.
//!
//! [`taskcluster::TaskclusterServer`] checks Hawk signatures, temporary credentials,
//! `authorizedScopes` and bewits the way the Taskcluster auth service does, with its own
//! HMAC-SHA256 (the `hmac` and `sha2` crates), independently of the runtime under test.

#![warn(missing_docs)]

pub mod taskcluster;
