//! Raw queries sent as stub resolvers send them: retransmission with
//! backoff inside the step timeout, failover across the configured
//! resolvers, and a cap on the queries in flight to each.
//!
//! A busy resolver drops datagrams (unbound sheds load when its request
//! list is full, dnsmasq past `dns-forward-max`), and a lost UDP datagram
//! must cost a second, not the whole `--timeout`. The schedule follows
//! glibc's `res_send` and unbound-anchor: the first transmission at once,
//! the next after [`FIRST_RETRY`] of silence, each later one after twice
//! the previous wait, all inside the one step timeout. Every transmission
//! keeps listening, so a late answer to an earlier one still counts. Each
//! retransmission goes to the next resolver in turn (glibc rotates the same
//! way), so a resolver that never answers costs one interval, not the step.
//! A SERVFAIL moves on to the next resolver at once; only when every
//! resolver said SERVFAIL is the SERVFAIL handed back.
//!
//! Each query first takes a place among the [`MAX_IN_FLIGHT`] queries
//! allowed to the resolver it starts with; the step clock starts when it is
//! sent, not while it waits. A query that never got a place, or that went
//! unanswered while other queries were waiting for a place, failed because
//! of the scanner's own load: [`Failure::Overloaded`], which the report
//! must not blame on the domain.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::{self, FuturesUnordered, Stream};
use hickory_proto::op::{DnsRequest, DnsResponse, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::DnsHandle;
use hickory_resolver::net::{DnsError, NetError};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::wire::{self, QueryFlags, WireError};

/// Silence after the first transmission before the second (glibc's
/// `RES_TIMEOUT` is 5 s for far resolvers; a local resolver that has not
/// answered within a second has lost the datagram or is recursing, and a
/// copy of the query costs it nothing).
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Most transmissions of one query, over all resolvers (1 + 1 + 2 + 4 s
/// already exceeds the default step timeout).
pub const MAX_TRANSMISSIONS: usize = 6;
/// Queries in flight to one resolver at once. dnsmasq forwards at most 150
/// (`dns-forward-max`); unbound's request list is 1024 per thread but it
/// drops beyond it. Staying under the smallest common limit keeps the
/// scanner from causing the drops it would then retransmit.
pub const MAX_IN_FLIGHT: usize = 100;
/// How many step timeouts a query may wait for a place in the queue before
/// it is given up as the scanner's own overload.
const QUEUE_WAIT_STEPS: u32 = 4;

/// Why a query got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The resolvers were asked and gave no usable answer: about the name
    /// (or the resolvers), in words.
    Unanswered(String),
    /// The scanner's own queue was full: nothing is known about the name.
    Overloaded(String),
}

impl Failure {
    pub fn text(&self) -> &str {
        match self {
            Failure::Unanswered(t) | Failure::Overloaded(t) => t,
        }
    }
}

/// [`Failure::Overloaded`] as it travels through hickory's validator (an
/// I/O error's source), so that the lookup can still tell it apart.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OverloadedError(pub String);

/// The scanner's overload, when `e` carries one (see [`OverloadedError`]).
pub fn overload_in(e: &NetError) -> Option<String> {
    match e {
        NetError::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<OverloadedError>())
            .map(|o| o.0.clone()),
        _ => None,
    }
}

struct Server {
    addr: SocketAddr,
    places: Semaphore,
    /// Queries waiting for a place right now.
    waiting: AtomicUsize,
    /// Left out of the run by the start-up check (silent).
    left_out: AtomicBool,
}

/// The resolvers of a run, shared by every query.
#[derive(Clone)]
pub struct Transport {
    servers: Arc<[Server]>,
    step: Duration,
    /// Queries in flight allowed per resolver.
    cap: usize,
    /// Where the next query starts, so queries spread over the resolvers.
    next: Arc<AtomicUsize>,
}

impl Transport {
    /// `servers` must not be empty; `step` bounds each query once sent.
    pub fn new(servers: &[SocketAddr], step: Duration) -> Transport {
        Transport::with_cap(servers, step, MAX_IN_FLIGHT)
    }

