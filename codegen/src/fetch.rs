//! `codegen fetch`: downloads a deployment's manifest, references and the schemas they need
//! (following `$ref` transitively) into the layout the deployment serves them in.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

/// Schemas no reference points at but clients want typed: the worker payloads. A deployment
/// that does not serve one is reported and skipped.
pub const WORKER_PAYLOAD_SCHEMAS: &[&str] = &[
    "schemas/generic-worker/multiuser_windows.json",
    "schemas/generic-worker/multiuser_posix.json",
    "schemas/generic-worker/insecure_posix.json",
    "schemas/docker-worker/v1/payload.json",
];

/// Fetches everything below `out`; `progress` gets one line per file.
pub fn fetch(root_url: &str, out: &Path, extra: &[&str], progress: &mut dyn FnMut(&str)) -> Result<usize> {
    let root = root_url.trim_end_matches('/');
    // reqwest is built without a crypto provider (no aws-lc C build): make ring the process's
    // provider; one already installed by an embedding program is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::at(root, "", format!("cannot build an HTTP client: {e}")))?;
    let get = |path: &str| -> Result<Option<Value>> {
        let url = format!("{root}/{path}");
        let resp = http.get(&url).send().map_err(|e| Error::at(&url, "", format!("request failed: {e}")))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let text = resp.text().map_err(|e| Error::at(&url, "", format!("reading the body failed: {e}")))?;
        if !status.is_success() {
            let excerpt: String = text.chars().take(200).collect();
            return Err(Error::at(&url, "", format!("HTTP {status}: {excerpt}")));
        }
        serde_json::from_str(&text).map(Some).map_err(|e| Error::at(&url, "", format!("malformed JSON: {e}")))
    };
    let save = |path: &str, v: &Value, progress: &mut dyn FnMut(&str)| -> Result<()> {
        let file = out.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::at(dir.display().to_string(), "", e.to_string()))?;
        }
        let text = serde_json::to_string_pretty(v).unwrap_or_default();
        std::fs::write(&file, text).map_err(|e| Error::at(file.display().to_string(), "", e.to_string()))?;
        progress(&format!("fetched {path}"));
        Ok(())
    };

    let manifest_path = "references/manifest.json";
    let manifest =
        get(manifest_path)?.ok_or_else(|| Error::at(format!("{root}/{manifest_path}"), "", "HTTP 404: no manifest"))?;
    save(manifest_path, &manifest, progress)?;
    let mut count = 1;
    let mut queue: VecDeque<String> = VecDeque::new();
    let refs = manifest.get("references").and_then(Value::as_array).cloned().unwrap_or_default();
    for r in refs.iter().filter_map(Value::as_str) {
        let path = r.trim_start_matches('/');
        let doc =
            get(path)?.ok_or_else(|| Error::at(format!("{root}/{path}"), "", "HTTP 404: listed in the manifest"))?;
        save(path, &doc, progress)?;
        count += 1;
        let service = doc.get("serviceName").and_then(Value::as_str).unwrap_or_default().to_owned();
        for e in doc.get("entries").and_then(Value::as_array).into_iter().flatten() {
            for key in ["input", "output", "schema"] {
                if let Some(s) = e.get(key).and_then(Value::as_str) {
                    let file = s.split('#').next().unwrap_or(s);
                    queue.push_back(if let Some(abs) = file.strip_prefix('/') {
                        abs.to_owned()
                    } else {
                        format!("schemas/{service}/{file}")
                    });
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut optional: BTreeSet<String> = extra.iter().map(|s| s.to_string()).collect();
    queue.extend(optional.iter().cloned());
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let Some(doc) = get(&path)? else {
            if optional.remove(&path) {
                progress(&format!("skipped {path} (the deployment does not serve it)"));
                continue;
            }
            return Err(Error::at(format!("{root}/{path}"), "", "HTTP 404: a reference or schema needs it"));
        };
        save(&path, &doc, progress)?;
        count += 1;
        let dir = path.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            let file = r.split('#').next().unwrap_or("");
            if file.is_empty() {
                continue;
            }
            let target = if let Some(abs) = file.strip_prefix('/') {
                abs.to_owned()
            } else {
                crate::schema::normalize(&format!("{dir}/{file}"))
            };
            queue.push_back(target);
        }
    }
    Ok(count)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}
