//! Looking ahead: which certificates and DNSSEC signatures run out within
//! `--warn-days`, judged as of today or as of `--at`.
//!
//! Mail security breaks most often months after it was set up: a renewal
//! that did not happen, a zone whose re-signing stopped. A validator treats
//! an RRset whose RRSIG expired as bogus (RFC 4035 §5.3.1), so DANE and the
//! signed records stop working that day; a sender refuses an expired MX
//! certificate under DANE-TA or MTA-STS (RFC 8461 §4.2) and an expired policy
//! host certificate makes the policy unfetchable (RFC 8461 §3.3).
//!
//! Pure: the dates come from the session chains, the policy host's chain
//! and the signature log of the scan's lookups.

use std::collections::BTreeMap;

use hickory_proto::rr::RecordType;
use serde::Serialize;

use crate::dns::display_name;
use crate::dns::rrsig::SignedLookup;
use crate::evidence::MxHost;
use crate::finding::{Code, Finding, Severity};
use crate::pki::facts::CertFacts;
use crate::session::SessionOut;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The days a scan looks ahead by default (`--warn-days`).
pub const DEFAULT_WARN_DAYS: u32 = 14;

/// When dates are judged: today, or the `--at` day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// The `--at` day as given (`YYYY-MM-DD`) and its midnight UTC.
    pub at: Option<(String, i64)>,
    /// How far ahead to warn.
    pub warn_days: u32,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            at: None,
            warn_days: DEFAULT_WARN_DAYS,
        }
    }
}

impl Clock {
    /// The instant dates are judged at: the `--at` day, else `now`.
    pub fn judged(&self, now: i64) -> i64 {
        self.at.as_ref().map_or(now, |(_, t)| *t)
    }

    /// Parses `--at`: a calendar day `YYYY-MM-DD`, taken at 00:00 UTC.
    pub fn parse_at(text: &str) -> Result<(String, i64), String> {
        let stamp = format!("{text}T00:00:00Z");
        crate::datetime::parse_rfc3339_utc(&stamp)
            .map(|t| (text.to_string(), t))
            .ok_or_else(|| {
                format!(
                    "--at {text:?} is not a date: give a day as YYYY-MM-DD (e.g. --at 2026-12-24)"
                )
            })
    }
}

/// What kind of date runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryKind {
    /// A certificate's notAfter (RFC 5280 §4.1.2.5).
    Certificate,
    /// An RRSIG's signature expiration (RFC 4034 §3.1.5).
    Signature,
}

/// The earliest expiry of one item: a served chain or a signed RRset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiry {
    pub kind: ExpiryKind,
    /// The item: `mx1.example.com 192.0.2.1`, the policy URL, or
    /// `example.com MX`.
    pub item: String,
    /// What runs out first: `leaf CN=…`, `intermediate CN=…`, or the
    /// signing zone.
    pub what: String,
    /// RFC 3339.
    pub expires: String,
    pub expires_unix: i64,
    /// Whole days from the judged instant (negative: already past).
    pub days_left: i64,
    /// A signature's validity period in seconds (inception to
    /// expiration): how much of it is left tells routine re-signing from
    /// re-signing that stopped.
    #[serde(skip)]
    pub validity: Option<i64>,
}

/// The look-ahead section of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lookahead {
    /// The instant dates were judged at (RFC 3339).
    pub judged_at: String,
    /// `--at`, when given: dates judged as of that day, not today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub warn_days: u32,
    /// The earliest expiry per item, soonest first.
    pub expiries: Vec<Expiry>,
}

/// What the look-ahead reads.
pub struct Input<'a> {
    pub domain: &'a str,
    pub sessions: &'a [SessionOut],
    pub mx: &'a [MxHost],
    /// The policy URL and the policy host's chain, leaf first.
    pub policy_host: Option<(&'a str, &'a [CertFacts])>,
    pub signatures: &'a [SignedLookup],
}

/// The chain's certificate that expires first, with its role.
fn earliest_cert(chain: &[CertFacts]) -> Option<(String, i64)> {
    chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let role = if i == 0 { "leaf" } else { "intermediate" };
            let name = c.common_name.clone().unwrap_or_else(|| c.subject.clone());
            (format!("{role} {name}"), c.not_after)
        })
        .min_by_key(|(_, t)| *t)
}

