//! Hawk and Taskcluster credential checks, written from the protocol rather than borrowed from
//! the runtime under test: HMAC-SHA256 from `hmac` + `sha2`, base64 from `base64`.
//!
//! Everything here is pure (the current time is a parameter), so the unit tests can check it
//! against published vectors whose timestamps lie in the past.

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Clock skew the auth service allows between client and server, in seconds.
pub const ALLOWED_SKEW_SECS: i64 = 15 * 60;
/// How far a certificate's `start` may lie in the future, and its `expiry` in the past (ms).
pub const CERT_SLACK_MS: i64 = 5 * 60 * 1000;
/// The longest lifetime of a certificate (ms).
pub const MAX_CERT_LIFETIME_MS: i64 = 31 * 24 * 3600 * 1000;

/// A registered permanent client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The access token (Hawk key).
    pub access_token: String,
    /// The scopes the client holds.
    pub scopes: Vec<String>,
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Base64 in any of the forms the auth service accepts: standard or URL-safe alphabet,
/// padded or not.
pub fn decode_base64_any(text: &str) -> Option<Vec<u8>> {
    let normalized: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    STANDARD_NO_PAD.decode(normalized).ok()
}

/// Equality that does not stop at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The string Hawk signs. `kind` is `header` or `bewit`; every line ends in `\n`.
#[allow(clippy::too_many_arguments)]
pub fn normalized_string(
    kind: &str,
    ts: &str,
    nonce: &str,
    method: &str,
    resource: &str,
    host: &str,
    port: u16,
    hash: &str,
    ext: &str,
) -> String {
    format!("hawk.1.{kind}\n{ts}\n{nonce}\n{method}\n{resource}\n{host}\n{port}\n{hash}\n{ext}\n")
}

/// Base64 (standard, padded) HMAC-SHA256 of `normalized` with `key`.
pub fn mac_of(key: &str, normalized: &str) -> String {
    STANDARD.encode(hmac_sha256(key.as_bytes(), normalized.as_bytes()))
}

/// A content type as the payload hash uses it: no parameters, lower case.
pub fn bare_content_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Hawk's payload hash: base64 SHA-256 of `hawk.1.payload\n<content-type>\n<body>\n`, with the
/// content type reduced by [`bare_content_type`].
pub fn payload_hash(content_type: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"hawk.1.payload\n");
    h.update(bare_content_type(content_type).as_bytes());
    h.update(b"\n");
    h.update(body);
    h.update(b"\n");
    STANDARD.encode(h.finalize())
}

/// The attributes of a `Hawk ...` Authorization header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HawkHeader {
    /// Client id.
    pub id: String,
    /// Timestamp (seconds), as sent.
    pub ts: String,
    /// Nonce.
    pub nonce: String,
    /// Payload hash, if sent.
    pub hash: Option<String>,
    /// ext, if sent.
    pub ext: Option<String>,
    /// The MAC.
    pub mac: String,
}

/// Parses `Hawk id="..", ts="..", nonce="..", [hash=".."], [ext=".."], mac=".."` in any
/// attribute order, as the Hawk reference implementation does.
pub fn parse_authorization(value: &str) -> Result<HawkHeader, String> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("hawk") {
        return Err(format!("unsupported authorization scheme {scheme:?} (expected Hawk)"));
    }
    let mut attrs: HashMap<String, String> = HashMap::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let key_len = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
        let key = &rest[..key_len];
        if key.is_empty() {
            return Err("bad header format".into());
        }
        rest = rest[key_len..].trim_start();
        rest = rest.strip_prefix('=').ok_or_else(|| format!("bad header format: attribute {key} has no value"))?;
        rest = rest.trim_start();
        rest = rest.strip_prefix('"').ok_or_else(|| format!("bad header format: attribute {key} is not quoted"))?;
        let end = rest.find('"').ok_or_else(|| format!("bad header format: attribute {key} is not terminated"))?;
        let val = &rest[..end];
        rest = &rest[end + 1..];
        if !matches!(key, "id" | "ts" | "nonce" | "hash" | "ext" | "mac" | "app" | "dlg") {
            return Err(format!("unknown attribute {key}"));
        }
        if val.contains('\\') {
            return Err(format!("bad attribute value in {key}"));
        }
        if attrs.insert(key.to_owned(), val.to_owned()).is_some() {
            return Err(format!("duplicate attribute {key}"));
        }
    }
    let mut take = |k: &str| attrs.remove(k).filter(|v| !v.is_empty());
    let id = take("id").ok_or("missing attribute id")?;
    let ts = take("ts").ok_or("missing attribute ts")?;
    let nonce = take("nonce").ok_or("missing attribute nonce")?;
    let mac = take("mac").ok_or("missing attribute mac")?;
    let hash = take("hash");
    let ext = take("ext");
    Ok(HawkHeader { id, ts, nonce, hash, ext, mac })
}

