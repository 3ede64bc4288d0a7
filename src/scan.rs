//! Orchestration: one domain from discovery to findings, and many domains
//! at once with bounded concurrency.

use std::time::{Duration, Instant, SystemTime};

use futures_util::stream::{Stream, StreamExt};
use hickory_proto::rr::Name;

use crate::classify;
use crate::discover;
use crate::dns::{Dns, Dnssec};
use crate::document::{DomainReport, SCHEMA};
use crate::evidence::{Discovery, MxLookup, MxStatus, TlsRpt};
use crate::finding::{Code, Finding, Severity};
use crate::lookahead::{self, Clock};
use crate::mta_sts::assess;
use crate::mta_sts::gather::{self, StsConfig, StsEvidence};
use crate::outlook;
use crate::preflight::Preflight;
use crate::probe::{self, AppliedSts, ProbeSettings};
use crate::rollover;
use crate::timeline::{TimedDns, Timeline};
use crate::tls_report;
use crate::tlsrpt;
use std::sync::Arc;

/// A domain name as given by the user, checked and turned into A-labels.
#[derive(Debug, Clone)]
pub struct Domain {
    pub name: Name,
    pub ascii: String,
    pub unicode: Option<String>,
}

/// Why a domain argument cannot be scanned.
#[derive(Debug, thiserror::Error)]
#[error("\"{input}\" is not a domain name: {reason}")]
pub struct DomainError {
    pub input: String,
    pub reason: String,
}

impl Domain {
    /// Accepts `example.com`, `example.com.`, and U-labels (`bücher.example`).
    pub fn parse(input: &str) -> Result<Domain, DomainError> {
        let err = |reason: &str| DomainError {
            input: crate::sanitize::for_terminal(input, 80),
            reason: reason.to_string(),
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        if text.contains('@') {
            return Err(err("it looks like a mail address; give the part after '@'"));
        }
        if text.contains("://") || text.contains('/') {
            return Err(err("it looks like a URL; give the host name only"));
        }
        if text.parse::<std::net::IpAddr>().is_ok() {
            return Err(err("it is an IP address; mail domains are names"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("it contains spaces or control characters"));
        }
        let fqdn = if text.ends_with('.') {
            text.to_string()
        } else {
            format!("{text}.")
        };
        let name = Name::from_utf8(&fqdn).map_err(|e| err(&e.to_string()))?;
        if name.is_root() {
            return Err(err("the root is not a mail domain"));
        }
        if name.len() > 253 {
            return Err(err("it is longer than 253 characters"));
        }
        let ascii = crate::dns::display_name(&name);
        let unicode = name.to_utf8().trim_end_matches('.').to_string();
        Ok(Domain {
            name,
            unicode: (unicode != ascii).then_some(unicode),
            ascii,
        })
    }
}

/// What the user requires beyond what the RFCs do (`--require-*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Requirements {
    pub dane: bool,
    pub sts: bool,
}

/// Steps of --timeout allowed for the DNS lookups of discovery (with their
/// retries); the policy fetch that follows the MTA-STS lookups gets its
/// whole --policy-timeout on top (RFC 8461 §3.3 suggests a minute).
const DISCOVERY_DNS_STEPS: u32 = 5;
/// Steps of --timeout allowed for the sessions after discovery (each
/// bounded by `smtp::client::SESSION_STEPS` steps; they run concurrently).
const SESSION_BUDGET_STEPS: u32 = 10;

/// The bounds of one domain: discovery (DNS, then the policy fetch) and the
/// whole domain (discovery, then the sessions). `--help` documents them as
/// 5 × --timeout + --policy-timeout and 15 × --timeout + --policy-timeout.
fn deadlines(step: Duration, policy_timeout: Duration) -> (Duration, Duration) {
    let discovery = step
        .saturating_mul(DISCOVERY_DNS_STEPS)
        .saturating_add(policy_timeout);
    let domain = discovery.saturating_add(step.saturating_mul(SESSION_BUDGET_STEPS));
    (discovery, domain)
}

/// Scans domains with one shared resolver.
#[derive(Clone)]
pub struct Scanner {
    dns: Dns,
    preflight: Arc<Preflight>,
    report_org: String,
    report_contact: String,
    probe: ProbeSettings,
    requirements: Requirements,
    sts: StsConfig,
    /// Bound on the DNS and policy work of one domain.
    discovery_deadline: Duration,
    /// Bound on one whole domain, whatever its servers do.
    domain_deadline: Duration,
    /// When dates are judged and how far ahead to warn.
    clock: Clock,
}

impl Scanner {
    pub fn new(dns: Dns, sts: StsConfig, probe: ProbeSettings, step: Duration) -> Scanner {
        let (discovery_deadline, domain_deadline) = deadlines(step, sts.fetch.timeout);
        Scanner {
            dns,
            preflight: Arc::new(Preflight::default()),
            report_org: "mxtls".to_string(),
            report_contact: "mxtls synthetic report".to_string(),
            probe,
            requirements: Requirements::default(),
            sts,
            discovery_deadline,
            domain_deadline,
            clock: Clock::default(),
        }
    }

