//! The human summary: what is published, what a sender does with it, what
//! each mail server answered, and what to fix.
//!
//! Four parts, laid out for the terminal's width ([`Layout`]: the
//! terminal's, or `COLUMNS`, else 80 columns). Wide columns are filled by
//! `fill`, which never cuts a URL, a record or a policy line: what does
//! not fit beside other words gets a line of its own, and what is wider
//! than the column is printed whole below the table:
//!
//! 1. a headline: the domain, the count of findings, and one sentence on
//!    what senders do today, derived from the sessions' verdicts;
//! 2. DNS and policies: MX, DANE (TLSA per MX host), MTA-STS record and
//!    policy, TLSRPT, each with its status and DNSSEC status;
//! 3. mail servers: one row per STARTTLS session (MX address), with what
//!    the server did, its certificate, and the RFC 8460 verdicts;
//! 4. findings with advice, most severe first (the scan sorts them).
//!
//! Colour and ASCII-only drawing are the caller's choice ([`Layout`]);
//! [`summary`] never colours. Everything that came from the network passes through
//! [`for_terminal`] before it is laid out.

use std::io::IsTerminal;

use comfy_table::presets::{ASCII_FULL_CONDENSED, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::fill::fill;
use crate::dns::{Dnssec, DnssecMode};
use crate::document::DomainReport;
use crate::evidence::{MxHost, MxStatus, TlsaStatus};
use crate::finding::Severity;
use crate::mta_sts::assess::PolicyStatus;
use crate::mta_sts::policy::Mode;
use crate::mta_sts::record::StsRecordStatus;
use crate::outlook::Delivery;
use crate::pki::facts::{self, CertFacts};
use crate::sanitize::for_terminal;
use crate::session::SessionOut;
use crate::smtp::session::{Connect, FailureKind, Outcome, Stage};
use crate::tlsrpt::TlsRptStatus;
use crate::verdict::SessionResult;

/// Width the summary is laid out for when nothing says otherwise: fits a
/// classic terminal.
pub const DEFAULT_WIDTH: u16 = 80;

/// Narrowest and widest layouts: below 60 columns the tables cannot show
/// a record beside its name; beyond 250 lines are too long to read.
const MIN_WIDTH: u16 = 60;
const MAX_WIDTH: u16 = 250;

/// Longest host name shown before it is cut (a DNS name has at most 253).
const HOST_MAX: usize = 100;

/// Longest free text (a reason, a finding) shown before it is cut.
const TEXT_MAX: usize = 400;

/// The widest a column of host names is kept unbroken; longer names wrap.
const HOST_COLUMN_MAX: u16 = 30;

/// How the summary is drawn: its width, colour, and whether only ASCII
/// may be used (a non-UTF-8 locale, `--plain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: u16,
    pub colour: bool,
    pub ascii: bool,
    /// `-v`: the DNS answers and each session's SMTP dialogue follow.
    pub verbose: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            width: DEFAULT_WIDTH,
            colour: false,
            ascii: false,
            verbose: false,
        }
    }
}

/// `--color`: whether the summary is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set or TERM is dumb.
    #[default]
    Auto,
    /// Always, even into a pipe or with NO_COLOR set.
    Always,
    /// Never.
    Never,
}

/// What the environment says, read once (`Layout::decide` is pure).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub stdout_is_terminal: bool,
    /// The terminal's width in columns, when stdout is one.
    pub terminal_width: Option<u16>,
    pub columns: Option<String>,
    pub no_color: Option<String>,
    pub term: Option<String>,
    /// `LC_ALL`, `LC_CTYPE`, `LANG`, in that order of precedence.
    pub locale: [Option<String>; 3],
}

impl Environment {
    /// The environment of this process, for its standard output.
    pub fn of_stdout() -> Environment {
        let var = |name: &str| std::env::var(name).ok();
        let stdout_is_terminal = std::io::stdout().is_terminal();
        Environment {
            stdout_is_terminal,
            terminal_width: stdout_is_terminal
                .then(|| terminal_size::terminal_size_of(std::io::stdout()))
                .flatten()
                .map(|(w, _)| w.0),
            columns: var("COLUMNS"),
            no_color: var("NO_COLOR"),
            term: var("TERM"),
            locale: [var("LC_ALL"), var("LC_CTYPE"), var("LANG")],
        }
    }
}

impl Layout {
    /// The layout for standard output: width from `COLUMNS`, else the
    /// terminal, else 80; colour by `--color` (auto: a terminal, no
    /// `NO_COLOR` (<https://no-color.org>), `TERM` not `dumb`); ASCII with
    /// `--plain` or when the locale in force names no UTF-8 character set.
    pub fn decide(env: &Environment, color: ColorChoice, plain: bool) -> Layout {
        fn set(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|v| !v.is_empty())
        }
        let width = set(&env.columns)
            .and_then(|c| c.trim().parse::<u16>().ok())
            .or(env.terminal_width)
            .unwrap_or(DEFAULT_WIDTH)
            .clamp(MIN_WIDTH, MAX_WIDTH);
        let colour = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                env.stdout_is_terminal
                    && set(&env.no_color).is_none()
                    && set(&env.term) != Some("dumb")
            }
        };
        // The first of LC_ALL, LC_CTYPE, LANG that is set decides (POSIX);
        // none set is taken as UTF-8, as on today's systems.
        let locale = env.locale.iter().find_map(set);
        let utf8 = locale.is_none_or(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        });
        Layout {
            width,
            colour,
            ascii: plain || !utf8,
            verbose: false,
        }
    }
}

/// The summary of one domain, without colour, 80 columns (for files,
/// pipes and tests).
pub fn summary(r: &DomainReport) -> String {
    summary_with(r, Layout::default())
}

/// The summary of one domain, 80 columns; with `colour`, severities and
/// verdicts are coloured with terminal escape sequences.
pub fn summary_styled(r: &DomainReport, colour: bool) -> String {
    summary_with(
        r,
        Layout {
            colour,
            ..Layout::default()
        },
    )
}

