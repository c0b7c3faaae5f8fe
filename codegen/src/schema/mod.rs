//! JSON Schema → typed Rust model ([`ir`]).
//!
//! One [`TypeSpace`] per generated module. Every schema location becomes at most one type
//! (the same `$ref` target is always the same type), and identical inline schemas in the same
//! folder share one type. Names come from file names, definition keys, titles, and
//! parent + property; collisions are resolved by adding more of the schema's path, never numbers.

pub mod ir;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::error::{pointer_token, Error, Result};
use crate::model::SchemaRef;
use crate::names;
use crate::source::Documents;
pub use ir::*;

/// The generated types of one module, and how to get more of them.
pub struct TypeSpace<'d> {
    docs: &'d Documents,
    /// Generated types, in creation order.
    pub defs: Vec<TypeDef>,
    by_location: HashMap<SchemaRef, TypeId>,
    by_content: HashMap<(String, String), TypeId>,
    names: BTreeSet<String>,
    in_progress: BTreeSet<TypeId>,
    /// Types referenced from inside themselves (they must stay named).
    recursive: BTreeSet<TypeId>,
    /// Named locations that turned out to be plain types, and what they are.
    inlined: HashMap<TypeId, Ty>,
    /// String enums by their values: the same set of values is one type.
    enums: HashMap<Vec<String>, TypeId>,
    /// Name top-level schemas by title rather than file name (our GoCD objects).
    pub prefer_titles: bool,
}

/// How to name the type a schema may become.
#[derive(Debug, Clone)]
struct Hint {
    /// The preferred name.
    name: String,
    /// More specific names, tried in order when the preferred one is taken.
    fallbacks: Vec<String>,
}

impl Hint {
    fn new(name: String, fallbacks: Vec<String>) -> Self {
        Hint { name, fallbacks }
    }
    /// The hint for a part of this schema: `self.name + suffix`.
    fn child(&self, suffix: &str) -> Hint {
        Hint {
            name: names::join(&self.name, suffix),
            fallbacks: self.fallbacks.iter().map(|f| names::join(f, suffix)).collect(),
        }
    }
}

impl<'d> TypeSpace<'d> {
    /// An empty type space reading schemas from `docs`.
    pub fn new(docs: &'d Documents) -> Self {
        TypeSpace {
            docs,
            defs: Vec::new(),
            by_location: HashMap::new(),
            by_content: HashMap::new(),
            names: BTreeSet::new(),
            in_progress: BTreeSet::new(),
            recursive: BTreeSet::new(),
            inlined: HashMap::new(),
            enums: HashMap::new(),
            prefer_titles: false,
        }
    }

    /// The type of the schema at `r`, named `name` if it becomes a generated type
    /// (`None`: from the file name).
    pub fn type_of(&mut self, r: &SchemaRef, name: Option<&str>) -> Result<Ty> {
        let schema = self.lookup(r)?;
        let base = name.map(str::to_owned).unwrap_or_else(|| self.location_name(r, schema));
        let hint = Hint::new(base.clone(), vec![format!("{}{base}", names::from_file(&dir_of(&r.doc)))]);
        self.located(r, schema, &hint)
    }

    /// Keeps `name` from being given to a generated type.
    pub fn reserve_name(&mut self, name: &str) {
        self.names.insert(name.to_owned());
    }

    /// The name of a generated type.
    pub fn name(&self, id: TypeId) -> &str {
        &self.defs[id].name
    }

