//! The `mxtls/1` JSON documents.

use crate::document::{DomainReport, RejectedInput};

/// One domain as a compact JSON line (`--jsonl`), appended to `buf`.
pub fn write_line(report: &DomainReport, buf: &mut Vec<u8>) {
    let start = buf.len();
    if let Err(e) = serde_json::to_writer(&mut *buf, report) {
        buf.truncate(start);
        buf.extend_from_slice(format!("{{\"error\":\"cannot serialise: {e}\"}}").as_bytes());
    }
    buf.push(b'\n');
}

/// An input that is not a domain name, as a compact JSON line.
pub fn rejected_line(input: &RejectedInput) -> String {
    serde_json::to_string(input)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}

/// The `--json` document: the object for one domain, an array for several
/// (the domains in input order, then the inputs that were not domains).
pub fn document(reports: &[DomainReport], rejected: &[RejectedInput]) -> String {
    let out = match (reports, rejected) {
        ([one], []) => serde_json::to_string_pretty(one),
        (many, []) => serde_json::to_string_pretty(many),
        (many, rejected) => {
            let mut values: Vec<serde_json::Value> =
                Vec::with_capacity(many.len() + rejected.len());
            for r in many {
                values.push(serde_json::to_value(r).unwrap_or_default());
            }
            for r in rejected {
                values.push(serde_json::to_value(r).unwrap_or_default());
            }
            serde_json::to_string_pretty(&values)
        }
    };
    out.unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}
