//! How the generated GoCD client and the runtime behave against the fake GoCD: session cookie
//! reuse, ETag round trips, 202 polling, uploads, retries, error bodies, text answers; and that
//! the fake server itself rejects requests that deviate from the documentation.

use std::path::PathBuf;
use std::time::Duration;

use apigen_runtime as rt;
use fake_servers::gocd::{load_examples, AuthUsed, Example, GoCdServer, Reply, PASSWORD, USER};
use gocd::{EnvironmentConfig, GoCd};
use rt::reqwest::Method;
use serde_json::json;

fn client(server: &GoCdServer) -> rt::Client {
    rt::Client::gocd_builder(server.base_url()).basic_auth(USER, PASSWORD).build().expect("client")
}

fn gocd(server: &GoCdServer) -> GoCd {
    GoCd::new(&client(server))
}

/// A client for `base_url` that does not retry.
fn no_retry_client(base_url: &str) -> rt::Client {
    rt::Client::gocd_builder(base_url).basic_auth(USER, PASSWORD).retry(rt::RetryPolicy::none()).build().unwrap()
}

fn example(endpoint: &str) -> Example {
    load_examples().into_iter().find(|e| e.endpoint == endpoint).unwrap_or_else(|| panic!("no example {endpoint}"))
}

fn input<T: rt::serde::de::DeserializeOwned>(ex: &Example) -> T {
    serde_json::from_value(ex.body.clone()).expect("documented body decodes")
}

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let dir = std::env::temp_dir().join(format!("gocd-e2e-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ARTIFACTS: &str = "/go/files/PipelineName/541/StageName/1/JobName";

// The artifact calls for the job of `ARTIFACTS`, with the path below it.

async fn artifact_directory(g: &GoCd, path: &str, out: &mut Vec<u8>, timeout: Duration) -> Result<u64, rt::Error> {
    g.get_artifact_directory("PipelineName", "541", "StageName", "1", "JobName", path, out, timeout).await
}

async fn artifact_file(g: &GoCd, path: &str, out: &mut Vec<u8>) -> Result<u64, rt::Error> {
    g.get_artifact_file("PipelineName", "541", "StageName", "1", "JobName", path, out).await
}

async fn upload_artifact(g: &GoCd, path: &str, upload: rt::Upload) -> Result<String, rt::Error> {
    g.create_artifact("PipelineName", "541", "StageName", "1", "JobName", path, upload).await
}

/// Makes `server` answer a GET of `path` below `ARTIFACTS` with `body`; returns the full path.
fn serve_artifact(server: &GoCdServer, path: &str, content_type: &'static str, body: Vec<u8>) -> String {
    let path = format!("{ARTIFACTS}/{path}");
    server.on("GET", &path, move |_| Reply::bytes(200, content_type, body.clone()));
    path
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_session_cookie_replaces_the_password_after_the_first_call() {
    let server = GoCdServer::start().await;
    let g = gocd(&server);
    g.get_version().await.expect("first call");
    g.get_version().await.expect("second call");
    g.get_all_agents().await.expect("third call");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].auth, AuthUsed::Password(USER.into()));
    assert!(reqs[0].header("authorization").is_some_and(|a| a.starts_with("Basic ")));
    assert_eq!(reqs[0].header("cookie"), None);
    let session = reqs[0].set_session.clone().expect("the first answer sets JSESSIONID");
    for r in &reqs[1..] {
        assert_eq!(r.auth, AuthUsed::Session(session.clone()));
        assert_eq!(r.header("cookie"), Some(format!("JSESSIONID={session}").as_str()));
        assert_eq!(r.header("authorization"), None, "no password once the session exists");
        assert_eq!(r.set_session, None);
    }
    assert_eq!((server.password_logins(), server.session_logins(), server.sessions_issued()), (1, 2, 1));
}

#[tokio::test]
async fn an_expired_session_falls_back_to_the_password_once() {
    let server = GoCdServer::start().await;
    let g = gocd(&server);
    g.get_version().await.expect("login");
    server.expire_sessions();
    g.get_version().await.expect("the call survives the expired session");
    g.get_version().await.expect("and the new session is used");

    let auth: Vec<AuthUsed> = server.requests().into_iter().map(|r| r.auth).collect();
    assert!(matches!(auth[0], AuthUsed::Password(_)));
    assert!(matches!(auth[1], AuthUsed::Failed(_)), "the old cookie is refused: {auth:?}");
    assert!(matches!(auth[2], AuthUsed::Password(_)), "then the password is sent: {auth:?}");
    assert!(matches!(auth[3], AuthUsed::Session(_)), "and the new cookie reused: {auth:?}");
    assert_eq!(server.sessions_issued(), 2);
}

#[tokio::test]
async fn without_credentials_the_server_answers_401() {
    let server = GoCdServer::start().await;
    let anonymous = GoCd::new(&rt::Client::gocd_builder(server.base_url()).build().unwrap());
    let e = anonymous.get_version().await.expect_err("401");
    assert_eq!(e.status(), Some(401));

    let wrong = rt::Client::gocd_builder(server.base_url()).basic_auth(USER, "wrong").build().unwrap();
    let e = GoCd::new(&wrong).get_version().await.expect_err("401");
    assert_eq!(e.status(), Some(401));
    assert_eq!(server.sessions_issued(), 0);
}

// ---------------------------------------------------------------------------------------------
// ETags
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_etag_of_a_get_goes_back_as_if_match() {
    // The documented GET and PUT show different ETags; make the PUT expect the GET's.
    let get = example("getEnvironmentConfig");
    let etag = get.response_header("ETag").expect("documented ETag").to_owned();
    let mut examples = load_examples();
    let put = examples.iter_mut().find(|e| e.endpoint == "updateEnvironmentConfig").unwrap();
    for (k, v) in &mut put.headers {
        if k.eq_ignore_ascii_case("If-Match") {
            v.clone_from(&etag);
        }
    }
    let put = put.clone();
    let server = GoCdServer::with_examples(examples).await;
    let g = gocd(&server);

    let read = g.get_environment_config("my_environment").await.expect("get");
    assert_eq!(read.etag.as_deref(), Some(etag.as_str()), "quotes included, as sent");
    assert_eq!(read.value.name, "my_environment");

    let payload: EnvironmentConfig = input(&put);
    let written = g
        .update_environment_config("new_environment", read.etag.as_deref().unwrap(), &payload)
        .await
        .expect("update with the fresh etag");
    assert_eq!(server.last_request().unwrap().header("if-match"), Some(etag.as_str()));
    assert_eq!(written.etag.as_deref(), put.response_header("ETag"));
    // (The seed's PUT answers the same ETag its GET shows.) The answer's etag works again.
    g.update_environment_config("new_environment", written.etag.as_deref().unwrap(), &payload)
        .await
        .expect("update with the etag of the update");

    // A stale etag: GoCD answers 412 Precondition Failed.
    let e = g.update_environment_config("new_environment", "\"stale\"", &payload).await.expect_err("stale");
    assert_eq!(e.status(), Some(412));
    assert_eq!(server.last_request().unwrap().header("if-match"), Some("\"stale\""));
}

// ---------------------------------------------------------------------------------------------
// Downloads
// ---------------------------------------------------------------------------------------------

fn zip_bytes() -> Vec<u8> {
    let mut z = b"PK\x03\x04".to_vec();
    z.extend((0u8..=255).cycle().take(4096));
    z.extend(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    z
}

#[tokio::test]
async fn an_artifact_directory_is_polled_while_the_server_answers_202() {
    let server = GoCdServer::start().await;
    let zip = zip_bytes();
    let path = serve_artifact(&server, "path/to/directory.zip", "application/zip", zip.clone());
    server.not_ready(&path, 2);

    let mut out: Vec<u8> = Vec::new();
    let n = artifact_directory(&gocd(&server), "path/to/directory", &mut out, Duration::from_secs(10))
        .await
        .expect("zip after two 202s");
    assert_eq!(n, zip.len() as u64);
    assert_eq!(out, zip);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [202, 202, 200]);
    assert_eq!(server.hits("GET", &path), 3);
}

#[tokio::test]
async fn polling_gives_up_after_the_timeout() {
    let server = GoCdServer::start().await;
    let path = serve_artifact(&server, "big/dir.zip", "application/zip", b"never".to_vec());
    server.not_ready(&path, 1000);
    let mut out = Vec::new();
    let e = artifact_directory(&gocd(&server), "big/dir", &mut out, Duration::from_millis(500))
        .await
        .expect_err("still 202");
    assert_eq!(e.status(), Some(202));
    assert!(out.is_empty());
    assert!(server.hits("GET", &path) >= 2);
}

#[tokio::test]
async fn an_artifact_file_streams_its_bytes_and_a_503_is_retried() {
    let server = GoCdServer::start().await;
    let data = zip_bytes();
    let path = serve_artifact(&server, "path/to/file.bin", "application/octet-stream", data.clone());
    server.fail(&path, 503, 1);
    let mut out = Vec::new();
    let n = artifact_file(&gocd(&server), "path/to/file.bin", &mut out).await.expect("download");
    assert_eq!((n, out), (data.len() as u64, data));
    assert_eq!(server.hits("GET", &path), 2);
}

// ---------------------------------------------------------------------------------------------
// Uploads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_artifact_is_uploaded_as_multipart_from_bytes_and_from_a_file() {
    let server = GoCdServer::start().await;
    let g = gocd(&server);
    let ex = example("createArtifact");
    let documented = ex.response_body.as_str().unwrap();

    // From bytes.
    let upload = rt::Upload::from_bytes("foobar-widgets-1.2.3.jar", ex.body_text().to_owned());
    let answer = upload_artifact(&g, "pkg/foobar-widgets-1.2.3.jar", upload).await.expect("upload from bytes");
    assert_eq!(answer, documented);
    let r = server.last_request().unwrap();
    assert_eq!(r.header("confirm"), Some("true"));
    assert_eq!(r.parts.len(), 1);
    assert_eq!(r.parts[0].name, "file");
    assert_eq!(r.parts[0].file_name.as_deref(), Some("foobar-widgets-1.2.3.jar"));

    // From a file: the upload is named after it.
    let dir = TempDir::new("upload");
    let file = dir.0.join("foobar-widgets-1.2.3.jar");
    std::fs::write(&file, ex.body_text()).unwrap();
    let upload = rt::Upload::from_path(&file).await.expect("read the file");
    assert_eq!(upload.file_name, "foobar-widgets-1.2.3.jar");
    let answer = upload_artifact(&g, "pkg/foobar-widgets-1.2.3.jar", upload).await.expect("upload from a file");
    assert_eq!(answer, documented);
    let r = server.last_request().unwrap();
    assert_eq!(r.parts[0].file_name.as_deref(), Some("foobar-widgets-1.2.3.jar"));
    assert_eq!(r.parts[0].data, ex.body_text().as_bytes());

    // Binary content survives byte for byte.
    let bin = dir.0.join("blob.bin");
    let data = zip_bytes();
    std::fs::write(&bin, &data).unwrap();
    let target = format!("{ARTIFACTS}/bin/blob.bin");
    server.on("POST", &target, |r| match r.parts.as_slice() {
        [p] if p.name == "file" => Reply::bytes(201, "text/plain; charset=UTF-8", format!("{} bytes", p.data.len())),
        other => Reply::gocd_error(400, &format!("parts: {other:?}"), &[]),
    });
    let upload = rt::Upload::from_path(&bin).await.unwrap();
    let answer = upload_artifact(&g, "bin/blob.bin", upload).await.expect("binary upload");
    assert_eq!(answer, format!("{} bytes", data.len()));
    assert_eq!(server.last_request().unwrap().parts[0].data, data);

    // A missing file is the caller's error; nothing is sent.
    let before = server.request_count();
    let e = rt::Upload::from_path(dir.0.join("missing.jar")).await.expect_err("no such file");
    assert!(matches!(e, rt::Error::InvalidInput(_)), "{e:?}");
    assert_eq!(server.request_count(), before);
}

