//! The MTA-STS policy body (RFC 8461 §3.2) and what is worth telling its owner.
//!
//! The policy is `key: value` lines, as served at
//! `https://mta-sts.<domain>/.well-known/mta-sts.txt`. The ABNF we follow:
//!
//! ```text
//! sts-policy-record      = sts-policy-field *WSP
//!                          *(sts-policy-term sts-policy-field *WSP)
//!                          [sts-policy-term]
//! sts-policy-term        = LF / CRLF
//! sts-policy-field-delim = ":" *WSP
//! sts-policy-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
//! sts-policy-max-age-value = 1*10(DIGIT)
//! ```
//!
//! What that means here, rule by rule:
//! - Lines end in LF or CRLF, mixed freely; a lone CR ends nothing and is an
//!   error. One line break after the last line is allowed; an empty line
//!   anywhere (two line breaks at the end included) is not in the grammar.
//! - The delimiter is `:` then optional WSP: `version:STSv1` is legal,
//!   `version : STSv1` and `  version: STSv1` are not.
//! - Trailing WSP on a line is the `*WSP` after `sts-policy-field`: it is
//!   allowed and not part of the value, so values are trimmed of spaces and
//!   tabs at the end. Other trailing characters (a lone CR, NUL) are not WSP.
//! - Keys and the defined values are case-sensitive (`%s"..."`, RFC 7405).
//! - `version`, `mode`, `max_age` are required once, in any order (the ABNF
//!   lists fields without an order); `mx` at least once unless mode is none.
//! - A repeated field other than `mx`: the first counts, the rest are
//!   ignored (§3.2) and noted. Every line must still be grammatical, so a
//!   repeated field with a bad value makes the policy invalid, as it does for
//!   strict senders (mox).
//! - Unknown keys are ignored (§3.2) and noted; their value must still be
//!   an `sts-policy-ext-value` (printable, inner spaces only).
//! - `max_age` is 1 to 10 digits and at most 31557600 (§3.2): a larger value
//!   breaks the stated maximum and makes the policy invalid (our choice,
//!   SPEC §2; some senders clamp it instead).
//!
//! Left out: the HTTP fetch, media type and size cap (§3.3), and caching.

use crate::txt_record;
use serde::Serialize;
use thiserror::Error;

use super::escape;
use super::pattern::{MxPattern, PatternError};
use crate::finding::{Code, Finding, Severity};

/// Largest `max_age` RFC 8461 §3.2 allows: one year, in seconds.
pub const MAX_AGE_LIMIT: u32 = 31_557_600;

/// `max_age` below this (a day) is flagged: a short cache lets an attacker
/// who blocks the policy fetch strip MTA-STS quickly (RFC 8461 §10.2).
const SHORT_MAX_AGE: u32 = 86_400;

/// How many items a finding lists before saying "and N more".
const LIST_LIMIT: usize = 10;

/// The policy mode (RFC 8461 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Senders MUST NOT deliver when validation fails.
    Enforce,
    /// Senders deliver, and report failures (RFC 8460).
    Testing,
    /// Senders behave as if there were no policy.
    None,
}

impl Mode {
    /// The value as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something in a valid policy that senders ignore or that bends the
/// grammar, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PolicyNote {
    /// A second `version`, `mode` or `max_age`: ignored, the first counts.
    DuplicateField {
        /// The field name.
        field: String,
        /// The ignored line.
        line: usize,
        /// The line that counts.
        first_line: usize,
    },
    /// A key RFC 8461 does not define: ignored by senders.
    UnknownField {
        /// The key as written (escaped).
        key: String,
        /// Where it is.
        line: usize,
    },
}

impl PolicyNote {
    /// The 1-based line the note is about.
    pub fn line(&self) -> usize {
        match self {
            PolicyNote::DuplicateField { line, .. } | PolicyNote::UnknownField { line, .. } => {
                *line
            }
        }
    }
}

/// Why a policy body is not a valid RFC 8461 §3.2 policy
/// (RFC 8460 result type `sts-policy-invalid`).
///
/// `line` is 1-based; `text` is the offending line, escaped and cut to 200
/// characters, safe to print.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Zero bytes.
    #[error("policy is empty")]
    Empty,
    /// The body starts with a UTF-8 byte-order mark (EF BB BF, as some
    /// Windows editors save): the grammar has none, so the first key is
    /// `\u{feff}version` and strict senders reject the policy (mox and
    /// postfix-mta-sts-resolver read it as an unknown key, then miss
    /// `version`).
    #[error(
        "the policy starts with a UTF-8 byte-order mark (U+FEFF), which the grammar does not allow: line 1 reads `\\u{{feff}}{text}`"
    )]
    ByteOrderMark {
        /// Line 1 after the mark, escaped.
        text: String,
    },
    /// A line that is not UTF-8 (the policy is text, §3.2).
    #[error("line {line} is not valid UTF-8: `{text}`")]
    InvalidUtf8 {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// A CR not followed by LF: not a line break in §3.2, and not allowed
    /// inside a line.
    #[error("line {line} has a carriage return that is not followed by a line feed: `{text}`")]
    LoneCarriageReturn {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// An empty line: the grammar has a field between every two line breaks.
    #[error(
        "line {line} is empty: the policy grammar allows no blank lines, only one line break after the last line"
    )]
    EmptyLine {
        /// 1-based line number.
        line: usize,
    },
    /// No `:` on the line.
    #[error("line {line} is not a `key: value` pair: `{text}`")]
    NotKeyValue {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// Whitespace between key and `:` (`version : STSv1`).
    #[error(
        "line {line} has whitespace before the colon, which the grammar does not allow: `{text}`"
    )]
    SpaceBeforeColon {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// Whitespace before the key.
    #[error("line {line} starts with whitespace, which the grammar does not allow: `{text}`")]
    LeadingWhitespace {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// A key that is not 1 letter or digit then up to 31 of letters,
    /// digits, `_`, `-`, `.`.
    #[error(
        "line {line} has an invalid key (letters, digits, `_`, `-`, `.`; at most 32): `{text}`"
    )]
    InvalidKey {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// `version:` with a value other than `STSv1`.
    #[error("line {line}: version must be exactly `STSv1` (case-sensitive): `{text}`")]
    UnsupportedVersion {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// `mode:` with a value other than `enforce`, `testing`, `none`.
    #[error("line {line}: mode must be `enforce`, `testing` or `none` (case-sensitive): `{text}`")]
    InvalidMode {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// `max_age:` that is not 1 to 10 digits.
    #[error("line {line}: max_age must be 1 to 10 digits: `{text}`")]
    InvalidMaxAge {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
    },
    /// `max_age:` above 31557600.
    #[error("line {line}: max_age {value} is above the maximum of 31557600 seconds (a year)")]
    MaxAgeTooLarge {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
        /// The value published.
        value: u64,
    },
    /// `mx:` with a value that is not a pattern.
    #[error("line {line}: {source}")]
    InvalidMx {
        /// 1-based line number.
        line: usize,
        /// The line, escaped.
        text: String,
        /// What is wrong with the pattern.
        source: PatternError,
    },
    /// An unknown field whose value is empty or has control characters,
    /// tabs or other characters outside `sts-policy-ext-value`.
    #[error(
        "line {line}: the value of field `{key}` is empty or has characters the grammar does not allow: `{text}`"
    )]
    InvalidValue {
        /// 1-based line number.
        line: usize,
        /// The field name.
        key: String,
        /// The line, escaped.
        text: String,
    },
    /// A required field is missing.
    #[error("policy has no `{field}:` line")]
    MissingField {
        /// `version`, `mode` or `max_age`.
        field: &'static str,
    },
    /// A required field is missing but the same key in other case is there.
    #[error(
        "policy has no `{expected}:` line; line {line} has `{text}`, but keys are case-sensitive"
    )]
    WrongCaseField {
        /// 1-based line number of the look-alike.
        line: usize,
        /// The look-alike line, escaped.
        text: String,
        /// The key the policy needs.
        expected: &'static str,
    },
    /// Mode `enforce` or `testing` without any `mx:` line.
    #[error("policy has mode {mode} but no `mx:` line")]
    MissingMx {
        /// The mode published.
        mode: Mode,
    },
}

