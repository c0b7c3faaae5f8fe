//! Writing to stdout. When the reader has gone (`apigen slugid -n 1000 | head -1`), the rest of
//! the output is not wanted: the command ends quietly with exit 0, as `cat` and `jq` do there,
//! instead of a panic (`println!`) or exit 1, which says an API call failed.

use std::io::Write as _;

use crate::Failure;

/// Writes `bytes` to stdout as they are.
pub fn print(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(stdout_failure)
}

/// Writes `text` to stdout as a line: with a final newline unless it has one (an empty text
/// prints nothing).
pub fn print_line(text: impl AsRef<[u8]>) -> Result<(), Failure> {
    let text = text.as_ref();
    if text.is_empty() || text.ends_with(b"\n") {
        return print(text);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()).map_err(stdout_failure)
}

/// A failed write to stdout: [`Failure::Closed`] when its reader has gone.
pub fn stdout_failure(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::Closed
    } else {
        Failure::Api(format!("cannot write to stdout: {e}"))
    }
}
