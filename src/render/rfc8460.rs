//! Where the RFC 8460 report goes: the `--report <FILE|DIR/|->` target, the
//! file name of RFC 8460 §5.1, gzip (§5.2), and the writing itself.
//!
//! - [`ReportTarget::parse`] reads the command-line value: `-` is standard
//!   output, a value ending in `/` or naming an existing directory is a
//!   directory that receives one file per domain, anything else is a file.
//!   A file name ending in `.gz` is written gzip-compressed; for a directory
//!   the caller chooses ([`ReportTarget::with_directory_gzip`]).
//! - [`check_writable`] is meant to run before the scan, so that a target
//!   that cannot be written fails in a second rather than after minutes of
//!   scanning.
//! - [`file_name`] builds `sender!policy-domain!begin!end[!unique-id].json[.gz]`
//!   and makes sure hostile input cannot name another directory.
//!
//! Left out: mail (§5.3) and HTTPS (§5.4) delivery, which take the bytes of
//! [`encode`] as they are.

use crate::datetime::parse_rfc3339_utc;
use crate::tlsrpt::report::Report;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a report could not be placed or written. Every message names the
/// path and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The command-line value was empty.
    #[error(
        "the report target is empty: give a file, a directory ending in '/', or '-' for standard output"
    )]
    EmptyTarget,
    /// The directory the report file would go in does not exist.
    #[error(
        "cannot write the report to {}: the directory {} does not exist; create it first or choose another path",
        path.display(),
        parent.display()
    )]
    MissingParent {
        /// The file or directory asked for.
        path: PathBuf,
        /// Its parent, which is missing.
        parent: PathBuf,
    },
    /// A directory target (trailing `/`) names something that is not a
    /// directory.
    #[error(
        "cannot write the report into {}: it exists and is not a directory; drop the trailing '/' to write to that file, or choose another directory",
        path.display()
    )]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A file target turned out to be a directory.
    #[error(
        "cannot write the report to {}: it is a directory; end the path with '/' to write one file per domain into it",
        path.display()
    )]
    IsADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The report directory did not exist and could not be created.
    #[error(
        "cannot create the report directory {}: {source}; create it yourself or choose another path",
        path.display()
    )]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The target cannot be written (permissions, read-only file system…).
    #[error(
        "cannot write the report to {}: {source}; check its permissions or choose another path",
        path.display()
    )]
    NotWritable {
        /// The file, or the directory probed.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Writing the report file failed part-way.
    #[error(
        "writing the report to {} failed: {source}; check the free space and permissions there",
        path.display()
    )]
    Write {
        /// The report file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Writing to standard output failed.
    #[error("writing the report to standard output failed: {source}")]
    Stdout {
        /// What the system said.
        source: io::Error,
    },
    /// Serialising or compressing the report failed.
    #[error("encoding the report failed: {source}")]
    Encode {
        /// The serialiser's or compressor's error.
        source: io::Error,
    },
    /// The report's date-range is not in the form this module writes, so the
    /// §5.1 timestamps cannot be derived from it.
    #[error(
        "the report date-range time {text:?} is not of the form YYYY-MM-DDTHH:MM:SSZ, so the report file cannot be named as RFC 8460 §5.1 asks"
    )]
    DateRange {
        /// The offending time.
        text: String,
    },
}

/// Where the report goes, as parsed from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    raw: OsString,
    kind: TargetKind,
    gzip: bool,
}

/// The three kinds of report target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// `-`: the JSON on standard output.
    Stdout,
    /// A directory: one file per domain, named by [`file_name`].
    Directory(PathBuf),
    /// That very file.
    File(PathBuf),
}