/// Where the request went, as Hawk signs it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// `path?query` exactly as received.
    pub resource: &'a str,
    /// Host from the Host header, lower case.
    pub host: &'a str,
    /// Port from the Host header (80 when it has none).
    pub port: u16,
}

/// Checks the MAC of a parsed header with `key` (no time or ext checks).
pub fn verify_header_mac(h: &HawkHeader, key: &str, t: &Target<'_>) -> Result<(), String> {
    let normalized = normalized_string(
        "header",
        &h.ts,
        &h.nonce,
        t.method,
        t.resource,
        t.host,
        t.port,
        h.hash.as_deref().unwrap_or(""),
        h.ext.as_deref().unwrap_or(""),
    );
    if constant_time_eq(mac_of(key, &normalized).as_bytes(), h.mac.as_bytes()) {
        Ok(())
    } else {
        Err("Bad mac (the request signature does not match: wrong access token, or a different method, URL, host, port, hash or ext was signed)".into())
    }
}

/// Checks a header's timestamp against `now_secs` with the allowed skew.
pub fn check_timestamp(ts: &str, now_secs: i64) -> Result<(), String> {
    let ts: i64 = ts.parse().map_err(|_| format!("invalid timestamp {ts:?}"))?;
    if (now_secs - ts).abs() > ALLOWED_SKEW_SECS {
        return Err(format!(
            "Stale timestamp: ts={ts} is {} s away from the server's clock (at most {ALLOWED_SKEW_SECS} s allowed)",
            (now_secs - ts).abs()
        ));
    }
    Ok(())
}

/// Whether `have` satisfies `need`: equality, or a `have` ending in `*` that is a prefix of it.
pub fn scope_satisfied(have: &[String], need: &str) -> bool {
    have.iter().any(|h| h == need || h.strip_suffix('*').is_some_and(|p| need.starts_with(p)))
}

/// The scopes of `needed` that `have` does not satisfy.
pub fn missing_scopes(have: &[String], needed: &[String]) -> Vec<String> {
    needed.iter().filter(|n| !scope_satisfied(have, n)).cloned().collect()
}

/// The key and scopes a request signs with, once ext has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The Hawk key: the permanent access token or the temporary one.
    pub key: String,
    /// Effective scopes (the certificate's, then restricted by authorizedScopes).
    pub scopes: Vec<String>,
}

/// Decodes ext: base64 (any form) of a JSON object.
pub fn decode_ext(ext: &str) -> Result<serde_json::Map<String, Value>, String> {
    let bytes = decode_base64_any(ext).ok_or("Failed to parse ext: not base64")?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("Failed to parse ext: not a JSON object".into()),
        Err(e) => Err(format!("Failed to parse ext: not JSON: {e}")),
    }
}

fn string_list(v: &Value, what: &str) -> Result<Vec<String>, String> {
    let arr = v.as_array().ok_or_else(|| format!("{what} must be an array of strings"))?;
    arr.iter()
        .map(|s| s.as_str().map(str::to_owned).ok_or_else(|| format!("{what} must be an array of strings")))
        .collect()
}

