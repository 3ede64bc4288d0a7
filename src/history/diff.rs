//! What changed between two scans of one domain, read from their JSON
//! documents (`mxtls/1`), and the findings those changes call for.
//!
//! Both sides are JSON values, the stored one and the new one alike, so a
//! scan stored by an older mxtls compares with the same code; a key an old
//! document lacks reads as absent.
//!
//! The changes that break mail later rather than now are errors or
//! warnings: a policy body edited without a new record id (senders keep the
//! cached policy until max_age, RFC 8461 §3.1), a new MX key with no TLSA
//! record for it, or one matched only by a record added since the last scan
//! (senders that cached the old RRset fail for up to its TTL, RFC 7671
//! §8.1). Everything else is told as information.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::finding::{Code, Finding, Severity};

/// One change between two scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub code: Code,
    pub severity: Severity,
    /// What changed: the record, the host and address, the policy URL.
    pub subject: String,
    /// The value at the earlier scan (`-` when absent).
    pub before: String,
    /// The value now (`-` when absent).
    pub after: String,
    pub message: String,
    pub advice: String,
}

impl Change {
    pub fn finding(&self) -> Finding {
        Finding::new(
            self.severity,
            self.code,
            &self.subject,
            self.message.clone(),
            self.advice.clone(),
        )
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn at<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, k| v.get(k))
}