    /// Like `new`, with `cap` queries in flight per resolver instead of
    /// [`MAX_IN_FLIGHT`].
    pub fn with_cap(servers: &[SocketAddr], step: Duration, cap: usize) -> Transport {
        let cap = cap.max(1);
        Transport {
            servers: servers
                .iter()
                .map(|addr| Server {
                    addr: *addr,
                    places: Semaphore::new(cap),
                    waiting: AtomicUsize::new(0),
                    left_out: AtomicBool::new(false),
                })
                .collect(),
            step,
            cap,
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Queries in flight allowed to each resolver.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// How many resolvers there are (left out or not).
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Whether a query is waiting for a place right now: a timeout now is
    /// likely the scanner's own load.
    pub fn busy(&self) -> bool {
        self.servers
            .iter()
            .any(|s| s.waiting.load(Ordering::Relaxed) > 0)
    }

    /// Leaves every resolver not in `usable` out of later queries (the
    /// start-up check found it silent). Leaving all out changes nothing.
    pub fn keep_only(&self, usable: &[SocketAddr]) {
        if !self.servers.iter().any(|s| usable.contains(&s.addr)) {
            return;
        }
        for s in self.servers.iter() {
            s.left_out
                .store(!usable.contains(&s.addr), Ordering::Relaxed);
        }
    }

    /// Asks `name`/`rtype` with the retransmission schedule, starting with
    /// the next resolver in turn.
    pub async fn query(
        &self,
        name: &Name,
        rtype: RecordType,
        flags: QueryFlags,
    ) -> Result<DnsResponse, Failure> {
        if self.servers.is_empty() {
            return Err(Failure::Unanswered("no resolver configured".into()));
        }
        let all = self.servers.len();
        let usable: Vec<usize> = (0..all)
            .filter(|&i| !self.servers[i].left_out.load(Ordering::Relaxed))
            .collect();
        let n = usable.len().max(1);
        let at = |i: usize| usable.get(i % n).copied().unwrap_or(0);
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        // Prefer a resolver with a free place; wait on the first otherwise.
        let start = (0..n)
            .map(|i| first + i)
            .find(|&i| self.servers[at(i)].places.available_permits() > 0)
            .unwrap_or(first);
        let server = &self.servers[at(start)];
        server.waiting.fetch_add(1, Ordering::Relaxed);
        let wait = self.step.saturating_mul(QUEUE_WAIT_STEPS);
        let place = tokio::time::timeout(wait, server.places.acquire()).await;
        server.waiting.fetch_sub(1, Ordering::Relaxed);
        let _place = match place {
            Ok(Ok(p)) => p,
            _ => {
                return Err(Failure::Overloaded(format!(
                    "not asked: the scanner's own queue to the resolver {} stayed full ({} queries in flight) for {} s; scan again with a lower --concurrency or more --resolver",
                    server.addr,
                    self.cap,
                    wait.as_secs_f64()
                )));
            }
        };
        let order: Vec<SocketAddr> = (0..n).map(|i| self.servers[at(start + i)].addr).collect();
        let result = schedule(&order, name, rtype, flags, self.step).await;
        result.map_err(|why| {
            if self.busy() {
                Failure::Overloaded(format!(
                    "{why}, while the scanner had more queries waiting than it sends a resolver at once ({}); the scanner's own load is the likely cause: scan again with a lower --concurrency",
                    self.cap
                ))
            } else {
                Failure::Unanswered(why)
            }
        })
    }
}

/// Sends `name`/`rtype` to `server` alone with the retransmission
/// schedule (the start-up check asks each resolver on its own).
pub async fn exchange(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    flags: QueryFlags,
    step: Duration,
) -> Result<DnsResponse, WireError> {
    schedule(&[server], name, rtype, flags, step)
        .await
        .map_err(|detail| WireError::Unanswered { server, detail })
}

/// The retransmission schedule over `servers` (in this order, round and
/// round), bounded by `step` from the first transmission. The error says
/// what each resolver did.
pub async fn schedule(
    servers: &[SocketAddr],
    name: &Name,
    rtype: RecordType,
    flags: QueryFlags,
    step: Duration,
) -> Result<DnsResponse, String> {
    let deadline = Instant::now() + step;
    let mut pending = FuturesUnordered::new();
    let mut sent = 0usize;
    let mut interval = FIRST_RETRY;
    let mut next_at = Instant::now();
    let mut servfail: Option<DnsResponse> = None;
    let mut servfail_from = 0usize;
    let mut errors: Vec<String> = Vec::new();
    loop {
        let may_send = sent < MAX_TRANSMISSIONS && next_at < deadline;
        tokio::select! {
            biased;
            Some((server, reply)) = pending.next() => {
                match reply {
                    Ok(m) if is_servfail(&m) => {
                        servfail_from += 1;
                        servfail = Some(m);
                        if servfail_from >= servers.len() {
                            break;
                        }
                        // glibc and unbound-anchor move on to the next
                        // server at once: this one will not do better.
                        next_at = Instant::now();
                    }
                    Ok(m) => return Ok(m),
                    Err(e) => {
                        errors.push(format!("{server}: {e}"));
                        next_at = Instant::now();
                    }
                }
            }
            () = tokio::time::sleep_until(next_at), if may_send => {
                let server = servers[sent % servers.len()];
                sent += 1;
                let query = wire::encode(name, rtype, flags);
                pending.push(async move {
                    let reply = match query {
                        Ok((bytes, id)) => wire::udp_then_tcp(server, &bytes, id).await,
                        Err(e) => Err(e),
                    };
                    (server, reply)
                });
                next_at = Instant::now() + interval;
                interval = interval.saturating_mul(2);
            }
            () = tokio::time::sleep_until(deadline) => break,
            else => break,
        }
    }
    if let Some(m) = servfail {
        return Ok(m);
    }
    let names: Vec<String> = servers.iter().map(SocketAddr::to_string).collect();
    let mut why = format!(
        "no answer from {} within {} s ({sent} transmission{} from {} s apart, doubling)",
        names.join(", "),
        step.as_secs_f64(),
        if sent == 1 { "" } else { "s" },
        FIRST_RETRY.as_secs_f64()
    );
    if !errors.is_empty() {
        why.push_str(": ");
        why.push_str(&errors.join("; "));
    }
    Err(why)
}

/// The transport as a hickory `DnsHandle`, under the local validator: its
/// queries get the same schedule, failover and cap as the raw ones, and
/// answers come back as hickory's name server pool hands them out
/// (negative answers and error codes as `DnsError`s).
#[derive(Clone)]
pub struct Handle(pub Transport);

impl DnsHandle for Handle {
    type Response = Pin<Box<dyn Stream<Item = Result<DnsResponse, NetError>> + Send>>;
    type Runtime = TokioRuntimeProvider;

    fn send(&self, request: DnsRequest) -> Self::Response {
        let transport = self.0.clone();
        Box::pin(stream::once(async move {
            let query = request
                .queries
                .first()
                .cloned()
                .ok_or_else(|| NetError::from("a request without a query"))?;
            let flags = QueryFlags {
                dnssec_ok: request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok),
                checking_disabled: request.metadata.checking_disabled,
            };
            let response = transport
                .query(query.name(), query.query_type(), flags)
                .await
                .map_err(|f| match f {
                    Failure::Overloaded(text) => {
                        NetError::from(std::io::Error::other(OverloadedError(text)))
                    }
                    Failure::Unanswered(text) => NetError::from(text),
                })?;
            DnsError::from_response(response).map_err(NetError::from)
        }))
    }
}

fn is_servfail(m: &DnsResponse) -> bool {
    m.metadata.response_code == ResponseCode::ServFail
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UdpSocket;

    /// A UDP socket that reads queries and never answers: a resolver that
    /// has lost them.
    async fn black_hole() -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while socket.recv_from(&mut buf).await.is_ok() {}
        });
        (addr, task)
    }

    #[tokio::test]
    async fn a_silent_resolver_gets_retransmissions_that_double_inside_the_step() {
        let (addr, task) = black_hole().await;
        let name = Name::from_ascii("example.").expect("name");
        let flags = QueryFlags {
            dnssec_ok: false,
            checking_disabled: false,
        };
        let step = Duration::from_millis(3500);
        let err = schedule(&[addr], &name, RecordType::SOA, flags, step)
            .await
            .expect_err("nothing answers");
        // Sent at 0, 1 and 3 s; the next would be at 7 s, past the step.
        assert!(err.contains("3 transmissions"), "{err}");
        task.abort();
    }
}
