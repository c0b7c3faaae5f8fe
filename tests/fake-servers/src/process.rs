//! Helpers for tests that run a program against the fake servers as a separate process.

use std::process::Output;

/// The stdout of a run that must have succeeded; on failure, panics showing its exit status,
/// stdout and stderr.
pub fn succeeded(out: &Output) -> String {
    let (o, e) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "exit {:?}\nstdout:\n{o}\nstderr:\n{e}", out.status);
    o.into_owned()
}
