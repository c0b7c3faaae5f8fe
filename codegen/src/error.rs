//! Errors name the file and the JSON pointer (or URL) of the bad input.

use std::fmt;

/// A generation failure, located in its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The input file (bundle filename, path, or URL).
    pub file: String,
    /// JSON pointer inside it (`""` for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl Error {
    /// An error at `file` + `pointer`.
    pub fn at(file: impl Into<String>, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Error { file: file.into(), pointer: pointer.into(), message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Escapes one JSON pointer token (`~` → `~0`, `/` → `~1`).
pub fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
