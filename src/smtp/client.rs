//! One STARTTLS session to one MX address, and the evidence it leaves.
//!
//! [`probe`] runs the steps of RFC 5321 and RFC 3207 §4–4.2 that a sending
//! MTA runs before it would send mail: TCP connect, the 220 greeting
//! (RFC 5321 §3.1, §4.2), EHLO (§4.1.1.1), STARTTLS if advertised (RFC 3207
//! §4), the TLS handshake (TLS 1.2 or 1.3, the SNI the caller chose), EHLO
//! again — RFC 3207 §4.2 makes the client forget everything learnt before
//! TLS, so the extensions that count (REQUIRETLS, RFC 8689 §2) are the ones
//! advertised after it — and QUIT.
//!
//! Every step has its own timeout, the whole session a bound of
//! [`SESSION_STEPS`] steps, and every reply the caps of [`super::reply`].
//! The result is a [`Session`]: what was seen and how long each step took,
//! and an [`Outcome`] that keeps apart the cases a report must not confuse
//! (SPEC §5): a failed TCP connection and a temporary refusal (`421`) are
//! neither of them "STARTTLS not supported".
//!
//! The TLS client accepts any certificate (see [`super::verifier`]): the
//! chain is recorded and judged elsewhere. Session resumption is off so
//! that every session shows the full chain.
//!
//! Left out: HELO fallback when EHLO is refused (a server that refuses EHLO
//! cannot offer STARTTLS, RFC 3207 §4), pipelining, sending mail.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{AlertDescription, ClientConfig, PeerIncompatible, ProtocolVersion};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use super::legacy::{self, LegacyTls};
use super::reply::{Ehlo, Reply, ReplyCode, ReplyError, ReplyReader};
use super::verifier::RecordingVerifier;
use crate::sanitize::for_terminal;

/// The whole session is bounded by this many step timeouts: connect,
/// greeting, EHLO, STARTTLS, handshake, EHLO, and two short waits for QUIT
/// and the TLS close.
pub const SESSION_STEPS: u32 = 8;
/// Longest wait for the 221 after QUIT, and for the TLS close: the session
/// is over, the answer does not matter.
const QUIT_WAIT: Duration = Duration::from_millis(500);
/// Characters of a banner line kept for display.
const BANNER_DISPLAY_MAX: usize = 200;
/// Characters of reply text and error details kept for display.
const TEXT_DISPLAY_MAX: usize = 512;
/// Characters of a host name kept for display (RFC 1035 §2.3.4: 255).
const NAME_DISPLAY_MAX: usize = 255;
/// Longest EHLO name sent: a domain (RFC 1035 §2.3.4) or an address
/// literal fits.
const MAX_EHLO_NAME: usize = 255;
/// Characters of an EHLO keyword kept for display.
const KEYWORD_DISPLAY_MAX: usize = 64;

/// How to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeConfig {
    /// TCP port: 25 for the real world, the lab's port in tests.
    pub port: u16,
    /// Bound on each step (connect, each reply, the handshake).
    pub step_timeout: Duration,
    /// The name sent with EHLO (RFC 5321 §4.1.1.1: the client's domain or
    /// an address literal); printable ASCII without spaces.
    pub ehlo_name: String,
}

/// Whether TCP got through (DESIGN.md, session key `connect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connect {
    /// Connected.
    Ok,
    /// The host answered with a reset: nothing listens on the port.
    Refused,
    /// No answer within the step timeout.
    Timeout,
    /// No route to the host or its network.
    Unreachable,
    /// Any other failure, or a probe that could not start (bad SNI or EHLO
    /// name).
    Error,
}

impl Connect {
    /// The connect state an I/O error of `connect()` stands for.
    fn from_io(kind: io::ErrorKind) -> Connect {
        match kind {
            io::ErrorKind::ConnectionRefused => Connect::Refused,
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                Connect::Unreachable
            }
            io::ErrorKind::TimedOut => Connect::Timeout,
            _ => Connect::Error,
        }
    }
}

/// The step of the session where something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Waiting for the 220 greeting.
    Greeting,
    /// EHLO before TLS.
    Ehlo,
    /// The STARTTLS command and its reply.
    Starttls,
    /// The TLS handshake.
    Handshake,
}

/// Where a server refused us before TLS could be tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalStage {
    /// The greeting was 4xx/5xx instead of 220.
    Greeting,
    /// EHLO was answered 4xx/5xx.
    Ehlo,
}

/// What kind of protocol failure ended a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// No complete answer within the step timeout.
    Timeout,
    /// The server closed or reset the connection.
    Closed,
    /// A reply line over the line cap.
    LineTooLong,
    /// A reply over the line-count cap.
    TooManyLines,
    /// A reply over the size cap.
    TooLarge,
    /// Bytes that are not an SMTP reply, or codes that disagree.
    Malformed,
    /// A well-formed reply with a code that makes no sense at this step.
    UnexpectedReply,
    /// Data where none may be (bytes after the 220 to STARTTLS).
    UnexpectedData,
    /// Another I/O error.
    Io,
}

/// A failed step: what kind of failure and the details, sanitised for
/// display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepFailure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// What happened, for people.
    pub detail: String,
}

