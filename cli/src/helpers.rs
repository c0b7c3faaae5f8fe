//! The helpers of Taskcluster's shell client: `slugid`, `from-now`, `temp-credentials`.

use std::time::Duration;

use apigen_runtime::{slug, Credentials, Time, MAX_TEMPORARY_DURATION};
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::{output, Failure};

/// The helper subcommands.
pub fn commands() -> [Command; 3] {
    [
        Command::new("slugid")
            .about("Print new slug ids (22-character URL-safe v4 UUIDs, as task ids are)")
            // clap's own line after `--nice --v4` would be `apigen slugid --nice`.
            .override_usage("apigen slugid [--nice|--v4] [-n N]")
            .arg(
                Arg::new("nice")
                    .long("nice")
                    .action(ArgAction::SetTrue)
                    .conflicts_with("v4")
                    .help("Ids that never start with '-', so they are safe as command-line arguments (the default)"),
            )
            .arg(Arg::new("v4").long("v4").action(ArgAction::SetTrue).help(
                "Ids of any v4 UUID: one in 64 starts with '-', which a command line takes for an option",
            ))
            .arg(
                Arg::new("count")
                    .short('n')
                    .value_name("N")
                    .default_value("1")
                    // `-n -1` reaches the parser, which says what is wrong with it.
                    .allow_negative_numbers(true)
                    .value_parser(count::<u32>)
                    .help("How many, one a line"),
            ),
        Command::new("from-now")
            .about("Print the time an offset from now, in Taskcluster's format")
            .long_about(
                "Print the time an offset from now, in Taskcluster's format (2015-10-27T20:36:19.255Z).\n\n\
                 The offset is Taskcluster's: `2 days 3 hours`, `-1 year`, `15m`, `1h30m` (a year is 365 days, \
                 a month 30 days).",
            )
            .arg(
                Arg::new("expr")
                    .value_name("EXPR")
                    .required(true)
                    .num_args(1..)
                    .allow_hyphen_values(true)
                    .help("The offset: whole numbers with units, e.g. 2 days 3h, -1 year, 1h30m"),
            ),
        Command::new("temp-credentials")
            .about("Print `export TASKCLUSTER_...` lines for temporary credentials made from the environment's credentials")
            .long_about(
                "Print `export TASKCLUSTER_...` lines for temporary credentials signed with the environment's \
                 TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN (nothing is sent to the server).\n\n\
                 The lines carry a secret: they go to stdout only, for `eval \"$(apigen temp-credentials ...)\"`.",
            )
            .arg(
                Arg::new("scopes")
                    .long("scopes")
                    .value_name("SCOPE")
                    .num_args(1..)
                    .action(ArgAction::Append)
                    .required(true)
                    .help("The scopes the credentials carry (a subset of the issuer's)"),
            )
            .arg(
                Arg::new("duration")
                    .long("duration")
                    .value_name("DURATION")
                    .default_value("1h")
                    // `--duration -1h` is a negative duration, refused as such.
                    .allow_hyphen_values(true)
                    .help("How long they are valid, at most 31 days (1h, 2 days, ...)"),
            )
            .arg(
                Arg::new("name")
                    .long("name")
                    .value_name("CLIENT_ID")
                    .help("Named credentials: their client id (the issuer needs auth:create-client:<name>)"),
            ),
    ]
}

/// A Taskcluster offset expression (`15m`, `2 days`) as a duration; zero and negative ones are
/// refused (a signed URL or credentials that have expired when made).
pub fn duration(expr: &str) -> Result<Duration, Failure> {
    let now = Time::now();
    let later = now.offset(expr)?;
    later
        .duration_since(now)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Failure::input(format!("{expr:?} is not a positive duration")))
}

/// clap's parser of a count (`-n N`): a whole number, 0 or more, said so for `-1` or `x`.
pub fn count<N: std::str::FromStr>(value: &str) -> Result<N, String> {
    value.trim().parse().map_err(|_| format!("{value} is not a count (a whole number, 0 or more)"))
}

/// Runs a helper subcommand.
pub async fn run(name: &str, m: &ArgMatches) -> Result<(), Failure> {
    match name {
        "slugid" => {
            let count = m.get_one::<u32>("count").copied().unwrap_or(1);
            let v4 = m.get_flag("v4");
            let ids: Vec<String> = (0..count).map(|_| if v4 { slug::v4() } else { slug::nice() }).collect();
            output::print_line(ids.join("\n"))
        }
        "from-now" => {
            let words: Vec<&str> = m.get_many::<String>("expr").into_iter().flatten().map(String::as_str).collect();
            output::print_line(Time::from_now(&words.join(" "))?.to_string())
        }
        "temp-credentials" => temp_credentials(m),
        other => Err(Failure::Usage(format!("unknown command {other}"))),
    }
}

fn temp_credentials(m: &ArgMatches) -> Result<(), Failure> {
    let issuer = Credentials::from_env()?.ok_or_else(|| {
        Failure::config("temporary credentials need TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN")
    })?;
    let scopes: Vec<String> = m.get_many::<String>("scopes").into_iter().flatten().cloned().collect();
    let expr = m.get_one::<String>("duration").map_or("1h", String::as_str);
    let duration = duration(expr)?;
    if duration > MAX_TEMPORARY_DURATION {
        // Said in the user's own words: the runtime's message counts seconds.
        return Err(Failure::input(format!("temporary credentials may last at most 31 days, not {expr}")));
    }
    let temp = match m.get_one::<String>("name") {
        Some(name) => issuer.create_named_temporary_credentials(name, duration, scopes)?,
        None => issuer.create_temporary_credentials(duration, scopes)?,
    };
    let mut out = String::new();
    // The deployment, rather than the in-task proxy the runtime prefers for calls: credentials
    // are made to be handed on, and the proxy's URL works only inside the task.
    let root = std::env::var("TASKCLUSTER_ROOT_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| apigen_runtime::urls::normalize_root_url(v.trim()).to_owned())
        .or_else(apigen_runtime::root_url_from_env);
    if let Some(root) = root {
        out.push_str(&export("TASKCLUSTER_ROOT_URL", &root));
    }
    out.push_str(&export("TASKCLUSTER_CLIENT_ID", &temp.client_id));
    out.push_str(&export("TASKCLUSTER_ACCESS_TOKEN", &temp.access_token));
    if let Some(cert) = &temp.certificate {
        out.push_str(&export("TASKCLUSTER_CERTIFICATE", cert));
    }
    // The one place a secret is printed, on request, and only to stdout.
    output::print(out.as_bytes())
}

/// `export NAME='value'\n`, quoted for POSIX shells.
fn export(name: &str, value: &str) -> String {
    format!("export {name}='{}'\n", value.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn exports_are_single_quoted() {
        assert_eq!(super::export("A", "it's {\"x\"}"), "export A='it'\\''s {\"x\"}'\n");
    }

    #[test]
    fn durations_are_taskcluster_offsets() {
        assert_eq!(super::duration("15m").unwrap().as_secs(), 900);
        assert!(super::duration("-1h").is_err());
        assert!(super::duration("0s").is_err());
        assert_eq!(super::count::<u32>("0"), Ok(0));
        assert!(super::count::<u32>("-1").unwrap_err().contains("-1 is not a count"));
    }
}
