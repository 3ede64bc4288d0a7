//! A lookup lost to the scanner's own DNS queue is never blamed on the
//! domain: the real binary against the lab, one query in flight per
//! resolver (`--dns-in-flight 1`), and an RRset the lab never answers
//! while other lookups of the scan wait behind it. The same silence with
//! the default cap is the domain's failure (the catalogue's expectations
//! for `silent-tlsa` and `silent-tlsrpt`, checked by tests/scenarios.rs).

mod common;

use common::{Via, codes, lab_args, mxtls};
use serde_json::Value;

/// Scans `domain` with one query in flight per resolver; exit code, JSON.
fn scan_with_one_query_in_flight(via: Via, domain: &str) -> (i32, Value) {
    let mut args = lab_args(via);
    args.extend(
        [
            "--dns-in-flight",
            "1",
            "--timeout",
            "4",
            "--policy-timeout",
            "4",
            "--json",
            domain,
        ]
        .map(String::from),
    );
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mxtls(&argv);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{via:?}: no JSON ({e}); stdout: {stdout}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    common::assert_valid(&json);
    let code = out.status.code().unwrap_or(-1);
    if code == 3 {
        // "Could not tell" names the scanner's queue, not the MX hosts.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("could not tell")
                && stderr.contains("the scanner's own DNS queue was full"),
            "{via:?}: {stderr}"
        );
        assert!(
            !stderr.contains("no MX address could be probed"),
            "{via:?}: {stderr}"
        );
    }
    (code, json)
}

/// Error findings of a report (`code subject`).
fn errors(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["severity"] == "error")
                .map(|f| format!("{} {}", f["code"], f["subject"]))
                .collect()
        })
        .unwrap_or_default()
}

