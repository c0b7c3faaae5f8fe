//! Uploads: `createArtifact` → `createUpload` (`dataInline` or `putUrl`) → PUT → `finishUpload`
//! → `finishArtifact`.

use std::fmt;
use std::path::PathBuf;

use apigen_runtime::{slug, Time};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH};
use taskcluster_object::{
    CreateUploadRequest, CreateUploadRequestProposedUploadMethods, DataInlineUploadRequest, FinishUploadRequest,
    Object, ObjectContentHashes, PutUrlUploadRequest, PutUrlUploadResponse,
};
use taskcluster_queue::{FinishArtifactRequest, ObjectArtifactRequest, PostArtifactRequest, PostArtifactResponse};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};

use crate::error::ArtifactError;
use crate::hashing::{hash_slice, BackgroundHasher, ContentHashes, Wanted};
use crate::transfer::{status_failure, Failure};
use crate::Artifacts;

/// The largest payload sent inline in `createUpload` (the object service's limit, decoded).
pub const DATA_INLINE_MAX: usize = 8192;

/// Read size for hashing, spooling and sending files.
const CHUNK: usize = 1 << 20;

/// What to upload.
pub enum UploadSource {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A file, read twice (hashed, then sent), never held in memory.
    File(PathBuf),
    /// Any reader. Its data is spooled to a temporary file first (hashing it on the way), so the
    /// upload knows its length and can be retried from the start.
    Reader(Box<dyn AsyncRead + Unpin + Send>),
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            UploadSource::File(p) => f.debug_tuple("File").field(p).finish(),
            UploadSource::Reader(_) => f.write_str("Reader"),
        }
    }
}

impl UploadSource {
    /// Bytes in memory.
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        UploadSource::Bytes(data.into())
    }

    /// A file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        UploadSource::File(path.into())
    }

    /// Any reader.
    pub fn reader(reader: impl AsyncRead + Unpin + Send + 'static) -> Self {
        UploadSource::Reader(Box::new(reader))
    }

    /// Makes the data ready to send any number of times: its length known, its hashes known or
    /// (for a file) being computed on a blocking thread while the upload proceeds.
    async fn prepare(self) -> Result<Prepared, ArtifactError> {
        match self {
            UploadSource::Bytes(data) => {
                let hashes = hash_slice(&data);
                Ok(Prepared { data: Data::Bytes(data), length: hashes.length, hashes: Hashes::Ready(hashes) })
            }
            UploadSource::File(path) => {
                // Everything that can be wrong with the file is found here, before
                // `createArtifact` leaves an unfinished artifact behind.
                let meta = tokio::fs::metadata(&path).await.map_err(|e| ArtifactError::file(&path, e))?;
                if meta.is_dir() {
                    let e = std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory, not a file");
                    return Err(ArtifactError::file(&path, e));
                }
                tokio::fs::File::open(&path).await.map_err(|e| ArtifactError::file(&path, e))?;
                let hashing = tokio::task::spawn_blocking({
                    let path = path.clone();
                    move || hash_file(&path)
                });
                Ok(Prepared { data: Data::File(path), length: meta.len(), hashes: Hashes::Running(hashing) })
            }
            UploadSource::Reader(reader) => {
                let temp = tempfile::NamedTempFile::new().map_err(|e| ArtifactError::file(std::env::temp_dir(), e))?;
                let spool = temp.as_file().try_clone().map_err(|e| ArtifactError::file(temp.path(), e))?;
                let mut spool = tokio::fs::File::from_std(spool);
                let hashes = hash_reader(reader, &mut spool).await.map_err(|e| ArtifactError::file(temp.path(), e))?;
                spool.flush().await.map_err(|e| ArtifactError::file(temp.path(), e))?;
                Ok(Prepared { data: Data::Spooled(temp), length: hashes.length, hashes: Hashes::Ready(hashes) })
            }
        }
    }
}

/// Hashes a file with plain blocking reads (on a blocking thread: no trip per read), the
/// digests computed on two more threads while the next piece is read.
fn hash_file(path: &std::path::Path) -> std::io::Result<ContentHashes> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = BackgroundHasher::start(Wanted::BOTH);
    loop {
        let mut piece = BytesMut::zeroed(CHUNK);
        let n = file.read(&mut piece)?;
        if n == 0 {
            return hasher.blocking_finish()?.both();
        }
        piece.truncate(n);
        hasher.blocking_update(piece.freeze());
    }
}

/// Reads `reader` to the end, copying it to `copy` and hashing it on the way.
async fn hash_reader(mut reader: impl AsyncRead + Unpin, copy: &mut tokio::fs::File) -> std::io::Result<ContentHashes> {
    let mut hasher = BackgroundHasher::start(Wanted::BOTH);
    loop {
        let mut piece = BytesMut::with_capacity(CHUNK);
        while piece.len() < CHUNK {
            if reader.read_buf(&mut piece).await? == 0 {
                break;
            }
        }
        if piece.is_empty() {
            return hasher.finish().await?.both();
        }
        let piece = piece.freeze();
        hasher.update(piece.clone()).await;
        copy.write_all(&piece).await?;
    }
}