    /// Finds the schema at `r`.
    fn lookup(&self, r: &SchemaRef) -> Result<&'d Value> {
        let doc = self.docs.get(&r.doc).ok_or_else(|| Error::at(&r.doc, "", "no such schema file in the input"))?;
        if r.pointer.is_empty() {
            return Ok(doc);
        }
        doc.pointer(&r.pointer).ok_or_else(|| Error::at(&r.doc, &r.pointer, "no schema at this JSON pointer"))
    }

    /// A name for the schema at a location: the definition key, or the file name.
    fn location_name(&self, r: &SchemaRef, schema: &Value) -> String {
        // A short title says what a definition is better than its key (`request`, `response`).
        let title = schema
            .get("title")
            .and_then(Value::as_str)
            .filter(|t| (1..=6).contains(&t.split_whitespace().count()))
            .map(names::camel);
        let last = r.pointer.rsplit('/').next().unwrap_or("");
        if !last.is_empty() && r.pointer.contains("/definitions/") {
            return title.unwrap_or_else(|| names::camel(&last.replace("~1", "/").replace("~0", "~")));
        }
        if r.pointer.is_empty() {
            return match title {
                Some(t) if self.prefer_titles => t,
                _ => names::from_file(&r.doc),
            };
        }
        schema
            .get("title")
            .and_then(Value::as_str)
            .map(names::camel)
            .unwrap_or_else(|| format!("{}{}", names::from_file(&r.doc), names::camel(&r.pointer.replace('/', " "))))
    }

    /// Resolves `$ref` text found in document `doc`.
    fn resolve(&self, doc: &str, at: &str, reference: &str) -> Result<SchemaRef> {
        let (path, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let target_doc = if path.is_empty() {
            doc.to_owned()
        } else if let Some(abs) = path.strip_prefix('/') {
            abs.to_owned()
        } else if path.contains("://") {
            return Err(Error::at(
                doc,
                at,
                format!("$ref {reference:?}: absolute URLs are not supported; use root-relative paths"),
            ));
        } else {
            normalize(&format!("{}/{path}", dir_of(doc)))
        };
        if self.docs.get(&target_doc).is_none() {
            return Err(Error::at(doc, at, format!("$ref {reference:?}: no schema file {target_doc}")));
        }
        let r = SchemaRef { doc: target_doc, pointer: pointer.to_owned() };
        self.lookup(&r).map_err(|_| Error::at(doc, at, format!("$ref {reference:?}: no schema at {r}")))?;
        Ok(r)
    }

    /// The type of a schema at a known location: each location becomes one type.
    fn located(&mut self, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<Ty> {
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

    /// A use of type `id`: boxed if it is being built (a recursive cycle closes here), the
    /// plain type if it turned out to be one.
    fn reference(&mut self, id: TypeId) -> Ty {
        if self.in_progress.contains(&id) {
            self.recursive.insert(id);
            return Ty::Boxed(id);
        }
        self.inlined.get(&id).cloned().unwrap_or(Ty::Named(id))
    }

    /// Whether type `id` was inlined (it is not emitted).
    pub fn is_inlined(&self, id: TypeId) -> bool {
        self.inlined.contains_key(&id)
    }

    /// The number of types that are emitted.
    pub fn emitted(&self) -> usize {
        self.defs.len() - self.inlined.len()
    }

    fn reserve(&mut self, r: &SchemaRef, hint: &Hint) -> TypeId {
        let mut candidates = std::iter::once(hint.name.clone()).chain(hint.fallbacks.iter().cloned());
        let name = loop {
            match candidates.next() {
                Some(c) if !self.names.contains(&c) => break c,
                Some(_) => continue,
                // Every hint is taken: qualify with the schema's path words until unique.
                None => break self.qualified_name(r, &hint.name),
            }
        };
        self.names.insert(name.clone());
        self.defs.push(TypeDef { name, docs: Docs::default(), kind: Kind::Alias(Ty::Value), origin: r.clone() });
        self.defs.len() - 1
    }

    fn qualified_name(&self, r: &SchemaRef, base: &str) -> String {
        let mut words: Vec<String> = vec![names::from_file(&r.doc)];
        words.extend(
            r.pointer
                .split('/')
                .filter(|w| !w.is_empty() && !matches!(*w, "properties" | "items" | "definitions"))
                .map(names::camel),
        );
        for n in 1..=words.len() {
            let candidate = format!("{}{base}", words[words.len() - n..].concat());
            if !self.names.contains(&candidate) {
                return candidate;
            }
        }
        // The location is unique, so its full path is a unique name unless two paths
        // sanitize alike; then keep extending with the directory.
        let mut candidate = format!("{}{}", names::from_file(&dir_of(&r.doc)), words.concat());
        while self.names.contains(&candidate) {
            candidate.push_str("Alt");
        }
        candidate
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
                self.names.remove(&self.defs[id].name);
                self.defs[id].kind = kind.clone();
                return Ok(plain.clone());
            }
        }
        if let Kind::Enum { values, .. } = &kind {
            // `TaskPriority` and a request's `newPriority` with the same values are one type:
            // the first one named.
            let key: Vec<String> = values.iter().map(|v| v.json.clone()).collect();
            if let Some(&first) = self.enums.get(&key) {
                self.inlined.insert(id, Ty::Named(first));
                let name = std::mem::take(&mut self.defs[id].name);
                self.names.remove(&name);
                // The shared type is named by what the names have in common (six
                // `...Stability` enums become `Stability`) where that is free.
                let common = names::common_suffix(&self.defs[first].name, &name);
                if !common.is_empty() && common != self.defs[first].name && !self.names.contains(&common) {
                    self.names.remove(&self.defs[first].name);
                    self.names.insert(common.clone());
                    self.defs[first].name = common;
                }
                self.defs[id].name = name;
                self.defs[id].kind = kind;
                return Ok(Ty::Named(first));
            }
            self.enums.insert(key, id);
        }
        self.defs[id].docs = docs;
        self.defs[id].kind = kind;
        Ok(Ty::Named(id))
    }

    /// The type of an inline schema (no location of its own worth remembering).
    fn inline(&mut self, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<Ty> {
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
    fn convert(&mut self, r: &SchemaRef, schema: &Value, hint: &Hint) -> Result<Ty> {
        let obj = as_object(r, schema)?;
        if let Some(reference) = obj.get("$ref") {
            let text = reference
                .as_str()
                .ok_or_else(|| Error::at(&r.doc, format!("{}/$ref", r.pointer), "$ref is not a string"))?;
            let target = self.resolve(&r.doc, &format!("{}/$ref", r.pointer), text)?;
            let target_schema = self.lookup(&target)?;
            let name = self.location_name(&target, target_schema);
            let target_hint =
                Hint::new(name.clone(), vec![format!("{}{name}", names::from_file(&dir_of(&target.doc)))]);
            return self.located(&target, target_schema, &target_hint);
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
                    let item_hint = Hint {
                        name: names::singular(&hint.name),
                        fallbacks: hint.fallbacks.iter().map(|f| names::singular(f)).collect(),
                    };
                    let item_hint = if item_hint.name == hint.name { hint.child("Item") } else { item_hint };
                    Ty::Vec(Box::new(unbox(self.inline(&r.child("items"), items, &item_hint)?)))
                }
                _ => Ty::Vec(Box::new(Ty::Value)),
            },
            Some("object") => match obj.get("additionalProperties") {
                Some(ap @ Value::Object(_)) => {
                    Ty::Map(Box::new(unbox(self.inline(&r.child("additionalProperties"), ap, &hint.child("Value"))?)))
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

    /// `oneOf`/`anyOf` with a `{type: null}` branch, or `type: [T, "null"]`: `Option<T>`.
    fn nullable(&mut self, r: &SchemaRef, obj: &Map<String, Value>, hint: &Hint) -> Result<Option<Ty>> {
        if let Some(Value::Array(types)) = obj.get("type") {
            let non_null: Vec<&Value> = types.iter().filter(|t| t.as_str() != Some("null")).collect();
            if non_null.len() < types.len() && non_null.len() == 1 {
                let mut inner = obj.clone();
                inner.insert("type".into(), non_null[0].clone());
                return Ok(Some(Ty::Option(Box::new(self.inline(r, &Value::Object(inner), hint)?))));
            }
        }
        for key in ["oneOf", "anyOf"] {
            let Some(Value::Array(branches)) = obj.get(key) else { continue };
            let nulls = branches.iter().filter(|b| is_null_schema(b)).count();
            if nulls == 0 || nulls == branches.len() {
                continue;
            }
            let rest: Vec<(usize, &Value)> = branches.iter().enumerate().filter(|(_, b)| !is_null_schema(b)).collect();
            let ty = if rest.len() == 1 {
                let (i, b) = rest[0];
                self.inline(&r.child(key).child(&i.to_string()), b, hint)?
            } else {
                let mut without = obj.clone();
                without.insert(key.into(), Value::Array(rest.iter().map(|(_, b)| (*b).clone()).collect()));
                self.inline(r, &Value::Object(without), hint)?
            };
            return Ok(Some(match ty {
                Ty::Option(_) => ty,
                other => Ty::Option(Box::new(other)),
            }));
        }
        Ok(None)
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
                if !branches.iter().all(is_constraint_only) {
                    return Ok((self.union(r, obj, key, branches, hint)?, docs));
                }
            }
        }
        if let Some(Value::Array(branches)) = obj.get("allOf") {
            return Ok((self.all_of(r, obj, branches, hint)?, docs));
        }
        if let Some(Value::Array(values)) = obj.get("enum") {
            if values.iter().all(Value::is_string) && !values.is_empty() {
                return Ok((string_enum(values), docs));
            }
        }
        if obj.get("properties").is_some() || is_closed_object(obj) {
            let (fields, extra) = self.object(r, obj, hint, None)?;
            return Ok((Kind::Struct { fields, extra }, docs));
        }
        // `needs_name` and the cases above decide alike; reaching here is a generator bug.
        Err(Error::at(&r.doc, &r.pointer, "internal error: no named shape for this schema (please report)"))
    }

    /// A struct from `properties`, `required` and `additionalProperties`.
    fn object(
        &mut self,
        r: &SchemaRef,
        obj: &Map<String, Value>,
        hint: &Hint,
        skip: Option<&str>,
    ) -> Result<(Vec<Field>, Option<Ty>)> {
        let required: BTreeSet<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields = Vec::new();
        let mut used = BTreeSet::new();
        if let Some(props) = obj.get("properties") {
            let props = props
                .as_object()
                .ok_or_else(|| Error::at(&r.doc, format!("{}/properties", r.pointer), "properties is not an object"))?;
            for (json, prop) in props {
                if Some(json.as_str()) == skip {
                    continue;
                }
                let at = r.child("properties").child(json);
                let mut rust = names::snake(json);
                while !used.insert(rust.clone()) {
                    rust.push('_');
                }
                let ty = self.inline(&at, prop, &hint.child(&names::camel(json)))?;
                let is_required = required.contains(json.as_str());
                let ty = if is_required || ty.is_option() { ty } else { Ty::Option(Box::new(ty)) };
                let ty = match ty {
                    Ty::Option(inner) => Ty::Option(Box::new(match *inner {
                        Ty::Named(id) if self.in_progress.contains(&id) => {
                            self.recursive.insert(id);
                            Ty::Boxed(id)
                        }
                        other => other,
                    })),
                    other => other,
                };
                let prop_obj = prop.as_object();
                let mut docs = prop_obj.map(docs_of).unwrap_or_default();
                if let Some(target) = prop_obj.and_then(|p| p.get("$ref")).and_then(Value::as_str) {
                    // The text sits behind the `$ref`; the property's own keywords (a
                    // `default`) come first. `inline` above already reported a bad `$ref`.
                    let behind = self.resolve(&r.doc, &at.pointer, target).and_then(|t| self.lookup(&t));
                    if let Some(o) = behind.ok().and_then(Value::as_object) {
                        docs = merge_docs(docs, docs_of(o));
                    }
                }
                fields.push(Field { json: json.clone(), rust, ty, required: is_required, flatten: false, docs });
            }
        }
        // JSON Schema reads an absent `additionalProperties` as `true`: other properties are
        // allowed, so they are kept (a value read and sent back loses nothing). Only an explicit
        // `false` closes the object.
        let extra = match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => None,
            Some(ap @ Value::Object(_)) if ap.as_object().is_some_and(|m| !m.is_empty()) => {
                Some(unbox(self.inline(&r.child("additionalProperties"), ap, &hint.child("Value"))?))
            }
            _ => Some(Ty::Value),
        };
        Ok((fields, extra))
    }

    /// `allOf`: the object branches' properties merged; other branches flattened in.
    fn all_of(&mut self, r: &SchemaRef, obj: &Map<String, Value>, branches: &[Value], hint: &Hint) -> Result<Kind> {
        let mut merged = obj.clone();
        merged.remove("allOf");
        let mut props = merged.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut required: Vec<Value> = merged.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut others = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            let at = r.child("allOf").child(&i.to_string());
            let (b_at, b) = match b.get("$ref").and_then(Value::as_str) {
                Some(t) => {
                    let target = self.resolve(&r.doc, &format!("{}/$ref", at.pointer), t)?;
                    let s = self.lookup(&target)?;
                    (target, s)
                }
                None => (at, b),
            };
            match b.get("properties").and_then(Value::as_object) {
                Some(p) if b.get("oneOf").is_none() && b.get("anyOf").is_none() => {
                    props.extend(p.clone());
                    required.extend(b.get("required").and_then(Value::as_array).cloned().unwrap_or_default());
                    if let Some(ap) = b.get("additionalProperties") {
                        merged.insert("additionalProperties".into(), ap.clone());
                    }
                }
                _ if is_constraint_only(b) => {}
                _ => others.push((b_at, b)),
            }
        }
        merged.insert("properties".into(), Value::Object(props));
        merged.insert("required".into(), Value::Array(required));
        // Properties not named here belong to the flattened parts; a map of our own would
        // capture (and re-send) them twice.
        if !others.is_empty() {
            merged.insert("additionalProperties".into(), Value::Bool(false));
        }
        let (mut fields, extra) = self.object(r, &merged, hint, None)?;
        for (i, (at, b)) in others.into_iter().enumerate() {
            let name = b.get("title").and_then(Value::as_str).map(names::snake).unwrap_or_else(|| {
                if i == 0 {
                    "variant".into()
                } else {
                    format!("variant_{}", names::snake(&at.pointer))
                }
            });
            let ty = self.inline(&at, b, &hint.child("Variant"))?;
            fields.push(Field {
                json: name.clone(),
                rust: name,
                ty,
                required: true,
                flatten: true,
                docs: docs_of(b.as_object().unwrap_or(&Map::new())),
            });
        }
        Ok(Kind::Struct { fields, extra })
    }

    /// A union of `oneOf`/`anyOf` branches.
    fn union(
        &mut self,
        r: &SchemaRef,
        obj: &Map<String, Value>,
        key: &str,
        branches: &[Value],
        hint: &Hint,
    ) -> Result<Kind> {
        // Resolve each branch once; constraint-only branches add nothing.
        let mut resolved = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            if is_constraint_only(b) {
                continue;
            }
            let at = r.child(key).child(&i.to_string());
            match b.get("$ref").and_then(Value::as_str) {
                Some(t) => {
                    let target = self.resolve(&r.doc, &format!("{}/$ref", at.pointer), t)?;
                    let s = self.lookup(&target)?;
                    resolved.push((at, b, Some(target), s));
                }
                None => resolved.push((at, b, None, b)),
            }
        }
        // The parent's own properties (a common base) make a union of objects awkward;
        // branches then describe alternatives of the same object.
        if let Some((tag, values)) = discriminator(resolved.iter().map(|(_, _, _, s)| *s)) {
            let mut variants = Vec::new();
            // `discriminator` found one distinct value per branch, in branch order.
            for ((at, b, target, s), value) in resolved.iter().zip(values) {
                let title = b.get("title").or_else(|| s.get("title")).and_then(Value::as_str);
                let vname = names::camel(&value);
                let struct_name = title.map(names::camel).unwrap_or_else(|| format!("{}{vname}", hint.name));
                let struct_hint = Hint::new(struct_name, vec![format!("{}{vname}", hint.name)]);
                let loc = target.clone().unwrap_or_else(|| at.clone()).child("#without-tag");
                let id = self.reserve(&loc, &struct_hint);
                self.in_progress.insert(id);
                let kind = self.object(
                    target.as_ref().unwrap_or(at),
                    s.as_object().unwrap_or(obj),
                    &Hint::new(self.defs[id].name.clone(), vec![]),
                    Some(&tag),
                );
                self.in_progress.remove(&id);
                let (fields, extra) = kind?;
                self.defs[id].kind = Kind::Struct { fields, extra };
                let mut docs = docs_of(s.as_object().unwrap_or(obj));
                if docs.title.is_none() && docs.description.is_none() {
                    docs.description = Some(format!("The fields of [`{}::{vname}`] (`{tag}: {value}`).", hint.name));
                }
                self.defs[id].docs = docs;
                variants.push(Variant {
                    name: vname,
                    tag_value: Some(value),
                    ty: Ty::Named(id),
                    docs: docs_of(b.as_object().unwrap_or(obj)),
                });
            }
            dedupe_variant_names(&mut variants);
            return Ok(Kind::Union { tag: Some(tag), variants });
        }
        let mut variants: Vec<Variant> = Vec::new();
        for (at, b, target, s) in &resolved {
            let title = b.get("title").or_else(|| s.get("title")).and_then(Value::as_str);
            let branch_hint = match title {
                Some(t) => Hint::new(names::camel(t), vec![format!("{}{}", hint.name, names::camel(t))]),
                None => hint.child(&branch_word(b)),
            };
            let ty = match target {
                Some(t) => {
                    let name = self.location_name(t, s);
                    self.located(t, s, &Hint::new(name.clone(), vec![format!("{}{name}", hint.name)]))?
                }
                None => self.inline(at, b, &branch_hint)?,
            };
            let name = match (title, target, &ty) {
                (Some(t), _, _) => names::camel(t),
                (None, Some(_), Ty::Named(id) | Ty::Boxed(id)) => self.defs[*id].name.clone(),
                (None, None, Ty::Named(_) | Ty::Boxed(_)) => branch_word(b),
                (None, _, other) => ty_word(other).to_owned(),
            };
            variants.push(Variant { name, tag_value: None, ty, docs: docs_of(b.as_object().unwrap_or(obj)) });
        }
        // One real branch is that branch; branches that are all the same plain type (e.g. two
        // string patterns) are that type.
        if let Some(first) = variants.first() {
            let plain = !matches!(first.ty, Ty::Named(_) | Ty::Boxed(_));
            if variants.len() == 1 || (plain && variants.iter().all(|v| v.ty == first.ty)) {
                return Ok(Kind::Alias(first.ty.clone()));
            }
        }
        for v in &mut variants {
            if let Ty::Named(id) = v.ty {
                if self.in_progress.contains(&id) {
                    self.recursive.insert(id);
                    v.ty = Ty::Boxed(id);
                }
            }
        }
        dedupe_variant_names(&mut variants);
        Ok(Kind::Union { tag: None, variants })
    }
}

