//! CSV for spreadsheets and pipelines: `--format csv` (one row per
//! finding) and `--format csv-domains` (one row per domain).
//!
//! RFC 4180: a header line, CRLF line ends, a field quoted with `"` when it
//! holds a comma, a quote, CR or LF, and a quote inside doubled. Findings
//! quote records, banners and policies from the network, so every text
//! field is also defused against spreadsheet formula injection (OWASP "CSV
//! injection"): a field that begins with `=`, `+`, `-`, `@`, a tab or a CR
//! gets a leading `'`, which Excel, LibreOffice and Google Sheets show as
//! text. Numbers are written as they are. A program reading the CSV sees
//! the `'`; the JSON carries the text unchanged.

use crate::document::DomainReport;
use crate::finding::Severity;

/// The columns of `--format csv`, one row per finding.
pub const FINDING_COLUMNS: &[&str] = &[
    "domain",
    "severity",
    "code",
    "subject",
    "message",
    "advice",
    "ignored",
    "scanned_at",
    "mxtls_version",
];

/// The columns of `--format csv-domains`, one row per domain.
pub const DOMAIN_COLUMNS: &[&str] = &[
    "domain",
    "status",
    "errors",
    "warnings",
    "info",
    "ignored",
    "mx_lookup",
    "mx_hosts",
    "sessions",
    "dane",
    "mta_sts",
    "tlsrpt",
    "codes",
    "headline",
    "scanned_at",
    "mxtls_version",
    "duration_ms",
];

/// The header line of a CSV with these columns.
pub fn header(columns: &[&str]) -> String {
    row(columns.iter().map(|c| Field::Text(c)))
}

/// One field of a row.
pub enum Field<'a> {
    /// Text, possibly from the network: quoted and defused.
    Text(&'a str),
    /// A count or a duration: written as is.
    Number(u64),
}

/// One CSV line (with its CRLF) of these fields.
pub fn row<'a>(fields: impl IntoIterator<Item = Field<'a>>) -> String {
    let mut out = String::new();
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match f {
            Field::Text(t) => push_text(&mut out, t),
            Field::Number(n) => out.push_str(&n.to_string()),
        }
    }
    out.push_str("\r\n");
    out
}

/// Characters that make a spreadsheet read a cell as a formula (or, for
/// tab and CR, let one slip through on import).
fn starts_formula(text: &str) -> bool {
    matches!(
        text.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    )
}

fn push_text(out: &mut String, text: &str) {
    let defused = starts_formula(text);
    let quote = defused || text.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    if defused {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

/// The rows of one domain for `--format csv`: one per finding, most
/// severe first as in the document.
pub fn finding_rows(r: &DomainReport) -> String {
    let mut out = String::new();
    for f in &r.findings {
        out.push_str(&row([
            Field::Text(&r.domain),
            Field::Text(f.severity.as_str()),
            Field::Text(f.code.as_str()),
            Field::Text(&f.subject),
            Field::Text(&f.message),
            Field::Text(&f.advice),
            Field::Text(if f.ignored { "true" } else { "false" }),
            Field::Text(&r.scanned_at),
            Field::Text(r.mxtls_version),
        ]));
    }
    out
}

/// The row of one domain for `--format csv-domains`.
pub fn domain_row(r: &DomainReport) -> String {
    let count = |s| u64::try_from(r.count(s)).unwrap_or(u64::MAX);
    let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
    let mut codes: Vec<&str> = r.counted().map(|f| f.code.as_str()).collect();
    codes.dedup();
    let dane = if r.mx.is_empty() {
        "none"
    } else if r.mx.iter().all(|h| h.tlsa.applies) {
        "applies"
    } else if r.mx.iter().any(|h| h.tlsa.applies) {
        "partial"
    } else {
        "none"
    };
    let policy_status = super::word(&r.mta_sts.policy.status);
    let sts = match (r.mta_sts.policy.mode, policy_status.as_str()) {
        (Some(mode), "valid") => mode.as_str().to_string(),
        _ => policy_status,
    };
    row([
        Field::Text(&r.domain),
        Field::Text(r.status().as_str()),
        Field::Number(count(Severity::Error)),
        Field::Number(count(Severity::Warning)),
        Field::Number(count(Severity::Info)),
        Field::Number(n(r.ignored())),
        Field::Text(&super::word(&r.mx_lookup.status)),
        Field::Number(n(r.mx.len())),
        Field::Number(n(r.sessions.len())),
        Field::Text(dane),
        Field::Text(&sts),
        Field::Text(&super::word(&r.tlsrpt.assessment.status)),
        Field::Text(&codes.join(" ")),
        Field::Text(&r.headline),
        Field::Text(&r.scanned_at),
        Field::Text(r.mxtls_version),
        Field::Number(r.duration_ms),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fields: &[&str]) -> String {
        row(fields.iter().map(|f| Field::Text(f)))
    }

    #[test]
    fn plain_fields_are_left_unquoted_and_lines_end_in_crlf() {
        assert_eq!(line(&["a", "b c", "d"]), "a,b c,d\r\n");
        assert_eq!(line(&[""]), "\r\n");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted_as_rfc_4180_says() {
        assert_eq!(line(&["a,b"]), "\"a,b\"\r\n");
        assert_eq!(line(&["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(line(&["one\ntwo"]), "\"one\ntwo\"\r\n");
        assert_eq!(line(&["one\r\ntwo"]), "\"one\r\ntwo\"\r\n");
    }

    #[test]
    fn a_field_that_a_spreadsheet_would_run_as_a_formula_is_defused() {
        assert_eq!(line(&["=1+1"]), "\"'=1+1\"\r\n");
        assert_eq!(line(&["+1"]), "\"'+1\"\r\n");
        assert_eq!(line(&["-2"]), "\"'-2\"\r\n");
        assert_eq!(line(&["@SUM(A1)"]), "\"'@SUM(A1)\"\r\n");
        assert_eq!(line(&["\tx"]), "\"'\tx\"\r\n");
        assert_eq!(
            line(&["=HYPERLINK(\"http://x\",\"y\")"]),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n"
        );
        // Only the first character matters.
        assert_eq!(line(&["a=b"]), "a=b\r\n");
    }

    #[test]
    fn numbers_are_not_defused() {
        assert_eq!(row([Field::Number(0), Field::Number(42)]), "0,42\r\n");
    }

    #[test]
    fn headers_name_the_columns() {
        assert!(header(FINDING_COLUMNS).starts_with("domain,severity,code,subject,message,"));
        assert!(header(DOMAIN_COLUMNS).starts_with("domain,status,errors,warnings,info,"));
    }
}
