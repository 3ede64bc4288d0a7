//! Whether DANE applies to an MX host (RFC 7672 §2.1–2.2): the one place
//! this is decided, for discovery, the sessions and the report.
//!
//! DANE applies when the MX RRset (or, for an implicit MX, the domain's
//! address records), the host's address records and its TLSA RRset are
//! all DNSSEC-secure and the TLSA RRset is not empty. A TLSA lookup that is
//! bogus or fails behind a secure MX RRset makes the MX unusable for DANE
//! senders (§2.1.1). Secure TLSA records behind an insecure MX RRset are
//! used only by senders that opt in (§2.2.1; Postfix does by default at
//! level `dane`, mox does not).

use serde::Serialize;

use crate::dns::Dnssec;

/// How the TLSA lookup of one MX host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsaStatus {
    /// Records came back (secure or not: see the DNSSEC status).
    Found,
    /// NODATA or NXDOMAIN.
    None,
    /// The answer is DNSSEC-bogus.
    Bogus,
    /// No usable answer: SERVFAIL, timeout, malformed reply.
    Error,
    /// Not looked up: the host's addresses are not secure, or DNSSEC is off.
    Skipped,
}

/// The session reason (`failure_reason`) when DANE's verdict is
/// inconclusive because the TLSA lookup was lost to the scanner's own load
/// ([`Applicability::Unknown`]).
pub const UNKNOWN_REASON: &str = "tlsa-lookup-scanner-overloaded";

/// What DANE means for one MX host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicability {
    /// Secure MX, addresses and a secure non-empty TLSA RRset.
    Applies,
    /// The TLSA lookup is bogus (`bogus`) or failed behind a secure MX
    /// RRset: DANE senders treat the MX as unreachable (§2.1.1).
    LookupFailed { bogus: bool },
    /// Secure TLSA records behind an MX RRset that is not secure: only
    /// senders that opt in use them (§2.2.1).
    InsecureMx,
    /// The TLSA lookup behind a secure MX RRset was lost to the scanner's
    /// own load: whether DANE applies cannot be told, so the sessions'
    /// DANE verdict is inconclusive.
    Unknown,
    /// No DANE for this host.
    None,
}

impl Applicability {
    /// True when DANE senders judge sessions to this host under DANE
    /// (RFC default: secure MX RRset only).
    pub fn judges_sessions(self) -> bool {
        matches!(
            self,
            Applicability::Applies | Applicability::LookupFailed { .. } | Applicability::Unknown
        )
    }
}

/// The rule. `planned` TLSA records (pre-flight) are judged as if
/// published and signed.
#[must_use]
pub fn applicability(
    status: TlsaStatus,
    tlsa_dnssec: Dnssec,
    mx_dnssec: Dnssec,
    planned: bool,
) -> Applicability {
    if planned {
        return Applicability::Applies;
    }
    match (status, tlsa_dnssec, mx_dnssec) {
        (TlsaStatus::Found, Dnssec::Secure, Dnssec::Secure) => Applicability::Applies,
        (TlsaStatus::Found, Dnssec::Secure, _) => Applicability::InsecureMx,
        (TlsaStatus::Bogus, _, Dnssec::Secure) => Applicability::LookupFailed { bogus: true },
        (TlsaStatus::Error, _, Dnssec::Secure) => Applicability::LookupFailed { bogus: false },
        _ => Applicability::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dnssec::{Bogus, Indeterminate, Insecure, Secure};

    #[test]
    fn rule_table() {
        use Applicability as A;
        // (rule, TLSA status, TLSA DNSSEC, MX DNSSEC, planned, expected)
        let rows = [
            (
                "all secure: DANE applies",
                TlsaStatus::Found,
                Secure,
                Secure,
                false,
                A::Applies,
            ),
            (
                "insecure TLSA records are ignored",
                TlsaStatus::Found,
                Insecure,
                Secure,
                false,
                A::None,
            ),
            (
                "secure TLSA behind an insecure MX: opt-in senders only",
                TlsaStatus::Found,
                Secure,
                Insecure,
                false,
                A::InsecureMx,
            ),
            (
                "bogus TLSA behind a secure MX: unusable MX",
                TlsaStatus::Bogus,
                Bogus,
                Secure,
                false,
                A::LookupFailed { bogus: true },
            ),
            (
                "failed TLSA lookup behind a secure MX: unusable MX",
                TlsaStatus::Error,
                Indeterminate,
                Secure,
                false,
                A::LookupFailed { bogus: false },
            ),
            (
                "bogus TLSA behind an insecure MX: RFC default ignores it",
                TlsaStatus::Bogus,
                Bogus,
                Insecure,
                false,
                A::None,
            ),
            (
                "no TLSA records",
                TlsaStatus::None,
                Secure,
                Secure,
                false,
                A::None,
            ),
            (
                "not looked up",
                TlsaStatus::Skipped,
                Indeterminate,
                Secure,
                false,
                A::None,
            ),
            (
                "planned records count as published and signed",
                TlsaStatus::Found,
                Secure,
                Insecure,
                true,
                A::Applies,
            ),
        ];
        for (rule, status, tlsa, mx, planned, want) in rows {
            assert_eq!(applicability(status, tlsa, mx, planned), want, "{rule}");
        }
        assert!(A::Applies.judges_sessions() && A::LookupFailed { bogus: true }.judges_sessions());
        assert!(!A::InsecureMx.judges_sessions() && !A::None.judges_sessions());
    }
}