fn unbox(ty: Ty) -> Ty {
    match ty {
        Ty::Boxed(id) => Ty::Named(id),
        other => other,
    }
}

fn dedupe_variant_names(variants: &mut [Variant]) {
    let mut seen = BTreeSet::new();
    for v in variants.iter_mut() {
        // `Other` and `Unknown` are the catch-all variants.
        if v.name == "Other" || v.name == "Unknown" {
            v.name = format!("{}Value", v.name);
        }
        let base = v.name.clone();
        let mut suffix = ty_word(&v.ty).to_owned();
        while !seen.insert(v.name.clone()) {
            v.name = format!("{base}{suffix}");
            suffix.push_str("Alt");
        }
    }
}

/// A name for an untitled union branch from what it holds: `WithTaskId` for an object whose
/// first required (else first) property is `taskId`, `Empty` for an object without properties,
/// the first value of an enum, else its JSON type.
fn branch_word(b: &Value) -> String {
    let props = b.get("properties").and_then(Value::as_object);
    let first_required = b.get("required").and_then(Value::as_array).and_then(|r| r.first()).and_then(Value::as_str);
    if let Some(p) = first_required.or_else(|| props.and_then(|p| p.keys().next()).map(String::as_str)) {
        return format!("With{}", names::camel(p));
    }
    if props.is_some() || b.get("type").and_then(Value::as_str) == Some("object") {
        return "Empty".into();
    }
    if let Some(v) = b.get("enum").and_then(Value::as_array).and_then(|v| v.first()).and_then(Value::as_str) {
        return names::camel(v);
    }
    names::camel(b.get("type").and_then(Value::as_str).unwrap_or("value"))
}

