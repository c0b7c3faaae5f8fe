//! Taskcluster API and exchange references → [`Service`]s.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use serde_json::Value;

use crate::error::{pointer_token, Error, Result};
use crate::model::*;
use crate::source::Documents;

/// What kind of reference a document is, from its `$schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Api,
    Exchanges,
    /// Logs, metrics, or a kind we do not know: skipped.
    Other,
}

fn kind_of(doc: &Value) -> Kind {
    let schema = doc.get("$schema").and_then(Value::as_str).unwrap_or("");
    if schema.contains("api-reference") {
        Kind::Api
    } else if schema.contains("exchanges-reference") {
        Kind::Exchanges
    } else {
        Kind::Other
    }
}

/// Reads every API and exchange reference into one [`Service`] per `serviceName`,
/// sorted by crate name.
pub fn services(docs: &Documents) -> Result<Vec<Service>> {
    let mut by_name: BTreeMap<String, Service> = BTreeMap::new();
    for path in docs.reference_paths()? {
        let doc = docs.get(&path).ok_or_else(|| {
            Error::at("references/manifest.json", "", format!("lists {path}, which is not in the input"))
        })?;
        let kind = kind_of(doc);
        if kind == Kind::Other {
            continue;
        }
        let f = Fields { file: &path, obj: doc, base: String::new() };
        let service_name = f.string("serviceName")?;
        let api_version = f.string("apiVersion")?;
        let service = by_name.entry(service_name.clone()).or_insert_with(|| Service {
            flavor: Flavor::Taskcluster { service_name: service_name.clone(), api_version: api_version.clone() },
            crate_name: format!("taskcluster-{service_name}"),
            client_name: service_name.to_upper_camel_case(),
            title: String::new(),
            description: String::new(),
            functions: Vec::new(),
            exchanges: None,
            sources: Vec::new(),
        });
        service.sources.push(path.clone());
        let schema_dir = format!("schemas/{service_name}");
        match kind {
            Kind::Api => {
                service.title = f.string("title")?;
                service.description = f.opt_string("description")?.unwrap_or_default();
                service.functions = functions(&f, &schema_dir)?;
            }
            Kind::Exchanges => service.exchanges = Some(exchanges(&f, &schema_dir)?),
            Kind::Other => {}
        }
    }
    Ok(by_name.into_values().filter(|s| !s.functions.is_empty() || s.exchanges.is_some()).collect())
}

fn functions(f: &Fields<'_>, schema_dir: &str) -> Result<Vec<Function>> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, e) in f.array("entries")?.iter().enumerate() {
        let e = f.child(e, &format!("/entries/{i}"))?;
        if e.opt_string("type")?.as_deref().unwrap_or("function") != "function" {
            continue;
        }
        let name = e.string("name")?;
        if !seen.insert(name.clone()) {
            return Err(e.err("/name", format!("duplicate function name {name:?}")));
        }
        let args = e.string_list("args")?;
        let route = e.string("route")?;
        let pieces = crate::route::parse(&route, &args).map_err(|m| e.err("/route", m))?;
        let method = serde_json::from_value(e.get("method").cloned().unwrap_or(Value::Null))
            .map_err(|_| e.err("/method", "expected one of get, post, put, patch, delete, head"))?;
        out.push(Function {
            title: e.opt_string("title")?.unwrap_or_else(|| name.clone()),
            description: e.opt_string("description")?.unwrap_or_default(),
            stability: match e.opt_string("stability")?.as_deref() {
                None | Some("stable") => Stability::Stable,
                Some("experimental") => Stability::Experimental,
                Some("deprecated") => Stability::Deprecated,
                Some(other) => return Err(e.err("/stability", format!("unknown stability {other:?}"))),
            },
            category: e.opt_string("category")?,
            method,
            route,
            pieces,
            args,
            query: e.string_list_opt("query")?,
            input: e.schema_ref("input", schema_dir)?,
            output: e.schema_ref("output", schema_dir)?,
            scopes: match e.get("scopes") {
                None | Some(Value::Null) => None,
                Some(s) => Some(scope_expr(s, &e, "/scopes")?),
            },
            gocd: None,
            origin: (e.file.to_owned(), e.base.clone()),
            name,
        });
    }
    Ok(out)
}

