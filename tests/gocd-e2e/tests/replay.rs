//! Every documented example, replayed through the generated client.
//!
//! For each example of `tests/gocd/examples`, the typed method of `gocd::GoCd` is called with
//! arguments taken from the example (path segments, query, the documented body decoded into the
//! generated input type, the etag from `If-Match`). The fake server checks method, path, query,
//! headers and body against the documentation and answers with the documented response; the
//! call must succeed, and a JSON answer must decode into the generated output type and encode
//! back to JSON that still holds every documented field (`fake_servers::gocd::contained_in`).

use std::fmt::Debug;

use apigen_runtime as rt;
use fake_servers::gocd::{contained_in, leniencies, load_examples, Example, GoCdServer, PASSWORD, USER};
use gocd::*;
use rt::serde::de::DeserializeOwned;
use rt::serde::Serialize;
use serde_json::Value;

/// What a call returned, for the checks.
enum Got {
    /// A JSON answer re-encoded, with the decoded value's `Debug` text and, for `Versioned`
    /// answers, the etag.
    Json { value: Value, debug: String, etag: Option<Option<String>> },
    /// Text (text, XML, CSV).
    Text(String),
    /// Nothing.
    Unit,
}

fn json<T: Serialize + Debug>(v: T) -> Result<Got, String> {
    let value = serde_json::to_value(&v).map_err(|e| format!("cannot re-encode the decoded value: {e}"))?;
    Ok(Got::Json { value, debug: format!("{v:?}"), etag: None })
}

fn versioned<T: Serialize + Debug>(v: rt::Versioned<T>) -> Result<Got, String> {
    match json(v.value)? {
        Got::Json { value, debug, .. } => Ok(Got::Json { value, debug, etag: Some(v.etag) }),
        other => Ok(other),
    }
}

/// A HAL collection re-assembled as `{"_links": ..., "_embedded": {<key>: [...]}}`, with the
/// documented embedded key (a wrong key in the description leaves `items` empty, which the
/// containment check reports).
fn hal<T: Serialize + Debug>(h: rt::HalCollection<T>, ex: &Example) -> Result<Got, String> {
    let key = ex.response_body["_embedded"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .ok_or("the documented HAL body has no _embedded key")?;
    let items = serde_json::to_value(&h.items).map_err(|e| format!("cannot re-encode the items: {e}"))?;
    let links = serde_json::to_value(&h.links).map_err(|e| format!("cannot re-encode the links: {e}"))?;
    let mut embedded = serde_json::Map::new();
    embedded.insert(key, items);
    let value = serde_json::json!({ "_links": links, "_embedded": embedded });
    Ok(Got::Json { value, debug: format!("{:?}", h.items), etag: None })
}

fn hal_versioned<T: Serialize + Debug>(v: rt::Versioned<rt::HalCollection<T>>, ex: &Example) -> Result<Got, String> {
    match hal(v.value, ex)? {
        Got::Json { value, debug, .. } => Ok(Got::Json { value, debug, etag: Some(v.etag) }),
        other => Ok(other),
    }
}

fn text(s: String) -> Result<Got, String> {
    Ok(Got::Text(s))
}

fn unit(_: ()) -> Result<Got, String> {
    Ok(Got::Unit)
}

/// The typed client for `server`, as user [`USER`].
fn gocd(server: &GoCdServer) -> GoCd {
    GoCd::new(&rt::Client::gocd_builder(server.base_url()).basic_auth(USER, PASSWORD).build().expect("client"))
}

fn err(e: rt::Error) -> String {
    let mut s = e.to_string();
    if let rt::Error::Status { field_errors, .. } = &e {
        for f in field_errors {
            s.push_str(&format!("\n      {}: {}", f.field, f.messages.join("; ")));
        }
    }
    s
}

/// The documented request body decoded into the generated input type.
fn input<T: DeserializeOwned>(ex: &Example) -> Result<T, String> {
    serde_json::from_value(ex.body.clone())
        .map_err(|e| format!("the documented request body does not decode into {}: {e}", std::any::type_name::<T>()))
}

fn etag(ex: &Example) -> Result<&str, String> {
    ex.request_header("If-Match").ok_or_else(|| "the example documents no If-Match".to_owned())
}

fn query<'a>(ex: &'a Example, name: &str) -> Option<&'a str> {
    ex.query.get(name).map(String::as_str)
}

