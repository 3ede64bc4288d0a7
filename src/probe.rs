//! Probing: one STARTTLS session per MX address, judged under the policies
//! that apply to its MX (`verdict`). The sessions run concurrently, bounded
//! by a semaphore shared by every domain of the run.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::join_all;
use rustls::pki_types::{CertificateDer, UnixTime};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::{OnceCell, Semaphore, watch};

use crate::dane::applies::Applicability;
use crate::dane::verdict::ReferenceIds;
use crate::dns::Dnssec;
use crate::evidence::MxHost;
use crate::finding::{Code, Finding, Severity};
use crate::ip_scope;
use crate::key_variants::{self, DaneTarget, Seen};
use crate::mta_sts::policy::{Mode, StsPolicy};
use crate::pki::facts::{self, CertFacts};
use crate::pki::webpki::Roots;
use crate::politeness::{self, Politeness};
use crate::session::{Results, SessionOut};
use crate::smtp::client::{self, ProbeConfig};
use crate::smtp::key_type::KeyType;
use crate::smtp::legacy_tls::LegacyTls;
use crate::smtp::route;
use crate::smtp::session::{Connect, FailureKind, Outcome, RefusalStage, Session, Stage};
use crate::tlsrpt::report::ResultType;
use crate::vantage;
use crate::verdict::{self, DaneContext, Probe, StsContext};

/// What probing needs beyond the evidence.
#[derive(Clone)]
pub struct ProbeSettings {
    pub config: ProbeConfig,
    pub roots: Roots,
    pub allow_private: bool,
    /// `--require-dane`: a session to an MX without DANE is `dane-required`.
    pub require_dane: bool,
    /// `--at`: certificate dates are judged as of this instant, not now.
    pub judge_at: Option<UnixTime>,
    /// Bounds the sessions in flight across the whole run.
    pub permits: Arc<Semaphore>,
    /// `--per-ip`, the gap between connections to one address, retries of
    /// temporary refusals (`politeness`).
    pub politeness: Politeness,
    /// Sessions already made in this run, by address, SNI and key type
    /// offered: domains that share MX hosts (hosted mail) are probed once
    /// per run.
    pub cache: SessionCache,
}

/// Most sessions kept for reuse; beyond this, sessions are not cached, so
/// memory stays bounded however many domains a run scans.
const CACHE_ENTRIES: usize = 20_000;

type Slot = Arc<Cell>;

/// One session of the run, and word of its handshake before it ends.
struct Cell {
    session: OnceCell<Session>,
    /// The domain whose scan made the session (the others share it).
    made_for: std::sync::OnceLock<String>,
    /// True once the handshake has succeeded; also touched when the
    /// session ends, so that a waiter looks again.
    tls_up: watch::Sender<bool>,
    /// The key type of the leaf the handshake showed, set before `tls_up`.
    leaf_key: std::sync::OnceLock<KeyType>,
}

impl Default for Cell {
    fn default() -> Cell {
        Cell {
            session: OnceCell::new(),
            made_for: std::sync::OnceLock::new(),
            tls_up: watch::Sender::new(false),
            leaf_key: std::sync::OnceLock::new(),
        }
    }
}

/// Whether the session in `cell` gets TLS up, told as soon as it does
/// (or, failing that, when the session is over).
async fn tls_came_up(cell: &Cell) -> bool {
    let mut up = cell.tls_up.subscribe();
    loop {
        if *up.borrow_and_update() {
            return true;
        }
        if let Some(s) = cell.session.get() {
            return s.outcome == Outcome::TlsEstablished;
        }
        if up.changed().await.is_err() {
            return false;
        }
    }
}

/// The primary session's length and whether TLS came up, once it is over
/// (`None` if it was dropped).
async fn ended_of(
    mut ended: watch::Receiver<Option<(Duration, bool)>>,
) -> Option<(Duration, bool)> {
    ended.wait_for(Option::is_some).await.ok().and_then(|e| *e)
}

/// A session's address, SNI, and the key type its ClientHello was limited
/// to (`None`: every signature scheme offered).
type CacheKey = (IpAddr, String, Option<KeyType>);

/// Sessions of this run, shared by every domain.
#[derive(Clone, Default)]
pub struct SessionCache {
    slots: Arc<Mutex<HashMap<CacheKey, Slot>>>,
}

