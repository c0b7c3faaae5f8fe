//! Upload and download throughput and peak memory, against `curl` on the same store URL.
//!
//! `cargo bench -p taskcluster-artifacts --bench transfer` (sizes in MB: `TRANSFER_SIZES=10,200`,
//! rounds: `TRANSFER_ROUNDS=3`).
//!
//! This process runs the fake Taskcluster and the store (which streams to and from files on
//! disk); each transfer runs in a child process (this binary again), so its peak RSS (`VmHWM`) is
//! the client's alone. The child times the library call (queue and object service calls
//! included); curl's time is its own `time_total` for the bare store URL, downloading into a
//! file as ours does. Flat peak RSS between sizes means the data is streamed, not buffered.
//!
//! Rows: an upload (SHA-256 and SHA-512 computed, as `finishUpload` needs them); a download of
//! the object artifact (both hashes checked); a download of a `reference` artifact to the same
//! URL (no hashes exist, so none are computed: the transfer alone); the object into a sink (no
//! file system). For scale, one more line times curl with `openssl dgst` checking both hashes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use apigen_runtime::{Client, Credentials, Time};
use fake_servers::store::ObjectStore;
use fake_servers::taskcluster::TaskclusterServer;
use taskcluster_artifacts::{Artifacts, Unrewindable, UploadSource};

const TASK: &str = "fN1SbArXTPSVFNUvaOlinQ";

fn main() {
    if let Ok(mode) = std::env::var("TRANSFER_CHILD") {
        child(&mode);
        return;
    }
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(parent());
}