/// The summary of one domain, drawn as `layout` says.
pub fn summary_with(r: &DomainReport, layout: Layout) -> String {
    let paint = Paint { layout };
    let width = usize::from(layout.width);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    // `--at`: certificate dates shown as of the day judged.
    let now = crate::render::over_time::judged_unix(r).unwrap_or(now);
    let mut out = String::new();
    out.push_str(&wrap(&paint.text(headline(r)), width));
    out.push_str(&wrap(&paint.text(r.headline.clone()), width));
    for note in crate::render::over_time::notes(r) {
        out.push_str(&wrap(&paint.text(note), width));
    }
    if let Some(note) = planned_note(r) {
        out.push_str(&wrap(&paint.text(note), width));
    }
    if let Some(t) = senders_table(r, paint) {
        out.push_str("\nWhat senders do\n");
        out.push_str(&t.to_string());
        out.push('\n');
    }
    let mut notes = Vec::new();
    out.push_str("\nDNS and policies\n");
    out.push_str(&dns_table(r, paint, &mut notes).to_string());
    out.push('\n');
    out.push_str(&footnotes(&notes, paint));
    if let Some(t) = servers_table(r, paint, now) {
        out.push_str("\nMail servers (one STARTTLS session per address)\n");
        out.push_str(&t.to_string());
        out.push('\n');
    }
    if !r.findings.is_empty() {
        let mut notes = Vec::new();
        out.push('\n');
        out.push_str(&wrap(
            "Findings, most severe first; what follows from another is shown under it",
            width,
        ));
        out.push_str(&findings_table(r, paint, &mut notes).to_string());
        out.push('\n');
        out.push_str(&footnotes(&notes, paint));
    }
    if layout.verbose {
        out.push_str(&paint.text(super::verbose::details(r)));
    }
    out
}

/// What was too wide for its column, whole, one per line: `[1] text`.
fn footnotes(notes: &[String], paint: Paint) -> String {
    notes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("[{}] {}\n", i + 1, paint.text(n.clone())))
        .collect()
}

/// One row per kind of sender, from the outlook: what happens to the mail,
/// and the worst address when it differs. None when nothing was tested.
fn senders_table(r: &DomainReport, paint: Paint) -> Option<Table> {
    if r.outlook
        .senders
        .iter()
        .all(|s| s.outcome == Delivery::Untested)
    {
        return None;
    }
    let mut t = paint.table();
    for s in &r.outlook.senders {
        let (text, tone) = delivery_words(s.outcome);
        let mut cell = text.to_string();
        if let Some(worst) = s.worst {
            let at: Vec<String> = s
                .addresses
                .iter()
                .filter(|a| a.outcome == worst)
                .map(|a| a.ip.to_string())
                .collect();
            cell.push_str(&format!(
                " ({} at {})",
                delivery_words(worst).0,
                at.join(", ")
            ));
        }
        t.add_row(vec![
            paint.cell(s.kind.label(), Tone::Plain),
            paint.cell(cell, tone),
        ]);
    }
    Some(t)
}

fn delivery_words(d: Delivery) -> (&'static str, Tone) {
    match d {
        Delivery::DeliversAuthenticated => ("deliver, authenticated", Tone::Good),
        Delivery::DeliversUnauthenticatedTls => ("deliver over TLS, unauthenticated", Tone::Doubt),
        Delivery::DeliversPlaintext => ("deliver in plain text", Tone::Bad),
        Delivery::Refuses => ("refuse: mail queues, then bounces", Tone::Bad),
        Delivery::Untested => ("not tested", Tone::Doubt),
    }
}

/// How a cell reads at a glance; mapped to a colour only when asked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tone {
    Plain,
    Good,
    /// Something a sender would fail on, or an error finding.
    Bad,
    /// Unclear or weak: inconclusive, a warning.
    Doubt,
    /// An informational finding.
    Note,
}

#[derive(Clone, Copy)]
struct Paint {
    layout: Layout,
}

impl Paint {
    fn table(self) -> Table {
        let mut t = Table::new();
        t.load_style(if self.layout.ascii {
            ASCII_FULL_CONDENSED
        } else {
            UTF8_FULL_CONDENSED
        })
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(self.layout.width)
        // Whether to style is decided by the caller, never by
        // comfy-table's own look at stdout.
        .force_no_tty();
        if self.layout.colour {
            t.enforce_styling();
        }
        t
    }

    /// Text as this layout may draw it: in ASCII, our own symbols get
    /// ASCII stand-ins and any other character outside ASCII (an IDN, a
    /// name in a certificate) is written as `\u{…}`.
    fn text(self, text: String) -> String {
        if !self.layout.ascii || text.is_ascii() {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                c if c.is_ascii() => out.push(c),
                '→' => out.push_str("->"),
                '↳' => out.push_str("`-"),
                '—' | '–' => out.push('-'),
                '§' => out.push_str("section "),
                '…' => out.push_str("..."),
                '×' => out.push('x'),
                '“' | '”' => out.push('"'),
                '‘' | '’' => out.push('\''),
                '≥' => out.push_str(">="),
                '≤' => out.push_str("<="),
                c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            }
        }
        out
    }

    /// A cell of plain text.
    fn plain(self, text: impl Into<String>) -> Cell {
        Cell::new(self.text(text.into()))
    }

    fn cell(self, text: impl Into<String>, tone: Tone) -> Cell {
        let cell = self.plain(text);
        if !self.layout.colour {
            return cell;
        }
        match tone {
            Tone::Plain => cell,
            Tone::Good => cell.fg(Color::Green),
            Tone::Bad => cell.fg(Color::Red),
            Tone::Doubt => cell.fg(Color::Yellow),
            Tone::Note => cell.fg(Color::Cyan),
        }
    }
}

// ---------------------------------------------------------------- headline

/// `example.com: 1 error, 2 warnings`, with the U-label form of an IDN.
fn headline(r: &DomainReport) -> String {
    let name = match &r.domain_unicode {
        Some(u) => format!(
            "{} ({})",
            for_terminal(u, HOST_MAX),
            for_terminal(&r.domain, HOST_MAX)
        ),
        None => for_terminal(&r.domain, HOST_MAX),
    };
    format!("{name}: {}", verdict(r))
}

/// Says which parts were judged from planned data (pre-flight).
fn planned_note(r: &DomainReport) -> Option<String> {
    let p = r.planned;
    let mut parts = Vec::new();
    if p.mx {
        parts.push("the MX set (--mx)");
    }
    if p.tlsa {
        parts.push("the TLSA records (--tlsa)");
    }
    if p.sts_policy {
        parts.push("the MTA-STS policy (--sts-policy)");
    }
    (!parts.is_empty()).then(|| {
        format!(
            "PRE-FLIGHT: judged with {}, as planned, not with what is published.",
            parts.join(", ")
        )
    })
}