#[tokio::test]
async fn a_zip_of_artifacts_goes_as_the_zipfile_field_and_appends_go_raw() {
    let server = GoCdServer::start().await;
    let g = gocd(&server);
    let ex = example("createMultipleArtifacts");
    let upload = rt::Upload::from_bytes("zip-of-files.zip", ex.body_text().to_owned());
    g.create_multiple_artifacts("PipelineName", "541", "StageName", "1", "JobName", "path/in/destination", upload)
        .await
        .expect("zip upload");
    assert_eq!(server.last_request().unwrap().parts[0].name, "zipfile");

    let ex = example("appendToArtifact");
    let answer = g
        .append_to_artifact(
            "PipelineName",
            "541",
            "StageName",
            "1",
            "JobName",
            "logs/operations.log",
            ex.body_text().to_owned().into(),
        )
        .await
        .expect("append");
    assert_eq!(answer, ex.response_body.as_str().unwrap());
    let r = server.last_request().unwrap();
    assert!(r.parts.is_empty());
    assert_eq!(r.body, ex.body_text().as_bytes());
}

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_post_answered_503_is_not_retried() {
    let server = GoCdServer::start().await;
    let path = "/go/api/pipelines/pipeline1/schedule";
    server.fail(path, 503, 10);
    let e = gocd(&server).schedule_pipeline("pipeline1", None).await.expect_err("503");
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.attempts(), 1);
    assert_eq!(server.hits("POST", path), 1, "a repeated POST would schedule the pipeline twice");
}