/// The text a version-1 certificate's signature covers.
pub fn certificate_signed_text(
    name: Option<(&str, &str)>,
    seed: &str,
    start: i64,
    expiry: i64,
    scopes: &[String],
) -> String {
    let mut lines = vec!["version:1".to_owned()];
    if let Some((client_id, issuer)) = name {
        lines.push(format!("clientId:{client_id}"));
        lines.push(format!("issuer:{issuer}"));
    }
    lines.push(format!("seed:{seed}"));
    lines.push(format!("start:{start}"));
    lines.push(format!("expiry:{expiry}"));
    lines.push("scopes:".to_owned());
    lines.extend(scopes.iter().cloned());
    lines.join("\n")
}

/// The temporary access token of a certificate: base64url-nopad HMAC(issuer token, seed).
pub fn temporary_access_token(issuer_token: &str, seed: &str) -> String {
    URL_SAFE_NO_PAD.encode(hmac_sha256(issuer_token.as_bytes(), seed.as_bytes()))
}

/// Checks a certificate presented by Hawk id `client_id` and returns the temporary key and
/// the certificate's scopes.
pub fn check_certificate(
    clients: &HashMap<String, ClientRecord>,
    client_id: &str,
    cert: &Value,
    now_ms: i64,
) -> Result<Resolved, String> {
    let cert = cert.as_object().ok_or("ext.certificate must be a JSON object")?;
    if cert.get("version").and_then(Value::as_i64) != Some(1) {
        return Err("ext.certificate.version must be 1".into());
    }
    let seed = cert.get("seed").and_then(Value::as_str).ok_or("ext.certificate.seed must be a string")?;
    if seed.len() != 44 {
        return Err("ext.certificate.seed must be 44 characters".into());
    }
    let start = cert.get("start").and_then(Value::as_i64).ok_or("ext.certificate.start must be a number")?;
    let expiry = cert.get("expiry").and_then(Value::as_i64).ok_or("ext.certificate.expiry must be a number")?;
    let signature =
        cert.get("signature").and_then(Value::as_str).ok_or("ext.certificate.signature must be a string")?;
    let scopes = string_list(cert.get("scopes").unwrap_or(&Value::Null), "ext.certificate.scopes")?;
    if start > now_ms + CERT_SLACK_MS {
        return Err("ext.certificate.start > now (more than 5 minutes in the future)".into());
    }
    if expiry < now_ms - CERT_SLACK_MS {
        return Err("ext.certificate.expiry < now (the temporary credentials have expired)".into());
    }
    if expiry - start > MAX_CERT_LIFETIME_MS {
        return Err("ext.certificate cannot last longer than 31 days".into());
    }
    let issuer_name = match cert.get("issuer") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
        Some(_) => return Err("ext.certificate.issuer must be a non-empty string".into()),
    };
    let issuer_id = issuer_name.unwrap_or(client_id);
    let issuer =
        clients.get(issuer_id).ok_or_else(|| format!("ext.certificate.issuer: no client {issuer_id:?} is known"))?;
    if let Some(issuer_name) = issuer_name {
        if issuer_name == client_id {
            return Err("ext.certificate: named temporary credentials must not be named after their issuer".into());
        }
        let needed = format!("auth:create-client:{client_id}");
        if !scope_satisfied(&issuer.scopes, &needed) {
            return Err(format!(
                "ext.certificate issuer {issuer_name:?} does not have scope {needed:?} for named temporary credentials"
            ));
        }
    }
    let missing = missing_scopes(&issuer.scopes, &scopes);
    if !missing.is_empty() {
        return Err(format!(
            "ext.certificate issuer {issuer_id:?} does not have sufficient scopes for the certificate; missing: {missing:?}"
        ));
    }
    let text = certificate_signed_text(issuer_name.map(|i| (client_id, i)), seed, start, expiry, &scopes);
    let expected = STANDARD.encode(hmac_sha256(issuer.access_token.as_bytes(), text.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err("ext.certificate.signature is not valid".into());
    }
    Ok(Resolved { key: temporary_access_token(&issuer.access_token, seed), scopes })
}