/// The count of findings that stand on their own (a finding that follows
/// from another is counted with it, `root_cause`), then how many follow.
fn verdict(r: &DomainReport) -> String {
    let count = |s| r.count(s);
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        parts.push(plural(warnings, "warning"));
    }
    if parts.is_empty() {
        parts.push("no problems found".to_string());
    }
    // The severities' own words, as in the JSON and `mxtls explain`;
    // "info" is a mass noun, so it takes no plural.
    if infos > 0 {
        parts.push(format!("{infos} info"));
    }
    if r.ignored() > 0 {
        parts.push(format!("{} ignored (--ignore)", r.ignored()));
    }
    let roots = errors + warnings + infos;
    let following = r.counted().count().saturating_sub(roots);
    let causes = crate::root_cause::groups(&r.findings)
        .iter()
        .filter(|(_, following)| !following.is_empty())
        .count();
    let mut text = parts.join(", ");
    if following > 0 {
        text.push_str(&format!(
            " (and {} that follow{} from {})",
            plural(following, "finding"),
            if following == 1 { "s" } else { "" },
            match (roots, causes) {
                (1, _) => "it",
                (_, 1) => "one of them",
                _ => "some of them",
            }
        ));
    }
    text
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Greedy word wrap at `width` characters, each line ending in `\n`. A
/// word longer than the width gets a line of its own.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0usize;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if line_len > 0 && line_len + 1 + len > width {
            out.push('\n');
            line_len = 0;
        }
        if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += len;
    }
    out.push('\n');
    out
}

// ------------------------------------------------------- DNS and policies

/// The DNS and policy rows. The details column is filled by `fill` (see
/// the module doc); the three short columns take what their words need.
fn dns_table(r: &DomainReport, paint: Paint, notes: &mut Vec<String>) -> Table {
    let mut t = paint.table();
    t.set_header(
        ["", "Status", "DNSSEC", "Details"]
            .into_iter()
            .map(|h| paint.plain(h))
            .collect::<Vec<_>>(),
    );
    let mut rows: Vec<(Vec<Cell>, String)> = Vec::new();
    let dnssec = |d: Dnssec| -> String {
        if r.dnssec_mode == DnssecMode::Off {
            "not checked".to_string()
        } else {
            d.as_str().to_string()
        }
    };
    let dnssec_tone = |d: Dnssec| {
        if d == Dnssec::Bogus {
            Tone::Bad
        } else {
            Tone::Plain
        }
    };

    // MX
    let (mx_status, mx_tone) = match r.mx_lookup.status {
        MxStatus::Found => ("found", Tone::Plain),
        MxStatus::NullMx => ("null MX", Tone::Plain),
        MxStatus::Implicit => ("implicit", Tone::Doubt),
        MxStatus::Nxdomain => ("no domain", Tone::Bad),
        MxStatus::Error => ("failed", Tone::Bad),
    };
    let mx_details = match r.mx_lookup.status {
        MxStatus::Found | MxStatus::Implicit => {
            let implicit = r.mx_lookup.status == MxStatus::Implicit;
            let mut lines: Vec<String> = r.mx.iter().map(|h| mx_line(h, implicit)).collect();
            if r.mx_lookup.status == MxStatus::Implicit {
                lines.insert(
                    0,
                    "no MX records: the domain itself is the mail host (RFC 5321 §5.1)".into(),
                );
            }
            lines.join("\n")
        }
        MxStatus::NullMx => "\"0 .\": the domain accepts no mail (RFC 7505)".to_string(),
        MxStatus::Nxdomain => "the domain does not exist".to_string(),
        MxStatus::Error => for_terminal(
            r.mx_lookup.error.as_deref().unwrap_or("no answer"),
            TEXT_MAX,
        ),
    };
    rows.push((
        vec![
            paint.plain("MX"),
            paint.cell(mx_status, mx_tone),
            paint.cell(dnssec(r.mx_lookup.dnssec), dnssec_tone(r.mx_lookup.dnssec)),
        ],
        mx_details,
    ));

    // DANE: the TLSA records of each MX host (RFC 7672 §2.2).
    for h in &r.mx {
        let tlsa = &h.tlsa;
        let (status, tone) = match tlsa.status {
            TlsaStatus::Found if tlsa.applies => ("applies", Tone::Good),
            TlsaStatus::Found => ("ignored", Tone::Doubt),
            TlsaStatus::None => ("none", Tone::Plain),
            TlsaStatus::Bogus => ("bogus", Tone::Bad),
            TlsaStatus::Error => ("failed", Tone::Bad),
            TlsaStatus::Skipped => ("not looked up", Tone::Plain),
        };
        let host = for_terminal(&h.host, HOST_MAX);
        let details = match tlsa.status {
            TlsaStatus::Found => {
                let records = plural(tlsa.records.len(), "TLSA record");
                let usable = format!("{} usable for SMTP", tlsa.usable);
                if tlsa.applies {
                    format!("{host}: {records}, {usable}")
                } else {
                    format!(
                        "{host}: {records}, {usable}; {}",
                        for_terminal(&tlsa.reason, TEXT_MAX)
                    )
                }
            }
            _ => format!("{host}: {}", for_terminal(&tlsa.reason, TEXT_MAX)),
        };
        let dnssec_cell = if tlsa.status == TlsaStatus::Skipped {
            paint.plain("—")
        } else {
            paint.cell(dnssec(tlsa.dnssec), dnssec_tone(tlsa.dnssec))
        };
        rows.push((
            vec![paint.plain("DANE"), paint.cell(status, tone), dnssec_cell],
            details,
        ));
    }

    // MTA-STS: the record, then the policy it points to.
    let rec = &r.mta_sts.record;
    let pol = &r.mta_sts.policy;
    let nothing_published =
        rec.assessment.status == StsRecordStatus::Missing && pol.status == PolicyStatus::Missing;
    let (rec_status, rec_tone) = match rec.assessment.status {
        StsRecordStatus::Valid => ("valid", Tone::Good),
        StsRecordStatus::Invalid => ("invalid", Tone::Bad),
        StsRecordStatus::Missing => ("none", Tone::Plain),
        StsRecordStatus::Multiple => ("multiple", Tone::Bad),
        StsRecordStatus::Bogus => ("bogus", Tone::Bad),
        StsRecordStatus::Error => ("failed", Tone::Bad),
    };
    let rec_details = match rec.assessment.status {
        StsRecordStatus::Valid => {
            let mut s = format!(
                "{}: id={}",
                for_terminal(&rec.name, HOST_MAX),
                for_terminal(rec.assessment.id.as_deref().unwrap_or(""), 40)
            );
            if let Some(c) = &rec.cname {
                s.push_str(&format!(" (alias of {})", for_terminal(c, HOST_MAX)));
            }
            s
        }
        _ => {
            let reason = rec
                .assessment
                .reason
                .as_deref()
                .or(rec.error.as_deref())
                .unwrap_or("no record");
            let mut s = for_terminal(reason, TEXT_MAX);
            if nothing_published {
                s.push_str(": no MTA-STS policy");
            }
            s
        }
    };
    rows.push((
        vec![
            paint.plain("MTA-STS"),
            paint.cell(rec_status, rec_tone),
            paint.cell(dnssec(rec.dnssec), dnssec_tone(rec.dnssec)),
        ],
        rec_details,
    ));
    if !nothing_published {
        let (status, tone) = match pol.status {
            PolicyStatus::Valid => ("valid", Tone::Good),
            PolicyStatus::Invalid => ("invalid", Tone::Bad),
            PolicyStatus::FetchError => ("fetch error", Tone::Bad),
            PolicyStatus::WebpkiInvalid => ("bad cert", Tone::Bad),
            PolicyStatus::Missing => ("none", Tone::Plain),
        };
        let details = match pol.status {
            PolicyStatus::Valid => {
                let mode = pol.mode.map(Mode::as_str).unwrap_or("?");
                let max_age = pol
                    .max_age
                    .map(|s| format!("{s} s{}", in_days(s)))
                    .unwrap_or_else(|| "?".into());
                let patterns: Vec<String> =
                    pol.mx.iter().map(|m| for_terminal(m, HOST_MAX)).collect();
                format!(
                    "mode {mode}, max_age {max_age}\nmx: {}",
                    if patterns.is_empty() {
                        "none".to_string()
                    } else {
                        patterns.join(", ")
                    }
                )
            }
            _ => {
                let mut s = for_terminal(pol.reason.as_deref().unwrap_or("no policy"), TEXT_MAX);
                if let Some(code) = &pol.reason_code {
                    s.push_str(&format!(" ({})", for_terminal(code, 60)));
                }
                s
            }
        };
        rows.push((
            vec![
                paint.plain("STS policy"),
                paint.cell(status, tone),
                paint.plain("—"),
            ],
            format!("{}: {details}", for_terminal(&pol.host, HOST_MAX)),
        ));
    }

    // TLSRPT (RFC 8460 §3).
    let rpt = &r.tlsrpt;
    let (status, tone) = match rpt.assessment.status {
        TlsRptStatus::Valid => ("valid", Tone::Good),
        TlsRptStatus::Invalid => ("invalid", Tone::Bad),
        TlsRptStatus::Missing => ("none", Tone::Doubt),
        TlsRptStatus::Multiple => ("multiple", Tone::Bad),
        TlsRptStatus::Bogus => ("bogus", Tone::Bad),
        TlsRptStatus::Error => ("failed", Tone::Bad),
    };
    let details = match rpt.assessment.status {
        TlsRptStatus::Valid => {
            let rua: Vec<String> = rpt
                .assessment
                .rua
                .iter()
                .map(|u| for_terminal(u.as_str(), 200))
                .collect();
            format!("reports go to {}", rua.join(", "))
        }
        _ => for_terminal(
            rpt.assessment
                .reason
                .as_deref()
                .or(rpt.error.as_deref())
                .unwrap_or(""),
            TEXT_MAX,
        ),
    };
    rows.push((
        vec![
            paint.plain("TLSRPT"),
            paint.cell(status, tone),
            paint.cell(dnssec(rpt.dnssec), dnssec_tone(rpt.dnssec)),
        ],
        details,
    ));
    // Borders and padding: five borders, two spaces per column.
    let short = |i: usize| {
        rows.iter()
            .map(|(cells, _)| cells[i].content().chars().count())
            .chain(std::iter::once(["", "Status", "DNSSEC"][i].len()))
            .max()
            .unwrap_or(0)
    };
    let widths = [short(0), short(1), short(2)];
    let details = usize::from(paint.layout.width)
        .saturating_sub(widths.iter().sum::<usize>() + 5 + 8)
        .max(20);
    for (mut cells, text) in rows {
        let filled = fill(&paint.text(text), details, notes.len() + 1);
        notes.extend(filled.notes);
        cells.push(paint.plain(filled.text));
        t.add_row(cells);
    }
    let fixed = |w: usize| {
        ColumnConstraint::Absolute(Width::Fixed(u16::try_from(w + 2).unwrap_or(u16::MAX)))
    };
    for (i, w) in widths.iter().chain(std::iter::once(&details)).enumerate() {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(fixed(*w));
        }
    }
    t
}
/// ` (7 days)` for a max_age of at least a day.
fn in_days(seconds: u32) -> String {
    let days = seconds / 86_400;
    if days == 0 {
        String::new()
    } else {
        format!(" ({})", plural(days as usize, "day"))
    }
}

