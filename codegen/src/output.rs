//! Writing generated files: all of them are rendered in memory first, so a failure leaves
//! `generated/` untouched; then each changed file is written to a temporary sibling and renamed
//! over the old one (atomic per file), unchanged files are not touched, and crates or files the
//! generator no longer produces are removed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::emit::{Files, MARKER};
use crate::error::{Error, Result};

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Files written because they were new or different.
    pub written: Vec<String>,
    /// Files left alone because they were already up to date.
    pub unchanged: usize,
    /// Generated files or crates removed because the generator no longer produces them.
    pub removed: Vec<String>,
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::at(path.display().to_string(), "", format!("cannot {what}: {e}"))
}

/// Crate directories under `out` that the generator made (their Cargo.toml carries the marker).
fn generated_crates(out: &Path) -> Result<BTreeSet<String>> {
    let mut crates = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(out) else { return Ok(crates) };
    for entry in entries {
        let entry = entry.map_err(|e| io_err(out, "list", e))?;
        let manifest = entry.path().join("Cargo.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|t| t.contains(MARKER)) {
            crates.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(crates)
}

/// Every file below `dir`, relative to `out`, with `/` separators.
fn files_below(out: &Path, dir: &Path, acc: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, "list", e))? {
        let path = entry.map_err(|e| io_err(dir, "list", e))?.path();
        if path.is_dir() {
            files_below(out, &path, acc)?;
        } else if let Ok(rel) = path.strip_prefix(out) {
            acc.push(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
        }
    }
    Ok(())
}

/// Files on disk in generated crates that `files` does not contain (stale output).
fn stale(out: &Path, files: &Files) -> Result<Vec<String>> {
    let mut existing = Vec::new();
    for c in generated_crates(out)? {
        files_below(out, &out.join(&c), &mut existing)?;
    }
    Ok(existing.into_iter().filter(|f| !files.contains_key(f)).collect())
}

/// Writes `files` below `out`.
pub fn write(out: &Path, files: &Files) -> Result<Report> {
    let mut report = Report::default();
    for (rel, content) in files {
        let path = out.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == content.as_bytes()) {
            report.unchanged += 1;
            continue;
        }
        let parent = path.parent().unwrap_or(out);
        std::fs::create_dir_all(parent).map_err(|e| io_err(parent, "create directory", e))?;
        let tmp: PathBuf =
            parent.join(format!(".{}.apigen-tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        std::fs::write(&tmp, content).map_err(|e| io_err(&tmp, "write", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, "replace", e))?;
        report.written.push(rel.clone());
    }
    let crates_before = generated_crates(out)?;
    for rel in stale(out, files)? {
        let path = out.join(&rel);
        std::fs::remove_file(&path).map_err(|e| io_err(&path, "remove", e))?;
        report.removed.push(rel);
    }
    // Crate directories left empty by removals.
    for c in crates_before {
        // Best effort: a directory that cannot be listed or removed is simply left.
        let _ = remove_empty_dirs(&out.join(c));
    }
    Ok(report)
}

fn remove_empty_dirs(dir: &Path) -> std::io::Result<bool> {
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !(path.is_dir() && remove_empty_dirs(&path)?) {
            empty = false;
        }
    }
    if empty {
        std::fs::remove_dir(dir)?;
    }
    Ok(empty)
}

/// The drift check: every file that would change (new, different, or stale), sorted.
pub fn check(out: &Path, files: &Files) -> Result<Vec<String>> {
    let mut differing: Vec<String> = files
        .iter()
        .filter(|(rel, content)| std::fs::read(out.join(rel)).map_or(true, |old| old != content.as_bytes()))
        .map(|(rel, _)| rel.clone())
        .collect();
    differing.extend(stale(out, files)?);
    differing.sort();
    Ok(differing)
}