impl SessionCache {
    fn slot(&self, ip: IpAddr, sni: &str, only: Option<KeyType>) -> Option<Slot> {
        let mut map = self.slots.lock().ok()?;
        let key = (ip, sni.to_string(), only);
        if let Some(slot) = map.get(&key) {
            return Some(Arc::clone(slot));
        }
        if map.len() >= CACHE_ENTRIES {
            return None;
        }
        let slot = Slot::default();
        map.insert(key, Arc::clone(&slot));
        Some(slot)
    }
}

/// The MTA-STS policy as it applies to this domain's sessions.
pub enum AppliedSts<'a> {
    /// A policy senders apply.
    Policy(&'a StsPolicy),
    /// A valid record whose policy cannot be used: the result type and
    /// failure-reason-code every session reports.
    Unusable(ResultType, &'a str),
}

/// Probes every address of every MX host and judges each session.
/// Returns the sessions and findings about addresses not probed.
pub async fn probe_all(
    domain: &str,
    mx: &[MxHost],
    mx_dnssec: Dnssec,
    sts: Option<AppliedSts<'_>>,
    settings: &ProbeSettings,
) -> (Vec<SessionOut>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut jobs = Vec::new();
    for host in mx {
        for addr in &host.addresses {
            if !settings.allow_private {
                if let Some(why) = ip_scope::non_public_reason(addr.ip) {
                    findings.push(Finding::new(
                        Severity::Warning,
                        Code::MxAddressNotPublic,
                        format!("{} {}", host.host, addr.ip),
                        format!("not probed: {} of {} is a {why} address", addr.ip, host.host),
                        "Publish only public addresses for MX hosts; to scan a lab or internal network, pass --allow-private.",
                    ));
                    continue;
                }
            }
            jobs.push(probe_one(
                domain,
                host,
                addr.ip,
                mx_dnssec,
                sts.as_ref(),
                settings,
            ));
        }
    }
    (join_all(jobs).await, findings)
}

async fn probe_one(
    domain: &str,
    host: &MxHost,
    ip: IpAddr,
    mx_dnssec: Dnssec,
    sts: Option<&AppliedSts<'_>>,
    settings: &ProbeSettings,
) -> SessionOut {
    // DANE needs this address's own RRset secure: a bogus or insecure
    // family does not get DANE from the other (RFC 7672 §2.2.2).
    let address_secure = host.tlsa.planned
        || host
            .addresses
            .iter()
            .any(|a| a.ip == ip && a.dnssec == Dnssec::Secure);
    let dane_ctx = address_secure
        .then(|| dane_context(domain, host, mx_dnssec))
        .flatten()
        .or(settings.require_dane.then_some(DaneContext::Required));
    let sts_ctx = sts.map(|s| match s {
        AppliedSts::Policy(policy) => StsContext {
            mode: Some(policy.mode()),
            unusable: None,
            covered: policy.mx().iter().any(|p| p.matches(&host.host)),
            mx_host: &host.host,
            roots: &settings.roots,
        },
        AppliedSts::Unusable(result, reason) => StsContext {
            mode: None,
            unusable: Some((*result, reason)),
            covered: false,
            mx_host: &host.host,
            roots: &settings.roots,
        },
    });
    // SNI: the TLSA base domain under DANE (RFC 7672 §8.1), the MX host
    // name under MTA-STS (RFC 8461 §7.1). When both apply and differ, the
    // MTA-STS verdict needs a handshake of its own.
    let dane_sni = match &dane_ctx {
        Some(DaneContext::Applies { names, .. }) => Some(names.tlsa_base.clone()),
        _ => None,
    };
    let primary_sni = dane_sni.clone().unwrap_or_else(|| host.host.clone());
    // The primary session's length, once it is over, and whether TLS
    // came up in it.
    let (ended, ended_rx) = watch::channel(None);
    let primary = async {
        let (session, shared) = run(ip, &primary_sni, settings, domain).await;
        let took = Duration::from_millis(session.timings.total_ms);
        let _ = ended.send(Some((took, session.outcome == Outcome::TlsEstablished)));
        (session, shared)
    };
    let second = async {
        match (&dane_sni, &sts_ctx) {
            (Some(base), Some(ctx))
                if base != &host.host
                    && matches!(ctx.mode, Some(Mode::Enforce | Mode::Testing)) =>
            {
                Some(run(ip, &host.host, settings, domain).await.0)
            }
            _ => None,
        }
    };
    // Where DANE applies and TLS came up: the chains a client limited to
    // RSA and one limited to ECDSA get (a server may hold both), made
    // beside the MTA-STS session and bounded by how fast the server
    // answered, so that the domain's bound is not spent on them. They
    // start once the primary session's handshake has succeeded, not when
    // that session has ended: it has nothing more to tell them.
    let variants = async {
        if host.dane() != Applicability::Applies {
            return Vec::new();
        }
        let (up, served) = match settings.cache.slot(ip, &primary_sni, None) {
            Some(cell) => (tls_came_up(&cell).await, cell.leaf_key.get().copied()),
            None => (
                ended_of(ended_rx.clone()).await.is_some_and(|(_, up)| up),
                None,
            ),
        };
        if !up {
            return Vec::new();
        }
        let sni = primary_sni.as_str();
        let ended_rx = &ended_rx;
        let runs = variant_order(served).map(|key| async move {
            (
                key,
                run_limited(ip, sni, key, ended_rx.clone(), settings).await,
            )
        });
        // Polled in this order, they take their places at the address
        // (`--per-ip`) in this order too.
        let mut made = join_all(runs).await;
        made.sort_by_key(|(key, _)| *key);
        made
    };
    let ((session, shared), second, variants) = tokio::join!(primary, second, variants);
    let variant_bound = variant_bound(
        Duration::from_millis(session.timings.total_ms),
        settings.config.step_timeout,
    );
    let now = settings.judge_at.unwrap_or_else(UnixTime::now);
    let v = verdict::judge(
        &as_probe(&session),
        second.as_ref().map(as_probe).as_ref(),
        dane_ctx.as_ref(),
        sts_ctx.as_ref(),
        now,
    );
    // Senders that opt in to DANE behind an insecure MX RRset (RFC 7672
    // §2.2.1) judge the same handshake, with no next-hop name.
    let opt_in_dane_verdict = (host.dane() == Applicability::InsecureMx)
        .then(|| {
            let ctx = DaneContext::Applies {
                records: &host.tlsa.parsed,
                names: ReferenceIds {
                    tlsa_base: host
                        .tlsa
                        .base_domain
                        .clone()
                        .unwrap_or_else(|| host.host.clone()),
                    mx_host: host.host.clone(),
                    next_hop: None,
                },
            };
            verdict::judge(&as_probe(&session), None, Some(&ctx), None, now).tlsa
        })
        .flatten();
    let (unmatched_combinations, key_variants) = match &dane_ctx {
        Some(DaneContext::Applies { records, names }) if !variants.is_empty() => {
            let owner = host
                .tlsa
                .name
                .clone()
                .unwrap_or_else(|| format!("_25._tcp.{}", names.tlsa_base));
            let target = DaneTarget {
                records,
                names,
                owner: &owner,
            };
            let seen: Vec<Seen<'_>> = variants
                .iter()
                .map(|(key, s)| Seen {
                    key: *key,
                    outcome: s.as_ref().map(|s| &s.outcome).ok_or(variant_bound),
                    chain: s.as_ref().map_or(&[], |s| s.chain()),
                })
                .collect();
            (
                crate::dane::coverage::unmatched(records, session.chain(), &owner),
                key_variants::judge(&target, session.chain(), &seen, now),
            )
        }
        _ => (Vec::new(), Vec::new()),
    };
    // Digest agility (RFC 7671 §9): a record that matches but is ignored
    // for a stronger one is what the finding must name.
    let superseded_matches = match (&dane_ctx, &v.dane) {
        (
            Some(DaneContext::Applies { records, names }),
            Some(crate::dane::verdict::DaneVerdict::NoMatch { superseded, .. }),
        ) if !superseded.is_empty() => {
            let owner = host
                .tlsa
                .name
                .clone()
                .unwrap_or_else(|| format!("_25._tcp.{}", names.tlsa_base));
            crate::dane::coverage::superseded_matches(records, superseded, session.chain(), &owner)
        }
        _ => Vec::new(),
    };
    let sts_handshake = second.as_ref().map(|s2| crate::session::StsHandshake {
        sni: host.host.clone(),
        certificate: s2
            .chain()
            .first()
            .and_then(|c| facts::facts(c.as_ref()).ok()),
    });
    let result = v.result.clone();
    // The chain rustls saw, else the one the legacy handshake showed.
    let presented = match session.legacy_tls.as_ref().and_then(LegacyTls::accepted) {
        Some(legacy) if session.chain().is_empty() => legacy.chain(),
        _ => session.chain(),
    };
    let chain: Vec<CertFacts> = presented
        .iter()
        .filter_map(|c| facts::facts(c.as_ref()).ok())
        .collect();
    let connected = session.connect == Connect::Ok;
    SessionOut {
        mx: host.host.clone(),
        ip,
        connect: session.connect,
        untested: vantage::untested(ip, session.connect, || route::lookup(ip)),
        banner: session.banner.as_ref().map(|b| b.text.clone()),
        starttls: if connected {
            session.outcome.starttls_supported()
        } else {
            None
        },
        tls_version: session.tls.as_ref().map(|t| t.version.clone()),
        cipher: session.tls.as_ref().map(|t| t.cipher.clone()),
        certificate: chain.first().cloned(),
        chain,
        requiretls: session.requiretls(),
        result: result.as_ref().map(|r| r.result),
        results: Results {
            tlsa: v.tlsa.as_ref().map(|t| t.result),
            sts: v.sts.as_ref().map(|t| t.result),
        },
        failure_reason: result.and_then(|r| r.reason),
        dane: v.dane,
        webpki: v.webpki,
        probe: session,
        shared,
        tlsa_verdict: v.tlsa,
        sts_verdict: v.sts,
        opt_in_dane_verdict,
        unmatched_combinations,
        key_variants,
        superseded_matches,
        sts_handshake,
    }
}

/// The order the key-type sessions start in: first the key type of the
/// leaf the primary session got, then the other. With `--per-ip 2` the
/// first starts beside the primary session and the second only once the
/// primary has ended, so the session likely to run its whole dialogue
/// (the server has that key) goes first, and the one a server without
/// the other key ends at the handshake goes second: done in the time the
/// first takes, instead of a whole session after the primary (issue 14).
/// The same sessions are made either way, in the same bounds.
fn variant_order(served: Option<KeyType>) -> [KeyType; 2] {
    match served {
        Some(key) => [key, key.other()],
        None => KeyType::BOTH,
    }
}

/// How long a session limited to one key type may take: twice what the
/// session offering everything took, plus one step, and never more than a
/// session's own bound. The server has shown how fast it answers; the
/// extra sessions must not push the domain past its bound (`scan.rs`),
/// which would cost every session's result.
fn variant_bound(took: Duration, step: Duration) -> Duration {
    took.saturating_mul(2)
        .saturating_add(step)
        .min(step.saturating_mul(client::SESSION_STEPS))
}

/// Runs the sessions discovery announces (`discover::OnAddresses`: an MX
/// host's name and addresses, as soon as they are known) until dropped.
/// Each is the session `probe_one` makes first for that address, with the
/// host name as SNI, so it only runs once the session cache has a slot
/// for it and `probe_one` then finds it there (made or in progress): every
/// (address, SNI) is still probed once per run, and what the session
/// observes never depends on the verdicts that are judged after it.
/// Addresses `probe_all` would not probe are left alone. `domain` is the
/// domain whose scan announced them (the session is its own, not shared).
pub async fn early_sessions(
    settings: &ProbeSettings,
    domain: &str,
    mut announced: tokio::sync::mpsc::UnboundedReceiver<(String, IpAddr)>,
) -> std::convert::Infallible {
    use futures_util::stream::FuturesUnordered;
    let mut running = FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            next = announced.recv(), if open => match next {
                Some((host, ip)) => {
                    let probed = settings.allow_private || ip_scope::non_public_reason(ip).is_none();
                    if probed && settings.cache.slot(ip, &host, None).is_some() {
                        running.push(async move {
                            run(ip, &host, settings, domain).await;
                        });
                    }
                }
                None => open = false,
            },
            Some(()) = running.next(), if !running.is_empty() => {}
            else => std::future::pending::<()>().await,
        }
    }
}

