//! The `_mta-sts.<domain>` TXT record (RFC 8461 §3.1) and its assessment.
//!
//! The ABNF we follow:
//!
//! ```text
//! sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
//! sts-field       = sts-id / sts-extension        ; sts-id is required
//! sts-field-delim = *WSP ";" *WSP
//! sts-version     = %s"v=STSv1"
//! sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
//! sts-extension   = sts-ext-name "=" sts-ext-value
//! sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
//! sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)  ; no "=", ";", SP, CTLs
//! ```
//!
//! Consequences: `v=STSv1` comes first and is case-sensitive; whitespace is
//! allowed around `;` but nowhere else, so trailing whitespace without a
//! final `;` is outside the grammar; a trailing `;` is allowed. A repeated
//! `id`: the first counts (RFC 8461 §3.2 says so of policy fields; we read
//! it as applying to the record too, as mox does).
//!
//! Choosing the record out of the RRset (when several TXT records come
//! back, discard those that do not begin with `v=STSv1;`; exactly one must
//! remain) is [`crate::txt_record`]. A lone `v=STSv1 ; id=...` is not
//! filtered (§3.1 filters "if multiple TXT records ... are returned") and
//! fits the grammar, so it is `valid` and its policy is fetched and applied,
//! as mox, Stalwart and postfix-mta-sts-resolver do; the warning
//! `sts-record-prefix-spacing` says that senders filtering on the literal
//! prefix regardless see no MTA-STS, with the record to publish. Left out:
//! the DNS lookup and its DNSSEC status, CNAME following (§3.1).

use serde::Serialize;
use thiserror::Error;

use super::escape_str;
use crate::finding::{Code, Finding, Severity};
use crate::txt_record::{self, Selection};

/// The literal senders filter on (RFC 8461 §3.1).
const TAG: &str = "v=STSv1;";
/// The version field as the grammar has it.
const VERSION: &str = "v=STSv1";
/// Longest `id` (RFC 8461 §3.1).
const MAX_ID: usize = 32;
/// An `id` to show in advice: a timestamp, as RFC 8461 §3.1's example.
const ID_EXAMPLE: &str = "20261125T120000";

/// Why a TXT record is not a valid MTA-STS record (RFC 8461 §3.1).
///
/// Text from the record is escaped and cut to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record does not start with `v=STSv1` (or starts with, e.g.,
    /// `v=STSv10`).
    #[error("record does not start with `v=STSv1`: `{text}`")]
    NotStsV1 {
        /// The record.
        text: String,
    },
    /// Something other than whitespace between `v=STSv1` and the first `;`.
    #[error("`v=STSv1` must be followed by `;`: `{text}`")]
    MissingSemicolon {
        /// The record.
        text: String,
    },
    /// No `id=` field.
    #[error("record has no `id=` field")]
    MissingId,
    /// No `id=` but a field named `ID`, `Id`…: names are case-sensitive.
    #[error("record has no `id=` field; `{name}=` is not `id=`, field names are case-sensitive")]
    IdWrongCase {
        /// The look-alike name.
        name: String,
    },
    /// An `id` that is empty or has characters other than letters and digits.
    #[error("id `{id}` must be 1 to 32 letters and digits")]
    InvalidId {
        /// The id, escaped.
        id: String,
    },
    /// An `id` of more than 32 letters and digits.
    #[error("id `{id}` is {length} characters long, the limit is 32")]
    IdTooLong {
        /// The id.
        id: String,
        /// Its length.
        length: usize,
    },
    /// Two `;` with only whitespace between them.
    #[error("record has an empty field between two `;`")]
    EmptyField,
    /// A field without `=`.
    #[error("field `{field}` has no `=`")]
    MissingEquals {
        /// The field, escaped.
        field: String,
    },
    /// A field name outside `sts-ext-name`.
    #[error("field name `{name}` is invalid (letters, digits, `_`, `-`, `.`; at most 32)")]
    InvalidFieldName {
        /// The name, escaped.
        name: String,
    },
    /// A field value that is empty or holds `=`, spaces, control
    /// characters or non-ASCII.
    #[error(
        "field `{name}` has an invalid value `{value}` (printable ASCII without `=`, `;` or spaces)"
    )]
    InvalidFieldValue {
        /// The field name.
        name: String,
        /// The value, escaped.
        value: String,
    },
    /// Whitespace at the end without a final `;`.
    #[error("record ends with whitespace that is not followed by `;`: `{text}`")]
    TrailingWhitespace {
        /// The record.
        text: String,
    },
}

