//! TLSRPT (RFC 8460): does the domain say where to send TLS reports?
//!
//! A domain asks senders for reports by publishing a TXT record at
//! `_smtp._tls.<domain>` (RFC 8460 §3). Senders discard TXT records that do
//! not begin with exactly `v=TLSRPTv1;`; when not exactly one remains, the
//! domain does not implement TLSRPT. [`assess`] applies that rule to the
//! RRset as DNS returned it, parses the record ([`record`]) and turns what
//! it finds into [`Finding`]s, each with the record to publish.
//!
//! Left out: DNS (the scan looks the RRset up and adds the `bogus`/`error`
//! statuses from the lookup outcome), whether a mailto domain accepts mail
//! (needs MX lookups), and the report format of RFC 8460 §4.
//!
//! The `v=TLSRPTv1;` filter is for several TXT records (§3: "If multiple
//! TXT records for `_smtp._tls` are returned by the resolver, records that
//! do not begin with `v=TLSRPTv1;` MUST be discarded"). A lone
//! `v=TLSRPTv1 ; rua=...` fits the grammar (`field-delim = *WSP ";" *WSP`),
//! so it is `valid` and its `rua` is used, as mox and Stalwart do; a
//! warning (`tlsrpt-record-prefix-spacing`) says that senders filtering on
//! the literal prefix regardless drop it, with the record to publish.
//!
//! Our own choices, beyond the RFC's MUSTs: a record that only just misses
//! the `v=TLSRPTv1;` filter (`v=tlsrptv1;`, wrapped in quotes, or
//! `v=TLSRPTv1 ;` beside other TXT records) is reported as `invalid` with an
//! error saying senders discard it, rather than as `missing`; URI problems
//! senders would trip over (scheme other than mailto/https, mailto without
//! a mailbox, https without host) are findings on an otherwise `valid`
//! record.

pub mod record;
pub mod report;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::finding::{Code, Finding, Severity};
use crate::txt_record::{self, Selection};
use record::{ReportUri, ReportUriKind, TlsRptRecord, VERSION, quote};

/// The exact prefix senders keep records by (RFC 8460 §3).
const TAG: &str = "v=TLSRPTv1;";

/// How many offending items a finding's message lists before "and N more".
const LIST_LIMIT: usize = 5;

/// What the scan concludes about the domain's TLSRPT record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsRptStatus {
    /// Exactly one record begins with `v=TLSRPTv1;` and it parses, or the
    /// RRset's only record is `v=TLSRPTv1 ;...` and it parses.
    Valid,
    /// The one record breaks the grammar, or the only attempts are records
    /// senders discard (near misses of `v=TLSRPTv1;`).
    Invalid,
    /// No TXT record looks like TLSRPT.
    Missing,
    /// More than one record begins with `v=TLSRPTv1;`: senders use none.
    Multiple,
    /// The TXT lookup failed DNSSEC validation (set by the scan).
    Bogus,
    /// The TXT lookup failed (set by the scan).
    Error,
}

/// The whole judgement of a `_smtp._tls.<domain>` TXT RRset.
#[derive(Debug, Clone, Serialize)]
pub struct TlsRptAssessment {
    /// The verdict.
    pub status: TlsRptStatus,
    /// The selected record as published; for `invalid` from a near miss,
    /// that record; `None` for `missing` and `multiple`.
    pub record: Option<String>,
    /// Every candidate record when there are several (`multiple`, or
    /// several near misses).
    pub records: Vec<String>,
    /// Report destinations of a `valid` record, in record order.
    pub rua: Vec<ReportUri>,
    /// Why the status is not `valid`, quoting the text.
    pub reason: Option<String>,
    /// What to tell the domain's owner; subject `_smtp._tls.<domain>`.
    /// Not serialised here: the scan moves them into the report's findings.
    #[serde(skip)]
    pub findings: Vec<Finding>,
    /// The parsed record when `valid`.
    #[serde(skip)]
    pub parsed: Option<TlsRptRecord>,
}

impl TlsRptAssessment {
    /// The verdict when the TXT lookup itself failed: `bogus` when DNSSEC
    /// validation failed, else `error`; nothing is known of the record.
    pub fn lookup_failed(bogus: bool, reason: Option<String>) -> TlsRptAssessment {
        TlsRptAssessment {
            status: if bogus {
                TlsRptStatus::Bogus
            } else {
                TlsRptStatus::Error
            },
            record: None,
            records: Vec::new(),
            rua: Vec::new(),
            reason,
            findings: Vec::new(),
            parsed: None,
        }
    }
}

/// Judges the TXT RRset of `_smtp._tls.<domain>`: each record is its list of
/// character-strings as DNS returned them. Pure; work is linear in the size
/// of the RRset (up to sorting).
#[must_use]
pub fn assess(domain: &str, rrset: &[Vec<Vec<u8>>]) -> TlsRptAssessment {
    let domain = domain.trim_end_matches('.');
    let ctx = Context {
        domain,
        subject: format!("_smtp._tls.{domain}"),
    };
    // Records senders discard but a human meant as TLSRPT. Computed here
    // rather than taken from `Selection::None` because it also catches
    // `v = TLSRPTv1;` and quoted records, and is needed next to a selected
    // record too.
    let selection = txt_record::select(rrset, TAG);
    let near_misses: Vec<String> = match &selection {
        // The lone record is the one used, not a near miss.
        Selection::LoneSpaced(_) => Vec::new(),
        _ => rrset
            .iter()
            .map(|r| txt_record::concatenate(r))
            .filter(|t| !t.starts_with(TAG) && looks_like_tlsrpt(t))
            .collect(),
    };

    let mut assessment = match selection {
        Selection::One(text) => ctx.one(text),
        Selection::LoneSpaced(text) => ctx.lone_spaced(text),
        Selection::Multiple(texts) => ctx.multiple(texts),
        Selection::None { .. } if near_misses.is_empty() => ctx.missing(),
        Selection::None { .. } => return ctx.only_near_misses(near_misses),
    };
    // Beside a selected record (or several), a near miss is harmless to
    // senders but probably not what the owner meant. Fixing it would make
    // one record too many, so the advice is to delete it.
    for text in &near_misses {
        let mut finding = ctx.discarded(text, Severity::Warning);
        finding.advice = format!(
            "delete it: only a record that begins with exactly \"{TAG}\" counts, and there must be exactly one; put any destination it lists into that record"
        );
        assessment.findings.push(finding);
    }
    assessment
}

