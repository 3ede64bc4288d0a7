//! The command line as people use it, against the lab: colour on and off,
//! ASCII-only drawing, `-v` with the SMTP dialogue, options from
//! environment variables, the fix printed for a TLSA mismatch pasted back
//! as a zone-file line, root causes, and the generated completions and
//! man page.

mod common;

use std::process::{Command, Output};

use common::{Via, lab_args};
use serde_json::Value;

/// `mxtls ARGS` with the given environment on top of a clean one for
/// what the summary reads (no NO_COLOR, a UTF-8 locale, 80 columns).
fn run(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mxtls"));
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("TERM")
        .env("LC_ALL", "C.UTF-8")
        .env("COLUMNS", "80");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the mxtls binary runs")
}

fn check(extra: &[&str]) -> Vec<String> {
    let mut args = vec!["check".to_string()];
    args.extend(lab_args(Via::Validate));
    args.extend(["--timeout", "6", "--policy-timeout", "6"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_follows_the_color_option_and_no_color() {
    let always = run(&check(&["--color", "always", "dane-mismatch.test"]), &[]);
    assert!(stdout(&always).contains("\x1b["), "{}", stdout(&always));
    // An explicit --color always wins over NO_COLOR (a user's choice).
    let always_nc = run(
        &check(&["--color", "always", "dane-mismatch.test"]),
        &[("NO_COLOR", "1")],
    );
    assert!(stdout(&always_nc).contains("\x1b["));
    for (args, env) in [
        (check(&["--color", "never", "dane-mismatch.test"]), vec![]),
        // auto into a pipe: no colour.
        (check(&["dane-mismatch.test"]), vec![]),
        (check(&["dane-mismatch.test"]), vec![("TERM", "dumb")]),
        (
            check(&["dane-mismatch.test"]),
            vec![("MXTLS_COLOR", "never")],
        ),
    ] {
        let out = run(&args, &env);
        assert!(
            !stdout(&out).contains('\x1b'),
            "{args:?} {env:?}: {}",
            stdout(&out)
        );
        assert!(stdout(&out).contains("mx-tlsa-invalid"), "{}", stdout(&out));
    }
}

#[test]
fn plain_and_a_non_utf8_locale_draw_with_ascii_only() {
    for (extra, env) in [
        (vec!["--plain"], vec![]),
        (vec![], vec![("LC_ALL", "C")]),
        (vec![], vec![("LC_ALL", ""), ("LC_CTYPE", "POSIX")]),
    ] {
        let mut a = extra.clone();
        a.push("bogus-ds.test");
        let out = run(&check(&a), &env);
        let text = stdout(&out);
        assert!(text.is_ascii(), "{extra:?} {env:?}:\n{text}");
        assert!(text.contains("+---"), "ASCII borders: {text}");
        assert!(text.contains("follows from mx-dnssec-bogus"), "{text}");
    }
    let utf8 = stdout(&run(&check(&["bogus-ds.test"]), &[]));
    assert!(utf8.contains('┌'), "{utf8}");
}

#[test]
fn the_width_comes_from_columns_and_records_are_never_cut() {
    for width in [60usize, 100, 160] {
        let out = run(
            &check(&["dane-mismatch.test"]),
            &[("COLUMNS", &width.to_string())],
        );
        let text = stdout(&out);
        let widest = text
            .lines()
            .filter(|l| !l.starts_with('['))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        assert!(widest <= width, "{width}: a line of {widest}:\n{text}");
        // The TLSA record to publish is on one line, whole.
        let record = text
            .lines()
            .find(|l| l.contains("IN TLSA 3 1 1 "))
            .unwrap_or_else(|| panic!("{width}: no TLSA record:\n{text}"));
        let after = record.split("IN TLSA 3 1 1 ").nth(1).unwrap_or("");
        let hex: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{width}: the digest is cut: {record:?}"
        );
    }
}

#[test]
fn verbose_shows_the_smtp_dialogue_and_the_dns_answers() {
    let out = run(&check(&["-v", "secure.test"]), &[]);
    let text = stdout(&out);
    for want in [
        "SMTP dialogue with mx1.secure.test [127.0.0.1]",
        "S: 220 ",
        "C: EHLO ",
        "S: 250-STARTTLS",
        "C: STARTTLS",
        "TLS handshake done: TLSv1.3",
        "C: QUIT",
        "secure.test. MX [secure] 10 mx1.secure.test.",
        "_25._tcp.mx1.secure.test. TLSA [secure] 3 1 1 ",
        // A lone valid record is shown as published (strings joined).
        "_smtp._tls.secure.test. TXT [secure] \"v=TLSRPTv1; rua=mailto:tlsrpt@secure.test\"",
        "_mta-sts.secure.test. TXT [secure] no record",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    let sts = stdout(&run(&check(&["-v", "sts-good.test"]), &[]));
    assert!(
        sts.contains("_mta-sts.sts-good.test. TXT [secure] \"v=STSv1; id=20261125T120000\""),
        "{sts}"
    );
    let quiet = stdout(&run(&check(&["secure.test"]), &[]));
    assert!(!quiet.contains("C: EHLO"), "{quiet}");
}

#[test]
fn debug_logs_on_stderr_only() {
    let plain = run(&check(&["--json", "secure.test"]), &[]);
    let debug = run(&check(&["--debug", "--json", "secure.test"]), &[]);
    assert!(
        String::from_utf8_lossy(&debug.stderr).contains("DEBUG"),
        "{}",
        String::from_utf8_lossy(&debug.stderr)
    );
    let json: Value = serde_json::from_slice(&debug.stdout).expect("stdout stays JSON");
    assert_eq!(json["domain"], "secure.test");
    assert!(!String::from_utf8_lossy(&plain.stderr).contains("DEBUG"));
}

/// What a scan found, without what changes from run to run (timings).
fn stable(json: &Value) -> Value {
    serde_json::json!({
        "mx_lookup": json["mx_lookup"],
        "mx": json["mx"],
        "tlsrpt": json["tlsrpt"]["status"],
        "sts_record": json["mta_sts"]["record"],
        "sts_policy": json["mta_sts"]["policy"]["status"],
        "results": json["sessions"].as_array().map(|a| a.iter().map(|s| s["results"].clone()).collect::<Vec<_>>()),
        "findings": json["findings"],
    })
}

#[test]
fn every_lab_option_can_come_from_the_environment() {
    let flags = lab_args(Via::Validate);
    // `--name value` and `--flag` pairs into MXTLS_NAME=value / =true.
    let mut env: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        let name = flags[i]
            .trim_start_matches("--")
            .replace('-', "_")
            .to_uppercase();
        match flags.get(i + 1).filter(|v| !v.starts_with("--")) {
            Some(value) => {
                env.push((format!("MXTLS_{name}"), value.clone()));
                i += 2;
            }
            None => {
                env.push((format!("MXTLS_{name}"), "true".to_string()));
                i += 1;
            }
        }
    }
    assert!(env.iter().any(|(k, _)| k == "MXTLS_RESOLVER"), "{env:?}");
    assert!(
        env.iter().any(|(k, _)| k == "MXTLS_TRUST_ANCHOR"),
        "{env:?}"
    );
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let by_env = run(
        &["check", "--json", "--timeout", "6", "sts-good.test"].map(String::from),
        &env_refs,
    );
    let by_flags = run(&check(&["--json", "sts-good.test"]), &[]);
    assert_eq!(by_env.status.code(), by_flags.status.code());
    let a: Value = serde_json::from_slice(&by_env.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&by_env.stderr)));
    let b: Value = serde_json::from_slice(&by_flags.stdout).expect("JSON");
    assert_eq!(stable(&a), stable(&b));
    // A flag given on the command line wins over its variable.
    let out = run(
        &check(&["--json", "--fail-on", "never", "dane-mismatch.test"]),
        &[("MXTLS_FAIL_ON", "error")],
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_tlsa_record_the_advice_prints_can_be_pasted_back_as_a_zone_file_line() {
    let out = run(&check(&["--json", "dane-mismatch.test"]), &[]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let advice = json["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == "mx-tlsa-invalid"))
        .and_then(|f| f["advice"].as_str())
        .expect("a TLSA mismatch finding")
        .to_string();
    let record = advice
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no record in {advice:?}"));
    assert!(
        record.starts_with("_25._tcp.mx1.dane-mismatch.test. IN TLSA 3 1 1 "),
        "{record}"
    );
    // As pasted from a zone file, with a TTL.
    let line = record.replacen(". IN", ". 3600 IN", 1);
    let fixed = run(
        &check(&["--json", "--tlsa", &line, "dane-mismatch.test"]),
        &[],
    );
    let json: Value = serde_json::from_slice(&fixed.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&fixed.stderr)));
    assert_eq!(
        json["sessions"][0]["results"]["tlsa"], "success",
        "{json:#}"
    );
    assert_eq!(fixed.status.code(), Some(0));
    // An owner that is not _25._tcp.<host> is refused before scanning.
    let wrong = run(
        &check(&[
            "--tlsa",
            &record.replace("_25._tcp.", "_443._tcp."),
            "dane-mismatch.test",
        ]),
        &[],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("_25._tcp.<MX host>"));
}

#[test]
fn an_uncovered_mx_under_a_planned_policy_is_one_error_with_its_sessions_under_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = dir.path().join("planned.txt");
    std::fs::write(
        &policy,
        "version: STSv1\nmode: enforce\nmx: mx1.sts-good.test\nmax_age: 604800\n",
    )
    .expect("write policy");
    let policy = policy.display().to_string();
    let base = [
        "--sts-policy",
        &policy,
        "--mx",
        "mx1.sts-good.test",
        "--mx",
        "mx1.secure.test",
    ];
    let mut a = base.to_vec();
    a.extend(["--json", "sts-good.test"]);
    let json: Value = serde_json::from_slice(&run(&check(&a), &[]).stdout).expect("JSON");
    common::assert_valid(&json);
    let findings = json["findings"].as_array().expect("findings");
    let errors: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    let roots: Vec<&&Value> = errors
        .iter()
        .filter(|f| f.get("caused_by").is_none())
        .collect();
    assert_eq!(roots.len(), 1, "{findings:#?}");
    assert_eq!(roots[0]["code"], "sts-policy-mx-not-covered");
    assert!(
        errors.len() > 1,
        "the sessions' findings are kept: {findings:#?}"
    );
    for f in errors.iter().filter(|f| f.get("caused_by").is_some()) {
        assert_eq!(f["caused_by"]["code"], "sts-policy-mx-not-covered", "{f}");
        assert_eq!(f["caused_by"]["subject"], "mx1.secure.test", "{f}");
    }
    let mut a = base.to_vec();
    a.push("sts-good.test");
    let text = stdout(&run(&check(&a), &[]));
    let headline = text.lines().next().unwrap_or("");
    assert!(headline.contains(": 1 error"), "{text}");
    assert!(headline.contains("follow"), "{text}");
}

#[test]
fn the_mx_preflight_headline_does_not_claim_dane_for_every_mx_when_it_applies_to_one() {
    let out = run(
        &check(&[
            "--mx",
            "mx1.dane-ee.test",
            "--mx",
            "mx1.insecure.test",
            "dane-ee.test",
        ]),
        &[],
    );
    let text = stdout(&out);
    assert!(text.contains("dane-partial"), "{text}");
    let headline = text.split("PRE-FLIGHT").next().unwrap_or("");
    assert!(!headline.contains("every MX"), "{text}");
    assert!(
        text.contains("DANE protects delivery to mx1.dane-ee.test only"),
        "{text}"
    );
}

#[test]
fn an_invalid_character_in_mx_is_shown_visibly() {
    let out = run(&check(&["--mx", "mx\u{1b}1.example", "secure.test"]), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\x1b'), "{err:?}");
    assert!(err.starts_with("mxtls: "), "{err}");
    assert!(err.contains("character 3 is '\\u{1b}'"), "{err}");
}

#[test]
fn completions_and_man_page_are_generated_from_the_options() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions".to_string(), shell.to_string()], &[]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        assert!(text.contains("--resolver"), "{shell}: {text}");
        assert!(text.contains("--trust-anchor"), "{shell}");
    }
    // bash itself reads the script without a syntax error.
    let script = stdout(&run(&["completions".into(), "bash".into()], &[]));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mxtls.bash");
    std::fs::write(&path, &script).expect("write");
    let parsed = Command::new("bash").arg("-n").arg(&path).output();
    if let Ok(parsed) = parsed {
        assert!(
            parsed.status.success(),
            "{}",
            String::from_utf8_lossy(&parsed.stderr)
        );
    }

    let man = run(&["man".to_string()], &[]);
    assert_eq!(man.status.code(), Some(0));
    let roff = stdout(&man);
    assert!(roff.contains(".TH mxtls 1"), "{roff}");
    assert!(roff.contains("mxtls\\-check"), "the check page follows");
    assert!(
        roff.contains("MXTLS_RESOLVER"),
        "environment variables are listed"
    );
    // groff formats it without a warning, when it is installed.
    let path = dir.path().join("mxtls.1");
    std::fs::write(&path, &roff).expect("write");
    if let Ok(out) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&path)
        .output()
    {
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "groff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A server that accepts the connection and never greets timed out: the
/// headline and the finding say it did not answer, not that it turned the
/// session away; the verdict stays inconclusive (exit 3).
#[test]
fn a_silent_greeting_is_told_as_a_timeout_not_a_refusal() {
    let out = run(&check(&["smtp-silent.test"]), &[("COLUMNS", "250")]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let text = stdout(&out);
    let flat = text
        .split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("MX mx1.smtp-silent.test did not answer within the timeout"),
        "{text}"
    );
    assert!(
        flat.contains(
            "accepted the connection but did not send its greeting within the scanner's timeout"
        ),
        "{text}"
    );
    assert!(flat.contains("timed out at greeting"), "{text}");
    assert!(!flat.contains("turned the session away"), "{text}");
    assert!(!flat.contains("refused or broke off"), "{text}");
}
