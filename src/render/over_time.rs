//! The summary's lines about time: the day dates were judged at (`--at`)
//! and the stored scan this one was compared with (`--db`).

use crate::document::DomainReport;

/// The instant dates were judged at, when `--at` moved it from now.
pub fn judged_unix(r: &DomainReport) -> Option<i64> {
    let l = r.lookahead.as_ref()?;
    l.at.as_ref()?;
    crate::datetime::parse_rfc3339_utc(&l.judged_at)
}

/// One sentence each, for under the headline.
pub fn notes(r: &DomainReport) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(at) = r.lookahead.as_ref().and_then(|l| l.at.as_deref()) {
        out.push(format!(
            "Judged as of {at} (--at): certificate and signature dates as they will stand that day, not today."
        ));
    }
    if let Some(c) = &r.compared_with {
        out.push(match c.changes {
            0 => format!(
                "No change since the stored scan of {} (scan {}).",
                c.scanned_at, c.scan_id
            ),
            n => format!(
                "{n} change(s) since the stored scan of {} (scan {}): see the findings below, or `mxtls diff`.",
                c.scanned_at, c.scan_id
            ),
        });
    }
    out
}
