//! `apigen`: every endpoint of the generated Taskcluster and GoCD clients on the command line,
//! and the helpers users of Taskcluster's shell client rely on.
//!
//! `apigen <service> <method> [path args...] [--query NAME=VALUE]... [--input FILE|-]`; the
//! services and methods come from the `endpoints` tables the generator writes into every service
//! crate (feature `cli`), so the command line covers exactly what the typed clients cover.
//!
//! Exit status: 0 on success, 1 when the API call failed (one line on stderr with the server's
//! message), 2 for a usage error (bad arguments, configuration, input that does not fit the
//! endpoint's input type).

mod api;
mod artifact;
mod helpers;
mod output;
mod pulse;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Command;

/// What went wrong, by exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments, environment or input: exit 2.
    Usage(String),
    /// The call (or transfer) failed: exit 1.
    Api(String),
    /// Whoever read stdout has gone (`apigen ... | head -1`): the output is no longer wanted, so
    /// the command ends as `cat` does there, with exit 0 and nothing on stderr.
    Closed,
}

impl Failure {
    /// A usage error in the arguments or the input, with the runtime's `invalid input:` prefix
    /// so that every such message starts the same way.
    pub fn input(msg: impl Into<String>) -> Self {
        Failure::Usage(apigen_runtime::Error::InvalidInput(msg.into()).to_string())
    }

    /// A usage error in the environment, with the runtime's `invalid configuration:` prefix.
    pub fn config(msg: impl Into<String>) -> Self {
        Failure::Usage(apigen_runtime::Error::Config(msg.into()).to_string())
    }
}

