//! `apigen artifact download|upload`, through `taskcluster-artifacts`: streamed, retried, and
//! checked against the object service's hashes.

use apigen_runtime::{Client, Time};
use clap::{value_parser, Arg, ArgMatches, Command};
use serde_json::json;
use taskcluster_artifacts::{ArtifactError, Artifacts, Unrewindable, UploadSource};

use crate::output::print_line;
use crate::Failure;

/// `artifact` and its two subcommands.
pub fn command() -> Command {
    let run = |help: &'static str| {
        Arg::new("run").long("run").value_name("RUN_ID").value_parser(value_parser!(u64)).help(help)
    };
    Command::new("artifact")
        .about("Download or upload artifact data")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("download")
                .about("Download an artifact (hash-checked where the object service knows the hashes)")
                .arg(task_id())
                .arg(Arg::new("name").required(true).help("The artifact's name, e.g. public/build/target.tar.gz"))
                .arg(run("The run (default: the latest)"))
                .arg(
                    Arg::new("output")
                        .short('o')
                        .long("output")
                        .value_name("FILE|-")
                        .default_value("-")
                        .help("Where the data goes; a file appears only once complete and verified"),
                ),
        )
        .subcommand(
            Command::new("upload")
                .about("Upload a file as an object artifact")
                .arg(task_id())
                .arg(Arg::new("name").required(true).help("The artifact's name; public/... is readable by anyone"))
                .arg(Arg::new("file").value_name("FILE|-").required(true).help("The data, or stdin (-)"))
                .arg(run("The run").default_value("0"))
                .arg(
                    Arg::new("content-type")
                        .long("content-type")
                        .value_name("TYPE")
                        .default_value("application/octet-stream")
                        .help("The Content-Type the artifact is served with"),
                )
                .arg(
                    Arg::new("expires")
                        .long("expires")
                        .value_name("OFFSET")
                        .default_value("1 year")
                        .allow_hyphen_values(true)
                        .help("When the artifact expires, from now (no later than the task's expiry)"),
                ),
        )
}

/// The task argument (slugids may start with a hyphen).
fn task_id() -> Arg {
    Arg::new("taskId").required(true).allow_hyphen_values(true).help("The task's id (a slugid)")
}

/// Runs `artifact download|upload`.
pub async fn run(m: &ArgMatches) -> Result<(), Failure> {
    let artifacts = Artifacts::new(&Client::from_env()?).map_err(failure)?;
    let arg = |m: &ArgMatches, id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
    match m.subcommand() {
        Some(("download", m)) => {
            let (task, name, out) = (arg(m, "taskId"), arg(m, "name"), arg(m, "output"));
            let run = m.get_one::<u64>("run").copied();
            if out == "-" {
                let mut stdout = Unrewindable::new(tokio::io::stdout());
                artifacts.download_artifact(&task, run, &name, &mut stdout).await.map_err(failure)?;
            } else {
                let got = artifacts.download_artifact_to_file(&task, run, &name, &out).await.map_err(failure)?;
                let summary = json!({
                    "length": got.length,
                    "sha256": got.sha256,
                    "sha512": got.sha512,
                    "contentType": got.content_type,
                });
                print_line(format!("{summary:#}"))?;
            }
            Ok(())
        }
        Some(("upload", m)) => {
            let (task, name, file) = (arg(m, "taskId"), arg(m, "name"), arg(m, "file"));
            let run = m.get_one::<u64>("run").copied().unwrap_or(0);
            let offset = arg(m, "expires");
            let expires = Time::from_now(&offset)?;
            if expires <= Time::now() {
                return Err(Failure::input(format!("--expires {offset:?} is not in the future")));
            }
            let source =
                if file == "-" { UploadSource::reader(tokio::io::stdin()) } else { UploadSource::file(file.as_str()) };
            let up = artifacts
                .upload_artifact(&task, run, &name, source, &arg(m, "content-type"), expires)
                .await
                .map_err(failure)?;
            let summary = json!({
                "length": up.hashes.length,
                "sha256": up.hashes.sha256,
                "sha512": up.hashes.sha512,
                "objectName": up.object_name,
                "method": up.method,
            });
            print_line(format!("{summary:#}"))
        }
        _ => Err(Failure::Usage("artifact: expected download or upload".into())),
    }
}

fn failure(e: ArtifactError) -> Failure {
    match e {
        ArtifactError::Api(e) => e.into(),
        // Downloading to stdout for a reader that stopped early (`| head`): see `output`.
        ArtifactError::Destination(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Failure::Closed,
        // A source that cannot be read, a destination that cannot be created: like a bad
        // `--input` file, the user's to fix (the library finds these before any call).
        e @ ArtifactError::File { .. } => Failure::Usage(e.to_string()),
        other => Failure::Api(other.to_string()),
    }
}
