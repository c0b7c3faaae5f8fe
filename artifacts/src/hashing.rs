//! Content hashes, computed while the data streams past.
//!
//! An upload hashes every byte with SHA-256 and SHA-512; a download computes the digests the
//! service gave to check against, and none for `s3` and `reference` artifacts, which come
//! without hashes. Hashing costs more CPU than moving the data. The digests
//! come from *ring* (already in the build through rustls): assembly in every build profile, so
//! debug builds and tests need no `opt-level` override, and in release builds as fast as the
//! pure-Rust `sha2` (`cargo bench ... --bench hashes`). On AMD CPUs ring's SHA-512 runs its
//! generic code (its AVX version is enabled on Intel only), about 380 MB/s of CPU time on the
//! benchmark machine: that bounds a transfer's rate there, so each digest gets a thread of its
//! own.

use bytes::Bytes;
use ring::digest::{digest, Algorithm, Context, Digest, SHA256, SHA512};

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

impl ContentHashes {
    fn new(sha256: &Digest, sha512: &Digest, length: u64) -> Self {
        ContentHashes { sha256: hex(sha256.as_ref()), sha512: hex(sha512.as_ref()), length }
    }
}

/// Data in memory smaller than this is hashed on one thread (a thread costs more than it saves).
const PARALLEL_FROM: usize = 1 << 20;

/// The hashes of data in memory; from 1 MiB on, SHA-512 runs on a second thread meanwhile.
pub(crate) fn hash_slice(data: &[u8]) -> ContentHashes {
    let length = data.len() as u64;
    if data.len() < PARALLEL_FROM {
        return ContentHashes::new(&digest(&SHA256, data), &digest(&SHA512, data), length);
    }
    std::thread::scope(|s| {
        let sha512 = s.spawn(|| digest(&SHA512, data));
        let sha256 = digest(&SHA256, data);
        // Joining fails only if ring's digest panicked; then it is computed here (and would
        // panic again, where the caller sees it).
        let sha512 = sha512.join().unwrap_or_else(|_| digest(&SHA512, data));
        ContentHashes::new(&sha256, &sha512, length)
    })
}

/// Which digests a streamed transfer computes: a download computes only those it can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) sha256: bool,
    pub(crate) sha512: bool,
}

impl Wanted {
    /// Both digests (uploads send both to `finishUpload`).
    pub(crate) const BOTH: Wanted = Wanted { sha256: true, sha512: true };
}

/// The length of streamed data and the digests that were [`Wanted`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Digests {
    pub(crate) length: u64,
    pub(crate) sha256: Option<String>,
    pub(crate) sha512: Option<String>,
}

impl Digests {
    /// Both digests, as computed with [`Wanted::BOTH`].
    pub(crate) fn both(self) -> std::io::Result<ContentHashes> {
        match (self.sha256, self.sha512) {
            (Some(sha256), Some(sha512)) => Ok(ContentHashes { sha256, sha512, length: self.length }),
            _ => Err(std::io::Error::other("a content hash was not computed")),
        }
    }
}

/// Pieces queued per digest before [`BackgroundHasher::update`] waits: with 1 MiB pieces, at
/// most a few MiB are held however large the data is.
const QUEUED: usize = 2;

/// Hashes streamed data off the I/O path: each wanted digest runs on a blocking thread of its
/// own, in parallel with the other and with the transfer that hands them the pieces (which are
/// shared, not copied). Each byte is hashed once per digest.
pub(crate) struct BackgroundHasher {
    sha256: Option<Lane>,
    sha512: Option<Lane>,
    length: u64,
}

struct Lane {
    pieces: tokio::sync::mpsc::Sender<Bytes>,
    digest: tokio::task::JoinHandle<Digest>,
}

impl Lane {
    fn start(algorithm: &'static Algorithm) -> Lane {
        let (pieces, mut queue) = tokio::sync::mpsc::channel::<Bytes>(QUEUED);
        let digest = tokio::task::spawn_blocking(move || {
            let mut context = Context::new(algorithm);
            while let Some(piece) = queue.blocking_recv() {
                context.update(&piece);
            }
            context.finish()
        });
        Lane { pieces, digest }
    }

    /// Waits for the digest, as hex.
    async fn finish(lane: Option<Lane>) -> std::io::Result<Option<String>> {
        let Some(lane) = lane else { return Ok(None) };
        drop(lane.pieces);
        let digest = lane.digest.await.map_err(std::io::Error::other)?;
        Ok(Some(hex(digest.as_ref())))
    }
}

impl BackgroundHasher {
    /// Starts a thread per wanted digest (on the current tokio runtime's blocking pool).
    pub(crate) fn start(wanted: Wanted) -> Self {
        BackgroundHasher {
            sha256: wanted.sha256.then(|| Lane::start(&SHA256)),
            sha512: wanted.sha512.then(|| Lane::start(&SHA512)),
            length: 0,
        }
    }

    fn lanes(&self) -> impl Iterator<Item = &Lane> {
        self.sha256.iter().chain(&self.sha512)
    }

    /// Hands `piece` to the digests, waiting while they are [`QUEUED`] pieces behind.
    pub(crate) async fn update(&mut self, piece: Bytes) {
        self.length += piece.len() as u64;
        for lane in self.lanes() {
            // A lane only stops receiving when its task is gone; `finish` reports that.
            let _ = lane.pieces.send(piece.clone()).await;
        }
    }

    /// [`BackgroundHasher::update`] from a blocking thread (not a tokio worker).
    pub(crate) fn blocking_update(&mut self, piece: Bytes) {
        self.length += piece.len() as u64;
        for lane in self.lanes() {
            let _ = lane.pieces.blocking_send(piece.clone());
        }
    }

    /// Waits for the digests.
    pub(crate) async fn finish(self) -> std::io::Result<Digests> {
        let sha256 = Lane::finish(self.sha256).await?;
        let sha512 = Lane::finish(self.sha512).await?;
        Ok(Digests { length: self.length, sha256, sha512 })
    }

    /// [`BackgroundHasher::finish`] from a blocking thread.
    pub(crate) fn blocking_finish(self) -> std::io::Result<Digests> {
        tokio::runtime::Handle::current().block_on(self.finish())
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
    fn known_digests() {
        let d = hash_slice(b"hello, world");
        assert_eq!(d.sha256, "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b");
        assert!(d.sha512.starts_with("8710339dcb6814d0d9d2290ef422285c9322b7163951f9a0ca8f883d3305286f"));
        assert_eq!(d.length, 12);
    }

    #[tokio::test]
    async fn background_hashing_matches() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut background = BackgroundHasher::start(Wanted::BOTH);
        for piece in data.chunks(1 << 20) {
            background.update(Bytes::copy_from_slice(piece)).await;
        }
        let hashes = background.finish().await.unwrap().both().unwrap();
        assert_eq!(hashes.length, 3_000_000);
        assert_eq!(hashes, hash_slice(&data));
    }

    #[tokio::test]
    async fn only_wanted_digests_are_computed() {
        let whole = hash_slice(b"abc");
        for (sha256, sha512) in [(true, false), (false, true), (false, false)] {
            let mut background = BackgroundHasher::start(Wanted { sha256, sha512 });
            background.update(Bytes::from_static(b"ab")).await;
            background.update(Bytes::from_static(b"c")).await;
            let digests = background.finish().await.unwrap();
            assert_eq!(digests.length, 3);
            assert_eq!(digests.sha256, sha256.then(|| whole.sha256.clone()));
            assert_eq!(digests.sha512, sha512.then(|| whole.sha512.clone()));
            assert!(digests.both().is_err() || (sha256 && sha512));
        }
    }
}
