//! What senders do today: per kind of sender (DANE, DANE behind an
//! insecure MX, MTA-STS only, both, opportunistic TLS) and per MX address,
//! whether mail is delivered authenticated, over unauthenticated TLS, in
//! plain text, refused or untested; and the one sentence of the summary's
//! headline. Computed from the sessions' verdicts, carried in the document
//! (`outlook`), rendered by the table.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::dns::Dnssec;
use crate::evidence::{MxHost, MxLookup, MxStatus, TlsaStatus};
use crate::key_variants;
use crate::mta_sts::policy::Mode;
use crate::sanitize::for_terminal;
use crate::session::SessionOut;
use crate::smtp::key_type::KeyType;
use crate::smtp::session::Connect;
use crate::verdict::{SessionResult, Verdict};

/// The kinds of sender whose behaviour the outlook predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SenderKind {
    /// DANE as RFC 7672 says by default: only behind a secure MX RRset
    /// (mox, Exim, Postfix with `smtp_tls_dane_insecure_mx_policy = may`).
    Dane,
    /// DANE also behind an insecure MX RRset (RFC 7672 §2.2.1 allows it;
    /// Postfix does so by default at security level `dane`).
    DaneInsecureMx,
    /// MTA-STS without DANE (most large mailbox providers).
    MtaSts,
    /// DANE first, then MTA-STS (RFC 8461 §2); a failing policy of either
    /// fails the delivery (mox, Postfix with postfix-mta-sts-resolver).
    DaneAndMtaSts,
    /// Opportunistic TLS only: TLS when offered, any certificate.
    Opportunistic,
}

impl SenderKind {
    pub const ALL: [SenderKind; 5] = [
        SenderKind::Dane,
        SenderKind::DaneInsecureMx,
        SenderKind::MtaSts,
        SenderKind::DaneAndMtaSts,
        SenderKind::Opportunistic,
    ];

    /// A short label for the summary's table.
    pub fn label(self) -> &'static str {
        match self {
            SenderKind::Dane => "DANE (RFC default, mox)",
            SenderKind::DaneInsecureMx => "DANE also behind unsigned MX (Postfix)",
            SenderKind::MtaSts => "MTA-STS only (large providers)",
            SenderKind::DaneAndMtaSts => "DANE and MTA-STS",
            SenderKind::Opportunistic => "opportunistic TLS only",
        }
    }

    /// Who they are, in words, for findings and the summary.
    pub fn describe(self) -> &'static str {
        match self {
            SenderKind::Dane => "DANE senders (RFC default, e.g. mox)",
            SenderKind::DaneInsecureMx => {
                "DANE senders that also use TLSA behind an unsigned MX (Postfix at level dane)"
            }
            SenderKind::MtaSts => "MTA-STS-only senders (most large mailbox providers)",
            SenderKind::DaneAndMtaSts => {
                "senders with DANE and MTA-STS (mox, Postfix with an MTA-STS resolver)"
            }
            SenderKind::Opportunistic => "senders with opportunistic TLS only",
        }
    }
}

/// What one kind of sender does with mail to one MX address, or the domain.
/// Ordered from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Not tested: no connection, a temporary refusal, or not probed.
    Untested,
    /// The sender will not deliver: mail queues and eventually bounces.
    Refuses,
    /// Delivered in plain text.
    DeliversPlaintext,
    /// Delivered over TLS whose certificate nobody checks.
    DeliversUnauthenticatedTls,
    /// Delivered over TLS with the server authenticated.
    DeliversAuthenticated,
}

/// One kind of sender: the domain's outcome and each address's.
#[derive(Debug, Clone, Serialize)]
pub struct SenderOutlook {
    pub kind: SenderKind,
    /// What happens to the mail: the best outcome over the addresses a
    /// sender can try (it moves on to the next MX when one refuses).
    pub outcome: Delivery,
    /// The worst outcome among the addresses tested, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst: Option<Delivery>,
    pub addresses: Vec<AddressOutlook>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddressOutlook {
    pub mx: String,
    pub ip: std::net::IpAddr,
    pub outcome: Delivery,
}

/// What each kind of sender does (`outlook` in the JSON).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outlook {
    pub senders: Vec<SenderOutlook>,
}