impl ReportTarget {
    /// Reads a `--report` value: `-` → standard output; a value ending in
    /// `/`, or naming an existing directory → that directory; anything else →
    /// that file, gzip-compressed when it ends in `.gz` (any case).
    ///
    /// Looks at the file system once, to tell an existing directory given
    /// without its trailing `/`.
    pub fn parse(value: impl AsRef<OsStr>) -> Result<ReportTarget, ReportError> {
        let raw = value.as_ref().to_os_string();
        let bytes = raw.as_encoded_bytes();
        if bytes.is_empty() {
            return Err(ReportError::EmptyTarget);
        }
        if bytes == b"-" {
            return Ok(ReportTarget {
                raw,
                kind: TargetKind::Stdout,
                gzip: false,
            });
        }
        let path = PathBuf::from(&raw);
        let ends_in_separator = bytes
            .last()
            .is_some_and(|&last| std::path::is_separator(char::from(last)));
        if ends_in_separator || path.is_dir() {
            return Ok(ReportTarget {
                raw,
                kind: TargetKind::Directory(path),
                gzip: false,
            });
        }
        let gzip = bytes.len() >= 3 && bytes[bytes.len() - 3..].eq_ignore_ascii_case(b".gz");
        Ok(ReportTarget {
            raw,
            kind: TargetKind::File(path),
            gzip,
        })
    }

    /// For a directory target, whether its files are gzip-compressed
    /// (`.json.gz`, RFC 8460 §5.2 says SHOULD); a file target keeps what its
    /// name says and standard output is never compressed.
    #[must_use]
    pub fn with_directory_gzip(mut self, gzip: bool) -> ReportTarget {
        if matches!(self.kind, TargetKind::Directory(_)) {
            self.gzip = gzip;
        }
        self
    }

    /// The value as given on the command line.
    pub fn raw(&self) -> &OsStr {
        &self.raw
    }

    /// What kind of target it is.
    pub fn kind(&self) -> &TargetKind {
        &self.kind
    }

    /// Whether the report is written gzip-compressed.
    pub fn gzip(&self) -> bool {
        self.gzip
    }
}

/// The longest domain (RFC 1035 §2.3.4: 255 octets on the wire, 253 as
/// text); anything longer is cut, it cannot be a domain.
const MAX_DOMAIN_LEN: usize = 253;
/// Unique ids are ours to choose; this keeps the name short enough.
const MAX_UNIQUE_ID_LEN: usize = 64;

/// The RFC 8460 §5.1 file name:
/// `submitter!policy-domain!begin!end[!unique-id].json[.gz]`, timestamps in
/// seconds since the epoch.
///
/// Domains are expected in A-label form and kept as given (case included).
/// So that a hostile domain can neither name another directory nor break
/// the `!` structure, every character other than ASCII letters, digits,
/// `-`, `.` and `_` becomes `_` (so do `!`, `/`, `\`, NUL and U-labels), a
/// leading `.` or `-` becomes `_` (no hidden file, no option look-alike),
/// one trailing `.` (the root) is dropped, an empty domain becomes `_` and a
/// longer than 253 characters is cut. The unique id keeps only its ASCII
/// letters and digits (the §5.1 grammar), at most 64, and is left out when
/// none remain.
pub fn file_name(
    submitter: &str,
    policy_domain: &str,
    start_unix: u64,
    end_unix: u64,
    unique_id: Option<&str>,
    gzip: bool,
) -> String {
    let mut name = format!(
        "{}!{}!{start_unix}!{end_unix}",
        name_domain(submitter),
        name_domain(policy_domain)
    );
    let unique: String = unique_id
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(MAX_UNIQUE_ID_LEN)
        .collect();
    if !unique.is_empty() {
        name.push('!');
        name.push_str(&unique);
    }
    name.push_str(if gzip { ".json.gz" } else { ".json" });
    name
}

/// A domain made safe as one part of a file name (see [`file_name`]).
fn name_domain(domain: &str) -> String {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let mut part: String = domain
        .chars()
        .take(MAX_DOMAIN_LEN)
        .enumerate()
        .map(|(index, c)| match c {
            '.' | '-' if index == 0 => '_',
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '.' | '_' => c,
            _ => '_',
        })
        .collect();
    if part.is_empty() {
        part.push('_');
    }
    part
}