fn ty_word(ty: &Ty) -> &'static str {
    match ty {
        Ty::String => "String",
        Ty::I64 | Ty::U64 => "Integer",
        Ty::F64 => "Number",
        Ty::Bool => "Boolean",
        Ty::Time => "Time",
        Ty::Vec(_) => "List",
        Ty::Map(_) => "Map",
        Ty::Unit => "Null",
        Ty::Option(_) => "Optional",
        Ty::Named(_) | Ty::Boxed(_) | Ty::Value => "Object",
    }
}

/// The property every branch fixes to a distinct constant (`const` or a one-value `enum`),
/// if there is one, with each branch's value in branch order.
fn discriminator<'a>(branches: impl Iterator<Item = &'a Value> + Clone) -> Option<(String, Vec<String>)> {
    let first = branches.clone().next()?;
    let props = first.get("properties")?.as_object()?;
    'candidates: for name in props.keys() {
        let mut values = Vec::new();
        for b in branches.clone() {
            let required = b.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == name));
            match tag_value(b, name) {
                Some(v) if required && !values.contains(&v) => values.push(v),
                _ => continue 'candidates,
            }
        }
        if values.len() > 1 || branches.clone().count() == 1 {
            return Some((name.clone(), values));
        }
    }
    None
}

fn tag_value(schema: &Value, prop: &str) -> Option<String> {
    let p = schema.get("properties")?.get(prop)?;
    p.get("const").or_else(|| p.as_object().and_then(single_enum)).and_then(Value::as_str).map(str::to_owned)
}

