//! The queue's artifact endpoints and the object service, on the fake Taskcluster, with the
//! object data in an [`ObjectStore`].
//!
//! What is modelled, as the real services behave:
//! - `createArtifact` (every storage type) and `finishArtifact` (object artifacts only, with the
//!   `uploadId`); `artifact`/`latestArtifact` answer per storage type, following links.
//! - Object artifacts: the queue names the object `t/<taskId>/<runId>/<name>` and hands out
//!   temporary credentials (a certificate signed by the queue's client) scoped to uploading or
//!   downloading exactly that object; the object service checks those scopes.
//! - `createUpload` with `dataInline` (≤ 8 KiB decoded) or `putUrl` (a URL on the store, with the
//!   headers the PUT must carry), `finishUpload` with hashes, `startDownload` with `getUrl` (URL
//!   and hashes) or `simple` (URL only), `object` (metadata).
//!
//! The fake trusts what it is told, as the object service does: it never checks data against
//! the hashes. That is the downloader's job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use super::auth::{self, ClientRecord};
use super::{now_ms, Recorded, Reply, TaskclusterServer};
use crate::loopback::lock;
use crate::store::{Inserter, ObjectStore};

/// The client id whose certificates the queue's temporary credentials carry.
pub const QUEUE_CLIENT_ID: &str = "static/taskcluster/queue";

/// The largest `dataInline` upload the object service accepts, decoded.
pub const DATA_INLINE_MAX: usize = 8192;

/// One artifact of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactRecord {
    /// `object`, `s3`, `reference`, `link` or `error`.
    pub storage_type: String,
    /// The request body of `createArtifact`.
    pub request: Value,
    /// Object artifacts: the object's name and the upload id.
    pub object: Option<(String, String)>,
    /// Whether the artifact is there to download (object artifacts: after `finishArtifact`).
    pub present: bool,
}

/// One object of the object service.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    /// Project id given at the first `createUpload`.
    pub project_id: String,
    /// Upload id given at the first `createUpload`.
    pub upload_id: String,
    /// Expiry, as sent.
    pub expires: Value,
    /// Hashes from `createUpload` and `finishUpload`.
    pub hashes: Map<String, Value>,
    /// The method the data came by: `dataInline` or `putUrl`.
    pub method: Option<String>,
    /// The content type the data was announced with.
    pub content_type: Option<String>,
    /// Whether `finishUpload` was called.
    pub finished: bool,
    /// The key of the data in the store.
    pub key: String,
}

#[derive(Default)]
struct Inner {
    artifacts: HashMap<(String, u64, String), ArtifactRecord>,
    objects: HashMap<String, ObjectRecord>,
    download_methods: Option<Vec<String>>,
    /// How long `getUrl` and `putUrl` URLs live (default one hour).
    url_ttl_ms: Option<i64>,
    next: u64,
}

/// The artifact and object state of a fake Taskcluster, for tests to inspect and shape.
#[derive(Clone)]
pub struct Artifacts {
    inner: Arc<Mutex<Inner>>,
    issuer_token: Arc<str>,
    store_base: Arc<str>,
    store: Inserter,
}

impl std::fmt::Debug for Artifacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifacts").field("store", &self.store_base).finish_non_exhaustive()
    }
}

impl Artifacts {
    /// The artifact `name` of run `run_id` of `task_id`, if created.
    pub fn artifact(&self, task_id: &str, run_id: u64, name: &str) -> Option<ArtifactRecord> {
        lock(&self.inner).artifacts.get(&(task_id.to_owned(), run_id, name.to_owned())).cloned()
    }

    /// The object `name`, if an upload of it began.
    pub fn object(&self, name: &str) -> Option<ObjectRecord> {
        lock(&self.inner).objects.get(name).cloned()
    }

    /// Limits the download methods `startDownload` offers (default: `getUrl`, then `simple`).
    pub fn offer_download_methods(&self, methods: &[&str]) {
        lock(&self.inner).download_methods = Some(methods.iter().map(|m| (*m).to_owned()).collect());
    }

