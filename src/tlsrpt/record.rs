//! The TLSRPT TXT record (RFC 8460 §3): its grammar and the parsed record.
//!
//! RFC 8460 §3 gives the record as ABNF:
//!
//! ```text
//! tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
//! field-delim      = *WSP ";" *WSP
//! tlsrpt-field     = tlsrpt-rua / tlsrpt-extension   ; rua is required
//! tlsrpt-version   = %s"v=TLSRPTv1"
//! tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
//! tlsrpt-uri       = URI   ; RFC 3986; "," "!" ";" MUST be percent-encoded
//! tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
//! tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
//! tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
//! ```
//!
//! [`parse`] reads the text of one record, already concatenated from its
//! character-strings, and follows that grammar to the letter: literals are
//! case-sensitive, whitespace is allowed around `;` and `,` only, a trailing
//! `;` is allowed, a second `rua=` field is grammatical and its URIs are
//! kept. Extension fields are kept as name/value pairs; the RFC says
//! senders ignore them.
//!
//! Left out on purpose:
//! - Choosing the record among the TXT RRset and the near misses senders
//!   discard: that is [`crate::txt_record`] and [`super::assess`].
//! - Full RFC 3986 validation of each URI: a URI is checked as a scheme, a
//!   `:`, and characters RFC 3986 allows in a URI (percent-escapes well
//!   formed), which is what tells a typo from a URI. The structure of the
//!   authority or path is not checked beyond finding the `https` host.
//! - Judging the URIs (scheme other than mailto/https, mailto without `@`):
//!   they are grammatical, so the parser accepts them and [`super::assess`]
//!   flags them.
//!
//! One reading of our own: a field named exactly `rua` whose value is not a
//! list of URIs is an error, although the ABNF would also let it pass as an
//! extension field when another, good `rua=` field exists. A sender would try
//! to use it as a destination, so hiding it as an "extension" helps nobody.

use crate::txt_record;
use std::fmt;

use serde::{Serialize, Serializer};
use thiserror::Error;

/// The version field every TLSRPT record begins with (RFC 8460 §3).
pub const VERSION: &str = "v=TLSRPTv1";

/// A TLSRPT record that follows the RFC 8460 §3 grammar.
///
/// Only [`parse`] builds one, so holding a value means the text was
/// grammatical. The published text is kept as [`TlsRptRecord::raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRptRecord {
    raw: String,
    rua: Vec<ReportUri>,
    rua_fields: usize,
    extensions: Vec<(String, String)>,
}

impl TlsRptRecord {
    /// The record exactly as published (after concatenation).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Every report URI, in record order, across all `rua=` fields.
    pub fn rua(&self) -> &[ReportUri] {
        &self.rua
    }

    /// How many `rua=` fields the record has (more than one is grammatical
    /// but unusual; [`super::assess`] flags it).
    pub fn rua_field_count(&self) -> usize {
        self.rua_fields
    }

    /// Extension fields as `(name, value)`, in record order. RFC 8460 §3
    /// defines none; senders ignore them.
    pub fn extensions(&self) -> &[(String, String)] {
        &self.extensions
    }
}

/// One report destination from a `rua=` field: the URI as published and
/// what kind of destination it is.
///
/// Serialises as the URI string, as published (the JSON `rua` array is a
/// list of strings); the kind is derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportUri {
    uri: String,
    kind: ReportUriKind,
}

impl ReportUri {
    /// The URI exactly as published (percent-escapes left as they are).
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// What kind of destination the URI names.
    pub fn kind(&self) -> &ReportUriKind {
        &self.kind
    }
}

impl fmt::Display for ReportUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

impl Serialize for ReportUri {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.uri)
    }
}

/// The kind of a report URI. The scheme is matched case-insensitively, as
/// RFC 3986 §3.1 says schemes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportUriKind {
    /// `mailto:` (RFC 6068): reports are mailed (RFC 8460 §5.3).
    Mailto {
        /// The part after `mailto:` up to any `?`, percent-decoded. Empty
        /// when the URI names no address; may lack an `@`.
        address: String,
    },
    /// `https:`: reports are POSTed (RFC 8460 §5.4).
    Https {
        /// The host of the authority (no userinfo, no port, no brackets
        /// around an IPv6 literal). Empty when the URI has no authority.
        host: String,
    },
    /// Any other scheme (`http:` included): senders do not use it.
    Other {
        /// The scheme, lower-cased.
        scheme: String,
    },
}

