//! The `codegen` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Generates typed Rust clients for Taskcluster and GoCD.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate every crate into OUT (or, with --check, report what differs).
    Generate {
        /// Taskcluster references: a bundle file (`references.json`) or a directory.
        #[arg(long)]
        references: Option<PathBuf>,
        /// The GoCD description directory.
        #[arg(long)]
        gocd: Option<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
        /// Do not write: exit 1 and name every file that would change.
        #[arg(long)]
        check: bool,
    },
    /// Download a deployment's references and schemas into a directory.
    Fetch {
        /// The deployment's root URL.
        #[arg(long)]
        root_url: String,
        /// Output directory (e.g. `schemas/taskcluster`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write (or check) the JSON Schema of the GoCD description format.
    GocdSchema {
        /// The file to write.
        #[arg(long, default_value = "schemas/gocd/description.schema.json")]
        out: PathBuf,
        /// Do not write: exit 1 if the file differs.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> codegen::Result<ExitCode> {
    match command {
        Command::Generate { references, gocd, out, check } => {
            let files = codegen::generate(&codegen::Inputs { taskcluster: references, gocd })?;
            if check {
                let differing = codegen::output::check(&out, &files)?;
                if differing.is_empty() {
                    println!("{} is up to date ({} files)", out.display(), files.len());
                    return Ok(ExitCode::SUCCESS);
                }
                for f in &differing {
                    eprintln!("stale: {}", out.join(f).display());
                }
                eprintln!("{} generated file(s) differ: run ./build.sh and commit the result", differing.len());
                return Ok(ExitCode::FAILURE);
            }
            let report = codegen::output::write(&out, &files)?;
            for f in &report.written {
                println!("wrote {}", out.join(f).display());
            }
            for f in &report.removed {
                println!("removed {}", out.join(f).display());
            }
            println!(
                "{} files: {} written, {} unchanged, {} removed",
                files.len(),
                report.written.len(),
                report.unchanged,
                report.removed.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch { root_url, out } => {
            let n = codegen::fetch::fetch(&root_url, &out, codegen::fetch::WORKER_PAYLOAD_SCHEMAS, &mut |line| {
                println!("{line}")
            })?;
            println!("{n} files in {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::GocdSchema { out, check } => {
            let schema = codegen::gocd::description_schema();
            let current = std::fs::read_to_string(&out).unwrap_or_default();
            if check {
                if current == schema {
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!("{} is stale: run `codegen gocd-schema`", out.display());
                return Ok(ExitCode::FAILURE);
            }
            if current != schema {
                std::fs::write(&out, schema)
                    .map_err(|e| codegen::Error::at(out.display().to_string(), "", e.to_string()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