/// How the session ended. Evidence, not a verdict: classify turns it into
/// RFC 8460 result types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// No TCP connection ([`Session::connect`] says why); no TLS was tried.
    /// Not an RFC 8460 result type (SPEC §5).
    ConnectFailed {
        /// What the system said.
        detail: String,
    },
    /// The server refused the session (4xx/5xx greeting or EHLO, e.g.
    /// `421 too many connections`): whether TLS works is unknown (RFC 8460
    /// §4.3.4). Not an RFC 8460 result type.
    Inconclusive {
        /// Greeting or EHLO.
        stage: RefusalStage,
        /// The reply code.
        code: ReplyCode,
        /// The reply text, sanitised.
        text: String,
    },
    /// EHLO succeeded without STARTTLS among the extensions.
    StarttlsNotOffered,
    /// STARTTLS was advertised, then answered with something else than
    /// 220 (454 is RFC 3207 §4's "TLS not available due to temporary
    /// reason").
    StarttlsRefused {
        /// The reply code.
        code: ReplyCode,
        /// The reply text, sanitised.
        text: String,
    },
    /// The server said 220 to STARTTLS, then the TLS handshake failed.
    HandshakeFailed {
        /// The TLS alert the server sent, in RFC 8446 §6 spelling
        /// (`protocol_version`), when it sent one.
        alert: Option<String>,
        /// What went wrong, for people.
        detail: String,
        /// The failure is about the protocol version: the server speaks
        /// nothing the client accepts (TLS 1.2 and 1.3; RFC 8461 §7.2 makes
        /// 1.2 the floor).
        protocol_version: bool,
    },
    /// The server broke the protocol or went silent at `stage`.
    ProtocolError {
        /// The step that failed.
        stage: Stage,
        /// What kind of failure.
        kind: FailureKind,
        /// What happened, sanitised.
        detail: String,
    },
    /// TLS is up. The EHLO after TLS may still have failed: see
    /// [`Session::ehlo_tls_error`].
    TlsEstablished,
}

impl Outcome {
    /// Whether the server agreed to start TLS (advertised STARTTLS and
    /// answered 220): `Some(false)` when STARTTLS was not advertised or was
    /// refused, `None` when the session ended before that could be known.
    pub fn starttls_supported(&self) -> Option<bool> {
        match self {
            Outcome::StarttlsNotOffered | Outcome::StarttlsRefused { .. } => Some(false),
            Outcome::HandshakeFailed { .. }
            | Outcome::TlsEstablished
            | Outcome::ProtocolError {
                stage: Stage::Handshake,
                ..
            }
            | Outcome::ProtocolError {
                stage: Stage::Starttls,
                kind: FailureKind::UnexpectedData,
                ..
            } => Some(true),
            Outcome::ConnectFailed { .. }
            | Outcome::Inconclusive { .. }
            | Outcome::ProtocolError { .. } => None,
        }
    }
}

/// The server's greeting (RFC 5321 §4.3.1, `220 domain text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Banner {
    /// The first line's text (after the code), sanitised and cut for
    /// display.
    pub text: String,
    /// The first line's text as received (lossy UTF-8, at most a reply
    /// line's cap); never print it unsanitised.
    pub raw: String,
    /// The first word of a 220 greeting: the name the server announces
    /// (RFC 5321 §4.3.1 `Greeting`; RFC 8460 `receiving-mx-helo`),
    /// sanitised. `None` for a refusal, whose text is no name.
    pub domain: Option<String>,
    /// How many lines the greeting had.
    pub lines: usize,
}

impl Banner {
    fn from_reply(reply: &Reply) -> Banner {
        let raw = reply.lines().first().cloned().unwrap_or_default();
        let domain = (reply.code().get() == 220)
            .then(|| raw.split_ascii_whitespace().next())
            .flatten()
            .map(|name| for_terminal(name, NAME_DISPLAY_MAX));
        Banner {
            text: for_terminal(&raw, BANNER_DISPLAY_MAX),
            domain,
            lines: reply.lines().len(),
            raw,
        }
    }
}

/// What an EHLO reply advertised, sanitised for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EhloSummary {
    /// The name on the first line.
    pub domain: String,
    /// The extension keywords, upper case, in the order sent.
    pub keywords: Vec<String>,
    /// Each extension line: keyword and parameters.
    pub lines: Vec<String>,
}

impl EhloSummary {
    fn from_ehlo(ehlo: &Ehlo) -> EhloSummary {
        EhloSummary {
            domain: for_terminal(ehlo.domain(), NAME_DISPLAY_MAX),
            keywords: ehlo
                .extensions()
                .iter()
                .map(|e| for_terminal(e.keyword(), KEYWORD_DISPLAY_MAX))
                .collect(),
            lines: ehlo
                .extensions()
                .iter()
                .map(|e| {
                    let mut line = e.keyword().to_string();
                    for param in e.params() {
                        line.push(' ');
                        line.push_str(param);
                    }
                    for_terminal(&line, BANNER_DISPLAY_MAX)
                })
                .collect(),
        }
    }

