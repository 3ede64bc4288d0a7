//! MTA-STS `mx:` patterns and how they match MX host names.
//!
//! Implements RFC 8461 §3.2 (`sts-policy-mx-value = ["*."] Domain`, with
//! `Domain` from RFC 5321 §4.1.2, in A-label form for IDNs) and §4.1 (a
//! wildcard stands for exactly one left-most label; comparison ignores case).
//! Also the coverage check a scanner adds on top: which MX host is covered by
//! which pattern, which pattern covers nothing, and the findings that follow.
//!
//! What the grammar excludes, and strict senders reject (each makes the
//! whole policy invalid, RFC 8460 `sts-policy-invalid`):
//! - a trailing dot (`mx1.example.com.`): `Domain` has none;
//! - an IP address (`192.0.2.1`, `[192.0.2.1]`, `2001:db8::1`): a pattern
//!   names MX hosts, and an MX target is a host name (RFC 5321 §5.1);
//! - a label that is not valid IDNA: an `xn--` label that does not decode
//!   to a valid U-label or is not its canonical encoding (RFC 5891 §5.4,
//!   checked with UTS #46 processing as mox does), or another label with
//!   `--` in the third and fourth positions, which RFC 5890 §2.3.1 reserves.
//!
//! mox parses each pattern as a domain (`mtasts/parse.go`, `dns.ParseDomain`
//! with IDNA lookup rules) and rejects the whole policy over any of these, so
//! it treats the domain as having no MTA-STS policy and reports
//! `sts-policy-invalid`. postfix-mta-sts-resolver checks no `mx:` value: it
//! applies the policy and hands each name, as written, to Postfix as a
//! certificate match name. We judge as the strict sender, as SPEC §2 does
//! for the media type: the policy is `invalid`, each session's `sts` result
//! and the report's `sts` policy carry `sts-policy-invalid` (senders then
//! deliver as without a policy); the finding names the senders that still
//! apply it ([`PatternError::strict_senders_reject`]).
//!
//! Left out: the MX lookup.

use serde::{Serialize, Serializer};
use thiserror::Error;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use super::escape_str;

/// Longest label, RFC 1035 §2.3.4.
const MAX_LABEL: usize = 63;
/// Longest domain name in text form without the trailing dot: 255 octets on
/// the wire (RFC 1035 §2.3.4) leave 253 characters.
const MAX_DOMAIN: usize = 253;

/// Why a pattern is not `["*."] Domain` (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PatternError {
    /// Nothing to parse.
    #[error("mx pattern is empty")]
    Empty,
    /// Non-ASCII text: an IDN written as U-labels.
    #[error(
        "mx pattern `{pattern}` is not ASCII: an internationalized name must be written in A-label (xn--) form"
    )]
    NotALabel {
        /// The pattern, escaped.
        pattern: String,
    },
    /// A `*` other than a whole left-most label followed by a dot.
    #[error(
        "mx pattern `{pattern}` has a `*` that is not the whole left-most label (`*.example.com`)"
    )]
    MisplacedWildcard {
        /// The pattern, escaped.
        pattern: String,
    },
    /// Two dots in a row, a leading dot, or a name that is only a dot.
    #[error("mx pattern `{pattern}` has an empty label")]
    EmptyLabel {
        /// The pattern, escaped.
        pattern: String,
    },
    /// A label with a character outside letters, digits and `-`, or that
    /// starts or ends with `-` (RFC 5321 §4.1.2 `sub-domain`).
    #[error("mx pattern `{pattern}`: label `{label}` is not letters, digits and inner hyphens")]
    InvalidLabel {
        /// The pattern, escaped.
        pattern: String,
        /// The offending label, escaped.
        label: String,
    },
    /// A label longer than 63 characters.
    #[error("mx pattern `{pattern}`: a label is {length} characters long, the limit is 63")]
    LabelTooLong {
        /// The pattern, escaped.
        pattern: String,
        /// Length of the longest label.
        length: usize,
    },
    /// A name longer than 253 characters.
    #[error("mx pattern `{pattern}` is {length} characters long, the limit is 253")]
    TooLong {
        /// The pattern, escaped (cut).
        pattern: String,
        /// Length of the name.
        length: usize,
    },
    /// A final dot: RFC 5321 `Domain` has none.
    #[error(
        "mx pattern `{pattern}` ends with a dot, which the grammar does not allow (RFC 8461 §3.2)"
    )]
    TrailingDot {
        /// The pattern, escaped.
        pattern: String,
        /// The pattern without the final dot, escaped.
        without: String,
    },
    /// An IPv4 or IPv6 address (bare or in brackets) instead of a host name.
    #[error("mx pattern `{pattern}` is an IP address, not an MX host name (RFC 8461 §3.2)")]
    IpAddress {
        /// The pattern, escaped.
        pattern: String,
    },
    /// An `xn--` label that does not decode to a valid internationalized
    /// label (RFC 5891 §5.4), or another label with `--` in the third and
    /// fourth positions (reserved, RFC 5890 §2.3.1).
    #[error("mx pattern `{pattern}`: label `{label}` is not a valid A-label: {why}")]
    InvalidALabel {
        /// The pattern, escaped.
        pattern: String,
        /// The offending label.
        label: String,
        /// Which rule it breaks.
        why: &'static str,
    },
    /// Each label is valid but the name as a whole is not a valid IDN
    /// (the bidi rule of RFC 5893 applies across labels).
    #[error(
        "mx pattern `{pattern}` is not a valid internationalized domain name: a label breaks the RFC 5893 bidi rule for names that hold right-to-left labels"
    )]
    InvalidIdn {
        /// The pattern, escaped.
        pattern: String,
    },
}

