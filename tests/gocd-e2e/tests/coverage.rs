//! The endpoint descriptions cover exactly the checklist of documented endpoints, and every
//! description has a documented example (or a behaviour test where the seed shows none).

use std::collections::{BTreeMap, BTreeSet};

use fake_servers::gocd::{checklist_route_matches, descriptions_dir, json_files, load_checklist, load_examples};
use serde_json::Value;

/// Endpoints the seed shows no example for; `tests/behaviour.rs` calls them instead.
const WITHOUT_EXAMPLE: &[&str] = &["getArtifactFile", "getArtifactDirectory"];

/// Checklist entries whose path is wrong: `(index, the checklist's path, the path real servers
/// answer)`. The seed's curl examples call the plural path, and so do real servers (issue 8);
/// the "HTTP Request" line the checklist copied is singular.
const CORRECTED: &[(u64, &str, &str)] = &[
    (59, "/go/api/admin/template/:template_name", "/go/api/admin/templates/:template_name"),
    (88, "/go/api/admin/package/:package_id", "/go/api/admin/packages/:package_id"),
];

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
            let mut path = c["path"].as_str().expect("path");
            if let Some((_, listed, real)) = CORRECTED.iter().find(|(i, ..)| c["index"].as_u64() == Some(*i)) {
                assert_eq!(
                    path, *listed,
                    "checklist entry {} changed; drop it from CORRECTED if it is fixed",
                    c["index"]
                );
                let notes = c["notes"].to_string();
                let curl = real.split(':').next().unwrap_or(real);
                assert!(
                    notes.contains(curl),
                    "entry {}: the checklist's notes no longer show the curl path {curl}",
                    c["index"]
                );
                path = real;
            }
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

/// The `Accept` the seed shows for a checklist entry: the curl's, else the media type of the
/// documented answer, else (CSV and text answers shown without a `Content-Type`) the type real
/// servers send; `None` only for file downloads, whose type depends on the file.
fn seed_accept(c: &Value) -> Option<String> {
    if let Some(a) = c["accept"].as_str() {
        return Some(a.to_owned());
    }
    if let Some(ct) = c["response_content_type"].as_str() {
        return Some(ct.split(';').next().unwrap_or(ct).trim().to_owned());
    }
    match c["response_kind"].as_str() {
        Some("csv") => Some("text/csv".into()),
        Some("text") => Some("text/plain".into()),
        _ => None,
    }
}

#[test]
fn every_endpoint_sends_the_media_type_the_seed_shows() {
    let mut described: BTreeMap<(String, String), (String, Option<String>)> = BTreeMap::new();
    for file in json_files(&descriptions_dir()) {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for e in doc["entries"].as_array().unwrap() {
            let key =
                (e["method"].as_str().unwrap().to_ascii_uppercase(), checklist_notation(e["route"].as_str().unwrap()));
            described.insert(key, (e["name"].as_str().unwrap().to_owned(), e["accept"].as_str().map(str::to_owned)));
        }
    }
    let mut problems = Vec::new();
    let mut without = Vec::new();
    for c in load_checklist() {
        let method = c["method"].as_str().unwrap().to_ascii_uppercase();
        let listed = c["path"].as_str().unwrap();
        let path = CORRECTED.iter().find(|(i, ..)| c["index"].as_u64() == Some(*i)).map_or(listed, |(.., real)| real);
        let (name, accept) = &described[&(method, path.split('?').next().unwrap().to_owned())];
        let expected = seed_accept(&c);
        if *accept != expected {
            problems.push(format!("{} {name}: sends {accept:?}, the seed shows {expected:?}", c["index"]));
        }
        if accept.is_none() {
            without.push(name.clone());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Only downloads of arbitrary files leave the type open (`*/*`).
    assert_eq!(without, ["getArtifactFile", "getArtifactDirectory"]);
}

/// Every generated GoCD type keeps the properties it does not name (issue 8): only the
/// scheduling options, which the user builds and the client encodes field by field, are closed.
#[test]
fn every_gocd_struct_keeps_unknown_fields() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../generated/gocd/src/types.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut closed = Vec::new();
    let mut structs = 0;
    for (i, _) in text.match_indices("pub struct ") {
        let rest = &text[i + "pub struct ".len()..];
        let name = rest.split([' ', '{', '(']).next().unwrap();
        let body = &rest[..rest.find("\n}").unwrap_or(rest.len())];
        structs += 1;
        if !body.contains("#[serde(flatten)]") {
            closed.push(name.to_owned());
        }
    }
    assert!(structs > 100, "only {structs} structs found");
    assert_eq!(closed, ["PipelineScheduleRequest"]);
}