    /// Whether `keyword` was advertised (case-insensitive).
    pub fn has(&self, keyword: &str) -> bool {
        self.keywords
            .iter()
            .any(|k| k.eq_ignore_ascii_case(keyword))
    }
}

/// What the TLS handshake agreed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: String,
    /// The cipher suite, IANA name as rustls spells it
    /// (`TLS13_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// The key-exchange group (`X25519`, `secp256r1`…), when known.
    pub group: Option<String>,
    /// How many certificates the server presented.
    pub chain_len: usize,
    /// Whether the server stapled an OCSP response.
    pub ocsp_stapled: bool,
}

/// Milliseconds each step took; `None` for steps not reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// TCP connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<u64>,
    /// From connected to the complete greeting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeting_ms: Option<u64>,
    /// EHLO before TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ehlo_ms: Option<u64>,
    /// STARTTLS and its reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starttls_ms: Option<u64>,
    /// The TLS handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_ms: Option<u64>,
    /// EHLO after TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ehlo_tls_ms: Option<u64>,
    /// The whole session, QUIT included.
    pub total_ms: u64,
}

/// Everything one session to one MX address observed. Made only by
/// [`probe`].
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// The address probed.
    pub ip: IpAddr,
    /// The port probed.
    pub port: u16,
    /// The SNI sent, if any.
    pub sni: Option<String>,
    /// Our end of the connection (RFC 8460 `sending-mta-ip`).
    pub local_addr: Option<SocketAddr>,
    /// Whether TCP got through.
    pub connect: Connect,
    /// The greeting, when one was read.
    pub banner: Option<Banner>,
    /// EHLO before TLS, when it succeeded.
    pub ehlo: Option<EhloSummary>,
    /// What TLS agreed on, when the handshake succeeded.
    pub tls: Option<TlsInfo>,
    /// EHLO after TLS, when it succeeded.
    pub ehlo_tls: Option<EhloSummary>,
    /// Why EHLO after TLS failed, when it did.
    pub ehlo_tls_error: Option<StepFailure>,
    /// How the session ended.
    pub outcome: Outcome,
    /// When the handshake failed in a way OpenSSL- and Go-based senders
    /// may get through: what a second session with a legacy ClientHello
    /// saw (see [`super::legacy`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_tls: Option<LegacyTls>,
    /// How long each step took.
    pub timings: Timings,
    #[serde(skip)]
    chain: Vec<CertificateDer<'static>>,
    #[serde(skip)]
    ocsp: Option<Vec<u8>>,
    /// The step running, for the whole-session bound.
    #[serde(skip)]
    stage: Option<Stage>,
    /// Whether `outcome` is final.
    #[serde(skip)]
    decided: bool,
    /// Whether the handshake failure is worth the legacy session.
    #[serde(skip)]
    legacy_wanted: bool,
}

impl Session {
    /// The certificates the server presented, leaf first, as DER; empty
    /// when no handshake got that far. Recorded even when the handshake
    /// failed after the certificate message.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The stapled OCSP response (DER), if any.
    pub fn ocsp_staple(&self) -> Option<&[u8]> {
        self.ocsp.as_deref()
    }

    /// Whether REQUIRETLS was advertised after TLS (RFC 8689 §2; only the
    /// post-TLS EHLO counts, RFC 3207 §4.2). `None` without that EHLO.
    pub fn requiretls(&self) -> Option<bool> {
        self.ehlo_tls.as_ref().map(|e| e.has("REQUIRETLS"))
    }

    pub(super) fn new(ip: IpAddr, port: u16, sni: Option<&str>) -> Session {
        Session {
            ip,
            port,
            sni: sni.map(str::to_string),
            local_addr: None,
            connect: Connect::Error,
            banner: None,
            ehlo: None,
            tls: None,
            ehlo_tls: None,
            ehlo_tls_error: None,
            outcome: Outcome::ConnectFailed {
                detail: "not attempted".to_string(),
            },
            legacy_tls: None,
            timings: Timings::default(),
            chain: Vec::new(),
            ocsp: None,
            stage: None,
            decided: false,
            legacy_wanted: false,
        }
    }

    fn decide(&mut self, outcome: Outcome) {
        self.outcome = outcome;
        self.decided = true;
    }

    fn protocol_error(&mut self, stage: Stage, failure: StepFailure) {
        self.decide(Outcome::ProtocolError {
            stage,
            kind: failure.kind,
            detail: failure.detail,
        });
    }
}