/// A valid MTA-STS TXT record. Built only by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsRecord {
    raw: String,
    id: String,
    extensions: Vec<(String, String)>,
    duplicates: Vec<String>,
}

impl StsRecord {
    /// The record as published (its strings concatenated).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The policy id (the first `id=` field).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Extension fields `(name, value)`, in record order; senders ignore them.
    pub fn extensions(&self) -> &[(String, String)] {
        &self.extensions
    }

    /// Names of fields that appeared again and were ignored (`id`, `v`).
    pub fn duplicates(&self) -> &[String] {
        &self.duplicates
    }
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `sts-ext-value`: `;` cannot occur, the record was split on it.
fn is_ext_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'=')
}

fn check_id(id: &str) -> Result<(), RecordError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RecordError::InvalidId { id: escape_str(id) });
    }
    if id.len() > MAX_ID {
        return Err(RecordError::IdTooLong {
            id: escape_str(id),
            length: id.len(),
        });
    }
    Ok(())
}

/// Parses one MTA-STS TXT record, its character-strings already
/// concatenated (RFC 8461 §3.1). Linear in the record's length.
pub fn parse(text: &str) -> Result<StsRecord, RecordError> {
    let Some(rest) = text.strip_prefix(VERSION) else {
        return Err(RecordError::NotStsV1 {
            text: escape_str(text),
        });
    };
    let mut pieces = rest.split(';');
    let head = pieces.next().unwrap_or("");
    if !head.chars().all(is_wsp) {
        return Err(if head.starts_with(is_wsp) {
            RecordError::MissingSemicolon {
                text: escape_str(text),
            }
        } else {
            // `v=STSv10;`, `v=STSv1x;`: another version value.
            RecordError::NotStsV1 {
                text: escape_str(text),
            }
        });
    }
    let fields: Vec<&str> = pieces.collect();
    let last = fields.len().saturating_sub(1);
    let mut id: Option<String> = None;
    let mut extensions = Vec::new();
    let mut duplicates = Vec::new();
    for (i, piece) in fields.into_iter().enumerate() {
        // The delimiter's WSP: before a field always, after it only when a
        // `;` follows.
        let field = piece.trim_start_matches(is_wsp);
        let field = if i == last {
            if field.is_empty() {
                // `[sts-field-delim]`: the record ended with `;` and WSP.
                break;
            }
            if field.ends_with(is_wsp) {
                return Err(RecordError::TrailingWhitespace {
                    text: escape_str(text),
                });
            }
            field
        } else {
            field.trim_end_matches(is_wsp)
        };
        if field.is_empty() {
            return Err(RecordError::EmptyField);
        }
        let Some((name, value)) = field.split_once('=') else {
            return Err(RecordError::MissingEquals {
                field: escape_str(field),
            });
        };
        if !txt_record::is_extension_name(name) {
            return Err(RecordError::InvalidFieldName {
                name: escape_str(name),
            });
        }
        match name {
            "id" => {
                check_id(value)?;
                if id.is_some() {
                    duplicates.push(name.to_string());
                } else {
                    id = Some(value.to_string());
                }
            }
            _ => {
                if !is_ext_value(value) {
                    return Err(RecordError::InvalidFieldValue {
                        name: name.to_string(),
                        value: escape_str(value),
                    });
                }
                if name == "v" {
                    // A second version field: grammatical as an extension,
                    // but surely a mistake.
                    duplicates.push(name.to_string());
                } else {
                    extensions.push((name.to_string(), value.to_string()));
                }
            }
        }
    }
    let Some(id) = id else {
        return Err(
            match extensions
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("id"))
            {
                Some((name, _)) => RecordError::IdWrongCase { name: name.clone() },
                None => RecordError::MissingId,
            },
        );
    };
    Ok(StsRecord {
        raw: text.to_string(),
        id,
        extensions,
        duplicates,
    })
}

