//! The start-up check of the scanner's own resolver.
//!
//! A resolver that cannot serve the chosen `--dnssec` mode makes every
//! domain look broken in the same way, and the report would tell each
//! domain's owner to fix what is wrong on the scanning host. So one query
//! goes to every configured server, all sent together (one round trip, two
//! tries when a server is silent), and the answers are judged. The check
//! goes out beside the first domain's queries (issue 14: it costs no round
//! trip of its own) unless those need what it finds (a DS trust anchor's
//! keys, or which of several resolvers to leave out when validating
//! locally); no answer is handed out, and no report written, before it has
//! passed (`Dns::ready`):
//!
//! - every mode: the server must answer, with a parseable message and
//!   NOERROR (silence, garbage, REFUSED or SERVFAIL for the root would fail
//!   every lookup);
//! - `validate`: the root DNSKEY RRset, asked with DO=1 and CD=1, must come
//!   with its signatures (a resolver that strips them makes every answer
//!   bogus) and must validate against the trust anchor (a wrong anchor, or
//!   a resolver serving another root, makes every signed domain bogus;
//!   a wrong clock makes every signature look expired). A DS anchor is
//!   turned into keys from this same answer (RFC 4034 §5.1.4), and the
//!   validator, which needs the same RRset for the first answers, waits
//!   for it instead of asking again (`check`'s `share`);
//! - `resolver`: the root SOA, asked with DO=1, must come back with AD=1,
//!   as Postfix's `dnssec_probe` checks (default `ns:.`): a resolver that
//!   does not validate makes every signed domain look unsigned, and the
//!   scanner would report "no problems" where DANE is in fact published;
//! - `off`: only that the server answers.
//!
//! A server that gives no usable answer while another does is left out of
//! the run, with a note: every query to it would first wait out the
//! timeout. Once one server has answered usably, the others have
//! [`GRACE`] more to answer, so a dead fallback does not hold up the run. A server that answers but fails the DNSSEC check stops the run,
//! since its answers would be used as a fallback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hickory_proto::dnssec::{PublicKey, TrustAnchors};
use hickory_proto::op::{DnsResponse, Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::time::Instant;

use super::DnssecMode;
use super::anchor::{self, AnchorFile, AnchorKey};
use super::root_keys::{self, RootKeysProblem};
use super::transport;
use super::wire::{QueryFlags, WireError};

/// Tries per server: a lost datagram must not stop the run.
const ATTEMPTS: u32 = 2;
/// How long the other servers may still take once one has answered usably.
const GRACE: Duration = Duration::from_secs(1);

/// Why the scanner's own resolver cannot be used: nothing is scanned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    #[error(
        "no usable answer from the resolver {servers} at start-up ({reasons}), so no domain can be scanned; check that it runs and that this host may query it, or name another with --resolver IP[:PORT]"
    )]
    NoAnswer { servers: String, reasons: String },
    #[error(
        "the resolver {server} answered {rcode} when asked for {query}: it does not resolve names for this host, so every domain would fail; fix it, or name a working recursive resolver with --resolver IP[:PORT]"
    )]
    RootQueryFailed {
        server: SocketAddr,
        query: &'static str,
        rcode: String,
    },
    #[error(
        "the resolver {server} does not validate DNSSEC: the root SOA, asked with DO=1, came back without the AD bit{detail}, so every signed domain would look unsigned; with --dnssec resolver use a validating resolver (e.g. unbound, or BIND with dnssec-validation, on this host), or let mxtls validate with --dnssec validate"
    )]
    NotValidating { server: SocketAddr, detail: String },
    #[error(
        "the resolver {server} strips DNSSEC records (the root DNSKEY RRset came back without signatures), so every answer would look bogus; use a DNSSEC-aware resolver with --resolver, or --dnssec off"
    )]
    StripsDnssec { server: SocketAddr },
    #[error(
        "the resolver {server} returned no root DNSKEY RRset (asked with DO=1, CD=1), and local validation starts from it; use a resolver that serves DNSSEC records with --resolver, or --dnssec resolver with a validating resolver"
    )]
    NoRootKeys { server: SocketAddr },
    #[error(
        "no root DNSKEY served by {server} matches the DS trust anchor at {origin}; the anchor file is for another root, or the resolver is not the one you meant"
    )]
    DsMatchesNoKey { origin: String, server: SocketAddr },
    #[error(
        "the trust anchor {anchor} does not validate the root DNSKEY set served by {server}: {reason}; give the right --trust-anchor (the root key of the DNS tree this resolver serves), or check that --resolver is the one you meant"
    )]
    AnchorDoesNotValidate {
        anchor: String,
        server: SocketAddr,
        reason: String,
    },
    #[error(
        "the signatures of the root DNSKEY set served by {server} do not cover this host's clock: {detail}; set the system clock (e.g. enable NTP), or every signature would look expired"
    )]
    Clock { server: SocketAddr, detail: String },
}