fn single_enum(obj: &Map<String, Value>) -> Option<&Value> {
    match obj.get("enum") {
        Some(Value::Array(v)) if v.len() == 1 => v.first(),
        _ => None,
    }
}

fn string_enum(values: &[Value]) -> Kind {
    let mut seen = BTreeSet::new();
    let values = values
        .iter()
        .filter_map(Value::as_str)
        .filter(|v| seen.insert(v.to_string()))
        .map(|v| EnumValue { json: v.to_owned(), rust: names::camel(v) })
        .collect::<Vec<_>>();
    let mut names_seen = BTreeSet::new();
    let values: Vec<EnumValue> = values
        .into_iter()
        .map(|mut v| {
            while !names_seen.insert(v.rust.clone()) {
                v.rust.push_str("Alt");
            }
            v
        })
        .collect();
    // The catch-all is `Unknown(String)` unless a documented value already is `Unknown`
    // (GoCD's agent states).
    let catch_all = ["Unknown", "Other", "Unrecognized"]
        .into_iter()
        .find(|c| !names_seen.contains(*c))
        .unwrap_or("UnrecognizedValue")
        .to_owned();
    Kind::Enum { values, catch_all }
}

/// Whether a schema becomes a named type (struct, enum or union) rather than a plain type.
fn needs_name(schema: &Value) -> bool {
    let Some(obj) = schema.as_object() else { return false };
    if obj.contains_key("$ref") {
        return false;
    }
    let combinator = ["oneOf", "anyOf"].iter().any(|k| {
        obj.get(*k).and_then(Value::as_array).is_some_and(|b| {
            let real: Vec<&Value> = b.iter().filter(|x| !is_constraint_only(x) && !is_null_schema(x)).collect();
            real.len() > 1 || (real.len() == 1 && needs_name(real[0]))
        })
    });
    let string_enum =
        obj.get("enum").and_then(Value::as_array).is_some_and(|v| !v.is_empty() && v.iter().all(Value::is_string));
    combinator || string_enum || obj.contains_key("allOf") || obj.contains_key("properties") || is_closed_object(obj)
}