#[tokio::test]
async fn a_get_answered_503_twice_is_retried() {
    let server = GoCdServer::start().await;
    let path = "/go/api/version";
    server.fail(path, 503, 2);
    let version = gocd(&server).get_version().await.expect("third attempt succeeds");
    assert_eq!(version.version, "16.6.0");
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn a_put_answered_503_is_retried_with_the_same_if_match() {
    let server = GoCdServer::start().await;
    let ex = example("updateEnvironmentConfig");
    server.fail_method("PUT", &ex.path, 503, 1);
    let etag = ex.request_header("If-Match").unwrap();
    gocd(&server).update_environment_config("new_environment", etag, &input(&ex)).await.expect("retried PUT succeeds");
    let reqs = server.requests();
    assert_eq!(reqs.iter().map(|r| r.status).collect::<Vec<_>>(), [503, 200]);
    assert!(reqs.iter().all(|r| r.header("if-match") == Some(etag)));
}

// ---------------------------------------------------------------------------------------------
// Errors and text answers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_gocd_error_body_becomes_error_status_with_field_errors() {
    let server = GoCdServer::start().await;
    server.on("POST", "/go/api/admin/environments", |_| {
        Reply::json(
            422,
            &json!({
                "message": "Failed to add environment. Validations failed.",
                "data": {
                    "name": "new environment",
                    "pipelines": [],
                    "errors": {"name": ["Invalid environment name 'new environment'."], "agents": ["Unknown agent", "Agent is elastic"]}
                }
            }),
        )
    });
    let ex = example("createEnvironmentConfig");
    let e = gocd(&server).create_environment_config(&input(&ex)).await.expect_err("422");
    match &e {
        rt::Error::Status { status, message, field_errors, .. } => {
            assert_eq!(*status, 422);
            assert_eq!(message.as_deref(), Some("Failed to add environment. Validations failed."));
            let fields: Vec<(&str, Vec<&str>)> = field_errors
                .iter()
                .map(|f| (f.field.as_str(), f.messages.iter().map(String::as_str).collect()))
                .collect();
            assert_eq!(
                fields,
                [
                    ("agents", vec!["Unknown agent", "Agent is elastic"]),
                    ("name", vec!["Invalid environment name 'new environment'."])
                ]
            );
        }
        other => panic!("expected Error::Status, got {other:?}"),
    }
    assert!(e.to_string().contains("HTTP 422: Failed to add environment"), "{e}");
    let s = e.summary().expect("summary");
    assert_eq!(s.method, "POST");
    assert!(s.url.ends_with("/go/api/admin/environments"));
}

