//! Full regeneration from the Taskcluster bundle (plus the GoCD descriptions): wall time per
//! run and the process's peak memory. `cargo bench -p codegen --bench generate`.

use std::path::Path;
use std::time::Instant;

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs = codegen::Inputs {
        taskcluster: Some(fake_servers::shared::references()),
        gocd: Some(root.join("../schemas/gocd")),
    };
    let runs = 15;
    let mut times = Vec::with_capacity(runs);
    let mut files = 0;
    let mut bytes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let out = codegen::generate(&inputs).expect("generation succeeds");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        files = out.len();
        bytes = out.values().map(String::len).sum::<usize>();
    }
    times.sort_by(f64::total_cmp);
    println!("full regeneration: {files} files, {:.1} MB of Rust", bytes as f64 / 1e6);
    println!("  runs {runs}: median {:.1} ms, min {:.1} ms, max {:.1} ms", times[runs / 2], times[0], times[runs - 1]);
    match peak_rss_mb() {
        Some(mb) => println!("  peak memory (VmHWM of the whole process): {mb:.1} MB"),
        None => println!("  peak memory: /proc/self/status not available"),
    }
}