/// `{type: object, additionalProperties: false}` with no properties: an empty struct.
fn is_closed_object(obj: &Map<String, Value>) -> bool {
    obj.get("additionalProperties") == Some(&Value::Bool(false))
        && obj.get("type").and_then(Value::as_str) == Some("object")
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") || v.get("const") == Some(&Value::Null)
}

/// A branch that only constrains (a `pattern`, a `required` list) and adds no shape.
fn is_constraint_only(v: &Value) -> bool {
    let Some(obj) = v.as_object() else { return false };
    !["type", "properties", "$ref", "enum", "const", "oneOf", "anyOf", "allOf", "items", "additionalProperties"]
        .iter()
        .any(|k| obj.contains_key(*k))
}

fn as_object<'a>(r: &SchemaRef, schema: &'a Value) -> Result<&'a Map<String, Value>> {
    match schema {
        Value::Object(o) => Ok(o),
        Value::Bool(true) => Ok(empty_map()),
        _ => Err(Error::at(&r.doc, &r.pointer, "a schema must be an object")),
    }
}

fn empty_map() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

fn type_name<'a>(r: &SchemaRef, obj: &'a Map<String, Value>) -> Result<Option<&'a str>> {
    match obj.get("type") {
        None => Ok(if obj.contains_key("properties") { Some("object") } else { None }),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => Ok(a[0].as_str()),
        Some(Value::Array(_)) => Ok(None),
        Some(_) => {
            Err(Error::at(&r.doc, format!("{}/type", r.pointer), "type must be a string or an array of strings"))
        }
    }
}

