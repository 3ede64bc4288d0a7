//! Picking the one versioned TXT record out of an RRset.
//!
//! TLSRPT (RFC 8460 §3) and MTA-STS (RFC 8461 §3.1) publish a TXT record
//! whose text starts with a version tag. Both say the same thing: a record
//! made of several character-strings is their concatenation with nothing in
//! between; *if multiple TXT records are returned*, records that do not start
//! with the exact tag (`v=TLSRPTv1;`, `v=STSv1;`) are discarded; the domain
//! publishes the mechanism only when exactly one record remains.
//!
//! The filter is for several records only. Both grammars put `*WSP` before
//! the `;` (`field-delim = *WSP ";" *WSP`), so a lone `v=STSv1 ; id=1` is a
//! grammatical record that is not filtered: it is selected as
//! [`Selection::LoneSpaced`] and used (mox, Stalwart and
//! postfix-mta-sts-resolver all read it). Senders that apply the literal
//! filter to every RRset drop it, which the callers warn about.

/// What remained of a TXT RRset after discarding records of other kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No record starts with the tag.
    None {
        /// Records that look like an attempt (start with the tag's name, e.g.
        /// `v=TLSRPTv1 ;` or `v=tlsrptv1;`) but are discarded by senders.
        near_misses: Vec<String>,
    },
    /// Exactly one record starts with the tag: the one to parse.
    One(String),
    /// The RRset's only record begins with the tag's version followed by
    /// spaces or tabs and then `;` (`v=TLSRPTv1 ;`): the literal filter does
    /// not apply to a lone record, so this is the one to parse.
    LoneSpaced(String),
    /// More than one record starts with the tag: the domain publishes none.
    Multiple(Vec<String>),
}

/// Joins the character-strings of one TXT record without adding anything in
/// between (RFC 8460 §3, RFC 8461 §3.1). Bytes that are not UTF-8 are kept
/// visible as U+FFFD so the parser rejects them and the user can see where.
pub fn concatenate(strings: &[Vec<u8>]) -> String {
    let joined: Vec<u8> = strings.iter().flatten().copied().collect();
    String::from_utf8_lossy(&joined).into_owned()
}

/// An extension field name, the same in TLSRPT (RFC 8460 §3 `tlsrpt-ext-name`),
/// the MTA-STS record and the MTA-STS policy (RFC 8461 §3.1, §3.2):
/// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`.
pub fn is_extension_name(name: &str) -> bool {
    match name.as_bytes().split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphanumeric()
                && rest.len() <= 31
                && rest
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        }
        None => false,
    }
}

/// Whether `text` begins with `tag`'s version, then one or more spaces or
/// tabs, then `;`: the start the grammar allows (`*WSP ";"`) and the literal
/// filter rejects.
pub fn spaced_before_semicolon(text: &str, tag: &str) -> bool {
    let version = tag.trim_end_matches(';');
    text.strip_prefix(version).is_some_and(|rest| {
        let after = rest.trim_start_matches([' ', '\t']);
        after.len() < rest.len() && after.starts_with(';')
    })
}

