//! `--format html` and `--html FILE`: one self-contained page for people
//! who do not live in a terminal (and for phones): per domain what
//! senders do (the outlook), the DNS and policies, the STARTTLS sessions,
//! and the findings with why they matter and how to fix them.
//!
//! Self-contained: inline CSS, no scripts, no images, fonts or links that
//! fetch anything; a Content-Security-Policy of `default-src 'none'` makes
//! a browser refuse any fetch should one slip in. Responsive: a viewport
//! meta, one column, tables that scroll sideways inside their box, long
//! records broken anywhere. Every text from the network (records,
//! banners, messages) goes through `markup::escape`.

use super::markup::escape;
use crate::document::{DomainReport, DomainStatus};
use crate::finding::Severity;
use crate::outlook::Delivery;

const STYLE: &str = r#"
:root { color-scheme: light dark; --bad: #b3261e; --doubt: #8a5a00; --good: #1b6e2d; --note: #3b5b8c; --line: #8884; }
* { box-sizing: border-box; }
body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 1rem; max-width: 60rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 0; overflow-wrap: anywhere; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
section.domain { border: 1px solid var(--line); border-radius: .5rem; padding: .8rem 1rem; margin: 1rem 0; }
.meta, .small { font-size: .85rem; opacity: .8; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
td, .finding p { overflow-wrap: break-word; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .3rem; font-size: .8rem; font-weight: 600; color: #fff; background: var(--note); }
.errors, .error, .refuses, .untested-d { background: var(--bad); }
.warnings, .warning, .plaintext { background: var(--doubt); }
.clean, .authenticated { background: var(--good); }
.untested, .info, .unauthenticated { background: var(--note); }
.ignored { background: #666; }
.finding { border-left: .25rem solid var(--line); padding: .1rem .8rem; margin: .6rem 0; }
.finding.sev-error { border-color: var(--bad); }
.finding.sev-warning { border-color: var(--doubt); }
.finding p { margin: .3rem 0; }
.headline { font-weight: 600; }
@media (max-width: 40rem) {
  body { padding: .5rem; font-size: 15px; }
  th, td { padding: .25rem .3rem; }
  table.stack, table.stack tbody, table.stack tr, table.stack th, table.stack td { display: block; }
  table.stack thead { display: none; }
  table.stack tr { border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.stack th, table.stack td { border: 0; padding: .1rem .3rem; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; opacity: .7; }
}
"#;

fn status_badge(s: DomainStatus) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", s.as_str())
}

fn delivery(d: Delivery) -> (&'static str, &'static str) {
    match d {
        Delivery::DeliversAuthenticated => ("delivers, authenticated", "authenticated"),
        Delivery::DeliversUnauthenticatedTls => {
            ("delivers over TLS, unauthenticated", "unauthenticated")
        }
        Delivery::DeliversPlaintext => ("delivers in plain text", "plaintext"),
        Delivery::Refuses => ("refuses: mail queues, then bounces", "refuses"),
        Delivery::Untested => ("not tested", "untested"),
    }
}

fn counts(r: &DomainReport) -> String {
    let mut parts = Vec::new();
    for (s, word) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ] {
        let n = r.count(s);
        if n > 0 {
            parts.push(if n == 1 || s == Severity::Info {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            });
        }
    }
    if r.ignored() > 0 {
        parts.push(format!("{} ignored", r.ignored()));
    }
    if parts.is_empty() {
        "no findings".to_string()
    } else {
        parts.join(", ")
    }
}

fn anchor(r: &DomainReport) -> String {
    // A-labels: letters, digits, hyphens and dots only; escaped regardless.
    format!("d-{}", escape(&r.domain))
}

fn outlook(r: &DomainReport) -> String {
    if r.outlook
        .senders
        .iter()
        .all(|s| s.outcome == Delivery::Untested)
    {
        return String::new();
    }
    let mut out = String::from(
        "<h3>What senders do</h3>\n<div class=\"scroll\"><table><thead><tr><th>sender</th><th>outcome</th></tr></thead><tbody>\n",
    );
    for s in &r.outlook.senders {
        let (words, class) = delivery(s.outcome);
        let mut cell = format!("<span class=\"badge {class}\">{words}</span>");
        if let Some(worst) = s.worst {
            let at: Vec<String> = s
                .addresses
                .iter()
                .filter(|a| a.outcome == worst)
                .map(|a| escape(&a.ip.to_string()))
                .collect();
            cell.push_str(&format!(
                " <span class=\"small\">({} at {})</span>",
                delivery(worst).0,
                at.join(", ")
            ));
        }
        out.push_str(&format!(
            "<tr><td>{}</td><td>{cell}</td></tr>\n",
            escape(s.kind.label())
        ));
    }
    out.push_str("</tbody></table></div>\n");
    out
}

fn dns(r: &DomainReport) -> String {
    let mut rows = Vec::new();
    let mx = if r.mx.is_empty() {
        escape(&super::word(&r.mx_lookup.status))
    } else {
        r.mx.iter()
            .map(|h| format!("{} {}", h.preference, escape(&h.host)))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    rows.push((
        "MX",
        super::word(&r.mx_lookup.status),
        super::word(&r.mx_lookup.dnssec),
        mx,
    ));
    for h in &r.mx {
        let detail = if h.tlsa.records.is_empty() {
            escape(&h.tlsa.reason)
        } else {
            format!(
                "{}<br>{}",
                escape(&h.tlsa.reason),
                h.tlsa
                    .records
                    .iter()
                    .map(|t| format!("<code>{}</code>", escape(t)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            )
        };
        rows.push((
            "DANE",
            if h.tlsa.applies {
                "applies".to_string()
            } else {
                super::word(&h.tlsa.status)
            },
            super::word(&h.tlsa.dnssec),
            format!("{}: {detail}", escape(&h.host)),
        ));
    }
    let p = &r.mta_sts.policy;
    let mut sts = super::word(&p.status);
    if let Some(mode) = p.mode {
        sts = format!("{sts}, {}", mode.as_str());
    }
    rows.push((
        "MTA-STS",
        sts,
        super::word(&r.mta_sts.record.dnssec),
        p.reason
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| escape(&p.url)),
    ));
    rows.push((
        "TLSRPT",
        super::word(&r.tlsrpt.assessment.status),
        super::word(&r.tlsrpt.dnssec),
        r.tlsrpt
            .assessment
            .record
            .as_deref()
            .map(|t| format!("<code>{}</code>", escape(t)))
            .unwrap_or_default(),
    ));
    let mut out = String::from(
        "<h3>DNS and policies</h3>\n<div class=\"scroll\"><table class=\"stack\"><thead><tr><th></th><th>status</th><th>DNSSEC</th><th>details</th></tr></thead><tbody>\n",
    );
    for (what, status, dnssec, detail) in rows {
        out.push_str(&format!(
            "<tr><th>{what}</th><td data-label=\"status\">{}</td><td data-label=\"DNSSEC\">{}</td><td>{detail}</td></tr>\n",
            escape(&status),
            escape(&dnssec)
        ));
    }
    out.push_str("</tbody></table></div>\n");
    out
}

fn sessions(r: &DomainReport) -> String {
    if r.sessions.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h3>Mail servers (one STARTTLS session per address)</h3>\n<div class=\"scroll\"><table class=\"stack\"><thead><tr><th>MX host / address</th><th>session</th><th>result</th></tr></thead><tbody>\n",
    );
    for s in &r.sessions {
        let session = match (&s.tls_version, &s.cipher) {
            (Some(v), Some(c)) => format!(
                "{}<br><span class=\"small\">{}</span>",
                escape(v),
                escape(c)
            ),
            (Some(v), None) => escape(v),
            _ => match &s.untested {
                Some(u) => format!("not tested: {}", escape(&super::word(u))),
                None => format!("connect: {}", escape(&super::word(&s.connect))),
            },
        };
        let mut result = s
            .result
            .map(|x| escape(x.as_str()))
            .unwrap_or_else(|| "—".to_string());
        if let Some(reason) = &s.failure_reason {
            result.push_str(&format!(
                "<br><span class=\"small\">{}</span>",
                escape(reason)
            ));
        }
        out.push_str(&format!(
            "<tr><td>{}<br><code>{}</code></td><td data-label=\"session\">{session}</td><td data-label=\"result\">{result}</td></tr>\n",
            escape(&s.mx),
            escape(&s.ip.to_string())
        ));
    }
    out.push_str("</tbody></table></div>\n");
    out
}

fn findings(r: &DomainReport) -> String {
    if r.findings.is_empty() {
        return "<h3>Findings</h3>\n<p>None.</p>\n".to_string();
    }
    let mut out = String::from("<h3>Findings, most severe first</h3>\n");
    for f in &r.findings {
        let e = f.code.entry();
        let sev = f.severity.as_str();
        let badge = if f.ignored {
            format!("<span class=\"badge ignored\">{sev}, ignored</span>")
        } else {
            format!("<span class=\"badge {sev}\">{sev}</span>")
        };
        out.push_str(&format!(
            "<div class=\"finding sev-{sev}\">\n<p>{badge} <code>{code}</code> <span class=\"small\">{subject}</span></p>\n<p>{message}</p>\n<p><strong>Fix:</strong> {advice}</p>\n<p class=\"small\">Why it matters: {why} ({rfc})</p>\n</div>\n",
            code = escape(e.code),
            subject = escape(&f.subject),
            message = escape(&f.message),
            advice = escape(&f.advice),
            why = escape(e.why),
            rfc = escape(e.rfc),
        ));
    }
    out
}

/// Which parts were judged from planned data (pre-flight), if any.
fn planned(r: &DomainReport) -> String {
    let p = r.planned;
    let parts: Vec<&str> = [
        (p.mx, "the MX set (--mx)"),
        (p.tlsa, "the TLSA records (--tlsa)"),
        (p.sts_policy, "the MTA-STS policy (--sts-policy)"),
    ]
    .into_iter()
    .filter_map(|(on, what)| on.then_some(what))
    .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "<p><span class=\"badge warning\">pre-flight</span> judged with {}, as planned, not with what is published.</p>\n",
        parts.join(", ")
    )
}

fn domain_section(r: &DomainReport) -> String {
    let name = match &r.domain_unicode {
        Some(u) => format!("{} ({})", escape(u), escape(&r.domain)),
        None => escape(&r.domain),
    };
    format!(
        "<section class=\"domain\" id=\"{id}\">\n<h2>{name} {badge}</h2>\n<p class=\"meta\">{counts} · scanned {at} · {ms} ms</p>\n<p class=\"headline\">{headline}</p>\n{planned}{outlook}{dns}{sessions}{findings}</section>\n",
        id = anchor(r),
        badge = status_badge(r.status()),
        counts = escape(&counts(r)),
        at = escape(&r.scanned_at),
        ms = r.duration_ms,
        headline = escape(&r.headline),
        planned = planned(r),
        outlook = outlook(r),
        dns = dns(r),
        sessions = sessions(r),
        findings = findings(r),
    )
}

/// The page for these domains, in the order given.
pub fn document(reports: &[DomainReport]) -> String {
    let title = match reports {
        [one] => format!("mxtls: {}", one.domain),
        many => format!("mxtls: {} domains", many.len()),
    };
    let mut body = String::new();
    if reports.len() > 1 {
        let mut tally = super::tally::Tally::default();
        body.push_str("<div class=\"scroll\"><table><thead><tr><th>domain</th><th>status</th><th>findings</th></tr></thead><tbody>\n");
        for r in reports {
            tally.add(r);
            body.push_str(&format!(
                "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td></tr>\n",
                anchor(r),
                escape(&r.domain),
                status_badge(r.status()),
                escape(&counts(r))
            ));
        }
        body.push_str("</tbody></table></div>\n");
        body = format!("<p>{}</p>\n{body}", escape(&tally.line()));
    }
    for r in reports {
        body.push_str(&domain_section(r));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<meta name=\"generator\" content=\"mxtls {version}\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p class=\"meta\">mxtls {version}. Each finding's code is explained by <code>mxtls explain CODE</code>.</p>\n{body}</body>\n</html>\n",
        version = escape(crate::document::MXTLS_VERSION),
        title = escape(&title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_page_is_self_contained() {
        let page = document(&[]);
        assert!(page.contains("name=\"viewport\""));
        assert!(page.contains("default-src 'none'"));
        for fetch in ["<script", "<link", "src=", "@import", "url("] {
            assert!(!page.contains(fetch), "{fetch} in the page");
        }
    }
}
