//! Judging the evidence: findings with severity and advice (pure).
//!
//! No I/O here: every rule is a function of what discovery recorded, so each
//! is tested from fixtures.

use crate::dns::{Dnssec, DnssecMode};
use crate::evidence::{Discovery, MxHost, MxLookup, MxStatus, TlsaStatus};
use crate::finding::{Code, Finding, Severity};
use crate::mta_sts::policy::Mode;
use crate::mx;
use crate::session::SessionOut;
use crate::smtp::legacy_hello::KeyExchange;
use crate::smtp::legacy_tls::LegacyHandshake;
use crate::smtp::session::{Connect, Outcome};
use crate::tlsrpt::report::ResultType;
use crate::verdict::{SessionResult, Verdict};

/// The one finding of a domain some of whose lookups the scanner's own
/// load left unanswered (`lost`: "name TYPE" of each, `count` in all):
/// what depends on them could not be told, and nothing is known to be
/// wrong with the domain. The lookups' own findings are not given.
pub fn overload_finding(domain: &str, lost: &[String], count: usize) -> Option<Finding> {
    if count == 0 {
        return None;
    }
    let more = count.saturating_sub(lost.len());
    let list = if more > 0 {
        format!("{} and {more} more", lost.join(", "))
    } else {
        lost.join(", ")
    };
    Some(Finding::new(
        Severity::Warning,
        Code::ScannerDnsOverloaded,
        domain,
        format!(
            "the scanner's own DNS queue was full: {count} lookup{} of {domain} got no answer because of the scanner's load ({list}); what depends on {} is inconclusive, and nothing is known to be wrong with the domain",
            if count == 1 { "" } else { "s" },
            if count == 1 { "it" } else { "them" },
        ),
        "Scan this domain again with a lower --concurrency, or spread the load over more --resolver (or raise --dns-in-flight if the resolver takes more queries at once).",
    ))
}

/// Findings about the MX RRset, the hosts' addresses and their TLSA records.
pub fn dns_findings(domain: &str, mode: DnssecMode, d: &Discovery) -> Vec<Finding> {
    let mut out = Vec::new();
    let lookup = &d.mx_lookup;
    let subject = format!("{domain} MX");
    match lookup.status {
        MxStatus::Error if lookup.dnssec == Dnssec::Bogus => out.push(Finding::new(
            Severity::Error,
            Code::MxDnssecBogus,
            &subject,
            format!(
                "the MX lookup for {domain} is DNSSEC-bogus: validating senders cannot deliver any mail to this domain ({})",
                lookup.error.as_deref().unwrap_or("validation failed")
            ),
            format!(
                "Check the signatures and DS records of the zone holding {domain} (e.g. `delv {domain} MX` or dnsviz.net); re-sign the zone or fix the DS at the parent."
            ),
        )),
        // The scanner's own queue was full: nothing is known about the
        // domain, so no error is reported about it (`overload_finding`
        // tells the operator, once for the domain).
        MxStatus::Error if lookup.overloaded => {}
        MxStatus::Error => out.push(Finding::new(
            Severity::Error,
            Code::MxLookupFailed,
            &subject,
            format!(
                "the MX lookup for {domain} failed: {}",
                lookup.error.as_deref().unwrap_or("no answer")
            ),
            "Check that the domain's name servers answer (e.g. `dig MX` against each of them), then scan again.".to_string(),
        )),
        MxStatus::Nxdomain => out.push(Finding::new(
            Severity::Error,
            Code::DomainNxdomain,
            domain,
            format!("{domain} does not exist in the DNS (NXDOMAIN): it cannot receive mail"),
            "Check the spelling, or register and delegate the domain.".to_string(),
        )),
        MxStatus::NullMx => out.push(Finding::new(
            Severity::Info,
            Code::MxNull,
            &subject,
            format!("{domain} publishes a null MX (RFC 7505): it accepts no mail, so there is nothing to probe"),
            "Nothing to do if the domain should not receive mail. Then also publish `v=spf1 -all` and a DMARC reject policy.".to_string(),
        )),
        MxStatus::Implicit => out.push(Finding::new(
            Severity::Warning,
            Code::MxImplicit,
            &subject,
            format!("{domain} has no MX records: senders deliver to the domain's own address records (RFC 5321 §5.1)"),
            format!("Publish an explicit MX, e.g. `{domain}. IN MX 10 mail.{domain}.`, or a null MX `{domain}. IN MX 0 .` if it takes no mail."),
        )),
        MxStatus::Found => {}
    }
    if d.null_mixed {
        out.push(Finding::new(
            Severity::Error,
            Code::MxNullMixed,
            &subject,
            format!("{domain} publishes a null MX (`0 .`) beside other MX records, which RFC 7505 §3 forbids"),
            "Remove the `MX 0 .` record if the domain receives mail, or remove the other MX records if it does not.".to_string(),
        ));
    }
    if matches!(lookup.status, MxStatus::Found | MxStatus::Implicit) {
        match (mode, lookup.dnssec) {
            (DnssecMode::Off, _) => out.push(Finding::new(
                Severity::Info,
                Code::DnssecOff,
                domain,
                "DNSSEC was not checked (--dnssec off): DANE cannot be assessed".to_string(),
                "Run again with --dnssec validate (the default) to assess DANE.".to_string(),
            )),
            (_, Dnssec::Insecure) => out.push(Finding::new(
                Severity::Info,
                Code::MxInsecure,
                &subject,
                format!("the MX RRset of {domain} is not DNSSEC-signed: DANE cannot protect mail to it (RFC 7672 §2.2.1)"),
                "Sign the zone with DNSSEC and publish its DS at the parent, then publish TLSA records for each MX host.".to_string(),
            )),
            _ => {}
        }
    }
    for host in &d.mx {
        host_findings(host, lookup.status, &mut out);
    }
    let dane_hosts = d.mx.iter().filter(|h| h.tlsa.applies).count();
    // A host whose TLSA lookup was lost to the scanner's own queue may
    // well have DANE: partial coverage cannot be told.
    let unknown = d.mx.iter().any(|h| h.tlsa.overloaded);
    if dane_hosts > 0 && dane_hosts < d.mx.len() && !unknown {
        let without: Vec<&str> =
            d.mx.iter()
                .filter(|h| !h.tlsa.applies)
                .map(|h| h.host.as_str())
                .collect();
        out.push(Finding::new(
            Severity::Warning,
            Code::DanePartial,
            &subject,
            format!("DANE applies to {dane_hosts} of {} MX hosts; not to {}", d.mx.len(), without.join(", ")),
            "Publish secure TLSA records for every MX host: a sender falls back to the unprotected ones.".to_string(),
        ));
    }
    out
}

