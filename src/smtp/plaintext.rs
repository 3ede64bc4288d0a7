//! Plain text where the TLS handshake belongs.
//!
//! After a `220` to STARTTLS the next bytes from the server must be TLS
//! records (RFC 3207 §4, §5). Some servers, or proxies, load balancers and
//! firewalls that rewrite SMTP in front of them, answer STARTTLS with 220
//! and then keep talking SMTP: a `500` to the ClientHello they read as a
//! command, or a fresh greeting pushed right behind the 220. Every sender's
//! handshake then fails. To say so instead of a bare "corrupt message",
//! the session keeps the first bytes the server sends during the handshake
//! ([`Recording`]) and [`plaintext_line`] tells a line of text from a TLS
//! record.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::sanitize::for_terminal;

/// Bytes of the server's side kept by [`Recording`]: enough for a reply
/// line worth quoting.
const KEPT: usize = 256;
/// Characters of the quoted line shown.
const SHOWN: usize = 200;

/// A stream that keeps a copy of the first [`KEPT`] bytes read from it;
/// everything else passes through untouched.
#[derive(Debug)]
pub(crate) struct Recording<S> {
    inner: S,
    first: Vec<u8>,
}

impl<S> Recording<S> {
    pub(crate) fn new(inner: S) -> Self {
        Recording {
            inner,
            first: Vec::new(),
        }
    }

    /// The first bytes read, at most [`KEPT`].
    pub(crate) fn first(&self) -> &[u8] {
        &self.first
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recording<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let room = KEPT.saturating_sub(this.first.len());
            let new = buf.filled().get(before..).unwrap_or_default();
            this.first
                .extend_from_slice(new.get(..room.min(new.len())).unwrap_or_default());
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recording<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The first line of `bytes`, sanitised for display, when they are plain
/// text and not a TLS record; `None` otherwise (nothing sent, a TLS record,
/// binary junk).
///
/// A TLS record starts with its content type, 20 to 24 (RFC 8446 §5.1;
/// RFC 6520 for 24), all control characters; text starts with a printable
/// one. The line (up to the first LF, or all that was kept) must be
/// printable ASCII, tabs allowed, with an optional CR before the LF.
pub fn plaintext_line(bytes: &[u8]) -> Option<String> {
    let first = *bytes.first()?;
    if (20..=24).contains(&first) {
        return None;
    }
    let line = match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => bytes,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let printable = |b: &u8| b.is_ascii_graphic() || *b == b' ' || *b == b'\t';
    if line.is_empty() || !line.iter().all(printable) {
        return None;
    }
    Some(for_terminal(&String::from_utf8_lossy(line), SHOWN))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[test]
    fn text_is_told_from_tls_records() {
        let long = format!("500 {}\r\n", "x".repeat(300));
        let long_shown = format!("500 {}…[cut]", "x".repeat(196));
        for (rule, bytes, want) in [
            (
                "an SMTP reply is plain text",
                &b"500 5.5.2 Error: bad syntax\r\n"[..],
                Some("500 5.5.2 Error: bad syntax"),
            ),
            (
                "only the first line is quoted",
                b"250 OK\r\n220 mx.example ESMTP\r\n",
                Some("250 OK"),
            ),
            (
                "a line cut off by the recording still counts",
                b"220 mx.example ESM",
                Some("220 mx.example ESM"),
            ),
            ("a bare LF line end is fine", b"250 OK\n", Some("250 OK")),
            (
                "a tab is text",
                b"220\tmx.example\r\n",
                Some("220\\x09mx.example"),
            ),
            (
                "a TLS handshake record is not text",
                b"\x16\x03\x03\x00\x7a\x02\x00",
                None,
            ),
            (
                "a TLS alert record is not text",
                b"\x15\x03\x01\x00\x02\x02\x46",
                None,
            ),
            ("nothing sent is not text", b"", None),
            ("an empty line is not text", b"\r\n", None),
            ("binary junk is not text", b"\x00\x01\x02\x03", None),
            (
                "text with a control byte is not text",
                b"250 O\x07K\r\n",
                None,
            ),
            (
                "bytes past ASCII are not text",
                b"250 caf\xc3\xa9\r\n",
                None,
            ),
        ] {
            assert_eq!(plaintext_line(bytes).as_deref(), want, "{rule}: {bytes:?}");
        }
        assert_eq!(
            plaintext_line(long.as_bytes()).as_deref(),
            Some(long_shown.as_str()),
            "a long line is cut for display"
        );
    }

    #[tokio::test]
    async fn the_first_bytes_are_kept_and_passed_through() {
        let (mut server, client) = tokio::io::duplex(64);
        let mut recording = Recording::new(client);
        let sent: Vec<u8> = (0..=255u8).cycle().take(KEPT + 100).collect();
        let writer = tokio::spawn(async move {
            server.write_all(&sent).await.expect("write");
            sent
        });
        let mut got = Vec::new();
        recording.read_to_end(&mut got).await.expect("read");
        let sent = writer.await.expect("writer");
        assert_eq!(got, sent, "every byte passes through");
        assert_eq!(recording.first(), &sent[..KEPT], "the first bytes are kept");
    }
}