enum Data {
    Bytes(Bytes),
    File(PathBuf),
    /// A reader's data in a temporary file (deleted on drop).
    Spooled(tempfile::NamedTempFile),
}

/// The hashes of the data: known, or still being computed.
enum Hashes {
    Ready(ContentHashes),
    Running(tokio::task::JoinHandle<std::io::Result<ContentHashes>>),
}

struct Prepared {
    data: Data,
    length: u64,
    hashes: Hashes,
}

impl Prepared {
    /// The hashes, waiting for them if need be; a file that changed length meanwhile is an error.
    async fn hashes(&mut self) -> Result<ContentHashes, ArtifactError> {
        let path = match &self.data {
            Data::File(p) => p.clone(),
            _ => PathBuf::new(),
        };
        let hashes = match &mut self.hashes {
            Hashes::Ready(h) => h.clone(),
            Hashes::Running(task) => {
                let done = task.await.map_err(|e| ArtifactError::file(&path, std::io::Error::other(e)))?;
                done.map_err(|e| ArtifactError::file(&path, e))?
            }
        };
        if hashes.length != self.length {
            let msg = format!("the file changed during the upload ({} bytes, then {})", self.length, hashes.length);
            return Err(ArtifactError::file(path, std::io::Error::other(msg)));
        }
        self.hashes = Hashes::Ready(hashes.clone());
        Ok(hashes)
    }

    /// A fresh request body for one attempt.
    async fn body(&self) -> Result<reqwest::Body, ArtifactError> {
        let path = match &self.data {
            Data::Bytes(b) => return Ok(reqwest::Body::from(b.clone())),
            Data::File(p) => p.as_path(),
            Data::Spooled(t) => t.path(),
        };
        let file = tokio::fs::File::open(path).await.map_err(|e| ArtifactError::file(path, e))?;
        Ok(reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, CHUNK)))
    }

    /// The data, if small enough to go inline.
    async fn inline(&self) -> Result<Option<Vec<u8>>, ArtifactError> {
        if self.length > DATA_INLINE_MAX as u64 {
            return Ok(None);
        }
        let path = match &self.data {
            Data::Bytes(b) => return Ok(Some(b.to_vec())),
            Data::File(p) => p.as_path(),
            Data::Spooled(t) => t.path(),
        };
        tokio::fs::read(path).await.map(Some).map_err(|e| ArtifactError::file(path, e))
    }
}

/// What an upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The object's name on the object service.
    pub object_name: String,
    /// The upload method the service chose: `dataInline` or `putUrl`.
    pub method: &'static str,
    /// Length and hashes of the data, as sent to `finishUpload`.
    pub hashes: ContentHashes,
}

impl Artifacts {
    /// Uploads `source` as the `object` artifact `name` of run `run_id` of `task_id`, with
    /// `content_type` (e.g. `application/octet-stream`), expiring at `expires`.
    pub async fn upload_artifact(
        &self,
        task_id: &str,
        run_id: u64,
        name: &str,
        source: UploadSource,
        content_type: &str,
        expires: Time,
    ) -> Result<Uploaded, ArtifactError> {
        let mut prepared = source.prepare().await?;
        let queue = self.queue();
        let run = run_id.to_string();
        let request = PostArtifactRequest::Object(ObjectArtifactRequest {
            content_length: Some(prepared.length),
            content_type: content_type.to_owned(),
            expires,
        });
        let PostArtifactResponse::Object(created) = queue.create_artifact(task_id, &run, name, &request).await? else {
            return Err(ArtifactError::Unsupported(format!(
                "createArtifact of {name:?} did not answer with an object artifact"
            )));
        };
        let object = self.object_service_as(&created.credentials)?;
        let upload = ObjectUpload {
            name: &created.name,
            project_id: &created.project_id,
            upload_id: &created.upload_id,
            expires: created.expires,
            content_type,
        };
        let (method, hashes) = self.send_object(&object, &upload, &mut prepared).await?;
        let finish = FinishArtifactRequest { upload_id: created.upload_id.clone() };
        queue.finish_artifact(task_id, &run, name, &finish).await?;
        Ok(Uploaded { object_name: created.name, method, hashes })
    }

