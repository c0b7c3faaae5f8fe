//! Uploads and downloads end to end over loopback: the fake Taskcluster (queue artifacts and the
//! object service, checking Hawk, certificates and scopes) and a fake store that can fail.

use std::path::Path;
use std::time::Duration;

use apigen_runtime::{Client, Credentials, RetryPolicy, Time};
use fake_servers::store::{ObjectStore, StoreFault};
use fake_servers::taskcluster::artifacts::Artifacts as FakeArtifacts;
use fake_servers::taskcluster::TaskclusterServer;
use serde_json::json;
use sha2::Digest as _;
use taskcluster_artifacts::{ArtifactError, Artifacts, Unrewindable, UploadSource};

const TASK: &str = "fN1SbArXTPSVFNUvaOlinQ";
const RETRIES: u32 = 3;

struct World {
    server: TaskclusterServer,
    store: ObjectStore,
    fake: FakeArtifacts,
    artifacts: Artifacts,
    dir: tempfile::TempDir,
}

async fn world() -> World {
    let server = TaskclusterServer::start().await;
    let store = ObjectStore::start().await;
    let fake = server.serve_artifacts(&store);
    server.add_client("worker", "worker-secret", &["queue:create-artifact:*", "queue:get-artifact:*"]);
    let client = Client::builder(server.root_url())
        .credentials(Credentials::new("worker", "worker-secret"))
        .retry(RetryPolicy { retries: RETRIES, delay_factor: Duration::from_millis(2), ..Default::default() })
        .build()
        .unwrap();
    let artifacts = Artifacts::new(&client).unwrap();
    World { server, store, fake, artifacts, dir: tempfile::tempdir().unwrap() }
}

/// Deterministic incompressible-looking bytes (xorshift).
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn expires() -> Time {
    Time::from_now("1 day").unwrap()
}

fn hex_sha256(b: &[u8]) -> String {
    sha2::Sha256::digest(b).iter().map(|b| format!("{b:02x}")).collect()
}

/// The names in `dir`: a failed download must leave nothing behind, not even a `.part` file.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

