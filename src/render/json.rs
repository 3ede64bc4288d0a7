//! The `mxtls/1` JSON documents.

use crate::document::DomainReport;

/// One domain as a compact JSON line (`--jsonl`).
pub fn line(report: &DomainReport) -> String {
    serde_json::to_string(report)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}

/// The `--json` document: the object for one domain, an array for several.
pub fn document(reports: &[DomainReport]) -> String {
    let out = match reports {
        [one] => serde_json::to_string_pretty(one),
        many => serde_json::to_string_pretty(many),
    };
    out.unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}
