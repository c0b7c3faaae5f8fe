//! `oneOf`/`anyOf`: nullable forms become `Option`, branches that all fix one property to
//! distinct constants a tagged union, anything else an untagged union.

use serde_json::{Map, Value};

use super::convert::Converter;
use super::docs::docs_of_value;
use super::ir::{Kind, TaggedVariant, Ty, Variant};
use super::naming::{branch_word, dedupe_variant_names, ty_word, Hint};
use super::shape::{is_constraint_only, is_null_schema, single_enum};
use crate::error::Result;
use crate::model::SchemaRef;
use crate::names;

/// A union branch: where it is, the branch as written, and the schema it stands for (the
/// target of its `$ref`, if it is one).
struct Branch<'s> {
    at: SchemaRef,
    written: &'s Value,
    schema: &'s Value,
    is_ref: bool,
}

impl Converter<'_> {
    /// `oneOf`/`anyOf` with a `{type: null}` branch, or `type: [T, "null"]`: `Option<T>`.
    pub(super) fn nullable(&mut self, r: &SchemaRef, obj: &Map<String, Value>, hint: &Hint) -> Result<Option<Ty>> {
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
            let ty = if let [(i, b)] = rest[..] {
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

    /// A union of `oneOf`/`anyOf` branches (`key`).
    pub(super) fn union(
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
            let (target, schema, is_ref) = self.branch(at.clone(), b)?;
            resolved.push(Branch { at: if is_ref { target } else { at }, written: b, schema, is_ref });
        }
        if let Some((tag, values)) = discriminator(resolved.iter().map(|b| b.schema)) {
            return self.tagged(obj, tag, values, &resolved, hint);
        }
        let mut variants: Vec<Variant> = Vec::new();
        for b in &resolved {
            let title = b.written.get("title").or_else(|| b.schema.get("title")).and_then(Value::as_str);
            let ty = if b.is_ref {
                self.referenced_branch(&b.at, b.schema, &hint.name)?
            } else {
                let branch_hint = match title {
                    Some(t) => Hint::new(names::camel(t), vec![format!("{}{}", hint.name, names::camel(t))]),
                    None => hint.child(&branch_word(b.written)),
                };
                self.inline(&b.at, b.written, &branch_hint)?
            };
            let name = match (title, b.is_ref, &ty) {
                (Some(t), _, _) => names::camel(t),
                (None, true, Ty::Named(id) | Ty::Boxed(id)) => self.defs[*id].name.clone(),
                (None, false, Ty::Named(_) | Ty::Boxed(_)) => branch_word(b.written),
                (None, _, other) => ty_word(other).to_owned(),
            };
            variants.push(Variant { name, ty, docs: docs_of_value(b.written) });
        }
        // One real branch is that branch; branches that are all the same plain type (e.g. two
        // string patterns) are that type.
        if let Some(first) = variants.first() {
            let plain = !matches!(first.ty, Ty::Named(_) | Ty::Boxed(_));
            if variants.len() == 1 || (plain && variants.iter().all(|v| v.ty == first.ty)) {
                return Ok(Kind::Alias(first.ty.clone()));
            }
        }
        dedupe_variant_names(variants.iter_mut().map(|v| (&mut v.name, &v.ty)));
        Ok(Kind::Union { variants })
    }

    /// A tagged union: each branch becomes a struct of its properties but the tag.
    fn tagged(
        &mut self,
        obj: &Map<String, Value>,
        tag: String,
        values: Vec<String>,
        branches: &[Branch<'_>],
        hint: &Hint,
    ) -> Result<Kind> {
        let mut variants = Vec::new();
        // `discriminator` found one distinct value per branch, in branch order.
        for (b, value) in branches.iter().zip(values) {
            let title = b.written.get("title").or_else(|| b.schema.get("title")).and_then(Value::as_str);
            let vname = names::camel(&value);
            let struct_name = title.map(names::camel).unwrap_or_else(|| format!("{}{vname}", hint.name));
            let struct_hint = Hint::new(struct_name, vec![format!("{}{vname}", hint.name)]);
            // The struct without the tag is not the schema at its location: a location of its own.
            let id = self.reserve(&b.at.child("#without-tag"), &struct_hint);
            self.in_progress.insert(id);
            let schema = b.schema.as_object().unwrap_or(obj);
            let fields = self.object(&b.at, schema, &Hint::new(self.defs[id].name.clone(), vec![]), Some(&tag));
            self.in_progress.remove(&id);
            let (fields, extra) = fields?;
            self.defs[id].kind = Kind::Struct { fields, extra };
            let mut docs = docs_of_value(b.schema);
            if docs.title.is_none() && docs.description.is_none() {
                docs.description = Some(format!("The fields of [`{}::{vname}`] (`{tag}: {value}`).", hint.name));
            }
            self.defs[id].docs = docs;
            variants.push(TaggedVariant {
                name: vname,
                tag_value: value,
                ty: Ty::Named(id),
                docs: docs_of_value(b.written),
            });
        }
        dedupe_variant_names(variants.iter_mut().map(|v| (&mut v.name, &v.ty)));
        Ok(Kind::Tagged { tag, variants })
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

/// The constant a branch fixes property `prop` to.
fn tag_value(schema: &Value, prop: &str) -> Option<String> {
    let p = schema.get("properties")?.get(prop)?;
    p.get("const").or_else(|| p.as_object().and_then(single_enum)).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{convert, fields, kind, named};
    use super::*;

    #[test]
    fn every_nullable_form_is_an_option_of_the_rest() {
        let (space, _) = convert(
            "n",
            json!({"properties": {
                "list": {"type": ["string", "null"]},
                "oneOf": {"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 0}]},
                "anyOfRef": {"anyOf": [{"$ref": "#/definitions/p"}, {"type": "null"}]},
                "twoAndNull": {"oneOf": [{"type": "string"}, {"type": "boolean"}, {"type": "null"}]}
            }, "required": ["list", "oneOf", "anyOfRef", "twoAndNull"],
               "definitions": {"p": {"properties": {"x": {"type": "number"}}}}}),
            "N",
        );
        let f = fields(&space, "N");
        let opt = |t: Ty| Ty::Option(Box::new(t));
        assert_eq!(f[0].1, opt(Ty::String));
        assert_eq!(f[1].1, opt(Ty::U64));
        assert_eq!(f[2].1, opt(named(&space, "P")));
        assert_eq!(f[3].1, opt(named(&space, "NTwoAndNull")));
    }

    #[test]
    fn distinct_constants_make_a_tagged_union_of_structs_without_the_tag() {
        let (space, ty) = convert(
            "shape",
            json!({"oneOf": [
                {"properties": {"kind": {"const": "circle"}, "r": {"type": "number"}}, "required": ["kind", "r"]},
                {"title": "Box shape", "properties": {"kind": {"enum": ["box"]}, "w": {"type": "number"}}, "required": ["kind"]}
            ]}),
            "Shape",
        );
        assert_eq!(ty, named(&space, "Shape"));
        let Kind::Tagged { tag, variants } = kind(&space, "Shape") else { panic!("tagged") };
        assert_eq!(tag, "kind");
        let got: Vec<(&str, &str)> = variants.iter().map(|v| (v.name.as_str(), v.tag_value.as_str())).collect();
        assert_eq!(got, [("Circle", "circle"), ("Box", "box")]);
        assert_eq!(variants[0].ty, named(&space, "ShapeCircle"));
        assert_eq!(variants[1].ty, named(&space, "BoxShape"));
        assert_eq!(fields(&space, "ShapeCircle"), [("r".to_owned(), Ty::F64)]);
    }

    #[test]
    fn untagged_variants_are_named_by_title_ref_or_what_they_hold() {
        let (space, _) = convert(
            "u",
            json!({"anyOf": [
                {"title": "By name", "type": "string"},
                {"$ref": "#/definitions/thing"},
                {"properties": {"taskId": {"type": "string"}}, "required": ["taskId"]},
                {"type": "integer"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "string", "format": "date-time"}
            ], "definitions": {"thing": {"properties": {"a": {"type": "string"}}}}}),
            "U",
        );
        let Kind::Union { variants } = kind(&space, "U") else { panic!("untagged") };
        let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["ByName", "Thing", "WithTaskId", "Integer", "List", "Time"]);
        assert_eq!(variants[2].ty, named(&space, "UWithTaskId"));
    }

    #[test]
    fn one_real_branch_or_one_plain_type_is_no_union() {
        let (space, ty) =
            convert("p", json!({"oneOf": [{"type": "string", "pattern": "^a"}, {"type": "string"}]}), "P");
        assert_eq!(ty, Ty::String);
        assert!(space.by_name().is_empty(), "nothing emitted: {:?}", space.by_name());
        // Branches that only constrain leave the parent's type.
        let (_, ty) = convert("q", json!({"type": "boolean", "anyOf": [{"required": ["x"]}, {"pattern": "y"}]}), "Q");
        assert_eq!(ty, Ty::Bool);
    }
}