/// Why a text is not a TLSRPT record. Offsets are byte offsets from the
/// start of the record text, counting from 0.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The text is empty.
    #[error("the record is empty")]
    Empty,
    /// A character outside US-ASCII (bytes that were not UTF-8 show as
    /// U+FFFD).
    #[error("non-ASCII character {} at byte {offset}: the record must be plain ASCII", escape_char(*.ch))]
    NonAscii { offset: usize, ch: char },
    /// A control character (tab excepted, which is whitespace).
    #[error("control character {} at byte {offset}", escape_char(*.ch))]
    ControlCharacter { offset: usize, ch: char },
    /// The text does not begin with the case-sensitive `v=TLSRPTv1`.
    #[error("the record must begin with \"v=TLSRPTv1\" (case-sensitive), it begins with {}", quote(.found))]
    BadVersion { found: String },
    /// Something other than what the grammar allows at this point.
    #[error("unexpected {} at byte {offset}: {expected}", quote(.found))]
    Unexpected {
        offset: usize,
        found: String,
        expected: &'static str,
    },
    /// Whitespace after the last field that no `;` follows.
    #[error("whitespace at byte {offset} after the last field: only a ';' may follow it")]
    TrailingWhitespace { offset: usize },
    /// Two `;` with nothing between them.
    #[error("empty field at byte {offset}: two ';' with nothing between them")]
    EmptyField { offset: usize },
    /// A field without `=`.
    #[error("field {} at byte {offset} has no '=': fields are name=value", quote(.field))]
    FieldWithoutEquals { offset: usize, field: String },
    /// Whitespace before or after the `=` of a field.
    #[error("whitespace around '=' at byte {offset} in {}: the grammar allows none", quote(.field))]
    WhitespaceAroundEquals { offset: usize, field: String },
    /// A field name that is not a valid extension name.
    #[error("field name {} at byte {offset} is not valid: a name is a letter or digit followed by at most 31 letters, digits, '_', '-' or '.'", quote(.name))]
    BadFieldName { offset: usize, name: String },
    /// An extension field with an empty value.
    #[error("field {} at byte {offset} has an empty value", quote(.field))]
    EmptyValue { offset: usize, field: String },
    /// A character an extension value may not hold.
    #[error("{} at byte {offset} is not allowed in the value of {}: values are printable characters other than ';', '=' and space", escape_char(*.ch), quote(.field))]
    BadExtensionValue {
        offset: usize,
        field: String,
        ch: char,
    },
    /// No `rua=` field.
    #[error("no \"rua=\" field{}: the field that says where to send reports is required", miscased_note(.miscased))]
    MissingRua {
        /// A field whose name is `rua` in another case (`RUA=`), which the
        /// grammar reads as an unknown extension.
        miscased: Option<String>,
    },
    /// `rua=` with nothing after it.
    #[error("\"rua=\" at byte {offset} has no URI")]
    EmptyRua { offset: usize },
    /// An empty entry in the URI list (a stray `,`).
    #[error("empty URI at byte {offset} in \"rua=\": remove the stray ','")]
    EmptyUri { offset: usize },
    /// A `rua` entry without a scheme.
    #[error("{} at byte {offset} is not a URI: it has no scheme such as \"mailto:\" or \"https:\"", quote(.uri))]
    NotAUri { offset: usize, uri: String },
    /// `!` inside a URI, which §3 requires to be percent-encoded.
    #[error("'!' at byte {offset} in URI {} must be percent-encoded as %21", quote(.uri))]
    UnencodedExclamation { offset: usize, uri: String },
    /// A `%` not followed by two hexadecimal digits.
    #[error("'%' at byte {offset} in URI {} is not followed by two hexadecimal digits", quote(.uri))]
    BadPercentEncoding { offset: usize, uri: String },
    /// A character RFC 3986 does not allow in a URI.
    #[error("{} at byte {offset} is not allowed in URI {} (RFC 3986): percent-encode it", escape_char(*.ch), quote(.uri))]
    InvalidUriCharacter {
        offset: usize,
        uri: String,
        ch: char,
    },
}

