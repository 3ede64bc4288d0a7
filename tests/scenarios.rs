//! Every catalogue scenario, scanned by the real binary through the lab, in
//! each DNSSEC mode, checked against the verdicts the catalogue expects.

mod common;

use common::{Via, lab, scan_json};
use serde_json::Value;

/// The value of an expectation key in a report.
fn observed(key: &str, json: &Value, exit: i32) -> String {
    let mx0 = &json["mx"][0];
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_string(),
        other => other.to_string(),
    };
    match key {
        "mx_lookup" => s(&json["mx_lookup"]["status"]),
        "mx_dnssec" => s(&json["mx_lookup"]["dnssec"]),
        "mx_hosts" => json["mx"].as_array().map_or(0, Vec::len).to_string(),
        "address_dnssec" => s(&mx0["address_dnssec"]),
        "addresses" => mx0["addresses"].as_array().map_or(0, Vec::len).to_string(),
        "cname" => s(&mx0["cname"]),
        "tlsa" => s(&mx0["tlsa"]["status"]),
        "tlsa_dnssec" => s(&mx0["tlsa"]["dnssec"]),
        "tlsa_applies" => s(&mx0["tlsa"]["applies"]),
        "tlsa_base" => s(&mx0["tlsa"]["base_domain"]),
        "tlsrpt" => s(&json["tlsrpt"]["status"]),
        "tlsrpt_dnssec" => s(&json["tlsrpt"]["dnssec"]),
        "rua" => json["tlsrpt"]["rua"]
            .as_array()
            .map(|a| a.iter().map(s).collect::<Vec<_>>().join(","))
            .unwrap_or_default(),
        "sts_record" => s(&json["mta_sts"]["record"]["status"]),
        "sts_record_cname" => s(&json["mta_sts"]["record"]["cname"]),
        "sts_policy" => s(&json["mta_sts"]["policy"]["status"]),
        "sts_reason_code" => s(&json["mta_sts"]["policy"]["reason_code"]),
        "sts_mode" => s(&json["mta_sts"]["policy"]["mode"]),
        "sts_host_cname" => s(&json["mta_sts"]["policy"]["host_cname"]),
        "sts_coverage" => s(&json["mta_sts"]["policy"]["coverage"][0]["pattern"]),
        "sessions" => json["sessions"].as_array().map_or(0, Vec::len).to_string(),
        "session_connect" => s(&json["sessions"][0]["connect"]),
        "session_result" => s(&json["sessions"][0]["result"]),
        "session_reason" => s(&json["sessions"][0]["failure_reason"]),
        "session_tlsa" => s(&json["sessions"][0]["results"]["tlsa"]),
        "session_sts" => s(&json["sessions"][0]["results"]["sts"]),
        "session_tls_version" => s(&json["sessions"][0]["tls_version"]),
        "session_requiretls" => s(&json["sessions"][0]["requiretls"]),
        // `key=status/dane` for each key-type session of the first session.
        "session_key_variants" => json["sessions"][0]["key_variants"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| match v["dane"].as_str() {
                        Some(dane) => format!("{}={}/{dane}", s(&v["key"]), s(&v["status"])),
                        None => format!("{}={}", s(&v["key"]), s(&v["status"])),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        "session_legacy_cipher" => s(&json["sessions"][0]["probe"]["legacy_tls"]["cipher"]),
        "session_legacy_key_bits" => s(&json["sessions"][0]["probe"]["legacy_tls"]["key_bits"]),
        "report_policies" => json["report"]["policies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| s(&p["policy"]["policy-type"]))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        "report_failures" => json["report"]["policies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .flat_map(|p| p["failure-details"].as_array().cloned().unwrap_or_default())
                    .map(|f| s(&f["result-type"]))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        "exit" => exit.to_string(),
        // Errors that stand on their own: what the summary counts.
        "root_errors" => json["findings"]
            .as_array()
            .map_or(0, |a| {
                a.iter()
                    .filter(|f| f["severity"] == "error" && f.get("caused_by").is_none())
                    .count()
            })
            .to_string(),
        other => panic!("the catalogue expects unknown key {other:?}"),
    }
}

/// Scans every scenario that has expectations and lists every mismatch.
fn check_all(via: Via) {
    let lab = lab();
    let mut failures = Vec::new();
    let mut checked = 0;
    for scenario in lab.catalogue.scenarios() {
        if scenario.expect().is_empty() {
            continue;
        }
        let domain = scenario.domain();
        let (exit, json) = scan_json(via, &domain);
        checked += 1;
        // Every report must read back through an independent parser.
        let report = serde_json::to_vec(&json["report"]).expect("report serialises");
        match mail_auth::report::tlsrpt::TlsReport::parse_json(&report) {
            Ok(parsed) => {
                let ours = json["report"]["policies"].as_array().map_or(0, Vec::len);
                if parsed.policies.len() != ours {
                    failures.push(format!(
                        "{domain}: mail-auth reads {} policies, we wrote {ours}",
                        parsed.policies.len()
                    ));
                }
            }
            Err(e) => failures.push(format!("{domain}: mail-auth cannot read our report: {e:?}")),
        }
        for (key, want) in scenario.expect() {
            if key == "outlook" {
                // `kind=outcome` pairs: what each named kind of sender does
                // with the domain's mail.
                for pair in want.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let (kind, outcome) = pair.split_once('=').unwrap_or((pair, ""));
                    let got = json["outlook"]["senders"]
                        .as_array()
                        .and_then(|a| a.iter().find(|s| s["kind"] == kind))
                        .map(|s| s["outcome"].as_str().unwrap_or_default().to_string())
                        .unwrap_or_default();
                    if got != outcome {
                        failures.push(format!(
                            "{domain}: outlook {kind} = {got:?}, catalogue expects {outcome:?} ({})",
                            json["outlook"]
                        ));
                    }
                }
                continue;
            }
            if key == "findings" {
                let have = common::codes(&json);
                for code in want.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    if !have.iter().any(|h| h == code) {
                        failures.push(format!("{domain}: finding {code} missing; have {have:?}"));
                    }
                }
                continue;
            }
            if key == "caused_by" {
                // `code<cause` pairs: a finding of `code` follows from one
                // of `cause`, and that one is among the findings.
                for pair in want.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let (code, cause) = pair.split_once('<').unwrap_or((pair, ""));
                    let findings = json["findings"].as_array().cloned().unwrap_or_default();
                    let linked = findings
                        .iter()
                        .any(|f| f["code"] == code && f["caused_by"]["code"] == cause);
                    let present = findings.iter().any(|f| f["code"] == cause);
                    if !linked || !present {
                        failures.push(format!(
                            "{domain}: no {code} caused by a present {cause}; findings {}",
                            json["findings"]
                        ));
                    }
                }
                continue;
            }
            if key == "absent_findings" {
                let have = common::codes(&json);
                for code in want.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    if have.iter().any(|h| h == code) {
                        failures.push(format!("{domain}: finding {code} present; have {have:?}"));
                    }
                }
                continue;
            }
            let got = observed(key, &json, exit);
            if &got != want {
                let context = if key.starts_with("session") {
                    format!(" (first session: {})", json["sessions"][0])
                } else {
                    String::new()
                };
                failures.push(format!(
                    "{domain}: {key} = {got:?}, catalogue expects {want:?}{context}"
                ));
            }
        }
    }
    assert!(checked >= 15, "only {checked} scenarios had expectations");
    assert!(
        failures.is_empty(),
        "{via:?}: {} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_scenario_matches_its_catalogue_verdict_when_validating_locally() {
    check_all(Via::Validate);
}