/// Runs one session to `ip` on `cfg.port`, sending `sni` in the TLS
/// handshake (none when `None`; a trailing dot is dropped). Never fails:
/// what went wrong is in the [`Session`]. Takes at most
/// [`SESSION_STEPS`] × `cfg.step_timeout`, and [`legacy::LEGACY_STEPS`]
/// more when the server refused the handshake and is asked again with a
/// legacy ClientHello.
pub async fn probe(ip: IpAddr, sni: Option<&str>, cfg: &ProbeConfig) -> Session {
    let started = Instant::now();
    let mut session = Session::new(ip, cfg.port, sni);
    let bound = cfg.step_timeout.saturating_mul(SESSION_STEPS);
    if timeout(bound, run(&mut session, cfg)).await.is_err() {
        let failure = StepFailure {
            kind: FailureKind::Timeout,
            detail: format!("session exceeded its bound of {} ms", bound.as_millis()),
        };
        if !session.decided {
            match session.stage {
                None => {
                    session.connect = Connect::Timeout;
                    session.decide(Outcome::ConnectFailed {
                        detail: failure.detail,
                    });
                }
                Some(stage) => session.protocol_error(stage, failure),
            }
        } else if session.outcome == Outcome::TlsEstablished
            && session.ehlo_tls.is_none()
            && session.ehlo_tls_error.is_none()
        {
            session.ehlo_tls_error = Some(failure);
        }
    }
    if session.legacy_wanted {
        session.legacy_tls = Some(legacy::probe(ip, sni, cfg).await);
    }
    session.timings.total_ms = millis(started.elapsed());
    session
}

async fn run(s: &mut Session, cfg: &ProbeConfig) {
    let step = cfg.step_timeout;
    let server_name = match server_name(s.ip, s.sni.as_deref()) {
        Ok(name) => name,
        Err(detail) => return s.decide(Outcome::ConnectFailed { detail }),
    };
    if !is_valid_ehlo_name(&cfg.ehlo_name) {
        return s.decide(Outcome::ConnectFailed {
            detail: format!(
                "cannot send {:?} with EHLO: not printable ASCII without spaces",
                for_terminal(&cfg.ehlo_name, NAME_DISPLAY_MAX)
            ),
        });
    }
    let Some(tcp) = open_starttls(s, cfg).await else {
        return;
    };
    let ehlo_command = ehlo_command(cfg);

    // TLS handshake.
    s.stage = Some(Stage::Handshake);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(RecordingVerifier::new(Arc::clone(&provider)));
    let builder = match ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    {
        Ok(builder) => builder,
        Err(e) => {
            return s.decide(Outcome::HandshakeFailed {
                alert: None,
                detail: format!("cannot configure TLS: {e}"),
                protocol_version: false,
            });
        }
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&verifier) as _)
        .with_no_client_auth();
    // A resumed session shows no certificate: every probe does a full
    // handshake.
    config.resumption = Resumption::disabled();
    let connector = TlsConnector::from(Arc::new(config));
    let t = Instant::now();
    let handshake = timeout(step, connector.connect(server_name, tcp)).await;
    s.timings.handshake_ms = Some(millis(t.elapsed()));
    if let Some(presented) = verifier.take() {
        s.chain = presented.chain;
        s.ocsp = presented.ocsp;
    }
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            s.legacy_wanted = legacy::worth_asking(&e, &s.chain);
            return s.decide(handshake_failure(&e));
        }
        Err(_) => {
            return s.protocol_error(
                Stage::Handshake,
                StepFailure {
                    kind: FailureKind::Timeout,
                    detail: format!("TLS handshake not done within {} ms", step.as_millis()),
                },
            );
        }
    };
    let conn = tls.get_ref().1;
    if s.chain.is_empty()
        && let Some(certs) = conn.peer_certificates()
    {
        s.chain = certs.to_vec();
    }
    s.tls = Some(TlsInfo {
        version: conn
            .protocol_version()
            .map(version_name)
            .unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|suite| {
                let id = suite.suite();
                id.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{id:?}"))
            })
            .unwrap_or_default(),
        group: conn.negotiated_key_exchange_group().map(|group| {
            let id = group.name();
            id.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{id:?}"))
        }),
        chain_len: s.chain.len(),
        ocsp_stapled: s.ocsp.is_some(),
    });
    s.decide(Outcome::TlsEstablished);

    // EHLO again, under TLS (RFC 3207 §4.2).
    let mut secure = ReplyReader::new(tls);
    let t = Instant::now();
    match exchange(&mut secure, Some(&ehlo_command), step).await {
        Ok(reply) if reply.code().get() == 250 => {
            s.ehlo_tls = Some(EhloSummary::from_ehlo(&Ehlo::from_reply(&reply)));
        }
        Ok(reply) => {
            s.ehlo_tls_error = Some(StepFailure {
                kind: FailureKind::UnexpectedReply,
                detail: for_terminal(
                    &format!("{} {}", reply.code(), reply.text()),
                    TEXT_DISPLAY_MAX,
                ),
            });
        }
        Err(failure) => s.ehlo_tls_error = Some(failure),
    }
    s.timings.ehlo_tls_ms = Some(millis(t.elapsed()));
    quit(&mut secure, step).await;
    let _ = timeout(step.min(QUIT_WAIT), secure.get_mut().shutdown()).await;
}