/// The report as bytes: pretty-printed JSON ending in a newline, gzip-
/// compressed when `gzip` (§5.2; the gzip header carries no name and a zero
/// time, so equal reports give equal bytes).
pub fn encode(report: &Report, gzip: bool) -> Result<Vec<u8>, ReportError> {
    let mut json = serde_json::to_vec_pretty(report).map_err(|error| ReportError::Encode {
        source: io::Error::from(error),
    })?;
    json.push(b'\n');
    if !gzip {
        return Ok(json);
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .map_err(|source| ReportError::Encode { source })
}

/// Checks, before any scanning, that `target` can be written.
///
/// - standard output: nothing to check;
/// - a file: its directory must exist; an existing file is opened for
///   writing without truncating it, a missing one is created and removed
///   again (asking the system is the only reliable test: permission bits
///   say nothing about ACLs, read-only mounts or root);
/// - a directory: when missing it is created, but only if its parent
///   exists — like `mkdir` without `-p`, so `--report reports/` works in a
///   fresh checkout while a mistyped deeper path still fails; then a probe
///   file is created in it and removed.
pub fn check_writable(target: &ReportTarget) -> Result<(), ReportError> {
    match &target.kind {
        TargetKind::Stdout => Ok(()),
        TargetKind::File(path) => check_file(path),
        TargetKind::Directory(dir) => {
            ensure_directory(dir)?;
            let probe = dir.join(format!(".mxtls-probe-{}-{}", std::process::id(), nanos()));
            File::create_new(&probe)
                .and_then(|_| fs::remove_file(&probe))
                .map_err(|source| ReportError::NotWritable {
                    path: dir.clone(),
                    source,
                })
        }
    }
}

fn check_file(path: &Path) -> Result<(), ReportError> {
    let parent = parent_of(path);
    if !parent.is_dir() {
        return Err(missing_parent(path, parent));
    }
    if path.is_dir() {
        return Err(ReportError::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    let not_writable = |source| ReportError::NotWritable {
        path: path.to_path_buf(),
        source,
    };
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => OpenOptions::new()
            .write(true)
            .open(path)
            .map(drop)
            .map_err(not_writable),
        // A device or FIFO (`/dev/stdout`, a named pipe): opening it could
        // block or have effects, so it is left for the write to judge.
        Ok(_) => Ok(()),
        Err(_) => File::create_new(path)
            .and_then(|_| fs::remove_file(path))
            .map_err(not_writable),
    }
}

/// Writes the report about `policy_domain` (the recipient domain, in
/// A-labels) to `target`; returns the file written, `None` for standard
/// output.
///
/// In a directory, the file is named by [`file_name`] with: as submitter
/// the domain of the `contact-info` mailbox (§5.1 takes the sender from the
/// contact address; the organisation name when there is no `@`), the
/// date-range as timestamps (before 1970 counts as 0), and the report-id's
/// letters and digits as unique id, so that reports of different runs do
/// not overwrite each other. An existing file of that name is replaced (§5.1
/// lets a re-sent report keep its name). A missing directory is created as
/// [`check_writable`] does.
pub fn write(
    report: &Report,
    target: &ReportTarget,
    policy_domain: &str,
) -> Result<Option<PathBuf>, ReportError> {
    let bytes = encode(report, target.gzip)?;
    let path = match &target.kind {
        TargetKind::Stdout => {
            let mut stdout = io::stdout().lock();
            return stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .map(|()| None)
                .map_err(|source| ReportError::Stdout { source });
        }
        TargetKind::File(path) => {
            let parent = parent_of(path);
            if !parent.is_dir() {
                return Err(missing_parent(path, parent));
            }
            path.clone()
        }
        TargetKind::Directory(dir) => {
            ensure_directory(dir)?;
            let start = report_timestamp(&report.date_range.start_datetime)?;
            let end = report_timestamp(&report.date_range.end_datetime)?;
            dir.join(file_name(
                submitter_of(report),
                policy_domain,
                start,
                end,
                Some(&report.report_id),
                target.gzip,
            ))
        }
    };
    if path.is_dir() {
        return Err(ReportError::IsADirectory { path });
    }
    match fs::write(&path, &bytes) {
        Ok(()) => Ok(Some(path)),
        Err(source) => Err(ReportError::Write { path, source }),
    }
}

/// The §5.1 sender: the domain of the contact mailbox, else the organisation.
fn submitter_of(report: &Report) -> &str {
    match report.contact_info.rsplit_once('@') {
        Some((_, domain)) => domain.trim_end_matches('>'),
        None => &report.organization_name,
    }
}

fn report_timestamp(text: &str) -> Result<u64, ReportError> {
    let seconds = parse_rfc3339_utc(text).ok_or_else(|| ReportError::DateRange {
        text: text.to_string(),
    })?;
    Ok(u64::try_from(seconds).unwrap_or(0))
}

/// Creates `dir` when missing, if its parent exists; refuses a non-directory.
fn ensure_directory(dir: &Path) -> Result<(), ReportError> {
    // A trailing '/' makes the lookup fail with "not a directory" on a file:
    // look at the path without it to tell "missing" from "not a directory".
    let bare = dir.components().collect::<PathBuf>();
    match fs::metadata(&bare) {
        Ok(metadata) if metadata.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(ReportError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        Err(_) => {}
    }
    let parent = parent_of(&bare);
    if !parent.is_dir() {
        return Err(missing_parent(dir, parent));
    }
    match fs::create_dir(&bare) {
        Ok(()) => Ok(()),
        // Created by someone else in the meantime: fine.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && bare.is_dir() => Ok(()),
        Err(source) => Err(ReportError::CreateDirectory {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// The directory a path lives in; `.` for a bare name.
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn missing_parent(path: &Path, parent: &Path) -> ReportError {
    ReportError::MissingParent {
        path: path.to_path_buf(),
        parent: parent.to_path_buf(),
    }
}

/// Sub-second part of the clock, to keep probe names apart.
fn nanos() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlsrpt::report::{
        PolicyInput, PolicyType, ReportMeta, ResultType, SessionVerdict, build,
    };
    use flate2::read::GzDecoder;
    use std::io::Read;
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A fresh directory under the system temporary directory, removed on
    /// drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "rfc8460-file-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            fs::create_dir_all(&dir).expect("the temporary directory is writable");
            Scratch(dir)
        }

        fn path(&self, relative: &str) -> PathBuf {
            self.0.join(relative)
        }

        /// `relative` inside the scratch directory, as a command-line value.
        fn value(&self, relative: &str) -> String {
            format!("{}/{relative}", self.0.display())
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn report() -> Report {
        let meta = ReportMeta {
            organization_name: "Scanner Org".to_string(),
            contact_info: "postmaster@scanner.example".to_string(),
            report_id: "5065427c-23d3-47ca".to_string(),
            start: UNIX_EPOCH + Duration::from_secs(1_013_662_812),
            end: UNIX_EPOCH + Duration::from_secs(1_013_749_130),
        };
        let policy = PolicyInput {
            policy_type: PolicyType::Sts,
            policy_string: vec!["version: STSv1".to_string(), "mode: testing".to_string()],
            policy_domain: "example.com".to_string(),
            mx_host: vec!["mx.example.com".to_string()],
            sessions: vec![SessionVerdict {
                mx_host: "mx.example.com".to_string(),
                receiving_ip: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 25)),
                sending_ip: None,
                helo: None,
                failure: Some((ResultType::CertificateExpired, None)),
            }],
            extra_failures: vec![],
        };
        build(meta, vec![policy])
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("the file is valid gzip");
        out
    }

    #[test]
    fn file_names_follow_rfc_8460_section_5_1() {
        let cases = [
            (
                (
                    "mail.sender.example.com",
                    "example.net",
                    1_470_013_207,
                    1_470_186_007,
                    Some("001"),
                    true,
                ),
                "mail.sender.example.com!example.net!1470013207!1470186007!001.json.gz",
                "the RFC example: unique id and gzip",
            ),
            (
                ("sender.example", "example.com", 1, 2, None, false),
                "sender.example!example.com!1!2.json",
                "no unique id, plain JSON",
            ),
            (
                ("sender.example", "xn--bcher-kva.example", 1, 2, None, false),
                "sender.example!xn--bcher-kva.example!1!2.json",
                "A-labels are kept as given",
            ),
            (
                ("Sender.Example", "Example.COM", 1, 2, None, false),
                "Sender.Example!Example.COM!1!2.json",
                "case is kept as given",
            ),
            (
                ("sender.example.", "example.com.", 1, 2, None, false),
                "sender.example!example.com!1!2.json",
                "one trailing root dot is dropped",
            ),
            (
                (
                    "sender.example",
                    "example.com",
                    1,
                    2,
                    Some("5065427c-23d3-47ca"),
                    false,
                ),
                "sender.example!example.com!1!2!5065427c23d347ca.json",
                "the unique id keeps letters and digits only",
            ),
            (
                ("sender.example", "example.com", 1, 2, Some("-!/."), false),
                "sender.example!example.com!1!2.json",
                "a unique id with no letter or digit is left out",
            ),
            (
                (
                    "sender.example",
                    "example.com",
                    0,
                    u64::MAX,
                    Some(""),
                    false,
                ),
                "sender.example!example.com!0!18446744073709551615.json",
                "timestamps are plain decimal seconds",
            ),
        ];
        for ((submitter, domain, start, end, unique, gzip), expected, rule) in cases {
            assert_eq!(
                file_name(submitter, domain, start, end, unique, gzip),
                expected,
                "{rule}: {submitter:?} {domain:?} {unique:?}"
            );
        }
    }

    #[test]
    fn hostile_names_cannot_leave_the_directory_or_break_the_format() {
        let cases = [
            ("../../etc/passwd", "a path climbing out"),
            ("/etc/passwd", "an absolute path"),
            ("evil.example/../../x", "a slash inside"),
            ("a!b!c", "extra separators"),
            ("a\\b", "a backslash"),
            ("a\0b", "a NUL"),
            ("a\nb", "a line break"),
            ("..", "dot-dot alone"),
            (".", "a lone dot"),
            ("", "empty"),
            ("-rf", "an option look-alike"),
            ("bücher.example", "a U-label"),
            ("\u{202e}moc.elpmaxe", "a bidi override"),
        ];
        let long = "a".repeat(10_000);
        for (domain, rule) in cases
            .iter()
            .copied()
            .chain([(long.as_str(), "a very long domain")])
        {
            let name = file_name(domain, domain, 1, 2, None, true);
            assert!(
                !name.contains(['/', '\\', '\0']),
                "{rule}: no separator or NUL in {name:?}"
            );
            assert_eq!(
                name.matches('!').count(),
                3,
                "{rule}: exactly the §5.1 separators in {name:?}"
            );
            assert!(name.is_ascii(), "{rule}: ASCII only: {name:?}");
            assert!(
                !name.starts_with(['.', '-']),
                "{rule}: no hidden file or option: {name:?}"
            );
            assert!(
                name.ends_with("!1!2.json.gz"),
                "{rule}: the tail is intact: {name:?}"
            );
            let joined = Path::new("/reports").join(&name);
            assert_eq!(
                joined.parent(),
                Some(Path::new("/reports")),
                "{rule}: stays in the directory"
            );
            assert!(
                name.len() <= 2 * MAX_DOMAIN_LEN + 20,
                "{rule}: bounded length: {}",
                name.len()
            );
            let with_id = file_name("s", "d", 1, 2, Some(domain), false);
            let id = with_id
                .strip_prefix("s!d!1!2")
                .and_then(|rest| rest.strip_suffix(".json"))
                .expect("the fixed parts are intact");
            assert!(
                id.is_empty()
                    || (id.starts_with('!')
                        && id.len() <= MAX_UNIQUE_ID_LEN + 1
                        && id[1..].chars().all(|c| c.is_ascii_alphanumeric())),
                "{rule}: the unique id is empty or alphanumeric: {with_id:?}"
            );
        }
        assert_eq!(
            file_name("..", "a!b", 1, 2, None, false),
            "_!a_b!1!2.json",
            "exact sanitised form: root dot dropped, leading dot replaced"
        );
    }

    #[test]
    fn report_targets_are_parsed_from_the_command_line_value() {
        let scratch = Scratch::new();
        fs::create_dir(scratch.path("existing")).expect("create a directory");
        let existing = scratch.value("existing");
        let cases = [
            ("-", TargetKind::Stdout, false, "dash is standard output"),
            (
                "out/",
                TargetKind::Directory(PathBuf::from("out/")),
                false,
                "trailing slash is a directory",
            ),
            (
                existing.as_str(),
                TargetKind::Directory(PathBuf::from(&existing)),
                false,
                "an existing directory without slash",
            ),
            (
                "report.json",
                TargetKind::File(PathBuf::from("report.json")),
                false,
                "a file",
            ),
            (
                "report.json.gz",
                TargetKind::File(PathBuf::from("report.json.gz")),
                true,
                "a .gz file is gzip",
            ),
            (
                "REPORT.JSON.GZ",
                TargetKind::File(PathBuf::from("REPORT.JSON.GZ")),
                true,
                ".GZ in any case",
            ),
            (
                "report.gzip",
                TargetKind::File(PathBuf::from("report.gzip")),
                false,
                "only .gz means gzip",
            ),
            (
                "--",
                TargetKind::File(PathBuf::from("--")),
                false,
                "only a single dash is standard output",
            ),
        ];
        for (value, kind, gzip, rule) in cases {
            let target = ReportTarget::parse(value).expect(rule);
            assert_eq!(target.kind(), &kind, "{rule}: {value:?}");
            assert_eq!(target.gzip(), gzip, "{rule}: gzip of {value:?}");
            assert_eq!(
                target.raw(),
                OsStr::new(value),
                "{rule}: the raw value is kept"
            );
        }
        assert!(
            matches!(ReportTarget::parse(""), Err(ReportError::EmptyTarget)),
            "an empty value is refused"
        );
    }

    #[test]
    fn only_directories_take_the_callers_gzip_choice() {
        let cases = [
            ("out/", true, true, "a directory follows the caller"),
            ("out/", false, false, "a directory follows the caller (off)"),
            ("-", true, false, "standard output is never compressed"),
            ("r.json", true, false, "a file keeps what its name says"),
            ("r.json.gz", false, true, "a .gz file stays compressed"),
        ];
        for (value, choice, gzip, rule) in cases {
            let target = ReportTarget::parse(value)
                .expect(rule)
                .with_directory_gzip(choice);
            assert_eq!(target.gzip(), gzip, "{rule}: {value:?}");
        }
    }

    #[test]
    fn encoding_is_pretty_json_with_a_final_newline() {
        let plain = encode(&report(), false).expect("encodes");
        let text = String::from_utf8(plain.clone()).expect("JSON is UTF-8");
        assert!(
            text.starts_with("{\n  \"organization-name\""),
            "pretty: {text}"
        );
        assert!(text.ends_with("}\n"), "final newline");
        let back: Report = serde_json::from_slice(&plain).expect("parses back");
        assert_eq!(back, report());
        let gz = encode(&report(), true).expect("encodes");
        assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
        assert_eq!(gunzip(&gz), plain, "gzip holds exactly the plain JSON");
        assert_eq!(
            encode(&report(), true).expect("encodes"),
            gz,
            "equal reports give equal bytes"
        );
    }

    #[test]
    fn a_gz_file_round_trips() {
        let scratch = Scratch::new();
        let target = ReportTarget::parse(scratch.value("r.json.gz")).expect("parses");
        check_writable(&target).expect("the scratch directory is writable");
        assert!(
            !scratch.path("r.json.gz").exists(),
            "the check leaves no file behind"
        );
        let written = write(&report(), &target, "example.com").expect("writes");
        assert_eq!(written, Some(scratch.path("r.json.gz")));
        let bytes = fs::read(scratch.path("r.json.gz")).expect("the file exists");
        let json = gunzip(&bytes);
        let back: Report = serde_json::from_slice(&json).expect("the content is the report");
        assert_eq!(back, report());
    }

    #[test]
    fn a_plain_file_is_written_and_replaced() {
        let scratch = Scratch::new();
        fs::write(
            scratch.path("r.json"),
            "old content that is longer than nothing",
        )
        .expect("seed");
        let target = ReportTarget::parse(scratch.value("r.json")).expect("parses");
        check_writable(&target).expect("an existing file is writable");
        assert_eq!(
            fs::read_to_string(scratch.path("r.json")).expect("still there"),
            "old content that is longer than nothing",
            "the check does not truncate"
        );
        write(&report(), &target, "example.com").expect("writes");
        let text = fs::read(scratch.path("r.json")).expect("the file exists");
        assert_eq!(
            text,
            encode(&report(), false).expect("encodes"),
            "replaced by the report"
        );
    }

    #[test]
    fn a_directory_gets_a_file_named_as_section_5_1_says() {
        let scratch = Scratch::new();
        for (gzip, expected) in [
            (
                false,
                "scanner.example!example.com!1013662812!1013749130!5065427c23d347ca.json",
            ),
            (
                true,
                "scanner.example!example.com!1013662812!1013749130!5065427c23d347ca.json.gz",
            ),
        ] {
            let target = ReportTarget::parse(scratch.value("reports/"))
                .expect("parses")
                .with_directory_gzip(gzip);
            check_writable(&target)
                .expect("a missing directory with an existing parent is created");
            let written = write(&report(), &target, "example.com").expect("writes");
            let path = written.expect("a file, not standard output");
            assert_eq!(path.file_name(), Some(OsStr::new(expected)), "gzip {gzip}");
            assert_eq!(
                path.parent(),
                Some(scratch.path("reports").as_path()),
                "inside the directory"
            );
            let bytes = fs::read(&path).expect("exists");
            let json = if gzip { gunzip(&bytes) } else { bytes };
            assert_eq!(
                json,
                encode(&report(), false).expect("encodes"),
                "content, gzip {gzip}"
            );
        }
    }

    #[test]
    fn the_submitter_comes_from_the_contact_address() {
        let cases = [
            (
                "postmaster@scanner.example",
                "Org",
                "scanner.example",
                "the mailbox domain",
            ),
            (
                "mailto:tls@reports.example",
                "Org",
                "reports.example",
                "a mailto URI",
            ),
            (
                "Reports <tls@reports.example>",
                "Org",
                "reports.example",
                "a display name and brackets",
            ),
            (
                "https://scanner.example/contact",
                "Scanner",
                "Scanner",
                "no mailbox: the organisation",
            ),
        ];
        for (contact, organization, expected, rule) in cases {
            let mut report = report();
            report.contact_info = contact.to_string();
            report.organization_name = organization.to_string();
            assert_eq!(submitter_of(&report), expected, "{rule}: {contact:?}");
        }
    }

    #[test]
    fn unwritable_targets_fail_early_with_the_path_and_advice() {
        let scratch = Scratch::new();
        fs::write(scratch.path("plain-file"), "x").expect("seed");
        let cases = [
            (
                scratch.value("missing/r.json"),
                "missing",
                "does not exist",
                "a file in a missing directory",
            ),
            (
                scratch.value("missing/deeper/"),
                "missing",
                "does not exist",
                "a directory two levels down",
            ),
            (
                scratch.value("plain-file/"),
                "plain-file",
                "not a directory",
                "a file given as a directory",
            ),
            (
                scratch.value("plain-file/r.json"),
                "plain-file",
                "does not exist",
                "a file under a file",
            ),
        ];
        for (value, names, says, rule) in cases {
            let target = ReportTarget::parse(&value).expect(rule);
            let error = check_writable(&target).expect_err(rule);
            let message = error.to_string();
            assert!(
                message.contains(&value.trim_end_matches('/').to_string()),
                "{rule}: names the path: {message}"
            );
            assert!(message.contains(names), "{rule}: names {names}: {message}");
            assert!(message.contains(says), "{rule}: says why: {message}");
            assert!(
                message.contains("choose another") || message.contains("drop the trailing"),
                "{rule}: says what to do: {message}"
            );
            assert!(
                !message.ends_with('.'),
                "{rule}: no trailing period: {message}"
            );
            assert!(
                write(&report(), &target, "example.com").is_err(),
                "{rule}: write fails too"
            );
        }
        assert!(
            !scratch.path("missing").exists(),
            "nothing was created on the way"
        );
    }

    #[test]
    fn a_directory_turned_file_target_is_refused() {
        let scratch = Scratch::new();
        let target = ReportTarget::parse(scratch.value("later")).expect("parses");
        fs::create_dir(scratch.path("later")).expect("appears after parsing");
        let error = check_writable(&target).expect_err("a directory is not a file");
        assert!(matches!(error, ReportError::IsADirectory { .. }), "{error}");
        assert!(
            error.to_string().contains("end the path with '/'"),
            "{error}"
        );
    }

    #[test]
    fn a_hand_made_date_range_that_cannot_be_named_is_an_error() {
        let scratch = Scratch::new();
        let mut report = report();
        report.date_range.start_datetime = "2016-04-01T00:00:00+02:00".to_string();
        let target = ReportTarget::parse(scratch.value("out/")).expect("parses");
        let error = write(&report, &target, "example.com").expect_err("cannot name the file");
        assert!(
            error.to_string().contains("\"2016-04-01T00:00:00+02:00\""),
            "quotes the time: {error}"
        );
    }

    #[test]
    fn standard_output_needs_no_check() {
        let target = ReportTarget::parse("-").expect("parses");
        check_writable(&target).expect("always writable");
    }
}