    /// Creates an artifact directly (as if by `createArtifact`), e.g. an `s3` or `error` one.
    /// `request` is the `createArtifact` body; non-object artifacts are present at once.
    pub fn put(&self, task_id: &str, run_id: u64, name: &str, request: Value) {
        let storage_type = request["storageType"].as_str().unwrap_or("").to_owned();
        let present = storage_type != "object";
        let record = ArtifactRecord { storage_type, request, object: None, present };
        lock(&self.inner).artifacts.insert((task_id.to_owned(), run_id, name.to_owned()), record);
    }

    /// Sets how long the `getUrl` and `putUrl` URLs handed out live (negative: already expired).
    pub fn set_url_ttl(&self, ttl_ms: i64) {
        lock(&self.inner).url_ttl_ms = Some(ttl_ms);
    }

    /// Replaces the hashes of object `name` (to make the service report wrong ones).
    pub fn set_hashes(&self, name: &str, hashes: Value) {
        if let (Some(o), Value::Object(h)) = (lock(&self.inner).objects.get_mut(name), hashes) {
            o.hashes = h;
        }
    }

    /// Temporary credentials from the queue's client, holding `scopes`, valid for `hours`.
    fn credentials(&self, scopes: &[String], hours: i64) -> Value {
        let now = now_ms_plain();
        let (start, expiry) = (now - 5 * 60 * 1000, now + hours * 3600 * 1000);
        let seed = seed(&self.issuer_token, now, lock(&self.inner).next_id());
        let text = auth::certificate_signed_text(None, &seed, start, expiry, scopes);
        let signature = STANDARD.encode(auth::hmac_sha256(self.issuer_token.as_bytes(), text.as_bytes()));
        let cert = json!({
            "version": 1, "scopes": scopes, "start": start, "expiry": expiry, "seed": seed, "signature": signature,
        });
        json!({
            "clientId": QUEUE_CLIENT_ID,
            "accessToken": auth::temporary_access_token(&self.issuer_token, &seed),
            "certificate": cert.to_string(),
        })
    }
}

impl Inner {
    fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

fn now_ms_plain() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

/// A 44-character certificate seed, unique per call.
fn seed(token: &str, now: i64, n: u64) -> String {
    let mac = auth::hmac_sha256(token.as_bytes(), format!("{now}/{n}").as_bytes());
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac);
    format!("{text}{}", &text[..44 - text.len()])
}

impl TaskclusterServer {
    /// Serves the queue's artifact endpoints and the object service, with object data in
    /// `store`. Registers the queue's own client ([`QUEUE_CLIENT_ID`]), which signs the temporary
    /// credentials it hands out.
    pub fn serve_artifacts(&self, store: &ObjectStore) -> Artifacts {
        let issuer_token: Arc<str> = format!("queue-secret-{}", now_ms(self.state())).into();
        let record = ClientRecord { access_token: issuer_token.to_string(), scopes: vec!["object:*".into()] };
        lock(&self.state().clients).insert(QUEUE_CLIENT_ID.to_owned(), record);
        let store_base: Arc<str> = store.url("").into();
        let arts = Artifacts { inner: Arc::default(), issuer_token, store_base, store: store.inserter() };

        let queue = "/api/queue/v1/task/";
        let a = arts.clone();
        self.on_prefix("POST", queue, move |req| with_path(req, queue, |p| create_artifact(&a, req, p)));
        let a = arts.clone();
        self.on_prefix("PUT", queue, move |req| with_path(req, queue, |p| finish_artifact(&a, req, p)));
        let a = arts.clone();
        self.on_prefix("GET", queue, move |req| with_path(req, queue, |p| artifact_content(&a, req, p)));
        let a = arts.clone();
        let upload = "/api/object/v1/upload/";
        self.on_prefix("PUT", upload, move |req| with_path(req, upload, |p| create_upload(&a, req, &p.join("/"))));
        let a = arts.clone();
        let finish = "/api/object/v1/finish-upload/";
        self.on_prefix("POST", finish, move |req| with_path(req, finish, |p| finish_upload(&a, req, &p.join("/"))));
        let a = arts.clone();
        let start = "/api/object/v1/start-download/";
        self.on_prefix("PUT", start, move |req| with_path(req, start, |p| start_download(&a, req, &p.join("/"))));
        let a = arts.clone();
        let metadata = "/api/object/v1/metadata/";
        self.on_prefix("GET", metadata, move |req| {
            with_path(req, metadata, |p| object_metadata(&a, req, &p.join("/")))
        });
        arts
    }
}