#[tokio::test]
async fn text_and_csv_served_with_a_json_content_type_come_back_as_strings() {
    let server = GoCdServer::start().await;
    let props = example("getAllJobProperties");
    let xml = example("getConfigXml");
    let lock = example("releasePipelineLock");
    for ex in [&props, &xml, &lock] {
        server.set_response_header(&ex.method, &ex.path, "Content-Type", "application/json; charset=utf-8");
    }
    let g = gocd(&server);
    let csv = g.get_all_job_properties("PipelineName", "541", "StageName", "1", "JobName").await.expect("csv");
    assert_eq!(csv, props.response_body.as_str().unwrap());
    assert_eq!(g.get_config_xml().await.expect("xml"), xml.response_body.as_str().unwrap());
    assert_eq!(g.release_pipeline_lock("pipeline1").await.expect("text"), lock.response_body.as_str().unwrap());
    assert!(server.requests().iter().all(|r| r.status == 200));
}

// ---------------------------------------------------------------------------------------------
// The fake server rejects what the documentation does not show
// ---------------------------------------------------------------------------------------------

/// Sends `req` without retries and returns the error fields the server named.
async fn rejected(server: &GoCdServer, req: rt::Request) -> (u16, Vec<String>, String) {
    let resp = no_retry_client(&server.base_url()).send(req).await.expect("an answer");
    let status = resp.status;
    match resp.error_for_status() {
        Ok(r) => panic!("accepted: {} {}", r.status, r.text()),
        Err(rt::Error::Status { field_errors, message, .. }) => {
            (status, field_errors.into_iter().map(|f| f.field).collect(), message.unwrap_or_default())
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn the_fake_server_checks_what_the_documentation_requires() {
    let server = GoCdServer::start().await;
    let get = |path: &str| rt::Request::new(Method::GET, path.to_owned());

    // A wrong Accept header.
    let (status, fields, message) =
        rejected(&server, get("api/version").header("accept", "application/vnd.go.cd.v2+json").unwrap()).await;
    assert_eq!((status, fields), (400, vec!["Accept".to_owned()]));
    assert!(message.contains("getVersion") && message.contains("v1+json"), "{message}");

    // Where the curl sends no Accept, anything but the documented answer's media type (here
    // curl's `*/*`, or an HTML page).
    for accept in ["*/*", "text/html"] {
        let (status, fields, _) =
            rejected(&server, get("api/config/materials").header("accept", accept).unwrap()).await;
        assert_eq!((status, fields), (400, vec!["Accept".to_owned()]), "{accept}");
    }

    // No Confirm header.
    let req =
        rt::Request::new(Method::POST, "api/pipelines/pipeline1/releaseLock").header("accept", "text/html").unwrap();
    let (status, fields, _) = rejected(&server, req).await;
    assert_eq!((status, fields), (400, vec!["Confirm".to_owned()]));

    // A different query.
    let req = get("properties/search").query("pipelineName", "PipelineName").query("limitCount", "3");
    let (status, fields, _) = rejected(&server, req).await;
    assert_eq!((status, fields), (400, vec!["query".to_owned()]));

    // A JSON body without a documented field, and with a changed one.
    let req = rt::Request::new(Method::PATCH, "api/agents/adb9540a-b954-4571-9d9b-2f330739d4da")
        .header("accept", "application/vnd.go.cd.v4+json")
        .unwrap()
        .json(&json!({"hostname": "other", "resources": ["java", "linux", "firefox"]}))
        .unwrap();
    let (status, fields, _) = rejected(&server, req).await;
    assert_eq!(status, 400);
    assert!(fields.contains(&"body/hostname".to_owned()), "{fields:?}");
    assert!(fields.iter().any(|f| f == "body/agent_config_state"), "{fields:?}");

    // A form body sent as JSON.
    let req = rt::Request::new(Method::POST, "api/material/notify/git")
        .header("accept", "text/plain")
        .unwrap()
        .header("confirm", "true")
        .unwrap()
        .json(&json!({"repository_url": "git://git.example.com/git/funky-widgets.git"}))
        .unwrap();
    let (status, fields, _) = rejected(&server, req).await;
    assert_eq!(status, 400);
    assert!(fields.contains(&"Content-Type".to_owned()), "{fields:?}");

    // An upload sent raw instead of multipart.
    let req = rt::Request::new(Method::POST, "files/PipelineName/541/StageName/1/JobName/pkg/foobar-widgets-1.2.3.jar")
        .header("accept", "text/plain")
        .unwrap()
        .header("confirm", "true")
        .unwrap()
        .body(rt::Body::Bytes {
            content_type: "application/octet-stream".into(),
            data: example("createArtifact").body_text().to_owned().into(),
        });
    let (status, fields, _) = rejected(&server, req).await;
    assert_eq!((status, fields), (400, vec!["Content-Type".to_owned()]));

    // A missing If-Match.
    let req = rt::Request::new(Method::PUT, "api/admin/environments/new_environment")
        .header("accept", "application/vnd.go.cd.v1+json")
        .unwrap()
        .json(&example("updateEnvironmentConfig").body)
        .unwrap();
    let (status, fields, _) = rejected(&server, req).await;
    assert_eq!((status, fields), (400, vec!["If-Match".to_owned()]));

    // Nothing documented at this path.
    let (status, _, message) = rejected(&server, get("api/nothing")).await;
    assert_eq!(status, 404);
    assert!(message.contains("no documented example"), "{message}");

    assert!(server.requests().iter().all(|r| r.status >= 400));
}

/// `Client::send` retries once with the password when the server refuses the session cookie
/// (401); `Client::open`, behind `download` and `download_when_ready`, does not, so a download
/// after the session expired fails with 401 although the password is valid.
#[tokio::test]
async fn a_download_after_the_session_expired_falls_back_to_the_password() {
    let server = GoCdServer::start().await;
    serve_artifact(&server, "path/to/file.bin", "application/octet-stream", b"abc".to_vec());
    let g = gocd(&server);
    g.get_version().await.expect("login");
    server.expire_sessions();
    let mut out = Vec::new();
    artifact_file(&g, "path/to/file.bin", &mut out).await.expect("the password still works");
    assert_eq!(out, b"abc");
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let server = GoCdServer::start().await;
    let base = server.base_url();
    GoCd::new(&no_retry_client(&base)).get_version().await.expect("running");
    drop(server);
    tokio::task::yield_now().await;
    let e = GoCd::new(&no_retry_client(&base)).get_version().await.expect_err("stopped");
    assert!(matches!(e, rt::Error::Transport { .. }), "{e:?}");
}
