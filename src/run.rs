//! The `check` command: from arguments to output and exit status.

use std::io::IsTerminal;
use std::time::Duration;

use futures_util::StreamExt;

use crate::cli::CheckArgs;
use crate::dns::{self, Dns, DnsConfig};
use crate::evidence::MxStatus;
use crate::finding::Severity;
use crate::history::History;
use crate::ignore::{self, IgnoreRule};
use crate::input::{Input, Source};
use crate::interrupt::{Interrupt, Signals};
use crate::lookahead::Clock;
use crate::mta_sts::fetch::FetchConfig;
use crate::mta_sts::gather::StsConfig;
use crate::mta_sts::sender_timeouts;
use crate::pki::webpki::Roots;
use crate::politeness::Politeness;
use crate::preflight::{PlannedOwners, Preflight};
use crate::probe::{ProbeSettings, SessionCache};
use crate::render;
use crate::render::progress::{self, Progress};
use crate::render::rfc8460::{ReportTarget, TargetKind, check_writable, write as write_report};
use crate::render::sink::Format;
use crate::scan::{Requirements, Scanner};
use crate::shard::Shard;
use crate::smtp::client::ProbeConfig;
use crate::vantage::RunTally;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::Semaphore;

/// Exit statuses (DESIGN.md; README, "Exit status").
pub use crate::exit;

/// An error that stops the run before anything is scanned.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A timeout in seconds: more than 0, at most an hour.
fn valid_seconds(seconds: f64) -> bool {
    seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0
}