/// Title, description, and constraints as notes.
fn docs_of(obj: &Map<String, Value>) -> Docs {
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned).filter(|s| !s.trim().is_empty());
    let mut notes = Vec::new();
    let mut note = |label: &str, key: &str| {
        if let Some(v) = obj.get(key) {
            notes.push(format!("{label}: `{}`", compact(v)));
        }
    };
    note("Default", "default");
    note("Minimum", "minimum");
    note("Maximum", "maximum");
    note("Minimum length", "minLength");
    note("Maximum length", "maxLength");
    note("Pattern", "pattern");
    note("Minimum items", "minItems");
    note("Maximum items", "maxItems");
    note("Multiple of", "multipleOf");
    if obj.get("uniqueItems") == Some(&Value::Bool(true)) {
        notes.push("Items are unique.".into());
    }
    if let Some(f) = obj.get("format").and_then(Value::as_str) {
        if f != "date-time" {
            notes.push(format!("Format: `{f}`"));
        }
    }
    if let Some(c) = obj.get("const") {
        notes.push(format!("Always `{}`.", compact(c)));
    }
    if let Some(Value::Array(values)) = obj.get("enum") {
        if !values.iter().all(Value::is_string) {
            notes.push(format!(
                "One of: {}",
                values.iter().map(|v| format!("`{}`", compact(v))).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Docs { title: text("title"), description: text("description"), notes }
}

/// `own` docs completed by those of the schema behind a `$ref`: own text wins, notes are
/// added where `own` has none with the same label.
fn merge_docs(own: Docs, behind: Docs) -> Docs {
    let label = |n: &String| n.split_once(':').map_or(n.clone(), |(l, _)| l.to_owned());
    let own_labels: BTreeSet<String> = own.notes.iter().map(label).collect();
    let mut notes = own.notes;
    notes.extend(behind.notes.into_iter().filter(|n| !own_labels.contains(&label(n))));
    Docs { title: own.title.or(behind.title), description: own.description.or(behind.description), notes }
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}…", &s[..s.char_indices().take_while(|(i, _)| *i < 120).last().map_or(0, |(i, c)| i + c.len_utf8())])
    } else {
        s
    }
}

/// The folder of a document path (`schemas/queue/v1/task.json` → `schemas/queue/v1`).
pub fn dir_of(doc: &str) -> String {
    doc.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default()
}

/// Resolves `.` and `..` in a slash-separated path.
pub fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

impl SchemaRef {
    /// The location of a child keyword or property.
    pub fn child(&self, token: &str) -> SchemaRef {
        SchemaRef { doc: self.doc.clone(), pointer: format!("{}/{}", self.pointer, pointer_token(token)) }
    }
}

/// All types of a space, by name (for lookups in tests and emitters).
pub fn by_name(space: &TypeSpace<'_>) -> BTreeMap<String, TypeId> {
    space.defs.iter().enumerate().map(|(i, d)| (d.name.clone(), i)).collect()
}
