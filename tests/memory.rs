//! Memory that does not grow with the list: a long batch over the lab's
//! bulk set, its resident memory read from /proc while it runs. Real
//! binary, real lab; the bound is generous (no timing, no exact numbers).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod common;
const DOMAINS: usize = 3000;
/// Lines written when the "early" peak is taken: past the warm-up (every
/// MX host's session made, the first caches filled).
const EARLY: usize = 500;

/// The peak resident set of a live process, in KiB (`VmHWM`).
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn the_peak_memory_of_a_long_batch_does_not_grow_with_the_list() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc on this platform");
        return;
    }
    let running = common::bulk_lab(DOMAINS);
    let lab = &running.lab;
    let list = running.dir.path().join("domains.txt");
    let bulk = lab.bulk.as_ref().expect("the bulk set");
    std::fs::write(&list, bulk.domains().collect::<Vec<_>>().join("\n")).expect("write");
    let ca = running.dir.path().join("ca.pem");

    let mut child = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(["check", "--dnssec", "off", "--resolver"])
        .arg(lab.dns.authoritative().to_string())
        .arg("--ca-file")
        .arg(&ca)
        .args(["--ca-file-only", "--allow-private", "--https-port"])
        .arg(lab.https_addr().port().to_string())
        .arg("--smtp-port")
        .arg(lab.smtp_port().expect("SMTP servers").to_string())
        .args([
            "--jsonl",
            "--fail-on",
            "never",
            "--concurrency",
            "64",
            "--input",
        ])
        .arg(&list)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mxtls runs");
    let pid = child.id();
    let lines = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&lines);
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("output is text");
            assert!(line.starts_with('{') && line.ends_with('}'), "a whole line");
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });

    let mut early = None;
    let mut last = 0;
    // Bounded: at most 5 minutes of 20 ms polls.
    for _ in 0..15_000 {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if let Some(kib) = peak_kib(pid) {
            last = kib;
            if early.is_none() && lines.load(Ordering::Relaxed) >= EARLY {
                early = Some(kib);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait().expect("wait").is_none() {
        let _ = child.kill();
        panic!("the batch did not end within 5 minutes");
    }
    reader.join().expect("the reader ends");
    assert_eq!(
        lines.load(Ordering::Relaxed),
        DOMAINS,
        "one line per domain"
    );
    let early = early.expect("the early peak was read");
    eprintln!("peak RSS after {EARLY} domains: {early} KiB; after {DOMAINS}: {last} KiB");
    // Kept per domain after it was written, 8 KB would add 20 MB here.
    assert!(
        last <= early + early / 4 + 4 * 1024,
        "memory grew with the list: {early} KiB after {EARLY} domains, {last} KiB after {DOMAINS}"
    );
}
