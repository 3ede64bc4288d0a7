//! One STARTTLS session as judged: what the probe saw
//! ([`crate::smtp::session::Session`]) with the verdicts of the policies
//! that apply to its MX (`sessions[]` of the JSON).

use std::net::IpAddr;

use serde::Serialize;

use crate::pki::facts::CertFacts;
use crate::smtp::session::{Connect, Session};
use crate::vantage::Untested;
use crate::verdict::{SessionResult, Verdict};

/// Per-policy verdicts of a session (`results` in the JSON).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Results {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlsa: Option<SessionResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sts: Option<SessionResult>,
}

/// One session as the JSON shows it (DESIGN.md `sessions[]`).
#[derive(Debug, Clone, Serialize)]
pub struct SessionOut {
    pub mx: String,
    pub ip: IpAddr,
    pub connect: Connect,
    /// Set when the connect failed for want of a route on this host: the
    /// session was not tested from here (see `vantage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untested: Option<Untested>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starttls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// The leaf certificate presented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertFacts>,
    /// Every certificate presented, leaf first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<CertFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requiretls: Option<bool>,
    /// What a sender implementing DANE and MTA-STS concludes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<SessionResult>,
    pub results: Results,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dane: Option<crate::dane::verdict::DaneVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webpki: Option<crate::pki::webpki::WebPkiVerdict>,
    /// The SMTP dialogue: SNI, EHLO keywords, TLS details, timings, outcome.
    pub probe: Session,
    /// True when this session was made earlier in the run for another
    /// domain with an MX at the same address and SNI, and its evidence is
    /// used here without probing again (hosted mail: one session per
    /// provider address per run).
    pub shared: bool,
    /// Per-policy verdicts with their reasons, for the report.
    #[serde(skip)]
    pub tlsa_verdict: Option<Verdict>,
    #[serde(skip)]
    pub sts_verdict: Option<Verdict>,
    /// The DANE verdict for senders that also use TLSA records behind an
    /// insecure MX RRset (RFC 7672 §2.2.1), when the host has them.
    #[serde(skip)]
    pub opt_in_dane_verdict: Option<Verdict>,
    /// Where DANE applies: the published TLSA combinations with no record
    /// for the chain served (RFC 7671 §8).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmatched_combinations: Vec<crate::dane::coverage::Unmatched>,
    /// Where DANE applies: the sessions offering only RSA and only ECDSA
    /// signature schemes, and their chains judged (`key_variants`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub key_variants: Vec<crate::key_variants::KeyVariant>,
    /// Where DANE found no match: published records that match the chain
    /// but are ignored for a stronger digest (RFC 7671 §9). The JSON has
    /// their indices in `dane.superseded`.
    #[serde(skip)]
    pub superseded_matches: Vec<crate::dane::coverage::Superseded>,
    /// When MTA-STS was judged on a handshake of its own (SNI = the MX host
    /// name, while DANE's session used the TLSA base domain): that SNI and
    /// the leaf it got, which the findings name (the session's
    /// `certificate` is the DANE session's).
    #[serde(skip)]
    pub sts_handshake: Option<StsHandshake>,
}

/// The MTA-STS session made apart from the DANE one (different SNI).
#[derive(Debug, Clone)]
pub struct StsHandshake {
    /// The SNI sent: the MX host name.
    pub sni: String,
    /// The leaf certificate served with that SNI, when one was.
    pub certificate: Option<CertFacts>,
}

impl SessionOut {
    /// The local address used, for RFC 8460 `sending-mta-ip`.
    pub fn sending_ip(&self) -> Option<IpAddr> {
        self.probe.local_addr.map(|a| a.ip())
    }

    /// What the key-type and RFC 7671 §8 rules read of this session.
    pub fn key_chains(&self) -> crate::key_variants::Chains<'_> {
        crate::key_variants::Chains {
            mx: &self.mx,
            ip: self.ip,
            session_passes: self.tlsa_verdict.as_ref().is_some_and(Verdict::is_success),
            session_key: self
                .certificate
                .as_ref()
                .and_then(|c| crate::smtp::key_type::KeyType::of_key_name(&c.key)),
            unmatched: &self.unmatched_combinations,
            variants: &self.key_variants,
        }
    }

    /// The name the server gave in its greeting (`receiving-mx-helo`).
    pub fn helo(&self) -> Option<String> {
        self.probe.banner.as_ref().and_then(|b| b.domain.clone())
    }
}
