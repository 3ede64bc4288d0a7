//! SMTP replies: reading one complete reply off a stream, and what an EHLO
//! reply advertises.
//!
//! Implements the reply syntax of RFC 5321 §4.2 and §4.2.1: a reply is one
//! or more lines that all carry the same three-digit code; every line but
//! the last has a `-` after the code, the last a space (or nothing). The
//! EHLO reply's first line names the server, each further line is one
//! service extension (§4.1.1.1, `ehlo-keyword *(SP ehlo-param)`).
//!
//! Hostile servers are expected, so every read is capped:
//! - a line is at most [`MAX_LINE`] bytes, line end included. RFC 5321
//!   §4.5.3.1.5 sets 512 octets, but real servers send longer banners and
//!   EHLO lines now and then (long `AUTH` or `SIZE` lines, greetings with a
//!   legal notice); 4096 accepts those and still refuses a server that
//!   never ends its line;
//! - a reply is at most [`MAX_LINES`] lines and [`MAX_REPLY`] bytes;
//! - the reader never holds more than [`MAX_LINE`] + [`READ_CHUNK`] bytes.
//!
//! Line ends: CRLF, and a bare LF is tolerated (some servers send it; the
//! CR, if present, is removed). Reply text is decoded as UTF-8, replacing
//! invalid bytes (RFC 6531 servers may send UTF-8; anything else is shown
//! as U+FFFD); the exact bytes stay available through [`Reply::raw`].
//!
//! Left out: the enhanced status code (RFC 3463) is not split off the text,
//! and the text is not checked against `textstring` (controls are kept;
//! whoever displays them must sanitise them).

use std::io;

use serde::Serialize;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Longest reply line accepted, in bytes, line end included.
pub const MAX_LINE: usize = 4096;
/// Most lines accepted in one reply.
pub const MAX_LINES: usize = 100;
/// Largest reply accepted, in bytes, line ends included.
pub const MAX_REPLY: usize = 64 * 1024;
/// Most bytes asked of the stream in one read.
pub const READ_CHUNK: usize = 4096;

/// Longest piece of an offending line quoted in an error.
const QUOTE_MAX: usize = 80;

/// A reply code: three digits, the first 2–5, the second 0–5 (RFC 5321
/// §4.2, `Reply-code = %x32-35 %x30-35 %x30-39`). Made only by the reply
/// reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// The code as a number, e.g. 220.
    pub fn get(self) -> u16 {
        self.0
    }

    /// 2yz: positive completion (RFC 5321 §4.2.1).
    pub fn is_positive(self) -> bool {
        self.0 / 100 == 2
    }

    /// 4yz: transient negative completion — try again later.
    pub fn is_transient(self) -> bool {
        self.0 / 100 == 4
    }

    /// 5yz: permanent negative completion.
    pub fn is_permanent(self) -> bool {
        self.0 / 100 == 5
    }

    /// Parses the three code digits at the start of a line.
    fn parse(digits: &[u8]) -> Option<ReplyCode> {
        match digits {
            [a @ b'2'..=b'5', b @ b'0'..=b'5', c @ b'0'..=b'9'] => Some(ReplyCode(
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
            )),
            _ => None,
        }
    }
}