impl PatternError {
    /// Whether strict senders (mox) reject the whole policy over this
    /// pattern. Every error does except the length limits, which mox does
    /// not check: such a name cannot exist in DNS (RFC 1035 §2.3.4), so the
    /// pattern covers nothing, but mox applies the rest of the policy.
    pub fn strict_senders_reject(&self) -> bool {
        !matches!(
            self,
            PatternError::LabelTooLong { .. } | PatternError::TooLong { .. }
        )
    }
}

/// One `mx:` pattern of an MTA-STS policy, as published.
///
/// Built only by [`MxPattern::parse`], so it always holds a syntactically
/// valid RFC 5321 domain in A-label form, optionally with a `*.` wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxPattern {
    raw: String,
    wildcard: bool,
    /// Lower-case, without `*.`.
    domain: String,
}

impl MxPattern {
    /// Parses `["*."] Domain` (RFC 8461 §3.2), `Domain` in A-label form.
    ///
    /// Upper case is accepted (DNS names compare case-insensitively, RFC 4343)
    /// and compared without case. A trailing dot, an IP address and a label
    /// that is not valid IDNA are errors: see the module documentation.
    pub fn parse(text: &str) -> Result<MxPattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        let pattern = || escape_str(text);
        // §3.2: "the 'mx' value MUST specify the Punycode-encoded A-label".
        if !text.is_ascii() {
            return Err(PatternError::NotALabel { pattern: pattern() });
        }
        let (wildcard, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // One final dot is the absolute form people write in zone files:
        // the name is checked without it, then the dot is the error. Two
        // dots are an empty label.
        let (name, trailing_dot) = match rest.strip_suffix('.') {
            Some(name) if !name.is_empty() && !name.ends_with('.') => (name, true),
            _ => (rest, false),
        };
        if is_ip_address(name) {
            return Err(PatternError::IpAddress { pattern: pattern() });
        }
        if rest.contains('*') {
            return Err(PatternError::MisplacedWildcard { pattern: pattern() });
        }
        if name.len() > MAX_DOMAIN {
            return Err(PatternError::TooLong {
                pattern: pattern(),
                length: name.len(),
            });
        }
        for label in name.split('.') {
            if label.is_empty() {
                return Err(PatternError::EmptyLabel { pattern: pattern() });
            }
            if label.len() > MAX_LABEL {
                return Err(PatternError::LabelTooLong {
                    pattern: pattern(),
                    length: label.len(),
                });
            }
            if !is_ldh_label(label) {
                return Err(PatternError::InvalidLabel {
                    pattern: pattern(),
                    label: escape_str(label),
                });
            }
        }
        let domain = name.to_ascii_lowercase();
        check_idna(&domain, pattern)?;
        if trailing_dot {
            return Err(PatternError::TrailingDot {
                pattern: pattern(),
                without: escape_str(text.strip_suffix('.').unwrap_or(text)),
            });
        }
        Ok(MxPattern {
            raw: text.to_string(),
            wildcard,
            domain,
        })
    }

