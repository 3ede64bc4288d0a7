//! Filling text into a column without cutting what admins copy.
//!
//! comfy-table wraps at any character once a word is longer than its
//! column, which splits URLs, TXT and TLSA records and policy lines in the
//! middle. So the summary fills its wide columns itself: words wrap at
//! spaces; a `backticked` span (a record, a policy line, a command) and a
//! URL are one token each, put on a line of their own when they do not fit
//! beside other words; a copyable token wider than the column is replaced
//! by a footnote marker `[n]` and printed whole below the table, where a
//! terminal's own wrapping keeps it one logical line.

/// A token that must not be split: a backticked span or a URL.
fn is_copyable(token: &str) -> bool {
    (token.starts_with('`') && token.ends_with('`') && token.len() > 1)
        || token.starts_with("https://")
        || token.starts_with("http://")
        || token.starts_with("mailto:")
}

/// Splits a line into tokens: words at spaces, except that a backticked
/// span is kept whole with its spaces (an unclosed one runs to the end).
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        // A backtick opening a span (possibly after a word's start, as in
        // "(`mx: a`)") takes everything to its closing backtick.
        let word_end = rest.find(' ').unwrap_or(rest.len());
        match rest[..word_end].find('`') {
            Some(tick) => {
                let after = &rest[tick + 1..];
                let close = after.find('`').map_or(rest.len(), |c| tick + 1 + c + 1);
                // Trailing punctuation stays glued to the span.
                let end = rest[close..].find(' ').map_or(rest.len(), |e| close + e);
                out.push(rest[..end].to_string());
                rest = &rest[end..];
            }
            None => {
                out.push(rest[..word_end].to_string());
                rest = &rest[word_end..];
            }
        }
    }
    out
}

/// The copyable core of a token: without the punctuation around it.
fn core(token: &str) -> &str {
    token
        .trim_start_matches(['(', '"', '\''])
        .trim_end_matches([',', '.', ';', ':', ')', '"', '\''])
}

/// A line that is one backticked span alone (a record, a policy line: text
/// with fields) is shown without its backticks, indented instead by as
/// much: what is copied from it is the text itself.
fn copy_line(line: &str) -> String {
    match line
        .strip_prefix('`')
        .and_then(|l| l.strip_suffix('`'))
        // A record or a policy line has fields; a lone word in backticks
        // (`v=STSv1;`) reads better with them.
        .filter(|inner| !inner.contains('`') && inner.contains(' '))
    {
        Some(inner) => format!("  {inner}"),
        None => line.to_string(),
    }
}

/// Text laid out in a column `width` characters wide, and the footnotes
/// it needs (copyable tokens wider than the column), numbered from
/// `first_note`.
pub struct Filled {
    pub text: String,
    pub notes: Vec<String>,
}

/// Fills `text` (lines kept) into `width` columns. Words longer than the
/// column that are not copyable are cut at the width (free text only).
pub fn fill(text: &str, width: usize, first_note: usize) -> Filled {
    let width = width.max(8);
    let mut lines: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for source in text.split('\n') {
        let mut line = String::new();
        let mut len = 0usize;
        let flush = |line: &mut String, len: &mut usize, lines: &mut Vec<String>| {
            lines.push(copy_line(&std::mem::take(line)));
            *len = 0;
        };
        for token in tokens(source) {
            let mut token = token;
            let mut token_len = token.chars().count();
            let copyable = is_copyable(core(&token));
            if copyable && token_len > width {
                notes.push(core(&token).trim_matches('`').to_string());
                let marker = format!("[{}]", first_note + notes.len() - 1);
                token = token.replace(core(&token), &marker);
                token_len = token.chars().count();
            }
            if len > 0 && len + 1 + token_len > width {
                flush(&mut line, &mut len, &mut lines);
            }
            if token_len > width {
                // Free text with no space to break at: cut it.
                let chars: Vec<char> = token.chars().collect();
                for chunk in chars.chunks(width) {
                    if len > 0 {
                        flush(&mut line, &mut len, &mut lines);
                    }
                    line.extend(chunk);
                    len = chunk.len();
                }
                continue;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.push_str(&token);
            len += token_len;
        }
        flush(&mut line, &mut len, &mut lines);
    }
    Filled {
        text: lines.join("\n"),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_that_does_not_fit_beside_words_gets_a_line_of_its_own() {
        let f = fill(
            "add the line `mx: mx1.example.com` to https://mta-sts.example.com/.well-known/mta-sts.txt, then change the id",
            40,
            1,
        );
        assert_eq!(
            f.text,
            "add the line `mx: mx1.example.com` to\n[1], then change the id"
        );
        assert_eq!(
            f.notes,
            ["https://mta-sts.example.com/.well-known/mta-sts.txt"]
        );
    }

    #[test]
    fn a_copyable_token_is_never_cut_and_words_wrap_at_spaces() {
        let record = "`_25._tcp.mx.example. IN TLSA 3 1 1 0123456789abcdef0123456789abcdef`";
        for width in [20, 40, 60, 80, 120] {
            let f = fill(&format!("Publish {record} now."), width, 7);
            for line in f.text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}");
            }
            let whole =
                f.text.contains(record) || f.notes.iter().any(|n| record.contains(n.as_str()));
            assert!(whole, "{width}: {} / {:?}", f.text, f.notes);
            if !f.notes.is_empty() {
                assert!(f.text.contains("[7]"), "{}", f.text);
            }
        }
    }

    #[test]
    fn a_span_alone_on_its_line_is_shown_without_backticks() {
        let f = fill("The policy:\n`mx: a.example`\n`max_age: 86400`", 40, 1);
        assert_eq!(f.text, "The policy:\n  mx: a.example\n  max_age: 86400");
        let f = fill("no record begins with `v=STSv1;`", 22, 1);
        assert_eq!(f.text, "no record begins with\n`v=STSv1;`");
    }

    #[test]
    fn existing_lines_are_kept_and_free_text_is_cut_only_when_it_must() {
        let f = fill("code\nmessage text", 80, 1);
        assert_eq!(f.text, "code\nmessage text");
        let f = fill(&"x".repeat(20), 8, 1);
        assert_eq!(f.text, "xxxxxxxx\nxxxxxxxx\nxxxx");
        assert!(f.notes.is_empty());
    }
}
