//! `apigen <service> <method> ...`: subcommands built from a service's endpoint table, and the
//! call through the runtime's generic request path.

use std::time::Duration;

use apigen_runtime::endpoint::{Api, Endpoint, Input, Output, RequestBody, Segment, Service, Stability};
use apigen_runtime::reqwest::Url;
use apigen_runtime::{Client, Response};
use clap::{Arg, ArgAction, ArgMatches, Command};
use tokio::io::AsyncReadExt as _;

use crate::Failure;

// Option ids start with `--` so that they never collide with a path argument's name.
const QUERY: &str = "--query";
const INPUT: &str = "--input";
const SIGNED_URL: &str = "--signed-url";
const TTL: &str = "--ttl";
const IF_MATCH: &str = "--if-match";
const OUTPUT: &str = "--output";

/// How long `apigen` waits for a GoCD archive that the server is still preparing.
const ZIP_WAIT: Duration = Duration::from_secs(300);

/// The subcommand of one service: one subcommand per endpoint.
pub fn service_command(service: &'static Service) -> Command {
    let about = if service.title.is_empty() { service.name } else { service.title };
    let mut cmd = Command::new(service.name)
        .about(about)
        .long_about(format!("{about}\n\n{}", service.description.trim()))
        .subcommand_required(true)
        .arg_required_else_help(true);
    for e in service.endpoints {
        cmd = cmd.subcommand(endpoint_command(service, e));
    }
    cmd
}

fn endpoint_command(service: &Service, e: &'static Endpoint) -> Command {
    let mut cmd = Command::new(e.name).about(summary(service, e)).long_about(long_help(service, e));
    let required = e.required_args();
    let mut kinds = e.segments.iter().filter(|s| !matches!(s, Segment::Literal(_)));
    for (i, name) in e.args.iter().enumerate() {
        let help = match kinds.next() {
            Some(Segment::Wildcard) => format!("Fills <{name}> in the route {} (a path: its / are kept)", e.route),
            Some(Segment::OptionalTail) => format!("Optional: fills [/<{name}>] in the route {}", e.route),
            _ => format!("Fills <{name}> in the route {}", e.route),
        };
        // Ids may start with `-` (slug ids do), so path arguments take hyphen values.
        cmd = cmd.arg(Arg::new(*name).value_name(*name).help(help).required(i < required).allow_hyphen_values(true));
    }
    // Options an endpoint does not take are still parsed, hidden, so that using one gets a
    // message saying so instead of clap's tip to pass it as a value after `--`.
    let names = if e.query.is_empty() { "none".to_owned() } else { e.query.join(", ") };
    cmd = cmd.arg(
        Arg::new(QUERY)
            .long("query")
            .value_name("NAME=VALUE")
            .action(ArgAction::Append)
            .hide(e.query.is_empty())
            .help(format!("A query parameter (this endpoint takes: {names})")),
    );
    let input = Arg::new(INPUT).long("input").value_name("FILE|-");
    cmd = cmd.arg(match e.input {
        Input::None => input.hide(true),
        Input::Json(_) | Input::Form { .. } => input.help(
            "The request body as JSON, from a file or stdin (-); its JSON types and required fields are checked \
             before sending, the rest is for the server to check",
        ),
        Input::Multipart(_) | Input::Bytes => input.required(true).help("The file to send, or stdin (-)"),
    });
    let signed_url = Arg::new(SIGNED_URL).long("signed-url").action(ArgAction::SetTrue);
    if signs_urls(service, e) {
        cmd = cmd
            .arg(signed_url.help(
                "Print a URL that carries its own authentication (a bewit), for TASKCLUSTER_ROOT_URL, instead of \
                 calling the endpoint",
            ))
            .arg(
                Arg::new(TTL)
                    .long("ttl")
                    .value_name("DURATION")
                    .default_value("15m")
                    .requires(SIGNED_URL)
                    // `--ttl -5m` is a negative duration, refused as such, not an unknown option.
                    .allow_hyphen_values(true)
                    .help("How long the signed URL is valid (15m, 1 hour, 2d, ...)"),
            );
    } else {
        cmd = cmd.arg(signed_url.hide(true));
    }
    if e.if_match {
        cmd = cmd.arg(
            Arg::new(IF_MATCH)
                .long("if-match")
                .value_name("ETAG")
                .required(true)
                .help("The ETag of the entity as last read (printed on stderr by the GET)"),
        );
    }
    if matches!(e.output, Output::Bytes | Output::Zip) {
        cmd = cmd.arg(
            Arg::new(OUTPUT)
                .short('o')
                .long("output")
                .value_name("FILE|-")
                .default_value("-")
                .help("Where the response body goes"),
        );
    }
    cmd
}

