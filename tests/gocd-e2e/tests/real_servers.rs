//! What real GoCD servers (16.x, 17.x) send where it differs from the documentation (issue 8),
//! served by the fake GoCD from `tests/gocd/recorded` and called through the generated client.

use std::time::{Duration, Instant};

use apigen_runtime as rt;
use fake_servers::gocd::{load_recorded, GoCdServer, Reply, PASSWORD, USER};
use gocd::*;
use serde_json::{json, Value};

async fn recorded() -> GoCdServer {
    GoCdServer::with_examples(load_recorded()).await
}

fn gocd(server: &GoCdServer) -> GoCd {
    GoCd::new(&rt::Client::gocd_builder(server.base_url()).basic_auth(USER, PASSWORD).build().expect("client"))
}

/// The body of the last request, as JSON.
fn last_json(server: &GoCdServer) -> Value {
    let rec = server.last_request().expect("a request arrived");
    assert!(rec.mismatches.is_empty(), "the request does not match: {:?}", rec.mismatches);
    serde_json::from_slice(&rec.body).expect("a JSON body")
}

#[tokio::test]
async fn free_space_arrives_as_a_number_or_as_text() {
    let server = recorded().await;
    let g = gocd(&server);
    let lost = g.get_agent("lost-agent").await.expect("an agent with unknown free space decodes");
    assert_eq!(lost.free_space, Some(AgentFreeSpace::Text("unknown".into())));
    let all = g.get_all_agents().await.expect("the agents list decodes");
    let spaces: Vec<_> = all.items.iter().map(|a| a.free_space.clone()).collect();
    assert_eq!(spaces, [Some(AgentFreeSpace::Number(84983328768)), Some(AgentFreeSpace::Text("unknown".into()))]);
    // Sent back as it came.
    assert_eq!(serde_json::to_value(&lost).unwrap()["free_space"], json!("unknown"));
}

