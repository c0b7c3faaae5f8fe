//! One type space for a crate of payload schemas. Each file is converted on its own (names
//! are per file, so every worker's root can be `Payload`); then the files' types are put in
//! one space and types that are identical in every respect (name, docs, shape, and the types
//! they refer to) become one. A type that several files reach is emitted once, in the
//! crate's `shared` module; the rest stay in their file's module.

use std::collections::{BTreeMap, BTreeSet};

use super::ir::{Defs, Field, Kind, TaggedVariant, Ty, TypeId, Variant};
use super::TypeSpace;

/// The files' spaces as one: the space, and per file its roots and the types they reach.
pub(super) struct Merged {
    pub space: TypeSpace,
    pub roots: Vec<Vec<Ty>>,
    pub reach: Vec<BTreeSet<TypeId>>,
}

pub(super) fn merge(files: Vec<(TypeSpace, Vec<Ty>)>) -> Merged {
    // Put every file's types in one `Defs`, their ids shifted past the files before.
    let mut defs = Defs::default();
    let mut hidden = BTreeSet::new();
    let mut roots = Vec::new();
    for (space, file_roots) in files {
        let base = defs.len();
        let shift = |id: TypeId| TypeId::at(base + id.index());
        hidden.extend(space.hidden.iter().map(|&id| shift(id)));
        let mut own = space.defs;
        for id in own.ids().collect::<Vec<_>>() {
            own[id].kind = map_kind(&own[id].kind, &shift);
        }
        defs.append(own);
        roots.push(file_roots.iter().map(|t| map_ty(t, &shift)).collect::<Vec<_>>());
    }
    // Each emitted type is replaced by the first type identical to it.
    let class = identical(&defs, &hidden);
    let first: BTreeMap<usize, TypeId> = class.iter().rev().map(|(&id, &c)| (c, id)).collect();
    let rep = |id: TypeId| class.get(&id).map_or(id, |c| first[c]);
    for id in defs.ids().collect::<Vec<_>>() {
        if rep(id) != id {
            hidden.insert(id);
        }
        defs[id].kind = map_kind(&defs[id].kind, &rep);
    }
    let roots: Vec<Vec<Ty>> = roots.iter().map(|r| r.iter().map(|t| map_ty(t, &rep)).collect()).collect();
    let space = TypeSpace { defs, hidden };
    let reach = roots.iter().map(|r| space.reachable(r)).collect();
    Merged { space, roots, reach }
}

/// Classes of identical emitted types (type → class number), by partition refinement: start
/// with name, docs and shape, then split by the classes of the types referred to until stable.
fn identical(defs: &Defs, hidden: &BTreeSet<TypeId>) -> BTreeMap<TypeId, usize> {
    let ids: Vec<TypeId> = defs.ids().filter(|id| !hidden.contains(id)).collect();
    let mut class: BTreeMap<TypeId, usize> = ids.iter().map(|&id| (id, 0)).collect();
    let mut count = 1;
    loop {
        let mut keys: BTreeMap<String, usize> = BTreeMap::new();
        let mut next = BTreeMap::new();
        for &id in &ids {
            // Referenced types by their class (hidden ones are not referenced: inlined away).
            let by_class = |t: TypeId| TypeId::at(class.get(&t).copied().unwrap_or(usize::MAX - t.index()));
            let d = &defs[id];
            let key = format!("{}\u{0}{:?}\u{0}{:?}", d.name, d.docs, map_kind(&d.kind, &by_class));
            let n = keys.len();
            next.insert(id, *keys.entry(key).or_insert(n));
        }
        let stable = keys.len() == count;
        count = keys.len();
        class = next;
        if stable {
            return class;
        }
    }
}

/// `t` with every type id mapped by `f`.
fn map_ty(t: &Ty, f: &dyn Fn(TypeId) -> TypeId) -> Ty {
    match t {
        Ty::Named(id) => Ty::Named(f(*id)),
        Ty::Boxed(id) => Ty::Boxed(f(*id)),
        Ty::Vec(i) => Ty::Vec(Box::new(map_ty(i, f))),
        Ty::Map(i) => Ty::Map(Box::new(map_ty(i, f))),
        Ty::Option(i) => Ty::Option(Box::new(map_ty(i, f))),
        other => other.clone(),
    }
}

fn map_kind(k: &Kind, f: &dyn Fn(TypeId) -> TypeId) -> Kind {
    match k {
        Kind::Struct { fields, extra } => Kind::Struct {
            fields: fields.iter().map(|x| Field { ty: map_ty(&x.ty, f), ..x.clone() }).collect(),
            extra: extra.as_ref().map(|t| map_ty(t, f)),
        },
        Kind::Union { variants } => {
            Kind::Union { variants: variants.iter().map(|v| Variant { ty: map_ty(&v.ty, f), ..v.clone() }).collect() }
        }
        Kind::Tagged { tag, variants } => Kind::Tagged {
            tag: tag.clone(),
            variants: variants.iter().map(|v| TaggedVariant { ty: map_ty(&v.ty, f), ..v.clone() }).collect(),
        },
        Kind::Alias(t) => Kind::Alias(map_ty(t, f)),
        Kind::Enum { .. } => k.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::source::Documents;

    #[test]
    fn types_identical_across_files_are_one_shared_type_the_rest_stay_per_file() {
        let mount = json!({"properties": {"directory": {"type": "string"}}, "required": ["directory"]});
        let mut docs = Documents::default();
        for (file, extra) in [("linux", "uid"), ("windows", "sid")] {
            docs.insert(
                &format!("schemas/w-worker/{file}.json"),
                json!({"properties": {
                    "mounts": {"type": "array", "items": {"$ref": "#/definitions/mount"}},
                    "features": {"properties": {(extra): {"type": "string"}}}
                }, "definitions": {"mount": mount}}),
            );
        }
        let paths = ["schemas/w-worker/linux.json".to_owned(), "schemas/w-worker/windows.json".to_owned()];
        let t = super::super::build::schema_crate("w-worker", &paths, &docs).unwrap();
        let names = |ids: &BTreeSet<TypeId>| ids.iter().map(|id| t.space.name(*id).to_owned()).collect::<Vec<_>>();
        assert_eq!(names(&t.shared), ["Mount"]);
        for m in &t.modules {
            assert_eq!(names(&m.own), ["Payload", "PayloadFeatures"], "{}", m.path);
            assert_eq!(names(&m.uses), ["Mount"]);
        }
        // Both payloads refer to the one `Mount`.
        let mount_of = |m: usize| {
            let Ty::Named(root) = &t.modules[m].roots[0] else { panic!("a named root") };
            let Kind::Struct { fields, .. } = &t.space[*root].kind else { panic!("a struct") };
            fields[0].ty.clone()
        };
        assert_eq!(mount_of(0), mount_of(1));
        assert_eq!(t.space.emitted().count(), 5);
    }
}