/// `10 mx1.example.com (A/AAAA secure)`, with the alias when there is one;
/// an implicit MX has no preference to show.
fn mx_line(h: &MxHost, implicit: bool) -> String {
    let host = for_terminal(&h.host, HOST_MAX);
    let mut s = if implicit {
        host
    } else {
        format!("{} {host}", h.preference)
    };
    if let Some(c) = &h.cname {
        s.push_str(&format!(", alias of {}", for_terminal(c, HOST_MAX)));
    }
    if h.addresses.is_empty() {
        match &h.address_error {
            Some(e) => s.push_str(&format!(" (no address: {})", for_terminal(e, TEXT_MAX))),
            None => s.push_str(" (no address)"),
        }
    } else {
        s.push_str(&format!(" (A/AAAA {})", h.address_dnssec.as_str()));
    }
    s
}

// ----------------------------------------------------------- mail servers

/// The width up to which the verdict column is kept wide enough for
/// `DANE: <result>` to stay on one line, whatever else needs room; beyond
/// it, only when the other columns leave room.
const VERDICT_COLUMN_MAX: usize = 27;

/// The width the session column would like before it wraps.
const SESSION_COLUMN_WANT: usize = 19;

/// Borders and padding of the three-column servers table.
const SERVERS_OVERHEAD: usize = 10;