impl PolicyError {
    /// The 1-based line the error is on, when it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            PolicyError::InvalidUtf8 { line, .. }
            | PolicyError::LoneCarriageReturn { line, .. }
            | PolicyError::EmptyLine { line }
            | PolicyError::NotKeyValue { line, .. }
            | PolicyError::SpaceBeforeColon { line, .. }
            | PolicyError::LeadingWhitespace { line, .. }
            | PolicyError::InvalidKey { line, .. }
            | PolicyError::UnsupportedVersion { line, .. }
            | PolicyError::InvalidMode { line, .. }
            | PolicyError::InvalidMaxAge { line, .. }
            | PolicyError::MaxAgeTooLarge { line, .. }
            | PolicyError::InvalidMx { line, .. }
            | PolicyError::InvalidValue { line, .. }
            | PolicyError::WrongCaseField { line, .. } => Some(*line),
            PolicyError::ByteOrderMark { .. } => Some(1),
            PolicyError::Empty
            | PolicyError::MissingField { .. }
            | PolicyError::MissingMx { .. } => None,
        }
    }

    /// A stable kebab-case code for RFC 8460's `failure-reason-code`, under
    /// result type `sts-policy-invalid`.
    pub fn reason_code(&self) -> &'static str {
        match self {
            PolicyError::Empty => "policy-empty",
            PolicyError::InvalidUtf8 { .. } => "policy-not-utf8",
            PolicyError::LoneCarriageReturn { .. } => "policy-lone-cr",
            PolicyError::EmptyLine { .. } => "policy-empty-line",
            PolicyError::ByteOrderMark { .. }
            | PolicyError::NotKeyValue { .. }
            | PolicyError::SpaceBeforeColon { .. }
            | PolicyError::LeadingWhitespace { .. }
            | PolicyError::InvalidKey { .. }
            | PolicyError::InvalidValue { .. } => "policy-syntax",
            PolicyError::UnsupportedVersion { .. } => "policy-version",
            PolicyError::InvalidMode { .. } => "policy-mode",
            PolicyError::InvalidMaxAge { .. } | PolicyError::MaxAgeTooLarge { .. } => {
                "policy-max-age"
            }
            PolicyError::InvalidMx { .. } => "policy-mx-pattern",
            PolicyError::MissingField { .. } | PolicyError::WrongCaseField { .. } => {
                "policy-missing-field"
            }
            PolicyError::MissingMx { .. } => "policy-missing-mx",
        }
    }
}

/// A valid MTA-STS policy, as served and as understood.
///
/// Built only by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsPolicy {
    raw: String,
    lines: Vec<String>,
    mode: Mode,
    max_age: u32,
    mx: Vec<MxPattern>,
    notes: Vec<PolicyNote>,
}

impl StsPolicy {
    /// The body as served (it is valid UTF-8, or it would not have parsed).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The mode that counts (the first `mode:` line).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The cache lifetime in seconds that counts (the first `max_age:`).
    pub fn max_age(&self) -> u32 {
        self.max_age
    }

    /// The `mx:` patterns, in policy order.
    pub fn mx(&self) -> &[MxPattern] {
        &self.mx
    }

    /// What senders ignore, or what bends the grammar, line by line.
    pub fn notes(&self) -> &[PolicyNote] {
        &self.notes
    }

    /// The policy lines as served, without line breaks: the RFC 8460 §4.4
    /// `policy-string` of an `sts` policy.
    pub fn lines(&self) -> Vec<String> {
        self.lines.clone()
    }
}

/// The first line of each field that must appear once.
#[derive(Default)]
struct Seen {
    version: Option<usize>,
    mode: Option<(usize, Mode)>,
    max_age: Option<(usize, u32)>,
}

