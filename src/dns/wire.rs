//! One DNS exchange on the wire, with the header bits we must control.
//!
//! The high-level resolver hides the header: it never sets CD and never shows
//! AD. `--dnssec resolver` needs AD (RFC 4035 §3.2.3, as Postfix trusts it)
//! and telling a bogus answer from a broken server needs CD=1 (RFC 4035
//! §3.2.2). This module sends one query over UDP, retries over TCP when the
//! answer is truncated, and bounds every read in size; `transport` bounds
//! the time and retransmits.

use std::net::SocketAddr;

use hickory_proto::ProtoError;
use hickory_proto::op::{DnsResponse, Edns, Message, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// EDNS buffer size recommended by the DNS flag day 2020: avoids fragmentation.
const UDP_PAYLOAD: u16 = 1232;
/// Largest UDP answer read: more than the payload size we ask for, for a
/// server that ignores it (the rest of a longer datagram is cut off, and
/// the answer is then unparseable).
const RECEIVE_BUFFER: usize = 4096;
/// Largest DNS message over TCP (RFC 1035 §4.2.2 length prefix).
const TCP_MAX: usize = 65_535;

/// Header bits of a query.
#[derive(Debug, Clone, Copy)]
pub struct QueryFlags {
    /// EDNS DO: ask for DNSSEC records (RFC 3225).
    pub dnssec_ok: bool,
    /// CD: ask a validating resolver not to validate (RFC 4035 §3.2.2).
    pub checking_disabled: bool,
}

/// Why an exchange produced no message.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("{detail}")]
    Unanswered { server: SocketAddr, detail: String },
    #[error("network error talking to {server}: {source}")]
    Io {
        server: SocketAddr,
        source: std::io::Error,
    },
    #[error("unparseable answer from {server}: {detail}")]
    Malformed { server: SocketAddr, detail: String },
}

/// The query message in wire format, with a fresh random ID.
pub fn encode(
    name: &Name,
    rtype: RecordType,
    flags: QueryFlags,
) -> Result<(Vec<u8>, u16), WireError> {
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.metadata.checking_disabled = flags.checking_disabled;
    query.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD);
    edns.set_dnssec_ok(flags.dnssec_ok);
    query.set_edns(edns);
    let bytes = query.to_vec().map_err(|e| WireError::Malformed {
        server: SocketAddr::from(([0, 0, 0, 0], 0)),
        detail: format!("cannot encode the query: {e}"),
    })?;
    Ok((bytes, query.metadata.id))
}

/// One transmission over UDP, and over TCP when the answer is truncated.
/// Unbounded in time: the caller's schedule bounds it. The answer keeps its
/// wire bytes: hickory's validator takes a `DnsResponse`, and parsing once
/// is cheaper than encoding the message again.
pub async fn udp_then_tcp(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
) -> Result<DnsResponse, WireError> {
    let answer = udp(server, bytes, id).await?;
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    tcp(server, bytes, id).await
}

async fn udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<DnsResponse, WireError> {
    let io = |source| WireError::Io { server, source };
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    socket.send(bytes).await.map_err(io)?;
    // A stray datagram (late answer to an earlier query, spoofing attempt)
    // is skipped; the caller's timeout bounds the loop.
    loop {
        socket.readable().await.map_err(io)?;
        // On the stack, not in the future: a heap buffer this size per
        // query makes glibc's malloc consolidate its free lists each time.
        let mut buf = [0u8; RECEIVE_BUFFER];
        let n = match socket.try_recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(io(e)),
        };
        // Exactly the datagram: answers are kept in caches.
        match DnsResponse::from_buffer(buf[..n].to_vec()) {
            Ok(m) if m.metadata.id == id => return Ok(m),
            Ok(_) | Err(ProtoError::NotAResponse) => continue,
            Err(e) => {
                return Err(WireError::Malformed {
                    server,
                    detail: e.to_string(),
                });
            }
        }
    }
}

async fn tcp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<DnsResponse, WireError> {
    let io = |source| WireError::Io { server, source };
    let mut stream = TcpStream::connect(server).await.map_err(io)?;
    let len = u16::try_from(bytes.len()).map_err(|_| WireError::Malformed {
        server,
        detail: "query too large".into(),
    })?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await.map_err(io)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.map_err(io)?;
    let len = usize::from(u16::from_be_bytes(len)).min(TCP_MAX);
    let mut buf = vec![0u8; len];
    stream.read_exact(&mut buf).await.map_err(io)?;
    let m = DnsResponse::from_buffer(buf).map_err(|e| WireError::Malformed {
        server,
        detail: e.to_string(),
    })?;
    if m.metadata.id != id || m.metadata.op_code != OpCode::Query {
        return Err(WireError::Malformed {
            server,
            detail: "answer does not match the query".into(),
        });
    }
    Ok(m)
}