/// The plaintext part of a session: TCP connect, the 220 greeting, EHLO,
/// STARTTLS and its 220 (RFC 5321 §3.1, §4.1.1.1; RFC 3207 §4), each
/// step bounded by the step timeout and recorded in `s`. Returns the
/// connection ready for a ClientHello, or `None` when the session ended
/// (then `s.outcome` says how). The legacy session reuses it.
pub(super) async fn open_starttls(s: &mut Session, cfg: &ProbeConfig) -> Option<TcpStream> {
    let step = cfg.step_timeout;
    let addr = SocketAddr::new(s.ip, cfg.port);
    let t = Instant::now();
    let tcp = match timeout(step, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            s.connect = Connect::from_io(e.kind());
            s.decide(Outcome::ConnectFailed {
                detail: format!("cannot connect to {addr}: {e}"),
            });
            return None;
        }
        Err(_) => {
            s.connect = Connect::Timeout;
            s.decide(Outcome::ConnectFailed {
                detail: format!("no answer from {addr} within {} ms", step.as_millis()),
            });
            return None;
        }
    };
    s.timings.connect_ms = Some(millis(t.elapsed()));
    s.connect = Connect::Ok;
    s.local_addr = tcp.local_addr().ok();
    // Commands are small and each waits for its reply: do not delay them.
    let _ = tcp.set_nodelay(true);
    let mut plain = ReplyReader::new(tcp);

    // Greeting (RFC 5321 §3.1: 220, or 554/421 to refuse).
    s.stage = Some(Stage::Greeting);
    let t = Instant::now();
    let greeting = match exchange(&mut plain, None, step).await {
        Ok(reply) => reply,
        Err(failure) => {
            s.protocol_error(Stage::Greeting, failure);
            return None;
        }
    };
    s.timings.greeting_ms = Some(millis(t.elapsed()));
    s.banner = Some(Banner::from_reply(&greeting));
    if let Err(outcome) = expect(&greeting, 220, Stage::Greeting, RefusalStage::Greeting) {
        s.decide(outcome);
        return None;
    }

    // EHLO.
    s.stage = Some(Stage::Ehlo);
    let t = Instant::now();
    let reply = match exchange(&mut plain, Some(&ehlo_command(cfg)), step).await {
        Ok(reply) => reply,
        Err(failure) => {
            s.protocol_error(Stage::Ehlo, failure);
            return None;
        }
    };
    s.timings.ehlo_ms = Some(millis(t.elapsed()));
    if let Err(outcome) = expect(&reply, 250, Stage::Ehlo, RefusalStage::Ehlo) {
        s.decide(outcome);
        quit(&mut plain, step).await;
        return None;
    }
    let ehlo = Ehlo::from_reply(&reply);
    s.ehlo = Some(EhloSummary::from_ehlo(&ehlo));
    if !ehlo.has("STARTTLS") {
        s.decide(Outcome::StarttlsNotOffered);
        quit(&mut plain, step).await;
        return None;
    }

    // STARTTLS (RFC 3207 §4: 220 to go ahead, 454 or 501 to refuse).
    s.stage = Some(Stage::Starttls);
    let t = Instant::now();
    let reply = match exchange(&mut plain, Some("STARTTLS\r\n"), step).await {
        Ok(reply) => reply,
        Err(failure) => {
            s.protocol_error(Stage::Starttls, failure);
            return None;
        }
    };
    s.timings.starttls_ms = Some(millis(t.elapsed()));
    if reply.code().get() != 220 {
        s.decide(Outcome::StarttlsRefused {
            code: reply.code(),
            text: for_terminal(&reply.text(), TEXT_DISPLAY_MAX),
        });
        quit(&mut plain, step).await;
        return None;
    }
    let (tcp, leftover) = plain.into_parts();
    if !leftover.is_empty() {
        // Bytes sent before our ClientHello cannot be TLS from the server:
        // they were pushed after the 220 in plaintext (STARTTLS response
        // injection). RFC 3207 §4.2 has the client forget what came before
        // TLS; we stop and report instead of silently dropping them.
        s.protocol_error(
            Stage::Starttls,
            StepFailure {
                kind: FailureKind::UnexpectedData,
                detail: format!(
                    "{} bytes arrived after the 220 reply to STARTTLS, before the TLS handshake",
                    leftover.len()
                ),
            },
        );
        return None;
    }
    Some(tcp)
}

/// The EHLO command line for `cfg`'s name (checked by [`run`]).
fn ehlo_command(cfg: &ProbeConfig) -> String {
    format!("EHLO {}\r\n", cfg.ehlo_name)
}

/// Sends `command` (if any) and reads one reply, all within `step`.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    reader: &mut ReplyReader<S>,
    command: Option<&str>,
    step: Duration,
) -> Result<Reply, StepFailure> {
    let work = async {
        if let Some(command) = command {
            let stream = reader.get_mut();
            stream
                .write_all(command.as_bytes())
                .await
                .map_err(|e| io_failure(&e, "cannot send the command"))?;
            stream
                .flush()
                .await
                .map_err(|e| io_failure(&e, "cannot send the command"))?;
        }
        reader.read_reply().await.map_err(reply_failure)
    };
    match timeout(step, work).await {
        Ok(result) => result,
        Err(_) => Err(StepFailure {
            kind: FailureKind::Timeout,
            detail: format!("no complete reply within {} ms", step.as_millis()),
        }),
    }
}

/// Says goodbye without waiting long for the 221 (RFC 5321 §4.1.1.10).
async fn quit<S: AsyncRead + AsyncWrite + Unpin>(reader: &mut ReplyReader<S>, step: Duration) {
    let _ = exchange(reader, Some("QUIT\r\n"), step.min(QUIT_WAIT)).await;
}

