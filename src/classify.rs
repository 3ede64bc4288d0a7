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
use crate::smtp::session::{Connect, Outcome};
use crate::tlsrpt::report::ResultType;
use crate::verdict::{SessionResult, Verdict};

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
    if dane_hosts > 0 && dane_hosts < d.mx.len() {
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

/// A certificate that expires within this many days is worth a warning:
/// renewal should have happened by now.
const EXPIRY_WARNING_DAYS: i64 = 14;

/// Findings about the STARTTLS sessions: one per failed or doubtful
/// session, saying which policy failed and what a sender does about it.
pub fn session_findings(
    sessions: &[SessionOut],
    sts_mode: Option<Mode>,
    now_unix: i64,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in sessions {
        let subject = format!("{} {}", s.mx, s.ip);
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
                "Check that the server listens on port 25 and that no firewall blocks it, then scan again.",
            ));
            continue;
        }
        if let Some(cert) = &s.certificate {
            let days = crate::pki::facts::days_until_expiry(cert, now_unix);
            if (0..EXPIRY_WARNING_DAYS).contains(&days) {
                out.push(Finding::new(
                    Severity::Warning,
                    Code::MxCertificateExpiresSoon,
                    &subject,
                    format!(
                        "the certificate of {} ({}) expires in {days} day(s), on {}",
                        s.mx, s.ip, cert.not_after_rfc3339
                    ),
                    "Renew it now and reload the server; check that automatic renewal (ACME) works. Under DANE-EE, publish the new key's TLSA record before the switch.",
                ));
            }
        }
        let Some(result) = s.result else { continue };
        let reason = s.failure_reason.as_deref().unwrap_or("");
        if let Some(f) = sts_only_refuses(s, sts_mode) {
            out.push(f);
        }
        if let Some(f) = opt_in_dane_refuses(s) {
            out.push(f);
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
            out.push(Finding::new(
                Severity::Warning,
                Code::MxInconclusive,
                &subject,
                format!("{} ({}) refused or broke off the session before STARTTLS ({reason}); whether TLS works could not be told", s.ip, s.mx),
                "Retry later: a 421 or a timeout is often temporary. If it persists, check the server's connection limits and greeting.",
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
            .map(|w| format!(": {w}"))
            .unwrap_or_default();
        out.push(Finding::new(
            severity,
            Code::for_session_failure(failure),
            &subject,
            format!("{failure} ({reason}) at {} ({}){what}. {who}", s.ip, s.mx),
            advice_for(failure, reason, &s.mx),
        ));
    }
    out
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

/// DANE passes but the MTA-STS policy in mode enforce fails: RFC 8461 §2
/// forbids only a passing MTA-STS check overriding a failing DANE one, so
/// MTA-STS-only senders refuse the mail, and so does mox (a PKIX failure
/// under enforce fails the delivery even when DANE verified).
fn sts_only_refuses(s: &SessionOut, sts_mode: Option<Mode>) -> Option<Finding> {
    let dane_passed = s.tlsa_verdict.as_ref().is_some_and(Verdict::is_success);
    let sts = s.sts_verdict.as_ref().filter(|v| v.is_failure())?;
    let failure = sts.result.failure()?;
    if !dane_passed || sts_mode != Some(Mode::Enforce) {
        return None;
    }
    let reason = sts.reason.as_deref().unwrap_or("");
    Some(Finding::new(
        Severity::Error,
        Code::for_session_failure(failure),
        format!("{} {}", s.mx, s.ip),
        format!(
            "MTA-STS-only senders will not deliver to {} ({}): the MTA-STS policy (mode enforce) fails with {failure} ({reason}). DANE passes, so DANE senders deliver; a passing DANE check does not override a failing MTA-STS policy (RFC 8461 §2), and mox refuses such a delivery too.",
            s.ip, s.mx
        ),
        advice_for(failure, reason, &s.mx),
    ))
}

/// Secure TLSA records behind an insecure MX RRset that do not match: only
/// senders that opt in to DANE there (Postfix at level `dane`) refuse.
fn opt_in_dane_refuses(s: &SessionOut) -> Option<Finding> {
    let v = s.opt_in_dane_verdict.as_ref().filter(|v| v.is_failure())?;
    if crate::outlook::is_all_unusable(v) {
        return None;
    }
    let failure = v.result.failure()?;
    let reason = v.reason.as_deref().unwrap_or("");
    Some(Finding::new(
        Severity::Warning,
        Code::for_session_failure(failure),
        format!("{} {}", s.mx, s.ip),
        format!(
            "senders that use DANE behind an unsigned MX RRset (Postfix at level dane) will not deliver to {} ({}): {failure} ({reason}); RFC-default DANE senders (mox), MTA-STS and opportunistic senders ignore these TLSA records and deliver",
            s.ip, s.mx
        ),
        advice_for(failure, reason, &s.mx),
    ))
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

fn advice_for(result: ResultType, reason: &str, host: &str) -> String {
    use ResultType as T;
    match result {
        T::StarttlsNotSupported if reason.starts_with("starttls-refused") => "The server advertises STARTTLS but refuses it: check its TLS certificate and key configuration (e.g. Postfix `smtpd_tls_chain_files`) and its logs.".to_string(),
        T::StarttlsNotSupported => "Enable STARTTLS on the server (e.g. Postfix `smtpd_tls_security_level = may` with a certificate).".to_string(),
        T::CertificateExpired => format!("Renew the certificate of {host} and reload the server; automate renewal (ACME)."),
        T::CertificateHostMismatch => format!("Serve a certificate whose subjectAltName includes {host}."),
        T::CertificateNotTrusted => "Serve a certificate from a public CA with its full chain (leaf then intermediates).".to_string(),
        T::TlsaInvalid if reason == "all-records-unusable" => format!("Publish `_25._tcp.{host} IN TLSA 3 1 1 <SHA-256 of the server's public key>`; PKIX usages 0 and 1 are unusable for SMTP."),
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
    if host.addresses.is_empty() && !is_ip {
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
    }
    let t = &host.tlsa;
    let tlsa_name = t.name.clone().unwrap_or_else(|| format!("_25._tcp.{h}"));
    let insecure_mx = host.dnssec != Dnssec::Secure;
    match t.status {
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
            tlsa: t,
        }
    }

    fn discovery(status: MxStatus, dnssec: Dnssec, mx: Vec<MxHost>) -> Discovery {
        Discovery {
            mx_lookup: MxLookup {
                status,
                dnssec,
                error: None,
            },
            null_mixed: false,
            mx,
            tlsrpt: TlsRpt {
                name: "_smtp._tls.example".into(),
                dnssec,
                assessment: crate::tlsrpt::assess("example", &[]),
                rua_domains: Vec::new(),
                error: None,
            },
        }
    }

    fn codes(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.code.as_str()).collect()
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
    fn null_mx_beside_hosts_is_an_error() {
        let mut d = discovery(MxStatus::Found, Dnssec::Secure, vec![]);
        d.null_mixed = true;
        assert!(
            codes(&dns_findings("example", DnssecMode::Validate, &d)).contains(&"mx-null-mixed")
        );
    }
}