#[test]
fn every_scenario_matches_its_catalogue_verdict_when_trusting_the_resolver_ad_bit() {
    check_all(Via::Resolver);
}

#[test]
fn every_scenario_matches_its_catalogue_verdict_when_validating_behind_a_validating_resolver() {
    // Bogus data arrives as SERVFAIL here; the CD=1 retry must still tell
    // it apart from a broken server.
    check_all(Via::ValidateBehindResolver);
}

#[test]
fn a_ds_trust_anchor_validates_like_the_dnskey_it_designates() {
    for domain in ["secure.test", "insecure.test", "bogus-rrsig.test"] {
        let (_, by_key) = scan_json(Via::Validate, domain);
        let (_, by_ds) = scan_json(Via::ValidateDs, domain);
        assert_eq!(by_key["mx_lookup"], by_ds["mx_lookup"], "{domain}");
        assert_eq!(
            by_key["tlsrpt"]["dnssec"], by_ds["tlsrpt"]["dnssec"],
            "{domain}"
        );
    }
    let (_, secure) = scan_json(Via::ValidateDs, "secure.test");
    assert_eq!(secure["mx_lookup"]["dnssec"], "secure");
}

#[test]
fn dnssec_off_reports_everything_indeterminate_and_skips_dane() {
    let (exit, json) = scan_json(Via::Off, "secure.test");
    assert_eq!(json["dnssec_mode"], "off");
    assert_eq!(json["mx_lookup"]["status"], "found");
    assert_eq!(json["mx_lookup"]["dnssec"], "indeterminate");
    assert_eq!(json["mx"][0]["tlsa"]["status"], "skipped");
    assert_eq!(json["mx"][0]["tlsa"]["applies"], false);
    assert!(common::codes(&json).contains(&"dnssec-off".to_string()));
    assert_eq!(exit, 0);
}

#[test]
fn the_bogus_mx_of_one_domain_does_not_taint_the_next() {
    let mut args = common::lab_args(Via::Validate);
    args.extend(["--json", "bogus-rrsig.test", "secure.test"].map(String::from));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::mxtls(&argv);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON array");
    common::assert_valid(&json);
    let arr = json.as_array().expect("several domains give an array");
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["domain"], "bogus-rrsig.test", "input order is kept");
    assert_eq!(arr[0]["mx_lookup"]["dnssec"], "bogus");
    assert_eq!(arr[1]["mx_lookup"]["dnssec"], "secure");
    assert_eq!(out.status.code(), Some(1), "a bogus MX is an error finding");
}
