//! The RFC 8460 result of one session under each policy (pure).
//!
//! A session is judged under DANE when DANE applies to its MX (RFC 7672
//! §2.2) and under MTA-STS when the domain's policy applies (RFC 8461 §4);
//! `result` is what a sender implementing both concludes: DANE first
//! ("MTA-STS MUST NOT override a failing DANE validation", RFC 8461 §2),
//! else MTA-STS, else opportunistic TLS. SPEC.md §5 gives the table.
//!
//! Two outcomes are not RFC 8460 result types and never become one: a TCP
//! connection that failed (no result at all) and a temporary refusal of the
//! greeting or EHLO such as `421` (`inconclusive`, RFC 8460 §4.3.4).
//!
//! A server that refuses the rustls handshake but accepts a legacy
//! ClientHello (CBC, DHE or static-RSA suites, an RSA key under 2048 bits;
//! `smtp::legacy_tls`) is judged as the OpenSSL- and Go-based senders that
//! still connect to it see it: they get TLS and report what their
//! certificate checks conclude, never a handshake failure. So the chain the
//! server sent in that handshake is judged like an established session's
//! ([`Probe::Established`]); that mxtls and rustls-based senders cannot
//! connect stays in the session's outcome and becomes a warning, not a
//! result type. When no chain came, see [`Probe::LegacyNoChain`].

use rustls::pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use crate::dane::tlsa::TlsaRecord;
use crate::dane::verdict::{self as dane, DaneVerdict, ReferenceIds};
use crate::mta_sts::policy::Mode;
use crate::pki::webpki::{self, Roots, WebPkiVerdict};
use crate::tlsrpt::report::ResultType;

/// What the probe of one address saw, reduced to what judging needs.
#[derive(Debug, Clone)]
pub enum Probe<'a> {
    /// TCP did not connect: nothing to judge.
    ConnectFailed,
    /// The greeting or EHLO was refused (4xx/5xx): we cannot tell.
    Inconclusive {
        stage: &'a str,
        code: u16,
    },
    StarttlsNotOffered,
    StarttlsRefused {
        code: u16,
    },
    /// The TLS handshake failed; `protocol_version` when no common version.
    HandshakeFailed {
        protocol_version: bool,
    },
    /// The server said 220 to STARTTLS, then spoke plain text instead of
    /// TLS.
    PlaintextAfterStarttls,
    /// The server broke the protocol or went silent at `stage`;
    /// `after_starttls` once it had said 220 to STARTTLS.
    ProtocolError {
        stage: &'a str,
        after_starttls: bool,
    },
    /// TLS is up; the chain as presented, leaf first.
    Established {
        chain: &'a [CertificateDer<'static>],
    },
    /// rustls failed, the server accepted a legacy TLS 1.2 ClientHello,
    /// and no certificate came before the probe stopped reading. Senders
    /// that have the legacy suite get TLS, so opportunistic TLS succeeds;
    /// under DANE or MTA-STS the verdict is `inconclusive`
    /// (`tls-legacy-no-chain`): a failure would blame a chain never seen,
    /// a success would vouch for one.
    LegacyNoChain,
}

/// What a session concluded under one policy, or overall: the words of
/// the `result` and `results` keys of the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionResult {
    /// TLS as the policy requires.
    Success,
    /// The server turned the session away before STARTTLS (RFC 8460
    /// §4.3.4): whether TLS works cannot be told.
    Inconclusive,
    /// An RFC 8460 §4.3 failure.
    Failure(ResultType),
}

impl SessionResult {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionResult::Success => "success",
            SessionResult::Inconclusive => "inconclusive",
            SessionResult::Failure(t) => t.as_str(),
        }
    }

    /// The result type of a failure; `None` for success and inconclusive.
    pub fn failure(self) -> Option<ResultType> {
        match self {
            SessionResult::Failure(t) => Some(t),
            _ => None,
        }
    }
}

impl std::fmt::Display for SessionResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SessionResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One verdict: `success`, `inconclusive`, or an RFC 8460 result type,
/// with a failure-reason-code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub result: SessionResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Verdict {
    pub fn success() -> Verdict {
        Verdict {
            result: SessionResult::Success,
            reason: None,
        }
    }

    fn failure(result: ResultType, reason: impl Into<String>) -> Verdict {
        Verdict {
            result: SessionResult::Failure(result),
            reason: Some(reason.into()),
        }
    }

    pub fn is_success(&self) -> bool {
        self.result == SessionResult::Success
    }

    pub fn is_failure(&self) -> bool {
        matches!(self.result, SessionResult::Failure(_))
    }
}