/// Splits the path after `prefix` into decoded segments and calls `f`.
fn with_path(req: &Recorded, prefix: &str, f: impl FnOnce(&[String]) -> Reply) -> Reply {
    let rest = &req.path[prefix.len()..];
    let segments: Vec<String> =
        rest.split('/').map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect();
    f(&segments)
}

fn forbidden(req: &Recorded, scope: &str) -> Option<Reply> {
    if auth::scope_satisfied(&req.scopes, scope) {
        return None;
    }
    let who = req.client_id.as_deref().unwrap_or("(anonymous)");
    Some(Reply::error(
        403,
        "InsufficientScopes",
        &format!("Client {who:?} is missing scopes [{scope:?}] for {} {}", req.method, req.path),
    ))
}

fn not_found(what: &str) -> Reply {
    Reply::error(404, "ResourceNotFound", what)
}

fn input_error(what: &str) -> Reply {
    Reply::error(400, "InputError", what)
}

/// `task/<taskId>/runs/<runId>/artifacts/<name>` → (taskId, runId, name).
fn run_artifact(p: &[String]) -> Option<(String, u64, String)> {
    match p {
        [task, runs, run, artifacts, name @ ..] if runs == "runs" && artifacts == "artifacts" && !name.is_empty() => {
            Some((task.clone(), run.parse().ok()?, name.join("/")))
        }
        _ => None,
    }
}

fn create_artifact(a: &Artifacts, req: &Recorded, p: &[String]) -> Reply {
    let Some((task, run, name)) = run_artifact(p) else { return not_found("no such route") };
    if let Some(r) = forbidden(req, &format!("queue:create-artifact:{task}/{run}")) {
        return r;
    }
    let Some(body) = req.json() else { return input_error("the body is not JSON") };
    let storage_type = body["storageType"].as_str().unwrap_or("").to_owned();
    if !["object", "s3", "reference", "link", "error"].contains(&storage_type.as_str()) {
        return input_error(&format!("unknown storageType {storage_type:?}"));
    }
    if storage_type != "object" {
        a.put(&task, run, &name, body);
        return Reply::json(200, json!({"storageType": storage_type}));
    }
    if body["contentType"].as_str().is_none() || body["expires"].as_str().is_none() {
        return input_error("object artifacts need contentType and expires");
    }
    let object_name = format!("t/{task}/{run}/{name}");
    let upload_id = format!("upload{:016}", lock(&a.inner).next_id());
    let record = ArtifactRecord {
        storage_type,
        request: body.clone(),
        object: Some((object_name.clone(), upload_id.clone())),
        present: false,
    };
    lock(&a.inner).artifacts.insert((task, run, name), record);
    let credentials = a.credentials(&[format!("object:upload:none:{object_name}")], 24);
    Reply::json(
        200,
        json!({
            "storageType": "object", "name": object_name, "projectId": "none", "uploadId": upload_id,
            "expires": body["expires"], "credentials": credentials,
        }),
    )
}

fn finish_artifact(a: &Artifacts, req: &Recorded, p: &[String]) -> Reply {
    let Some((task, run, name)) = run_artifact(p) else { return not_found("no such route") };
    if let Some(r) = forbidden(req, &format!("queue:create-artifact:{task}/{run}")) {
        return r;
    }
    let upload_id = req.json().and_then(|b| b["uploadId"].as_str().map(str::to_owned));
    let mut inner = lock(&a.inner);
    let Some(object_name) = (match inner.artifacts.get(&(task.clone(), run, name.clone())) {
        None => return not_found(&format!("no artifact {name:?}")),
        Some(art) if art.storage_type != "object" => return input_error("only object artifacts are finished"),
        Some(art) => art.object.clone().map(|(o, u)| (o, Some(u) == upload_id)),
    }) else {
        return input_error("object artifact without an object");
    };
    if !object_name.1 {
        return Reply::error(409, "RequestConflict", "uploadId does not match");
    }
    if !inner.objects.get(&object_name.0).is_some_and(|o| o.finished) {
        return Reply::error(409, "RequestConflict", "the object upload is not finished");
    }
    if let Some(art) = inner.artifacts.get_mut(&(task, run, name)) {
        art.present = true;
    }
    Reply::json(200, json!({}))
}

