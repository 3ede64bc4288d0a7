//! `mxtls explain`: the finding catalogue as text people read, one code at
//! a time or as a list, and as the reference page docs/FINDINGS.md. Pure:
//! strings in, strings out; `command` only prints them.
//!
//! Everything here is rendered from [`Code::entry`], so the page, the
//! command and the JSON cannot disagree about a code.

use crate::cli::ExplainArgs;
use crate::exit;
use crate::finding::{Code, Entry};

/// Runs `mxtls explain`: prints the entry, or the list, and returns the
/// exit status (2 for an unknown code, as for other usage errors).
pub fn command(args: &ExplainArgs) -> u8 {
    match args.code.as_deref() {
        None => {
            print!("{}", list_text());
            exit::PASSED
        }
        Some(text) => match Code::from_code(&text.trim().to_ascii_lowercase()) {
            Some(code) => {
                print!("{}", entry_text(&code.entry()));
                exit::PASSED
            }
            None => {
                eprint!("{}", unknown_text(text));
                exit::OPERATIONAL
            }
        },
    }
}

/// What `mxtls explain CODE` prints for one code: what it means, why it
/// matters, the RFC section, how to fix it and an example, each value
/// wrapped at 80 columns under its label.
pub fn entry_text(e: &Entry) -> String {
    let severity = format!(
        "{} (by default; a finding may be milder or graver in its case)",
        e.severity.as_str()
    );
    let mut out = format!("{}\n", e.code);
    for (label, value) in [
        ("severity:", severity.as_str()),
        ("means:", e.title),
        ("matters:", e.why),
        ("rule:", e.rfc),
        ("fix:", e.advice),
        ("example:", e.example),
    ] {
        out.push_str(&format!("  {label:<9} "));
        out.push_str(&wrap(value, 80 - 12, &" ".repeat(12)));
        out.push('\n');
    }
    out
}

/// Greedy word wrap at `width` characters; lines after the first start
/// with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = 0usize;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            out.push_str(indent);
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out
}

/// Every code with its default severity and title, one a line, in
/// catalogue order (grouped by what they are about).
pub fn list_text() -> String {
    let width = Code::ALL
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for code in Code::ALL {
        let e = code.entry();
        out.push_str(&format!(
            "{:<width$}  {:<7}  {}\n",
            e.code,
            e.severity.as_str(),
            e.title,
        ));
    }
    out
}

/// The known codes closest to an unknown one, best first (at most three):
/// those within a small edit distance, else those sharing its first word
/// (`sts-`, `tlsrpt-`, `mx-`).
pub fn suggestions(unknown: &str) -> Vec<&'static str> {
    let unknown = unknown.trim().to_ascii_lowercase();
    // Typos: a quarter of the length, at least 2, counts as close.
    let limit = (unknown.chars().count() / 4).max(2);
    let mut near: Vec<(usize, &'static str)> = Code::ALL
        .iter()
        .map(|c| (edit_distance(&unknown, c.as_str()), c.as_str()))
        .filter(|(d, _)| *d <= limit)
        .collect();
    near.sort();
    if near.is_empty() {
        // No typo in sight: the longest shared prefix of whole words wins.
        let best = Code::ALL
            .iter()
            .map(|c| (shared_words(&unknown, c.as_str()), c.as_str()))
            .filter(|(n, _)| *n > 0)
            .map(|(n, _)| n)
            .max()
            .unwrap_or(0);
        near = Code::ALL
            .iter()
            .filter(|c| best > 0 && shared_words(&unknown, c.as_str()) == best)
            .map(|c| (edit_distance(&unknown, c.as_str()), c.as_str()))
            .collect();
        near.sort();
    }
    near.into_iter().take(3).map(|(_, c)| c).collect()
}