/// Findings about the STARTTLS sessions: one per failed or doubtful
/// session, saying which policy failed and what a sender does about it.
pub fn session_findings(sessions: &[SessionOut], sts_mode: Option<Mode>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in sessions {
        let subject = format!("{} {}", s.mx, s.ip);
        // Not tested from here: the scanner's finding (`vantage`) says so.
        if s.untested.is_some() {
            continue;
        }
        if s.connect != Connect::Ok {
            out.push(Finding::new(
                Severity::Warning,
                Code::MxConnectFailed,
                &subject,
                format!(
                    "could not connect to {} ({}): {}; no TLS was attempted, so this is not a TLS failure",
                    s.ip,
                    s.mx,
                    connect_word(s.connect)
                ),
                format!(
                    "Check that the server listens on port {} and that no firewall blocks it, then scan again.",
                    s.probe.port
                ),
            ));
            continue;
        }
        // A certificate close to its end is the look-ahead's finding
        // (`lookahead`), for the whole chain.
        out.extend(legacy_tls_finding(s, &subject));
        out.extend(crate::key_variants::findings_of(&s.key_chains()));
        let Some(result) = s.result else { continue };
        let reason = s.failure_reason.as_deref().unwrap_or("");
        if let Some(f) = sts_only_refuses(s, sts_mode) {
            out.push(f);
        }
        if let Some(f) = opt_in_dane_refuses(s) {
            out.push(f);
        }
        // The legacy-TLS warning already says why; a TLSA lookup lost to
        // the scanner's own queue is told once for the domain
        // (`overload_finding`).
        if reason == "tls-legacy-no-chain" || reason == crate::dane::applies::UNKNOWN_REASON {
            continue;
        }
        let failure = match result {
            SessionResult::Success => continue,
            SessionResult::Inconclusive => None,
            // A policy that cannot be used is one finding about the policy,
            // not one per session: senders deliver as if there were none.
            SessionResult::Failure(
                ResultType::StsPolicyFetchError
                | ResultType::StsPolicyInvalid
                | ResultType::StsWebpkiInvalid,
            ) => continue,
            SessionResult::Failure(t) => Some(t),
        };
        let Some(failure) = failure else {
            let (message, advice) = match s.probe.outcome.silent_before_tls() {
                Some(silent) => (
                    format!(
                        "{} ({}) accepted the connection but {silent} within the scanner's timeout ({reason}); whether TLS works could not be told",
                        s.ip, s.mx
                    ),
                    "Check that the server, or a postscreen, proxy or firewall in front of it, answers promptly (senders wait up to 5 minutes for the greeting, RFC 5321 §4.5.3.2, but a server this slow is often stuck), then scan again, with a higher --timeout if it is only slow.",
                ),
                None => (
                    format!(
                        "{} ({}) refused or broke off the session before STARTTLS ({reason}); whether TLS works could not be told",
                        s.ip, s.mx
                    ),
                    "Retry later: a 421 or a timeout is often temporary. If it persists, check the server's connection limits and greeting.",
                ),
            };
            out.push(Finding::new(
                Severity::Warning,
                Code::MxInconclusive,
                &subject,
                message,
                advice,
            ));
            continue;
        };
        let (severity, who) = match (&s.tlsa_verdict, &s.sts_verdict) {
            (Some(t), _) if crate::outlook::is_all_unusable(t) => (
                Severity::Error,
                "Delivered over TLS without authentication: DANE protects nothing, since no TLSA record is usable for SMTP (RFC 7672 §2.2; Postfix drops to mandatory unauthenticated TLS, mox delivers).".to_string(),
            ),
            (Some(t), sts) if t.is_failure() => {
                let note = match sts {
                    Some(x) if x.is_success() => " MTA-STS passes, but a DANE sender will not deliver: MTA-STS cannot override a failing DANE validation (RFC 8461 §2).",
                    Some(x) if x.is_failure() && sts_mode == Some(Mode::Enforce) => " MTA-STS fails too, on its own (see its finding): MTA-STS senders will not deliver either.",
                    _ => "",
                };
                (Severity::Error, format!("DANE senders will not deliver to this address.{note}"))
            }
            (_, Some(x)) if x.is_failure() && sts_mode == Some(Mode::Testing) => (
                Severity::Warning,
                "MTA-STS is in testing mode: senders report the failure but still deliver.".to_string(),
            ),
            (_, Some(x)) if x.is_failure() => (
                Severity::Error,
                "MTA-STS senders will not deliver to this address (mode enforce).".to_string(),
            ),
            _ if failure == ResultType::StarttlsNotSupported => (
                Severity::Error,
                "Mail to this address travels in plain text.".to_string(),
            ),
            _ => (
                Severity::Warning,
                "Without DANE or MTA-STS, senders fall back to unauthenticated or plain-text delivery.".to_string(),
            ),
        };
        let what = what_the_server_did(&s.probe.outcome)
            .or_else(|| superseded_note(s))
            .map(|w| format!(": {w}"))
            .unwrap_or_default();
        let finding = Finding::new(
            severity,
            Code::for_session_failure(failure),
            &subject,
            format!("{failure} ({reason}) at {} ({}){what}. {who}", s.ip, s.mx),
            session_advice(s, failure, reason),
        );
        out.push(match session_cause(failure, reason, &s.mx) {
            Some((code, subject)) => finding.following(code, Some(subject)),
            None => finding,
        });
    }
    out
}

/// The finding about the MX host that a session failure follows from:
/// fixing it fixes every session to that host (`root_cause`).
fn session_cause(failure: ResultType, reason: &str, mx: &str) -> Option<(Code, String)> {
    let host = mx.trim_end_matches('.');
    match failure {
        // `mta_sts::assess` names the host as the policy shows it.
        ResultType::ValidationFailure if reason == "mx-not-covered" => Some((
            Code::StsPolicyMxNotCovered,
            crate::mta_sts::escape_str(host),
        )),
        ResultType::DnssecInvalid => Some((Code::TlsaDnssecBogus, format!("_25._tcp.{host}"))),
        _ => None,
    }
}

/// The server sent its leaf alone while DANE-TA records are published: no
/// `2 x x` record can match a certificate that is not sent.
fn ta_needs_chain(s: &SessionOut) -> bool {
    s.chain.len() == 1
        && s.unmatched_combinations
            .iter()
            .any(|u| u.combination.starts_with("2 "))
}

