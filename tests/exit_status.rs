//! Exit statuses a CI job relies on, case by case, from the real binary
//! against the lab: 0 passed, 1 findings at or above --fail-on, 2 usage or
//! rejected input, 3 scanned but could not tell; `--ignore` and the
//! severity words of `--fail-on`; a domain that does not exist.

mod common;

use common::{Via, lab_args, mxtls};
use serde_json::Value;

/// Runs `mxtls check` against the lab; `private` adds --allow-private.
fn run(private: bool, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = lab_args(Via::Validate)
        .into_iter()
        .filter(|a| private || a != "--allow-private")
        .collect();
    args.extend(["--timeout".to_string(), "3".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    mxtls(&argv)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn each_case_has_its_exit_status() {
    // (what, allow private addresses, arguments, status)
    let cases: &[(&str, bool, &[&str], i32)] = &[
        ("a good domain", true, &["secure.test"], 0),
        ("an info finding only", true, &["tlsrpt-missing.test"], 0),
        (
            "an info finding under --fail-on info",
            true,
            &["--fail-on", "info", "tlsrpt-missing.test"],
            1,
        ),
        (
            "a warning under --fail-on warning",
            true,
            &["--fail-on", "warning", "mx-one-refused.test"],
            1,
        ),
        (
            "a warning under the default",
            true,
            &["mx-one-refused.test"],
            0,
        ),
        ("an error finding", true, &["nxdomain.test"], 1),
        (
            "an error under --fail-on never",
            true,
            &["--fail-on", "never", "nxdomain.test"],
            0,
        ),
        (
            "every MX refuses the connection",
            true,
            &["mx-all-refused.test"],
            3,
        ),
        ("the MX greets with 421", true, &["smtp-421.test"], 3),
        (
            "every address refused as non-public",
            false,
            &["secure.test"],
            3,
        ),
        (
            "could not tell, even under --fail-on never",
            true,
            &["--fail-on", "never", "mx-all-refused.test"],
            3,
        ),
        (
            "an error beside a domain that could not be told",
            true,
            &["nxdomain.test", "mx-all-refused.test"],
            1,
        ),
        (
            "one MX refuses, the other delivers",
            true,
            &["mx-one-refused.test"],
            0,
        ),
        (
            "an input that is not a domain name",
            true,
            &["secure.test", "not a domain"],
            2,
        ),
        (
            "an unknown code to --ignore",
            true,
            &["--ignore", "no-such-code", "secure.test"],
            2,
        ),
        (
            "the only finding ignored",
            true,
            &[
                "--fail-on",
                "info",
                "--ignore",
                "tlsrpt-missing",
                "tlsrpt-missing.test",
            ],
            0,
        ),
        (
            "ignored on another domain only",
            true,
            &[
                "--fail-on",
                "info",
                "--ignore",
                "tlsrpt-missing@secure.test",
                "tlsrpt-missing.test",
            ],
            1,
        ),
        (
            "ignored on this domain",
            true,
            &[
                "--fail-on",
                "info",
                "--ignore",
                "tlsrpt-missing@tlsrpt-missing.test",
                "tlsrpt-missing.test",
            ],
            0,
        ),
        (
            "NXDOMAIN ignored",
            true,
            &["--ignore", "domain-nxdomain", "nxdomain.test"],
            0,
        ),
        (
            "a cause ignored, with the error that follows from it",
            true,
            &[
                "--ignore",
                "sts-policy-mx-not-covered",
                "sts-uncovered-one-of-two.test",
            ],
            0,
        ),
        (
            "a consequence ignored, its cause still counted",
            true,
            &[
                "--ignore",
                "mx-validation-failure",
                "sts-uncovered-one-of-two.test",
            ],
            1,
        ),
    ];
    let mut wrong = Vec::new();
    for (what, private, args, want) in cases {
        let out = run(*private, args);
        if out.status.code() != Some(*want) {
            wrong.push(format!(
                "{what}: {args:?} exited {:?}, expected {want}\n{}",
                out.status.code(),
                stderr(&out)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn could_not_tell_is_said_on_stderr_naming_the_domain() {
    let out = run(true, &["mx-all-refused.test"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("could not tell for 1 domain(s) (mx-all-refused.test)"),
        "{err}"
    );
}

#[test]
fn a_domain_that_does_not_exist_is_an_error_finding() {
    // Under a signed TLD (NSEC proof), under an unsigned zone, and a TLD
    // that does not exist: each is NXDOMAIN, each an error, not a skip.
    for domain in [
        "nxdomain.test",
        "no-such-host.insecure.test",
        "misspelt.tset",
    ] {
        let out = run(true, &["--json", domain]);
        assert_eq!(out.status.code(), Some(1), "{domain}: {}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        common::assert_valid(&doc);
        assert_eq!(doc["mx_lookup"]["status"], "nxdomain", "{domain}");
        let f = doc["findings"]
            .as_array()
            .and_then(|a| a.iter().find(|f| f["code"] == "domain-nxdomain"))
            .unwrap_or_else(|| panic!("{domain}: {doc:#}"));
        assert_eq!(f["severity"], "error");
    }
}

#[test]
fn an_ignored_finding_stays_in_the_json_marked_ignored() {
    let out = run(
        true,
        &[
            "--json",
            "--fail-on",
            "info",
            "--ignore",
            "TLSRPT-missing",
            "tlsrpt-missing.test",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    common::assert_valid(&doc);
    let f = doc["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == "tlsrpt-missing"))
        .expect("still reported");
    assert_eq!(f["ignored"], true);
    // Findings not ignored carry no key at all.
    let out = run(true, &["--json", "tlsrpt-missing.test"]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f.get("ignored").is_none())
    );
}

#[test]
fn ignoring_a_cause_marks_what_follows_from_it_ignored_too() {
    let out = run(
        true,
        &[
            "--json",
            "--ignore",
            "sts-policy-mx-not-covered",
            "sts-uncovered-one-of-two.test",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    common::assert_valid(&doc);
    let findings = doc["findings"].as_array().expect("findings");
    let follows = findings
        .iter()
        .find(|f| f["code"] == "mx-validation-failure")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(follows["caused_by"]["code"], "sts-policy-mx-not-covered");
    assert_eq!(follows["ignored"], true, "{follows:#}");
    // Only the cause and what follows from it.
    for f in findings {
        let linked = f["code"] == "sts-policy-mx-not-covered"
            || f["caused_by"]["code"] == "sts-policy-mx-not-covered";
        assert_eq!(f["ignored"] == true, linked, "{f:#}");
    }
}

#[test]
fn an_unknown_ignore_code_names_the_closest_one() {
    let out = run(true, &["--ignore", "tlsrpt-mising", "secure.test"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("did you mean tlsrpt-missing"), "{err}");
    assert!(out.stdout.is_empty(), "nothing scanned");
}

#[test]
fn an_unwritable_html_file_fails_before_scanning() {
    let out = run(
        true,
        &["--html", "/nonexistent-dir/report.html", "secure.test"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("cannot write --html /nonexistent-dir/report.html"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing scanned");
}
