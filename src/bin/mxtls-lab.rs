//! Runs the mxtls lab on loopback until interrupted: a signed DNS tree (and
//! a validating resolver in front of it) playing every catalogue scenario.
//!
//!     mxtls-lab --dir /tmp/lab          # writes root.key, root.ds, lab.env
//!     mxtls-lab --list                  # prints the catalogue and exits
//!     mxtls-lab --delay-ms 50           # every reply of every server 50 ms late
//!     mxtls-lab --dir /tmp/lab --bulk 10000
//!                                       # also N bulk domains (lab::bulk),
//!                                       # listed one a line in bulk.txt
//!
//! `lab.env` holds shell assignments (MXTLS_LAB_DNS, MXTLS_LAB_RESOLVER,
//! MXTLS_LAB_ANCHOR, MXTLS_LAB_DS, MXTLS_LAB_CA, MXTLS_LAB_HTTPS_PORT,
//! MXTLS_LAB_SMTP_PORT, and MXTLS_LAB_BULK naming bulk.txt with
//! `--bulk`) for scripts; it is written last, so its
//! presence means the lab is serving.

use std::path::PathBuf;
use std::process::ExitCode;

use mxtls::lab::catalogue::Catalogue;
use mxtls::lab::prepare::{self, Prepared};
use mxtls::lab::servers::Lab;

const USAGE: &str =
    "usage: mxtls-lab [--dir DIR] [--catalogue FILE] [--bulk N] [--delay-ms MS] [--list]";
/// Longest injected delay: ten seconds is already slower than any link.
const MAX_DELAY_MS: u64 = 10_000;

/// What the command line asks for.
enum Request {
    Run(Args),
    Help,
}

struct Args {
    dir: Option<PathBuf>,
    catalogue: PathBuf,
    list: bool,
    /// Added to every server-to-client flight (`mxtls::lab::link`).
    delay: std::time::Duration,
    bulk: usize,
}

fn parse_args() -> Result<Request, String> {
    let mut args = Args {
        dir: None,
        catalogue: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/lab/catalogue.toml"
        )),
        list: false,
        delay: std::time::Duration::ZERO,
        bulk: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => args.dir = Some(it.next().ok_or("--dir needs a directory")?.into()),
            "--catalogue" => args.catalogue = it.next().ok_or("--catalogue needs a file")?.into(),
            "--list" => args.list = true,
            "--delay-ms" => {
                let text = it
                    .next()
                    .ok_or("--delay-ms needs a number of milliseconds")?;
                let ms: u64 = text
                    .parse()
                    .ok()
                    .filter(|ms| *ms <= MAX_DELAY_MS)
                    .ok_or_else(|| {
                        format!(
                            "--delay-ms {text:?}: give whole milliseconds from 0 to {MAX_DELAY_MS}"
                        )
                    })?;
                args.delay = std::time::Duration::from_millis(ms);
            }
            "--bulk" => {
                let n = it.next().ok_or("--bulk needs a number of domains")?;
                args.bulk = n
                    .parse()
                    .ok()
                    .filter(|n| *n <= mxtls::lab::bulk::MAX_DOMAINS)
                    .ok_or_else(|| {
                        format!(
                            "--bulk {n:?}: give a number of domains from 0 to {}",
                            mxtls::lab::bulk::MAX_DOMAINS
                        )
                    })?;
            }
            "-h" | "--help" => return Ok(Request::Help),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Request::Run(args))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Request::Run(a)) => a,
        Ok(Request::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mxtls-lab: {e}");
            return ExitCode::from(2);
        }
    };
    let prepared = match prepare::prepare_file(&args.catalogue) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mxtls-lab: {e}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        for s in prepared.catalogue.scenarios() {
            println!("{:<22} {}", s.domain(), s.about());
        }
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mxtls-lab: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(serve(prepared, args.dir, args.bulk, args.delay)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mxtls-lab: {e}");
            ExitCode::from(2)
        }
    }
}

async fn serve(
    prepared: Prepared,
    dir: Option<PathBuf>,
    bulk: usize,
    delay: std::time::Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let lab = Lab::start_full(prepared, bulk, delay).await?;
    let catalogue: &Catalogue = &lab.catalogue;
    let dns = &lab.dns;
    let dir = match dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("mxtls-lab-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let anchor = dir.join("root.key");
    let ds = dir.join("root.ds");
    std::fs::write(&anchor, dns.trust_anchor_dnskey())?;
    std::fs::write(&ds, dns.trust_anchor_ds())?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, lab.ca.root_pem())?;
    let mut bulk_env = String::new();
    if let Some(set) = &lab.bulk {
        let list = dir.join("bulk.txt");
        let mut text = String::with_capacity(set.count() * 20);
        for domain in set.domains() {
            text.push_str(&domain);
            text.push('\n');
        }
        std::fs::write(&list, text)?;
        bulk_env = format!("MXTLS_LAB_BULK={}\n", list.display());
    }
    let env = format!(
        "MXTLS_LAB_DNS={}\nMXTLS_LAB_RESOLVER={}\nMXTLS_LAB_FORWARDER={}\nMXTLS_LAB_ANCHOR={}\nMXTLS_LAB_DS={}\nMXTLS_LAB_CA={}\nMXTLS_LAB_HTTPS_PORT={}\nMXTLS_LAB_SMTP_PORT={}\n{}",
        dns.authoritative(),
        dns.validating_resolver(),
        dns.forwarding_resolver(),
        anchor.display(),
        ds.display(),
        ca.display(),
        lab.https_addr().port(),
        lab.smtp_port().unwrap_or(25),
        bulk_env
    );
    let tmp = dir.join("lab.env.tmp");
    std::fs::write(&tmp, &env)?;
    std::fs::rename(&tmp, dir.join("lab.env"))?;
    eprintln!(
        "mxtls-lab: serving {} scenarios and {} bulk domains (started in {} ms); authoritative DNS {}, validating resolver {}, non-validating forwarder {}; trust anchor {}; replies {} ms late",
        catalogue.scenarios().len(),
        lab.bulk.as_ref().map_or(0, |b| b.count()),
        started.elapsed().as_millis(),
        dns.authoritative(),
        dns.validating_resolver(),
        dns.forwarding_resolver(),
        anchor.display(),
        delay.as_millis()
    );
    tokio::signal::ctrl_c().await?;
    let _ = std::fs::remove_file(dir.join("lab.env"));
    Ok(())
}
