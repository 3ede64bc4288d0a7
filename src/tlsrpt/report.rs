//! The synthetic RFC 8460 (SMTP TLS Reporting) report.
//!
//! What a sending MTA would report to the domain after delivering to it,
//! built from what one scan observed: the JSON report of RFC 8460 §4.4 with
//! the result types of §4.3, and its file (§5.1 naming, §5.2 gzip) in
//! [`file`](mod@file).
//!
//! - [`Report`] and its parts are plain serde types whose field names are the
//!   RFC's, letter for letter; counts are JSON numbers, optional fields are
//!   left out rather than written as `null` or `[]`.
//! - [`build`] turns plain evidence (one [`SessionVerdict`] per session, per
//!   policy) into a report: successes and failures are counted into the
//!   summary and failed sessions that look alike are grouped into one
//!   failure-details entry with their count, as §4.4 asks.
//! - [`format_rfc3339`] writes the date-range times (RFC 3339 §5.6, UTC) with
//!   no date crate.
//!
//! Left out: delivery of the report by mail (§5.3) or HTTPS POST (§5.4),
//! merging several scans into one daily report (§4.1: a sender's reports
//! cover a full UTC day; ours cover the scan), and checking that
//! `additional-information` is a URI — the caller owns that field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::SystemTime;

use crate::datetime::format_rfc3339;

/// One RFC 8460 report (§4.4): who reports, for which period, and what
/// happened under each policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    /// The organisation responsible for the report.
    pub organization_name: String,
    /// The period the report covers.
    pub date_range: DateRange,
    /// How to reach whoever is responsible for the report (a mailbox or URI).
    pub contact_info: String,
    /// A unique identifier of this report, chosen by the reporter.
    pub report_id: String,
    /// One entry per policy applied; §4.4 requires an array even for one.
    pub policies: Vec<PolicyReport>,
}

/// The period a report covers (§4.4 `date-range`): RFC 3339 date-times in
/// UTC with a `Z`, as written by [`format_rfc3339`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DateRange {
    /// Start of the period, e.g. `2016-04-01T00:00:00Z`.
    pub start_datetime: String,
    /// End of the period, e.g. `2016-04-01T23:59:59Z`.
    pub end_datetime: String,
}

/// What happened under one policy (§4.4 `policies[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyReport {
    /// The policy that was applied.
    pub policy: Policy,
    /// How many sessions succeeded and failed under it.
    pub summary: Summary,
    /// The failures, grouped; absent when there were none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failure_details: Vec<FailureDetails>,
}

/// The policy applied (§4.4 `policy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    /// `sts`, `tlsa` or `no-policy-found`.
    pub policy_type: PolicyType,
    /// The policy as published: the MTA-STS policy lines, or one string per
    /// TLSA record (its four RDATA fields); absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_string: Vec<String>,
    /// The domain the policy belongs to: the recipient domain for `sts`,
    /// the TLSA base domain for `tlsa`.
    pub policy_domain: String,
    /// The MX host patterns of the policy; absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mx_host: Vec<String>,
}

/// The kind of policy a [`Policy`] is (§4.4 `policy-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PolicyType {
    /// An MTA-STS policy (RFC 8461).
    #[serde(rename = "sts")]
    Sts,
    /// A DANE TLSA RRset (RFC 7672).
    #[serde(rename = "tlsa")]
    Tlsa,
    /// Neither: the sender used opportunistic TLS.
    #[serde(rename = "no-policy-found")]
    NoPolicyFound,
}