/// The key and effective scopes for Hawk id `client_id` with `ext`.
pub fn resolve(
    clients: &HashMap<String, ClientRecord>,
    client_id: &str,
    ext: Option<&str>,
    now_ms: i64,
) -> Result<Resolved, String> {
    let ext = ext.map(decode_ext).transpose()?.unwrap_or_default();
    let mut resolved = match ext.get("certificate") {
        Some(cert) if !cert.is_null() => check_certificate(clients, client_id, cert, now_ms)?,
        _ => {
            let c = clients.get(client_id).ok_or_else(|| format!("unknown clientId {client_id:?}"))?;
            Resolved { key: c.access_token.clone(), scopes: c.scopes.clone() }
        }
    };
    if let Some(auth) = ext.get("authorizedScopes").filter(|v| !v.is_null()) {
        let authorized = string_list(auth, "ext.authorizedScopes")?;
        let missing = missing_scopes(&resolved.scopes, &authorized);
        if !missing.is_empty() {
            return Err(format!("ext.authorizedScopes oversteps your scopes; the client does not hold {missing:?}"));
        }
        resolved.scopes = authorized;
    }
    Ok(resolved)
}

/// Who a request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The client id (the Hawk id); `None` for anonymous requests.
    pub client_id: Option<String>,
    /// Effective scopes.
    pub scopes: Vec<String>,
}

/// A request as the verifier needs it.
#[derive(Debug, Clone, Copy)]
pub struct AuthInput<'a> {
    /// Method, resource, host, port.
    pub target: Target<'a>,
    /// The Authorization header, if any.
    pub authorization: Option<&'a str>,
    /// The Content-Type header, if any.
    pub content_type: Option<&'a str>,
    /// The raw body.
    pub body: &'a [u8],
}

/// Authenticates a request with an Authorization header, a bewit, or neither (anonymous).
pub fn authenticate(
    clients: &HashMap<String, ClientRecord>,
    input: &AuthInput<'_>,
    now_ms: i64,
) -> Result<Identity, String> {
    let bewit = find_bewit(input.target.resource);
    match (input.authorization, bewit) {
        (Some(_), Some(_)) => Err("Multiple authentications: both an Authorization header and a bewit".into()),
        (Some(header), None) => authenticate_header(clients, input, header, now_ms),
        (None, Some((bewit, stripped))) => {
            authenticate_bewit(clients, &Target { resource: &stripped, ..input.target }, &bewit, now_ms)
        }
        (None, None) => Ok(Identity { client_id: None, scopes: Vec::new() }),
    }
}

fn authenticate_header(
    clients: &HashMap<String, ClientRecord>,
    input: &AuthInput<'_>,
    header: &str,
    now_ms: i64,
) -> Result<Identity, String> {
    let h = parse_authorization(header)?;
    let resolved = resolve(clients, &h.id, h.ext.as_deref(), now_ms)?;
    verify_header_mac(&h, &resolved.key, &input.target)?;
    check_timestamp(&h.ts, now_ms.div_euclid(1000))?;
    if let Some(hash) = &h.hash {
        let expected = payload_hash(input.content_type.unwrap_or(""), input.body);
        if !constant_time_eq(expected.as_bytes(), hash.as_bytes()) {
            return Err("Bad payload hash: the body (with its Content-Type) does not match the signed hash".into());
        }
    }
    Ok(Identity { client_id: Some(h.id), scopes: resolved.scopes })
}

/// Finds the `bewit` query parameter: returns its value and the resource without it (and
/// without the `&` or `?` that joined it), as the Hawk server strips it.
pub fn find_bewit(resource: &str) -> Option<(String, String)> {
    let (path, query) = resource.split_once('?')?;
    let mut bewit = None;
    let mut kept = Vec::new();
    for part in query.split('&') {
        match part.strip_prefix("bewit=") {
            Some(v) if bewit.is_none() => bewit = Some(v.to_owned()),
            _ => kept.push(part),
        }
    }
    let bewit = bewit?;
    let stripped = if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) };
    Some((bewit, stripped))
}

