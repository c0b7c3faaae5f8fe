//! What to generate: the loaded inputs and the analysis of them that decides crates and
//! names. Everything here reads the whole input, so nothing depends on the order in which the
//! loaders ran.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Result;
use crate::model::{Flavor, SchemaRef, Service};
use crate::source::Documents;
use crate::{gocd, names, reference, Inputs};

/// The loaded inputs and the crates they make.
#[derive(Debug)]
pub struct Plan {
    /// Every document: Taskcluster references and schemas, our GoCD descriptions.
    pub docs: Documents,
    /// One client crate each, in reference order (GoCD last).
    pub services: Vec<Service>,
    /// Schema folders no service owns (the worker payloads): one types crate each.
    pub schema_crates: Vec<SchemaFolder>,
}

/// A folder of schemas that becomes a crate of types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFolder {
    /// The folder's name (`generic-worker`).
    pub folder: String,
    /// Its schema files, in path order.
    pub paths: Vec<String>,
}

impl Plan {
    /// Loads `inputs` and decides what to generate.
    pub fn load(inputs: &Inputs) -> Result<Plan> {
        let mut docs = match &inputs.taskcluster {
            Some(p) => Documents::load(p)?,
            None => Documents::default(),
        };
        let mut services = reference::services(&docs)?;
        if let Some(dir) = &inputs.gocd {
            services.push(gocd::load(dir, &mut docs)?);
        }
        let schema_crates = schema_only_folders(&docs, &services);
        Ok(Plan { docs, services, schema_crates })
    }
}

/// The folder under `schemas/` whose documents belong to `service`: a Taskcluster service's
/// schemas sit under its `serviceName`, and the GoCD loader registers ours under `gocd`.
fn owned_folder(service: &Service) -> &str {
    match &service.flavor {
        Flavor::Taskcluster { service_name, .. } => service_name,
        Flavor::GoCd => "gocd",
    }
}

/// Schema folders that no service owns (the worker payload schemas), with their files.
pub fn schema_only_folders(docs: &Documents, services: &[Service]) -> Vec<SchemaFolder> {
    let owned: BTreeSet<&str> = services.iter().map(owned_folder).collect();
    let mut out: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for p in docs.paths() {
        let Some(rest) = p.strip_prefix("schemas/") else { continue };
        let Some((folder, _)) = rest.split_once('/') else { continue };
        if folder == "common" || owned.contains(folder) {
            continue;
        }
        out.entry(folder).or_default().push(p.to_owned());
    }
    out.into_iter().map(|(folder, paths)| SchemaFolder { folder: folder.to_owned(), paths }).collect()
}

/// Names for request bodies that several functions share and whose file is named after one
/// of them: `create-client-request.json`, the input of `createClient` and `updateClient`,
/// is a `ClientRequest` (what the functions' names have in common after their verbs).
pub fn shared_input_names(service: &Service) -> BTreeMap<SchemaRef, String> {
    let mut users: BTreeMap<&SchemaRef, Vec<&str>> = BTreeMap::new();
    for f in &service.functions {
        if let Some(r) = &f.input {
            users.entry(r).or_default().push(&f.name);
        }
    }
    let verb_len =
        |c: &str| c.char_indices().skip(1).find(|(_, ch)| ch.is_ascii_uppercase()).map_or(c.len(), |(i, _)| i);
    let mut out = BTreeMap::new();
    for (r, fns) in users {
        let file = names::from_file(&r.doc);
        // Only where the file is named after one of its functions, and the functions differ in
        // their verb alone (`createX`/`updateX`).
        let camel: Vec<String> = fns.iter().map(|f| names::camel(f)).collect();
        let Some(own) = camel.iter().find(|c| file == format!("{c}Request")) else { continue };
        let noun = &own[verb_len(own)..];
        let same_noun = camel.iter().all(|c| &c[verb_len(c)..] == noun);
        if camel.len() > 1 && same_noun && !noun.is_empty() {
            out.insert(r.clone(), format!("{noun}Request"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn fixtures() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    /// The payload folders do not depend on whether the GoCD loader has run: its documents
    /// belong to the GoCD service, whenever they were added.
    #[test]
    fn schema_folders_do_not_depend_on_load_order() {
        let inputs = Inputs { taskcluster: Some(fixtures().join("constructs")), gocd: Some(fixtures().join("gocd")) };
        let plan = Plan::load(&inputs).unwrap();
        assert!(plan.docs.paths().any(|p| p.starts_with("schemas/gocd/")), "the GoCD objects are loaded");
        let folders: Vec<&str> = plan.schema_crates.iter().map(|f| f.folder.as_str()).collect();
        assert_eq!(folders, ["constructs"]);

        // The same analysis over the Taskcluster documents alone, before GoCD is loaded.
        let tc = Documents::load(&fixtures().join("constructs")).unwrap();
        let before = schema_only_folders(&tc, &reference::services(&tc).unwrap());
        assert_eq!(before, plan.schema_crates);
    }

    #[test]
    fn a_request_shared_by_create_and_update_is_named_by_its_noun() {
        let docs = Documents::load(&fixtures().join("tc")).unwrap();
        let names: Vec<String> =
            reference::services(&docs).unwrap().iter().flat_map(|s| shared_input_names(s).into_values()).collect();
        // `create-widget-request.json` for `createWidget` and `updateWidget`; `thing.json`
        // (one function, not named after it) keeps its own name.
        assert_eq!(names, ["WidgetRequest"]);
    }
}