/// The session to `ip` with `sni`, and whether it was shared: made earlier
/// in the run for another domain rather than for `domain`'s scan.
async fn run(ip: IpAddr, sni: &str, settings: &ProbeSettings, domain: &str) -> (Session, bool) {
    async fn fresh(
        ip: IpAddr,
        sni: &str,
        settings: &ProbeSettings,
        tls_up: &(dyn Fn(&[CertificateDer<'static>]) + Send + Sync),
    ) -> Session {
        let once = || async {
            let _polite = settings.politeness.admit(ip).await;
            // The semaphore is never closed, so acquiring only fails if it
            // were; probing without a permit is then the lesser evil.
            let _permit = settings.permits.acquire().await.ok();
            let session = client::probe_telling(ip, Some(sni), &settings.config, None, tls_up);
            crate::step::during(|| format!("STARTTLS to {sni} ({ip})"), session).await
        };
        let mut session = once().await;
        // A busy server's 421 (postscreen, anvil) may clear: ask again a
        // bounded number of times; what still fails stays inconclusive.
        for delay in politeness::RETRY_DELAYS {
            if !politeness::temporary_refusal(&session) {
                break;
            }
            crate::step::during(
                || {
                    format!(
                        "{ip} refused for now; asking again in {} s",
                        delay.as_secs()
                    )
                },
                tokio::time::sleep(delay),
            )
            .await;
            session = once().await;
        }
        session
    }
    match settings.cache.slot(ip, sni, None) {
        Some(cell) => {
            let tell = |chain: &[CertificateDer<'static>]| {
                if let Some(key) = leaf_key_type(chain) {
                    let _ = cell.leaf_key.set(key);
                }
                cell.tls_up.send_replace(true);
            };
            // Boxed: most calls of a batch find the session made, and its
            // future is large to carry along unused.
            let session = cell
                .session
                .get_or_init(|| async {
                    let _ = cell.made_for.set(domain.to_string());
                    Box::pin(fresh(ip, sni, settings, &tell)).await
                })
                .await
                .clone();
            // Whoever waits for the handshake looks again: it is over.
            cell.tls_up.send_modify(|_| {});
            let shared = cell.made_for.get().is_some_and(|d| d != domain);
            (session, shared)
        }
        None => (Box::pin(fresh(ip, sni, settings, &|_| {})).await, false),
    }
}

/// A session limited to `only`, cut off once it has its permit (waiting
/// for one is the run's load, not the server's slowness) at
/// [`variant_bound`] of the primary session's length, counted from its
/// own start (the primary may still be running when it starts); `None`
/// when cut off, and then not kept, so another domain of the run asks
/// again within its own bound.
async fn run_limited(
    ip: IpAddr,
    sni: &str,
    only: KeyType,
    primary_ended: watch::Receiver<Option<(Duration, bool)>>,
    settings: &ProbeSettings,
) -> Option<Session> {
    let step = settings.config.step_timeout;
    let fresh = || async {
        let _polite = settings.politeness.admit(ip).await;
        let _permit = settings.permits.acquire().await.ok();
        let start = tokio::time::Instant::now();
        let probe = client::probe_limited(ip, Some(sni), &settings.config, Some(only));
        let cut_off = async {
            let bound = match ended_of(primary_ended).await {
                Some((took, _)) => variant_bound(took, step),
                None => step.saturating_mul(client::SESSION_STEPS),
            };
            tokio::time::sleep_until(start + bound).await;
        };
        tokio::select! {
            session = probe => Ok(session),
            () = cut_off => Err(()),
        }
    };
    // Boxed, like `run`'s: made once, found made by the other domains.
    let fresh = || Box::pin(fresh());
    match settings.cache.slot(ip, sni, Some(only)) {
        Some(cell) => cell.session.get_or_try_init(fresh).await.ok().cloned(),
        None => fresh().await.ok(),
    }
}

/// The key type of the leaf of `chain` (`None`: no chain, or another key).
fn leaf_key_type(chain: &[CertificateDer<'static>]) -> Option<KeyType> {
    let leaf = facts::facts(chain.first()?.as_ref()).ok()?;
    KeyType::of_key_name(&leaf.key)
}

fn dane_context<'a>(domain: &str, host: &'a MxHost, mx_dnssec: Dnssec) -> Option<DaneContext<'a>> {
    let t = &host.tlsa;
    match host.dane() {
        Applicability::Applies => Some(DaneContext::Applies {
            records: &t.parsed,
            names: ReferenceIds {
                tlsa_base: t.base_domain.clone().unwrap_or_else(|| host.host.clone()),
                mx_host: host.host.clone(),
                next_hop: (mx_dnssec == Dnssec::Secure).then(|| domain.to_string()),
            },
        }),
        Applicability::LookupFailed { bogus: true } => Some(DaneContext::LookupFailed {
            reason: "tlsa-lookup-bogus",
        }),
        Applicability::LookupFailed { bogus: false } => Some(DaneContext::LookupFailed {
            reason: "tlsa-lookup-failed",
        }),
        Applicability::Unknown => Some(DaneContext::Unknown {
            reason: crate::dane::applies::UNKNOWN_REASON,
        }),
        Applicability::InsecureMx | Applicability::None => None,
    }
}

fn as_probe(s: &Session) -> Probe<'_> {
    if s.connect != Connect::Ok {
        return Probe::ConnectFailed;
    }
    match &s.outcome {
        Outcome::ConnectFailed { .. } => Probe::ConnectFailed,
        Outcome::Inconclusive { stage, code, .. } => Probe::Inconclusive {
            stage: match stage {
                RefusalStage::Greeting => "greeting",
                RefusalStage::Ehlo => "ehlo",
            },
            code: code.get(),
        },
        Outcome::StarttlsNotOffered => Probe::StarttlsNotOffered,
        Outcome::StarttlsRefused { code, .. } => Probe::StarttlsRefused { code: code.get() },
        // What senders with the legacy suite get (see `verdict`).
        Outcome::HandshakeFailed {
            protocol_version, ..
        } => match s.legacy_tls.as_ref().and_then(LegacyTls::accepted) {
            Some(legacy) if legacy.below_tls12() => Probe::HandshakeFailed {
                protocol_version: true,
            },
            Some(legacy) if !legacy.chain().is_empty() => Probe::Established {
                chain: legacy.chain(),
            },
            Some(_) => Probe::LegacyNoChain,
            None => Probe::HandshakeFailed {
                protocol_version: *protocol_version,
            },
        },
        Outcome::PlaintextAfterStarttls { .. } => Probe::PlaintextAfterStarttls,
        Outcome::ProtocolError { stage, kind, .. } => Probe::ProtocolError {
            stage: match stage {
                Stage::Greeting => "greeting",
                Stage::Ehlo => "ehlo",
                Stage::Starttls => "starttls",
                Stage::Handshake => "handshake",
            },
            // Unexpected data comes after the 220 to STARTTLS: the server
            // had agreed to TLS, so a sender's handshake fails on it.
            after_starttls: matches!(stage, Stage::Handshake)
                || *kind == FailureKind::UnexpectedData,
        },
        Outcome::TlsEstablished => Probe::Established { chain: s.chain() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_one_session_per_address_sni_and_key_type() {
        let cache = SessionCache::default();
        let ip = IpAddr::from([192, 0, 2, 1]);
        let slot = |sni, only| cache.slot(ip, sni, only).expect("room in the cache");
        let all = slot("mx1.example.test", None);
        let rsa = slot("mx1.example.test", Some(KeyType::Rsa));
        let ecdsa = slot("mx1.example.test", Some(KeyType::Ecdsa));
        assert!(Arc::ptr_eq(&all, &slot("mx1.example.test", None)), "shared");
        assert!(Arc::ptr_eq(
            &rsa,
            &slot("mx1.example.test", Some(KeyType::Rsa))
        ));
        assert!(!Arc::ptr_eq(&all, &rsa), "a limited session is its own");
        assert!(!Arc::ptr_eq(&rsa, &ecdsa), "one per key type");
        assert!(!Arc::ptr_eq(
            &rsa,
            &slot("mx2.example.test", Some(KeyType::Rsa))
        ));
    }

    #[test]
    fn the_key_type_the_primary_session_got_goes_first() {
        assert_eq!(
            variant_order(Some(KeyType::Ecdsa)),
            [KeyType::Ecdsa, KeyType::Rsa]
        );
        assert_eq!(
            variant_order(Some(KeyType::Rsa)),
            [KeyType::Rsa, KeyType::Ecdsa]
        );
        assert_eq!(variant_order(None), KeyType::BOTH);
    }

    #[test]
    fn a_key_type_session_gets_twice_the_session_plus_a_step_within_a_sessions_bound() {
        let (ms, s) = (Duration::from_millis, Duration::from_secs);
        for (took, step, want) in [
            (ms(40), s(10), ms(10_080)),
            (s(7), s(10), s(24)),
            (s(50), s(10), s(80)),
            (s(0), s(2), s(2)),
        ] {
            assert_eq!(
                variant_bound(took, step),
                want,
                "{took:?} with steps of {step:?}"
            );
        }
    }
}