/// Checks a bewit for `target`, whose resource no longer carries it.
pub fn authenticate_bewit(
    clients: &HashMap<String, ClientRecord>,
    target: &Target<'_>,
    bewit: &str,
    now_ms: i64,
) -> Result<Identity, String> {
    if target.method != "GET" && target.method != "HEAD" {
        return Err(format!("Invalid method for a bewit: {}", target.method));
    }
    let raw = decode_base64_any(bewit).ok_or("Invalid bewit encoding")?;
    let raw = String::from_utf8(raw).map_err(|_| "Invalid bewit encoding")?;
    let parts: Vec<&str> = raw.split('\\').collect();
    let [id, exp, mac, ext] = parts[..] else {
        return Err("Invalid bewit structure".into());
    };
    if id.is_empty() || exp.is_empty() || mac.is_empty() {
        return Err("Missing bewit attributes".into());
    }
    let exp_secs: i64 = exp.parse().map_err(|_| "Invalid bewit expiry")?;
    if exp_secs.saturating_mul(1000) <= now_ms {
        return Err("Access expired: the bewit's expiry has passed".into());
    }
    let ext = (!ext.is_empty()).then_some(ext);
    let resolved = resolve(clients, id, ext, now_ms)?;
    // A bewit signs GET whatever the method of the request that carries it.
    let normalized =
        normalized_string("bewit", exp, "", "GET", target.resource, target.host, target.port, "", ext.unwrap_or(""));
    if !constant_time_eq(mac_of(&resolved.key, &normalized).as_bytes(), mac.as_bytes()) {
        return Err("Bad mac in bewit (the signed URL was altered or signed with another key)".into());
    }
    Ok(Identity { client_id: Some(id.to_owned()), scopes: resolved.scopes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> Value {
        serde_json::from_str(&crate::shared::read("taskcluster/vectors.json")).expect("vectors.json is JSON")
    }

    /// The cases of a vectors section; there is at least one.
    fn cases(v: &Value) -> &[Value] {
        let cases = v.as_array().expect("an array of cases");
        assert!(!cases.is_empty());
        cases
    }

    fn s(v: &Value) -> &str {
        v.as_str().expect("a string")
    }

    fn split_url(url: &str) -> (String, u16, String) {
        let rest = url.strip_prefix("http://").expect("http URL");
        let (authority, path) = rest.split_at(rest.find('/').unwrap());
        let (host, port) = authority.split_once(':').map_or((authority, 80), |(h, p)| (h, p.parse().unwrap()));
        (host.to_owned(), port, path.to_owned())
    }

    #[test]
    fn hawk_reference_normalized_strings() {
        let v = &vectors()["vectors"]["hawk_reference_implementation"];
        for c in cases(&v["normalized_string_cases"]) {
            let got = normalized_string(
                "header",
                &c["ts"].to_string(),
                s(&c["nonce"]),
                s(&c["method"]),
                s(&c["resource"]),
                s(&c["host"]),
                c["port"].as_u64().unwrap() as u16,
                c["hash"].as_str().unwrap_or(""),
                c["ext"].as_str().unwrap_or(""),
            );
            assert_eq!(got, s(&c["expected"]));
        }
    }

    #[test]
    fn hawk_reference_headers_verify() {
        let v = &vectors()["vectors"]["hawk_reference_implementation"];
        let creds = &v["credentials"];
        assert_eq!(s(&creds["algorithm"]), "sha256");
        let key = s(&creds["key"]);
        let cases = v["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 2);
        for c in cases {
            let header = parse_authorization(s(&c["expected_header"])).unwrap();
            assert_eq!(header.id, s(&creds["id"]));
            assert_eq!(header.ts, c["ts"].to_string());
            assert_eq!(header.nonce, s(&c["nonce"]));
            assert_eq!(header.ext.as_deref(), Some(s(&c["ext"])));
            let (host, port, resource) = split_url(s(&c["url"]));
            let target = Target { method: s(&c["method"]), resource: &resource, host: &host, port };
            verify_header_mac(&header, key, &target).unwrap();
            check_timestamp(&header.ts, c["ts"].as_i64().unwrap() + 60).unwrap();
            assert!(check_timestamp(&header.ts, c["ts"].as_i64().unwrap() + 16 * 60).is_err());
            if let Some(payload) = c["payload"].as_str() {
                let hash = payload_hash(s(&c["contentType"]), payload.as_bytes());
                assert_eq!(Some(hash.as_str()), header.hash.as_deref());
                // Parameters and case of the content type do not change the hash.
                assert_eq!(payload_hash("Text/Plain; charset=utf-8", payload.as_bytes()), hash);
                assert_ne!(payload_hash("text/plain", b"Thank you for flying Hawk!"), hash);
            }
            // Any change to what was signed is caught.
            let other = resource.replace("b=1", "b=2");
            assert!(verify_header_mac(&header, key, &Target { resource: &other, ..target }).is_err());
            assert!(verify_header_mac(&header, key, &Target { port: port + 1, ..target }).is_err());
            assert!(verify_header_mac(&header, key, &Target { method: "PUT", ..target }).is_err());
            assert!(verify_header_mac(&header, "wrong key", &target).is_err());
        }
    }

    #[test]
    fn header_attributes_in_any_order() {
        let h = parse_authorization(r#"Hawk mac="m", ext="e", nonce="n", ts="1", id="i""#).unwrap();
        assert_eq!(
            h,
            HawkHeader {
                id: "i".into(),
                ts: "1".into(),
                nonce: "n".into(),
                hash: None,
                ext: Some("e".into()),
                mac: "m".into()
            }
        );
        assert!(parse_authorization(r#"Hawk id="i", ts="1", nonce="n""#).is_err());
        assert!(parse_authorization(r#"Hawk id="i", id="j", ts="1", nonce="n", mac="m""#).is_err());
        assert!(parse_authorization(r#"Bearer xyz"#).is_err());
        assert!(parse_authorization(r#"Hawk id="", ts="1", nonce="n", mac="m""#).is_err());
    }

    #[test]
    fn temp_credentials_vectors_verify() {
        let v = &vectors()["vectors"]["temp_credentials"];
        for c in cases(&v["cases"]) {
            let perm = &c["permCreds"];
            let expected = &c["expectedTempCreds"];
            let issuer = s(&perm["clientId"]).to_owned();
            let name = s(&c["tempCredsName"]);
            let mut scopes = vec!["scope/asd:fhjdf/*".to_owned()];
            if !name.is_empty() {
                scopes.push(format!("auth:create-client:{name}"));
            }
            let clients = HashMap::from([(
                issuer.clone(),
                ClientRecord { access_token: s(&perm["accessToken"]).into(), scopes },
            )]);
            let cert: Value = serde_json::from_str(s(&expected["certificate"])).unwrap();
            let hawk_id = s(&expected["clientId"]);
            let now = cert["start"].as_i64().unwrap() + 1000;
            let resolved = check_certificate(&clients, hawk_id, &cert, now)
                .unwrap_or_else(|e| panic!("{}: {e}", s(&c["description"])));
            assert_eq!(resolved.key, s(&expected["accessToken"]));
            assert_eq!(resolved.scopes, string_list(&c["tempCredsScopes"], "scopes").unwrap());

            // Too late, tampered, or issuer without the needed scopes: rejected.
            let late = cert["expiry"].as_i64().unwrap() + CERT_SLACK_MS + 1;
            assert!(check_certificate(&clients, hawk_id, &cert, late).unwrap_err().contains("expiry"));
            let mut tampered = cert.clone();
            tampered["scopes"] = serde_json::json!(["scope/asd:fhjdf/Y"]);
            assert!(check_certificate(&clients, hawk_id, &tampered, now).unwrap_err().contains("signature"));
            let poor = HashMap::from([(
                issuer.clone(),
                ClientRecord { access_token: s(&perm["accessToken"]).into(), scopes: vec!["other".into()] },
            )]);
            assert!(check_certificate(&poor, hawk_id, &cert, now).is_err());
        }
    }

    #[test]
    fn certificate_lifetime_and_start() {
        let clients = HashMap::from([(
            "issuer".to_owned(),
            ClientRecord { access_token: "tok".into(), scopes: vec!["*".into()] },
        )]);
        let seed = "a".repeat(44);
        let make = |start: i64, expiry: i64| {
            let sig = STANDARD.encode(hmac_sha256(
                b"tok",
                certificate_signed_text(None, &seed, start, expiry, &["x".to_owned()]).as_bytes(),
            ));
            serde_json::json!({"version":1,"scopes":["x"],"start":start,"expiry":expiry,"seed":seed,"signature":sig})
        };
        let now = 1_700_000_000_000;
        assert!(check_certificate(&clients, "issuer", &make(now, now + 1000), now).is_ok());
        assert!(check_certificate(&clients, "issuer", &make(now + CERT_SLACK_MS - 1, now + 9_000_000), now).is_ok());
        assert!(check_certificate(&clients, "issuer", &make(now + CERT_SLACK_MS + 1, now + 9_000_000), now).is_err());
        assert!(check_certificate(&clients, "issuer", &make(now, now + MAX_CERT_LIFETIME_MS), now).is_ok());
        assert!(check_certificate(&clients, "issuer", &make(now, now + MAX_CERT_LIFETIME_MS + 1), now).is_err());
        assert!(check_certificate(&clients, "issuer", &make(now - 20_000_000, now - CERT_SLACK_MS + 1), now).is_ok());
    }

    #[test]
    fn scopes_with_wildcards() {
        let have = vec!["queue:create-task:*".to_owned(), "exact".to_owned()];
        assert!(scope_satisfied(&have, "queue:create-task:x/y"));
        assert!(scope_satisfied(&have, "queue:create-task:"));
        assert!(scope_satisfied(&have, "exact"));
        assert!(!scope_satisfied(&have, "exactly"));
        assert!(!scope_satisfied(&have, "queue:create-task"));
        assert!(scope_satisfied(&["*".to_owned()], "anything"));
        assert!(!scope_satisfied(&[], "a"));
    }

    #[test]
    fn base64_any_form() {
        // {"a":"??>"} encodes with both + and / variants depending on the alphabet.
        let json = br#"{"a":"??>?"}"#;
        for text in [
            STANDARD.encode(json),
            STANDARD_NO_PAD.encode(json),
            URL_SAFE_NO_PAD.encode(json),
            base64::engine::general_purpose::URL_SAFE.encode(json),
        ] {
            assert_eq!(decode_base64_any(&text).as_deref(), Some(&json[..]), "{text}");
        }
        assert!(decode_ext(&STANDARD.encode(b"[1]")).is_err());
        assert!(decode_ext("some-app-ext-data").is_err());
    }

    #[test]
    fn bewit_is_stripped_like_hawk() {
        assert_eq!(find_bewit("/p?bewit=X"), Some(("X".into(), "/p".into())));
        assert_eq!(find_bewit("/p?a=1&bewit=X"), Some(("X".into(), "/p?a=1".into())));
        assert_eq!(find_bewit("/p?bewit=X&a=1"), Some(("X".into(), "/p?a=1".into())));
        assert_eq!(find_bewit("/p?a=1&bewit=X&b=2"), Some(("X".into(), "/p?a=1&b=2".into())));
        assert_eq!(find_bewit("/p?a=1"), None);
        assert_eq!(find_bewit("/p"), None);
    }

    #[test]
    fn rust_hawk_crate_bewit_vector_decodes() {
        let v = &vectors()["vectors"]["rust_hawk_crate"]["bewit_to_str"];
        for c in v.as_array().unwrap() {
            let raw = String::from_utf8(decode_base64_any(s(&c["expected"])).unwrap()).unwrap();
            let parts: Vec<&str> = raw.split('\\').collect();
            assert_eq!(parts.len(), 4);
            assert_eq!(parts[0], s(&c["id"]));
            assert_eq!(parts[1], c["exp"].to_string());
            assert_eq!(parts[3], c["ext"].as_str().unwrap_or(""));
        }
    }
}
