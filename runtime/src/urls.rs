//! URL rules of taskcluster-lib-urls, and the path/query encoding every call uses.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but `A-Z a-z 0-9 - . _ ~` is encoded in a path segment or query component.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Encodes `value` as one path segment: a space is `%20`, a `/` is `%2F`, and a value that is
/// exactly `.` or `..` has its dots encoded (`%2E`), so that nothing reads it as "this" or
/// "the parent" directory. URL parsers that follow the URL standard (the `url` crate among
/// them) still treat `%2E%2E` as `..`, so [`crate::Client`] refuses to send such a path rather
/// than call another endpoint; see [`is_dot_segment`].
pub fn encode_path_segment(value: &str) -> String {
    match value {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => utf8_percent_encode(value, UNRESERVED).to_string(),
    }
}

/// Whether an (encoded) path segment means "this" or "the parent" directory to a URL parser:
/// `.`, `..`, or either with dots percent-encoded (`%2e`, `.%2E`, ...).
pub fn is_dot_segment(segment: &str) -> bool {
    // Checked without lower-casing a copy: every call checks each segment of its path.
    [".", "..", "%2e", "%2e%2e", ".%2e", "%2e."].iter().any(|d| segment.eq_ignore_ascii_case(d))
}

/// Encodes a wildcard path (GoCD's `*path_to_file`): each segment is encoded, `/` kept.
pub fn encode_path(value: &str) -> String {
    value.split('/').map(encode_path_segment).collect::<Vec<_>>().join("/")
}

/// Encodes query pairs in the order given: `a=1&b=x%2Fy`.
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    push_query(&mut out, pairs);
    out
}

/// Appends the encoded query pairs to `out` (see [`encode_query`]).
pub(crate) fn push_query<K: AsRef<str>, V: AsRef<str>>(out: &mut String, pairs: &[(K, V)]) {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_component(out, k.as_ref());
        out.push('=');
        push_component(out, v.as_ref());
    }
}

/// Appends `value` percent-encoded as a query component: the same bytes `utf8_percent_encode`
/// with [`UNRESERVED`] gives, one byte at a time (its iterator costs more than the encoding).
fn push_component(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// A root URL without trailing slashes (`https://tc.example.com//` → `https://tc.example.com`).
pub fn normalize_root_url(root_url: &str) -> &str {
    root_url.trim_end_matches('/')
}

fn join(root_url: &str, middle: &str, path: &str) -> String {
    format!("{}/{middle}{}", normalize_root_url(root_url), path.trim_start_matches('/'))
}

/// `<rootUrl>/api/<service>/<version>/<path>`.
pub fn api(root_url: &str, service: &str, version: &str, path: &str) -> String {
    join(root_url, &format!("api/{service}/{version}/"), path)
}

/// `<rootUrl>/schemas/<service>/<path>`.
pub fn schema(root_url: &str, service: &str, path: &str) -> String {
    join(root_url, &format!("schemas/{service}/"), path)
}

/// `<rootUrl>/references/<service>/<version>/api.json`.
pub fn api_reference(root_url: &str, service: &str, version: &str) -> String {
    join(root_url, "references/", &format!("{service}/{version}/api.json"))
}

/// `<rootUrl>/references/<service>/<version>/exchanges.json`.
pub fn exchange_reference(root_url: &str, service: &str, version: &str) -> String {
    join(root_url, "references/", &format!("{service}/{version}/exchanges.json"))
}

/// `<rootUrl>/docs/<path>`.
pub fn docs(root_url: &str, path: &str) -> String {
    join(root_url, "docs/", path)
}

/// `<rootUrl>/<path>` (the web UI).
pub fn ui(root_url: &str, path: &str) -> String {
    join(root_url, "", path)
}

/// `<rootUrl>/references/manifest.json`.
pub fn api_manifest(root_url: &str) -> String {
    join(root_url, "references/", "manifest.json")
}

/// A URL path with `query` appended (nothing when the query is empty).
pub fn with_query<K: AsRef<str>, V: AsRef<str>>(mut url: String, query: &[(K, V)]) -> String {
    if !query.is_empty() {
        url.push('?');
        push_query(&mut url, query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte loop encodes exactly as `percent_encoding` does with the same set.
    #[test]
    fn query_components_encode_as_percent_encoding_does() {
        for value in ["", "a/b c", "x=y&z", "~-._AZaz09", "ü€😀", "%2F+?#[]@!$'()*,;:", "\u{0}\u{7f}"] {
            let mut ours = String::new();
            push_component(&mut ours, value);
            assert_eq!(ours, utf8_percent_encode(value, UNRESERVED).to_string(), "{value:?}");
        }
        assert_eq!(encode_query(&[("a b", "1"), ("c", "x/y")]), "a%20b=1&c=x%2Fy");
        assert!(is_dot_segment("%2E.") && is_dot_segment(".%2e") && !is_dot_segment("...") && !is_dot_segment("a"));
    }
}
