//! Batches: `--shard` slices, interrupts that leave whole lines, the
//! progress line on a terminal. Real binary, real lab.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Via, lab, lab_args};
use serde_json::Value;

fn args(via: Via, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["check".to_string()];
    args.extend(lab_args(via));
    args.extend(["--timeout".to_string(), "3".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Catalogue domains whose scans end quickly (not the ones that wait out
/// a timeout by design).
fn quick_domains() -> Vec<String> {
    lab()
        .catalogue
        .scenarios()
        .iter()
        .map(|s| s.domain())
        .filter(|d| {
            !["hang", "slow", "forever", "endless"]
                .iter()
                .any(|w| d.contains(w))
        })
        .take(12)
        .collect()
}

fn jsonl_domains(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("a whole JSON line")["domain"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn the_shards_are_disjoint_and_cover_the_input() {
    let dir = tempfile::tempdir().expect("tmp");
    let list = dir.path().join("domains.txt");
    let domains = quick_domains();
    std::fs::write(&list, domains.join("\n")).expect("write");
    let mut seen = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = Command::new(env!("CARGO_BIN_EXE_mxtls"))
            .args(args(
                Via::Off,
                &["--jsonl", "--fail-on", "never", "--shard", &shard],
            ))
            .arg("--input")
            .arg(&list)
            .output()
            .expect("runs");
        // 0, or 3 when a slice holds a domain whose MX cannot be probed.
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        seen.extend(jsonl_domains(&out.stdout));
    }
    let mut want = domains.clone();
    want.sort();
    seen.sort();
    assert_eq!(seen, want, "every domain in exactly one shard");
}

#[test]
fn auto_shard_reads_the_kubernetes_completion_index() {
    let run = |index: &str| {
        Command::new(env!("CARGO_BIN_EXE_mxtls"))
            .args(args(
                Via::Off,
                &["--jsonl", "--fail-on", "never", "--shard", "auto/2"],
            ))
            .args([
                "secure.test",
                "insecure.test",
                "nullmx.test",
                "implicit.test",
            ])
            .env("JOB_COMPLETION_INDEX", index)
            .output()
            .expect("runs")
    };
    let (first, second) = (run("0"), run("1"));
    let mut both = jsonl_domains(&first.stdout);
    both.extend(jsonl_domains(&second.stdout));
    both.sort();
    assert_eq!(
        both,
        [
            "implicit.test",
            "insecure.test",
            "nullmx.test",
            "secure.test"
        ]
    );
    let unset = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(args(Via::Off, &["--shard", "auto/2", "secure.test"]))
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .expect("runs");
    assert_eq!(unset.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("JOB_COMPLETION_INDEX"));
}

/// Starts a batch whose last domains hang (the policy host never answers),
/// waits for its first line, sends SIGINT, and returns (exit code, stdout
/// lines, stderr).
fn interrupted(format: &str) -> (Option<i32>, Vec<String>, String) {
    let mut input: Vec<String> = quick_domains().into_iter().take(3).collect();
    input.extend([
        "sts-hang.test".to_string(),
        "sts-headers-forever.test".to_string(),
    ]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(args(
            Via::Off,
            &[format, "--policy-timeout", "60", "--concurrency", "8"],
        ))
        .args(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut lines = Vec::new();
    if format == "--jsonl" {
        // The quick domains finish; the hanging ones keep the batch going.
        let mut first = String::new();
        stdout.read_line(&mut first).expect("a first line");
        lines.push(first);
    } else {
        // --json writes nothing before the end: wait for the quick ones
        // through the lab instead of the output (no timing assumed: the
        // hanging domains outlast any scheduling delay by the policy
        // timeout).
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
    lines.extend(rest.lines().map(|l| format!("{l}\n")));
    let out = child.wait_with_output().expect("waits");
    (
        out.status.code(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sigint_mid_batch_keeps_every_written_line_whole_and_exits_130() {
    let (code, lines, stderr) = interrupted("--jsonl");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(line.ends_with('\n'), "no half line: {line:?}");
        let v: Value = serde_json::from_str(line).expect("a whole JSON object");
        assert!(v["domain"].is_string());
    }
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
    assert!(stderr.contains("whole JSON line"), "{stderr}");
}

#[test]
fn sigint_with_json_says_nothing_was_written_and_points_to_jsonl() {
    let (code, lines, stderr) = interrupted("--json");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(lines.is_empty(), "no partial document: {lines:?}");
    assert!(stderr.contains("--jsonl"), "{stderr}");
}

/// Runs `command` (a shell line) on a pseudo-terminal with util-linux
/// `script`; returns what the terminal received.
fn on_a_terminal(command: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let typescript = dir.path().join("typescript");
    let status = Command::new("script")
        .args(["-qec", command])
        .arg(&typescript)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    match status {
        Ok(_) => Some(std::fs::read_to_string(&typescript).unwrap_or_default()),
        Err(e) => {
            eprintln!("skipped: util-linux `script` is not available ({e})");
            None
        }
    }
}

fn shell_line(args: &[String], tail: &str) -> String {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_mxtls").to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    format!("{} {tail}", quoted.join(" "))
}

#[test]
fn a_batch_on_a_terminal_shows_a_progress_bar_cleared_before_other_output() {
    let dir = tempfile::tempdir().expect("tmp");
    let list = dir.path().join("domains.txt");
    let mut domains = quick_domains();
    domains.truncate(4);
    domains.push("not a domain!".into());
    std::fs::write(&list, domains.join("\n")).expect("write");
    let out = dir.path().join("out.jsonl");
    let mut a = args(Via::Off, &["--jsonl", "--fail-on", "never", "--input"]);
    a.push(list.display().to_string());
    let Some(screen) = on_a_terminal(&shell_line(&a, &format!("> '{}'", out.display()))) else {
        return;
    };
    assert!(screen.contains("/4 domains"), "done of total: {screen:?}");
    assert!(screen.contains("with errors"), "errors so far: {screen:?}");
    // Other stderr text starts a line of its own: at the start, after a
    // line end, or after the bar was erased (ESC [2K).
    for text in ["mxtls: skipping", "mxtls: 1 input(s)"] {
        let at = screen
            .find(text)
            .unwrap_or_else(|| panic!("{text} shown: {screen:?}"));
        // A bar drawn over two lines is erased line by line, then the
        // cursor goes back up to the first: text after that is at the
        // start of an erased line too.
        let mut before = &screen[..at];
        while let Some(rest) = ["\u{1b}[1A", "\u{1b}[1B", "\r"]
            .iter()
            .find_map(|m| before.strip_suffix(m))
            .filter(|rest| rest.contains("\u{1b}[2K"))
        {
            before = rest;
        }
        assert!(
            before.is_empty()
                || before.ends_with('\n')
                || before.ends_with('\r')
                || before.ends_with("\u{1b}[2K"),
            "{text} is not glued to the bar: {:?}",
            &before[before.len().saturating_sub(40)..]
        );
    }
    let written = std::fs::read(&out).expect("stdout file");
    let lines = jsonl_domains(&written);
    assert_eq!(
        lines.len(),
        5,
        "stdout holds only the results: four scans and the rejected line's object"
    );
    assert_eq!(lines.iter().filter(|d| !d.is_empty()).count(), 4);
    // Without a terminal: no bar at all.
    let plain = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(&a)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(!stderr.contains("domains ·"), "{stderr}");
}

#[test]
fn a_single_slow_domain_on_a_terminal_shows_its_current_step() {
    // smtp-slow.test's MX greets after 3 s, past the 1 s before the step
    // is shown.
    let a = args(Via::Off, &["--fail-on", "never", "smtp-slow.test"]);
    let Some(screen) = on_a_terminal(&shell_line(&a, "> /dev/null")) else {
        return;
    };
    assert!(
        screen.contains("smtp-slow.test: STARTTLS to mx1.smtp-slow.test"),
        "the step is shown: {screen:?}"
    );
}

#[test]
fn a_session_made_for_one_domain_is_shared_with_the_next_and_says_so() {
    // Two domains with the same MX (pre-flight --mx): one STARTTLS session
    // per address and SNI per run, so the second domain's is shared.
    let out = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(args(
            Via::Off,
            &[
                "--jsonl",
                "--fail-on",
                "never",
                "--concurrency",
                "1",
                "--mx",
                "mx1.secure.test",
            ],
        ))
        .args(["secure.test", "insecure.test"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut shared: Vec<(String, bool)> = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("JSON line");
        for s in v["sessions"].as_array().expect("sessions") {
            shared.push((
                v["domain"].as_str().unwrap_or_default().to_string(),
                s["shared"].as_bool().expect("shared is a boolean"),
            ));
        }
    }
    let made: Vec<_> = shared.iter().filter(|(_, s)| !s).collect();
    let reused: Vec<_> = shared.iter().filter(|(_, s)| *s).collect();
    assert_eq!(made.len(), reused.len(), "{shared:?}");
    assert!(!made.is_empty());
    assert!(
        made.iter().all(|(d, _)| d == &made[0].0),
        "one domain made them: {shared:?}"
    );
    assert!(
        reused.iter().all(|(d, _)| d != &made[0].0),
        "the other reused them: {shared:?}"
    );
}

#[test]
fn per_ip_bounds_the_connections_one_server_sees_at_once() {
    // Twelve domains at once, most of them with MX hosts at 127.0.0.1
    // under different names (so no session is shared), one connection at
    // a time per address. The lab counts connections from accept to the
    // end of its task, which may outlive the client's close by a moment:
    // one closing while the next opens is allowed for, no more.
    let domains = quick_domains();
    let out = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(args(
            Via::Off,
            &[
                "--jsonl",
                "--fail-on",
                "never",
                "--concurrency",
                "12",
                "--per-ip",
                "1",
            ],
        ))
        .args(&domains)
        .output()
        .expect("runs");
    assert_eq!(jsonl_domains(&out.stdout).len(), domains.len());
    let smtp = lab().servers.smtp.as_ref().expect("SMTP servers");
    let local = smtp
        .peak_connections("127.0.0.1".parse().expect("ip"))
        .expect("a server on 127.0.0.1");
    assert!(local >= 1, "the batch reached 127.0.0.1");
    assert!(
        local <= 2,
        "at most one open at a time (plus one closing): {local}"
    );
}

#[test]
fn per_ip_zero_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .args(args(Via::Off, &["--per-ip", "0", "secure.test"]))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--per-ip"));
}

#[test]
fn a_domain_given_again_is_scanned_once_and_a_line_that_is_not_a_domain_gets_its_own_object() {
    let dir = tempfile::tempdir().expect("tmp");
    let list = dir.path().join("domains.txt");
    // The same name three ways (case, trailing dot), and a line that is
    // not a domain name between them.
    std::fs::write(
        &list,
        "secure.test\n# a comment\nSECURE.test.\nhttps://not a domain/\nsecure.test # again\n",
    )
    .expect("write");
    for format in ["--jsonl", "--json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mxtls"))
            .args(args(Via::Off, &[format, "--fail-on", "never"]))
            .arg("--input")
            .arg(&list)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "a bad input is not passed over: {stderr}"
        );
        assert!(
            stderr.contains("2 input(s) named a domain already given"),
            "{stderr}"
        );
        let items: Vec<Value> = if format == "--jsonl" {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).expect("a whole JSON line"))
                .collect()
        } else {
            let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
            doc.as_array()
                .expect("an array: a scan and a rejected input")
                .clone()
        };
        for item in &items {
            common::assert_valid(item);
        }
        let scans: Vec<&Value> = items.iter().filter(|i| i["schema"] == "mxtls/1").collect();
        assert_eq!(
            scans.len(),
            1,
            "{format}: secure.test scanned once: {items:#?}"
        );
        assert_eq!(scans[0]["domain"], "secure.test");
        let rejected: Vec<&Value> = items
            .iter()
            .filter(|i| i["schema"] == "mxtls-input-error/1")
            .collect();
        assert_eq!(rejected.len(), 1, "{format}: {items:#?}");
        assert_eq!(rejected[0]["line"], 4);
        assert_eq!(rejected[0]["input"], "https://not a domain/");
        assert!(
            rejected[0]["error"]
                .as_str()
                .is_some_and(|e| e.contains("is not a domain name")),
            "{:#}",
            rejected[0]
        );
    }
}
