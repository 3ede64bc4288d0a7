//! Interoperability: the reports we write, read by an independent RFC 8460
//! parser (Stalwart's `mail-auth`, 0.13 — the last release with a TLS
//! report parser), and reports it writes, read by our types.

use mail_auth::report::tlsrpt as theirs;
use mxtls::render::rfc8460::encode;
use mxtls::tlsrpt::report::{
    self as ours, FailureDetails, PolicyInput, PolicyType, ReportMeta, ResultType, SessionVerdict,
    build,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, UNIX_EPOCH};

const START: u64 = 1_700_000_000;
const END: u64 = 1_700_086_399;

fn their_result_type(kind: ResultType) -> theirs::ResultType {
    match kind {
        ResultType::StarttlsNotSupported => theirs::ResultType::StartTlsNotSupported,
        ResultType::CertificateHostMismatch => theirs::ResultType::CertificateHostMismatch,
        ResultType::CertificateExpired => theirs::ResultType::CertificateExpired,
        ResultType::CertificateNotTrusted => theirs::ResultType::CertificateNotTrusted,
        ResultType::ValidationFailure => theirs::ResultType::ValidationFailure,
        ResultType::TlsaInvalid => theirs::ResultType::TlsaInvalid,
        ResultType::DnssecInvalid => theirs::ResultType::DnssecInvalid,
        ResultType::DaneRequired => theirs::ResultType::DaneRequired,
        ResultType::StsPolicyFetchError => theirs::ResultType::StsPolicyFetchError,
        ResultType::StsPolicyInvalid => theirs::ResultType::StsPolicyInvalid,
        ResultType::StsWebpkiInvalid => theirs::ResultType::StsWebpkiInvalid,
    }
}

fn their_policy_type(kind: PolicyType) -> theirs::PolicyType {
    match kind {
        PolicyType::Sts => theirs::PolicyType::Sts,
        PolicyType::Tlsa => theirs::PolicyType::Tlsa,
        PolicyType::NoPolicyFound => theirs::PolicyType::NoPolicyFound,
    }
}

/// A report that uses every result type, both address families, every
/// optional field and every policy type.
fn our_report() -> ours::Report {
    let sender = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let mx_v4 = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 25));
    let mx_v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x25));
    let sessions = ResultType::ALL
        .iter()
        .enumerate()
        .map(|(index, kind)| SessionVerdict {
            mx_host: format!("mx{index}.example.com"),
            receiving_ip: if index % 2 == 0 { mx_v4 } else { mx_v6 },
            sending_ip: sender,
            helo: Some(format!("smtp{index}.provider.example")),
            failure: Some((*kind, (index % 3 == 0).then(|| format!("reason-{index}")))),
        })
        .chain((0..3).map(|_| SessionVerdict {
            mx_host: "mx0.example.com".to_string(),
            receiving_ip: mx_v4,
            sending_ip: sender,
            helo: None,
            failure: None,
        }))
        .collect();
    let sts = PolicyInput {
        policy_type: PolicyType::Sts,
        policy_string: [
            "version: STSv1",
            "mode: enforce",
            "mx: *.example.com",
            "max_age: 604800",
        ]
        .map(str::to_string)
        .to_vec(),
        policy_domain: "example.com".to_string(),
        mx_host: vec!["*.example.com".to_string()],
        sessions,
        extra_failures: vec![FailureDetails {
            result_type: ResultType::StsPolicyFetchError,
            sending_mta_ip: None,
            receiving_mx_hostname: None,
            receiving_mx_helo: None,
            receiving_ip: None,
            failed_session_count: 2,
            additional_information: Some("https://scanner.example/help/fetch".to_string()),
            failure_reason_code: Some("http-status-404".to_string()),
        }],
    };
    let tlsa = PolicyInput {
        policy_type: PolicyType::Tlsa,
        policy_string: vec![
            "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_string(),
        ],
        policy_domain: "mx0.example.com".to_string(),
        mx_host: vec![],
        sessions: vec![],
        extra_failures: vec![],
    };
    let none = PolicyInput {
        policy_type: PolicyType::NoPolicyFound,
        policy_string: vec![],
        policy_domain: "example.org".to_string(),
        mx_host: vec![],
        sessions: vec![],
        extra_failures: vec![],
    };
    build(
        ReportMeta {
            organization_name: "Scanner Org".to_string(),
            contact_info: "postmaster@scanner.example".to_string(),
            report_id: "2023-11-14_example.com".to_string(),
            start: UNIX_EPOCH + Duration::from_secs(START),
            end: UNIX_EPOCH + Duration::from_secs(END),
        },
        vec![sts, tlsa, none],
    )
}

