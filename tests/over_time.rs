//! Over time, end to end: the real binary against the lab's real servers.
//! Look ahead (`--warn-days`, `--at`), the history file (`--db`), what
//! changed between two stored scans, and the files the history refuses.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Via;
use serde_json::Value;

const DAY: i64 = 86_400;

/// Runs `mxtls check` through the lab with `extra` arguments before the
/// domain; returns the exit code, the JSON and stderr.
fn check(domain: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = common::lab_args(Via::Validate);
    args.extend(["--timeout", "6", "--json"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(domain.to_string());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::mxtls(&argv);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("mxtls {argv:?} printed no JSON ({e}); stderr: {stderr}"));
    common::assert_valid(&json);
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// Runs `mxtls SUBCOMMAND ARGS` (history, diff).
fn mxtls(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the mxtls binary runs")
}

fn expiry<'a>(json: &'a Value, item: &str) -> &'a Value {
    json["lookahead"]["expiries"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["item"] == item))
        .unwrap_or_else(|| panic!("no expiry for {item}: {}", json["lookahead"]))
}

fn finding<'a>(json: &'a Value, code: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == code))
        .unwrap_or_else(|| panic!("no finding {code}; have {:?}", common::codes(json)))
}

fn today_plus(days: i64) -> String {
    let now = mxtls::datetime::unix_seconds(std::time::SystemTime::now());
    mxtls::datetime::format_unix_rfc3339(now + days * DAY)[..10].to_string()
}

#[test]
fn an_mx_certificate_inside_the_window_is_a_warning_naming_it_and_when() {
    let (exit, json, _) = check("smtp-expires-soon.test", &[]);
    let e = expiry(&json, "mx1.smtp-expires-soon.test 127.0.0.32");
    assert_eq!(e["kind"], "certificate");
    let days = e["days_left"].as_i64().expect("days_left");
    assert!(
        (3..=5).contains(&days),
        "the lab's leaf ends in 5 days: {e}"
    );
    let f = finding(&json, "mx-certificate-expires-soon");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["subject"], "mx1.smtp-expires-soon.test 127.0.0.32");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .contains(e["expires"].as_str().unwrap_or("?")),
        "the message says when: {f}"
    );
    assert_eq!(
        exit, 0,
        "a warning does not fail the default --fail-on error"
    );
    assert_eq!(json["lookahead"]["warn_days"], 14);

    // A shorter window leaves it out; the expiry is still in the JSON.
    let (_, json, _) = check("smtp-expires-soon.test", &["--warn-days", "2"]);
    assert!(
        !common::codes(&json).contains(&"mx-certificate-expires-soon".to_string()),
        "5 days is outside a 2-day window"
    );
    expiry(&json, "mx1.smtp-expires-soon.test 127.0.0.32");
}

#[test]
fn a_policy_host_certificate_inside_the_window_is_a_warning() {
    let (_, json, _) = check("history-sts-cert-soon.test", &[]);
    let e = expiry(
        &json,
        "https://mta-sts.history-sts-cert-soon.test/.well-known/mta-sts.txt",
    );
    assert!(e["days_left"].as_i64().is_some_and(|d| d <= 5), "{e}");
    assert_eq!(
        finding(&json, "sts-certificate-expires-soon")["severity"],
        "warning"
    );
}

#[test]
fn an_rrsig_inside_the_window_is_a_warning_for_every_signed_rrset() {
    let (exit, json, _) = check("history-rrsig-soon.test", &[]);
    for item in [
        "history-rrsig-soon.test MX",
        "mx1.history-rrsig-soon.test A",
        "_25._tcp.mx1.history-rrsig-soon.test TLSA",
        "history-rrsig-soon.test DNSKEY",
    ] {
        let e = expiry(&json, item);
        assert_eq!(e["kind"], "signature", "{item}");
        assert!(
            e["days_left"]
                .as_i64()
                .is_some_and(|d| (3..=5).contains(&d)),
            "{item}: the zone is signed for 5 days: {e}"
        );
    }
    let f = finding(&json, "dnssec-signature-expires-soon");
    assert_eq!(f["severity"], "warning");
    let message = f["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("history-rrsig-soon.test MX") && message.contains("DNSKEY"),
        "one finding names every RRset of the zone: {message}"
    );
    assert!(message.contains("re-signing looks stopped"), "{message}");
    assert_eq!(exit, 0);

    // A zone signed for the usual 30 days is quiet, and its dates are there.
    let (_, json, _) = check("secure.test", &[]);
    assert!(!common::codes(&json).contains(&"dnssec-signature-expires-soon".to_string()));
    let mx = expiry(&json, "secure.test MX");
    assert!(mx["days_left"].as_i64().is_some_and(|d| d >= 28), "{mx}");

    // Re-signed as BIND's default policy does (14 days, renewed with 5
    // left): the same 5 days left are routine, not a warning.
    let (exit, json, _) = check("rrsig-routine.test", &[]);
    assert!(
        !common::codes(&json).contains(&"dnssec-signature-expires-soon".to_string()),
        "{}",
        json["findings"]
    );
    let mx = expiry(&json, "rrsig-routine.test MX");
    assert!(
        mx["days_left"]
            .as_i64()
            .is_some_and(|d| (3..=5).contains(&d)),
        "{mx}"
    );
    assert_eq!(exit, 0);
}