    /// The pattern exactly as published.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Whether the pattern starts with `*.`.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// The domain part in lower case, without `*.`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Whether `host` (an MX host name, a trailing dot allowed) matches.
    ///
    /// RFC 8461 §4.1: `*.example.com` matches `mx1.example.com`, but neither
    /// `example.com` nor `a.b.example.com`: the wildcard is exactly one
    /// left-most label. Case is ignored (RFC 4343).
    pub fn matches(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        if !self.wildcard {
            return host.eq_ignore_ascii_case(&self.domain);
        }
        match host.split_once('.') {
            Some((first, rest)) => !first.is_empty() && rest.eq_ignore_ascii_case(&self.domain),
            None => false,
        }
    }
}

impl std::fmt::Display for MxPattern {
    /// The normalised form: lower case, no trailing dot.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            write!(f, "*.{}", self.domain)
        } else {
            f.write_str(&self.domain)
        }
    }
}

impl Serialize for MxPattern {
    /// Serialised as published, so reports quote what the domain wrote.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

/// An IPv4 address in dotted-quad form or an IPv6 address, bare or in
/// brackets (`[192.0.2.1]`, `[IPv6:2001:db8::1]` as RFC 5321 §4.1.3 writes
/// address literals).
fn is_ip_address(text: &str) -> bool {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .map(|t| t.strip_prefix("IPv6:").unwrap_or(t))
        .unwrap_or(text);
    inner.parse::<std::net::IpAddr>().is_ok()
}

/// Checks the lower-case, LDH-valid name as IDNA: UTS #46 processing with
/// STD3 rules and hyphen checks, which decodes every `xn--` label, rejects
/// one whose decoded form is not a valid, normalised label (so a label that
/// is not the canonical encoding fails too), and rejects labels with `--` in
/// positions 3 and 4 otherwise, as mox's `idna.Lookup` profile does. The
/// output must equal the input: a name UTS #46 would rewrite is not in
/// A-label form.
fn check_idna(domain: &str, pattern: impl Fn() -> String) -> Result<(), PatternError> {
    if matches!(to_ascii(domain), Ok(ascii) if ascii == domain) {
        return Ok(());
    }
    // Name the label at fault.
    for label in domain.split('.') {
        match to_ascii(label) {
            Err(_) => {
                let why = if label.starts_with("xn--") {
                    "it does not decode to a valid internationalized label (RFC 5891 §5.4)"
                } else {
                    "`--` in the third and fourth characters is reserved for A-labels, which begin with `xn--` (RFC 5890 §2.3.1)"
                };
                return Err(PatternError::InvalidALabel {
                    pattern: pattern(),
                    label: label.to_string(),
                    why,
                });
            }
            Ok(ascii) if ascii != label => {
                return Err(PatternError::InvalidALabel {
                    pattern: pattern(),
                    label: label.to_string(),
                    why: "it is not the canonical encoding of the name it decodes to",
                });
            }
            Ok(_) => {}
        }
    }
    Err(PatternError::InvalidIdn { pattern: pattern() })
}

/// UTS #46 ToASCII with the strict options (STD3 rules, hyphen checks).
fn to_ascii(text: &str) -> Result<std::borrow::Cow<'_, str>, idna::Errors> {
    Uts46::new().to_ascii(
        text.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::Check,
        DnsLength::Ignore,
    )
}

/// RFC 5321 §4.1.2: `sub-domain = Let-dig [Ldh-str]`, so letters, digits and
/// hyphens, starting and ending with a letter or digit.
fn is_ldh_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// For one MX host: the first pattern that covers it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostCoverage {
    /// The MX host name as given.
    pub host: String,
    /// The first pattern (in policy order) that matches the host.
    pub pattern: Option<MxPattern>,
}

