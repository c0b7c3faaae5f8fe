//! Where tests find their inputs from outside the repository: `../shared` beside the checkout
//! (test vectors, the GoCD endpoint checklist, Taskcluster's references bundle), and the
//! references `./build.sh` generates from.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file or directory below `../shared` (e.g. `taskcluster/vectors.json`).
pub fn path(relative: &str) -> PathBuf {
    repo_root().join("../shared").join(relative)
}

/// Reads a file below `../shared`, naming it in the panic when it is missing (tests only).
pub fn read(relative: &str) -> String {
    let p = path(relative);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (../shared must sit beside the checkout)", p.display()))
}

/// The Taskcluster references `generated/` is built from, chosen as `./build.sh` chooses:
/// `$TASKCLUSTER_REFERENCES` (a bundle or a directory), else `schemas/taskcluster` when
/// `codegen fetch` wrote it, else `../shared/taskcluster/references.json`.
pub fn references() -> PathBuf {
    if let Some(p) = std::env::var_os("TASKCLUSTER_REFERENCES").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let fetched = repo_root().join("schemas/taskcluster");
    if fetched.join("references").is_dir() {
        return fetched;
    }
    path("taskcluster/references.json")
}
