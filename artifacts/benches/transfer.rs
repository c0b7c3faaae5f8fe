//! Upload and download throughput and peak memory, against `curl` on the same store URL.
//!
//! `cargo bench -p taskcluster-artifacts --bench transfer` (sizes in MB: `TRANSFER_SIZES=10,200`,
//! rounds: `TRANSFER_ROUNDS=3`).
//!
//! This process runs the fake Taskcluster and the store (which streams to and from files on
//! disk); each transfer runs in a child process (this binary again), so its peak RSS (`VmHWM`) is
//! the client's alone. The child times the library call (queue and object service calls
//! included); curl's time is its own `time_total` for the bare store URL, downloading into a
//! file as ours does. Flat peak RSS between
//! sizes means the data is streamed, not buffered.

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

async fn parent() {
    let server = TaskclusterServer::start().await;
    let store = ObjectStore::start().await;
    let fake = server.serve_artifacts(&store);
    server.add_client("bench", "bench-secret", &["queue:create-artifact:*", "queue:get-artifact:*"]);
    let root = server.root_url();
    let dir = tempfile::tempdir().expect("temp dir");
    println!("size  op        ours MB/s  curl MB/s  ours/curl  ours peak RSS");
    for mb in sizes() {
        let source = dir.path().join(format!("source-{mb}"));
        make_file(&source, mb);
        let (mut up, mut up_curl, mut down, mut down_curl) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut up_rss, mut down_rss, mut sink_rss) = (0, 0, 0);
        let (mut sink, mut sink_curl, mut sink_cpu) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds() {
            let name = format!("public/bench-{mb}-{round}");
            let r = run_child("upload", &root, &source, &name);
            up.push(mb as f64 / r.seconds);
            up_rss = up_rss.max(r.peak_rss_kb);
            let key = fake.object(&format!("t/{TASK}/0/{name}")).expect("object").key;
            let url = store.url(&key);
            let src = source.to_string_lossy().into_owned();
            let curl_url = store.url(&format!("curl-{mb}-{round}"));
            up_curl.push(
                mb as f64 / curl("/dev/null", &["-T", &src, "-H", "content-type: application/octet-stream", &curl_url]),
            );

            let target: PathBuf = dir.path().join(format!("copy-{mb}-{round}"));
            let r = run_child("download", &root, &target, &name);
            down.push(mb as f64 / r.seconds);
            down_rss = down_rss.max(r.peak_rss_kb);
            assert_eq!(std::fs::metadata(&target).expect("downloaded").len(), mb << 20);
            let _ = std::fs::remove_file(&target);
            let r = run_child("download-sink", &root, &target, &name);
            sink.push(mb as f64 / r.seconds);
            sink_rss = sink_rss.max(r.peak_rss_kb);
            sink_cpu.push(r.cpu);
            sink_curl.push(mb as f64 / curl("/dev/null", &[&url]));
            // Like ours, curl writes the data to a file (ours also fsyncs it before the rename).
            down_curl.push(mb as f64 / curl(&target.to_string_lossy(), &[&url]));
            let _ = std::fs::remove_file(&target);
        }
        let ops = [
            ("upload", up, up_curl, up_rss),
            ("download", down, down_curl, down_rss),
            ("to-sink", sink, sink_curl, sink_rss),
        ];
        for (op, ours, theirs, rss) in ops {
            let (o, t) = (median(ours), median(theirs));
            println!("{mb:>4}  {op:<8}  {o:>9.0}  {t:>9.0}  {:>9.2}  {:>8.1} MB", o / t, rss as f64 / 1024.0);
        }
        // Our CPU is mostly hashing (sha256 + sha512 of every byte); curl does none. On a
        // loaded machine that, not the network path, sets the ratio.
        println!("{mb:>4}  to-sink CPU time (user+sys, whole child process): {:.2} s", median(sink_cpu));
        let _ = std::fs::remove_file(&source);
    }
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