/// Where the trust anchor comes from.
#[derive(Debug, Clone)]
pub enum AnchorSource {
    /// hickory's built-in IANA root anchors.
    BuiltIn,
    /// An anchor file, read and parsed.
    File { path: PathBuf, file: AnchorFile },
}

impl AnchorSource {
    fn describe(&self) -> String {
        match self {
            AnchorSource::BuiltIn => {
                "built into mxtls (the IANA root KSKs, used without --trust-anchor)".to_string()
            }
            AnchorSource::File { path, .. } => format!("in {}", path.display()),
        }
    }

    /// The keys the anchor names itself (DS lines are matched per answer).
    fn keys(&self) -> Vec<AnchorKey> {
        match self {
            AnchorSource::BuiltIn => {
                let builtin = TrustAnchors::default();
                (0..builtin.len())
                    .filter_map(|i| builtin.get(i))
                    .map(|k| AnchorKey {
                        // The IANA anchors are key-signing keys.
                        flags: 257,
                        protocol: 3,
                        algorithm: u8::from(k.algorithm()),
                        public_key: k.public_bytes().to_vec(),
                    })
                    .collect()
            }
            AnchorSource::File { file, .. } => file.keys.clone(),
        }
    }
}

/// What the check leaves for the run.
#[derive(Clone)]
pub struct Checked {
    /// The servers that answered, in the order given.
    pub servers: Vec<SocketAddr>,
    /// Trust anchors for local validation (validate mode).
    pub anchors: Option<TrustAnchors>,
    /// What the operator should know: servers left out.
    pub notes: Vec<String>,
    /// Validate mode: the root DNSKEY answer the anchor validated, for the
    /// validator's key cache (so the root keys are not asked for twice).
    pub root_keys: Option<DnsResponse>,
}

/// The one query of the check, per mode.
fn probe_query(mode: DnssecMode) -> (RecordType, QueryFlags, &'static str) {
    match mode {
        DnssecMode::Validate => (
            RecordType::DNSKEY,
            QueryFlags {
                dnssec_ok: true,
                checking_disabled: true,
            },
            "the root DNSKEY RRset",
        ),
        DnssecMode::Resolver => (
            RecordType::SOA,
            QueryFlags {
                dnssec_ok: true,
                checking_disabled: false,
            },
            "the root SOA",
        ),
        DnssecMode::Off => (
            RecordType::SOA,
            QueryFlags {
                dnssec_ok: false,
                checking_disabled: false,
            },
            "the root SOA",
        ),
    }
}

