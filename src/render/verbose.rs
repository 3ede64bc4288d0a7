//! What `-v` adds to the summary: the DNS answers with their DNSSEC
//! status, and each session's SMTP dialogue as it went over the wire
//! (`smtp::transcript`), the way posttls-finger shows it. Plain lines, no
//! box: these are for reading and copying. Everything from the network
//! is escaped for the terminal.

use crate::dns::{Dnssec, DnssecMode};
use crate::document::DomainReport;
use crate::evidence::MxStatus;
use crate::sanitize::for_terminal;
use crate::smtp::transcript::Party;

/// Longest record shown (a TXT record may be long; the JSON has it whole).
const RECORD_MAX: usize = 300;

/// The DNS answers and the SMTP dialogues of `r`.
pub fn details(r: &DomainReport) -> String {
    let mut out = String::from("\nDNS answers (DNSSEC status in brackets)\n");
    let status = |d: Dnssec| {
        if r.dnssec_mode == DnssecMode::Off {
            "not checked"
        } else {
            d.as_str()
        }
    };
    let mut line = |name: &str, rtype: &str, d: Dnssec, data: &str| {
        out.push_str(&format!(
            "  {}. {rtype} [{}] {data}\n",
            for_terminal(name.trim_end_matches('.'), 253),
            status(d)
        ));
    };
    let mx_data = match r.mx_lookup.status {
        MxStatus::Found => {
            r.mx.iter()
                .map(|h| format!("{} {}.", h.preference, for_terminal(&h.host, 253)))
                .collect::<Vec<_>>()
                .join(", ")
        }
        MxStatus::NullMx => "0 .".to_string(),
        MxStatus::Implicit => "no MX records (the domain itself is the mail host)".to_string(),
        MxStatus::Nxdomain => "NXDOMAIN".to_string(),
        MxStatus::Error => format!(
            "no answer: {}",
            for_terminal(r.mx_lookup.error.as_deref().unwrap_or("failed"), 200)
        ),
    };
    line(&r.domain, "MX", r.mx_lookup.dnssec, &mx_data);
    for h in &r.mx {
        let addresses = if h.addresses.is_empty() {
            format!(
                "no address{}",
                h.address_error
                    .as_deref()
                    .map(|e| format!(": {}", for_terminal(e, 200)))
                    .unwrap_or_default()
            )
        } else {
            h.addresses
                .iter()
                .map(|a| a.ip.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        line(&h.host, "A/AAAA", h.address_dnssec, &addresses);
        let tlsa_name = h
            .tlsa
            .name
            .clone()
            .unwrap_or_else(|| format!("_25._tcp.{}", h.host));
        let tlsa = if h.tlsa.records.is_empty() {
            for_terminal(&h.tlsa.reason, 200)
        } else {
            h.tlsa
                .records
                .iter()
                .map(|t| for_terminal(t, RECORD_MAX))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let planned = if h.tlsa.planned { " (planned)" } else { "" };
        line(&tlsa_name, &format!("TLSA{planned}"), h.tlsa.dnssec, &tlsa);
    }
    // The record(s) as published: a lone record (valid or not) is in
    // `record`; `records` is filled only when there are several candidates.
    let txt = |records: &[String], record: Option<&String>| {
        let shown: Vec<&String> = if records.is_empty() {
            record.into_iter().collect()
        } else {
            records.iter().collect()
        };
        if shown.is_empty() {
            "no record".to_string()
        } else {
            shown
                .iter()
                .map(|t| format!("\"{}\"", for_terminal(t, RECORD_MAX)))
                .collect::<Vec<_>>()
                .join(" | ")
        }
    };
    let rec = &r.mta_sts.record;
    line(
        &rec.name,
        "TXT",
        rec.dnssec,
        &txt(&rec.assessment.records, rec.assessment.record.as_ref()),
    );
    line(
        &r.tlsrpt.name,
        "TXT",
        r.tlsrpt.dnssec,
        &txt(
            &r.tlsrpt.assessment.records,
            r.tlsrpt.assessment.record.as_ref(),
        ),
    );

    for s in &r.sessions {
        out.push_str(&format!(
            "\nSMTP dialogue with {} [{}]\n",
            for_terminal(&s.mx, 253),
            s.ip
        ));
        let t = s.probe.transcript();
        if t.lines().is_empty() {
            out.push_str("  (no connection was attempted from here)\n");
        }
        for (party, text) in t.lines() {
            let who = match party {
                Party::Client => "C:",
                Party::Server => "S:",
                Party::Event => " *",
            };
            out.push_str(&format!("  {who} {text}\n"));
        }
        if t.dropped() > 0 {
            out.push_str(&format!("  ({} more lines not shown)\n", t.dropped()));
        }
    }
    out
}