impl Outlook {
    pub fn of(&self, kind: SenderKind) -> Option<&SenderOutlook> {
        self.senders.iter().find(|s| s.kind == kind)
    }
}

/// Computes the outlook from the sessions' verdicts.
pub fn compute(mx: &[MxHost], sessions: &[SessionOut], sts_policy_mode: Option<Mode>) -> Outlook {
    let senders = SenderKind::ALL
        .into_iter()
        .map(|kind| {
            let addresses: Vec<AddressOutlook> = sessions
                .iter()
                .map(|s| AddressOutlook {
                    mx: s.mx.clone(),
                    ip: s.ip,
                    outcome: address_outcome(
                        kind,
                        mx.iter().find(|h| h.host == s.mx),
                        s,
                        sts_policy_mode,
                    ),
                })
                .collect();
            let tested: Vec<Delivery> = addresses
                .iter()
                .map(|a| a.outcome)
                .filter(|o| *o != Delivery::Untested)
                .collect();
            let outcome = tested.iter().copied().max().unwrap_or(Delivery::Untested);
            let worst = tested.iter().copied().min().filter(|w| *w != outcome);
            SenderOutlook {
                kind,
                outcome,
                worst,
                addresses,
            }
        })
        .collect();
    Outlook { senders }
}

/// The rule for one kind of sender at one address.
pub fn address_outcome(
    kind: SenderKind,
    host: Option<&MxHost>,
    s: &SessionOut,
    sts_mode: Option<Mode>,
) -> Delivery {
    let facts = AddressFacts {
        result: s.result,
        tls_up: tls_negotiated(s),
        tlsa: s.tlsa_verdict.as_ref(),
        opt_in_dane: s.opt_in_dane_verdict.as_ref(),
        // A TLSA lookup that failed behind an insecure MX: a sender that
        // opts in treats the MX as unreachable, as under a secure one.
        opt_in_lookup_failed: host.is_some_and(|h| {
            h.dnssec != crate::dns::Dnssec::Secure
                && matches!(h.tlsa.status, TlsaStatus::Bogus | TlsaStatus::Error)
        }),
        sts: s.sts_verdict.as_ref(),
        sts_mode,
    };
    delivery(kind, &facts)
}

/// What the rule needs to know about one session.
#[derive(Debug, Clone, Copy)]
pub struct AddressFacts<'a> {
    /// The session's overall result; `None` when TCP did not connect.
    pub result: Option<SessionResult>,
    /// Whether a TLS session was negotiated (by us or a legacy hello).
    pub tls_up: bool,
    /// The DANE verdict, where DANE applies (RFC default).
    pub tlsa: Option<&'a Verdict>,
    /// The DANE verdict behind an insecure MX RRset, for senders that opt in.
    pub opt_in_dane: Option<&'a Verdict>,
    /// The TLSA lookup failed behind an insecure MX RRset.
    pub opt_in_lookup_failed: bool,
    /// The MTA-STS verdict and the policy's mode.
    pub sts: Option<&'a Verdict>,
    pub sts_mode: Option<Mode>,
}

