//! Bad input: a clear error naming the file and JSON pointer, a non-zero exit, and
//! `generated/` untouched.

use std::path::{Path, PathBuf};
use std::process::Command;

use codegen::{generate, Inputs};

mod common;
use common::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// Copies the fixture `which` ("tc" or "gocd"), lets `edit` break it, and returns the error.
fn error_after(which: &str, edit: impl FnOnce(&Path)) -> codegen::Error {
    let dir = TempDir::new("bad");
    copy_dir(&fixture(which), &dir);
    edit(&dir);
    let inputs = match which {
        "tc" => Inputs { taskcluster: Some(dir.to_path_buf()), gocd: None },
        _ => Inputs { taskcluster: None, gocd: Some(dir.to_path_buf()) },
    };
    generate(&inputs).expect_err("bad input must fail")
}

fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

fn api(dir: &Path) -> PathBuf {
    dir.join("references/fake/v1/api.json")
}

fn thing(dir: &Path) -> PathBuf {
    dir.join("schemas/fake/v1/thing.json")
}

/// Asserts the error's file ends with `file`, its pointer is `pointer`, and its message
/// contains `message`.
fn expect(e: codegen::Error, file: &str, pointer: &str, message: &str) {
    assert!(e.file.ends_with(file), "file {:?} should end with {file:?} ({e})", e.file);
    assert_eq!(e.pointer, pointer, "{e}");
    assert!(e.message.contains(message), "{:?} should contain {message:?}", e.message);
    let shown = e.to_string();
    assert!(shown.contains(file) && shown.contains(pointer), "{shown}");
}

#[test]
fn malformed_json_in_a_schema() {
    let e = error_after("tc", |d| std::fs::write(thing(d), "{ \"type\": ").unwrap());
    expect(e, "schemas/fake/v1/thing.json", "", "malformed JSON");
}