/// The one scanner-overload finding, which must name `lookup`.
fn assert_one_overload_finding(via: Via, json: &Value, lookup: &str) {
    let all = codes(json);
    let overloads: Vec<&Value> = json["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["code"] == "scanner-dns-overloaded")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(overloads.len(), 1, "{via:?}: one per domain: {all:?}");
    let f = overloads[0];
    assert_eq!(f["severity"], "warning", "{via:?}");
    let message = f["message"].as_str().unwrap_or_default();
    assert!(message.contains(lookup), "{via:?}: {message}");
    let advice = f["advice"].as_str().unwrap_or_default();
    assert!(
        advice.contains("--concurrency") && advice.contains("--resolver"),
        "{via:?}: {advice}"
    );
}

#[test]
fn a_tlsa_lookup_lost_to_the_scanners_own_queue_is_inconclusive_not_the_domains_failure() {
    let domain = "silent-tlsa.test";
    for via in [Via::Validate, Via::Resolver] {
        let (exit, json) = scan_with_one_query_in_flight(via, domain);
        let all = codes(&json);
        for blamed in ["tlsa-lookup-failed", "mx-inconclusive", "dane-partial"] {
            assert!(!all.contains(&blamed.to_string()), "{via:?}: {all:?}");
        }
        assert_eq!(errors(&json), Vec::<String>::new(), "{via:?}: {all:?}");
        assert_one_overload_finding(via, &json, "_25._tcp.mx1.silent-tlsa.test TLSA");
        let mx1 = &json["mx"][0];
        assert_eq!(mx1["host"], "mx1.silent-tlsa.test", "{via:?}");
        assert_eq!(mx1["tlsa"]["status"], "error", "{via:?}: {mx1:#}");
        let why = mx1["tlsa"]["error"].as_str().unwrap_or_default();
        assert!(why.contains("--concurrency"), "{via:?}: {why}");
        // mx2's TLSA lookup waited behind mx1's and was answered.
        assert_eq!(json["mx"][1]["tlsa"]["status"], "found", "{via:?}");
        // DANE's verdict on mx1's sessions cannot be told.
        let sessions: Vec<&Value> = json["sessions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|s| s["mx"] == "mx1.silent-tlsa.test")
                    .collect()
            })
            .unwrap_or_default();
        assert!(!sessions.is_empty(), "{via:?}: {:#}", json["sessions"]);
        for s in sessions {
            assert_eq!(s["result"], "inconclusive", "{via:?}: {s:#}");
        }
        // Only the senders that apply DANE are left untold at mx1: the
        // session itself reached TLS.
        let at_mx1 = |kind: &str| -> Vec<String> {
            json["outlook"]["senders"]
                .as_array()
                .and_then(|all| all.iter().find(|s| s["kind"] == kind))
                .and_then(|s| s["addresses"].as_array())
                .map(|a| {
                    a.iter()
                        .filter(|a| a["mx"] == "mx1.silent-tlsa.test")
                        .map(|a| a["outcome"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        for kind in ["dane", "dane-and-mta-sts"] {
            let outcomes = at_mx1(kind);
            assert!(
                !outcomes.is_empty() && outcomes.iter().all(|o| o == "untested"),
                "{via:?} {kind}: {outcomes:?}"
            );
        }
        for kind in ["mta-sts", "opportunistic"] {
            let outcomes = at_mx1(kind);
            assert!(
                !outcomes.is_empty()
                    && outcomes.iter().all(|o| o == "delivers-unauthenticated-tls"),
                "{via:?} {kind}: {outcomes:?}"
            );
        }
        // "Could not tell", not "findings": exit status 3.
        assert_eq!(exit, 3, "{via:?}: {all:?}");
    }
}

#[test]
fn a_txt_lookup_lost_to_the_scanners_own_queue_is_inconclusive_not_the_domains_failure() {
    let domain = "silent-tlsrpt.test";
    for via in [Via::Validate, Via::Resolver, Via::Off] {
        let (exit, json) = scan_with_one_query_in_flight(via, domain);
        let all = codes(&json);
        for blamed in ["tlsrpt-lookup-failed", "tlsrpt-missing"] {
            assert!(!all.contains(&blamed.to_string()), "{via:?}: {all:?}");
        }
        assert_eq!(errors(&json), Vec::<String>::new(), "{via:?}: {all:?}");
        assert_one_overload_finding(via, &json, "_smtp._tls.silent-tlsrpt.test TXT");
        assert_eq!(json["tlsrpt"]["status"], "error", "{via:?}");
        // The rest of the domain was told: the MX answered, its session ran.
        assert_eq!(json["mx_lookup"]["status"], "found", "{via:?}");
        assert_eq!(
            json["sessions"][0]["connect"], "ok",
            "{via:?}: {:#} {:#}",
            json["findings"], json["mx"]
        );
        assert_eq!(exit, 3, "{via:?}: {all:?}");
    }
}

#[test]
fn mta_sts_lookups_lost_to_the_scanners_own_queue_are_inconclusive_not_the_domains_failure() {
    for (domain, lost) in [
        (
            "silent-sts-record.test",
            "_mta-sts.silent-sts-record.test TXT",
        ),
        ("silent-sts-host.test", "mta-sts.silent-sts-host.test A"),
    ] {
        for via in [Via::Validate, Via::Resolver, Via::Off] {
            let (exit, json) = scan_with_one_query_in_flight(via, domain);
            let all = codes(&json);
            for blamed in [
                "sts-record-lookup-failed",
                "sts-policy-fetch-error",
                "sts-policy-not-fetched",
            ] {
                assert!(
                    !all.contains(&blamed.to_string()),
                    "{domain} {via:?}: {all:?}"
                );
            }
            assert_eq!(
                errors(&json),
                Vec::<String>::new(),
                "{domain} {via:?}: {all:?}"
            );
            assert_one_overload_finding(via, &json, lost);
            // The synthetic report says nothing a sender would not see.
            let policies = json["report"]["policies"].to_string();
            assert!(
                !policies.contains("sts-policy-fetch-error"),
                "{domain} {via:?}: {policies}"
            );
            assert_eq!(
                json["sessions"][0]["connect"], "ok",
                "{domain} {via:?}: {:#}",
                json["findings"]
            );
            assert_eq!(exit, 3, "{domain} {via:?}: {all:?}");
        }
    }
    // Without the policy host's address the policy was not fetched, and
    // says why.
    let (_, json) = scan_with_one_query_in_flight(Via::Resolver, "silent-sts-host.test");
    let policy = &json["mta_sts"]["policy"];
    assert_eq!(
        policy["reason_code"], "not-fetched-scanner-overloaded",
        "{policy:#}"
    );
}