/// The rule: what `kind` of sender does at an address with these facts.
pub fn delivery(kind: SenderKind, f: &AddressFacts<'_>) -> Delivery {
    let tls_up = f.tls_up;
    let opportunistic = match f.result {
        // With TLS up, the connection is told: what is left open is a
        // policy's verdict (a TLSA lookup lost to the scanner's own load),
        // and only the senders that apply that policy are untested.
        None => return Delivery::Untested,
        Some(SessionResult::Inconclusive) if !tls_up => return Delivery::Untested,
        _ if tls_up => Delivery::DeliversUnauthenticatedTls,
        _ => Delivery::DeliversPlaintext,
    };
    let by_verdict = |v: Option<&Verdict>| -> Option<Delivery> {
        let v = v?;
        Some(match v.result {
            SessionResult::Success => Delivery::DeliversAuthenticated,
            SessionResult::Inconclusive => Delivery::Untested,
            // RFC 7672 §2.2: TLS is required, authentication is not.
            SessionResult::Failure(_) if is_all_unusable(v) && tls_up => {
                Delivery::DeliversUnauthenticatedTls
            }
            SessionResult::Failure(_) => Delivery::Refuses,
        })
    };
    let dane = by_verdict(f.tlsa);
    let opt_in = by_verdict(f.opt_in_dane).or(f.opt_in_lookup_failed.then_some(Delivery::Refuses));
    let sts = match (f.sts_mode, f.sts) {
        (Some(Mode::Enforce), v) => by_verdict(v),
        // Testing: senders report a failure and deliver anyway.
        (Some(Mode::Testing), Some(v)) if v.is_success() => Some(Delivery::DeliversAuthenticated),
        _ => None,
    };
    match kind {
        SenderKind::Opportunistic => opportunistic,
        SenderKind::Dane => dane.unwrap_or(opportunistic),
        SenderKind::DaneInsecureMx => dane.or(opt_in).unwrap_or(opportunistic),
        SenderKind::MtaSts => sts.unwrap_or(opportunistic),
        SenderKind::DaneAndMtaSts => match (dane, sts) {
            (Some(Delivery::Refuses), _) | (_, Some(Delivery::Refuses)) => Delivery::Refuses,
            // One policy's verdict unknown: the other passing does not
            // tell whether this one would refuse.
            (Some(Delivery::Untested), _) | (_, Some(Delivery::Untested)) => Delivery::Untested,
            (Some(d), Some(t)) => d.max(t),
            (Some(d), None) => d,
            (None, Some(t)) => t,
            (None, None) => opportunistic,
        },
    }
}

/// A DANE verdict whose only fault is that no record is usable for SMTP.
pub fn is_all_unusable(v: &Verdict) -> bool {
    v.reason.as_deref() == Some(crate::dane::verdict::ALL_RECORDS_UNUSABLE)
}

/// Longest host name shown before it is cut (a DNS name has at most 253).
const HOST_MAX: usize = 100;