fn miscased_note(miscased: &Option<String>) -> String {
    match miscased {
        Some(name) => format!(
            " ({} is not it: field names are case-sensitive)",
            quote(&format!("{name}="))
        ),
        None => String::new(),
    }
}

/// Longest text quoted in a message before it is cut.
const QUOTE_LIMIT: usize = 72;

/// Quotes published text for a message: double quotes around it, anything
/// outside printable ASCII escaped (so control and bidi characters cannot
/// reach a terminal), and long text cut with a visible `…`.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(QUOTE_LIMIT) + 8);
    out.push('"');
    for (count, c) in text.chars().enumerate() {
        if count == QUOTE_LIMIT {
            out.push('…');
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// Names one character for a message: printable ASCII in quotes, anything
/// else as its code point.
fn escape_char(c: char) -> String {
    match c {
        '!'..='~' => format!("'{c}'"),
        ' ' => "space".to_string(),
        '\t' => "tab".to_string(),
        _ => format!("U+{:04X}", u32::from(c)),
    }
}

/// WSP of RFC 5234: space and horizontal tab.
fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_wsp(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && is_wsp(bytes[pos]) {
        pos += 1;
    }
    pos
}

/// The token starting at `pos`, up to whitespace or a separator, for error
/// messages. Never empty when `pos` is inside `text`.
fn token_at(text: &str, pos: usize) -> String {
    let rest = &text[pos..];
    let end = rest
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == ' ' || c == '\t' || c == ';' || c == ',')
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].to_string()
}

/// Parses the text of one TLSRPT record (its character-strings already
/// concatenated) per RFC 8460 §3.
///
/// Work is linear in the length of `text`.
pub fn parse(text: &str) -> Result<TlsRptRecord, RecordError> {
    if text.is_empty() {
        return Err(RecordError::Empty);
    }
    // The grammar is ASCII throughout; checking characters first lets every
    // later step work on bytes and report exact offsets.
    for (offset, ch) in text.char_indices() {
        if !ch.is_ascii() {
            return Err(RecordError::NonAscii { offset, ch });
        }
        if ch.is_ascii_control() && ch != '\t' {
            return Err(RecordError::ControlCharacter { offset, ch });
        }
    }
    if !text.starts_with(VERSION) {
        let first = text.split(';').next().unwrap_or(text).trim_end();
        return Err(RecordError::BadVersion {
            found: first.to_string(),
        });
    }

    let bytes = text.as_bytes();
    let mut state = Fields::default();
    let mut pos = VERSION.len();
    loop {
        let wsp_start = pos;
        pos = skip_wsp(bytes, pos);
        if pos == bytes.len() {
            if pos > wsp_start {
                return Err(RecordError::TrailingWhitespace { offset: wsp_start });
            }
            break;
        }
        if bytes[pos] != b';' {
            // Only reachable right after the version: fields end at `;`.
            return Err(RecordError::Unexpected {
                offset: pos,
                found: token_at(text, pos),
                expected: "expected ';' after \"v=TLSRPTv1\"",
            });
        }
        pos = skip_wsp(bytes, pos + 1);
        if pos == bytes.len() {
            // The optional trailing field-delim.
            break;
        }
        if bytes[pos] == b';' {
            return Err(RecordError::EmptyField { offset: pos });
        }
        pos = state.field(text, pos)?;
    }

    if state.rua_fields == 0 {
        let miscased = state
            .extensions
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("rua"))
            .map(|(name, _)| name.clone());
        return Err(RecordError::MissingRua { miscased });
    }
    Ok(TlsRptRecord {
        raw: text.to_string(),
        rua: state.rua,
        rua_fields: state.rua_fields,
        extensions: state.extensions,
    })
}

/// What the fields after the version have given so far.
#[derive(Default)]
struct Fields {
    rua: Vec<ReportUri>,
    rua_fields: usize,
    extensions: Vec<(String, String)>,
}