/// Checks that `reply` has code `want`: 4xx/5xx is a refusal that leaves
/// the question open, anything else a protocol error.
fn expect(reply: &Reply, want: u16, stage: Stage, refusal: RefusalStage) -> Result<(), Outcome> {
    let code = reply.code();
    if code.get() == want {
        Ok(())
    } else if code.is_transient() || code.is_permanent() {
        Err(Outcome::Inconclusive {
            stage: refusal,
            code,
            text: for_terminal(&reply.text(), TEXT_DISPLAY_MAX),
        })
    } else {
        Err(Outcome::ProtocolError {
            stage,
            kind: FailureKind::UnexpectedReply,
            detail: for_terminal(
                &format!("expected {want}, got {code} {}", reply.text()),
                TEXT_DISPLAY_MAX,
            ),
        })
    }
}

fn reply_failure(error: ReplyError) -> StepFailure {
    let kind = match &error {
        ReplyError::LineTooLong { .. } => FailureKind::LineTooLong,
        ReplyError::TooManyLines { .. } => FailureKind::TooManyLines,
        ReplyError::TooLarge { .. } => FailureKind::TooLarge,
        ReplyError::Malformed { .. } | ReplyError::CodeMismatch { .. } => FailureKind::Malformed,
        ReplyError::Closed { .. } => FailureKind::Closed,
        ReplyError::Io(e) => io_kind(e),
    };
    StepFailure {
        kind,
        detail: for_terminal(&error.to_string(), TEXT_DISPLAY_MAX),
    }
}

fn io_failure(error: &io::Error, what: &str) -> StepFailure {
    StepFailure {
        kind: io_kind(error),
        detail: format!("{what}: {error}"),
    }
}

fn io_kind(error: &io::Error) -> FailureKind {
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => FailureKind::Closed,
        io::ErrorKind::TimedOut => FailureKind::Timeout,
        _ => FailureKind::Io,
    }
}

/// The outcome for a handshake that ended in `error`.
fn handshake_failure(error: &io::Error) -> Outcome {
    let tls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls_error {
        Some(rustls::Error::AlertReceived(alert)) => {
            let name = alert_name(*alert);
            Outcome::HandshakeFailed {
                detail: format!("the server sent the TLS alert {name}"),
                alert: Some(name),
                protocol_version: *alert == AlertDescription::ProtocolVersion,
            }
        }
        Some(e @ rustls::Error::PeerIncompatible(why)) => Outcome::HandshakeFailed {
            alert: None,
            detail: e.to_string(),
            protocol_version: matches!(
                why,
                PeerIncompatible::ServerDoesNotSupportTls12Or13
                    | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            ),
        },
        Some(e) => Outcome::HandshakeFailed {
            alert: None,
            detail: e.to_string(),
            protocol_version: false,
        },
        None => Outcome::HandshakeFailed {
            alert: None,
            detail: match error.kind() {
                io::ErrorKind::UnexpectedEof => {
                    "the server closed the connection during the TLS handshake".to_string()
                }
                _ => format!("connection failed during the TLS handshake: {error}"),
            },
            protocol_version: false,
        },
    }
}

/// An alert in RFC 8446 §6 spelling: `ProtocolVersion` → `protocol_version`.
pub(super) fn alert_name(alert: AlertDescription) -> String {
    let Some(camel) = alert.as_str() else {
        return format!("unknown({})", u8::from(alert));
    };
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// How a session that did not reach TLS ended, in a few words.
pub(super) fn outcome_summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::ConnectFailed { detail } | Outcome::ProtocolError { detail, .. } => detail.clone(),
        Outcome::Inconclusive { code, text, .. } | Outcome::StarttlsRefused { code, text } => {
            format!("{code} {text}")
        }
        Outcome::StarttlsNotOffered => "STARTTLS was not offered".to_string(),
        Outcome::HandshakeFailed { detail, .. } => detail.clone(),
        Outcome::TlsEstablished => "TLS established".to_string(),
    }
}

fn version_name(version: ProtocolVersion) -> String {
    match version {
        ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    }
}

/// The name for the handshake: the SNI when given (RFC 6066 §3 sends it
/// without a trailing dot), else the address, which rustls does not send.
fn server_name(ip: IpAddr, sni: Option<&str>) -> Result<ServerName<'static>, String> {
    match sni {
        None => Ok(ServerName::IpAddress(ip.into())),
        Some(name) => {
            let bare = name.strip_suffix('.').unwrap_or(name);
            ServerName::try_from(bare.to_string()).map_err(|e| {
                format!(
                    "cannot use {:?} as SNI: {e}",
                    for_terminal(name, NAME_DISPLAY_MAX)
                )
            })
        }
    }
}

