//! Where and as whom to connect: Pulse credentials and broker address.

use std::fmt;
use std::time::Duration;

use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};

use super::Error;

/// How long a connection attempt (TCP, TLS and the AMQP handshake) may take by default.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The broker to connect to and the credentials to use. The password is never shown:
/// `Debug` and `Display` mask it, and so does every [`Error`].
///
/// Pulse speaks AMQP over TLS (`amqps`, port 5671), which is the default here.
#[derive(Clone, PartialEq, Eq)]
pub struct Connection {
    pub(crate) tls: bool,
    pub(crate) hostname: String,
    pub(crate) port: u16,
    pub(crate) vhost: String,
    pub(crate) username: String,
    password: String,
    pub(crate) connect_timeout: Duration,
}

impl Connection {
    /// `amqps://<username>:<password>@<hostname>:5671/` (vhost `/`).
    pub fn new(hostname: impl Into<String>, username: impl Into<String>, password: impl Into<String>) -> Self {
        Connection {
            tls: true,
            hostname: hostname.into(),
            port: 5671,
            vhost: "/".into(),
            username: username.into(),
            password: password.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Reads `PULSE_USERNAME`, `PULSE_PASSWORD`, `PULSE_HOSTNAME` and (optional, default `/`)
    /// `PULSE_VHOST`. Connects with `amqps` on port 5671.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Connection::from_env`], reading variables through `lookup` (useful in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let required = |name: &str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::Config(format!("environment variable {name} is not set")))
        };
        let mut conn =
            Connection::new(required("PULSE_HOSTNAME")?, required("PULSE_USERNAME")?, required("PULSE_PASSWORD")?);
        if let Some(vhost) = lookup("PULSE_VHOST").filter(|v| !v.is_empty()) {
            conn.vhost = vhost;
        }
        Ok(conn)
    }

    /// Parses a connection string: `amqps://user:password@host[:port][/vhost]` (or `amqp://`
    /// for a broker without TLS). User, password and vhost are percent-decoded; no vhost
    /// means `/`.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        // Errors never quote the string: it holds the password.
        let bad = |why: &str| Error::Config(format!("invalid Pulse connection string: {why}"));
        let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let tls = match parsed.scheme() {
            "amqps" => true,
            "amqp" => false,
            other => return Err(bad(&format!("scheme {other:?} is neither amqps nor amqp"))),
        };
        let decode = |s: &str, what: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad(&format!("{what} is not UTF-8 after percent-decoding")))
        };
        let hostname = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
        let username = decode(parsed.username(), "user name")?;
        if username.is_empty() {
            return Err(bad("no user name"));
        }
        let password = decode(parsed.password().unwrap_or(""), "password")?;
        let path = parsed.path().strip_prefix('/').unwrap_or(parsed.path());
        let vhost = if path.is_empty() { "/".to_owned() } else { decode(path, "vhost")? };
        let mut conn = Connection::new(hostname.trim_start_matches('[').trim_end_matches(']'), username, password);
        conn.tls = tls;
        conn.port = parsed.port().unwrap_or(if tls { 5671 } else { 5672 });
        conn.vhost = vhost;
        Ok(conn)
    }

    /// Uses plain AMQP (no TLS) on `port`: for a local broker, never for Pulse itself.
    pub fn without_tls(mut self, port: u16) -> Self {
        self.tls = false;
        self.port = port;
        self
    }

    /// Connects to `port` instead of the default.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Uses virtual host `vhost` instead of `/`.
    pub fn vhost(mut self, vhost: impl Into<String>) -> Self {
        self.vhost = vhost.into();
        self
    }

    /// How long one connection attempt may take before it fails (default 15 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The user name (Pulse queue names start with `queue/<username>/`).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The broker's host name.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Where this connects, without the password: `amqps://user@host:5671/vhost`.
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "amqps" } else { "amqp" };
        let vhost = percent_encoding::utf8_percent_encode(&self.vhost, percent_encoding::NON_ALPHANUMERIC);
        format!("{scheme}://{}@{}:{}/{vhost}", self.username, self.hostname, self.port)
    }

    /// Replaces the password, wherever it occurs in `text`, by `***`: broker and transport
    /// messages are passed on in errors and logs, and must never carry it.
    pub(crate) fn mask(&self, text: &str) -> String {
        if self.password.len() >= 4 {
            text.replace(&self.password, "***")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn amqp_uri(&self) -> AMQPUri {
        AMQPUri {
            scheme: if self.tls { AMQPScheme::AMQPS } else { AMQPScheme::AMQP },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo { username: self.username.clone(), password: self.password.clone() },
                host: self.hostname.clone(),
                port: self.port,
            },
            vhost: self.vhost.clone(),
            query: AMQPQueryString::default(),
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("endpoint", &self.endpoint())
            .field("password", &"***")
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.endpoint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_needs_host_user_and_password() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let err = Connection::from_lookup(env(&[("PULSE_USERNAME", "u"), ("PULSE_PASSWORD", "p")])).unwrap_err();
        assert!(err.to_string().contains("PULSE_HOSTNAME"), "{err}");
        let c = Connection::from_lookup(env(&[
            ("PULSE_USERNAME", "me"),
            ("PULSE_PASSWORD", "hunter2-secret"),
            ("PULSE_HOSTNAME", "pulse.example.com"),
        ]))
        .unwrap();
        assert_eq!(c.endpoint(), "amqps://me@pulse.example.com:5671/%2F");
        let c = Connection::from_lookup(env(&[
            ("PULSE_USERNAME", "me"),
            ("PULSE_PASSWORD", "hunter2-secret"),
            ("PULSE_HOSTNAME", "pulse.example.com"),
            ("PULSE_VHOST", "tc"),
        ]))
        .unwrap();
        assert_eq!(c.vhost, "tc");
    }

    #[test]
    fn urls_parse_and_never_show_the_password() {
        let c = Connection::from_url("amqps://me:p%40ss-w0rd@pulse.example.com/").unwrap();
        assert_eq!((c.tls, c.port, c.vhost.as_str(), c.password.as_str()), (true, 5671, "/", "p@ss-w0rd"));
        let c = Connection::from_url("amqp://me:secret-pw@127.0.0.1:5999/%2Fvh").unwrap();
        assert_eq!((c.tls, c.port, c.vhost.as_str()), (false, 5999, "/vh"));
        for shown in [format!("{c:?}"), c.to_string(), c.endpoint()] {
            assert!(!shown.contains("secret-pw"), "{shown}");
        }
        let err = Connection::from_url("http://me:secret-pw@host/").unwrap_err().to_string();
        assert!(err.contains("scheme") && !err.contains("secret-pw"), "{err}");
        assert!(Connection::from_url("amqps://host/").is_err());
        assert_eq!(c.mask("refused: secret-pw"), "refused: ***");
    }
}