    /// Judges dates as of `clock.at` and warns `clock.warn_days` ahead.
    pub fn with_clock(mut self, clock: Clock) -> Scanner {
        self.clock = clock;
        self
    }

    /// Judges planned data instead of what is published (pre-flight).
    pub fn with_preflight(mut self, preflight: Preflight) -> Scanner {
        self.preflight = Arc::new(preflight);
        self
    }

    /// Sets the report's organization-name and contact-info.
    pub fn with_report_metadata(mut self, org: &str, contact: &str) -> Scanner {
        self.report_org = org.to_string();
        self.report_contact = contact.to_string();
        self
    }

    pub fn with_requirements(mut self, requirements: Requirements) -> Scanner {
        self.requirements = requirements;
        self
    }

    pub fn dns(&self) -> &Dns {
        &self.dns
    }

    /// Scans one domain. Never fails: what went wrong is in the report.
    ///
    /// Sessions start as soon as an MX host's addresses are known (when its
    /// SNI cannot depend on the TLSA lookup), beside the TLSA, TLSRPT and
    /// MTA-STS work; they are judged once all of it is in.
    pub async fn scan(&self, domain: &Domain) -> DomainReport {
        let timeline = Timeline::new();
        let (announce, announced) = tokio::sync::mpsc::unbounded_channel();
        let on_addresses = |host: &str, ips: &[std::net::IpAddr]| {
            for ip in ips {
                // The receiver lives as long as the scan.
                let _ = announce.send((host.to_string(), *ip));
            }
        };
        let scan = self.scan_timed(domain, &timeline, &on_addresses);
        let early = probe::early_sessions(&self.probe, &domain.ascii, announced);
        // `early_sessions` never ends: the scan's end drops the sessions
        // it no longer waits for (a domain cut off by its bound).
        tokio::select! {
            biased;
            mut report = scan => {
                report.timings = timeline.finish();
                report
            }
            never = early => match never {},
        }
    }

