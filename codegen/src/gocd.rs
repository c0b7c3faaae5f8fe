//! Our GoCD endpoint description format (see `schemas/gocd/README.md`) and its loader.
//!
//! The format's JSON Schema (`schemas/gocd/description.schema.json`) is derived from these
//! structs with `schemars`, so the documented format and the parser cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::*;
use crate::source::{read_json, Documents};

/// One file of `schemas/gocd/endpoints/`: the endpoints of one section of the GoCD documentation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionFile {
    /// JSON Schema of this format (for editors).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Section name, e.g. `Agents`.
    pub category: String,
    /// What the section is about.
    #[serde(default)]
    pub description: String,
    /// The endpoints, in documentation order.
    pub entries: Vec<Entry>,
}

/// One endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// camelCase, unique across all files; the Rust method is its snake_case form.
    pub name: String,
    /// Short title.
    pub title: String,
    /// Markdown description.
    #[serde(default)]
    pub description: String,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path below the server URL ending in `/go`: `<p>` one segment, `<*p>` a path, `[/<p>]` optional tail.
    pub route: String,
    /// Route parameters in route order.
    #[serde(default)]
    pub args: Vec<String>,
    /// Query parameter names.
    #[serde(default)]
    pub query: Vec<String>,
    /// Request body schema (relative to `objects/`), for `json`, `form` and `multipart` requests.
    #[serde(default)]
    pub input: Option<String>,
    /// Response schema (relative to `objects/`); for `hal`, the schema of one element.
    #[serde(default)]
    pub output: Option<String>,
    /// GoCD version that introduced the endpoint.
    #[serde(default)]
    pub since: Option<String>,
    /// The `Accept` header to send; `null` for none.
    #[serde(default)]
    pub accept: Option<String>,
    /// Constant extra request headers (e.g. `Confirm: true`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request encoding.
    pub request: RequestKind,
    /// Response decoding.
    pub response: ResponseKind,
    /// For `hal`: the key under `_embedded`.
    #[serde(default)]
    pub embedded: Option<String>,
    /// ETag behaviour.
    pub etag: EtagKind,
    /// Documented success status.
    pub status: u16,
    /// Decisions taken where the documentation contradicts itself.
    #[serde(default)]
    pub decisions: Vec<String>,
}

