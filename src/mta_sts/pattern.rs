//! MTA-STS `mx:` patterns and how they match MX host names.
//!
//! Implements RFC 8461 §3.2 (`sts-policy-mx-value = ["*."] Domain`, with
//! `Domain` from RFC 5321 §4.1.2, in A-label form for IDNs) and §4.1 (a
//! wildcard stands for exactly one left-most label; comparison ignores case).
//! Also the coverage check a scanner adds on top: which MX host is covered by
//! which pattern, which pattern covers nothing, and the findings that follow.
//!
//! Left out: punycode decoding, so an `xn--` label is checked for LDH syntax
//! only, not for being a valid A-label (RFC 5891 §5.4); and the MX lookup.

use serde::{Serialize, Serializer};
use thiserror::Error;

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
}

/// One `mx:` pattern of an MTA-STS policy, as published.
///
/// Built only by [`MxPattern::parse`], so it always holds a syntactically
/// valid RFC 5321 domain in A-label form, optionally with a `*.` wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxPattern {
    raw: String,
    wildcard: bool,
    /// Lower-case, without `*.` and without a trailing dot.
    domain: String,
    trailing_dot: bool,
}

impl MxPattern {
    /// Parses `["*."] Domain` (RFC 8461 §3.2).
    ///
    /// Upper case is accepted (DNS names compare case-insensitively, RFC 4343)
    /// and compared without case. A trailing dot is not in the grammar but
    /// is tolerated and remembered ([`MxPattern::had_trailing_dot`]) so the
    /// caller can flag it: some senders reject the whole policy over it.
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
        if rest.contains('*') {
            return Err(PatternError::MisplacedWildcard { pattern: pattern() });
        }
        let (name, trailing_dot) = match rest.strip_suffix('.') {
            Some(name) => (name, true),
            None => (rest, false),
        };
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
        Ok(MxPattern {
            raw: text.to_string(),
            wildcard,
            domain: name.to_ascii_lowercase(),
            trailing_dot,
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

    /// The domain part in lower case, without `*.` and without a trailing dot.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Whether the published pattern ended with a dot, which RFC 8461's
    /// grammar does not allow.
    pub fn had_trailing_dot(&self) -> bool {
        self.trailing_dot
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
mod tests {
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
            ("trailing dot is tolerated", "mx1.example.com.", true),
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
        let p = MxPattern::parse("*.Example.COM.").expect("valid pattern");
        assert_eq!(p.raw(), "*.Example.COM.");
        assert_eq!(p.domain(), "example.com");
        assert!(p.is_wildcard());
        assert!(p.had_trailing_dot());
        assert_eq!(p.to_string(), "*.example.com");
        let q = MxPattern::parse("mx.example.com").expect("valid pattern");
        assert!(!q.had_trailing_dot() && !q.is_wildcard());
    }

    #[test]
    fn u_label_error_says_a_label() {
        let err = MxPattern::parse("bücher.example").expect_err("U-label must be rejected");
        assert!(matches!(err, PatternError::NotALabel { .. }), "{err:?}");
        assert!(err.to_string().contains("A-label"), "{err}");
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
                "pattern trailing dot is ignored",
                "mx1.example.com.",
                "mx1.example.com",
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

    fn pats(list: &[&str]) -> Vec<MxPattern> {
        list.iter()
            .map(|p| MxPattern::parse(p).expect("test pattern is valid"))
            .collect()
    }

    fn hosts(list: &[&str]) -> Vec<String> {
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