impl PolicyType {
    /// The RFC 8460 §4.4 string: `sts`, `tlsa` or `no-policy-found`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Sts => "sts",
            PolicyType::Tlsa => "tlsa",
            PolicyType::NoPolicyFound => "no-policy-found",
        }
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Session counts under one policy (§4.4 `summary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    /// Sessions that negotiated TLS as the policy requires.
    pub total_successful_session_count: u64,
    /// Sessions that did not.
    pub total_failure_session_count: u64,
}

/// One group of failed sessions that share every field but the count
/// (§4.4 `failure-details[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FailureDetails {
    /// What went wrong (§4.3).
    pub result_type: ResultType,
    /// The address the sessions came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_mta_ip: Option<IpAddr>,
    /// The MX host name the sender tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_hostname: Option<String>,
    /// The name the MX gave in its greeting or EHLO reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_helo: Option<String>,
    /// The MX address the sender connected to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_ip: Option<IpAddr>,
    /// How many sessions this entry stands for.
    pub failed_session_count: u64,
    /// A URI pointing to more information (RFC 3986) — never prose: §4.4
    /// defines it as a URI, and report parsers treat it as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
    /// A short error code or text saying why, e.g. `dane-no-match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason_code: Option<String>,
}

/// The result types of RFC 8460 §4.3, in the order the RFC lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResultType {
    /// §4.3.1: the receiving MX does not offer STARTTLS.
    #[serde(rename = "starttls-not-supported")]
    StarttlsNotSupported,
    /// §4.3.1: no name in the certificate matches the MX host.
    #[serde(rename = "certificate-host-mismatch")]
    CertificateHostMismatch,
    /// §4.3.1: the certificate has expired.
    #[serde(rename = "certificate-expired")]
    CertificateExpired,
    /// §4.3.1: the certificate does not chain to a trusted root.
    #[serde(rename = "certificate-not-trusted")]
    CertificateNotTrusted,
    /// §4.3.1: any other failure to negotiate TLS; the reason code says which.
    #[serde(rename = "validation-failure")]
    ValidationFailure,
    /// §4.3.2.1: no usable TLSA record matches the presented chain.
    #[serde(rename = "tlsa-invalid")]
    TlsaInvalid,
    /// §4.3.2.1: the DNSSEC lookup of the TLSA records (or what leads to
    /// them) failed.
    #[serde(rename = "dnssec-invalid")]
    DnssecInvalid,
    /// §4.3.2.1: the sender requires DANE and the MX has no TLSA records.
    #[serde(rename = "dane-required")]
    DaneRequired,
    /// §4.3.2.2: the MTA-STS policy could not be fetched.
    #[serde(rename = "sts-policy-fetch-error")]
    StsPolicyFetchError,
    /// §4.3.2.2: the MTA-STS policy was fetched but is not valid.
    #[serde(rename = "sts-policy-invalid")]
    StsPolicyInvalid,
    /// §4.3.2.2: the policy host's HTTPS certificate is not valid.
    #[serde(rename = "sts-webpki-invalid")]
    StsWebpkiInvalid,
}

impl ResultType {
    /// Every result type, in RFC order.
    pub const ALL: [ResultType; 11] = [
        ResultType::StarttlsNotSupported,
        ResultType::CertificateHostMismatch,
        ResultType::CertificateExpired,
        ResultType::CertificateNotTrusted,
        ResultType::ValidationFailure,
        ResultType::TlsaInvalid,
        ResultType::DnssecInvalid,
        ResultType::DaneRequired,
        ResultType::StsPolicyFetchError,
        ResultType::StsPolicyInvalid,
        ResultType::StsWebpkiInvalid,
    ];

    /// The RFC 8460 §4.3 string, e.g. `certificate-expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultType::StarttlsNotSupported => "starttls-not-supported",
            ResultType::CertificateHostMismatch => "certificate-host-mismatch",
            ResultType::CertificateExpired => "certificate-expired",
            ResultType::CertificateNotTrusted => "certificate-not-trusted",
            ResultType::ValidationFailure => "validation-failure",
            ResultType::TlsaInvalid => "tlsa-invalid",
            ResultType::DnssecInvalid => "dnssec-invalid",
            ResultType::DaneRequired => "dane-required",
            ResultType::StsPolicyFetchError => "sts-policy-fetch-error",
            ResultType::StsPolicyInvalid => "sts-policy-invalid",
            ResultType::StsWebpkiInvalid => "sts-webpki-invalid",
        }
    }
}

impl fmt::Display for ResultType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the RFC 8460 §4.3 result types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown result type {text:?}: RFC 8460 §4.3 defines starttls-not-supported, certificate-host-mismatch, certificate-expired, certificate-not-trusted, validation-failure, tlsa-invalid, dnssec-invalid, dane-required, sts-policy-fetch-error, sts-policy-invalid and sts-webpki-invalid"
)]
pub struct UnknownResultType {
    /// The text that was given.
    pub text: String,
}

impl FromStr for ResultType {
    type Err = UnknownResultType;

    /// Exact match only: the RFC strings are lowercase and so are the
    /// reports senders write.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ResultType::ALL
            .into_iter()
            .find(|result_type| result_type.as_str() == text)
            .ok_or_else(|| UnknownResultType {
                text: text.to_string(),
            })
    }
}