/// Selects the record that starts with `tag` (e.g. `v=TLSRPTv1;`), matched
/// case-sensitively as both RFCs' ABNF literals are. The filter applies only
/// when the RRset holds several records; a lone record with whitespace
/// before the `;` is [`Selection::LoneSpaced`].
pub fn select(records: &[Vec<Vec<u8>>], tag: &str) -> Selection {
    let texts: Vec<String> = records.iter().map(|r| concatenate(r)).collect();
    if let [only] = texts.as_slice()
        && spaced_before_semicolon(only, tag)
    {
        return Selection::LoneSpaced(only.clone());
    }
    let (matching, others): (Vec<String>, Vec<String>) =
        texts.into_iter().partition(|t| t.starts_with(tag));
    match matching.len() {
        0 => {
            // The tag's name without its terminating `;`, compared loosely,
            // finds records a human meant as this kind.
            let stem = tag.trim_end_matches(';').to_ascii_lowercase();
            let near_misses = others
                .into_iter()
                .filter(|t| t.trim_start().to_ascii_lowercase().starts_with(&stem))
                .collect();
            Selection::None { near_misses }
        }
        1 => Selection::One(
            matching
                .into_iter()
                .next()
                .expect("length checked to be one"),
        ),
        _ => Selection::Multiple(matching),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(parts: &[&str]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    #[test]
    fn strings_are_joined_without_separator() {
        let rrset = vec![rec(&["v=TLSRPTv1; rua=mailto:a@exa", "mple.com"])];
        assert_eq!(
            select(&rrset, "v=TLSRPTv1;"),
            Selection::One("v=TLSRPTv1; rua=mailto:a@example.com".into())
        );
    }

    #[test]
    fn unrelated_records_are_discarded() {
        let rrset = vec![rec(&["v=spf1 -all"]), rec(&["v=TLSRPTv1;rua=mailto:a@b.c"])];
        assert!(matches!(select(&rrset, "v=TLSRPTv1;"), Selection::One(_)));
    }

    #[test]
    fn two_matching_records_are_multiple() {
        let rrset = vec![rec(&["v=STSv1; id=1"]), rec(&["v=STSv1; id=2"])];
        assert!(matches!(select(&rrset, "v=STSv1;"), Selection::Multiple(v) if v.len() == 2));
    }

    #[test]
    fn the_literal_filter_applies_to_several_records_only() {
        let spaced = "v=TLSRPTv1 ; rua=mailto:a@b.c";
        // (rule, RRset, selection)
        type Row<'a> = (&'a str, Vec<Vec<Vec<u8>>>, Selection);
        #[rustfmt::skip]
        let rows: Vec<Row> = vec![
            ("lone record with a space before ';' is selected", vec![rec(&[spaced])],
             Selection::LoneSpaced(spaced.into())),
            ("lone record with a tab before ';' is selected", vec![rec(&["v=TLSRPTv1\t;rua=mailto:a@b.c"])],
             Selection::LoneSpaced("v=TLSRPTv1\t;rua=mailto:a@b.c".into())),
            ("lone record split inside the spacing is selected", vec![rec(&["v=TLSRPTv1 ", "; rua=mailto:a@b.c"])],
             Selection::LoneSpaced(spaced.into())),
            ("lone exact record is One, not LoneSpaced", vec![rec(&["v=TLSRPTv1; rua=mailto:a@b.c"])],
             Selection::One("v=TLSRPTv1; rua=mailto:a@b.c".into())),
            ("beside another record the filter discards it", vec![rec(&[spaced]), rec(&["v=spf1 -all"])],
             Selection::None { near_misses: vec![spaced.into()] }),
            ("beside an exact record the exact one is selected", vec![rec(&[spaced]), rec(&["v=TLSRPTv1;rua=mailto:x@b.c"])],
             Selection::One("v=TLSRPTv1;rua=mailto:x@b.c".into())),
            ("lone record with a space but no ';' is a near miss", vec![rec(&["v=TLSRPTv1 rua=mailto:a@b.c"])],
             Selection::None { near_misses: vec!["v=TLSRPTv1 rua=mailto:a@b.c".into()] }),
            ("lone record with a leading space is a near miss", vec![rec(&[" v=TLSRPTv1; rua=mailto:a@b.c"])],
             Selection::None { near_misses: vec![" v=TLSRPTv1; rua=mailto:a@b.c".into()] }),
            ("lone lower-case record is a near miss", vec![rec(&["v=tlsrptv1 ; rua=mailto:a@b.c"])],
             Selection::None { near_misses: vec!["v=tlsrptv1 ; rua=mailto:a@b.c".into()] }),
            ("lone record of another version is not selected", vec![rec(&["v=TLSRPTv10 ; rua=mailto:a@b.c"])],
             Selection::None { near_misses: vec!["v=TLSRPTv10 ; rua=mailto:a@b.c".into()] }),
            ("lone MTA-STS record with a space before ';' is selected", vec![rec(&["v=STSv1 ; id=1"])],
             Selection::LoneSpaced("v=STSv1 ; id=1".into())),
        ];
        for (rule, rrset, want) in rows {
            let tag = if rule.contains("MTA-STS") {
                "v=STSv1;"
            } else {
                "v=TLSRPTv1;"
            };
            assert_eq!(select(&rrset, tag), want, "{rule}: {rrset:?}");
        }
    }

    #[test]
    fn tag_is_case_sensitive() {
        let rrset = vec![rec(&["v=tlsrptv1; rua=mailto:a@b.c"])];
        assert!(
            matches!(select(&rrset, "v=TLSRPTv1;"), Selection::None { near_misses } if near_misses.len() == 1)
        );
    }
}