/// Whether a record that fails the exact `v=TLSRPTv1;` filter was meant as
/// TLSRPT: ignoring whitespace, quote characters and case, it begins with
/// `v=TLSRPTv1`. Stops after the first ten characters that count.
fn looks_like_tlsrpt(text: &str) -> bool {
    let head: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .take(VERSION.len())
        .collect();
    head.eq_ignore_ascii_case(VERSION)
}

struct Context<'a> {
    domain: &'a str,
    subject: String,
}

impl Context<'_> {
    fn finding(&self, severity: Severity, code: Code, message: String, advice: String) -> Finding {
        Finding::new(severity, code, self.subject.clone(), message, advice)
    }

    /// A record every domain can start from.
    fn example(&self) -> String {
        canonical(&[format!("mailto:tlsrpt@{}", self.domain)], &[])
    }

    fn missing(&self) -> TlsRptAssessment {
        let finding = self.finding(
            Severity::Info,
            Code::TlsrptMissing,
            format!(
                "no TLSRPT record at {}: you will not hear about delivery failures (RFC 8460)",
                self.subject
            ),
            format!(
                "publish this TXT record (and make sure that mailbox exists): `{}. IN TXT \"{}\"`",
                self.subject,
                self.example()
            ),
        );
        TlsRptAssessment {
            status: TlsRptStatus::Missing,
            record: None,
            records: Vec::new(),
            rua: Vec::new(),
            reason: Some(format!(
                "no TXT record at {} begins with `{TAG}`",
                self.subject
            )),
            findings: vec![finding],
            parsed: None,
        }
    }

    /// A record senders discard because it misses the exact prefix.
    fn discarded(&self, text: &str, severity: Severity) -> Finding {
        let advice = match repair(text) {
            Some(fix) => format!("publish exactly \"{fix}\" instead"),
            None => format!(
                "begin the record with exactly \"{TAG}\" (upper-case TLSRPT, nothing before it, no space before ';'), e.g. \"{}\"",
                self.example()
            ),
        };
        self.finding(
            severity,
            Code::TlsrptDiscardedRecord,
            format!(
                "{} does not begin with exactly \"{TAG}\" ({}), so senders discard it (RFC 8460 §3)",
                quote(text),
                near_miss_cause(text)
            ),
            advice,
        )
    }

    /// The RRset's only record, `v=TLSRPTv1 ;...`: parsed as any record;
    /// when it is valid, a warning that senders filtering on the literal
    /// prefix drop it, and that another TXT record at the name would make
    /// every sender drop it.
    fn lone_spaced(&self, text: String) -> TlsRptAssessment {
        let mut assessment = self.one(text);
        if let Some(rec) = &assessment.parsed {
            let fixed = literal_prefix(rec.raw());
            let finding = self.finding(
                Severity::Warning,
                Code::TlsrptRecordPrefixSpacing,
                format!(
                    "the TLSRPT record {} has whitespace before the first ';': as the only TXT record here it is valid (RFC 8460 §3) and mox and Stalwart send reports to it, but senders that filter on the literal \"{TAG}\" discard it",
                    quote(rec.raw()),
                ),
                format!(
                    "publish exactly \"{fixed}\" instead: beside another TXT record at this name, RFC 8460 §3 has the spaced one discarded"
                ),
            );
            assessment.findings.insert(0, finding);
        }
        assessment
    }

    fn only_near_misses(&self, texts: Vec<String>) -> TlsRptAssessment {
        let findings = texts
            .iter()
            .map(|t| self.discarded(t, Severity::Error))
            .collect();
        let reason = format!(
            "{} discarded by senders: no record begins with exactly \"{TAG}\"",
            quote_list(texts.iter().map(String::as_str))
        );
        let (record, records) = match <[String; 1]>::try_from(texts) {
            Ok([one]) => (Some(one), Vec::new()),
            Err(texts) => (None, texts),
        };
        TlsRptAssessment {
            status: TlsRptStatus::Invalid,
            record,
            records,
            rua: Vec::new(),
            reason: Some(reason),
            findings,
            parsed: None,
        }
    }

    fn multiple(&self, texts: Vec<String>) -> TlsRptAssessment {
        // Suggest one record that keeps every destination of the parsable ones.
        let mut uris = Vec::new();
        for rec in texts.iter().filter_map(|t| record::parse(t).ok()) {
            uris.extend(rec.rua().iter().map(|u| u.as_str().to_string()));
        }
        dedupe(&mut uris);
        let advice = if uris.is_empty() {
            format!(
                "keep exactly one TLSRPT record and delete the others, e.g. \"{}\"",
                self.example()
            )
        } else {
            format!(
                "keep exactly one TLSRPT record and delete the others: \"{}\" keeps every destination",
                canonical(&uris, &[])
            )
        };
        let listed = quote_list(texts.iter().map(String::as_str));
        let finding = self.finding(
            Severity::Error,
            Code::TlsrptMultipleRecords,
            format!(
                "{} TXT records at {} begin with \"{TAG}\" ({listed}): senders use none of them (RFC 8460 §3)",
                texts.len(),
                self.subject
            ),
            advice,
        );
        TlsRptAssessment {
            status: TlsRptStatus::Multiple,
            record: None,
            reason: Some(format!(
                "{} records begin with \"{TAG}\": {listed}",
                texts.len()
            )),
            records: texts,
            rua: Vec::new(),
            findings: vec![finding],
            parsed: None,
        }
    }

    fn one(&self, text: String) -> TlsRptAssessment {
        match record::parse(&text) {
            Ok(rec) => TlsRptAssessment {
                status: TlsRptStatus::Valid,
                rua: rec.rua().to_vec(),
                reason: None,
                findings: self.judge(&rec),
                record: Some(text),
                records: Vec::new(),
                parsed: Some(rec),
            },
            Err(err) => {
                let advice = match repair(&text) {
                    Some(fix) if fix != text => format!("publish \"{fix}\" instead"),
                    _ => format!(
                        "rewrite the record to follow RFC 8460 §3, e.g. \"{}\"",
                        self.example()
                    ),
                };
                let finding = self.finding(
                    Severity::Error,
                    Code::TlsrptInvalid,
                    format!(
                        "the TLSRPT record {} is invalid, so senders ignore it: {err}",
                        quote(&text)
                    ),
                    advice,
                );
                TlsRptAssessment {
                    status: TlsRptStatus::Invalid,
                    record: Some(text),
                    records: Vec::new(),
                    rua: Vec::new(),
                    reason: Some(err.to_string()),
                    findings: vec![finding],
                    parsed: None,
                }
            }
        }
    }

    /// Findings on a grammatical record: destinations senders cannot use,
    /// repetitions, unknown fields.
    fn judge(&self, rec: &TlsRptRecord) -> Vec<Finding> {
        let mut findings = Vec::new();
        let uris = rec.rua();

        let other: Vec<&ReportUri> = uris
            .iter()
            .filter(|u| matches!(u.kind(), ReportUriKind::Other { .. }))
            .collect();
        if !other.is_empty() {
            let all_http = other
                .iter()
                .all(|u| matches!(u.kind(), ReportUriKind::Other { scheme } if scheme == "http"));
            let why = if all_http {
                "plain http: senders post reports only to https: URIs (RFC 8460 §5.4)"
            } else {
                "a scheme senders do not use: reports go only to mailto: and https: URIs (RFC 8460 §3)"
            };
            let fixed = self.rewrite(rec, |u| match u.kind() {
                // The scheme matched "http", so byte 4 is the ':'.
                ReportUriKind::Other { scheme } if scheme == "http" => {
                    u.as_str().get(4..).map(|rest| format!("https{rest}"))
                }
                ReportUriKind::Other { .. } => None,
                _ => Some(u.as_str().to_string()),
            });
            findings.push(self.finding(
                Severity::Warning,
                Code::TlsrptRuaUnsupportedScheme,
                format!(
                    "rua {} {} {why}",
                    quote_uris(&other),
                    agree(other.len(), "uses", "use")
                ),
                format!("publish \"{fixed}\""),
            ));
        }

        let bad_mailto: Vec<&ReportUri> = uris
            .iter()
            .filter(
                |u| matches!(u.kind(), ReportUriKind::Mailto { address } if !is_mailbox(address)),
            )
            .collect();
        if !bad_mailto.is_empty() {
            let fixed = self.rewrite(rec, |u| match u.kind() {
                ReportUriKind::Mailto { address } if !is_mailbox(address) => {
                    // A bare local part most likely lacks "@<domain>".
                    (!address.is_empty() && !address.contains('@')).then(|| {
                        let after = u.as_str().get("mailto:".len()..).unwrap_or_default();
                        let path = after.split('?').next().unwrap_or_default();
                        format!("mailto:{path}@{}", self.domain)
                    })
                }
                _ => Some(u.as_str().to_string()),
            });
            findings.push(self.finding(
                Severity::Error,
                Code::TlsrptRuaMailtoInvalid,
                format!(
                    "rua {} {} no mailbox of the form local@domain (no '@', or nothing on one side of it): reports mailed there cannot be delivered",
                    quote_uris(&bad_mailto),
                    agree(bad_mailto.len(), "names", "name")
                ),
                format!("publish \"{fixed}\" (with a mailbox that exists)"),
            ));
        }

        let hostless: Vec<&ReportUri> = uris
            .iter()
            .filter(|u| matches!(u.kind(), ReportUriKind::Https { host } if host.is_empty()))
            .collect();
        if !hostless.is_empty() {
            let fixed = self.rewrite(rec, |u| match u.kind() {
                ReportUriKind::Https { host } if host.is_empty() => None,
                _ => Some(u.as_str().to_string()),
            });
            findings.push(self.finding(
                Severity::Error,
                Code::TlsrptRuaHttpsWithoutHost,
                format!(
                    "rua {} {} no host: senders cannot post reports to {}",
                    quote_uris(&hostless),
                    agree(hostless.len(), "has", "have"),
                    agree(hostless.len(), "it", "them")
                ),
                format!(
                    "write the full URL with its host (https://<host>/<path>), or drop it: \"{fixed}\""
                ),
            ));
        }

        let mut seen = BTreeSet::new();
        let repeated: Vec<&ReportUri> = uris
            .iter()
            .filter(|u| !seen.insert(u.as_str().to_ascii_lowercase()))
            .collect();
        if !repeated.is_empty() {
            let fixed = self.rewrite(rec, |u| Some(u.as_str().to_string()));
            findings.push(self.finding(
                Severity::Warning,
                Code::TlsrptRuaDuplicate,
                format!(
                    "rua lists {} more than once: some senders send each report twice",
                    quote_uris(&repeated)
                ),
                format!("list each destination once: \"{fixed}\""),
            ));
        }

        if rec.rua_field_count() > 1 {
            let fixed = self.rewrite(rec, |u| Some(u.as_str().to_string()));
            findings.push(self.finding(
                Severity::Warning,
                Code::TlsrptRuaRepeatedField,
                format!(
                    "the record {} has {} \"rua=\" fields: the grammar allows it, but senders that read only one miss the other destinations",
                    quote(rec.raw()),
                    rec.rua_field_count()
                ),
                format!("merge them into one field: \"{fixed}\""),
            ));
        }

        if !rec.extensions().is_empty() {
            let fields: Vec<String> = rec
                .extensions()
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            let mut uris: Vec<String> = rec.rua().iter().map(|u| u.as_str().to_string()).collect();
            dedupe(&mut uris);
            findings.push(self.finding(
                Severity::Info,
                Code::TlsrptUnknownField,
                format!(
                    "{} not defined by RFC 8460: senders ignore {}",
                    quote_list(fields.iter().map(String::as_str)),
                    agree(fields.len(), "it", "them")
                ),
                format!(
                    "nothing to do if it is intended; otherwise publish \"{}\"",
                    canonical(&uris, &[])
                ),
            ));
        }
        findings
    }

    /// The record with each URI replaced by `f` (`None` drops it),
    /// duplicates removed and all in one `rua=` field; extensions kept. A
    /// record left without URIs gets the example address.
    fn rewrite(&self, rec: &TlsRptRecord, f: impl Fn(&ReportUri) -> Option<String>) -> String {
        let mut uris: Vec<String> = rec.rua().iter().filter_map(f).collect();
        dedupe(&mut uris);
        if uris.is_empty() {
            uris.push(format!("mailto:tlsrpt@{}", self.domain));
        }
        canonical(&uris, rec.extensions())
    }
}

