//! Taskcluster credentials, certificates and temporary credentials.
//!
//! The certificate format and its signature are fixed by the Taskcluster auth service
//! (certificate version 1); every byte here matters, because the service recomputes the
//! signature over exactly these lines.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The longest lifetime the auth service accepts for temporary credentials.
pub const MAX_TEMPORARY_DURATION: Duration = Duration::from_secs(31 * 24 * 3600);

/// Credentials for Taskcluster's Hawk authentication.
///
/// `Debug` and `Display` show the client id and whether the credentials are temporary,
/// never the access token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// The client id.
    pub client_id: String,
    /// The access token (the Hawk key). Secret.
    pub access_token: String,
    /// The certificate of temporary credentials: the JSON string Taskcluster issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// Restricts the scopes of this client for each request. `None` means no restriction;
    /// `Some(vec![])` means "no scopes at all", which is not the same thing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_scopes: Option<Vec<String>>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("access_token", &"***")
            .field("certificate", &self.certificate.as_ref().map(|_| "<certificate>"))
            .field("authorized_scopes", &self.authorized_scopes)
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.certificate.is_some() { "temporary" } else { "permanent" };
        write!(f, "{kind} credentials for client {:?}", self.client_id)
    }
}

impl Credentials {
    /// Permanent credentials from a client id and access token.
    pub fn new(client_id: impl Into<String>, access_token: impl Into<String>) -> Self {
        Credentials {
            client_id: client_id.into(),
            access_token: access_token.into(),
            certificate: None,
            authorized_scopes: None,
        }
    }

    /// Reads `TASKCLUSTER_CLIENT_ID`, `TASKCLUSTER_ACCESS_TOKEN` and `TASKCLUSTER_CERTIFICATE`.
    ///
    /// `Ok(None)` when no client id is set: such a client makes unauthenticated calls (an empty
    /// Hawk id would be rejected even on public endpoints). A client id without an access token,
    /// or a certificate that does not parse, is an [`Error::Config`] naming the variable.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`], reading variables through `lookup` (useful in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let Some(client_id) = non_empty("TASKCLUSTER_CLIENT_ID") else {
            return Ok(None);
        };
        let access_token = non_empty("TASKCLUSTER_ACCESS_TOKEN").ok_or_else(|| {
            Error::config(format!("TASKCLUSTER_CLIENT_ID is set ({client_id:?}) but TASKCLUSTER_ACCESS_TOKEN is not"))
        })?;
        let certificate = non_empty("TASKCLUSTER_CERTIFICATE");
        if let Some(cert) = &certificate {
            Certificate::parse(cert)
                .map_err(|e| Error::config(format!("TASKCLUSTER_CERTIFICATE: {}", crate::config::detail(e))))?;
        }
        Ok(Some(Credentials { client_id, access_token, certificate, authorized_scopes: None }))
    }

    /// Restricts these credentials to `scopes` for every call made with them.
    pub fn with_authorized_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.authorized_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Parses the certificate, if any. Permanent credentials give `Ok(None)`.
    pub fn certificate(&self) -> Result<Option<Certificate>, Error> {
        self.certificate.as_deref().map(Certificate::parse).transpose()
    }

    /// Unnamed temporary credentials valid from now for `duration`, with `scopes`.
    ///
    /// The temporary client id is this client's id. Any authorized scopes of `self` carry over
    /// to the result without being written into the certificate.
    pub fn create_temporary_credentials<S: Into<String>>(
        &self,
        duration: Duration,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<Credentials, Error> {
        self.temporary(None, SystemTime::now(), duration, scopes, crate::slug::seed())
    }

    /// Named temporary credentials: the temporary client id is `name`, and the certificate
    /// names this client as its issuer. This client needs `auth:create-client:<name>`.
    pub fn create_named_temporary_credentials<S: Into<String>>(
        &self,
        name: &str,
        duration: Duration,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<Credentials, Error> {
        if name.is_empty() {
            return Err(Error::invalid("the name of named temporary credentials must not be empty"));
        }
        self.temporary(Some(name), SystemTime::now(), duration, scopes, crate::slug::seed())
    }

    /// The whole construction with every input explicit, so that it can be checked against
    /// Taskcluster's published vectors. No clock skew is added: the auth service allows for it.
    pub fn temporary<S: Into<String>>(
        &self,
        name: Option<&str>,
        start: SystemTime,
        duration: Duration,
        scopes: impl IntoIterator<Item = S>,
        seed: String,
    ) -> Result<Credentials, Error> {
        if duration > MAX_TEMPORARY_DURATION {
            return Err(Error::invalid(format!(
                "temporary credentials may last at most 31 days, not {} s",
                duration.as_secs()
            )));
        }
        if self.certificate.is_some() {
            return Err(Error::invalid("temporary credentials cannot be created from temporary credentials"));
        }
        if self.access_token.is_empty() {
            return Err(Error::invalid("cannot sign temporary credentials with an empty access token"));
        }
        if self.client_id.is_empty() {
            return Err(Error::invalid("cannot issue temporary credentials without a client id"));
        }
        if name == Some(self.client_id.as_str()) {
            return Err(Error::invalid("named temporary credentials must differ from their issuer"));
        }
        let start_ms = millis(start);
        let mut cert = Certificate {
            version: 1,
            scopes: scopes.into_iter().map(Into::into).collect(),
            start: start_ms,
            expiry: start_ms + duration.as_millis() as i64,
            seed,
            signature: String::new(),
            issuer: name.map(|_| self.client_id.clone()),
        };
        cert.sign(&self.access_token, name)?;
        Ok(Credentials {
            client_id: name.unwrap_or(&self.client_id).to_owned(),
            access_token: URL_SAFE_NO_PAD.encode(hmac_sha256(self.access_token.as_bytes(), cert.seed.as_bytes())?),
            certificate: Some(serde_json::to_string(&cert).expect("a certificate always serializes")),
            authorized_scopes: self.authorized_scopes.clone(),
        })
    }
}

fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    let key = hawk::Key::new(key, hawk::DigestAlgorithm::Sha256)
        .map_err(|e| Error::invalid(format!("cannot use the access token as an HMAC key: {e}")))?;
    key.sign(data).map_err(|e| Error::invalid(format!("HMAC failed: {e}")))
}

