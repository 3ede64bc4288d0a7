//! The MX hosts' answers of a run: the TLSA RRset at `_25._tcp.<host>` and
//! the host's A and AAAA records, asked once per run, not once per domain.
//!
//! Assessment lists are many domains behind a few mail providers: without
//! this, a batch of 10 000 domains on one provider sends that provider's
//! name servers 30 000 identical queries. Every `--dnssec` mode goes
//! through here (the local validator's own response cache is not shared
//! by concurrent askers, and the raw client of `resolver` and `off` modes
//! has none).
//!
//! - An answer is kept for its TTL (RFC 2181 §5.2: the smallest of the
//!   RRset's; for a denial the SOA's negative TTL, RFC 2308 §5), at most
//!   [`MAX_AGE`]; a denial without an SOA is not kept (RFC 2308 §5).
//! - Failed lookups are not kept, the scanner's own overload included: the
//!   next domain asks again.
//! - Domains asking for the same name at once share one lookup.
//! - At most [`ENTRIES`] names are kept; past that the oldest goes first,
//!   unless it was read since its last turn (CLOCK's second chance,
//!   `clock_map`): a provider's hosts stay while the one-off MX hosts of
//!   self-hosted domains pass through, at O(1) amortised per insertion.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::{Answer, Status};
use crate::clock_map::ClockMap;

/// Most MX-host answers kept (a provider has a handful of hosts, each with
/// three answers: 4 096 covers over a thousand distinct MX hosts).
pub const ENTRIES: usize = 4_096;
/// Longest an answer is kept, whatever its TTL: a batch that runs for
/// hours sees a changed TLSA set within minutes, as a sender would.
pub const MAX_AGE: Duration = Duration::from_secs(300);

type Key = (Name, RecordType);

enum Slot {
    /// Asked now: later askers wait for the same answer.
    Asking(Arc<OnceCell<Answer>>),
    /// Answered; kept until `expires`.
    Kept {
        answer: Box<Answer>,
        expires: Instant,
    },
}

/// A kept answer past its time (one still being asked is not).
fn is_stale(slot: &Slot) -> bool {
    matches!(slot, Slot::Kept { expires, .. } if *expires <= Instant::now())
}

/// The run's MX-host answers, shared by every domain of the run.
#[derive(Clone)]
pub struct HostAnswers {
    inner: Arc<Mutex<ClockMap<Key, Slot>>>,
}

impl Default for HostAnswers {
    fn default() -> HostAnswers {
        HostAnswers {
            inner: Arc::new(Mutex::new(ClockMap::new(ENTRIES))),
        }
    }
}

impl HostAnswers {
    /// The answer for `name`/`rtype`: kept, being asked by another domain,
    /// or asked now with `ask()`. The lookup is made (and boxed) only when
    /// it is asked: most calls of a batch find the answer kept, and a
    /// lookup's future is large to carry along unused.
    pub async fn get<F, Fut>(&self, name: &Name, rtype: RecordType, ask: F) -> Answer
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        self.get_at(Instant::now(), name, rtype, ask).await
    }

    /// [`HostAnswers::get`] as of `now`; a new answer's TTL counts from
    /// `now` (when it was asked), so it is never kept too long.
    async fn get_at<F, Fut>(&self, now: Instant, name: &Name, rtype: RecordType, ask: F) -> Answer
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        let key = (name.to_lowercase(), rtype);
        let cell = {
            let Ok(mut inner) = self.inner.lock() else {
                return Box::pin(ask()).await;
            };
            match inner.get(&key) {
                Some(Slot::Kept { answer, expires }) if *expires > now => {
                    return Answer::clone(answer);
                }
                Some(Slot::Asking(cell)) => Arc::clone(cell),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    inner.insert(key.clone(), Slot::Asking(Arc::clone(&cell)), is_stale);
                    cell
                }
            }
        };
        // When the domain that asked first is cut off by its deadline, the
        // next waiter asks in its place (`OnceCell` hands the work on).
        let answer = cell.get_or_init(|| Box::pin(ask())).await.clone();
        if let Ok(mut inner) = self.inner.lock() {
            let ours = matches!(
                inner.get(&key),
                Some(Slot::Asking(c)) if Arc::ptr_eq(c, &cell)
            );
            if ours {
                match keep_for(&answer) {
                    Some(ttl) => inner.insert(
                        key,
                        Slot::Kept {
                            answer: Box::new(answer.clone()),
                            expires: now + ttl,
                        },
                        is_stale,
                    ),
                    None => {
                        inner.remove(&key);
                    }
                }
            }
        }
        answer
    }

    /// How many names are kept or being asked (for tests of the bound).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How long `answer` may be kept: never a failure, a denial only with its