    /// Uploads `source` as object `name` of `project_id` with the client's own credentials
    /// (which need `object:upload:<projectId>:<name>`).
    pub async fn upload_object(
        &self,
        name: &str,
        project_id: &str,
        source: UploadSource,
        content_type: &str,
        expires: Time,
    ) -> Result<Uploaded, ArtifactError> {
        let mut prepared = source.prepare().await?;
        let upload_id = slug::nice();
        let upload = ObjectUpload { name, project_id, upload_id: &upload_id, expires, content_type };
        let (method, hashes) = self.send_object(&self.object_service(), &upload, &mut prepared).await?;
        Ok(Uploaded { object_name: name.to_owned(), method, hashes })
    }

    /// `createUpload` (inline when small, else `putUrl`), the PUT, and `finishUpload`.
    async fn send_object(
        &self,
        object: &Object,
        upload: &ObjectUpload<'_>,
        data: &mut Prepared,
    ) -> Result<(&'static str, ContentHashes), ArtifactError> {
        let mut method = None;
        if let Some(bytes) = data.inline().await? {
            let inline = DataInlineUploadRequest {
                content_type: upload.content_type.to_owned(),
                object_data: STANDARD.encode(bytes),
            };
            let methods = CreateUploadRequestProposedUploadMethods { data_inline: Some(inline), put_url: None };
            let answer = object.create_upload(upload.name, &upload.request(methods)).await?;
            if answer.upload_method.data_inline == Some(true) {
                method = Some("dataInline");
            }
        }
        if method.is_none() {
            self.put(object, upload, data).await?;
            method = Some("putUrl");
        }
        let content_hashes = data.hashes().await?;
        let hashes = ObjectContentHashes {
            sha256: Some(content_hashes.sha256.clone()),
            sha512: Some(content_hashes.sha512.clone()),
            extra: Default::default(),
        };
        let finish = FinishUploadRequest {
            hashes: Some(hashes),
            project_id: upload.project_id.to_owned(),
            upload_id: upload.upload_id.to_owned(),
        };
        object.finish_upload(upload.name, &finish).await?;
        Ok((method.unwrap_or("putUrl"), content_hashes))
    }

    /// Negotiates a `putUrl` and PUTs the data there, starting over after a retryable failure
    /// (renegotiating once the URL has expired).
    async fn put(&self, object: &Object, upload: &ObjectUpload<'_>, data: &Prepared) -> Result<(), ArtifactError> {
        let mut target = negotiate_put(object, upload, data).await?;
        let mut attempts = 0u32;
        loop {
            if attempts > 0 && target.expires <= Time::now() {
                target = negotiate_put(object, upload, data).await?;
            }
            attempts += 1;
            let headers = put_headers(&target, data.length)?;
            let sent = self.direct.put(&target.url).headers(headers).body(data.body().await?).send().await;
            let failure = match sent {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) => status_failure(resp).await,
                Err(e) => Failure::transport(&e),
            };
            if !failure.retryable() || !self.back_off(attempts - 1).await {
                return Err(failure.into_error("PUT", &target.url, attempts));
            }
        }
    }
}

/// The fixed parts of one object upload.
struct ObjectUpload<'a> {
    name: &'a str,
    project_id: &'a str,
    upload_id: &'a str,
    expires: Time,
    content_type: &'a str,
}

impl ObjectUpload<'_> {
    fn request(&self, methods: CreateUploadRequestProposedUploadMethods) -> CreateUploadRequest {
        CreateUploadRequest {
            expires: self.expires,
            hashes: None,
            project_id: self.project_id.to_owned(),
            proposed_upload_methods: methods,
            upload_id: self.upload_id.to_owned(),
        }
    }
}

async fn negotiate_put(
    object: &Object,
    upload: &ObjectUpload<'_>,
    data: &Prepared,
) -> Result<PutUrlUploadResponse, ArtifactError> {
    let length = i64::try_from(data.length)
        .map_err(|_| ArtifactError::Unsupported("the upload is too large to describe".into()))?;
    let put = PutUrlUploadRequest { content_length: length, content_type: upload.content_type.to_owned() };
    let methods = CreateUploadRequestProposedUploadMethods { data_inline: None, put_url: Some(put) };
    let answer = object.create_upload(upload.name, &upload.request(methods)).await?;
    answer.upload_method.put_url.ok_or_else(|| {
        ArtifactError::Unsupported(format!("the object service accepted no upload method for {:?}", upload.name))
    })
}

/// The headers the service requires on the PUT, verbatim; `Content-Length` is always sent, and
/// must agree with the data when the service names it.
fn put_headers(target: &PutUrlUploadResponse, length: u64) -> Result<HeaderMap, ArtifactError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &target.headers {
        let bad = || ArtifactError::Unsupported(format!("the object service asked for an invalid header {name:?}"));
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value).map_err(|_| bad())?;
        if name == CONTENT_LENGTH && value.to_str().ok() != Some(length.to_string().as_str()) {
            return Err(ArtifactError::Unsupported(format!(
                "the object service asked for Content-Length {value:?}, but the data is {length} bytes"
            )));
        }
        headers.insert(name, value);
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    Ok(headers)
}