/// What one session (one connection to one MX address) concluded under one
/// policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionVerdict {
    /// The MX host name the session was for.
    pub mx_host: String,
    /// The MX address connected to.
    pub receiving_ip: IpAddr,
    /// Our own address, when known.
    pub sending_ip: Option<IpAddr>,
    /// The name the MX gave in its greeting or EHLO reply, when known.
    pub helo: Option<String>,
    /// `None` for a success; else the result type and an optional
    /// failure-reason-code.
    pub failure: Option<(ResultType, Option<String>)>,
}

/// One policy and the evidence gathered under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInput {
    /// The kind of policy.
    pub policy_type: PolicyType,
    /// The policy as published (see [`Policy::policy_string`]).
    pub policy_string: Vec<String>,
    /// The domain the policy belongs to (see [`Policy::policy_domain`]).
    pub policy_domain: String,
    /// The MX host patterns of the policy.
    pub mx_host: Vec<String>,
    /// One verdict per session judged under this policy.
    pub sessions: Vec<SessionVerdict>,
    /// Failures not tied to one session, e.g. a policy fetch error or a
    /// bogus MX lookup.
    pub extra_failures: Vec<FailureDetails>,
}

/// Who reports and for which period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMeta {
    /// Goes to `organization-name`.
    pub organization_name: String,
    /// Goes to `contact-info`.
    pub contact_info: String,
    /// Goes to `report-id`.
    pub report_id: String,
    /// Start of the period (the scan's start).
    pub start: SystemTime,
    /// End of the period (the scan's end).
    pub end: SystemTime,
}

/// Builds the report from the evidence, one [`PolicyReport`] per
/// [`PolicyInput`], in the order given.
///
/// Under each policy (RFC 8460 §4.4):
/// - a session without failure counts into total-successful-session-count,
///   a failed one into total-failure-session-count;
/// - failed sessions with the same result type, failure-reason-code, MX host,
///   receiving address, sending address and EHLO name become one
///   failure-details entry whose failed-session-count is their number (the
///   EHLO name is part of the key so that no observed value is dropped);
/// - `extra_failures` are merged in as given and their counts added to
///   total-failure-session-count, since they stand for attempts that are not
///   among the sessions. An entry needs at least one session to mean
///   anything, so a count of 0 is reported as 1;
/// - failure-details are sorted (by result type in RFC order, then host,
///   addresses and reason) so equal evidence gives byte-equal reports;
/// - a policy with no sessions still appears, with zero counts.
///
/// Counts saturate instead of overflowing.
#[must_use]
pub fn build(meta: ReportMeta, policies: Vec<PolicyInput>) -> Report {
    Report {
        organization_name: meta.organization_name,
        date_range: DateRange {
            start_datetime: format_rfc3339(meta.start),
            end_datetime: format_rfc3339(meta.end),
        },
        contact_info: meta.contact_info,
        report_id: meta.report_id,
        policies: policies.into_iter().map(build_policy).collect(),
    }
}

/// Everything of a failure-details entry but its count, in sort order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FailureKey {
    result_type: ResultType,
    receiving_mx_hostname: Option<String>,
    receiving_ip: Option<IpAddr>,
    sending_mta_ip: Option<IpAddr>,
    failure_reason_code: Option<String>,
    receiving_mx_helo: Option<String>,
    additional_information: Option<String>,
}