/// Whether a signed lookup is one of the RRsets the look-ahead covers: the
/// MX RRset, the MX hosts' addresses, TLSA, the `_mta-sts` and `_smtp._tls`
/// records, and DNSKEY.
fn covered(lookup: &SignedLookup, domain: &str, mx: &[MxHost]) -> bool {
    let name = display_name(&lookup.name);
    match lookup.rtype {
        RecordType::MX => name == domain,
        RecordType::A | RecordType::AAAA => mx
            .iter()
            .any(|h| h.host == name || h.cname.as_deref() == Some(name.as_str())),
        RecordType::TLSA | RecordType::DNSKEY => true,
        RecordType::TXT => {
            name == format!("_mta-sts.{domain}") || name == format!("_smtp._tls.{domain}")
        }
        _ => false,
    }
}

fn days_left(expires: i64, judged: i64) -> i64 {
    expires.saturating_sub(judged).div_euclid(DAY)
}

fn in_days(days: i64) -> String {
    match days {
        0 => "today".to_string(),
        1 => "in 1 day".to_string(),
        n => format!("in {n} days"),
    }
}

/// The expiries of every item, soonest first.
pub fn expiries(input: &Input<'_>, judged: i64) -> Vec<Expiry> {
    let mut out = Vec::new();
    let mut seen_sessions = std::collections::BTreeSet::new();
    for s in input.sessions {
        let item = format!("{} {}", s.mx, s.ip);
        if !seen_sessions.insert(item.clone()) {
            continue;
        }
        if let Some((what, t)) = earliest_cert(&s.chain) {
            out.push(expiry(
                ExpiryKind::Certificate,
                item.clone(),
                what,
                t,
                judged,
            ));
        }
        // A server with an RSA and an ECDSA certificate: the one the
        // session did not get expires on its own date, and senders limited
        // to that key type get it.
        for v in s.key_variants.iter().filter(|v| v.same_leaf == Some(false)) {
            if let Some((what, t)) = earliest_cert(&v.chain_facts) {
                out.push(expiry(
                    ExpiryKind::Certificate,
                    format!("{item} ({} certificate)", v.key),
                    what,
                    t,
                    judged,
                ));
            }
        }
    }
    if let Some((url, chain)) = input.policy_host {
        if let Some((what, t)) = earliest_cert(chain) {
            out.push(expiry(
                ExpiryKind::Certificate,
                url.to_string(),
                what,
                t,
                judged,
            ));
        }
    }
    let mut rrsets: BTreeMap<String, (i64, String, i64)> = BTreeMap::new();
    for l in input
        .signatures
        .iter()
        .filter(|l| covered(l, input.domain, input.mx))
    {
        let item = format!("{} {}", display_name(&l.name), l.rtype);
        let signer = format!("signed by {}", display_name(&l.expiry.signer));
        let validity = l.expiry.expires - l.expiry.inception;
        let entry = rrsets
            .entry(item)
            .or_insert((l.expiry.expires, signer.clone(), validity));
        if l.expiry.expires < entry.0 {
            *entry = (l.expiry.expires, signer, validity);
        }
    }
    for (item, (t, what, validity)) in rrsets {
        let mut e = expiry(ExpiryKind::Signature, item, what, t, judged);
        e.validity = Some(validity).filter(|v| *v > 0);
        out.push(e);
    }
    out.sort_by(|a, b| {
        a.expires_unix
            .cmp(&b.expires_unix)
            .then_with(|| a.item.cmp(&b.item))
    });
    out
}

fn expiry(kind: ExpiryKind, item: String, what: String, t: i64, judged: i64) -> Expiry {
    Expiry {
        kind,
        item,
        what,
        expires: crate::datetime::format_unix_rfc3339(t),
        expires_unix: t,
        days_left: days_left(t, judged),
        validity: None,
    }
}