/// How many leading `-`-separated words two codes share.
fn shared_words(a: &str, b: &str) -> usize {
    a.split('-')
        .zip(b.split('-'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// Levenshtein distance over characters; codes are short, so the simple
/// two-row table is enough.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// What `mxtls explain` says about an unknown code, on standard error.
pub fn unknown_text(unknown: &str) -> String {
    let shown = crate::sanitize::for_terminal(unknown, 80);
    let mut out = format!("mxtls: unknown finding code {shown}\n");
    let near = suggestions(unknown);
    if !near.is_empty() {
        out.push_str(&format!("  did you mean: {}\n", near.join(", ")));
    }
    out.push_str("  `mxtls explain --list` lists every code\n");
    out
}

/// docs/FINDINGS.md: the reference page, one section per code.
pub fn findings_markdown() -> String {
    let mut out = String::from(
        "# Finding codes\n\n\
         <!-- Generated from the catalogue in src/finding.rs; do not edit.\n     \
         Regenerate: MXTLS_UPDATE_FINDINGS=1 cargo nextest run --all-features --test explain -->\n\n\
         Every finding mxtls reports has one of these codes (the `code` of a\n\
         finding in the JSON, shown beside its severity in the summary).\n\
         `mxtls explain CODE` prints the same entry in a terminal.\n\n\
         The severity is the usual one; a finding may be milder or graver\n\
         where its case says so (e.g. a failure under an MTA-STS policy in\n\
         testing mode). `error`: a sender would fail, or would not apply the\n\
         protection published. `warning`: works today, but weaker or more\n\
         fragile than it should be. `info`: worth knowing; nothing is broken.\n\n\
         | code | severity | about |\n|---|---|---|\n",
    );
    for code in Code::ALL {
        let e = code.entry();
        out.push_str(&format!(
            "| [`{c}`](#{c}) | {s} | {t} |\n",
            c = e.code,
            s = e.severity.as_str(),
            t = e.title.replace('|', "\\|"),
        ));
    }
    for code in Code::ALL {
        let e = code.entry();
        out.push_str(&format!(
            "\n## {c}\n\n{t}.\n\n- severity: {s}\n- why it matters: {w}\n- rule: {r}\n- fix: {a}\n- example: {x}\n",
            c = e.code,
            t = e.title,
            s = e.severity.as_str(),
            w = e.why,
            r = e.rfc,
            a = e.advice,
            x = e.example,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("mx-null", "mx-null"), 0);
        assert_eq!(edit_distance("mx-nul", "mx-null"), 1);
        assert_eq!(edit_distance("mx-nulll", "mx-null"), 1);
        assert_eq!(edit_distance("mx-mull", "mx-null"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_typo_suggests_the_code_meant() {
        assert_eq!(
            suggestions("mx-certificate-expird")[0],
            "mx-certificate-expired"
        );
        assert_eq!(suggestions("TLSRPT-MISSING")[0], "tlsrpt-missing");
    }

    #[test]
    fn an_unknown_code_with_a_known_first_word_suggests_its_family() {
        let near = suggestions("sts-policy-something-else");
        assert!(!near.is_empty());
        assert!(
            near.iter().all(|c| c.starts_with("sts-policy-")),
            "{near:?}"
        );
        assert!(suggestions("zzz").is_empty());
    }

    #[test]
    fn an_entry_says_what_why_rule_fix_and_example() {
        let e = Code::MxTlsaInvalid.entry();
        let text = entry_text(&e);
        for (label, value) in [
            ("means:", e.title),
            ("matters:", e.why),
            ("rule:", e.rfc),
            ("fix:", e.advice),
            ("example:", e.example),
        ] {
            // Continuation lines unwrapped: each field is one line again.
            let unwrapped = text.replace(&format!("\n{}", " ".repeat(12)), " ");
            assert!(
                unwrapped
                    .lines()
                    .any(|l| l.trim_start().starts_with(label) && l.contains(value)),
                "{label} {value:?} in\n{text}"
            );
        }
    }

    #[test]
    fn entries_fit_80_columns() {
        for code in Code::ALL {
            let text = entry_text(&code.entry());
            for line in text.lines() {
                // A word longer than the width (a long hash) may overflow.
                let long_word = line.split(' ').any(|w| w.chars().count() > 80 - 12);
                assert!(
                    line.chars().count() <= 80 || long_word,
                    "{}: {line:?}",
                    code.as_str()
                );
            }
        }
    }

    #[test]
    fn the_list_has_every_code_once_with_its_severity() {
        let list = list_text();
        assert_eq!(list.lines().count(), Code::ALL.len());
        for code in Code::ALL {
            let e = code.entry();
            let line = list
                .lines()
                .find(|l| l.split_whitespace().next() == Some(e.code))
                .unwrap_or_else(|| panic!("{} is listed", e.code));
            assert!(line.contains(e.severity.as_str()) && line.contains(e.title));
        }
    }

    #[test]
    fn the_reference_page_has_a_section_per_code() {
        let page = findings_markdown();
        for code in Code::ALL {
            let e = code.entry();
            assert!(page.contains(&format!("\n## {}\n", e.code)), "{}", e.code);
            assert!(page.contains(e.advice), "{}", e.code);
            assert!(
                page.contains(e.why) && page.contains(e.example),
                "{}",
                e.code
            );
        }
    }
}
