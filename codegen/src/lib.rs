//! apigen's code generator: API references and descriptions → typed Rust client crates.
//!
//! The pipeline: [`source`] loads documents, [`reference`](mod@reference) and [`gocd`] parse them into the
//! [`model`], [`schema`] turns JSON Schemas into a typed model of Rust types, [`emit`] renders
//! crates with `quote!` and `prettyplease`, and [`output`] writes or checks them.

pub mod emit;
pub mod error;
pub mod fetch;
pub mod gocd;
pub mod model;
pub mod names;
pub mod output;
pub mod reference;
pub mod route;
pub mod schema;
pub mod source;

use std::path::PathBuf;

pub use error::{Error, Result};

/// What to generate from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Taskcluster references: a bundle file or a directory laid out like a deployment.
    pub taskcluster: Option<PathBuf>,
    /// The GoCD description directory (`schemas/gocd`).
    pub gocd: Option<PathBuf>,
}

/// Generates every crate in memory: path relative to `generated/` → file content.
pub fn generate(inputs: &Inputs) -> Result<emit::Files> {
    let mut docs = match &inputs.taskcluster {
        Some(p) => source::Documents::load(p)?,
        None => source::Documents::default(),
    };
    let mut services = reference::services(&docs)?;
    let folders = emit::schema_only_folders(&docs, &services);
    if let Some(dir) = &inputs.gocd {
        services.push(gocd::load(dir, &mut docs)?);
    }
    let mut files = emit::Files::new();
    for s in &services {
        files.extend(emit::service_crate(s, &docs)?);
    }
    for (folder, paths) in &folders {
        files.extend(emit::schema_crate(folder, paths, &docs)?);
    }
    Ok(files)
}
