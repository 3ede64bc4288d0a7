//! History: every scan stored (`--db`), what changed since the last one
//! (`diff`), and the commands that read it back (`mxtls history`,
//! `mxtls diff`).

pub mod command;
pub mod diff;
pub mod store;

pub use store::{History, HistoryError, ScanRow, StoredScan};

use crate::document::{Compared, DomainReport};

/// Compares `report` with the domain's last stored scan (its changes become
/// findings of the report), then stores it.
pub fn record(db: &mut History, report: &mut DomainReport) -> Result<i64, HistoryError> {
    if let Some(previous) = db.last(&report.domain)? {
        let now = serde_json::to_value(&*report).map_err(|e| HistoryError::Sql {
            path: String::new(),
            detail: format!("cannot serialise the scan of {}: {e}", report.domain),
        })?;
        let changes = diff::diff(&previous.document, &now, &previous.row.scanned_at);
        report
            .findings
            .extend(changes.iter().map(diff::Change::finding));
        crate::scan::sort_findings(&mut report.findings);
        report.compared_with = Some(Compared {
            scan_id: previous.row.id,
            scanned_at: previous.row.scanned_at,
            changes: changes.len(),
        });
    }
    db.store(report)
}