fn strip<'a>(s: &'a str, suffix: &str) -> &'a str {
    s.strip_suffix(suffix).unwrap_or(s)
}

/// Calls the typed method of `ex.endpoint` with the example's arguments.
async fn replay(g: &GoCd, ex: &Example) -> Result<Got, String> {
    let s = |i: usize| ex.seg(i);
    let opt = |i: usize| ex.segments().get(i).copied();
    match ex.endpoint.as_str() {
        // 01 Agents
        "getAllAgents" => hal(g.get_all_agents().await.map_err(err)?, ex),
        "getAgent" => json(g.get_agent(s(2)).await.map_err(err)?),
        "updateAgent" => json(g.update_agent(s(2), &input(ex)?).await.map_err(err)?),
        "deleteAgent" => json(g.delete_agent(s(2)).await.map_err(err)?),
        "bulkUpdateAgents" => json(g.bulk_update_agents(&input(ex)?).await.map_err(err)?),
        "bulkDeleteAgents" => json(g.bulk_delete_agents(&input(ex)?).await.map_err(err)?),
        "getAgentJobRunHistory" => json(g.get_agent_job_run_history(s(2), opt(4)).await.map_err(err)?),
        // 02 Users
        "getAllUsers" => hal(g.get_all_users().await.map_err(err)?, ex),
        "getUser" => json(g.get_user(s(2)).await.map_err(err)?),
        "createUser" => json(g.create_user(&input(ex)?).await.map_err(err)?),
        "updateUser" => json(g.update_user(s(2), &input(ex)?).await.map_err(err)?),
        "deleteUser" => json(g.delete_user(s(2)).await.map_err(err)?),
        // 03 Materials
        "getAllMaterials" => json(g.get_all_materials().await.map_err(err)?),
        "getMaterialModifications" => json(g.get_material_modifications(s(2), opt(4)).await.map_err(err)?),
        "notifySvnMaterials" => text(g.notify_svn_materials(&input(ex)?).await.map_err(err)?),
        "notifyGitMaterials" => text(g.notify_git_materials(&input(ex)?).await.map_err(err)?),
        "notifyMercurialMaterials" => text(g.notify_mercurial_materials(&input(ex)?).await.map_err(err)?),
        // 04 Backups
        "createBackup" => json(g.create_backup().await.map_err(err)?),
        // 05 Pipeline groups
        "getPipelineGroupsConfig" => json(g.get_pipeline_groups_config().await.map_err(err)?),
        // 06 Artifacts
        "getAllArtifacts" => {
            json(g.get_all_artifacts(s(1), s(2), s(3), s(4), strip(s(5), ".json")).await.map_err(err)?)
        }
        "createArtifact" => {
            let upload = rt::Upload::from_bytes("foobar-widgets-1.2.3.jar", ex.body_text().to_owned());
            text(g.create_artifact(s(1), s(2), s(3), s(4), s(5), &ex.rest(6), upload).await.map_err(err)?)
        }
        "createMultipleArtifacts" => {
            let upload = rt::Upload::from_bytes("zip-of-files.zip", ex.body_text().to_owned());
            text(g.create_multiple_artifacts(s(1), s(2), s(3), s(4), s(5), &ex.rest(6), upload).await.map_err(err)?)
        }
        "appendToArtifact" => {
            let data = rt::bytes::Bytes::from(ex.body_text().to_owned());
            text(g.append_to_artifact(s(1), s(2), s(3), s(4), s(5), &ex.rest(6), data).await.map_err(err)?)
        }
        // 07 Pipelines
        "getPipelineInstance" => json(g.get_pipeline_instance(s(2), s(4)).await.map_err(err)?),
        "getPipelineHistory" => json(g.get_pipeline_history(s(2), opt(4)).await.map_err(err)?),
        "getPipelineStatus" => json(g.get_pipeline_status(s(2)).await.map_err(err)?),
        "pausePipeline" => unit(g.pause_pipeline(s(2), &input(ex)?).await.map_err(err)?),
        "unpausePipeline" => unit(g.unpause_pipeline(s(2)).await.map_err(err)?),
        "releasePipelineLock" => text(g.release_pipeline_lock(s(2)).await.map_err(err)?),
        "schedulePipeline" => {
            // The documented curl sends no post data: no options at all.
            let options: Option<PipelineScheduleRequest> =
                if ex.body.as_object().is_none_or(|m| m.is_empty()) { None } else { Some(input(ex)?) };
            text(g.schedule_pipeline(s(2), options.as_ref()).await.map_err(err)?)
        }
        // 08 Stages
        "cancelStage" => text(g.cancel_stage(s(2), s(3)).await.map_err(err)?),
        "getStageInstance" => json(g.get_stage_instance(s(2), s(3), s(5), s(6)).await.map_err(err)?),
        "getStageHistory" => json(g.get_stage_history(s(2), s(3), opt(5)).await.map_err(err)?),
        // 09 Jobs
        "getScheduledJobs" => text(g.get_scheduled_jobs().await.map_err(err)?),
        "getJobHistory" => json(g.get_job_history(s(2), s(3), s(4), opt(6)).await.map_err(err)?),
        // 10 Properties
        "getAllJobProperties" => text(g.get_all_job_properties(s(1), s(2), s(3), s(4), s(5)).await.map_err(err)?),
        "getJobProperty" => text(g.get_job_property(s(1), s(2), s(3), s(4), s(5), s(6)).await.map_err(err)?),
        "searchJobProperties" => text(
            g.search_job_properties(
                query(ex, "pipelineName"),
                query(ex, "stageName"),
                query(ex, "jobName"),
                query(ex, "limitPipeline"),
                query(ex, "limitCount"),
            )
            .await
            .map_err(err)?,
        ),
        "createJobProperty" => {
            text(g.create_job_property(s(1), s(2), s(3), s(4), s(5), s(6), &input(ex)?).await.map_err(err)?)
        }
        // 11 Configuration
        "listConfigModifications" => json(g.list_config_modifications().await.map_err(err)?),
        "getConfigModificationDiff" => text(g.get_config_modification_diff(s(3), s(4)).await.map_err(err)?),
        "getConfigXml" => text(g.get_config_xml().await.map_err(err)?),
        // 12 Feeds
        "getAllPipelinesXml" => text(g.get_all_pipelines_xml().await.map_err(err)?),
        "getPipelineStagesFeed" => text(g.get_pipeline_stages_feed(s(2)).await.map_err(err)?),
        "getPipelineXml" => text(g.get_pipeline_xml(s(2), strip(s(3), ".xml")).await.map_err(err)?),
        "getStageXml" => text(g.get_stage_xml(strip(s(2), ".xml")).await.map_err(err)?),
        "getJobXml" => text(g.get_job_xml(strip(s(2), ".xml")).await.map_err(err)?),
        // 13 Dashboard
        "getDashboard" => hal(g.get_dashboard().await.map_err(err)?, ex),
        // 14 Encryption
        "encryptValue" => json(g.encrypt_value(&input(ex)?).await.map_err(err)?),
        // 15 Pipeline config
        "getPipelineConfig" => versioned(g.get_pipeline_config(s(3)).await.map_err(err)?),
        "updatePipelineConfig" => versioned(g.update_pipeline_config(s(3), etag(ex)?, &input(ex)?).await.map_err(err)?),
        "createPipelineConfig" => json(g.create_pipeline_config(&input(ex)?).await.map_err(err)?),
        "deletePipelineConfig" => json(g.delete_pipeline_config(s(3)).await.map_err(err)?),
        // 16 Template config
        "getAllTemplates" => hal(g.get_all_templates().await.map_err(err)?, ex),
        "getTemplateConfig" => versioned(g.get_template_config(s(3)).await.map_err(err)?),
        "createTemplateConfig" => json(g.create_template_config(&input(ex)?).await.map_err(err)?),
        "updateTemplateConfig" => versioned(g.update_template_config(s(3), etag(ex)?, &input(ex)?).await.map_err(err)?),
        "deleteTemplateConfig" => json(g.delete_template_config(s(3)).await.map_err(err)?),
        // 17 Version
        "getVersion" => json(g.get_version().await.map_err(err)?),
        // 18 Environment config
        "getAllEnvironments" => hal_versioned(g.get_all_environments().await.map_err(err)?, ex),
        "getEnvironmentConfig" => versioned(g.get_environment_config(s(3)).await.map_err(err)?),
        "createEnvironmentConfig" => versioned(g.create_environment_config(&input(ex)?).await.map_err(err)?),
        "updateEnvironmentConfig" => {
            versioned(g.update_environment_config(s(3), etag(ex)?, &input(ex)?).await.map_err(err)?)
        }
        "patchEnvironmentConfig" => versioned(g.patch_environment_config(s(3), &input(ex)?).await.map_err(err)?),
        "deleteEnvironmentConfig" => json(g.delete_environment_config(s(3)).await.map_err(err)?),
        // 19 Elastic agent profiles
        "getAllElasticProfiles" => hal_versioned(g.get_all_elastic_profiles().await.map_err(err)?, ex),
        "getElasticProfile" => versioned(g.get_elastic_profile(s(3)).await.map_err(err)?),
        "createElasticProfile" => versioned(g.create_elastic_profile(&input(ex)?).await.map_err(err)?),
        "updateElasticProfile" => versioned(g.update_elastic_profile(s(3), etag(ex)?, &input(ex)?).await.map_err(err)?),
        "deleteElasticProfile" => json(g.delete_elastic_profile(s(3)).await.map_err(err)?),
        // 20 Plugin info
        "getAllPluginInfo" => hal_versioned(g.get_all_plugin_info().await.map_err(err)?, ex),
        "getPluginInfo" => versioned(g.get_plugin_info(s(3)).await.map_err(err)?),
        // 21 SCMs
        "getAllScms" => hal(g.get_all_scms().await.map_err(err)?, ex),
        "getScm" => versioned(g.get_scm(s(3)).await.map_err(err)?),
        "createScm" => json(g.create_scm(&input(ex)?).await.map_err(err)?),
        "updateScm" => versioned(g.update_scm(s(3), etag(ex)?, &input(ex)?).await.map_err(err)?),
        // 22 Package repositories
        "getAllPackageRepositories" => hal(g.get_all_package_repositories().await.map_err(err)?, ex),
        "getPackageRepository" => json(g.get_package_repository(s(3)).await.map_err(err)?),
        "createPackageRepository" => json(g.create_package_repository(&input(ex)?).await.map_err(err)?),
        "updatePackageRepository" => {
            versioned(g.update_package_repository(s(3), etag(ex)?, &input(ex)?).await.map_err(err)?)
        }
        "deletePackageRepository" => json(g.delete_package_repository(s(3)).await.map_err(err)?),
        // 23 Packages
        "getAllPackages" => hal(g.get_all_packages().await.map_err(err)?, ex),
        "getPackage" => versioned(g.get_package(s(3)).await.map_err(err)?),
        "createPackage" => json(g.create_package(&input(ex)?).await.map_err(err)?),
        "updatePackage" => versioned(g.update_package(s(3), etag(ex)?, &input(ex)?).await.map_err(err)?),
        "deletePackage" => json(g.delete_package(s(3)).await.map_err(err)?),
        other => Err(format!("no typed call is wired for endpoint {other}")),
    }
}