/// SOA's negative TTL, at most [`MAX_AGE`].
fn keep_for(answer: &Answer) -> Option<Duration> {
    if answer.status == Status::Failed || answer.overloaded {
        return None;
    }
    let ttl = answer.ttl?;
    (ttl > 0).then(|| Duration::from_secs(u64::from(ttl)).min(MAX_AGE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Dnssec;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("name")
    }

    fn found(ttl: u32) -> Answer {
        Answer {
            status: Status::NoData,
            ttl: Some(ttl),
            ..Answer::failed(&name("x.test."), Dnssec::Secure, String::new())
        }
    }

    #[tokio::test]
    async fn concurrent_askers_share_one_lookup_and_later_ones_reuse_it() {
        let cache = HostAnswers::default();
        let asked = AtomicUsize::new(0);
        let ask = || async {
            asked.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            found(60)
        };
        let n = name("_25._tcp.mx.test.");
        let (a, b) = tokio::join!(
            cache.get(&n, RecordType::TLSA, ask),
            cache.get(&n, RecordType::TLSA, ask)
        );
        assert_eq!((a.status, b.status), (Status::NoData, Status::NoData));
        let upper = name("_25._TCP.MX.test.");
        cache.get(&upper, RecordType::TLSA, ask).await;
        assert_eq!(asked.load(Ordering::SeqCst), 1, "asked once for the run");
        // Another type of the same name is its own lookup.
        cache.get(&n, RecordType::A, ask).await;
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failures_overloads_and_denials_without_a_ttl_are_asked_again() {
        let cache = HostAnswers::default();
        let n = name("mx.test.");
        let overloaded = Answer::overloaded(&n, "queue full".into());
        let failed = Answer::failed(&n, Dnssec::Indeterminate, "SERVFAIL".into());
        let no_soa = Answer {
            ttl: None,
            ..found(60)
        };
        for answer in [overloaded, failed, no_soa] {
            let asked = AtomicUsize::new(0);
            for _ in 0..2 {
                cache
                    .get(&n, RecordType::A, || async {
                        asked.fetch_add(1, Ordering::SeqCst);
                        answer.clone()
                    })
                    .await;
            }
            assert_eq!(asked.load(Ordering::SeqCst), 2, "{:?}", answer.error);
            assert!(cache.is_empty());
        }
    }

    #[tokio::test]
    async fn an_answer_is_kept_for_its_ttl_and_at_most_max_age() {
        let cache = HostAnswers::default();
        let n = name("mx.test.");
        let asked = AtomicUsize::new(0);
        let ask = |ttl| {
            let asked = &asked;
            async move {
                asked.fetch_add(1, Ordering::SeqCst);
                found(ttl)
            }
        };
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        cache.get_at(at(0), &n, RecordType::A, || ask(30)).await;
        cache.get_at(at(29), &n, RecordType::A, || ask(30)).await;
        assert_eq!(asked.load(Ordering::SeqCst), 1, "within the TTL");
        cache
            .get_at(at(31), &n, RecordType::A, || ask(86_400))
            .await;
        assert_eq!(asked.load(Ordering::SeqCst), 2, "past the TTL");
        let later = 31 + MAX_AGE.as_secs() + 1;
        cache
            .get_at(at(later), &n, RecordType::A, || ask(86_400))
            .await;
        assert_eq!(
            asked.load(Ordering::SeqCst),
            3,
            "a day's TTL is cut to MAX_AGE"
        );
    }

    #[tokio::test]
    async fn the_oldest_names_go_first_past_the_bound_unless_read_since() {
        let cache = HostAnswers::default();
        let provider = name("mx.provider.test.");
        let asked = AtomicUsize::new(0);
        let ask = || async {
            asked.fetch_add(1, Ordering::SeqCst);
            found(60)
        };
        cache.get(&provider, RecordType::A, ask).await;
        // A flood of one-off hosts, the provider's read now and then.
        for i in 0..3 * ENTRIES {
            let one_off = name(&format!("mx{i}.test."));
            cache
                .get(&one_off, RecordType::A, || async { found(60) })
                .await;
            if i % 1000 == 0 {
                cache.get(&provider, RecordType::A, ask).await;
            }
        }
        assert_eq!(cache.len(), ENTRIES);
        assert_eq!(asked.load(Ordering::SeqCst), 1, "the provider stayed");
        // The newest one-off is kept; the first is long gone.
        let last = name(&format!("mx{}.test.", 3 * ENTRIES - 1));
        cache.get(&last, RecordType::A, ask).await;
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        cache.get(&name("mx0.test."), RecordType::A, ask).await;
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        assert_eq!(cache.len(), ENTRIES);
    }
}