/// `local@domain` with both sides non-empty (RFC 5322 addr-spec, loosely).
fn is_mailbox(address: &str) -> bool {
    address
        .rsplit_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}

/// Removes later copies of a URI, compared case-insensitively, keeping order.
fn dedupe(uris: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    uris.retain(|u| seen.insert(u.to_ascii_lowercase()));
}

/// The record in our canonical spelling: `v=TLSRPTv1; rua=a,b; name=value`.
fn canonical(uris: &[String], extensions: &[(String, String)]) -> String {
    let mut out = format!("{VERSION}; rua={}", uris.join(","));
    for (name, value) in extensions {
        out.push_str(&format!("; {name}={value}"));
    }
    out
}

/// Quoted items for a message, at most [`LIST_LIMIT`] of them.
fn quote_list<'a>(items: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = items.len();
    let mut out: Vec<String> = items.take(LIST_LIMIT).map(quote).collect();
    if total > LIST_LIMIT {
        out.push(format!("and {} more", total - LIST_LIMIT));
    }
    out.join(", ")
}

fn quote_uris(uris: &[&ReportUri]) -> String {
    let noun = agree(uris.len(), "URI", "URIs");
    format!("{noun} {}", quote_list(uris.iter().map(|u| u.as_str())))
}

/// The singular or plural form of a word, for `n` things.
fn agree<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The record with the whitespace between `v=TLSRPTv1` and the first `;`
/// removed and nothing else changed; the text must begin with the version.
fn literal_prefix(text: &str) -> String {
    let rest = text.get(VERSION.len()..).unwrap_or_default();
    format!("{VERSION}{}", rest.trim_start_matches([' ', '\t']))
}

