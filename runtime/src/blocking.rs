//! Blocking calls for programs without an async runtime (feature `blocking`).
//!
//! Every generated crate's `blocking` module wraps its async client and runs each call here.
//! All blocking clients share one current-thread tokio runtime, created on first use: clients
//! cloned from one [`crate::Client`] share its connection pool, and a pooled connection is
//! driven by the runtime that opened it, so one runtime per blocking client could leave a
//! call waiting on a connection whose runtime nobody drives.

use std::future::Future;
use std::sync::OnceLock;

use futures_util::{Stream, StreamExt};

use crate::Error;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Runs one call to completion on the shared runtime.
///
/// Called from inside an async runtime (where blocking would stall it) it returns
/// [`Error::InvalidInput`] instead: use the async client there.
pub fn block_on<T>(call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::InvalidInput(
            "a blocking client was called from inside an async runtime; use the async client there".into(),
        ));
    }
    let runtime = RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string()));
    match runtime {
        Ok(rt) => rt.block_on(call),
        Err(e) => Err(Error::InvalidInput(format!("cannot start the runtime of the blocking clients: {e}"))),
    }
}

/// The items of a stream of pages, each fetched when the iterator is advanced.
pub fn iter<'a, T: 'a>(
    pages: impl Stream<Item = Result<T, Error>> + 'a,
) -> impl Iterator<Item = Result<T, Error>> + 'a {
    let mut pages = Box::pin(pages);
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match block_on(async { Ok(pages.next().await) }) {
            Ok(item) => {
                done = item.is_none();
                item
            }
            // The runtime could not run: report it once and stop.
            Err(e) => {
                done = true;
                Some(Err(e))
            }
        }
    })
}