/// The section and its findings. MX certificates past their end are the
/// sessions' findings (their verdicts are judged at the same instant); the
/// policy host's is the fetch's.
pub fn judge(input: &Input<'_>, clock: &Clock, now: i64) -> (Lookahead, Vec<Finding>) {
    let judged = clock.judged(now);
    let all = expiries(input, judged);
    let warn = i64::from(clock.warn_days);
    let as_of = match &clock.at {
        Some((day, _)) => format!(" (judged as of {day})"),
        None => String::new(),
    };
    let mut findings = Vec::new();
    for e in &all {
        let when = in_days(e.days_left);
        match e.kind {
            ExpiryKind::Certificate if (0..warn).contains(&e.days_left) => {
                let policy = e.item.starts_with("https://");
                let (code, advice) = if policy {
                    (
                        Code::StsCertificateExpiresSoon,
                        "Renew the policy host's certificate now and check that automatic renewal (ACME) works: once it expires, senders cannot fetch the policy.",
                    )
                } else {
                    (
                        Code::MxCertificateExpiresSoon,
                        "Renew it now and reload the server; check that automatic renewal (ACME) works. Under DANE-EE, publish the new key's TLSA record before the switch.",
                    )
                };
                findings.push(Finding::new(
                    Severity::Warning,
                    code,
                    &e.item,
                    format!(
                        "the certificate of {} ({}) expires {when}, on {}{as_of}",
                        e.item, e.what, e.expires
                    ),
                    advice,
                ));
            }
            _ => {}
        }
    }
    findings.extend(signature_findings(&all, judged, warn, &as_of));
    let section = Lookahead {
        judged_at: crate::datetime::format_unix_rfc3339(judged),
        at: clock.at.as_ref().map(|(d, _)| d.clone()),
        warn_days: clock.warn_days,
        expiries: all,
    };
    (section, findings)
}

/// The share of a signature's validity period left below which it is
/// called soon to expire: signers renew well before the end (BIND's
/// default policy signs for 14 days and renews with 5 left, OpenDNSSEC with
/// 3 of 14, Knot with about a tenth plus its TTLs), so a zone that keeps a
/// sixth of its period or more is being re-signed as it should.
const RESIGN_SHARE: i64 = 6;

/// Whether a signature counts as soon to expire (or expired) as of
/// `judged`: within `--warn-days`, and with less than a sixth of its
/// validity period left, or already past.
fn signature_due(e: &Expiry, judged: i64, warn: i64) -> bool {
    let left = e.expires_unix - judged;
    e.kind == ExpiryKind::Signature
        && e.days_left < warn
        && (left <= 0 || e.validity.is_none_or(|v| left * RESIGN_SHARE < v))
}

