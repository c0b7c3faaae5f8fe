#!/usr/bin/env bash
# The main job for a deployment whose services differ from ours: in a copy of this checkout,
# `TASKCLUSTER_REFERENCES=tests/deployments/two-services.json ./build.sh` must regenerate
# generated/ for that deployment (a `login` API and `treeherder` exchanges; no queue, no
# worker payloads) and build every crate it produced, whatever our own tests need.
# Run by `./build.sh --test`; shares this checkout's target directory for the dependencies.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Everything but build output and history, including our generated/: the stale crates must go.
tar -C "$repo" --exclude=./target --exclude=./.git -cf - . | tar -C "$work" -xf -
# ../shared is not needed: the references come from the fixture.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
(cd "$work" && TASKCLUSTER_REFERENCES=tests/deployments/two-services.json ./build.sh)

produced="$(cd "$work/generated" && ls -d */ | tr -d / | tr '\n' ' ')"
expected="gocd taskcluster-login taskcluster-treeherder "
if [ "$produced" != "$expected" ]; then
  echo "any-deployment: generated/ holds [$produced], expected [$expected]" >&2
  exit 1
fi
grep -q 'pub async fn oidc_credentials' "$work/generated/taskcluster-login/src/lib.rs" || {
  echo "any-deployment: taskcluster-login has no oidc_credentials method" >&2
  exit 1
}
grep -q 'pub struct Jobs' "$work/generated/taskcluster-treeherder/src/exchanges.rs" || {
  echo "any-deployment: taskcluster-treeherder has no Jobs binding" >&2
  exit 1
}
echo "any-deployment: generated and built $expected"