impl Fields {
    /// Parses the field that starts at `start` (not whitespace, not `;`) and
    /// returns where it ends. A field runs to the next `;` less the
    /// whitespace before it, which belongs to the delimiter.
    fn field(&mut self, text: &str, start: usize) -> Result<usize, RecordError> {
        let rest = &text[start..];
        let field = rest[..rest.find(';').unwrap_or(rest.len())].trim_end_matches([' ', '\t']);
        let end = start + field.len();
        let Some(eq) = field.find('=') else {
            return Err(RecordError::FieldWithoutEquals {
                offset: start,
                field: field.to_string(),
            });
        };
        let (name, value) = (&field[..eq], &field[eq + 1..]);
        if name.ends_with([' ', '\t']) || value.starts_with([' ', '\t']) {
            return Err(RecordError::WhitespaceAroundEquals {
                offset: start + eq,
                field: field.to_string(),
            });
        }
        let value_start = start + eq + 1;
        if name == "rua" {
            self.rua_fields += 1;
            self.rua_list(text, value_start, value)?;
            return Ok(end);
        }
        if !txt_record::is_extension_name(name) {
            return Err(RecordError::BadFieldName {
                offset: start,
                name: name.to_string(),
            });
        }
        if value.is_empty() {
            return Err(RecordError::EmptyValue {
                offset: start,
                field: field.to_string(),
            });
        }
        // tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E); `;` cannot occur
        // here, so this finds '=' and whitespace.
        if let Some((i, ch)) = value
            .char_indices()
            .find(|&(_, c)| !matches!(c, '!'..='~') || c == '=' || c == ';')
        {
            return Err(RecordError::BadExtensionValue {
                offset: value_start + i,
                field: field.to_string(),
                ch,
            });
        }
        self.extensions.push((name.to_string(), value.to_string()));
        Ok(end)
    }

    /// `tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)`, `value` starting at byte
    /// `offset` of `text`. `value` has no `;` and no trailing whitespace.
    fn rua_list(&mut self, text: &str, offset: usize, value: &str) -> Result<(), RecordError> {
        if value.is_empty() {
            return Err(RecordError::EmptyRua { offset });
        }
        let bytes = value.as_bytes();
        let mut pos = 0;
        loop {
            let uri_start = pos;
            while pos < bytes.len() && !is_wsp(bytes[pos]) && bytes[pos] != b',' {
                pos += 1;
            }
            if pos == uri_start {
                return Err(RecordError::EmptyUri {
                    offset: offset + pos,
                });
            }
            self.rua
                .push(report_uri(&value[uri_start..pos], offset + uri_start)?);
            pos = skip_wsp(bytes, pos);
            if pos == bytes.len() {
                return Ok(());
            }
            if bytes[pos] != b',' {
                return Err(RecordError::Unexpected {
                    offset: offset + pos,
                    found: token_at(text, offset + pos),
                    expected: "URIs in \"rua=\" are separated by ','",
                });
            }
            pos = skip_wsp(bytes, pos + 1);
        }
    }
}

/// Checks one URI (at byte `offset` of the record) and finds its kind.
fn report_uri(uri: &str, offset: usize) -> Result<ReportUri, RecordError> {
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let scheme_ok = |s: &str| {
        let mut b = s.bytes();
        b.next().is_some_and(|c| c.is_ascii_alphabetic())
            && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    };
    let Some((scheme, rest)) = uri.split_once(':').filter(|(s, _)| scheme_ok(s)) else {
        return Err(RecordError::NotAUri {
            offset,
            uri: uri.to_string(),
        });
    };
    let rest_offset = offset + scheme.len() + 1;
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            // §3: "!" MUST be encoded ("," and ";" never reach here: they
            // end the URI).
            b'!' => {
                return Err(RecordError::UnencodedExclamation {
                    offset: rest_offset + i,
                    uri: uri.to_string(),
                });
            }
            b'%' => {
                let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return Err(RecordError::BadPercentEncoding {
                        offset: rest_offset + i,
                        uri: uri.to_string(),
                    });
                }
                i += 3;
                continue;
            }
            // unreserved / sub-delims / gen-delims of RFC 3986 §2.2–2.3.
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' => {}
            b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b'=' => {}
            b':' | b'/' | b'?' | b'#' | b'[' | b']' | b'@' => {}
            _ => {
                return Err(RecordError::InvalidUriCharacter {
                    offset: rest_offset + i,
                    uri: uri.to_string(),
                    ch: char::from(b),
                });
            }
        }
        i += 1;
    }
    let kind = if scheme.eq_ignore_ascii_case("mailto") {
        let path = rest.split('?').next().unwrap_or(rest);
        ReportUriKind::Mailto {
            address: percent_decode(path),
        }
    } else if scheme.eq_ignore_ascii_case("https") {
        ReportUriKind::Https {
            host: https_host(rest),
        }
    } else {
        ReportUriKind::Other {
            scheme: scheme.to_ascii_lowercase(),
        }
    };
    Ok(ReportUri {
        uri: uri.to_string(),
        kind,
    })
}