/// One row per session, grouped by MX host in MX order; hosts and
/// addresses without a session get a row saying why.
fn servers_table(r: &DomainReport, paint: Paint, now: i64) -> Option<Table> {
    if r.mx.is_empty() && r.sessions.is_empty() {
        return None;
    }
    let mut t = paint.table();
    t.set_header(vec!["MX host / address", "Session", "Sender verdict"]);
    let mut shown = vec![false; r.sessions.len()];
    let mut host_width = "MX host /".len();
    let mut verdict_width = "Sender verdict".len();
    let mut session_width = "Session".len();
    let mut add = |t: &mut Table, row: Row| {
        host_width = host_width.max(row.host_width);
        verdict_width = verdict_width.max(row.verdict_width);
        session_width = session_width.max(row.session_width);
        t.add_row(row.cells);
    };
    for h in &r.mx {
        let host = for_terminal(&h.host, HOST_MAX);
        if h.addresses.is_empty() {
            let why = match &h.address_error {
                Some(e) => format!("no address: {}", for_terminal(e, TEXT_MAX)),
                None => "no address".to_string(),
            };
            add(
                &mut t,
                Row {
                    host_width: host.chars().count(),
                    session_width: 0,
                    verdict_width: 0,
                    cells: vec![
                        paint.plain(host),
                        paint.cell(why, Tone::Bad),
                        paint.plain("—"),
                    ],
                },
            );
            continue;
        }
        for a in &h.addresses {
            let found = r
                .sessions
                .iter()
                .enumerate()
                .find(|(i, s)| !shown[*i] && s.mx == h.host && s.ip == a.ip);
            let row = match found {
                Some((i, s)) => {
                    shown[i] = true;
                    session_row(s, paint, now)
                }
                None => Row {
                    host_width: host.chars().count(),
                    session_width: 0,
                    verdict_width: 0,
                    cells: vec![
                        paint.plain(format!("{host}\n{}", a.ip)),
                        paint.cell("not probed", Tone::Doubt),
                        paint.plain("—"),
                    ],
                },
            };
            add(&mut t, row);
        }
    }
    // Sessions of hosts the MX list does not name (not expected).
    for (i, s) in r.sessions.iter().enumerate() {
        if !shown[i] {
            add(&mut t, session_row(s, paint, now));
        }
    }
    // Keep host names and result words whole when they are of a usual
    // length: a name or a word cut in the middle is hard to read. The
    // widths given to comfy-table include the padding of one space a side.
    let bound = |content: usize, max: u16| {
        let w = u16::try_from(content).unwrap_or(max).min(max);
        ColumnConstraint::LowerBoundary(Width::Fixed(w.saturating_add(2)))
    };
    // The verdict column may grow past its usual bound when the session
    // column needs little room (no certificate to show).
    let host_width = host_width.min(usize::from(HOST_COLUMN_MAX));
    let room = usize::from(paint.layout.width)
        .saturating_sub(SERVERS_OVERHEAD + host_width + session_width.min(SESSION_COLUMN_WANT));
    let verdict_max = u16::try_from(room.max(VERDICT_COLUMN_MAX)).unwrap_or(u16::MAX);
    if let Some(c) = t.column_mut(0) {
        c.set_constraint(bound(host_width, HOST_COLUMN_MAX));
    }
    // The middle column takes what is left, and wraps.
    if let Some(c) = t.column_mut(2) {
        c.set_constraint(bound(verdict_width, verdict_max));
    }
    Some(t)
}

/// A row of the servers table with the widths it would like to keep.
struct Row {
    host_width: usize,
    session_width: usize,
    verdict_width: usize,
    cells: Vec<Cell>,
}

fn session_row(s: &SessionOut, paint: Paint, now: i64) -> Row {
    let mx = for_terminal(&s.mx, HOST_MAX);
    let ip = s.ip.to_string();
    let host_width = mx.chars().count().max(ip.len());
    let mut session = smtp_lines(s);
    if let Some(c) = &s.certificate {
        session.extend(certificate_lines(c, now));
    }
    let dash = |v: &Option<SessionResult>| v.map_or_else(|| "—".to_string(), |x| x.to_string());
    let mut verdict = vec![
        format!("DANE: {}", dash(&s.results.tlsa)),
        format!("MTA-STS: {}", dash(&s.results.sts)),
    ];
    match &s.result {
        Some(res) => {
            verdict.push(format!("result: {res}"));
            // The reason on a line of its own, unless it only repeats the
            // result type.
            if let Some(why) = s.failure_reason.as_ref().filter(|w| *w != res.as_str()) {
                verdict.push(format!("({})", for_terminal(why, 80)));
            }
        }
        None => verdict.extend(["result: —".to_string(), "(no connection)".to_string()]),
    }
    let verdict_width = verdict.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let tone = match s.result {
        Some(SessionResult::Success) => Tone::Good,
        Some(SessionResult::Inconclusive) | None => Tone::Doubt,
        Some(SessionResult::Failure(_)) => Tone::Bad,
    };
    let session_width = session.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    Row {
        host_width,
        session_width,
        verdict_width,
        cells: vec![
            paint.plain(format!("{mx}\n{ip}")),
            paint.plain(session.join("\n")),
            paint.cell(verdict.join("\n"), tone),
        ],
    }
}

/// Connect, then STARTTLS and TLS.
fn smtp_lines(s: &SessionOut) -> Vec<String> {
    let connect = match s.connect {
        Connect::Ok => "connect ok",
        Connect::Refused => "connect refused",
        Connect::Timeout => "connect timeout",
        Connect::Unreachable => "unreachable",
        Connect::Error => "connect error",
    };
    if s.untested.is_some() {
        return vec![connect.to_string(), "not tested from here".to_string()];
    }
    if s.connect != Connect::Ok {
        return vec![connect.to_string()];
    }
    let (starttls, tls) = match &s.probe.outcome {
        Outcome::ConnectFailed { .. } => ("STARTTLS —".to_string(), None),
        Outcome::Inconclusive { stage, code, .. } => (
            format!(
                "{} refused ({})",
                match stage {
                    crate::smtp::session::RefusalStage::Greeting => "greeting",
                    crate::smtp::session::RefusalStage::Ehlo => "EHLO",
                },
                code.get()
            ),
            None,
        ),
        Outcome::StarttlsNotOffered => ("STARTTLS no".to_string(), None),
        Outcome::StarttlsRefused { code, .. } => {
            (format!("STARTTLS refused ({})", code.get()), None)
        }
        Outcome::HandshakeFailed { .. } => {
            // rustls failed; senders with the legacy suite still get TLS.
            let tls = match s.probe.legacy_tls.as_ref().and_then(|l| l.accepted()) {
                Some(legacy) => format!("legacy {} only", for_terminal(&legacy.version, 12)),
                None => "TLS failed".to_string(),
            };
            ("STARTTLS yes".to_string(), Some(tls))
        }
        Outcome::PlaintextAfterStarttls { .. } => (
            "STARTTLS yes".to_string(),
            Some("plain text, no TLS".to_string()),
        ),
        Outcome::ProtocolError { stage, kind, .. } => {
            let at = match stage {
                Stage::Greeting => "greeting",
                Stage::Ehlo => "EHLO",
                Stage::Starttls => "STARTTLS",
                Stage::Handshake => "handshake",
            };
            let starttls = if s.starttls == Some(true) {
                "STARTTLS yes".to_string()
            } else {
                "STARTTLS —".to_string()
            };
            let what = if *kind == FailureKind::Timeout {
                "timed out at"
            } else {
                "broken at"
            };
            (starttls, Some(format!("{what} {at}")))
        }
        Outcome::TlsEstablished => (
            "STARTTLS yes".to_string(),
            s.tls_version.as_deref().map(|v| for_terminal(v, 20)),
        ),
    };
    let mut lines = vec![connect.to_string(), starttls];
    lines.extend(tls);
    lines
}

