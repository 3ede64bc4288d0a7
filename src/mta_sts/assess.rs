//! Judging MTA-STS evidence as the strictest correct sender would (pure).
//!
//! RFC 8461 §3.3: only a 200 over HTTPS with a WebPKI-valid certificate for
//! `mta-sts.<domain>` is a policy; §3.2: the body must parse and (SHOULD)
//! be `text/plain`; §4.1: every MX must match an `mx:` pattern. Our choice
//! on the media type follows SPEC.md §2: judged as strict senders do. So is
//! an `mx:` pattern outside the grammar (a trailing dot, an IP address, a
//! label that is not valid IDNA): mox rejects the whole policy, so it is
//! `invalid` here, and the sessions and the report carry
//! `sts-policy-invalid`; the finding names the senders that apply it
//! anyway ([`super::pattern`]).

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use super::escape_str;
use super::fetch::{FetchErrorReason, FetchOutcome};
use super::gather::{NameFacts, StsEvidence};
use super::pattern::{self, Coverage};
use super::policy::{self, Mode, StsPolicy};
use super::record::{StsRecordAssessment, StsRecordStatus};
use super::sender_timeouts;
use crate::dns::Dnssec;
use crate::finding::{Code, Finding, Severity};
use crate::pki::facts::{self, CertFacts};
use crate::tlsrpt::report::ResultType;

/// The `mta_sts` key of the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct MtaSts {
    pub record: StsRecordOut,
    pub policy: StsPolicyOut,
}

impl MtaSts {
    /// A valid record whose policy cannot be used (fetch error, invalid
    /// policy, invalid policy host certificate): the result type and
    /// failure-reason-code every session reports under it.
    pub fn unusable_policy(&self) -> Option<(ResultType, &str)> {
        if self.record.assessment.status != StsRecordStatus::Valid {
            return None;
        }
        let reason = self.policy.reason_code.as_deref().unwrap_or("");
        self.policy.result_type.map(|t| (t, reason))
    }
}

/// The policy's `reason_code` when the policy host's address lookups were
/// lost to the scanner's own load: not fetched, and nothing is known.
pub const NOT_FETCHED_OVERLOADED: &str = "not-fetched-scanner-overloaded";

