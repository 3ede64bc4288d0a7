//! Evidence: what one scan observed about a domain's DNS, as plain values
//! (MX hosts, their addresses and TLSA records, the TLSRPT record).
//!
//! Discovery fills these in; judgement reads them; the document carries
//! them. Nothing here does I/O or judges.

use serde::Serialize;

use crate::dane::applies::{self, Applicability};
use crate::dns::Dnssec;
use crate::tlsrpt::TlsRptAssessment;

/// What discovery found for one domain.
pub struct Discovery {
    pub mx_lookup: MxLookup,
    /// A `.` target was published beside real hosts (RFC 7505 §3).
    pub null_mixed: bool,
    pub mx: Vec<MxHost>,
    pub tlsrpt: TlsRpt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MxStatus {
    /// MX records name hosts.
    Found,
    /// `0 .` alone: the domain accepts no mail (RFC 7505).
    NullMx,
    /// No MX records: the domain itself is the mail host (RFC 5321 §5.1).
    Implicit,
    /// The domain does not exist.
    Nxdomain,
    /// No usable answer (bogus, SERVFAIL, timeout).
    Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct MxLookup {
    pub status: MxStatus,
    pub dnssec: Dnssec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The lookup failed because of the scanner's own load (its DNS queue
    /// was full): inconclusive, not the domain's fault. `error` says so.
    #[serde(skip)]
    pub overloaded: bool,
}

/// One mail host of the domain, with its addresses and TLSA records.
#[derive(Debug, Clone, Serialize)]
pub struct MxHost {
    /// Host name as published in the MX record (A-labels, no trailing dot).
    pub host: String,
    pub preference: u16,
    /// Status of the MX RRset that named this host (of the address records,
    /// for an implicit MX).
    pub dnssec: Dnssec,
    /// The name the host's addresses were found at, when it is an alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    pub addresses: Vec<Address>,
    /// Combined status of the A and AAAA lookups.
    pub address_dnssec: Dnssec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_error: Option<String>,
    /// An address lookup was lost to the scanner's own load: what is
    /// missing says nothing about the host. `address_error` says so.
    #[serde(skip)]
    pub address_overloaded: bool,
    pub tlsa: Tlsa,
}

#[derive(Debug, Clone, Serialize)]
pub struct Address {
    pub ip: std::net::IpAddr,
    pub dnssec: Dnssec,
}

/// The TLSA lookup of one MX host (RFC 7672 §2.2).
#[derive(Debug, Clone, Serialize)]
pub struct Tlsa {
    /// found (secure or not), none (NODATA/NXDOMAIN), bogus, error, or
    /// skipped (not looked up: the MX or address records are not secure).
    pub status: TlsaStatus,
    /// Name queried last (`_25._tcp.<host>`), when looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The TLSA base domain (RFC 7672 §2.2.3), when records were found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_domain: Option<String>,
    pub dnssec: Dnssec,
    /// Each record as "usage selector matching hex".
    pub records: Vec<String>,
    /// How many records are usable for SMTP (DANE-TA, DANE-EE; RFC 7672 §3.1).
    pub usable: usize,
    /// Whether DANE applies to this MX: MX, addresses and TLSA all secure,
    /// TLSA non-empty (RFC 7672 §2.2).
    pub applies: bool,
    /// Why DANE does or does not apply, in words.
    pub reason: String,
    /// The records, parsed, for judging sessions.
    #[serde(skip)]
    pub parsed: Vec<crate::dane::tlsa::TlsaRecord>,
    /// The records are planned (`--tlsa`), not published.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub planned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The lookup was lost to the scanner's own load (status `error`):
    /// whether DANE applies cannot be told. `error` says so.
    #[serde(skip)]
    pub overloaded: bool,
}

pub use crate::dane::applies::TlsaStatus;

impl MxHost {
    /// What DANE means for this host (RFC 7672 §2.2).
    pub fn dane(&self) -> Applicability {
        if self.tlsa.overloaded && self.dnssec == Dnssec::Secure {
            return Applicability::Unknown;
        }
        applies::applicability(
            self.tlsa.status,
            self.tlsa.dnssec,
            self.dnssec,
            self.tlsa.planned,
        )
    }
}

/// The TLSRPT record with the DNS facts around it.
#[derive(Debug, Clone, Serialize)]
pub struct TlsRpt {
    /// `_smtp._tls.<domain>`
    pub name: String,
    pub dnssec: Dnssec,
    #[serde(flatten)]
    pub assessment: TlsRptAssessment,
    /// Whether the domains of the `mailto:` report addresses accept mail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rua_domains: Vec<RuaDomain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The lookup was lost to the scanner's own load: `error` says so.
    #[serde(skip)]
    pub overloaded: bool,
}

/// A report address's domain and whether mail to it can be delivered.
#[derive(Debug, Clone, Serialize)]
pub struct RuaDomain {
    pub domain: String,
    /// None when the lookups failed and it could not be told.
    pub accepts_mail: Option<bool>,
    pub reason: String,
}
