//! When each part of one domain's scan ran: every DNS lookup, the policy
//! fetch and each STARTTLS session, in milliseconds from the domain's scan
//! start (the JSON's `timings`), so that a slow server can be named and the
//! critical path read off one scan.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;

use crate::dns::{Answer, Dns, DnssecMode, display_name};

/// One DNS lookup (the resolver's retries and validation included).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LookupTiming {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A span of time.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Span {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One session as this domain saw it. A session shared with a domain
/// scanned earlier in the run (same address and SNI) starts before this
/// domain did: its times are then negative.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionTiming {
    pub mx: String,
    pub ip: IpAddr,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The domain's timings, as serialised.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Timings {
    /// In the order they ended.
    pub lookups: Vec<LookupTiming>,
    /// The MTA-STS policy fetch, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_fetch: Option<Span>,
    /// The domain's sessions, in the order of `sessions`.
    pub sessions: Vec<SessionTiming>,
}

/// The clock of one domain's scan and what it recorded.
pub struct Timeline {
    start: Instant,
    recorded: Mutex<Timings>,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline::new()
    }
}

impl Timeline {
    /// Starts the clock.
    pub fn new() -> Timeline {
        Timeline {
            start: Instant::now(),
            recorded: Mutex::new(Timings::default()),
        }
    }

    /// Milliseconds from the domain's start to `t` (negative before it).
    pub fn at(&self, t: Instant) -> i64 {
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match t.checked_duration_since(self.start) {
            Some(after) => ms(after),
            None => -ms(self.start.duration_since(t)),
        }
    }

    pub fn span(&self, start: Instant, end: Instant) -> Span {
        Span {
            start_ms: self.at(start),
            end_ms: self.at(end),
        }
    }

    fn with<F: FnOnce(&mut Timings)>(&self, f: F) {
        // A poisoned lock only loses timings, never the scan.
        if let Ok(mut t) = self.recorded.lock() {
            f(&mut t);
        }
    }

    pub fn policy_fetch(&self, start: Instant, end: Instant) {
        let span = self.span(start, end);
        self.with(|t| t.policy_fetch = Some(span));
    }

    pub fn session(&self, mx: &str, ip: IpAddr, start: Instant, end: Instant) {
        let span = self.span(start, end);
        self.with(|t| {
            t.sessions.push(SessionTiming {
                mx: mx.to_string(),
                ip,
                start_ms: span.start_ms,
                end_ms: span.end_ms,
            });
        });
    }

    /// What was recorded.
    pub fn finish(&self) -> Timings {
        self.recorded.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

async fn timed(
    timeline: &Timeline,
    name: &Name,
    rtype: RecordType,
    lookup: impl std::future::Future<Output = Answer>,
) -> Answer {
    let start = Instant::now();
    let answer = lookup.await;
    let span = timeline.span(start, Instant::now());
    timeline.with(|t| {
        t.lookups.push(LookupTiming {
            name: display_name(name),
            rtype: rtype.to_string(),
            start_ms: span.start_ms,
            end_ms: span.end_ms,
        });
    });
    answer
}

/// The resolver, with each lookup's start and end recorded on a timeline.
/// A name and type asked twice in one scan (the domain's own MX, again as
/// the domain of a report address) is asked once: the second caller gets
/// the first one's answer.
pub struct TimedDns<'a> {
    dns: &'a Dns,
    pub timeline: &'a Timeline,
    asked: Mutex<HashMap<(Name, RecordType), OneLookup<'a>>>,
}

/// A lookup of the scan, awaited by everyone who asks the same.
type OneLookup<'a> = Shared<BoxFuture<'a, Answer>>;

impl<'a> TimedDns<'a> {
    pub fn new(dns: &'a Dns, timeline: &'a Timeline) -> TimedDns<'a> {
        TimedDns {
            dns,
            timeline,
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// [`Dns::lookup`], timed, once per name and type.
    pub async fn lookup(&self, name: &Name, rtype: RecordType) -> Answer {
        let once = self
            .asked
            .lock()
            // An insert does not panic half-way: a poisoned map is whole.
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((name.clone(), rtype))
            .or_insert_with(|| {
                let (dns, timeline, name) = (self.dns, self.timeline, name.clone());
                async move { timed(timeline, &name, rtype, dns.lookup(&name, rtype)).await }
                    .boxed()
                    .shared()
            })
            .clone();
        once.await
    }

    /// [`Dns::lookup_mx_host`], timed (the run shares these already).
    pub async fn lookup_mx_host(&self, name: &Name, rtype: RecordType) -> Answer {
        timed(
            self.timeline,
            name,
            rtype,
            self.dns.lookup_mx_host(name, rtype),
        )
        .await
    }

    pub fn mode(&self) -> DnssecMode {
        self.dns.mode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_before_the_start_are_negative_and_spans_keep_their_order() {
        let timeline = Timeline::new();
        let start = timeline.start;
        let earlier = start.checked_sub(Duration::from_millis(30));
        if let Some(earlier) = earlier {
            assert_eq!(timeline.at(earlier), -30);
        }
        let later = start + Duration::from_millis(120);
        assert_eq!(timeline.at(later), 120);
        timeline.policy_fetch(start, later);
        timeline.session(
            "mx1.example.test",
            IpAddr::from([192, 0, 2, 1]),
            start,
            later,
        );
        let t = timeline.finish();
        assert_eq!(
            t.policy_fetch,
            Some(Span {
                start_ms: 0,
                end_ms: 120
            })
        );
        assert_eq!(t.sessions.len(), 1);
        assert!(t.sessions[0].start_ms <= t.sessions[0].end_ms);
    }
}
