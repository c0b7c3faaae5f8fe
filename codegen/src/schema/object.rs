//! Objects: `properties` become fields, `additionalProperties` a flattened map, and `allOf`
//! merges its object branches and flattens the others in.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::convert::Converter;
use super::docs::{docs_of, docs_of_value, merge_docs};
use super::ir::{Field, Kind, Ty};
use super::naming::Hint;
use super::shape::is_constraint_only;
use crate::error::{Error, Result};
use crate::model::SchemaRef;
use crate::names;

impl Converter<'_> {
    /// A struct's fields and extra map from `properties`, `required` and
    /// `additionalProperties`; `skip` leaves out a tagged union's tag.
    pub(super) fn object(
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
                // The text sits behind the `$ref`; the property's own keywords (a `default`)
                // come first.
                let mut docs = docs_of_value(prop);
                if let Some(behind) = self.behind_ref(&at, prop) {
                    docs = merge_docs(docs, docs_of(behind));
                }
                fields.push(Field { json: json.clone(), rust, ty, required: is_required, flatten: false, docs });
            }
        }
        // JSON Schema reads an absent `additionalProperties` as `true`: other properties are
        // allowed, so they are kept (a value read and sent back loses nothing). Only an explicit
        // `false` closes the object.
        let extra = match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => None,
            Some(ap @ Value::Object(m)) if !m.is_empty() => {
                Some(self.inline(&r.child("additionalProperties"), ap, &hint.child("Value"))?)
            }
            _ => Some(Ty::Value),
        };
        Ok((fields, extra))
    }

    /// `allOf`: the object branches' properties merged; other branches flattened in.
    pub(super) fn all_of(
        &mut self,
        r: &SchemaRef,
        obj: &Map<String, Value>,
        branches: &[Value],
        hint: &Hint,
    ) -> Result<Kind> {
        let mut merged = obj.clone();
        merged.remove("allOf");
        let mut props = merged.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut required: Vec<Value> = merged.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut others = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            let (b_at, b, _) = self.branch(r.child("allOf").child(&i.to_string()), b)?;
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
                docs: docs_of_value(b),
            });
        }
        Ok(Kind::Struct { fields, extra })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{convert, kind, named};
    use super::*;

    fn extra(schema: serde_json::Value) -> Option<Ty> {
        let (space, _) = convert("o", schema, "O");
        match kind(&space, "O") {
            Kind::Struct { extra, .. } => extra.clone(),
            other => panic!("no struct: {other:?}"),
        }
    }

    #[test]
    fn additional_properties_absent_true_and_empty_keep_a_map_false_closes_a_schema_types_it() {
        let props = json!({"a": {"type": "string"}});
        assert_eq!(extra(json!({"properties": props})), Some(Ty::Value));
        assert_eq!(extra(json!({"properties": props, "additionalProperties": true})), Some(Ty::Value));
        assert_eq!(extra(json!({"properties": props, "additionalProperties": {}})), Some(Ty::Value));
        assert_eq!(extra(json!({"properties": props, "additionalProperties": false})), None);
        assert_eq!(extra(json!({"properties": props, "additionalProperties": {"type": "integer"}})), Some(Ty::I64));
    }

    #[test]
    fn required_fields_are_plain_optional_ones_options_and_rust_names_stay_unique() {
        let (space, _) = convert(
            "o",
            json!({"properties": {"taskId": {"type": "string"}, "task_id": {"type": "boolean"},
                   "when": {"type": "string", "format": "date-time"}}, "required": ["taskId"]}),
            "O",
        );
        let Kind::Struct { fields, .. } = kind(&space, "O") else { panic!() };
        let got: Vec<(&str, &str, &Ty)> = fields.iter().map(|f| (f.json.as_str(), f.rust.as_str(), &f.ty)).collect();
        assert_eq!(
            got,
            [
                ("taskId", "task_id", &Ty::String),
                ("task_id", "task_id_", &Ty::Option(Box::new(Ty::Bool))),
                ("when", "when", &Ty::Option(Box::new(Ty::Time)))
            ]
        );
    }

    #[test]
    fn all_of_merges_objects_and_flattens_the_rest_closed() {
        let (space, _) = convert(
            "m",
            json!({"allOf": [
                {"properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"$ref": "#/definitions/b"},
                {"oneOf": [{"properties": {"x": {"type": "integer"}}, "required": ["x"]},
                           {"properties": {"y": {"type": "integer"}}, "required": ["y"]}]},
                {"pattern": "^only constrains"}
            ], "definitions": {"b": {"properties": {"b": {"type": "boolean"}}}}}),
            "Merged",
        );
        let Kind::Struct { fields, extra } = kind(&space, "Merged") else { panic!() };
        let names: Vec<(&str, bool, bool)> = fields.iter().map(|f| (f.rust.as_str(), f.required, f.flatten)).collect();
        assert_eq!(names, [("a", true, false), ("b", false, false), ("variant", true, true)]);
        // The flattened part takes the properties this struct does not name.
        assert_eq!(*extra, None);
        assert_eq!(fields[2].ty, named(&space, "MergedVariant"));
        assert!(matches!(kind(&space, "MergedVariant"), Kind::Union { .. }));
    }

    #[test]
    fn a_ref_propertys_docs_come_from_behind_the_ref_its_own_first() {
        let (space, _) = convert(
            "d",
            json!({"properties": {"n": {"$ref": "#/definitions/n", "default": 5}},
                   "definitions": {"n": {"type": "integer", "description": "How many.", "default": 1}}}),
            "D",
        );
        let Kind::Struct { fields, .. } = kind(&space, "D") else { panic!() };
        assert_eq!(fields[0].docs.description.as_deref(), Some("How many."));
        assert_eq!(fields[0].docs.notes, ["Default: `5`"]);
        assert_eq!(fields.len(), 1);
    }
}
