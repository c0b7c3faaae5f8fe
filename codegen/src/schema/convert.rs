//! The converter: JSON Schema locations → [`TypeDef`]s. It walks the schemas depth first,
//! reserving a type (and its name) before converting its parts, so a schema that refers to
//! itself finds its own type. Objects are in `object.rs`, unions in `union.rs`; recursion is
//! left plain here and made finite afterwards by `cycles.rs`.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::docs::docs_of;
use super::ir::{Defs, Docs, Kind, Ty, TypeDef, TypeId};
use super::naming::{location_name, string_enum, Hint, Names};
use super::resolve::{dir_of, Resolver};
use super::shape::{as_object, is_closed_object, needs_name, single_enum, string_enum_values, type_name};
use super::{cycles, TypeSpace};
use crate::error::{Error, Result};
use crate::model::SchemaRef;
use crate::names;
use crate::source::Documents;

/// The state of one type space while its schemas are converted.
pub(super) struct Converter<'d> {
    pub(super) resolver: Resolver<'d>,
    pub(super) defs: Defs,
    pub(super) names: Names,
    by_location: HashMap<SchemaRef, TypeId>,
    by_content: HashMap<(String, String), TypeId>,
    /// Types being converted (their parts are converted now): the depth-first path.
    pub(super) in_progress: BTreeSet<TypeId>,
    /// Types referenced from inside themselves: they stay named even if they turn out plain.
    recursive: BTreeSet<TypeId>,
    /// Named locations that turned out to be plain types (or another type), and what they are.
    inlined: HashMap<TypeId, Ty>,
    /// String enums by their values: the same set of values is one type.
    enums: HashMap<Vec<String>, TypeId>,
    /// Name top-level schemas by title rather than file name (our GoCD objects).
    prefer_titles: bool,
}

impl<'d> Converter<'d> {
    pub(super) fn new(docs: &'d Documents, prefer_titles: bool) -> Self {
        Converter {
            resolver: Resolver::new(docs),
            defs: Defs::default(),
            names: Names::default(),
            by_location: HashMap::new(),
            by_content: HashMap::new(),
            in_progress: BTreeSet::new(),
            recursive: BTreeSet::new(),
            inlined: HashMap::new(),
            enums: HashMap::new(),
            prefer_titles,
        }
    }

    /// The type of the schema at `r`, named `name` if it becomes a generated type
    /// (`None`: from its location).
    pub(super) fn type_of(&mut self, r: &SchemaRef, name: Option<&str>) -> Result<Ty> {
        let schema = self.resolver.lookup(r)?;
        let base = name.map(str::to_owned).unwrap_or_else(|| location_name(r, schema, self.prefer_titles));
        self.located(r, schema, &Hint::located(base, r))
    }

    /// The finished type space: cycles broken with `Box`.
    pub(super) fn finish(self) -> TypeSpace {
        let mut defs = self.defs;
        cycles::box_cycles(&mut defs, &|id| self.inlined.contains_key(&id));
        TypeSpace { defs, hidden: self.inlined.into_keys().collect() }
    }

    /// The type of the schema `$ref` points to (named by its location).
    fn referenced(&mut self, target: &SchemaRef, schema: &Value, fallback_prefix: Option<&str>) -> Result<Ty> {
        let name = location_name(target, schema, self.prefer_titles);
        let hint = match fallback_prefix {
            Some(p) => Hint::new(name.clone(), vec![format!("{p}{name}")]),
            None => Hint::located(name, target),
        };
        self.located(target, schema, &hint)
    }

