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
    /// When each lookup, the policy fetch and each session ran.
    pub timings: crate::timeline::Timings,
    /// When the scan of this domain started (RFC 3339, UTC).
    pub scanned_at: String,
    /// The mxtls version that made this document.
    pub mxtls_version: &'static str,
}

/// The version written into every document (`mxtls_version`).
pub const MXTLS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Schema identifier of [`RejectedInput`]: a line of the JSON outputs
/// that is not a domain's scan.
pub const REJECTED_SCHEMA: &str = "mxtls-input-error/1";

/// An input that is not a domain name: nothing was scanned for it, and the
/// JSON outputs say so in its own object rather than leave it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedInput {
    pub schema: &'static str,
    /// The input as given, made safe for a terminal and cut to 80
    /// characters.
    pub input: String,
    /// Its line in `--input` (1-based); absent for a command-line argument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub error: String,
    pub advice: &'static str,
    pub scanned_at: String,
    pub mxtls_version: &'static str,
}

impl RejectedInput {
    pub fn new(input: &str, line: Option<usize>, error: &str) -> RejectedInput {
        RejectedInput {
            schema: REJECTED_SCHEMA,
            input: input.to_string(),
            line,
            error: error.to_string(),
            advice: "Give one domain name per line (A-labels or U-labels, no scheme, path or address); '#' starts a comment.",
            scanned_at: crate::datetime::format_rfc3339(std::time::SystemTime::now()),
            mxtls_version: MXTLS_VERSION,
        }
    }
}

/// What one domain's scan comes to, for tallies, summaries and exit status.
/// Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainStatus {
    /// No error or warning counted (info findings may remain).
    Clean,
    /// At least one warning counted, no error.
    Warnings,
    /// MX addresses were found but none could be tested (not public,
    /// refused, unreachable, turned away): what senders do is unknown.
    Untested,
    /// At least one error counted.
    Errors,
}

impl DomainStatus {
    /// The word used in the summary line and the per-domain CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Clean => "clean",
            DomainStatus::Warnings => "warnings",
            DomainStatus::Untested => "untested",
            DomainStatus::Errors => "errors",
        }
    }
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
    /// The most severe finding counted (ignored ones are not), if any.
    pub fn worst(&self) -> Option<Severity> {
        self.counted().map(|f| f.severity).max()
    }

    /// The findings that count towards the severity and the exit status:
    /// all but those accepted with `--ignore`.
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.ignored)
    }

    /// How many counted findings of this severity stand on their own: a
    /// finding that follows from another (`caused_by`) is counted with it
    /// (`root_cause`).
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .enumerate()
            .filter(|(i, f)| {
                !f.ignored
                    && f.severity == severity
                    && crate::root_cause::root_of(&self.findings, *i) == *i
            })
            .count()
    }

    /// How many findings were accepted with `--ignore`.
    pub fn ignored(&self) -> usize {
        self.findings.iter().filter(|f| f.ignored).count()
    }

    /// Scanned, but nothing could be told about the mail servers: there
    /// were MX addresses, and no session got far enough for any kind of
    /// sender to deliver or refuse (every address not public, refused,
    /// unreachable, timed out or turned away with a 4xx).
    pub fn untested(&self) -> bool {
        self.mx.iter().any(|h| !h.addresses.is_empty())
            && self
                .outlook
                .senders
                .iter()
                .all(|s| s.outcome == crate::outlook::Delivery::Untested)
    }

    /// What the scan comes to: errors first, then "could not tell", then
    /// warnings (an untested domain always has the warning saying why).
    pub fn status(&self) -> DomainStatus {
        if self.count(Severity::Error) > 0 {
            DomainStatus::Errors
        } else if self.untested() {
            DomainStatus::Untested
        } else if self.count(Severity::Warning) > 0 {
            DomainStatus::Warnings
        } else {
            DomainStatus::Clean
        }
    }
}
