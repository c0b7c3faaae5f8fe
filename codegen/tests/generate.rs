//! The generator end to end: snapshots of fixture crates, determinism, writing and the drift
//! check, and the full Taskcluster bundle.

use std::path::{Path, PathBuf};

use codegen::{generate, output, Inputs};

mod common;
use common::TempDir;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn bundle() -> PathBuf {
    fake_servers::shared::references()
}

fn fixture_inputs() -> Inputs {
    Inputs { taskcluster: Some(fixtures().join("tc")), gocd: Some(fixtures().join("gocd")) }
}

#[test]
fn fixture_snapshots() {
    let files = generate(&fixture_inputs()).unwrap();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "gocd/Cargo.toml",
            "gocd/src/blocking.rs",
            "gocd/src/endpoints.rs",
            "gocd/src/lib.rs",
            "gocd/src/types.rs",
            "rustfmt.toml",
            "taskcluster-fake/Cargo.toml",
            "taskcluster-fake/src/blocking.rs",
            "taskcluster-fake/src/endpoints.rs",
            "taskcluster-fake/src/exchanges.rs",
            "taskcluster-fake/src/lib.rs",
            "taskcluster-fake/src/types.rs",
            "taskcluster-tiny-worker/Cargo.toml",
            "taskcluster-tiny-worker/src/lib.rs",
            "taskcluster-tiny-worker/src/payload.rs",
            "taskcluster-tiny-worker/src/posix.rs",
        ]
    );
    for (name, content) in &files {
        insta::assert_snapshot!(name.replace('/', "__"), content);
    }
}

#[test]
fn output_is_deterministic() {
    assert_eq!(generate(&fixture_inputs()).unwrap(), generate(&fixture_inputs()).unwrap());
    let full = Inputs { taskcluster: Some(bundle()), gocd: None };
    assert_eq!(generate(&full).unwrap(), generate(&full).unwrap());
}

#[test]
fn full_bundle_generates_every_service() {
    let files = generate(&Inputs { taskcluster: Some(bundle()), gocd: None }).unwrap();
    let crates: std::collections::BTreeSet<&str> = files.keys().filter_map(|k| k.split('/').next()).collect();
    for c in [
        "taskcluster-auth",
        "taskcluster-github",
        "taskcluster-hooks",
        "taskcluster-index",
        "taskcluster-notify",
        "taskcluster-object",
        "taskcluster-purge-cache",
        "taskcluster-queue",
        "taskcluster-secrets",
        "taskcluster-web-server",
        "taskcluster-worker-manager",
        "taskcluster-generic-worker",
        "taskcluster-docker-worker",
    ] {
        assert!(crates.contains(c), "{c} missing from {crates:?}");
    }
    // built-in-workers has only logs and metrics references: no crate.
    assert!(!crates.contains("taskcluster-built-in-workers"));
    // 36 exchanges become 36 bindings.
    let bindings: usize = files
        .iter()
        .filter(|(k, _)| k.ends_with("exchanges.rs"))
        .map(|(_, v)| v.matches("impl Binding for").count())
        .sum();
    assert_eq!(bindings, 36);
    // 35 functions page with continuationToken; each whose output carries the token gets a stream.
    let pages: usize = files.values().map(|v| v.matches("_pages<'a>(").count()).sum();
    assert!(pages >= 30, "{pages} paging streams");
    // Worker payloads are typed.
    assert!(files["taskcluster-docker-worker/src/lib.rs"].contains("pub struct Payload"));
    // Every worker payload module's root is a `Payload` struct; a choice of payloads is `AnyPayload`.
    for m in ["insecure_posix", "multiuser_posix", "multiuser_windows"] {
        assert!(files[&format!("taskcluster-generic-worker/src/{m}.rs")].contains("pub struct Payload {"), "{m}");
    }
    assert!(files["taskcluster-generic-worker/src/multiuser_posix.rs"].contains("pub enum AnyPayload {"));
    // Old clients must not break on new servers.
    let all: String = files.values().cloned().collect();
    assert!(!all.contains("deny_unknown_fields"));
}

#[test]
fn the_committed_generated_directory_is_up_to_date() {
    // The drift check CI runs, as a test: generated/ must be what the generator makes now.
    let inputs = Inputs {
        taskcluster: Some(bundle()),
        gocd: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/gocd")),
    };
    let files = generate(&inputs).unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated");
    let stale = output::check(&out, &files).unwrap();
    assert!(stale.is_empty(), "stale generated files (run ./build.sh): {stale:?}");
}