fn dns_config(args: &CheckArgs) -> Result<DnsConfig, UsageError> {
    if !valid_seconds(args.timeout) {
        return Err(UsageError(format!(
            "--timeout {} must be a number of seconds above 0 and at most 3600 (e.g. --timeout 10)",
            args.timeout
        )));
    }
    if !valid_seconds(args.policy_timeout) {
        return Err(UsageError(format!(
            "--policy-timeout {} must be a number of seconds above 0 and at most 3600 (e.g. --policy-timeout 60)",
            args.policy_timeout
        )));
    }
    if args.per_ip == 0 {
        return Err(UsageError("--per-ip must be at least 1".into()));
    }
    if args.concurrency == 0 {
        return Err(UsageError("--concurrency must be at least 1".into()));
    }
    if args.dns_in_flight == 0 {
        return Err(UsageError("--dns-in-flight must be at least 1".into()));
    }
    let servers = args
        .resolvers
        .iter()
        .map(|s| dns::parse_server(s).map_err(|e| UsageError(format!("--resolver: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    // A trust anchor from MXTLS_TRUST_ANCHOR is a default for validate
    // mode; it does not make another mode chosen explicitly an error.
    let trust_anchor = match &args.trust_anchor {
        Some(_) if args.dnssec != dns::DnssecMode::Validate && args.trust_anchor_from_env => None,
        Some(_) if args.dnssec != dns::DnssecMode::Validate => {
            return Err(UsageError(format!(
                "--trust-anchor is used only with --dnssec validate (not {})",
                args.dnssec.as_str()
            )));
        }
        anchor => anchor.clone(),
    };
    Ok(DnsConfig {
        mode: args.dnssec,
        servers,
        trust_anchor,
        step_timeout: Duration::from_secs_f64(args.timeout),
        in_flight: args.dns_in_flight,
    })
}

/// `--at` and `--warn-days` as the scanner's clock.
fn clock(args: &CheckArgs) -> Result<Clock, UsageError> {
    let at = match &args.at {
        Some(text) => {
            let (day, t) = Clock::parse_at(text).map_err(UsageError)?;
            if t < 0 {
                return Err(UsageError(format!(
                    "--at {day} is before 1970; give a day from 1970 on"
                )));
            }
            Some((day, t))
        }
        None => None,
    };
    if args.warn_days > 3650 {
        return Err(UsageError(format!(
            "--warn-days {} is more than 10 years; give a number of days up to 3650 (e.g. --warn-days 30)",
            args.warn_days
        )));
    }
    Ok(Clock {
        at,
        warn_days: args.warn_days,
    })
}

/// Most STARTTLS sessions in flight at once, whatever --concurrency says:
/// each holds a socket and a TLS state.
const MAX_SESSIONS: usize = 1024;

/// The EHLO name: as given (checked), else this host's FQDN, else a
/// reserved name that is at least syntactically an FQDN (RFC 5321 §4.1.4).
fn ehlo_name(given: Option<&str>) -> Result<String, UsageError> {
    let valid = |n: &str| {
        !n.is_empty()
            && n.len() <= 253
            && n.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    if let Some(n) = given {
        return if valid(n) {
            Ok(n.to_string())
        } else {
            Err(UsageError(format!(
                "--ehlo-name {n:?} is not a host name (letters, digits, hyphens and dots)"
            )))
        };
    }
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host = host.trim();
    Ok(if host.contains('.') && valid(host) {
        host.to_string()
    } else {
        "mxtls.invalid".to_string()
    })
}

/// `--debug`: tracing events of mxtls and its libraries (hickory's, and
/// rustls's through `log`) at level debug, on stderr.
pub fn init_debug_log() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .try_init();
}

/// What an interrupted run says it wrote.
fn interrupted_message(
    signal: Interrupt,
    format: Format,
    done: usize,
    report_only: bool,
) -> String {
    let what = if report_only {
        "the reports of finished domains were written; the one on standard output is incomplete"
            .to_string()
    } else {
        match format {
            Format::Jsonl | Format::Csv | Format::CsvDomains | Format::Summary => format!(
                "{done} finished domain(s) were written, each as whole lines (a whole JSON line with --jsonl); domains still running were dropped"
            ),
            Format::Json | Format::Sarif | Format::Junit | Format::Html => format!(
                "nothing was written: this format is one document written at the end ({done} domain(s) had finished); use --jsonl to keep each domain's result as it finishes"
            ),
            Format::Table => format!("the summaries of {done} finished domain(s) are above"),
        }
    };
    format!(
        "mxtls: interrupted by {}: {what}; exit status {}",
        signal.name(),
        signal.exit_status()
    )
}

/// Runs `mxtls check`; returns the exit status. Diagnostics go to stderr.
pub async fn check(args: CheckArgs) -> u8 {
    match check_inner(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mxtls: {e}");
            exit::OPERATIONAL
        }
    }
}

async fn check_inner(args: CheckArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let format = args.output_format();
    let config = dns_config(&args)?;
    let shard = args
        .shard
        .as_deref()
        .map(|s| Shard::parse(s, |v| std::env::var(v).ok()))
        .transpose()
        .map_err(UsageError)?;
    if args.domains.is_empty() && args.input.is_none() {
        return Err(Box::new(UsageError(
            "no domain to check: give one or more domains, or --input FILE (try `mxtls check example.com`)".into(),
        )));
    }
    let terminal = std::io::stderr().is_terminal();
    // Rejected inputs are told as they are read; the bar, made once the
    // total is known, takes over from there.
    let progress_slot: Arc<std::sync::OnceLock<Arc<Progress>>> = Arc::default();
    let note_slot = Arc::clone(&progress_slot);
    let note: Arc<dyn Fn(String) + Send + Sync> =
        Arc::new(move |line: String| match note_slot.get() {
            Some(p) => p.note(&line),
            None => eprintln!("{line}"),
        });
    let input = Input::start(
        Source {
            arguments: args.domains.clone(),
            file: args.input.clone(),
            shard,
        },
        note,
    )
    .map_err(UsageError)?;
    let known_total = input.total;
    let input_tally = Arc::clone(&input.tally);
    let ignores = args
        .ignore
        .iter()
        .map(|v| IgnoreRule::parse(v).map_err(|e| UsageError(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let preflight = Preflight::parse(&args.mx, &args.tlsa, args.sts_policy.as_deref())
        .map_err(|e| UsageError(e.to_string()))?;
    let mut planned_owners = PlannedOwners::new(&preflight);
    let report_target = match &args.report {
        Some(raw) => {
            let target = ReportTarget::parse(raw)
                .map_err(|e| UsageError(format!("--report: {e}")))?
                .with_directory_gzip(true);
            let stdout = matches!(target.kind(), TargetKind::Stdout);
            if stdout && (format != Format::Table || args.html.is_some()) {
                return Err(Box::new(UsageError(
                    "--report - writes the report to standard output; it cannot be combined with another --format, --json, --jsonl or --html (write the report to a file or DIR/ instead)".into(),
                )));
            }
            let several = known_total.is_none_or(|n| n > 1);
            if matches!(target.kind(), TargetKind::File(_)) && several {
                return Err(Box::new(UsageError(format!(
                    "--report {} is one file, but {} domains are scanned: give a directory (ending in /) to get one report per domain",
                    raw.to_string_lossy(),
                    known_total.map_or("several".to_string(), |n| n.to_string())
                ))));
            }
            check_writable(&target).map_err(|e| UsageError(format!("--report: {e}")))?;
            Some(target)
        }
        None => None,
    };
    let roots = match &args.ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                UsageError(format!("cannot read --ca-file {}: {e}", path.display()))
            })?;
            Roots::from_pem(&pem, args.ca_file_only).map_err(|e| {
                UsageError(format!(
                    "--ca-file {}: {e}; give a PEM file of CA certificates",
                    path.display()
                ))
            })?
        }
        None => Roots::new(Vec::new(), false).map_err(|e| UsageError(e.to_string()))?,
    };
    let ehlo_name = ehlo_name(args.ehlo_name.as_deref())?;
    let clock = clock(&args)?;
    let judge_at = clock.at.as_ref().map(|(_, t)| {
        rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(*t).unwrap_or(0),
        ))
    });
    // The history is opened before any query: a database that cannot be
    // written stops the run before it scans (exit 2). It holds the
    // published state judged today, so that each scan compares with the
    // last: planned data and other days stay out of it.
    if args.db.is_some() && (args.at.is_some() || preflight.planned().any()) {
        return Err(Box::new(UsageError(format!(
            "--db stores what is published, judged today; {} judges {}: run it without --db",
            if args.at.is_some() {
                "--at"
            } else {
                "pre-flight (--sts-policy, --tlsa, --mx)"
            },
            if args.at.is_some() {
                "another day"
            } else {
                "planned data"
            }
        ))));
    }
    let mut history = match &args.db {
        Some(path) => Some(History::open(path).map_err(|e| UsageError(e.to_string()))?),
        None => None,
    };
    // Created before scanning, so that an unwritable path fails at once.
    let html_file = match &args.html {
        Some(path) => Some(
            std::fs::File::create(path)
                .map_err(|e| UsageError(format!("cannot write --html {}: {e}", path.display())))?,
        ),
        None => None,
    };
    // The resolver check queries the network: usage errors come first.
    // The resolver check goes out with the first queries; its verdict is
    // awaited before the first report is written (and after the loop).
    let dns = Dns::new(&config).await?;
    let dns_check = dns.clone();
    let sts = StsConfig {
        fetch: FetchConfig {
            port: args.https_port,
            timeout: Duration::from_secs_f64(args.policy_timeout),
            roots: roots.store(),
            at: judge_at,
            verdicts: Default::default(),
        },
        allow_private: args.allow_private,
        slow_after: sender_timeouts::SLOW_AFTER,
    };
    let probe = ProbeSettings {
        config: ProbeConfig {
            port: args.smtp_port,
            step_timeout: config.step_timeout,
            ehlo_name,
        },
        roots: roots.clone(),
        allow_private: args.allow_private,
        require_dane: args.require_dane,
        judge_at,
        cache: SessionCache::default(),
        politeness: Politeness::new(args.per_ip),
        permits: Arc::new(Semaphore::new(
            args.concurrency.saturating_mul(4).clamp(16, MAX_SESSIONS),
        )),
    };
    let scanner = Scanner::new(dns, sts, probe, config.step_timeout)
        .with_report_metadata(&args.report_org, &args.report_contact)
        .with_preflight(preflight)
        .with_requirements(Requirements {
            dane: args.require_dane,
            sts: args.require_sts,
        })
        .with_clock(clock);
    let scanner = Arc::new(scanner);
    let single = known_total == Some(1);
    let progress = Arc::new(if single {
        Progress::hidden()
    } else {
        Progress::batch(terminal, known_total)
    });
    let _ = progress_slot.set(Arc::clone(&progress));
    let report_to_stdout = report_target
        .as_ref()
        .is_some_and(|t| matches!(t.kind(), TargetKind::Stdout));
    let options = render::sink::Options {
        total: known_total.unwrap_or(usize::MAX),
        layout: render::table::Layout {
            verbose: args.verbose,
            ..render::table::Layout::decide(
                &render::table::Environment::of_stdout(),
                args.color,
                args.plain,
            )
        },
        fail_on: args.fail_on.threshold(),
    };
    let mut sink = render::sink::for_format(format, options, std::io::stdout().lock());
    if let Some(file) = html_file {
        let html = render::sink::for_format(Format::Html, options, std::io::BufWriter::new(file));
        sink = Box::new(render::sink::Both(sink, html));
    }
    let mut batch = render::tally::Tally::default();
    let mut untested: Vec<String> = Vec::new();
    let mut done = 0usize;
    let mut worst: Option<Severity> = None;
    let mut unreachable = 0usize;
    let mut report_errors = 0usize;
    let mut tally = RunTally::default();
    let mut signals = Signals::install();
    let watcher = Arc::clone(&progress);
    let (domains, mut rejected) = input.split();
    let domains = domains.inspect(move |(i, d)| watcher.started(*i, &d.ascii));
    let mut rejected_open = true;
    // Each scan is a task; a single domain's steps reach the board this
    // task watches (`step::inherit`), and the bounded number of scans in
    // flight bounds memory.
    let results = scanner.scan_many(domains, args.concurrency);
    tokio::pin!(results);
    let mut interrupted = None;
    let mut history_errors = 0usize;
    let label = args.domains.first().cloned().unwrap_or_default();
    let board = crate::step::Board::default();
    loop {
        let next = progress::single(single && terminal, &board, &label, results.next());
        let next = tokio::select! {
            biased;
            signal = signals.next() => {
                interrupted = Some(signal);
                break;
            }
            // Drained beside the scans: the reader waits when it is full.
            input = rejected.recv(), if rejected_open => {
                match input {
                    Some(input) if !report_to_stdout => progress.suspend(|| sink.rejected(input))?,
                    Some(_) => {}
                    None => rejected_open = false,
                }
                continue;
            }
            next = next => next,
        };
        let Some((i, mut report)) = next else { break };
        if done == 0 {
            for note in dns_check.ready().await?.iter() {
                progress.note(&format!("mxtls: note: {note}"));
            }
        }
        done += 1;
        // What changed since the last stored scan, then this scan stored
        // (one transaction): before the worst severity is taken.
        if let Some(db) = history.as_mut() {
            if let Err(e) = crate::history::record(db, &mut report) {
                eprintln!("mxtls: {e}");
                history_errors += 1;
            }
        }
        ignore::apply(&ignores, &mut report);
        planned_owners.saw(report.mx.iter().map(|h| h.host.as_str()));
        worst = worst.max(report.worst());
        progress.finished(i, report.worst() == Some(Severity::Error));
        batch.add(&report);
        if report.untested() && untested.len() < 10 {
            untested.push(report.domain.clone());
        }
        tally.add_domain(
            report
                .sessions
                .iter()
                .map(|s| (s.mx.as_str(), s.ip, s.connect, s.untested)),
        );
        if report.mx_lookup.status == MxStatus::Error
            && report.mx_lookup.dnssec == dns::Dnssec::Indeterminate
        {
            unreachable += 1;
        }
        if let Some(target) = &report_target {
            match write_report(&report.report, target, &report.domain) {
                Ok(Some(path)) if !report_to_stdout => progress.note(&format!(
                    "mxtls: report for {} written to {}",
                    report.domain,
                    path.display()
                )),
                Ok(_) => {}
                Err(e) => {
                    progress.note(&format!(
                        "mxtls: cannot write the report for {}: {e}",
                        report.domain
                    ));
                    report_errors += 1;
                }
            }
        }
        // The report on standard output is the only output.
        if !report_to_stdout {
            progress.suspend(|| sink.domain(i, report))?;
        }
    }
    progress.clear();
    if let Some(signal) = interrupted {
        // Returning drops the scans still in flight; what was written
        // stays whole.
        eprintln!(
            "{}",
            interrupted_message(signal, format, done, report_to_stdout)
        );
        return Ok(signal.exit_status());
    }
    // The reader has ended (the domains are all in): what it rejected is
    // all queued.
    while let Some(input) = rejected.recv().await {
        if !report_to_stdout {
            sink.rejected(input)?;
        }
    }
    dns_check.ready().await?;
    if !report_to_stdout {
        sink.finish()?;
    }
    let total = done;
    if total == 0 {
        if input_tally.rejected.load(Ordering::Relaxed) > 0 {
            return Err(Box::new(UsageError(
                "none of the domains given is a valid domain name".into(),
            )));
        }
        if let Some(shard) = shard {
            // A small list need not reach every shard.
            eprintln!("mxtls: shard {shard} holds none of the domains given");
            return Ok(exit::PASSED);
        }
        return Err(Box::new(UsageError(
            "no domain to check: the input holds no domain names (one per line, '#' starts a comment)".into(),
        )));
    }
    for note in tally.untested_notes() {
        eprintln!("mxtls: note: {note}");
    }
    let duplicates = input_tally.duplicates.load(Ordering::Relaxed);
    if duplicates > 0 {
        eprintln!(
            "mxtls: note: {duplicates} input(s) named a domain already given and were not scanned again"
        );
    }
    if total > 1 {
        eprintln!("{}", batch.line());
    }
    if report_errors > 0 || history_errors > 0 {
        return Ok(exit::OPERATIONAL);
    }
    let rejected = input_tally.rejected.load(Ordering::Relaxed);
    if rejected > 0 {
        eprintln!(
            "mxtls: {rejected} input(s) were not domain names and were skipped (see above); exit status 2 so that the run does not pass unnoticed"
        );
        return Ok(exit::OPERATIONAL);
    }
    if let Some(message) = planned_owners.unused_message() {
        eprintln!("mxtls: {message}");
        return Ok(exit::OPERATIONAL);
    }
    if unreachable == total {
        eprintln!(
            "mxtls: no DNS answer for any domain: check that the resolver ({}) is reachable, or name one with --resolver",
            if config.servers.is_empty() {
                "from /etc/resolv.conf".to_string()
            } else {
                config
                    .servers
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        return Ok(exit::OPERATIONAL);
    }
    if let Some(diagnostic) = tally.port_blocked(args.smtp_port) {
        eprintln!("mxtls: {diagnostic}");
        return Ok(exit::OPERATIONAL);
    }
    // Findings decide first: a definite failure says more than "could not
    // tell", and stderr names the untested domains either way.
    if batch.untested > 0 {
        eprintln!(
            "mxtls: could not tell for {} domain(s) ({}{}): {} (see the findings); exit status 3 unless findings fail the run",
            batch.untested,
            untested.join(", "),
            if batch.untested > untested.len() {
                ", …"
            } else {
                ""
            },
            batch.why_untested()
        );
    }
    Ok(
        match (args.fail_on.threshold(), worst, batch.untested > 0) {
            (Some(t), Some(w), _) if w >= t => exit::FINDINGS,
            (_, _, true) => exit::UNTESTED,
            _ => exit::PASSED,
        },
    )
}
