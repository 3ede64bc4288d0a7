//! The synthetic RFC 8460 report: what a sender that tried every MX
//! address today would have reported to the domain (pure).
//!
//! Policies (RFC 8460 §4.4, SPEC.md §6): one `tlsa` entry per MX host under
//! DANE (policy-domain = its TLSA base domain), one `sts` entry when an
//! MTA-STS policy applies or was published but could not be used, and one
//! `no-policy-found` entry for the MX hosts under neither. A bogus MX lookup
//! is a single `dnssec-invalid` failure under `tlsa`; a null MX reports no
//! policy. Connections that failed and inconclusive sessions are not TLS
//! results (RFC 8460 §4.3.4) and count neither way.

use std::time::SystemTime;

use crate::dns::Dnssec;
use crate::evidence::{MxHost, MxLookup, MxStatus};
use crate::mta_sts::assess::MtaSts;
use crate::mta_sts::policy::{Mode, StsPolicy};
use crate::mta_sts::record::StsRecordStatus;
use crate::session::SessionOut;
use crate::tlsrpt::report::{
    self, FailureDetails, PolicyInput, PolicyType, Report, ReportMeta, ResultType, SessionVerdict,
};
use crate::verdict::{SessionResult, Verdict};

/// Everything the report is built from.
pub struct ReportInput<'a> {
    pub domain: &'a str,
    pub mx_lookup: &'a MxLookup,
    pub mx: &'a [MxHost],
    pub sessions: &'a [SessionOut],
    pub mta_sts: &'a MtaSts,
    /// The policy senders apply, when one does.
    pub sts_policy: Option<&'a StsPolicy>,
}

/// Builds the report for one domain.
pub fn build(input: &ReportInput<'_>, meta: ReportMeta) -> Report {
    report::build(meta, policies(input))
}

fn policies(input: &ReportInput<'_>) -> Vec<PolicyInput> {
    let domain = input.domain;
    let mut out = Vec::new();
    if input.mx_lookup.status == MxStatus::Error && input.mx_lookup.dnssec == Dnssec::Bogus {
        out.push(PolicyInput {
            policy_type: PolicyType::Tlsa,
            policy_string: Vec::new(),
            policy_domain: domain.to_string(),
            mx_host: Vec::new(),
            sessions: Vec::new(),
            extra_failures: vec![failure(ResultType::DnssecInvalid, "mx-lookup-bogus", None)],
        });
        return out;
    }
    if !matches!(input.mx_lookup.status, MxStatus::Found | MxStatus::Implicit) {
        return out;
    }
    let mut uncovered: Vec<&MxHost> = Vec::new();
    for host in input.mx {
        let t = &host.tlsa;
        let dane = host.dane().judges_sessions()
            // --require-dane judged this host's sessions as dane-required.
            || input
                .sessions
                .iter()
                .any(|s| s.mx == host.host && s.tlsa_verdict.is_some());
        if !dane {
            // Mode none: senders apply no policy (RFC 8461 §5). Sessions
            // under an unusable policy go under its `sts` entry instead.
            let no_policy = input.sts_policy.is_none_or(|p| p.mode() == Mode::None);
            if no_policy && input.mta_sts.unusable_policy().is_none() {
                uncovered.push(host);
            }
            continue;
        }
        out.push(PolicyInput {
            policy_type: PolicyType::Tlsa,
            policy_string: t.records.clone(),
            policy_domain: t.base_domain.clone().unwrap_or_else(|| host.host.clone()),
            mx_host: vec![host.host.clone()],
            sessions: verdicts(input.sessions, Some(&host.host), |s| {
                s.tlsa_verdict.as_ref()
            }),
            extra_failures: Vec::new(),
        });
    }
    let published = input.mta_sts.record.assessment.status == StsRecordStatus::Valid;
    match input.sts_policy {
        Some(p) if p.mode() != Mode::None => out.push(PolicyInput {
            policy_type: PolicyType::Sts,
            policy_string: p.lines(),
            policy_domain: domain.to_string(),
            mx_host: p.mx().iter().map(|m| m.raw().to_string()).collect(),
            sessions: verdicts(input.sessions, None, |s| s.sts_verdict.as_ref()),
            extra_failures: Vec::new(),
        }),
        Some(_) => {}
        None if published => {
            let pol = &input.mta_sts.policy;
            // The same definition as the sessions': a policy not fetched
            // because of the scanner itself (its DNS queue, or an address
            // it may not connect to without --allow-private) is no
            // sender's experience and gets no entry.
            if let Some((result, reason)) = input.mta_sts.unusable_policy() {
                // One `sts` entry whose failure covers the sessions that
                // were made (mox reports it so); with no session, one
                // attempt stands for the domain.
                let sessions = verdicts(input.sessions, None, |s| s.sts_verdict.as_ref());
                let extra_failures = if sessions.is_empty() {
                    vec![failure(result, reason, None)]
                } else {
                    Vec::new()
                };
                out.push(PolicyInput {
                    policy_type: PolicyType::Sts,
                    policy_string: fetched_lines(pol),
                    policy_domain: domain.to_string(),
                    mx_host: Vec::new(),
                    sessions,
                    extra_failures,
                });
            }
        }
        None => {}
    }
    if !uncovered.is_empty() {
        let mut sessions = Vec::new();
        for host in &uncovered {
            // No policy: the session's own result (opportunistic TLS).
            sessions.extend(
                input
                    .sessions
                    .iter()
                    .filter(|s| s.mx == host.host)
                    .filter_map(|s| session_verdict(s, s.result?, s.failure_reason.as_deref())),
            );
        }
        out.push(PolicyInput {
            policy_type: PolicyType::NoPolicyFound,
            policy_string: Vec::new(),
            policy_domain: domain.to_string(),
            mx_host: uncovered.iter().map(|h| h.host.clone()).collect(),
            sessions,
            extra_failures: Vec::new(),
        });
    }
    out
}

