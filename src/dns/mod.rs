//! DNS lookups that carry their DNSSEC status.
//!
//! Every answer the scanner uses says whether it was secure, insecure
//! (provably unsigned), bogus, or indeterminate (RFC 4035 §4.3), because
//! DANE applies only to secure data (RFC 7672 §2.1) and a bogus answer must
//! make an MX unusable rather than silently drop DANE.
//!
//! Three ways to learn the status, chosen with `--dnssec`:
//! - `validate`: validate locally with hickory from a root trust anchor;
//! - `resolver`: trust the AD bit of a validating resolver (as Postfix
//!   does), which RFC 7672 §2.1.1 allows only over a trusted path;
//! - `off`: no DNSSEC at all; every answer is indeterminate.
//!
//! In the first two modes a SERVFAIL is asked again with CD=1: data coming
//! back means a validating resolver rejected it as bogus; nothing coming back
//! means the server is broken. The two are reported differently.

pub mod anchor;
pub mod chain;
mod client;
pub mod host_answers;
pub mod overload_log;
pub mod root_keys;
pub mod rrsig;
pub mod startup;
pub mod transport;
pub mod wildcard;
pub mod wire;

use std::net::{IpAddr, SocketAddr};

use hickory_proto::rr::{Name, RData};
use serde::Serialize;

pub use client::{Dns, DnsConfig, DnsSetupError};
pub use startup::StartupError;

/// DNSSEC status of one answer (RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dnssec {
    Secure,
    Insecure,
    Bogus,
    Indeterminate,
}

impl Dnssec {
    /// The weaker of two statuses: a chain is only as secure as its weakest
    /// link, and bogus taints everything it touches.
    pub fn and(self, other: Dnssec) -> Dnssec {
        use Dnssec::*;
        match (self, other) {
            (Bogus, _) | (_, Bogus) => Bogus,
            (Indeterminate, _) | (_, Indeterminate) => Indeterminate,
            (Insecure, _) | (_, Insecure) => Insecure,
            (Secure, Secure) => Secure,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dnssec::Secure => "secure",
            Dnssec::Insecure => "insecure",
            Dnssec::Bogus => "bogus",
            Dnssec::Indeterminate => "indeterminate",
        }
    }
}

/// How DNSSEC status is learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DnssecMode {
    /// Validate locally from a trust anchor.
    Validate,
    /// Trust the AD bit of the configured resolver.
    Resolver,
    /// No DNSSEC: every answer is indeterminate and DANE cannot apply.
    Off,
}

impl DnssecMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DnssecMode::Validate => "validate",
            DnssecMode::Resolver => "resolver",
            DnssecMode::Off => "off",
        }
    }
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Records of the asked type exist.
    Found,
    /// The name exists but has no records of this type (NODATA).
    NoData,
    /// The name does not exist.
    NxDomain,
    /// No usable answer: bogus (see `dnssec`), SERVFAIL, timeout, garbage.
    Failed,
}

/// One lookup's outcome: the records, how they were proven, and the aliases
/// followed on the way.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: Status,
    pub dnssec: Dnssec,
    /// Records of the asked type at the end of any CNAME chain. Empty unless
    /// `status` is `Found`: bogus data is never handed out.
    pub records: Vec<RData>,
    /// The name the records belong to, after CNAME expansion.
    pub canonical: Name,
    /// CNAME targets followed, in order.
    pub aliases: Vec<Name>,
    /// For `Failed`: what went wrong, for the user.
    pub error: Option<String>,
    /// For `Failed`: the failure is the scanner's own (its queue to the
    /// resolver was full), so it says nothing about the name.
    pub overloaded: bool,
    /// When the signatures of the records found run out (DO=1 answers
    /// carrying RRSIGs); `None` when none came with them.
    pub signatures: Option<rrsig::SignatureExpiry>,
    /// How long the answer may be kept, in seconds: the smallest TTL of
    /// the records (RFC 2181 §5.2), for a denial the SOA's negative TTL
    /// (RFC 2308 §5); `None` for a failure or a denial without an SOA.
    pub ttl: Option<u32>,
}

impl Answer {
    pub(crate) fn failed(name: &Name, dnssec: Dnssec, error: String) -> Answer {
        Answer {
            status: Status::Failed,
            dnssec,
            records: Vec::new(),
            canonical: name.clone(),
            aliases: Vec::new(),
            error: Some(error),
            overloaded: false,
            signatures: None,
            ttl: None,
        }
    }

    /// A lookup the scanner's own load left unanswered (see `transport`).
    pub(crate) fn overloaded(name: &Name, error: String) -> Answer {
        Answer {
            overloaded: true,
            ..Answer::failed(name, Dnssec::Indeterminate, error)
        }
    }

    /// Character-strings of each TXT record, as published.
    pub fn txt_strings(&self) -> Vec<Vec<Vec<u8>>> {
        self.records
            .iter()
            .filter_map(|r| match r {
                RData::TXT(txt) => Some(txt.txt_data.iter().map(|s| s.to_vec()).collect()),
                _ => None,
            })
            .collect()
    }

    /// (preference, exchange) of each MX record.
    pub fn mx_records(&self) -> Vec<(u16, Name)> {
        self.records
            .iter()
            .filter_map(|r| match r {
                RData::MX(m) => Some((m.preference, m.exchange.clone())),
                _ => None,
            })
            .collect()
    }

    /// Addresses of A and AAAA records.
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.records
            .iter()
            .filter_map(|r| match r {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect()
    }
}

/// Parses `IP[:PORT]` as `--resolver` takes it (`[v6]:port` for a port with
/// IPv6); the port defaults to 53.
pub fn parse_server(text: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = text
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(format!(
        "\"{text}\" is not an IP address with an optional port (examples: 127.0.0.1, 127.0.0.1:5353, [::1]:53)"
    ))
}

/// A name as users write it: A-labels, no trailing dot, lower case.
pub fn display_name(name: &Name) -> String {
    let s = name.to_lowercase().to_ascii();
    match s.strip_suffix('.') {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weakest_status_wins() {
        use Dnssec::*;
        for (a, b, want) in [
            (Secure, Secure, Secure),
            (Secure, Insecure, Insecure),
            (Insecure, Indeterminate, Indeterminate),
            (Secure, Bogus, Bogus),
            (Indeterminate, Bogus, Bogus),
        ] {
            assert_eq!(a.and(b), want, "{a:?} and {b:?}");
            assert_eq!(b.and(a), want, "{b:?} and {a:?}");
        }
    }

    #[test]
    fn resolver_addresses_parse_with_and_without_port() {
        assert_eq!(
            parse_server("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(parse_server("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(
            parse_server("[::1]:54").unwrap(),
            "[::1]:54".parse().unwrap()
        );
        assert!(
            parse_server("dns.example")
                .unwrap_err()
                .contains("dns.example")
        );
    }
}
