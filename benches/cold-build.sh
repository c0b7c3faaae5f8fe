#!/usr/bin/env bash
# Cold `cargo build` of a small binary that uses only taskcluster-queue, against the same
# binary on the official `taskcluster` crate from crates.io, in the same run.
#   bash benches/cold-build.sh [WORKDIR]
# Downloads are fetched first and not timed; each build gets an empty target directory.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work/ours/src" "$work/official/src"

cat > "$work/ours/Cargo.toml" <<TOML
[package]
name = "ours"
version = "0.1.0"
edition = "2021"
[dependencies]
apigen-runtime = { path = "$repo/runtime" }
taskcluster-queue = { path = "$repo/generated/taskcluster-queue" }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
[workspace]
TOML
cat > "$work/ours/src/main.rs" <<'RS'
#[tokio::main]
async fn main() {
    let client = apigen_runtime::Client::builder("https://tc.example.com").build().unwrap();
    let queue = taskcluster_queue::Queue::new(&client);
    println!("{}", queue.task_url("abc"));
    if std::env::args().count() > 1 {
        println!("{:?}", queue.task("abc").await.map(|t| t.metadata.name));
    }
}
RS

cat > "$work/official/Cargo.toml" <<TOML
[package]
name = "official"
version = "0.1.0"
edition = "2021"
[dependencies]
taskcluster = "*"
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
[workspace]
TOML
cat > "$work/official/src/main.rs" <<'RS'
#[tokio::main]
async fn main() {
    let queue = taskcluster::Queue::new(taskcluster::ClientBuilder::new("https://tc.example.com")).unwrap();
    println!("{}", queue.task_url("abc").unwrap());
    if std::env::args().count() > 1 {
        println!("{:?}", queue.task("abc").await.map(|t| t["metadata"]["name"].clone()));
    }
}
RS

for p in ours official; do (cd "$work/$p" && cargo fetch -q); done
for p in ours official; do
  rm -rf "$work/$p/target"
  start=$(date +%s.%N)
  (cd "$work/$p" && cargo build -q 2>&1)
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc)
  crates=$(cd "$work/$p" && cargo tree -e normal --prefix none 2>/dev/null | sort -u | wc -l)
  echo "$p: cold cargo build ${secs} s, ${crates} crates in the tree"
done
