//! The domains of a run, streamed: arguments first, then `--input` lines,
//! read by a thread into a bounded channel, so a million-line list is never
//! held and a slow producer on standard input does not stall the scans.
//!
//! Lines are capped at [`MAX_LINE`] bytes (the rest of a longer line is
//! skipped and the line rejected); `#` starts a comment. With `--shard`,
//! only the domains of the shard are passed on (see `shard`).
//!
//! A domain given again (the same name after normalisation) is scanned
//! once: the reader keeps 16 bytes of the SHA-256 of every name passed on,
//! the one thing held per input line (16 MB for a million distinct
//! domains). An input that is not a domain name is passed on as
//! [`RejectedInput`], for the JSON outputs to carry as its own object.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream::{self, Stream};
use tokio::sync::mpsc;

use crate::document::RejectedInput;
use crate::scan::Domain;
use crate::shard::Shard;

/// Longest input line read; a domain name is at most 253 octets, so this
/// leaves room for comments and U-labels.
pub const MAX_LINE: usize = 4096;
/// Domains read ahead of the scans.
const READ_AHEAD: usize = 1024;

/// Where the domains come from.
pub struct Source {
    /// Domains given as arguments.
    pub arguments: Vec<String>,
    /// `--input`: a file, or `-` for standard input.
    pub file: Option<PathBuf>,
    pub shard: Option<Shard>,
}

/// What the reader saw besides domains; shared with the run loop.
#[derive(Default)]
pub struct Tally {
    /// Inputs that are not domain names.
    pub rejected: AtomicUsize,
    /// Domains passed on to be scanned.
    pub accepted: AtomicUsize,
    /// Domains given again and skipped.
    pub duplicates: AtomicUsize,
}

/// A running input: the domains, numbered in input order.
pub struct Input {
    /// How many domains will be scanned, when known before reading them
    /// (arguments, a regular file; not standard input).
    pub total: Option<usize>,
    pub tally: Arc<Tally>,
    rx: mpsc::Receiver<(usize, Domain)>,
    /// Inputs that are not domain names, as they are read. Drain it beside
    /// the domains: the reader waits when it is full.
    pub rejected: mpsc::Receiver<RejectedInput>,
}

impl Input {
    /// Opens the input (errors here are usage errors: nothing was scanned)
    /// and starts reading. `note` receives a line per rejected input.
    pub fn start(source: Source, note: Arc<dyn Fn(String) + Send + Sync>) -> Result<Input, String> {
        let reader: Option<Box<dyn BufRead + Send>> = match &source.file {
            None => None,
            Some(path) if path == Path::new("-") => Some(Box::new(BufReader::new(io::stdin()))),
            Some(path) => Some(Box::new(BufReader::new(open(path)?))),
        };
        let mut seen = HashSet::new();
        let total = match &source.file {
            None => Some(count(
                source.arguments.iter().map(String::as_str),
                source.shard,
                &mut seen,
            )),
            Some(path) if path == Path::new("-") => None,
            Some(path) => {
                let mut lines = Vec::new();
                let mut counted = count(
                    source.arguments.iter().map(String::as_str),
                    source.shard,
                    &mut seen,
                );
                let mut r = BufReader::new(open(path)?);
                while next_line(&mut r, &mut lines).map_err(|e| read_error(path, &e))? {
                    if let Some(text) = content(&lines) {
                        counted += count(std::iter::once(text), source.shard, &mut seen);
                    }
                }
                Some(counted)
            }
        };
        drop(seen);
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        let (rejected_tx, rejected) = mpsc::channel(READ_AHEAD);
        let tally = Arc::new(Tally::default());
        let thread_tally = Arc::clone(&tally);
        let out = Out {
            domains: tx,
            rejected: rejected_tx,
            tally: thread_tally,
            note,
        };
        std::thread::Builder::new()
            .name("mxtls-input".into())
            .spawn(move || read_all(source, reader, &out))
            .map_err(|e| format!("cannot start reading the input: {e}"))?;
        Ok(Input {
            total,
            tally,
            rx,
            rejected,
        })
    }

    /// The domains as a stream, numbered from 0 in input order, and the
    /// rejected inputs.
    pub fn split(
        self,
    ) -> (
        impl Stream<Item = (usize, Domain)>,
        mpsc::Receiver<RejectedInput>,
    ) {
        let domains = stream::unfold(
            self.rx,
            |mut rx| async move { rx.recv().await.map(|d| (d, rx)) },
        );
        (domains, self.rejected)
    }
}

