//! Content hashes, computed while the data streams past.

use sha2::{Digest as _, Sha256, Sha512};

/// The hashes and length of some content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentHashes {
    /// Hex SHA-256.
    pub sha256: String,
    /// Hex SHA-512.
    pub sha512: String,
    /// Length in bytes.
    pub length: u64,
}

/// Hashes data fed to it in pieces.
#[derive(Default, Clone)]
pub(crate) struct Hasher {
    sha256: Sha256,
    sha512: Sha512,
    length: u64,
}

impl Hasher {
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        self.sha512.update(data);
        self.length += data.len() as u64;
    }

    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    pub(crate) fn finish(self) -> ContentHashes {
        ContentHashes {
            sha256: hex(&self.sha256.finalize()),
            sha512: hex(&self.sha512.finalize()),
            length: self.length,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_in_pieces() {
        let mut h = Hasher::default();
        h.update(b"hello, ");
        h.update(b"world");
        let d = h.finish();
        assert_eq!(d.sha256, "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b");
        assert!(d.sha512.starts_with("8710339dcb6814d0d9d2290ef422285c9322b7163951f9a0ca8f883d3305286f"));
        assert_eq!(d.length, 12);
    }
}
