//! When to retry and how long to wait in between.

use std::time::Duration;

use reqwest::Method;

/// Which methods may be retried after a transport error or a 5xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMethods {
    /// Every method: Taskcluster's APIs are idempotent.
    All,
    /// GET, HEAD, PUT, DELETE only: a repeated POST to GoCD schedules a pipeline twice.
    Idempotent,
}

/// Exponential backoff with jitter: the wait before retry `n` (0-based) is
/// `delay_factor × 2^n`, randomized by ± `randomization_factor`, capped at `max_delay`.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `retries + 1` requests).
    pub retries: u32,
    /// The base delay.
    pub delay_factor: Duration,
    /// Jitter as a fraction of the delay (0.25 = ±25 %).
    pub randomization_factor: f64,
    /// The longest wait.
    pub max_delay: Duration,
    /// Which methods are retried.
    pub methods: RetryMethods,
}

impl Default for RetryPolicy {
    /// Taskcluster's defaults: 5 retries, 100 ms × 2^n, ±25 %, at most 30 s, every method.
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            delay_factor: Duration::from_millis(100),
            randomization_factor: 0.25,
            max_delay: Duration::from_secs(30),
            methods: RetryMethods::All,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { retries: 0, ..Self::default() }
    }

    /// The wait before retry `n` (0-based) without jitter, or `None` when retries are exhausted.
    pub fn base_delay(&self, n: u32) -> Option<Duration> {
        if n >= self.retries {
            return None;
        }
        let factor = 2u32.checked_pow(n).unwrap_or(u32::MAX);
        Some(self.delay_factor.saturating_mul(factor).min(self.max_delay))
    }

    /// The wait before retry `n`, with jitter, or `None` when retries are exhausted.
    pub fn delay(&self, n: u32) -> Option<Duration> {
        let base = self.base_delay(n)?;
        let jitter = 1.0 + self.randomization_factor * (fastrand::f64() * 2.0 - 1.0);
        Some(base.mul_f64(jitter.max(0.0)).min(self.max_delay))
    }

    /// Whether a request with `method` may be retried.
    pub fn allows(&self, method: &Method) -> bool {
        match self.methods {
            RetryMethods::All => true,
            RetryMethods::Idempotent => {
                matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE)
            }
        }
    }
}

/// Whether retrying after this transport error could help. A request reqwest cannot even build
/// (a URL it refuses, a bad header) fails the same way every time, so it is not retried.
pub(crate) fn may_succeed_later(e: &reqwest::Error) -> bool {
    !e.is_builder()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_reqwest_cannot_build_are_not_retried() {
        // reqwest refuses the scheme before any I/O: a builder error.
        // reqwest is built without a crypto provider: start from the runtime's TLS setup.
        let http = crate::http::client_builder().unwrap().build().unwrap();
        let err = http.get("htp://127.0.0.1:9/").send().await.unwrap_err();
        assert!(err.is_builder(), "{err:?}");
        assert!(!may_succeed_later(&err));
        // A refused connection may succeed later. Port 9 (discard) on loopback is closed here;
        // whatever the outcome, it is not a builder error.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = http.get(format!("http://{addr}/")).send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(may_succeed_later(&err));
    }
}
