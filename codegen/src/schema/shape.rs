//! What a schema is, read from its keywords alone: the questions the converter asks before it
//! decides what type a schema becomes.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::SchemaRef;

/// Whether a schema becomes a named type (struct, enum or union) rather than a plain type.
pub(super) fn needs_name(schema: &Value) -> bool {
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
    combinator
        || string_enum_values(obj).is_some()
        || obj.contains_key("allOf")
        || obj.contains_key("properties")
        || is_closed_object(obj)
}

/// The values of an `enum` of strings only.
pub(super) fn string_enum_values(obj: &Map<String, Value>) -> Option<&[Value]> {
    match obj.get("enum") {
        Some(Value::Array(v)) if !v.is_empty() && v.iter().all(Value::is_string) => Some(v),
        _ => None,
    }
}

/// `{type: object, additionalProperties: false}` with no properties: an empty struct.
pub(super) fn is_closed_object(obj: &Map<String, Value>) -> bool {
    obj.get("additionalProperties") == Some(&Value::Bool(false))
        && obj.get("type").and_then(Value::as_str) == Some("object")
}

/// `{type: null}` or `{const: null}`.
pub(super) fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") || v.get("const") == Some(&Value::Null)
}

/// A branch that only constrains (a `pattern`, a `required` list) and adds no shape.
pub(super) fn is_constraint_only(v: &Value) -> bool {
    let Some(obj) = v.as_object() else { return false };
    !["type", "properties", "$ref", "enum", "const", "oneOf", "anyOf", "allOf", "items", "additionalProperties"]
        .iter()
        .any(|k| obj.contains_key(*k))
}

/// The keywords of a schema; `true` has none. Anything else is no schema.
pub(super) fn as_object<'a>(r: &SchemaRef, schema: &'a Value) -> Result<&'a Map<String, Value>> {
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

/// The one JSON type a schema names (`properties` alone means an object); `None` for none or
/// several.
pub(super) fn type_name<'a>(r: &SchemaRef, obj: &'a Map<String, Value>) -> Result<Option<&'a str>> {
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

/// The value of a one-value `enum`.
pub(super) fn single_enum(obj: &Map<String, Value>) -> Option<&Value> {
    match obj.get("enum") {
        Some(Value::Array(v)) if v.len() == 1 => v.first(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn named_shapes_and_plain_ones() {
        for named in [
            json!({"properties": {}}),
            json!({"enum": ["a", "b"]}),
            json!({"allOf": [{}]}),
            json!({"type": "object", "additionalProperties": false}),
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
            json!({"oneOf": [{"type": "null"}, {"properties": {}}]}),
        ] {
            assert!(needs_name(&named), "{named}");
        }
        for plain in [
            json!({"$ref": "#/x", "properties": {}}),
            json!({"type": "string"}),
            json!({"enum": [1, 2]}),
            json!({"oneOf": [{"type": "null"}, {"type": "string"}]}),
            json!({"anyOf": [{"pattern": "^a"}, {"type": "string"}]}),
            json!({"type": "object"}),
        ] {
            assert!(!needs_name(&plain), "{plain}");
        }
    }

    #[test]
    fn a_type_that_is_no_string_is_an_error_at_its_pointer() {
        let r = SchemaRef { doc: "f.json".into(), pointer: "/properties/x".into() };
        let obj = json!({"type": 3});
        let e = type_name(&r, obj.as_object().unwrap()).unwrap_err();
        assert_eq!((e.file.as_str(), e.pointer.as_str()), ("f.json", "/properties/x/type"));
        assert!(as_object(&r, &json!(false)).is_err());
    }
}
