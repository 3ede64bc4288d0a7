//! TLSA records (RFC 6698 §2) and their usability for SMTP (RFC 7672 §3.1).
//!
//! A record is four fields: certificate usage, selector, matching type and
//! the certificate association data. [`TlsaRecord::parse_presentation`]
//! reads the zone-file form (RFC 6698 §2.2: three decimal fields, then hex
//! that may contain whitespace); [`TlsaRecord::to_presentation`] writes the
//! form RFC 8460 §4.4 wants in `policy-string`: single spaces, lower-case
//! hex, no spaces inside it.
//!
//! [`TlsaRecord::usability`] says whether an SMTP client may use a record:
//! only DANE-TA(2) and DANE-EE(3) (PKIX-TA(0) and PKIX-EE(1) have no defined
//! meaning in SMTP and are treated as unusable, RFC 7672 §3.1.3), selectors
//! Cert(0) and SPKI(1), matching types Full(0), SHA2-256(1) and SHA2-512(2)
//! with data of the right length (RFC 7671 §5.1; RFC 6698 §2.1.3).
//!
//! Leaves out: the multi-line `( … )` zone-file syntax, RFC 3597's `\#`
//! generic form and RFC 7218 mnemonics (`DANE-EE SPKI SHA2-256`) in input.

use serde::{Serialize, Serializer};

use crate::pki::facts::hex;

/// Certificate usage DANE-TA(2): the data names a trust anchor (RFC 7218).
pub const USAGE_DANE_TA: u8 = 2;
/// Certificate usage DANE-EE(3): the data names the server's own key.
pub const USAGE_DANE_EE: u8 = 3;
/// Selector Cert(0): the whole DER certificate.
pub const SELECTOR_CERT: u8 = 0;
/// Selector SPKI(1): the DER SubjectPublicKeyInfo.
pub const SELECTOR_SPKI: u8 = 1;
/// Matching type Full(0): the data is the selected content itself.
pub const MATCHING_FULL: u8 = 0;
/// Matching type SHA2-256(1).
pub const MATCHING_SHA256: u8 = 1;
/// Matching type SHA2-512(2).
pub const MATCHING_SHA512: u8 = 2;

/// The largest association data a TLSA RR can carry: 65535 octets of RDATA
/// less the three one-octet fields (RFC 1035 §3.2.1 RDLENGTH).
const MAX_DATA_BYTES: usize = 65_532;

/// One TLSA record.
///
/// Built by [`TlsaRecord::parse_presentation`] (which keeps the text it was
/// given) or from wire fields by [`TlsaRecord::new`]. Any four values are a
/// well-formed record; whether SMTP may use it is [`TlsaRecord::usability`].
#[derive(Debug, Clone)]
pub struct TlsaRecord {
    usage: u8,
    selector: u8,
    matching: u8,
    data: Vec<u8>,
    raw: Option<String>,
}

impl PartialEq for TlsaRecord {
    /// Records are equal when their RDATA is; the text they came from does
    /// not matter.
    fn eq(&self, other: &Self) -> bool {
        (self.usage, self.selector, self.matching, &self.data)
            == (other.usage, other.selector, other.matching, &other.data)
    }
}

impl Eq for TlsaRecord {}

impl Serialize for TlsaRecord {
    /// Serialised as its RFC 8460 policy-string form.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_presentation())
    }
}

/// Why a TLSA presentation string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsaParseError {
    /// Nothing but whitespace.
    #[error("empty tlsa record")]
    Empty,
    /// Fewer than the three numeric fields.
    #[error("tlsa record {input:?} has no {field} field")]
    MissingField {
        /// `usage`, `selector` or `matching type`.
        field: &'static str,
        /// The whole input.
        input: String,
    },
    /// A numeric field is not a decimal 0–255.
    #[error("tlsa {field} {value:?} is not a number from 0 to 255")]
    BadNumber {
        /// Which field.
        field: &'static str,
        /// What was there.
        value: String,
    },
    /// No certificate association data after the three numbers.
    #[error("tlsa record {input:?} has no certificate association data")]
    MissingData {
        /// The whole input.
        input: String,
    },
    /// Zone-file parentheses (multi-line form) are not supported here.
    #[error("tlsa record {input:?} uses parentheses; give the record on one line")]
    Parentheses {
        /// The whole input.
        input: String,
    },
    /// A character of the data is not a hex digit.
    #[error("tlsa data has {found:?} at hex digit {position}, expected 0-9 or a-f")]
    BadHex {
        /// The offending character.
        found: char,
        /// 1-based position among the data characters (whitespace skipped).
        position: usize,
    },
    /// An odd number of hex digits cannot be whole octets.
    #[error("tlsa data has {digits} hex digits, an odd number")]
    OddHex {
        /// How many digits there were.
        digits: usize,
    },
    /// More data than a TLSA RR can hold.
    #[error("tlsa data is {bytes} octets, more than the {max} a record can hold")]
    TooLong {
        /// Octets given.
        bytes: usize,
        /// The limit.
        max: usize,
    },
}

