//! Slug ids: 22-character URL-safe encodings of v4 UUIDs, as Taskcluster uses for task ids.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// A random slug id whose first character is a letter or digit (never `-`), safe to pass
/// on a command line. Use this for task ids.
pub fn nice() -> String {
    slugid::nice()
}

/// A random slug id from any v4 UUID.
pub fn v4() -> String {
    slugid::v4()
}

/// The slug id of a UUID's 16 bytes.
pub fn encode(uuid: [u8; 16]) -> String {
    URL_SAFE_NO_PAD.encode(uuid)
}

/// The nice slug id of a UUID: the first bit is cleared so the slug never starts with `-`.
pub fn encode_nice(mut uuid: [u8; 16]) -> String {
    uuid[0] &= 0x7f;
    encode(uuid)
}

/// The 44-character seed of temporary credentials: two slug ids.
pub(crate) fn seed() -> String {
    format!("{}{}", v4(), v4())
}
