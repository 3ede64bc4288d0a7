//! Whether senders with short policy-fetch timeouts get the policy (pure).
//!
//! RFC 8461 §3.3 suggests senders allow one minute for the policy fetch,
//! and mxtls waits that long by default (`--policy-timeout`). Deployed
//! senders often allow far less: a policy host that needs a few seconds is
//! served to some senders and silently missed by others, which then deliver
//! as if the domain had no MTA-STS. This module knows the whole-fetch
//! timeouts of widely deployed senders and turns a slow but successful
//! fetch into a warning that names the ones that would miss it.
//!
//! The table lists whole-request timeouts, read from each project's source:
//! - postfix-tlspol (Go, github.com/Zuplu/postfix-tlspol): `http.Client`
//!   `Timeout: REQUEST_TIMEOUT`, 2 s (`internal/server.go`); Go's client
//!   timeout covers connecting, the TLS handshake, the headers and the body.
//! - postfix-mta-sts-resolver (Python, github.com/Snawoot/postfix-mta-sts-
//!   resolver): `aiohttp.ClientTimeout(total=timeout)` with the default
//!   `timeout` of 4 s (`defaults.py`), configurable per zone.
//!
//! Senders that wait longer (Stalwart's `mtaStsTimeout` defaults to five
//! minutes; RFC 8461 suggests one) are not listed: a fetch that outlasts
//! them fails here too, as a timeout.
//!
//! The warning threshold is the shortest of these timeouts, 2 s: a fetch
//! slower than that is already missed by a listed sender. It is measured
//! from this scanner, from the first connection attempt to the end of the
//! body; the DNS lookup of the policy host is not in it, while both listed
//! senders count their own lookup against their timeout. A sender on
//! another network sees its own delays.

use std::net::SocketAddr;
use std::time::Duration;

use super::fetch::FetchOutcome;
use crate::finding::{Code, Finding, Severity};

/// A deployed sender and the time it allows the whole policy fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderTimeout {
    /// The sender, as its users know it.
    pub name: &'static str,
    /// Its whole-fetch timeout with the default configuration.
    pub timeout: Duration,
}

/// Whole-fetch timeouts of deployed senders, shortest first (see the
/// module documentation for where each comes from).
pub const KNOWN_SENDERS: [SenderTimeout; 2] = [
    SenderTimeout {
        name: "postfix-tlspol",
        timeout: Duration::from_secs(2),
    },
    SenderTimeout {
        name: "postfix-mta-sts-resolver (default timeout)",
        timeout: Duration::from_secs(4),
    },
];

/// A successful fetch slower than this gets an `sts-policy-slow` warning:
/// the shortest timeout of [`KNOWN_SENDERS`].
pub const SLOW_AFTER: Duration = KNOWN_SENDERS[0].timeout;

/// The senders of [`KNOWN_SENDERS`] whose timeout a fetch of `elapsed`
/// outlasts.
pub fn senders_missing(elapsed: Duration) -> Vec<SenderTimeout> {
    KNOWN_SENDERS
        .iter()
        .filter(|sender| elapsed > sender.timeout)
        .copied()
        .collect()
}

/// The `sts-policy-slow` warning for a fetch that succeeded but took longer
/// than `slow_after`; `None` for a fast fetch and for failed fetches (those
/// have findings of their own). `subject` is the policy URL.
pub fn slow_fetch_finding(
    subject: &str,
    fetch: &FetchOutcome,
    slow_after: Duration,
) -> Option<Finding> {
    let FetchOutcome::Fetched {
        elapsed_ms,
        address,
        ..
    } = fetch
    else {
        return None;
    };
    let elapsed = Duration::from_millis(*elapsed_ms);
    if elapsed <= slow_after {
        return None;
    }
    Some(Finding::new(
        Severity::Warning,
        Code::StsPolicySlow,
        subject,
        slow_message(elapsed, *address, slow_after),
        "Serve the policy within a second or two: a static file on the policy host, no slow backend or proxy in the way. RFC 8461 §3.3 suggests senders wait a minute, but some wait only seconds, and a sender that misses the policy delivers as if the domain had no MTA-STS.",
    ))
}

fn slow_message(elapsed: Duration, address: SocketAddr, slow_after: Duration) -> String {
    let took = format!(
        "the MTA-STS policy took {:.1} s to fetch from {address}",
        elapsed.as_secs_f64()
    );
    let missing = senders_missing(elapsed);
    if missing.is_empty() {
        return format!(
            "{took}, more than {:.1} s: senders that allow the fetch less time than that get no policy",
            slow_after.as_secs_f64()
        );
    }
    let names: Vec<String> = missing
        .iter()
        .map(|s| format!("{} ({} s)", s.name, s.timeout.as_secs()))
        .collect();
    format!(
        "{took}: senders that give up sooner get no policy, among them {}",
        names.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(elapsed_ms: u64) -> FetchOutcome {
        FetchOutcome::Fetched {
            content_type: Some("text/plain".into()),
            media_type_ok: true,
            body: Vec::new(),
            bytes: 0,
            address: "192.0.2.1:443".parse().expect("literal address"),
            elapsed_ms,
            chain: Vec::new(),
        }
    }

    #[test]
    fn the_threshold_is_the_shortest_known_sender_timeout() {
        let shortest = KNOWN_SENDERS.iter().map(|s| s.timeout).min();
        assert_eq!(Some(SLOW_AFTER), shortest);
        assert!(
            KNOWN_SENDERS
                .windows(2)
                .all(|w| w[0].timeout <= w[1].timeout),
            "the table is sorted, shortest first"
        );
    }

    #[test]
    fn a_fetch_is_slow_only_past_the_threshold() {
        let url = "https://mta-sts.example.com/.well-known/mta-sts.txt";
        for (rule, elapsed_ms, want_names) in [
            ("a fast fetch is fine", 150, None),
            ("exactly the threshold is not slow", 2_000, None),
            (
                "past 2 s postfix-tlspol misses it",
                2_600,
                Some(&["postfix-tlspol (2 s)"][..]),
            ),
            (
                "past 4 s both listed senders miss it",
                4_200,
                Some(&["postfix-tlspol (2 s)", "postfix-mta-sts-resolver"][..]),
            ),
        ] {
            let finding = slow_fetch_finding(url, &fetched(elapsed_ms), SLOW_AFTER);
            match (finding, want_names) {
                (None, None) => {}
                (Some(f), Some(names)) => {
                    assert_eq!(f.code, Code::StsPolicySlow, "{rule}");
                    assert_eq!(f.severity, Severity::Warning, "{rule}");
                    assert_eq!(f.subject, url, "{rule}");
                    assert!(f.message.contains("192.0.2.1:443"), "{rule}: {}", f.message);
                    for name in names {
                        assert!(f.message.contains(name), "{rule}: {}", f.message);
                    }
                }
                (got, _) => panic!("{rule}: got {got:?}"),
            }
        }
    }

    #[test]
    fn a_lower_threshold_still_says_what_it_measured() {
        let finding = slow_fetch_finding("u", &fetched(900), Duration::from_millis(500))
            .expect("900 ms is past a 500 ms threshold");
        assert!(
            finding.message.contains("0.9 s") && finding.message.contains("more than 0.5 s"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn failed_fetches_are_not_called_slow() {
        let failed = FetchOutcome::FetchError {
            reason_code: super::super::fetch::FetchErrorReason::Timeout,
            detail: String::new(),
            address: None,
            bytes_read: 0,
            elapsed_ms: 60_000,
        };
        assert_eq!(slow_fetch_finding("u", &failed, SLOW_AFTER), None);
    }
}
