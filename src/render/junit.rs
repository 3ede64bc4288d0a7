//! `--format junit`: JUnit XML, the test report CI systems show (GitLab's
//! `artifacts:reports:junit`, Jenkins, GitHub test-report actions).
//!
//! One `<testsuite>` per domain, named after it, with `timestamp` (when its
//! scan started) and the mxtls version as a property. Its test cases:
//!
//! - `mail servers tested`: passes when at least one MX session got far
//!   enough to judge; an `<error>` when the domain could not be told
//!   (every address not public, refused, unreachable or turned away), the
//!   case of exit status 3. Always there, so a clean domain shows a pass.
//! - one per finding, named `code: subject`: a `<failure>` when the finding
//!   is at or above `--fail-on` (the ones that make the exit status 1), a
//!   pass with the text in `<system-out>` below it, `<skipped>` when it was
//!   accepted with `--ignore`.
//!
//! All text is escaped (`markup::escape`): records, banners and messages
//! come from the network.

use super::markup::{escape, escape_lines};
use crate::document::DomainReport;
use crate::finding::{Finding, Severity};

/// Counts of one suite.
#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

/// Whether a finding fails its test case under `--fail-on` (`None`: never).
fn fails(f: &Finding, threshold: Option<Severity>) -> bool {
    !f.ignored && threshold.is_some_and(|t| f.severity >= t)
}

fn suite(r: &DomainReport, threshold: Option<Severity>, counts: &mut Counts) -> String {
    let mut cases = String::new();
    let mut own = Counts::default();
    let domain = escape(&r.domain);
    // The scan itself.
    own.tests += 1;
    cases.push_str(&format!(
        "    <testcase classname=\"{domain}\" name=\"mail servers tested\">\n"
    ));
    if r.untested() {
        own.errors += 1;
        cases.push_str(&format!(
            "      <error type=\"untested\" message=\"{}\">{}</error>\n",
            escape(if r.dns_overloaded() {
                "the scanner's own DNS queue was full: what senders do is not known"
            } else {
                "no MX address could be probed: what senders do is not known"
            }),
            escape(&r.headline)
        ));
    }
    cases.push_str("    </testcase>\n");
    for f in &r.findings {
        own.tests += 1;
        let name = escape(&format!("{}: {}", f.code, f.subject));
        let body = escape_lines(&[
            &format!("{} {}: {}", f.severity.as_str(), f.code, f.message),
            &format!("Fix: {}", f.advice),
            &format!("mxtls explain {}", f.code),
        ]);
        cases.push_str(&format!(
            "    <testcase classname=\"{domain}\" name=\"{name}\">\n"
        ));
        if f.ignored {
            own.skipped += 1;
            cases.push_str(&format!(
                "      <skipped message=\"{}\"/>\n      <system-out>{body}</system-out>\n",
                escape(&format!("accepted with --ignore {}", f.code))
            ));
        } else if fails(f, threshold) {
            own.failures += 1;
            cases.push_str(&format!(
                "      <failure type=\"{}\" message=\"{}\">{body}</failure>\n",
                f.severity.as_str(),
                escape(&f.message)
            ));
        } else {
            cases.push_str(&format!("      <system-out>{body}</system-out>\n"));
        }
        cases.push_str("    </testcase>\n");
    }
    let text = format!(
        "  <testsuite name=\"{domain}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{}\" time=\"{:.3}\">\n    <properties>\n      <property name=\"mxtls_version\" value=\"{}\"/>\n      <property name=\"scanned_at\" value=\"{}\"/>\n      <property name=\"status\" value=\"{}\"/>\n    </properties>\n{cases}  </testsuite>\n",
        own.tests,
        own.failures,
        own.errors,
        own.skipped,
        escape(r.scanned_at.trim_end_matches('Z')),
        r.duration_ms as f64 / 1000.0,
        escape(r.mxtls_version),
        escape(&r.scanned_at),
        r.status().as_str(),
    );
    counts.tests += own.tests;
    counts.failures += own.failures;
    counts.errors += own.errors;
    counts.skipped += own.skipped;
    text
}

/// The JUnit document of these domains; `threshold` is `--fail-on`.
pub fn document(reports: &[DomainReport], threshold: Option<Severity>) -> String {
    let mut counts = Counts::default();
    let suites: String = reports
        .iter()
        .map(|r| suite(r, threshold, &mut counts))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mxtls\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n{suites}</testsuites>\n",
        counts.tests, counts.failures, counts.errors, counts.skipped
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Code;

    #[test]
    fn a_finding_fails_at_or_above_the_threshold_unless_ignored() {
        let mut f = Finding::new(Severity::Warning, Code::MxCname, "s", "m", "a");
        assert!(fails(&f, Some(Severity::Warning)));
        assert!(fails(&f, Some(Severity::Info)));
        assert!(!fails(&f, Some(Severity::Error)));
        assert!(!fails(&f, None));
        f.ignored = true;
        assert!(!fails(&f, Some(Severity::Info)));
    }

    #[test]
    fn an_empty_run_is_a_document_with_no_suites() {
        let doc = document(&[], Some(Severity::Error));
        assert!(doc.starts_with("<?xml"));
        assert!(doc.contains("<testsuites name=\"mxtls\" tests=\"0\""));
    }
}