/// Parses a policy body as served (RFC 8461 §3.2).
///
/// Takes bytes because the body comes from the network: it may be any
/// length, not UTF-8, or hold NUL. Work is linear in the body's length; the
/// first error stops the parse.
pub fn parse(body: &[u8]) -> Result<StsPolicy, PolicyError> {
    if body.is_empty() {
        return Err(PolicyError::Empty);
    }
    if let Some(rest) = body.strip_prefix("\u{feff}".as_bytes()) {
        let first = rest.split(|b| *b == b'\n').next().unwrap_or_default();
        return Err(PolicyError::ByteOrderMark {
            text: escape(first.strip_suffix(b"\r").unwrap_or(first)),
        });
    }
    let ends_with_lf = body.last() == Some(&b'\n');
    let mut segments: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
    // `[sts-policy-term]`: a final LF ends the last line, it does not open
    // an empty one.
    if ends_with_lf {
        segments.pop();
    }
    let count = segments.len();

    let mut seen = Seen::default();
    let mut mx = Vec::new();
    let mut notes = Vec::new();
    let mut lines = Vec::with_capacity(count);
    // Unknown keys that differ from a required one only by case, first of each.
    let mut look_alikes: Vec<(&'static str, usize, String)> = Vec::new();

    for (index, segment) in segments.into_iter().enumerate() {
        let line = index + 1;
        // Every segment but an unterminated last one was followed by LF;
        // a CR right before that LF belongs to the CRLF.
        let terminated = index + 1 < count || ends_with_lf;
        let bytes = match segment.strip_suffix(b"\r") {
            Some(stripped) if terminated => stripped,
            _ => segment,
        };
        if bytes.contains(&b'\r') {
            return Err(PolicyError::LoneCarriageReturn {
                line,
                text: escape(bytes),
            });
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(PolicyError::InvalidUtf8 {
                line,
                text: escape(bytes),
            });
        };
        if text.is_empty() {
            return Err(PolicyError::EmptyLine { line });
        }
        let (key, value) = split_field(text, line)?;
        match key {
            "version" => {
                if value != "STSv1" {
                    return Err(PolicyError::UnsupportedVersion {
                        line,
                        text: escape(bytes),
                    });
                }
                match seen.version {
                    Some(first_line) => notes.push(duplicate("version", line, first_line)),
                    None => seen.version = Some(line),
                }
            }
            "mode" => {
                let mode = match value {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    _ => {
                        return Err(PolicyError::InvalidMode {
                            line,
                            text: escape(bytes),
                        });
                    }
                };
                match seen.mode {
                    Some((first_line, _)) => notes.push(duplicate("mode", line, first_line)),
                    None => seen.mode = Some((line, mode)),
                }
            }
            "max_age" => {
                let max_age = parse_max_age(value, line, bytes)?;
                match seen.max_age {
                    Some((first_line, _)) => notes.push(duplicate("max_age", line, first_line)),
                    None => seen.max_age = Some((line, max_age)),
                }
            }
            "mx" => {
                let pattern = MxPattern::parse(value).map_err(|source| PolicyError::InvalidMx {
                    line,
                    text: escape(bytes),
                    source,
                })?;
                mx.push(pattern);
            }
            other => {
                if !is_ext_value(value) {
                    return Err(PolicyError::InvalidValue {
                        line,
                        key: other.to_string(),
                        text: escape(bytes),
                    });
                }
                if let Some(known) = ["version", "mode", "max_age", "mx"]
                    .into_iter()
                    .find(|k| k.eq_ignore_ascii_case(other))
                    && !look_alikes.iter().any(|(k, _, _)| *k == known)
                {
                    look_alikes.push((known, line, escape(bytes)));
                }
                notes.push(PolicyNote::UnknownField {
                    key: other.to_string(),
                    line,
                });
            }
        }
        lines.push(text.to_string());
    }

    let missing = |field: &'static str| match look_alikes.iter().find(|(k, _, _)| *k == field) {
        Some((_, line, text)) => PolicyError::WrongCaseField {
            line: *line,
            text: text.clone(),
            expected: field,
        },
        None => PolicyError::MissingField { field },
    };
    if seen.version.is_none() {
        return Err(missing("version"));
    }
    let Some((_, mode)) = seen.mode else {
        return Err(missing("mode"));
    };
    let Some((_, max_age)) = seen.max_age else {
        return Err(missing("max_age"));
    };
    // §3.2: mx is "required at least once, except when mode is 'none'".
    if mx.is_empty() && mode != Mode::None {
        return Err(match look_alikes.iter().find(|(k, _, _)| *k == "mx") {
            Some((_, line, text)) => PolicyError::WrongCaseField {
                line: *line,
                text: text.clone(),
                expected: "mx",
            },
            None => PolicyError::MissingMx { mode },
        });
    }

    // Every line parsed as UTF-8, so the lossy conversion loses nothing.
    let raw = String::from_utf8_lossy(body).into_owned();
    Ok(StsPolicy {
        raw,
        lines,
        mode,
        max_age,
        mx,
        notes,
    })
}

fn duplicate(field: &str, line: usize, first_line: usize) -> PolicyNote {
    PolicyNote::DuplicateField {
        field: field.to_string(),
        line,
        first_line,
    }
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits `key: value` at the first colon, checking the key against
/// `sts-policy-ext-name` (the defined keys fit it too) and dropping the
/// delimiter's WSP and the line's trailing WSP.
fn split_field(text: &str, line: usize) -> Result<(&str, &str), PolicyError> {
    let err_text = || escape(text.as_bytes());
    let Some((key, rest)) = text.split_once(':') else {
        return Err(PolicyError::NotKeyValue {
            line,
            text: err_text(),
        });
    };
    if key.starts_with(is_wsp) {
        return Err(PolicyError::LeadingWhitespace {
            line,
            text: err_text(),
        });
    }
    if key.ends_with(is_wsp) {
        return Err(PolicyError::SpaceBeforeColon {
            line,
            text: err_text(),
        });
    }
    if !txt_record::is_extension_name(key) {
        return Err(PolicyError::InvalidKey {
            line,
            text: err_text(),
        });
    }
    Ok((key, rest.trim_matches(is_wsp)))
}

/// `sts-policy-ext-value`: printable ASCII or UTF-8 beyond ASCII, with
/// inner spaces (ends already trimmed); no tabs, no control characters.
fn is_ext_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c == ' ' || ('\u{21}'..='\u{7e}').contains(&c) || !c.is_ascii())
}

/// `sts-policy-max-age-value = 1*10(DIGIT)`, at most [`MAX_AGE_LIMIT`].
fn parse_max_age(value: &str, line: usize, bytes: &[u8]) -> Result<u32, PolicyError> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PolicyError::InvalidMaxAge {
            line,
            text: escape(bytes),
        });
    }
    // At most 10 digits: below 10^10, well within u64.
    let number = value
        .bytes()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    match u32::try_from(number) {
        Ok(n) if n <= MAX_AGE_LIMIT => Ok(n),
        _ => Err(PolicyError::MaxAgeTooLarge {
            line,
            text: escape(bytes),
            value: number,
        }),
    }
}