fn open(path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| format!("cannot read --input {}: {e}", path.display()))
}

fn read_error(path: &Path, e: &io::Error) -> String {
    format!("cannot read --input {}: {e}", path.display())
}

/// Distinct domains among `texts` that the shard holds (all valid ones
/// without one); `seen` carries over between calls.
fn count<'a>(
    texts: impl Iterator<Item = &'a str>,
    shard: Option<Shard>,
    seen: &mut HashSet<[u8; 16]>,
) -> usize {
    texts
        .filter_map(|t| Domain::parse(t).ok())
        .filter(|d| shard.is_none_or(|s| s.holds(&d.ascii)))
        .filter(|d| seen.insert(fingerprint(&d.ascii)))
        .count()
}

/// What tells one normalised name from another: 128 bits of SHA-256, so
/// two different names of a list never pass for one.
fn fingerprint(ascii: &str) -> [u8; 16] {
    let digest = ring::digest::digest(&ring::digest::SHA256, ascii.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest.as_ref()[..16]);
    out
}

/// The line's text before any `#`, trimmed; None when nothing is left.
fn content(line: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(line).ok()?;
    let text = text.split('#').next().unwrap_or_default().trim();
    (!text.is_empty()).then_some(text)
}

/// Reads one line into `buf` (without its end), at most [`MAX_LINE`]
/// bytes of it; a longer line is kept as `MAX_LINE + 1` bytes so that it
/// fails to parse. False at the end of input.
fn next_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], i + 1),
            None => (chunk, chunk.len()),
        };
        let room = (MAX_LINE + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&part[..part.len().min(room)]);
        let ended = part.len() < chunk.len();
        r.consume(done);
        if ended {
            return Ok(true);
        }
    }
}

/// Where the reader puts what it reads.
struct Out {
    domains: mpsc::Sender<(usize, Domain)>,
    rejected: mpsc::Sender<RejectedInput>,
    tally: Arc<Tally>,
    note: Arc<dyn Fn(String) + Send + Sync>,
}

fn read_all(source: Source, reader: Option<Box<dyn BufRead + Send>>, out: &Out) {
    let mut index = 0usize;
    let mut seen: HashSet<[u8; 16]> = HashSet::new();
    // False once the scans have ended (an interrupt): stop reading.
    let mut pass = |text: &str, line: Option<usize>| -> bool {
        match Domain::parse(text) {
            Ok(d) => {
                if source.shard.is_some_and(|s| !s.holds(&d.ascii)) {
                    return true;
                }
                if !seen.insert(fingerprint(&d.ascii)) {
                    out.tally.duplicates.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                out.tally.accepted.fetch_add(1, Ordering::Relaxed);
                let sent = out.domains.blocking_send((index, d)).is_ok();
                index += 1;
                sent
            }
            Err(e) => {
                out.tally.rejected.fetch_add(1, Ordering::Relaxed);
                (out.note)(format!("mxtls: skipping {e}"));
                out.rejected
                    .blocking_send(RejectedInput::new(&e.input, line, &e.to_string()))
                    .is_ok()
            }
        }
    };
    for arg in &source.arguments {
        if !pass(arg, None) {
            return;
        }
    }
    let Some(mut reader) = reader else { return };
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        match next_line(&mut reader, &mut line) {
            Ok(true) => number += 1,
            Ok(false) => return,
            Err(e) => {
                (out.note)(format!("mxtls: stopped reading the input: {e}"));
                out.tally.rejected.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let text = match std::str::from_utf8(&line) {
            Ok(_) => content(&line),
            Err(_) => Some("\u{fffd}"),
        };
        if let Some(text) = text {
            if !pass(text, Some(number)) {
                return;
            }
        }
    }
}

/// The lines of `all` as `next_line` reads them, through a tiny buffer so
/// that lines span several reads.
#[cfg(test)]
fn lines_of(all: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = BufReader::with_capacity(7, all);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    while next_line(&mut reader, &mut buf).expect("in memory") {
        out.push(buf.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_capped() {
        let long = "a".repeat(MAX_LINE * 3);
        let text = format!("one.example\n{long}\ntwo.example # comment\nlast");
        let lines = lines_of(text.as_bytes());
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], b"one.example");
        assert_eq!(lines[1].len(), MAX_LINE + 1, "a long line is cut, not held");
        assert_eq!(content(&lines[2]), Some("two.example"));
        assert_eq!(lines[3], b"last");
        assert_eq!(content(b"  # only a comment"), None);
    }
}