/// One sentence on what a sender does today, from the verdicts: DANE
/// first, then MTA-STS, then what senders without either do (RFC 8461 §2).
pub fn sentence(
    mx_lookup: &MxLookup,
    mx: &[MxHost],
    sessions: &[SessionOut],
    sts_policy_mode: Option<Mode>,
) -> String {
    let fixed = match mx_lookup.status {
        MxStatus::NullMx => Some(
            "Senders do not deliver here: the null MX says the domain accepts no mail (RFC 7505).",
        ),
        MxStatus::Nxdomain => Some("Senders bounce mail to this domain: it does not exist."),
        MxStatus::Error if mx_lookup.dnssec == Dnssec::Bogus => Some(
            "Senders that validate DNSSEC cannot deliver any mail: the MX records are DNSSEC-bogus.",
        ),
        MxStatus::Error => Some(
            "Senders cannot find the mail servers: the MX lookup failed, so mail waits in their queues.",
        ),
        MxStatus::Found | MxStatus::Implicit => None,
    };
    if let Some(s) = fixed {
        return s.to_string();
    }
    if sessions.is_empty() {
        return if mx.iter().all(|h| h.addresses.is_empty()) {
            "Senders cannot deliver: no MX host has an address.".to_string()
        } else {
            "No MX address was probed, so what senders do is not known (see the findings)."
                .to_string()
        };
    }
    let connected: Vec<&SessionOut> = sessions
        .iter()
        .filter(|s| s.connect == Connect::Ok)
        .collect();
    // Sessions this host could not make (no route for the family, see
    // `vantage`) say nothing about what senders do.
    let untested: Vec<&SessionOut> = sessions.iter().filter(|s| s.untested.is_some()).collect();
    if connected.is_empty() && untested.len() == sessions.len() {
        return "Not tested from here: this host has no route to the MX addresses (see the scanner finding).".to_string();
    }
    if connected.is_empty() && !untested.is_empty() {
        return format!(
            "No MX address tested from here accepted a connection; {} not tested from here (no route from this host).",
            hosts_of(&untested, sessions)
        );
    }
    if connected.is_empty() {
        return "No MX address accepted a connection: senders keep the mail queued and retry."
            .to_string();
    }
    // MTA-STS applies when the sessions were judged under it (mode none
    // gives no verdict: senders apply no policy, RFC 8461 §5).
    let sts_mode = sessions
        .iter()
        .any(|s| s.results.sts.is_some())
        .then_some(sts_policy_mode)
        .flatten();
    // Sessions the server turned away (RFC 8460 §4.3.4) say nothing about
    // TLS; the others carry verdicts.
    let (inconclusive, judged): (Vec<&SessionOut>, Vec<&SessionOut>) = connected
        .iter()
        .copied()
        .partition(|s| s.result == Some(SessionResult::Inconclusive));
    let select = |keep: &dyn Fn(&SessionOut) -> bool| -> Vec<&SessionOut> {
        judged.iter().copied().filter(|s| keep(s)).collect()
    };
    let failing = |v: &Option<SessionResult>| matches!(v, Some(SessionResult::Failure(_)));
    let passing = |v: &Option<SessionResult>| *v == Some(SessionResult::Success);
    // No usable TLSA record: DANE senders still deliver, over TLS without
    // authentication (RFC 7672 §2.2).
    let unusable = |s: &SessionOut| s.tlsa_verdict.as_ref().is_some_and(is_all_unusable);
    let dane_unusable = select(&|s| unusable(s));
    let dane_failed = select(&|s| failing(&s.results.tlsa) && !unusable(s));
    let sts_failed = select(&|s| failing(&s.results.sts));
    let dane_passed = select(&|s| passing(&s.results.tlsa));
    let everywhere = |passed: usize| passed > 0 && passed == judged.len();
    // "Every MX" is said only of every MX: a host DANE does not apply to,
    // or one no session reached, is not covered by what the judged
    // sessions show (the `dane-partial` and `mx-connect-failed` findings).
    let all_hosts_dane = mx
        .iter()
        .filter(|h| !h.addresses.is_empty())
        .all(|h| h.tlsa.applies);
    let all_reached = sessions
        .iter()
        .all(|s| s.connect == Connect::Ok || s.untested.is_some());
    let dane_ok = everywhere(dane_passed.len()) && all_hosts_dane && all_reached;
    let sts_ok =
        sts_mode == Some(Mode::Enforce) && everywhere(select(&|s| passing(&s.results.sts)).len());

    let mut clauses = Vec::new();
    if !dane_unusable.is_empty() {
        clauses.push(format!(
            "DANE protects nothing at {}: no TLSA record is usable, so DANE senders deliver over TLS without authentication",
            hosts_of(&dane_unusable, sessions)
        ));
    }
    if !dane_failed.is_empty() {
        clauses.push(format!(
            "DANE senders will not deliver to {}",
            hosts_of(&dane_failed, sessions)
        ));
    }
    // A server with an RSA and an ECDSA certificate whose TLSA records
    // cover one: DANE senders limited to the other key type fail.
    let key_types: BTreeSet<KeyType> = judged
        .iter()
        .flat_map(|s| key_variants::failing_key_types(&s.key_variants))
        .collect();
    let key_failed = select(&|s| !key_variants::failing_key_types(&s.key_variants).is_empty());
    if !key_failed.is_empty() {
        let names: Vec<&str> = key_types.iter().map(|k| k.label()).collect();
        clauses.push(format!(
            "DANE senders that offer only {} signatures will not deliver to {}",
            names.join(" or "),
            hosts_of(&key_failed, sessions)
        ));
    }
    let dane_senders = if key_failed.is_empty() {
        "DANE senders"
    } else {
        "other DANE senders"
    };
    match sts_mode {
        Some(Mode::Enforce) if !sts_failed.is_empty() => {
            // Where DANE passes, only the MTA-STS side refuses: say who.
            let dane_passes = sts_failed.iter().all(|s| passing(&s.results.tlsa));
            clauses.push(format!(
                "{} will not deliver to {}",
                if dane_passes {
                    "MTA-STS-only senders (and mox, which checks both)"
                } else {
                    "MTA-STS senders"
                },
                hosts_of(&sts_failed, sessions)
            ));
        }
        Some(Mode::Testing) if !sts_failed.is_empty() => clauses.push(format!(
            "MTA-STS (testing) fails at {}, which senders report but deliver anyway",
            hosts_of(&sts_failed, sessions)
        )),
        _ => {}
    }
    let failures = !clauses.is_empty();
    let protection = match (dane_ok, sts_ok) {
        (true, true) if key_failed.is_empty() => Some(
            "DANE and MTA-STS (enforce) protect delivery: senders that implement either authenticate every MX".to_string(),
        ),
        (true, true) => Some(
            "DANE and MTA-STS (enforce) protect delivery: other senders that implement either authenticate every MX".to_string(),
        ),
        (true, false) => Some(format!(
            "DANE protects delivery: {dane_senders} authenticate every MX"
        )),
        (false, true) if failures => Some(
            "senders with MTA-STS but not DANE authenticate every MX and deliver".to_string(),
        ),
        (false, true) => Some(
            "MTA-STS (enforce) protects delivery: senders that implement it require TLS with a valid certificate at every MX".to_string(),
        ),
        (false, false) if !dane_passed.is_empty() && dane_failed.is_empty() => Some(format!(
            "DANE protects delivery to {} only",
            hosts_of(&dane_passed, sessions)
        )),
        (false, false) if sts_mode == Some(Mode::Testing) && sts_failed.is_empty() => Some(
            "MTA-STS is in testing mode: senders report failures but deliver anyway".to_string(),
        ),
        (false, false) => None,
    };
    clauses.extend(protection);

    // What senders without DANE or MTA-STS do.
    let others = if clauses.is_empty() {
        "senders"
    } else {
        "other senders"
    };
    let plain = select(&|s| s.starttls == Some(false));
    let tls = select(&|s| tls_negotiated(s)).len();
    if !judged.is_empty() && plain.len() == judged.len() {
        clauses.push(format!("{others} deliver in plain text (no STARTTLS)"));
    } else if !plain.is_empty() {
        clauses.push(format!(
            "{others} deliver in plain text to {} (no STARTTLS)",
            hosts_of(&plain, sessions)
        ));
    } else if everywhere(tls) && clauses.is_empty() {
        clauses.push(
            "senders use opportunistic TLS: encrypted, but with no DANE or MTA-STS policy nothing stops an active attacker from intercepting it".to_string(),
        );
    } else if everywhere(tls) {
        clauses.push(format!("{others} use opportunistic TLS"));
    }
    let tls_failed = select(&|s| s.starttls == Some(true) && !tls_negotiated(s));
    if !tls_failed.is_empty() && clauses.is_empty() {
        clauses.push(format!(
            "the TLS handshake failed at {}, so senders without a policy may fall back to plain text",
            hosts_of(&tls_failed, sessions)
        ));
    }
    // A server that went silent did not turn the session away: say which.
    let (silent, turned_away): (Vec<&SessionOut>, Vec<&SessionOut>) = inconclusive
        .iter()
        .copied()
        .partition(|s| s.probe.outcome.silent_before_tls().is_some());
    if !turned_away.is_empty() {
        clauses.push(format!(
            "the MX {} turned the session away, so senders retry later",
            hosts_of(&turned_away, sessions)
        ));
    }
    if !silent.is_empty() {
        clauses.push(format!(
            "the MX {} did not answer within the timeout, so senders retry later",
            hosts_of(&silent, sessions)
        ));
    }
    let not_connected: Vec<&SessionOut> = sessions
        .iter()
        .filter(|s| s.connect != Connect::Ok && s.untested.is_none())
        .collect();
    if !not_connected.is_empty() {
        clauses.push(format!(
            "no connection to {}",
            hosts_of(&not_connected, sessions)
        ));
    }
    if !untested.is_empty() {
        clauses.push(format!(
            "{} not tested from here (no route from this host)",
            hosts_of(&untested, sessions)
        ));
    }
    if clauses.is_empty() {
        clauses.push("what senders do could not be told from the sessions".to_string());
    }
    join_clauses(&clauses)
}

