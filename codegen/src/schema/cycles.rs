//! Cycle breaking, one pass over the finished type graph: a type that contains itself
//! directly (through fields, `Option`s, variants or an alias, not through a `Vec` or map,
//! which already hold their items on the heap) would have infinite size, so the edge that
//! closes each such cycle becomes a `Box`.

use std::collections::{BTreeMap, BTreeSet};

use super::ir::{Defs, Kind, Ty, TypeId};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    OnPath,
    Done,
}

/// Boxes the edges that close a cycle of direct containment. Types are visited depth first
/// in creation order (the order the converter met them), so the box lands where the
/// conversion closed the cycle: on the way back to an outer type. `skip`: types not emitted.
pub(super) fn box_cycles(defs: &mut Defs, skip: &dyn Fn(TypeId) -> bool) {
    let mut seen = BTreeMap::new();
    for id in defs.ids().collect::<Vec<_>>() {
        if !skip(id) && !seen.contains_key(&id) {
            visit(defs, id, &mut seen);
        }
    }
}

fn visit(defs: &mut Defs, id: TypeId, seen: &mut BTreeMap<TypeId, Visit>) {
    seen.insert(id, Visit::OnPath);
    let mut targets = Vec::new();
    match &defs[id].kind {
        Kind::Struct { fields, .. } => fields.iter().for_each(|f| direct(&f.ty, &mut targets)),
        Kind::Union { variants } => variants.iter().for_each(|v| direct(&v.ty, &mut targets)),
        Kind::Tagged { variants, .. } => variants.iter().for_each(|v| direct(&v.ty, &mut targets)),
        Kind::Alias(ty) => direct(ty, &mut targets),
        Kind::Enum { .. } => {}
    }
    let mut closing = BTreeSet::new();
    for t in targets {
        match seen.get(&t) {
            Some(Visit::OnPath) => {
                closing.insert(t);
            }
            Some(Visit::Done) => {}
            None => visit(defs, t, seen),
        }
    }
    if !closing.is_empty() {
        let boxed = |ty: &mut Ty| box_direct(ty, &closing);
        match &mut defs[id].kind {
            Kind::Struct { fields, .. } => fields.iter_mut().for_each(|f| boxed(&mut f.ty)),
            Kind::Union { variants } => variants.iter_mut().for_each(|v| boxed(&mut v.ty)),
            Kind::Tagged { variants, .. } => variants.iter_mut().for_each(|v| boxed(&mut v.ty)),
            Kind::Alias(ty) => boxed(ty),
            Kind::Enum { .. } => {}
        }
    }
    seen.insert(id, Visit::Done);
}

/// The types `ty` holds inline (not behind a `Vec`, map or `Box`).
fn direct(ty: &Ty, out: &mut Vec<TypeId>) {
    match ty {
        Ty::Named(id) => out.push(*id),
        Ty::Option(inner) => direct(inner, out),
        _ => {}
    }
}

fn box_direct(ty: &mut Ty, closing: &BTreeSet<TypeId>) {
    match ty {
        Ty::Named(id) if closing.contains(id) => *ty = Ty::Boxed(*id),
        Ty::Option(inner) => box_direct(inner, closing),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{convert, fields, kind, named};
    use super::*;

    #[test]
    fn a_cycle_is_boxed_once_where_it_closes_and_never_behind_a_vec_or_map() {
        let (space, _) = convert(
            "node",
            json!({"properties": {
                "name": {"type": "string"},
                "parent": {"$ref": "#"},
                "children": {"type": "array", "items": {"$ref": "#"}},
                "byName": {"type": "object", "additionalProperties": {"$ref": "#"}}
            }, "required": ["name"]}),
            "Node",
        );
        let id = space.by_name()["Node"];
        let f = fields(&space, "Node");
        assert_eq!(f[1].1, Ty::Option(Box::new(Ty::Boxed(id))));
        assert_eq!(f[2].1, Ty::Option(Box::new(Ty::Vec(Box::new(Ty::Named(id))))));
        assert_eq!(f[3].1, Ty::Option(Box::new(Ty::Map(Box::new(Ty::Named(id))))));
    }

    #[test]
    fn a_cycle_through_two_types_is_boxed_on_the_way_back() {
        let (space, _) = convert(
            "a",
            json!({"properties": {"b": {"$ref": "#/definitions/b"}}, "required": ["b"],
                   "definitions": {"b": {"properties": {"a": {"$ref": "#"}}}}}),
            "A",
        );
        // `A` holds a `B` inline; the edge back from `B` to `A` is the boxed one.
        assert_eq!(fields(&space, "A")[0].1, named(&space, "B"));
        let a = space.by_name()["A"];
        assert_eq!(fields(&space, "B")[0].1, Ty::Option(Box::new(Ty::Boxed(a))));
    }

    #[test]
    fn a_union_that_contains_itself_boxes_the_variant() {
        let (space, _) = convert(
            "expr",
            json!({"oneOf": [{"type": "string"}, {"title": "Not", "properties": {"not": {"$ref": "#"}}, "required": ["not"]}]}),
            "Expr",
        );
        let expr = space.by_name()["Expr"];
        assert_eq!(fields(&space, "Not")[0].1, Ty::Boxed(expr));
        let Kind::Union { variants } = kind(&space, "Expr") else { panic!("a union") };
        assert_eq!(variants[1].ty, named(&space, "Not"));
    }
}
