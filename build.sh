#!/usr/bin/env bash
# Regenerates every client crate from the API descriptions, then builds or tests the workspace.
#
#   ./build.sh           regenerate generated/ (only changed files are rewritten) and build everything
#   ./build.sh --check   drift check: regenerate in memory; exit 1 naming every stale file in generated/
#   ./build.sh --test    what CI runs: drift check, formatting, lints, docs, and every test, with
#                        the lockfiles as committed (--locked)
#
# Taskcluster references come from $TASKCLUSTER_REFERENCES (a bundle file or a directory laid out
# like a deployment), else schemas/taskcluster/ (written by `codegen fetch`), else
# ../shared/taskcluster/references.json. GoCD descriptions come from schemas/gocd/.
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-build}"
case "$mode" in build|--check|--test) ;; *) echo "usage: $0 [--check|--test]" >&2; exit 2 ;; esac

refs="${TASKCLUSTER_REFERENCES:-}"
if [ -z "$refs" ]; then
  if [ -d schemas/taskcluster/references ]; then
    refs=schemas/taskcluster
  elif [ -f ../shared/taskcluster/references.json ]; then
    refs=../shared/taskcluster/references.json
  else
    cat >&2 <<'MSG'
No Taskcluster references found. Either
  - set TASKCLUSTER_REFERENCES to a references bundle (references.json) or a directory, or
  - fetch them from a deployment:
      cargo run -p codegen -- fetch --root-url https://your-deployment.example.com --out schemas/taskcluster
MSG
    exit 2
  fi
fi

locked=()
[ "$mode" = --test ] && locked=(--locked)
codegen() { cargo run -q "${locked[@]}" -p codegen -- "$@"; }

case "$mode" in
  build)
    codegen generate --references "$refs" --gocd schemas/gocd --out generated
    codegen gocd-schema
    cargo build --workspace
    ;;
  --check)
    codegen generate --references "$refs" --gocd schemas/gocd --out generated --check
    codegen gocd-schema --check
    ;;
  --test)
    codegen generate --references "$refs" --gocd schemas/gocd --out generated --check
    codegen gocd-schema --check
    # generated/rustfmt.toml keeps rustfmt off the generated crates (prettyplease formats them).
    cargo fmt --all --check
    cargo fmt --check --all --manifest-path tests/e2e/Cargo.toml
    # --all-features: the runtime's `pulse` and `blocking` parts and every blocking twin too.
    cargo clippy --locked --workspace --all-targets --all-features -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --all-features -q
    # codegen enables serde_json/preserve_order; tested in the same cargo invocation, that
    # feature would leak into the runtime under test. Users never get it, so neither do the
    # runtime's tests: codegen is tested on its own.
    cargo test --locked --workspace --exclude codegen
    # The Pulse consumer against a real RabbitMQ (the feature is off by default).
    cargo test --locked -p apigen-runtime --features pulse --lib --test pulse
    cargo test --locked -p codegen
    # What needs our services (the Taskcluster and Pulse end-to-end tests, the examples, the
    # artifact transfer crate) is a workspace of its own, rooted at tests/e2e.
    e2e=(--locked --manifest-path tests/e2e/Cargo.toml --workspace --target-dir "${CARGO_TARGET_DIR:-target}")
    cargo clippy "${e2e[@]}" --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc "${e2e[@]}" --no-deps -q
    cargo test "${e2e[@]}"
    # The main job for a deployment with other services than ours.
    tests/any-deployment.sh
    ;;
esac
