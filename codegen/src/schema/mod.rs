//! JSON Schema → typed Rust model ([`ir`]).
//!
//! Three steps, each in its own module: [`build`] converts every schema one crate names into
//! one [`TypeSpace`] (the converter in `convert.rs`, with objects in `object.rs`, unions in
//! `union.rs`, names in `naming.rs`, doc text in `docs.rs`, `$ref`s in `resolve.rs`);
//! `cycles.rs` then boxes the edges that close a recursive cycle, in one pass over the
//! finished graph; emission reads the result and changes nothing. Every schema location
//! becomes at most one type (the same `$ref` target is always the same type), and identical
//! inline schemas in the same folder share one type. Names come from file names, definition
//! keys, titles, and parent + property; collisions are resolved by adding more of the
//! schema's path, never numbers.

pub mod build;
mod convert;
mod cycles;
mod docs;
pub mod ir;
mod naming;
mod object;
mod resolve;
mod shape;
mod union;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Index;

pub use build::{SchemaCrateTypes, SchemaModule, ServiceTypes, Signature};
pub use ir::*;
pub use resolve::{dir_of, normalize};

/// The finished types of one crate: every type its functions, exchanges or payload files
/// name, with recursion already boxed. Read-only: only [`build`] makes one.
#[derive(Debug)]
pub struct TypeSpace {
    /// Every type, in creation order; the inlined ones are not emitted.
    pub defs: Defs,
    /// Named locations that turned out to be plain types (or another type): not emitted.
    inlined: BTreeSet<TypeId>,
}

impl TypeSpace {
    /// The name of a generated type.
    pub fn name(&self, id: TypeId) -> &str {
        &self.defs[id].name
    }

    /// Whether type `id` was inlined (it is not emitted).
    pub fn is_inlined(&self, id: TypeId) -> bool {
        self.inlined.contains(&id)
    }

    /// The types that are emitted, in creation order.
    pub fn emitted(&self) -> impl Iterator<Item = (TypeId, &TypeDef)> {
        self.defs.iter().filter(|(id, _)| !self.is_inlined(*id))
    }

    /// All emitted types by name (for lookups in tests).
    pub fn by_name(&self) -> BTreeMap<&str, TypeId> {
        self.emitted().map(|(id, d)| (d.name.as_str(), id)).collect()
    }
}

impl Index<TypeId> for TypeSpace {
    type Output = TypeDef;
    fn index(&self, id: TypeId) -> &TypeDef {
        &self.defs[id]
    }
}

/// Converting small inline schemas, for the converter modules' tests.
#[cfg(test)]
mod testing {
    use serde_json::Value;

    use super::convert::Converter;
    use super::{Kind, Ty, TypeSpace};
    use crate::model::SchemaRef;
    use crate::source::Documents;

    /// The finished type space of `schema` (file `schemas/t/<file>.json`), converted as
    /// the root named `name`, and the root's type.
    pub(super) fn convert(file: &str, schema: Value, name: &str) -> (TypeSpace, Ty) {
        let mut docs = Documents::default();
        let path = format!("schemas/t/{file}.json");
        docs.insert(&path, schema);
        let mut c = Converter::new(&docs, false);
        let ty = c.type_of(&SchemaRef { doc: path, pointer: String::new() }, Some(name)).expect("converts");
        (c.finish(), ty)
    }

    /// The emitted type named `name`.
    pub(super) fn kind<'s>(space: &'s TypeSpace, name: &str) -> &'s Kind {
        let id = space.by_name().get(name).copied().unwrap_or_else(|| panic!("no type {name}: {:?}", space.by_name()));
        &space[id].kind
    }

    /// A struct's fields as (json name, type).
    pub(super) fn fields(space: &TypeSpace, name: &str) -> Vec<(String, Ty)> {
        match kind(space, name) {
            Kind::Struct { fields, .. } => fields.iter().map(|f| (f.json.clone(), f.ty.clone())).collect(),
            other => panic!("{name} is no struct: {other:?}"),
        }
    }

    /// The type named `name`, as a field or variant would use it.
    pub(super) fn named(space: &TypeSpace, name: &str) -> Ty {
        Ty::Named(space.by_name()[name])
    }
}