/// The host of `//authority/...` (RFC 3986 §3.2), empty without one.
fn https_host(rest: &str) -> String {
    let Some(after) = rest.strip_prefix("//") else {
        return String::new();
    };
    let authority = after.split(['/', '?', '#']).next().unwrap_or(after);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = match host_port.strip_prefix('[') {
        Some(literal) => literal.split(']').next().unwrap_or(literal),
        None => host_port.split(':').next().unwrap_or(host_port),
    };
    percent_decode(host)
}

/// Decodes `%HH` escapes (already checked to be well formed); bytes that do
/// not make UTF-8 become U+FFFD.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let digit = |j: usize| bytes.get(j).and_then(|b| char::from(*b).to_digit(16));
            if let (Some(hi), Some(lo)) = (digit(i + 1), digit(i + 2)) {
                // Two hex digits make at most 0xFF.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "v=TLSRPTv1;rua=mailto:a@example.com";

    fn uris(rec: &TlsRptRecord) -> Vec<&str> {
        rec.rua().iter().map(ReportUri::as_str).collect()
    }

    #[test]
    fn grammatical_records_parse() {
        // (rule, record, rua URIs, extensions)
        type Row<'a> = (&'a str, String, Vec<&'a str>, Vec<(&'a str, &'a str)>);
        let a = "mailto:a@example.com";
        let h = "https://r.example.com/tlsrpt";
        let name32 = format!("x{}", "y".repeat(31));
        #[rustfmt::skip]
        let rows: Vec<Row> = vec![
            ("minimal record", R.into(), vec![a], vec![]),
            ("space after ';'", "v=TLSRPTv1; rua=mailto:a@example.com".into(), vec![a], vec![]),
            ("spaces and tabs on both sides of ';'", "v=TLSRPTv1 \t; \trua=mailto:a@example.com".into(), vec![a], vec![]),
            ("space before ';' fits the grammar", "v=TLSRPTv1 ;rua=mailto:a@example.com".into(), vec![a], vec![]),
            ("trailing ';'", format!("{R};"), vec![a], vec![]),
            ("trailing ';' with whitespace around it", format!("{R} ; "), vec![a], vec![]),
            ("two URIs", format!("{R},{h}"), vec![a, h], vec![]),
            ("whitespace around ','", format!("{R} ,\t {h}"), vec![a, h], vec![]),
            ("second rua= field keeps every URI", format!("{R};rua={h}"), vec![a, h], vec![]),
            ("percent-encoded '!'", "v=TLSRPTv1;rua=mailto:a%21b@example.com".into(), vec!["mailto:a%21b@example.com"], vec![]),
            ("percent-encoded ','", "v=TLSRPTv1;rua=mailto:a@example.com%2Cb@example.com".into(), vec!["mailto:a@example.com%2Cb@example.com"], vec![]),
            ("'=' and '?' inside a URI", format!("{R}?subject=tlsrpt"), vec!["mailto:a@example.com?subject=tlsrpt"], vec![]),
            ("https URI", format!("v=TLSRPTv1;rua={h}"), vec![h], vec![]),
            ("mailto without '@' is grammatical", "v=TLSRPTv1;rua=mailto:tlsrpt".into(), vec!["mailto:tlsrpt"], vec![]),
            ("other scheme is grammatical", "v=TLSRPTv1;rua=ftp://example.com/r".into(), vec!["ftp://example.com/r"], vec![]),
            ("extension field is kept", format!("{R};ext_1.x-y=va!ue:/"), vec![a], vec![("ext_1.x-y", "va!ue:/")]),
            ("extension before rua", "v=TLSRPTv1;foo=bar;rua=mailto:a@example.com".into(), vec![a], vec![("foo", "bar")]),
            ("extension name of 32 characters", format!("{R};{name32}=1"), vec![a], vec![(name32.as_str(), "1")]),
            ("extension name may start with a digit", format!("{R};9a=1"), vec![a], vec![("9a", "1")]),
        ];
        for (rule, text, want_uris, want_ext) in &rows {
            match parse(text) {
                Ok(rec) => {
                    assert_eq!(&uris(&rec), want_uris, "{rule}: {text:?}");
                    let ext: Vec<(&str, &str)> = rec
                        .extensions()
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect();
                    assert_eq!(&ext, want_ext, "{rule}: {text:?}");
                    assert_eq!(rec.raw(), text, "{rule}: raw text kept");
                }
                Err(e) => panic!("{rule}: {text:?} rejected: {e}"),
            }
        }
    }

    #[test]
    fn ungrammatical_records_are_errors_that_say_what_and_where() {
        use RecordError::*;
        let s = String::from;
        let name33 = format!("x{}", "y".repeat(32));
        #[rustfmt::skip]
        let rows: Vec<(&str, String, RecordError)> = vec![
            ("empty text", s(""), Empty),
            ("version is case-sensitive", s("v=tlsrptv1;rua=mailto:a@example.com"), BadVersion { found: s("v=tlsrptv1") }),
            ("version must come first", s("rua=mailto:a@example.com;v=TLSRPTv1"), BadVersion { found: s("rua=mailto:a@example.com") }),
            ("no whitespace inside the version", s("v = TLSRPTv1;rua=mailto:a@example.com"), BadVersion { found: s("v = TLSRPTv1") }),
            ("leading whitespace", format!(" {R}"), BadVersion { found: s(" v=TLSRPTv1") }),
            ("version followed by more text", s("v=TLSRPTv10;rua=mailto:a@example.com"), Unexpected { offset: 10, found: s("0"), expected: "expected ';' after \"v=TLSRPTv1\"" }),
            ("version alone lacks rua", s("v=TLSRPTv1"), MissingRua { miscased: None }),
            ("version and ';' alone lack rua", s("v=TLSRPTv1;"), MissingRua { miscased: None }),
            ("extensions alone lack rua", s("v=TLSRPTv1;foo=bar"), MissingRua { miscased: None }),
            ("field names are case-sensitive: RUA is not rua", s("v=TLSRPTv1;RUA=mailto:a@example.com"), MissingRua { miscased: Some(s("RUA")) }),
            ("rua= empty at the end", s("v=TLSRPTv1;rua="), EmptyRua { offset: 15 }),
            ("rua= empty before ';'", s("v=TLSRPTv1;rua=;"), EmptyRua { offset: 15 }),
            ("no whitespace before '='", s("v=TLSRPTv1;rua =mailto:a@example.com"), WhitespaceAroundEquals { offset: 15, field: s("rua =mailto:a@example.com") }),
            ("no whitespace after '='", s("v=TLSRPTv1;rua= mailto:a@example.com"), WhitespaceAroundEquals { offset: 14, field: s("rua= mailto:a@example.com") }),
            ("'!' in a URI must be encoded", s("v=TLSRPTv1;rua=mailto:a!b@example.com"), UnencodedExclamation { offset: 23, uri: s("mailto:a!b@example.com") }),
            ("'%' needs two hex digits", s("v=TLSRPTv1;rua=mailto:a%2@example.com"), BadPercentEncoding { offset: 23, uri: s("mailto:a%2@example.com") }),
            ("'%' at the end of a URI", s("v=TLSRPTv1;rua=mailto:a@example.com%"), BadPercentEncoding { offset: 35, uri: s("mailto:a@example.com%") }),
            ("URIs need ',' between them", s("v=TLSRPTv1;rua=mailto:a@example.com mailto:b@example.com"), Unexpected { offset: 36, found: s("mailto:b@example.com"), expected: "URIs in \"rua=\" are separated by ','" }),
            ("unencoded ',' splits an address off", s("v=TLSRPTv1;rua=mailto:a@example.com,b@example.com"), NotAUri { offset: 36, uri: s("b@example.com") }),
            ("a URI needs a scheme", s("v=TLSRPTv1;rua=a@example.com"), NotAUri { offset: 15, uri: s("a@example.com") }),
            ("a scheme starts with a letter", s("v=TLSRPTv1;rua=1mailto:a@example.com"), NotAUri { offset: 15, uri: s("1mailto:a@example.com") }),
            ("stray trailing ','", format!("{R},"), EmptyUri { offset: 36 }),
            ("two ',' in a row", format!("{R},,https://r.example.com/"), EmptyUri { offset: 36 }),
            ("',' with only whitespace after it", format!("{R}, ;"), EmptyUri { offset: 36 }),
            ("characters RFC 3986 forbids", s("v=TLSRPTv1;rua=mailto:<a@example.com>"), InvalidUriCharacter { offset: 22, uri: s("mailto:<a@example.com>"), ch: '<' }),
            ("two ';' in a row", s("v=TLSRPTv1;;rua=mailto:a@example.com"), EmptyField { offset: 11 }),
            ("two ';' with space between", s("v=TLSRPTv1; ; rua=mailto:a@example.com"), EmptyField { offset: 12 }),
            ("a field needs '='", format!("{R};mailto:b@example.com"), FieldWithoutEquals { offset: 36, field: s("mailto:b@example.com") }),
            ("extension name starts with a letter or digit", format!("{R};_x=1"), BadFieldName { offset: 36, name: s("_x") }),
            ("extension name has at most 32 characters", format!("{R};{name33}=1"), BadFieldName { offset: 36, name: name33.clone() }),
            ("extension name has no '/'", format!("{R};a/b=1"), BadFieldName { offset: 36, name: s("a/b") }),
            ("a field needs a name", format!("{R};=1"), BadFieldName { offset: 36, name: s("") }),
            ("extension value has no '='", format!("{R};foo=a=b"), BadExtensionValue { offset: 41, field: s("foo=a=b"), ch: '=' }),
            ("extension value has no space", format!("{R};foo=a b"), BadExtensionValue { offset: 41, field: s("foo=a b"), ch: ' ' }),
            ("extension value is not empty", format!("{R};foo="), EmptyValue { offset: 36, field: s("foo=") }),
            ("no whitespace after the last field without ';'", format!("{R} "), TrailingWhitespace { offset: 35 }),
            ("non-ASCII character", s("v=TLSRPTv1;rua=mailto:é@example.com"), NonAscii { offset: 22, ch: 'é' }),
            ("pasted no-break space", s("v=TLSRPTv1;\u{a0}rua=mailto:a@example.com"), NonAscii { offset: 11, ch: '\u{a0}' }),
            ("bytes that were not UTF-8", s("v=TLSRPTv1;rua=mailto:\u{fffd}@example.com"), NonAscii { offset: 22, ch: '\u{fffd}' }),
            ("line feed", format!("{R}\n"), ControlCharacter { offset: 35, ch: '\n' }),
            ("NUL", s("v=TLSRPTv1;\0rua=mailto:a@example.com"), ControlCharacter { offset: 11, ch: '\0' }),
            ("DEL", format!("{R}\u{7f}"), ControlCharacter { offset: 35, ch: '\u{7f}' }),
        ];
        for (rule, text, want) in rows {
            match parse(&text) {
                Ok(rec) => panic!("{rule}: {text:?} accepted with rua {:?}", uris(&rec)),
                Err(got) => {
                    assert_eq!(got, want, "{rule}: {text:?}");
                    let msg = got.to_string();
                    assert!(
                        !msg.ends_with('.'),
                        "{rule}: message ends with a period: {msg}"
                    );
                    assert!(
                        !msg.starts_with(|c: char| c.is_uppercase()),
                        "{rule}: message is capitalised: {msg}"
                    );
                }
            }
        }
    }

    #[test]
    fn uri_kind_follows_the_scheme() {
        let mailto = |a: &str| ReportUriKind::Mailto { address: a.into() };
        let https = |h: &str| ReportUriKind::Https { host: h.into() };
        let other = |s: &str| ReportUriKind::Other { scheme: s.into() };
        #[rustfmt::skip]
        let rows = [
            ("mailto address", "mailto:a@example.com", mailto("a@example.com")),
            ("scheme is case-insensitive", "MAILTO:a@example.com", mailto("a@example.com")),
            ("address stops at '?' and is percent-decoded", "mailto:a%2Bb@example.com?subject=x", mailto("a+b@example.com")),
            ("encoded ',' stays in the address", "mailto:a@example.com%2Cb@example.com", mailto("a@example.com,b@example.com")),
            ("address without '@'", "mailto:tlsrpt", mailto("tlsrpt")),
            ("empty address", "mailto:", mailto("")),
            ("https host", "https://reports.example.com/x", https("reports.example.com")),
            ("https host without userinfo and port", "https://u@reports.example.com:8443/x", https("reports.example.com")),
            ("https IPv6 literal", "https://[2001:db8::1]:443/x", https("2001:db8::1")),
            ("https host before query", "https://reports.example.com?x=1", https("reports.example.com")),
            ("https with empty authority", "https:///x", https("")),
            ("https without authority", "https:reports", https("")),
            ("plain http is another scheme", "http://example.com/x", other("http")),
            ("ftp is another scheme", "FTP://example.com", other("ftp")),
        ];
        for (rule, uri, want) in rows {
            let text = format!("v=TLSRPTv1;rua={uri}");
            match parse(&text) {
                Ok(rec) => {
                    let got: Vec<&ReportUriKind> = rec.rua().iter().map(ReportUri::kind).collect();
                    assert_eq!(got, vec![&want], "{rule}: {uri:?}");
                }
                Err(e) => panic!("{rule}: {text:?} rejected: {e}"),
            }
        }
    }

    #[test]
    fn long_records_parse_in_linear_time_and_errors_stay_short() {
        let mut good = String::from("v=TLSRPTv1;rua=mailto:a@example.com");
        while good.len() < 10_000 {
            good.push_str(",https://r.example.com/x");
        }
        let start = std::time::Instant::now();
        let rec = parse(&good);
        assert!(
            matches!(&rec, Ok(r) if r.rua().len() > 300),
            "10 000-character record rejected: {rec:?}"
        );

        let bad = format!("v=TLSRPTv1;rua=mailto:a@example.com;{}", "x".repeat(10_000));
        let err = parse(&bad);
        assert!(
            matches!(err, Err(RecordError::FieldWithoutEquals { offset: 36, .. })),
            "{err:?}"
        );
        let msg = err.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(
            msg.len() < 200,
            "message quotes the whole field ({} bytes)",
            msg.len()
        );

        let spaces = format!("v=TLSRPTv1{};rua=mailto:a@example.com", " ".repeat(10_000));
        assert!(
            parse(&spaces).is_ok(),
            "whitespace before ';' is grammatical"
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn quote_escapes_what_a_terminal_would_interpret_and_cuts_long_text() {
        #[rustfmt::skip]
        let rows = [
            ("printable text as is", "v=TLSRPTv1", "\"v=TLSRPTv1\""),
            ("quote and backslash escaped", "a\"b\\c", "\"a\\\"b\\\\c\""),
            ("control characters escaped", "a\nb\u{1b}[31m", "\"a\\u{a}b\\u{1b}[31m\""),
            ("bidi override escaped", "a\u{202e}b", "\"a\\u{202e}b\""),
        ];
        for (rule, text, want) in rows {
            assert_eq!(quote(text), want, "{rule}: {text:?}");
        }
        let long = quote(&"x".repeat(1000));
        assert!(
            long.ends_with("…\"") && long.len() < 100,
            "long text not cut: {long}"
        );
    }
}
