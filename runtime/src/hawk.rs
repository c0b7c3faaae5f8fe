//! Hawk request signing and signed URLs (bewits), as the Taskcluster auth service checks them.
//!
//! The MAC itself comes from the `hawk` crate. The header is formatted here, in the field order
//! of the Hawk reference implementation, and the signed resource is always the path **with** its
//! query string: the auth service checks the MAC against the full URL.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hawk::mac::{Mac, MacType};
use hawk::DigestAlgorithm;
use url::Url;

use crate::credentials::{Certificate, Credentials};
use crate::error::Error;

/// Everything needed to sign requests for one set of credentials, prepared once per client:
/// the HMAC key and the `ext` value (which depends only on the credentials).
pub struct Signer {
    client_id: String,
    key: hawk::Key,
    ext: Option<String>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// One request as Hawk sees it.
#[derive(Debug, Clone, Copy)]
pub struct HawkRequest<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Host, lower case.
    pub host: &'a str,
    /// Port (the scheme's default when the URL has none).
    pub port: u16,
    /// Path and query string exactly as sent.
    pub resource: &'a str,
}

impl<'a> HawkRequest<'a> {
    /// Splits a URL into the parts Hawk signs.
    pub fn from_url(method: &'a str, url: &'a Url, resource: &'a str) -> Result<Self, Error> {
        let host = url.host_str().ok_or_else(|| Error::invalid(format!("URL {url} has no host")))?;
        let port = url.port_or_known_default().ok_or_else(|| Error::invalid(format!("URL {url} has no port")))?;
        Ok(HawkRequest { method, host, port, resource })
    }
}

/// `path?query` of a URL, as the server will see it.
pub fn resource_of(url: &Url) -> String {
    resource(url).to_owned()
}

/// `path?query` of a URL as a slice of its text (what [`resource_of`] copies).
pub fn resource(url: &Url) -> &str {
    &url[url::Position::BeforePath..url::Position::AfterQuery]
}

impl Signer {
    /// Prepares signing with `credentials`.
    pub fn new(credentials: &Credentials) -> Result<Self, Error> {
        let key = hawk::Key::new(credentials.access_token.as_bytes(), DigestAlgorithm::Sha256)
            .map_err(|e| Error::invalid(format!("cannot use the access token as a Hawk key: {e}")))?;
        header_attribute("client id", &credentials.client_id)?;
        Ok(Signer { client_id: credentials.client_id.clone(), key, ext: ext_for(credentials)? })
    }

    /// A signer from raw parts: a Hawk id, key bytes and a fixed `ext` (for tests against
    /// published vectors, and for non-Taskcluster Hawk peers).
    pub fn from_parts(id: &str, key: &[u8], ext: Option<&str>) -> Result<Self, Error> {
        let key = hawk::Key::new(key, DigestAlgorithm::Sha256)
            .map_err(|e| Error::invalid(format!("cannot use the key as a Hawk key: {e}")))?;
        header_attribute("id", id)?;
        if let Some(ext) = ext {
            header_attribute("ext", ext)?;
        }
        Ok(Signer { client_id: id.to_owned(), key, ext: ext.map(str::to_owned) })
    }

    /// The `ext` value sent with every request, if any.
    pub fn ext(&self) -> Option<&str> {
        self.ext.as_deref()
    }

    /// The `Authorization` header value for a request, with a fresh timestamp and nonce.
    pub fn header(&self, req: &HawkRequest<'_>, payload_hash: Option<&[u8]>) -> Result<String, Error> {
        self.header_at(req, payload_hash, SystemTime::now(), &nonce())
    }

    /// The `Authorization` header with an explicit timestamp and nonce.
    pub fn header_at(
        &self,
        req: &HawkRequest<'_>,
        payload_hash: Option<&[u8]>,
        ts: SystemTime,
        nonce: &str,
    ) -> Result<String, Error> {
        let mac = Mac::new(
            MacType::Header,
            &self.key,
            ts,
            nonce,
            req.method,
            req.host,
            req.port,
            req.resource,
            payload_hash,
            self.ext.as_deref(),
        )
        .map_err(|e| Error::invalid(format!("Hawk signing failed: {e}")))?;
        let secs = ts.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut out = String::with_capacity(160 + self.ext.as_ref().map_or(0, String::len));
        // Writing into a String cannot fail.
        let _ = write!(out, "Hawk id=\"{}\", ts=\"{secs}\", nonce=\"{nonce}\", ", self.client_id);
        if let Some(hash) = payload_hash {
            let _ = write!(out, "hash=\"{}\", ", STANDARD.encode(hash));
        }
        if let Some(ext) = &self.ext {
            let _ = write!(out, "ext=\"{ext}\", ");
        }
        let _ = write!(out, "mac=\"{}\"", STANDARD.encode(mac.as_ref()));
        Ok(out)
    }