/// Digest agility (RFC 7671 §9, RFC 7672 §3.1.2): the records that match
/// the key served but are ignored because a stronger digest is published
/// for the same usage and selector.
fn superseded_note(s: &SessionOut) -> Option<String> {
    let first = s.superseded_matches.first()?;
    Some(format!(
        "the published `{}` matches the certificate served, but senders ignore it because `{}` is published for the same usage and selector and a sender uses only the strongest digest present (digest agility, RFC 7671 §9, RFC 7672 §3.1.2)",
        first.record,
        first.stronger.join("`, `")
    ))
}

/// What the server did, in words, where the reason code alone would leave
/// the admin guessing.
fn what_the_server_did(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::PlaintextAfterStarttls { text, .. } => Some(format!(
            "the server answered STARTTLS with 220 but then spoke plain text instead of TLS (\"{text}\"), so every sender's TLS handshake fails"
        )),
        _ => None,
    }
}

/// A server that refuses the rustls handshake but accepts the legacy
/// ClientHello (`smtp::legacy_tls`) is reachable for the senders that have
/// what it chose: a warning naming the suite, version or key, who still
/// connects and what to change. Never an error: most senders deliver (the
/// session's verdict, from the chain it showed, says whether they trust
/// it).
fn legacy_tls_finding(s: &SessionOut, subject: &str) -> Option<Finding> {
    let legacy = s.probe.legacy_tls.as_ref()?.accepted()?;
    let Outcome::HandshakeFailed { alert, detail, .. } = &s.probe.outcome else {
        return None;
    };
    let refusal = match alert {
        Some(alert) => format!("alert {alert}"),
        None => detail.clone(),
    };
    let server = format!("{} ({})", s.ip, s.mx);
    Some(legacy_finding(&server, subject, &refusal, legacy))
}

/// The `mx-tls-legacy-only` warning for `server` (`IP (MX host)`), whose
/// rustls handshake ended in `refusal`.
fn legacy_finding(server: &str, subject: &str, refusal: &str, legacy: &LegacyHandshake) -> Finding {
    let key = match legacy.key_bits.filter(|_| legacy.rsa_key_too_short()) {
        Some(bits) => format!(", RSA key of {bits} bits"),
        None => String::new(),
    };
    let chain = if legacy.chain_presented {
        "The chain it sent there is judged as usual."
    } else {
        "It sent no certificate, so no chain was judged."
    };
    Finding::new(
        Severity::Warning,
        Code::MxTlsLegacyOnly,
        subject,
        format!(
            "{server} refuses rustls ({refusal}) but accepts a legacy hello: {} {}{key}. {} {chain}",
            legacy.version,
            legacy.cipher,
            who_connects(legacy)
        ),
        legacy_advice(legacy),
    )
}

/// Whether senders built on one TLS library connect, and why not or on
/// what condition.
struct Library {
    /// `OpenSSL-based senders`.
    name: &'static str,
    /// Senders built on it: `Postfix, Exim`.
    examples: &'static str,
    /// Why they do not connect, when they do not.
    refused: Option<&'static str>,
    /// On what condition they connect.
    only: Option<&'static str>,
}

/// One sentence: which senders still connect to a server that chose
/// `legacy`, and which do not. The library defaults behind it: OpenSSL 3.2
/// went to security level 2 (no RSA keys under 2048 bits; the advice says
/// so), OpenSSL 3
/// allows TLS below 1.2 only at level 0, OpenSSL 1.1.0 dropped 3DES from
/// its defaults; Go never had DHE, dropped static-RSA suites from its
/// defaults in 1.22 and 3DES in 1.23, requires TLS 1.2 of servers by
/// default since 1.18 and refuses RSA keys under 1024 bits since 1.24.
fn who_connects(legacy: &LegacyHandshake) -> String {
    let mut openssl = Library {
        name: "OpenSSL-based senders",
        examples: "Postfix, Exim",
        refused: None,
        only: None,
    };
    let mut go = Library {
        name: "Go-based senders",
        examples: "mox",
        refused: None,
        only: None,
    };
    let suite = legacy.suite();
    match suite {
        Some(s) if s.triple_des => {
            openssl.refused = Some("no 3DES by default since 1.1.0");
            go.refused = Some("no 3DES by default since Go 1.23");
        }
        Some(s) if s.kx == KeyExchange::Dhe => go.refused = Some("Go has no DHE"),
        Some(s) if s.kx == KeyExchange::Rsa => {
            go.refused = Some("no static RSA by default since Go 1.22");
        }
        _ => {}
    }
    if legacy.below_tls12() {
        openssl.only = Some("at security level 0");
        go.refused = go.refused.or(Some("Go requires TLS 1.2 by default"));
    }
    if let Some(bits) = legacy.key_bits.filter(|_| legacy.rsa_key_too_short()) {
        openssl.only = openssl.only.or(Some("below security level 2"));
        if bits < 1024 {
            go.refused = go
                .refused
                .or(Some("RSA under 1024 bits is refused since Go 1.24"));
        }
    }
    let libraries = [openssl, go];
    let connect: Vec<String> = libraries
        .iter()
        .filter(|l| l.refused.is_none())
        .map(|l| match l.only {
            Some(only) => format!("{} ({}) {only}", l.name, l.examples),
            None => format!("{} ({})", l.name, l.examples),
        })
        .collect();
    let mut refuse: Vec<String> = libraries
        .iter()
        .filter_map(|l| {
            l.refused
                .map(|why| format!("{} ({}: {why})", l.name, l.examples))
        })
        .collect();
    refuse.push("rustls-based senders".to_string());
    let fs = match suite {
        Some(s) if s.kx == KeyExchange::Rsa && !s.triple_des => " (no forward secrecy)",
        _ => "",
    };
    let also = match suite {
        Some(s) if s.rustls && !legacy.rsa_key_too_short() => {
            " (rustls has that suite but not something else this hello offers: SHA-1 signatures, P-521)"
        }
        _ => "",
    };
    let who = if connect.is_empty() {
        "Only old senders".to_string()
    } else {
        connect.join(" and ")
    };
    format!(
        "{who} still connect{fs}; {} and mxtls do not{also}.",
        refuse.join(", ")
    )
}

