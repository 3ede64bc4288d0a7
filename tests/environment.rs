//! The scanner's own environment is never blamed on the domain: a resolver
//! that does not validate, a trust anchor for another root, a resolver that
//! answers nothing stop the run before any domain (exit 2, the cause and
//! the fix on stderr, nothing on stdout); a host that cannot reach an
//! address family or port 25 is told to the operator.

mod common;

use std::net::UdpSocket;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{Via, lab, lab_args, mxtls};
use serde_json::Value;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The lab arguments of `via` with `--resolver` replaced by `resolver`.
fn args_with_resolver(via: Via, resolver: &str, extra: &[&str]) -> Vec<String> {
    let mut args = lab_args(via);
    let at = args
        .iter()
        .position(|a| a == "--resolver")
        .expect("lab arguments name a resolver");
    args[at + 1] = resolver.to_string();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(args: &[String]) -> Output {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    mxtls(&argv)
}

/// Exit 2, `needles` on stderr, and no report on stdout.
fn assert_stopped(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
    assert!(
        out.stdout.is_empty(),
        "no domain report: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn resolver_mode_behind_a_resolver_that_does_not_validate_stops_before_scanning() {
    let forwarder = lab().dns().forwarding_resolver().to_string();
    let out = run(&args_with_resolver(
        Via::Resolver,
        &forwarder,
        &["--timeout", "3", "--json", "secure.test"],
    ));
    assert_stopped(
        &out,
        &[
            &format!("the resolver {forwarder} does not validate DNSSEC"),
            "without the AD bit",
            "every signed domain would look unsigned",
            "use a validating resolver",
            "--dnssec validate",
        ],
    );
}

#[test]
fn the_same_forwarder_is_fine_for_local_validation_and_a_validating_resolver_for_resolver_mode() {
    // The forwarder passes signatures on, so mxtls can validate behind it.
    let forwarder = lab().dns().forwarding_resolver().to_string();
    let out = run(&args_with_resolver(
        Via::Validate,
        &forwarder,
        &["--timeout", "3", "--json", "secure.test"],
    ));
    let json: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(json["mx_lookup"]["dnssec"], "secure", "{}", stderr(&out));
    // The lab's validating resolver passes the AD probe.
    let (_, json) = common::scan_json(Via::Resolver, "secure.test");
    assert_eq!(json["mx_lookup"]["dnssec"], "secure");
}

/// A root trust anchor file holding the DNSKEY of a fresh key that signs
/// nothing.
fn unrelated_anchor(dir: &std::path::Path) -> std::path::PathBuf {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("a P-256 key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("the key loads");
    // RFC 6605 §4: the DNSKEY holds X | Y, without the SEC1 0x04 prefix.
    let public = &pair.public_key().as_ref()[1..];
    let path = dir.join("unrelated.key");
    std::fs::write(
        &path,
        format!(
            ". 3600 IN DNSKEY 257 3 13 {}\n",
            data_encoding::BASE64.encode(public)
        ),
    )
    .expect("write the anchor");
    path
}

#[test]
fn a_trust_anchor_that_does_not_validate_the_root_stops_before_scanning() {
    let dir = tempfile::tempdir().expect("tmp");
    let anchor = unrelated_anchor(dir.path());
    let mut args = lab_args(Via::Validate);
    args[3] = anchor.display().to_string();
    args.extend(["--timeout", "3", "secure.test"].map(String::from));
    let auth = lab().dns().authoritative().to_string();
    let out = run(&args);
    assert_stopped(
        &out,
        &[
            &format!(
                "the trust anchor in {} does not validate the root DNSKEY set served by {auth}",
                anchor.display()
            ),
            "none of the anchor's keys",
            "give the right --trust-anchor",
        ],
    );
}

#[test]
fn the_builtin_iana_anchors_against_another_root_stop_before_scanning() {
    // The lab's root is not the IANA root: forgetting --trust-anchor is
    // the scanner's mistake, not every signed domain's.
    let auth = lab().dns().authoritative().to_string();
    let out = mxtls(&["--resolver", &auth, "--timeout", "3", "secure.test"]);
    assert_stopped(
        &out,
        &[
            &format!(
                "the trust anchor built into mxtls (the IANA root KSKs, used without --trust-anchor) does not validate the root DNSKEY set served by {auth}"
            ),
            "key tag 20326",
            "give the right --trust-anchor",
        ],
    );
}

#[test]
fn a_resolver_that_never_answers_stops_every_mode_within_the_timeout() {
    // Bound, never read: queries vanish without an ICMP error.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    for mode in ["validate", "resolver", "off"] {
        let started = Instant::now();
        let out = mxtls(&[
            "--resolver",
            &addr,
            "--dnssec",
            mode,
            "--timeout",
            "0.5",
            "--json",
            "example.test",
        ]);
        assert_stopped(
            &out,
            &[
                &format!("no usable answer from the resolver {addr} at start-up"),
                "no answer",
                "--resolver IP[:PORT]",
            ],
        );
        // Two tries of --timeout, sent before any domain.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{mode}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_silent_resolver_among_working_ones_is_left_out_with_a_note() {
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    let mut args = lab_args(Via::Validate);
    // The silent server first: without the check, every query would wait
    // for it.
    args.splice(0..0, ["--resolver".to_string(), addr.clone()]);
    args.extend(["--timeout", "5", "--json", "secure.test"].map(String::from));
    let started = Instant::now();
    let out = run(&args);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "note: the resolver {addr} gave no usable answer at start-up"
        )),
        "{err}"
    );
    assert!(err.contains("left out of this run"), "{err}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(json["mx_lookup"]["dnssec"], "secure");
    // The check does not wait out the silent server's two tries of 5 s
    // once the lab's server has answered, and the scan never asks it.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A TCP port on loopback where nothing listens: every SMTP connect to
/// the lab's addresses is refused, as behind a firewall that rejects
/// outbound port 25.
fn refused_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port.to_string()
}

fn with_smtp_port(via: Via, port: &str, extra: &[&str]) -> Vec<String> {
    let mut args = lab_args(via);
    let at = args
        .iter()
        .position(|a| a == "--smtp-port")
        .expect("lab arguments name the SMTP port");
    args[at + 1] = port.to_string();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn every_smtp_connect_of_a_run_failing_is_told_to_the_operator_as_a_blocked_port() {
    let port = refused_port();
    // secure.test: 127.0.0.1 and ::1 of mx1.secure.test; insecure.test:
    // 127.0.0.2 of mx1.insecure.test: three addresses of two hosts.
    let out = run(&with_smtp_port(
        Via::Validate,
        &port,
        &["--timeout", "3", "--jsonl", "secure.test", "insecure.test"],
    ));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for needle in [
        "none of the 3 SMTP connections of this run got through (0 timed out, 3 refused)",
        "to 3 addresses of 2 MX hosts",
        &format!("outbound connections to port {port} are probably blocked from this host"),
        "say nothing about the domains",
        &format!("run mxtls from a host that may connect to port {port}"),
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
    // The reports are still there: DNS, TLSRPT and MTA-STS were audited.
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        common::assert_valid(l);
        for s in l["sessions"].as_array().expect("sessions") {
            assert_eq!(s["connect"], "refused", "{s}");
            assert!(s.get("untested").is_none(), "refused is not untested: {s}");
        }
    }
}

#[test]
fn a_single_host_refusing_is_the_domains_problem_not_a_blocked_port() {
    let port = refused_port();
    // Two addresses of one host: an outage, reported on the domain.
    let out = run(&with_smtp_port(
        Via::Validate,
        &port,
        &["--timeout", "3", "--json", "secure.test"],
    ));
    let err = stderr(&out);
    assert!(!err.contains("probably blocked"), "{err}");
    assert_ne!(out.status.code(), Some(2), "{err}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        common::codes(&json)
            .iter()
            .filter(|c| *c == "mx-connect-failed")
            .count(),
        2,
        "{json:#}"
    );
}

#[test]
fn the_schema_allows_untested_only_beside_a_failed_connect() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(common::SCHEMA).expect("schema file"))
            .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let port = refused_port();
    let out = run(&with_smtp_port(
        Via::Validate,
        &port,
        &["--timeout", "3", "--json", "secure.test"],
    ));
    let mut json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json["sessions"][1]["connect"] = "unreachable".into();
    json["sessions"][1]["untested"] = "no-ipv6-route".into();
    assert!(
        validator.is_valid(&json),
        "an untested unreachable session fits"
    );
    json["sessions"][1]["untested"] = "somewhere-else".into();
    assert!(!validator.is_valid(&json), "only the known reasons");
    json["sessions"][0]["untested"] = "no-ipv4-route".into();
    json["sessions"][1]["untested"] = "no-ipv6-route".into();
    json["sessions"][0]["connect"] = "ok".into();
    json["sessions"][0]["result"] = "success".into();
    assert!(!validator.is_valid(&json), "a connected session was tested");
}
