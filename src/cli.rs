//! Command-line definitions (clap). `run.rs` turns them into the scanner's
//! configuration and the output sink once; nothing else reads these raw
//! values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::dns::DnssecMode;
use crate::render::sink::Format;
use crate::render::table::ColorChoice;

#[derive(Debug, Parser)]
#[command(
    name = "mxtls",
    version,
    about = "Audit how securely a domain receives mail: MX and DNSSEC, DANE (TLSA) and TLSRPT, checked the way a sending mail server does",
    after_help = "Examples:\n  mxtls check example.com\n  mxtls check --json example.com example.org\n  mxtls check --input domains.txt --jsonl --concurrency 200\n  mxtls explain tlsrpt-missing\n\nExit status: 0 no errors found, 1 findings at or above --fail-on, 2 bad usage or nothing could be scanned, 3 scanned but no MX address could be probed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments and environment like
    /// `Cli::try_parse`, and also records where values came from where a
    /// command-line value and an environment default are treated apart.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(std::env::args_os())?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))?;
        if let (Command::Check(args), Some(("check", sub))) =
            (&mut cli.command, matches.subcommand())
        {
            args.trust_anchor_from_env =
                sub.value_source("trust_anchor") == Some(clap::parser::ValueSource::EnvVariable);
        }
        Ok(cli)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check one or more domains.
    Check(Box<CheckArgs>),
    /// Explain a finding code: what it is about, its default severity, the
    /// RFC section behind it and how to fix it. Without a code (or with
    /// --list), list every code.
    #[command(
        after_help = "Examples:\n  mxtls explain mx-certificate-expired\n  mxtls explain --list\n\nThe same entries, as one page: docs/FINDINGS.md.\nExit status: 0 explained, 2 unknown code."
    )]
    Explain(ExplainArgs),
    /// Print a shell completion script. Example for bash:
    /// mxtls completions bash > /etc/bash_completion.d/mxtls
    Completions {
        /// The shell: bash, elvish, fish, powershell or zsh.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff). Example: mxtls man > mxtls.1; man ./mxtls.1
    Man,
    /// Past scans of a domain stored with `check --db`, one line each:
    /// time, outcome, error and warning counts.
    #[command(
        after_help = "Examples:\n  mxtls history example.com --db mxtls.db\n  mxtls history example.com --db mxtls.db --json\n\nExit status: 0 listed, 2 no such file, no stored scan, or a bad file."
    )]
    History(HistoryArgs),
    /// What changed between the two newest stored scans of a domain: MX
    /// set, TLSRPT rua, MTA-STS policy (and whether its id changed with
    /// it), server keys against TLSA, sessions newly failing or fixed.
    #[command(
        after_help = "Examples:\n  mxtls check --db mxtls.db example.com   (twice, e.g. daily from cron)\n  mxtls diff example.com --db mxtls.db\n  mxtls diff example.com --db mxtls.db --json\n\nExit status: 0 no change of severity error, 1 a change of severity error, 2 fewer than two stored scans or a bad file."
    )]
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The domain, as given to `mxtls check`.
    #[arg(value_name = "DOMAIN")]
    pub domain: String,

    /// The history file written by `mxtls check --db FILE`.
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,

    /// JSON (an array of scans, newest first) instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Most scans listed.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The domain, as given to `mxtls check`.
    #[arg(value_name = "DOMAIN")]
    pub domain: String,

    /// The history file written by `mxtls check --db FILE`.
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,

    /// JSON (schema mxtls-diff/1) instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The finding code, as in the JSON and the summary, e.g. tlsrpt-missing.
    #[arg(value_name = "CODE", conflicts_with = "list")]
    pub code: Option<String>,

    /// List every code with its default severity and title.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mxtls check example.com\n      the human summary: MX hosts, DNSSEC, TLSA, TLSRPT, findings with advice\n  mxtls check --json example.com | jq .findings\n  mxtls check --dnssec resolver --resolver 127.0.0.1 example.com\n  mxtls check --input domains.txt --jsonl --concurrency 200 > results.jsonl\n  mxtls check --input domains.txt --format summary\n  mxtls check --format sarif --ignore tlsrpt-missing example.com > mxtls.sarif\n\nExit status: 0 no errors found, 1 at least one finding at or above --fail-on\n(default error), 2 bad usage or nothing could be scanned (e.g. no resolver\nanswers), 3 scanned but could not tell: for a domain, no MX address could\nbe probed (not public, refused, unreachable, turned away) or lookups were\nlost to the scanner's own DNS queue;\n130 interrupted by Ctrl-C (143 by SIGTERM).\n\nEnvironment: every option can also be set as MXTLS_<OPTION> (e.g.\nMXTLS_RESOLVER=127.0.0.1:53, MXTLS_TRUST_ANCHOR=root.key); repeatable\noptions take a comma-separated list; a flag takes true or false. The\noption given on the command line wins. NO_COLOR, TERM=dumb, COLUMNS and\nLC_ALL/LC_CTYPE/LANG are read for the summary (see --color, --plain)."
)]
pub struct CheckArgs {
    /// Domains to check (A-labels or U-labels), e.g. example.com.
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,