impl std::fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One complete SMTP reply, as read by [`ReplyReader::read_reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: ReplyCode,
    lines: Vec<String>,
    raw: Vec<u8>,
}

impl Reply {
    /// The reply code shared by every line.
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// The text of each line, after the code and its separator; never
    /// empty (a reply has at least one line).
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Whether the reply had more than one line (`250-…` continuations).
    pub fn is_multiline(&self) -> bool {
        self.lines.len() > 1
    }

    /// The bytes exactly as received, codes and line ends included.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Every line's text joined with a space: enough to show a refusal.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// Why no complete reply could be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A line went past [`MAX_LINE`] bytes without a line end.
    #[error("reply line {line} is longer than {limit} bytes")]
    LineTooLong {
        /// Line of the reply (1-based).
        line: usize,
        /// The cap.
        limit: usize,
    },
    /// The reply went on past [`MAX_LINES`] lines.
    #[error("reply has more than {limit} lines")]
    TooManyLines {
        /// The cap.
        limit: usize,
    },
    /// The reply went past [`MAX_REPLY`] bytes.
    #[error("reply is larger than {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// A line is not `code`, `code SP text` or `code - text`.
    #[error("reply line {line} is not an SMTP reply line ({reason}): {text:?}")]
    Malformed {
        /// Line of the reply (1-based).
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
        /// The start of the line, lossily decoded, cut at 80 characters.
        text: String,
    },
    /// A continuation line carries another code than the first line
    /// (RFC 5321 §4.2.1 requires the same code on every line).
    #[error("reply line {line} has code {got}, the reply began with {first}")]
    CodeMismatch {
        /// Line of the reply (1-based).
        line: usize,
        /// The code of the first line.
        first: ReplyCode,
        /// The code of this line.
        got: ReplyCode,
    },
    /// The peer closed the connection before the reply ended.
    #[error("connection closed before the reply ended ({lines} complete lines received)")]
    Closed {
        /// Complete lines of this reply received before the close.
        lines: usize,
    },
    /// Reading from the stream failed.
    #[error("cannot read the reply: {0}")]
    Io(#[source] io::Error),
}

/// Reads replies from a stream, keeping bytes that arrived after a reply
/// (a pipelining server, or a hostile one) for the next call.
#[derive(Debug)]
pub struct ReplyReader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> ReplyReader<R> {
    /// Wraps `inner`; nothing is read yet.
    pub fn new(inner: R) -> Self {
        ReplyReader {
            inner,
            buf: Vec::with_capacity(READ_CHUNK),
        }
    }

    /// The wrapped stream, to write commands on.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Bytes received but not yet part of a returned reply.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Gives back the stream and the bytes read past the last reply.
    pub fn into_parts(self) -> (R, Vec<u8>) {
        (self.inner, self.buf)
    }

    /// Reads exactly one complete reply. Bytes after its last line stay
    /// buffered for the next call.
    pub async fn read_reply(&mut self) -> Result<Reply, ReplyError> {
        let mut lines: Vec<String> = Vec::new();
        let mut raw: Vec<u8> = Vec::new();
        let mut first: Option<ReplyCode> = None;
        loop {
            let number = lines.len() + 1;
            let line = self.read_line(number, lines.len()).await?;
            if raw.len() + line.len() > MAX_REPLY {
                return Err(ReplyError::TooLarge { limit: MAX_REPLY });
            }
            let parsed = parse_line(&line, number)?;
            if let Some(first) = first
                && parsed.code != first
            {
                return Err(ReplyError::CodeMismatch {
                    line: number,
                    first,
                    got: parsed.code,
                });
            }
            first = Some(parsed.code);
            lines.push(String::from_utf8_lossy(parsed.text).into_owned());
            raw.extend_from_slice(&line);
            if parsed.last {
                return Ok(Reply {
                    code: parsed.code,
                    lines,
                    raw,
                });
            }
            if lines.len() >= MAX_LINES {
                return Err(ReplyError::TooManyLines { limit: MAX_LINES });
            }
        }
    }

    /// Takes one line (line end included) off the buffer, reading more
    /// when needed. `complete` is how many lines of the reply came before,
    /// for the error when the peer closes.
    async fn read_line(&mut self, number: usize, complete: usize) -> Result<Vec<u8>, ReplyError> {
        let mut chunk = [0u8; READ_CHUNK];
        // Bytes already searched for a line end, so a line dribbled in
        // byte by byte costs linear time, not quadratic.
        let mut scanned = 0;
        loop {
            if let Some(end) = self.buf[scanned..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|at| scanned + at)
            {
                if end + 1 > MAX_LINE {
                    return Err(ReplyError::LineTooLong {
                        line: number,
                        limit: MAX_LINE,
                    });
                }
                let rest = self.buf.split_off(end + 1);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            // No line end yet: this many bytes already make the line, with
            // its end still to come, longer than the cap.
            if self.buf.len() >= MAX_LINE {
                return Err(ReplyError::LineTooLong {
                    line: number,
                    limit: MAX_LINE,
                });
            }
            scanned = self.buf.len();
            let n = self.inner.read(&mut chunk).await.map_err(ReplyError::Io)?;
            if n == 0 {
                return Err(ReplyError::Closed { lines: complete });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// One line split into its parts.
struct Line<'a> {
    code: ReplyCode,
    text: &'a [u8],
    last: bool,
}

/// Splits `line` (with its LF or CRLF) into code, separator and text.
fn parse_line(line: &[u8], number: usize) -> Result<Line<'_>, ReplyError> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let malformed = |reason| ReplyError::Malformed {
        line: number,
        reason,
        text: String::from_utf8_lossy(body)
            .chars()
            .take(QUOTE_MAX)
            .collect(),
    };
    let Some(code) = body.get(..3).and_then(ReplyCode::parse) else {
        return Err(malformed("no reply code 200-559"));
    };
    match body.get(3) {
        // `Reply-code [ SP textstring ] CRLF`: a bare code ends the reply.
        None => Ok(Line {
            code,
            text: &[],
            last: true,
        }),
        Some(b' ') => Ok(Line {
            code,
            text: &body[4..],
            last: true,
        }),
        Some(b'-') => Ok(Line {
            code,
            text: &body[4..],
            last: false,
        }),
        Some(_) => Err(malformed("code not followed by space, hyphen or line end")),
    }
}

/// One service extension from an EHLO reply: `ehlo-keyword *(SP ehlo-param)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    keyword: String,
    params: Vec<String>,
}