/// The multipart field names the seed's curl uses (`-F 'file=@...'`, `-F 'zipfile=@...'`).
const MULTIPART_FIELDS: &[(&str, &str)] = &[("createArtifact", "file"), ("createMultipleArtifacts", "zipfile")];

/// Checks one example; returns (failures, notes).
async fn check_example(server: &GoCdServer, g: &GoCd, ex: &Example) -> (Vec<String>, Vec<String>) {
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let before = server.request_count();
    let got = replay(g, ex).await;
    let requests = server.requests();
    let sent = &requests[before.min(requests.len())..];

    // Exactly one request, matching the documented one.
    match sent {
        [r] => {
            if r.endpoint.as_deref() != Some(ex.endpoint.as_str()) || !r.mismatches.is_empty() {
                failures.push(format!("the request did not match the example: {:?}", r.mismatches));
            }
            if r.status != ex.status {
                failures.push(format!("the server answered {}, documented {}", r.status, ex.status));
            }
            let documented_ct = ex.request_header("Content-Type");
            if let (Some(d), Some(s)) = (documented_ct, r.header("content-type")) {
                if d != s {
                    notes.push(format!("sends Content-Type {s:?} where the example shows {d:?}"));
                }
            }
            if let Some((_, field)) = MULTIPART_FIELDS.iter().find(|(e, _)| *e == ex.endpoint) {
                let names: Vec<&str> = r.parts.iter().map(|p| p.name.as_str()).collect();
                if names != [*field] {
                    failures.push(format!("multipart fields {names:?}, the seed's curl sends [{field:?}]"));
                }
            }
        }
        other => failures.push(format!("{} requests sent, expected 1", other.len())),
    }

    match got {
        Err(e) => failures.push(format!("the call failed: {e}")),
        Ok(Got::Json { value, debug, etag }) => {
            if !ex.response_is_json() {
                failures.push(format!("returned JSON, but the documented body is {}", ex.response_body));
            }
            for m in contained_in(&ex.response_body, &value) {
                failures.push(format!("re-encoding loses {m}"));
            }
            let lenient = leniencies(&ex.response_body, &value);
            if !lenient.is_empty() {
                notes.push(format!("re-encoded: {}", lenient.join(", ")));
            }
            for marker in ["Other(", "Unknown("] {
                if debug.contains(marker) {
                    failures.push(format!(
                        "part of the documented body only decodes into a catch-all `{}..)` variant: {}",
                        marker,
                        excerpt_around(&debug, marker)
                    ));
                }
            }
            let documented_etag = ex.response_header("ETag");
            match (etag, documented_etag) {
                (Some(got), Some(d)) if got.as_deref() == Some(d) => {}
                (Some(got), Some(d)) => failures.push(format!("etag {got:?}, documented {d:?}")),
                (Some(got), None) => {
                    notes.push(format!("returns Versioned (etag {got:?}) though the example shows no ETag"))
                }
                (None, Some(d)) => {
                    failures.push(format!("the example shows ETag {d}, but the method returns no Versioned"))
                }
                (None, None) => {}
            }
        }
        Ok(Got::Text(t)) => match &ex.response_body {
            Value::String(d) if *d == t => {}
            Value::Null if t.is_empty() => {}
            d => failures.push(format!("returned text {t:?}, documented {d}")),
        },
        Ok(Got::Unit) => {
            if !ex.response_body.is_null() {
                failures.push(format!("returned nothing, but the documented body is {}", ex.response_body));
            }
        }
    }
    (failures, notes)
}

