//! A slow link in userland: every byte a lab server sends reaches the
//! client `delay` after the server wrote it (this kernel has no netem).
//!
//! The model, for `mxtls-lab --delay-ms D` (see `scripts/bench-latency.sh`):
//!
//! - the whole round trip sits on the server-to-client leg: the client's
//!   bytes arrive at once, the server's answer `D` after it is written, so
//!   one request and its reply cost `D`;
//! - the link pipelines: data written back to back (TLS 1.3 session tickets
//!   and the EHLO reply after them) arrives back to back, `D` after each
//!   write, in order; nothing waits for the client to acknowledge;
//! - TCP connect costs nothing (the kernel answers the SYN; userland cannot
//!   hold it back), so the SMTP greeting costs one `D` where a real link
//!   costs two (SYN/SYN-ACK, then the greeting);
//! - DNS replies, over UDP or TCP, leave `D` after the query arrived
//!   (`super::dns`).
//!
//! [`Link::new`] with a zero delay is the plain stream.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the sending task delivers, each at its time.
enum Chunk {
    Data(Instant, Vec<u8>),
    Shutdown(Instant),
}

/// Most bytes a server may have in flight on one delayed link; beyond
/// this, writes wait (a lab server that streams forever must not fill
/// memory).
const MAX_IN_FLIGHT: usize = 4 * 1024 * 1024;

/// A server's end of a connection, with its writes delayed.
pub struct Link<S> {
    inner: Inner<S>,
}

enum Inner<S> {
    Direct(S),
    Delayed {
        read: ReadHalf<S>,
        send: mpsc::UnboundedSender<Chunk>,
        /// Bytes handed to the sending task and not yet written out.
        in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        delay: Duration,
        /// Wakes a writer that waits for room.
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

impl<S: AsyncRead + AsyncWrite + Send + 'static> Link<S> {
    /// Wraps `stream`; with a non-zero `delay`, starts the task that
    /// delivers its writes (on the current tokio runtime).
    pub fn new(stream: S, delay: Duration) -> Link<S> {
        if delay.is_zero() {
            return Link {
                inner: Inner::Direct(stream),
            };
        }
        let (read, write) = tokio::io::split(stream);
        let (send, receive) = mpsc::unbounded_channel();
        let in_flight = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        tokio::spawn(deliver(write, receive, std::sync::Arc::clone(&in_flight)));
        Link {
            inner: Inner::Delayed {
                read,
                send,
                in_flight,
                delay,
                pause: None,
            },
        }
    }
}

/// Writes each chunk out at its time, in order; ends when the server's end
/// is gone and everything sent is delivered, or the client has left.
async fn deliver<S: AsyncWrite>(
    mut write: WriteHalf<S>,
    mut receive: mpsc::UnboundedReceiver<Chunk>,
    in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let mut queue: VecDeque<Chunk> = VecDeque::new();
    loop {
        let chunk = match queue.pop_front() {
            Some(c) => c,
            None => match receive.recv().await {
                Some(c) => c,
                None => return,
            },
        };
        match chunk {
            Chunk::Data(at, bytes) => {
                tokio::time::sleep_until(at).await;
                let done = write.write_all(&bytes).await.is_ok();
                in_flight.fetch_sub(bytes.len(), std::sync::atomic::Ordering::AcqRel);
                if !done {
                    return;
                }
                // Whatever else is due by now goes out with it.
                while let Ok(next) = receive.try_recv() {
                    queue.push_back(next);
                }
            }
            Chunk::Shutdown(at) => {
                tokio::time::sleep_until(at).await;
                let _ = write.shutdown().await;
                return;
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Link<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Direct(s) => Pin::new(s).poll_read(cx, buf),
            Inner::Delayed { read, .. } => Pin::new(read).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Link<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Direct(s) => Pin::new(s).poll_write(cx, buf),
            Inner::Delayed {
                send,
                in_flight,
                delay,
                pause,
                ..
            } => {
                use std::sync::atomic::Ordering;
                if in_flight.load(Ordering::Acquire) >= MAX_IN_FLIGHT {
                    // Look again shortly: the sending task drains at the
                    // pace of the client.
                    let sleep = pause.get_or_insert_with(|| {
                        Box::pin(tokio::time::sleep(Duration::from_millis(5)))
                    });
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *pause = None;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                in_flight.fetch_add(buf.len(), Ordering::AcqRel);
                let at = Instant::now() + *delay;
                if send.send(Chunk::Data(at, buf.to_vec())).is_err() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the client has left",
                    )));
                }
                Poll::Ready(Ok(buf.len()))
            }
        }
    }

    // rustls hands over its records as one vectored write (and only one
    // when it sends its last alert): all of it must go, as with the
    // socket itself.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Inner::Direct(s) = &mut this.inner {
            return Pin::new(s).poll_write_vectored(cx, bufs);
        }
        let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        Pin::new(this).poll_write(cx, &all)
    }

    fn is_write_vectored(&self) -> bool {
        match &self.inner {
            Inner::Direct(s) => s.is_write_vectored(),
            Inner::Delayed { .. } => true,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Direct(s) => Pin::new(s).poll_flush(cx),
            // Written is on the wire.
            Inner::Delayed { .. } => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Direct(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Delayed { send, delay, .. } => {
                let _ = send.send(Chunk::Shutdown(Instant::now() + *delay));
                Poll::Ready(Ok(()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn writes_arrive_in_order_and_then_the_close() {
        let (server, mut client) = tokio::io::duplex(1024);
        let mut link = Link::new(server, Duration::from_millis(1));
        link.write_all(b"220 one\r\n").await.expect("write");
        link.write_all(b"250 two\r\n").await.expect("write");
        link.shutdown().await.expect("shutdown");
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.expect("read");
        assert_eq!(got, b"220 one\r\n250 two\r\n");
    }

    #[tokio::test]
    async fn nothing_arrives_before_the_delay() {
        use futures_util::FutureExt;
        let (server, mut client) = tokio::io::duplex(1024);
        let mut link = Link::new(server, Duration::from_secs(3600));
        link.write_all(b"220 held\r\n").await.expect("write");
        tokio::task::yield_now().await;
        let mut one = [0u8; 1];
        assert!(
            client.read(&mut one).now_or_never().is_none(),
            "the write is still on the link"
        );
    }

    #[tokio::test]
    async fn a_zero_delay_is_the_plain_stream() {
        let (server, mut client) = tokio::io::duplex(1024);
        let mut link = Link::new(server, Duration::ZERO);
        assert!(matches!(link.inner, Inner::Direct(_)));
        link.write_all(b"x").await.expect("write");
        let mut one = [0u8; 1];
        client.read_exact(&mut one).await.expect("read");
        assert_eq!(&one, b"x");
    }
}
