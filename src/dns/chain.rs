//! What the local validator asks the network (validate mode): the chain of
//! trust's DNSKEY and DS RRsets kept for the run, fetched together, and a
//! cap on queries in flight.
//!
//! hickory's validator (`DnssecDnsHandle`) walks the chain one level after
//! another (DNSKEY of the signer, then its DS, then the parent's DNSKEY…)
//! and asks the network for every level of every answer it checks: its
//! proof cache spares the signature checks, not the fetches. Most domains of
//! a batch share the root, their TLD and a few provider zones, so this layer
//! sits under the validator and:
//!
//! - keeps DNSKEY and DS answers (and NS, which the validator asks to find
//!   the zone cut of an unsigned answer) in a cache bounded to [`MAX_ENTRIES`],
//!   each for the smallest of its records' TTLs, the time left on its
//!   RRSIGs (RFC 4034 §3.1.5) and [`MAX_AGE`]; negative answers for the
//!   time their SOA allows, at most [`MAX_NEGATIVE_AGE`]. The validator
//!   checks every cached answer again (its own proof cache makes that
//!   cheap), so the cache never vouches for anything by itself;
//! - when any answer arrives signed by a zone, asks at once for the DNSKEY
//!   and DS RRsets of that zone and of every zone above it that are not
//!   cached yet, all in parallel, so the validator's walk finds them
//!   waiting (issue 14: one round trip for the chain, not one per level);
//! - hands a zone's DNSKEY answer to the validator only once its DS answer
//!   is in too: the validator's proof cache does not make concurrent
//!   lookups wait for each other, so keys handed out early are checked by
//!   every lookup waiting on them (0.6 signature checks a domain in a
//!   batch, before this);
//! - lets at most [`super::transport::MAX_IN_FLIGHT`] queries per resolver
//!   go out at once; the others wait, and [`Chain::waiting`] tells a
//!   timeout caused by the scanner's own load from one caused by the
//!   domain.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::stream::{self, Stream, StreamExt};
use hickory_proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_proto::op::{DnsRequest, DnsRequestOptions, DnsResponse, Query};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_resolver::net::xfer::DnsHandle;
use hickory_resolver::net::{DnsError, NetError};
use tokio::sync::{OnceCell, Semaphore};

use super::transport::overload_in;
use crate::clock_map::ClockMap;
use tokio::time::Instant;

/// Most DNSKEY and DS answers kept: the shared zones of a batch (a few
/// hundred TLDs and providers) plus two per domain in flight at
/// `--concurrency 256`. Each is one message of a few KB, so a larger bound
/// only makes memory grow with the length of the list.
pub const MAX_ENTRIES: usize = 1024;
/// Longest a positive answer is kept, whatever its TTL says.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
/// Longest a denial (NODATA, NXDOMAIN) is kept (RFC 9520 §3.2 caps cached
/// failures at 5 minutes; a denial is not a failure, but a short bound
/// keeps a DS added mid-run from being missed for long).
pub const MAX_NEGATIVE_AGE: Duration = Duration::from_secs(300);

type Cached = (Instant, Result<DnsResponse, NetError>);
type Slot = Arc<OnceCell<Cached>>;

struct Shared {
    slots: Mutex<ClockMap<(LowerName, RecordType), Slot>>,
    places: Semaphore,
    waiting: AtomicUsize,
    /// Queries sent upstream (for the bench and tests).
    sent: AtomicU64,
    /// Queries that got no answer after waiting for a place, or that the
    /// transport gave up as its own overload: see [`Chain::lost`].
    lost: AtomicU64,
}

/// The validator's upstream: `H` (the name server pool) behind the cache.
#[derive(Clone)]
pub struct Chain<H> {
    inner: H,
    shared: Arc<Shared>,
}

