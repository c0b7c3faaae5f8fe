//! Downloads: the queue's answer per storage type, the object service's negotiation, and one
//! retrying transfer loop for all of them.

use std::io::ErrorKind;
use std::path::Path;

use apigen_runtime::Time;
use taskcluster_object::{
    DownloadObjectRequest, DownloadObjectRequestAcceptDownloadMethods, DownloadObjectResponse, Object,
    ObjectContentHashesForDownload,
};
use taskcluster_queue::ArtifactContentResponse;
use tokio::io::AsyncWriteExt as _;

use crate::dest::Restartable;
use crate::error::{display_url, ArtifactError};
use crate::hashing::{Digests, Wanted};
use crate::transfer::get_once;
use crate::Artifacts;

/// What a download delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The `Content-Type` the store sent.
    pub content_type: Option<String>,
    /// Bytes written to the destination.
    pub length: u64,
    /// Hex SHA-256 of the data, which matched the object service's. `None` when the service
    /// gave no SHA-256 (`s3` and `reference` artifacts come with no hashes at all): then none is
    /// computed.
    pub sha256: Option<String>,
    /// Hex SHA-512 of the data, which matched the object service's; `None` as for `sha256`.
    pub sha512: Option<String>,
}

/// Where the data is, and what it must hash to.
struct Target {
    url: String,
    /// Object downloads: the hashes to check (at least one must be known).
    hashes: Option<ObjectContentHashesForDownload>,
    /// `getUrl`: after this the URL is stale and negotiation must run again.
    expires: Option<Time>,
    /// Whether redirects are followed (everything but `getUrl`).
    follow: bool,
}

impl Artifacts {
    /// Downloads artifact `name` of `task_id` (run `run_id`, or the latest run) into `dest`.
    pub async fn download_artifact<W: Restartable>(
        &self,
        task_id: &str,
        run_id: Option<u64>,
        name: &str,
        dest: &mut W,
    ) -> Result<Downloaded, ArtifactError> {
        let queue = self.queue();
        let content = match run_id {
            Some(run) => queue.artifact(task_id, &run.to_string(), name).await?,
            None => queue.latest_artifact(task_id, name).await?,
        };
        match content {
            ArtifactContentResponse::Object(o) => {
                let object = self.object_service_as(&o.credentials)?;
                self.fetch_object(&object, &o.name, dest).await
            }
            ArtifactContentResponse::S3(s) => {
                self.fetch(None, Target { url: s.url, hashes: None, expires: None, follow: true }, dest).await
            }
            ArtifactContentResponse::Reference(r) => {
                self.fetch(None, Target { url: r.url, hashes: None, expires: None, follow: true }, dest).await
            }
            ArtifactContentResponse::Error(e) => Err(ArtifactError::ErrorArtifact {
                name: name.to_owned(),
                reason: serde_text(&e.reason),
                message: e.message,
            }),
            ArtifactContentResponse::Other(v) => Err(ArtifactError::Unsupported(format!(
                "artifact {name:?} has a storage type this client does not know: {}",
                v.get("storageType").unwrap_or(&serde_json::Value::Null)
            ))),
        }
    }

    /// Downloads an artifact into the file `path`. The data goes to a temporary file beside it,
    /// renamed over `path` only once complete and verified; on failure nothing is left behind.
    ///
    /// Like curl and Taskcluster's own clients, the file is not synced to disk: open it and call
    /// `sync_all` where it must survive a power loss.
    pub async fn download_artifact_to_file(
        &self,
        task_id: &str,
        run_id: Option<u64>,
        name: &str,
        path: impl AsRef<Path>,
    ) -> Result<Downloaded, ArtifactError> {
        let mut part = PartFile::beside(path.as_ref())?;
        let downloaded = self.download_artifact(task_id, run_id, name, &mut part.file).await?;
        part.commit(path.as_ref()).await?;
        Ok(downloaded)
    }

    /// Downloads object `name` with the client's own credentials into `dest`.
    pub async fn download_object<W: Restartable>(&self, name: &str, dest: &mut W) -> Result<Downloaded, ArtifactError> {
        self.fetch_object(&self.object_service(), name, dest).await
    }

    /// Downloads object `name` into the file `path` (see [`Self::download_artifact_to_file`]).
    pub async fn download_object_to_file(
        &self,
        name: &str,
        path: impl AsRef<Path>,
    ) -> Result<Downloaded, ArtifactError> {
        let mut part = PartFile::beside(path.as_ref())?;
        let downloaded = self.download_object(name, &mut part.file).await?;
        part.commit(path.as_ref()).await?;
        Ok(downloaded)
    }

    async fn fetch_object<W: Restartable>(
        &self,
        object: &Object,
        name: &str,
        dest: &mut W,
    ) -> Result<Downloaded, ArtifactError> {
        let target = negotiate(object, name).await?;
        self.fetch(Some((object, name)), target, dest).await
    }