    /// Read domains from FILE, one per line, '#' starts a comment; '-' reads
    /// standard input. Combines with domains given as arguments.
    /// Example: --input domains.txt
    #[arg(long, value_name = "FILE|-", env = "MXTLS_INPUT")]
    pub input: Option<PathBuf>,

    /// Output format on stdout. table: the human summary. json: one JSON
    /// document (schema mxtls/1), an object for one domain, an array for
    /// several. jsonl: one JSON object per domain per line, as each scan
    /// ends (for large batches: memory stays bounded). csv: one row per
    /// finding; csv-domains: one row per domain (RFC 4180; text that a
    /// spreadsheet would run as a formula gets a leading '). summary: one
    /// line per domain. sarif: SARIF 2.1.0 for code scanning. junit: JUnit
    /// XML for CI test reports. html: one self-contained page.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["json", "jsonl"])]
    pub format: Option<Format>,

    /// Same as --format json.
    #[arg(long, conflicts_with = "jsonl")]
    pub json: bool,

    /// Same as --format jsonl.
    #[arg(long)]
    pub jsonl: bool,

    /// DNS server to ask, IP[:PORT] (port 53 by default); repeat for
    /// fallbacks. Default: the system's resolvers from /etc/resolv.conf.
    /// Example: --resolver 127.0.0.1:5353 --resolver [::1]:53
    #[arg(
        long = "resolver",
        value_name = "IP[:PORT]",
        env = "MXTLS_RESOLVER",
        value_delimiter = ','
    )]
    pub resolvers: Vec<String>,

    /// How DNSSEC status is learned. validate: check signatures locally from
    /// the root trust anchor (IANA's built in; see --trust-anchor). resolver:
    /// trust the AD bit of the --resolver, as Postfix does; this trusts the
    /// path to that resolver too, so use it only with a validating resolver
    /// on this host or over a secured link (RFC 7672 §2.1.1). off: no DNSSEC;
    /// every answer is indeterminate and DANE cannot apply.
    #[arg(
        long,
        value_enum,
        default_value = "validate",
        value_name = "MODE",
        env = "MXTLS_DNSSEC"
    )]
    pub dnssec: DnssecMode,

    /// Replace the built-in root trust anchors with the DNSKEY or DS records
    /// for "." in FILE (zone-file lines, as in unbound's root.key). A DS is
    /// matched against the root DNSKEY RRset fetched from the resolver.
    /// Example: --trust-anchor lab-root.key
    #[arg(long, value_name = "FILE", env = "MXTLS_TRUST_ANCHOR")]
    pub trust_anchor: Option<PathBuf>,

    /// Whether `trust_anchor` came from MXTLS_TRUST_ANCHOR rather than the
    /// command line: an environment default (the README's lab recipe
    /// exports it) is ignored outside `--dnssec validate` instead of
    /// conflicting with a mode given explicitly. Set by [`Cli::parse_args`].
    #[arg(skip)]
    pub trust_anchor_from_env: bool,

    /// Seconds allowed for each network step: one DNS query with its
    /// retries, each step of an SMTP session (the MTA-STS policy fetch has
    /// --policy-timeout). The DNS lookups and the policy fetch of a domain
    /// are bounded by 5 times this plus --policy-timeout, a whole domain by
    /// 15 times this plus --policy-timeout.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10.0,
        env = "MXTLS_TIMEOUT"
    )]
    pub timeout: f64,

    /// Seconds allowed for the whole MTA-STS policy fetch: connecting (to
    /// each address of the policy host in turn), the TLS handshake, the
    /// headers and the body. The default is the minute RFC 8461 §3.3
    /// suggests. A policy that arrives but takes more than 2 s gets a
    /// warning: some senders give up sooner. Example: --policy-timeout 10
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60.0,
        env = "MXTLS_POLICY_TIMEOUT"
    )]
    pub policy_timeout: f64,

    /// Also trust the CA certificates in this PEM file (besides the Mozilla
    /// roots of webpki-roots) for the MTA-STS policy host.
    /// Example: --ca-file lab-ca.pem
    #[arg(long, value_name = "PEM", env = "MXTLS_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// Trust only the CAs of --ca-file, not the built-in roots.
    #[arg(long, requires = "ca_file", env = "MXTLS_CA_FILE_ONLY")]
    pub ca_file_only: bool,

    /// TCP port of the MX hosts' SMTP servers (25; for labs and tests).
    #[arg(long, value_name = "N", default_value_t = 25, env = "MXTLS_SMTP_PORT")]
    pub smtp_port: u16,

    /// Name sent with EHLO. Default: this host's name when it is a
    /// fully-qualified domain name, else mxtls.invalid. Some servers refuse
    /// names that do not resolve. Example: --ehlo-name scanner.example.com
    #[arg(long, value_name = "NAME", env = "MXTLS_EHLO_NAME")]
    pub ehlo_name: Option<String>,

    /// TCP port of the MTA-STS policy host (443; for labs and tests).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 443,
        env = "MXTLS_HTTPS_PORT"
    )]
    pub https_port: u16,

    /// Also connect to loopback, private, link-local and other non-public
    /// addresses. By default they are refused (with a finding), so that a
    /// hostile domain cannot turn a scanning service against its own
    /// network.
    #[arg(long, env = "MXTLS_ALLOW_PRIVATE")]
    pub allow_private: bool,

    /// Exit with status 1 when a finding is at least this severe: error
    /// (default), warning, info (any finding), or never. The same words as
    /// the findings' severities. Example for CI: --fail-on warning
    #[arg(
        long,
        value_enum,
        default_value = "error",
        value_name = "LEVEL",
        env = "MXTLS_FAIL_ON"
    )]
    pub fail_on: FailOn,

    /// Accept a known finding: it is still shown (marked ignored in the
    /// JSON) but does not count towards the severity or the exit status,
    /// and neither do the findings that follow from it (shown under it).
    /// CODE for every domain, CODE@DOMAIN for one; repeatable.
    /// Example: --ignore tlsrpt-missing --ignore mx-cname@example.com
    #[arg(
        long,
        value_name = "CODE[@DOMAIN]",
        env = "MXTLS_IGNORE",
        value_delimiter = ','
    )]
    pub ignore: Vec<String>,

    /// Also write the HTML report (as --format html) to FILE, whatever
    /// --format says. Example: --html report.html
    #[arg(long, value_name = "FILE", env = "MXTLS_HTML")]
    pub html: Option<PathBuf>,

    /// Make the absence of DANE an error: every MX must have a secure,
    /// usable TLSA RRset.
    #[arg(long, env = "MXTLS_REQUIRE_DANE")]
    pub require_dane: bool,

    /// Make the absence of a valid MTA-STS record and policy an error.
    #[arg(long, env = "MXTLS_REQUIRE_STS")]
    pub require_sts: bool,

    /// Pre-flight: judge this planned MTA-STS policy file as if it were
    /// served now, against today's MX hosts and their certificates.
    /// Example: --sts-policy new-mta-sts.txt
    #[arg(long, value_name = "FILE", env = "MXTLS_STS_POLICY")]
    pub sts_policy: Option<PathBuf>,

    /// Pre-flight: judge this planned TLSA record (presentation format,
    /// repeatable) as if published and signed for every MX host, against
    /// the certificates they serve now — "will mail still flow after the
    /// rollover?". A whole zone-file line is taken too, and then applies
    /// to the MX host its owner names (_25._tcp.<host>, TTL and class
    /// optional); a line whose host no scanned domain has as MX host
    /// fails the run (exit 2). Examples: --tlsa "3 1 1 8f3c…",
    /// --tlsa "_25._tcp.mx.example.com. 3600 IN TLSA 3 1 1 8f3c…"
    #[arg(long, value_name = "RR", env = "MXTLS_TLSA", value_delimiter = ',')]
    pub tlsa: Vec<String>,

    /// Pre-flight: judge this planned MX host (repeatable, in preference
    /// order) instead of the published MX set. Example: --mx mx2.example.com
    #[arg(
        long = "mx",
        value_name = "HOST",
        env = "MXTLS_MX",
        value_delimiter = ','
    )]
    pub mx: Vec<String>,

    /// Write the synthetic RFC 8460 TLS report: to FILE (a `.gz` name is
    /// gzipped), into DIR/ (one file per domain, named as RFC 8460 §5.1
    /// says, gzipped), or to standard output with `-` (instead of the
    /// summary). The target is checked before scanning.
    /// Example: --report reports/
    #[arg(long, value_name = "FILE|DIR/|-", env = "MXTLS_REPORT")]
    pub report: Option<std::ffi::OsString>,

    /// organization-name of the report.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "mxtls",
        env = "MXTLS_REPORT_ORG"
    )]
    pub report_org: String,

    /// contact-info of the report (a mail address or URI). Its domain also
    /// names report files (RFC 8460 §5.1).
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "mailto:postmaster@mxtls.invalid",
        env = "MXTLS_REPORT_CONTACT"
    )]
    pub report_contact: String,

    /// How many domains are scanned at once (with --input or several domains).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 32,
        env = "MXTLS_CONCURRENCY"
    )]
    pub concurrency: usize,

    /// Warn about certificates (every MX chain, the MTA-STS policy host's
    /// chain) and DNSSEC signatures (MX, addresses, TLSA, _mta-sts,
    /// _smtp._tls, DNSKEY) that expire within N days; a signature only
    /// when less than a sixth of its validity period is left (signers
    /// renew before that). Example: --warn-days 30
    #[arg(long, value_name = "N", default_value_t = crate::lookahead::DEFAULT_WARN_DAYS)]
    pub warn_days: u32,

    /// Judge certificate and signature dates as of this day (00:00 UTC)
    /// instead of now: "will this still pass after the weekend?".
    /// Example: --at 2026-12-24
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub at: Option<String>,

    /// Store every scan in this SQLite file and report what changed since
    /// the domain's last stored scan as findings (see `mxtls history` and
    /// `mxtls diff`). Created when missing. Example: --db mxtls.db
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Colour in the summary. auto: only on a terminal, and not when
    /// NO_COLOR is set (to anything but empty) or TERM is dumb. always:
    /// also into pipes and despite NO_COLOR. never: no colour.
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        env = "MXTLS_COLOR"
    )]
    pub color: ColorChoice,

    /// Draw the summary with ASCII only (no box drawing, arrows or
    /// symbols; other characters as \u{..}). Also chosen when LC_ALL,
    /// LC_CTYPE or LANG (the first one set) names no UTF-8 character set,
    /// e.g. LC_ALL=C. The summary's width is the terminal's, or COLUMNS.
    #[arg(long, env = "MXTLS_PLAIN")]
    pub plain: bool,

    /// Show what happened: after each summary, the DNS answers with their
    /// DNSSEC status and every session's SMTP dialogue (commands and
    /// replies, escaped for the terminal, capped).
    #[arg(short, long, env = "MXTLS_VERBOSE")]
    pub verbose: bool,

    /// Log what mxtls and its libraries do (tracing, level debug) on
    /// standard error.
    #[arg(long, env = "MXTLS_DEBUG")]
    pub debug: bool,

    /// Scan only the K-th of N deterministic slices of the domains (by a
    /// SHA-256 of the normalised name), so N copies split one list with
    /// nothing coordinating them. auto/N takes K from JOB_COMPLETION_INDEX
    /// + 1 (Kubernetes Indexed Jobs). Example: --shard 2/8
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// At most N connections at once to one MX address (and 100 ms between
    /// two connection starts to it), so that a batch over domains sharing a
    /// provider stays polite. A 4xx greeting, EHLO or STARTTLS answer is
    /// asked again after 1 s and 3 s; what still fails is inconclusive.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub per_ip: usize,

    /// At most N DNS queries in flight to each resolver; the others wait
    /// for a place. A lookup lost while queries were waiting is the
    /// scanner's own overload (the warning scanner-dns-overloaded), not the
    /// domain's fault. dnsmasq forwards at most 150 at once; unbound takes
    /// about 1000 per thread.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::dns::transport::MAX_IN_FLIGHT,
        env = "MXTLS_DNS_IN_FLIGHT"
    )]
    pub dns_in_flight: usize,
}

