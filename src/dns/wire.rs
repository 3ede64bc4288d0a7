//! One DNS exchange on the wire, with the header bits we must control.
//!
//! The high-level resolver hides the header: it never sets CD and never shows
//! AD. `--dnssec resolver` needs AD (RFC 4035 §3.2.3, as Postfix trusts it)
//! and telling a bogus answer from a broken server needs CD=1 (RFC 4035
//! §3.2.2). This module sends one query over UDP, retries over TCP when the
//! answer is truncated, and bounds every step in size and time.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

/// EDNS buffer size recommended by the DNS flag day 2020: avoids fragmentation.
const UDP_PAYLOAD: u16 = 1232;
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
    #[error("no answer from {server} within {secs} s")]
    Timeout { server: SocketAddr, secs: u64 },
    #[error("network error talking to {server}: {source}")]
    Io {
        server: SocketAddr,
        source: std::io::Error,
    },
    #[error("unparseable answer from {server}: {detail}")]
    Malformed { server: SocketAddr, detail: String },
}

/// Sends `name`/`rtype` to `server` and returns the answer message.
pub async fn exchange(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    flags: QueryFlags,
    step: Duration,
) -> Result<Message, WireError> {
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.metadata.checking_disabled = flags.checking_disabled;
    query.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD);
    edns.set_dnssec_ok(flags.dnssec_ok);
    query.set_edns(edns);
    let bytes = query.to_vec().map_err(|e| WireError::Malformed {
        server,
        detail: format!("cannot encode the query: {e}"),
    })?;

    let answer = timeout(step, udp(server, &bytes, query.metadata.id))
        .await
        .map_err(|_| WireError::Timeout {
            server,
            secs: step.as_secs(),
        })??;
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    timeout(step, tcp(server, &bytes, query.metadata.id))
        .await
        .map_err(|_| WireError::Timeout {
            server,
            secs: step.as_secs(),
        })?
}

async fn udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, WireError> {
    let io = |source| WireError::Io { server, source };
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    socket.send(bytes).await.map_err(io)?;
    let mut buf = vec![0u8; usize::from(UDP_PAYLOAD).max(4096)];
    // A stray datagram (late answer to an earlier query, spoofing attempt)
    // is skipped; the caller's timeout bounds the loop.
    loop {
        let n = socket.recv(&mut buf).await.map_err(io)?;
        match Message::from_vec(&buf[..n]) {
            Ok(m) if m.metadata.id == id && m.metadata.message_type == MessageType::Response => {
                return Ok(m);
            }
            Ok(_) => continue,
            Err(e) => {
                return Err(WireError::Malformed {
                    server,
                    detail: e.to_string(),
                });
            }
        }
    }
}

async fn tcp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, WireError> {
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
    let m = Message::from_vec(&buf).map_err(|e| WireError::Malformed {
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