#[test]
fn at_pushes_a_certificate_past_its_end_and_says_so() {
    let (exit, json, _) = check("smtp-expires-soon.test", &[]);
    assert_eq!(json["sessions"][0]["result"], "success");
    assert!(json["lookahead"].get("at").is_none(), "no --at, no at");
    assert_eq!(exit, 0);

    let day = today_plus(10);
    let (exit, json, _) = check("smtp-expires-soon.test", &["--at", &day]);
    assert_eq!(json["lookahead"]["at"], day.as_str());
    assert_eq!(
        json["lookahead"]["judged_at"],
        format!("{day}T00:00:00Z").as_str()
    );
    assert_eq!(
        json["sessions"][0]["result"], "certificate-expired",
        "the MX leaf ends in 5 days: judged 10 days ahead it has expired"
    );
    assert_eq!(
        finding(&json, "mx-certificate-expired")["severity"],
        "error"
    );
    assert_eq!(exit, 1);

    // The policy host's certificate too, through the real HTTPS fetch.
    let (_, json, _) = check("history-sts-cert-soon.test", &["--at", &day]);
    assert_eq!(json["mta_sts"]["policy"]["status"], "webpki-invalid");
    assert_eq!(json["mta_sts"]["policy"]["reason_code"], "expired");

    // Signatures: judged past their end, an error before the day comes.
    let (_, json, _) = check("history-rrsig-soon.test", &["--at", &day]);
    assert_eq!(
        finding(&json, "dnssec-signature-expired")["severity"],
        "error"
    );

    // The summary says the date too.
    let mut args = common::lab_args(Via::Validate);
    args.extend([
        "--at".to_string(),
        day.clone(),
        "smtp-expires-soon.test".to_string(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::mxtls(&argv);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("Judged as of {day}")),
        "the summary says the day judged: {text}"
    );

    let out = common::mxtls(&["--at", "24.12.2026", "secure.test"]);
    assert_eq!(out.status.code(), Some(2), "a bad --at is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));

    // The history holds today's judgement only.
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("h.db");
    let out = common::mxtls(&[
        "--db",
        db.to_str().expect("utf-8"),
        "--at",
        &day,
        "secure.test",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without --db"));
    assert!(!db.exists(), "nothing was written");
}

#[test]
fn a_policy_edited_without_a_new_id_is_an_error_at_the_next_stored_scan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("history.db");
    let db_arg = db.to_str().expect("utf-8 path");
    let domain = "history-policy-edit.test";

    let (exit, first, _) = check(domain, &["--db", db_arg]);
    assert_eq!(exit, 0, "{:?}", common::codes(&first));
    assert!(
        first.get("compared_with").is_none(),
        "nothing stored before"
    );
    assert_eq!(first["mta_sts"]["policy"]["mode"], "enforce");

    assert!(
        common::lab().servers.change_policy(domain),
        "the scenario has a changed_body"
    );
    let (exit, second, _) = check(domain, &["--db", db_arg]);
    assert_eq!(second["mta_sts"]["policy"]["mode"], "testing");
    assert_eq!(
        second["mta_sts"]["record"]["id"], first["mta_sts"]["record"]["id"],
        "the record did not change"
    );
    let f = finding(&second, "sts-policy-changed-same-id");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["subject"], "_mta-sts.history-policy-edit.test");
    assert!(
        f["advice"].as_str().unwrap_or_default().contains("new id"),
        "{f}"
    );
    for code in ["sts-mode-changed", "sts-max-age-changed"] {
        assert_eq!(finding(&second, code)["severity"], "info", "{code}");
    }
    assert!(
        second["compared_with"]["changes"]
            .as_u64()
            .is_some_and(|n| n >= 3)
    );
    assert_eq!(exit, 1, "the error fails the run");

    // `mxtls diff`: the two stored scans, a table and JSON.
    let out = mxtls(&["diff", domain, "--db", db_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("sts-policy-changed-same-id"), "{text}");
    assert!(
        text.contains("enforce") && text.contains("testing"),
        "{text}"
    );
    let out = mxtls(&["diff", domain, "--db", db_arg, "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
    assert_eq!(json["schema"], "mxtls-diff/1");
    let codes: Vec<&str> = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(codes[0], "sts-policy-changed-same-id", "{codes:?}");
    assert_eq!(json["changes"][0]["before"], "id=20261130T000000");

    // `mxtls history`: one line per scan, newest first.
    let out = mxtls(&["history", domain, "--db", db_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|t| t.ends_with('Z'))
        })
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows[0].contains("errors") && rows[1].contains("passed"),
        "{text}"
    );
    let out = mxtls(&["history", domain, "--db", db_arg, "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("history JSON");
    assert_eq!(json[0]["outcome"], "errors");
    assert_eq!(json[0]["errors"], 1);
    assert_eq!(json[1]["outcome"], "passed");
}

#[test]
fn a_key_change_that_breaks_the_tlsa_set_is_found_between_two_stored_scans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("history.db");
    let db_arg = db.to_str().expect("utf-8 path");
    let domain = "history-key-change.test";

    let (exit, first, _) = check(domain, &["--db", db_arg]);
    assert_eq!(first["sessions"][0]["results"]["tlsa"], "success");
    assert_eq!(exit, 0);

    let ip = "127.0.0.60".parse().expect("ip");
    assert!(
        common::lab().servers.change_key(ip),
        "the server has a next key"
    );
    let (exit, second, _) = check(domain, &["--db", db_arg]);
    assert_ne!(
        second["sessions"][0]["certificate"]["spki_sha256"],
        first["sessions"][0]["certificate"]["spki_sha256"],
        "the server shows a new key"
    );
    assert_ne!(second["sessions"][0]["results"]["tlsa"], "success");
    let f = finding(&second, "dane-key-change-breaks-tlsa");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["subject"], "mx1.history-key-change.test 127.0.0.60");
    let spki = second["sessions"][0]["certificate"]["spki_sha256"]
        .as_str()
        .expect("spki");
    assert!(
        f["advice"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("3 1 1 {spki}")),
        "the advice gives the record to publish: {f}"
    );
    assert_eq!(
        finding(&second, "session-new-failure")["severity"],
        "warning"
    );
    assert_eq!(exit, 1);
}

#[test]
fn a_new_key_matched_only_by_a_record_published_since_the_last_scan_is_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Two monitors of one domain: one scans before the next key's TLSA
    // record is published, the other after; both scan after the key change.
    let early = dir.path().join("early.db");
    let late = dir.path().join("late.db");
    let (early, late) = (
        early.to_str().expect("utf-8"),
        late.to_str().expect("utf-8"),
    );
    let domain = "history-tlsa-rollover.test";
    let lab = common::lab();

    let (_, before, _) = check(domain, &["--db", early]);
    assert_eq!(
        before["mx"][0]["tlsa"]["records"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(common::codes(&before).contains(&"dane-rollover-not-ready".to_string()));

    assert!(
        lab.servers.dns.change_zone(domain),
        "the scenario has a changed_zone"
    );
    let (_, published, _) = check(domain, &["--db", late]);
    assert_eq!(
        published["mx"][0]["tlsa"]["records"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "the next key's record is published"
    );
    assert!(
        !common::codes(&published).contains(&"dane-rollover-not-ready".to_string()),
        "two DANE-EE records allow the key change"
    );

    assert!(lab.servers.change_key("127.0.0.61".parse().expect("ip")));
    let (_, after_early, _) = check(domain, &["--db", early]);
    let (exit, after_late, _) = check(domain, &["--db", late]);
    for json in [&after_early, &after_late] {
        assert_eq!(
            json["sessions"][0]["results"]["tlsa"], "success",
            "the new record matches"
        );
    }
    let f = finding(&after_early, "dane-key-change-new-record-only");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["subject"], "mx1.history-tlsa-rollover.test 127.0.0.61");
    let codes = common::codes(&after_late);
    assert!(
        !codes.iter().any(|c| c.starts_with("dane-key-change")),
        "a record published a scan before the switch is a clean rollover: {codes:?}"
    );
    assert_eq!(exit, 0);
}

#[test]
fn concurrent_runs_share_one_history_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("history.db");
    let db_arg = db.to_str().expect("utf-8 path").to_string();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let db_arg = db_arg.clone();
            std::thread::spawn(move || check("secure.test", &["--db", &db_arg]).0)
        })
        .collect();
    for r in runs {
        assert_eq!(r.join().expect("thread"), 0);
    }
    let out = mxtls(&["history", "secure.test", "--db", &db_arg, "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("history JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(3), "every run stored");
}

/// `check --db` refuses the file; so do `history` and `diff` when
/// `reads_too` (a read-only file can still be read).
fn refused(db: &Path, want: &str, reads_too: bool) {
    let db_arg = db.to_str().expect("utf-8 path");
    let mut args = common::lab_args(Via::Validate);
    args.extend([
        "--db".to_string(),
        db_arg.to_string(),
        "secure.test".to_string(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::mxtls(&argv);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{db:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing scanned: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains(want), "{db:?}: want {want:?} in {stderr}");
    assert!(
        stderr.contains(db_arg),
        "the message names the file: {stderr}"
    );
    for sub in ["history", "diff"] {
        let out = mxtls(&[sub, "secure.test", "--db", db_arg]);
        if reads_too {
            assert_eq!(out.status.code(), Some(2), "{sub} on {db:?}");
        } else if sub == "history" {
            assert_eq!(out.status.code(), Some(0), "{sub} reads {db:?}");
        }
    }
}

#[test]
fn a_corrupt_database_stops_the_run_before_scanning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        "this is a shopping list, not a database\n".repeat(200),
    )
    .expect("write");
    refused(&garbage, "corrupt", true);
    let before = std::fs::read(&garbage).expect("read");
    assert!(
        before.starts_with(b"this is a shopping list"),
        "the file is left as it was"
    );
}

#[test]
fn a_database_of_a_newer_schema_stops_the_run_before_scanning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("newer.db");
    let (exit, _, _) = check("secure.test", &["--db", db.to_str().expect("utf-8")]);
    assert_eq!(exit, 0);
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute(
        "INSERT INTO mxtls_schema (version, applied_at) VALUES (2, '2099-01-01T00:00:00Z')",
        [],
    )
    .expect("bump the version");
    drop(conn);
    refused(&db, "newer", true);
}

#[test]
fn a_locked_database_stops_the_run_before_scanning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("locked.db");
    let (exit, _, _) = check("secure.test", &["--db", db.to_str().expect("utf-8")]);
    assert_eq!(exit, 0);
    // Another program holds the write lock for the whole run.
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let mut args = common::lab_args(Via::Validate);
    args.extend([
        "--db".to_string(),
        db.display().to_string(),
        "secure.test".to_string(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::mxtls(&argv);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("locked"), "{stderr}");
    assert!(out.stdout.is_empty());
    conn.execute_batch("ROLLBACK").expect("unlock");
}

#[test]
fn a_read_only_database_stops_the_run_before_scanning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("read-only.db");
    let (exit, _, _) = check("secure.test", &["--db", db.to_str().expect("utf-8")]);
    assert_eq!(exit, 0);
    let mut perms = std::fs::metadata(&db).expect("metadata").permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&db, perms).expect("chmod");
    // Root writes through file modes: make the file immutable instead.
    let writable = std::fs::OpenOptions::new().append(true).open(&db).is_ok();
    let immutable = writable
        && Command::new("chattr")
            .arg("+i")
            .arg(&db)
            .status()
            .is_ok_and(|s| s.success());
    if writable && !immutable {
        eprintln!(
            "skipped: running as root where chattr +i does not work, nothing makes {db:?} read-only"
        );
        return;
    }
    let outcome = std::panic::catch_unwind(|| refused(&db, "read-only", false));
    if immutable {
        let _ = Command::new("chattr").arg("-i").arg(&db).status();
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn the_second_certificate_of_a_dual_key_server_is_looked_ahead_too() {
    // The session gets the ECDSA chain; senders limited to RSA get the
    // other one, which expires on its own date.
    let (_, json, _) = check("dual-cert-both-keys.test", &[]);
    let expiries = json["lookahead"]["expiries"]
        .as_array()
        .expect("lookahead.expiries");
    let items: Vec<&str> = expiries
        .iter()
        .filter(|e| e["kind"] == "certificate")
        .filter_map(|e| e["item"].as_str())
        .collect();
    let main = "mx1.dual-cert-both-keys.test 127.0.0.50";
    assert!(items.contains(&main), "the session's chain: {items:?}");
    let second: Vec<&&str> = items
        .iter()
        .filter(|i| i.starts_with(main) && i.ends_with(" certificate)"))
        .collect();
    assert_eq!(
        second.len(),
        1,
        "one more chain, the key type the session did not get: {items:?}"
    );
}