impl<H: DnsHandle> Chain<H> {
    /// `in_flight` bounds the queries sent at once through `inner`.
    pub fn new(inner: H, in_flight: usize) -> Chain<H> {
        Chain {
            inner,
            shared: Arc::new(Shared {
                slots: Mutex::new(ClockMap::new(MAX_ENTRIES)),
                places: Semaphore::new(in_flight.max(1)),
                waiting: AtomicUsize::new(0),
                sent: AtomicU64::new(0),
                lost: AtomicU64::new(0),
            }),
        }
    }

    /// Queries waiting for a place right now: nonzero means the scanner
    /// itself is the bottleneck.
    pub fn waiting(&self) -> usize {
        self.shared.waiting.load(Ordering::Relaxed)
    }

    /// Queries sent upstream so far.
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }

    /// Queries lost to the scanner's own load so far. hickory's validator
    /// turns a chain query that got no answer into a bogus proof; a bogus
    /// answer while this count moved may be the scanner's doing, not the
    /// domain's.
    pub fn lost(&self) -> u64 {
        self.shared.lost.load(Ordering::Relaxed)
    }

    /// Puts an answer the start-up check already holds (the root DNSKEY
    /// RRset) into the cache, so the validator does not ask again.
    pub fn seed(&self, response: DnsResponse) {
        let Some(query) = response.queries.first().cloned() else {
            return;
        };
        if !cacheable(query.query_type()) {
            return;
        }
        let expiry = expiry(&Ok(response.clone()));
        if expiry <= Instant::now() {
            return;
        }
        let slot: Slot = Arc::new(OnceCell::new_with(Some((expiry, Ok(response)))));
        if let Ok(mut slots) = self.shared.slots.lock() {
            slots.insert(key(&query), slot, is_stale);
        }
    }

    /// Lets a query already on its way stand for the validator's own: the
    /// start-up check asks every resolver for the root DNSKEY RRset beside
    /// the first queries, and the validator needs the same RRset at once.
    /// The slot for `query` is claimed before this returns, so whoever
    /// asks for it from then on waits for `answer` instead of sending the
    /// query again (one root DNSKEY query per run). `None` (the check got
    /// no usable answer, so the run stops) fails the waiters and is not
    /// kept.
    pub async fn share<F>(&self, query: Query, answer: F)
    where
        F: std::future::Future<Output = Option<DnsResponse>> + Send + 'static,
    {
        let (slot, fresh) = self.slot(&query);
        if !fresh {
            return;
        }
        let (claimed, is_claimed) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            slot.get_or_init(|| async move {
                let _ = claimed.send(());
                match answer.await {
                    Some(response) => {
                        let result = Ok(response);
                        (expiry(&result), result)
                    }
                    None => (
                        Instant::now(),
                        Err(NetError::from(
                            "the resolver gave the start-up check no usable root DNSKEY RRset",
                        )),
                    ),
                }
            })
            .await;
        });
        // Initialising has begun: nobody else can start a fetch for it.
        let _ = is_claimed.await;
    }

    /// One query through the cap.
    async fn fetch(&self, request: DnsRequest) -> Result<DnsResponse, NetError> {
        let (place, waited) = match self.shared.places.try_acquire() {
            Ok(place) => (Ok(place), false),
            Err(_) => {
                self.shared.waiting.fetch_add(1, Ordering::Relaxed);
                let place = self.shared.places.acquire().await;
                self.shared.waiting.fetch_sub(1, Ordering::Relaxed);
                (place, true)
            }
        };
        let _place = place.map_err(|_| NetError::from("the query queue is closed"))?;
        self.shared.sent.fetch_add(1, Ordering::Relaxed);
        let mut responses = self.inner.send(request);
        let result = match responses.next().await {
            Some(result) => result,
            None => Err(NetError::from("no response")),
        };
        if let Err(e) = &result {
            let unanswered = !matches!(e, NetError::Dns(_));
            if overload_in(e).is_some() || (waited && unanswered) {
                self.shared.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
        result
    }

    /// The slot for `query`: the cached one while fresh, else a new one.
    /// The flag says the slot is new (nobody is fetching it yet).
    fn slot(&self, query: &Query) -> (Slot, bool) {
        let now = Instant::now();
        let Ok(mut slots) = self.shared.slots.lock() else {
            return (Arc::new(OnceCell::new()), true);
        };
        let k = key(query);
        if let Some(slot) = slots.get(&k) {
            match slot.get() {
                Some((until, _)) if *until <= now => {}
                _ => return (slot.clone(), false),
            }
        }
        let slot: Slot = Arc::new(OnceCell::new());
        slots.insert(k, slot.clone(), is_stale);
        (slot, true)
    }

    /// A DNSKEY or DS answer, from the cache or fetched once for everyone
    /// asking at the same time.
    async fn cached(
        &self,
        query: Query,
        options: DnsRequestOptions,
    ) -> Result<DnsResponse, NetError> {
        let (slot, _) = self.slot(&query);
        let (_, result) = slot
            .get_or_init(|| async {
                let result = self
                    .fetch(DnsRequest::from_query(query.clone(), options))
                    .await;
                // Only a fresh answer can name a zone not asked for yet.
                if let Ok(response) = &result {
                    self.prefetch(response, options);
                }
                let mut until = expiry(&result);
                if until <= Instant::now() {
                    // Not worth keeping (a timeout, a zero TTL): the next
                    // asker fetches again.
                    until = Instant::now();
                }
                (until, result)
            })
            .await;
        let result = result.clone();
        if slot
            .get()
            .is_some_and(|(until, _)| *until <= Instant::now())
        {
            if let Ok(mut slots) = self.shared.slots.lock() {
                if slots
                    .get(&key(&query))
                    .is_some_and(|s| Arc::ptr_eq(s, &slot))
                {
                    slots.remove(&key(&query));
                }
            }
        }
        result
    }

    /// Starts fetching, in the background, the DNSKEY and DS RRsets of each
    /// zone that signed something in `response` and of the zones above it.
    fn prefetch(&self, response: &DnsResponse, options: DnsRequestOptions) {
        let mut signers: Vec<Name> = Vec::new();
        for record in response.answers.iter().chain(response.authorities.iter()) {
            if let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &record.data {
                let signer = &sig.input().signer_name;
                if !signers.contains(signer) {
                    signers.push(signer.clone());
                }
            }
        }
        for signer in signers {
            self.prefetch_from(signer, options);
        }
    }

    /// Starts fetching, in the background, the DNSKEY and DS RRsets of
    /// `zone` and of every zone above it that are not cached or on their
    /// way yet.
    pub fn prefetch_from(&self, zone: Name, options: DnsRequestOptions) {
        let mut zone = zone;
        zone.set_fqdn(true);
        // At most one step per label (127).
        loop {
            let mut known = true;
            for rtype in [RecordType::DNSKEY, RecordType::DS] {
                if rtype == RecordType::DS && zone.is_root() {
                    continue;
                }
                let query = Query::query(zone.clone(), rtype);
                let (_, fresh) = self.slot(&query);
                if fresh {
                    known = false;
                    let this = self.clone();
                    tokio::spawn(async move {
                        let _ = this.cached(query, options).await;
                    });
                }
            }
            // A zone whose keys were asked before had its parents asked
            // then too: most answers of a batch stop here, at their own
            // zone, instead of walking to the root. A parent evicted since
            // is asked by the validator when it needs it.
            if known || zone.is_root() || zone.num_labels() == 0 {
                break;
            }
            zone = zone.base_name();
        }
    }
}

/// An answer past its time (one still being fetched is not).
fn is_stale(slot: &Slot) -> bool {
    slot.get()
        .is_some_and(|(until, _)| *until <= Instant::now())
}

/// The chain of trust's RRsets, and NS: the validator asks an unsigned
/// answer's owner and its ancestors for NS to find the zone cut whose DS
/// is missing (RFC 4035 §5.2), once per answer; an unsigned domain's five
/// lookups asked the same NS six times.
fn cacheable(rtype: RecordType) -> bool {
    matches!(rtype, RecordType::DNSKEY | RecordType::DS | RecordType::NS)
}

fn key(query: &Query) -> (LowerName, RecordType) {
    (LowerName::new(query.name()), query.query_type())
}

/// Until when an answer may be reused: now for anything not worth keeping.
fn expiry(result: &Result<DnsResponse, NetError>) -> Instant {
    let now = Instant::now();
    let secs = match result {
        Ok(response) => {
            let records: Vec<&Record> = response
                .answers
                .iter()
                .chain(response.authorities.iter())
                .collect();
            let ttl = records.iter().map(|r| r.ttl).min().unwrap_or(0);
            let signed_for = records
                .iter()
                .filter_map(|r| match &r.data {
                    RData::DNSSEC(DNSSECRData::RRSIG(sig)) => Some(seconds_left(sig)),
                    _ => None,
                })
                .min()
                .unwrap_or(u32::MAX);
            let cap = if response.answers.is_empty() {
                MAX_NEGATIVE_AGE
            } else {
                MAX_AGE
            };
            Duration::from_secs(u64::from(ttl.min(signed_for))).min(cap)
        }
        Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
            Duration::from_secs(u64::from(no.negative_ttl.unwrap_or(0))).min(MAX_NEGATIVE_AGE)
        }
        Err(_) => Duration::ZERO,
    };
    now + secs
}

