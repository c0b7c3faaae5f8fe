//! Where downloads go. A failed transfer is retried from the start, so a destination must be
//! able to discard what it received so far: [`Restartable`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncSeekExt as _, AsyncWrite};

/// An [`AsyncWrite`] that can throw away everything written to it, so that a download can
/// start over after a failed attempt.
pub trait Restartable: AsyncWrite + Unpin + Send {
    /// Discards everything written so far.
    fn restart(&mut self) -> impl Future<Output = io::Result<()>> + Send;
}

impl Restartable for Vec<u8> {
    async fn restart(&mut self) -> io::Result<()> {
        self.clear();
        Ok(())
    }
}

impl Restartable for io::Cursor<Vec<u8>> {
    async fn restart(&mut self) -> io::Result<()> {
        self.get_mut().clear();
        self.set_position(0);
        Ok(())
    }
}

impl Restartable for tokio::fs::File {
    async fn restart(&mut self) -> io::Result<()> {
        self.set_len(0).await?;
        self.rewind().await.map(drop)
    }
}

/// Any [`AsyncWrite`] as a download destination: a failed attempt is retried only while nothing
/// has been written to it yet (a pipe or socket cannot take data back).
#[derive(Debug)]
pub struct Unrewindable<W> {
    inner: W,
    written: u64,
}

impl<W> Unrewindable<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Unrewindable { inner, written: 0 }
    }

    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWrite + Unpin + Send> Restartable for Unrewindable<W> {
    async fn restart(&mut self) -> io::Result<()> {
        if self.written == 0 {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "the transfer failed after {} bytes were written to a destination that cannot be rewound",
            self.written
        )))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Unrewindable<W> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.written += n as u64;
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    #[tokio::test]
    async fn restarts() {
        let mut v = b"old".to_vec();
        v.restart().await.unwrap();
        assert!(v.is_empty());
        let mut u = Unrewindable::new(Vec::new());
        u.restart().await.unwrap();
        u.write_all(b"x").await.unwrap();
        assert!(u.restart().await.unwrap_err().to_string().contains("after 1 bytes"));
    }
}