fn excerpt_around(s: &str, marker: &str) -> String {
    let at = s.find(marker).unwrap_or(0);
    let mut start = at.saturating_sub(120);
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + 160).min(s.len());
    while !s.is_char_boundary(end) {
        end += 1;
    }
    format!("…{}…", &s[start..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_example_replays_through_the_typed_client() {
    let examples = load_examples();
    assert!(examples.len() >= 86, "only {} examples loaded", examples.len());
    let server = GoCdServer::with_examples(examples.clone()).await;
    let g = gocd(&server);

    let mut failed = Vec::new();
    let mut report = String::new();
    for ex in &examples {
        let (failures, notes) = check_example(&server, &g, ex).await;
        let mark = if failures.is_empty() { "ok  " } else { "FAIL" };
        report.push_str(&format!("{mark} {}\n", ex.label()));
        for f in &failures {
            report.push_str(&format!("     - {f}\n"));
        }
        for n in &notes {
            report.push_str(&format!("     note: {n}\n"));
        }
        if !failures.is_empty() {
            failed.push(ex.endpoint.clone());
        }
    }
    println!("{report}");

    // Every example was answered as documented, i.e. matched on the server side.
    let matched: std::collections::BTreeSet<String> =
        server.requests().iter().filter(|r| r.mismatches.is_empty()).filter_map(|r| r.endpoint.clone()).collect();
    let all: std::collections::BTreeSet<String> = examples.iter().map(|e| e.endpoint.clone()).collect();
    let unmatched: Vec<&String> = all.difference(&matched).collect();

    assert!(
        failed.is_empty() && unmatched.is_empty(),
        "{} of {} examples failed: {failed:?}; never matched: {unmatched:?}\n{report}",
        failed.len(),
        examples.len()
    );
    // One password login; every later call used the session cookie.
    assert_eq!(server.password_logins(), 1);
    assert_eq!(server.session_logins(), examples.len() - 1);
}

/// Every documented JSON request body survives the generated input type: decoded and encoded
/// again, it still holds every documented field (what the server checks on the wire, here
/// without a call, so a failure names the type).
#[test]
fn documented_request_bodies_survive_the_input_types() {
    fn roundtrip<T: DeserializeOwned + Serialize>(ex: &Example) -> Vec<String> {
        match input::<T>(ex) {
            Err(e) => vec![e],
            Ok(v) => match serde_json::to_value(&v) {
                Ok(back) => contained_in(&ex.body, &back),
                Err(e) => vec![format!("cannot re-encode: {e}")],
            },
        }
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for ex in load_examples() {
        if !(ex.body.is_object() || ex.body.is_array()) {
            continue;
        }
        let problems = match ex.endpoint.as_str() {
            "updateAgent" => roundtrip::<AgentUpdateRequest>(&ex),
            "bulkUpdateAgents" => roundtrip::<AgentBulkUpdateRequest>(&ex),
            "bulkDeleteAgents" => roundtrip::<AgentBulkDeleteRequest>(&ex),
            "createUser" => roundtrip::<UserCreateRequest>(&ex),
            "updateUser" => roundtrip::<UserUpdateRequest>(&ex),
            "notifySvnMaterials" => roundtrip::<SvnNotifyRequest>(&ex),
            "notifyGitMaterials" => roundtrip::<GitNotifyRequest>(&ex),
            "notifyMercurialMaterials" => roundtrip::<MercurialNotifyRequest>(&ex),
            "pausePipeline" => roundtrip::<PipelinePauseRequest>(&ex),
            "schedulePipeline" => roundtrip::<PipelineScheduleRequest>(&ex),
            "createJobProperty" => roundtrip::<JobPropertyCreateRequest>(&ex),
            "encryptValue" => roundtrip::<EncryptRequest>(&ex),
            "updatePipelineConfig" => roundtrip::<PipelineConfig>(&ex),
            "createPipelineConfig" => roundtrip::<PipelineConfigCreate>(&ex),
            "createTemplateConfig" | "updateTemplateConfig" => roundtrip::<TemplateConfig>(&ex),
            "createEnvironmentConfig" | "updateEnvironmentConfig" => roundtrip::<EnvironmentConfig>(&ex),
            "patchEnvironmentConfig" => roundtrip::<EnvironmentPatch>(&ex),
            "createElasticProfile" | "updateElasticProfile" => roundtrip::<ElasticProfile>(&ex),
            "createScm" | "updateScm" => roundtrip::<PluggableScm>(&ex),
            "createPackageRepository" | "updatePackageRepository" => roundtrip::<PackageRepository>(&ex),
            "createPackage" | "updatePackage" => roundtrip::<PackageConfig>(&ex),
            other => vec![format!("no input type is wired for {other}")],
        };
        checked += 1;
        failures.extend(problems.into_iter().map(|p| format!("{}: {p}", ex.label())));
    }
    assert!(checked >= 27, "only {checked} request bodies checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The checks above are not vacuous: a value of the wrong type and a request header the client
/// does not send are each reported; a response field the type does not know is kept (it must
/// survive re-encoding, so an update can send it back).
#[tokio::test]
async fn the_replay_checks_catch_deviations() {
    let mut examples = load_examples();
    let find = |examples: &mut Vec<Example>, name: &str| examples.iter().position(|e| e.endpoint == name).unwrap();
    let i = find(&mut examples, "getAgent");
    examples[i].response_body["undocumented_field"] = serde_json::json!({"kept": false});
    let i = find(&mut examples, "getUser");
    examples[i].response_body["login_name"] = serde_json::json!(5);
    let i = find(&mut examples, "getVersion");
    examples[i].headers = vec![("Accept".into(), "application/vnd.go.cd.v2+json".into())];
    let i = find(&mut examples, "getPipelineStatus");
    examples[i].response_body["paused"] = serde_json::json!("true");

    let server = GoCdServer::with_examples(examples.clone()).await;
    let g = gocd(&server);
    let expectations = [
        ("getUser", "cannot decode the response"),
        (
            "getVersion",
            "Accept: sent Some(\"application/vnd.go.cd.v1+json\"), documented \"application/vnd.go.cd.v2+json\"",
        ),
        ("getPipelineStatus", "cannot decode the response"),
    ];
    for (name, expected) in expectations {
        let ex = examples.iter().find(|e| e.endpoint == name).unwrap();
        let (failures, _) = check_example(&server, &g, ex).await;
        assert!(failures.iter().any(|f| f.contains(expected)), "{name}: expected {expected:?} among {failures:#?}");
    }
    let agent = examples.iter().find(|e| e.endpoint == "getAgent").unwrap();
    let (failures, _) = check_example(&server, &g, agent).await;
    assert!(failures.is_empty(), "the unknown field is kept: {failures:#?}");
}
