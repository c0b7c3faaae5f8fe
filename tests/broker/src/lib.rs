//! A real RabbitMQ for the Pulse tests: Debian's `rabbitmq-server`, started on loopback with a
//! private data folder and free ports, stopped when the test process ends.
//!
//! Everything slow is done once at boot: users (with Pulse's permission rule) come from a
//! definitions file, so tests never wait for `rabbitmqctl` except to close connections and
//! to restart the broker.
//!
//! When the broker cannot start (not installed, not root or `rabbitmq`), [`Broker::for_tests`]
//! skips the test with a message, except under `CI=true`, where it fails.

use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldArray, FieldTable};
use lapin::{BasicProperties, ExchangeKind};
use sha2::{Digest, Sha256};

/// How long a (re)start may take: about 6 s on an idle machine, several times that on a busy one.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A user of the test broker.
#[derive(Debug, Clone)]
pub struct User {
    /// User name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Full permissions (an administrator publishing and declaring exchanges), or Pulse's:
    /// configure and write `queue/<name>/...` and `exchange/<name>/...`, read those plus
    /// every `exchange/...`.
    pub admin: bool,
}

impl User {
    /// A user with Pulse's permissions.
    pub fn pulse(name: &str, password: &str) -> Self {
        User { name: name.into(), password: password.into(), admin: false }
    }

    /// A user allowed everything.
    pub fn admin(name: &str, password: &str) -> Self {
        User { name: name.into(), password: password.into(), admin: true }
    }
}

/// A running broker. Stopped on drop and, as a safety net, by a watchdog when the test
/// process exits (a broker kept in a `static` is never dropped).
pub struct Broker {
    node: String,
    port: u16,
    dir: PathBuf,
    env: Vec<(String, String)>,
    server: Mutex<Option<Child>>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("node", &self.node).field("port", &self.port).finish()
    }
}

impl Broker {
    /// Starts a broker for a test binary, or `None` to skip when RabbitMQ is unavailable on
    /// a developer machine. Under `CI=true` failing to start panics: CI never skips.
    pub fn for_tests(users: &[User]) -> Option<Broker> {
        match Broker::start(users) {
            Ok(b) => Some(b),
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!("RabbitMQ did not start (CI=true): {e}"),
            Err(e) => {
                eprintln!("SKIPPED: RabbitMQ did not start: {e}\n(install it with `apt-get install -y rabbitmq-server`, run as root)");
                None
            }
        }
    }

    /// Starts a broker with `users` and waits until it accepts AMQP connections.
    pub fn start(users: &[User]) -> Result<Broker, String> {
        if !Path::new("/usr/sbin/rabbitmq-server").exists() {
            return Err("/usr/sbin/rabbitmq-server is not installed".into());
        }
        let id = format!("{}-{}", std::process::id(), fastish_suffix());
        let dir = std::env::temp_dir().join(format!("pulse-broker-{id}"));
        fs::create_dir_all(dir.join("mnesia")).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::create_dir_all(dir.join("log")).map_err(|e| format!("{}: {e}", dir.display()))?;
        write(&dir.join("enabled_plugins"), "[].\n")?;
        write(&dir.join("definitions.json"), &definitions(users))?;
        write(
            &dir.join("rabbitmq.conf"),
            &format!("load_definitions = {}\nloopback_users = none\n", dir.join("definitions.json").display()),
        )?;
        chown_to_rabbitmq(&dir)?;

        let (port, dist_port, epmd_port) = (free_port()?, free_port()?, free_port()?);
        let node = format!("pulse-test-{id}@localhost");
        let d = |p: &str| dir.join(p).display().to_string();
        let env: Vec<(String, String)> = [
            ("RABBITMQ_NODENAME", node.clone()),
            ("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1".into()),
            ("RABBITMQ_NODE_PORT", port.to_string()),
            ("RABBITMQ_DIST_PORT", dist_port.to_string()),
            ("RABBITMQ_MNESIA_BASE", d("mnesia")),
            ("RABBITMQ_LOG_BASE", d("log")),
            ("RABBITMQ_FEATURE_FLAGS_FILE", d("feature_flags")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", d("enabled_plugins")),
            ("RABBITMQ_CONFIG_FILE", d("rabbitmq.conf")),
            ("RABBITMQ_PID_FILE", d("pid")),
            // Erlang distribution and a private epmd on loopback only.
            ("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}".into()),
            ("ERL_EPMD_ADDRESS", "127.0.0.1".into()),
            ("ERL_EPMD_PORT", epmd_port.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let broker = Broker { node, port, dir, env, server: Mutex::new(None) };
        broker.spawn_watchdog(epmd_port)?;
        broker.launch()?;
        Ok(broker)
    }

    /// The AMQP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The Erlang node name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// `amqp://user:password@127.0.0.1:<port>/%2f`.
    pub fn url(&self, user: &str, password: &str) -> String {
        format!("amqp://{user}:{password}@127.0.0.1:{}/%2f", self.port)
    }

    /// Runs `rabbitmqctl -n <node> <args>`; its output, or an error with it.
    pub fn ctl(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("rabbitmqctl")
            .arg("-n")
            .arg(&self.node)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("rabbitmqctl: {e}"))?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("rabbitmqctl {args:?} failed ({}): {text}", out.status))
        }
    }