fn build_policy(input: PolicyInput) -> PolicyReport {
    let mut summary = Summary::default();
    let mut groups: BTreeMap<FailureKey, u64> = BTreeMap::new();

    for session in input.sessions {
        let Some((result_type, reason)) = session.failure else {
            summary.total_successful_session_count =
                summary.total_successful_session_count.saturating_add(1);
            continue;
        };
        summary.total_failure_session_count = summary.total_failure_session_count.saturating_add(1);
        let key = FailureKey {
            result_type,
            receiving_mx_hostname: Some(session.mx_host),
            receiving_ip: Some(session.receiving_ip),
            sending_mta_ip: session.sending_ip,
            failure_reason_code: reason,
            receiving_mx_helo: session.helo,
            additional_information: None,
        };
        let count = groups.entry(key).or_insert(0);
        *count = count.saturating_add(1);
    }

    for extra in input.extra_failures {
        let sessions = extra.failed_session_count.max(1);
        summary.total_failure_session_count =
            summary.total_failure_session_count.saturating_add(sessions);
        let key = FailureKey {
            result_type: extra.result_type,
            receiving_mx_hostname: extra.receiving_mx_hostname,
            receiving_ip: extra.receiving_ip,
            sending_mta_ip: extra.sending_mta_ip,
            failure_reason_code: extra.failure_reason_code,
            receiving_mx_helo: extra.receiving_mx_helo,
            additional_information: extra.additional_information,
        };
        let count = groups.entry(key).or_insert(0);
        *count = count.saturating_add(sessions);
    }

    PolicyReport {
        policy: Policy {
            policy_type: input.policy_type,
            policy_string: input.policy_string,
            policy_domain: input.policy_domain,
            mx_host: input.mx_host,
        },
        summary,
        failure_details: groups
            .into_iter()
            .map(|(key, failed_session_count)| FailureDetails {
                result_type: key.result_type,
                sending_mta_ip: key.sending_mta_ip,
                receiving_mx_hostname: key.receiving_mx_hostname,
                receiving_mx_helo: key.receiving_mx_helo,
                receiving_ip: key.receiving_ip,
                failed_session_count,
                additional_information: key.additional_information,
                failure_reason_code: key.failure_reason_code,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::time::Duration;

    fn at(seconds: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn meta() -> ReportMeta {
        ReportMeta {
            organization_name: "mxtls".to_string(),
            contact_info: "postmaster@scanner.example".to_string(),
            report_id: "2023-11-14T22:13:20Z_example.com".to_string(),
            start: at(1_700_000_000),
            end: at(1_700_000_042),
        }
    }

    fn session(
        mx: &str,
        ip: IpAddr,
        failure: Option<(ResultType, Option<&str>)>,
    ) -> SessionVerdict {
        SessionVerdict {
            mx_host: mx.to_string(),
            receiving_ip: ip,
            sending_ip: Some(v4(192, 0, 2, 1)),
            helo: Some(mx.to_string()),
            failure: failure.map(|(kind, reason)| (kind, reason.map(str::to_string))),
        }
    }

    fn policy(policy_type: PolicyType, sessions: Vec<SessionVerdict>) -> PolicyInput {
        PolicyInput {
            policy_type,
            policy_string: vec![],
            policy_domain: "example.com".to_string(),
            mx_host: vec![],
            sessions,
            extra_failures: vec![],
        }
    }

    fn extra(result_type: ResultType, count: u64, reason: &str) -> FailureDetails {
        FailureDetails {
            result_type,
            sending_mta_ip: None,
            receiving_mx_hostname: None,
            receiving_mx_helo: None,
            receiving_ip: None,
            failed_session_count: count,
            additional_information: None,
            failure_reason_code: Some(reason.to_string()),
        }
    }

    const RESULT_TYPES: [(ResultType, &str); 11] = [
        (ResultType::StarttlsNotSupported, "starttls-not-supported"),
        (
            ResultType::CertificateHostMismatch,
            "certificate-host-mismatch",
        ),
        (ResultType::CertificateExpired, "certificate-expired"),
        (ResultType::CertificateNotTrusted, "certificate-not-trusted"),
        (ResultType::ValidationFailure, "validation-failure"),
        (ResultType::TlsaInvalid, "tlsa-invalid"),
        (ResultType::DnssecInvalid, "dnssec-invalid"),
        (ResultType::DaneRequired, "dane-required"),
        (ResultType::StsPolicyFetchError, "sts-policy-fetch-error"),
        (ResultType::StsPolicyInvalid, "sts-policy-invalid"),
        (ResultType::StsWebpkiInvalid, "sts-webpki-invalid"),
    ];

    #[test]
    fn result_types_use_the_rfc_8460_strings_everywhere() {
        assert_eq!(
            ResultType::ALL.to_vec(),
            RESULT_TYPES
                .iter()
                .map(|(kind, _)| *kind)
                .collect::<Vec<_>>(),
            "ALL lists every result type in RFC order"
        );
        for (kind, text) in RESULT_TYPES {
            assert_eq!(kind.as_str(), text, "as_str of {kind:?}");
            assert_eq!(kind.to_string(), text, "Display of {kind:?}");
            assert_eq!(text.parse::<ResultType>(), Ok(kind), "FromStr of {text:?}");
            let json = serde_json::to_string(&kind).expect("a unit variant serialises");
            assert_eq!(json, format!("\"{text}\""), "serde of {kind:?}");
            let back: ResultType = serde_json::from_str(&json).expect("our own output parses");
            assert_eq!(back, kind, "serde round trip of {text:?}");
        }
    }

    #[test]
    fn result_type_parsing_is_exact() {
        let rejected = [
            ("", "empty"),
            ("Certificate-Expired", "the RFC strings are lowercase"),
            ("certificate_expired", "underscore instead of hyphen"),
            (" certificate-expired", "leading space"),
            ("certificate-expired ", "trailing space"),
            (
                "start-tls-not-supported",
                "the RFC writes starttls as one word",
            ),
            ("sts-webpki-invalid\0", "trailing NUL"),
            ("success", "success is not a failure result type"),
        ];
        for (text, rule) in rejected {
            let error = text.parse::<ResultType>().expect_err(rule);
            assert_eq!(error.text, text, "{rule}: the error keeps the input");
            assert!(
                error.to_string().contains(&format!("{text:?}")),
                "{rule}: the message quotes the input: {error}"
            );
        }
    }

    #[test]
    fn policy_types_use_the_rfc_8460_strings() {
        for (kind, text) in [
            (PolicyType::Sts, "sts"),
            (PolicyType::Tlsa, "tlsa"),
            (PolicyType::NoPolicyFound, "no-policy-found"),
        ] {
            assert_eq!(kind.as_str(), text, "as_str of {kind:?}");
            assert_eq!(kind.to_string(), text, "Display of {kind:?}");
            let json = serde_json::to_string(&kind).expect("a unit variant serialises");
            assert_eq!(json, format!("\"{text}\""), "serde of {kind:?}");
        }
    }

    const GOLDEN: &str = r#"{
  "organization-name": "mxtls",
  "date-range": {
    "start-datetime": "2023-11-14T22:13:20Z",
    "end-datetime": "2023-11-14T22:14:02Z"
  },
  "contact-info": "postmaster@scanner.example",
  "report-id": "2023-11-14T22:13:20Z_example.com",
  "policies": [
    {
      "policy": {
        "policy-type": "sts",
        "policy-string": [
          "version: STSv1",
          "mode: enforce",
          "mx: *.mail.example.com",
          "max_age: 86400"
        ],
        "policy-domain": "example.com",
        "mx-host": [
          "*.mail.example.com"
        ]
      },
      "summary": {
        "total-successful-session-count": 1,
        "total-failure-session-count": 3
      },
      "failure-details": [
        {
          "result-type": "certificate-expired",
          "sending-mta-ip": "192.0.2.1",
          "receiving-mx-hostname": "mx1.mail.example.com",
          "receiving-mx-helo": "mx1.mail.example.com",
          "receiving-ip": "2001:db8::25",
          "failed-session-count": 2
        },
        {
          "result-type": "validation-failure",
          "sending-mta-ip": "192.0.2.1",
          "receiving-mx-hostname": "mx2.mail.example.com",
          "receiving-mx-helo": "mx2.mail.example.com",
          "receiving-ip": "198.51.100.25",
          "failed-session-count": 1,
          "failure-reason-code": "tls-1.2-not-offered"
        }
      ]
    },
    {
      "policy": {
        "policy-type": "tlsa",
        "policy-string": [
          "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ],
        "policy-domain": "mx1.mail.example.com"
      },
      "summary": {
        "total-successful-session-count": 0,
        "total-failure-session-count": 0
      }
    },
    {
      "policy": {
        "policy-type": "no-policy-found",
        "policy-domain": "example.org"
      },
      "summary": {
        "total-successful-session-count": 0,
        "total-failure-session-count": 1
      },
      "failure-details": [
        {
          "result-type": "sts-policy-fetch-error",
          "failed-session-count": 1,
          "additional-information": "https://scanner.example/help/sts-policy-fetch-error",
          "failure-reason-code": "http-status-404"
        }
      ]
    }
  ]
}"#;

    fn full_report() -> Report {
        let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x25));
        let mut sts = policy(
            PolicyType::Sts,
            vec![
                session(
                    "mx1.mail.example.com",
                    v6,
                    Some((ResultType::CertificateExpired, None)),
                ),
                session("mx1.mail.example.com", v6, None),
                session(
                    "mx2.mail.example.com",
                    v4(198, 51, 100, 25),
                    Some((ResultType::ValidationFailure, Some("tls-1.2-not-offered"))),
                ),
                session(
                    "mx1.mail.example.com",
                    v6,
                    Some((ResultType::CertificateExpired, None)),
                ),
            ],
        );
        sts.policy_string = [
            "version: STSv1",
            "mode: enforce",
            "mx: *.mail.example.com",
            "max_age: 86400",
        ]
        .map(str::to_string)
        .to_vec();
        sts.mx_host = vec!["*.mail.example.com".to_string()];
        let mut tlsa = policy(PolicyType::Tlsa, vec![]);
        tlsa.policy_domain = "mx1.mail.example.com".to_string();
        tlsa.policy_string = vec![
            "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_string(),
        ];
        let mut none = policy(PolicyType::NoPolicyFound, vec![]);
        none.policy_domain = "example.org".to_string();
        let mut fetch = extra(ResultType::StsPolicyFetchError, 1, "http-status-404");
        fetch.additional_information =
            Some("https://scanner.example/help/sts-policy-fetch-error".to_string());
        none.extra_failures = vec![fetch];
        build(meta(), vec![sts, tlsa, none])
    }

    #[test]
    fn a_full_report_serialises_to_the_golden_json() {
        let report = full_report();
        let json = serde_json::to_string_pretty(&report).expect("the report serialises");
        assert_eq!(json, GOLDEN, "got:\n{json}");
        let parsed: Report = serde_json::from_str(GOLDEN).expect("the golden JSON parses back");
        assert_eq!(
            parsed, report,
            "the golden JSON reads back into the same report"
        );
    }

    #[test]
    fn the_json_follows_the_rfc_field_rules() {
        let value = serde_json::to_value(full_report()).expect("the report serialises");
        let sts = &value["policies"][0];
        assert!(
            value["policies"].is_array(),
            "§4.4: policies MUST be an array"
        );
        assert!(
            sts["summary"]["total-failure-session-count"].is_u64(),
            "counts are JSON numbers, not strings: {}",
            sts["summary"]
        );
        assert!(
            sts["failure-details"][0]["failed-session-count"].is_u64(),
            "failed-session-count is a JSON number: {}",
            sts["failure-details"][0]
        );
        let first_detail = sts["failure-details"][0].as_object().expect("an object");
        for absent in ["additional-information", "failure-reason-code"] {
            assert!(
                !first_detail.contains_key(absent),
                "an optional field without value is left out, not null: {absent}"
            );
        }
        let tlsa = value["policies"][1].as_object().expect("an object");
        assert!(
            !tlsa.contains_key("failure-details"),
            "no failures: no failure-details key"
        );
        let tlsa_policy = tlsa["policy"].as_object().expect("an object");
        assert!(
            !tlsa_policy.contains_key("mx-host"),
            "no mx-host: no key, not []"
        );
        let no_policy = value["policies"][2]["policy"]
            .as_object()
            .expect("an object");
        assert!(
            !no_policy.contains_key("policy-string"),
            "no policy-string: no key, not []"
        );
    }

    /// One row per grouping rule: the sessions of one policy, the expected
    /// summary and the expected (result type, host, ip, reason, count) rows.
    #[test]
    fn sessions_are_counted_and_grouped() {
        type Row<'a> = (ResultType, &'a str, IpAddr, Option<&'a str>, u64);
        /// Rule, sessions, (successes, failures), expected rows.
        type Case = (
            &'static str,
            Vec<SessionVerdict>,
            (u64, u64),
            Vec<Row<'static>>,
        );
        let a = v4(198, 51, 100, 1);
        let b = v4(198, 51, 100, 2);
        let expired = Some((ResultType::CertificateExpired, None));
        let cases: Vec<Case> = vec![
            (
                "no sessions: zero counts, no details",
                vec![],
                (0, 0),
                vec![],
            ),
            (
                "successes only count into total-successful",
                vec![session("mx1", a, None), session("mx1", b, None)],
                (2, 0),
                vec![],
            ),
            (
                "identical failures are one entry with their count",
                vec![
                    session("mx1", a, expired),
                    session("mx1", a, expired),
                    session("mx1", a, None),
                ],
                (1, 2),
                vec![(ResultType::CertificateExpired, "mx1", a, None, 2)],
            ),
            (
                "another receiving ip is another entry",
                vec![session("mx1", a, expired), session("mx1", b, expired)],
                (0, 2),
                vec![
                    (ResultType::CertificateExpired, "mx1", a, None, 1),
                    (ResultType::CertificateExpired, "mx1", b, None, 1),
                ],
            ),
            (
                "another mx host is another entry",
                vec![session("mx2", a, expired), session("mx1", a, expired)],
                (0, 2),
                vec![
                    (ResultType::CertificateExpired, "mx1", a, None, 1),
                    (ResultType::CertificateExpired, "mx2", a, None, 1),
                ],
            ),
            (
                "another reason code is another entry",
                vec![
                    session(
                        "mx1",
                        a,
                        Some((ResultType::ValidationFailure, Some("b-reason"))),
                    ),
                    session(
                        "mx1",
                        a,
                        Some((ResultType::ValidationFailure, Some("a-reason"))),
                    ),
                    session("mx1", a, Some((ResultType::ValidationFailure, None))),
                ],
                (0, 3),
                vec![
                    (ResultType::ValidationFailure, "mx1", a, None, 1),
                    (ResultType::ValidationFailure, "mx1", a, Some("a-reason"), 1),
                    (ResultType::ValidationFailure, "mx1", a, Some("b-reason"), 1),
                ],
            ),
            (
                "entries are sorted by result type in RFC order first",
                vec![
                    session("mx1", a, Some((ResultType::StsWebpkiInvalid, None))),
                    session("mx1", a, Some((ResultType::StarttlsNotSupported, None))),
                    session(
                        "mx1",
                        a,
                        Some((ResultType::TlsaInvalid, Some("dane-no-match"))),
                    ),
                ],
                (0, 3),
                vec![
                    (ResultType::StarttlsNotSupported, "mx1", a, None, 1),
                    (ResultType::TlsaInvalid, "mx1", a, Some("dane-no-match"), 1),
                    (ResultType::StsWebpkiInvalid, "mx1", a, None, 1),
                ],
            ),
        ];
        for (rule, sessions, (successes, failures), rows) in cases {
            let report = build(meta(), vec![policy(PolicyType::Sts, sessions)]);
            assert_eq!(report.policies.len(), 1, "{rule}: the policy is present");
            let got = &report.policies[0];
            assert_eq!(
                (
                    got.summary.total_successful_session_count,
                    got.summary.total_failure_session_count
                ),
                (successes, failures),
                "{rule}: summary"
            );
            let got_rows: Vec<Row> = got
                .failure_details
                .iter()
                .map(|detail| {
                    (
                        detail.result_type,
                        detail.receiving_mx_hostname.as_deref().unwrap_or(""),
                        detail
                            .receiving_ip
                            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                        detail.failure_reason_code.as_deref(),
                        detail.failed_session_count,
                    )
                })
                .collect();
            assert_eq!(got_rows, rows, "{rule}: failure-details");
        }
    }

    #[test]
    fn a_session_keeps_its_addresses_and_helo() {
        let mut verdict = session(
            "mx1.example.com",
            v4(198, 51, 100, 7),
            Some((ResultType::CertificateNotTrusted, None)),
        );
        verdict.helo = Some("smtp.provider.example".to_string());
        let report = build(meta(), vec![policy(PolicyType::Sts, vec![verdict])]);
        let detail = &report.policies[0].failure_details[0];
        assert_eq!(
            detail.sending_mta_ip,
            Some(v4(192, 0, 2, 1)),
            "sending-mta-ip"
        );
        assert_eq!(
            detail.receiving_ip,
            Some(v4(198, 51, 100, 7)),
            "receiving-ip"
        );
        assert_eq!(
            detail.receiving_mx_hostname.as_deref(),
            Some("mx1.example.com"),
            "mx hostname"
        );
        assert_eq!(
            detail.receiving_mx_helo.as_deref(),
            Some("smtp.provider.example"),
            "helo"
        );
        assert_eq!(
            detail.additional_information, None,
            "a session brings no URI"
        );
    }

    #[test]
    fn sessions_with_different_helo_are_not_merged() {
        let mut first = session(
            "mx1",
            v4(198, 51, 100, 1),
            Some((ResultType::CertificateExpired, None)),
        );
        let mut second = first.clone();
        first.helo = Some("a.example".to_string());
        second.helo = Some("b.example".to_string());
        let report = build(meta(), vec![policy(PolicyType::Sts, vec![second, first])]);
        let helos: Vec<_> = report.policies[0]
            .failure_details
            .iter()
            .map(|detail| detail.receiving_mx_helo.as_deref())
            .collect();
        assert_eq!(
            helos,
            [Some("a.example"), Some("b.example")],
            "both names kept, sorted"
        );
    }

    #[test]
    fn extra_failures_are_reported_and_counted() {
        let cases = [
            (
                "an extra failure counts with its own count",
                vec![extra(ResultType::StsPolicyFetchError, 3, "timeout")],
                3,
                vec![3],
            ),
            (
                "a zero count stands for one attempt",
                vec![extra(ResultType::StsPolicyFetchError, 0, "timeout")],
                1,
                vec![1],
            ),
            (
                "equal extra failures merge",
                vec![
                    extra(ResultType::DnssecInvalid, 1, "mx-bogus"),
                    extra(ResultType::DnssecInvalid, 2, "mx-bogus"),
                ],
                3,
                vec![3],
            ),
            (
                "different reasons stay apart",
                vec![
                    extra(ResultType::DnssecInvalid, 1, "mx-bogus"),
                    extra(ResultType::DnssecInvalid, 1, "a-bogus"),
                ],
                2,
                vec![1, 1],
            ),
            (
                "counts saturate instead of overflowing",
                vec![
                    extra(ResultType::DnssecInvalid, u64::MAX, "x"),
                    extra(ResultType::DnssecInvalid, 5, "x"),
                ],
                u64::MAX,
                vec![u64::MAX],
            ),
        ];
        for (rule, extras, total_failures, counts) in cases {
            let mut input = policy(PolicyType::Tlsa, vec![]);
            input.extra_failures = extras;
            let report = build(meta(), vec![input]);
            let got = &report.policies[0];
            assert_eq!(
                got.summary.total_failure_session_count, total_failures,
                "{rule}: total failures"
            );
            assert_eq!(
                got.summary.total_successful_session_count, 0,
                "{rule}: no successes"
            );
            let got_counts: Vec<u64> = got
                .failure_details
                .iter()
                .map(|d| d.failed_session_count)
                .collect();
            assert_eq!(got_counts, counts, "{rule}: failed-session-counts");
        }
    }

    #[test]
    fn an_extra_failure_equal_to_a_session_group_merges_with_it() {
        let ip = v4(198, 51, 100, 1);
        let mut input = policy(
            PolicyType::Sts,
            vec![session(
                "mx1",
                ip,
                Some((ResultType::CertificateExpired, None)),
            )],
        );
        input.extra_failures = vec![FailureDetails {
            result_type: ResultType::CertificateExpired,
            sending_mta_ip: Some(v4(192, 0, 2, 1)),
            receiving_mx_hostname: Some("mx1".to_string()),
            receiving_mx_helo: Some("mx1".to_string()),
            receiving_ip: Some(ip),
            failed_session_count: 4,
            additional_information: None,
            failure_reason_code: None,
        }];
        let report = build(meta(), vec![input]);
        let got = &report.policies[0];
        assert_eq!(
            got.failure_details.len(),
            1,
            "one entry: {:?}",
            got.failure_details
        );
        assert_eq!(
            got.failure_details[0].failed_session_count, 5,
            "1 session + 4 extra"
        );
        assert_eq!(got.summary.total_failure_session_count, 5, "summary agrees");
    }

    #[test]
    fn policies_keep_their_order_and_the_meta_is_copied() {
        let mut second = policy(PolicyType::Tlsa, vec![]);
        second.policy_domain = "mx.example.net".to_string();
        let report = build(meta(), vec![policy(PolicyType::Sts, vec![]), second]);
        let order: Vec<_> = report
            .policies
            .iter()
            .map(|p| (p.policy.policy_type, p.policy.policy_domain.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (PolicyType::Sts, "example.com"),
                (PolicyType::Tlsa, "mx.example.net")
            ]
        );
        assert_eq!(report.organization_name, "mxtls");
        assert_eq!(report.contact_info, "postmaster@scanner.example");
        assert_eq!(report.report_id, "2023-11-14T22:13:20Z_example.com");
        assert_eq!(report.date_range.start_datetime, "2023-11-14T22:13:20Z");
        assert_eq!(report.date_range.end_datetime, "2023-11-14T22:14:02Z");
    }

    #[test]
    fn building_twice_gives_byte_equal_json() {
        let first = serde_json::to_string(&full_report()).expect("serialises");
        let second = serde_json::to_string(&full_report()).expect("serialises");
        assert_eq!(first, second);
    }
}