    /// The type of a schema at a known location: each location becomes one type.
    pub(super) fn located(&mut self, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<Ty> {
        if let Some(&id) = self.by_location.get(r) {
            return Ok(self.reference(id));
        }
        // A nullable schema is `Option` of its non-null part, which takes the name.
        if let Some(ty) = self.nullable(r, as_object(r, schema)?, hint)? {
            return Ok(ty);
        }
        if !needs_name(schema) {
            return self.convert(r, schema, hint);
        }
        let id = self.reserve(r, hint);
        self.by_location.insert(r.clone(), id);
        self.fill(id, r, schema, hint)
    }

    /// A use of type `id`: the plain type if it turned out to be one. A use from inside the
    /// type itself (it is still being converted) marks it recursive: it keeps its name.
    fn reference(&mut self, id: TypeId) -> Ty {
        if self.in_progress.contains(&id) {
            self.recursive.insert(id);
            return Ty::Named(id);
        }
        self.inlined.get(&id).cloned().unwrap_or(Ty::Named(id))
    }

    /// A new type at `r`, named from `hint`; its kind is filled in by the caller.
    pub(super) fn reserve(&mut self, r: &SchemaRef, hint: &Hint) -> TypeId {
        let name = self.names.claim(r, hint);
        self.defs.push(TypeDef { name, docs: Docs::default(), kind: Kind::Alias(Ty::Value), origin: r.clone() })
    }

    /// Converts `schema` into the reserved type `id`.
    fn fill(&mut self, id: TypeId, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<Ty> {
        self.in_progress.insert(id);
        let own = Hint::new(self.defs[id].name.clone(), hint.fallbacks.clone());
        let result = self.convert_named(r, schema, &own);
        self.in_progress.remove(&id);
        let (kind, docs) = result?;
        if let Kind::Alias(plain) = &kind {
            // `Option<T>` or `Vec<T>` needs no name of its own unless something refers to it
            // from inside itself.
            if !self.recursive.contains(&id) {
                self.inlined.insert(id, plain.clone());
                self.names.release(&self.defs[id].name);
                self.defs[id].kind = kind.clone();
                return Ok(plain.clone());
            }
        }
        if let Kind::Enum { values, .. } = &kind {
            if let Some(first) = self.same_enum(id, values.iter().map(|v| v.json.clone()).collect()) {
                self.defs[id].kind = kind;
                return Ok(Ty::Named(first));
            }
        }
        self.defs[id].docs = docs;
        self.defs[id].kind = kind;
        Ok(Ty::Named(id))
    }

    /// The enum that already has these values, if any (then `id` becomes that one); else
    /// `id` is remembered as the enum of these values.
    fn same_enum(&mut self, id: TypeId, values: Vec<String>) -> Option<TypeId> {
        // `TaskPriority` and a request's `newPriority` with the same values are one type:
        // the first one named.
        let Some(&first) = self.enums.get(&values) else {
            self.enums.insert(values, id);
            return None;
        };
        self.inlined.insert(id, Ty::Named(first));
        let name = self.defs[id].name.clone();
        self.names.release(&name);
        // The shared type is named by what the names have in common (six `...Stability`
        // enums become `Stability`) where that is free.
        let common = names::common_suffix(&self.defs[first].name, &name);
        if !common.is_empty() && common != self.defs[first].name && !self.names.is_taken(&common) {
            self.names.release(&self.defs[first].name);
            self.names.reserve(&common);
            self.defs[first].name = common;
        }
        Some(first)
    }

    /// The type of an inline schema (no location of its own worth remembering).
    pub(super) fn inline(&mut self, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<Ty> {
        if schema.get("$ref").is_some() || !needs_name(schema) {
            return self.convert(r, schema, hint);
        }
        if let Some(ty) = self.nullable(r, as_object(r, schema)?, hint)? {
            return Ok(ty);
        }
        // A location named ahead of time (a worker's `Payload` branch) keeps its name.
        if let Some(&id) = self.by_location.get(r) {
            return Ok(self.reference(id));
        }
        // Identical inline schemas in one folder (the same `features` object in three worker
        // payload files) are one type.
        let key = (dir_of(&r.doc), schema.to_string());
        if let Some(&id) = self.by_content.get(&key) {
            return Ok(self.reference(id));
        }
        let id = self.reserve(r, hint);
        self.by_content.insert(key, id);
        self.by_location.insert(r.clone(), id);
        self.fill(id, r, schema, hint)
    }

    /// Converts a schema to a type expression, generating named types for its parts.
    pub(super) fn convert(&mut self, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<Ty> {
        let obj = as_object(r, schema)?;
        if let Some((target, target_schema)) = self.resolver.follow(r, schema)? {
            return self.referenced(&target, target_schema, None);
        }
        if let Some(ty) = self.nullable(r, obj, hint)? {
            return Ok(ty);
        }
        if needs_name(schema) {
            // Reached through `located`/`inline`, which name it; a bare call (e.g. a union
            // branch) gets a type of its own here.
            return self.inline(r, schema, hint);
        }
        let ty = match type_name(r, obj)? {
            Some("string") => match obj.get("format").and_then(Value::as_str) {
                Some("date-time") => Ty::Time,
                _ => Ty::String,
            },
            Some("integer") => {
                if obj.get("minimum").and_then(Value::as_f64).is_some_and(|m| m >= 0.0) {
                    Ty::U64
                } else {
                    Ty::I64
                }
            }
            Some("number") => Ty::F64,
            Some("boolean") => Ty::Bool,
            Some("null") => Ty::Unit,
            Some("array") => match obj.get("items") {
                Some(items) if items.is_object() => {
                    Ty::Vec(Box::new(self.inline(&r.child("items"), items, &hint.item())?))
                }
                _ => Ty::Vec(Box::new(Ty::Value)),
            },
            Some("object") => match obj.get("additionalProperties") {
                Some(ap @ Value::Object(_)) => {
                    Ty::Map(Box::new(self.inline(&r.child("additionalProperties"), ap, &hint.child("Value"))?))
                }
                _ => Ty::Map(Box::new(Ty::Value)),
            },
            Some(other) => {
                return Err(Error::at(&r.doc, format!("{}/type", r.pointer), format!("unsupported type {other:?}")))
            }
            None => match obj.get("const").or_else(|| single_enum(obj)) {
                Some(Value::String(_)) => Ty::String,
                Some(Value::Bool(_)) => Ty::Bool,
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ty::I64,
                _ => Ty::Value,
            },
        };
        Ok(ty)
    }

    /// Converts a schema that becomes a named type into its kind and docs.
    fn convert_named(&mut self, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<(Kind, Docs)> {
        let obj = as_object(r, schema)?;
        let docs = docs_of(obj);
        if let Some(ty) = self.nullable(r, obj, hint)? {
            return Ok((Kind::Alias(ty), docs));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = obj.get(key) {
                if !branches.iter().all(super::shape::is_constraint_only) {
                    return Ok((self.union(r, obj, key, branches, hint)?, docs));
                }
            }
        }
        if let Some(Value::Array(branches)) = obj.get("allOf") {
            return Ok((self.all_of(r, obj, branches, hint)?, docs));
        }
        if let Some(values) = string_enum_values(obj) {
            return Ok((string_enum(values), docs));
        }
        if obj.get("properties").is_some() || is_closed_object(obj) {
            let (fields, extra) = self.object(r, obj, hint, None)?;
            return Ok((Kind::Struct { fields, extra }, docs));
        }
        // `needs_name` and the cases above decide alike; reaching here is a generator bug.
        Err(Error::at(&r.doc, &r.pointer, "internal error: no named shape for this schema (please report)"))
    }

    /// Follows a `$ref` of a branch (`allOf`, `oneOf`): its location and schema, or the
    /// branch itself when it is no `$ref`.
    pub(super) fn branch<'s>(&self, at: SchemaRef, b: &'s Value) -> Result<(SchemaRef, &'s Value, bool)>
    where
        'd: 's,
    {
        Ok(match self.resolver.follow(&at, b)? {
            Some((target, s)) => (target, s, true),
            None => (at, b, false),
        })
    }

    /// The type of a `$ref` target for a union branch: a name taken falls back to the
    /// union's name + its own.
    pub(super) fn referenced_branch(&mut self, target: &SchemaRef, s: &Value, union_name: &str) -> Result<Ty> {
        self.referenced(target, s, Some(union_name))
    }

    /// Properties' docs: a property that is a `$ref` shows the text behind it.
    pub(super) fn behind_ref(&self, at: &SchemaRef, prop: &Value) -> Option<&'d Map<String, Value>> {
        // `inline` already reported a bad `$ref`.
        self.resolver.follow(at, prop).ok().flatten().and_then(|(_, s)| s.as_object())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{convert, fields, kind, named};
    use super::*;

    #[test]
    fn plain_schemas_are_plain_types() {
        let (space, _) = convert(
            "p",
            json!({"properties": {
                "count": {"type": "integer", "minimum": 0}, "delta": {"type": "integer"},
                "ratio": {"type": "number"}, "at": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}}, "any": {},
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "fixed": {"const": "x"}, "nothing": {"type": "null"}
            }, "required": ["count", "delta", "ratio", "at", "tags", "any", "env", "fixed", "nothing"]}),
            "P",
        );
        let tys: Vec<Ty> = fields(&space, "P").into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            tys,
            [
                Ty::U64,
                Ty::I64,
                Ty::F64,
                Ty::Time,
                Ty::Vec(Box::new(Ty::String)),
                Ty::Value,
                Ty::Map(Box::new(Ty::String)),
                Ty::String,
                Ty::Unit
            ]
        );
    }

    #[test]
    fn a_named_schema_that_is_a_plain_type_is_inlined_not_aliased() {
        let (space, ty) = convert(
            "l",
            json!({"properties": {"ids": {"$ref": "#/definitions/ids"}}, "required": ["ids"],
                   "definitions": {"ids": {"type": "array", "items": {"type": "string"}}}}),
            "L",
        );
        assert_eq!(ty, named(&space, "L"));
        assert_eq!(fields(&space, "L")[0].1, Ty::Vec(Box::new(Ty::String)));
        assert_eq!(space.by_name().keys().copied().collect::<Vec<_>>(), ["L"]);
    }

    #[test]
    fn enums_with_the_same_values_are_one_type_named_by_what_the_names_share() {
        let (space, _) = convert(
            "e",
            json!({"properties": {
                "taskPriority": {"enum": ["high", "low"]},
                "newPriority": {"enum": ["high", "low"], "description": "Not the same schema, the same values."},
                "state": {"enum": ["unknown", "idle"]}
            }}),
            "E",
        );
        let f = fields(&space, "E");
        assert_eq!(f[0].1, Ty::Option(Box::new(named(&space, "Priority"))));
        assert_eq!(f[1].1, f[0].1);
        let Kind::Enum { catch_all, .. } = kind(&space, "EState") else { panic!("enum") };
        assert_eq!(catch_all, "Other");
    }

    #[test]
    fn a_name_taken_falls_back_to_more_of_the_path() {
        let (space, _) = convert(
            "c",
            json!({"properties": {
                "a": {"properties": {"item": {"properties": {"x": {"type": "string"}}}}},
                "aItem": {"properties": {"y": {"type": "string"}}}
            }}),
            "C",
        );
        let names: Vec<&str> = space.by_name().keys().copied().collect();
        // `aItem` wants `CAItem` too and gets the folder's word first (then path words, never numbers).
        assert_eq!(names, ["C", "CA", "CAItem", "TCAItem"]);
    }

    #[test]
    fn bad_input_names_file_and_pointer() {
        let mut docs = Documents::default();
        docs.insert("schemas/t/bad.json", json!({"properties": {"x": {"type": "tuple"}, "y": {"$ref": "gone.json"}}}));
        let r = SchemaRef { doc: "schemas/t/bad.json".into(), pointer: String::new() };
        let e = Converter::new(&docs, false).type_of(&r, None).unwrap_err();
        assert_eq!((e.file.as_str(), e.pointer.as_str()), ("schemas/t/bad.json", "/properties/x/type"));
        assert!(e.message.contains("unsupported type"), "{}", e.message);
    }
}