#[test]
fn gocd_docs_carry_no_maintainer_notes() {
    // Notes about our sources (the scraped documentation, the endpoints checklist, the
    // doc-inconsistencies list) belong in `$comment` or `decisions`, never in a doc comment.
    let inputs =
        Inputs { taskcluster: None, gocd: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/gocd")) };
    let files = generate(&inputs).unwrap();
    let mut offending = Vec::new();
    for (name, content) in files.iter().filter(|(name, _)| name.starts_with("gocd/")) {
        for (i, line) in content.lines().enumerate() {
            let doc = line.trim_start();
            let is_doc = doc.starts_with("///") || doc.starts_with("//!") || doc.starts_with("#[doc");
            let lower = doc.to_lowercase();
            if is_doc && ["seed", "checklist", "doc-inconsistenc"].iter().any(|w| lower.contains(w)) {
                offending.push(format!("{name}:{}: {doc}", i + 1));
            }
        }
    }
    assert!(offending.is_empty(), "maintainer notes in gocd doc comments:\n{}", offending.join("\n"));
}

#[test]
fn write_rewrites_only_changed_files_and_check_names_drift() {
    let dir = TempDir::new("write");
    let files = generate(&fixture_inputs()).unwrap();
    let first = output::write(&dir, &files).unwrap();
    assert_eq!(first.written.len(), files.len());
    assert!(output::check(&dir, &files).unwrap().is_empty());

    // A second run touches nothing.
    let lib = dir.join("taskcluster-fake/src/lib.rs");
    let mtime = std::fs::metadata(&lib).unwrap().modified().unwrap();
    let again = output::write(&dir, &files).unwrap();
    assert!(again.written.is_empty());
    assert_eq!(again.unchanged, files.len());
    assert_eq!(std::fs::metadata(&lib).unwrap().modified().unwrap(), mtime);

    // Drift: an edited file and a stale file are named; writing repairs both.
    std::fs::write(&lib, "// edited by hand\n").unwrap();
    std::fs::write(dir.join("taskcluster-fake/src/old.rs"), "// gone from the API\n").unwrap();
    assert_eq!(output::check(&dir, &files).unwrap(), ["taskcluster-fake/src/lib.rs", "taskcluster-fake/src/old.rs"]);
    let repair = output::write(&dir, &files).unwrap();
    assert_eq!(repair.written, ["taskcluster-fake/src/lib.rs"]);
    assert_eq!(repair.removed, ["taskcluster-fake/src/old.rs"]);
    assert!(output::check(&dir, &files).unwrap().is_empty());

    // A crate the generator no longer makes is removed; a directory that is not ours stays.
    std::fs::create_dir_all(dir.join("handwritten/src")).unwrap();
    std::fs::write(dir.join("handwritten/Cargo.toml"), "[package]\nname = \"handwritten\"\n").unwrap();
    let only_gocd: codegen::emit::Files =
        files.iter().filter(|(k, _)| k.starts_with("gocd/")).map(|(k, v)| (k.clone(), v.clone())).collect();
    let report = output::write(&dir, &only_gocd).unwrap();
    assert!(report.removed.iter().any(|r| r.starts_with("taskcluster-fake/")));
    assert!(!dir.join("taskcluster-fake").exists());
    assert!(dir.join("handwritten/Cargo.toml").exists());
}

#[test]
fn gocd_description_schema_is_in_sync() {
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/gocd/description.schema.json"))
            .expect("schemas/gocd/description.schema.json (run `codegen gocd-schema`)");
    assert_eq!(committed, codegen::gocd::description_schema(), "run `codegen gocd-schema`");
}

/// `additionalProperties` as JSON Schema reads it: absent, `true` and `{}` keep unknown
/// properties in a flattened map, a schema types that map, only `false` closes the struct.
#[test]
fn additional_properties_snapshot() {
    let dir = fixtures().join("open-objects");
    let files = generate(&Inputs { taskcluster: Some(dir), gocd: None }).unwrap();
    let lib = files.get("taskcluster-open-objects/src/lib.rs").expect("the schema folder becomes a crate");
    insta::assert_snapshot!("open_objects__lib.rs", lib);
}
