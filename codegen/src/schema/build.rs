//! One crate's complete type graph, built before anything is emitted: every schema the
//! crate's functions and exchanges name (or, for a crate of payload schemas, every file).

use std::collections::{BTreeMap, BTreeSet};

use super::convert::Converter;
use super::ir::{Ty, TypeId};
use super::merge;
use super::TypeSpace;
use crate::error::Result;
use crate::model::{Flavor, SchemaRef, Service};
use crate::names;
use crate::plan;
use crate::source::Documents;

/// The types of a service crate.
#[derive(Debug)]
pub struct ServiceTypes {
    /// Every generated type.
    pub space: TypeSpace,
    /// Per function of the service, in its order: its body types.
    pub functions: Vec<Signature>,
    /// Per exchange of the service, in its order: its message type.
    pub messages: Vec<Ty>,
}

/// A function's request and response body types.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Request body type.
    pub input: Option<Ty>,
    /// Response body type.
    pub output: Option<Ty>,
}

/// Converts every schema `service` names.
pub fn service(service: &Service, docs: &Documents) -> Result<ServiceTypes> {
    let mut c = Converter::new(docs, service.flavor == Flavor::GoCd);
    // Types must not take the client's name.
    c.names.reserve(&service.client_name);
    if service.flavor == Flavor::GoCd {
        // The client's endpoint families (`emit::client`).
        c.names.reserve("ApiFamily");
    }
    let shared = plan::shared_input_names(service);
    let mut functions = Vec::with_capacity(service.functions.len());
    for f in &service.functions {
        let input = f.input.as_ref().map(|r| c.type_of(r, shared.get(r).map(String::as_str))).transpose()?;
        let output = f.output.as_ref().map(|r| c.type_of(r, None)).transpose()?;
        functions.push(Signature { input, output });
    }
    let mut messages = Vec::new();
    for e in service.exchanges.iter().flat_map(|ex| &ex.entries) {
        messages.push(c.type_of(&e.schema, None)?);
    }
    Ok(ServiceTypes { space: c.finish(), functions, messages })
}

/// The types of a crate of payload schemas: one type space, one module per file, and the
/// types several files share in a module of their own.
#[derive(Debug)]
pub struct SchemaCrateTypes {
    /// Every type of the crate.
    pub space: TypeSpace,
    /// The files, in path order.
    pub modules: Vec<SchemaModule>,
    /// Types that several files reach, emitted once (in creation order).
    pub shared: BTreeSet<TypeId>,
}

/// The types of one schema file.
#[derive(Debug)]
pub struct SchemaModule {
    /// The file.
    pub path: String,
    /// The types the file's root stands for (`Payload`, and `AnyPayload` where the root is a
    /// choice of payloads).
    pub roots: Vec<Ty>,
    /// The types only this file reaches: emitted in its module.
    pub own: BTreeSet<TypeId>,
    /// The shared types this file reaches.
    pub uses: BTreeSet<TypeId>,
}

/// Converts every file of a schema folder into one type space. Names are chosen per file (a
/// worker's root type is always `Payload`); types identical across files are one type.
pub fn schema_crate(folder: &str, paths: &[String], docs: &Documents) -> Result<SchemaCrateTypes> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let mut c = Converter::new(docs, false);
        let root = SchemaRef { doc: path.clone(), pointer: String::new() };
        let mut roots = Vec::new();
        // A worker's `Payload` is always its own payload struct: where the schema is a choice of
        // payloads (generic-worker's posix one also takes a docker-worker payload), the first
        // branch is `Payload` and the choice `AnyPayload`.
        let root_is_union = docs.get(path).is_some_and(|d| d.get("oneOf").is_some() && d.get("properties").is_none());
        if folder.ends_with("-worker") && root_is_union {
            roots.push(c.type_of(&root.child("oneOf").child("0"), Some("Payload"))?);
            roots.push(c.type_of(&root, Some("AnyPayload"))?);
        } else {
            let name = if folder.ends_with("-worker") { "Payload".to_owned() } else { names::from_file(path) };
            roots.push(c.type_of(&root, Some(&name))?);
        }
        files.push((c.finish(), roots));
    }
    let merged = merge::merge(files);
    let emitted: BTreeSet<TypeId> = merged.space.emitted().map(|(id, _)| id).collect();
    // A type two files reach is shared; what one file alone reaches is its own.
    let mut seen_by: BTreeMap<TypeId, usize> = BTreeMap::new();
    for reach in &merged.reach {
        for id in reach.intersection(&emitted) {
            *seen_by.entry(*id).or_default() += 1;
        }
    }
    let shared: BTreeSet<TypeId> = seen_by.iter().filter(|(_, &n)| n > 1).map(|(&id, _)| id).collect();
    let modules = paths
        .iter()
        .zip(merged.roots)
        .zip(&merged.reach)
        .map(|((path, roots), reach)| {
            let (uses, own) = reach.intersection(&emitted).partition(|id| shared.contains(id));
            SchemaModule { path: path.clone(), roots, own, uses }
        })
        .collect();
    Ok(SchemaCrateTypes { space: merged.space, modules, shared })
}