fn sizes() -> Vec<u64> {
    std::env::var("TRANSFER_SIZES")
        .unwrap_or_else(|_| "10,200".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn rounds() -> usize {
    std::env::var("TRANSFER_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3)
}

/// Writes `mb` MB of xorshift bytes to `path` in 1 MB pieces.
fn make_file(path: &Path, mb: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..mb {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        f.write_all(&buf).expect("write");
    }
    f.flush().expect("flush");
}

struct Run {
    seconds: f64,
    peak_rss_kb: u64,
    cpu: f64,
}

fn run_child(mode: &str, root: &str, file: &Path, name: &str) -> Run {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .env("TRANSFER_CHILD", mode)
        .env("TASKCLUSTER_ROOT_URL", root)
        .env("TASKCLUSTER_CLIENT_ID", "bench")
        .env("TASKCLUSTER_ACCESS_TOKEN", "bench-secret")
        .env("TRANSFER_FILE", file)
        .env("TRANSFER_NAME", name)
        .output()
        .expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child {mode} failed: {text} {}", String::from_utf8_lossy(&out.stderr));
    let mut fields = text.split_whitespace();
    let seconds = fields.next().and_then(|s| s.parse().ok()).expect("seconds");
    let peak_rss_kb = fields.next().and_then(|s| s.parse().ok()).expect("rss");
    let cpu = fields.next().and_then(|s| s.parse().ok()).expect("cpu");
    Run { seconds, peak_rss_kb, cpu }
}

/// curl's own `time_total` for one transfer, its output going to `out`.
fn curl(out: &str, args: &[&str]) -> f64 {
    let out = Command::new("curl")
        .args(["-s", "-f", "-o", out, "-w", "%{time_total}"])
        .args(args)
        .output()
        .expect("curl must be installed");
    assert!(out.status.success(), "curl {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("curl time")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// curl writing `url` to `out` while `openssl dgst` computes SHA-256 and SHA-512 of the stream
/// (through `tee` and two FIFOs in `dir`): a curl user who checks the hashes with the fastest
/// tool at hand. Seconds for the whole pipeline, or `None` without bash, openssl or mkfifo.
fn curl_verifying(dir: &Path, url: &str, out: &Path) -> Option<f64> {
    let script = r#"set -e; cd "$1"; rm -f a b; mkfifo a b
openssl dgst -sha256 < a > /dev/null & p1=$!
openssl dgst -sha512 < b > /dev/null & p2=$!
curl -s -f "$2" | tee a b > "$3"; wait $p1 $p2"#;
    let started = Instant::now();
    let status = Command::new("bash").args(["-c", script, "bash"]).arg(dir).arg(url).arg(out).status().ok()?;
    status.success().then(|| started.elapsed().as_secs_f64())
}

/// Figures of one operation over the rounds.
#[derive(Default)]
struct Row {
    ours: Vec<f64>,
    curl: Vec<f64>,
    rss_kb: u64,
    cpu: Vec<f64>,
}

impl Row {
    fn add(&mut self, mb: u64, run: &Run, curl_seconds: f64) {
        self.ours.push(mb as f64 / run.seconds);
        self.curl.push(mb as f64 / curl_seconds);
        self.rss_kb = self.rss_kb.max(run.peak_rss_kb);
        self.cpu.push(run.cpu);
    }
}

async fn parent() {
    let server = TaskclusterServer::start().await;
    let store = ObjectStore::start().await;
    let fake = server.serve_artifacts(&store);
    server.add_client("bench", "bench-secret", &["queue:create-artifact:*", "queue:get-artifact:*"]);
    let root = server.root_url();
    let dir = tempfile::tempdir().expect("temp dir");
    let expires = Time::from_now("1 day").expect("time").to_string();
    println!("size  op                        ours MB/s  curl MB/s  ours/curl  peak RSS  CPU s");
    for mb in sizes() {
        let source = dir.path().join(format!("source-{mb}"));
        make_file(&source, mb);
        let target: PathBuf = dir.path().join(format!("copy-{mb}"));
        let (mut up, mut down, mut reference, mut sink) =
            (Row::default(), Row::default(), Row::default(), Row::default());
        let mut verifying = Vec::new();
        for round in 0..rounds() {
            // Upload: both hashes computed (finishUpload takes them); curl sends the bare file.
            let name = format!("public/bench-{mb}-{round}");
            let r = run_child("upload", &root, &source, &name);
            let src = source.to_string_lossy().into_owned();
            let curl_url = store.url(&format!("curl-{mb}-{round}"));
            up.add(mb, &r, curl("/dev/null", &["-T", &src, "-H", "content-type: application/octet-stream", &curl_url]));

            // The object artifact: both hashes checked. Like ours, curl writes to a file.
            let key = fake.object(&format!("t/{TASK}/0/{name}")).expect("object").key;
            let url = store.url(&key);
            let r = run_child("download", &root, &target, &name);
            assert_eq!(std::fs::metadata(&target).expect("downloaded").len(), mb << 20);
            let _ = std::fs::remove_file(&target);
            down.add(mb, &r, curl(&target.to_string_lossy(), &[&url]));
            let _ = std::fs::remove_file(&target);
            if let Some(seconds) = curl_verifying(dir.path(), &url, &target) {
                verifying.push(mb as f64 / seconds);
            }
            let _ = std::fs::remove_file(&target);

            // A reference artifact to the same data: no hashes to check, so none computed.
            let ref_name = format!("public/ref-{mb}-{round}");
            let request = serde_json::json!({"storageType": "reference", "url": url, "expires": expires,
                                             "contentType": "application/octet-stream"});
            fake.put(TASK, 0, &ref_name, request);
            let r = run_child("download", &root, &target, &ref_name);
            let _ = std::fs::remove_file(&target);
            reference.add(mb, &r, curl(&target.to_string_lossy(), &[&url]));
            let _ = std::fs::remove_file(&target);

            // The object artifact into a sink: hashing without the file system.
            let r = run_child("download-sink", &root, &target, &name);
            sink.add(mb, &r, curl("/dev/null", &[&url]));
        }
        let rows = [
            ("upload (hashes computed)", up),
            ("download object (checked)", down),
            ("download reference", reference),
            ("object to sink (checked)", sink),
        ];
        for (op, row) in rows {
            let (o, t) = (median(row.ours), median(row.curl));
            let (rss, cpu) = (row.rss_kb as f64 / 1024.0, median(row.cpu));
            println!("{mb:>4}  {op:<25}  {o:>9.0}  {t:>9.0}  {:>9.2}  {rss:>5.1} MB  {cpu:>5.2}", o / t);
        }
        if !verifying.is_empty() {
            println!(
                "{mb:>4}  curl | tee to `openssl dgst -sha256` and `-sha512`, to a file: {:.0} MB/s",
                median(verifying)
            );
        }
        let _ = std::fs::remove_file(&source);
    }
    // CPU s: user + system time of the whole child process (hashing is most of it; curl does none).
}

/// One transfer; prints seconds and peak RSS in kB.
fn child(mode: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let file = PathBuf::from(std::env::var("TRANSFER_FILE").expect("TRANSFER_FILE"));
    let name = std::env::var("TRANSFER_NAME").expect("TRANSFER_NAME");
    let seconds = rt.block_on(async {
        let root = std::env::var("TASKCLUSTER_ROOT_URL").expect("root URL");
        let client =
            Client::builder(root).credentials(Credentials::from_env().expect("credentials")).build().expect("client");
        let artifacts = Artifacts::new(&client).expect("artifacts");
        let started = Instant::now();
        match mode {
            "upload" => {
                let expires = Time::from_now("1 day").expect("time");
                let source = UploadSource::file(&file);
                artifacts
                    .upload_artifact(TASK, 0, &name, source, "application/octet-stream", expires)
                    .await
                    .expect("upload");
            }
            "download-sink" => {
                let mut sink = Unrewindable::new(tokio::io::sink());
                artifacts.download_artifact(TASK, Some(0), &name, &mut sink).await.expect("download");
            }
            _ => {
                artifacts.download_artifact_to_file(TASK, Some(0), &name, &file).await.expect("download");
            }
        }
        started.elapsed().as_secs_f64()
    });
    println!("{seconds} {} {}", peak_rss_kb(), cpu_seconds());
}

/// User + system CPU time of this process so far (from `/proc/self/stat`, in clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Numeric fields after the command name and state: utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    f.get(10).zip(f.get(11)).map_or(0.0, |(u, s)| (u + s) / 100.0)
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