/// Whether an SMTP client may use a record (RFC 7672 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "kebab-case")]
pub enum Usability {
    /// DANE-TA or DANE-EE with a known selector and matching type.
    Usable,
    /// Ignored by SMTP clients, and why.
    Unusable(UnusableReason),
}

/// Why a record is unusable for SMTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UnusableReason {
    /// PKIX-TA(0) or PKIX-EE(1): undefined in SMTP, RFC 7672 §3.1.3.
    #[error("usage {usage} (pkix) has no defined meaning for smtp (rfc 7672 section 3.1.3)")]
    PkixUsage {
        /// 0 or 1.
        usage: u8,
    },
    /// A usage no RFC defines.
    #[error("unknown certificate usage {usage}")]
    UnknownUsage {
        /// The value.
        usage: u8,
    },
    /// A selector no RFC defines.
    #[error("unknown selector {selector}")]
    UnknownSelector {
        /// The value.
        selector: u8,
    },
    /// A matching type no RFC defines.
    #[error("unknown matching type {matching}")]
    UnknownMatching {
        /// The value.
        matching: u8,
    },
    /// A digest of the wrong size for its matching type.
    #[error("matching type {matching} needs {expected} octets of data, the record has {actual}")]
    WrongDigestLength {
        /// 1 or 2.
        matching: u8,
        /// 32 or 64.
        expected: usize,
        /// What the record holds.
        actual: usize,
    },
    /// Full(0) matching with no data at all.
    #[error("matching type 0 (full) with empty data")]
    EmptyData,
}

impl TlsaRecord {
    /// A record from its wire fields.
    pub fn new(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> Self {
        TlsaRecord {
            usage,
            selector,
            matching,
            data,
            raw: None,
        }
    }

    /// Parses the presentation form, e.g. `3 1 1 ab12…` (RFC 6698 §2.2).
    ///
    /// Fields are separated by whitespace; the hex data may itself contain
    /// whitespace, as zone files allow. Upper- and lower-case hex are both
    /// accepted.
    pub fn parse_presentation(input: &str) -> Result<Self, TlsaParseError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(TlsaParseError::Empty);
        }
        if text.contains(['(', ')']) {
            return Err(TlsaParseError::Parentheses {
                input: input.to_string(),
            });
        }
        let mut fields = text.split_whitespace();
        let mut number = |field: &'static str| -> Result<u8, TlsaParseError> {
            let value = fields.next().ok_or_else(|| TlsaParseError::MissingField {
                field,
                input: input.to_string(),
            })?;
            // Digits only: u8::from_str would also take a leading `+`.
            if value.is_empty() || value.len() > 3 || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TlsaParseError::BadNumber {
                    field,
                    value: value.to_string(),
                });
            }
            value.parse().map_err(|_| TlsaParseError::BadNumber {
                field,
                value: value.to_string(),
            })
        };
        let usage = number("usage")?;
        let selector = number("selector")?;
        let matching = number("matching type")?;
        let data = decode_hex(fields.flat_map(str::chars))?;
        if data.is_empty() {
            return Err(TlsaParseError::MissingData {
                input: input.to_string(),
            });
        }
        Ok(TlsaRecord {
            usage,
            selector,
            matching,
            data,
            raw: Some(input.to_string()),
        })
    }

    /// The RFC 8460 §4.4 policy-string form: `3 1 1 ab12…`, single spaces,
    /// lower-case hex without spaces.
    pub fn to_presentation(&self) -> String {
        format!(
            "{} {} {} {}",
            self.usage,
            self.selector,
            self.matching,
            hex(&self.data)
        )
    }

    /// Certificate usage (RFC 6698 §2.1.1).
    pub fn usage(&self) -> u8 {
        self.usage
    }

    /// Selector (RFC 6698 §2.1.2).
    pub fn selector(&self) -> u8 {
        self.selector
    }

    /// Matching type (RFC 6698 §2.1.3).
    pub fn matching(&self) -> u8 {
        self.matching
    }

    /// Certificate association data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The text this record was parsed from, if it was parsed.
    pub fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }

    /// The (usage, selector, matching type) combination (RFC 7671 §8).
    pub fn combination(&self) -> (u8, u8, u8) {
        (self.usage, self.selector, self.matching)
    }

    /// Whether an SMTP client may use this record (RFC 7672 §3.1).
    pub fn usability(&self) -> Usability {
        match self.unusable_reason() {
            None => Usability::Usable,
            Some(reason) => Usability::Unusable(reason),
        }
    }

    /// Shorthand for `usability() == Usable`.
    pub fn is_usable(&self) -> bool {
        self.unusable_reason().is_none()
    }

    fn unusable_reason(&self) -> Option<UnusableReason> {
        match self.usage {
            0 | 1 => return Some(UnusableReason::PkixUsage { usage: self.usage }),
            USAGE_DANE_TA | USAGE_DANE_EE => {}
            usage => return Some(UnusableReason::UnknownUsage { usage }),
        }
        if !matches!(self.selector, SELECTOR_CERT | SELECTOR_SPKI) {
            return Some(UnusableReason::UnknownSelector {
                selector: self.selector,
            });
        }
        let expected = match self.matching {
            MATCHING_FULL if self.data.is_empty() => return Some(UnusableReason::EmptyData),
            MATCHING_FULL => return None,
            MATCHING_SHA256 => 32,
            MATCHING_SHA512 => 64,
            matching => return Some(UnusableReason::UnknownMatching { matching }),
        };
        (self.data.len() != expected).then_some(UnusableReason::WrongDigestLength {
            matching: self.matching,
            expected,
            actual: self.data.len(),
        })
    }
}

