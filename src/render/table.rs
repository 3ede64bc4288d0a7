//! The human summary: what is published, what works, what to fix.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};

use crate::finding::Severity;
use crate::model::{DomainReport, MxStatus, TlsaStatus};
use crate::mta_sts::assess::PolicyStatus;
use crate::mta_sts::record::StsRecordStatus;
use crate::sanitize::for_terminal;
use crate::tlsrpt::TlsRptStatus;

/// Width the summary is laid out for: fits a classic terminal.
const WIDTH: u16 = 80;

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH);
    t
}

/// The summary of one domain.
pub fn summary(r: &DomainReport) -> String {
    let mut out = String::new();
    let name = match &r.domain_unicode {
        Some(u) => format!("{} ({})", for_terminal(u, 100), r.domain),
        None => r.domain.clone(),
    };
    out.push_str(&format!("{name}: {}\n", verdict(r)));

    let mut dns = table();
    let mx = match r.mx_lookup.status {
        MxStatus::Found => format!("{} host(s)", r.mx.len()),
        MxStatus::NullMx => "null MX: accepts no mail".into(),
        MxStatus::Implicit => "none: the domain itself is the mail host".into(),
        MxStatus::Nxdomain => "the domain does not exist".into(),
        MxStatus::Error => format!(
            "lookup failed: {}",
            for_terminal(r.mx_lookup.error.as_deref().unwrap_or("no answer"), 200)
        ),
    };
    dns.add_row(vec![
        Cell::new("MX"),
        Cell::new(format!("{mx} (DNSSEC {})", r.mx_lookup.dnssec.as_str())),
    ]);
    let t = &r.tlsrpt;
    let rpt = match t.assessment.status {
        TlsRptStatus::Valid => {
            let rua: Vec<String> = t
                .assessment
                .record
                .iter()
                .map(|rec| for_terminal(rec, 200))
                .collect();
            format!("valid: {}", rua.join(" "))
        }
        other => {
            let reason = t.assessment.reason.as_deref().unwrap_or("");
            format!("{}: {}", status_word(other), for_terminal(reason, 200))
        }
    };
    dns.add_row(vec![
        Cell::new("TLSRPT"),
        Cell::new(format!("{rpt} (DNSSEC {})", t.dnssec.as_str())),
    ]);
    dns.add_row(vec![Cell::new("MTA-STS"), Cell::new(mta_sts(r))]);
    out.push_str(&dns.to_string());
    out.push('\n');

    if !r.mx.is_empty() {
        let mut hosts = table();
        hosts.set_header(vec![
            "Pref",
            "MX host",
            "Addresses",
            "DNSSEC",
            "DANE (TLSA)",
        ]);
        for h in &r.mx {
            let mut host = for_terminal(&h.host, 100);
            if let Some(c) = &h.cname {
                host.push_str(&format!("\n→ {}", for_terminal(c, 100)));
            }
            let addrs = if h.addresses.is_empty() {
                "none".to_string()
            } else {
                h.addresses
                    .iter()
                    .map(|a| a.ip.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let dane = match h.tlsa.status {
                TlsaStatus::Found if h.tlsa.applies => {
                    format!(
                        "applies: {} record(s), {} usable",
                        h.tlsa.records.len(),
                        h.tlsa.usable
                    )
                }
                TlsaStatus::Found => format!("{} record(s), not used", h.tlsa.records.len()),
                TlsaStatus::None => "none published".into(),
                TlsaStatus::Bogus => "BOGUS: MX unusable".into(),
                TlsaStatus::Error => "lookup failed: MX unusable".into(),
                TlsaStatus::Skipped => "not applicable".into(),
            };
            hosts.add_row(vec![
                Cell::new(h.preference),
                Cell::new(host),
                Cell::new(addrs),
                Cell::new(format!(
                    "MX {}\naddr {}",
                    h.dnssec.as_str(),
                    h.address_dnssec.as_str()
                )),
                Cell::new(dane),
            ]);
        }
        out.push_str(&hosts.to_string());
        out.push('\n');
    }

    if !r.findings.is_empty() {
        let mut f = table();
        f.set_header(vec!["", "Finding", "What to do"]);
        for finding in &r.findings {
            f.add_row(vec![
                Cell::new(severity_word(finding.severity)),
                Cell::new(format!(
                    "{}\n{}",
                    for_terminal(&finding.subject, 100),
                    for_terminal(&finding.message, 400)
                )),
                Cell::new(for_terminal(&finding.advice, 400)),
            ]);
        }
        out.push_str(&f.to_string());
        out.push('\n');
    }
    out
}

fn verdict(r: &DomainReport) -> String {
    let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
    let (e, w) = (count(Severity::Error), count(Severity::Warning));
    match (e, w) {
        (0, 0) => "no problems found".into(),
        (0, w) => format!("{w} warning(s)"),
        (e, 0) => format!("{e} error(s)"),
        (e, w) => format!("{e} error(s), {w} warning(s)"),
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "warn",
        Severity::Info => "info",
    }
}

fn status_word(s: TlsRptStatus) -> &'static str {
    match s {
        TlsRptStatus::Valid => "valid",
        TlsRptStatus::Invalid => "invalid",
        TlsRptStatus::Missing => "missing",
        TlsRptStatus::Multiple => "multiple records",
        TlsRptStatus::Bogus => "DNSSEC bogus",
        TlsRptStatus::Error => "lookup failed",
    }
}

fn mta_sts(r: &DomainReport) -> String {
    let rec = &r.mta_sts.record;
    let pol = &r.mta_sts.policy;
    let record = match rec.assessment.status {
        StsRecordStatus::Valid => format!(
            "record id={} (DNSSEC {})",
            for_terminal(rec.assessment.id.as_deref().unwrap_or(""), 40),
            rec.dnssec.as_str()
        ),
        StsRecordStatus::Missing => "no record".to_string(),
        other => format!("record {}", serde_plain(&other)),
    };
    let policy = match pol.status {
        PolicyStatus::Valid => {
            let mode = pol.mode.map(|m| m.as_str()).unwrap_or("?");
            format!(
                "policy valid: mode {mode}, max_age {}, mx {}",
                pol.max_age.unwrap_or(0),
                for_terminal(&pol.mx.join(" "), 200)
            )
        }
        PolicyStatus::Missing => "no policy".to_string(),
        other => format!(
            "policy {}: {}",
            serde_plain(&other),
            for_terminal(pol.reason.as_deref().unwrap_or(""), 200)
        ),
    };
    format!("{record}; {policy}")
}

/// A status enum as its JSON word.
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
