//! The document: everything learned about one domain, as one
//! serialisable value (schema `mxtls/1`).
//!
//! Every renderer (table, JSON, report) reads this value, and tests compare
//! it. Keys are a contract (DESIGN.md): add freely, never rename or remove.

use serde::Serialize;

use crate::dns::DnssecMode;
use crate::evidence::{MxHost, MxLookup, TlsRpt};
use crate::finding::{Finding, Severity};
use crate::mta_sts::assess::MtaSts;
use crate::outlook::Outlook;
use crate::session::SessionOut;

/// Schema identifier written into every document.
pub const SCHEMA: &str = "mxtls/1";

/// Everything learned about one domain.
#[derive(Debug, Clone, Serialize)]
pub struct DomainReport {
    pub schema: &'static str,
    /// The domain as scanned, in A-labels, without a trailing dot.
    pub domain: String,
    /// The domain in U-labels when it is an IDN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_unicode: Option<String>,
    pub dnssec_mode: DnssecMode,
    /// What was judged from planned data instead of the DNS (pre-flight).
    #[serde(skip_serializing_if = "crate::preflight::Planned::is_none")]
    pub planned: crate::preflight::Planned,
    pub mx_lookup: MxLookup,
    pub mx: Vec<MxHost>,
    pub tlsrpt: TlsRpt,
    pub mta_sts: MtaSts,
    /// One STARTTLS session per MX address tried.
    pub sessions: Vec<SessionOut>,
    pub findings: Vec<Finding>,
    /// What each kind of sender does with mail to this domain.
    pub outlook: Outlook,
    /// What senders do today, in one sentence (the summary's headline).
    #[serde(skip)]
    pub headline: String,
    /// The RFC 8460 report a sender would have sent after trying every
    /// MX address today.
    pub report: crate::tlsrpt::report::Report,
    /// Certificates and signatures by when they run out (`--warn-days`,
    /// `--at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookahead: Option<crate::lookahead::Lookahead>,
    /// The stored scan this one was compared with (`--db`): its changes are
    /// findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<Compared>,
    /// Wall time of the scan of this domain.
    pub duration_ms: u64,
}

/// The earlier scan a report was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compared {
    /// Its id in the history file.
    pub scan_id: i64,
    /// When it was stored (RFC 3339).
    pub scanned_at: String,
    /// How many changes were found (each one a finding).
    pub changes: usize,
}

impl DomainReport {
    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}