    async fn scan_timed(
        &self,
        domain: &Domain,
        timeline: &Timeline,
        on_addresses: discover::OnAddresses<'_>,
    ) -> DomainReport {
        let started = Instant::now();
        let started_at = SystemTime::now();
        crate::step::set(|| "looking up MX, TLSA, TLSRPT and MTA-STS records".into());
        // The signatures of this domain's answers, for the look-ahead.
        let (logged_dns, signature_log) = self.dns.with_signature_log();
        // The lookups the scanner's own load leaves unanswered.
        let (logged_dns, overload_log) = logged_dns.with_overload_log();
        // The chain of trust goes out with the first queries, not after
        // their answers.
        self.dns.prefetch_chain(&domain.name);
        let dns = TimedDns::new(&logged_dns, timeline);
        let work = async {
            tokio::join!(
                discover::discover(&dns, &domain.name, &self.preflight.mx, on_addresses),
                gather::gather(&dns, &domain.name, &self.sts)
            )
        };
        let (discovery, sts) = match tokio::time::timeout(self.discovery_deadline, work).await {
            Ok(both) => both,
            Err(_) => {
                let d = self.timed_out(domain);
                let reason = d.mx_lookup.error.clone().unwrap_or_default();
                (d, StsEvidence::unavailable(&domain.ascii, &reason))
            }
        };
        let mx_hosts: Option<Vec<String>> = matches!(
            discovery.mx_lookup.status,
            MxStatus::Found | MxStatus::Implicit
        )
        .then(|| discovery.mx.iter().map(|h| h.host.clone()).collect());
        let mut discovery = discovery;
        if !self.preflight.tlsa.is_empty() {
            for host in &mut discovery.mx {
                if let Some(planned) = self.preflight.tlsa_for(host) {
                    host.tlsa = planned;
                }
            }
        }
        let mut sts = assess::assess(&domain.ascii, sts, mx_hosts.as_deref(), self.sts.slow_after);
        if let Some((path, planned)) = &self.preflight.sts_policy {
            assess::apply_planned(&mut sts, planned, path, &domain.ascii, mx_hosts.as_deref());
        }
        let mut findings = classify::dns_findings(&domain.ascii, self.dns.mode(), &discovery);
        // The mode senders apply: none when no policy applies (RFC 8461 §5).
        let sts_mode = sts.policy.as_ref().map(|p| p.mode());
        let unusable = sts
            .out
            .unusable_policy()
            .map(|(t, reason)| AppliedSts::Unusable(t, reason));
        let applied = sts.policy.as_ref().map(AppliedSts::Policy).or(unusable);
        let probing = probe::probe_all(
            &domain.ascii,
            &discovery.mx,
            discovery.mx_lookup.dnssec,
            applied,
            &self.probe,
        );
        let remaining = self.domain_deadline.saturating_sub(started.elapsed());
        // The zones' DNSKEY RRsets, looked up while the sessions run: their
        // signatures end like any other (RFC 4035 §5.3.1).
        let signed_so_far = signature_log.entries();
        let dnskeys = zone_keys(&logged_dns, &signed_so_far);
        let (probed, _) = tokio::join!(
            tokio::time::timeout(remaining, probing),
            tokio::time::timeout(remaining, dnskeys)
        );
        let sessions = match probed {
            Ok((sessions, mut not_probed)) => {
                findings.append(&mut not_probed);
                sessions
            }
            Err(_) => {
                findings.push(Finding::new(
                    Severity::Warning,
                    Code::ProbeDeadline,
                    &domain.ascii,
                    format!(
                        "the STARTTLS sessions did not finish within the whole-domain bound of {} s",
                        self.domain_deadline.as_secs()
                    ),
                    "Scan again with a larger --timeout; the MX hosts answer slowly.",
                ));
                Vec::new()
            }
        };
        for s in &sessions {
            if let Some(start) = s.probe.started {
                let end = start + Duration::from_millis(s.probe.timings.total_ms);
                timeline.session(&s.mx, s.ip, start, end);
            }
        }
        findings.extend(classify::session_findings(&sessions, sts_mode));
        findings.extend(crate::vantage::findings(
            &domain.ascii,
            sessions
                .iter()
                .filter_map(|s| Some((s.mx.as_str(), s.ip, s.untested?))),
        ));
        let Discovery {
            mx_lookup,
            mx,
            mut tlsrpt,
            ..
        } = discovery;
        // A domain that accepts no mail needs no reports about its mail.
        if mx_lookup.status == MxStatus::NullMx {
            tlsrpt
                .assessment
                .findings
                .retain(|f| f.code != Code::TlsrptMissing);
        }
        findings.append(&mut tlsrpt.assessment.findings);
        findings.extend(tlsrpt_dns_findings(&tlsrpt));
        findings.extend(sts.record_findings);
        findings.extend(sts.policy_findings);
        let (lost, lost_count) = overload_log.entries();
        findings.extend(classify::overload_finding(&domain.ascii, &lost, lost_count));
        findings.extend(classify::requirement_findings(
            &domain.ascii,
            self.requirements.dane,
            self.requirements.sts,
            &mx_lookup,
            &mx,
            sts.policy.is_some(),
        ));
        let (lookahead, mut expiring) = lookahead::judge(
            &lookahead::Input {
                domain: &domain.ascii,
                sessions: &sessions,
                mx: &mx,
                policy_host: (!sts.out.policy.chain.is_empty())
                    .then_some((sts.out.policy.url.as_str(), sts.out.policy.chain.as_slice())),
                signatures: &signature_log.entries(),
            },
            &self.clock,
            crate::datetime::unix_seconds(SystemTime::now()),
        );
        findings.append(&mut expiring);
        findings.extend(rollover::dane_findings(&mx, &sessions));
        findings.extend(rollover::sts_findings(
            &domain.ascii,
            sts_mode,
            sts.policy.as_ref().map(|p| p.max_age()),
        ));
        rollover::amend_mx_cname(
            &mut findings,
            &domain.ascii,
            sts.policy.as_ref(),
            &mx,
            &sessions,
        );
        sort_findings(&mut findings);
        crate::root_cause::settle(&mut findings);
        let report = tls_report::build(
            &tls_report::ReportInput {
                domain: &domain.ascii,
                mx_lookup: &mx_lookup,
                mx: &mx,
                sessions: &sessions,
                mta_sts: &sts.out,
                sts_policy: sts.policy.as_ref(),
            },
            tls_report::meta(
                &if self.preflight.planned().any() {
                    format!("preflight.{}", domain.ascii)
                } else {
                    domain.ascii.clone()
                },
                &self.report_org,
                &self.report_contact,
                started_at,
                SystemTime::now(),
            ),
        );
        let headline = outlook::sentence(&mx_lookup, &mx, &sessions, sts_mode);
        let outlook = outlook::compute(&mx, &sessions, sts_mode);
        DomainReport {
            schema: SCHEMA,
            domain: domain.ascii.clone(),
            domain_unicode: domain.unicode.clone(),
            dnssec_mode: self.dns.mode(),
            planned: self.preflight.planned(),
            mx_lookup,
            mx,
            tlsrpt,
            mta_sts: sts.out,
            sessions,
            findings,
            outlook,
            headline,
            report,
            lookahead: Some(lookahead),
            compared_with: None,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            timings: Default::default(),
            scanned_at: crate::datetime::format_rfc3339(started_at),
            mxtls_version: crate::document::MXTLS_VERSION,
        }
    }