/// What to change on a server that chose `legacy`.
fn legacy_advice(legacy: &LegacyHandshake) -> String {
    let modern = "Enable ECDHE suites with AES-GCM or ChaCha20, which rustls-based senders need, before the old ones (OpenSSL `ECDHE+AESGCM:ECDHE+CHACHA20:...`; Postfix `tls_medium_cipherlist`, Exim `tls_require_ciphers`), and TLS 1.3.";
    let mut advice = Vec::new();
    if legacy.below_tls12() {
        advice.push(
            "Enable TLS 1.2 and 1.3 (RFC 8996 deprecates TLS 1.0 and 1.1; RFC 8461 §7.2 makes 1.2 the floor for MTA-STS).".to_string(),
        );
    }
    if let Some(bits) = legacy.key_bits.filter(|_| legacy.rsa_key_too_short()) {
        advice.push(format!(
            "Replace the {bits}-bit RSA key (OpenSSL 3.2+ refuses it by default too) with RSA 2048+ or ECDSA P-256 and a new certificate; under DANE, publish its TLSA record first."
        ));
    }
    match legacy.suite() {
        // The suite is fine: the key, or something else, is not.
        Some(s) if s.rustls && legacy.rsa_key_too_short() => {}
        Some(s) if s.rustls => advice.push(
            "Let the server sign the handshake with SHA-256 or better and offer X25519 or P-256 (OpenSSL `-sigalgs`, `-groups`; Postfix `tls_eecdh_auto_curves`), and enable TLS 1.3.".to_string(),
        ),
        _ => advice.push(modern.to_string()),
    }
    advice.join(" ")
}

/// DANE passes but the MTA-STS policy in mode enforce fails: RFC 8461 §2
/// forbids only a passing MTA-STS check overriding a failing DANE one, so
/// MTA-STS-only senders refuse the mail, and so does mox (a PKIX failure
/// under enforce fails the delivery even when DANE verified).
fn sts_only_refuses(s: &SessionOut, sts_mode: Option<Mode>) -> Option<Finding> {
    let dane_passed = s.tlsa_verdict.as_ref().is_some_and(Verdict::is_success);
    let dane_failed = s.tlsa_verdict.as_ref().is_some_and(Verdict::is_failure);
    let sts = s.sts_verdict.as_ref().filter(|v| v.is_failure())?;
    if sts_mode != Some(Mode::Enforce) {
        return None;
    }
    // DANE fails too: the session's finding is DANE's (RFC 8461 §2, DANE
    // first), but MTA-STS fails on its own and needs its own fix, as it
    // gets when no TLSA is published. A policy that cannot be used is
    // the policy's finding.
    if dane_failed {
        if matches!(
            sts.result.failure(),
            Some(
                ResultType::StsPolicyFetchError
                    | ResultType::StsPolicyInvalid
                    | ResultType::StsWebpkiInvalid
            )
        ) {
            return None;
        }
        return refusal(s, sts, Severity::Error, |failure, reason| {
            format!(
                "MTA-STS senders will not deliver to {} ({}) either: the MTA-STS policy (mode enforce) fails with {failure} ({reason}){}, independently of the DANE failure; fixing DANE alone leaves them refusing.",
                s.ip,
                s.mx,
                sts_handshake_note(s)
            )
        });
    }
    if !dane_passed {
        return None;
    }
    refusal(s, sts, Severity::Error, |failure, reason| {
        format!(
            "MTA-STS-only senders will not deliver to {} ({}): the MTA-STS policy (mode enforce) fails with {failure} ({reason}){}. DANE passes, so DANE senders deliver; a passing DANE check does not override a failing MTA-STS policy (RFC 8461 §2), and mox refuses such a delivery too.",
            s.ip,
            s.mx,
            sts_handshake_note(s)
        )
    })
}

/// The handshake MTA-STS was judged on when it was not the session's own
/// (SNI = the MX host name, where DANE sent the TLSA base domain): the
/// certificate shown for the session is not the one judged, so name it.
fn sts_handshake_note(s: &SessionOut) -> String {
    let Some(h) = &s.sts_handshake else {
        return String::new();
    };
    match &h.certificate {
        Some(c) => {
            let same = s.certificate.as_ref().is_some_and(|d| d.sha256 == c.sha256);
            format!(
                " on a handshake of its own with SNI {} (the MX host name, as MTA-STS senders send it), where the server sent the certificate {} issued by {} (SHA-256 {}){}",
                h.sni,
                c.subject,
                c.issuer,
                c.sha256,
                if same {
                    ", the same as in DANE's session"
                } else {
                    ", not the one shown for the session (DANE's, with SNI the TLSA base domain)"
                }
            )
        }
        None => format!(
            " on a handshake of its own with SNI {} (the MX host name, as MTA-STS senders send it)",
            h.sni
        ),
    }
}

/// Secure TLSA records behind an insecure MX RRset that do not match: only
/// senders that opt in to DANE there (Postfix at level `dane`) refuse.
fn opt_in_dane_refuses(s: &SessionOut) -> Option<Finding> {
    let v = s.opt_in_dane_verdict.as_ref().filter(|v| v.is_failure())?;
    if crate::outlook::is_all_unusable(v) {
        return None;
    }
    refusal(s, v, Severity::Warning, |failure, reason| {
        format!(
            "senders that use DANE behind an unsigned MX RRset (Postfix at level dane) will not deliver to {} ({}): {failure} ({reason}); RFC-default DANE senders (mox), MTA-STS and opportunistic senders ignore these TLSA records and deliver",
            s.ip, s.mx
        )
    })
}

/// The finding for a session failing `v`, in the words `message` gives
/// for its result type and reason.
fn refusal(
    s: &SessionOut,
    v: &Verdict,
    severity: Severity,
    message: impl FnOnce(ResultType, &str) -> String,
) -> Option<Finding> {
    let failure = v.result.failure()?;
    let reason = v.reason.as_deref().unwrap_or("");
    let finding = Finding::new(
        severity,
        Code::for_session_failure(failure),
        format!("{} {}", s.mx, s.ip),
        message(failure, reason),
        session_advice(s, failure, reason),
    );
    Some(match session_cause(failure, reason, &s.mx) {
        Some((code, subject)) => finding.following(code, Some(subject)),
        None => finding,
    })
}

fn connect_word(c: Connect) -> &'static str {
    match c {
        Connect::Ok => "connected",
        Connect::Refused => "connection refused",
        Connect::Timeout => "connection timed out",
        Connect::Unreachable => "network unreachable",
        Connect::Error => "connection error",
    }
}

/// The DANE-EE record (`3 1 1`, SHA-256 of the public key, RFC 7672
/// §3.1.1) that matches the key the server serves, as a zone-file line.
fn served_key_record(s: &SessionOut) -> Option<String> {
    let record = crate::dane::coverage::record_for((3, 1, 1), s.probe.chain())?;
    Some(format!(
        "_25._tcp.{}. IN TLSA {}",
        s.mx.trim_end_matches('.'),
        record.to_presentation()
    ))
}