#[tokio::test]
async fn plugin_infos_without_display_name_decode_and_keep_the_configuration_type() {
    let server = recorded().await;
    let g = gocd(&server);
    let one = g.get_plugin_info("plugin.example").await.expect("a package-repository plugin decodes");
    assert_eq!(one.value.display_name, None);
    assert_eq!(one.value.r#type, PluginInfoType::PackageRepository);
    let settings = one.value.pluggable_instance_settings.as_ref().expect("settings");
    assert_eq!(settings.configurations[0].key, "URL");
    assert_eq!(settings.configurations[0].r#type.as_deref(), Some("package-repository"));

    let all = g.get_all_plugin_info().await.expect("every plugin type decodes").value.items;
    let kinds: Vec<_> = all.iter().map(|p| (p.id.as_str(), p.r#type.clone(), p.display_name.is_some())).collect();
    assert_eq!(
        kinds,
        [
            ("plugin.example", PluginInfoType::PackageRepository, false),
            ("elastic.example", PluginInfoType::ElasticAgent, false),
            ("authz.example", PluginInfoType::Authorization, false),
            ("scm.example", PluginInfoType::Scm, true),
        ]
    );
    let scm_settings = all[3].pluggable_instance_settings.as_ref().expect("settings");
    let order = scm_settings.configurations[0].metadata.as_ref().and_then(|m| m.display_order.clone());
    assert_eq!(order, Some(PluginInfoConfigurationMetadataDisplayOrder::Text("0".into())));
    // What this client does not model (`auth_config_settings`) is kept.
    assert!(all[2].extra.contains_key("auth_config_settings"));
}

#[tokio::test]
async fn a_stage_that_has_not_run_decodes() {
    let server = recorded().await;
    let history = gocd(&server).get_pipeline_history("pipeline1", None).await.expect("the history decodes");
    let stages = &history.pipelines[0].stages;
    assert_eq!(stages[0].result.as_deref(), Some("Passed"));
    let waiting = &stages[1];
    assert_eq!(waiting.name, "deploy");
    assert_eq!((&waiting.approval_type, &waiting.approved_by, &waiting.result), (&None, &None, &None));
    assert_eq!(waiting.id, None);
    assert_eq!(history.pipelines[0].counter, PipelineInstanceCounter::Text("3".into()));
    assert_eq!(
        stages[0].jobs.as_ref().unwrap()[0].pipeline_counter,
        Some(JobInstancePipelineCounter::Text("3".into()))
    );
}

#[tokio::test]
async fn a_pipeline_config_round_trip_sends_back_every_field() {
    let server = recorded().await;
    let g = gocd(&server);
    let mut read = g.get_pipeline_config("pipeline1").await.expect("get");
    assert_eq!(read.value.extra.get("display_order_weight"), Some(&json!(-1)));
    read.value.label_template = Some("${COUNT}-${gocd}".into());
    let etag = read.etag.clone().expect("an etag");
    // The fake accepts the PUT only if every field of the recorded change is in the body.
    let written = g.update_pipeline_config("pipeline1", &etag, &read.value).await.expect("put");
    assert_eq!(written.etag.as_deref(), Some("\"f8e8b4d2a1\""));
    let sent = last_json(&server);
    assert_eq!(sent["display_order_weight"], json!(-1));
    assert_eq!(sent["origin"], json!({"type": "local", "file": "cruise-config.xml"}));
    let git = &sent["materials"][0]["attributes"];
    assert_eq!((&git["username"], &git["encrypted_password"]), (&json!("bot"), &json!("AES:abc:def")));
    assert_eq!(sent["label_template"], json!("${COUNT}-${gocd}"));
}

#[tokio::test]
async fn the_api_version_is_set_per_endpoint_family() {
    let server = recorded().await;
    let g = gocd(&server);
    assert_eq!(g.api_version(ApiFamily::PipelineConfig), 3);
    let old = g.clone().with_api_version(ApiFamily::PipelineConfig, 2);
    assert_eq!(old.api_version(ApiFamily::PipelineConfig), 2);
    assert_eq!(old.api_version(ApiFamily::Agents), 4, "other families keep their version");
    let v2 = old.get_pipeline_config("pipeline1").await.expect("a 16.x server answers v2");
    assert_eq!(v2.etag.as_deref(), Some("\"16x-etag\""));
    let sent = server.last_request().unwrap();
    assert_eq!(sent.header("accept"), Some("application/vnd.go.cd.v2+json"));
    g.get_pipeline_config("pipeline1").await.expect("v3 by default");
    assert_eq!(server.last_request().unwrap().header("accept"), Some("application/vnd.go.cd.v3+json"));
    for family in ApiFamily::ALL {
        assert!(family.default_version() >= 1, "{family:?}");
    }
}

#[tokio::test]
async fn templates_listed_at_the_top_level_decode() {
    let server = recorded().await;
    let list = gocd(&server).get_all_templates().await.expect("an older server's template list decodes");
    let names: Vec<_> = list.items.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["build-template"]);
}

#[tokio::test]
async fn a_plain_text_error_labelled_json_is_the_message() {
    let server = recorded().await;
    let e = gocd(&server).get_pipeline_instance("missing", "1").await.expect_err("404");
    match &e {
        rt::Error::Status { status: 404, message, .. } => assert_eq!(message.as_deref(), Some("Not Found")),
        other => panic!("expected a 404, got {other:?}"),
    }
    assert!(e.to_string().contains("HTTP 404: Not Found"), "{e}");
}

#[tokio::test]
async fn scheduling_sends_typed_materials_and_variables() {
    let server = recorded().await;
    let g = gocd(&server);
    let options = PipelineScheduleRequest {
        materials: Some([("svn_material".to_owned(), "3456".to_owned())].into()),
        variables: Some([("ENV_VAR_1".to_owned(), "value1".to_owned())].into()),
        secure_variables: Some([("PASSWORD".to_owned(), "new_password".to_owned())].into()),
    };
    let text = g.schedule_pipeline("pipeline1", Some(&options)).await.expect("scheduled");
    assert_eq!(text, "Request to schedule pipeline pipeline1 accepted");
    let rec = server.last_request().unwrap();
    assert!(rec.mismatches.is_empty(), "{:?}", rec.mismatches);
    // The fields in struct order, or sorted when serde_json does not preserve order.
    let body = String::from_utf8_lossy(&rec.body).into_owned();
    let mut fields: Vec<&str> = body.split('&').collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "materials%5Bsvn_material%5D=3456",
            "secure_variables%5BPASSWORD%5D=new_password",
            "variables%5BENV_VAR_1%5D=value1"
        ]
    );
}

#[tokio::test]
async fn scheduling_without_options_sends_no_body() {
    let server = GoCdServer::start().await;
    gocd(&server).schedule_pipeline("pipeline1", None).await.expect("the documented call");
    let rec = server.last_request().unwrap();
    assert!(rec.body.is_empty());
    assert_eq!(rec.header("content-type"), None);
}

#[tokio::test]
async fn environments_are_created_and_updated_without_pipelines() {
    let server = recorded().await;
    let g = gocd(&server);
    let created = g
        .create_environment_config(&EnvironmentConfig {
            links: None,
            name: "quiet".into(),
            pipelines: None,
            agents: None,
            environment_variables: None,
            extra: Default::default(),
        })
        .await
        .expect("created");
    assert_eq!(last_json(&server), json!({"name": "quiet"}));
    let mut env = created.value;
    env.pipelines = None;
    env.agents = None;
    env.environment_variables = Some(vec![EnvironmentVariable {
        name: "LANG".into(),
        value: Some("C".into()),
        encrypted_value: None,
        secure: Some(false),
        extra: Default::default(),
    }]);
    g.update_environment_config("quiet", "\"env-1\"", &env).await.expect("updated");
    let sent = last_json(&server);
    assert!(sent.get("pipelines").is_none(), "{sent}");
}

#[tokio::test]
async fn dot_path_parameters_reach_their_route_or_are_refused() {
    let server = GoCdServer::start().await;
    server.on("GET", "/go/api/pipelines/a/../b/status", |_| {
        Reply::json(200, &json!({"locked": false, "paused": false, "schedulable": true}))
    });
    let g = gocd(&server);
    g.get_pipeline_status("a/../b").await.expect("a value with slashes and dots is one segment");
    let rec = server.last_request().unwrap();
    assert_eq!(rec.raw_path, "/go/api/pipelines/a%2F..%2Fb/status");
    let before = server.request_count();
    for value in [".", ".."] {
        let e = g.get_pipeline_status(value).await.expect_err("refused");
        assert!(matches!(e, rt::Error::InvalidInput(ref m) if m.contains("cannot carry")), "{value}: {e}");
    }
    // A wildcard path keeps its `/`, so its `..` would climb out of the route: refused too.
    let mut sink = Vec::new();
    let e = g.get_artifact_file("p", "1", "s", "1", "j", "logs/../../../secret", &mut sink).await.expect_err("refused");
    assert!(matches!(e, rt::Error::InvalidInput(_)), "{e}");
    assert_eq!(server.request_count(), before, "nothing was sent");
}

#[tokio::test]
async fn a_zip_that_never_gets_ready_reports_every_poll_and_the_real_time() {
    let server = GoCdServer::start().await;
    let path = "/go/files/p/1/s/1/j/dir.zip";
    server.not_ready(path, 100);
    let started = Instant::now();
    let mut sink = Vec::new();
    let e = gocd(&server)
        .get_artifact_directory("p", "1", "s", "1", "j", "dir", &mut sink, Duration::from_millis(700))
        .await
        .expect_err("never ready");
    let elapsed = started.elapsed();
    let polls = server.hits("GET", path);
    assert!(polls >= 2, "polled {polls} times");
    assert_eq!(e.attempts() as usize, polls, "{e}");
    let rt::Error::Status { status: 202, message: Some(message), .. } = &e else { panic!("{e:?}") };
    assert!(message.starts_with(&format!("still not ready after {polls} polls in ")), "{message}");
    let reported: f64 = message.split(" in ").nth(1).and_then(|m| m.split(' ').next()).unwrap().parse().unwrap();
    assert!((reported - elapsed.as_secs_f64()).abs() < 0.2, "reported {reported} s, measured {elapsed:?}");
    assert!(e.to_string().contains(&format!("({polls} attempts)")), "{e}");
}

/// A material, task or tracking tool of a type this client does not know (a plugin's, or a
/// newer server's) is kept whole: read, changed elsewhere and sent back, it loses nothing.
#[test]
fn unknown_material_task_and_tracking_tool_types_survive_a_round_trip() {
    let material = json!({"type": "svn-ng", "attributes": {"url": "svn://x", "shiny": true}, "fingerprint": "abc"});
    let m: gocd::MaterialConfig = serde_json::from_value(material.clone()).expect("unknown type decodes");
    assert!(matches!(m, gocd::MaterialConfig::Other(_)), "{m:?}");
    assert_eq!(serde_json::to_value(&m).unwrap(), material);
    let task = json!({"type": "docker-run", "attributes": {"image": "alpine"}});
    let t: gocd::TaskConfig = serde_json::from_value(task.clone()).expect("unknown task type decodes");
    assert_eq!(serde_json::to_value(&t).unwrap(), task);
    // Known types still decode to their variant, and a known type with a wrong body is an error.
    let git = json!({"type": "git", "attributes": {"url": "https://example.com/r.git"}});
    let m: gocd::MaterialConfig = serde_json::from_value(git.clone()).unwrap();
    assert!(matches!(m, gocd::MaterialConfig::Git(_)), "{m:?}");
    assert_eq!(serde_json::to_value(&m).unwrap()["attributes"]["url"], git["attributes"]["url"]);
    assert!(serde_json::from_value::<gocd::MaterialConfig>(json!({"type": "git", "attributes": 3})).is_err());
}
