//! Doc comments from schema text: title, description, and constraints as notes.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::ir::Docs;

/// Title, description, and constraints as notes.
pub(super) fn docs_of(obj: &Map<String, Value>) -> Docs {
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

/// Docs of a schema that may not be an object (`true`): empty then.
pub(super) fn docs_of_value(v: &Value) -> Docs {
    v.as_object().map(docs_of).unwrap_or_default()
}

/// `own` docs completed by those of the schema behind a `$ref`: own text wins, notes are
/// added where `own` has none with the same label.
pub(super) fn merge_docs(own: Docs, behind: Docs) -> Docs {
    let label = |n: &String| n.split_once(':').map_or(n.clone(), |(l, _)| l.to_owned());
    let own_labels: BTreeSet<String> = own.notes.iter().map(label).collect();
    let mut notes = own.notes;
    notes.extend(behind.notes.into_iter().filter(|n| !own_labels.contains(&label(n))));
    Docs { title: own.title.or(behind.title), description: own.description.or(behind.description), notes }
}

/// A JSON value as one short line (long ones cut at 120 bytes, on a character boundary).
fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}…", &s[..s.char_indices().take_while(|(i, _)| *i < 120).last().map_or(0, |(i, c)| i + c.len_utf8())])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn constraints_become_notes_and_own_text_wins_over_the_refs() {
        let own = docs_of_value(&json!({"default": 3, "description": "  "}));
        let behind = docs_of_value(&json!({"title": "Count", "description": "How many.", "default": 1, "minimum": 0}));
        let d = merge_docs(own, behind);
        assert_eq!(d.title.as_deref(), Some("Count"));
        assert_eq!(d.description.as_deref(), Some("How many."));
        assert_eq!(d.notes, ["Default: `3`", "Minimum: `0`"]);
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let d = docs_of_value(&json!({"const": "é".repeat(100)}));
        assert!(d.notes[0].ends_with("…`.") && d.notes[0].len() < 140, "{}", d.notes[0]);
        assert!(docs_of_value(&json!(true)).notes.is_empty());
    }
}