/// The advice for session `s` failing with `failure`. The result shows one
/// certificate defect (not-trusted, then expired, then host-mismatch, SPEC
/// §5); when the certificate also names the wrong host, the renewed or
/// replaced one must name the MX host too, or it fails again.
fn session_advice(s: &SessionOut, failure: ResultType, reason: &str) -> String {
    use crate::pki::webpki::Defect;
    if failure == ResultType::TlsaInvalid && ta_needs_chain(s) {
        return format!(
            "{} If the certificate is issued by the CA a DANE-TA (`2 …`) record names, send that CA's certificate with the leaf (the full chain, leaf then intermediates; Postfix `smtpd_tls_chain_files = key, leaf, intermediate`): a DANE-TA record matches only a certificate the server sends (RFC 7672 §3.1.2), and MTA-STS senders need the chain too.",
            advice_for(failure, reason, &s.mx, served_key_record(s).as_deref())
        );
    }
    if let (ResultType::TlsaInvalid, Some(first)) = (failure, s.superseded_matches.first()) {
        let matching = first.stronger_matching;
        let usage_selector = format!("{} {}", first.usage, first.selector);
        return match &first.fix {
            Some(fix) => format!(
                "Publish `{fix}` (the same key, hashed with the stronger matching type {matching}) beside the `{usage_selector} {matching}` records, or remove the `{usage_selector} {matching}` records if no key in service needs them."
            ),
            None => format!(
                "Publish the `{usage_selector} {matching}` record of the certificate served now beside the others, or remove the `{usage_selector} {matching}` records if no key in service needs them."
            ),
        };
    }
    let advice = advice_for(failure, reason, &s.mx, served_key_record(s).as_deref());
    if !matches!(
        failure,
        ResultType::CertificateExpired | ResultType::CertificateNotTrusted
    ) {
        return advice;
    }
    let Some(w) = &s.webpki else { return advice };
    let named = w.defects.iter().find_map(|d| match d {
        Defect::HostMismatch { names_presented } => Some(format!(
            "the one served now names {}",
            names_presented.join(", ")
        )),
        Defect::NoSan { .. } => Some("the one served now has no DNS name in it".to_string()),
        _ => None,
    });
    match named {
        Some(named) => format!(
            "{advice} The new certificate must also name {} in its subjectAltName: {named}.",
            w.host.trim_end_matches('.')
        ),
        None => advice,
    }
}

fn advice_for(result: ResultType, reason: &str, host: &str, served: Option<&str>) -> String {
    use ResultType as T;
    match result {
        T::TlsaInvalid if served.is_some() => format!("Publish the record of the key served now, `{}`, beside or instead of the records at _25._tcp.{host} (keep the old one until the new key is served everywhere, then remove it).", served.unwrap_or_default()),
        T::StarttlsNotSupported if reason.starts_with("starttls-refused") => "The server advertises STARTTLS but refuses it: check its TLS certificate and key configuration (e.g. Postfix `smtpd_tls_chain_files`) and its logs.".to_string(),
        T::StarttlsNotSupported => "Enable STARTTLS on the server (e.g. Postfix `smtpd_tls_security_level = may` with a certificate).".to_string(),
        T::CertificateExpired => format!("Renew the certificate of {host} and reload the server; automate renewal (ACME)."),
        T::CertificateHostMismatch => format!("Serve a certificate whose subjectAltName includes {host}."),
        T::CertificateNotTrusted => "Serve a certificate from a public CA with its full chain (leaf then intermediates).".to_string(),
        T::TlsaInvalid if reason == crate::dane::verdict::ALL_RECORDS_UNUSABLE => format!("Publish `_25._tcp.{host} IN TLSA 3 1 1 <SHA-256 of the server's public key>`; PKIX usages 0 and 1 are unusable for SMTP."),
        T::TlsaInvalid => format!("Make the TLSA records at _25._tcp.{host} match the certificate served now (`3 1 1` = SHA-256 of its public key); publish the next key's record before rolling over."),
        T::DnssecInvalid => format!("Fix DNSSEC for _25._tcp.{host}: the TLSA lookup must return signed data or a signed denial."),
        T::ValidationFailure if reason == "mx-not-covered" => format!("Add `mx: {host}` to the MTA-STS policy and change the record's id."),
        T::ValidationFailure if reason == "tls-plaintext-after-starttls" => format!("Make the 220 to STARTTLS lead into a TLS handshake: check that the server has its certificate and key loaded, and that no proxy, load balancer or firewall doing SMTP inspection in front of it answers STARTTLS on its behalf. Test with `openssl s_client -starttls smtp -connect {host}:25`."),
        T::ValidationFailure if reason == "tls-protocol-version" => "Enable TLS 1.2 or 1.3 on the server; older versions fail MTA-STS and DANE (RFC 8461 §7.2).".to_string(),
        _ => "Check the server's TLS configuration and logs.".to_string(),
    }
}

/// Findings for `--require-dane` and `--require-sts`: absence becomes an
/// error (our choice; the RFCs leave both optional).
pub fn requirement_findings(
    domain: &str,
    require_dane: bool,
    require_sts: bool,
    lookup: &MxLookup,
    mx: &[MxHost],
    sts_policy_applies: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let receives = matches!(lookup.status, MxStatus::Found | MxStatus::Implicit);
    if require_dane && receives {
        for h in mx.iter().filter(|h| !h.tlsa.applies) {
            out.push(Finding::new(
                Severity::Error,
                Code::DaneRequired,
                &h.host,
                format!("DANE is required (--require-dane) but does not apply to {}: {}", h.host, h.tlsa.reason),
                format!("Sign the zones of {domain} and {} with DNSSEC and publish `_25._tcp.{} IN TLSA 3 1 1 <SHA-256 of the server's public key>`.", h.host, h.host),
            ));
        }
    }
    if require_sts && receives && !sts_policy_applies {
        out.push(Finding::new(
            Severity::Error,
            Code::StsRequired,
            domain,
            format!("MTA-STS is required (--require-sts) but {domain} has no valid MTA-STS record and policy that senders would apply"),
            format!("Publish `_mta-sts.{domain}. IN TXT \"v=STSv1; id=<timestamp>\"` and serve a policy at https://mta-sts.{domain}/.well-known/mta-sts.txt."),
        ));
    }
    out
}

