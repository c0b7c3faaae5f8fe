//! Throughput of the two digests every transferred byte goes through, from *ring* (what the
//! crate uses) and from the pure-Rust `sha2` crate (what it used before, and what the tests use
//! as an independent check).
//!
//! `cargo bench --manifest-path tests/e2e/Cargo.toml --target-dir target -p taskcluster-artifacts --bench hashes`
//! (`HASH_MB`, default 64 MB per run; 7 runs, alternating, median MB/s of this thread's CPU
//! time, so the figure holds on a loaded machine).

use std::hint::black_box;
use std::time::Duration;

use sha2::Digest as _;

/// CPU time this thread has used, from the scheduler's own accounting.
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(text.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn main() {
    let mb: usize = std::env::var("HASH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    // 1 MiB pieces, as the transfers hand them over.
    let piece: Vec<u8> = (0..1u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    type Run = fn(&[u8], usize);
    let cases: [(&str, Run); 4] = [
        ("ring SHA-256", |p, n| {
            let mut c = ring::digest::Context::new(&ring::digest::SHA256);
            (0..n).for_each(|_| c.update(p));
            black_box(c.finish());
        }),
        ("sha2 SHA-256", |p, n| {
            let mut c = sha2::Sha256::new();
            (0..n).for_each(|_| c.update(p));
            black_box(c.finalize());
        }),
        ("ring SHA-512", |p, n| {
            let mut c = ring::digest::Context::new(&ring::digest::SHA512);
            (0..n).for_each(|_| c.update(p));
            black_box(c.finish());
        }),
        ("sha2 SHA-512", |p, n| {
            let mut c = sha2::Sha512::new();
            (0..n).for_each(|_| c.update(p));
            black_box(c.finalize());
        }),
    ];
    let mut rates = vec![Vec::new(); cases.len()];
    for _ in 0..7 {
        for (i, (_, run)) in cases.iter().enumerate() {
            let t = thread_cpu();
            run(&piece, mb);
            rates[i].push(mb as f64 * 1.048_576 / (thread_cpu() - t).as_secs_f64());
        }
    }
    println!("hashing {mb} MiB in 1 MiB pieces, median of 7 runs (MB/s of CPU time):");
    for ((name, _), mut r) in cases.iter().zip(rates) {
        r.sort_by(f64::total_cmp);
        println!("  {name:<14} {:>8.0} MB/s", r[r.len() / 2]);
    }
}