/// What the `_mta-sts` RRset says (the `mta_sts.record` key of the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StsRecordStatus {
    /// Exactly one record (beginning `v=STSv1;`, or the RRset's only
    /// record beginning `v=STSv1 ;`), and it parses.
    Valid,
    /// One record that does not parse, or only records senders discard.
    Invalid,
    /// No record starts with `v=STSv1`.
    Missing,
    /// More than one record starts with `v=STSv1;`.
    Multiple,
    /// The DNSSEC validation failed (set by the scan, not here).
    Bogus,
    /// The lookup failed (set by the scan, not here).
    Error,
}

/// The verdict on a domain's `_mta-sts` TXT RRset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StsRecordAssessment {
    /// The verdict.
    pub status: StsRecordStatus,
    /// The policy id, when the record is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The record as published, when there is one to show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// All candidate records, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
    /// Why the status is not `valid`, in one sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Findings, codes `sts-record-*`. Not serialised here: the scan moves
    /// them into the report's findings.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

impl StsRecordAssessment {
    /// The verdict when the TXT lookup itself failed: `bogus` when DNSSEC
    /// validation failed, else `error`; nothing is known of the record.
    pub fn lookup_failed(bogus: bool, reason: Option<String>) -> StsRecordAssessment {
        StsRecordAssessment {
            status: if bogus {
                StsRecordStatus::Bogus
            } else {
                StsRecordStatus::Error
            },
            id: None,
            record: None,
            records: Vec::new(),
            reason,
            findings: Vec::new(),
        }
    }
}

/// Judges the TXT RRset at `_mta-sts.<domain>` (each record given as its
/// character-strings).
///
/// A missing record gives no finding: whether that matters (e.g. under
/// `--require-sts`) is the scan's call. An invalid or multiple record gives
/// an error finding: senders then treat the domain as publishing no
/// MTA-STS (RFC 8461 §3.1).
pub fn assess_record(domain: &str, rrset: &[Vec<Vec<u8>>]) -> StsRecordAssessment {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let subject = format!("_mta-sts.{domain}");
    let mut assessment = StsRecordAssessment {
        status: StsRecordStatus::Missing,
        id: None,
        record: None,
        records: Vec::new(),
        reason: None,
        findings: Vec::new(),
    };
    match txt_record::select(rrset, TAG) {
        Selection::None { near_misses } if near_misses.is_empty() => {
            assessment.reason = Some(format!("no TXT record at {subject} begins with `{TAG}`"));
        }
        Selection::None { near_misses } => {
            assessment.status = StsRecordStatus::Invalid;
            assessment.record = near_misses.first().cloned();
            assessment.reason = Some(format!(
                "no TXT record starts with exactly `{TAG}`, so senders discard them all"
            ));
            for text in &near_misses {
                // Only reached beside other TXT records: a lone spaced
                // record is selected and used.
                let (message, advice) = if txt_record::spaced_before_semicolon(text, TAG) {
                    (
                        format!(
                            "the TXT record `{}` does not begin with exactly `{TAG}`: whitespace before the `;` is allowed only when it is the only TXT record at {subject}, and it is not, so senders that follow RFC 8461 §3.1 discard it and see no MTA-STS (mox and postfix-mta-sts-resolver still read it)",
                            escape_str(text)
                        ),
                        format!(
                            "publish exactly `{}` instead",
                            escape_str(&literal_prefix(text))
                        ),
                    )
                } else {
                    (
                        format!(
                            "the TXT record `{}` does not begin with exactly `{TAG}`, so senders discard it (RFC 8461 §3.1) and see no MTA-STS",
                            escape_str(text)
                        ),
                        format!(
                            "begin the record with `{TAG}` exactly: this case, no space before the `;`, e.g. `v=STSv1; id={ID_EXAMPLE};`"
                        ),
                    )
                };
                assessment.findings.push(Finding::new(
                    Severity::Error,
                    Code::StsRecordDiscarded,
                    subject.clone(),
                    message,
                    advice,
                ));
            }
            if near_misses.len() > 1 {
                assessment.records = near_misses;
            }
        }
        Selection::Multiple(records) => {
            assessment.status = StsRecordStatus::Multiple;
            assessment.reason = Some(format!("{} TXT records start with `{TAG}`", records.len()));
            let list = records
                .iter()
                .map(|r| format!("`{}`", escape_str(r)))
                .collect::<Vec<_>>()
                .join(", ");
            assessment.findings.push(Finding::new(
                Severity::Error,
                Code::StsRecordMultiple,
                subject.clone(),
                format!(
                    "{} TXT records start with `{TAG}` ({list}): senders require exactly one and otherwise see no MTA-STS (RFC 8461 §3.1)",
                    records.len()
                ),
                format!("delete all but one; keep a single `v=STSv1; id=...;` record at {subject}"),
            ));
            assessment.records = records;
        }
        Selection::One(text) => {
            judge_one(&text, &subject, &mut assessment);
            assessment.record = Some(text);
        }
        Selection::LoneSpaced(text) => {
            judge_one(&text, &subject, &mut assessment);
            if assessment.status == StsRecordStatus::Valid {
                let fixed = literal_prefix(&text);
                assessment.findings.insert(
                    0,
                    Finding::new(
                        Severity::Warning,
                        Code::StsRecordPrefixSpacing,
                        subject.clone(),
                        format!(
                            "the MTA-STS record `{}` has whitespace before the first `;`: as the only TXT record here it is valid (RFC 8461 §3.1) and mox, Stalwart and postfix-mta-sts-resolver apply the policy, but senders that filter on the literal `{TAG}` see no MTA-STS",
                            escape_str(&text)
                        ),
                        format!(
                            "publish exactly `{}` instead: beside another TXT record at this name, §3.1 has the spaced one discarded",
                            escape_str(&fixed)
                        ),
                    ),
                );
            }
            assessment.record = Some(text);
        }
    }
    assessment
}