impl Extension {
    /// The keyword in upper case (keywords are case-insensitive, RFC 5321
    /// §2.4), e.g. `STARTTLS`, `SIZE`.
    pub fn keyword(&self) -> &str {
        &self.keyword
    }

    /// Parameters after the keyword, as sent.
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// Whether the keyword fits `ehlo-keyword = (ALPHA / DIGIT) *(ALPHA /
    /// DIGIT / "-")` (RFC 5321 §4.1.1.1).
    pub fn is_well_formed(&self) -> bool {
        let mut bytes = self.keyword.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }
}

/// What a positive EHLO reply says: the server's name, its greeting, its
/// extensions. Made only from a [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ehlo {
    domain: String,
    greeting: String,
    extensions: Vec<Extension>,
}

impl Ehlo {
    /// Reads the extensions off an EHLO reply (RFC 5321 §4.1.1.1
    /// `ehlo-ok-rsp`): the first line is `Domain [SP ehlo-greet]`, every
    /// further line one extension. A server that puts an extension on the
    /// first line (seen in the wild) loses it here, as it does with every
    /// sending MTA. The caller checks the code.
    pub fn from_reply(reply: &Reply) -> Ehlo {
        let mut lines = reply.lines().iter();
        let (domain, greeting) = match lines.next() {
            Some(first) => {
                let first = first.trim();
                match first.split_once([' ', '\t']) {
                    Some((domain, greeting)) => (domain.to_string(), greeting.trim().to_string()),
                    None => (first.to_string(), String::new()),
                }
            }
            None => (String::new(), String::new()),
        };
        let extensions = lines
            .filter_map(|line| {
                let mut words = line.split_ascii_whitespace();
                let keyword = words.next()?.to_ascii_uppercase();
                Some(Extension {
                    keyword,
                    params: words.map(str::to_string).collect(),
                })
            })
            .collect();
        Ehlo {
            domain,
            greeting,
            extensions,
        }
    }

    /// The name the server gave itself on the first line.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The rest of the first line.
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// The extensions, in the order sent.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// Whether `keyword` is advertised (case-insensitive).
    pub fn has(&self, keyword: &str) -> bool {
        self.extensions
            .iter()
            .any(|e| e.keyword.eq_ignore_ascii_case(keyword))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;

    /// Hands out the given chunks one read at a time, then end of stream;
    /// counts the bytes handed out.
    struct Chunks {
        chunks: VecDeque<Vec<u8>>,
        given: usize,
    }

    impl Chunks {
        fn new(chunks: Vec<Vec<u8>>) -> Self {
            Chunks {
                chunks: chunks.into(),
                given: 0,
            }
        }
    }

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if let Some(mut chunk) = self.chunks.pop_front() {
                let n = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..n]);
                self.given += n;
                if n < chunk.len() {
                    let rest = chunk.split_off(n);
                    self.chunks.push_front(rest);
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    /// An endless stream of the same byte.
    struct Endless {
        byte: u8,
        given: usize,
    }

    impl AsyncRead for Endless {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = buf.remaining();
            let byte = self.byte;
            buf.put_slice(&vec![byte; n]);
            self.given += n;
            Poll::Ready(Ok(()))
        }
    }