fn host_findings(host: &MxHost, status: MxStatus, out: &mut Vec<Finding>) {
    let h = host.host.as_str();
    let is_ip = hickory_proto::rr::Name::from_ascii(h)
        .map(|n| mx::is_ip_literal(&n))
        .unwrap_or(false);
    if is_ip {
        out.push(Finding::new(
            Severity::Error,
            Code::MxIpLiteral,
            h,
            format!("the MX target \"{h}\" is an IP address written as a host name; senders look it up as a name and find nothing"),
            format!("Point the MX at a host name with A/AAAA records, e.g. `MX 10 mail.example.` and `mail.example. IN A {h}`."),
        ));
    }
    if let Some(target) = &host.cname {
        if status == MxStatus::Found {
            out.push(Finding::new(
                Severity::Warning,
                Code::MxCname,
                h,
                format!("the MX host {h} is an alias (CNAME to {target}); RFC 2181 §10.3 says an MX must name the host itself"),
                format!("Publish the MX with the canonical name: `MX {} {target}.`", host.preference),
            ));
        }
    }
    if host.address_overloaded && host.address_dnssec != Dnssec::Bogus {
        // An address lookup lost to the scanner's own queue says nothing
        // about the host (`overload_finding` tells the operator).
    } else if host.addresses.is_empty() && !is_ip {
        match host.address_dnssec {
            Dnssec::Bogus => out.push(Finding::new(
                Severity::Error,
                Code::MxAddressBogus,
                h,
                format!("the address records of {h} are DNSSEC-bogus: validating senders cannot connect to it"),
                format!("Fix the signatures of the zone holding {h} (check with `delv {h} A`)."),
            )),
            _ => out.push(Finding::new(
                Severity::Error,
                Code::MxNoAddress,
                h,
                match &host.address_error {
                    Some(e) => format!("no address for the MX host {h}: {e}"),
                    None => format!("the MX host {h} has no A or AAAA records: senders cannot connect to it"),
                },
                format!("Publish A and/or AAAA records for {h}, or point the MX elsewhere."),
            )),
        }
    } else if host.address_dnssec == Dnssec::Bogus {
        out.push(Finding::new(
            Severity::Error,
            Code::MxAddressBogus,
            h,
            format!("some address records of {h} are DNSSEC-bogus: {}", host.address_error.as_deref().unwrap_or("validation failed")),
            format!("Fix the signatures of the zone holding {h} (check with `delv {h} A` and `delv {h} AAAA`)."),
        ));
    } else if let Some(error) = &host.address_error {
        // One address family answered, the other failed: senders use the
        // one that answered, and DANE still applies to it when it is
        // secure (RFC 7672 §2.2.2).
        out.push(Finding::new(
            Severity::Warning,
            Code::MxAddressLookupFailed,
            h,
            format!("an address lookup for {h} failed ({error}); senders use the addresses that did answer"),
            format!("Make the name servers answer both A and AAAA queries for {h} (NODATA when there are none; check with `dig {h} AAAA`)."),
        ));
    }
    let t = &host.tlsa;
    let tlsa_name = t.name.clone().unwrap_or_else(|| format!("_25._tcp.{h}"));
    let insecure_mx = host.dnssec != Dnssec::Secure;
    match t.status {
        // Lost to the scanner's own queue: nothing known about the host.
        TlsaStatus::Error if t.overloaded => {}
        // RFC 7672 §2.2.1: behind an insecure MX RRset the RFC default is
        // no DANE, but senders that opt in (Postfix at level `dane`) treat
        // a failed TLSA lookup as they would behind a secure one.
        TlsaStatus::Bogus | TlsaStatus::Error if insecure_mx => out.push(Finding::new(
            Severity::Warning,
            if t.status == TlsaStatus::Bogus { Code::TlsaDnssecBogus } else { Code::TlsaLookupFailed },
            &tlsa_name,
            format!("the TLSA lookup for {tlsa_name} is {}, behind an MX RRset that is not DNSSEC-signed: senders that use DANE behind an insecure MX (Postfix at level dane) defer mail to {h}; RFC-default DANE senders (mox), MTA-STS and opportunistic senders deliver", if t.status == TlsaStatus::Bogus { "DNSSEC-bogus" } else { "failing" }),
            format!("Fix the zone holding {tlsa_name} so that the TLSA lookup returns signed data or a signed denial (check with `delv {tlsa_name} TLSA`)."),
        )),
        TlsaStatus::Bogus => out.push(Finding::new(
            Severity::Error,
            Code::TlsaDnssecBogus,
            &tlsa_name,
            format!("the TLSA lookup for {tlsa_name} is DNSSEC-bogus: DANE senders will not deliver to {h} (dnssec-invalid)"),
            format!("Re-sign the zone holding {tlsa_name}; check with `delv {tlsa_name} TLSA`."),
        )),
        TlsaStatus::Error => out.push(Finding::new(
            Severity::Error,
            Code::TlsaLookupFailed,
            &tlsa_name,
            format!(
                "the TLSA lookup for {tlsa_name} failed ({}): DANE senders treat {h} as unreachable (RFC 7672 §2.1.1)",
                t.error.as_deref().unwrap_or("no answer")
            ),
            "Make the zone's name servers answer TLSA queries (NODATA if there are none); some servers fail on unknown types.".to_string(),
        )),
        TlsaStatus::Found if !t.applies && t.dnssec != Dnssec::Secure => out.push(Finding::new(
            Severity::Warning,
            Code::TlsaInsecure,
            &tlsa_name,
            format!("TLSA records are published at {tlsa_name} but are not DNSSEC-signed ({}): senders ignore them", t.dnssec.as_str()),
            "Sign the zone with DNSSEC (and publish its DS), or remove the TLSA records.".to_string(),
        )),
        TlsaStatus::Found if !t.applies => out.push(Finding::new(
            Severity::Warning,
            Code::TlsaMxInsecure,
            &tlsa_name,
            format!("TLSA records at {tlsa_name} are signed, but the MX RRset is not: RFC-default DANE senders (mox) do not use them; senders that opt in (Postfix at level dane) do, with the MX host name as the only reference identifier (RFC 7672 §2.2.1)"),
            "Sign the zone that publishes the MX records too.".to_string(),
        )),
        TlsaStatus::Found if t.usable == 0 => out.push(Finding::new(
            Severity::Error,
            Code::TlsaAllUnusable,
            &tlsa_name,
            format!("none of the TLSA records at {tlsa_name} is usable for SMTP (only DANE-TA(2) and DANE-EE(3) are, RFC 7672 §3.1); TLS is still required but not authenticated"),
            "Publish a `3 1 1` record with the SHA-256 of the server's public key (e.g. from `openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256sum`).".to_string(),
        )),
        TlsaStatus::Found if t.usable < t.records.len() => out.push(Finding::new(
            Severity::Warning,
            Code::TlsaSomeUnusable,
            &tlsa_name,
            format!("{} of {} TLSA records at {tlsa_name} are unusable for SMTP (PKIX usages 0/1, unknown parameters or wrong digest length)", t.records.len() - t.usable, t.records.len()),
            "Remove the unusable records; keep `3 1 1` (and `2 0 1` for a CA you control).".to_string(),
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Address, MxLookup, TlsRpt, Tlsa};

    fn tlsa(
        status: TlsaStatus,
        dnssec: Dnssec,
        applies: bool,
        records: usize,
        usable: usize,
    ) -> Tlsa {
        Tlsa {
            status,
            name: Some("_25._tcp.mx.example".into()),
            base_domain: None,
            dnssec,
            records: vec!["3 1 1 00".into(); records],
            usable,
            applies,
            reason: String::new(),
            parsed: Vec::new(),
            planned: false,
            error: None,
            overloaded: false,
        }
    }

    fn host(name: &str, t: Tlsa) -> MxHost {
        MxHost {
            host: name.into(),
            preference: 10,
            dnssec: Dnssec::Secure,
            cname: None,
            addresses: vec![Address {
                ip: "127.0.0.1".parse().expect("ip"),
                dnssec: Dnssec::Secure,
            }],
            address_dnssec: Dnssec::Secure,
            address_error: None,
            address_overloaded: false,
            tlsa: t,
        }
    }

    fn discovery(status: MxStatus, dnssec: Dnssec, mx: Vec<MxHost>) -> Discovery {
        Discovery {
            mx_lookup: MxLookup {
                status,
                dnssec,
                error: None,
                overloaded: false,
            },
            null_mixed: false,
            mx,
            tlsrpt: TlsRpt {
                name: "_smtp._tls.example".into(),
                dnssec,
                assessment: crate::tlsrpt::assess("example", &[]),
                rua_domains: Vec::new(),
                error: None,
                overloaded: false,
            },
        }
    }

    fn codes(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn a_lookup_lost_to_the_scanners_own_load_is_not_blamed_on_the_domain() {
        let mut d = discovery(MxStatus::Error, Dnssec::Indeterminate, vec![]);
        d.mx_lookup.overloaded = true;
        d.mx_lookup.error = Some("not asked: the scanner's own queue was full".into());
        let f = dns_findings("example", DnssecMode::Validate, &d);
        assert!(codes(&f).is_empty(), "{:?}", codes(&f));
        // A TLSA lookup and an address lookup lost the same way.
        let mut t = tlsa(TlsaStatus::Error, Dnssec::Indeterminate, false, 0, 0);
        t.overloaded = true;
        let mut h = host("mx.example", t);
        h.addresses.clear();
        h.address_dnssec = Dnssec::Indeterminate;
        h.address_overloaded = true;
        let d = discovery(MxStatus::Found, Dnssec::Secure, vec![h]);
        let f = dns_findings("example", DnssecMode::Validate, &d);
        for blamed in [
            "tlsa-lookup-failed",
            "mx-no-address",
            "mx-address-lookup-failed",
        ] {
            assert!(!codes(&f).contains(&blamed), "{:?}", codes(&f));
        }
        // Told once, for the domain, naming every lookup lost.
        let lost = [
            "example MX".to_string(),
            "_25._tcp.mx.example TLSA".to_string(),
        ];
        let one = overload_finding("example", &lost, 2).expect("a finding");
        assert_eq!(one.code, Code::ScannerDnsOverloaded);
        assert_eq!(one.severity, Severity::Warning);
        assert_eq!(one.subject, "example");
        assert!(
            one.message.contains("_25._tcp.mx.example TLSA"),
            "{}",
            one.message
        );
        assert!(one.advice.contains("--concurrency"), "{}", one.advice);
        assert!(overload_finding("example", &[], 0).is_none());
    }

    #[test]
    fn each_rule_gives_its_finding() {
        let good = || tlsa(TlsaStatus::Found, Dnssec::Secure, true, 1, 1);
        let rows: Vec<(&str, Discovery, &str, Severity)> = vec![
            (
                "bogus MX",
                discovery(MxStatus::Error, Dnssec::Bogus, vec![]),
                "mx-dnssec-bogus",
                Severity::Error,
            ),
            (
                "failed MX",
                discovery(MxStatus::Error, Dnssec::Indeterminate, vec![]),
                "mx-lookup-failed",
                Severity::Error,
            ),
            (
                "nxdomain",
                discovery(MxStatus::Nxdomain, Dnssec::Secure, vec![]),
                "domain-nxdomain",
                Severity::Error,
            ),
            (
                "null MX",
                discovery(MxStatus::NullMx, Dnssec::Secure, vec![]),
                "mx-null",
                Severity::Info,
            ),
            (
                "implicit MX",
                discovery(
                    MxStatus::Implicit,
                    Dnssec::Secure,
                    vec![host("example", good())],
                ),
                "mx-implicit",
                Severity::Warning,
            ),
            (
                "insecure MX",
                discovery(
                    MxStatus::Found,
                    Dnssec::Insecure,
                    vec![host(
                        "mx.example",
                        tlsa(TlsaStatus::Skipped, Dnssec::Indeterminate, false, 0, 0),
                    )],
                ),
                "mx-insecure",
                Severity::Info,
            ),
            (
                "IP literal",
                discovery(
                    MxStatus::Found,
                    Dnssec::Secure,
                    vec![host("192.0.2.1", good())],
                ),
                "mx-ip-literal",
                Severity::Error,
            ),
            (
                "bogus TLSA",
                discovery(
                    MxStatus::Found,
                    Dnssec::Secure,
                    vec![host(
                        "mx.example",
                        tlsa(TlsaStatus::Bogus, Dnssec::Bogus, false, 0, 0),
                    )],
                ),
                "tlsa-dnssec-bogus",
                Severity::Error,
            ),
            (
                "failed TLSA",
                discovery(
                    MxStatus::Found,
                    Dnssec::Secure,
                    vec![host(
                        "mx.example",
                        tlsa(TlsaStatus::Error, Dnssec::Indeterminate, false, 0, 0),
                    )],
                ),
                "tlsa-lookup-failed",
                Severity::Error,
            ),
            (
                "unsigned TLSA",
                discovery(
                    MxStatus::Found,
                    Dnssec::Insecure,
                    vec![host(
                        "mx.example",
                        tlsa(TlsaStatus::Found, Dnssec::Insecure, false, 1, 1),
                    )],
                ),
                "tlsa-insecure",
                Severity::Warning,
            ),
            (
                "all unusable",
                discovery(
                    MxStatus::Found,
                    Dnssec::Secure,
                    vec![host(
                        "mx.example",
                        tlsa(TlsaStatus::Found, Dnssec::Secure, true, 2, 0),
                    )],
                ),
                "tlsa-all-unusable",
                Severity::Error,
            ),
            (
                "some unusable",
                discovery(
                    MxStatus::Found,
                    Dnssec::Secure,
                    vec![host(
                        "mx.example",
                        tlsa(TlsaStatus::Found, Dnssec::Secure, true, 2, 1),
                    )],
                ),
                "tlsa-some-unusable",
                Severity::Warning,
            ),
            (
                "partial DANE",
                discovery(
                    MxStatus::Found,
                    Dnssec::Secure,
                    vec![
                        host("a.example", good()),
                        host(
                            "b.example",
                            tlsa(TlsaStatus::None, Dnssec::Secure, false, 0, 0),
                        ),
                    ],
                ),
                "dane-partial",
                Severity::Warning,
            ),
        ];
        for (what, d, code, severity) in rows {
            let f = dns_findings("example", DnssecMode::Validate, &d);
            let hit = f.iter().find(|f| f.code == code);
            assert!(
                hit.is_some(),
                "{what}: expected {code}, got {:?}",
                codes(&f)
            );
            assert_eq!(hit.map(|f| f.severity), Some(severity), "{what}");
        }
    }

    #[test]
    fn a_good_dane_domain_has_no_findings() {
        let d = discovery(
            MxStatus::Found,
            Dnssec::Secure,
            vec![host(
                "mx.example",
                tlsa(TlsaStatus::Found, Dnssec::Secure, true, 1, 1),
            )],
        );
        assert!(dns_findings("example", DnssecMode::Validate, &d).is_empty());
    }

    #[test]
    fn legacy_tls_is_a_warning_naming_suite_key_and_senders() {
        use crate::pki::test_pki::{Pki, leaf_spec};
        use crate::smtp::legacy_hello::{Answer, ServerHello};
        use crate::smtp::legacy_tls::LegacyTls;
        let pki = Pki::new();
        let ecdsa = pki.chain(&leaf_spec(&["mx.example"]));
        let weak = vec![pki.weak_rsa_leaf(&leaf_spec(&["mx.example"]))];
        let accepted =
            |version: u16, cipher: u16, chain: &[rustls::pki_types::CertificateDer<'static>]| {
                match LegacyTls::from_answer(Ok(Answer::Hello(ServerHello {
                    version,
                    cipher,
                    chain: chain.to_vec(),
                }))) {
                    LegacyTls::Accepted(h) => h,
                    other => panic!("a ServerHello is accepted: {other:?}"),
                }
            };
        // (rule, handshake, words the message must have, words it must
        //  not, words of the advice)
        type Row<'a> = (
            &'a str,
            LegacyHandshake,
            Vec<&'a str>,
            Vec<&'a str>,
            &'a str,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                "ECDHE CBC: OpenSSL and Go senders connect",
                accepted(0x0303, 0xc009, &ecdsa),
                vec![
                    "refuses rustls (alert handshake_failure) but accepts a legacy hello: TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA.",
                    "OpenSSL-based senders (Postfix, Exim) and Go-based senders (mox) still connect; rustls-based senders and mxtls do not.",
                    "judged as usual",
                ],
                vec!["will not deliver", "RSA key"],
                "ECDHE suites with AES-GCM or ChaCha20",
            ),
            (
                "static RSA: OpenSSL only, Go since 1.22 not",
                accepted(0x0303, 0x002f, &[]),
                vec![
                    "OpenSSL-based senders (Postfix, Exim) still connect (no forward secrecy); Go-based senders (mox: no static RSA by default since Go 1.22), rustls-based senders and mxtls do not.",
                    "no chain was judged",
                ],
                vec![],
                "ECDHE suites with AES-GCM or ChaCha20",
            ),
            (
                "DHE: Go has none",
                accepted(0x0303, 0x009e, &[]),
                vec![
                    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                    "Go-based senders (mox: Go has no DHE)",
                ],
                vec![],
                "ECDHE suites with AES-GCM or ChaCha20",
            ),
            (
                "3DES: only old senders",
                accepted(0x0303, 0x000a, &[]),
                vec![
                    "Only old senders still connect",
                    "Exim: no 3DES by default since 1.1.0",
                    "since Go 1.23",
                ],
                vec![],
                "ECDHE suites with AES-GCM or ChaCha20",
            ),
            (
                "a 1024-bit RSA key with static RSA: OpenSSL below level 2 only",
                accepted(0x0303, 0x002f, &weak),
                vec![
                    "TLS_RSA_WITH_AES_128_CBC_SHA, RSA key of 1024 bits.",
                    "OpenSSL-based senders (Postfix, Exim) below security level 2 still connect",
                    "(mox: no static RSA by default since Go 1.22)",
                ],
                vec![],
                "Replace the 1024-bit RSA key",
            ),
            (
                "a 1024-bit RSA key with a suite rustls has: the key is the problem",
                accepted(0x0303, 0xc02f, &weak),
                vec![
                    "and Go-based senders (mox) still connect; rustls-based senders and mxtls do not.",
                ],
                vec!["SHA-1"],
                "Replace the 1024-bit RSA key",
            ),
            (
                "below TLS 1.2: the version is named",
                accepted(0x0301, 0xc013, &[]),
                vec![
                    ": TLSv1.0 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA.",
                    "OpenSSL-based senders (Postfix, Exim) at security level 0 still connect",
                    "Go requires TLS 1.2 by default",
                ],
                vec![],
                "Enable TLS 1.2 and 1.3",
            ),
            (
                "a suite rustls has: something else failed",
                accepted(0x0303, 0xc02b, &ecdsa),
                vec!["rustls has that suite but not", "SHA-1 signatures"],
                vec![],
                "SHA-256 or better",
            ),
        ];
        for (rule, legacy, has, lacks, advice) in rows {
            let f = legacy_finding(
                "127.0.0.40 (mx.example)",
                "mx.example 127.0.0.40",
                "alert handshake_failure",
                &legacy,
            );
            assert_eq!(f.code, Code::MxTlsLegacyOnly, "{rule}");
            assert_eq!(f.severity, Severity::Warning, "{rule}");
            for words in has {
                assert!(
                    f.message.contains(words),
                    "{rule}: {words:?} in {}",
                    f.message
                );
            }
            for words in lacks {
                assert!(
                    !f.message.contains(words),
                    "{rule}: no {words:?} in {}",
                    f.message
                );
            }
            assert!(
                f.advice.contains(advice),
                "{rule}: {advice:?} in {}",
                f.advice
            );
            // The summary table shows 400 characters of each.
            assert!(f.message.chars().count() <= 400, "{rule}: {}", f.message);
            assert!(f.advice.chars().count() <= 400, "{rule}: {}", f.advice);
        }
    }

    #[test]
    fn null_mx_beside_hosts_is_an_error() {
        let mut d = discovery(MxStatus::Found, Dnssec::Secure, vec![]);
        d.null_mixed = true;
        assert!(
            codes(&dns_findings("example", DnssecMode::Validate, &d)).contains(&"mx-null-mixed")
        );
    }
}
