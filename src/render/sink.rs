//! Where finished domains go: one sink per output format, chosen once from
//! the configuration (`--format`), so that the scanning loop does not know
//! about formats and a new format is one more sink.

use std::io::{self, Write};

use super::{csv, html, json, junit, sarif, summary, table};
use crate::document::{DomainReport, RejectedInput};
use crate::finding::Severity;

/// The output formats of `mxtls check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The human summary: tables, findings with advice.
    Table,
    /// One JSON document: the object for one domain, an array for several.
    Json,
    /// One JSON object per domain per line, written as each scan ends.
    Jsonl,
    /// CSV, one row per finding (RFC 4180, formula-safe).
    Csv,
    /// CSV, one row per domain: status, counts, policies, codes.
    CsvDomains,
    /// One line per domain: status, counts and codes.
    Summary,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML: a test suite per domain, a test case per finding.
    Junit,
    /// One self-contained HTML page.
    Html,
}

/// Receives each finished domain, then the end of the run.
pub trait Sink {
    /// Domain number `index` (input order) has finished.
    fn domain(&mut self, index: usize, report: DomainReport) -> io::Result<()>;
    /// An input that is not a domain name: the JSON formats write it as an
    /// object of its own; the others leave it to the note on stderr.
    fn rejected(&mut self, _input: RejectedInput) -> io::Result<()> {
        Ok(())
    }
    /// Every domain has finished (or the run stops): write what is held.
    fn finish(&mut self) -> io::Result<()>;
}

/// What the sinks need to know about the run besides the format.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How many domains are scanned (`usize::MAX` when unknown: read
    /// from standard input).
    pub total: usize,
    /// How the table is drawn: width, colour, ASCII, `-v`.
    pub layout: table::Layout,
    /// `--fail-on`: the severity that fails (JUnit failures); `None`: never.
    pub fail_on: Option<Severity>,
}

/// The sink for `format`, writing to `out`.
pub fn for_format<'a, W: Write + 'a>(
    format: Format,
    options: Options,
    out: W,
) -> Box<dyn Sink + 'a> {
    let total = options.total;
    match format {
        Format::Table => Box::new(TableSink {
            out,
            layout: options.layout,
            total,
        }),
        Format::Json => document(out, |r, rejected| {
            format!("{}\n", json::document(r, rejected))
        }),
        Format::Jsonl => Box::new(LineSink {
            out,
            header: None,
            line: json::write_line,
            rejected: Some(|r| format!("{}\n", json::rejected_line(r))),
            buf: Vec::new(),
        }),
        Format::Csv => Box::new(LineSink {
            out,
            header: Some(csv::header(csv::FINDING_COLUMNS)),
            line: |r, buf| buf.extend_from_slice(csv::finding_rows(r).as_bytes()),
            rejected: None,
            buf: Vec::new(),
        }),
        Format::CsvDomains => Box::new(LineSink {
            out,
            header: Some(csv::header(csv::DOMAIN_COLUMNS)),
            line: |r, buf| buf.extend_from_slice(csv::domain_row(r).as_bytes()),
            rejected: None,
            buf: Vec::new(),
        }),
        Format::Summary => Box::new(LineSink {
            out,
            header: None,
            line: |r, buf| buf.extend_from_slice(summary::line(r).as_bytes()),
            rejected: None,
            buf: Vec::new(),
        }),
        Format::Sarif => document(out, |r, _| format!("{}\n", sarif::document(r))),
        Format::Junit => {
            let fail_on = options.fail_on;
            document(out, move |r, _| junit::document(r, fail_on))
        }
        Format::Html => document(out, |r, _| html::document(r)),
    }
}

/// Summaries, printed as each domain ends: a batch is read as it goes.
struct TableSink<W> {
    out: W,
    layout: table::Layout,
    total: usize,
}

