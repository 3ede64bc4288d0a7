//! `mxtls history DOMAIN` and `mxtls diff DOMAIN`: the history file read
//! back, a table for people and JSON for programs. No network.

use std::io::Write;

use serde::Serialize;

use super::diff::{self, Change};
use super::store::{History, ScanRow};
use crate::cli::{DiffArgs, HistoryArgs};
use crate::exit;
use crate::sanitize::for_terminal;
use crate::scan::Domain;

/// The domain as stored: A-labels, no trailing dot.
fn domain(input: &str) -> Result<String, String> {
    Domain::parse(input)
        .map(|d| d.ascii)
        .map_err(|e| e.to_string())
}

/// `mxtls history`: one line per stored scan, newest first.
pub fn history(args: &HistoryArgs) -> u8 {
    let result = (|| -> Result<Vec<ScanRow>, String> {
        let name = domain(&args.domain)?;
        let db = History::open_existing(&args.db).map_err(|e| e.to_string())?;
        db.recent(&name, args.limit).map_err(|e| e.to_string())
    })();
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("mxtls: {e}");
            return exit::OPERATIONAL;
        }
    };
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &rows)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        write_history_table(&mut out, &args.domain, &rows)
    };
    if let Err(e) = written {
        eprintln!("mxtls: cannot write the history: {e}");
        return exit::OPERATIONAL;
    }
    if rows.is_empty() {
        eprintln!(
            "mxtls: no stored scan of {} in {}; store one with `mxtls check --db {} {}`",
            for_terminal(&args.domain, 80),
            args.db.display(),
            args.db.display(),
            for_terminal(&args.domain, 80)
        );
        return exit::OPERATIONAL;
    }
    exit::PASSED
}

fn write_history_table(out: &mut impl Write, shown: &str, rows: &[ScanRow]) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{:<6} {:<20} {:<8} {:>6} {:>8} {:>5}",
        "scan", "time (UTC)", "outcome", "errors", "warnings", "info"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:<6} {:<20} {:<8} {:>6} {:>8} {:>5}",
            r.id,
            for_terminal(&r.scanned_at, 20),
            for_terminal(&r.outcome, 8),
            r.errors,
            r.warnings,
            r.infos,
        )?;
    }
    writeln!(
        out,
        "{} stored scan(s) of {}, newest first",
        rows.len(),
        for_terminal(shown, 80)
    )
}

/// The JSON of `mxtls diff`.
#[derive(Serialize)]
struct DiffDocument<'a> {
    schema: &'static str,
    domain: &'a str,
    from: &'a ScanRow,
    to: &'a ScanRow,
    changes: &'a [Change],
}

/// `mxtls diff`: the newest stored scan against the one before it.
/// Exit 0 when nothing changed for the worse, 1 when a change is an error,
/// 2 when there are not two scans to compare.
pub fn diff(args: &DiffArgs) -> u8 {
    let result = (|| -> Result<_, String> {
        let name = domain(&args.domain)?;
        let db = History::open_existing(&args.db).map_err(|e| e.to_string())?;
        let scans = db
            .recent_with_documents(&name, 2)
            .map_err(|e| e.to_string())?;
        if scans.len() < 2 {
            return Err(format!(
                "{} has {} stored scan(s) of {}; a diff needs two: run `mxtls check --db {} {}` again",
                args.db.display(),
                scans.len(),
                for_terminal(&name, 80),
                args.db.display(),
                for_terminal(&name, 80)
            ));
        }
        Ok((name, scans))
    })();
    let (name, scans) = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("mxtls: {e}");
            return exit::OPERATIONAL;
        }
    };
    let (to, from) = (&scans[0], &scans[1]);
    let changes = diff::diff(&from.document, &to.document, &from.row.scanned_at);
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let doc = DiffDocument {
            schema: "mxtls-diff/1",
            domain: &name,
            from: &from.row,
            to: &to.row,
            changes: &changes,
        };
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        write_diff_table(&mut out, &name, &from.row, &to.row, &changes)
    };
    if let Err(e) = written {
        eprintln!("mxtls: cannot write the diff: {e}");
        return exit::OPERATIONAL;
    }
    if changes
        .iter()
        .any(|c| c.severity == crate::finding::Severity::Error)
    {
        exit::FINDINGS
    } else {
        exit::PASSED
    }
}

fn write_diff_table(
    out: &mut impl Write,
    name: &str,
    from: &ScanRow,
    to: &ScanRow,
    changes: &[Change],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: scan {} ({}) against scan {} ({})",
        for_terminal(name, 80),
        to.id,
        for_terminal(&to.scanned_at, 20),
        from.id,
        for_terminal(&from.scanned_at, 20)
    )?;
    if changes.is_empty() {
        return writeln!(out, "no changes");
    }
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::ASCII_MARKDOWN)
        .force_no_tty();
    table.set_header(["severity", "code", "subject", "before", "after"]);
    for c in changes {
        table.add_row([
            c.severity.as_str().to_string(),
            c.code.entry().code.to_string(),
            for_terminal(&c.subject, 72),
            for_terminal(&c.before, 40),
            for_terminal(&c.after, 40),
        ]);
    }
    writeln!(out, "{table}")?;
    for c in changes {
        writeln!(
            out,
            "- {} [{}] {}\n  fix: {}",
            c.severity.as_str(),
            c.code.entry().code,
            for_terminal(&c.message, 400),
            for_terminal(&c.advice, 400)
        )?;
    }
    Ok(())
}