/// The severity that fails the run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Findings of severity error.
    Error,
    /// Findings of severity warning or error.
    Warning,
    /// Any finding (info, warning or error).
    Info,
    /// No finding: exit 1 never happens (exit 2 and 3 still do).
    Never,
}

impl FailOn {
    /// The least severity that fails the run; `None` for never.
    pub fn threshold(self) -> Option<crate::finding::Severity> {
        use crate::finding::Severity;
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

impl CheckArgs {
    /// The output format: `--format`, or its aliases `--json` and `--jsonl`.
    pub fn output_format(&self) -> Format {
        match (self.format, self.json, self.jsonl) {
            (Some(f), _, _) => f,
            (None, true, _) => Format::Json,
            (None, _, true) => Format::Jsonl,
            (None, false, false) => Format::Table,
        }
    }
}

/// A hint for a command line whose first word is a domain rather than a
/// command (`mxtls example.com`): the command that checks it.
pub fn subcommand_hint(error: &clap::Error, args: impl Iterator<Item = String>) -> Option<String> {
    if !matches!(
        error.kind(),
        clap::error::ErrorKind::InvalidSubcommand | clap::error::ErrorKind::UnknownArgument
    ) {
        return None;
    }
    let words: Vec<String> = args.collect();
    let first = words.iter().find(|w| !w.starts_with('-'))?;
    let looks_like_domain = first.contains('.') && !first.contains('/');
    looks_like_domain.then(|| {
        format!(
            "hint: to check a domain, run `mxtls check {}`",
            words.join(" ")
        )
    })
}
