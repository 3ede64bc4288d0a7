//! Shared work stays shared: a batch of domains behind one mail provider
//! asks the lab for that provider's MX-host records (TLSA, A, AAAA) once,
//! in every DNSSEC mode, and each domain's JSON is what it is scanned
//! alone. The real binary against the lab's bulk set (domains sharing
//! four MX hosts), counting queries at the authoritative server.

mod common;

use std::process::Command;

use hickory_proto::rr::{Name, RecordType};
use serde_json::Value;

/// Bulk domains started: the even ones (2, 4, 6) share mx1 and mx2 (DANE).
const BULK: usize = 6;

fn start() -> common::BulkLab {
    common::bulk_lab(BULK)
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Validate,
    Resolver,
    Off,
}

/// `mxtls check --jsonl` over `domains` in `mode`: one JSON object per domain.
fn scan(r: &common::BulkLab, mode: Mode, domains: &[String]) -> Vec<Value> {
    let dns = &r.lab.dns;
    let anchor = r.dir.path().join("root.key").display().to_string();
    let mut args: Vec<String> = match mode {
        Mode::Validate => vec![
            "--resolver".into(),
            dns.authoritative().to_string(),
            "--trust-anchor".into(),
            anchor,
        ],
        Mode::Resolver => vec![
            "--resolver".into(),
            dns.validating_resolver().to_string(),
            "--dnssec".into(),
            "resolver".into(),
        ],
        Mode::Off => vec![
            "--resolver".into(),
            dns.authoritative().to_string(),
            "--dnssec".into(),
            "off".into(),
        ],
    };
    args.extend([
        "--ca-file".into(),
        r.dir.path().join("ca.pem").display().to_string(),
        "--ca-file-only".into(),
        "--https-port".into(),
        r.lab.https_addr().port().to_string(),
        "--smtp-port".into(),
        r.lab.smtp_port().unwrap_or(25).to_string(),
        "--allow-private".into(),
        "--timeout".into(),
        "6".into(),
        "--concurrency".into(),
        "8".into(),
        "--jsonl".into(),
    ]);
    args.extend(domains.iter().cloned());
    let out = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .arg("check")
        .args(&args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the mxtls binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let docs: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert_eq!(
        docs.len(),
        domains.len(),
        "{args:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    docs
}

/// What must not depend on whether a domain shared its MX lookups: the MX
/// hosts as discovered, the sessions' results, the finding codes.
fn evidence(doc: &Value) -> Value {
    let sessions: Vec<Value> = doc["sessions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| serde_json::json!([s["mx"], s["ip"], s["result"], s["results"]]))
                .collect()
        })
        .unwrap_or_default();
    let codes: Vec<Value> = doc["findings"]
        .as_array()
        .map(|a| a.iter().map(|f| f["code"].clone()).collect())
        .unwrap_or_default();
    serde_json::json!({ "mx": doc["mx"], "sessions": sessions, "codes": codes })
}

#[test]
fn domains_sharing_an_mx_host_ask_for_its_tlsa_and_addresses_once_per_run() {
    let r = start();
    let bulk = r.lab.bulk.as_ref().expect("the bulk set");
    let domains: Vec<String> = [2, 4, 6].iter().map(|i| bulk.domain(*i)).collect();
    let mx1 = Name::from_ascii(format!("{}.", bulk.mx_host(1))).expect("name");
    let tlsa = Name::from_ascii(format!("_25._tcp.{}.", bulk.mx_host(1))).expect("name");
    let count = |name: &Name, rtype| r.lab.dns.queries(name, rtype);
    for mode in [Mode::Validate, Mode::Resolver, Mode::Off] {
        let before = [
            count(&tlsa, RecordType::TLSA),
            count(&mx1, RecordType::A),
            count(&mx1, RecordType::AAAA),
        ];
        let batch = scan(&r, mode, &domains);
        let after = [
            count(&tlsa, RecordType::TLSA),
            count(&mx1, RecordType::A),
            count(&mx1, RecordType::AAAA),
        ];
        let asked: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
        // DANE cannot apply without DNSSEC: no TLSA lookup at all.
        let tlsa_asked = if matches!(mode, Mode::Off) { 0 } else { 1 };
        assert_eq!(
            asked,
            [tlsa_asked, 1, 1],
            "{mode:?}: queries for {tlsa} TLSA, {mx1} A and AAAA by a batch of {} domains",
            domains.len()
        );
        if !matches!(mode, Mode::Off) {
            assert_eq!(
                batch[0]["mx"][0]["tlsa"]["status"], "found",
                "{mode:?}: {:#}",
                batch[0]["mx"]
            );
        }
        // Each domain's evidence is what it is when scanned alone.
        for doc in &batch {
            let domain = doc["domain"].as_str().expect("domain").to_string();
            let alone = scan(&r, mode, std::slice::from_ref(&domain));
            assert_eq!(
                evidence(doc),
                evidence(&alone[0]),
                "{mode:?}: {domain} in the batch and alone"
            );
        }
    }
}

/// One scan asks each name and type once: the domain's MX is not asked
/// again for its report address (`rua=mailto:tlsrpt@<domain>`), and a
/// policy host whose A lookup is NXDOMAIN gets no AAAA query (the name has
/// no records of any type, RFC 8020). A policy host that exists gets both.
#[test]
fn a_scan_asks_each_name_once_and_no_aaaa_for_a_policy_host_that_does_not_exist() {
    let r = start();
    let bulk = r.lab.bulk.as_ref().expect("the bulk set");
    let name = |text: String| Name::from_ascii(format!("{text}.")).expect("name");
    // Domain 2: DANE, no policy host; domain 3: MTA-STS, its policy host exists.
    let (dane, sts) = (bulk.domain(2), bulk.domain(3));
    let asked = [
        (name(dane.clone()), RecordType::MX),
        (name(format!("mta-sts.{dane}")), RecordType::A),
        (name(format!("mta-sts.{dane}")), RecordType::AAAA),
        (name(sts.clone()), RecordType::MX),
        (name(format!("mta-sts.{sts}")), RecordType::A),
        (name(format!("mta-sts.{sts}")), RecordType::AAAA),
    ];
    let count = || -> Vec<u64> {
        asked
            .iter()
            .map(|(n, t)| r.lab.dns.queries(n, *t))
            .collect()
    };
    // Resolver mode is left out: the lab's resolver caches between the
    // scanner and the counting server.
    for mode in [Mode::Validate, Mode::Off] {
        let before = count();
        let docs = scan(&r, mode, &[dane.clone(), sts.clone()]);
        let diff: Vec<u64> = count().iter().zip(before).map(|(a, b)| a - b).collect();
        assert_eq!(diff, [1, 1, 0, 1, 1, 1], "{mode:?}: queries for {asked:?}");
        for doc in &docs {
            let rua = &doc["tlsrpt"]["rua_domains"][0];
            assert_eq!(rua["accepts_mail"], true, "{mode:?}: {doc:#}");
        }
        let dane_doc = docs
            .iter()
            .find(|d| d["domain"] == dane.as_str())
            .expect("dane");
        let policy = &dane_doc["mta_sts"]["policy"];
        assert_eq!(
            policy["addresses"],
            serde_json::json!([]),
            "{mode:?}: {policy:#}"
        );
        let host_dnssec = if matches!(mode, Mode::Off) {
            "indeterminate"
        } else {
            "secure"
        };
        assert_eq!(policy["host_dnssec"], host_dnssec, "{mode:?}: {policy:#}");
    }
}