/// Field for field: what mail-auth read is what we wrote.
fn assert_same(ours: &ours::Report, theirs: &theirs::TlsReport, how: &str) {
    assert_eq!(
        theirs.organization_name.as_deref(),
        Some(ours.organization_name.as_str()),
        "{how}: organization-name"
    );
    assert_eq!(
        theirs.contact_info.as_deref(),
        Some(ours.contact_info.as_str()),
        "{how}: contact-info"
    );
    assert_eq!(theirs.report_id, ours.report_id, "{how}: report-id");
    assert_eq!(
        theirs.date_range.start_datetime.to_timestamp(),
        START as i64,
        "{how}: start-datetime"
    );
    assert_eq!(
        theirs.date_range.end_datetime.to_timestamp(),
        END as i64,
        "{how}: end-datetime"
    );
    assert_eq!(
        theirs.policies.len(),
        ours.policies.len(),
        "{how}: number of policies"
    );
    for (index, (mine, read)) in ours.policies.iter().zip(&theirs.policies).enumerate() {
        let at = format!("{how}: policy {index} ({})", mine.policy.policy_domain);
        assert_eq!(
            read.policy.policy_type,
            their_policy_type(mine.policy.policy_type),
            "{at}: policy-type"
        );
        assert_eq!(
            read.policy.policy_domain, mine.policy.policy_domain,
            "{at}: policy-domain"
        );
        assert_eq!(
            read.policy.policy_string, mine.policy.policy_string,
            "{at}: policy-string"
        );
        assert_eq!(read.policy.mx_host, mine.policy.mx_host, "{at}: mx-host");
        assert_eq!(
            u64::from(read.summary.total_success),
            mine.summary.total_successful_session_count,
            "{at}: total-successful-session-count"
        );
        assert_eq!(
            u64::from(read.summary.total_failure),
            mine.summary.total_failure_session_count,
            "{at}: total-failure-session-count"
        );
        assert_eq!(
            read.failure_details.len(),
            mine.failure_details.len(),
            "{at}: failure-details"
        );
        for (detail, (mine, read)) in mine
            .failure_details
            .iter()
            .zip(&read.failure_details)
            .enumerate()
        {
            let at = format!("{at}: failure-details {detail} ({})", mine.result_type);
            assert_eq!(
                read.result_type,
                their_result_type(mine.result_type),
                "{at}: result-type"
            );
            assert_eq!(
                read.sending_mta_ip, mine.sending_mta_ip,
                "{at}: sending-mta-ip"
            );
            assert_eq!(read.receiving_ip, mine.receiving_ip, "{at}: receiving-ip");
            assert_eq!(
                read.receiving_mx_hostname, mine.receiving_mx_hostname,
                "{at}: receiving-mx-hostname"
            );
            assert_eq!(
                read.receiving_mx_helo, mine.receiving_mx_helo,
                "{at}: receiving-mx-helo"
            );
            assert_eq!(
                u64::from(read.failed_session_count),
                mine.failed_session_count,
                "{at}: failed-session-count"
            );
            assert_eq!(
                read.additional_information, mine.additional_information,
                "{at}: additional-information"
            );
            assert_eq!(
                read.failure_reason_code, mine.failure_reason_code,
                "{at}: failure-reason-code"
            );
        }
    }
}

#[test]
fn mail_auth_reads_our_json_field_for_field() {
    let report = our_report();
    let detail_types: Vec<ResultType> = report.policies[0]
        .failure_details
        .iter()
        .map(|d| d.result_type)
        .collect();
    for kind in ResultType::ALL {
        assert!(detail_types.contains(&kind), "the fixture exercises {kind}");
    }
    let json = encode(&report, false).expect("encodes");
    let read = theirs::TlsReport::parse_json(&json).expect("mail-auth parses our JSON");
    assert_same(&report, &read, "plain JSON");
}

#[test]
fn mail_auth_reads_our_gzip_attached_to_a_report_message() {
    let report = our_report();
    let gz = encode(&report, true).expect("encodes");
    let mut message = Vec::new();
    theirs::TlsReport::parse_json(b"{\"date-range\":{\"start-datetime\":\"2023-11-14T22:13:20Z\",\"end-datetime\":\"2023-11-15T22:13:19Z\"}}")
        .expect("a minimal report parses")
        .write_rfc5322_from_bytes(
            "example.com",
            "scanner.example",
            "reports@scanner.example",
            ["tlsrpt@example.com"].into_iter(),
            &gz,
            &mut message,
        )
        .expect("mail-auth wraps our bytes in a report message");
    let read =
        theirs::TlsReport::parse_rfc5322(&message, 1 << 20).expect("mail-auth unpacks our gzip");
    assert_same(&report, &read, "gzip in application/tlsrpt+gzip");
}

#[test]
fn our_types_read_a_report_written_by_mail_auth() {
    let theirs = theirs::TlsReport::parse_json(&encode(&our_report(), false).expect("encodes"))
        .expect("mail-auth parses our JSON");
    // mail-auth writes absent optional fields as null, and dates its own way.
    let json = theirs.to_json();
    assert!(
        json.contains("null"),
        "the fixture has absent fields: {json}"
    );
    let read: ours::Report = serde_json::from_str(&json).expect("we parse mail-auth's JSON");
    assert_eq!(
        read,
        our_report(),
        "the same report after a trip through mail-auth"
    );
}
