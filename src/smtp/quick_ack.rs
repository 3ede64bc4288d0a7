//! A TCP stream that acknowledges at once what it reads.
//!
//! Linux delays a TCP acknowledgement by up to 40 ms when it has no data
//! to send with it. A server whose replies go through Nagle's algorithm
//! (Postfix after TLS 1.3: its session tickets, then its reply to our EHLO)
//! holds the reply until the tickets are acknowledged, so the delayed ACK
//! becomes 40 ms of every session. `TCP_QUICKACK` (Linux only; socket2)
//! turns the delay off, but not for good: the kernel falls back to delayed
//! ACKs on its own, so it is set again before every read.
//!
//! Elsewhere this is the plain stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The client's side of an SMTP session's connection.
pub(crate) struct QuickAck(TcpStream);

impl QuickAck {
    /// Takes `stream` and turns Nagle's algorithm off: each command waits
    /// for its reply, so nothing is gained by holding it back.
    pub(crate) fn new(stream: TcpStream) -> QuickAck {
        let _ = stream.set_nodelay(true);
        let quick = QuickAck(stream);
        quick.arm();
        quick
    }

    pub(crate) fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.local_addr()
    }

    /// Best effort: a socket that refuses the option still works.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn arm(&self) {
        let _ = socket2::SockRef::from(&self.0).set_tcp_quickack(true);
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn arm(&self) {}

    /// Whether the option is on now (Linux only; `None` elsewhere).
    #[cfg(test)]
    fn armed(&self) -> Option<bool> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        return socket2::SockRef::from(&self.0).tcp_quickack().ok();
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        return None;
    }
}

impl AsyncRead for QuickAck {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.arm();
        Pin::new(&mut this.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn the_stream_has_nodelay_and_quickack_before_every_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            s.write_all(b"220 hi\r\n").await.expect("write");
        });
        let mut quick = QuickAck::new(TcpStream::connect(addr).await.expect("connect"));
        assert!(quick.0.nodelay().expect("nodelay"), "Nagle is off");
        let mut line = [0u8; 8];
        quick.read_exact(&mut line).await.expect("read");
        assert_eq!(&line, b"220 hi\r\n");
        if let Some(armed) = quick.armed() {
            // Clear it, then a read sets it again.
            let _ = socket2::SockRef::from(&quick.0).set_tcp_quickack(false);
            let mut more = [0u8; 1];
            let _ = quick.read(&mut more).await;
            assert!(armed && quick.armed() == Some(true), "TCP_QUICKACK is on");
        }
        server.await.expect("server");
    }
}
