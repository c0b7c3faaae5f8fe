//! Filling free-form JSON objects of request bodies (a task's `payload`) from typed values.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// `value` as a JSON object: a map, `serde_json::json!({...})`, or any struct (a typed worker
/// payload). Anything that is not written as an object is an error naming what it is.
pub fn json_object(value: impl Serialize) -> Result<BTreeMap<String, Value>, serde_json::Error> {
    match serde_json::to_value(value)? {
        Value::Object(map) => Ok(map.into_iter().collect()),
        other => Err(<serde_json::Error as serde::ser::Error>::custom(format!(
            "expected a JSON object, got {}",
            kind(&other)
        ))),
    }
}

/// A JSON value's kind, as a message names it ("got an array").
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_pass_and_other_values_are_named() {
        #[derive(Serialize)]
        struct Payload {
            command: Vec<&'static str>,
        }
        let map = json_object(Payload { command: vec!["true"] }).unwrap();
        assert_eq!(map["command"], serde_json::json!(["true"]));
        assert_eq!(json_object("x").unwrap_err().to_string(), "expected a JSON object, got a string");
        assert_eq!(json_object(vec![1]).unwrap_err().to_string(), "expected a JSON object, got an array");
    }
}