fn scope_expr(v: &Value, f: &Fields<'_>, at: &str) -> Result<ScopeExpr> {
    let list = |key: &str, items: &Value| -> Result<Vec<ScopeExpr>> {
        let items = items.as_array().ok_or_else(|| f.err(&format!("{at}/{key}"), "expected an array"))?;
        items.iter().enumerate().map(|(i, x)| scope_expr(x, f, &format!("{at}/{key}/{i}"))).collect()
    };
    let text = |key: &str| -> Result<String> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| f.err(&format!("{at}/{key}"), "expected a string"))
    };
    match v {
        Value::String(s) => Ok(ScopeExpr::Scope(s.clone())),
        Value::Object(o) if o.contains_key("AllOf") => Ok(ScopeExpr::AllOf(list("AllOf", &o["AllOf"])?)),
        Value::Object(o) if o.contains_key("AnyOf") => Ok(ScopeExpr::AnyOf(list("AnyOf", &o["AnyOf"])?)),
        Value::Object(o) if o.contains_key("for") => {
            Ok(ScopeExpr::ForEach { var: text("for")?, list: text("in")?, each: text("each")? })
        }
        Value::Object(o) if o.contains_key("if") => Ok(ScopeExpr::If {
            cond: text("if")?,
            then: Box::new(scope_expr(o.get("then").unwrap_or(&Value::Null), f, &format!("{at}/then"))?),
            otherwise: match o.get("else") {
                Some(e) => Some(Box::new(scope_expr(e, f, &format!("{at}/else"))?)),
                None => None,
            },
        }),
        _ => Err(f.err(at, "not a scope expression (string, AllOf, AnyOf, for/in/each or if/then)")),
    }
}

fn exchanges(f: &Fields<'_>, schema_dir: &str) -> Result<Exchanges> {
    let mut entries = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, e) in f.array("entries")?.iter().enumerate() {
        let e = f.child(e, &format!("/entries/{i}"))?;
        let name = e.string("name")?;
        if !seen.insert(name.clone()) {
            return Err(e.err("/name", format!("duplicate exchange name {name:?}")));
        }
        let mut routing_key = Vec::new();
        for (j, r) in e.array("routingKey")?.iter().enumerate() {
            let r = e.child(r, &format!("/routingKey/{j}"))?;
            routing_key.push(RoutingKeyElement {
                name: r.string("name")?,
                summary: r.opt_string("summary")?.unwrap_or_default(),
                constant: r.opt_string("constant")?,
                multiple_words: r.get("multipleWords").and_then(Value::as_bool).unwrap_or(false),
                required: r.get("required").and_then(Value::as_bool).unwrap_or(false),
            });
        }
        if routing_key.iter().filter(|r| r.multiple_words).count() > 1 {
            return Err(e.err("/routingKey", "at most one routing-key element may be multi-word"));
        }
        entries.push(Exchange {
            exchange: e.string("exchange")?,
            title: e.opt_string("title")?.unwrap_or_else(|| name.clone()),
            description: e.opt_string("description")?.unwrap_or_default(),
            routing_key,
            schema: e.schema_ref("schema", schema_dir)?.ok_or_else(|| e.err("/schema", "missing"))?,
            name,
        });
    }
    Ok(Exchanges {
        prefix: f.string("exchangePrefix")?,
        title: f.opt_string("title")?.unwrap_or_default(),
        description: f.opt_string("description")?.unwrap_or_default(),
        entries,
    })
}

/// Typed access to the fields of one JSON object, with errors located at `file#base/field`.
pub(crate) struct Fields<'a> {
    pub file: &'a str,
    pub obj: &'a Value,
    pub base: String,
}

impl<'a> Fields<'a> {
    pub fn err(&self, at: &str, msg: impl Into<String>) -> Error {
        Error::at(self.file, format!("{}{at}", self.base), msg)
    }
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key)
    }
    fn at(&self, key: &str) -> String {
        format!("/{}", pointer_token(key))
    }
    pub fn child(&self, obj: &'a Value, at: &str) -> Result<Fields<'a>> {
        if !obj.is_object() {
            return Err(self.err(at, "expected an object"));
        }
        Ok(Fields { file: self.file, obj, base: format!("{}{at}", self.base) })
    }
    pub fn string(&self, key: &str) -> Result<String> {
        self.opt_string(key)?.ok_or_else(|| self.err(&self.at(key), "missing"))
    }
    pub fn opt_string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(&self.at(key), "expected a string")),
        }
    }
    pub fn array(&self, key: &str) -> Result<&'a Vec<Value>> {
        self.get(key).and_then(Value::as_array).ok_or_else(|| self.err(&self.at(key), "missing or not an array"))
    }
    pub fn string_list(&self, key: &str) -> Result<Vec<String>> {
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.err(&format!("{}/{i}", self.at(key)), "expected a string"))
            })
            .collect()
    }
    pub fn string_list_opt(&self, key: &str) -> Result<Vec<String>> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(_) => self.string_list(key),
        }
    }
    /// A schema reference relative to `dir` (`v1/task.json#` → `schemas/queue/v1/task.json`, "").
    pub fn schema_ref(&self, key: &str, dir: &str) -> Result<Option<SchemaRef>> {
        let Some(text) = self.opt_string(key)? else { return Ok(None) };
        let (path, pointer) = text.split_once('#').unwrap_or((&text, ""));
        if path.is_empty() {
            return Err(self.err(&self.at(key), format!("{text:?} names no schema file")));
        }
        let doc = if let Some(abs) = path.strip_prefix('/') { abs.to_owned() } else { format!("{dir}/{path}") };
        Ok(Some(SchemaRef { doc, pointer: pointer.to_owned() }))
    }
}