    /// A bewit for a GET of `req`, valid until `now + ttl`.
    pub fn bewit(&self, req: &HawkRequest<'_>, ttl: Duration) -> Result<String, Error> {
        self.bewit_until(req, SystemTime::now() + ttl)
    }

    /// A bewit valid until `exp`.
    pub fn bewit_until(&self, req: &HawkRequest<'_>, exp: SystemTime) -> Result<String, Error> {
        let mac = Mac::new(
            MacType::Bewit,
            &self.key,
            exp,
            "",
            req.method,
            req.host,
            req.port,
            req.resource,
            None,
            self.ext.as_deref(),
        )
        .map_err(|e| Error::invalid(format!("bewit signing failed: {e}")))?;
        let secs = exp.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        Ok(bewit_encode(&self.client_id, secs, mac.as_ref(), self.ext.as_deref()))
    }
}

/// The bewit query value: base64url without padding of `id\exp\mac\ext`, the MAC in standard
/// base64.
pub fn bewit_encode(id: &str, exp_secs: u64, mac: &[u8], ext: Option<&str>) -> String {
    let raw = format!("{id}\\{exp_secs}\\{}\\{}", STANDARD.encode(mac), ext.unwrap_or(""));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The payload hash Hawk defines: SHA-256 over `hawk.1.payload\n<content-type>\n<body>\n`,
/// where the content type is the bare media type in lower case (no `; charset=...`), as the
/// server recomputes it from the request's `Content-Type`.
pub fn payload_hash(content_type: &str, body: &[u8]) -> Result<Vec<u8>, Error> {
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    hawk::PayloadHasher::hash(media_type, DigestAlgorithm::Sha256, body)
        .map_err(|e| Error::invalid(format!("payload hash failed: {e}")))
}

/// The `ext` value for `credentials`: base64 of `{"certificate": {...}, "authorizedScopes": [...]}`
/// with each key present only when it applies; `None` when neither does.
pub fn ext_for(credentials: &Credentials) -> Result<Option<String>, Error> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Ext<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        certificate: Option<Certificate>,
        #[serde(skip_serializing_if = "Option::is_none")]
        authorized_scopes: Option<&'a [String]>,
    }
    let ext =
        Ext { certificate: credentials.certificate()?, authorized_scopes: credentials.authorized_scopes.as_deref() };
    if ext.certificate.is_none() && ext.authorized_scopes.is_none() {
        return Ok(None);
    }
    let json = serde_json::to_vec(&ext).map_err(|e| Error::invalid(format!("cannot encode ext: {e}")))?;
    Ok(Some(STANDARD.encode(json)))
}

/// Checks a value written into a quoted attribute of the `Authorization` header, as the Hawk
/// reference does (`escapeHeaderAttribute`): printable ASCII without `"` and `\`. A quote would
/// end the attribute early (`x", mac="y` adds an attribute), a backslash would escape the
/// closing quote, and `\` also separates the fields of a bewit.
fn header_attribute(what: &str, value: &str) -> Result<(), Error> {
    let bad = value.chars().find(|c| !(' '..='~').contains(c) || *c == '"' || *c == '\\');
    match bad {
        None => Ok(()),
        Some(c) => Err(Error::invalid(format!(
            "the Hawk {what} contains {c:?}; only printable ASCII without `\"` and `\\` can be sent in the Authorization header"
        ))),
    }
}

/// A Hawk nonce: 8 random characters from the base64 alphabet.
fn nonce() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..8).map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the Hawk reference's `escapeHeaderAttribute`: `"` and `\` are refused, not written.
    #[test]
    fn header_attributes_with_quotes_or_backslashes_are_refused() {
        for ext in [r#"x", mac="y"#, r"a\b", "line\nbreak", "caf\u{e9}"] {
            let e = Signer::from_parts("id", b"key", Some(ext)).expect_err(ext);
            assert!(e.to_string().contains("Hawk ext contains"), "{e}");
        }
        let e = Signer::from_parts(r#"id", ext="z"#, b"key", None).expect_err("id");
        assert!(e.to_string().contains("Hawk id contains '\"'"), "{e}");
        let e = Signer::new(&Credentials::new("me\"", "token")).expect_err("client id");
        assert!(e.to_string().contains("Hawk client id"), "{e}");
        // Everything else printable is fine, and signs.
        let s = Signer::from_parts("id", b"key", Some("some-app-data !#$%&'()*+,-./:;<=>?@[]^_`{|}~")).unwrap();
        let url = Url::parse("https://example.com/x").unwrap();
        let header = s.header(&HawkRequest::from_url("GET", &url, "/x").unwrap(), None).unwrap();
        assert_eq!(header.matches('"').count() % 2, 0);
    }
}