/// Seconds until the signature expires (serial arithmetic, RFC 4034
/// §3.1.5); zero when it already has.
fn seconds_left(sig: &RRSIG) -> u32 {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let now = (now & u64::from(u32::MAX)) as u32;
    let left = sig.input().sig_expiration.get().wrapping_sub(now);
    if (left as i32) <= 0 { 0 } else { left }
}

impl<H: DnsHandle> DnsHandle for Chain<H> {
    type Response = Pin<Box<dyn Stream<Item = Result<DnsResponse, NetError>> + Send>>;
    type Runtime = H::Runtime;

    fn is_verifying_dnssec(&self) -> bool {
        self.inner.is_verifying_dnssec()
    }

    fn send(&self, request: DnsRequest) -> Self::Response {
        let this = self.clone();
        let options = *request.options();
        let query = request.queries.first().cloned();
        Box::pin(stream::once(async move {
            match query {
                Some(q)
                    if q.query_type() == RecordType::DNSKEY
                        && !q.name().is_root()
                        && request.queries.len() == 1 =>
                {
                    // The validator checks a zone's keys against its DS
                    // next. Handing out the keys before the DS is here lets
                    // every lookup waiting on them start that check, miss
                    // the proof cache together, and verify the same
                    // signatures once each; with both in hand the first
                    // check finishes before the next one looks.
                    let ds = Query::query(q.name().clone(), RecordType::DS);
                    let (keys, _) =
                        futures_util::join!(this.cached(q, options), this.cached(ds, options));
                    keys
                }
                Some(q) if cacheable(q.query_type()) && request.queries.len() == 1 => {
                    this.cached(q, options).await
                }
                _ => {
                    let result = this.fetch(request).await;
                    if let Ok(response) = &result {
                        this.prefetch(response, options);
                    }
                    result
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_chain_records_are_kept() {
        assert!(cacheable(RecordType::DNSKEY));
        assert!(cacheable(RecordType::DS));
        assert!(cacheable(RecordType::NS));
        assert!(!cacheable(RecordType::MX));
        assert!(!cacheable(RecordType::TLSA));
    }

    #[test]
    fn timeouts_are_not_kept() {
        assert!(expiry(&Err(NetError::Timeout)) <= Instant::now());
    }
}