/// Hex digits to octets, refusing anything else.
fn decode_hex(chars: impl Iterator<Item = char>) -> Result<Vec<u8>, TlsaParseError> {
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    let mut digits = 0usize;
    for c in chars {
        digits += 1;
        let nibble = c.to_digit(16).ok_or(TlsaParseError::BadHex {
            found: c,
            position: digits,
        })?;
        let nibble = u8::try_from(nibble).expect("a hex digit is below 16");
        match high.take() {
            None => high = Some(nibble),
            Some(h) => {
                if out.len() == MAX_DATA_BYTES {
                    return Err(TlsaParseError::TooLong {
                        bytes: out.len() + 1,
                        max: MAX_DATA_BYTES,
                    });
                }
                out.push(h << 4 | nibble);
            }
        }
    }
    if high.is_some() {
        return Err(TlsaParseError::OddHex { digits });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H32: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn presentation_parses_and_round_trips() {
        let h32_spaced = "0123456789ABCDEF 0123456789abcdef\t0123456789abcdef 0123456789abcdef";
        let cases: &[(&str, String, &str)] = &[
            ("single spaces", format!("3 1 1 {H32}"), "3 1 1"),
            (
                "hex split by whitespace",
                format!("  3\t1  1 {h32_spaced} "),
                "3 1 1",
            ),
            (
                "full data, odd field values",
                "255 7 0 00".to_string(),
                "255 7 0",
            ),
        ];
        for (rule, input, prefix) in cases {
            let r = TlsaRecord::parse_presentation(input)
                .unwrap_or_else(|e| panic!("{rule}: {input:?}: {e}"));
            let out = r.to_presentation();
            assert!(out.starts_with(prefix), "{rule}: {out}");
            assert!(
                !out[prefix.len() + 1..].contains(' '),
                "{rule}: hex has no spaces: {out}"
            );
            assert_eq!(out, out.to_lowercase(), "{rule}: lower-case hex");
            assert_eq!(r.raw(), Some(input.as_str()), "{rule}: raw text kept");
            let again = TlsaRecord::parse_presentation(&out).expect("own output parses");
            assert_eq!(again, r, "{rule}: round trip");
        }
    }

    #[test]
    fn presentation_errors_name_the_value() {
        let long = format!("3 1 0 {}", "00".repeat(MAX_DATA_BYTES + 1));
        let cases: &[(&str, &str, TlsaParseError)] = &[
            ("empty input", "  ", TlsaParseError::Empty),
            (
                "missing selector",
                "3",
                TlsaParseError::MissingField {
                    field: "selector",
                    input: "3".into(),
                },
            ),
            (
                "number above 255",
                "3 256 1 00",
                TlsaParseError::BadNumber {
                    field: "selector",
                    value: "256".into(),
                },
            ),
            (
                "mnemonic instead of number",
                "DANE-EE 1 1 00",
                TlsaParseError::BadNumber {
                    field: "usage",
                    value: "DANE-EE".into(),
                },
            ),
            (
                "plus sign is not a digit",
                "+3 1 1 00",
                TlsaParseError::BadNumber {
                    field: "usage",
                    value: "+3".into(),
                },
            ),
            (
                "no data",
                "3 1 1",
                TlsaParseError::MissingData {
                    input: "3 1 1".into(),
                },
            ),
            (
                "non-hex character",
                "3 1 1 abzz",
                TlsaParseError::BadHex {
                    found: 'z',
                    position: 3,
                },
            ),
            (
                "odd hex digits",
                "3 1 1 abc",
                TlsaParseError::OddHex { digits: 3 },
            ),
            (
                "parentheses",
                "3 1 1 ( ab )",
                TlsaParseError::Parentheses {
                    input: "3 1 1 ( ab )".into(),
                },
            ),
            (
                "too much data",
                &long,
                TlsaParseError::TooLong {
                    bytes: MAX_DATA_BYTES + 1,
                    max: MAX_DATA_BYTES,
                },
            ),
        ];
        for (rule, input, want) in cases {
            let got = TlsaRecord::parse_presentation(input);
            assert_eq!(got.as_ref().err(), Some(want), "{rule}: {input:.40}");
        }
    }

    #[test]
    fn usability_follows_rfc7672() {
        let d = |n: usize| vec![0xab; n];
        let cases: &[(&str, TlsaRecord, Usability)] = &[
            (
                "dane-ee spki sha-256",
                TlsaRecord::new(3, 1, 1, d(32)),
                Usability::Usable,
            ),
            (
                "dane-ta cert sha-256",
                TlsaRecord::new(2, 0, 1, d(32)),
                Usability::Usable,
            ),
            (
                "dane-ee sha-512",
                TlsaRecord::new(3, 1, 2, d(64)),
                Usability::Usable,
            ),
            (
                "dane-ee full spki",
                TlsaRecord::new(3, 1, 0, d(91)),
                Usability::Usable,
            ),
            (
                "pkix-ta is unusable in smtp",
                TlsaRecord::new(0, 0, 1, d(32)),
                Usability::Unusable(UnusableReason::PkixUsage { usage: 0 }),
            ),
            (
                "pkix-ee is unusable in smtp",
                TlsaRecord::new(1, 1, 1, d(32)),
                Usability::Unusable(UnusableReason::PkixUsage { usage: 1 }),
            ),
            (
                "unknown usage",
                TlsaRecord::new(4, 1, 1, d(32)),
                Usability::Unusable(UnusableReason::UnknownUsage { usage: 4 }),
            ),
            (
                "unknown selector",
                TlsaRecord::new(3, 2, 1, d(32)),
                Usability::Unusable(UnusableReason::UnknownSelector { selector: 2 }),
            ),
            (
                "unknown matching type",
                TlsaRecord::new(3, 1, 3, d(32)),
                Usability::Unusable(UnusableReason::UnknownMatching { matching: 3 }),
            ),
            (
                "sha-256 digest of 31 octets",
                TlsaRecord::new(3, 1, 1, d(31)),
                Usability::Unusable(UnusableReason::WrongDigestLength {
                    matching: 1,
                    expected: 32,
                    actual: 31,
                }),
            ),
            (
                "sha-512 digest of sha-256 length",
                TlsaRecord::new(3, 1, 2, d(32)),
                Usability::Unusable(UnusableReason::WrongDigestLength {
                    matching: 2,
                    expected: 64,
                    actual: 32,
                }),
            ),
            (
                "full match with empty data",
                TlsaRecord::new(3, 1, 0, vec![]),
                Usability::Unusable(UnusableReason::EmptyData),
            ),
        ];
        for (rule, record, want) in cases {
            assert_eq!(
                record.usability(),
                *want,
                "{rule}: {}",
                record.to_presentation()
            );
        }
    }
}