#[test]
fn malformed_bundle() {
    let dir = TempDir::new("bundle");
    let path = dir.join("references.json");
    std::fs::write(&path, "[{\"filename\": \"references/manifest.json\", \"content\": {}},").unwrap();
    let e = generate(&Inputs { taskcluster: Some(path.clone()), gocd: None }).unwrap_err();
    expect(e, "references.json", "", "malformed JSON");
    std::fs::write(&path, r#"[{"filename": 7, "content": {}}]"#).unwrap();
    let e = generate(&Inputs { taskcluster: Some(path), gocd: None }).unwrap_err();
    expect(e, "references.json", "/0/filename", "not a string");
}

#[test]
fn ref_to_a_missing_file() {
    let e = error_after("tc", |d| {
        edit_json(&thing(d), |v| v["properties"]["hashes"]["$ref"] = "nowhere.json#/definitions/download".into())
    });
    expect(e, "schemas/fake/v1/thing.json", "/properties/hashes/$ref", "no schema file schemas/fake/v1/nowhere.json");
}

#[test]
fn ref_to_a_missing_pointer() {
    let e = error_after("tc", |d| {
        edit_json(&thing(d), |v| v["properties"]["storage"]["$ref"] = "#/definitions/nope".into())
    });
    expect(e, "schemas/fake/v1/thing.json", "/properties/storage/$ref", "no schema at");
}

#[test]
fn ref_to_an_absolute_url() {
    let e = error_after("tc", |d| {
        edit_json(&thing(d), |v| v["properties"]["storage"]["$ref"] = "https://example.com/x.json#".into())
    });
    expect(e, "schemas/fake/v1/thing.json", "/properties/storage/$ref", "absolute URLs are not supported");
}

#[test]
fn unsupported_type() {
    let e = error_after("tc", |d| edit_json(&thing(d), |v| v["properties"]["offset"]["type"] = "tuple".into()));
    expect(e, "schemas/fake/v1/thing.json", "/properties/offset/type", "unsupported type \"tuple\"");
}

#[test]
fn schema_that_is_not_an_object() {
    let e = error_after("tc", |d| edit_json(&thing(d), |v| v["properties"]["ratio"] = 5.into()));
    expect(e, "schemas/fake/v1/thing.json", "/properties/ratio", "a schema must be an object");
}

#[test]
fn route_parameter_missing_from_args() {
    let e = error_after("tc", |d| edit_json(&api(d), |v| v["entries"][1]["args"] = serde_json::json!([])));
    expect(e, "references/fake/v1/api.json", "/entries/1/route", "route parameter <thingId> is missing from args");
}

#[test]
fn duplicate_function_names() {
    let e = error_after("tc", |d| edit_json(&api(d), |v| v["entries"][2]["name"] = "createThing".into()));
    expect(e, "references/fake/v1/api.json", "/entries/2/name", "duplicate function name");
}

#[test]
fn missing_function_name() {
    let e = error_after("tc", |d| {
        edit_json(&api(d), |v| {
            v["entries"][0].as_object_mut().unwrap().remove("name");
        })
    });
    expect(e, "references/fake/v1/api.json", "/entries/0/name", "missing");
}

#[test]
fn unknown_method() {
    let e = error_after("tc", |d| edit_json(&api(d), |v| v["entries"][0]["method"] = "fetch".into()));
    expect(e, "references/fake/v1/api.json", "/entries/0/method", "expected one of get");
}

#[test]
fn unknown_stability() {
    let e = error_after("tc", |d| edit_json(&api(d), |v| v["entries"][0]["stability"] = "beta".into()));
    expect(e, "references/fake/v1/api.json", "/entries/0/stability", "unknown stability \"beta\"");
}

#[test]
fn bad_scope_expression() {
    let e = error_after("tc", |d| edit_json(&api(d), |v| v["entries"][1]["scopes"]["AllOf"][0] = 42.into()));
    expect(e, "references/fake/v1/api.json", "/entries/1/scopes/AllOf/0", "not a scope expression");
}

#[test]
fn function_input_file_missing() {
    let e = error_after("tc", |d| std::fs::remove_file(d.join("schemas/fake/v1/thing-status.json")).unwrap());
    expect(e, "schemas/fake/v1/thing-status.json", "", "no such schema file");
}

#[test]
fn manifest_lists_a_missing_reference() {
    let e = error_after("tc", |d| std::fs::remove_file(d.join("references/fake/v1/exchanges.json")).unwrap());
    expect(e, "references/manifest.json", "", "references/fake/v1/exchanges.json, which is not in the input");
}

#[test]
fn two_multi_word_routing_key_elements() {
    let e = error_after("tc", |d| {
        edit_json(&d.join("references/fake/v1/exchanges.json"), |v| {
            v["entries"][0]["routingKey"][2]["multipleWords"] = true.into()
        })
    });
    expect(e, "references/fake/v1/exchanges.json", "/entries/0/routingKey", "at most one routing-key element");
}

#[test]
fn gocd_unknown_field() {
    let e = error_after("gocd", |d| {
        edit_json(&d.join("endpoints/01-things.json"), |v| v["entries"][3]["encoding"] = "json".into())
    });
    expect(e, "endpoints/01-things.json", "/entries/3/encoding", "unknown field `encoding`");
}

#[test]
fn gocd_bad_enum_value() {
    let e = error_after("gocd", |d| {
        edit_json(&d.join("endpoints/01-things.json"), |v| v["entries"][2]["request"] = "yaml".into())
    });
    expect(e, "endpoints/01-things.json", "/entries/2/request", "unknown variant `yaml`");
}

#[test]
fn gocd_hal_without_embedded_key() {
    let e = error_after("gocd", |d| {
        edit_json(&d.join("endpoints/01-things.json"), |v| v["entries"][0]["embedded"] = serde_json::Value::Null)
    });
    expect(e, "endpoints/01-things.json", "/entries/0/embedded", "needs the `_embedded` key");
}

#[test]
fn gocd_duplicate_endpoint() {
    let e = error_after("gocd", |d| {
        edit_json(&d.join("endpoints/01-things.json"), |v| v["entries"][1]["name"] = "getAllThings".into())
    });
    expect(e, "endpoints/01-things.json", "/entries/1/name", "duplicate endpoint name");
}

#[test]
fn gocd_header_that_follows_from_other_fields() {
    let e = error_after("gocd", |d| {
        edit_json(&d.join("endpoints/01-things.json"), |v| v["entries"][2]["headers"]["If-Match"] = "\"x\"".into())
    });
    expect(e, "endpoints/01-things.json", "/entries/2/headers", "not a constant extra header");
}

#[test]
fn gocd_output_schema_missing() {
    let e = error_after("gocd", |d| std::fs::remove_file(d.join("objects/thing.json")).unwrap());
    expect(e, "schemas/gocd/thing.json", "", "no such schema file");
}

#[test]
fn cli_fails_with_a_located_error_and_leaves_generated_untouched() {
    let dir = TempDir::new("cli");
    let refs = dir.join("refs");
    copy_dir(&fixture("tc"), &refs);
    let out = dir.join("generated");
    let run = |refs: &Path| {
        Command::new(env!("CARGO_BIN_EXE_codegen"))
            .args(["generate", "--references"])
            .arg(refs)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    assert!(run(&refs).status.success());
    let snapshot = |p: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        let mut stack = vec![p.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        files.sort();
        files
    };
    let before = snapshot(&out);
    edit_json(&api(&refs), |v| v["entries"][1]["args"] = serde_json::json!([]));
    let failed = run(&refs);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("references/fake/v1/api.json#/entries/1/route"), "{stderr}");
    assert_eq!(snapshot(&out), before, "generated/ must be untouched after a failed run");

    // The drift check exits non-zero and names the stale file.
    std::fs::write(out.join("taskcluster-fake/src/lib.rs"), "// stale\n").unwrap();
    edit_json(&api(&refs), |v| v["entries"][1]["args"] = serde_json::json!(["thingId"]));
    let check = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .args(["generate", "--check", "--references"])
        .arg(&refs)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert!(String::from_utf8_lossy(&check.stderr).contains("taskcluster-fake/src/lib.rs"));
}