/// Lists up to [`LIST_LIMIT`] items, then says how many were left out.
fn capped_list(items: &[String]) -> String {
    let shown = items
        .iter()
        .take(LIST_LIMIT)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().checked_sub(LIST_LIMIT) {
        Some(more) if more > 0 => format!("{shown} and {more} more"),
        _ => shown,
    }
}

/// The finding for a policy that does not parse (`sts-policy-invalid`,
/// about `subject`, the policy URL), at `severity`.
///
/// A bad `mx:` pattern gets its own message and advice: it names the line
/// and the pattern, which senders reject the whole policy over it (mox, and
/// any sender that checks the grammar) and which apply it anyway
/// (postfix-mta-sts-resolver checks no `mx:` value). We judge as the strict
/// sender: see [`super::pattern`].
pub fn invalid_finding(err: &PolicyError, subject: &str, severity: Severity) -> Finding {
    const BUMP_ID: &str =
        "then change the id= of the _mta-sts TXT record so senders fetch the new policy";
    let (message, advice) = match err {
        PolicyError::ByteOrderMark { .. } => (
            format!(
                "the MTA-STS policy does not parse: {err}; senders that check the grammar reject the whole policy and deliver as if there were no MTA-STS"
            ),
            format!(
                "Remove the byte-order mark (U+FEFF) at the start of the file (save it as UTF-8 without BOM, e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' mta-sts.txt`), {BUMP_ID}."
            ),
        ),
        PolicyError::InvalidMx { line, source, .. } => {
            let senders = if source.strict_senders_reject() {
                "mox and other senders that check the grammar reject the whole policy and deliver as if there were no MTA-STS; postfix-mta-sts-resolver applies it, with the name as written"
            } else {
                "senders that check the grammar reject the whole policy; mox and postfix-mta-sts-resolver do not check lengths and apply it, but no MX host can match this pattern"
            };
            let fix = match source {
                PatternError::TrailingDot { without, .. } => {
                    format!("write `mx: {without}` on line {line}, without the final dot")
                }
                PatternError::IpAddress { .. } => format!(
                    "replace line {line} with one `mx:` line per MX host name, as the domain's MX records give them"
                ),
                PatternError::NotALabel { .. }
                | PatternError::InvalidALabel { .. }
                | PatternError::InvalidIdn { .. } => format!(
                    "on line {line}, write the MX host name in A-label form exactly as the MX record gives it (e.g. `mx: mx.xn--bcher-kva.example` for mx.bücher.example)"
                ),
                _ => format!(
                    "on line {line}, write one MX host name, or `*.` and its parent domain, per `mx:` line"
                ),
            };
            (
                format!("the MTA-STS policy is invalid: {err}; {senders}"),
                format!("{fix}, {BUMP_ID}"),
            )
        }
        _ => (
            format!("the MTA-STS policy does not parse: {err}"),
            "Fix the policy: lines `version: STSv1`, `mode: enforce|testing|none`, `max_age: <seconds>` and one `mx: <host or *.domain>` per MX, each `key: value` with no space before the colon.".to_string(),
        ),
    };
    Finding::new(severity, Code::StsPolicyInvalid, subject, message, advice)
}

