//! What can go wrong moving artifact data.

use std::path::PathBuf;

/// An artifact or object transfer failed.
///
/// URLs in messages are shown without their query: pre-signed store URLs carry their
/// credentials there.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// A queue or object service call failed.
    #[error(transparent)]
    Api(#[from] apigen_runtime::Error),

    /// The artifact is an `error` artifact: the task said why it has no data.
    #[error("artifact {name:?} is an error artifact: {reason}: {message}")]
    ErrorArtifact {
        /// The artifact name.
        name: String,
        /// Why the artifact has no data (`file-missing-on-worker`, ...).
        reason: String,
        /// The task's explanation.
        message: String,
    },

    /// The service answered with something this client cannot follow (an unknown storage type
    /// or download method, no acceptable upload method).
    #[error("{0}")]
    Unsupported(String),

    /// Moving the data to or from the store failed (after the retries the policy allows).
    #[error("{method} {url} ({attempts} attempt{}): {}{problem}{}", if *attempts == 1 { "" } else { "s" }, status.map(|s| format!("HTTP {s}: ")).unwrap_or_default(), body.as_deref().map(|b| format!("; body starts {b:?}")).unwrap_or_default())]
    Transfer {
        /// HTTP method.
        method: &'static str,
        /// The URL, without query.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last HTTP status, when there was one.
        status: Option<u16>,
        /// What went wrong on the last attempt.
        problem: String,
        /// The start of the last error body.
        body: Option<String>,
    },

    /// The downloaded data does not match the hash the service recorded for it.
    #[error("{url}: downloaded data does not match its {algorithm} hash: expected {expected}, got {actual}")]
    HashMismatch {
        /// The URL, without query.
        url: String,
        /// `sha256` or `sha512`.
        algorithm: &'static str,
        /// The service's hash.
        expected: String,
        /// The hash of the data received.
        actual: String,
    },

    /// The service gave no hash this client can verify (`sha256` or `sha512`), so the data
    /// cannot be trusted.
    #[error("object {name:?} has no sha256 or sha512 hash to verify the download against")]
    NoHashes {
        /// The object name.
        name: String,
    },

    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },

    /// Writing to the destination failed, or it could not be rewound for a retry.
    #[error("cannot write the download to its destination: {0}")]
    Destination(#[source] std::io::Error),
}

impl ArtifactError {
    pub(crate) fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ArtifactError::File { path: path.into(), source }
    }
}

/// A URL as shown in messages: without query (signatures) and user info.
pub(crate) fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or("").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_signatures() {
        assert_eq!(display_url("https://u:p@s3.example/b/k?X-Amz-Signature=abc"), "https://s3.example/b/k");
        assert_eq!(display_url("not a url?sig=1"), "not a url");
    }

    #[test]
    fn transfer_errors_read_as_one_line() {
        let e = ArtifactError::Transfer {
            method: "GET",
            url: "http://127.0.0.1:1/k".into(),
            attempts: 3,
            status: Some(503),
            problem: "server error".into(),
            body: Some("busy".into()),
        };
        assert_eq!(
            e.to_string(),
            "GET http://127.0.0.1:1/k (3 attempts): HTTP 503: server error; body starts \"busy\""
        );
    }
}