/// Checks every server at once. `system` says the servers came from
/// /etc/resolv.conf (for messages). In validate mode, `share` is handed
/// the first root DNSKEY answer the anchor validates the moment it is
/// judged, for the validator waiting on it (`Chain::share`): the check
/// may still wait for the other servers.
pub async fn check(
    mode: DnssecMode,
    servers: &[SocketAddr],
    system: bool,
    anchor: &AnchorSource,
    step: Duration,
    mut share: Option<tokio::sync::oneshot::Sender<DnsResponse>>,
) -> Result<Checked, StartupError> {
    let (rtype, flags, _) = probe_query(mode);
    // RRSIG times are 32-bit serial numbers (RFC 4034 §3.1.5): the low 32
    // bits of the time.
    let now = (crate::datetime::unix_seconds(SystemTime::now()) & i64::from(u32::MAX)) as u32;
    let mut pending: FuturesUnordered<_> = servers
        .iter()
        .map(|s| async move { (*s, ask(*s, rtype, flags, step).await) })
        .collect();
    let mut verdicts: Vec<(SocketAddr, Verdict)> = Vec::with_capacity(servers.len());
    // Once one server is usable, a silent fallback must not hold up the
    // run for its whole timeout: the others get a short grace.
    let mut deadline: Option<Instant> = None;
    let mut root_keys = None;
    loop {
        let next = match deadline {
            Some(at) => match tokio::time::timeout_at(at, pending.next()).await {
                Ok(next) => next,
                Err(_) => break,
            },
            None => pending.next().await,
        };
        let Some((server, reply)) = next else { break };
        let kept = match (&reply, mode) {
            (Ok(m), DnssecMode::Validate) if root_keys.is_none() => Some(m.clone()),
            _ => None,
        };
        let verdict = judge(mode, server, reply, anchor, now);
        if matches!(verdict, Verdict::Usable(_)) && root_keys.is_none() {
            root_keys = kept.and_then(|m| DnsResponse::from_message(m).ok());
            if let (Some(keys), Some(to)) = (&root_keys, share.take()) {
                let _ = to.send(keys.clone());
            }
        }
        if deadline.is_none() && matches!(verdict, Verdict::Usable(_)) {
            deadline = Some(Instant::now() + step.min(GRACE));
        }
        verdicts.push((server, verdict));
    }
    for server in servers {
        if !verdicts.iter().any(|(s, _)| s == server) {
            verdicts.push((
                *server,
                Verdict::Silent(format!(
                    "no answer within {} s of the first usable one",
                    step.min(GRACE).as_secs_f64()
                )),
            ));
        }
    }
    // Keep the order given: it is the order of preference.
    verdicts.sort_by_key(|(s, _)| servers.iter().position(|x| x == s));
    let mut checked = combine(verdicts, anchor, system)?;
    checked.root_keys = root_keys;
    Ok(checked)
}

/// One query with up to [`ATTEMPTS`] tries when the server is silent; any
/// other failure is final.
async fn ask(
    server: SocketAddr,
    rtype: RecordType,
    flags: QueryFlags,
    step: Duration,
) -> Result<Message, String> {
    for _ in 0..ATTEMPTS {
        match transport::exchange(server, &Name::root(), rtype, flags, step).await {
            Ok(m) => return Ok(m.into_message()),
            Err(WireError::Unanswered { .. }) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "no answer from {server} within {ATTEMPTS} tries of {} s",
        step.as_secs_f64()
    ))
}

/// What one server's answer says.
#[derive(Debug)]
enum Verdict {
    /// No usable answer: the reason.
    Silent(String),
    /// Usable; in validate mode, the anchor keys its root DNSKEY set proved.
    Usable(Vec<AnchorKey>),
    /// Answers, but must not be used.
    Fails(StartupError),
}

fn judge(
    mode: DnssecMode,
    server: SocketAddr,
    reply: Result<Message, String>,
    anchor: &AnchorSource,
    now: u32,
) -> Verdict {
    let (_, _, query) = probe_query(mode);
    let msg = match reply {
        Ok(m) => m,
        Err(reason) => return Verdict::Silent(reason),
    };
    let rcode = msg.metadata.response_code;
    if rcode != ResponseCode::NoError {
        return Verdict::Fails(StartupError::RootQueryFailed {
            server,
            query,
            rcode: rcode.to_string(),
        });
    }
    match mode {
        DnssecMode::Off => Verdict::Usable(Vec::new()),
        DnssecMode::Resolver if msg.metadata.authentic_data => Verdict::Usable(Vec::new()),
        DnssecMode::Resolver => {
            let signed = msg
                .answers
                .iter()
                .any(|r| r.record_type() == RecordType::RRSIG);
            Verdict::Fails(StartupError::NotValidating {
                server,
                detail: if signed {
                    String::new()
                } else {
                    " (and without signatures)".to_string()
                },
            })
        }
        DnssecMode::Validate => judge_root_keys(server, &msg, anchor, now),
    }
}