    /// Closes, from the broker's side, every connection of `user` (what an operator's
    /// `rabbitmqctl close_connection` does). Returns how many were closed.
    pub fn close_connections_of(&self, user: &str) -> Result<usize, String> {
        // One `eval` instead of list_connections + close_connection per connection: every
        // rabbitmqctl call boots an Erlang VM.
        let expr = format!(
            "length([rabbit_networking:close_connection(P, \"closed by the test\") || P <- rabbit_networking:connections(), \
             proplists:get_value(user, rabbit_networking:connection_info(P, [user])) =:= <<\"{user}\">>])."
        );
        let out = self.ctl(&["eval", &expr])?;
        out.trim()
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("unexpected eval output: {out}"))
    }

    /// Stops the broker (as SIGTERM does: an orderly shutdown) and starts it again on the
    /// same data and ports. Durable queues and their persistent messages survive.
    pub fn restart(&self) -> Result<(), String> {
        self.shutdown();
        self.launch()
    }

    fn launch(&self) -> Result<(), String> {
        let _ = fs::remove_file(self.dir.join("pid"));
        let log = fs::File::create(self.dir.join("server.out")).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("/usr/sbin/rabbitmq-server")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("rabbitmq-server: {e}"))?;
        *self.server.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(status) =
                self.server.lock().unwrap_or_else(|e| e.into_inner()).as_mut().and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!("rabbitmq-server exited ({status}) during startup: {}", self.log_tail()));
            }
            if started.elapsed() > START_TIMEOUT {
                self.shutdown();
                return Err(format!(
                    "rabbitmq-server did not accept connections within {START_TIMEOUT:?}: {}",
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM to the Erlang VM (an orderly RabbitMQ shutdown), then waits for it to exit.
    fn shutdown(&self) {
        if let Some(pid) = self.beam_pid() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if let Some(mut child) = self.server.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn beam_pid(&self) -> Option<u32> {
        fs::read_to_string(self.dir.join("pid")).ok()?.trim().parse().ok()
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.join("server.out")).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    /// A shell loop that outlives nothing: when this test process is gone (finished, killed,
    /// panicked while the broker sat in a `static`), it stops the broker and its epmd and
    /// removes the data folder.
    fn spawn_watchdog(&self, epmd_port: u16) -> Result<(), String> {
        let script = format!(
            // RabbitMQ deletes its pid file while shutting down, so the pid is read once; epmd
            // refuses -kill while the node is still registered, so that is retried.
            "while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; \
             pid=$(cat {dir}/pid 2>/dev/null); \
             if [ -n \"$pid\" ]; then kill $pid 2>/dev/null; \
               for i in $(seq 1 150); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done; kill -9 $pid 2>/dev/null; fi; \
             for i in $(seq 1 50); do ERL_EPMD_PORT={epmd_port} epmd -port {epmd_port} -kill >/dev/null 2>&1 && break; sleep 0.2; done; \
             rm -rf {dir}",
            parent = std::process::id(),
            dir = self.dir.display(),
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("watchdog: {e}"))
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn is_zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::File::create(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn fastish_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() % 1_000_000)
        .unwrap_or(0)
}

/// Run as root, the server switches to user `rabbitmq`, which must own its folders.
fn chown_to_rabbitmq(dir: &Path) -> Result<(), String> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "rabbitmq"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    let (Some(uid), Some(gid)) = (id("-u"), id("-g")) else {
        return Err("there is no `rabbitmq` user".into());
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        std::os::unix::fs::chown(&p, Some(uid), Some(gid))
            .map_err(|e| format!("chown {}: {e} (run the tests as root)", p.display()))?;
        if p.is_dir() {
            for entry in fs::read_dir(&p).map_err(|e| e.to_string())? {
                stack.push(entry.map_err(|e| e.to_string())?.path());
            }
        }
    }
    Ok(())
}

/// RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ sha256(salt ++ password)).
fn password_hash(password: &str) -> String {
    let salt: [u8; 4] = fastish_suffix().to_be_bytes();
    let digest = Sha256::new().chain_update(salt).chain_update(password.as_bytes()).finalize();
    let mut bytes = salt.to_vec();
    bytes.extend_from_slice(&digest);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn definitions(users: &[User]) -> String {
    let mut u = Vec::new();
    let mut p = Vec::new();
    for user in users {
        u.push(format!(
            r#"{{"name":{},"password_hash":{},"hashing_algorithm":"rabbit_password_hashing_sha256","tags":[{}]}}"#,
            json_str(&user.name),
            json_str(&password_hash(&user.password)),
            if user.admin { r#""administrator""# } else { "" }
        ));
        let (configure, write, read) = if user.admin {
            (".*".to_owned(), ".*".to_owned(), ".*".to_owned())
        } else {
            let own = format!("^(queue/{0}/.*|exchange/{0}/.*)", user.name);
            (own.clone(), own, format!("^(queue/{}/.*|exchange/.*)", user.name))
        };
        p.push(format!(
            r#"{{"user":{},"vhost":"/","configure":{},"write":{},"read":{}}}"#,
            json_str(&user.name),
            json_str(&configure),
            json_str(&write),
            json_str(&read)
        ));
    }
    format!(r#"{{"users":[{}],"vhosts":[{{"name":"/"}}],"permissions":[{}]}}"#, u.join(","), p.join(","))
}

/// An administrator's channel with publisher confirms, every exchange in `names` declared
/// (durable topic exchanges, as Taskcluster's services declare them).
pub async fn admin_channel(url: &str, names: &[&str]) -> (lapin::Connection, lapin::Channel) {
    let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await.unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
    for name in names {
        let opts = ExchangeDeclareOptions { durable: true, ..Default::default() };
        ch.exchange_declare((*name).into(), ExchangeKind::Topic, opts, FieldTable::default()).await.unwrap();
    }
    (conn, ch)
}

/// Publishes one persistent JSON message, CC'd to `cc` (full `route.` keys, as Taskcluster
/// sends them), and waits for the broker's confirmation.
pub async fn publish(ch: &lapin::Channel, exchange: &str, key: &str, body: &[u8], cc: &[&str]) {
    let mut props = BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
    if !cc.is_empty() {
        let routes: Vec<AMQPValue> = cc.iter().map(|r| AMQPValue::LongString((*r).into())).collect();
        let mut headers = FieldTable::default();
        headers.insert("CC".into(), AMQPValue::FieldArray(FieldArray::from(routes)));
        props = props.with_headers(headers);
    }
    ch.basic_publish(exchange.into(), key.into(), BasicPublishOptions::default(), body, props)
        .await
        .unwrap()
        .await
        .unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_json_with_pulse_permissions() {
        // `@` is neither in base64 nor elsewhere in the definitions: a random hash cannot
        // contain the password by chance (a short one like "pw" sometimes did).
        let text = definitions(&[User::pulse("me", "p@ss\"word"), User::admin("root", "r")]);
        assert!(text.contains(r#""configure":"^(queue/me/.*|exchange/me/.*)""#), "{text}");
        assert!(text.contains(r#""read":"^(queue/me/.*|exchange/.*)""#), "{text}");
        assert!(!text.contains("p@ss"), "the password is stored hashed: {text}");
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(password_hash("x")).unwrap().len(), 36);
    }
}