/// The MX hosts of these sessions; a host where only some of its
/// addresses are concerned is followed by those addresses.
/// Whether senders get TLS at this address: the probe's handshake
/// succeeded, or the server speaks only legacy TLS 1.2, which the senders
/// that have its suite get (smtp::legacy_tls).
fn tls_negotiated(s: &SessionOut) -> bool {
    s.tls_version.is_some()
        || s.probe
            .legacy_tls
            .as_ref()
            .and_then(|l| l.accepted())
            .is_some_and(|l| !l.below_tls12())
}

fn hosts_of(these: &[&SessionOut], all: &[SessionOut]) -> String {
    let hosts: BTreeSet<&str> = these.iter().map(|s| s.mx.as_str()).collect();
    let mut parts = Vec::new();
    for host in hosts {
        let ours: Vec<String> = these
            .iter()
            .filter(|s| s.mx == host)
            .map(|s| s.ip.to_string())
            .collect();
        let all = all.iter().filter(|s| s.mx == host).count();
        let name = for_terminal(host, HOST_MAX);
        if ours.len() < all {
            parts.push(format!("{name} at {}", ours.join(", ")));
        } else {
            parts.push(name);
        }
    }
    match parts.len() {
        0 => String::new(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

/// Clauses joined into one sentence: capitalised, `;`-separated, a full stop.
fn join_clauses(clauses: &[String]) -> String {
    let joined = clauses.join("; ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlsrpt::report::ResultType;

    fn v(result: SessionResult, reason: Option<&str>) -> Verdict {
        Verdict {
            result,
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn delivery_rule_table() {
        use Delivery::*;
        use SenderKind::*;
        let ok = v(SessionResult::Success, None);
        let mismatch = v(
            SessionResult::Failure(ResultType::TlsaInvalid),
            Some("dane-no-match"),
        );
        let unusable = v(
            SessionResult::Failure(ResultType::TlsaInvalid),
            Some("all-records-unusable"),
        );
        let untrusted = v(
            SessionResult::Failure(ResultType::CertificateNotTrusted),
            Some("chain-not-trusted"),
        );
        let fetch_error = v(
            SessionResult::Failure(ResultType::StsPolicyFetchError),
            Some("http-status"),
        );
        let lost = v(
            SessionResult::Inconclusive,
            Some(crate::dane::applies::UNKNOWN_REASON),
        );
        let base = AddressFacts {
            result: Some(SessionResult::Success),
            tls_up: true,
            tlsa: None,
            opt_in_dane: None,
            opt_in_lookup_failed: false,
            sts: None,
            sts_mode: None,
        };
        // (rule, facts, kind, expected)
        let rows: Vec<(&str, AddressFacts<'_>, SenderKind, Delivery)> = vec![
            (
                "no policy: TLS without authentication",
                base,
                Dane,
                DeliversUnauthenticatedTls,
            ),
            (
                "no STARTTLS: plain text",
                AddressFacts {
                    tls_up: false,
                    result: Some(SessionResult::Failure(ResultType::StarttlsNotSupported)),
                    ..base
                },
                Opportunistic,
                DeliversPlaintext,
            ),
            (
                "no connection: untested",
                AddressFacts {
                    result: None,
                    ..base
                },
                MtaSts,
                Untested,
            ),
            (
                "421: untested",
                AddressFacts {
                    result: Some(SessionResult::Inconclusive),
                    tls_up: false,
                    ..base
                },
                Dane,
                Untested,
            ),
            (
                "421: untested by opportunistic senders too",
                AddressFacts {
                    result: Some(SessionResult::Inconclusive),
                    tls_up: false,
                    ..base
                },
                Opportunistic,
                Untested,
            ),
            (
                "TLSA answer lost: DANE senders untested",
                AddressFacts {
                    result: Some(SessionResult::Inconclusive),
                    tlsa: Some(&lost),
                    ..base
                },
                Dane,
                Untested,
            ),
            (
                "TLSA answer lost: DANE and MTA-STS senders untested",
                AddressFacts {
                    result: Some(SessionResult::Inconclusive),
                    tlsa: Some(&lost),
                    sts: Some(&ok),
                    sts_mode: Some(Mode::Enforce),
                    ..base
                },
                DaneAndMtaSts,
                Untested,
            ),
            (
                "TLSA answer lost: MTA-STS-only senders still judged",
                AddressFacts {
                    result: Some(SessionResult::Inconclusive),
                    tlsa: Some(&lost),
                    sts: Some(&ok),
                    sts_mode: Some(Mode::Enforce),
                    ..base
                },
                MtaSts,
                DeliversAuthenticated,
            ),
            (
                "TLSA answer lost: opportunistic senders deliver over TLS",
                AddressFacts {
                    result: Some(SessionResult::Inconclusive),
                    tlsa: Some(&lost),
                    ..base
                },
                Opportunistic,
                DeliversUnauthenticatedTls,
            ),
            (
                "DANE passes",
                AddressFacts {
                    tlsa: Some(&ok),
                    ..base
                },
                Dane,
                DeliversAuthenticated,
            ),
            (
                "DANE fails: DANE senders refuse",
                AddressFacts {
                    tlsa: Some(&mismatch),
                    ..base
                },
                Dane,
                Refuses,
            ),
            (
                "DANE fails: MTA-STS-only senders ignore it",
                AddressFacts {
                    tlsa: Some(&mismatch),
                    ..base
                },
                MtaSts,
                DeliversUnauthenticatedTls,
            ),
            (
                "all TLSA unusable: TLS without authentication",
                AddressFacts {
                    tlsa: Some(&unusable),
                    ..base
                },
                Dane,
                DeliversUnauthenticatedTls,
            ),
            (
                "DANE passes, enforce fails: MTA-STS-only refuse",
                AddressFacts {
                    tlsa: Some(&ok),
                    sts: Some(&untrusted),
                    sts_mode: Some(Mode::Enforce),
                    ..base
                },
                MtaSts,
                Refuses,
            ),
            (
                "DANE passes, enforce fails: both refuse (mox)",
                AddressFacts {
                    tlsa: Some(&ok),
                    sts: Some(&untrusted),
                    sts_mode: Some(Mode::Enforce),
                    ..base
                },
                DaneAndMtaSts,
                Refuses,
            ),
            (
                "DANE passes, enforce fails: DANE senders deliver",
                AddressFacts {
                    tlsa: Some(&ok),
                    sts: Some(&untrusted),
                    sts_mode: Some(Mode::Enforce),
                    ..base
                },
                Dane,
                DeliversAuthenticated,
            ),
            (
                "DANE fails, MTA-STS passes: both refuse (RFC 8461 §2)",
                AddressFacts {
                    tlsa: Some(&mismatch),
                    sts: Some(&ok),
                    sts_mode: Some(Mode::Enforce),
                    ..base
                },
                DaneAndMtaSts,
                Refuses,
            ),
            (
                "testing mode failure: delivered anyway",
                AddressFacts {
                    sts: Some(&untrusted),
                    sts_mode: Some(Mode::Testing),
                    ..base
                },
                MtaSts,
                DeliversUnauthenticatedTls,
            ),
            (
                "unusable policy (no mode): delivered as without policy",
                AddressFacts {
                    sts: Some(&fetch_error),
                    ..base
                },
                MtaSts,
                DeliversUnauthenticatedTls,
            ),
            (
                "opt-in DANE behind insecure MX matches",
                AddressFacts {
                    opt_in_dane: Some(&ok),
                    ..base
                },
                DaneInsecureMx,
                DeliversAuthenticated,
            ),
            (
                "opt-in DANE mismatch: Postfix refuses",
                AddressFacts {
                    opt_in_dane: Some(&mismatch),
                    ..base
                },
                DaneInsecureMx,
                Refuses,
            ),
            (
                "opt-in DANE mismatch: mox ignores it",
                AddressFacts {
                    opt_in_dane: Some(&mismatch),
                    ..base
                },
                Dane,
                DeliversUnauthenticatedTls,
            ),
            (
                "bogus TLSA behind insecure MX: Postfix defers",
                AddressFacts {
                    opt_in_lookup_failed: true,
                    ..base
                },
                DaneInsecureMx,
                Refuses,
            ),
        ];
        for (rule, facts, kind, want) in rows {
            assert_eq!(delivery(kind, &facts), want, "{rule}");
        }
    }

    #[test]
    fn a_sentence_is_capitalised_and_ends_with_a_full_stop() {
        for (clauses, want) in [
            (vec!["a b", "c"], "A b; c."),
            (vec!["élan"], "Élan."),
            (vec![], ""),
        ] {
            let clauses: Vec<String> = clauses.into_iter().map(String::from).collect();
            assert_eq!(join_clauses(&clauses), want, "{clauses:?}");
        }
    }
}