/// One finding per signing zone (one for those past and one for those
/// ending soon): one re-signing fixes them all, and signers stagger the
/// ends of one zone's RRSIGs (BIND's jitter), so they are not grouped by
/// instant. The earliest end is the one named.
fn signature_findings(all: &[Expiry], judged: i64, warn: i64, as_of: &str) -> Vec<Finding> {
    let mut groups: BTreeMap<(bool, String), Vec<&Expiry>> = BTreeMap::new();
    for e in all.iter().filter(|e| signature_due(e, judged, warn)) {
        groups
            .entry((e.expires_unix > judged, e.what.clone()))
            .or_default()
            .push(e);
    }
    groups
        .into_iter()
        .map(|((_, what), mut items)| {
            items.sort_by_key(|e| e.expires_unix);
            let t = items[0].expires_unix;
            let names = items
                .iter()
                .map(|e| e.item.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let (one, plural) = (items.len() == 1, items.len() > 1);
            let subject = what.strip_prefix("signed by ").unwrap_or(&what).to_string();
            // Staggered ends: the first one is what matters.
            let on = if items.iter().any(|e| e.expires_unix != t) {
                format!("the first on {}", items[0].expires)
            } else {
                format!("on {}", items[0].expires)
            };
            let rrsig = if plural { "RRSIGs" } else { "RRSIG" };
            if t <= judged {
                Finding::new(
                    Severity::Error,
                    Code::DnssecSignatureExpired,
                    subject,
                    format!(
                        "the {rrsig} of {names} ({what}) {} {on}, before the day judged{as_of}: validating senders will treat {} as bogus",
                        if one { "expires" } else { "expire" },
                        if one { "that RRset" } else { "those RRsets" }
                    ),
                    "Re-sign the zone before that day and check that automatic re-signing runs (BIND: dnssec-policy; Knot: automatic signing).",
                )
            } else {
                Finding::new(
                    Severity::Warning,
                    Code::DnssecSignatureExpiresSoon,
                    subject,
                    format!(
                        "the {rrsig} of {names} ({what}) {} {}, {on}{as_of}; less than a sixth of the validity period is left, later than signers renew: re-signing looks stopped",
                        if one { "expires" } else { "expire" },
                        in_days(items[0].days_left),
                    ),
                    "Check that the zone is re-signed automatically: once the signatures expire, validating senders treat the records as bogus and DANE stops.",
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rrsig(item: &str, zone: &str, signed: i64, ends: i64, judged: i64) -> Expiry {
        let mut e = expiry(
            ExpiryKind::Signature,
            item.to_string(),
            format!("signed by {zone}"),
            ends,
            judged,
        );
        e.validity = Some(ends - signed);
        e
    }

    #[test]
    fn routine_re_signing_is_not_called_expiring_and_a_stopped_one_is() {
        let now = 1_800_000_000;
        let warn = i64::from(DEFAULT_WARN_DAYS);
        // BIND's default policy: 14 days, renewed with 5 left.
        let bind = rrsig(
            "example.com MX",
            "example.com",
            now - 9 * DAY,
            now + 5 * DAY,
            now,
        );
        assert!(!signature_due(&bind, now, warn));
        // OpenDNSSEC: 14 days, renewed with 3 left.
        let ods = rrsig(
            "example.com MX",
            "example.com",
            now - 11 * DAY,
            now + 3 * DAY,
            now,
        );
        assert!(!signature_due(&ods, now, warn));
        // Signed 40 days ago for 45: 5 days left, renewal overdue.
        let stopped = rrsig(
            "example.com MX",
            "example.com",
            now - 40 * DAY,
            now + 5 * DAY,
            now,
        );
        assert!(signature_due(&stopped, now, warn));
        // Beyond --warn-days, or past: as before.
        let far = rrsig(
            "example.com MX",
            "example.com",
            now - 300 * DAY,
            now + 20 * DAY,
            now,
        );
        assert!(!signature_due(&far, now, warn));
        let past = rrsig(
            "example.com MX",
            "example.com",
            now - 14 * DAY,
            now - 1,
            now,
        );
        assert!(signature_due(&past, now, warn));
    }

    #[test]
    fn a_zone_with_staggered_ends_gets_one_finding_naming_the_first() {
        let now = 1_800_000_000;
        let signed = now - 40 * DAY;
        let all = [
            rrsig(
                "example.com MX",
                "example.com",
                signed,
                now + 5 * DAY + 3600,
                now,
            ),
            rrsig(
                "example.com DNSKEY",
                "example.com",
                signed,
                now + 5 * DAY,
                now,
            ),
            rrsig(
                "_25._tcp.mx.example.com TLSA",
                "example.com",
                signed,
                now + 5 * DAY + 7200,
                now,
            ),
            rrsig("example.net MX", "example.net", signed, now + 4 * DAY, now),
        ];
        let findings = signature_findings(&all, now, 14, "");
        assert_eq!(findings.len(), 2, "{findings:#?}");
        let com = findings
            .iter()
            .find(|f| f.subject == "example.com")
            .expect("one finding for example.com");
        assert!(
            com.message.contains("example.com DNSKEY"),
            "{}",
            com.message
        );
        assert!(com.message.contains("the first on"), "{}", com.message);
        assert!(com.message.contains("expire in 5 days"), "{}", com.message);
    }

    #[test]
    fn at_takes_a_calendar_day_only() {
        assert_eq!(
            Clock::parse_at("2026-12-24").map(|(_, t)| t),
            Ok(1_798_070_400)
        );
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "24.12.2026",
            "2026-12-24T10:00:00Z",
            "",
        ] {
            let e = Clock::parse_at(bad).expect_err(bad);
            assert!(e.contains("YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn days_left_counts_whole_days_from_the_judged_instant() {
        for (expires, judged, want) in [
            (10 * DAY, 0, 10),
            (10 * DAY - 1, 0, 9),
            (0, 0, 0),
            (-1, 0, -1),
        ] {
            assert_eq!(days_left(expires, judged), want, "{expires} at {judged}");
        }
    }

    #[test]
    fn the_chain_reports_its_first_certificate_to_expire() {
        let cert = |cn: &str, not_after: i64| CertFacts {
            subject: format!("CN={cn}"),
            issuer: "CN=ca".into(),
            common_name: Some(cn.into()),
            dns_names: Vec::new(),
            not_before: 0,
            not_after,
            not_before_rfc3339: String::new(),
            not_after_rfc3339: String::new(),
            key: String::new(),
            signature_algorithm: String::new(),
            sha256: String::new(),
            spki_sha256: String::new(),
            serial: String::new(),
            is_ca: false,
            self_issued: false,
        };
        assert_eq!(
            earliest_cert(&[cert("mx", 500), cert("ca", 100)]),
            Some(("intermediate ca".to_string(), 100)),
            "an intermediate that ends first is what runs out"
        );
        assert_eq!(
            earliest_cert(&[cert("mx", 50), cert("ca", 100)]),
            Some(("leaf mx".to_string(), 50))
        );
        assert_eq!(earliest_cert(&[]), None);
    }
}