    /// How the input is cut into reads.
    #[derive(Clone, Copy, Debug)]
    enum Split {
        Whole,
        ByteByByte,
    }

    fn cut(input: &[u8], split: Split) -> Vec<Vec<u8>> {
        match split {
            Split::Whole => vec![input.to_vec()],
            Split::ByteByByte => input.iter().map(|&b| vec![b]).collect(),
        }
    }

    /// The result of one read, reduced to what a row can state.
    #[derive(Debug, PartialEq)]
    enum Got {
        Reply(u16, Vec<String>, bool),
        LineTooLong(usize),
        TooManyLines,
        TooLarge,
        Malformed(usize),
        CodeMismatch(usize, u16, u16),
        Closed(usize),
    }

    fn reduce(result: Result<Reply, ReplyError>) -> Got {
        match result {
            Ok(reply) => Got::Reply(
                reply.code().get(),
                reply.lines().to_vec(),
                reply.is_multiline(),
            ),
            Err(ReplyError::LineTooLong { line, .. }) => Got::LineTooLong(line),
            Err(ReplyError::TooManyLines { .. }) => Got::TooManyLines,
            Err(ReplyError::TooLarge { .. }) => Got::TooLarge,
            Err(ReplyError::Malformed { line, .. }) => Got::Malformed(line),
            Err(ReplyError::CodeMismatch {
                line, first, got, ..
            }) => Got::CodeMismatch(line, first.get(), got.get()),
            Err(ReplyError::Closed { lines }) => Got::Closed(lines),
            Err(ReplyError::Io(e)) => panic!("unexpected i/o error {e}"),
        }
    }

    fn ok(code: u16, lines: &[&str]) -> Got {
        Got::Reply(
            code,
            lines.iter().map(|s| s.to_string()).collect(),
            lines.len() > 1,
        )
    }

    fn lines_of(prefix: &str, count: usize, width: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..count {
            let sep = if i + 1 == count { ' ' } else { '-' };
            let text = "x".repeat(width);
            out.extend_from_slice(format!("{prefix}{sep}{text}\r\n").as_bytes());
        }
        out
    }