/// RFC 5321 §4.1.1.1: a domain or address literal; we only make sure it
/// cannot smuggle a line end or a second argument into the command.
fn is_valid_ehlo_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_EHLO_NAME && name.bytes().all(|b| b.is_ascii_graphic())
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use serde_json::json;
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn config(port: u16) -> ProbeConfig {
        ProbeConfig {
            port,
            step_timeout: Duration::from_secs(5),
            ehlo_name: "probe.example".to_string(),
        }
    }

    /// A server that sends `greeting`, then answers each command line
    /// with the next canned reply (each in one write), then closes when
    /// the next command arrives.
    async fn scripted(greeting: &'static [u8], replies: Vec<&'static [u8]>) -> u16 {
        let listener = TcpListener::bind((LOOPBACK, 0)).await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        tokio::spawn(async move {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let mut stream = BufReader::new(stream);
            let _ = stream.get_mut().write_all(greeting).await;
            for reply in replies {
                let mut line = Vec::new();
                if stream.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let _ = stream.get_mut().write_all(reply).await;
            }
            let mut line = Vec::new();
            let _ = stream.read_until(b'\n', &mut line).await;
        });
        port
    }

    /// A reply code, made the only way there is: by reading a reply.
    async fn code(n: u16) -> ReplyCode {
        let line = format!("{n} x\r\n");
        ReplyReader::new(line.as_bytes())
            .read_reply()
            .await
            .expect("test codes are valid")
            .code()
    }

    #[tokio::test]
    async fn scripted_servers_end_in_their_outcomes() {
        type Row = (
            &'static str,
            &'static [u8],
            Vec<&'static [u8]>,
            serde_json::Value,
        );
        let rows: Vec<Row> = vec![
            (
                "plaintext pushed after the 220 to STARTTLS is refused",
                b"220 mx.example ESMTP\r\n",
                vec![
                    b"250-mx.example\r\n250 STARTTLS\r\n",
                    b"220 go ahead\r\n250 injected\r\n",
                ],
                json!({"status": "protocol-error", "stage": "starttls", "kind": "unexpected-data",
                    "detail": "14 bytes arrived after the 220 reply to STARTTLS, before the TLS handshake"}),
            ),
            (
                "a 554 greeting is inconclusive, not a missing STARTTLS",
                b"554 5.7.1 no SMTP service here\r\n",
                vec![],
                json!({"status": "inconclusive", "stage": "greeting", "code": 554,
                    "text": "5.7.1 no SMTP service here"}),
            ),
            (
                "a 421 EHLO reply is inconclusive",
                b"220 mx.example ESMTP\r\n",
                vec![b"421-4.3.2 too many\r\n421 4.3.2 connections\r\n"],
                json!({"status": "inconclusive", "stage": "ehlo", "code": 421,
                    "text": "4.3.2 too many 4.3.2 connections"}),
            ),
            (
                "a 550 EHLO reply is inconclusive too",
                b"220 mx.example ESMTP\r\n",
                vec![b"550 5.7.1 go away\r\n"],
                json!({"status": "inconclusive", "stage": "ehlo", "code": 550,
                    "text": "5.7.1 go away"}),
            ),
            (
                "a greeting with another 2xx code is a protocol error",
                b"250 mx.example\r\n",
                vec![],
                json!({"status": "protocol-error", "stage": "greeting", "kind": "unexpected-reply",
                    "detail": "expected 220, got 250 mx.example"}),
            ),
            (
                "STARTTLS advertised then 502 is refused with the code, text sanitised",
                b"220 mx.example ESMTP\r\n",
                vec![
                    b"250-mx.example\r\n250 starttls\r\n",
                    b"502 5.5.1 not implemented\x1b[31m\r\n",
                ],
                json!({"status": "starttls-refused", "code": 502,
                    "text": "5.5.1 not implemented\\x1b[31m"}),
            ),
            (
                "closing instead of answering STARTTLS is a closed protocol error",
                b"220 mx.example ESMTP\r\n",
                vec![b"250-mx.example\r\n250 STARTTLS\r\n"],
                json!({"status": "protocol-error", "stage": "starttls", "kind": "closed",
                    "detail": "connection closed before the reply ended (0 complete lines received)"}),
            ),
            (
                "garbage instead of a greeting is malformed",
                b"SSH-2.0-OpenSSH_9.6\r\n",
                vec![],
                json!({"status": "protocol-error", "stage": "greeting", "kind": "malformed",
                    "detail": "reply line 1 is not an SMTP reply line (no reply code 200-559): \"SSH-2.0-OpenSSH_9.6\""}),
            ),
        ];
        for (rule, greeting, replies, want) in rows {
            let port = scripted(greeting, replies).await;
            let session = timeout(
                Duration::from_secs(20),
                probe(LOOPBACK, Some("mx.example"), &config(port)),
            )
            .await
            .expect("the probe ends within its bound");
            assert_eq!(session.connect, Connect::Ok, "{rule}");
            let got = serde_json::to_value(&session.outcome).expect("outcomes serialise");
            assert_eq!(got, want, "{rule}");
        }
    }

    #[tokio::test]
    async fn probes_that_cannot_start_say_why() {
        for (rule, sni, ehlo_name) in [
            (
                "an SNI that is no DNS name",
                Some("bad name!"),
                "probe.example",
            ),
            ("an EHLO name with a line end", None, "a\r\nRSET"),
            ("an empty EHLO name", None, ""),
        ] {
            let cfg = ProbeConfig {
                ehlo_name: ehlo_name.to_string(),
                ..config(9)
            };
            let session = probe(LOOPBACK, sni, &cfg).await;
            assert_eq!(session.connect, Connect::Error, "{rule}");
            assert!(
                matches!(session.outcome, Outcome::ConnectFailed { .. }),
                "{rule}: {:?}",
                session.outcome
            );
            assert!(session.local_addr.is_none(), "{rule}: nothing was sent");
        }
    }

    #[test]
    fn connect_errors_map_to_the_session_vocabulary() {
        for (kind, want) in [
            (io::ErrorKind::ConnectionRefused, Connect::Refused),
            (io::ErrorKind::HostUnreachable, Connect::Unreachable),
            (io::ErrorKind::NetworkUnreachable, Connect::Unreachable),
            (io::ErrorKind::TimedOut, Connect::Timeout),
            (io::ErrorKind::PermissionDenied, Connect::Error),
        ] {
            assert_eq!(Connect::from_io(kind), want, "{kind:?}");
        }
    }

    #[test]
    fn alerts_are_named_as_rfc_8446_spells_them() {
        for (alert, want) in [
            (AlertDescription::ProtocolVersion, "protocol_version"),
            (AlertDescription::HandshakeFailure, "handshake_failure"),
            (AlertDescription::InternalError, "internal_error"),
            (AlertDescription::Unknown(250), "unknown(250)"),
        ] {
            assert_eq!(alert_name(alert), want, "{alert:?}");
        }
    }

    #[test]
    fn handshake_errors_flag_version_problems_only() {
        let wrap = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let rows = [
            (
                "protocol_version alert",
                wrap(rustls::Error::AlertReceived(
                    AlertDescription::ProtocolVersion,
                )),
                Some("protocol_version"),
                true,
            ),
            (
                "server hello below TLS 1.2",
                wrap(rustls::Error::PeerIncompatible(
                    PeerIncompatible::ServerDoesNotSupportTls12Or13,
                )),
                None,
                true,
            ),
            (
                "handshake_failure alert is not about the version",
                wrap(rustls::Error::AlertReceived(
                    AlertDescription::HandshakeFailure,
                )),
                Some("handshake_failure"),
                false,
            ),
            (
                "no common cipher is not about the version",
                wrap(rustls::Error::PeerIncompatible(
                    PeerIncompatible::NoCipherSuitesInCommon,
                )),
                None,
                false,
            ),
            (
                "a close mid-handshake is not about the version",
                io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof"),
                None,
                false,
            ),
        ];
        for (rule, error, want_alert, want_version) in rows {
            match handshake_failure(&error) {
                Outcome::HandshakeFailed {
                    alert,
                    protocol_version,
                    ..
                } => {
                    assert_eq!(alert.as_deref(), want_alert, "{rule}");
                    assert_eq!(protocol_version, want_version, "{rule}");
                }
                other => panic!("{rule}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn outcomes_serialise_with_kebab_case_tags() {
        let rows = [
            (
                Outcome::StarttlsNotOffered,
                r#"{"status":"starttls-not-offered"}"#,
            ),
            (Outcome::TlsEstablished, r#"{"status":"tls-established"}"#),
            (
                Outcome::Inconclusive {
                    stage: RefusalStage::Greeting,
                    code: code(421).await,
                    text: "busy".into(),
                },
                r#"{"status":"inconclusive","stage":"greeting","code":421,"text":"busy"}"#,
            ),
            (
                Outcome::HandshakeFailed {
                    alert: Some("protocol_version".into()),
                    detail: "d".into(),
                    protocol_version: true,
                },
                r#"{"status":"handshake-failed","alert":"protocol_version","detail":"d","protocol_version":true}"#,
            ),
            (
                Outcome::ProtocolError {
                    stage: Stage::Greeting,
                    kind: FailureKind::LineTooLong,
                    detail: "d".into(),
                },
                r#"{"status":"protocol-error","stage":"greeting","kind":"line-too-long","detail":"d"}"#,
            ),
        ];
        for (outcome, want) in rows {
            let got = serde_json::to_string(&outcome).expect("outcomes serialise");
            assert_eq!(got, want, "{outcome:?}");
        }
    }

    #[tokio::test]
    async fn starttls_support_is_known_only_past_ehlo() {
        let rows = [
            (
                Outcome::ConnectFailed {
                    detail: String::new(),
                },
                None,
            ),
            (
                Outcome::Inconclusive {
                    stage: RefusalStage::Ehlo,
                    code: code(421).await,
                    text: String::new(),
                },
                None,
            ),
            (Outcome::StarttlsNotOffered, Some(false)),
            (
                Outcome::StarttlsRefused {
                    code: code(454).await,
                    text: String::new(),
                },
                Some(false),
            ),
            (
                Outcome::HandshakeFailed {
                    alert: None,
                    detail: String::new(),
                    protocol_version: false,
                },
                Some(true),
            ),
            (
                Outcome::ProtocolError {
                    stage: Stage::Starttls,
                    kind: FailureKind::Timeout,
                    detail: String::new(),
                },
                None,
            ),
            (Outcome::TlsEstablished, Some(true)),
        ];
        for (outcome, want) in rows {
            assert_eq!(outcome.starttls_supported(), want, "{outcome:?}");
        }
    }
}