/// How a policy's `mx:` patterns cover a domain's MX hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// One entry per MX host, in the order given.
    pub hosts: Vec<HostCoverage>,
    /// Patterns that match none of the MX hosts, in policy order.
    pub unused_patterns: Vec<MxPattern>,
}

impl Coverage {
    /// The MX hosts no pattern covers: senders applying the policy refuse
    /// to deliver to them (RFC 8461 §4.1, §5).
    pub fn uncovered(&self) -> impl Iterator<Item = &str> {
        self.hosts
            .iter()
            .filter(|h| h.pattern.is_none())
            .map(|h| h.host.as_str())
    }
}

/// Matches every MX host against the patterns (RFC 8461 §4.1).
///
/// Work is patterns × hosts; the policy size cap (64 KiB, §3.3) bounds the
/// patterns and the MX RRset bounds the hosts.
pub fn coverage(patterns: &[MxPattern], mx_hosts: &[String]) -> Coverage {
    let mut used = vec![false; patterns.len()];
    let hosts = mx_hosts
        .iter()
        .map(|host| {
            let mut first = None;
            for (i, p) in patterns.iter().enumerate() {
                if p.matches(host) {
                    used[i] = true;
                    first.get_or_insert(p);
                }
            }
            HostCoverage {
                host: host.clone(),
                pattern: first.cloned(),
            }
        })
        .collect();
    let unused_patterns = patterns
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(p, _)| p.clone())
        .collect();
    Coverage {
        hosts,
        unused_patterns,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn parse_rules() {
        // (rule, input, accepted)
        let cases: &[(&str, &str, bool)] = &[
            ("plain domain is accepted", "mx1.example.com", true),
            ("wildcard prefix is accepted", "*.example.com", true),
            ("upper case is accepted", "MX1.Example.COM", true),
            ("single label is a valid RFC 5321 domain", "localhost", true),
            ("A-label is accepted", "xn--bcher-kva.example", true),
            (
                "digits and inner hyphens are accepted",
                "mx-1.2example.com",
                true,
            ),
            ("trailing dot is rejected", "mx1.example.com.", false),
            (
                "trailing dot after a wildcard is rejected",
                "*.example.com.",
                false,
            ),
            ("IPv4 address is rejected", "192.0.2.1", false),
            (
                "IPv4 address with a trailing dot is rejected",
                "192.0.2.1.",
                false,
            ),
            (
                "IPv4 address under a wildcard is rejected",
                "*.192.0.2.1",
                false,
            ),
            ("IPv6 address is rejected", "2001:db8::1", false),
            (
                "bracketed address literal is rejected",
                "[IPv6:2001:db8::1]",
                false,
            ),
            (
                "numeric labels that are not an address are accepted",
                "1.2.3.4.example",
                true,
            ),
            (
                "A-label that does not decode is rejected",
                "xn--zz.example",
                false,
            ),
            (
                "A-label with a trailing hyphen is rejected",
                "mx.xn--bcher-kva-.example",
                false,
            ),
            ("empty A-label payload is rejected", "xn--a.example", false),
            (
                "A-label of a mapped character is rejected",
                "xn--7ba.example",
                false,
            ),
            (
                "A-label of a non-NFC string is rejected",
                "xn--a-ccb.example",
                false,
            ),
            (
                "A-label in upper case is accepted",
                "MX.XN--BCHER-KVA.example",
                true,
            ),
            (
                "right-to-left A-label is accepted",
                "mx.xn--mgbh0fb.example",
                true,
            ),
            (
                "bidi rule across labels is enforced",
                "1a.xn--mgbh0fb",
                false,
            ),
            (
                "`--` in positions 3-4 of a non-A-label is rejected",
                "ab--cd.example",
                false,
            ),
            ("`--` elsewhere is accepted", "a--b.example", true),
            ("empty is rejected", "", false),
            (
                "U-label is rejected: A-labels only",
                "mx.bücher.example",
                false,
            ),
            (
                "wildcard not left-most is rejected",
                "mx.*.example.com",
                false,
            ),
            (
                "partial-label wildcard is rejected",
                "mx*.example.com",
                false,
            ),
            ("bare star is rejected", "*", false),
            ("wildcard without domain is rejected", "*.", false),
            ("double wildcard is rejected", "*.*.example.com", false),
            ("empty label is rejected", "mx..example.com", false),
            ("leading dot is rejected", ".example.com", false),
            ("two trailing dots are rejected", "example.com..", false),
            ("a lone dot is rejected", ".", false),
            ("underscore is rejected", "mx_1.example.com", false),
            ("leading hyphen is rejected", "-mx.example.com", false),
            ("trailing hyphen is rejected", "mx-.example.com", false),
            ("space is rejected", "mx1 .example.com", false),
            ("ip literal brackets are rejected", "[192.0.2.1]", false),
            (
                "63-character label is accepted",
                &format!("{}.example", "a".repeat(63)),
                true,
            ),
            (
                "64-character label is rejected",
                &format!("{}.example", "a".repeat(64)),
                false,
            ),
            (
                "name over 253 characters is rejected",
                &format!("{}.com", "a.".repeat(126)),
                false,
            ),
        ];
        for (rule, input, accepted) in cases {
            let got = MxPattern::parse(input);
            assert_eq!(
                got.is_ok(),
                *accepted,
                "{rule}: input {input:?} gave {got:?}"
            );
        }
    }

    #[test]
    fn parse_keeps_raw_and_normalises() {
        let p = MxPattern::parse("*.Example.COM").expect("valid pattern");
        assert_eq!(p.raw(), "*.Example.COM");
        assert_eq!(p.domain(), "example.com");
        assert!(p.is_wildcard());
        assert_eq!(p.to_string(), "*.example.com");
        let q = MxPattern::parse("mx.example.com").expect("valid pattern");
        assert!(!q.is_wildcard());
    }

    #[test]
    fn strict_sender_errors_name_the_rule_and_the_fix() {
        // (rule, input, the error, text its message holds, strict senders reject)
        type Case<'a> = (&'a str, &'a str, fn(&PatternError) -> bool, &'a str, bool);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("trailing dot: say so and show the name without it", "mx1.example.com.",
             |e| matches!(e, PatternError::TrailingDot { without, .. } if without == "mx1.example.com"), "`mx1.example.com.` ends with a dot, which the grammar does not allow", true),
            ("trailing dot on a wildcard keeps the wildcard", "*.Example.com.",
             |e| matches!(e, PatternError::TrailingDot { without, .. } if without == "*.Example.com"), "ends with a dot", true),
            ("trailing dot on a bad name: the name's error first", "mx_1.example.com.",
             |e| matches!(e, PatternError::InvalidLabel { .. }), "label `mx_1`", true),
            ("two trailing dots: an empty label", "mx1.example.com..",
             |e| matches!(e, PatternError::EmptyLabel { .. }), "empty label", true),
            ("IPv4 address: name the host instead", "192.0.2.1",
             |e| matches!(e, PatternError::IpAddress { .. }), "is an IP address", true),
            ("IPv4 address with a dot is an address first", "192.0.2.1.",
             |e| matches!(e, PatternError::IpAddress { .. }), "`192.0.2.1.` is an IP address", true),
            ("IPv6 address in brackets", "[2001:db8::1]",
             |e| matches!(e, PatternError::IpAddress { .. }), "is an IP address", true),
            ("A-label that does not decode names the label", "mx.xn--zz.example",
             |e| matches!(e, PatternError::InvalidALabel { label, .. } if label == "xn--zz"), "label `xn--zz` is not a valid A-label: it does not decode", true),
            ("reserved `--` names the label", "mx.ab--cd.example",
             |e| matches!(e, PatternError::InvalidALabel { label, .. } if label == "ab--cd"), "reserved for A-labels", true),
            ("bidi rule broken across labels", "1a.xn--mgbh0fb",
             |e| matches!(e, PatternError::InvalidIdn { .. }), "bidi rule", true),
            ("label over 63 characters: mox does not check it", &format!("{}.example", "a".repeat(64)),
             |e| matches!(e, PatternError::LabelTooLong { .. }), "the limit is 63", false),
        ];
        for (rule, input, is_kind, text, strict) in cases {
            let err = MxPattern::parse(input).expect_err(rule);
            assert!(is_kind(&err), "{rule}: input {input:?} gave {err:?}");
            let message = err.to_string();
            assert!(message.contains(text), "{rule}: {message}");
            assert_eq!(err.strict_senders_reject(), *strict, "{rule}");
        }
    }

    #[test]
    fn a_labels_compare_without_case() {
        // Punycode digits are case-insensitive and DNS names too: upper case
        // in an A-label is the same label, not a non-canonical one.
        let p = MxPattern::parse("MX.XN--Bcher-KVA.example").expect("valid pattern");
        assert_eq!(p.domain(), "mx.xn--bcher-kva.example");
        assert!(p.matches("mx.xn--bcher-kva.example"));
    }

    #[test]
    fn match_rules() {
        // (rule, pattern, host, matches)
        let cases: &[(&str, &str, &str, bool)] = &[
            (
                "exact name matches",
                "mx1.example.com",
                "mx1.example.com",
                true,
            ),
            (
                "other name does not match",
                "mx1.example.com",
                "mx2.example.com",
                false,
            ),
            (
                "case is ignored",
                "MX1.example.com",
                "mx1.EXAMPLE.com",
                true,
            ),
            (
                "host trailing dot is ignored",
                "mx1.example.com",
                "mx1.example.com.",
                true,
            ),
            (
                "exact pattern does not match a subdomain",
                "example.com",
                "mx.example.com",
                false,
            ),
            (
                "wildcard matches one left-most label",
                "*.example.com",
                "mx1.example.com",
                true,
            ),
            (
                "wildcard does not match the bare domain",
                "*.example.com",
                "example.com",
                false,
            ),
            (
                "wildcard does not match two labels",
                "*.example.com",
                "a.b.example.com",
                false,
            ),
            (
                "wildcard ignores case",
                "*.EXAMPLE.com",
                "MX.example.COM",
                true,
            ),
            (
                "wildcard with host trailing dot",
                "*.example.com",
                "mx.example.com.",
                true,
            ),
            (
                "wildcard needs a non-empty label",
                "*.example.com",
                ".example.com",
                false,
            ),
            (
                "wildcard does not match a lookalike suffix",
                "*.example.com",
                "mx.badexample.com",
                false,
            ),
            ("empty host matches nothing", "example.com", "", false),
            ("root host matches nothing", "*.com", ".", false),
        ];
        for (rule, pattern, host, want) in cases {
            let p = MxPattern::parse(pattern).expect("test pattern is valid");
            assert_eq!(
                p.matches(host),
                *want,
                "{rule}: pattern {pattern:?} host {host:?}"
            );
        }
    }

    pub(in crate::mta_sts) fn pats(list: &[&str]) -> Vec<MxPattern> {
        list.iter()
            .map(|p| MxPattern::parse(p).expect("test pattern is valid"))
            .collect()
    }

    pub(in crate::mta_sts) fn hosts(list: &[&str]) -> Vec<String> {
        list.iter().map(|h| h.to_string()).collect()
    }

    #[test]
    fn coverage_names_first_matching_pattern_and_unused_ones() {
        let patterns = pats(&["mx1.example.com", "*.example.com", "old.example.net"]);
        let cov = coverage(
            &patterns,
            &hosts(&["mx1.example.com", "mx2.example.com", "mx.other.org"]),
        );
        let got: Vec<(&str, Option<&str>)> = cov
            .hosts
            .iter()
            .map(|h| (h.host.as_str(), h.pattern.as_ref().map(MxPattern::raw)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("mx1.example.com", Some("mx1.example.com")),
                ("mx2.example.com", Some("*.example.com")),
                ("mx.other.org", None),
            ]
        );
        let unused: Vec<&str> = cov.unused_patterns.iter().map(MxPattern::raw).collect();
        assert_eq!(unused, vec!["old.example.net"]);
        assert_eq!(cov.uncovered().collect::<Vec<_>>(), vec!["mx.other.org"]);
    }
}
