//! Taskcluster artifact and object transfers, on the generated `taskcluster-queue` and
//! `taskcluster-object` clients.
//!
//! - **Download** an artifact (latest run or a given run) or an object: the queue's answer is
//!   followed for each storage type (`object` through the object service's `startDownload`
//!   negotiation, `getUrl` or `simple`; `s3` and `reference` by their URL; `link`s are resolved by
//!   the queue; `error` becomes [`ArtifactError::ErrorArtifact`]). Data streams to any
//!   [`Restartable`] writer or to a file (written to a temporary sibling and renamed, so no
//!   partial file is ever left at the destination). A failed transfer starts over, with the
//!   client's [`RetryPolicy`](apigen_runtime::RetryPolicy); object data is checked against every
//!   hash the service gives (sha256, sha512), and only those digests are computed.
//! - **Upload** bytes, a file or any reader as an `object` artifact: `createArtifact`, then the
//!   object service's `createUpload` (`dataInline` up to 8 KiB, else `putUrl`), the PUT (retried
//!   from the start), `finishUpload` with both hashes, and `finishArtifact`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), taskcluster_artifacts::ArtifactError> {
//! use apigen_runtime::{Client, Time};
//! use taskcluster_artifacts::{Artifacts, UploadSource};
//!
//! let client = Client::from_env()?;
//! let artifacts = Artifacts::new(&client)?;
//! let expires = Time::from_now("1 day")?;
//! artifacts
//!     .upload_artifact("fN1SbArXTPSVFNUvaOlinQ", 0, "public/build.tar.gz",
//!                      UploadSource::file("build.tar.gz"), "application/gzip", expires)
//!     .await?;
//! let got = artifacts.download_artifact_to_file("fN1SbArXTPSVFNUvaOlinQ", None, "public/build.tar.gz", "copy.tar.gz").await?;
//! println!("{} bytes, sha256 {:?}", got.length, got.sha256);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod dest;
mod download;
mod error;
mod hashing;
mod transfer;
mod upload;

use std::time::Duration;

use apigen_runtime::{Client, Credentials};
use taskcluster_queue::ObjectCredentials;

pub use dest::{Restartable, Unrewindable};
pub use download::Downloaded;
pub use error::ArtifactError;
pub use hashing::ContentHashes;
pub use upload::{UploadSource, Uploaded, DATA_INLINE_MAX};

/// Moves artifact and object data. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Artifacts {
    client: Client,
    /// For store URLs that may redirect (`simple` downloads, `s3` and `reference` artifacts).
    following: reqwest::Client,
    /// For `getUrl` downloads and `putUrl` uploads, which must not be redirected.
    direct: reqwest::Client,
}

/// How long a store transfer may sit without receiving anything before it counts as failed.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

impl Artifacts {
    /// Transfers for the deployment and credentials of `client`, retried with its policy.
    pub fn new(client: &Client) -> Result<Self, ArtifactError> {
        let build = |redirects| {
            // The runtime's TLS setup (rustls with ring, the platform's roots): reqwest itself is
            // built without a crypto provider.
            apigen_runtime::http::client_builder()
                .map_err(|e| ArtifactError::Unsupported(e.to_string()))?
                .redirect(redirects)
                .connect_timeout(Duration::from_secs(30))
                .read_timeout(READ_TIMEOUT)
                .build()
                .map_err(|e| ArtifactError::Unsupported(format!("cannot build the HTTP client: {e}")))
        };
        Ok(Artifacts {
            client: client.clone(),
            following: build(reqwest::redirect::Policy::limited(10))?,
            direct: build(reqwest::redirect::Policy::none())?,
        })
    }

    fn queue(&self) -> taskcluster_queue::Queue {
        taskcluster_queue::Queue::new(&self.client)
    }

    /// The object service with the client's own credentials.
    fn object_service(&self) -> taskcluster_object::Object {
        taskcluster_object::Object::new(&self.client)
    }

    /// The object service with the temporary credentials the queue handed out.
    fn object_service_as(&self, creds: &ObjectCredentials) -> Result<taskcluster_object::Object, ArtifactError> {
        let mut credentials = Credentials::new(&creds.client_id, &creds.access_token);
        credentials.certificate = Some(creds.certificate.clone());
        Ok(taskcluster_object::Object::new(&self.client.with_credentials(credentials)?))
    }

    /// Sleeps before retry `n` (0-based); `false` when the policy allows no more retries.
    async fn back_off(&self, n: u32) -> bool {
        match self.client.retry_policy().delay(n) {
            Some(d) => {
                tokio::time::sleep(d).await;
                true
            }
            None => false,
        }
    }
}
