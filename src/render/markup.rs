//! Text from the network made safe inside XML (JUnit) and HTML: the one
//! terminal rule first (control characters, bidi overrides and zero-width
//! characters shown as `\xNN` / `\u{NNNN}`, see `sanitize`), then the five
//! markup characters as entities. The result is valid in element content
//! and in quoted attribute values of both; XML 1.0 forbids most control
//! characters even as references, which the first step has removed, and
//! U+FFFE and U+FFFF, which are shown escaped too.

/// Longest text kept (characters); findings and records are far shorter,
/// but nothing from the network goes uncapped.
const TEXT_MAX: usize = 1 << 20;

/// `text` escaped for element content or a quoted attribute value.
pub fn escape(text: &str) -> String {
    let shown = crate::sanitize::for_terminal(text, TEXT_MAX);
    let mut out = String::with_capacity(shown.len() + 16);
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{fffe}' | '\u{ffff}' => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// As [`escape`], line by line: the line breaks of text we wrote
/// ourselves are kept (a line break inside one piece of network text is
/// still shown as `\x0a`).
pub fn escape_lines(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(
            escape("<script>alert('x&y')</script>\"q\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;q&quot;"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        assert_eq!(
            escape("a\x1bb\u{202e}c\u{fffe}\n"),
            "a\\x1bb\\u{202e}c\\u{fffe}\\x0a"
        );
    }

    #[test]
    fn lines_we_join_keep_their_breaks() {
        assert_eq!(escape_lines(&["a<b", "c\nd"]), "a&lt;b\nc\\x0ad");
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(
            escape("mx1.example.com: 3 1 1 ab"),
            "mx1.example.com: 3 1 1 ab"
        );
    }
}
