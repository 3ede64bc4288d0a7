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

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use super::key_type::KeyType;
use super::legacy_hello::{self, Flight, alert_name};
use super::legacy_tls::{self, LegacyTls};
use super::plaintext::{self, Recording};
use super::quick_ack::QuickAck;
use super::reply::{Ehlo, Reply, ReplyError, ReplyReader};
use super::session::*;
use super::transcript::Transcript;
use super::verifier::RecordingVerifier;
use crate::sanitize::for_terminal;

/// The whole session is bounded by this many step timeouts: connect,
/// greeting, EHLO, STARTTLS, handshake, EHLO, and two short waits for QUIT
/// and the TLS close.
pub const SESSION_STEPS: u32 = 8;
/// The legacy session is bounded by this many step timeouts: connect,
/// greeting, EHLO, STARTTLS, and the ClientHello with its answer.
pub const LEGACY_STEPS: u32 = 5;
/// Bytes read from the socket at a time in the legacy session.
const LEGACY_READ_CHUNK: usize = 4096;
/// Longest wait for the 221 after QUIT, and for the TLS close: the session
/// is over, the answer does not matter.
const QUIT_WAIT: Duration = Duration::from_millis(500);
/// Longest EHLO name sent: a domain (RFC 1035 §2.3.4) or an address
/// literal fits.
const MAX_EHLO_NAME: usize = 255;

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

/// Runs one session to `ip` on `cfg.port`, sending `sni` in the TLS
/// handshake (none when `None`; a trailing dot is dropped). Never fails:
/// what went wrong is in the [`Session`]. Takes at most
/// [`SESSION_STEPS`] × `cfg.step_timeout`, and [`LEGACY_STEPS`] more when
/// the server refused the handshake and is asked again with a legacy
/// ClientHello ([`super::legacy_tls`]).
pub async fn probe(ip: IpAddr, sni: Option<&str>, cfg: &ProbeConfig) -> Session {
    probe_limited(ip, sni, cfg, None).await
}

/// [`probe`], with a ClientHello that offers only `only`'s signature
/// schemes and TLS 1.2 suites (everything when `None`): the session a
/// sender limited to that key type has (see [`super::key_type`]). A
/// limited session never asks again with a legacy ClientHello.
pub async fn probe_limited(
    ip: IpAddr,
    sni: Option<&str>,
    cfg: &ProbeConfig,
    only: Option<KeyType>,
) -> Session {
    probe_telling(ip, sni, cfg, only, &|_| {}).await
}