impl<W: Write> Sink for TableSink<W> {
    fn domain(&mut self, _index: usize, report: DomainReport) -> io::Result<()> {
        let text = table::summary_with(&report, self.layout);
        // A batch separates its summaries by a blank line.
        if self.total > 1 {
            writeln!(self.out, "{text}")
        } else {
            write!(self.out, "{text}")
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A sink for a format that is one document over every domain (JSON,
/// SARIF, JUnit, HTML): the reports are held, in input order, until the
/// end, so memory grows with the list (the line formats do not).
fn document<'a, W: Write + 'a>(
    out: W,
    render: impl Fn(&[DomainReport], &[RejectedInput]) -> String + 'a,
) -> Box<dyn Sink + 'a> {
    Box::new(DocumentSink {
        out,
        reports: Vec::new(),
        rejected: Vec::new(),
        render,
    })
}

struct DocumentSink<W, F> {
    out: W,
    reports: Vec<Option<DomainReport>>,
    rejected: Vec<RejectedInput>,
    render: F,
}

impl<W: Write, F: Fn(&[DomainReport], &[RejectedInput]) -> String> Sink for DocumentSink<W, F> {
    fn domain(&mut self, index: usize, report: DomainReport) -> io::Result<()> {
        if self.reports.len() <= index {
            self.reports.resize_with(index + 1, || None);
        }
        self.reports[index] = Some(report);
        Ok(())
    }

    fn rejected(&mut self, input: RejectedInput) -> io::Result<()> {
        self.rejected.push(input);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let kept: Vec<DomainReport> = self.reports.drain(..).flatten().collect();
        self.out
            .write_all((self.render)(&kept, &self.rejected).as_bytes())?;
        self.out.flush()
    }
}

/// Lines per domain (JSON lines, CSV rows, summary lines), flushed at once:
/// a reader sees each domain as it ends. An optional header comes first.
struct LineSink<W> {
    out: W,
    header: Option<String>,
    /// Appends the domain's line(s) to the buffer.
    line: fn(&DomainReport, &mut Vec<u8>),
    rejected: Option<fn(&RejectedInput) -> String>,
    /// Reused from line to line: a batch's lines are written without
    /// allocating each anew.
    buf: Vec<u8>,
}

/// A line buffer larger than this (a hostile domain's huge report) is not
/// kept for the next line.
const LINE_BUFFER_KEPT: usize = 1 << 20;

impl<W: Write> LineSink<W> {
    fn write_header(&mut self) -> io::Result<()> {
        if let Some(h) = self.header.take() {
            self.out.write_all(h.as_bytes())?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for LineSink<W> {
    fn domain(&mut self, _index: usize, report: DomainReport) -> io::Result<()> {
        self.write_header()?;
        self.buf.clear();
        (self.line)(&report, &mut self.buf);
        self.out.write_all(&self.buf)?;
        if self.buf.capacity() > LINE_BUFFER_KEPT {
            self.buf = Vec::new();
        }
        self.out.flush()
    }

    fn rejected(&mut self, input: RejectedInput) -> io::Result<()> {
        if let Some(line) = self.rejected {
            self.out.write_all(line(&input).as_bytes())?;
            self.out.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        // A run with no domain finished still gets its CSV header.
        self.write_header()?;
        self.out.flush()
    }
}

/// Two sinks fed the same domains (`--html FILE` beside `--format`).
pub struct Both<'a>(pub Box<dyn Sink + 'a>, pub Box<dyn Sink + 'a>);

impl Sink for Both<'_> {
    fn domain(&mut self, index: usize, report: DomainReport) -> io::Result<()> {
        self.0.domain(index, report.clone())?;
        self.1.domain(index, report)
    }

    fn rejected(&mut self, input: RejectedInput) -> io::Result<()> {
        self.0.rejected(input.clone())?;
        self.1.rejected(input)
    }

    fn finish(&mut self) -> io::Result<()> {
        let first = self.0.finish();
        let second = self.1.finish();
        first.and(second)
    }
}