/// `artifact` and `latestArtifact`: `task/<t>/runs/<r>/artifact-content/<name>` or
/// `task/<t>/artifact-content/<name>`.
fn artifact_content(a: &Artifacts, req: &Recorded, p: &[String]) -> Reply {
    let (task, run, name) = match p {
        [task, runs, run, content, name @ ..] if runs == "runs" && content == "artifact-content" => {
            let Ok(run) = run.parse::<u64>() else { return not_found("bad runId") };
            (task.clone(), Some(run), name.join("/"))
        }
        [task, content, name @ ..] if content == "artifact-content" => (task.clone(), None, name.join("/")),
        _ => return not_found(&format!("no route for GET {}", req.path)),
    };
    let mut name = name;
    let mut hops = 0;
    loop {
        if let Some(r) = forbidden(req, &format!("queue:get-artifact:{name}")) {
            return r;
        }
        let art = {
            let inner = lock(&a.inner);
            let run = run.or_else(|| inner.artifacts.keys().filter(|(t, ..)| *t == task).map(|(_, r, _)| *r).max());
            run.and_then(|run| inner.artifacts.get(&(task.clone(), run, name.clone())).cloned())
        };
        let Some(art) = art.filter(|a| a.present) else { return not_found(&format!("no artifact {name:?}")) };
        let body = &art.request;
        return match art.storage_type.as_str() {
            "link" => {
                hops += 1;
                if hops > 10 {
                    return input_error("link cycle");
                }
                name = body["artifact"].as_str().unwrap_or("").to_owned();
                continue;
            }
            "s3" | "reference" => Reply::json(200, json!({"storageType": art.storage_type, "url": body["url"]})),
            "error" => {
                Reply::json(200, json!({"storageType": "error", "reason": body["reason"], "message": body["message"]}))
            }
            _ => {
                let object_name = art.object.map(|(o, _)| o).unwrap_or_default();
                let credentials = a.credentials(&[format!("object:download:{object_name}")], 1);
                Reply::json(200, json!({"storageType": "object", "name": object_name, "credentials": credentials}))
            }
        };
    }
}

fn create_upload(a: &Artifacts, req: &Recorded, name: &str) -> Reply {
    let Some(body) = req.json() else { return input_error("the body is not JSON") };
    let (Some(project), Some(upload_id)) = (body["projectId"].as_str(), body["uploadId"].as_str()) else {
        return input_error("projectId and uploadId are required");
    };
    if let Some(r) = forbidden(req, &format!("object:upload:{project}:{name}")) {
        return r;
    }
    let mut inner = lock(&a.inner);
    let ttl = inner.url_ttl_ms.unwrap_or(3_600_000);
    let key = format!("obj{}", inner.next_id());
    let object = inner.objects.entry(name.to_owned()).or_insert_with(|| ObjectRecord {
        project_id: project.to_owned(),
        upload_id: upload_id.to_owned(),
        expires: body["expires"].clone(),
        hashes: Map::new(),
        method: None,
        content_type: None,
        finished: false,
        key,
    });
    if object.upload_id != upload_id || object.project_id != project {
        return Reply::error(409, "RequestConflict", "an upload of this object with another uploadId exists");
    }
    if object.finished {
        return Reply::error(409, "RequestConflict", "the upload is finished");
    }
    if let Some(h) = body["hashes"].as_object() {
        object.hashes.extend(h.clone());
    }
    let proposed = &body["proposedUploadMethods"];
    let expires = body["expires"].clone();
    if let Some(inline) = proposed["dataInline"].as_object() {
        let data = inline.get("objectData").and_then(Value::as_str).and_then(|d| STANDARD.decode(d).ok());
        let ct = inline.get("contentType").and_then(Value::as_str).unwrap_or("application/binary").to_owned();
        if let Some(data) = data.filter(|d| d.len() <= DATA_INLINE_MAX) {
            object.method = Some("dataInline".into());
            object.content_type = Some(ct.clone());
            let key = object.key.clone();
            drop(inner);
            (a.store)(&key, &ct, &data);
            return Reply::json(
                200,
                json!({"projectId": project, "uploadId": upload_id, "expires": expires, "uploadMethod": {"dataInline": true}}),
            );
        }
    }
    if let Some(put) = proposed["putUrl"].as_object() {
        let ct = put.get("contentType").and_then(Value::as_str).unwrap_or("application/binary").to_owned();
        let Some(len) = put.get("contentLength").and_then(Value::as_u64) else {
            return input_error("putUrl needs contentLength");
        };
        object.method = Some("putUrl".into());
        object.content_type = Some(ct.clone());
        let url = format!("{}{}", a.store_base, object.key);
        let url_expires = time_text(now_ms_plain() + ttl);
        return Reply::json(
            200,
            json!({"projectId": project, "uploadId": upload_id, "expires": expires, "uploadMethod": {"putUrl": {
                "url": url, "expires": url_expires,
                "headers": {"content-type": ct, "content-length": len.to_string()},
            }}}),
        );
    }
    Reply::json(200, json!({"projectId": project, "uploadId": upload_id, "expires": expires, "uploadMethod": {}}))
}

