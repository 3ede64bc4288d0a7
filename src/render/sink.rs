//! Where finished domains go: one sink per output format, chosen once from
//! the configuration (`--format`), so that the scanning loop does not know
//! about formats and a new format is one more sink.

use std::io::{self, Write};

use super::{json, table};
use crate::document::DomainReport;

/// The output formats of `mxtls check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The human summary: tables, findings with advice.
    Table,
    /// One JSON document: the object for one domain, an array for several.
    Json,
    /// One JSON object per domain per line, written as each scan ends.
    Jsonl,
}

/// Receives each finished domain, then the end of the run.
pub trait Sink {
    /// Domain number `index` (input order) has finished.
    fn domain(&mut self, index: usize, report: DomainReport) -> io::Result<()>;
    /// Every domain has finished (or the run stops): write what is held.
    fn finish(&mut self) -> io::Result<()>;
}

/// The sink for `format`, writing to `out`. `total` is the number of
/// domains (`usize::MAX` when unknown: read from standard input); `colour`
/// applies to the table.
pub fn for_format<'a, W: Write + 'a>(
    format: Format,
    total: usize,
    colour: bool,
    out: W,
) -> Box<dyn Sink + 'a> {
    match format {
        Format::Table => Box::new(TableSink { out, colour, total }),
        Format::Json => Box::new(JsonSink {
            out,
            reports: Vec::new(),
        }),
        Format::Jsonl => Box::new(JsonlSink { out }),
    }
}

/// Summaries, printed as each domain ends: a batch is read as it goes.
struct TableSink<W> {
    out: W,
    colour: bool,
    total: usize,
}

impl<W: Write> Sink for TableSink<W> {
    fn domain(&mut self, _index: usize, report: DomainReport) -> io::Result<()> {
        let text = table::summary_styled(&report, self.colour);
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

/// One document at the end, in input order: it holds every report until
/// then, so memory grows with the list (`--jsonl` does not).
struct JsonSink<W> {
    out: W,
    reports: Vec<Option<DomainReport>>,
}

impl<W: Write> Sink for JsonSink<W> {
    fn domain(&mut self, index: usize, report: DomainReport) -> io::Result<()> {
        if self.reports.len() <= index {
            self.reports.resize_with(index + 1, || None);
        }
        self.reports[index] = Some(report);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let kept: Vec<DomainReport> = self.reports.drain(..).flatten().collect();
        writeln!(self.out, "{}", json::document(&kept))?;
        self.out.flush()
    }
}

/// A line per domain, flushed at once: a reader sees each as it ends.
struct JsonlSink<W> {
    out: W,
}

impl<W: Write> Sink for JsonlSink<W> {
    fn domain(&mut self, _index: usize, report: DomainReport) -> io::Result<()> {
        writeln!(self.out, "{}", json::line(&report))?;
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
