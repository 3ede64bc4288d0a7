//! The command line: usage errors, input handling, output forms, exit codes.

mod common;

use common::{Via, lab_args, mxtls};
use serde_json::Value;

fn run(via: Via, extra: &[&str]) -> std::process::Output {
    let mut args = lab_args(via);
    args.extend(["--timeout".to_string(), "3".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    mxtls(&argv)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn no_domain_is_a_usage_error() {
    let out = mxtls(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no domain to check"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_trust_anchor_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("bad.key");
    std::fs::write(&path, "; root\n. IN DNSKEY 257 3 13 not*base64\n").expect("write");
    let out = mxtls(&[
        "--resolver",
        "127.0.0.1:9",
        "--trust-anchor",
        path.to_str().expect("utf8"),
        "example.test",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.key:2"), "{err}");
    assert!(err.contains("base64"), "{err}");
}

#[test]
fn missing_trust_anchor_file_is_a_clear_error() {
    let out = mxtls(&[
        "--trust-anchor",
        "/nonexistent/root.key",
        "--resolver",
        "127.0.0.1:9",
        "example.test",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read trust anchor file /nonexistent/root.key"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ds_anchor_that_matches_no_root_key_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("wrong.ds");
    std::fs::write(
        &path,
        ". IN DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .expect("write");
    let mut args = lab_args(Via::Validate);
    args[3] = path.display().to_string();
    args.push("secure.test".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mxtls(&argv);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("matches the DS trust anchor"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unreachable_resolver_is_exit_2_naming_it() {
    // Port 9 (discard) on loopback: nothing of ours listens there, so the
    // query is refused or times out; either way nothing can be scanned.
    let out = mxtls(&[
        "--resolver",
        "127.0.0.1:9",
        "--timeout",
        "1",
        "--dnssec",
        "off",
        "example.test",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("127.0.0.1:9"), "{}", stderr(&out));
}

#[test]
fn bad_resolver_address_is_a_usage_error() {
    let out = mxtls(&["--resolver", "dns.example", "example.test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\"dns.example\" is not an IP address"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_malformed_domain_among_good_ones_is_skipped_with_a_message_and_exit_2() {
    let out = run(
        Via::Validate,
        &["--jsonl", "secure.test", "not a domain", "insecure.test"],
    );
    let err = stderr(&out);
    assert!(err.contains("skipping \"not a domain\""), "{err}");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "the two good domains and the bad input's own object"
    );
    for l in &lines {
        common::assert_valid(l);
    }
    let scanned: Vec<&Value> = lines.iter().filter(|l| l["schema"] == "mxtls/1").collect();
    assert_eq!(scanned.len(), 2, "the two good domains are scanned");
    assert!(
        lines
            .iter()
            .any(|l| l["schema"] == "mxtls-input-error/1" && l["input"] == "not a domain"),
        "{lines:#?}"
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a rejected input fails the run: {err}"
    );
}

#[test]
fn input_file_with_comments_and_blank_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("domains.txt");
    std::fs::write(
        &path,
        "# lab domains\nsecure.test\n\n  insecure.test  # unsigned\nnullmx.test\n",
    )
    .expect("write");
    let out = run(
        Via::Validate,
        &["--jsonl", "--input", path.to_str().expect("utf8")],
    );
    let mut domains: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON line")["domain"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    domains.sort();
    assert_eq!(domains, ["insecure.test", "nullmx.test", "secure.test"]);
}

#[test]
fn human_summary_shows_the_mx_hosts_and_findings() {
    let out = run(Via::Validate, &["nullmx-mixed.test"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nullmx-mixed.test"), "{text}");
    assert!(text.contains("MX host"), "{text}");
    assert!(text.contains("ERROR"), "{text}");
    assert!(text.contains("null MX"), "{text}");
    assert!(
        // A footnote (`[n] record`) holds a record whole, however long.
        text.lines()
            .all(|l| l.chars().count() <= 80 || l.starts_with('[')),
        "fits 80 columns:\n{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn idn_domain_is_scanned_in_a_labels() {
    let out = run(Via::Validate, &["--json", "bücher.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    common::assert_valid(&json);
    assert_eq!(json["domain"], "xn--bcher-kva.test");
    assert_eq!(json["domain_unicode"], "bücher.test");
    assert_eq!(json["mx_lookup"]["status"], "nxdomain");
}

#[test]
fn non_public_policy_hosts_are_refused_without_allow_private() {
    let lab = common::lab();
    let args = [
        "--resolver".to_string(),
        lab.dns().authoritative().to_string(),
        "--trust-anchor".to_string(),
        lab.dnskey_anchor().display().to_string(),
        "--ca-file".to_string(),
        lab.ca().display().to_string(),
        "--https-port".to_string(),
        lab.servers.https_addr().port().to_string(),
        "--json".to_string(),
        "sts-good.test".to_string(),
    ];
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mxtls(&argv);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    common::assert_valid(&json);
    let policy = &json["mta_sts"]["policy"];
    assert_eq!(policy["status"], "fetch-error");
    assert!(
        policy.get("fetch").is_none(),
        "no connection was made: {policy}"
    );
    assert!(
        policy["reason"]
            .as_str()
            .unwrap_or("")
            .contains("127.0.0.1 (loopback"),
        "{policy}"
    );
    assert!(common::codes(&json).contains(&"sts-policy-not-fetched".to_string()));
    // The scanner chose not to connect: no sender saw a fetch fail, so the
    // synthetic report has no `sts` entry and no failure for it.
    let entries = json["report"]["policies"].as_array().expect("policies");
    for entry in entries {
        assert_ne!(entry["policy"]["policy-type"], "sts", "{entry:#}");
        assert!(entry.get("failure-details").is_none(), "{entry:#}");
    }
}

#[test]
fn the_policy_fetch_is_bounded_by_policy_timeout_not_timeout() {
    // run() passes --timeout 3; the fetch from the hanging host must end
    // after --policy-timeout's 2 s and say so.
    let out = run(
        Via::Validate,
        &["--policy-timeout", "2", "--json", "sts-hang.test"],
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    common::assert_valid(&json);
    let policy = &json["mta_sts"]["policy"];
    assert_eq!(policy["reason_code"], "timeout", "{policy}");
    let reason = policy["reason"].as_str().unwrap_or("");
    assert!(reason.contains("within 2.0 s"), "{reason}");
}

#[test]
fn policy_timeout_outside_0_to_3600_seconds_is_a_usage_error() {
    for bad in ["0", "-1", "3601", "NaN", "inf"] {
        let out = mxtls(&[
            &format!("--policy-timeout={bad}"),
            "--resolver",
            "127.0.0.1:9",
            "example.test",
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--policy-timeout"),
            "{bad}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn unreadable_ca_file_is_a_usage_error() {
    let out = mxtls(&[
        "--ca-file",
        "/nonexistent/ca.pem",
        "--resolver",
        "127.0.0.1:9",
        "example.test",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read --ca-file /nonexistent/ca.pem"),
        "{}",
        stderr(&out)
    );
}

fn exit_and_codes(extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = run(Via::Validate, &args);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    common::assert_valid(&json);
    (out.status.code(), common::codes(&json))
}

#[test]
fn fail_on_sets_the_threshold_of_exit_status_1() {
    // sts-testing.test has warnings and no error.
    assert_eq!(exit_and_codes(&["sts-testing.test"]).0, Some(0));
    assert_eq!(
        exit_and_codes(&["--fail-on", "warning", "sts-testing.test"]).0,
        Some(1)
    );
    // bogus-rrsig.test has an error finding.
    assert_eq!(exit_and_codes(&["bogus-rrsig.test"]).0, Some(1));
    assert_eq!(
        exit_and_codes(&["--fail-on", "never", "bogus-rrsig.test"]).0,
        Some(0)
    );
}

#[test]
fn require_dane_makes_a_missing_tlsa_an_error() {
    let (exit, codes) = exit_and_codes(&["--require-dane", "insecure.test"]);
    assert!(codes.contains(&"dane-required".to_string()), "{codes:?}");
    assert_eq!(exit, Some(1));
    // sts-good.test's MX answers; its session becomes dane-required, and
    // the report says so under a tlsa policy.
    let (_, json) = scan(&["--require-dane", "sts-good.test"]);
    assert_eq!(json["sessions"][0]["results"]["tlsa"], "dane-required");
    assert_eq!(json["sessions"][0]["result"], "dane-required");
    let policies = json["report"]["policies"].as_array().expect("policies");
    let tlsa = policies
        .iter()
        .find(|p| p["policy"]["policy-type"] == "tlsa")
        .expect("a tlsa policy");
    assert_eq!(tlsa["failure-details"][0]["result-type"], "dane-required");
    let (_, codes) = exit_and_codes(&["--require-dane", "secure.test"]);
    assert!(
        !codes.contains(&"dane-required".to_string()),
        "secure.test has DANE: {codes:?}"
    );
}

#[test]
fn require_sts_makes_a_missing_policy_an_error() {
    let (exit, codes) = exit_and_codes(&["--require-sts", "secure.test"]);
    assert!(codes.contains(&"sts-required".to_string()), "{codes:?}");
    assert_eq!(exit, Some(1));
    let (_, codes) = exit_and_codes(&["--require-sts", "sts-good.test"]);
    assert!(!codes.contains(&"sts-required".to_string()), "{codes:?}");
}

#[test]
fn report_to_a_directory_writes_one_rfc8460_file_per_domain() {
    let dir = tempfile::tempdir().expect("tmp");
    let target = format!("{}/", dir.path().display());
    let out = run(
        Via::Validate,
        &[
            "--report",
            &target,
            "--report-contact",
            "mailto:tls@reports.example",
            "secure.test",
            "dane-mismatch.test",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for (name, domain) in names.iter().zip(["dane-mismatch.test", "secure.test"]) {
        // RFC 8460 §5.1: sender!policy-domain!begin!end!unique-id.json.gz
        let parts: Vec<&str> = name.split('!').collect();
        assert_eq!(parts[0], "reports.example", "{name}");
        assert_eq!(parts[1], domain, "{name}");
        assert!(
            parts[2].parse::<u64>().is_ok() && parts[3].parse::<u64>().is_ok(),
            "{name}"
        );
        assert!(name.ends_with(".json.gz"), "{name}");
        let gz = std::fs::read(dir.path().join(name)).expect("read report");
        let mut json = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut json)
            .expect("gzip");
        let report = mail_auth::report::tlsrpt::TlsReport::parse_json(json.as_bytes())
            .expect("mail-auth reads it");
        assert_eq!(
            report.contact_info.as_deref(),
            Some("mailto:tls@reports.example")
        );
    }
}

#[test]
fn report_to_stdout_replaces_the_summary() {
    let out = run(Via::Validate, &["--report", "-", "dane-mismatch.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
    assert_eq!(json["policies"][0]["policy"]["policy-type"], "tlsa");
    assert_eq!(
        json["policies"][0]["failure-details"][0]["result-type"],
        "tlsa-invalid"
    );
    assert_eq!(
        json["policies"][0]["failure-details"][0]["failure-reason-code"],
        "dane-no-match"
    );
}

#[test]
fn unwritable_report_target_fails_before_scanning() {
    let out = run(
        Via::Validate,
        &["--report", "/nonexistent/dir/report.json", "secure.test"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing was scanned");
    assert!(
        stderr(&out).contains("/nonexistent/dir"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn one_report_file_for_several_domains_is_a_usage_error() {
    let out = run(
        Via::Validate,
        &["--report", "/tmp/one.json", "secure.test", "insecure.test"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("give a directory"),
        "{}",
        stderr(&out)
    );
}

fn scan(extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = run(Via::Validate, &args);
    let json: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    common::assert_valid(&json);
    (out.status.code(), json)
}

#[test]
fn plain_text_after_the_220_to_starttls_is_a_tls_failure_that_says_so() {
    // 127.0.0.27 pushes a new plain greeting behind its 220 to STARTTLS,
    // 127.0.0.24 answers the ClientHello with a plain 500: both are TLS
    // failures that quote what the server said.
    for (domain, said) in [
        (
            "smtp-plaintext-after-starttls.test",
            "220 mx.lab.test ESMTP Postfix",
        ),
        ("smtp-garbage.test", "500 5.5.2 Error: bad syntax"),
    ] {
        let (exit, json) = scan(&[domain]);
        assert_eq!(exit, Some(1), "{domain}: MTA-STS enforce fails");
        let session = &json["sessions"][0];
        assert_eq!(
            session["result"], "validation-failure",
            "{domain}: {session}"
        );
        assert_eq!(
            session["failure_reason"], "tls-plaintext-after-starttls",
            "{domain}: {session}"
        );
        assert_eq!(session["starttls"], true, "{domain}: {session}");
        let finding = json["findings"]
            .as_array()
            .and_then(|all| all.iter().find(|f| f["code"] == "mx-validation-failure"))
            .unwrap_or_else(|| panic!("{domain}: no mx-validation-failure: {json}"));
        let message = finding["message"].as_str().unwrap_or("");
        assert!(
            message.contains("answered STARTTLS with 220 but then spoke plain text")
                && message.contains(said),
            "{domain}: {message}"
        );
        let details = &json["report"]["policies"][0]["failure-details"][0];
        assert_eq!(details["result-type"], "validation-failure", "{domain}");
        assert_eq!(
            details["failure-reason-code"], "tls-plaintext-after-starttls",
            "{domain}: {details}"
        );
    }
}

#[test]
fn preflight_tlsa_rollover_that_matches_nothing_served_fails() {
    let zeros = format!("3 1 1 {}", "00".repeat(32));
    let (exit, json) = scan(&["--tlsa", &zeros, "dane-ee.test"]);
    assert_eq!(json["planned"]["tlsa"], true);
    assert_eq!(json["mx"][0]["tlsa"]["planned"], true);
    assert_eq!(json["sessions"][0]["results"]["tlsa"], "tlsa-invalid");
    assert!(
        json["report"]["report-id"]
            .as_str()
            .unwrap_or("")
            .contains("preflight")
    );
    assert_eq!(exit, Some(1));
}

#[test]
fn preflight_tlsa_with_the_served_key_passes() {
    // The published record of dane-ee.test matches the served key: planning
    // it again (plus a next key) must keep mail flowing.
    let (_, today) = scan(&["dane-ee.test"]);
    let current = today["mx"][0]["tlsa"]["records"][0]
        .as_str()
        .expect("record")
        .to_string();
    let next = format!("3 1 1 {}", "ab".repeat(32));
    let (exit, json) = scan(&["--tlsa", &current, "--tlsa", &next, "dane-ee.test"]);
    assert_eq!(
        json["sessions"][0]["results"]["tlsa"], "success",
        "{}",
        json["sessions"][0]
    );
    assert_eq!(exit, Some(0));
}

#[test]
fn preflight_tlsa_line_whose_owner_is_no_mx_host_fails_the_run_naming_it() {
    let line = |host: &str| format!("_25._tcp.{host}. IN TLSA 3 1 1 {}", "ab".repeat(32));
    // A typo in the owner: judged nowhere, so the run must not pass.
    let out = run(
        Via::Validate,
        &[
            "--json",
            "--tlsa",
            &line("mx1.dane-ee.tset"),
            "dane-ee.test",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("_25._tcp.mx1.dane-ee.tset names no MX host")
            && err.contains("the MX hosts found: mx1.dane-ee.test"),
        "{err}"
    );
    // The report is still written, judged on what is published.
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        json["mx"][0]["tlsa"].get("planned").is_none(),
        "{}",
        json["mx"][0]
    );
    // The right owner is used and the run is judged as usual.
    let out = run(
        Via::Validate,
        &[
            "--json",
            "--tlsa",
            &line("MX1.dane-ee.test"),
            "dane-ee.test",
        ],
    );
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["mx"][0]["tlsa"]["planned"], true);
}

#[test]
fn preflight_sts_policy_that_misses_the_mx_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("planned.txt");
    std::fs::write(
        &path,
        "version: STSv1\nmode: enforce\nmx: mx1.other.test\nmax_age: 604800\n",
    )
    .expect("write");
    let (exit, json) = scan(&[
        "--sts-policy",
        path.to_str().expect("utf8"),
        "sts-good.test",
    ]);
    assert_eq!(json["mta_sts"]["policy"]["planned"], true);
    assert_eq!(json["sessions"][0]["results"]["sts"], "validation-failure");
    assert!(common::codes(&json).contains(&"sts-policy-mx-not-covered".to_string()));
    assert_eq!(exit, Some(1));
}

#[test]
fn preflight_mx_judges_the_planned_hosts() {
    let (exit, json) = scan(&["--mx", "mx1.dane-ee.test", "smtp-no-starttls.test"]);
    assert_eq!(json["planned"]["mx"], true);
    assert_eq!(json["mx"][0]["host"], "mx1.dane-ee.test");
    assert_eq!(json["sessions"][0]["ip"], "127.0.0.30");
    assert_eq!(
        exit,
        Some(1),
        "the published policy does not cover the planned MX"
    );
}

#[test]
fn preflight_input_that_does_not_parse_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("bad.txt");
    std::fs::write(&path, "version: STSv1\nmode : enforce\n").expect("write");
    for (args, needle) in [
        (
            vec!["--tlsa", "3 1 1 zz", "secure.test"],
            "--tlsa \"3 1 1 zz\" is not a TLSA record",
        ),
        (
            vec!["--sts-policy", path.to_str().expect("utf8"), "secure.test"],
            "line 2",
        ),
        (
            vec!["--mx", "192.0.2.1", "secure.test"],
            "--mx \"192.0.2.1\"",
        ),
    ] {
        let out = run(Via::Validate, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "nothing scanned for {args:?}");
    }
}

#[test]
fn non_public_mx_addresses_are_not_probed_without_allow_private() {
    let lab = common::lab();
    let args = [
        "--resolver".to_string(),
        lab.dns().authoritative().to_string(),
        "--trust-anchor".to_string(),
        lab.dnskey_anchor().display().to_string(),
        "--smtp-port".to_string(),
        lab.servers.smtp_port().unwrap_or(25).to_string(),
        "--json".to_string(),
        "secure.test".to_string(),
    ];
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mxtls(&argv);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    common::assert_valid(&json);
    assert_eq!(
        json["sessions"].as_array().map(Vec::len),
        Some(0),
        "no session to loopback"
    );
    let codes = common::codes(&json);
    assert_eq!(
        codes
            .iter()
            .filter(|c| *c == "mx-address-not-public")
            .count(),
        2,
        "{codes:?}"
    );
}

#[test]
fn domains_sharing_an_mx_are_probed_once_per_run() {
    // mx-cname.test's MX is an alias of mx1.secure.test: same address, same
    // SNI (the TLSA base domain), so one session serves both domains.
    let out = run(Via::Validate, &["--json", "secure.test", "mx-cname.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let a = &json[0]["sessions"][0]["probe"];
    let b = &json[1]["sessions"][0]["probe"];
    assert_eq!(a["sni"], b["sni"]);
    assert_eq!(
        a["local_addr"], b["local_addr"],
        "the same connection: {a} / {b}"
    );
}

#[test]
fn preflight_is_marked_in_the_summary() {
    let next = format!("3 1 1 {}", "ab".repeat(32));
    let out = run(Via::Validate, &["--tlsa", &next, "dane-ee.test"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PRE-FLIGHT: judged with the TLSA records (--tlsa), as planned"),
        "{text}"
    );
    assert!(text.contains("--tlsa"), "{text}");
}

/// A "resolver" on loopback that answers each query with what `reply`
/// makes of it, for a bounded number of queries and time.
fn fake_resolver(
    reply: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + 'static,
) -> std::net::SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .expect("timeout");
    let addr = socket.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for _ in 0..200 {
            let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                return;
            };
            if let Some(bytes) = reply(&buf[..n]) {
                let _ = socket.send_to(&bytes, peer);
            }
        }
    });
    addr
}

/// Answers every query with garbage: the query's id, then bytes that are no
/// DNS message.
fn garbage_resolver() -> std::net::SocketAddr {
    fake_resolver(|query| {
        let mut reply = query[..query.len().min(2)].to_vec();
        reply.extend_from_slice(&[0xff; 7]);
        Some(reply)
    })
}

#[test]
fn a_resolver_that_answers_garbage_is_a_clear_failure() {
    for mode in ["off", "resolver", "validate"] {
        let addr = garbage_resolver().to_string();
        let mut args = vec![
            "--resolver",
            addr.as_str(),
            "--timeout",
            "1",
            "--dnssec",
            mode,
        ];
        args.push("example.test");
        let out = mxtls(&args);
        assert_eq!(out.status.code(), Some(2), "{mode}: {}", stderr(&out));
        assert!(stderr(&out).contains(&addr), "{mode}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{mode}: stopped before scanning");
    }
}

/// A resolver that answers like one that drops DNSSEC records: the root
/// DNSKEY RRset without its RRSIG.
fn stripping_resolver() -> std::net::SocketAddr {
    use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData};
    use hickory_proto::dnssec::{Algorithm, PublicKeyBuf};
    use hickory_proto::op::Message;
    use hickory_proto::rr::{Name, RData, Record};
    fake_resolver(|bytes| {
        let query = Message::from_vec(bytes).ok()?;
        let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
        reply.add_queries(query.queries.clone());
        let key = PublicKeyBuf::new(vec![1u8; 64], Algorithm::ECDSAP256SHA256);
        let dnskey = DNSKEY::new(true, true, false, key);
        reply.add_answer(Record::from_rdata(
            Name::root(),
            3600,
            RData::DNSSEC(DNSSECRData::DNSKEY(dnskey)),
        ));
        reply.to_vec().ok()
    })
}

#[test]
fn a_resolver_that_strips_dnssec_is_named_before_scanning() {
    let addr = stripping_resolver().to_string();
    let out = mxtls(&["--resolver", &addr, "--timeout", "2", "example.test"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("the resolver {addr} strips DNSSEC records")),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing was scanned");
}

#[test]
fn format_option_and_its_aliases_give_the_same_documents() {
    let body = |out: &std::process::Output| String::from_utf8_lossy(&out.stdout).to_string();
    let domains = ["secure.test", "insecure.test"];
    let parse_doc = |text: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(text).expect("one JSON document");
        v.as_array()
            .expect("an array for two domains")
            .iter()
            .map(|d| d["domain"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let json = run(Via::Validate, &["--format", "json", domains[0], domains[1]]);
    let alias = run(Via::Validate, &["--json", domains[0], domains[1]]);
    assert_eq!(
        parse_doc(&body(&json)),
        domains,
        "--format json keeps input order"
    );
    assert_eq!(parse_doc(&body(&alias)), domains, "--json is --format json");

    let lines = |text: &str| -> Vec<String> {
        let mut got: Vec<String> = text
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("each line is a JSON object");
                v["domain"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        got.sort();
        got
    };
    let jsonl = run(
        Via::Validate,
        &["--format", "jsonl", domains[0], domains[1]],
    );
    let alias = run(Via::Validate, &["--jsonl", domains[0], domains[1]]);
    assert_eq!(lines(&body(&jsonl)), ["insecure.test", "secure.test"]);
    assert_eq!(lines(&body(&alias)), ["insecure.test", "secure.test"]);

    let table = run(Via::Validate, &["--format", "table", domains[0]]);
    assert!(body(&table).contains("secure.test"), "{}", body(&table));
    assert!(
        serde_json::from_str::<Value>(&body(&table)).is_err(),
        "a table is not JSON"
    );

    let both = run(Via::Validate, &["--format", "table", "--json", domains[0]]);
    assert_eq!(both.status.code(), Some(2), "--format and --json conflict");
}

#[test]
fn a_domain_given_as_the_command_gets_the_check_command_as_a_hint() {
    let bare = |arg: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mxtls"))
            .arg(arg)
            .output()
            .expect("mxtls runs")
    };
    let out = bare("secure.test");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("hint: to check a domain, run `mxtls check secure.test`"),
        "{}",
        stderr(&out)
    );
    let out = bare("frobnicate");
    assert!(
        !stderr(&out).contains("hint:"),
        "no hint for a word that is no domain"
    );
}

#[test]
fn a_zero_timeout_is_refused_saying_what_is_allowed() {
    let out = mxtls(&["--timeout", "0", "secure.test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--timeout 0 must be a number of seconds above 0 and at most 3600"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_lab_prints_its_usage_on_help_and_exits_0() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mxtls-lab"))
        .arg("--help")
        .output()
        .expect("mxtls-lab runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("usage: mxtls-lab"));
}

/// The `timings` of a scan: every lookup, the policy fetch and each session,
/// each span in order, and the dependencies between them in order too.
/// Only orders are checked, never durations.
#[test]
fn timings_name_every_lookup_the_policy_fetch_and_each_session_in_order() {
    let (_, json) = scan(&["bench-both.test"]);
    let t = &json["timings"];
    let span = |v: &Value| -> (i64, i64) {
        let (start, end) = (v["start_ms"].as_i64(), v["end_ms"].as_i64());
        let (Some(start), Some(end)) = (start, end) else {
            panic!("no start_ms/end_ms in {v}")
        };
        assert!(start <= end, "starts before it ends: {v}");
        (start, end)
    };
    let lookup = |name: &str, rtype: &str| -> (i64, i64) {
        let found = t["lookups"]
            .as_array()
            .expect("lookups")
            .iter()
            .find(|l| l["name"] == name && l["type"] == rtype)
            .unwrap_or_else(|| panic!("no {name} {rtype} lookup in {t}"));
        span(found)
    };
    for l in t["lookups"].as_array().expect("lookups") {
        span(l);
    }
    let mx = lookup("bench-both.test", "MX");
    let a = lookup("mx1.bench-both.test", "A");
    let tlsa = lookup("_25._tcp.mx1.bench-both.test", "TLSA");
    let sts = lookup("_mta-sts.bench-both.test", "TXT");
    lookup("_smtp._tls.bench-both.test", "TXT");
    let fetch = span(&t["policy_fetch"]);
    assert!(
        mx.1 <= a.0,
        "the MX host's addresses are asked after the MX"
    );
    assert!(a.1 <= tlsa.0, "TLSA is asked once the addresses are secure");
    assert!(sts.1 <= fetch.0, "the policy is fetched after its record");
    let sessions = t["sessions"].as_array().expect("session timings");
    assert_eq!(
        sessions.len(),
        json["sessions"].as_array().map_or(0, Vec::len),
        "one per session"
    );
    let session = span(&sessions[0]);
    assert_eq!(sessions[0]["ip"], json["sessions"][0]["ip"]);
    assert!(
        a.1 <= session.0,
        "the session starts once the address is known"
    );
    // The session does not wait for the TLSA answer: it starts when the
    // addresses arrive, which is when the TLSA query goes out. The lab
    // answers TLSA within a millisecond, as long as scheduling the session
    // may take on a loaded machine: a scan where the session started later
    // is tried again, twice at most.
    let mut starts_first = session.0 <= tlsa.1;
    let mut seen = t.to_string();
    for _ in 0..2 {
        if starts_first {
            break;
        }
        let (_, again) = scan(&["bench-both.test"]);
        let t = &again["timings"];
        let tlsa_end = t["lookups"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["type"] == "TLSA"))
            .and_then(|l| l["end_ms"].as_i64());
        let session_start = t["sessions"][0]["start_ms"].as_i64();
        starts_first = matches!((session_start, tlsa_end), (Some(s), Some(e)) if s <= e);
        seen = t.to_string();
    }
    assert!(
        starts_first,
        "the session starts before the TLSA answer is in: {seen}"
    );
    // Each step of the dialogue, in order, within the whole session.
    let steps = &json["sessions"][0]["probe"]["timings"];
    let mut sum = 0;
    for step in [
        "connect_ms",
        "greeting_ms",
        "ehlo_ms",
        "starttls_ms",
        "handshake_ms",
        "ehlo_tls_ms",
    ] {
        sum += steps[step]
            .as_u64()
            .unwrap_or_else(|| panic!("{step} in {steps}"));
    }
    assert!(
        sum <= steps["total_ms"].as_u64().expect("total_ms"),
        "the steps fit in the session: {steps}"
    );
}

/// MXTLS_TRUST_ANCHOR is a default for validate mode (the README's lab
/// recipe exports it): `--dnssec resolver` on the command line ignores it,
/// while `--trust-anchor` given on the command line with that mode is still
/// a usage error.
#[test]
fn a_trust_anchor_from_the_environment_does_not_conflict_with_resolver_mode() {
    let lab = common::lab();
    let mut args = lab_args(Via::Resolver);
    args.extend(["--timeout", "3", "--json", "secure.test"].map(String::from));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .arg("check")
        .args(&args)
        .env("NO_COLOR", "1")
        .env("MXTLS_TRUST_ANCHOR", lab.dnskey_anchor())
        .output()
        .expect("the mxtls binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["dnssec_mode"], "resolver", "{json}");

    let mut explicit = args.clone();
    explicit.extend([
        "--trust-anchor".to_string(),
        lab.dnskey_anchor().display().to_string(),
    ]);
    let argv: Vec<&str> = explicit.iter().map(String::as_str).collect();
    let out = mxtls(&argv);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--trust-anchor is used only with --dnssec validate (not resolver)"),
        "{}",
        stderr(&out)
    );
}

/// The policy host's A RRset is DNSSEC-bogus: the policy cannot be fetched
/// because validating senders cannot resolve the host, which has an
/// address; the finding says so and asks for the signatures to be fixed.
#[test]
fn a_bogus_policy_host_is_not_said_to_have_no_address() {
    for via in [Via::Validate, Via::Resolver] {
        let out = run(via, &["--json", "sts-host-bogus.test"]);
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        common::assert_valid(&json);
        let policy = &json["mta_sts"]["policy"];
        assert_eq!(policy["reason_code"], "dnssec-invalid", "{via:?}: {policy}");
        let finding = json["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["code"] == "sts-policy-fetch-error"))
            .unwrap_or_else(|| panic!("{via:?}: no sts-policy-fetch-error: {json}"));
        let message = finding["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("the A/AAAA answers for mta-sts.sts-host-bogus.test are DNSSEC-bogus")
                && !message.contains("no address"),
            "{via:?}: {message}"
        );
        assert!(
            finding["advice"]
                .as_str()
                .unwrap_or_default()
                .contains("Re-sign the zone"),
            "{via:?}: {finding}"
        );
    }
}

/// An expired certificate that also names another host: the session shows
/// the expiry, and the advice says the renewed certificate must name the
/// MX host, or renewing it alone leaves MTA-STS failing.
#[test]
fn renewing_a_certificate_that_names_another_host_is_told_to_name_the_mx() {
    let out = run(Via::Validate, &["--json", "smtp-expired-wrong-name.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let finding = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "mx-certificate-expired"))
        .unwrap_or_else(|| panic!("no mx-certificate-expired: {json}"));
    let advice = finding["advice"].as_str().unwrap_or_default();
    assert!(
        advice.contains("Renew the certificate of mx1.smtp-expired-wrong-name.test")
            && advice.contains(
                "The new certificate must also name mx1.smtp-expired-wrong-name.test in its subjectAltName: the one served now names mx1.elsewhere.test."
            ),
        "{advice}"
    );
}

/// `mx-cname` under an MTA-STS policy that lists only the alias: the
/// advice to publish the MX under the canonical name also says to list that
/// name in the policy and change the id first, or MTA-STS senders refuse it.
#[test]
fn the_mx_cname_advice_keeps_mta_sts_working() {
    let advice_of = |domain: &str| {
        let out = run(Via::Validate, &["--json", domain]);
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        json["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["code"] == "mx-cname"))
            .unwrap_or_else(|| panic!("no mx-cname: {json}"))["advice"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let advice = advice_of("mx-cname-sts.test");
    assert!(
        advice.contains("Publish the MX with the canonical name: `MX 10 mx1.secure.test.`")
            && advice.contains("add `mx: mx1.secure.test` to the policy at https://mta-sts.mx-cname-sts.test/.well-known/mta-sts.txt")
            && advice.contains("change the id of _mta-sts.mx-cname-sts.test and wait max_age (86400 s)"),
        "{advice}"
    );
    // Without MTA-STS there is nothing to add.
    let plain = advice_of("mx-cname.test");
    assert!(!plain.contains("MTA-STS"), "{plain}");
}

/// An MX alias to a DANE host: the rollover note names the TLSA owner the
/// records are at (the CNAME-expanded base domain), not the alias.
#[test]
fn the_rollover_note_of_an_mx_alias_names_the_tlsa_owner_used() {
    let out = run(Via::Validate, &["--json", "mx-cname-dane.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let f = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "dane-rollover-not-ready"))
        .unwrap_or_else(|| panic!("no dane-rollover-not-ready: {json}"));
    assert_eq!(f["subject"], "_25._tcp.mx1.dane-ee.test", "{f}");
    let message = f["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "the TLSA set at _25._tcp.mx1.dane-ee.test (used for the alias mail.mx-cname-dane.test) has one DANE-EE record"
        ),
        "{message}"
    );
}

/// Digest agility: the published 3 1 1 matches the key served but is
/// ignored beside a 3 1 2 (RFC 7671 §9). The finding names both records and
/// asks for the 3 1 2 of the key served (or the 3 1 2 removed), not for the
/// 3 1 1 that is already there.
#[test]
fn a_superseded_matching_record_is_named_with_the_stronger_one() {
    let out = run(Via::Validate, &["--json", "dane-agility-superseded.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["sessions"][0]["dane"]["verdict"], "no-match", "{json}");
    let f = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "mx-tlsa-invalid"))
        .unwrap_or_else(|| panic!("no mx-tlsa-invalid: {json}"));
    let message = f["message"].as_str().unwrap_or_default();
    let advice = f["advice"].as_str().unwrap_or_default();
    assert!(
        message.contains("the published `3 1 1 ")
            && message.contains("senders ignore it because `3 1 2 1111")
            && message.contains("RFC 7671 §9"),
        "{message}"
    );
    assert!(
        advice.starts_with("Publish `_25._tcp.mx1.dane-agility-superseded.test. IN TLSA 3 1 2 ")
            && advice.contains("or remove the `3 1 2` records"),
        "{advice}"
    );
    assert!(!advice.contains("TLSA 3 1 1"), "{advice}");
}

/// DANE fails and MTA-STS fails on its own (a DANE-TA record, a leaf sent
/// alone that no public CA signed): the MTA-STS failure has its own finding
/// with its fix, the DANE finding says MTA-STS fails too and mentions
/// sending the chain for the DANE-TA record.
#[test]
fn an_independent_mta_sts_failure_beside_a_dane_failure_has_its_own_finding() {
    let out = run(Via::Validate, &["--json", "dane-fail-sts-fail.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let find = |code: &str| {
        json["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["code"] == code))
            .unwrap_or_else(|| panic!("no {code}: {json}"))
            .clone()
    };
    let dane = find("mx-tlsa-invalid");
    let dane_message = dane["message"].as_str().unwrap_or_default();
    assert!(
        dane_message.contains("MTA-STS fails too, on its own"),
        "{dane_message}"
    );
    let dane_advice = dane["advice"].as_str().unwrap_or_default();
    assert!(
        dane_advice.contains("send that CA's certificate with the leaf (the full chain"),
        "{dane_advice}"
    );
    let sts = find("mx-certificate-not-trusted");
    assert_eq!(sts["severity"], "error", "{sts}");
    assert!(
        sts["message"].as_str().unwrap_or_default().contains(
            "MTA-STS senders will not deliver to 127.0.0.14 (mx1.dane-fail-sts-fail.test) either"
        ),
        "{sts}"
    );
    assert!(
        sts["advice"]
            .as_str()
            .unwrap_or_default()
            .contains("full chain"),
        "{sts}"
    );
}

/// MTA-STS judged on a second handshake (SNI = the MX host name, DANE's
/// session sent the alias target): the finding names that SNI and the
/// certificate judged there, with its SHA-256.
#[test]
fn an_mta_sts_failure_on_its_own_handshake_names_the_sni_and_certificate() {
    let out = run(Via::Validate, &["--json", "dane-cname-sts-fail.test"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let f = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "mx-certificate-not-trusted"))
        .unwrap_or_else(|| panic!("no mx-certificate-not-trusted: {json}"));
    let message = f["message"].as_str().unwrap_or_default();
    let sha = json["sessions"][0]["certificate"]["sha256"]
        .as_str()
        .expect("the DANE session's leaf");
    assert!(
        message.contains("on a handshake of its own with SNI mail.dane-cname-sts-fail.test")
            && message.contains("(SHA-256 ")
            && message.contains("issued by "),
        "{message}"
    );
    // The lab serves one certificate per address: the same leaf both times.
    assert!(
        message.contains(&format!("(SHA-256 {sha}), the same as in DANE's session")),
        "{message}"
    );
}
