//! Helpers for the Pulse end-to-end tests and benchmark: the exchanges of the Taskcluster
//! references (read from `../shared/taskcluster/references.json` at run time, never copied),
//! a minimal valid message per exchange built from its JSON schema, and publishing.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

pub use test_broker::{admin_channel, publish, Broker, User};

/// One exchange of the references.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Full exchange name (`exchangePrefix` + `exchange`).
    pub name: String,
    /// A concrete routing key with a value for every element (multi-word ones get two words).
    pub routing_key: String,
    /// A minimal message valid for the exchange's schema.
    pub body: Value,
}

/// The references bundle: `$TASKCLUSTER_REFERENCES` if it is a file, else
/// `../shared/taskcluster/references.json` beside the checkout.
pub fn references_path() -> PathBuf {
    match std::env::var_os("TASKCLUSTER_REFERENCES").map(PathBuf::from) {
        Some(p) if p.is_file() => p,
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/taskcluster/references.json"),
    }
}

/// Every exchange of the references, with a routing key and a message built from its schema.
pub fn exchanges() -> Vec<Exchange> {
    let path = references_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs: Vec<Value> = serde_json::from_str(&text).unwrap();
    let schemas: HashMap<String, Value> = docs
        .iter()
        .filter_map(|d| Some((d["content"]["$id"].as_str()?.trim_end_matches('#').to_owned(), d["content"].clone())))
        .collect();
    let mut out = Vec::new();
    for doc in &docs {
        let file = doc["filename"].as_str().unwrap_or_default();
        let content = &doc["content"];
        if !content["$schema"].as_str().unwrap_or_default().ends_with("exchanges-reference-v0.json#") {
            continue;
        }
        // references/<service>/v1/exchanges.json: schemas live in /schemas/<service>/.
        let service = file.split('/').nth(1).unwrap();
        let prefix = content["exchangePrefix"].as_str().unwrap();
        for entry in content["entries"].as_array().unwrap() {
            let schema_id = format!("/schemas/{service}/{}", entry["schema"].as_str().unwrap().trim_end_matches('#'));
            let schema = schemas.get(&schema_id).unwrap_or_else(|| panic!("schema {schema_id} not in the bundle"));
            let mut words = Vec::new();
            for (i, part) in entry["routingKey"].as_array().unwrap().iter().enumerate() {
                words.push(match (part["constant"].as_str(), part["multipleWords"].as_bool()) {
                    (Some(c), _) => c.to_owned(),
                    (None, Some(true)) => format!("m{i}.more"),
                    _ => format!("w{i}"),
                });
            }
            out.push(Exchange {
                name: format!("{prefix}{}", entry["exchange"].as_str().unwrap()),
                routing_key: words.join("."),
                body: Minimal { schemas: &schemas }.build(schema, &schema_id, 0),
            });
        }
    }
    out
}

/// Builds the smallest instance a schema accepts: required properties only, first enum
/// value or branch, minimum lengths and counts.
struct Minimal<'a> {
    schemas: &'a HashMap<String, Value>,
}

impl Minimal<'_> {
    fn build(&self, schema: &Value, base: &str, depth: usize) -> Value {
        assert!(depth < 40, "schema recursion too deep at {base}");
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let (target, new_base) = self.resolve(r, base);
            return self.build(&target, &new_base, depth + 1);
        }
        if let Some(c) = schema.get("const") {
            return c.clone();
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return first.clone();
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            let own = self.object(schema, base, depth);
            for branch in all {
                if let Value::Object(m) = self.build(branch, base, depth + 1) {
                    merged.extend(m);
                }
            }
            if let Value::Object(m) = own {
                merged.extend(m);
            }
            return Value::Object(merged);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                let branch = branches.iter().find(|b| b.get("type") != Some(&json!("null"))).unwrap_or(&branches[0]);
                return self.build(branch, base, depth + 1);
            }
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
            _ if schema.get("properties").is_some() => "object",
            _ => "object",
        };
        match ty {
            "object" => self.object(schema, base, depth),
            "array" => {
                let n = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                (0..n)
                    .map(|i| match self.build(&items, base, depth + 1) {
                        Value::String(s) => Value::String(format!("{s}{i}")),
                        v => v,
                    })
                    .collect()
            }
            "string" => match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => json!("2026-11-30T10:00:00.000Z"),
                Some("uri") => json!("https://example.com/x"),
                _ => {
                    let n = schema.get("minLength").and_then(Value::as_u64).unwrap_or(1).max(1);
                    Value::String("x".repeat(n as usize))
                }
            },
            "integer" | "number" => json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(0)),
            "boolean" => json!(false),
            _ => Value::Null,
        }
    }

    fn object(&self, schema: &Value, base: &str, depth: usize) -> Value {
        let mut m = Map::new();
        let props = schema.get("properties").and_then(Value::as_object);
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            let value = match props.and_then(|p| p.get(name)) {
                Some(p) => self.build(p, base, depth + 1),
                None => json!("x"),
            };
            m.insert(name.to_owned(), value);
        }
        if m.is_empty() && schema.get("minProperties").and_then(Value::as_u64).unwrap_or(0) > 0 {
            let extra = schema
                .get("additionalProperties")
                .filter(|a| a.is_object())
                .cloned()
                .unwrap_or(json!({"type": "string"}));
            m.insert("key".into(), self.build(&extra, base, depth + 1));
        }
        Value::Object(m)
    }

    /// `$ref` relative to the current schema's id, with an optional JSON-pointer fragment.
    fn resolve(&self, r: &str, base: &str) -> (Value, String) {
        let (file, fragment) = r.split_once('#').unwrap_or((r, ""));
        let id = if file.is_empty() {
            base.to_owned()
        } else if file.starts_with('/') {
            file.to_owned()
        } else {
            let dir = base.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            format!("{dir}/{file}")
        };
        let doc = self.schemas.get(&id).unwrap_or_else(|| panic!("$ref {r} from {base}: {id} not in the bundle"));
        let target = if fragment.is_empty() {
            doc
        } else {
            doc.pointer(fragment).unwrap_or_else(|| panic!("$ref {r}: no {fragment}"))
        };
        (target.clone(), id)
    }
}