/// Whether `--signed-url` applies: a bewit authenticates Taskcluster GETs without a body.
fn signs_urls(service: &Service, e: &Endpoint) -> bool {
    e.method == "GET" && matches!(service.api, Api::Taskcluster { .. }) && matches!(e.input, Input::None)
}

/// The line in the service's command list: the title, unless another endpoint of the service
/// has the same one (upstream titles `tasks` and `statuses` alike); then the description's
/// first sentence, which tells them apart.
fn summary(service: &Service, e: &Endpoint) -> String {
    let shared = service.endpoints.iter().filter(|o| o.title == e.title).count() > 1;
    let text = e.description.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = text.split_inclusive(". ").next().unwrap_or("").trim_end();
    if shared && !first.is_empty() {
        first.to_owned()
    } else {
        e.title.to_owned()
    }
}

/// The command-line name of the endpoint that `name` means where it is no command-line name
/// itself: the description's camelCase function name (`createTask`, as the other clients spell
/// it), or `get-<name>` for a GET (`get-task`, what people try for `task`) whose name does not
/// start with `get-` already (no `get-get-task-group`). Not clap aliases: clap would offer them
/// among its suggestions for every typo.
pub fn canonical_name(service: &Service, name: &str) -> Option<&'static str> {
    if service.endpoint(name).is_some() {
        return None;
    }
    let get = name.strip_prefix("get-").filter(|rest| !rest.starts_with("get-"));
    service.endpoints.iter().find(|e| e.function == name || (e.method == "GET" && get == Some(e.name))).map(|e| e.name)
}

/// The route as a user can read it: where it goes relative to the variables they set.
fn shown_route(service: &Service, e: &Endpoint) -> String {
    match service.api {
        Api::Taskcluster { service_name, api_version } => {
            format!("<TASKCLUSTER_ROOT_URL>/api/{service_name}/{api_version}{}", e.route)
        }
        Api::GoCd => format!("<GOCD_URL>{}", e.route),
    }
}

/// `--help` of an endpoint: the reference's title and description, stability, route and scopes.
fn long_help(service: &Service, e: &Endpoint) -> String {
    let mut text = format!("{}\n\n", e.title);
    if !e.description.is_empty() {
        text.push_str(e.description);
        text.push_str("\n\n");
    }
    match e.stability {
        Stability::Experimental => {
            text.push_str("Experimental: this endpoint may change or go away without notice.\n\n")
        }
        Stability::Deprecated => text.push_str("Deprecated.\n\n"),
        Stability::Stable => {}
    }
    text.push_str(&format!("{} {}", e.method, shown_route(service, e)));
    if !e.scopes.is_empty() {
        text.push_str("\n\nRequired scopes:\n");
        text.push_str(e.scopes);
    }
    text
}

/// The client of `service`, configured from the environment; for a signed URL, with
/// TASKCLUSTER_ROOT_URL even where TASKCLUSTER_PROXY_URL is set.
fn client(service: &Service, signed_url: bool) -> Result<Client, Failure> {
    match service.api {
        Api::Taskcluster { service_name, api_version } => {
            // The runtime, like Taskcluster's own clients, treats a token without a client id
            // as no credentials (the vectors hold that); a person at a shell who set half of
            // them made a mistake, which the command line reports instead of calling anonymously.
            let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
            if set("TASKCLUSTER_ACCESS_TOKEN") && !set("TASKCLUSTER_CLIENT_ID") {
                return Err(Failure::config("TASKCLUSTER_ACCESS_TOKEN is set but TASKCLUSTER_CLIENT_ID is not"));
            }
            // The runtime prefers the proxy, which is right for calls made inside a task. A
            // signed URL is made to be handed on, and one of the in-task proxy works nowhere else.
            // Blank counts as unset, as in the runtime.
            let url_set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
            let client = if signed_url && url_set("TASKCLUSTER_PROXY_URL") {
                if !url_set("TASKCLUSTER_ROOT_URL") {
                    return Err(Failure::config(
                        "--signed-url needs TASKCLUSTER_ROOT_URL: a signed URL of TASKCLUSTER_PROXY_URL would work \
                         only inside this task",
                    ));
                }
                Client::from_lookup(|k| std::env::var(k).ok().filter(|_| k != "TASKCLUSTER_PROXY_URL"))?
            } else {
                Client::from_env()?
            };
            Ok(client.service(service_name, api_version))
        }
        Api::GoCd => gocd_client(),
    }
}