fn finish_upload(a: &Artifacts, req: &Recorded, name: &str) -> Reply {
    let Some(body) = req.json() else { return input_error("the body is not JSON") };
    let project = body["projectId"].as_str().unwrap_or("");
    if let Some(r) = forbidden(req, &format!("object:upload:{project}:{name}")) {
        return r;
    }
    let mut inner = lock(&a.inner);
    let Some(object) = inner.objects.get_mut(name) else { return not_found(&format!("no object {name:?}")) };
    if body["uploadId"].as_str() != Some(object.upload_id.as_str()) {
        return Reply::error(409, "RequestConflict", "uploadId does not match");
    }
    if let Some(h) = body["hashes"].as_object() {
        for (alg, value) in h {
            if object.hashes.get(alg).is_some_and(|old| old != value) {
                return Reply::error(409, "RequestConflict", &format!("the {alg} hash cannot be changed"));
            }
            object.hashes.insert(alg.clone(), value.clone());
        }
    }
    object.finished = true;
    Reply::json(200, json!({}))
}

fn start_download(a: &Artifacts, req: &Recorded, name: &str) -> Reply {
    if let Some(r) = forbidden(req, &format!("object:download:{name}")) {
        return r;
    }
    let Some(body) = req.json() else { return input_error("the body is not JSON") };
    let inner = lock(&a.inner);
    let Some(object) = inner.objects.get(name).filter(|o| o.finished) else {
        return not_found(&format!("no object {name:?}"));
    };
    let ttl = inner.url_ttl_ms.unwrap_or(3_600_000);
    let offered = inner.download_methods.clone().unwrap_or_else(|| vec!["getUrl".into(), "simple".into()]);
    let accepted = &body["acceptDownloadMethods"];
    let url = format!("{}{}", a.store_base, object.key);
    for method in offered {
        if accepted[&method] != json!(true) {
            continue;
        }
        return match method.as_str() {
            "getUrl" => Reply::json(
                200,
                json!({"method": "getUrl", "url": url, "hashes": object.hashes,
                       "expires": time_text(now_ms_plain() + ttl)}),
            ),
            _ => Reply::json(200, json!({"method": method, "url": url})),
        };
    }
    Reply::error(406, "NoMatchingMethod", "none of the accepted download methods is available")
}

fn object_metadata(a: &Artifacts, req: &Recorded, name: &str) -> Reply {
    if let Some(r) = forbidden(req, &format!("object:download:{name}")) {
        return r;
    }
    let inner = lock(&a.inner);
    let Some(object) = inner.objects.get(name).filter(|o| o.finished) else {
        return not_found(&format!("no object {name:?}"));
    };
    Reply::json(200, json!({"projectId": object.project_id, "expires": object.expires, "hashes": object.hashes}))
}

/// Milliseconds since the epoch as Taskcluster's `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn time_text(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_seeds() {
        assert_eq!(time_text(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(time_text(1_709_251_199_123), "2024-02-29T23:59:59.123Z");
        assert_eq!(seed("k", 1, 2).len(), 44);
        assert_ne!(seed("k", 1, 2), seed("k", 1, 3));
    }
}
