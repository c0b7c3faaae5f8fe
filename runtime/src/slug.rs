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

/// A random 44-character seed for temporary credentials (two v4 slug ids), as
/// [`Credentials::create_temporary_credentials`](crate::Credentials::create_temporary_credentials)
/// makes; pass it to [`Credentials::temporary`](crate::Credentials::temporary) to build
/// temporary credentials with every other input chosen by the caller.
pub fn seed() -> String {
    format!("{}{}", v4(), v4())
}

#[cfg(test)]
mod tests {
    #[test]
    fn seeds_are_two_url_safe_slugs() {
        let (a, b) = (super::seed(), super::seed());
        assert_eq!(a.len(), 44);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
    }
}
