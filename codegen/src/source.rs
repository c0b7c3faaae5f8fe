//! Input documents: a bundle (`[{filename, content}]`) or a directory laid out as a deployment
//! serves it (`references/...`, `schemas/...`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

/// Every input JSON document, by the root-relative path a deployment serves it under
/// (`references/queue/v1/api.json`, `schemas/queue/v1/task.json`), without leading `/`.
#[derive(Debug, Default, Clone)]
pub struct Documents {
    docs: BTreeMap<String, Value>,
}

impl Documents {
    /// Loads a bundle file or a directory, whichever `path` is.
    pub fn load(path: &Path) -> Result<Self> {
        if path.is_dir() {
            Self::from_dir(path)
        } else {
            Self::from_bundle_file(path)
        }
    }

    /// Reads a bundle file.
    pub fn from_bundle_file(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::at(&name, "", format!("cannot read: {e}")))?;
        Self::from_bundle_str(&name, &text)
    }

    /// Parses bundle text; `name` is used in errors.
    pub fn from_bundle_str(name: &str, text: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::at(name, "", format!("malformed JSON: {e}")))?;
        let Value::Array(entries) = value else {
            return Err(Error::at(name, "", "a bundle is a JSON array of {filename, content}"));
        };
        let mut docs = Documents::default();
        for (i, entry) in entries.into_iter().enumerate() {
            let Value::Object(mut entry) = entry else {
                return Err(Error::at(name, format!("/{i}"), "bundle entry is not an object"));
            };
            let Some(Value::String(filename)) = entry.remove("filename") else {
                return Err(Error::at(name, format!("/{i}/filename"), "missing or not a string"));
            };
            let Some(content) = entry.remove("content") else {
                return Err(Error::at(name, format!("/{i}/content"), "missing"));
            };
            docs.insert(&filename, content);
        }
        Ok(docs)
    }

    /// Reads every `*.json` file below `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let mut docs = Documents::default();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d)
                .map_err(|e| Error::at(d.display().to_string(), "", format!("cannot read directory: {e}")))?;
            for entry in entries {
                let path = entry.map_err(|e| Error::at(d.display().to_string(), "", e.to_string()))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let rel = path.strip_prefix(dir).unwrap_or(&path);
                    let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                    docs.insert(&key, read_json(&path)?);
                }
            }
        }
        Ok(docs)
    }

    /// Adds a document.
    pub fn insert(&mut self, path: &str, content: Value) {
        self.docs.insert(path.trim_start_matches('/').to_owned(), content);
    }

    /// A document by root-relative path (leading `/` optional).
    pub fn get(&self, path: &str) -> Option<&Value> {
        self.docs.get(path.trim_start_matches('/'))
    }

    /// All paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.docs.keys().map(String::as_str)
    }

    /// Paths of the references to generate from: those the manifest lists, or every file
    /// under `references/` when there is no manifest.
    pub fn reference_paths(&self) -> Result<Vec<String>> {
        const MANIFEST: &str = "references/manifest.json";
        match self.get(MANIFEST) {
            Some(m) => {
                let list = m
                    .get("references")
                    .and_then(Value::as_array)
                    .ok_or_else(|| Error::at(MANIFEST, "/references", "missing or not an array"))?;
                list.iter()
                    .enumerate()
                    .map(|(i, r)| {
                        r.as_str()
                            .map(|s| s.trim_start_matches('/').to_owned())
                            .ok_or_else(|| Error::at(MANIFEST, format!("/references/{i}"), "not a string"))
                    })
                    .collect()
            }
            None => {
                Ok(self.paths().filter(|p| p.starts_with("references/") && *p != MANIFEST).map(str::to_owned).collect())
            }
        }
    }
}

/// Reads and parses one JSON file, naming it in errors.
pub fn read_json(path: &Path) -> Result<Value> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::at(&name, "", format!("cannot read: {e}")))?;
    serde_json::from_str(&text).map_err(|e| Error::at(&name, "", format!("malformed JSON: {e}")))
}