    #[tokio::test]
    async fn one_reply_is_read_whatever_the_reads_look_like() {
        let exact_line = format!("250 {}\r\n", "a".repeat(MAX_LINE - 6));
        let long_line = format!("250 {}\r\n", "a".repeat(MAX_LINE - 5));
        let rows: Vec<(&str, Vec<u8>, Got)> = vec![
            (
                "single line with CRLF",
                b"220 mx.example ESMTP\r\n".to_vec(),
                ok(220, &["mx.example ESMTP"]),
            ),
            (
                "bare LF ends a line too",
                b"220 mx.example ESMTP\n".to_vec(),
                ok(220, &["mx.example ESMTP"]),
            ),
            (
                "multi-line reply ends at the line with a space",
                b"250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n".to_vec(),
                ok(250, &["mx.example", "PIPELINING", "8BITMIME"]),
            ),
            (
                "mixed line ends in one reply",
                b"250-mx.example\n250 STARTTLS\r\n".to_vec(),
                ok(250, &["mx.example", "STARTTLS"]),
            ),
            (
                "a bare code is a last line with empty text",
                b"250\r\n".to_vec(),
                ok(250, &[""]),
            ),
            (
                "a bare code ends a multi-line reply",
                b"250-a\r\n250\r\n".to_vec(),
                ok(250, &["a", ""]),
            ),
            (
                "continuation with empty text",
                b"220-\r\n220 ready\r\n".to_vec(),
                ok(220, &["", "ready"]),
            ),
            (
                "text keeps inner spaces and tabs",
                b"421 4.3.2  busy\there\r\n".to_vec(),
                ok(421, &["4.3.2  busy\there"]),
            ),
            (
                "invalid UTF-8 is replaced, not refused",
                b"220 caf\xe9\r\n".to_vec(),
                ok(220, &["caf\u{fffd}"]),
            ),
            (
                "a line of exactly the cap is accepted",
                exact_line.into_bytes(),
                Got::Reply(250, vec!["a".repeat(MAX_LINE - 6)], false),
            ),
            (
                "a line one byte over the cap is refused",
                long_line.into_bytes(),
                Got::LineTooLong(1),
            ),
            (
                "exactly 100 lines are accepted",
                lines_of("250", MAX_LINES, 3),
                Got::Reply(250, vec!["xxx".to_string(); MAX_LINES], true),
            ),
            (
                "a 101st line is refused",
                lines_of("250", MAX_LINES + 1, 3),
                Got::TooManyLines,
            ),
            (
                "a reply over 64 KiB is refused",
                lines_of("250", 20, 4000),
                Got::TooLarge,
            ),
            (
                "codes must agree across lines",
                b"250-a\r\n251 b\r\n".to_vec(),
                Got::CodeMismatch(2, 250, 251),
            ),
            (
                "letters instead of a code are garbage",
                b"HTTP/1.1 400 Bad Request\r\n".to_vec(),
                Got::Malformed(1),
            ),
            (
                "a TLS record is garbage",
                b"\x16\x03\x01\x00\x02\x02\x46\n".to_vec(),
                Got::Malformed(1),
            ),
            (
                "first digit outside 2-5 is garbage",
                b"199 x\r\n".to_vec(),
                Got::Malformed(1),
            ),
            (
                "second digit outside 0-5 is garbage",
                b"260 x\r\n".to_vec(),
                Got::Malformed(1),
            ),
            (
                "a code glued to its text is garbage",
                b"220mx.example\r\n".to_vec(),
                Got::Malformed(1),
            ),
            (
                "two digits are garbage",
                b"22\r\n".to_vec(),
                Got::Malformed(1),
            ),
            (
                "an empty line is garbage",
                b"\r\n".to_vec(),
                Got::Malformed(1),
            ),
            (
                "garbage on a continuation names its line",
                b"250-a\r\nxyz\r\n".to_vec(),
                Got::Malformed(2),
            ),
            ("close before anything", Vec::new(), Got::Closed(0)),
            (
                "close inside the first line",
                b"220 mx.exa".to_vec(),
                Got::Closed(0),
            ),
            (
                "close after a continuation line",
                b"250-a\r\n250-b\r\n".to_vec(),
                Got::Closed(2),
            ),
        ];
        for (rule, input, want) in rows {
            for split in [Split::Whole, Split::ByteByByte] {
                let mut reader = ReplyReader::new(Chunks::new(cut(&input, split)));
                let got = reduce(reader.read_reply().await);
                assert_eq!(
                    got,
                    want,
                    "{rule} ({split:?}): input {:?}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }

    #[tokio::test]
    async fn bytes_after_a_reply_stay_for_the_next_one() {
        // (rule, input, replies in order, bytes left buffered)
        type Row = (&'static str, &'static [u8], Vec<Got>, &'static [u8]);
        let rows: Vec<Row> = vec![
            (
                "two replies in one read come out one by one",
                b"220 hi\r\n250-a\r\n250 b\r\n",
                vec![ok(220, &["hi"]), ok(250, &["a", "b"]), Got::Closed(0)],
                b"",
            ),
            (
                "a partial reply after a complete one waits in the buffer",
                b"220 hi\r\n250-a\r\n",
                vec![ok(220, &["hi"])],
                b"250-a\r\n",
            ),
            (
                "non-reply bytes after a reply are kept, not parsed",
                b"220 go ahead\r\n\x16\x03\x03",
                vec![ok(220, &["go ahead"])],
                b"\x16\x03\x03",
            ),
        ];
        for (rule, input, want, left) in rows {
            for split in [Split::Whole, Split::ByteByByte] {
                let mut reader = ReplyReader::new(Chunks::new(cut(input, split)));
                for (i, want) in want.iter().enumerate() {
                    let got = reduce(reader.read_reply().await);
                    assert_eq!(&got, want, "{rule} ({split:?}) reply {i}");
                }
                if !left.is_empty() {
                    // Byte by byte, only what was needed has been read.
                    let expected: &[u8] = match split {
                        Split::Whole => left,
                        Split::ByteByByte => b"",
                    };
                    assert_eq!(reader.buffered(), expected, "{rule} ({split:?}): leftover");
                }
            }
        }
    }

    #[tokio::test]
    async fn raw_bytes_are_kept_exactly() {
        let input = b"250-mx.example\r\n250 STARTTLS\n";
        let mut reader = ReplyReader::new(Chunks::new(vec![input.to_vec()]));
        let reply = reader.read_reply().await.expect("valid reply");
        assert_eq!(reply.raw(), input);
        assert_eq!(reply.text(), "mx.example STARTTLS");
    }

    #[tokio::test]
    async fn a_line_without_end_is_refused_after_bounded_reading() {
        for (rule, byte) in [("endless text", b'x'), ("endless digits", b'2')] {
            let mut reader = ReplyReader::new(Endless { byte, given: 0 });
            let got = reduce(reader.read_reply().await);
            assert_eq!(got, Got::LineTooLong(1), "{rule}");
            let given = reader.get_mut().given;
            assert!(
                given <= MAX_LINE + READ_CHUNK,
                "{rule}: read {given} bytes before giving up"
            );
        }
    }

    #[test]
    fn ehlo_reply_lists_extensions_after_the_first_line() {
        type Row = (
            &'static str,
            &'static [u8],
            &'static str,
            &'static [&'static str],
        );
        let rows: [Row; 5] = [
            (
                "postfix style: domain first, one keyword per line",
                b"250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
                "mx.example",
                &["PIPELINING", "SIZE", "STARTTLS", "8BITMIME"],
            ),
            (
                "single-line EHLO has no extensions",
                b"250 mx.example at your service\r\n",
                "mx.example",
                &[],
            ),
            (
                "keywords are case-insensitive and stored upper case",
                b"250-mx.example hi\r\n250 starttls\r\n",
                "mx.example",
                &["STARTTLS"],
            ),
            (
                "a keyword on the first line is the domain, not an extension",
                b"250-STARTTLS\r\n250-mx.example\r\n250 8BITMIME\r\n",
                "STARTTLS",
                &["MX.EXAMPLE", "8BITMIME"],
            ),
            (
                "blank extension lines are skipped",
                b"250-mx.example\r\n250- \r\n250 REQUIRETLS\r\n",
                "mx.example",
                &["REQUIRETLS"],
            ),
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds");
        for (rule, input, domain, keywords) in rows {
            let reply = runtime
                .block_on(ReplyReader::new(Chunks::new(vec![input.to_vec()])).read_reply())
                .expect("valid reply");
            let ehlo = Ehlo::from_reply(&reply);
            assert_eq!(ehlo.domain(), domain, "{rule}");
            let got: Vec<&str> = ehlo.extensions().iter().map(Extension::keyword).collect();
            assert_eq!(got, keywords, "{rule}");
            for keyword in keywords {
                assert!(
                    ehlo.has(&keyword.to_ascii_lowercase()),
                    "{rule}: has({keyword})"
                );
            }
        }
    }

    #[test]
    fn extension_keyword_grammar() {
        for (keyword, want) in [
            ("STARTTLS", true),
            ("8BITMIME", true),
            ("X-EXPS", true),
            ("-X", false),
            ("AUTH=LOGIN", false),
            ("", false),
        ] {
            let ext = Extension {
                keyword: keyword.to_string(),
                params: Vec::new(),
            };
            assert_eq!(ext.is_well_formed(), want, "{keyword:?}");
        }
    }

    #[test]
    fn size_parameter_is_kept() {
        let reply = Reply {
            code: ReplyCode(250),
            lines: vec!["mx.example".into(), "SIZE 10240000".into()],
            raw: Vec::new(),
        };
        let ehlo = Ehlo::from_reply(&reply);
        assert_eq!(ehlo.extensions()[0].params(), ["10240000"]);
    }
}