    fn timed_out(&self, domain: &Domain) -> Discovery {
        let error = format!(
            "the scan did not finish within the whole-domain bound of {} s",
            self.discovery_deadline.as_secs()
        );
        Discovery {
            mx_lookup: MxLookup {
                status: MxStatus::Error,
                dnssec: Dnssec::Indeterminate,
                error: Some(error.clone()),
                overloaded: false,
            },
            null_mixed: false,
            mx: Vec::new(),
            tlsrpt: TlsRpt {
                name: format!("_smtp._tls.{}", domain.ascii),
                dnssec: Dnssec::Indeterminate,
                assessment: tlsrpt::TlsRptAssessment::lookup_failed(false, Some(error.clone())),
                rua_domains: Vec::new(),
                error: Some(error),
                overloaded: false,
            },
        }
    }

    /// Scans many domains, `concurrency` at a time, yielding each report as
    /// it ends (not in input order) with the number it came with. Domains
    /// are pulled from `domains` only as scans finish, so the input is
    /// never held beyond the domains in flight. Each domain is a task of
    /// its own: the runtime's threads share the scans, and an answer wakes
    /// the thread that waits for it rather than a thread of its own. A
    /// scan dropped unfinished (an interrupt) is cancelled.
    pub fn scan_many<'a>(
        self: &'a Arc<Self>,
        domains: impl Stream<Item = (usize, Domain)> + 'a,
        concurrency: usize,
    ) -> impl Stream<Item = (usize, DomainReport)> + 'a {
        domains
            .map(move |(i, d)| {
                let scanner = Arc::clone(self);
                let scan = crate::step::inherit(async move { (i, scanner.scan(&d).await) });
                ScanTask(tokio::spawn(scan))
            })
            .buffer_unordered(concurrency.max(1))
            .filter_map(std::future::ready)
    }
}

/// A domain's scan running as a task: cancelled when dropped, and its
/// panic, if any, goes on in the caller as it would have unspawned.
struct ScanTask(tokio::task::JoinHandle<(usize, DomainReport)>);

impl std::future::Future for ScanTask {
    /// `None` only when the runtime is shutting down.
    type Output = Option<(usize, DomainReport)>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|done| match done {
                Ok(report) => Some(report),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => None,
            })
    }
}