impl From<apigen_runtime::Error> for Failure {
    fn from(e: apigen_runtime::Error) -> Self {
        match e {
            apigen_runtime::Error::InvalidInput(_) | apigen_runtime::Error::Config(_) => Failure::Usage(e.to_string()),
            // A download to stdout whose reader has gone.
            apigen_runtime::Error::Io { ref source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => {
                Failure::Closed
            }
            other => Failure::Api(other.to_string()),
        }
    }
}

/// Every service the command line knows, in the order `--help` lists them.
pub static SERVICES: &[&apigen_runtime::endpoint::Service] = &[
    &taskcluster_auth::endpoints::SERVICE,
    &taskcluster_github::endpoints::SERVICE,
    &taskcluster_hooks::endpoints::SERVICE,
    &taskcluster_index::endpoints::SERVICE,
    &taskcluster_notify::endpoints::SERVICE,
    &taskcluster_object::endpoints::SERVICE,
    &taskcluster_purge_cache::endpoints::SERVICE,
    &taskcluster_queue::endpoints::SERVICE,
    &taskcluster_secrets::endpoints::SERVICE,
    &taskcluster_web_server::endpoints::SERVICE,
    &taskcluster_worker_manager::endpoints::SERVICE,
    &gocd::endpoints::SERVICE,
];

fn command() -> Command {
    let mut cmd = Command::new("apigen")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Every Taskcluster and GoCD API endpoint on the command line, and a few helpers")
        .long_about(
            "Every Taskcluster and GoCD API endpoint on the command line, and a few helpers.\n\n\
             Taskcluster calls read TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID, TASKCLUSTER_ACCESS_TOKEN and \
             TASKCLUSTER_CERTIFICATE. TASKCLUSTER_PROXY_URL, when set, is used instead of TASKCLUSTER_ROOT_URL \
             for calls (inside a task, the proxy adds the task's credentials); --signed-url always uses \
             TASKCLUSTER_ROOT_URL, since a URL of the proxy works only inside the task. GoCD calls read \
             GOCD_URL (the server's .../go URL) and either GOCD_USERNAME with GOCD_PASSWORD, or GOCD_TOKEN \
             (an access token), not both.\n\n\
             Exit status: 0 success, 1 API error, 2 usage error.",
        )
        .subcommand_required(true)
        .arg_required_else_help(true);
    for service in SERVICES {
        cmd = cmd.subcommand(api::service_command(service));
    }
    cmd.subcommands(helpers::commands()).subcommand(artifact::command()).subcommand(pulse::command())
}

fn main() -> ExitCode {
    // Usage errors exit 2 and `--help` exits 0, from clap.
    let matches = command().get_matches_from(canonical_args(std::env::args_os().collect()));
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return report(Failure::Api(format!("cannot start the async runtime: {e}"))),
    };
    let Some((name, sub)) = matches.subcommand() else { return ExitCode::from(2) };
    let result = runtime.block_on(async {
        if let Some(service) = SERVICES.iter().find(|s| s.name == name) {
            return api::run(service, sub).await;
        }
        match name {
            "artifact" => artifact::run(sub).await,
            "pulse" => pulse::run(sub).await,

            _ => helpers::run(name, sub).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => report(f),
    }
}

/// The arguments with `apigen <service> <method>` spelled as the command line names it, where
/// `<method>` is another name of an endpoint ([`api::canonical_name`]).
fn canonical_args(mut args: Vec<OsString>) -> Vec<OsString> {
    let (Some(service), Some(method)) = (args.get(1).and_then(|a| a.to_str()), args.get(2).and_then(|a| a.to_str()))
    else {
        return args;
    };
    let name = SERVICES.iter().find(|s| s.name == service).and_then(|s| api::canonical_name(s, method));
    if let Some(name) = name {
        args[2] = name.into();
    }
    args
}

/// Prints the failure as one line on stderr and gives its exit status. Messages come from the
/// runtime's errors, which never carry credentials.
fn report(failure: Failure) -> ExitCode {
    let (code, text) = match failure {
        Failure::Usage(t) => (2, t),
        Failure::Api(t) => (1, t),
        Failure::Closed => return ExitCode::SUCCESS,
    };
    eprintln!("apigen: {}", one_line(&text));
    ExitCode::from(code)
}

/// A multi-line message (the server's scope expressions are) as one line.
fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_tree_is_consistent() {
        // clap checks ids, names and required-argument order here.
        super::command().debug_assert();
    }

    /// The command line covers every endpoint: one table entry and one subcommand per function of
    /// each Taskcluster reference, and per entry of the GoCD checklist.
    #[test]
    fn every_endpoint_has_a_command() {
        use std::collections::BTreeMap;

        let bundle: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fake_servers::shared::references()).unwrap()).unwrap();
        let mut functions: BTreeMap<String, usize> = BTreeMap::new();
        for r in bundle.as_array().unwrap() {
            let (Some(name), Some(entries)) =
                (r["content"]["serviceName"].as_str(), r["content"]["entries"].as_array())
            else {
                continue;
            };
            let n = entries.iter().filter(|e| e["type"] == "function").count();
            if n > 0 {
                functions.insert(name.to_owned(), n);
            }
        }
        functions.insert("gocd".into(), fake_servers::gocd::load_checklist().len());
        let tables: BTreeMap<String, usize> =
            super::SERVICES.iter().map(|s| (s.name.to_owned(), s.endpoints.len())).collect();
        assert_eq!(tables, functions);

        let cmd = super::command();
        for service in super::SERVICES {
            let sub = cmd.find_subcommand(service.name).unwrap();
            assert_eq!(sub.get_subcommands().count(), service.endpoints.len(), "{}: names are unique", service.name);
            for e in service.endpoints {
                assert!(sub.find_subcommand(e.name).is_some(), "{} {}", service.name, e.name);
            }
        }
    }

    /// No blank line in `--help` where an argument's description belongs, for the commands built
    /// from the endpoint tables and the helpers.
    #[test]
    fn every_shown_argument_is_described() {
        fn check(cmd: &clap::Command, path: &str) {
            let path = format!("{path} {}", cmd.get_name());
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(!help.trim().is_empty(), "{path} {}", arg.get_id());
            }
            for sub in cmd.get_subcommands() {
                check(sub, &path);
            }
        }
        for service in super::SERVICES {
            check(&super::api::service_command(service), "apigen");
        }
        let own = [super::pulse::command(), super::artifact::command()];
        for cmd in super::helpers::commands().iter().chain(&own) {
            check(cmd, "apigen");
        }
    }

    #[test]
    fn messages_become_one_line() {
        assert_eq!(super::one_line("HTTP 403: missing\n  - a\n\n  - b\n"), "HTTP 403: missing - a - b");
    }
}
