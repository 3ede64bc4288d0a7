//! The SMTP dialogue of one session as it went over the wire, for `-v`
//! (posttls-finger prints the same by default): each command sent and
//! each reply line received, made safe for a terminal
//! (`sanitize::for_terminal`) and capped, so that a hostile server cannot
//! flood the screen or move the cursor.

use super::reply::Reply;
use crate::sanitize::for_terminal;

/// Most lines kept; an EHLO reply is about a dozen.
const MAX_LINES: usize = 80;
/// Longest line shown (RFC 5321 §4.5.3.1.5 allows 512 octets).
const LINE_MAX: usize = 200;

/// Who said a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// We, the client (`C:`).
    Client,
    /// The server (`S:`).
    Server,
    /// Not SMTP: the TLS handshake, a timeout (`*`).
    Event,
}

/// What was said, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    lines: Vec<(Party, String)>,
    /// Lines not kept once the cap was reached.
    dropped: usize,
}

impl Transcript {
    fn push(&mut self, party: Party, text: &str) {
        if self.lines.len() < MAX_LINES {
            self.lines.push((party, for_terminal(text, LINE_MAX)));
        } else {
            self.dropped += 1;
        }
    }

    /// A command we sent (its CRLF dropped).
    pub fn sent(&mut self, command: &str) {
        self.push(Party::Client, command.trim_end_matches(['\r', '\n']));
    }

    /// A reply, one line per line as sent: `250-PIPELINING`, `250 CHUNKING`.
    pub fn received(&mut self, reply: &Reply) {
        let code = reply.code().get();
        let last = reply.lines().len().saturating_sub(1);
        for (i, line) in reply.lines().iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            self.push(Party::Server, &format!("{code}{sep}{line}"));
        }
    }

    /// Something that is not a line of SMTP: the handshake, a failure.
    pub fn event(&mut self, text: &str) {
        self.push(Party::Event, text);
    }

    /// The lines kept, in order.
    pub fn lines(&self) -> &[(Party, String)] {
        &self.lines
    }

    /// How many lines were left out after the cap.
    pub fn dropped(&self) -> usize {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_escaped_and_capped() {
        let mut t = Transcript::default();
        t.sent("EHLO mxtls.invalid\r\n");
        t.event("evil \x1b[2J text");
        for _ in 0..MAX_LINES {
            t.event("x");
        }
        assert_eq!(
            t.lines()[0],
            (Party::Client, "EHLO mxtls.invalid".to_string())
        );
        assert!(!t.lines()[1].1.contains('\x1b'), "{:?}", t.lines()[1]);
        assert_eq!(t.lines().len(), MAX_LINES);
        assert_eq!(t.dropped(), 2);
    }
}
