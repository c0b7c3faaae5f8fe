//! The endpoint descriptions cover exactly the checklist of documented endpoints, and every
//! description has a documented example (or a behaviour test where the seed shows none).

use std::collections::{BTreeMap, BTreeSet};

use fake_servers::gocd::{checklist_route_matches, descriptions_dir, json_files, load_checklist, load_examples};
use serde_json::Value;

/// Endpoints the seed shows no example for; `tests/behaviour.rs` calls them instead.
const WITHOUT_EXAMPLE: &[&str] = &["getArtifactFile", "getArtifactDirectory"];

/// `(name, METHOD, route)` of every description entry.
fn descriptions() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for file in json_files(&descriptions_dir()) {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let Some(Value::Array(entries)) = doc.get("entries") else {
            panic!("{}: no entries", file.display());
        };
        for e in entries {
            let s =
                |k: &str| e[k].as_str().unwrap_or_else(|| panic!("{}: entry without {k}", file.display())).to_owned();
            out.push((s("name"), s("method").to_ascii_uppercase(), s("route")));
        }
    }
    out
}

/// A description route in the checklist's notation: `/go` prefix, `<x>` → `:x`, `<*x>` → `*x`,
/// an optional `[/<x>]` tail dropped.
fn checklist_notation(route: &str) -> String {
    let route = match route.find("[/") {
        Some(i) if route.ends_with(']') => &route[..i],
        _ => route,
    };
    format!("/go{}", route.replace("<*", "*").replace('<', ":").replace('>', ""))
}

#[test]
fn route_notation() {
    assert_eq!(checklist_notation("/api/agents/<uuid>"), "/go/api/agents/:uuid");
    assert_eq!(
        checklist_notation("/api/pipelines/<pipeline_name>/history[/<offset>]"),
        "/go/api/pipelines/:pipeline_name/history"
    );
    assert_eq!(checklist_notation("/files/<a>/<*path_to_directory>.zip"), "/go/files/:a/*path_to_directory.zip");
}

#[test]
fn the_descriptions_cover_exactly_the_checklist() {
    let checklist = load_checklist();
    let expected: Vec<(String, String)> = checklist
        .iter()
        .map(|c| {
            let method = c["method"].as_str().expect("method").to_ascii_uppercase();
            let path = c["path"].as_str().expect("path");
            (method, path.split('?').next().unwrap_or(path).to_owned())
        })
        .collect();
    let described: Vec<(String, String)> =
        descriptions().into_iter().map(|(_, m, r)| (m, checklist_notation(&r))).collect();

    let expected_set: BTreeSet<_> = expected.iter().cloned().collect();
    let described_set: BTreeSet<_> = described.iter().cloned().collect();
    assert_eq!(expected.len(), 88, "the checklist lists 88 endpoints");
    assert_eq!(expected_set.len(), expected.len(), "the checklist repeats an endpoint");
    assert_eq!(described_set.len(), described.len(), "two descriptions share a method and route");
    let missing: Vec<_> = expected_set.difference(&described_set).collect();
    let extra: Vec<_> = described_set.difference(&expected_set).collect();
    assert!(missing.is_empty() && extra.is_empty(), "not described: {missing:?}\nnot in the checklist: {extra:?}");
}

#[test]
fn every_description_has_an_example_whose_path_fits_its_route() {
    let descriptions = descriptions();
    let by_name: BTreeMap<&str, (&str, &str)> =
        descriptions.iter().map(|(n, m, r)| (n.as_str(), (m.as_str(), r.as_str()))).collect();
    assert_eq!(by_name.len(), descriptions.len(), "description names are unique");

    let examples = load_examples();
    let mut problems = Vec::new();
    for ex in &examples {
        let Some((method, route)) = by_name.get(ex.endpoint.as_str()) else {
            problems.push(format!("{}: no description named so", ex.label()));
            continue;
        };
        if *method != ex.method {
            problems.push(format!("{}: the description says {method}", ex.label()));
        }
        let full = checklist_notation(route);
        let optional_tail = route.ends_with("]") && checklist_route_matches(&format!("{full}/:tail"), &ex.path);
        if !checklist_route_matches(&full, &ex.path) && !optional_tail {
            problems.push(format!("{}: the path does not fit the route {route}", ex.label()));
        }
    }
    let with_example: BTreeSet<&str> = examples.iter().map(|e| e.endpoint.as_str()).collect();
    for name in by_name.keys() {
        if !with_example.contains(name) && !WITHOUT_EXAMPLE.contains(name) {
            problems.push(format!("{name}: no example and no behaviour test"));
        }
    }
    for name in WITHOUT_EXAMPLE {
        assert!(by_name.contains_key(name), "{name} is not described");
        assert!(!with_example.contains(name), "{name} has an example now; drop it from WITHOUT_EXAMPLE");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(with_example.len() + WITHOUT_EXAMPLE.len(), by_name.len());
}
