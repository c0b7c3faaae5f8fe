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
mod merge;
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
    /// Types not emitted here: named locations that turned out to be plain types (or another
    /// type), types merged into an identical one, or those of another module.
    hidden: BTreeSet<TypeId>,
}

impl TypeSpace {
    /// A space without types, for tests of the emitter's plans.
    #[cfg(test)]
    pub fn empty() -> TypeSpace {
        TypeSpace { defs: Defs::default(), hidden: BTreeSet::new() }
    }

    /// The name of a generated type.
    pub fn name(&self, id: TypeId) -> &str {
        &self.defs[id].name
    }

    /// Whether type `id` is not emitted (it was inlined, or is emitted elsewhere).
    pub fn is_inlined(&self, id: TypeId) -> bool {
        self.hidden.contains(&id)
    }

    /// The part of this space one module emits: the same types, only `ids` emitted.
    pub fn only(&self, ids: &BTreeSet<TypeId>) -> TypeSpace {
        let hidden = self.defs.ids().filter(|id| !ids.contains(id)).collect();
        TypeSpace { defs: self.defs.clone(), hidden }
    }

    /// The types that are emitted, in creation order.
    pub fn emitted(&self) -> impl Iterator<Item = (TypeId, &TypeDef)> {
        self.defs.iter().filter(|(id, _)| !self.is_inlined(*id))
    }

    /// The types reachable from `roots`, through every kind of reference (what users build,
    /// when the roots are request bodies).
    pub fn reachable<'t>(&self, roots: impl IntoIterator<Item = &'t Ty>) -> BTreeSet<TypeId> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&Ty> = roots.into_iter().collect();
        while let Some(t) = todo.pop() {
            match t {
                Ty::Named(id) | Ty::Boxed(id) => {
                    if !seen.insert(*id) {
                        continue;
                    }
                    match &self.defs[*id].kind {
                        Kind::Struct { fields, extra } => {
                            todo.extend(fields.iter().map(|f| &f.ty));
                            todo.extend(extra.iter());
                        }
                        Kind::Union { variants } => todo.extend(variants.iter().map(|v| &v.ty)),
                        Kind::Tagged { variants, .. } => todo.extend(variants.iter().map(|v| &v.ty)),
                        Kind::Alias(inner) => todo.push(inner),
                        Kind::Enum { .. } => {}
                    }
                }
                Ty::Vec(inner) | Ty::Map(inner) | Ty::Option(inner) => todo.push(inner),
                _ => {}
            }
        }
        seen
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
