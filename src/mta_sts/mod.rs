//! MTA-STS (RFC 8461): the parts that need no network.
//!
//! - [`record`]: the `_mta-sts.<domain>` TXT record (§3.1) and its assessment.
//! - [`policy`]: the policy body served at
//!   `https://mta-sts.<domain>/.well-known/mta-sts.txt` (§3.2) and its lint.
//! - [`pattern`]: the `mx:` patterns and how they match MX host names (§4.1).
//! - [`sender_timeouts`]: how long deployed senders wait for the policy, and
//!   the warning for a policy host slower than that.
//!
//! Fetching the policy over HTTPS (§3.3), caching (§5) and the DNS lookups
//! live elsewhere: everything here takes bytes or strings and returns values.

pub mod assess;
pub mod fetch;
pub mod gather;
pub mod pattern;
pub mod policy;
pub mod record;
pub mod sender_timeouts;

/// The most characters of served text quoted in one error or finding.
const QUOTE_LIMIT: usize = 200;

/// Makes text taken from a record or a policy safe to show on a terminal
/// and unambiguous to read.
///
/// Control characters become `\xNN`, bytes that are not UTF-8 become `\xNN`,
/// C1 controls and bidirectional overrides become `\u{NNNN}`, a backslash
/// becomes `\\`. The result is cut after [`QUOTE_LIMIT`] characters of input,
/// with a visible `…` marker, so a 64 KiB line never floods a report.
pub(crate) fn escape(bytes: &[u8]) -> String {
    crate::sanitize::quote_bytes(bytes, QUOTE_LIMIT)
}

/// [`escape`] for text that is already a `str`.
pub(crate) fn escape_str(text: &str) -> String {
    escape(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_rules() {
        let long = "a".repeat(300);
        let long_escaped = format!("{}…", "a".repeat(200));
        let cases: &[(&str, &[u8], &str)] = &[
            ("printable text is kept", b"mode: enforce", "mode: enforce"),
            ("nul becomes \\x00", b"a\0b", "a\\x00b"),
            ("tab and cr become \\xNN", b"\t\r", "\\x09\\x0d"),
            ("del becomes \\x7f", b"\x7f", "\\x7f"),
            ("invalid utf-8 bytes become \\xNN", b"a\xffb", "a\\xffb"),
            ("backslash is doubled", b"a\\x00", "a\\\\x00"),
            ("utf-8 letters are kept", "bücher".as_bytes(), "bücher"),
            (
                "bidi override is escaped",
                "a\u{202e}b".as_bytes(),
                "a\\u{202e}b",
            ),
            ("c1 control is escaped", "\u{85}".as_bytes(), "\\u{0085}"),
            (
                "long text is cut with a marker",
                long.as_bytes(),
                &long_escaped,
            ),
        ];
        for (rule, input, want) in cases {
            assert_eq!(escape(input), *want, "{rule}: input {input:?}");
        }
    }

    #[test]
    fn escape_str_matches_escape() {
        assert_eq!(escape_str("a\0"), "a\\x00");
    }

    /// A tiny linear congruential generator (Knuth's MMIX constants):
    /// deterministic, so a failure reproduces, and no extra dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: usize) -> usize {
            // n is a small table length; the modulo bias does not matter here.
            (self.next() % n as u64) as usize
        }
    }

    /// Pieces that make parsers take their interesting branches.
    const TOKENS: &[&[u8]] = &[
        b"version",
        b"mode",
        b"max_age",
        b"mx",
        b"STSv1",
        b"enforce",
        b"testing",
        b"none",
        b":",
        b": ",
        b" ",
        b"\t",
        b"\n",
        b"\r\n",
        b"\r",
        b"\0",
        b"\xff",
        b"\xc3\xa9",
        b"*.",
        b".",
        b"example.com",
        b"xn--",
        b"-",
        b"_",
        b"0",
        b"31557600",
        b"9999999999",
        b"v=STSv1",
        b";",
        b"; ",
        b"id=",
        b"=",
        b"20261125T120000",
        b"\xe2\x80\xae",
        b"\\",
        b"Mode",
    ];

    #[test]
    fn parsers_never_panic_on_pseudo_random_input() {
        let mut rng = Lcg(0x006d_7874_6c73);
        let mut valid_policies = 0;
        for round in 0..4000 {
            let mut input = Vec::new();
            // Mostly token soup, sometimes raw bytes.
            for _ in 0..rng.below(40) {
                if rng.below(4) == 0 {
                    input.push(rng.next() as u8);
                } else {
                    input.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
                }
            }
            // Every 4th input starts as a valid policy, then gets a tail.
            if round % 4 == 0 {
                let mut good = b"version: STSv1\nmode: none\nmax_age: 1\n".to_vec();
                good.extend_from_slice(&input);
                input = good;
            }
            if let Ok(policy) = policy::parse(&input) {
                valid_policies += 1;
                let _ = policy::lint(&policy, "example.com");
                let hosts = vec!["mx.example.com".to_string()];
                let _ = pattern::coverage(policy.mx(), &hosts);
            }
            let text = String::from_utf8_lossy(&input);
            let _ = record::parse(&text);
            let _ = record::assess_record("example.com", &[vec![input.clone()]]);
            let _ = pattern::MxPattern::parse(&text);
            let _ = escape(&input);
        }
        // The generator must reach the accepting paths too, or the test
        // exercises only the first error of each parser.
        assert!(
            valid_policies > 10,
            "only {valid_policies} valid policies generated"
        );
    }
}