fn strings(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn list(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "-".to_string()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// The policy body as served, when the fetch got one.
fn policy_body(doc: &Value) -> Option<&str> {
    at(doc, &["mta_sts", "policy", "fetch", "body"]).and_then(Value::as_str)
}

/// The MX hosts of a document whose MX lookup found hosts; None otherwise
/// (a failed lookup is no change of the MX set).
fn mx_hosts(doc: &Value) -> Option<BTreeSet<String>> {
    let status = at(doc, &["mx_lookup", "status"]).and_then(Value::as_str)?;
    if !matches!(status, "found" | "implicit") {
        return None;
    }
    Some(
        doc.get("mx")?
            .as_array()?
            .iter()
            .filter_map(|h| h.get("host")?.as_str().map(str::to_string))
            .collect(),
    )
}

/// What one session showed: its key, its certificate and its verdicts.
#[derive(Debug, Clone, Default)]
struct SessionFacts {
    spki: Option<String>,
    cert: Option<String>,
    result: Option<String>,
    tlsa: Option<String>,
}

fn sessions(doc: &Value) -> BTreeMap<(String, String), SessionFacts> {
    let mut out = BTreeMap::new();
    for s in doc
        .get("sessions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = (text(s.get("mx")), text(s.get("ip")));
        let facts = SessionFacts {
            spki: at(s, &["certificate", "spki_sha256"])
                .and_then(Value::as_str)
                .map(str::to_string),
            cert: at(s, &["certificate", "sha256"])
                .and_then(Value::as_str)
                .map(str::to_string),
            result: s.get("result").and_then(Value::as_str).map(str::to_string),
            tlsa: at(s, &["results", "tlsa"])
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        out.entry(key).or_insert(facts);
    }
    out
}

/// The TLSA records of each MX host, as "usage selector matching hex".
fn tlsa_sets(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc.get("mx")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| {
            Some((
                h.get("host")?.as_str()?.to_string(),
                strings(at(h, &["tlsa", "records"]))
                    .into_iter()
                    .map(|r| r.to_ascii_lowercase())
                    .collect(),
            ))
        })
        .collect()
}

/// The records of `set` that match a leaf by its SPKI or certificate digest
/// (`3 1 1`, `3 0 1`); the others need the chain, which this does not judge.
fn matching(set: &BTreeSet<String>, facts: &SessionFacts) -> BTreeSet<String> {
    set.iter()
        .filter(|r| {
            let parts: Vec<&str> = r.split_whitespace().collect();
            match parts.as_slice() {
                ["3", "1", "1", hex] => facts.spki.as_deref() == Some(*hex),
                ["3", "0", "1", hex] => facts.cert.as_deref() == Some(*hex),
                _ => false,
            }
        })
        .cloned()
        .collect()
}

fn change(
    code: Code,
    subject: impl Into<String>,
    before: String,
    after: String,
    message: String,
    advice: impl Into<String>,
) -> Change {
    Change {
        code,
        severity: code.entry().severity,
        subject: subject.into(),
        before,
        after,
        message,
        advice: advice.into(),
    }
}

/// The changes from `before` (the last stored scan, taken at `since`) to
/// `after`, most severe first.
pub fn diff(before: &Value, after: &Value, since: &str) -> Vec<Change> {
    let mut out = Vec::new();
    let domain = text(after.get("domain"));
    let record = format!("_mta-sts.{domain}");
    let url = text(at(after, &["mta_sts", "policy", "url"]));

    // RFC 8461 §3.1: senders refetch the policy only when the id changes.
    let id_before = at(before, &["mta_sts", "record", "id"]).and_then(Value::as_str);
    let id_after = at(after, &["mta_sts", "record", "id"]).and_then(Value::as_str);
    if let (Some(b), Some(a), Some(ib), Some(ia)) =
        (policy_body(before), policy_body(after), id_before, id_after)
    {
        if b != a && ib == ia {
            out.push(change(
                Code::StsPolicyChangedSameId,
                &record,
                format!("id={ib}"),
                format!("id={ia}"),
                format!(
                    "the policy at {url} changed since the scan of {since}, but the record {record} still says id={ia}: senders that cached the old policy keep it until its max_age runs out"
                ),
                format!(
                    "Publish {record} with a new id (e.g. `v=STSv1; id={}`) so that senders fetch the new policy.",
                    new_id_hint(since)
                ),
            ));
        }
    }
    for (key, code, word) in [
        ("mode", Code::StsModeChanged, "mode"),
        ("max_age", Code::StsMaxAgeChanged, "max_age"),
    ] {
        // Only between two policies read: a fetch that failed on one side
        // is a failure of its own, not a change of the policy.
        let b = at(before, &["mta_sts", "policy", key]);
        let a = at(after, &["mta_sts", "policy", key]);
        if b.is_some() && a.is_some() && b != a {
            let (b, a) = (text(b), text(a));
            out.push(change(
                code,
                &url,
                b.clone(),
                a.clone(),
                format!("the policy's {word} changed from {b} to {a} since the scan of {since}"),
                code.entry().advice,
            ));
        }
    }
    if let (Some(b), Some(a)) = (mx_hosts(before), mx_hosts(after)) {
        if b != a {
            let added: Vec<&String> = a.difference(&b).collect();
            let removed: Vec<&String> = b.difference(&a).collect();
            out.push(change(
                Code::MxSetChanged,
                &domain,
                list(&b),
                list(&a),
                format!(
                    "the MX hosts changed since the scan of {since}: added {}, removed {}",
                    names(&added),
                    names(&removed)
                ),
                Code::MxSetChanged.entry().advice,
            ));
        }
    }
    let rua_b = strings(at(before, &["tlsrpt", "rua"]));
    let rua_a = strings(at(after, &["tlsrpt", "rua"]));
    if rua_b != rua_a {
        out.push(change(
            Code::TlsrptRuaChanged,
            format!("_smtp._tls.{domain}"),
            list(&rua_b),
            list(&rua_a),
            format!(
                "the TLSRPT rua changed since the scan of {since}: from {} to {}",
                list(&rua_b),
                list(&rua_a)
            ),
            Code::TlsrptRuaChanged.entry().advice,
        ));
    }
    let tlsa_b = tlsa_sets(before);
    let tlsa_a = tlsa_sets(after);
    let sessions_b = sessions(before);
    for ((mx, ip), now) in sessions(after) {
        let Some(then) = sessions_b.get(&(mx.clone(), ip.clone())) else {
            continue;
        };
        let subject = format!("{mx} {ip}");
        let key_changed = then.spki.is_some() && now.spki.is_some() && then.spki != now.spki;
        let set_now = tlsa_a.get(&mx).cloned().unwrap_or_default();
        if key_changed && !set_now.is_empty() {
            let set_then = tlsa_b.get(&mx).cloned().unwrap_or_default();
            let matches = matching(&set_now, &now);
            let old_matches: BTreeSet<String> = matches.intersection(&set_then).cloned().collect();
            let spki_now = now.spki.clone().unwrap_or_default();
            if now.tlsa.as_deref().is_some_and(|t| t != "success") && matches.is_empty() {
                out.push(change(
                    Code::DaneKeyChangeBreaksTlsa,
                    &subject,
                    short(then.spki.as_deref()),
                    short(now.spki.as_deref()),
                    format!(
                        "the server's key changed since the scan of {since} and no TLSA record of _25._tcp.{mx} matches the new one: DANE senders refuse {ip}"
                    ),
                    format!(
                        "Publish `_25._tcp.{mx}. IN TLSA 3 1 1 {spki_now}` (keep the old record until the old key is gone), or put the old key back."
                    ),
                ));
            } else if !matches.is_empty() && old_matches.is_empty() {
                out.push(change(
                    Code::DaneKeyChangeNewRecordOnly,
                    &subject,
                    short(then.spki.as_deref()),
                    short(now.spki.as_deref()),
                    format!(
                        "the server's key changed since the scan of {since} and only {} matches it, a record that was not published then: senders that cached the older TLSA RRset refuse {ip} until it expires",
                        list(&matches)
                    ),
                    Code::DaneKeyChangeNewRecordOnly.entry().advice,
                ));
            }
        }
        let failed = |r: &Option<String>| {
            r.as_deref()
                .is_some_and(|r| r != "success" && r != "inconclusive")
        };
        if failed(&now.result) && then.result.as_deref() == Some("success") {
            out.push(change(
                Code::SessionNewFailure,
                &subject,
                text_opt(&then.result),
                text_opt(&now.result),
                format!(
                    "the session to {subject} fails with {} and passed at the scan of {since}",
                    text_opt(&now.result)
                ),
                Code::SessionNewFailure.entry().advice,
            ));
        } else if failed(&then.result) && now.result.as_deref() == Some("success") {
            out.push(change(
                Code::SessionFixed,
                &subject,
                text_opt(&then.result),
                text_opt(&now.result),
                format!(
                    "the session to {subject} passes; it failed with {} at the scan of {since}",
                    text_opt(&then.result)
                ),
                Code::SessionFixed.entry().advice,
            ));
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.code.cmp(&b.code))
    });
    out
}

fn text_opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".to_string())
}