impl Drop for ScanTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Most zones whose DNSKEY RRset one scan looks up (the domain's, the MX
/// hosts' when they live elsewhere).
const MAX_ZONES: usize = 4;

/// Looks up the DNSKEY RRset of each zone that signed an answer, so that
/// its signatures enter the log too.
async fn zone_keys(dns: &Dns, signed: &[crate::dns::rrsig::SignedLookup]) {
    let mut zones: Vec<Name> = Vec::new();
    for l in signed {
        if !zones.contains(&l.expiry.signer) && zones.len() < MAX_ZONES {
            zones.push(l.expiry.signer.clone());
        }
    }
    futures_util::future::join_all(
        zones
            .iter()
            .map(|z| dns.lookup(z, hickory_proto::rr::RecordType::DNSKEY)),
    )
    .await;
}

fn tlsrpt_dns_findings(t: &TlsRpt) -> Vec<Finding> {
    let mut out: Vec<Finding> = t
        .rua_domains
        .iter()
        .filter(|d| d.accepts_mail == Some(false))
        .map(|d| {
            Finding::new(
                Severity::Error,
                Code::TlsrptRuaNoMail,
                &t.name,
                format!(
                    "TLS reports to the mailto: address at {} cannot be delivered: {}",
                    d.domain, d.reason
                ),
                format!(
                    "Send reports to a mailbox of a domain that receives mail, or give {} an MX that accepts it.",
                    d.domain
                ),
            )
        })
        .collect();
    out.extend(match t.assessment.status {
        tlsrpt::TlsRptStatus::Bogus => vec![Finding::new(
            Severity::Error,
            Code::TlsrptDnssecBogus,
            &t.name,
            format!(
                "the TLSRPT record at {} is DNSSEC-bogus: validating senders cannot read it, so no reports will arrive",
                t.name
            ),
            format!(
                "Re-sign the zone holding {}; check with `delv {} TXT`.",
                t.name, t.name
            ),
        )],
        // Lost to the scanner's own queue: told once for the domain.
        tlsrpt::TlsRptStatus::Error if t.overloaded => Vec::new(),
        tlsrpt::TlsRptStatus::Error => vec![Finding::new(
            Severity::Warning,
            Code::TlsrptLookupFailed,
            &t.name,
            format!(
                "the TLSRPT lookup for {} failed: {}",
                t.name,
                t.error.as_deref().unwrap_or("no answer")
            ),
            "Make the zone's name servers answer TXT queries for this name, then scan again."
                .to_string(),
        )],
        _ => Vec::new(),
    });
    out
}

/// Most severe first, then by subject, so output is stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.code.cmp(&b.code))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked_and_normalised() {
        for (input, want) in [
            ("example.com", Ok("example.com")),
            ("Example.COM.", Ok("example.com")),
            ("bücher.example", Ok("xn--bcher-kva.example")),
            ("", Err("empty")),
            ("user@example.com", Err("mail address")),
            ("https://example.com/", Err("URL")),
            ("192.0.2.1", Err("IP address")),
            ("exa mple.com", Err("spaces")),
            (".", Err("root")),
        ] {
            match (Domain::parse(input), want) {
                (Ok(d), Ok(w)) => assert_eq!(d.ascii, w, "{input:?}"),
                (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{input:?}: {e}"),
                (got, w) => panic!("{input:?}: got {got:?}, want {w:?}"),
            }
        }
        let long = format!("{}.example", "a".repeat(64));
        assert!(
            Domain::parse(&long).is_err(),
            "a 64-character label is refused"
        );
    }

    #[test]
    fn the_discovery_bound_leaves_the_policy_fetch_its_whole_timeout() {
        let s = Duration::from_secs;
        for (step, policy, want_discovery, want_domain) in [
            // The defaults: 10 s steps, the minute of RFC 8461 §3.3.
            (s(10), s(60), s(110), s(210)),
            // A policy timeout shorter than a step still gets its own time.
            (s(10), s(5), s(55), s(155)),
            (s(2), s(60), s(70), s(90)),
        ] {
            let (discovery, domain) = deadlines(step, policy);
            assert_eq!(
                discovery, want_discovery,
                "step {step:?}, policy {policy:?}"
            );
            assert_eq!(domain, want_domain, "step {step:?}, policy {policy:?}");
            assert!(
                discovery >= policy + step,
                "a fetch after one DNS step fits: {discovery:?}"
            );
        }
    }

    #[test]
    fn idn_keeps_its_unicode_form() {
        let d = Domain::parse("bücher.example").expect("valid IDN");
        assert_eq!(d.unicode.as_deref(), Some("bücher.example"));
    }
}