/// The certificate of temporary credentials (version 1).
///
/// Field order is the order Taskcluster's own clients serialize, so certificates made here are
/// byte-identical to theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Always 1.
    pub version: u32,
    /// The scopes the temporary credentials carry.
    pub scopes: Vec<String>,
    /// Start of validity, milliseconds since the epoch.
    pub start: i64,
    /// End of validity, milliseconds since the epoch.
    pub expiry: i64,
    /// 44 random characters; the temporary access token is derived from it.
    pub seed: String,
    /// Base64 HMAC-SHA256 over the certificate's fields with the issuer's access token.
    pub signature: String,
    /// The issuing client id, for named temporary credentials only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl Certificate {
    /// Parses the JSON string Taskcluster issues.
    pub fn parse(text: &str) -> Result<Certificate, Error> {
        let cert: Certificate = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("the certificate is not a valid Taskcluster certificate: {e}")))?;
        if cert.version != 1 {
            return Err(Error::invalid(format!("unsupported certificate version {}", cert.version)));
        }
        Ok(cert)
    }

    /// The exact text the signature covers.
    pub fn signed_text(&self, temp_client_id: Option<&str>) -> String {
        let mut lines = vec!["version:1".to_owned()];
        if let (Some(name), Some(issuer)) = (temp_client_id, &self.issuer) {
            lines.push(format!("clientId:{name}"));
            lines.push(format!("issuer:{issuer}"));
        }
        lines.push(format!("seed:{}", self.seed));
        lines.push(format!("start:{}", self.start));
        lines.push(format!("expiry:{}", self.expiry));
        lines.push("scopes:".to_owned());
        lines.extend(self.scopes.iter().cloned());
        lines.join("\n")
    }

    /// Sets `signature` using the issuer's permanent access token.
    pub fn sign(&mut self, access_token: &str, temp_client_id: Option<&str>) -> Result<(), Error> {
        let mac = hmac_sha256(access_token.as_bytes(), self.signed_text(temp_client_id).as_bytes())?;
        self.signature = STANDARD.encode(mac);
        Ok(())
    }

    /// Whether the certificate's expiry has passed.
    pub fn is_expired(&self) -> bool {
        self.expiry < millis(SystemTime::now())
    }
}