/// The record with the whitespace between `v=STSv1` and the first `;`
/// removed and nothing else changed; the text must begin with the version.
fn literal_prefix(text: &str) -> String {
    let rest = text.get(VERSION.len()..).unwrap_or_default();
    format!("{VERSION}{}", rest.trim_start_matches(is_wsp))
}

/// Parses the selected record into `assessment`: status, id or reason, and
/// the findings of a valid or an invalid record.
fn judge_one(text: &str, subject: &str, assessment: &mut StsRecordAssessment) {
    match parse(text) {
        Ok(record) => {
            assessment.status = StsRecordStatus::Valid;
            assessment.id = Some(record.id().to_string());
            for name in record.duplicates() {
                assessment.findings.push(Finding::new(
                    Severity::Warning,
                    Code::StsRecordDuplicateField,
                    subject,
                    format!(
                        "the field `{name}` appears more than once in `{}`; senders use the first",
                        escape_str(text)
                    ),
                    format!("keep a single `{name}=` field"),
                ));
            }
        }
        Err(err) => {
            assessment.status = StsRecordStatus::Invalid;
            assessment.reason = Some(err.to_string());
            let (code, advice) = match &err {
                RecordError::InvalidId { .. } | RecordError::IdTooLong { .. } => (
                    Code::StsRecordInvalidId,
                    format!(
                        "use 1 to 32 letters and digits, e.g. a timestamp such as {ID_EXAMPLE}, and change it whenever the policy changes"
                    ),
                ),
                RecordError::MissingId | RecordError::IdWrongCase { .. } => (
                    Code::StsRecordMissingId,
                    format!("add a lower-case `id=` field, e.g. `v=STSv1; id={ID_EXAMPLE};`"),
                ),
                _ => (
                    Code::StsRecordInvalid,
                    format!(
                        "publish the record in the RFC 8461 §3.1 form, e.g. `v=STSv1; id={ID_EXAMPLE};`"
                    ),
                ),
            };
            assessment.findings.push(Finding::new(
                Severity::Error,
                code,
                subject,
                format!(
                    "the MTA-STS record `{}` is invalid ({err}), so senders see no MTA-STS policy (RFC 8461 §3.1)",
                    escape_str(text)
                ),
                advice,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rules() {
        // (rule, record, Some(id) when valid)
        let long_id = "a".repeat(32);
        let too_long = "a".repeat(33);
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "minimal record",
                "v=STSv1; id=20160831085700Z",
                Some("20160831085700Z"),
            ),
            (
                "trailing semicolon is allowed",
                "v=STSv1; id=abc123;",
                Some("abc123"),
            ),
            (
                "trailing semicolon then spaces is allowed",
                "v=STSv1; id=abc123;  ",
                Some("abc123"),
            ),
            ("no space after semicolon", "v=STSv1;id=1", Some("1")),
            ("tabs around the semicolon", "v=STSv1\t;\tid=1", Some("1")),
            (
                "space before a later semicolon",
                "v=STSv1; id=1 ; x=y",
                Some("1"),
            ),
            (
                "extension fields are allowed",
                "v=STSv1; id=1; ext_a.b-c=some!value",
                Some("1"),
            ),
            (
                "id of 32 characters is accepted",
                &format!("v=STSv1; id={long_id}"),
                Some(long_id.as_str()),
            ),
            (
                "duplicate id: the first counts",
                "v=STSv1; id=first; id=second",
                Some("first"),
            ),
            (
                "id of 33 characters is rejected",
                &format!("v=STSv1; id={too_long}"),
                None,
            ),
            (
                "id with a hyphen is rejected",
                "v=STSv1; id=2024-01-01",
                None,
            ),
            ("empty id is rejected", "v=STSv1; id=", None),
            ("missing id is rejected", "v=STSv1; foo=bar", None),
            ("version alone is rejected", "v=STSv1", None),
            ("version and semicolon alone are rejected", "v=STSv1;", None),
            ("version is case-sensitive", "v=stsv1; id=1", None),
            ("id name is case-sensitive", "v=STSv1; ID=1", None),
            ("version must come first", "id=1; v=STSv1", None),
            ("other version value is rejected", "v=STSv10; id=1", None),
            ("leading space is rejected", " v=STSv1; id=1", None),
            (
                "missing semicolon after version is rejected",
                "v=STSv1 id=1",
                None,
            ),
            ("empty field is rejected", "v=STSv1;; id=1", None),
            ("whitespace-only field is rejected", "v=STSv1; ; id=1", None),
            ("field without = is rejected", "v=STSv1; id=1; flag", None),
            ("space around = is rejected", "v=STSv1; id = 1", None),
            (
                "space inside a value is rejected",
                "v=STSv1; id=1; x=a b",
                None,
            ),
            (
                "= inside an extension value is rejected",
                "v=STSv1; id=1; x=a=b",
                None,
            ),
            (
                "invalid extension name is rejected",
                "v=STSv1; id=1; _x=1",
                None,
            ),
            (
                "trailing whitespace without semicolon is rejected",
                "v=STSv1; id=1 ",
                None,
            ),
            ("NUL is rejected", "v=STSv1; id=1\0", None),
            (
                "replacement character from bad UTF-8 is rejected",
                "v=STSv1; id=1; x=\u{fffd}",
                None,
            ),
        ];
        for (rule, text, want) in cases {
            let got = parse(text);
            match want {
                Some(id) => {
                    let record =
                        got.unwrap_or_else(|e| panic!("{rule}: input {text:?} gave {e:?}"));
                    assert_eq!(record.id(), *id, "{rule}: input {text:?}");
                    assert_eq!(record.raw(), *text, "{rule}: raw kept");
                }
                None => assert!(got.is_err(), "{rule}: input {text:?} gave {got:?}"),
            }
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let cases: &[(&str, &str, RecordError)] = &[
            (
                "id with hyphen",
                "v=STSv1; id=a-b",
                RecordError::InvalidId { id: "a-b".into() },
            ),
            ("missing id", "v=STSv1; x=1", RecordError::MissingId),
            (
                "id wrong case",
                "v=STSv1; ID=1",
                RecordError::IdWrongCase { name: "ID".into() },
            ),
            (
                "not STSv1",
                "v=STSv2; id=1",
                RecordError::NotStsV1 {
                    text: "v=STSv2; id=1".into(),
                },
            ),
            (
                "missing semicolon",
                "v=STSv1 id=1",
                RecordError::MissingSemicolon {
                    text: "v=STSv1 id=1".into(),
                },
            ),
            ("empty field", "v=STSv1;;id=1", RecordError::EmptyField),
            (
                "no equals",
                "v=STSv1; id",
                RecordError::MissingEquals { field: "id".into() },
            ),
            (
                "trailing space",
                "v=STSv1; id=1\t",
                RecordError::TrailingWhitespace {
                    text: "v=STSv1; id=1\\x09".into(),
                },
            ),
        ];
        for (rule, text, want) in cases {
            assert_eq!(
                parse(text).as_ref().err(),
                Some(want),
                "{rule}: input {text:?}"
            );
        }
        let err = parse(&format!("v=STSv1; id={}", "1".repeat(40))).expect_err("too long");
        assert!(
            matches!(err, RecordError::IdTooLong { length: 40, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn extensions_and_duplicates_are_kept() {
        let record = parse("v=STSv1; id=1; a=b; id=2; v=STSv1; c=d;").expect("valid");
        assert_eq!(
            record.extensions(),
            &[
                ("a".to_string(), "b".to_string()),
                ("c".to_string(), "d".to_string())
            ]
        );
        assert_eq!(record.duplicates(), &["id".to_string(), "v".to_string()]);
    }

    fn rr(parts: &[&str]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    fn codes(a: &StsRecordAssessment) -> Vec<(&str, Severity)> {
        a.findings
            .iter()
            .map(|f| (f.code.as_str(), f.severity))
            .collect()
    }

    #[test]
    fn assessment_rules() {
        type Case<'a> = (
            &'a str,
            Vec<Vec<Vec<u8>>>,
            StsRecordStatus,
            &'a [(&'a str, Severity)],
        );
        let cases: Vec<Case> = vec![
            (
                "valid record",
                vec![rr(&["v=STSv1; id=20261125T120000;"])],
                StsRecordStatus::Valid,
                &[],
            ),
            (
                "strings are concatenated",
                vec![rr(&["v=STSv1; id=2026", "1125T120000"])],
                StsRecordStatus::Valid,
                &[],
            ),
            (
                "other TXT records are ignored",
                vec![rr(&["v=spf1 -all"]), rr(&["v=STSv1; id=1"])],
                StsRecordStatus::Valid,
                &[],
            ),
            (
                "no record is missing, without finding",
                vec![],
                StsRecordStatus::Missing,
                &[],
            ),
            (
                "only unrelated records is missing",
                vec![rr(&["hello"])],
                StsRecordStatus::Missing,
                &[],
            ),
            (
                "two records are multiple",
                vec![rr(&["v=STSv1; id=1"]), rr(&["v=STSv1; id=2"])],
                StsRecordStatus::Multiple,
                &[("sts-record-multiple", Severity::Error)],
            ),
            (
                "lone record with space before semicolon is valid, with a warning",
                vec![rr(&["v=STSv1 ; id=1"])],
                StsRecordStatus::Valid,
                &[("sts-record-prefix-spacing", Severity::Warning)],
            ),
            (
                "lone record with tabs before semicolon is valid, with a warning",
                vec![rr(&["v=STSv1\t\t;id=1;"])],
                StsRecordStatus::Valid,
                &[("sts-record-prefix-spacing", Severity::Warning)],
            ),
            (
                "lone spaced record keeps its other findings",
                vec![rr(&["v=STSv1 ; id=1; id=2"])],
                StsRecordStatus::Valid,
                &[
                    ("sts-record-prefix-spacing", Severity::Warning),
                    ("sts-record-duplicate-field", Severity::Warning),
                ],
            ),
            (
                "lone spaced record with a bad id is an invalid id",
                vec![rr(&["v=STSv1 ; id=2026-11-25"])],
                StsRecordStatus::Invalid,
                &[("sts-record-invalid-id", Severity::Error)],
            ),
            (
                "space before semicolon beside another TXT record is discarded",
                vec![rr(&["v=STSv1 ; id=1"]), rr(&["v=spf1 -all"])],
                StsRecordStatus::Invalid,
                &[("sts-record-discarded", Severity::Error)],
            ),
            (
                "space before semicolon beside an exact record: the exact one counts",
                vec![rr(&["v=STSv1 ; id=1"]), rr(&["v=STSv1; id=2"])],
                StsRecordStatus::Valid,
                &[],
            ),
            (
                "space without semicolon is discarded",
                vec![rr(&["v=STSv1 id=1"])],
                StsRecordStatus::Invalid,
                &[("sts-record-discarded", Severity::Error)],
            ),
            (
                "lower-case version is discarded by senders",
                vec![rr(&["v=stsv1; id=1"])],
                StsRecordStatus::Invalid,
                &[("sts-record-discarded", Severity::Error)],
            ),
            (
                "id with punctuation is an invalid id",
                vec![rr(&["v=STSv1; id=2026-11-25;"])],
                StsRecordStatus::Invalid,
                &[("sts-record-invalid-id", Severity::Error)],
            ),
            (
                "id too long is an invalid id",
                vec![rr(&["v=STSv1; id=123456789012345678901234567890123"])],
                StsRecordStatus::Invalid,
                &[("sts-record-invalid-id", Severity::Error)],
            ),
            (
                "missing id",
                vec![rr(&["v=STSv1; x=1"])],
                StsRecordStatus::Invalid,
                &[("sts-record-missing-id", Severity::Error)],
            ),
            (
                "other syntax error",
                vec![rr(&["v=STSv1; id=1; x"])],
                StsRecordStatus::Invalid,
                &[("sts-record-invalid", Severity::Error)],
            ),
            (
                "duplicate id is a warning",
                vec![rr(&["v=STSv1; id=1; id=2"])],
                StsRecordStatus::Valid,
                &[("sts-record-duplicate-field", Severity::Warning)],
            ),
        ];
        for (rule, rrset, status, want) in cases {
            let a = assess_record("example.com", &rrset);
            assert_eq!(a.status, status, "{rule}: input {rrset:?} gave {a:#?}");
            assert_eq!(codes(&a), want, "{rule}: input {rrset:?}");
            for f in &a.findings {
                assert_eq!(f.subject, "_mta-sts.example.com", "{rule}");
            }
        }
    }

    #[test]
    fn assessment_fields() {
        let a = assess_record("example.com.", &[rr(&["v=STSv1; id=abc;"])]);
        assert_eq!(a.id.as_deref(), Some("abc"));
        assert_eq!(a.record.as_deref(), Some("v=STSv1; id=abc;"));
        assert!(a.reason.is_none() && a.records.is_empty());

        let a = assess_record(
            "example.com",
            &[rr(&["v=STSv1; id=1"]), rr(&["v=STSv1; id=2"])],
        );
        assert_eq!(
            a.records,
            vec!["v=STSv1; id=1".to_string(), "v=STSv1; id=2".to_string()]
        );
        assert!(a.id.is_none());

        let a = assess_record("example.com", &[rr(&["v=STSv1; id=2026-11-25"])]);
        assert!(
            a.findings[0].advice.contains("20261125T120000"),
            "{}",
            a.findings[0].advice
        );
        assert!(
            a.reason
                .as_deref()
                .is_some_and(|r| r.contains("2026-11-25")),
            "{:?}",
            a.reason
        );

        let a = assess_record(
            "example.com",
            &[rr(&["v=STSv1 ; id=1"]), rr(&["google-site-verification=x"])],
        );
        assert!(
            a.findings[0].message.contains("discard")
                && a.findings[0]
                    .message
                    .contains("allowed only when it is the only TXT record"),
            "{}",
            a.findings[0].message
        );
        assert_eq!(
            a.findings[0].advice, "publish exactly `v=STSv1; id=1` instead",
            "the exact record"
        );
        assert_eq!(a.record.as_deref(), Some("v=STSv1 ; id=1"));
        assert!(a.id.is_none());

        let a = assess_record("example.com", &[rr(&["v=STSv1 \t; id=20261125T120000;"])]);
        assert_eq!(a.status, StsRecordStatus::Valid);
        assert_eq!(a.id.as_deref(), Some("20261125T120000"), "the id is used");
        assert_eq!(
            a.record.as_deref(),
            Some("v=STSv1 \t; id=20261125T120000;"),
            "shown as published"
        );
        assert!(a.reason.is_none());
        let f = &a.findings[0];
        assert_eq!(f.code, "sts-record-prefix-spacing");
        assert!(
            f.message
                .contains("filter on the literal `v=STSv1;` see no MTA-STS"),
            "{}",
            f.message
        );
        assert!(
            f.advice
                .starts_with("publish exactly `v=STSv1; id=20261125T120000;` instead"),
            "only the whitespace before the `;` goes: {}",
            f.advice
        );
    }
}