/// [`probe_limited`], calling `tls_up` with the chain the server showed
/// the moment the handshake has succeeded (before EHLO under TLS and
/// QUIT), for work that waits only for that.
pub async fn probe_telling(
    ip: IpAddr,
    sni: Option<&str>,
    cfg: &ProbeConfig,
    only: Option<KeyType>,
    tls_up: &(dyn Fn(&[CertificateDer<'static>]) + Send + Sync),
) -> Session {
    let started = Instant::now();
    let mut session = Session::new(ip, cfg.port, sni);
    session.started = Some(started);
    let bound = cfg.step_timeout.saturating_mul(SESSION_STEPS);
    if timeout(bound, run(&mut session, cfg, only, tls_up))
        .await
        .is_err()
    {
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
    // A session limited to one key type asks what that key type gets; a
    // refusal there says the server has no such certificate, not that it
    // needs a legacy ClientHello.
    if session.legacy_wanted && only.is_none() {
        session.legacy_tls = Some(legacy_probe(ip, sni, cfg).await);
    }
    session.timings.total_ms = millis(started.elapsed());
    session
}

async fn run(
    s: &mut Session,
    cfg: &ProbeConfig,
    only: Option<KeyType>,
    tls_up: &(dyn Fn(&[CertificateDer<'static>]) + Send + Sync),
) {
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
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(key) = only {
        provider
            .cipher_suites
            .retain(|suite| key.admits_suite(suite));
    }
    let provider = Arc::new(provider);
    let verifier = Arc::new(RecordingVerifier::limited_to(Arc::clone(&provider), only));
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
    // The first bytes the server sends are kept, to quote them when they
    // are plain text instead of TLS.
    let handshake = timeout(
        step,
        connector
            .connect(server_name, Recording::new(tcp))
            .into_fallible(),
    )
    .await;
    s.timings.handshake_ms = Some(millis(t.elapsed()));
    if let Some(presented) = verifier.take() {
        s.chain = presented.chain;
        s.ocsp = presented.ocsp;
    }
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err((e, stream))) => {
            s.transcript.event(&format!("TLS handshake failed: {e}"));
            if let Some(text) = plaintext::plaintext_line(stream.first()) {
                return s.decide(Outcome::PlaintextAfterStarttls {
                    text,
                    before_client_hello: false,
                });
            }
            s.legacy_wanted = legacy_tls::worth_asking(&e, &s.chain);
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
    if let Some(info) = &s.tls {
        let event = format!(
            "TLS handshake done: {} {}, {} certificate(s)",
            info.version, info.cipher, info.chain_len
        );
        s.transcript.event(&event);
    }
    tls_up(&s.chain);

    // EHLO again, under TLS (RFC 3207 §4.2).
    let mut secure = ReplyReader::new(tls);
    let t = Instant::now();
    match exchange(&mut secure, Some(&ehlo_command), step, &mut s.transcript).await {
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
    quit(&mut secure, step, &mut s.transcript).await;
    let _ = timeout(step.min(QUIT_WAIT), secure.get_mut().shutdown()).await;
}

/// The plaintext part of a session: TCP connect, the 220 greeting, EHLO,
/// STARTTLS and its 220 (RFC 5321 §3.1, §4.1.1.1; RFC 3207 §4), each
/// step bounded by the step timeout and recorded in `s`. Returns the
/// connection ready for a ClientHello, or `None` when the session ended
/// (then `s.outcome` says how). The legacy session reuses it.
async fn open_starttls(s: &mut Session, cfg: &ProbeConfig) -> Option<QuickAck> {
    let step = cfg.step_timeout;
    let addr = SocketAddr::new(s.ip, cfg.port);
    let t = Instant::now();
    s.transcript.event(&format!("connecting to {addr}"));
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
    // Commands are small and each waits for its reply: neither they nor
    // our acknowledgements of the server's replies wait (`quick_ack`).
    let tcp = QuickAck::new(tcp);
    s.local_addr = tcp.local_addr().ok();
    let mut plain = ReplyReader::new(tcp);

    // Greeting (RFC 5321 §3.1: 220, or 554/421 to refuse).
    s.stage = Some(Stage::Greeting);
    let t = Instant::now();
    let greeting = match exchange(&mut plain, None, step, &mut s.transcript).await {
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
    let reply = match exchange(
        &mut plain,
        Some(&ehlo_command(cfg)),
        step,
        &mut s.transcript,
    )
    .await
    {
        Ok(reply) => reply,
        Err(failure) => {
            s.protocol_error(Stage::Ehlo, failure);
            return None;
        }
    };
    s.timings.ehlo_ms = Some(millis(t.elapsed()));
    if let Err(outcome) = expect(&reply, 250, Stage::Ehlo, RefusalStage::Ehlo) {
        s.decide(outcome);
        quit(&mut plain, step, &mut s.transcript).await;
        return None;
    }
    let ehlo = Ehlo::from_reply(&reply);
    s.ehlo = Some(EhloSummary::from_ehlo(&ehlo));
    if !ehlo.has("STARTTLS") {
        s.decide(Outcome::StarttlsNotOffered);
        quit(&mut plain, step, &mut s.transcript).await;
        return None;
    }

    // STARTTLS (RFC 3207 §4: 220 to go ahead, 454 or 501 to refuse).
    s.stage = Some(Stage::Starttls);
    let t = Instant::now();
    let reply = match exchange(&mut plain, Some("STARTTLS\r\n"), step, &mut s.transcript).await {
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
        quit(&mut plain, step, &mut s.transcript).await;
        return None;
    }
    let (tcp, leftover) = plain.into_parts();
    if !leftover.is_empty() {
        // Bytes sent before our ClientHello cannot be TLS from the server:
        // they were pushed after the 220 in plaintext (STARTTLS response
        // injection). RFC 3207 §4.2 has the client forget what came before
        // TLS; we stop and report instead of silently dropping them. A
        // sender that goes on reads them as a TLS record and fails.
        if let Some(text) = plaintext::plaintext_line(&leftover) {
            s.decide(Outcome::PlaintextAfterStarttls {
                text,
                before_client_hello: true,
            });
            return None;
        }
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

/// The second look at a server that refused rustls (see
/// [`super::legacy_tls`]): the same dialogue as the first session up to
/// STARTTLS, then the legacy ClientHello, and the answer read up to the
/// Certificate message, at most [`legacy_hello::MAX_FLIGHT`] bytes. The
/// handshake is then dropped. Never fails; takes at most [`LEGACY_STEPS`]
/// × `cfg.step_timeout`.
async fn legacy_probe(ip: IpAddr, sni: Option<&str>, cfg: &ProbeConfig) -> LegacyTls {
    let bound = cfg.step_timeout.saturating_mul(LEGACY_STEPS);
    match timeout(bound, legacy_run(ip, sni, cfg)).await {
        Ok(legacy) => legacy,
        Err(_) => LegacyTls::Failed {
            detail: format!(
                "the second session exceeded its bound of {} ms",
                bound.as_millis()
            ),
        },
    }
}

async fn legacy_run(ip: IpAddr, sni: Option<&str>, cfg: &ProbeConfig) -> LegacyTls {
    let mut scratch = Session::new(ip, cfg.port, sni);
    let Some(mut tcp) = open_starttls(&mut scratch, cfg).await else {
        return LegacyTls::Failed {
            detail: format!(
                "the second session ended before TLS: {}",
                outcome_summary(&scratch.outcome)
            ),
        };
    };
    let step = cfg.step_timeout;
    let mut random = [0u8; 32];
    // A hello that is never finished needs no secret randomness; zeros
    // are a valid random if the system has none.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    let hello = legacy_hello::client_hello(sni, &random);
    let mut flight = Flight::new();
    let exchange = async {
        tcp.write_all(&hello).await?;
        tcp.flush().await?;
        let mut buf = vec![0u8; LEGACY_READ_CHUNK];
        loop {
            let n = tcp.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, io::Error>(None);
            }
            match flight.feed(&buf[..n]) {
                Ok(None) => {}
                Ok(Some(answer)) => return Ok(Some(Ok(answer))),
                Err(e) => return Ok(Some(Err(e))),
            }
        }
    };
    let read = timeout(step, exchange).await;
    let _ = timeout(step.min(QUIT_WAIT), tcp.shutdown()).await;
    match read {
        Ok(Ok(Some(answer))) => LegacyTls::from_answer(answer),
        // A close, or a reset (a server that closes with our bytes
        // unread): what arrived before it is the answer.
        Ok(Ok(None)) => LegacyTls::from_answer(flight.finish()),
        Ok(Err(e))
            if matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ) =>
        {
            LegacyTls::from_answer(flight.finish())
        }
        Ok(Err(e)) => LegacyTls::Failed {
            detail: format!("the second session failed during the TLS handshake: {e}"),
        },
        Err(_) => LegacyTls::Failed {
            detail: format!(
                "no answer to the legacy ClientHello within {} ms",
                step.as_millis()
            ),
        },
    }
}

/// How a session that did not reach TLS ended, in a few words.
fn outcome_summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::ConnectFailed { detail }
        | Outcome::ProtocolError { detail, .. }
        | Outcome::HandshakeFailed { detail, .. } => detail.clone(),
        Outcome::Inconclusive { code, text, .. } | Outcome::StarttlsRefused { code, text } => {
            format!("{code} {text}")
        }
        Outcome::StarttlsNotOffered => "STARTTLS was not offered".to_string(),
        Outcome::PlaintextAfterStarttls { text, .. } => {
            format!("plain text after the 220 to STARTTLS: {text}")
        }
        Outcome::TlsEstablished => "TLS established".to_string(),
    }
}

/// Sends `command` (if any) and reads one reply, all within `step`.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    reader: &mut ReplyReader<S>,
    command: Option<&str>,
    step: Duration,
    log: &mut Transcript,
) -> Result<Reply, StepFailure> {
    if let Some(command) = command {
        log.sent(command);
    }
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
    let result = match timeout(step, work).await {
        Ok(result) => result,
        Err(_) => Err(StepFailure {
            kind: FailureKind::Timeout,
            detail: format!("no complete reply within {} ms", step.as_millis()),
        }),
    };
    match &result {
        Ok(reply) => log.received(reply),
        Err(failure) => log.event(&failure.detail),
    }
    result
}

/// Says goodbye without waiting long for the 221 (RFC 5321 §4.1.1.10).
async fn quit<S: AsyncRead + AsyncWrite + Unpin>(
    reader: &mut ReplyReader<S>,
    step: Duration,
    log: &mut Transcript,
) {
    let _ = exchange(reader, Some("QUIT\r\n"), step.min(QUIT_WAIT), log).await;
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
    use crate::smtp::reply::ReplyCode;

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
                "plain text pushed behind the 220 to STARTTLS is plain text after STARTTLS",
                b"220 mx.example ESMTP\r\n",
                vec![
                    b"250-mx.example\r\n250 STARTTLS\r\n",
                    b"220 go ahead\r\n250 injected\r\n",
                ],
                json!({"status": "plaintext-after-starttls", "text": "250 injected",
                    "before_client_hello": true}),
            ),
            (
                "binary bytes pushed behind the 220 to STARTTLS are unexpected data",
                b"220 mx.example ESMTP\r\n",
                vec![
                    b"250-mx.example\r\n250 STARTTLS\r\n",
                    b"220 go ahead\r\n\x00\x01\x02",
                ],
                json!({"status": "protocol-error", "stage": "starttls", "kind": "unexpected-data",
                    "detail": "3 bytes arrived after the 220 reply to STARTTLS, before the TLS handshake"}),
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
            (
                Outcome::PlaintextAfterStarttls {
                    text: "500 bad".into(),
                    before_client_hello: false,
                },
                r#"{"status":"plaintext-after-starttls","text":"500 bad","before_client_hello":false}"#,
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
            (
                Outcome::PlaintextAfterStarttls {
                    text: String::new(),
                    before_client_hello: true,
                },
                Some(true),
            ),
            (Outcome::TlsEstablished, Some(true)),
        ];
        for (outcome, want) in rows {
            assert_eq!(outcome.starttls_supported(), want, "{outcome:?}");
        }
    }
}