    /// The transfer loop: GET into `dest`, starting over (destination rewound) after a retryable
    /// failure while the policy allows; a stale `getUrl` is renegotiated first.
    async fn fetch<W: Restartable>(
        &self,
        object: Option<(&Object, &str)>,
        mut target: Target,
        dest: &mut W,
    ) -> Result<Downloaded, ArtifactError> {
        let mut attempts = 0u32;
        loop {
            if let (true, Some(expires), Some((service, name))) = (attempts > 0, target.expires, object) {
                if expires <= Time::now() {
                    target = negotiate(service, name).await?;
                }
            }
            attempts += 1;
            let http = if target.follow { &self.following } else { &self.direct };
            let failure = match get_once(http, &target.url, wanted(&target), dest).await {
                Ok(fetched) => {
                    let Digests { length, sha256, sha512 } = fetched.digests;
                    let downloaded = Downloaded { content_type: fetched.content_type, length, sha256, sha512 };
                    if let Some(expected) = &target.hashes {
                        verify(&target.url, object.map_or("", |(_, n)| n), expected, &downloaded)?;
                    }
                    return Ok(downloaded);
                }
                Err(f) => f,
            };
            if !failure.retryable() || !self.back_off(attempts - 1).await {
                return Err(failure.into_error("GET", &target.url, attempts));
            }
            dest.restart().await.map_err(ArtifactError::Destination)?;
        }
    }
}

/// `startDownload`, accepting `getUrl` (preferred: it brings hashes) and `simple`. For `simple`
/// the hashes come from the object's metadata, so both methods are verified.
async fn negotiate(object: &Object, name: &str) -> Result<Target, ArtifactError> {
    let request = DownloadObjectRequest {
        accept_download_methods: DownloadObjectRequestAcceptDownloadMethods { get_url: Some(true), simple: Some(true) },
    };
    match object.start_download(name, &request).await? {
        DownloadObjectResponse::GetUrl(g) => {
            Ok(Target { url: g.url, hashes: Some(g.hashes), expires: Some(g.expires), follow: false })
        }
        DownloadObjectResponse::Simple(s) => {
            let hashes = object.object(name).await?.hashes;
            Ok(Target { url: s.url, hashes: Some(hashes), expires: None, follow: true })
        }
        DownloadObjectResponse::Other(v) => Err(ArtifactError::Unsupported(format!(
            "the object service chose a download method for {name:?} this client does not know: {}",
            v.get("method").unwrap_or(&serde_json::Value::Null)
        ))),
    }
}

/// The digests to compute: those the service gave to check against (Taskcluster's rule:
/// verify every hash whose algorithm is known, and at least one).
fn wanted(target: &Target) -> Wanted {
    target.hashes.as_ref().map_or(Wanted { sha256: false, sha512: false }, |h| Wanted {
        sha256: h.sha256.is_some(),
        sha512: h.sha512.is_some(),
    })
}

/// Checks every known hash the service gave; at least one must be there.
fn verify(
    url: &str,
    name: &str,
    expected: &ObjectContentHashesForDownload,
    got: &Downloaded,
) -> Result<(), ArtifactError> {
    let pairs = [("sha256", &expected.sha256, &got.sha256), ("sha512", &expected.sha512, &got.sha512)];
    let mut checked = 0;
    for (algorithm, want, have) in pairs {
        let Some(want) = want else { continue };
        let have = have.as_deref().unwrap_or("(not computed)");
        if !want.eq_ignore_ascii_case(have) {
            return Err(ArtifactError::HashMismatch {
                url: display_url(url),
                algorithm,
                expected: want.clone(),
                actual: have.to_owned(),
            });
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(ArtifactError::NoHashes { name: name.to_owned() });
    }
    Ok(())
}

/// A value's JSON text without quotes (for string enums with unknown values).
fn serde_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A download's temporary file beside its destination: renamed over the destination by
/// [`PartFile::commit`], deleted when dropped uncommitted (after any failure).
pub(crate) struct PartFile {
    temp: tempfile::NamedTempFile,
    pub(crate) file: tokio::fs::File,
}

impl PartFile {
    pub(crate) fn beside(path: &Path) -> Result<PartFile, ArtifactError> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // Checked first so that the message names what the caller gave, not the temporary file.
        std::fs::metadata(dir).map_err(|e| ArtifactError::file(dir, e))?;
        if path.is_dir() {
            return Err(ArtifactError::file(path, std::io::Error::new(ErrorKind::IsADirectory, "is a directory")));
        }
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!(".{file_name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".part");
        // As any new file (and curl's): readable as the umask allows, not tempfile's 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(dir).map_err(|e| ArtifactError::file(dir, e))?;
        let std_file = temp.as_file().try_clone().map_err(|e| ArtifactError::file(temp.path(), e))?;
        Ok(PartFile { temp, file: tokio::fs::File::from_std(std_file) })
    }

    pub(crate) async fn commit(mut self, path: &Path) -> Result<(), ArtifactError> {
        self.file.flush().await.map_err(|e| ArtifactError::file(self.temp.path(), e))?;
        drop(self.file);
        self.temp.persist(path).map_err(|e| ArtifactError::file(path, e.error))?;
        Ok(())
    }
}