impl World {
    async fn upload(&self, name: &str, bytes: &[u8]) -> taskcluster_artifacts::Uploaded {
        self.artifacts
            .upload_artifact(TASK, 0, name, UploadSource::bytes(bytes.to_vec()), "application/x-test", expires())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn ten_megabytes_round_trip_byte_for_byte_through_files() {
    let w = world().await;
    let original = data(10 * 1024 * 1024, 1);
    let source = w.dir.path().join("source.bin");
    std::fs::write(&source, &original).unwrap();

    let up = w
        .artifacts
        .upload_artifact(TASK, 0, "public/big.bin", UploadSource::file(&source), "application/x-test", expires())
        .await
        .unwrap();
    assert_eq!(up.method, "putUrl");
    assert_eq!(up.object_name, format!("t/{TASK}/0/public/big.bin"));
    assert_eq!(up.hashes.length, original.len() as u64);
    assert_eq!(up.hashes.sha256, hex_sha256(&original));

    // What the services recorded: hashes from finishUpload, a finished artifact, the data with
    // the announced type and length.
    let object = w.fake.object(&up.object_name).unwrap();
    assert!(object.finished);
    assert_eq!(object.hashes["sha256"], json!(hex_sha256(&original)));
    assert_eq!(object.hashes["sha512"].as_str().unwrap().len(), 128);
    assert!(w.fake.artifact(TASK, 0, "public/big.bin").unwrap().present);
    let (len, content_type) = w.store.describe(&object.key).unwrap();
    assert_eq!((len, content_type.as_deref()), (original.len() as u64, Some("application/x-test")));
    let create =
        w.server.requests().into_iter().find(|r| r.method == "POST" && r.path.contains("/artifacts/")).unwrap();
    assert_eq!(create.json().unwrap()["contentLength"], json!(original.len()));

    let target = w.dir.path().join("copy.bin");
    let got = w.artifacts.download_artifact_to_file(TASK, None, "public/big.bin", &target).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == original, "the download differs from the upload");
    assert_eq!(got.length, up.hashes.length);
    assert_eq!(got.sha256.as_deref(), Some(up.hashes.sha256.as_str()));
    assert_eq!(got.sha512.as_deref(), Some(up.hashes.sha512.as_str()));
    assert_eq!(got.content_type.as_deref(), Some("application/x-test"));
    assert_eq!(entries(w.dir.path()), ["copy.bin", "source.bin"]);

    // A given run, into memory.
    let mut buf = Vec::new();
    w.artifacts.download_artifact(TASK, Some(0), "public/big.bin", &mut buf).await.unwrap();
    assert!(buf == original);
}

#[tokio::test]
async fn small_data_goes_inline_and_readers_are_spooled() {
    let w = world().await;
    let small = data(100, 2);
    let up = w.upload("public/small.txt", &small).await;
    assert_eq!(up.method, "dataInline");
    assert_eq!(w.store.hits("PUT"), 0, "inline data never reaches the store from the client");
    let mut buf = Vec::new();
    w.artifacts.download_artifact(TASK, None, "public/small.txt", &mut buf).await.unwrap();
    assert_eq!(buf, small);

    let streamed = data(300_000, 3);
    let reader = std::io::Cursor::new(streamed.clone());
    let up = w
        .artifacts
        .upload_artifact(TASK, 0, "public/stream.bin", UploadSource::reader(reader), "application/x-test", expires())
        .await
        .unwrap();
    assert_eq!((up.method, up.hashes.length), ("putUrl", 300_000));
    let mut buf = Vec::new();
    w.artifacts.download_artifact(TASK, None, "public/stream.bin", &mut buf).await.unwrap();
    assert!(buf == streamed);
}

#[tokio::test]
async fn downloads_start_over_after_503_reset_and_truncation() {
    let w = world().await;
    let original = data(1_000_000, 4);
    w.upload("public/a.bin", &original).await;
    w.store.inject("GET", StoreFault::Status(503), 1);
    w.store.inject("GET", StoreFault::Reset, 1);
    w.store.inject("GET", StoreFault::Truncate, 1);
    let target = w.dir.path().join("a.bin");
    w.artifacts.download_artifact_to_file(TASK, None, "public/a.bin", &target).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == original);
    assert_eq!(w.store.hits("GET"), 4);
}