/// Says why a near miss fails the `v=TLSRPTv1;` filter.
fn near_miss_cause(text: &str) -> &'static str {
    let first = text.chars().next().unwrap_or(' ');
    if txt_record::spaced_before_semicolon(text, TAG) {
        // Only reached beside other records: a lone one is used.
        "whitespace before ';' is allowed only when it is the only TXT record at the name, and it is not"
    } else if first.is_whitespace() {
        "it begins with whitespace"
    } else if first == '"' {
        "it is wrapped in quote characters, which are part of the published text"
    } else if text.get(..VERSION.len()) == Some(VERSION) {
        // The version is right, so what follows it is not ';'.
        "\"v=TLSRPTv1\" must be followed directly by ';'"
    } else if text
        .get(..VERSION.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(VERSION))
    {
        "\"v=TLSRPTv1\" is case-sensitive"
    } else {
        "whitespace inside \"v=TLSRPTv1\""
    }
}

/// Guesses the record the owner meant, for advice: fields re-read
/// leniently (whitespace trimmed, names in any case, URIs separated by
/// commas or spaces, `!` encoded, a bare address given `mailto:`), written
/// in canonical form, and kept only if it parses. `None` when no safe guess
/// exists (e.g. non-ASCII text other than pasted no-break spaces).
fn repair(text: &str) -> Option<String> {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{a0}' | '\t' | '\r' | '\n' => cleaned.push(' '),
            '\u{200b}' | '\u{feff}' => {}
            ' '..='~' => cleaned.push(c),
            _ => return None,
        }
    }
    let cleaned = cleaned.trim().trim_matches('"');
    let mut version = false;
    let mut uris = Vec::new();
    let mut extensions = Vec::new();
    for field in cleaned.split(';').map(str::trim).filter(|f| !f.is_empty()) {
        let (name, value) = field.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("v") {
            let compact: String = value.chars().filter(|c| *c != ' ').collect();
            if !compact.eq_ignore_ascii_case("TLSRPTv1") {
                return None;
            }
            version = true;
        } else if name.eq_ignore_ascii_case("rua") {
            for uri in value.split([',', ' ']).filter(|u| !u.is_empty()) {
                let uri = uri.replace('!', "%21");
                if uri.contains(':') || !uri.contains('@') {
                    uris.push(uri);
                } else {
                    uris.push(format!("mailto:{uri}"));
                }
            }
        } else {
            extensions.push((name.to_string(), value.to_string()));
        }
    }
    if !version || uris.is_empty() {
        return None;
    }
    let candidate = canonical(&uris, &extensions);
    record::parse(&candidate).ok().map(|_| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "example.com";

    /// A TXT RRset: each record is its list of character-strings.
    type RRset = Vec<Vec<Vec<u8>>>;

    /// An RRset from records given as their character-strings.
    fn rrset(records: &[&[&str]]) -> RRset {
        records
            .iter()
            .map(|r| r.iter().map(|s| s.as_bytes().to_vec()).collect())
            .collect()
    }

    fn codes(a: &TlsRptAssessment) -> Vec<&str> {
        a.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn status_and_finding_codes_follow_the_rules() {
        use TlsRptStatus::*;
        let good = "v=TLSRPTv1; rua=mailto:tlsrpt@example.com";
        // (rule, RRset, status, finding codes, rua of a valid record)
        type Row<'a> = (&'a str, RRset, TlsRptStatus, Vec<&'a str>, Vec<&'a str>);
        #[rustfmt::skip]
        let rows: Vec<Row> = vec![
            ("minimal record", rrset(&[&["v=TLSRPTv1;rua=mailto:a@example.com"]]), Valid, vec![], vec!["mailto:a@example.com"]),
            ("strings are concatenated without separator", rrset(&[&["v=TLSRPTv1; rua=mailto:tls", "rpt@example.com"]]), Valid, vec![], vec!["mailto:tlsrpt@example.com"]),
            ("string split inside the version", rrset(&[&["v=TLS", "RPTv1;", "rua=mailto:a@example.com"]]), Valid, vec![], vec!["mailto:a@example.com"]),
            ("other TXT records beside one TLSRPT", rrset(&[&["v=spf1 -all"], &[good], &["site-verification=x"]]), Valid, vec![], vec!["mailto:tlsrpt@example.com"]),
            ("no TXT record", rrset(&[]), Missing, vec!["tlsrpt-missing"], vec![]),
            ("only unrelated TXT records", rrset(&[&["v=spf1 -all"]]), Missing, vec!["tlsrpt-missing"], vec![]),
            ("two TLSRPT records", rrset(&[&[good], &["v=TLSRPTv1; rua=mailto:b@example.com"]]), Multiple, vec!["tlsrpt-multiple-records"], vec![]),
            ("two identical TLSRPT records", rrset(&[&[good], &[good]]), Multiple, vec!["tlsrpt-multiple-records"], vec![]),
            ("lone record with space before ';' is valid, with a warning", rrset(&[&["v=TLSRPTv1 ; rua=mailto:a@example.com"]]), Valid, vec!["tlsrpt-record-prefix-spacing"], vec!["mailto:a@example.com"]),
            ("lone record with tab before ';' is valid, with a warning", rrset(&[&["v=TLSRPTv1\t;rua=mailto:a@example.com"]]), Valid, vec!["tlsrpt-record-prefix-spacing"], vec!["mailto:a@example.com"]),
            ("lone spaced record keeps its other findings", rrset(&[&["v=TLSRPTv1 ; rua=mailto:a@example.com; x-note=hi"]]), Valid, vec!["tlsrpt-record-prefix-spacing", "tlsrpt-unknown-field"], vec!["mailto:a@example.com"]),
            ("lone spaced record that breaks the grammar is invalid", rrset(&[&["v=TLSRPTv1 ; rua = mailto:a@example.com"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("lone spaced record without rua is invalid", rrset(&[&["v=TLSRPTv1 ;"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("space before ';' beside another TXT record is discarded", rrset(&[&["v=TLSRPTv1 ; rua=mailto:a@example.com"], &["v=spf1 -all"]]), Invalid, vec!["tlsrpt-discarded-record"], vec![]),
            ("two spaced records are discarded", rrset(&[&["v=TLSRPTv1 ; rua=mailto:a@example.com"], &["v=TLSRPTv1 ; rua=mailto:b@example.com"]]), Invalid, vec!["tlsrpt-discarded-record", "tlsrpt-discarded-record"], vec![]),
            ("space before ';' without ';' after the version is discarded", rrset(&[&["v=TLSRPTv1 rua=mailto:a@example.com"]]), Invalid, vec!["tlsrpt-discarded-record"], vec![]),
            ("lower-case version is discarded", rrset(&[&["v=tlsrptv1; rua=mailto:a@example.com"]]), Invalid, vec!["tlsrpt-discarded-record"], vec![]),
            ("spaces around '=' in the version are discarded", rrset(&[&["v = TLSRPTv1; rua=mailto:a@example.com"]]), Invalid, vec!["tlsrpt-discarded-record"], vec![]),
            ("record in quote characters is discarded", rrset(&[&["\"v=TLSRPTv1; rua=mailto:a@example.com\""]]), Invalid, vec!["tlsrpt-discarded-record"], vec![]),
            ("near miss beside a good record", rrset(&[&[good], &["v=TLSRPTv1 ;rua=mailto:b@example.com"]]), Valid, vec!["tlsrpt-discarded-record"], vec!["mailto:tlsrpt@example.com"]),
            ("rua missing", rrset(&[&["v=TLSRPTv1;"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("rua= empty", rrset(&[&["v=TLSRPTv1; rua="]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("whitespace around '='", rrset(&[&["v=TLSRPTv1; rua = mailto:a@example.com"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("unencoded '!' in a URI", rrset(&[&["v=TLSRPTv1; rua=mailto:a!b@example.com"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("percent-encoded '%21' in a URI", rrset(&[&["v=TLSRPTv1; rua=mailto:a%21b@example.com"]]), Valid, vec![], vec!["mailto:a%21b@example.com"]),
            ("two URIs", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.com/t"]]), Valid, vec![], vec!["mailto:a@example.com", "https://r.example.com/t"]),
            ("second rua= field", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com"]]), Valid, vec!["tlsrpt-rua-repeated-field"], vec!["mailto:a@example.com", "mailto:b@example.com"]),
            ("duplicated URI", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com,MAILTO:a@example.com"]]), Valid, vec!["tlsrpt-rua-duplicate"], vec!["mailto:a@example.com", "MAILTO:a@example.com"]),
            ("extension field", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com; x-note=hi"]]), Valid, vec!["tlsrpt-unknown-field"], vec!["mailto:a@example.com"]),
            ("bad extension field", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com; x note=hi"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("non-ASCII", rrset(&[&["v=TLSRPTv1; rua=mailto:tlsrpt@exämple.com"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("control characters", rrset(&[&["v=TLSRPTv1;\r\nrua=mailto:a@example.com"]]), Invalid, vec!["tlsrpt-invalid"], vec![]),
            ("https URI", rrset(&[&["v=TLSRPTv1; rua=https://r.example.com/tlsrpt"]]), Valid, vec![], vec!["https://r.example.com/tlsrpt"]),
            ("https without host", rrset(&[&["v=TLSRPTv1; rua=https:///tlsrpt"]]), Valid, vec!["tlsrpt-rua-https-without-host"], vec!["https:///tlsrpt"]),
            ("plain http", rrset(&[&["v=TLSRPTv1; rua=http://r.example.com/t"]]), Valid, vec!["tlsrpt-rua-unsupported-scheme"], vec!["http://r.example.com/t"]),
            ("ftp scheme", rrset(&[&["v=TLSRPTv1; rua=ftp://r.example.com/t"]]), Valid, vec!["tlsrpt-rua-unsupported-scheme"], vec!["ftp://r.example.com/t"]),
            ("mailto without '@'", rrset(&[&["v=TLSRPTv1; rua=mailto:tlsrpt"]]), Valid, vec!["tlsrpt-rua-mailto-invalid"], vec!["mailto:tlsrpt"]),
            ("mailto with nothing after '@'", rrset(&[&["v=TLSRPTv1; rua=mailto:tlsrpt@"]]), Valid, vec!["tlsrpt-rua-mailto-invalid"], vec!["mailto:tlsrpt@"]),
        ];
        for (rule, rrset, status, want_codes, want_rua) in &rows {
            let a = assess(D, rrset);
            assert_eq!(a.status, *status, "{rule}: {rrset:?} gave {a:#?}");
            assert_eq!(codes(&a), *want_codes, "{rule}: {rrset:?}");
            let rua: Vec<&str> = a.rua.iter().map(ReportUri::as_str).collect();
            assert_eq!(rua, *want_rua, "{rule}: {rrset:?}");
            assert_eq!(
                a.parsed.is_some(),
                *status == Valid,
                "{rule}: parsed only when valid"
            );
            assert_eq!(
                a.reason.is_none(),
                *status == Valid,
                "{rule}: reason unless valid: {:?}",
                a.reason
            );
            for f in &a.findings {
                assert_eq!(f.subject, "_smtp._tls.example.com", "{rule}");
            }
        }
    }

    #[test]
    fn findings_quote_the_text_and_advise_the_exact_record() {
        // (rule, RRset, code, severity, text the message quotes, text the advice holds)
        #[rustfmt::skip]
        let rows: Vec<(&str, RRset, &str, Severity, &str, &str)> = vec![
            ("missing record: publish one", rrset(&[]), "tlsrpt-missing", Severity::Info,
             "you will not hear about delivery failures", "\"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\""),
            ("lone record, space before ';': used, but publish it without the space", rrset(&[&["v=TLSRPTv1 ;rua=mailto:a@example.com"]]), "tlsrpt-record-prefix-spacing", Severity::Warning,
             "\"v=TLSRPTv1 ;rua=mailto:a@example.com\" has whitespace before the first ';'", "publish exactly \"v=TLSRPTv1;rua=mailto:a@example.com\" instead"),
            ("lone record, spaces and tabs: only they are removed", rrset(&[&["v=TLSRPTv1 \t ; rua=mailto:a@example.com ; rua=https://r.example.com/t"]]), "tlsrpt-record-prefix-spacing", Severity::Warning,
             "senders that filter on the literal \"v=TLSRPTv1;\" discard it", "publish exactly \"v=TLSRPTv1; rua=mailto:a@example.com ; rua=https://r.example.com/t\" instead"),
            ("space before ';' beside another record: drop the space", rrset(&[&["v=TLSRPTv1 ;rua=mailto:a@example.com"], &["v=spf1 -all"]]), "tlsrpt-discarded-record", Severity::Error,
             "\"v=TLSRPTv1 ;rua=mailto:a@example.com\" does not begin with exactly \"v=TLSRPTv1;\" (whitespace before ';' is allowed only when it is the only TXT record at the name", "publish exactly \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("wrong case: fix the case", rrset(&[&["V=tlsrptV1; rua=mailto:a@example.com"]]), "tlsrpt-discarded-record", Severity::Error,
             "is case-sensitive", "publish exactly \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("quoted record: remove the quotes", rrset(&[&["\"v=TLSRPTv1; rua=mailto:a@example.com\""]]), "tlsrpt-discarded-record", Severity::Error,
             "wrapped in quote characters", "publish exactly \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("near miss beside a good record: delete it", rrset(&[&["v=TLSRPTv1;rua=mailto:a@example.com"], &["v=tlsrptv1;rua=mailto:b@example.com"]]), "tlsrpt-discarded-record", Severity::Warning,
             "\"v=tlsrptv1;rua=mailto:b@example.com\"", "delete it"),
            ("two bad URIs: plural", rrset(&[&["v=TLSRPTv1; rua=mailto:x,mailto:y"]]), "tlsrpt-rua-mailto-invalid", Severity::Error,
             "URIs \"mailto:x\", \"mailto:y\" name no mailbox", "\"v=TLSRPTv1; rua=mailto:x@example.com,mailto:y@example.com\""),
            ("near miss without rua: example record", rrset(&[&["v=TLSRPTv1"]]), "tlsrpt-discarded-record", Severity::Error,
             "\"v=TLSRPTv1\"", "\"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\""),
            ("two records: merge their destinations", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com"], &["v=TLSRPTv1; rua=mailto:b@example.com"]]), "tlsrpt-multiple-records", Severity::Error,
             "\"v=TLSRPTv1; rua=mailto:b@example.com\"", "\"v=TLSRPTv1; rua=mailto:a@example.com,mailto:b@example.com\""),
            ("unencoded '!': encode it", rrset(&[&["v=TLSRPTv1; rua=mailto:a!b@example.com"]]), "tlsrpt-invalid", Severity::Error,
             "'!' at byte 24 in URI \"mailto:a!b@example.com\"", "publish \"v=TLSRPTv1; rua=mailto:a%21b@example.com\""),
            ("whitespace around '=': remove it", rrset(&[&["v=TLSRPTv1; rua = mailto:a@example.com"]]), "tlsrpt-invalid", Severity::Error,
             "whitespace around '='", "publish \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("upper-case RUA: lower-case it", rrset(&[&["v=TLSRPTv1; RUA=mailto:a@example.com"]]), "tlsrpt-invalid", Severity::Error,
             "\"RUA=\" is not it", "publish \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("unencoded ',' in addresses: one mailto each", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com,b@example.com"]]), "tlsrpt-invalid", Severity::Error,
             "\"b@example.com\" at byte 37 is not a URI", "publish \"v=TLSRPTv1; rua=mailto:a@example.com,mailto:b@example.com\""),
            ("URIs separated by space: use ','", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com"]]), "tlsrpt-invalid", Severity::Error,
             "unexpected \"mailto:b@example.com\" at byte 37", "publish \"v=TLSRPTv1; rua=mailto:a@example.com,mailto:b@example.com\""),
            ("rua missing: example record", rrset(&[&["v=TLSRPTv1; x=1"]]), "tlsrpt-invalid", Severity::Error,
             "no \"rua=\" field", "e.g. \"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\""),
            ("control character: escaped in the message", rrset(&[&["v=TLSRPTv1;\nrua=mailto:a@example.com"]]), "tlsrpt-invalid", Severity::Error,
             "\"v=TLSRPTv1;\\u{a}rua=mailto:a@example.com\"", "publish \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("non-ASCII: escaped in the message, no guess", rrset(&[&["v=TLSRPTv1; rua=mailto:tlsrpt@exämple.com"]]), "tlsrpt-invalid", Severity::Error,
             "\\u{e4}", "e.g. \"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\""),
            ("plain http: use https", rrset(&[&["v=TLSRPTv1; rua=http://r.example.com/t"]]), "tlsrpt-rua-unsupported-scheme", Severity::Warning,
             "URI \"http://r.example.com/t\" uses plain http", "publish \"v=TLSRPTv1; rua=https://r.example.com/t\""),
            ("ftp beside mailto: drop it", rrset(&[&["v=TLSRPTv1; rua=ftp://r.example.com/t,mailto:a@example.com"]]), "tlsrpt-rua-unsupported-scheme", Severity::Warning,
             "URI \"ftp://r.example.com/t\" uses a scheme senders do not use", "publish \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("ftp alone: replace it", rrset(&[&["v=TLSRPTv1; rua=ftp://r.example.com/t"]]), "tlsrpt-rua-unsupported-scheme", Severity::Warning,
             "\"ftp://r.example.com/t\"", "publish \"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\""),
            ("mailto without '@': add the domain", rrset(&[&["v=TLSRPTv1; rua=mailto:reports"]]), "tlsrpt-rua-mailto-invalid", Severity::Error,
             "URI \"mailto:reports\" names no mailbox", "publish \"v=TLSRPTv1; rua=mailto:reports@example.com\""),
            ("https without host: drop it", rrset(&[&["v=TLSRPTv1; rua=https:/t,mailto:a@example.com"]]), "tlsrpt-rua-https-without-host", Severity::Error,
             "URI \"https:/t\" has no host", "\"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("duplicate URI: list it once", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com,mailto:A@example.com"]]), "tlsrpt-rua-duplicate", Severity::Warning,
             "URI \"mailto:A@example.com\" more than once", "list each destination once: \"v=TLSRPTv1; rua=mailto:a@example.com\""),
            ("second rua= field: merge", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com; rua=https://r.example.com/t"]]), "tlsrpt-rua-repeated-field", Severity::Warning,
             "has 2 \"rua=\" fields", "merge them into one field: \"v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/t\""),
            ("unknown field: may remove", rrset(&[&["v=TLSRPTv1; rua=mailto:a@example.com; x-note=hi"]]), "tlsrpt-unknown-field", Severity::Info,
             "\"x-note=hi\" not defined by RFC 8460", "\"v=TLSRPTv1; rua=mailto:a@example.com\""),
        ];
        for (rule, rrset, code, severity, message, advice) in &rows {
            let a = assess(D, rrset);
            let Some(f) = a.findings.iter().find(|f| f.code == *code) else {
                panic!("{rule}: no {code} for {rrset:?}: {:#?}", a.findings);
            };
            assert_eq!(f.severity, *severity, "{rule}: {f:#?}");
            assert!(
                f.message.contains(message),
                "{rule}: message lacks {message:?}: {}",
                f.message
            );
            assert!(
                f.advice.contains(advice),
                "{rule}: advice lacks {advice:?}: {}",
                f.advice
            );
            assert!(
                !f.message.ends_with('.') && !f.advice.ends_with('.'),
                "{rule}: {f:#?}"
            );
        }
    }

    #[test]
    fn selection_keeps_the_texts() {
        let two = rrset(&[
            &["v=TLSRPTv1; rua=mailto:a@example.com"],
            &["v=TLSRPTv1; rua=mailto:b@", "example.com"],
        ]);
        let a = assess(D, &two);
        assert_eq!(a.record, None, "multiple: no single record");
        assert_eq!(
            a.records,
            [
                "v=TLSRPTv1; rua=mailto:a@example.com",
                "v=TLSRPTv1; rua=mailto:b@example.com"
            ]
        );

        let one = rrset(&[
            &["v=spf1 -all"],
            &["v=TLSRPTv1;rua=mailto:a@", "example.com"],
        ]);
        let a = assess("example.com.", &one);
        assert!(a.findings.is_empty(), "{:#?}", a.findings);
        let a = assess(
            "example.com.",
            &[one[1].clone(), vec![b"v=tlsrptv1;".to_vec()]],
        );
        assert_eq!(
            a.findings[0].subject, "_smtp._tls.example.com",
            "trailing dot dropped"
        );
        assert_eq!(
            a.record.as_deref(),
            Some("v=TLSRPTv1;rua=mailto:a@example.com")
        );
        assert!(a.records.is_empty());
        assert_eq!(
            a.parsed.as_ref().map(TlsRptRecord::raw),
            a.record.as_deref()
        );

        let near = rrset(&[&["v=TLSRPTv1 ;rua=mailto:a@example.com"], &["v=spf1 -all"]]);
        let a = assess(D, &near);
        assert_eq!(
            a.record.as_deref(),
            Some("v=TLSRPTv1 ;rua=mailto:a@example.com"),
            "the near miss is shown"
        );
        assert!(a.rua.is_empty(), "a discarded record sends reports nowhere");

        let lone = rrset(&[&["v=TLSRPTv1 ;rua=mailto:a@example.com"]]);
        let a = assess(D, &lone);
        assert_eq!(
            a.record.as_deref(),
            Some("v=TLSRPTv1 ;rua=mailto:a@example.com"),
            "the lone record is shown as published"
        );
        assert_eq!(
            a.parsed.as_ref().map(TlsRptRecord::raw),
            a.record.as_deref()
        );
        assert!(a.records.is_empty() && a.reason.is_none());

        let bad = rrset(&[&["v=TLSRPTv1;rua="]]);
        let a = assess(D, &bad);
        assert_eq!(a.reason.as_deref(), Some("\"rua=\" at byte 15 has no URI"));
    }

    #[test]
    fn invalid_utf8_is_invalid_not_a_panic() {
        let rrset = vec![vec![
            b"v=TLSRPTv1; rua=mailto:a@ex".to_vec(),
            vec![0xff, 0xfe],
            b".com".to_vec(),
        ]];
        let a = assess(D, &rrset);
        assert_eq!(a.status, TlsRptStatus::Invalid, "{a:#?}");
        assert!(
            a.findings[0].message.contains("U+FFFD at byte 27"),
            "{}",
            a.findings[0].message
        );
    }

    #[test]
    fn long_records_are_judged_quickly_with_bounded_messages() {
        let mut long = String::from("v=TLSRPTv1; rua=mailto:a@example.com");
        while long.len() < 10_000 {
            long.push_str(",ftp://r.example.com/x,mailto:nobody");
        }
        let start = std::time::Instant::now();
        let a = assess(D, &[vec![long.clone().into_bytes()]]);
        assert_eq!(a.status, TlsRptStatus::Valid);
        assert_eq!(
            codes(&a),
            [
                "tlsrpt-rua-unsupported-scheme",
                "tlsrpt-rua-mailto-invalid",
                "tlsrpt-rua-duplicate"
            ]
        );
        for f in &a.findings {
            assert!(
                f.message.len() < 500,
                "{} message is {} bytes",
                f.code,
                f.message.len()
            );
        }
        let broken = format!("{long}!");
        let a = assess(D, &[vec![broken.into_bytes()], vec![long.into_bytes()]]);
        assert_eq!(a.status, TlsRptStatus::Multiple);
        assert!(
            a.findings[0].message.len() < 500,
            "{}",
            a.findings[0].message.len()
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
    }

    /// Deterministic pseudo-random RRsets (a 64-bit LCG, Knuth's MMIX
    /// constants) built from pieces of the grammar and raw bytes: no input
    /// may panic, and the assessment must be consistent.
    #[test]
    fn pseudo_random_rrsets_never_panic() {
        #[rustfmt::skip]
        const PIECES: &[&[u8]] = &[
            b"v=TLSRPTv1", b";", b" ", b"\t", b"rua=", b"RUA=", b"mailto:", b"https://", b"http:",
            b"a@example.com", b",", b"=", b"!", b"%", b"%2", b"%21", b"x", b"ext.name-1", b"\"",
            b"\n", b"\0", b"\xc3\xa9", b"\xff", b"?", b"@", b"[", b"]", b"/", b"v=tlsrptv1", b"v = TLSRPTv1",
        ];
        const DELIMS: &[&[u8]] = &[b";", b" ; ", b";\t"];
        #[rustfmt::skip]
        const URIS: &[&[u8]] = &[
            b"mailto:a@example.com", b"https://r.example.com/x", b"mailto:x", b"ftp://h/x",
            b"http://h/p", b"https:///p", b"MAILTO:A@example.com", b"mailto:a%21b@example.com",
        ];
        let mut state: u64 = 0x5eed_1234_abcd_0042;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            usize::try_from(state >> 33).unwrap_or(0) % bound
        };
        let mut statuses = BTreeSet::new();
        let mut reached = BTreeSet::new();
        for round in 0..4000 {
            let mut rrset = Vec::new();
            for _ in 0..next(4) {
                // Half the records are built field by field, so that many
                // parse and reach the judgement of URIs; all are then
                // mutated with pieces of the grammar and raw bytes.
                let mut text = Vec::new();
                if next(2) == 0 {
                    text.extend_from_slice(b"v=TLSRPTv1");
                    for _ in 0..1 + next(3) {
                        text.extend_from_slice(DELIMS[next(DELIMS.len())]);
                        if next(3) == 0 {
                            text.extend_from_slice(b"ext=1");
                            continue;
                        }
                        text.extend_from_slice(b"rua=");
                        for i in 0..1 + next(3) {
                            if i > 0 {
                                text.extend_from_slice(b" , ");
                            }
                            text.extend_from_slice(URIS[next(URIS.len())]);
                        }
                    }
                }
                for _ in 0..next(if text.is_empty() { 12 } else { 3 }) {
                    let at = next(text.len() + 1);
                    if next(5) == 0 {
                        text.insert(at, u8::try_from(next(256)).unwrap_or(0));
                    } else {
                        let piece = PIECES[next(PIECES.len())];
                        text.splice(at..at, piece.iter().copied());
                    }
                }
                // Cut into character-strings at random places.
                let mut record = Vec::new();
                let mut rest = text.as_slice();
                while rest.len() > 1 && next(3) == 0 {
                    let (head, tail) = rest.split_at(1 + next(rest.len() - 1));
                    record.push(head.to_vec());
                    rest = tail;
                }
                record.push(rest.to_vec());
                rrset.push(record);
            }
            let a = assess(D, &rrset);
            statuses.insert(format!("{:?}", a.status));
            reached.extend(a.findings.iter().map(|f| f.code.as_str().to_string()));
            let ctx = format!("round {round}: {rrset:?}");
            assert!(
                !matches!(a.status, TlsRptStatus::Bogus | TlsRptStatus::Error),
                "{ctx}"
            );
            assert_eq!(a.parsed.is_some(), a.status == TlsRptStatus::Valid, "{ctx}");
            assert!(
                a.status != TlsRptStatus::Valid || !a.rua.is_empty(),
                "{ctx}"
            );
            assert!(
                !a.findings.is_empty() || a.status == TlsRptStatus::Valid,
                "{ctx}"
            );
            for f in &a.findings {
                assert!(
                    f.code.as_str().starts_with("tlsrpt-")
                        && !f.message.is_empty()
                        && !f.advice.is_empty(),
                    "{ctx}"
                );
                // Every record the advice proposes parses. Proposals are in
                // canonical form; an extension value may itself hold '"', so
                // some prefix of the text up to a '"' must parse.
                for (_, rest) in f
                    .advice
                    .match_indices("\"v=TLSRPTv1; rua=")
                    .map(|(i, _)| f.advice.split_at(i + 1))
                {
                    let ok = rest
                        .match_indices('"')
                        .any(|(end, _)| record::parse(&rest[..end]).is_ok());
                    assert!(ok, "{ctx}: advice proposes an invalid record: {}", f.advice);
                }
            }
        }
        // The generator reaches every verdict, so the assertions above ran on each.
        assert_eq!(
            statuses,
            ["Invalid", "Missing", "Multiple", "Valid"]
                .map(String::from)
                .into(),
            "statuses reached"
        );
        let every_code = [
            "tlsrpt-discarded-record",
            "tlsrpt-invalid",
            "tlsrpt-missing",
            "tlsrpt-multiple-records",
            "tlsrpt-record-prefix-spacing",
            "tlsrpt-rua-duplicate",
            "tlsrpt-rua-https-without-host",
            "tlsrpt-rua-mailto-invalid",
            "tlsrpt-rua-repeated-field",
            "tlsrpt-rua-unsupported-scheme",
            "tlsrpt-unknown-field",
        ];
        assert_eq!(
            reached,
            every_code.map(String::from).into(),
            "finding codes reached"
        );
    }
}