/// Findings about a valid policy (codes `sts-policy-*`).
///
/// - max_age below a day: warning (advice: 604800 or more).
/// - mode testing: warning; mode none: info.
/// - ignored duplicate fields: warning, one per field, with line numbers.
/// - unknown fields: one info finding listing them.
pub fn lint(policy: &StsPolicy, domain: &str) -> Vec<Finding> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let subject = format!("https://mta-sts.{domain}/.well-known/mta-sts.txt");
    let mut findings = Vec::new();

    if policy.max_age < SHORT_MAX_AGE {
        findings.push(Finding::new(
            Severity::Warning,
            Code::StsPolicyShortMaxAge,
            subject.clone(),
            format!(
                "max_age is {} seconds, less than a day: senders forget the policy quickly, so an attacker who blocks the policy fetch can strip MTA-STS soon after (RFC 8461 §3.2 expects weeks or more)",
                policy.max_age
            ),
            "set `max_age: 604800` (a week) or more; 31557600 (a year) is the maximum",
        ));
    }
    match policy.mode {
        Mode::Testing => findings.push(Finding::new(
            Severity::Warning,
            Code::StsPolicyModeTesting,
            subject.clone(),
            "mode is testing: senders report TLS failures but still deliver the mail, so the policy does not yet stop a downgrade",
            "switch to `mode: enforce` once TLS reports (TLSRPT) show no failures, and change the TXT record's id=",
        )),
        Mode::None => findings.push(Finding::new(
            Severity::Info,
            Code::StsPolicyModeNone,
            subject.clone(),
            "mode is none: the domain publishes MTA-STS but asks senders not to apply it",
            "if MTA-STS is being retired, keep serving this policy until the previous max_age has passed, then remove the _mta-sts TXT record (RFC 8461 §8.3); otherwise use testing or enforce",
        )),
        Mode::Enforce => {}
    }

    // Duplicates, grouped by field in order of first appearance.
    let mut groups: Vec<(&str, usize, Vec<usize>)> = Vec::new();
    for note in &policy.notes {
        if let PolicyNote::DuplicateField {
            field,
            line,
            first_line,
        } = note
        {
            match groups.iter_mut().find(|(f, _, _)| f == field) {
                Some((_, _, lines)) => lines.push(*line),
                None => groups.push((field, *first_line, vec![*line])),
            }
        }
    }
    for (field, first_line, ignored) in groups {
        let ignored: Vec<String> = ignored.iter().map(usize::to_string).collect();
        findings.push(Finding::new(
            Severity::Warning,
            Code::StsPolicyDuplicateField,
            subject.clone(),
            format!(
                "field `{field}` appears more than once: line {first_line} counts, line(s) {} are ignored (RFC 8461 §3.2)",
                capped_list(&ignored)
            ),
            format!("keep a single `{field}:` line, with the value you mean"),
        ));
    }

    let unknown: Vec<String> = policy
        .notes
        .iter()
        .filter_map(|n| match n {
            PolicyNote::UnknownField { key, line } => {
                Some(format!("`{}` (line {line})", escape(key.as_bytes())))
            }
            _ => None,
        })
        .collect();
    if !unknown.is_empty() {
        findings.push(Finding::new(
            Severity::Info,
            Code::StsPolicyUnknownField,
            subject.clone(),
            format!("fields RFC 8461 does not define, which senders ignore: {}", capped_list(&unknown)),
            "remove them unless an extension needs them; keys are case-sensitive (`Mode` is not `mode`)",
        ));
    }

    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n";

    /// Names the rule and shows the input in every failure message.
    fn check(rule: &str, body: &[u8], ok: bool) -> Result<StsPolicy, PolicyError> {
        let got = parse(body);
        assert_eq!(
            got.is_ok(),
            ok,
            "{rule}: input {:?} gave {got:?}",
            String::from_utf8_lossy(body)
        );
        got
    }

    #[test]
    fn line_break_rules() {
        let cases: &[(&str, &[u8], bool)] = &[
            (
                "LF lines are accepted",
                b"version: STSv1\nmode: none\nmax_age: 86400\n",
                true,
            ),
            (
                "CRLF lines are accepted",
                b"version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n",
                true,
            ),
            (
                "mixed LF and CRLF are accepted",
                b"version: STSv1\r\nmode: none\nmax_age: 86400\r\n",
                true,
            ),
            (
                "missing final line break is accepted",
                b"version: STSv1\nmode: none\nmax_age: 86400",
                true,
            ),
            (
                "lone CR as separator is rejected",
                b"version: STSv1\rmode: none\rmax_age: 86400\r",
                false,
            ),
            (
                "lone CR at end of body is rejected",
                b"version: STSv1\nmode: none\nmax_age: 86400\r",
                false,
            ),
            (
                "CR inside a line is rejected",
                b"version: STSv1\nmode: no\rne\nmax_age: 86400\n",
                false,
            ),
            (
                "blank line between fields is rejected",
                b"version: STSv1\n\nmode: none\nmax_age: 86400\n",
                false,
            ),
            (
                "two final line breaks are rejected",
                b"version: STSv1\nmode: none\nmax_age: 86400\n\n",
                false,
            ),
            (
                "leading blank line is rejected",
                b"\nversion: STSv1\nmode: none\nmax_age: 86400\n",
                false,
            ),
            ("empty body is rejected", b"", false),
            ("a lone line break is rejected", b"\n", false),
            ("a lone CRLF is rejected", b"\r\n", false),
        ];
        for (rule, body, ok) in cases {
            check(rule, body, *ok).ok();
        }
    }

    #[test]
    fn field_syntax_rules() {
        let with = |version_line: &str| format!("{version_line}\nmode: none\nmax_age: 86400\n");
        let cases: &[(&str, String, bool)] = &[
            ("colon then space is accepted", with("version: STSv1"), true),
            (
                "no space after the colon is legal",
                with("version:STSv1"),
                true,
            ),
            (
                "tabs after the colon are legal",
                with("version:\t\tSTSv1"),
                true,
            ),
            (
                "trailing spaces are trimmed (*WSP before the term)",
                with("version: STSv1  "),
                true,
            ),
            (
                "trailing tab is trimmed (*WSP before the term)",
                with("version: STSv1\t"),
                true,
            ),
            (
                "space before the colon is rejected",
                with("version : STSv1"),
                false,
            ),
            (
                "leading whitespace is rejected",
                with(" version: STSv1"),
                false,
            ),
            (
                "line without colon is rejected",
                with("version STSv1"),
                false,
            ),
            ("key is case-sensitive", with("Version: STSv1"), false),
            (
                "version value is case-sensitive",
                with("version: stsv1"),
                false,
            ),
            ("other version is rejected", with("version: STSv2"), false),
            ("empty version is rejected", with("version:"), false),
            (
                "NUL after the value is rejected",
                with("version: STSv1\0"),
                false,
            ),
            ("empty key is rejected", with(": STSv1"), false),
        ];
        for (rule, body, ok) in cases {
            check(rule, body.as_bytes(), *ok).ok();
        }
    }

    /// Whether an error is the one a case expects.
    type ErrorCheck = fn(&PolicyError) -> bool;

    #[test]
    fn field_syntax_errors_name_the_rule() {
        let cases: &[(&str, &str, ErrorCheck)] = &[
            ("space before colon", "version : STSv1\n", |e| {
                matches!(e, PolicyError::SpaceBeforeColon { line: 1, .. })
            }),
            ("leading space", "  version: STSv1\n", |e| {
                matches!(e, PolicyError::LeadingWhitespace { line: 1, .. })
            }),
            ("no colon", "version STSv1\n", |e| {
                matches!(e, PolicyError::NotKeyValue { line: 1, .. })
            }),
            ("bad key", "ver sion: STSv1\n", |e| {
                matches!(e, PolicyError::InvalidKey { line: 1, .. })
            }),
            ("empty line", "version: STSv1\n\n", |e| {
                matches!(e, PolicyError::EmptyLine { line: 2 })
            }),
            ("lone CR", "version: STSv1\rmode: none", |e| {
                matches!(e, PolicyError::LoneCarriageReturn { line: 1, .. })
            }),
        ];
        for (rule, body, want) in cases {
            let err = parse(body.as_bytes()).expect_err(rule);
            assert!(want(&err), "{rule}: input {body:?} gave {err:?}");
        }
    }

    #[test]
    fn mode_rules() {
        let with = |mode_line: &str| {
            format!("version: STSv1\n{mode_line}\nmx: mx.example.com\nmax_age: 86400\n")
        };
        let cases: &[(&str, &str, Option<Mode>)] = &[
            ("enforce is accepted", "mode: enforce", Some(Mode::Enforce)),
            ("testing is accepted", "mode: testing", Some(Mode::Testing)),
            ("none is accepted", "mode: none", Some(Mode::None)),
            ("mode value is case-sensitive", "mode: Enforce", None),
            ("unknown mode is rejected", "mode: strict", None),
            ("empty mode is rejected", "mode:", None),
            ("mode key is case-sensitive", "Mode: enforce", None),
        ];
        for (rule, line, want) in cases {
            let body = with(line);
            let got = check(rule, body.as_bytes(), want.is_some());
            if let (Ok(policy), Some(mode)) = (got, want) {
                assert_eq!(policy.mode(), *mode, "{rule}: input {body:?}");
            }
        }
    }

    #[test]
    fn max_age_rules() {
        let with = |max_age_line: &str| format!("version: STSv1\nmode: none\n{max_age_line}\n");
        let cases: &[(&str, &str, Option<u32>)] = &[
            ("zero is legal", "max_age: 0", Some(0)),
            ("a week is accepted", "max_age: 604800", Some(604_800)),
            (
                "the maximum 31557600 is accepted",
                "max_age: 31557600",
                Some(31_557_600),
            ),
            (
                "leading zeros within 10 digits are accepted",
                "max_age: 0000086400",
                Some(86_400),
            ),
            (
                "one above the maximum is rejected",
                "max_age: 31557601",
                None,
            ),
            (
                "10 digits above the maximum are rejected",
                "max_age: 9999999999",
                None,
            ),
            ("11 digits are rejected", "max_age: 00000000001", None),
            ("a sign is rejected", "max_age: +86400", None),
            ("a negative value is rejected", "max_age: -1", None),
            ("a unit suffix is rejected", "max_age: 86400s", None),
            ("an empty value is rejected", "max_age:", None),
            ("inner space is rejected", "max_age: 86 400", None),
        ];
        for (rule, line, want) in cases {
            let body = with(line);
            let got = check(rule, body.as_bytes(), want.is_some());
            if let (Ok(policy), Some(max_age)) = (got, want) {
                assert_eq!(policy.max_age(), *max_age, "{rule}: input {body:?}");
            }
        }
        let err = parse(with("max_age: 31557601").as_bytes()).expect_err("above the maximum");
        assert_eq!(
            err,
            PolicyError::MaxAgeTooLarge {
                line: 3,
                text: "max_age: 31557601".into(),
                value: 31_557_601
            }
        );
    }

    #[test]
    fn required_field_rules() {
        let cases: &[(&str, &str, bool)] = &[
            ("all fields present", GOOD, true),
            (
                "fields in any order",
                "max_age: 604800\nmx: mx1.example.com\nmode: enforce\nversion: STSv1\n",
                true,
            ),
            (
                "missing version is rejected",
                "mode: enforce\nmx: mx1.example.com\nmax_age: 604800\n",
                false,
            ),
            (
                "missing mode is rejected",
                "version: STSv1\nmx: mx1.example.com\nmax_age: 604800\n",
                false,
            ),
            (
                "missing max_age is rejected",
                "version: STSv1\nmode: enforce\nmx: mx1.example.com\n",
                false,
            ),
            (
                "enforce without mx is rejected",
                "version: STSv1\nmode: enforce\nmax_age: 604800\n",
                false,
            ),
            (
                "testing without mx is rejected",
                "version: STSv1\nmode: testing\nmax_age: 604800\n",
                false,
            ),
            (
                "none without mx is accepted",
                "version: STSv1\nmode: none\nmax_age: 604800\n",
                true,
            ),
            (
                "none with mx is accepted",
                "version: STSv1\nmode: none\nmx: a.example\nmax_age: 604800\n",
                true,
            ),
        ];
        for (rule, body, ok) in cases {
            check(rule, body.as_bytes(), *ok).ok();
        }
        let err = parse(b"version: STSv1\nmode: enforce\nmax_age: 1\n").expect_err("no mx");
        assert_eq!(
            err,
            PolicyError::MissingMx {
                mode: Mode::Enforce
            }
        );
        let err = parse(b"version: STSv1\nmode: none\n").expect_err("no max_age");
        assert_eq!(err, PolicyError::MissingField { field: "max_age" });
    }

    #[test]
    fn wrong_case_key_is_named() {
        let body = "version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 1\n";
        let err = parse(body.as_bytes()).expect_err("Mode is not mode");
        assert!(
            matches!(
                &err,
                PolicyError::WrongCaseField {
                    line: 2,
                    expected: "mode",
                    ..
                }
            ),
            "input {body:?} gave {err:?}"
        );
        let body = "version: STSv1\nmode: enforce\nMX: a.example\nmax_age: 1\n";
        let err = parse(body.as_bytes()).expect_err("MX is not mx");
        assert!(
            matches!(
                &err,
                PolicyError::WrongCaseField {
                    line: 3,
                    expected: "mx",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn mx_rules() {
        let with =
            |mx_lines: &str| format!("version: STSv1\nmode: enforce\n{mx_lines}max_age: 86400\n");
        let cases: &[(&str, &str, Option<&[&str]>)] = &[
            (
                "one pattern",
                "mx: mx1.example.com\n",
                Some(&["mx1.example.com"]),
            ),
            (
                "patterns repeat in order",
                "mx: a.example\nmx: *.b.example\n",
                Some(&["a.example", "*.b.example"]),
            ),
            ("trailing dot is rejected", "mx: mx1.example.com.\n", None),
            (
                "one trailing-dot pattern among good ones invalidates the policy",
                "mx: mx1.example.com\nmx: mx2.example.com.\n",
                None,
            ),
            ("IP address is rejected", "mx: 192.0.2.1\n", None),
            (
                "A-label that does not decode is rejected",
                "mx: xn--zz.example\n",
                None,
            ),
            (
                "upper case is accepted",
                "mx: MX1.Example.com\n",
                Some(&["MX1.Example.com"]),
            ),
            (
                "U-label is rejected: A-labels only",
                "mx: mx.bücher.example\n",
                None,
            ),
            (
                "A-label is accepted",
                "mx: mx.xn--bcher-kva.example\n",
                Some(&["mx.xn--bcher-kva.example"]),
            ),
            ("misplaced wildcard is rejected", "mx: mx.*.example\n", None),
            (
                "two patterns on one line are rejected",
                "mx: a.example b.example\n",
                None,
            ),
            ("comma list is rejected", "mx: a.example,b.example\n", None),
            (
                "one bad pattern invalidates the policy",
                "mx: a.example\nmx: bad_name.example\n",
                None,
            ),
        ];
        for (rule, lines, want) in cases {
            let body = with(lines);
            let got = check(rule, body.as_bytes(), want.is_some());
            if let (Ok(policy), Some(want)) = (got, want) {
                let raw: Vec<&str> = policy.mx().iter().map(MxPattern::raw).collect();
                assert_eq!(raw, *want, "{rule}: input {body:?}");
            }
        }
    }

    #[test]
    fn duplicates_and_unknown_keys_are_noted() {
        let body = "version: STSv1\nmode: enforce\nmode: none\nmx: mx1.example.com\nfoo: bar baz\nmax_age: 86400\nmax_age: 5\nversion: STSv1\n";
        let policy = parse(body.as_bytes()).expect("duplicates are ignored, not fatal");
        assert_eq!(policy.mode(), Mode::Enforce, "first mode counts");
        assert_eq!(policy.max_age(), 86_400, "first max_age counts");
        assert_eq!(
            policy.notes(),
            &[
                PolicyNote::DuplicateField {
                    field: "mode".into(),
                    line: 3,
                    first_line: 2
                },
                PolicyNote::UnknownField {
                    key: "foo".into(),
                    line: 5
                },
                PolicyNote::DuplicateField {
                    field: "max_age".into(),
                    line: 7,
                    first_line: 6
                },
                PolicyNote::DuplicateField {
                    field: "version".into(),
                    line: 8,
                    first_line: 1
                },
            ]
        );
        assert_eq!(policy.notes()[1].line(), 5);
    }

    #[test]
    fn extension_value_rules() {
        let with = |ext: &str| format!("version: STSv1\nmode: none\nmax_age: 1\n{ext}\n");
        let cases: &[(&str, &str, bool)] = &[
            (
                "printable value is accepted",
                "x-note: see https://example.com/a?b=c;d",
                true,
            ),
            ("inner spaces are accepted", "x-note: a b  c", true),
            ("UTF-8 value is accepted", "x-note: café", true),
            ("dotted key is accepted", "a.b-c_d: 1", true),
            (
                "32-character key is accepted",
                &format!("{}: 1", "k".repeat(32)),
                true,
            ),
            (
                "33-character key is rejected",
                &format!("{}: 1", "k".repeat(33)),
                false,
            ),
            ("key starting with underscore is rejected", "_x: 1", false),
            ("empty value is rejected", "x-note:", false),
            ("inner tab is rejected", "x-note: a\tb", false),
            ("NUL in value is rejected", "x-note: a\0b", false),
        ];
        for (rule, line, ok) in cases {
            check(rule, with(line).as_bytes(), *ok).ok();
        }
    }

    #[test]
    fn hostile_bytes_are_errors_with_escaped_text() {
        let err = parse(b"version: STSv1\nmode: \xffenforce\n").expect_err("invalid UTF-8");
        assert_eq!(
            err,
            PolicyError::InvalidUtf8 {
                line: 2,
                text: "mode: \\xffenforce".into()
            }
        );
        let err = parse(b"version: STSv1\nmo\0de: none\n").expect_err("NUL in key");
        assert_eq!(
            err,
            PolicyError::InvalidKey {
                line: 2,
                text: "mo\\x00de: none".into()
            }
        );
        let err = parse(b"\0").expect_err("only NUL");
        assert!(
            matches!(err, PolicyError::NotKeyValue { line: 1, .. }),
            "{err:?}"
        );
        let err = parse("\u{feff}version: STSv1\r\nmode: none\n".as_bytes())
            .expect_err("byte order mark");
        assert_eq!(
            err,
            PolicyError::ByteOrderMark {
                text: "version: STSv1".into()
            }
        );
        assert_eq!(err.reason_code(), "policy-syntax");
        let f = invalid_finding(&err, "https://mta-sts.example.com/", Severity::Error);
        assert!(
            f.message.contains("byte-order mark (U+FEFF)"),
            "{}",
            f.message
        );
        assert!(
            f.advice
                .starts_with("Remove the byte-order mark (U+FEFF) at the start of the file"),
            "{}",
            f.advice
        );
    }

    #[test]
    fn ten_thousand_lines_parse() {
        let mut body = String::from("version: STSv1\nmode: enforce\nmax_age: 86400\n");
        for i in 0..10_000 {
            body.push_str(&format!("mx: mx{i}.example.com\n"));
        }
        let policy = parse(body.as_bytes()).expect("10 000 mx lines are valid");
        assert_eq!(policy.mx().len(), 10_000);
        assert_eq!(policy.lines().len(), 10_003);
    }

    #[test]
    fn sixty_kib_line_is_handled_and_quoted_short() {
        let long = "a".repeat(60 * 1024);
        let body = format!("version: STSv1\nmode: none\nmax_age: 1\nx-big: {long}\n");
        let policy = parse(body.as_bytes()).expect("a long extension value is grammatical");
        assert_eq!(policy.notes().len(), 1);
        let body = format!("version: STSv1\nmode: enforce\nmax_age: 1\nmx: {long}\n");
        let err = parse(body.as_bytes()).expect_err("a 60 KiB label is too long");
        let PolicyError::InvalidMx { line, text, .. } = &err else {
            panic!("expected InvalidMx, got {err:?}");
        };
        assert_eq!(*line, 4);
        assert!(
            text.chars().count() <= 201 && text.ends_with('…'),
            "quote not cut: {} chars",
            text.len()
        );
        assert!(
            err.to_string().len() < 1000,
            "message too long: {} bytes",
            err.to_string().len()
        );
    }

    #[test]
    fn raw_and_lines_are_kept_as_served() {
        let body = "version: STSv1\r\nmode: enforce \r\nmx: mx1.example.com\nmax_age: 604800";
        let policy = parse(body.as_bytes()).expect("valid");
        assert_eq!(policy.raw(), body);
        assert_eq!(
            policy.lines(),
            vec![
                "version: STSv1",
                "mode: enforce ",
                "mx: mx1.example.com",
                "max_age: 604800"
            ]
        );
    }

    #[test]
    fn errors_display_lowercase_without_final_period() {
        let errors = [
            parse(b"").expect_err("empty"),
            parse(b"version : STSv1").expect_err("space"),
            parse(b"version: STSv1\nmode: none\nmax_age: 99999999999").expect_err("digits"),
            parse(b"version: STSv1\nmode: enforce\nmax_age: 1\nmx: *").expect_err("mx"),
            parse(b"mode: none\nmax_age: 1").expect_err("version"),
        ];
        for err in errors {
            let msg = err.to_string();
            let first = msg.chars().next().expect("message is not empty");
            assert!(!first.is_uppercase() && !msg.ends_with('.'), "{msg}");
        }
    }

    #[test]
    fn error_line_and_reason_code() {
        let err = parse(b"version: STSv1\nmode: Enforce\n").expect_err("mode case");
        assert_eq!(err.line(), Some(2));
        assert_eq!(err.reason_code(), "policy-mode");
        let err = parse(b"version: STSv1\nmode: none\n").expect_err("no max_age");
        assert_eq!(err.line(), None);
        assert_eq!(err.reason_code(), "policy-missing-field");
    }

    fn codes(findings: &[Finding]) -> Vec<(&str, Severity)> {
        findings
            .iter()
            .map(|f| (f.code.as_str(), f.severity))
            .collect()
    }

    /// The (code, severity) pairs a case expects, in order.
    type Expected<'a> = &'a [(&'a str, Severity)];

    #[test]
    fn lint_rules() {
        let cases: &[(&str, &str, Expected)] = &[
            ("a good enforce policy has no findings", GOOD, &[]),
            (
                "max_age below a day is a warning",
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86399\n",
                &[("sts-policy-short-max-age", Severity::Warning)],
            ),
            (
                "max_age of exactly a day is fine",
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\n",
                &[],
            ),
            (
                "mode testing is a warning",
                "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 604800\n",
                &[("sts-policy-mode-testing", Severity::Warning)],
            ),
            (
                "mode none is info",
                "version: STSv1\nmode: none\nmax_age: 604800\n",
                &[("sts-policy-mode-none", Severity::Info)],
            ),
            (
                "ignored duplicates are a warning per field",
                "version: STSv1\nmode: enforce\nmode: none\nmode: testing\nmx: a.example\nmax_age: 604800\nmax_age: 1\n",
                &[
                    ("sts-policy-duplicate-field", Severity::Warning),
                    ("sts-policy-duplicate-field", Severity::Warning),
                ],
            ),
            (
                "unknown keys are one info finding",
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 604800\nfoo: 1\nbar: 2\n",
                &[("sts-policy-unknown-field", Severity::Info)],
            ),
        ];
        for (rule, body, want) in cases {
            let policy = parse(body.as_bytes()).expect("test policy is valid");
            let findings = lint(&policy, "example.com");
            assert_eq!(
                codes(&findings),
                *want,
                "{rule}: input {body:?}\n{findings:#?}"
            );
            for f in &findings {
                assert_eq!(
                    f.subject, "https://mta-sts.example.com/.well-known/mta-sts.txt",
                    "{rule}"
                );
            }
        }
    }

    #[test]
    fn invalid_mx_findings_name_line_pattern_senders_and_fix() {
        // (rule, mx line, line 3 holds it; texts the message and the advice hold)
        #[rustfmt::skip]
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            ("trailing dot: mox rejects, the resolver applies, drop the dot", "mx: mx1.example.com.",
             &["line 3: mx pattern `mx1.example.com.` ends with a dot", "mox and other senders that check the grammar reject the whole policy", "postfix-mta-sts-resolver applies it"],
             &["write `mx: mx1.example.com` on line 3", "change the id="]),
            ("IP address: name the MX hosts", "mx: 192.0.2.1",
             &["line 3: mx pattern `192.0.2.1` is an IP address", "mox and other senders"],
             &["replace line 3 with one `mx:` line per MX host name"]),
            ("A-label that does not decode: write the A-label", "mx: xn--zz.example",
             &["label `xn--zz` is not a valid A-label", "reject the whole policy"],
             &["A-label form exactly as the MX record gives it"]),
            ("label too long: mox applies the rest", &format!("mx: {}.example", "a".repeat(64)),
             &["the limit is 63", "mox and postfix-mta-sts-resolver do not check lengths"],
             &["on line 3, write one MX host name"]),
        ];
        for (rule, mx_line, message, advice) in cases {
            let body = format!("version: STSv1\nmode: enforce\n{mx_line}\nmax_age: 604800\n");
            let err = parse(body.as_bytes()).expect_err(rule);
            let f = invalid_finding(
                &err,
                "https://mta-sts.example.com/.well-known/mta-sts.txt",
                Severity::Error,
            );
            assert_eq!(
                (f.code.as_str(), f.severity),
                ("sts-policy-invalid", Severity::Error),
                "{rule}"
            );
            assert_eq!(err.reason_code(), "policy-mx-pattern", "{rule}");
            for text in *message {
                assert!(
                    f.message.contains(text),
                    "{rule}: message lacks {text:?}: {}",
                    f.message
                );
            }
            for text in *advice {
                assert!(
                    f.advice.contains(text),
                    "{rule}: advice lacks {text:?}: {}",
                    f.advice
                );
            }
        }
        let other = parse(b"version: STSv1\nmode: enforce\nmax_age: 1\n").expect_err("no mx");
        let f = invalid_finding(&other, "u", Severity::Warning);
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            !f.message.contains("mox"),
            "only mx errors name senders: {}",
            f.message
        );
    }

    #[test]
    fn lint_messages_carry_line_numbers_and_advice() {
        let body = "version: STSv1\nmode: enforce\nmode: none\nmx: a.example\nmax_age: 60\nmode: testing\n";
        let findings = lint(&parse(body.as_bytes()).expect("valid"), "example.com.");
        let dup = findings
            .iter()
            .find(|f| f.code == "sts-policy-duplicate-field")
            .expect("duplicate finding");
        assert!(
            dup.message.contains("line 2 counts") && dup.message.contains("3, 6"),
            "{}",
            dup.message
        );
        let short = findings
            .iter()
            .find(|f| f.code == "sts-policy-short-max-age")
            .expect("max_age finding");
        assert!(short.advice.contains("604800"), "{}", short.advice);
    }

    #[test]
    fn lint_lists_are_capped() {
        let mut body =
            String::from("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 604800\n");
        for i in 0..25 {
            body.push_str(&format!("k{i}: v\n"));
        }
        let findings = lint(&parse(body.as_bytes()).expect("valid"), "example.com");
        let unknown = findings
            .iter()
            .find(|f| f.code == "sts-policy-unknown-field")
            .expect("unknown finding");
        assert!(
            unknown.message.ends_with("and 15 more"),
            "{}",
            unknown.message
        );
    }
}