fn judge_root_keys(server: SocketAddr, msg: &Message, anchor: &AnchorSource, now: u32) -> Verdict {
    let mut keys = anchor.keys();
    if let AnchorSource::File { file, .. } = anchor {
        if !file.ds.is_empty() {
            let from_ds: Vec<AnchorKey> = root_keys::served_keys(&msg.answers)
                .into_iter()
                .map(root_keys::as_anchor_key)
                .filter(|k| file.ds.iter().any(|d| k.matches(d)))
                .collect();
            if from_ds.is_empty()
                && keys.is_empty()
                && !root_keys::served_keys(&msg.answers).is_empty()
            {
                return Verdict::Fails(StartupError::DsMatchesNoKey {
                    origin: file
                        .ds
                        .first()
                        .map(|d| d.origin.clone())
                        .unwrap_or_default(),
                    server,
                });
            }
            keys.extend(from_ds);
        }
    }
    match root_keys::check(&msg.answers, &keys, now) {
        Ok(()) => Verdict::Usable(keys),
        Err(RootKeysProblem::NoKeys) => Verdict::Fails(StartupError::NoRootKeys { server }),
        Err(RootKeysProblem::Unsigned) => Verdict::Fails(StartupError::StripsDnssec { server }),
        Err(p @ RootKeysProblem::OutsideValidity { .. }) => Verdict::Fails(StartupError::Clock {
            server,
            detail: p.describe(),
        }),
        Err(p) => Verdict::Fails(StartupError::AnchorDoesNotValidate {
            anchor: anchor.describe(),
            server,
            reason: p.describe(),
        }),
    }
}