/// Who the certificate names, who issued it, how long it has left.
fn certificate_lines(c: &CertFacts, now: i64) -> Vec<String> {
    let subject = c
        .common_name
        .as_deref()
        .or(c.dns_names.first().map(String::as_str))
        .map_or_else(|| "(no name)".to_string(), |n| for_terminal(n, 40));
    let issuer = if c.self_issued {
        "self-signed".to_string()
    } else {
        let cn = rdn_value(&c.issuer, "CN").unwrap_or_else(|| c.issuer.clone());
        format!("issuer: {}", for_terminal(&cn, 40))
    };
    vec![
        format!("cert: {subject}"),
        issuer,
        expiry(facts::days_until_expiry(c, now)),
    ]
}

/// `expires in 30 days`, `expires today`, `expired 2 days ago`.
fn expiry(days: i64) -> String {
    match days {
        0 => "expires today".to_string(),
        d if d > 0 => format!("expires in {}", plural_i(d, "day")),
        d => format!("expired {} ago", plural_i(d.saturating_neg(), "day")),
    }
}

fn plural_i(n: i64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The first value of attribute `attr` in an RFC 4514 string (the most
/// specific RDN comes first, RFC 4514 §2.1), with `\` escapes of special
/// characters undone. Hex escapes (`\4C`) are left as written.
fn rdn_value(dn: &str, attr: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ',' | '+' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts.into_iter().find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(attr)
            .then(|| unescape(value))
    })
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&n)) if !n.is_ascii_hexdigit() => {
                out.push(n);
                chars.next();
            }
            (c, _) => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- findings

