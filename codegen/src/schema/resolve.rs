//! Finding schemas: JSON pointers into the loaded documents and `$ref` resolution. Every
//! `$ref` the converter follows goes through [`Resolver::follow`].

use serde_json::Value;

use crate::error::{pointer_token, Error, Result};
use crate::model::SchemaRef;
use crate::source::Documents;

/// Reads schemas out of the loaded documents.
#[derive(Clone, Copy)]
pub(super) struct Resolver<'d> {
    docs: &'d Documents,
}

impl<'d> Resolver<'d> {
    pub(super) fn new(docs: &'d Documents) -> Self {
        Resolver { docs }
    }

    /// The schema at `r`.
    pub(super) fn lookup(&self, r: &SchemaRef) -> Result<&'d Value> {
        let doc = self.docs.get(&r.doc).ok_or_else(|| Error::at(&r.doc, "", "no such schema file in the input"))?;
        if r.pointer.is_empty() {
            return Ok(doc);
        }
        doc.pointer(&r.pointer).ok_or_else(|| Error::at(&r.doc, &r.pointer, "no schema at this JSON pointer"))
    }

    /// The target of the `$ref` in `schema` (found at `at`), or `None` when it has none. An
    /// unusable `$ref` (not a string, an absolute URL, a missing file or pointer) is an error
    /// naming the file and the `$ref`'s pointer.
    pub(super) fn follow(&self, at: &SchemaRef, schema: &Value) -> Result<Option<(SchemaRef, &'d Value)>> {
        let Some(reference) = schema.get("$ref") else { return Ok(None) };
        let ref_at = format!("{}/$ref", at.pointer);
        let text = reference.as_str().ok_or_else(|| Error::at(&at.doc, &ref_at, "$ref is not a string"))?;
        let (path, pointer) = text.split_once('#').unwrap_or((text, ""));
        let target_doc = if path.is_empty() {
            at.doc.clone()
        } else if let Some(abs) = path.strip_prefix('/') {
            abs.to_owned()
        } else if path.contains("://") {
            return Err(Error::at(
                &at.doc,
                &ref_at,
                format!("$ref {text:?}: absolute URLs are not supported; use root-relative paths"),
            ));
        } else {
            normalize(&format!("{}/{path}", dir_of(&at.doc)))
        };
        if self.docs.get(&target_doc).is_none() {
            return Err(Error::at(&at.doc, &ref_at, format!("$ref {text:?}: no schema file {target_doc}")));
        }
        let target = SchemaRef { doc: target_doc, pointer: pointer.to_owned() };
        let found = self
            .lookup(&target)
            .map_err(|_| Error::at(&at.doc, &ref_at, format!("$ref {text:?}: no schema at {target}")))?;
        Ok(Some((target, found)))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn docs() -> Documents {
        let mut d = Documents::default();
        d.insert(
            "schemas/a/v1/x.json",
            json!({"definitions": {"d": {"type": "string"}}, "properties": {
            "local": {"$ref": "#/definitions/d"}, "relative": {"$ref": "y.json#/p"},
            "rooted": {"$ref": "/schemas/a/v1/y.json"}, "url": {"$ref": "https://e.com/y.json"},
            "gone": {"$ref": "nope.json"}, "nopointer": {"$ref": "#/nothing"}, "number": {"$ref": 3}}}),
        );
        d.insert("schemas/a/v1/y.json", json!({"p": {"type": "integer"}}));
        d
    }

    fn follow(prop: &str) -> Result<Option<SchemaRef>> {
        let docs = docs();
        let r = Resolver::new(&docs);
        let at =
            SchemaRef { doc: "schemas/a/v1/x.json".into(), pointer: String::new() }.child("properties").child(prop);
        let schema = r.lookup(&at)?;
        Ok(r.follow(&at, schema)?.map(|(t, _)| t))
    }

    #[test]
    fn local_relative_and_rooted_refs_resolve() {
        let t = follow("local").unwrap().unwrap();
        assert_eq!((t.doc.as_str(), t.pointer.as_str()), ("schemas/a/v1/x.json", "/definitions/d"));
        let t = follow("relative").unwrap().unwrap();
        assert_eq!((t.doc.as_str(), t.pointer.as_str()), ("schemas/a/v1/y.json", "/p"));
        let t = follow("rooted").unwrap().unwrap();
        assert_eq!((t.doc.as_str(), t.pointer.as_str()), ("schemas/a/v1/y.json", ""));
    }

    #[test]
    fn bad_refs_name_the_file_and_the_refs_pointer() {
        for (prop, says) in [
            ("url", "absolute URLs"),
            ("gone", "no schema file"),
            ("nopointer", "no schema at"),
            ("number", "not a string"),
        ] {
            let e = follow(prop).unwrap_err();
            assert_eq!(e.file, "schemas/a/v1/x.json");
            assert_eq!(e.pointer, format!("/properties/{prop}/$ref"));
            assert!(e.message.contains(says), "{prop}: {}", e.message);
        }
    }

    #[test]
    fn normalize_resolves_dots() {
        assert_eq!(normalize("schemas/a/v1/../common/./x.json"), "schemas/a/common/x.json");
    }
}