fn names(v: &[&String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// A digest cut for a table cell.
fn short(v: Option<&str>) -> String {
    match v {
        Some(s) if s.len() > 16 => format!("{}…", &s[..16]),
        Some(s) => s.to_string(),
        None => "-".to_string(),
    }
}

/// An id suggestion from a date-time: its digits (RFC 8461 §3.1 ids are 1
/// to 32 letters and digits).
fn new_id_hint(since: &str) -> String {
    let digits: String = since.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        "20260101T000000".to_string()
    } else {
        format!("{digits}1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(id: &str, body: &str, spki: &str, tlsa: &[&str], tlsa_result: &str) -> Value {
        json!({
            "domain": "example.com",
            "mx_lookup": {"status": "found"},
            "mx": [{"host": "mx1.example.com", "tlsa": {"records": tlsa}}],
            "tlsrpt": {"rua": ["mailto:r@example.com"]},
            "mta_sts": {
                "record": {"id": id},
                "policy": {"url": "https://mta-sts.example.com/.well-known/mta-sts.txt",
                           "mode": "enforce", "max_age": 604800,
                           "fetch": {"body": body}}
            },
            "sessions": [{"mx": "mx1.example.com", "ip": "192.0.2.1",
                          "certificate": {"spki_sha256": spki, "sha256": "c"},
                          "result": tlsa_result, "results": {"tlsa": tlsa_result}}]
        })
    }

    fn codes(changes: &[Change]) -> Vec<&'static str> {
        changes.iter().map(|c| c.code.entry().code).collect()
    }

    #[test]
    fn a_policy_edited_without_a_new_id_is_an_error() {
        let a = doc("1", "mode: enforce", "aa", &["3 1 1 aa"], "success");
        let same_id = doc("1", "mode: testing", "aa", &["3 1 1 aa"], "success");
        let new_id = doc("2", "mode: testing", "aa", &["3 1 1 aa"], "success");
        assert_eq!(
            codes(&diff(&a, &same_id, "t")),
            ["sts-policy-changed-same-id"]
        );
        assert!(diff(&a, &new_id, "t").is_empty(), "a new id is the rule");
        assert!(diff(&a, &a, "t").is_empty(), "no change, no finding");
    }

    #[test]
    fn a_key_change_is_judged_against_the_tlsa_set() {
        let before = doc("1", "p", "aa", &["3 1 1 aa"], "success");
        let broken = doc("1", "p", "bb", &["3 1 1 aa"], "dane-required");
        assert_eq!(
            codes(&diff(&before, &broken, "t")),
            ["dane-key-change-breaks-tlsa", "session-new-failure"]
        );
        let added_just_now = doc("1", "p", "bb", &["3 1 1 aa", "3 1 1 bb"], "success");
        assert_eq!(
            codes(&diff(&before, &added_just_now, "t")),
            ["dane-key-change-new-record-only"]
        );
        let prepared = doc("1", "p", "aa", &["3 1 1 aa", "3 1 1 bb"], "success");
        let rolled = doc("1", "p", "bb", &["3 1 1 aa", "3 1 1 bb"], "success");
        assert!(
            diff(&prepared, &rolled, "t").is_empty(),
            "a record published before the switch is a clean rollover"
        );
    }

    #[test]
    fn fixed_sessions_and_changed_sets_are_told() {
        let mut before = doc("1", "p", "aa", &[], "certificate-expired");
        let mut after = doc("1", "p", "aa", &[], "success");
        after["tlsrpt"]["rua"] = json!(["mailto:new@example.com"]);
        after["mx"] = json!([{"host": "mx2.example.com"}]);
        after["mta_sts"]["policy"]["max_age"] = json!(86400);
        after["mta_sts"]["policy"]["fetch"]["body"] = json!("q");
        after["mta_sts"]["record"]["id"] = json!("2");
        before["mta_sts"]["policy"]["mode"] = json!("testing");
        assert_eq!(
            codes(&diff(&before, &after, "t")),
            // Information, by subject: the record, the domain, the policy
            // URL, the session.
            [
                "tlsrpt-rua-changed",
                "mx-set-changed",
                "sts-mode-changed",
                "sts-max-age-changed",
                "session-fixed"
            ]
        );
    }
}
