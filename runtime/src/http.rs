//! The HTTP stack: one `reqwest::Client` per process, shared by every [`crate::Client`] built
//! without [`crate::ClientBuilder::http_client`].
//!
//! TLS is rustls with the *ring* provider (no aws-lc or OpenSSL C build) and trusts what the
//! operating system trusts, through `rustls-platform-verifier` (the system store on Linux,
//! the platform verifier on macOS and Windows), so a deployment behind a corporate CA works
//! as it does in a browser. reqwest is built without a default crypto provider; the
//! configuration is handed to it ready-made, so nothing depends on a process-wide provider
//! being installed.

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

use crate::error::Error;

/// A rustls client configuration: *ring* crypto, TLS 1.2 and 1.3, the platform's trust roots.
pub fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let (provider, verifier) = platform_verifier()?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid(format!("cannot configure TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// The crypto provider and the certificate verifier of every client.
type Trust = (Arc<CryptoProvider>, Arc<rustls_platform_verifier::Verifier>);

/// The *ring* provider and the platform verifier, made once per process: on Linux the verifier
/// reads and parses the system's trust store, about 7 ms that every client built after the first
/// (a store transfer's own clients, a client with other credentials) would pay again.
fn platform_verifier() -> Result<Trust, Error> {
    static MADE: OnceLock<Result<Trust, String>> = OnceLock::new();
    MADE.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| format!("cannot load the platform's TLS trust roots: {e}"))?;
        Ok((provider, Arc::new(verifier)))
    })
    .clone()
    .map_err(Error::invalid)
}

/// A `reqwest::ClientBuilder` with this runtime's TLS configuration that does not follow
/// redirects (Taskcluster's artifact endpoints answer 303 and the caller wants that answer).
/// Start here to build a custom client for [`crate::ClientBuilder::http_client`] (proxies,
/// extra settings).
pub fn client_builder() -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls_config()?).redirect(reqwest::redirect::Policy::none()))
}

/// The process's shared HTTP client, built on first use. Clones share one connection pool.
pub(crate) fn shared_client() -> Result<reqwest::Client, Error> {
    static SHARED: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            client_builder()
                .map_err(|e| e.to_string())?
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
        })
        .clone()
        .map_err(Error::invalid)
}