#[tokio::test]
async fn a_download_that_keeps_failing_names_the_call_and_leaves_no_file() {
    let w = world().await;
    w.upload("public/a.bin", &data(50_000, 5)).await;
    w.store.inject("GET", StoreFault::Status(503), RETRIES as usize + 1);
    let target = w.dir.path().join("a.bin");
    let err = w.artifacts.download_artifact_to_file(TASK, None, "public/a.bin", &target).await.unwrap_err();
    match &err {
        ArtifactError::Transfer { method, attempts, status, body, .. } => {
            assert_eq!((*method, *attempts, *status), ("GET", RETRIES + 1, Some(503)));
            assert_eq!(body.as_deref(), Some("injected HTTP 503"));
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.starts_with(&format!("GET {}", w.store.url("obj"))) && text.contains("4 attempts"), "{text}");
    assert!(entries(w.dir.path()).is_empty(), "{:?}", entries(w.dir.path()));

    // Truncated every time: the same, with the reason.
    w.store.inject("GET", StoreFault::Truncate, 100);
    let mut sink = Vec::new();
    let err = w.artifacts.download_artifact(TASK, None, "public/a.bin", &mut sink).await.unwrap_err();
    assert!(matches!(err, ArtifactError::Transfer { status: None, .. }), "{err}");
}

#[tokio::test]
async fn wrong_bytes_fail_the_hash_check_and_leave_no_file() {
    let w = world().await;
    let original = data(200_000, 6);
    let up = w.upload("public/a.bin", &original).await;
    w.store.inject("GET", StoreFault::WrongBytes, 1);
    let target = w.dir.path().join("a.bin");
    let err = w.artifacts.download_artifact_to_file(TASK, None, "public/a.bin", &target).await.unwrap_err();
    match &err {
        ArtifactError::HashMismatch { algorithm, expected, actual, .. } => {
            assert_eq!((*algorithm, expected), ("sha256", &up.hashes.sha256));
            assert_ne!(actual, expected);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("does not match its sha256 hash"), "{err}");
    assert!(entries(w.dir.path()).is_empty());
    assert_eq!(w.store.hits("GET"), 1, "a hash mismatch is not retried: the stored data is what it is");

    // The service knowing no hash at all is refused too.
    w.fake.set_hashes(&up.object_name, json!({}));
    let err = w.artifacts.download_artifact(TASK, None, "public/a.bin", &mut Vec::new()).await.unwrap_err();
    assert!(matches!(err, ArtifactError::NoHashes { .. }), "{err}");
}

#[tokio::test]
async fn uploads_start_over_after_503_reset_and_truncation() {
    let w = world().await;
    let original = data(2_000_000, 7);
    w.store.inject("PUT", StoreFault::Status(503), 1);
    w.store.inject("PUT", StoreFault::Reset, 1);
    w.store.inject("PUT", StoreFault::Truncate, 1);
    let up = w.upload("public/u.bin", &original).await;
    assert_eq!(w.store.hits("PUT"), 4);
    let object = w.fake.object(&up.object_name).unwrap();
    assert!(w.store.get(&object.key).unwrap() == original);

    // A store that keeps failing: the error names the PUT; the artifact stays unfinished.
    w.store.inject("PUT", StoreFault::Status(500), 100);
    let err = w
        .artifacts
        .upload_artifact(TASK, 0, "public/v.bin", UploadSource::bytes(original), "application/x-test", expires())
        .await
        .unwrap_err();
    assert!(matches!(err, ArtifactError::Transfer { method: "PUT", status: Some(500), .. }), "{err}");
    assert!(!err.to_string().contains('?'), "no query (signatures) in messages: {err}");
    assert!(!w.fake.artifact(TASK, 0, "public/v.bin").unwrap().present);
}

#[tokio::test]
async fn data_corrupted_in_the_store_is_caught_on_download() {
    let w = world().await;
    w.store.inject("PUT", StoreFault::WrongBytes, 1);
    w.upload("public/c.bin", &data(100_000, 8)).await;
    let err = w.artifacts.download_artifact(TASK, None, "public/c.bin", &mut Vec::new()).await.unwrap_err();
    assert!(matches!(err, ArtifactError::HashMismatch { .. }), "{err}");
}

#[tokio::test]
async fn every_storage_type_is_followed() {
    let w = world().await;
    let original = data(20_000, 9);
    w.store.insert("plain", "text/plain", &original);
    let e = expires().to_string();
    w.fake.put(
        TASK,
        0,
        "public/ref",
        json!({"storageType": "reference", "url": w.store.url("plain"), "expires": e, "contentType": "text/plain"}),
    );
    w.fake.put(
        TASK,
        0,
        "public/s3",
        json!({"storageType": "s3", "url": w.store.url("plain"), "expires": e, "contentType": "text/plain"}),
    );
    w.fake.put(TASK, 0, "public/link", json!({"storageType": "link", "artifact": "public/obj", "expires": e}));
    w.fake.put(TASK, 0, "public/broken", json!({"storageType": "error", "reason": "file-missing-on-worker", "message": "no such file: out/x", "expires": e}));
    w.upload("public/obj", &original).await;

    for name in ["public/ref", "public/s3", "public/link", "public/obj"] {
        let mut buf = Vec::new();
        let got = w.artifacts.download_artifact(TASK, Some(0), name, &mut buf).await.unwrap();
        assert!(buf == original, "{name}");
        assert_eq!(got.length, original.len() as u64);
        // s3 and reference artifacts come with no hashes: nothing to check, nothing computed.
        let hashed = name.ends_with("link") || name.ends_with("obj");
        assert_eq!((got.sha256.is_some(), got.sha512.is_some()), (hashed, hashed), "{name}");
    }
    let err = w.artifacts.download_artifact(TASK, None, "public/broken", &mut Vec::new()).await.unwrap_err();
    match &err {
        ArtifactError::ErrorArtifact { reason, message, .. } => {
            assert_eq!((reason.as_str(), message.as_str()), ("file-missing-on-worker", "no such file: out/x"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "artifact \"public/broken\" is an error artifact: file-missing-on-worker: no such file: out/x"
    );
    let err = w.artifacts.download_artifact(TASK, None, "public/none", &mut Vec::new()).await.unwrap_err();
    assert!(matches!(&err, ArtifactError::Api(e) if e.status() == Some(404)), "{err}");
}

#[tokio::test]
async fn the_simple_method_is_verified_against_the_metadata() {
    let w = world().await;
    let original = data(30_000, 10);
    let up = w.upload("public/s.bin", &original).await;
    w.fake.offer_download_methods(&["simple"]);
    let mut buf = Vec::new();
    w.artifacts.download_artifact(TASK, None, "public/s.bin", &mut buf).await.unwrap();
    assert!(buf == original);
    assert!(w.server.requests().iter().any(|r| r.path.starts_with("/api/object/v1/metadata/")));

    w.fake.set_hashes(&up.object_name, json!({"sha512": "00".repeat(64)}));
    let err = w.artifacts.download_artifact(TASK, None, "public/s.bin", &mut Vec::new()).await.unwrap_err();
    assert!(matches!(&err, ArtifactError::HashMismatch { algorithm: "sha512", .. }), "{err}");
}

#[tokio::test]
async fn only_the_hashes_the_service_gives_are_computed_and_at_least_one_is_needed() {
    let w = world().await;
    let original = data(40_000, 11);
    let up = w.upload("public/h.bin", &original).await;
    w.fake.set_hashes(&up.object_name, json!({"sha256": up.hashes.sha256}));
    let got = w.artifacts.download_artifact(TASK, None, "public/h.bin", &mut Vec::new()).await.unwrap();
    assert_eq!((got.sha256.as_deref(), got.sha512.as_deref()), (Some(up.hashes.sha256.as_str()), None));

    w.fake.set_hashes(&up.object_name, json!({"sha512": up.hashes.sha512}));
    let got = w.artifacts.download_artifact(TASK, None, "public/h.bin", &mut Vec::new()).await.unwrap();
    assert_eq!((got.sha256.as_deref(), got.sha512.as_deref()), (None, Some(up.hashes.sha512.as_str())));

    // Only algorithms this client does not know: it cannot check the data, so it refuses it.
    w.fake.set_hashes(&up.object_name, json!({"md5": "00"}));
    let err = w.artifacts.download_artifact(TASK, None, "public/h.bin", &mut Vec::new()).await.unwrap_err();
    assert!(matches!(&err, ArtifactError::NoHashes { .. }), "{err}");
}

#[tokio::test]
async fn missing_scopes_and_unrewindable_destinations() {
    let w = world().await;
    w.upload("private/x.bin", &data(100_000, 11)).await;

    w.server.add_client("reader", "reader-secret", &["queue:get-artifact:public/*"]);
    let client =
        Client::builder(w.server.root_url()).credentials(Credentials::new("reader", "reader-secret")).build().unwrap();
    let err = Artifacts::new(&client)
        .unwrap()
        .download_artifact(TASK, None, "private/x.bin", &mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(&err, ArtifactError::Api(e) if e.code() == Some("InsufficientScopes")), "{err}");
    assert!(err.to_string().contains("queue:get-artifact:private/x.bin"), "{err}");

    // A plain writer is retried only while nothing reached it.
    w.store.inject("GET", StoreFault::Reset, 1);
    let mut out = Unrewindable::new(Vec::new());
    w.artifacts.download_artifact(TASK, None, "private/x.bin", &mut out).await.unwrap();
    assert_eq!(out.into_inner().len(), 100_000);
    // (Big enough that data surely reaches the writer before the connection drops.)
    w.upload("private/y.bin", &data(4_000_000, 13)).await;
    w.store.inject("GET", StoreFault::Truncate, 1);
    let mut out = Unrewindable::new(Vec::new());
    let err = w.artifacts.download_artifact(TASK, None, "private/y.bin", &mut out).await.unwrap_err();
    assert!(err.to_string().contains("cannot be rewound"), "{err}");
}

#[tokio::test]
async fn objects_with_the_callers_own_credentials() {
    let w = world().await;
    w.server.add_client("uploader", "up-secret", &["object:upload:proj:proj/*", "object:download:proj/*"]);
    let client =
        Client::builder(w.server.root_url()).credentials(Credentials::new("uploader", "up-secret")).build().unwrap();
    let artifacts = Artifacts::new(&client).unwrap();
    let original = data(40_000, 12);
    let up = artifacts
        .upload_object("proj/thing", "proj", UploadSource::bytes(original.clone()), "application/x-test", expires())
        .await
        .unwrap();
    assert_eq!(up.method, "putUrl");
    let target = w.dir.path().join("thing");
    artifacts.download_object_to_file("proj/thing", &target).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == original);
    let err = artifacts.download_object("other/thing", &mut Vec::new()).await.unwrap_err();
    assert!(matches!(&err, ArtifactError::Api(e) if e.status() == Some(403)), "{err}");
}

#[tokio::test]
async fn expired_urls_are_renegotiated_before_a_retry() {
    let w = world().await;
    let original = data(50_000, 14);
    w.fake.set_url_ttl(-1000);
    w.store.inject("PUT", StoreFault::Status(503), 1);
    let up = w.upload("public/e.bin", &original).await;
    let create_uploads =
        |w: &World| w.server.requests().iter().filter(|r| r.path.starts_with("/api/object/v1/upload/")).count();
    assert_eq!(create_uploads(&w), 2, "one putUrl, and a fresh one for the retry");

    w.store.inject("GET", StoreFault::Status(503), 1);
    let mut buf = Vec::new();
    w.artifacts.download_artifact(TASK, None, "public/e.bin", &mut buf).await.unwrap();
    assert!(buf == original);
    let starts = w.server.requests().iter().filter(|r| r.path.starts_with("/api/object/v1/start-download/")).count();
    assert_eq!(starts, 2, "one getUrl, and a fresh one for the retry");
    assert_eq!(w.store.hits("GET"), 2);
    assert!(w.fake.object(&up.object_name).unwrap().finished);
}

#[tokio::test]
async fn local_file_mistakes_are_found_before_any_call() {
    let w = world().await;
    // A directory as the upload source: refused before createArtifact (which would leave an
    // unfinished artifact behind on the queue).
    let err = w
        .artifacts
        .upload_artifact(TASK, 0, "public/d", UploadSource::file(w.dir.path()), "text/plain", expires())
        .await
        .unwrap_err();
    assert!(matches!(&err, ArtifactError::File { .. }) && err.to_string().contains("is a directory"), "{err}");
    let missing = w.dir.path().join("nofile");
    let err = w
        .artifacts
        .upload_artifact(TASK, 0, "public/d", UploadSource::file(&missing), "text/plain", expires())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with(&missing.display().to_string()), "{err}");
    assert!(w.server.requests().is_empty(), "{:?}", w.server.requests());

    // A directory, or a file in a missing directory, as the download destination: refused
    // before any call, naming what the caller gave (not the temporary file).
    w.upload("public/a.txt", b"abc").await;
    let before = w.server.requests().len();
    let err = w.artifacts.download_artifact_to_file(TASK, None, "public/a.txt", w.dir.path()).await.unwrap_err();
    assert!(err.to_string().contains("is a directory"), "{err}");
    let nowhere = w.dir.path().join("no/such/dir");
    let err =
        w.artifacts.download_artifact_to_file(TASK, None, "public/a.txt", nowhere.join("f.txt")).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&nowhere.display().to_string()) && !text.contains(".part"), "{text}");
    assert_eq!(w.server.requests().len(), before);
    assert_eq!(w.store.hits("GET"), 0);
}

#[cfg(unix)]
#[tokio::test]
async fn downloaded_files_get_the_mode_of_any_new_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let w = world().await;
    w.upload("public/m.txt", b"mode").await;
    let target = w.dir.path().join("m.txt");
    w.artifacts.download_artifact_to_file(TASK, None, "public/m.txt", &target).await.unwrap();
    // Whatever the umask, the download has the mode a plain new file gets (curl's), not 0600.
    let plain = w.dir.path().join("plain.txt");
    std::fs::write(&plain, b"x").unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&target), mode(&plain));
}
