//! Names of generated types, enum values and union variants. A name is never a number: a
//! taken name is made unique with more words of the schema's path.

use std::collections::BTreeSet;

use serde_json::Value;

use super::ir::{EnumValue, Kind, Ty};
use super::resolve::dir_of;
use crate::model::SchemaRef;
use crate::names;

/// How to name the type a schema may become.
#[derive(Debug, Clone)]
pub(super) struct Hint {
    /// The preferred name.
    pub name: String,
    /// More specific names, tried in order when the preferred one is taken.
    pub fallbacks: Vec<String>,
}

impl Hint {
    pub(super) fn new(name: String, fallbacks: Vec<String>) -> Self {
        Hint { name, fallbacks }
    }

    /// The hint for a schema found at a location of its own (a `$ref` target, a top-level
    /// file): `name`, else prefixed with the words of its folder.
    pub(super) fn located(name: String, r: &SchemaRef) -> Self {
        let fallback = format!("{}{name}", names::from_file(&dir_of(&r.doc)));
        Hint { name, fallbacks: vec![fallback] }
    }

    /// The hint for a part of this schema: `self.name + suffix`.
    pub(super) fn child(&self, suffix: &str) -> Hint {
        Hint {
            name: names::join(&self.name, suffix),
            fallbacks: self.fallbacks.iter().map(|f| names::join(f, suffix)).collect(),
        }
    }

    /// The hint for the items of an array named by this hint: singular (`Tasks` → `Task`),
    /// or `+ Item` where the singular is the same word.
    pub(super) fn item(&self) -> Hint {
        let item = Hint {
            name: names::singular(&self.name),
            fallbacks: self.fallbacks.iter().map(|f| names::singular(f)).collect(),
        };
        if item.name == self.name {
            self.child("Item")
        } else {
            item
        }
    }
}

/// The names taken in one type space.
#[derive(Debug, Default)]
pub(super) struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// Keeps `name` from being given to a type (the client struct's name).
    pub(super) fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_owned());
    }

    pub(super) fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    pub(super) fn release(&mut self, name: &str) {
        self.taken.remove(name);
    }

    /// The first free name of `hint`, else the hint qualified with the words of `r`'s path;
    /// taken from now on.
    pub(super) fn claim(&mut self, r: &SchemaRef, hint: &Hint) -> String {
        let free = std::iter::once(&hint.name).chain(&hint.fallbacks).find(|c| !self.taken.contains(*c)).cloned();
        let name = free.unwrap_or_else(|| self.qualified(r, &hint.name));
        self.taken.insert(name.clone());
        name
    }

    /// `base` prefixed with the last words of the schema's path until unique.
    fn qualified(&self, r: &SchemaRef, base: &str) -> String {
        let mut words: Vec<String> = vec![names::from_file(&r.doc)];
        words.extend(
            r.pointer
                .split('/')
                .filter(|w| !w.is_empty() && !matches!(*w, "properties" | "items" | "definitions"))
                .map(names::camel),
        );
        for n in 1..=words.len() {
            let candidate = format!("{}{base}", words[words.len() - n..].concat());
            if !self.taken.contains(&candidate) {
                return candidate;
            }
        }
        // The location is unique, so its full path is a unique name unless two paths
        // sanitize alike; then keep extending with the directory.
        let mut candidate = format!("{}{}", names::from_file(&dir_of(&r.doc)), words.concat());
        while self.taken.contains(&candidate) {
            candidate.push_str("Alt");
        }
        candidate
    }
}

/// A name for the schema at a location: a short title, the definition key, or the file name.
pub(super) fn location_name(r: &SchemaRef, schema: &Value, prefer_titles: bool) -> String {
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
            Some(t) if prefer_titles => t,
            _ => names::from_file(&r.doc),
        };
    }
    schema
        .get("title")
        .and_then(Value::as_str)
        .map(names::camel)
        .unwrap_or_else(|| format!("{}{}", names::from_file(&r.doc), names::camel(&r.pointer.replace('/', " "))))
}

