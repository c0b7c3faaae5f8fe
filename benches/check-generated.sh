#!/usr/bin/env bash
# `cargo check` CPU time of every crate in generated/, as generated at two commits, alternated:
#   bash benches/check-generated.sh BEFORE_REV [AFTER_REV=HEAD] [ROUNDS=2] [extra cargo args, e.g. --all-features]
# Only generated/ is switched (`git checkout REV -- generated`), so the runtime and every
# dependency stay built and only the generated crates are measured. The working tree's
# generated/ is restored at the end; run it on a clean tree.
set -euo pipefail
cd "$(dirname "$0")/.."
before="$1"; after="${2:-HEAD}"; rounds="${3:-2}"; shift $(( $# < 3 ? $# : 3 ))
if ! git diff --quiet -- generated; then echo "generated/ has local changes; commit or stash them first" >&2; exit 2; fi
pkgs=$(for d in generated/*/; do sed -n 's/^name = "\(.*\)"/\1/p' "$d/Cargo.toml" | head -1; done)
args=$(for p in $pkgs; do printf -- '-p %s ' "$p"; done)
trap 'git checkout -q HEAD -- generated' EXIT
cargo check -q -p apigen-runtime "$@"
for round in $(seq "$rounds"); do
  for rev in "$before" "$after"; do
    git checkout -q "$rev" -- generated
    for p in $pkgs; do cargo clean -q -p "$p"; done
    # shellcheck disable=SC2086
    /usr/bin/time -f "$rev round $round: user %U s, sys %S s, wall %e s" cargo check -q $args "$@" 2>&1 | tail -1
  done
done
uptime