/// The policy text as fetched, one string per line, when a body came back
/// (an invalid policy); empty when nothing was fetched.
fn fetched_lines(pol: &crate::mta_sts::assess::StsPolicyOut) -> Vec<String> {
    match &pol.fetch {
        Some(crate::mta_sts::fetch::FetchOutcome::Fetched { body, .. }) => {
            String::from_utf8_lossy(body)
                .lines()
                .map(|l| l.trim_end_matches('\r').to_string())
                .filter(|l| !l.is_empty())
                .take(MAX_POLICY_LINES)
                .collect()
        }
        _ => Vec::new(),
    }
}

/// A policy body is at most 64 KiB; a report need not repeat more lines
/// than a sane policy has.
const MAX_POLICY_LINES: usize = 1000;

fn verdicts<'s>(
    sessions: &'s [SessionOut],
    host: Option<&str>,
    pick: impl Fn(&'s SessionOut) -> Option<&'s Verdict>,
) -> Vec<SessionVerdict> {
    sessions
        .iter()
        .filter(|s| host.is_none_or(|h| s.mx == h))
        .filter_map(|s| {
            let v = pick(s)?;
            session_verdict(s, v.result, v.reason.as_deref())
        })
        .collect()
}

/// A session's line in the report; None for inconclusive results.
fn session_verdict(
    s: &SessionOut,
    result: SessionResult,
    reason: Option<&str>,
) -> Option<SessionVerdict> {
    let failure = match result {
        SessionResult::Success => None,
        SessionResult::Inconclusive => return None,
        SessionResult::Failure(t) => Some((t, reason.map(str::to_string))),
    };
    Some(SessionVerdict {
        mx_host: s.mx.clone(),
        receiving_ip: s.ip,
        sending_ip: s.sending_ip(),
        helo: s.helo(),
        failure,
    })
}

fn failure(result_type: ResultType, reason: &str, host: Option<String>) -> FailureDetails {
    FailureDetails {
        result_type,
        sending_mta_ip: None,
        receiving_mx_hostname: host,
        receiving_mx_helo: None,
        receiving_ip: None,
        failed_session_count: 1,
        additional_information: None,
        failure_reason_code: (!reason.is_empty()).then(|| reason.to_string()),
    }
}

/// Report metadata for a scan that ran from `start` to `end`.
pub fn meta(
    domain: &str,
    org: &str,
    contact: &str,
    start: SystemTime,
    end: SystemTime,
) -> ReportMeta {
    let secs = crate::datetime::unix_seconds(start);
    let nanos = start
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    ReportMeta {
        organization_name: org.to_string(),
        contact_info: contact.to_string(),
        report_id: format!("{secs}.{nanos:09}.{domain}"),
        start,
        end,
    }
}
