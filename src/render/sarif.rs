//! `--format sarif`: SARIF 2.1.0 (OASIS), for code-scanning dashboards
//! such as GitHub's. One run; its rules are the whole finding catalogue
//! (`tool.driver.rules`, one per code, with the title, why it matters, the
//! fix and the RFC), its results the findings of every domain.
//!
//! SARIF was made for source files; a finding here is about a domain. Each
//! result has a logical location (the subject: a record name, a host, an
//! address, under its domain) and, because GitHub code scanning rejects
//! results without one, a physical location whose artifact is the domain
//! name as a relative URI. `partialFingerprints` are a hash of domain, code
//! and subject, so the same problem keeps its alert from run to run.
//! Findings accepted with `--ignore` carry an external suppression.

use serde_json::{Value, json};

use crate::document::DomainReport;
use crate::finding::{Code, Severity};

/// The schema URI written into the document (the OASIS errata 01 schema;
/// testdata/schema/sarif-schema-2.1.0.json is a copy of it).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// SARIF's word for a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The rule of one catalogue code.
fn rule(code: Code) -> Value {
    let e = code.entry();
    json!({
        "id": e.code,
        "shortDescription": { "text": e.title },
        "fullDescription": { "text": e.why },
        "help": {
            "text": format!("{}\n\nRule: {}\nExample: {}\n\nmxtls explain {}", e.advice, e.rfc, e.example, e.code),
            "markdown": format!("{}\n\n*Rule:* {}\n\n*Example:* {}\n\n`mxtls explain {}`", e.advice, e.rfc, e.example, e.code),
        },
        "defaultConfiguration": { "level": level(e.severity) },
        "properties": { "rfc": e.rfc, "tags": ["mail", "tls", "security"] },
    })
}

/// SHA-256 of the finding's identity, hex: what makes two runs' results
/// the same alert.
fn fingerprint(domain: &str, code: Code, subject: &str) -> String {
    let mut input = Vec::new();
    for part in [domain, code.as_str(), subject] {
        input.extend_from_slice(part.as_bytes());
        input.push(0);
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    data_encoding::HEXLOWER.encode(digest.as_ref())
}

/// The SARIF log of these domains, pretty-printed.
pub fn document(reports: &[DomainReport]) -> String {
    let mut results = Vec::new();
    for r in reports {
        for f in &r.findings {
            let index = Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0);
            let mut result = json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": format!("{}: {}\nFix: {}", r.domain, f.message, f.advice) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": r.domain } },
                    "logicalLocations": [{
                        "name": f.subject,
                        "fullyQualifiedName": format!("{}/{}", r.domain, f.subject),
                        "kind": "resource",
                    }],
                }],
                "partialFingerprints": { "mxtlsFinding/v1": fingerprint(&r.domain, f.code, &f.subject) },
                "properties": {
                    "domain": r.domain,
                    "subject": f.subject,
                    "advice": f.advice,
                    "scanned_at": r.scanned_at,
                    "mxtls_version": r.mxtls_version,
                },
            });
            if f.ignored {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "justification": format!("accepted with --ignore {}", f.code),
                }]);
            }
            results.push(result);
        }
    }
    let domains: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "domain": r.domain,
                "status": r.status().as_str(),
                "scanned_at": r.scanned_at,
            })
        })
        .collect();
    let mut invocation = json!({ "executionSuccessful": true });
    if let Some(first) = reports.iter().map(|r| r.scanned_at.as_str()).min() {
        invocation["startTimeUtc"] = json!(first);
    }
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "mxtls",
                "version": crate::document::MXTLS_VERSION,
                "semanticVersion": crate::document::MXTLS_VERSION,
                "rules": Code::ALL.iter().map(|c| rule(*c)).collect::<Vec<_>>(),
            } },
            "invocations": [invocation],
            "results": results,
            "properties": { "domains": domains },
        }],
    });
    serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_code_is_a_rule_with_its_default_level() {
        let doc: Value = serde_json::from_str(&document(&[])).expect("JSON");
        let rules = doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        assert_eq!(rules.len(), Code::ALL.len());
        for (rule, code) in rules.iter().zip(Code::ALL) {
            assert_eq!(rule["id"], code.as_str());
            assert_eq!(
                rule["defaultConfiguration"]["level"],
                level(code.entry().severity)
            );
        }
    }

    #[test]
    fn fingerprints_differ_by_domain_code_and_subject() {
        let a = fingerprint("a.test", Code::MxNull, "a.test");
        assert_eq!(a, fingerprint("a.test", Code::MxNull, "a.test"));
        assert_ne!(a, fingerprint("b.test", Code::MxNull, "a.test"));
        assert_ne!(a, fingerprint("a.test", Code::MxImplicit, "a.test"));
        assert_ne!(a, fingerprint("a.test", Code::MxNull, "b.test"));
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(
            fingerprint("ab", Code::MxNull, "c"),
            fingerprint("a", Code::MxNull, "bc")
        );
    }
}