/// The JSON Schema of [`SectionFile`], pretty-printed with a trailing newline.
pub fn description_schema() -> String {
    let schema = schemars::schema_for!(SectionFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// Loads `dir` (`schemas/gocd`): the service, its endpoints, and its object schemas (registered
/// in `docs` as `schemas/gocd/<file>`).
pub fn load(dir: &Path, docs: &mut Documents) -> Result<Service> {
    let service_path = dir.join("service.json");
    let service = read_json(&service_path)?;
    let text = |k: &str| service.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let name = service_path.display().to_string();
    let title = text("title").ok_or_else(|| Error::at(&name, "/title", "missing"))?;
    let description = text("description").unwrap_or_default();

    let objects = dir.join("objects");
    for entry in sorted_json_files(&objects)? {
        let file = entry.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        docs.insert(&format!("schemas/gocd/{file}"), read_json(&entry)?);
    }

    let mut functions = Vec::new();
    let mut names = BTreeSet::new();
    // Section → the API version of its versioned `Accept`: the client sets versions per section.
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    // Generated headers name the descriptions by their place in the repository, whatever
    // path the generator was given, so the output does not depend on where it ran.
    let canonical = |p: &Path| format!("schemas/gocd/{}", p.strip_prefix(dir).unwrap_or(p).display());
    let mut sources = vec![canonical(&service_path)];
    for path in sorted_json_files(&dir.join("endpoints"))? {
        let file = path.display().to_string();
        let value = read_json(&path)?;
        let section: SectionFile =
            serde_path_to_error::deserialize(value).map_err(|e| locate_serde_error(&file, &e))?;
        sources.push(canonical(&path));
        for (i, e) in section.entries.into_iter().enumerate() {
            let at = format!("/entries/{i}");
            if !names.insert(e.name.clone()) {
                return Err(Error::at(&file, format!("{at}/name"), format!("duplicate endpoint name {:?}", e.name)));
            }
            if let Some(accept) = e.accept.as_deref().filter(|a| a.starts_with("application/vnd.go.cd.v")) {
                let known = versions.entry(section.category.clone()).or_insert_with(|| accept.to_owned());
                if known != accept {
                    return Err(Error::at(&file, format!("{at}/accept"), format!("{accept:?} differs from {known:?} of another {:?} endpoint: a section's endpoints share one API version (the client sets it per section)", section.category)));
                }
            }
            functions.push(entry_function(&file, &at, &section.category, e)?);
        }
    }
    Ok(Service {
        flavor: Flavor::GoCd,
        crate_name: "gocd".into(),
        client_name: "GoCd".into(),
        title,
        description,
        functions,
        exchanges: None,
        sources,
    })
}

fn entry_function(file: &str, at: &str, category: &str, e: Entry) -> Result<Function> {
    let pieces = crate::route::parse(&e.route, &e.args).map_err(|m| Error::at(file, format!("{at}/route"), m))?;
    let schema = |key: &str, v: &Option<String>| -> Result<Option<SchemaRef>> {
        let Some(text) = v else { return Ok(None) };
        let (path, pointer) = text.split_once('#').unwrap_or((text, ""));
        if path.is_empty() || path.contains('/') {
            return Err(Error::at(
                file,
                format!("{at}/{key}"),
                format!("{text:?}: name a file in objects/, like `agent.json#`"),
            ));
        }
        Ok(Some(SchemaRef { doc: format!("schemas/gocd/{path}"), pointer: pointer.to_owned() }))
    };
    let needs_output = matches!(e.response, ResponseKind::Json | ResponseKind::Hal);
    if needs_output && e.output.is_none() {
        return Err(Error::at(file, format!("{at}/output"), "a json or hal response needs an output schema"));
    }
    if e.response == ResponseKind::Hal && e.embedded.is_none() {
        return Err(Error::at(file, format!("{at}/embedded"), "a hal response needs the `_embedded` key"));
    }
    if matches!(e.request, RequestKind::Json | RequestKind::Form) && e.input.is_none() {
        return Err(Error::at(file, format!("{at}/input"), "a json or form request needs an input schema"));
    }
    for k in e.headers.keys() {
        let lower = k.to_ascii_lowercase();
        if lower == "content-type"
            || lower == "if-match"
            || lower == "accept"
            || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::at(file, format!("{at}/headers"), format!("header {k:?} is not a constant extra header (Accept, Content-Type and If-Match follow from accept, request and etag)")));
        }
    }
    Ok(Function {
        title: e.title,
        description: e.description,
        stability: Stability::Stable,
        category: Some(category.to_owned()),
        method: e.method,
        route: e.route,
        pieces,
        args: e.args,
        query: e.query,
        input: schema("input", &e.input)?,
        output: schema("output", &e.output)?,
        scopes: None,
        gocd: Some(GocdCall {
            accept: e.accept,
            headers: e.headers.into_iter().collect(),
            request: e.request,
            response: e.response,
            embedded: e.embedded,
            etag: e.etag,
            status: e.status,
            since: e.since,
            decisions: e.decisions,
        }),
        origin: (file.to_owned(), at.to_owned()),
        name: e.name,
    })
}

/// `*.json` files directly in `dir`, sorted by name.
fn sorted_json_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| Error::at(dir.display().to_string(), "", format!("cannot read directory: {e}")))?;
    let mut files: Vec<_> =
        read.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    Ok(files)
}

/// A deserialization error located by its path (`entries[3].request` → `/entries/3/request`).
fn locate_serde_error(file: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> Error {
    let pointer: String = e
        .path()
        .iter()
        .map(|seg| match seg {
            serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
            serde_path_to_error::Segment::Map { key } | serde_path_to_error::Segment::Enum { variant: key } => {
                format!("/{}", crate::error::pointer_token(key))
            }
            serde_path_to_error::Segment::Unknown => String::new(),
        })
        .collect();
    Error::at(file, pointer, e.inner().to_string())
}
