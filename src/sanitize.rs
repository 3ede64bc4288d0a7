//! Making text from the outside world safe for a terminal.
//!
//! A TXT record, a banner or a certificate subject may carry escape
//! sequences or bidi overrides that rewrite what the user sees. Everything
//! from the network passes through here before it is printed in the table.

/// Escapes control characters and bidi controls as `\xNN` / `\u{NNNN}` and
/// cuts the text after `max` characters with a visible marker.
pub fn for_terminal(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 16));
    for (count, c) in text.chars().enumerate() {
        if count >= max {
            out.push_str("…[cut]");
            break;
        }
        push_shown(&mut out, c);
    }
    out
}

/// Quotes bytes taken from a record or a policy so that they read
/// unambiguously: as [`for_terminal`], and also a backslash as `\\` and
/// bytes that are not UTF-8 as `\xNN`; cut after `max` characters of input
/// with `…`.
pub fn quote_bytes(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut taken = 0usize;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if taken == max {
                out.push('…');
                return out;
            }
            taken += 1;
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                push_shown(&mut out, c);
            }
        }
        for b in chunk.invalid() {
            if taken == max {
                out.push('…');
                return out;
            }
            taken += 1;
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The one rule for what may reach a terminal as it is.
fn push_shown(out: &mut String, c: char) {
    if (c as u32) < 0x20 || c as u32 == 0x7f {
        out.push_str(&format!("\\x{:02x}", c as u32));
    } else if is_invisible_control(c) {
        out.push_str(&format!("\\u{{{:04x}}}", c as u32));
    } else {
        out.push(c);
    }
}

/// Bidi marks, embeddings, overrides and isolates (Trojan Source), C1
/// controls and zero-width characters.
fn is_invisible_control(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f | 0x61c | 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_cut() {
        for (input, max, want) in [
            ("plain", 80, "plain"),
            ("a\x1b[31mred", 80, "a\\x1b[31mred"),
            ("tab\there", 80, "tab\\x09here"),
            ("x\u{202e}y", 80, "x\\u{202e}y"),
            ("abcdef", 3, "abc…[cut]"),
        ] {
            assert_eq!(for_terminal(input, max), want, "{input:?}");
        }
    }
}