fn gocd_client() -> Result<Client, Failure> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let url = var("GOCD_URL").ok_or_else(|| {
        Failure::config("GOCD_URL is not set (the GoCD server's URL, e.g. https://ci.example.com/go)")
    })?;
    check_gocd_url(&url)?;
    let builder = Client::gocd_builder(url);
    // Half a login, or a token next to a login, is a mistake to report: either way something
    // the user set would be silently dropped, and the call made as someone else or anonymously.
    let builder = match (var("GOCD_TOKEN"), var("GOCD_USERNAME"), var("GOCD_PASSWORD")) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(Failure::config(
                "GOCD_TOKEN and GOCD_USERNAME/GOCD_PASSWORD are both set: set one or the other (an access \
                 token, or a user name with its password)",
            ))
        }
        (Some(token), None, None) => builder.bearer_token(token),
        (None, Some(user), Some(password)) => builder.basic_auth(user, password),
        (None, Some(_), None) => return Err(Failure::config("GOCD_USERNAME is set but GOCD_PASSWORD is not")),
        (None, None, Some(_)) => return Err(Failure::config("GOCD_PASSWORD is set but GOCD_USERNAME is not")),
        (None, None, None) => builder,
    };
    Ok(builder.build()?)
}

/// Checks GOCD_URL before the runtime does, so that a mistake names the variable and is told in
/// GoCD's terms (the runtime's check speaks of a Taskcluster root URL). The value is never
/// quoted: it may carry a password.
fn check_gocd_url(value: &str) -> Result<(), Failure> {
    const EXPECTED: &str = "expected the server's .../go URL, e.g. https://ci.example.com/go";
    let bad = |why: String| Failure::config(format!("GOCD_URL {why}; {EXPECTED}"));
    let url = Url::parse(value.trim()).map_err(|e| bad(format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("has scheme {:?}, not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // As for a Taskcluster root URL (the runtime refuses both): it would be sent beside the
        // client's own Authorization header.
        return Err(Failure::config(
            "GOCD_URL carries a user name or password: set GOCD_USERNAME and GOCD_PASSWORD (or GOCD_TOKEN) instead",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("has a query or fragment".into()));
    }
    let path = url.path().trim_end_matches('/');
    if let Some(at) = path.find("/api/").or_else(|| path.ends_with("/api").then(|| path.len() - 4)) {
        return Err(bad(format!("points into the API ({}): apigen adds each route's /api/... itself", &path[at..])));
    }
    // GoCD serves its API under the context path /go (seed 002: "All APIs SHOULD be accessed
    // from https://go-server-url:8154/go/api"). A proxy may serve it elsewhere, so this is only
    // a warning.
    if !path.ends_with("/go") {
        eprintln!(
            "apigen: warning: GOCD_URL does not end in /go, where GoCD serves its API; calls go to \
             <GOCD_URL>/api/... (ignore this if a proxy serves GoCD there)"
        );
    }
    Ok(())
}

/// Runs `apigen <service> <method> ...`.
pub async fn run(service: &Service, m: &ArgMatches) -> Result<(), Failure> {
    let Some((name, m)) = m.subcommand() else { return Err(Failure::Usage("no method given".into())) };
    let e = service.endpoint(name).ok_or_else(|| Failure::Usage(format!("{} has no method {name}", service.name)))?;
    let signed_url = m.get_flag(SIGNED_URL);
    if signed_url && !signs_urls(service, e) {
        return Err(Failure::input(match service.api {
            Api::GoCd => "--signed-url is for Taskcluster endpoints: GoCD has no signed URLs".to_owned(),
            Api::Taskcluster { .. } => {
                format!("--signed-url only applies to GET endpoints without a body; {} is a {}", e.name, e.method)
            }
        }));
    }
    if matches!(e.input, Input::None) && opt(m, INPUT).is_some() {
        return Err(Failure::input(format!("{} takes no request body, so --input does not apply", e.name)));
    }
    let args: Vec<&str> = e.args.iter().filter_map(|a| m.get_one::<String>(a).map(String::as_str)).collect();
    let query = m
        .get_many::<String>(QUERY)
        .into_iter()
        .flatten()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| Failure::input(format!("--query {pair:?}: expected NAME=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body = match opt(m, INPUT) {
        Some(path) => Some(read_input(path, e.input).await?),
        None => None,
    };
    if body.is_none() && !matches!(e.input, Input::None | Input::Form { optional: true, .. }) {
        return Err(Failure::input(format!(
            "{} needs a request body: give it with --input FILE, or --input - to read stdin",
            e.name
        )));
    }
    let mut req = e.request(&args, &query, body)?;
    if let Some(etag) = opt(m, IF_MATCH) {
        req = req.header("if-match", etag)?;
    }
    let client = client(service, signed_url)?;
    if signed_url {
        // Without credentials the runtime's signed URL is the plain URL; asked for by name, a
        // signature that cannot be made is a mistake to report, not to paper over.
        if apigen_runtime::Credentials::from_env()?.is_none() {
            return Err(Failure::config(
                "--signed-url needs credentials: set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN",
            ));
        }
        let ttl = crate::helpers::duration(opt(m, TTL).map_or("15m", String::as_str))?;
        return crate::output::print_line(client.signed_url(&req.path, &req.query, ttl)?);
    }
    match e.output {
        Output::Json | Output::None | Output::Text => {
            let resp = client.call(req).await?;
            if let Some(etag) = resp.header("etag") {
                if service.api == Api::GoCd {
                    eprintln!("etag: {etag}");
                }
            }
            print_body(&resp, e.output)
        }
        Output::Bytes | Output::Zip => {
            let dest = opt(m, OUTPUT).map_or("-", String::as_str);
            if dest == "-" {
                let mut out = tokio::io::stdout();
                download(&client, req, e.output, &mut out).await
            } else {
                let mut out = tokio::fs::File::create(dest)
                    .await
                    .map_err(|err| Failure::input(format!("cannot create {dest}: {err}")))?;
                download(&client, req, e.output, &mut out).await
            }
        }
    }
}

async fn download<W: tokio::io::AsyncWrite + Unpin>(
    client: &Client,
    req: apigen_runtime::Request,
    output: Output,
    out: &mut W,
) -> Result<(), Failure> {
    if output == Output::Zip {
        client.download_when_ready(req, out, ZIP_WAIT).await?;
    } else {
        client.download(req, out).await?;
    }
    Ok(())
}

/// An option's value; `None` also where the endpoint does not have the option.
fn opt<'a>(m: &'a ArgMatches, id: &str) -> Option<&'a String> {
    m.try_get_one::<String>(id).ok().flatten()
}

/// Reads `--input`: JSON for JSON and form bodies, the bytes for uploads.
async fn read_input(path: &str, input: Input) -> Result<RequestBody, Failure> {
    let data = if path == "-" {
        let mut buf = Vec::new();
        tokio::io::stdin()
            .read_to_end(&mut buf)
            .await
            .map_err(|e| Failure::input(format!("cannot read stdin: {e}")))?;
        buf
    } else {
        tokio::fs::read(path).await.map_err(|e| Failure::input(format!("cannot read {path}: {e}")))?
    };
    match input {
        Input::Multipart(_) | Input::Bytes => {
            let file_name = if path == "-" { "stdin" } else { path.rsplit(['/', '\\']).next().unwrap_or(path) };
            Ok(RequestBody::File { file_name: file_name.to_owned(), data: data.into() })
        }
        _ => serde_json::from_slice(&data)
            .map(RequestBody::Json)
            .map_err(|e| Failure::input(format!("--input {path}: not JSON: {e}"))),
    }
}

/// JSON pretty-printed (keys in serde_json's order, alphabetical), text as it is; both end in
/// a newline, so that a shell prompt after them starts a line. An empty body prints nothing.
/// (Downloads, which may be binary, go out byte for byte instead.)
fn print_body(resp: &Response, output: Output) -> Result<(), Failure> {
    match (output, serde_json::from_slice::<serde_json::Value>(&resp.body)) {
        (Output::Json | Output::None, Ok(v)) => {
            let text = serde_json::to_string_pretty(&v).map_err(|e| Failure::Api(e.to_string()))?;
            crate::output::print_line(text)
        }
        _ => crate::output::print_line(&resp.body),
    }
}