/// Advice as lines: ours may hold several (a policy to copy, one line
/// each); each is escaped for the terminal.
fn advice_lines(advice: &str) -> String {
    advice
        .split('\n')
        .take(40)
        .map(|l| for_terminal(l, TEXT_MAX))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Width of the severity column: `warning` and its padding.
const SEVERITY_COLUMN: u16 = 9;

/// Each finding that stands on its own, with what follows from it shown
/// under it (`root_cause`): their code and message, but not their advice,
/// which fixing the cause makes moot.
fn findings_table(r: &DomainReport, paint: Paint, notes: &mut Vec<String>) -> Table {
    let mut t = paint.table();
    t.set_header(vec![
        paint.plain(""),
        paint.plain("Finding (`mxtls explain CODE` tells more), what to do"),
    ]);
    // Borders (three), the severity column, padding of the text column.
    let column = paint.layout.width.saturating_sub(SEVERITY_COLUMN + 3);
    let text_width = usize::from(column.saturating_sub(2));
    for (root, following) in crate::root_cause::groups(&r.findings) {
        for i in std::iter::once(root).chain(following) {
            let f = &r.findings[i];
            let (word, tone) = match f.severity {
                _ if f.ignored => ("ignored", Tone::Plain),
                Severity::Error => ("ERROR", Tone::Bad),
                Severity::Warning => ("warning", Tone::Doubt),
                Severity::Info => ("info", Tone::Note),
            };
            let message = for_terminal(&f.message, TEXT_MAX);
            let subject = for_terminal(&f.subject, HOST_MAX);
            // The subject is shown only when the message does not name it.
            let named = subject.split(' ').all(|part| message.contains(part));
            let said = if named {
                message
            } else {
                format!("{subject}: {message}")
            };
            // The code first, on a line of its own: what to look up in
            // `mxtls explain` and docs/FINDINGS.md, and what the JSON keys on.
            let (severity_cell, text) = match &f.caused_by {
                None => (
                    paint.cell(word, tone),
                    format!("{}\n{said}\n→ {}", f.code, advice_lines(&f.advice)),
                ),
                Some(cause) => (
                    paint.plain("  ↳"),
                    format!(
                        "{} ({}), follows from {}\n{said}",
                        f.code,
                        f.severity.as_str(),
                        cause.code
                    ),
                ),
            };
            let filled = fill(&paint.text(text), text_width, notes.len() + 1);
            notes.extend(filled.notes);
            t.add_row(vec![severity_cell, paint.plain(filled.text)]);
        }
    }
    let fixed = |w: u16| ColumnConstraint::Absolute(Width::Fixed(w));
    if let Some(c) = t.column_mut(0) {
        c.set_constraint(fixed(SEVERITY_COLUMN));
    }
    if let Some(c) = t.column_mut(1) {
        c.set_constraint(fixed(column));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{MxLookup, TlsRpt};
    use crate::finding::{Code, Finding};
    use crate::mta_sts::assess::{MtaSts, StsPolicyOut, StsRecordOut};

    /// A domain whose MX lookup failed: no hosts, no sessions, one finding
    /// per severity, and a hostile string in the finding text.
    fn report(findings: Vec<Finding>) -> DomainReport {
        DomainReport {
            schema: crate::document::SCHEMA,
            domain: "example.test".into(),
            domain_unicode: None,
            dnssec_mode: DnssecMode::Validate,
            mx_lookup: MxLookup {
                status: MxStatus::Error,
                dnssec: Dnssec::Bogus,
                error: Some("bogus \x1b[31m answer".into()),
                overloaded: false,
            },
            mx: Vec::new(),
            tlsrpt: TlsRpt {
                name: "_smtp._tls.example.test".into(),
                dnssec: Dnssec::Secure,
                assessment: crate::tlsrpt::assess("example.test", &[]),
                rua_domains: Vec::new(),
                error: None,
                overloaded: false,
            },
            mta_sts: MtaSts {
                record: StsRecordOut {
                    name: "_mta-sts.example.test".into(),
                    dnssec: Dnssec::Secure,
                    cname: None,
                    assessment: crate::mta_sts::record::assess_record("example.test", &[]),
                    error: None,
                },
                policy: StsPolicyOut {
                    status: PolicyStatus::Missing,
                    url: "https://mta-sts.example.test/.well-known/mta-sts.txt".into(),
                    host: "mta-sts.example.test".into(),
                    host_dnssec: Dnssec::Secure,
                    host_cname: None,
                    addresses: Vec::new(),
                    mode: None,
                    max_age: None,
                    mx: Vec::new(),
                    reason: None,
                    reason_code: None,
                    result_type: None,
                    fetch: None,
                    certificate: None,
                    chain: Vec::new(),
                    coverage: Vec::new(),
                    planned: false,
                },
            },
            sessions: Vec::new(),
            findings,
            outlook: crate::outlook::Outlook::default(),
            headline: String::new(),
            planned: crate::preflight::Planned::default(),
            report: crate::tlsrpt::report::build(
                crate::tls_report::meta(
                    "example.test",
                    "mxtls",
                    "mxtls",
                    std::time::UNIX_EPOCH,
                    std::time::UNIX_EPOCH,
                ),
                Vec::new(),
            ),
            lookahead: None,
            compared_with: None,
            duration_ms: 0,
            timings: Default::default(),
            scanned_at: "2026-01-02T03:04:05Z".into(),
            mxtls_version: crate::document::MXTLS_VERSION,
        }
    }

    fn finding(severity: Severity, message: &str) -> Finding {
        Finding::new(severity, Code::MxNull, "example.test", message, "do this")
    }

    #[test]
    fn each_finding_shows_its_code_and_the_json_severity_word() {
        let r = report(vec![
            Finding::new(
                Severity::Info,
                Code::TlsrptMissing,
                "_smtp._tls.example.test",
                "no TLSRPT record",
                "publish one",
            ),
            Finding::new(
                Severity::Warning,
                Code::MxCname,
                "mx.example.test",
                "mx.example.test is an alias",
                "point at the host",
            ),
        ]);
        let table = findings_table(
            &r,
            Paint {
                layout: Layout::default(),
            },
            &mut Vec::new(),
        )
        .to_string();
        let rows: Vec<&str> = table.lines().collect();
        let row_of = |code: &str| {
            rows.iter()
                .find(|l| l.contains(code))
                .unwrap_or_else(|| panic!("{code} is shown:\n{table}"))
                .to_string()
        };
        // The severity word and the code share the finding's first line.
        let info = row_of("tlsrpt-missing");
        assert!(info.contains(" info "), "{info}");
        assert!(!table.contains("note"), "{table}");
        assert!(row_of("mx-cname").contains(" warning "), "{table}");
        // The subject not named by the message follows on the next line.
        assert!(
            table.contains("_smtp._tls.example.test: no TLSRPT record"),
            "{table}"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let r = report(vec![
            finding(Severity::Error, "broken"),
            finding(Severity::Warning, "weak"),
            finding(Severity::Info, "fyi"),
        ]);
        let plain = summary(&r);
        let styled = summary_styled(&r, true);
        assert!(!plain.contains('\x1b'), "summary must not colour:\n{plain}");
        assert!(
            styled.contains("\x1b["),
            "summary_styled(true) must colour:\n{styled}"
        );
        assert_eq!(
            summary_styled(&r, false),
            plain,
            "summary is summary_styled(false)"
        );
    }

    #[test]
    fn colour_width_and_ascii_follow_the_options_and_the_environment() {
        let tty = Environment {
            stdout_is_terminal: true,
            terminal_width: Some(132),
            ..Environment::default()
        };
        let with = |f: &dyn Fn(&mut Environment)| {
            let mut e = tty.clone();
            f(&mut e);
            e
        };
        let auto = |e: &Environment| Layout::decide(e, ColorChoice::Auto, false);
        assert!(auto(&tty).colour, "a terminal gets colour");
        assert_eq!(auto(&tty).width, 132, "the terminal's width");
        assert!(!auto(&tty).ascii, "no locale set is taken as UTF-8");
        for (name, env, colour) in [
            (
                "NO_COLOR=1",
                with(&|e| e.no_color = Some("1".into())),
                false,
            ),
            (
                "NO_COLOR=0",
                with(&|e| e.no_color = Some("0".into())),
                false,
            ),
            (
                "NO_COLOR empty",
                with(&|e| e.no_color = Some(String::new())),
                true,
            ),
            ("TERM=dumb", with(&|e| e.term = Some("dumb".into())), false),
            ("TERM=xterm", with(&|e| e.term = Some("xterm".into())), true),
            ("a pipe", with(&|e| e.stdout_is_terminal = false), false),
        ] {
            assert_eq!(auto(&env).colour, colour, "{name}");
        }
        let piped = with(&|e| e.stdout_is_terminal = false);
        assert!(Layout::decide(&piped, ColorChoice::Always, false).colour);
        let no_color = with(&|e| e.no_color = Some("1".into()));
        assert!(Layout::decide(&no_color, ColorChoice::Always, false).colour);
        assert!(!Layout::decide(&tty, ColorChoice::Never, false).colour);
        for (columns, want) in [
            ("100", 100),
            ("20", MIN_WIDTH),
            ("9999", MAX_WIDTH),
            ("x", 132),
        ] {
            let env = with(&|e| e.columns = Some(columns.into()));
            assert_eq!(auto(&env).width, want, "COLUMNS={columns}");
        }
        assert_eq!(auto(&Environment::default()).width, DEFAULT_WIDTH);
        for (locale, ascii) in [
            ([Some("C"), None, Some("en_US.UTF-8")], true),
            ([None, Some("POSIX"), None], true),
            ([None, None, Some("en_US.ISO-8859-1")], true),
            ([Some(""), Some("C.utf8"), None], false),
            ([None, None, Some("de_DE.UTF-8")], false),
        ] {
            let env = with(&|e| e.locale = locale.map(|l| l.map(String::from)));
            assert_eq!(auto(&env).ascii, ascii, "{locale:?}");
        }
        assert!(
            Layout::decide(&tty, ColorChoice::Auto, true).ascii,
            "--plain"
        );
    }

    #[test]
    fn ascii_layout_has_only_ascii_and_the_width_is_kept() {
        let r = report(vec![
            finding(
                Severity::Error,
                "broken at bücher.example — see RFC 7672 §3",
            ),
            finding(Severity::Warning, "weak").following(Code::MxNull, None),
        ]);
        for width in [60u16, 80, 120] {
            let layout = Layout {
                width,
                ascii: true,
                ..Layout::default()
            };
            let out = summary_with(&r, layout);
            assert!(out.is_ascii(), "{out}");
            assert!(out.contains("b\\u{fc}cher"), "{out}");
            assert!(out.contains("section"), "{out}");
            for line in out.lines() {
                assert!(
                    line.chars().count() <= usize::from(width),
                    "{width}: {line:?}"
                );
            }
        }
    }

    #[test]
    fn text_from_the_network_is_escaped_and_lines_fit_80_columns() {
        let r = report(vec![finding(
            Severity::Error,
            &format!("evil \u{202e} text {}", "long-word ".repeat(40)),
        )]);
        let out = summary(&r);
        assert!(!out.contains('\x1b'), "escape sequence passed:\n{out}");
        assert!(!out.contains('\u{202e}'), "bidi override passed:\n{out}");
        for line in out.lines() {
            assert!(line.chars().count() <= 80, "line too wide: {line:?}");
        }
    }

    #[test]
    fn the_headline_counts_findings_by_severity() {
        for (severities, want) in [
            (vec![], "example.test: no problems found"),
            (
                vec![Severity::Info],
                "example.test: no problems found, 1 info",
            ),
            (vec![Severity::Warning], "example.test: 1 warning"),
            (
                vec![Severity::Warning, Severity::Info, Severity::Info],
                "example.test: 1 warning, 2 info",
            ),
            (
                vec![Severity::Error, Severity::Error, Severity::Warning],
                "example.test: 2 errors, 1 warning",
            ),
        ] {
            let r = report(severities.iter().map(|s| finding(*s, "x")).collect());
            assert_eq!(headline(&r), want, "{severities:?}");
        }
    }

    #[test]
    fn a_bogus_mx_lookup_says_validating_senders_cannot_deliver() {
        let r = report(Vec::new());
        assert_eq!(
            crate::outlook::sentence(&r.mx_lookup, &r.mx, &r.sessions, r.mta_sts.policy.mode),
            "Senders that validate DNSSEC cannot deliver any mail: the MX records are DNSSEC-bogus."
        );
    }

    #[test]
    fn rdn_value_takes_the_first_matching_attribute_and_undoes_escapes() {
        for (dn, want) in [
            ("O=mxtls lab,CN=mxtls lab CA", Some("mxtls lab CA")),
            ("CN=R3,O=Let's Encrypt,C=US", Some("R3")),
            ("CN=a\\,b,O=x", Some("a,b")),
            ("cn=lower", Some("lower")),
            ("O=only org", None),
            ("CN=first+CN=second", Some("first")),
            ("", None),
            ("CN=trailing\\", Some("trailing\\")),
        ] {
            assert_eq!(rdn_value(dn, "CN").as_deref(), want, "{dn:?}");
        }
    }

    #[test]
    fn expiry_reads_as_days_left_or_days_ago() {
        for (days, want) in [
            (30, "expires in 30 days"),
            (1, "expires in 1 day"),
            (0, "expires today"),
            (-1, "expired 1 day ago"),
            (-400, "expired 400 days ago"),
            (i64::MIN, "expired 9223372036854775807 days ago"),
        ] {
            assert_eq!(expiry(days), want, "{days}");
        }
    }

    #[test]
    fn counts_are_pluralised() {
        for (n, want) in [(0, "0 errors"), (1, "1 error"), (2, "2 errors")] {
            assert_eq!(plural(n, "error"), want, "{n}");
        }
    }

    #[test]
    fn max_age_is_also_given_in_days_from_one_day_on() {
        for (seconds, want) in [
            (604_800, " (7 days)"),
            (86_400, " (1 day)"),
            (86_399, ""),
            (0, ""),
        ] {
            assert_eq!(in_days(seconds), want, "{seconds}");
        }
    }

    /// A real session (a connect refused on loopback), as the JSON and the
    /// summary show it. No test may provoke the no-route case itself: that
    /// needs a host without IPv6, and an off-host address would be tried
    /// elsewhere. So the second session is turned into it, as
    /// `vantage::untested` would.
    async fn refused_session(ip: std::net::IpAddr, port: u16) -> SessionOut {
        let cfg = crate::smtp::client::ProbeConfig {
            port,
            step_timeout: std::time::Duration::from_secs(2),
            ehlo_name: "mxtls.invalid".into(),
        };
        let probe = crate::smtp::client::probe(ip, Some("mx1.example.test"), &cfg).await;
        SessionOut {
            mx: "mx1.example.test".into(),
            ip,
            connect: probe.connect,
            untested: None,
            banner: None,
            starttls: None,
            tls_version: None,
            cipher: None,
            certificate: None,
            chain: Vec::new(),
            requiretls: None,
            result: None,
            results: crate::session::Results::default(),
            failure_reason: None,
            dane: None,
            webpki: None,
            probe,
            shared: false,
            tlsa_verdict: None,
            sts_verdict: None,
            opt_in_dane_verdict: None,
            unmatched_combinations: Vec::new(),
            key_variants: Vec::new(),
            superseded_matches: Vec::new(),
            sts_handshake: None,
        }
    }

    #[tokio::test]
    async fn a_session_not_tested_from_here_is_said_so_and_not_blamed_on_the_domain() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let tested = refused_session("127.0.0.1".parse().expect("ip"), port).await;
        assert_eq!(tested.connect, Connect::Refused);
        let mut untested = refused_session("127.0.0.2".parse().expect("ip"), port).await;
        untested.connect = Connect::Unreachable;
        untested.untested = Some(crate::vantage::Untested::NoIpv6Route);

        let json = serde_json::to_value(&untested).expect("serialises");
        assert_eq!(json["connect"], "unreachable", "the connect key stays");
        assert_eq!(json["untested"], "no-ipv6-route");
        assert!(
            serde_json::to_value(&tested)
                .expect("serialises")
                .get("untested")
                .is_none()
        );

        let sessions = vec![tested, untested];
        let codes: Vec<(Code, String)> = crate::classify::session_findings(&sessions, None)
            .into_iter()
            .map(|f| (f.code, f.subject))
            .collect();
        assert_eq!(
            codes,
            [(
                Code::MxConnectFailed,
                "mx1.example.test 127.0.0.1".to_string()
            )],
            "only the tested session is the domain's"
        );

        let mut r = report(Vec::new());
        r.mx_lookup.status = MxStatus::Found;
        r.mx_lookup.dnssec = Dnssec::Secure;
        r.sessions = sessions;
        // The headline is computed as `scan` does.
        let headline = |r: &DomainReport| {
            crate::outlook::sentence(&r.mx_lookup, &r.mx, &r.sessions, r.mta_sts.policy.mode)
        };
        r.headline = headline(&r);
        let text = summary(&r);
        assert!(text.contains("not tested from here"), "{text}");
        assert!(
            text.contains("No MX address tested from here accepted a connection"),
            "{text}"
        );
        r.sessions.remove(0);
        r.headline = headline(&r);
        let text = summary(&r);
        assert!(
            text.contains("Not tested from here: this host has no route"),
            "{text}"
        );
        assert!(!text.contains("senders keep the mail queued"), "{text}");
    }
}