/// DANE's view of one MX.
pub enum DaneContext<'a> {
    /// A secure, non-empty TLSA RRset: DANE applies.
    Applies {
        records: &'a [TlsaRecord],
        names: ReferenceIds,
    },
    /// The TLSA lookup was bogus or failed: the MX must be treated as
    /// unreachable (RFC 7672 §2.1.1).
    LookupFailed { reason: &'static str },
    /// The TLSA lookup was lost to the scanner's own load: the verdict is
    /// inconclusive, not the domain's failure.
    Unknown { reason: &'static str },
    /// The sender requires DANE (`--require-dane`) and the MX has no
    /// secure TLSA RRset (RFC 8460 §4.3.2.1 `dane-required`).
    Required,
}

/// MTA-STS's view of one MX.
pub struct StsContext<'a> {
    /// The policy's mode; `None` when the domain publishes a record whose
    /// policy cannot be used (see `unusable`).
    pub mode: Option<Mode>,
    /// The record is valid but its policy cannot be used (fetch error,
    /// invalid policy, invalid policy host certificate): every session
    /// carries that result type, as senders report it (mox does; RFC 8460
    /// §4.3.2.2), though they deliver as if there were no policy (RFC 8461
    /// §3.3).
    pub unusable: Option<(ResultType, &'a str)>,
    /// Whether an `mx:` pattern covers the MX host (RFC 8461 §4.1).
    pub covered: bool,
    pub mx_host: &'a str,
    pub roots: &'a Roots,
}

/// The verdicts of one session, with the evidence behind them.
#[derive(Debug, Clone, Default)]
pub struct SessionVerdicts {
    pub tlsa: Option<Verdict>,
    pub sts: Option<Verdict>,
    /// What a sender implementing both concludes; None when TCP failed.
    pub result: Option<Verdict>,
    pub dane: Option<DaneVerdict>,
    pub webpki: Option<WebPkiVerdict>,
}

/// Judges one session under the policies that apply to its MX.
/// `sts_probe` is the handshake made with the MX host name as SNI when it
/// differs from DANE's (RFC 8461 §7.1); otherwise `probe` serves both.
pub fn judge(
    probe: &Probe<'_>,
    sts_probe: Option<&Probe<'_>>,
    dane_ctx: Option<&DaneContext<'_>>,
    sts_ctx: Option<&StsContext<'_>>,
    now: UnixTime,
) -> SessionVerdicts {
    let mut out = SessionVerdicts::default();
    if matches!(probe, Probe::ConnectFailed) {
        return out;
    }
    if let Some(ctx) = dane_ctx {
        out.tlsa = Some(match (ctx, probe) {
            (DaneContext::LookupFailed { reason }, _) => {
                Verdict::failure(ResultType::DnssecInvalid, *reason)
            }
            (DaneContext::Unknown { reason }, _) => Verdict {
                result: SessionResult::Inconclusive,
                reason: Some((*reason).to_string()),
            },
            (DaneContext::Required, _) => {
                Verdict::failure(ResultType::DaneRequired, "no-secure-tlsa")
            }
            (DaneContext::Applies { records, names }, Probe::Established { chain }) => {
                let v = dane::verify(records, chain, names, now);
                let verdict = match (v.result_type(), v.reason_code()) {
                    (Some(t), r) => Verdict::failure(t, r.unwrap_or("dane-failure")),
                    (None, _) => Verdict::success(),
                };
                out.dane = Some(v);
                verdict
            }
            (DaneContext::Applies { .. }, other) => transport_failure(other),
        });
    }
    if let Some(ctx) = sts_ctx {
        let verdict = match (sts_probe.unwrap_or(probe), ctx.unusable) {
            (p @ Probe::Inconclusive { .. }, Some(_)) => transport_failure(p),
            (_, Some((t, reason))) => Verdict::failure(t, reason),
            _ if !ctx.covered => Verdict::failure(ResultType::ValidationFailure, "mx-not-covered"),
            (Probe::Established { chain }, None) => {
                let w = webpki::verify(chain, ctx.mx_host, ctx.roots, now);
                let verdict = match w.primary() {
                    Some(d) => Verdict::failure(d.result_type(), d.reason_code()),
                    None => Verdict::success(),
                };
                out.webpki = Some(w);
                verdict
            }
            (other, None) => transport_failure(other),
        };
        // Mode none: senders apply no policy (RFC 8461 §5).
        if ctx.mode != Some(Mode::None) {
            out.sts = Some(verdict);
        }
    }
    out.result = Some(match (&out.tlsa, &out.sts) {
        (Some(t), _) => t.clone(),
        (None, Some(s)) => s.clone(),
        (None, None) => match probe {
            Probe::Established { .. } | Probe::LegacyNoChain => Verdict::success(),
            other => transport_failure(other),
        },
    });
    out
}

/// The verdict for a session that did not reach TLS.
fn transport_failure(probe: &Probe<'_>) -> Verdict {
    match probe {
        Probe::Inconclusive { stage, code } => Verdict {
            result: SessionResult::Inconclusive,
            reason: Some(format!("{stage}-refused-{code}")),
        },
        Probe::StarttlsNotOffered => {
            Verdict::failure(ResultType::StarttlsNotSupported, "starttls-not-offered")
        }
        Probe::StarttlsRefused { code } => Verdict::failure(
            ResultType::StarttlsNotSupported,
            format!("starttls-refused-{code}"),
        ),
        Probe::HandshakeFailed {
            protocol_version: true,
        } => Verdict::failure(ResultType::ValidationFailure, "tls-protocol-version"),
        Probe::HandshakeFailed { .. } => {
            Verdict::failure(ResultType::ValidationFailure, "tls-handshake-failed")
        }
        // The server agreed to TLS and then did not speak it: a sender's
        // handshake fails (RFC 8460 §4.3.1), nothing is left undecided.
        Probe::PlaintextAfterStarttls => Verdict::failure(
            ResultType::ValidationFailure,
            "tls-plaintext-after-starttls",
        ),
        Probe::LegacyNoChain => Verdict {
            result: SessionResult::Inconclusive,
            reason: Some("tls-legacy-no-chain".into()),
        },
        // Before STARTTLS we could not tell whether TLS works.
        Probe::ProtocolError {
            stage,
            after_starttls: false,
        } => Verdict {
            result: SessionResult::Inconclusive,
            reason: Some(format!("protocol-error-{stage}")),
        },
        Probe::ProtocolError { stage, .. } => Verdict::failure(
            ResultType::ValidationFailure,
            format!("protocol-error-{stage}"),
        ),
        Probe::ConnectFailed | Probe::Established { .. } => Verdict::success(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::test_pki::{Pki, leaf_spec, now};

    fn roots(pki: &Pki) -> Roots {
        Roots::new(vec![pki.root.clone()], true).expect("roots")
    }

    fn spki_sha256(cert: &CertificateDer<'_>) -> Vec<u8> {
        let (_, c) = x509_parser::parse_x509_certificate(cert.as_ref()).expect("cert");
        ring::digest::digest(&ring::digest::SHA256, c.tbs_certificate.subject_pki.raw)
            .as_ref()
            .to_vec()
    }

    fn names() -> ReferenceIds {
        ReferenceIds {
            tlsa_base: "mx1.example.test".into(),
            mx_host: "mx1.example.test".into(),
            next_hop: Some("example.test".into()),
        }
    }

    #[test]
    fn each_row_of_the_classification_table() {
        let pki = Pki::new();
        let good = pki.chain(&leaf_spec(&["mx1.example.test"]));
        let wrong = pki.chain(&leaf_spec(&["other.example.test"]));
        let roots = roots(&pki);
        let matching = vec![TlsaRecord::new(3, 1, 1, spki_sha256(&good[0]))];
        // DANE-EE ignores names (RFC 7672 §3.1.1): a record for the
        // wrong-name certificate still authenticates it.
        let matching_wrong = vec![TlsaRecord::new(3, 1, 1, spki_sha256(&wrong[0]))];
        let mismatching = vec![TlsaRecord::new(3, 1, 1, vec![0u8; 32])];
        let pkix_only = vec![TlsaRecord::new(1, 1, 1, spki_sha256(&good[0]))];
        let dane = |records| DaneContext::Applies {
            records,
            names: names(),
        };
        let sts = |covered| StsContext {
            mode: Some(Mode::Enforce),
            unusable: None,
            covered,
            mx_host: "mx1.example.test",
            roots: &roots,
        };
        let established = |c| Probe::Established { chain: c };
        type Row<'a> = (
            &'a str,
            Probe<'a>,
            Option<DaneContext<'a>>,
            Option<StsContext<'a>>,
            Option<(&'a str, &'a str)>,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                "sts success",
                established(&good),
                None,
                Some(sts(true)),
                None,
            ),
            (
                "sts host mismatch",
                established(&wrong),
                None,
                Some(sts(true)),
                Some(("certificate-host-mismatch", "host-mismatch")),
            ),
            (
                "sts mx not covered",
                established(&good),
                None,
                Some(sts(false)),
                Some(("validation-failure", "mx-not-covered")),
            ),
            (
                "no starttls",
                Probe::StarttlsNotOffered,
                None,
                Some(sts(true)),
                Some(("starttls-not-supported", "starttls-not-offered")),
            ),
            (
                "starttls 454",
                Probe::StarttlsRefused { code: 454 },
                None,
                None,
                Some(("starttls-not-supported", "starttls-refused-454")),
            ),
            (
                "tls below 1.2",
                Probe::HandshakeFailed {
                    protocol_version: true,
                },
                None,
                Some(sts(true)),
                Some(("validation-failure", "tls-protocol-version")),
            ),
            (
                "dane match",
                established(&good),
                Some(dane(&matching)),
                None,
                None,
            ),
            (
                "dane-ee ignores the name",
                established(&wrong),
                Some(dane(&matching_wrong)),
                None,
                None,
            ),
            (
                "dane no match",
                established(&good),
                Some(dane(&mismatching)),
                None,
                Some(("tlsa-invalid", "dane-no-match")),
            ),
            (
                "dane all unusable",
                established(&good),
                Some(dane(&pkix_only)),
                None,
                Some(("tlsa-invalid", "all-records-unusable")),
            ),
            (
                "dane bogus tlsa",
                established(&good),
                Some(DaneContext::LookupFailed {
                    reason: "tlsa-lookup-bogus",
                }),
                None,
                Some(("dnssec-invalid", "tlsa-lookup-bogus")),
            ),
            (
                "dane beats sts",
                established(&good),
                Some(dane(&mismatching)),
                Some(sts(true)),
                Some(("tlsa-invalid", "dane-no-match")),
            ),
            ("opportunistic tls", established(&wrong), None, None, None),
            (
                "legacy TLS without a chain, no policy: senders get TLS",
                Probe::LegacyNoChain,
                None,
                None,
                None,
            ),
            (
                "legacy TLS without a chain under MTA-STS: cannot tell",
                Probe::LegacyNoChain,
                None,
                Some(sts(true)),
                Some(("inconclusive", "tls-legacy-no-chain")),
            ),
            (
                "legacy TLS without a chain under DANE: cannot tell",
                Probe::LegacyNoChain,
                Some(dane(&matching)),
                None,
                Some(("inconclusive", "tls-legacy-no-chain")),
            ),
            (
                "421 greeting",
                Probe::Inconclusive {
                    stage: "greeting",
                    code: 421,
                },
                None,
                Some(sts(true)),
                Some(("inconclusive", "greeting-refused-421")),
            ),
            (
                "a timeout before the 220 to STARTTLS is inconclusive",
                Probe::ProtocolError {
                    stage: "starttls",
                    after_starttls: false,
                },
                None,
                Some(sts(true)),
                Some(("inconclusive", "protocol-error-starttls")),
            ),
            (
                "plain text after the 220 to STARTTLS fails under MTA-STS",
                Probe::PlaintextAfterStarttls,
                None,
                Some(sts(true)),
                Some(("validation-failure", "tls-plaintext-after-starttls")),
            ),
            (
                "plain text after the 220 to STARTTLS fails under DANE",
                Probe::PlaintextAfterStarttls,
                Some(dane(&matching)),
                None,
                Some(("validation-failure", "tls-plaintext-after-starttls")),
            ),
            (
                "plain text after the 220 to STARTTLS fails without a policy",
                Probe::PlaintextAfterStarttls,
                None,
                None,
                Some(("validation-failure", "tls-plaintext-after-starttls")),
            ),
            (
                "data after the 220 to STARTTLS is a TLS failure, not inconclusive",
                Probe::ProtocolError {
                    stage: "starttls",
                    after_starttls: true,
                },
                None,
                Some(sts(true)),
                Some(("validation-failure", "protocol-error-starttls")),
            ),
        ];
        for (what, probe, d, s, want) in rows {
            let v = judge(&probe, None, d.as_ref(), s.as_ref(), now());
            let result = v.result.expect("connected sessions have a result");
            match want {
                None => assert!(result.is_success(), "{what}: {result:?}"),
                Some((t, r)) => {
                    assert_eq!(result.result.as_str(), t, "{what}");
                    assert_eq!(result.reason.as_deref(), Some(r), "{what}");
                }
            }
        }
    }

    #[test]
    fn a_failed_connection_has_no_result() {
        let v = judge(&Probe::ConnectFailed, None, None, None, now());
        assert!(v.result.is_none() && v.tlsa.is_none() && v.sts.is_none());
    }

    #[test]
    fn mode_none_applies_no_sts_verdict() {
        let pki = Pki::new();
        let roots = roots(&pki);
        let chain = pki.chain(&leaf_spec(&["other.test"]));
        let ctx = StsContext {
            mode: Some(Mode::None),
            unusable: None,
            covered: false,
            mx_host: "mx1.example.test",
            roots: &roots,
        };
        let v = judge(
            &Probe::Established { chain: &chain },
            None,
            None,
            Some(&ctx),
            now(),
        );
        assert!(v.sts.is_none());
        assert!(v.result.expect("result").is_success());
    }
}
