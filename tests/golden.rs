//! The human summary of a few lab scenarios, compared with the files in
//! `testdata/golden/` after masking what changes from run to run (the
//! lab's random ports, days to a certificate's expiry).
//!
//! To accept a change of the output, regenerate the files and read the diff:
//!
//!     MXTLS_UPDATE_GOLDEN=1 cargo nextest run --all-features --test golden

mod common;

use std::path::PathBuf;

use common::{Via, lab, lab_args};

/// The scenarios shown: a DANE domain, an MTA-STS domain, a DANE failure
/// (its fix too long for the table: a footnote), a server without
/// STARTTLS, a bogus MX lookup, a broken DS (consequences under their
/// cause), one uncovered MX of two.
const SCENARIOS: [&str; 7] = [
    "secure.test",
    "sts-good.test",
    "dane-mismatch.test",
    "smtp-no-starttls.test",
    "bogus-rrsig.test",
    "bogus-ds.test",
    "sts-uncovered-one-of-two.test",
];

/// The widths the summary is laid out for (`COLUMNS`): a classic
/// terminal, and a wide one.
const WIDTHS: [usize; 2] = [80, 120];

fn golden_path(domain: &str, width: usize) -> PathBuf {
    let name = if width == 80 {
        format!("{domain}.txt")
    } else {
        format!("{domain}.{width}.txt")
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/golden")
        .join(name)
}

/// `mxtls check` as a user on a UTF-8 terminal `width` columns wide
/// would run it, with stdout a pipe (so no colour).
fn summary_at(args: &[String], width: usize) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .arg("check")
        .args(args)
        .env("COLUMNS", width.to_string())
        .env("LC_ALL", "C.UTF-8")
        .env_remove("NO_COLOR")
        .output()
        .expect("the mxtls binary runs")
}

/// Masks what changes between runs, keeping every character count so that
/// the table borders stay aligned: a run of digits that is one of `ports`
/// becomes `P`s, and the number of `<n> day(s)` becomes `N`s.
fn normalise(text: &str, ports: &[u16]) -> String {
    let masked = mask_digests(text);
    let text = masked.as_str();
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let text = mask_digests(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let len = from
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(from.len());
        let (digits, after) = from.split_at(len);
        // A digit run glued to a letter or digit before it (`TLSv1`,
        // `x509`) is part of a word, not a number of its own.
        let in_word = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let mask = if in_word {
            None
        } else if after.starts_with(" day")
            || before.ends_with("expires in ")
            || before.ends_with("expired ")
        {
            Some('N')
        } else if ports.iter().any(|p| p == digits) {
            Some('P')
        } else {
            None
        };
        match mask {
            Some(m) => out.extend(std::iter::repeat_n(m, digits.len())),
            None => out.push_str(digits),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The lab makes its keys at start-up: a SHA-256 digest (64 hex digits,
/// in a TLSA record to publish) becomes `H`s.
fn mask_digests(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let starts_word = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if run == 64 && starts_word {
            out.extend(std::iter::repeat_n('H', 64));
            i += 64;
        } else {
            out.extend(&chars[i..i + run.max(1)]);
            i += run.max(1);
        }
    }
    out
}

#[test]
fn normalise_masks_ports_and_day_counts_only() {
    for (input, want) in [
        ("expires in 364 days", "expires in NNN days"),
        ("expires in 1 day\n", "expires in N day\n"),
        ("expired 12 days ago", "expired NN days ago"),
        ("max_age 604800 s (7 days)", "max_age 604800 s (N days)"),
        ("127.0.0.1:41234 answered", "127.0.0.1:PPPPP answered"),
        ("port 412345", "port 412345"),
        ("TLSv1.3, id=41234", "TLSv1.3, id=PPPPP"),
        ("v41234", "v41234"),
        ("no digits", "no digits"),
        (
            "TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`",
            "TLSA 3 1 1 HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH`",
        ),
    ] {
        assert_eq!(normalise(input, &[41234]), want, "{input:?}");
    }
}

/// The first line where `want` and `got` differ, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b {
            return format!(
                "line {}:\n  golden: {}\n  now:    {}",
                i + 1,
                a.map_or("<none>".to_string(), |s| format!("{s:?}")),
                b.map_or("<none>".to_string(), |s| format!("{s:?}")),
            );
        }
    }
    "the texts differ only in line endings".to_string()
}

#[test]
fn human_summaries_match_their_golden_files() {
    let lab = lab();
    let update = std::env::var_os("MXTLS_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut ports = vec![
        lab.servers.https_addr().port(),
        lab.dns().authoritative().port(),
        lab.dns().validating_resolver().port(),
    ];
    ports.extend(lab.servers.smtp_port());
    let mut failures = Vec::new();
    for domain in SCENARIOS {
        for width in WIDTHS {
            check_one(domain, width, &ports, update, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn check_one(domain: &str, width: usize, ports: &[u16], update: bool, failures: &mut Vec<String>) {
    let mut args = lab_args(Via::Validate);
    args.extend(["--timeout".to_string(), "6".to_string(), domain.to_string()]);
    let out = summary_at(&args, width);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let got = normalise(&stdout, ports);
    if got.trim().is_empty() {
        failures.push(format!(
            "{domain}: no output; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return;
    }
    for (i, line) in got.lines().enumerate() {
        let columns = line.chars().count();
        // A footnote (`[n] record`) is the one line allowed to be longer:
        // it holds what must not be cut, whole.
        if columns > width && !line.starts_with('[') {
            failures.push(format!(
                "{domain}: line {} is {columns} columns wide (at most {width}): {line:?}",
                i + 1
            ));
        }
    }
    if got.contains('\x1b') {
        failures.push(format!(
            "{domain}: escape sequences in output that is not a terminal"
        ));
    }
    let path = golden_path(domain, width);
    if update {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create testdata/golden");
        }
        std::fs::write(&path, &got).expect("write a golden file");
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(want) if want == got => {}
        Ok(want) => failures.push(format!(
            "{domain} at {width} columns: the summary differs from {} at {}\n--- now:\n{got}",
            path.display(),
            first_difference(&want, &got)
        )),
        Err(e) => failures.push(format!(
            "{domain}: cannot read {} ({e}); run with MXTLS_UPDATE_GOLDEN=1 to create it\n--- now:\n{got}",
            path.display()
        )),
    }
}