/// The `_mta-sts` TXT record with its DNS facts.
#[derive(Debug, Clone, Serialize)]
pub struct StsRecordOut {
    pub name: String,
    pub dnssec: Dnssec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    #[serde(flatten)]
    pub assessment: StsRecordAssessment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyStatus {
    Valid,
    Invalid,
    FetchError,
    WebpkiInvalid,
    Missing,
}

/// Which pattern covered an MX host (RFC 8461 §4.1).
#[derive(Debug, Clone, Serialize)]
pub struct CoverageOut {
    pub host: String,
    pub pattern: Option<String>,
}

/// The policy: where it was looked for, what came back, what it says.
#[derive(Debug, Clone, Serialize)]
pub struct StsPolicyOut {
    pub status: PolicyStatus,
    pub url: String,
    pub host: String,
    pub host_dnssec: Dnssec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_cname: Option<String>,
    pub addresses: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    pub mx: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// RFC 8460 failure-reason-code for a failed policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// RFC 8460 result type (§4.3.2.2) when the policy failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// What the fetch saw: status, media type, bytes, address, the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch: Option<FetchOutcome>,
    /// The policy host's leaf certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertFacts>,
    /// The policy host's whole chain, leaf first (for the look-ahead).
    #[serde(skip)]
    pub chain: Vec<CertFacts>,
    pub coverage: Vec<CoverageOut>,
    /// The policy judged is planned (`--sts-policy`), not the one served.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub planned: bool,
}

/// The judgement: what to show, what to tell, and the policy senders would
/// apply (None when they would apply none).
pub struct StsJudgement {
    pub out: MtaSts,
    /// Findings about the `_mta-sts` record.
    pub record_findings: Vec<Finding>,
    /// Findings about the policy: its fetch, its text, its coverage.
    pub policy_findings: Vec<Finding>,
    pub policy: Option<StsPolicy>,
}

/// Judges the evidence; `mx_hosts` are the hosts the MX lookup gave (None
/// when it failed, so coverage cannot be judged). A published policy whose
/// fetch took longer than `slow_after` gets an `sts-policy-slow` warning
/// (see [`sender_timeouts`]).
pub fn assess(
    domain: &str,
    ev: StsEvidence,
    mx_hosts: Option<&[String]>,
    slow_after: Duration,
) -> StsJudgement {
    let url = format!("https://mta-sts.{domain}/.well-known/mta-sts.txt");
    let subject = url.clone();
    let mut findings = Vec::new();
    let StsEvidence {
        record_name,
        mut record,
        host,
        addresses,
        fetch,
        not_fetched,
    } = ev;
    findings.append(&mut record.findings);
    let published = !matches!(record.status, StsRecordStatus::Missing);
    let record_valid = record.status == StsRecordStatus::Valid;
    match record.status {
        StsRecordStatus::Bogus => findings.push(Finding::new(
            Severity::Error,
            Code::StsRecordDnssecBogus,
            &record_name.name,
            format!(
                "the MTA-STS record at {} is DNSSEC-bogus: validating senders cannot read it",
                record_name.name
            ),
            format!(
                "Re-sign the zone holding {0}; check with `delv {0} TXT`.",
                record_name.name
            ),
        )),
        // Lost to the scanner's own queue: nothing known about the record.
        StsRecordStatus::Error if record_name.overloaded => {}
        StsRecordStatus::Error => findings.push(Finding::new(
            Severity::Warning,
            Code::StsRecordLookupFailed,
            &record_name.name,
            format!(
                "the MTA-STS record lookup for {} failed: {}",
                record_name.name,
                record_name.error.as_deref().unwrap_or("no answer")
            ),
            "Make the zone's name servers answer TXT queries for this name, then scan again."
                .to_string(),
        )),
        _ => {}
    }
    let record_findings = std::mem::take(&mut findings);

    let mut out = StsPolicyOut {
        status: PolicyStatus::Missing,
        url: url.clone(),
        host: host.name.clone(),
        host_dnssec: host.dnssec,
        host_cname: host.cname.clone(),
        addresses,
        mode: None,
        max_age: None,
        mx: Vec::new(),
        reason: None,
        reason_code: None,
        result_type: None,
        fetch: None,
        certificate: None,
        chain: Vec::new(),
        coverage: Vec::new(),
        planned: false,
    };
    let mut parsed: Option<StsPolicy> = None;
    // A policy that exists but cannot be used matters as an error only
    // when a record tells senders to look for it.
    let failure = if published {
        Severity::Error
    } else {
        Severity::Warning
    };
    // A policy that could not be fetched: an error when a record announces
    // it, else as if there were none.
    let fetch_failed = |out: &mut StsPolicyOut,
                        findings: &mut Vec<Finding>,
                        detail: &str,
                        reason_code: &str,
                        message: String,
                        advice: String| {
        out.status = if published {
            PolicyStatus::FetchError
        } else {
            PolicyStatus::Missing
        };
        out.reason = Some(detail.to_string());
        out.reason_code = Some(reason_code.to_string());
        if published {
            out.result_type = Some(ResultType::StsPolicyFetchError);
            findings.push(Finding::new(
                Severity::Error,
                Code::StsPolicyFetchError,
                &subject,
                format!("the MTA-STS policy cannot be fetched: {message}"),
                advice,
            ));
        }
    };
    let no_cache_note = "Until it can be fetched the policy protects nobody: a sender without a cached policy delivers as if the domain had no MTA-STS (RFC 8461 §3.3).";

    if let (Some(reason), true) = (&not_fetched, host.overloaded && out.addresses.is_empty()) {
        // Told once for the domain (`classify::overload_finding`).
        out.status = PolicyStatus::FetchError;
        out.reason = Some(reason.clone());
        out.reason_code = Some(NOT_FETCHED_OVERLOADED.into());
    } else if let Some(reason) = &not_fetched {
        out.status = PolicyStatus::FetchError;
        out.reason = Some(reason.clone());
        out.reason_code = Some("not-fetched-non-public".into());
        findings.push(Finding::new(
            Severity::Warning,
            Code::StsPolicyNotFetched,
            &subject,
            reason.clone(),
            "Scan from a network that may reach the policy host, or pass --allow-private if these addresses are yours.".to_string(),
        ));
    }
    match &fetch {
        // A record lost to the scanner's queue may not exist at all.
        None if not_fetched.is_none() && published && !record_name.overloaded => {
            out.status = PolicyStatus::FetchError;
            out.reason = Some(host_problem(&host));
            out.reason_code = Some("no-address".into());
            out.result_type = Some(ResultType::StsPolicyFetchError);
            findings.push(Finding::new(
                Severity::Error,
                Code::StsPolicyFetchError,
                &subject,
                format!(
                    "the MTA-STS record is published but the policy host {}: {}",
                    host.name,
                    host_problem(&host)
                ),
                format!(
                    "Publish A/AAAA records for {} and serve the policy there. {no_cache_note}",
                    host.name
                ),
            ));
        }
        None => {}
        // No address because the host's A/AAAA RRset is DNSSEC-bogus:
        // validating senders get SERVFAIL, so the fix is the signatures,
        // not the records (say so, and do not claim there is no address).
        Some(FetchOutcome::FetchError {
            reason_code: FetchErrorReason::NoAddress,
            ..
        }) if host.dnssec == Dnssec::Bogus => {
            let problem = format!("the A/AAAA answers for {} are DNSSEC-bogus", host.name);
            // RFC 8460's own word for a DNSSEC validation failure.
            fetch_failed(
                &mut out,
                &mut findings,
                &problem,
                "dnssec-invalid",
                format!("{problem}, so validating senders cannot resolve it"),
                format!(
                    "Re-sign the zone holding {0} (or fix its DS at the parent); check with `delv {0} A` and `delv {0} AAAA`. {no_cache_note}",
                    host.name
                ),
            );
        }
        Some(FetchOutcome::FetchError {
            reason_code,
            detail,
            ..
        }) => {
            // No address because the lookup failed: say how, not "none".
            let detail = match &host.error {
                Some(_) if *reason_code == FetchErrorReason::NoAddress => {
                    format!("{} {}", host.name, host_problem(&host))
                }
                _ => detail.clone(),
            };
            fetch_failed(
                &mut out,
                &mut findings,
                &detail,
                reason_code.as_str(),
                detail.clone(),
                format!(
                    "Serve the policy at {url} with status 200, no redirect, over HTTPS with a valid certificate for {}. {no_cache_note}",
                    host.name
                ),
            );
        }
        Some(FetchOutcome::WebPkiInvalid {
            reason,
            detail,
            chain,
            ..
        }) => {
            out.status = PolicyStatus::WebpkiInvalid;
            out.reason = Some(detail.clone());
            out.reason_code = Some(reason.as_str().to_string());
            out.result_type = Some(ResultType::StsWebpkiInvalid);
            out.chain = chain.iter().filter_map(|c| facts::facts(c).ok()).collect();
            out.certificate = chain.first().and_then(|c| facts::facts(c).ok());
            findings.push(Finding::new(
                failure,
                Code::StsWebpkiInvalid,
                &subject,
                format!("the certificate of the policy host {} {}: {detail}", host.name, reason.explain()),
                format!(
                    "Install a certificate from a public CA naming {} (e.g. with an ACME client), with its full chain. {no_cache_note}",
                    host.name
                ),
            ));
        }
        Some(FetchOutcome::Fetched {
            content_type,
            media_type_ok,
            body,
            chain,
            ..
        }) => {
            out.chain = chain.iter().filter_map(|c| facts::facts(c).ok()).collect();
            out.certificate = chain.first().and_then(|c| facts::facts(c).ok());
            match policy::parse(body) {
                Ok(p) => {
                    out.mode = Some(p.mode());
                    out.max_age = Some(p.max_age());
                    out.mx = p.mx().iter().map(|m| m.raw().to_string()).collect();
                    findings.extend(policy::lint(&p, domain));
                    parsed = Some(p);
                    out.status = PolicyStatus::Valid;
                }
                Err(e) => {
                    out.status = PolicyStatus::Invalid;
                    out.reason = Some(e.to_string());
                    out.reason_code = Some(e.reason_code().to_string());
                    out.result_type = Some(ResultType::StsPolicyInvalid);
                    findings.push(policy::invalid_finding(&e, &subject, failure));
                }
            }
            if !media_type_ok {
                let served = content_type
                    .clone()
                    .unwrap_or_else(|| "no Content-Type".into());
                out.status = PolicyStatus::Invalid;
                out.reason = Some(format!(
                    "served as {served}, not text/plain (RFC 8461 §3.2)"
                ));
                out.reason_code = Some("wrong-media-type".into());
                out.result_type = Some(ResultType::StsPolicyInvalid);
                parsed = None;
                findings.push(Finding::new(
                    failure,
                    Code::StsPolicyWrongMediaType,
                    &subject,
                    format!("the policy is served as {served}; senders SHOULD check that it is text/plain, and strict ones (e.g. Postfix's MTA-STS resolver) reject it"),
                    "Serve /.well-known/mta-sts.txt as `Content-Type: text/plain` (a charset parameter is fine). Some senders accept other types, but the strict ones apply no policy.".to_string(),
                ));
            }
            if !published {
                findings.push(Finding::new(
                    Severity::Warning,
                    Code::StsPolicyWithoutRecord,
                    &subject,
                    format!("a policy is served at {url}, but no MTA-STS record is published at _mta-sts.{domain}: senders never fetch it"),
                    format!("Publish `_mta-sts.{domain}. IN TXT \"v=STSv1; id=<timestamp>\"` (change the id whenever the policy changes)."),
                ));
                parsed = None;
            }
        }
    }
    // Only senders that look for the policy can miss it for being slow.
    if published && let Some(outcome) = &fetch {
        findings.extend(sender_timeouts::slow_fetch_finding(
            &subject, outcome, slow_after,
        ));
    }
    if !record_valid && published {
        // RFC 8461 §3.1: a record that does not parse means no policy.
        parsed = None;
    }
    if let (Some(p), Some(hosts)) = (&parsed, mx_hosts) {
        let (coverage, mut more) = judge_coverage(p, hosts, domain);
        out.coverage = coverage;
        findings.append(&mut more);
    }
    out.fetch = fetch;
    StsJudgement {
        out: MtaSts {
            record: StsRecordOut {
                name: record_name.name.clone(),
                dnssec: record_name.dnssec,
                cname: record_name.cname.clone(),
                assessment: record,
                error: record_name.error.clone(),
            },
            policy: out,
        },
        record_findings,
        policy_findings: findings,
        policy: parsed,
    }
}

/// Which pattern covers each MX host (RFC 8461 §4.1), with the findings.
fn judge_coverage(
    policy: &StsPolicy,
    hosts: &[String],
    domain: &str,
) -> (Vec<CoverageOut>, Vec<Finding>) {
    let cov = pattern::coverage(policy.mx(), hosts);
    let out = cov
        .hosts
        .iter()
        .map(|h| CoverageOut {
            host: h.host.clone(),
            pattern: h.pattern.as_ref().map(|m| m.raw().to_string()),
        })
        .collect();
    let mut findings = coverage_findings(&cov, domain, policy.mode());
    let missing: Vec<String> = cov
        .uncovered()
        .map(|h| escape_str(h.strip_suffix('.').unwrap_or(h)).to_ascii_lowercase())
        .collect();
    if !missing.is_empty() {
        let text = policy_with(policy, &missing);
        for f in findings
            .iter_mut()
            .filter(|f| f.code == Code::StsPolicyMxNotCovered)
        {
            f.advice
                .push_str(&format!(". The whole policy to serve:\n{text}"));
        }
    }
    (out, findings)
}

/// The policy text with `missing` hosts added as `mx:` lines, one
/// backticked line each (RFC 8461 §3.2 order: version, mode, mx, max_age),
/// ready to copy into the file.
fn policy_with(policy: &StsPolicy, missing: &[String]) -> String {
    let mut lines = vec![
        "version: STSv1".to_string(),
        format!("mode: {}", policy.mode()),
    ];
    lines.extend(
        policy
            .mx()
            .iter()
            .map(|m| format!("mx: {}", escape_str(m.raw()))),
    );
    lines.extend(missing.iter().map(|h| format!("mx: {h}")));
    lines.push(format!("max_age: {}", policy.max_age()));
    lines
        .iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn host_problem(host: &NameFacts) -> String {
    match &host.error {
        Some(e) => format!("cannot be resolved ({e})"),
        None => "has no A or AAAA records".to_string(),
    }
}

/// Replaces the served policy with a planned one (`--sts-policy`): judged as
/// if served, with the record as published today. Findings about the served
/// policy give way to those about the planned one.
pub fn apply_planned(
    j: &mut StsJudgement,
    planned: &StsPolicy,
    path: &std::path::Path,
    domain: &str,
    mx_hosts: Option<&[String]>,
) {
    // A slow policy host stays slow whatever policy it will serve.
    j.policy_findings.retain(|f| f.code == Code::StsPolicySlow);
    let out = &mut j.out.policy;
    out.status = PolicyStatus::Valid;
    out.planned = true;
    out.mode = Some(planned.mode());
    out.max_age = Some(planned.max_age());
    out.mx = planned.mx().iter().map(|m| m.raw().to_string()).collect();
    out.reason = Some(format!("planned policy from {}", path.display()));
    out.reason_code = None;
    out.result_type = None;
    out.coverage.clear();
    j.policy_findings.extend(policy::lint(planned, domain));
    if let Some(hosts) = mx_hosts {
        let (coverage, mut more) = judge_coverage(planned, hosts, domain);
        out.coverage = coverage;
        j.policy_findings.append(&mut more);
    }
    if j.out.record.assessment.status != StsRecordStatus::Valid {
        j.policy_findings.push(Finding::new(
            Severity::Warning,
            Code::StsPlannedWithoutRecord,
            &j.out.record.name,
            format!("the planned policy is judged as if published, but {} has no valid MTA-STS record: senders will not fetch it", j.out.record.name),
            format!("Publish `{} IN TXT \"v=STSv1; id=<timestamp>\"` together with the policy.", j.out.record.name),
        ));
    }
    j.policy = Some(planned.clone());
}

/// Findings about MX coverage.
///
/// - An MX host no pattern covers (`sts-policy-mx-not-covered`): an error
///   in mode enforce, where senders will not deliver to it (§5); a warning
///   in mode testing, where they deliver and report a failure. Nothing in
///   mode none, which senders do not apply and which often lists no `mx:`.
/// - A pattern covering no MX host (`sts-policy-mx-pattern-unused`): a
///   warning (info in mode none); it is a typo or a leftover, and a leftover
///   pattern lets an attacker's MX named like it pass.
fn coverage_findings(cov: &Coverage, domain: &str, mode: Mode) -> Vec<Finding> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let policy_url = format!("https://mta-sts.{domain}/.well-known/mta-sts.txt");
    let mut findings = Vec::new();
    let uncovered_severity = match mode {
        Mode::Enforce => Some(Severity::Error),
        Mode::Testing => Some(Severity::Warning),
        Mode::None => None,
    };
    if let Some(severity) = uncovered_severity {
        for host in cov.uncovered() {
            let shown = escape_str(host.strip_suffix('.').unwrap_or(host));
            let consequence = match mode {
                Mode::Enforce => "senders that apply the policy will not deliver mail to it",
                _ => "senders deliver to it but report a validation failure",
            };
            findings.push(Finding::new(
                severity,
                Code::StsPolicyMxNotCovered,
                shown.clone(),
                format!(
                    "MX host {shown} matches no mx: pattern of the MTA-STS policy (mode {mode}): {consequence}"
                ),
                format!(
                    "add the line `mx: {}` to {policy_url}, then change the id= of the _mta-sts.{domain} TXT record so senders fetch the new policy",
                    shown.to_ascii_lowercase()
                ),
            ));
        }
    }
    let unused_severity = if mode == Mode::None {
        Severity::Info
    } else {
        Severity::Warning
    };
    for pattern in &cov.unused_patterns {
        let shown = escape_str(pattern.raw());
        findings.push(Finding::new(
            unused_severity,
            Code::StsPolicyMxPatternUnused,
            policy_url.clone(),
            format!("the policy pattern `mx: {shown}` matches none of the domain's MX hosts"),
            "remove the line if the host is gone, or fix the name if it is a typo; then change the TXT record's id=".to_string(),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::pattern::coverage;
    use super::pattern::tests::{hosts, pats};
    use super::*;

    /// The (code, severity) pairs a case expects, in order.
    type Expected<'a> = &'a [(&'a str, Severity)];

    #[test]
    fn coverage_finding_rules() {
        let patterns = pats(&["mx1.example.com", "gone.example.com"]);
        let cov = coverage(&patterns, &hosts(&["mx1.example.com", "mx2.example.com."]));
        // (rule, mode, expected (code, severity) list)
        let cases: &[(&str, Mode, Expected)] = &[
            (
                "enforce: uncovered MX is an error, unused pattern a warning",
                Mode::Enforce,
                &[
                    ("sts-policy-mx-not-covered", Severity::Error),
                    ("sts-policy-mx-pattern-unused", Severity::Warning),
                ],
            ),
            (
                "testing: uncovered MX is a warning",
                Mode::Testing,
                &[
                    ("sts-policy-mx-not-covered", Severity::Warning),
                    ("sts-policy-mx-pattern-unused", Severity::Warning),
                ],
            ),
            (
                "none: no coverage error, unused pattern is info",
                Mode::None,
                &[("sts-policy-mx-pattern-unused", Severity::Info)],
            ),
        ];
        for (rule, mode, want) in cases {
            let findings = coverage_findings(&cov, "example.com", *mode);
            let got: Vec<(&str, Severity)> = findings
                .iter()
                .map(|f| (f.code.as_str(), f.severity))
                .collect();
            assert_eq!(got, *want, "{rule}: {findings:#?}");
        }
        let findings = coverage_findings(&cov, "example.com", Mode::Enforce);
        assert_eq!(findings[0].subject, "mx2.example.com");
        assert!(
            findings[0].advice.contains("mx: mx2.example.com"),
            "{}",
            findings[0].advice
        );
        assert_eq!(
            findings[1].subject,
            "https://mta-sts.example.com/.well-known/mta-sts.txt"
        );
        assert!(
            findings[1].message.contains("gone.example.com"),
            "{}",
            findings[1].message
        );
    }

    #[test]
    fn an_uncovered_host_gets_the_whole_policy_to_serve_with_its_mx_line() {
        let policy = crate::mta_sts::policy::parse(
            b"version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n",
        )
        .expect("valid policy");
        let hosts = [
            "mx1.example.com.".to_string(),
            "mx2.example.com.".to_string(),
        ];
        let (_, findings) = judge_coverage(&policy, &hosts, "example.com");
        let f = findings
            .iter()
            .find(|f| f.code == Code::StsPolicyMxNotCovered)
            .expect("mx2 is not covered");
        assert!(
            f.advice.ends_with(
                "`version: STSv1`\n`mode: enforce`\n`mx: mx1.example.com`\n`mx: mx2.example.com`\n`max_age: 604800`"
            ),
            "{}",
            f.advice
        );
    }

    #[test]
    fn full_coverage_gives_no_findings() {
        let cov = coverage(
            &pats(&["*.example.com"]),
            &hosts(&["a.example.com", "b.example.com"]),
        );
        assert!(coverage_findings(&cov, "example.com", Mode::Enforce).is_empty());
    }
}
