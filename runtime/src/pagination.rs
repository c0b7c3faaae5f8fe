//! Following Taskcluster's `continuationToken` across pages.

use std::future::Future;

use futures_util::Stream;

use crate::error::Error;

/// A response page that may point at the next one.
pub trait Paginated {
    /// The token for the next page, if there is one.
    fn continuation_token(&self) -> Option<&str>;
}

/// A stream of pages: calls `fetch(None)`, then `fetch(Some(token))` with each page's
/// continuation token until a page has none. Stops at the first error (which it yields).
pub fn pages<T, F, Fut>(fetch: F) -> impl Stream<Item = Result<T, Error>>
where
    T: Paginated,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    futures_util::stream::try_unfold((fetch, Some(None::<String>)), |(mut fetch, state)| async move {
        let Some(token) = state else { return Ok(None) };
        let page = fetch(token).await?;
        let next = page.continuation_token().map(|t| Some(t.to_owned()));
        Ok(Some((page, (fetch, next))))
    })
}
