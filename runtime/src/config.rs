//! Configuration checks made by `ClientBuilder::build` and the `from_env` constructors, so that
//! a mistake in a root URL or in the environment is reported before any call, naming the value
//! or variable at fault — instead of as a 401, a doubled path, or six retried transport errors.

use url::Url;

use crate::credentials::{Certificate, Credentials};
use crate::error::{redact_url, Error};
use crate::urls;

/// The environment variables a Taskcluster client reads, in the order they are tried.
pub(crate) const ROOT_URL_VARS: [&str; 2] = ["TASKCLUSTER_PROXY_URL", "TASKCLUSTER_ROOT_URL"];

/// Checks a root URL (Taskcluster deployment or GoCD server) and returns it without trailing
/// slashes. The message names the value; callers reading it from a variable prefix its name.
pub(crate) fn check_root_url(root_url: &str) -> Result<String, String> {
    let root = urls::normalize_root_url(root_url.trim());
    if root.is_empty() {
        return Err("the root URL is empty (expected e.g. https://tc.example.com)".into());
    }
    let url = Url::parse(root).map_err(|e| format!("root URL {:?} is not a URL: {e}", redact_text(root)))?;
    let shown = redact_url(&url);
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("root URL {shown:?} has scheme {:?}; expected http or https", url.scheme()));
    }
    // reqwest would turn them into a Basic `Authorization` header beside the client's own, and
    // signed URLs would repeat them.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "root URL {shown:?} carries a user name or password; give credentials to the client instead \
             (Taskcluster credentials, or basic_auth for GoCD)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("root URL {shown:?} has no host"));
    }
    // `https://tc.example.com/api/queue/v1` would become `.../api/queue/v1/api/queue/v1/...`.
    let path = url.path();
    if let Some(at) = path.find("/api/").or_else(|| path.ends_with("/api").then(|| path.len() - 4)) {
        let mut root_only = url.clone();
        root_only.set_path(&path[..at]);
        root_only.set_query(None);
        let suggestion = redact_url(&root_only);
        return Err(format!(
            "root URL {shown:?} points into an API ({}); use the deployment's root URL {:?}: clients add \
             /api/<service>/<version> themselves",
            &path[at..],
            urls::normalize_root_url(&suggestion),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("root URL {shown:?} must not have a query or fragment"));
    }
    Ok(root.to_owned())
}

/// A URL that did not parse, with anything that looks like `user:password@` in front of its
/// host replaced by `***@`, so that a password in it is not repeated.
fn redact_text(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else { return text.to_owned() };
    let authority_end = text[start..].find(['/', '?', '#']).map_or(text.len(), |i| start + i);
    match text[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..start], &text[start + at..]),
        None => text.to_owned(),
    }
}

/// Checks Hawk credentials: a client id needs an access token, and a certificate must parse.
pub(crate) fn check_credentials(c: &Credentials) -> Result<(), Error> {
    if c.client_id.is_empty() {
        return Err(Error::config("credentials with an empty client id (leave credentials out for anonymous calls)"));
    }
    if c.access_token.is_empty() {
        return Err(Error::config(format!("credentials for client {:?} have an empty access token", c.client_id)));
    }
    if let Some(cert) = &c.certificate {
        Certificate::parse(cert)
            .map_err(|e| Error::config(format!("the certificate of client {:?}: {}", c.client_id, detail(e))))?;
    }
    Ok(())
}

/// The root URL from the environment, checked, with the variable it came from.
pub(crate) fn root_url_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<String, Error> {
    for var in ROOT_URL_VARS {
        if let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) {
            return check_root_url(&value).map_err(|why| Error::config(format!("{var}: {why}")));
        }
    }
    Err(Error::config(format!("neither {} nor {} is set", ROOT_URL_VARS[0], ROOT_URL_VARS[1])))
}

/// The message of an input or configuration error, without its "invalid ...:" prefix.
pub(crate) fn detail(e: Error) -> String {
    match e {
        Error::InvalidInput(m) | Error::Config(m) => m,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_refused_and_never_repeated() {
        for root in
            ["https://user:hunter2@tc.example.com", "http://user:hunter2@[bad", "https://hunter2@tc.example.com"]
        {
            let why = check_root_url(root).unwrap_err();
            assert!(!why.contains("hunter2"), "{why}");
        }
        let why = check_root_url("https://user:hunter2@tc.example.com").unwrap_err();
        assert!(why.contains("carries a user name or password"), "{why}");
        assert_eq!(redact_text("http://u:p@w@[bad/x@y"), "http://***@[bad/x@y");
        assert_eq!(redact_text("not a url"), "not a url");
        assert_eq!(redact_text("http://[bad"), "http://[bad");
    }
}
