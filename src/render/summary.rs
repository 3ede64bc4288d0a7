//! `--format summary`: one line per domain, as each scan ends, for a batch
//! read by people or by `grep`/`awk`:
//!
//! ```text
//! errors   nxdomain.test: 1 error, 1 info: domain-nxdomain tlsrpt-missing
//! clean    secure.test: no problems found
//! untested smtp-closed.test: 1 warning, 1 info: mx-connect-failed tlsrpt-missing
//! ```
//!
//! The first word is the domain's status (`errors`, `untested`,
//! `warnings`, `clean`; see `DomainStatus`), padded so that the domains
//! line up; then the domain, the counts and the codes of the findings
//! counted, most severe first. Findings accepted with `--ignore` are
//! counted apart: `(1 ignored: tlsrpt-missing)`. The line ends with the
//! scan's start time, so that a saved summary says when it was true.

use crate::document::DomainReport;
use crate::finding::Severity;
use crate::sanitize::for_terminal;

/// The summary line of one domain (with its newline).
pub fn line(r: &DomainReport) -> String {
    let mut counts = Vec::new();
    let errors = r.count(Severity::Error);
    let warnings = r.count(Severity::Warning);
    let infos = r.count(Severity::Info);
    if errors > 0 {
        counts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        counts.push(plural(warnings, "warning"));
    }
    if counts.is_empty() {
        counts.push("no problems found".to_string());
    }
    if infos > 0 {
        counts.push(format!("{infos} info"));
    }
    let mut out = format!(
        "{:<8} {}: {}",
        r.status().as_str(),
        for_terminal(&r.domain, 253),
        counts.join(", ")
    );
    let codes = distinct(r.counted().map(|f| f.code.as_str()));
    if !codes.is_empty() {
        out.push_str(": ");
        out.push_str(&codes.join(" "));
    }
    let ignored = distinct(
        r.findings
            .iter()
            .filter(|f| f.ignored)
            .map(|f| f.code.as_str()),
    );
    if !ignored.is_empty() {
        out.push_str(&format!(
            " ({} ignored: {})",
            r.ignored(),
            ignored.join(" ")
        ));
    }
    out.push_str(&format!(" [{}]\n", for_terminal(&r.scanned_at, 40)));
    out
}

/// Each code once, in first-seen order.
fn distinct<'a>(codes: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for c in codes {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_listed_once_in_first_seen_order() {
        assert_eq!(
            distinct(["b", "a", "b", "c", "a"].into_iter()),
            vec!["b", "a", "c"]
        );
    }

    #[test]
    fn counts_are_pluralised() {
        assert_eq!(plural(1, "error"), "1 error");
        assert_eq!(plural(3, "warning"), "3 warnings");
    }
}