fn combine(
    verdicts: Vec<(SocketAddr, Verdict)>,
    anchor: &AnchorSource,
    system: bool,
) -> Result<Checked, StartupError> {
    let mut servers = Vec::new();
    let mut silent = Vec::new();
    let mut keys: Vec<AnchorKey> = Vec::new();
    let mut validated = false;
    for (server, verdict) in verdicts {
        match verdict {
            Verdict::Fails(e) => return Err(e),
            Verdict::Silent(reason) => silent.push((server, reason)),
            Verdict::Usable(proved) => {
                servers.push(server);
                validated |= !proved.is_empty();
                for k in proved {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
        }
    }
    if servers.is_empty() {
        let names: Vec<String> = silent.iter().map(|(s, _)| s.to_string()).collect();
        return Err(StartupError::NoAnswer {
            servers: format!(
                "{}{}",
                names.join(", "),
                if system {
                    " (from /etc/resolv.conf)"
                } else {
                    ""
                }
            ),
            reasons: silent
                .into_iter()
                .map(|(_, r)| r)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    let notes = silent
        .into_iter()
        .map(|(server, reason)| {
            format!(
                "the resolver {server} gave no usable answer at start-up ({reason}); it is left out of this run"
            )
        })
        .collect();
    let anchors = validated.then(|| match anchor {
        AnchorSource::BuiltIn => TrustAnchors::default(),
        AnchorSource::File { .. } => anchor::trust_anchors(&keys),
    });
    Ok(Checked {
        servers,
        anchors,
        notes,
        root_keys: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::rdata::SOA;
    use hickory_proto::rr::{RData, Record};

    fn server(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn reply(code: ResponseCode, ad: bool, signed: bool) -> Result<Message, String> {
        let mut m = Message::new(7, MessageType::Response, OpCode::Query);
        m.metadata.response_code = code;
        m.metadata.authentic_data = ad;
        let soa = SOA::new(
            Name::from_ascii("a.root-servers.net.").expect("name"),
            Name::from_ascii("nstld.verisign-grs.com.").expect("name"),
            1,
            1800,
            900,
            604_800,
            86_400,
        );
        m.answers
            .push(Record::from_rdata(Name::root(), 86_400, RData::SOA(soa)));
        if signed {
            // Only the presence of a signature matters to the rule.
            let sig = hickory_proto::dnssec::rdata::RRSIG::from_sig(
                hickory_proto::dnssec::rdata::SigInput {
                    type_covered: RecordType::SOA,
                    algorithm: hickory_proto::dnssec::Algorithm::ECDSAP256SHA256,
                    num_labels: 0,
                    original_ttl: 86_400,
                    sig_expiration: hickory_proto::rr::SerialNumber::new(2),
                    sig_inception: hickory_proto::rr::SerialNumber::new(1),
                    key_tag: 1,
                    signer_name: Name::root(),
                },
                vec![0; 64],
            );
            m.answers.push(Record::from_rdata(
                Name::root(),
                86_400,
                RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(sig)),
            ));
        }
        Ok(m)
    }

    fn verdict(mode: DnssecMode, reply: Result<Message, String>) -> Verdict {
        judge(mode, server(53), reply, &AnchorSource::BuiltIn, 0)
    }

    #[test]
    fn resolver_mode_needs_the_ad_bit_on_the_root() {
        assert!(matches!(
            verdict(
                DnssecMode::Resolver,
                reply(ResponseCode::NoError, true, true)
            ),
            Verdict::Usable(_)
        ));
        for (signed, detail) in [(true, ""), (false, " (and without signatures)")] {
            match verdict(
                DnssecMode::Resolver,
                reply(ResponseCode::NoError, false, signed),
            ) {
                Verdict::Fails(e @ StartupError::NotValidating { .. }) => {
                    let text = e.to_string();
                    assert!(text.contains("127.0.0.1:53 does not validate"), "{text}");
                    assert!(text.contains(&format!("AD bit{detail},")), "{text}");
                    assert!(text.contains("--dnssec validate"), "{text}");
                }
                other => panic!("signed={signed}: {other:?}"),
            }
        }
    }

    #[test]
    fn off_mode_only_needs_an_answer() {
        assert!(matches!(
            verdict(DnssecMode::Off, reply(ResponseCode::NoError, false, false)),
            Verdict::Usable(_)
        ));
    }

    #[test]
    fn refused_or_servfail_for_the_root_stops_every_mode() {
        for mode in [DnssecMode::Off, DnssecMode::Resolver, DnssecMode::Validate] {
            for code in [ResponseCode::Refused, ResponseCode::ServFail] {
                match verdict(mode, reply(code, false, false)) {
                    Verdict::Fails(e @ StartupError::RootQueryFailed { .. }) => {
                        let text = e.to_string();
                        assert!(text.contains(&code.to_string()), "{text}");
                        assert!(text.contains("--resolver"), "{text}");
                    }
                    other => panic!("{mode:?} {code}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn validate_mode_without_root_keys_is_named() {
        match verdict(
            DnssecMode::Validate,
            reply(ResponseCode::NoError, false, true),
        ) {
            Verdict::Fails(StartupError::NoRootKeys { server: s }) => assert_eq!(s, server(53)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_silent_server_among_answering_ones_is_left_out_with_a_note() {
        let got = combine(
            vec![
                (server(1), Verdict::Silent("no answer".into())),
                (server(2), Verdict::Usable(Vec::new())),
            ],
            &AnchorSource::BuiltIn,
            false,
        )
        .expect("one server answers");
        assert_eq!(got.servers, vec![server(2)]);
        assert_eq!(got.notes.len(), 1);
        assert!(got.notes[0].contains("127.0.0.1:1"), "{:?}", got.notes);
    }

    #[test]
    fn every_server_silent_names_them_all_and_the_fix() {
        let err = combine(
            vec![
                (
                    server(1),
                    Verdict::Silent("no answer from 127.0.0.1:1".into()),
                ),
                (server(2), Verdict::Silent("unparseable answer".into())),
            ],
            &AnchorSource::BuiltIn,
            true,
        )
        .err()
        .expect("nothing answers");
        let text = err.to_string();
        assert!(
            text.contains("127.0.0.1:1, 127.0.0.1:2 (from /etc/resolv.conf)"),
            "{text}"
        );
        assert!(text.contains("unparseable answer"), "{text}");
        assert!(text.contains("--resolver"), "{text}");
    }

    #[test]
    fn a_failing_server_stops_the_run_even_when_another_is_fine() {
        let err = combine(
            vec![
                (server(2), Verdict::Usable(Vec::new())),
                (
                    server(3),
                    Verdict::Fails(StartupError::StripsDnssec { server: server(3) }),
                ),
            ],
            &AnchorSource::BuiltIn,
            false,
        )
        .err()
        .expect("the stripping server is named");
        assert!(err.to_string().contains("127.0.0.1:3 strips"), "{err}");
    }

    #[test]
    fn builtin_anchors_are_the_iana_ksks() {
        let tags: Vec<u16> = AnchorSource::BuiltIn
            .keys()
            .iter()
            .map(AnchorKey::key_tag)
            .collect();
        assert!(tags.contains(&20326), "{tags:?}");
    }
}