/// Makes variant names unique: a repeated name gets the word of its type (`Integer`), then
/// `Alt`s; `Other` and `Unknown` are left to the catch-all variants.
pub(super) fn dedupe_variant_names<'a>(variants: impl Iterator<Item = (&'a mut String, &'a Ty)>) {
    let mut seen = BTreeSet::new();
    for (name, ty) in variants {
        if name == "Other" || name == "Unknown" {
            name.push_str("Value");
        }
        let base = name.clone();
        let mut suffix = ty_word(ty).to_owned();
        while !seen.insert(name.clone()) {
            *name = format!("{base}{suffix}");
            suffix.push_str("Alt");
        }
    }
}

/// A name for an untitled union branch from what it holds: `WithTaskId` for an object whose
/// first required (else first) property is `taskId`, `Empty` for an object without properties,
/// the first value of an enum, else its JSON type.
pub(super) fn branch_word(b: &Value) -> String {
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

/// The word for what a type holds, for variant names.
pub(super) fn ty_word(ty: &Ty) -> &'static str {
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

/// A string enum: one variant per distinct value, and a catch-all whose name no value takes.
pub(super) fn string_enum(values: &[Value]) -> Kind {
    let mut seen = BTreeSet::new();
    let mut names_seen = BTreeSet::new();
    let values: Vec<EnumValue> = values
        .iter()
        .filter_map(Value::as_str)
        .filter(|v| seen.insert(v.to_string()))
        .map(|v| {
            let mut rust = names::camel(v);
            while !names_seen.insert(rust.clone()) {
                rust.push_str("Alt");
            }
            EnumValue { json: v.to_owned(), rust }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(doc: &str, pointer: &str) -> SchemaRef {
        SchemaRef { doc: doc.into(), pointer: pointer.into() }
    }

    #[test]
    fn a_taken_name_falls_back_then_takes_path_words_never_a_number() {
        let mut names = Names::default();
        names.reserve("Queue");
        let r = at("schemas/queue/v1/task.json", "/properties/payload/properties/image");
        let hint = Hint::new("Queue".into(), vec![]);
        assert_eq!(names.claim(&r, &hint), "ImageQueue");
        assert_eq!(names.claim(&r, &hint), "PayloadImageQueue");
        assert_eq!(names.claim(&r, &Hint::new("Image".into(), vec!["TaskImage".into()])), "Image");
        assert_eq!(names.claim(&r, &Hint::new("Image".into(), vec!["TaskImage".into()])), "TaskImage");
    }

    #[test]
    fn locations_are_named_by_short_title_key_or_file() {
        let r = at("schemas/queue/v1/create-task-request.json", "");
        assert_eq!(location_name(&r, &json!({"title": "Task"}), false), "CreateTaskRequest");
        assert_eq!(location_name(&r, &json!({"title": "Task"}), true), "Task");
        let d = at("schemas/x.json", "/definitions/worker~1pool");
        assert_eq!(location_name(&d, &json!({}), false), "WorkerPool");
        assert_eq!(
            location_name(&d, &json!({"title": "A title of far more than six words here"}), false),
            "WorkerPool"
        );
    }

    #[test]
    fn duplicate_variants_take_their_types_word_and_leave_the_catch_all_free() {
        let mut vs = [
            ("Id".to_owned(), Ty::String),
            ("Id".to_owned(), Ty::U64),
            ("Id".to_owned(), Ty::I64),
            ("Other".to_owned(), Ty::Value),
        ];
        dedupe_variant_names(vs.iter_mut().map(|(n, t)| (n, &*t)));
        let names: Vec<&str> = vs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Id", "IdInteger", "IdIntegerAlt", "OtherValue"]);
    }

    #[test]
    fn an_enum_with_a_value_unknown_gets_another_catch_all() {
        let Kind::Enum { values, catch_all } = string_enum(&[json!("unknown"), json!("idle"), json!("idle")]) else {
            panic!("an enum")
        };
        assert_eq!(catch_all, "Other");
        assert_eq!(values.len(), 2);
    }
}
