//! What one STARTTLS session observed: the evidence a probe leaves, as
//! plain values apart from the socket code in [`super::client`].
//!
//! A [`Session`] keeps what was seen and how long each step took, and an
//! [`Outcome`] that keeps apart the cases a report must not confuse (SPEC
//! §5): a failed TCP connection and a temporary refusal (`421`) are neither
//! of them "STARTTLS not supported".

use std::io;
use std::net::{IpAddr, SocketAddr};

use rustls::pki_types::CertificateDer;
use serde::Serialize;

use super::legacy_tls::LegacyTls;
use super::reply::{Ehlo, Reply, ReplyCode};
use crate::sanitize::for_terminal;

/// Characters of a banner line kept for display.
pub(super) const BANNER_DISPLAY_MAX: usize = 200;
/// Characters of reply text and error details kept for display.
pub(super) const TEXT_DISPLAY_MAX: usize = 512;
/// Characters of a host name kept for display (RFC 1035 §2.3.4: 255).
pub(super) const NAME_DISPLAY_MAX: usize = 255;
/// Characters of an EHLO keyword kept for display.
const KEYWORD_DISPLAY_MAX: usize = 64;

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
    pub(super) fn from_io(kind: io::ErrorKind) -> Connect {
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
    /// The server said 220 to STARTTLS, then spoke plain text where the TLS
    /// handshake belongs: pushed right behind the 220, or in answer to the
    /// ClientHello (a `500` to what it read as a command). A sender's
    /// handshake fails either way.
    PlaintextAfterStarttls {
        /// The first line of text it sent, sanitised.
        text: String,
        /// Whether the text came before our ClientHello was sent.
        before_client_hello: bool,
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
    /// What the server did not do in time when the session ended in a
    /// timeout before TLS (`did not send its greeting`): a silent server,
    /// not one that refused the session (Postfix logs "timed out while
    /// receiving the initial server greeting" for the same).
    pub fn silent_before_tls(&self) -> Option<&'static str> {
        match self {
            Outcome::ProtocolError {
                stage,
                kind: FailureKind::Timeout,
                ..
            } => match stage {
                Stage::Greeting => Some("did not send its greeting"),
                Stage::Ehlo => Some("did not answer EHLO"),
                Stage::Starttls => Some("did not answer STARTTLS"),
                Stage::Handshake => None,
            },
            _ => None,
        }
    }

    /// Whether the server agreed to start TLS (advertised STARTTLS and
    /// answered 220): `Some(false)` when STARTTLS was not advertised or was
    /// refused, `None` when the session ended before that could be known.
    pub fn starttls_supported(&self) -> Option<bool> {
        match self {
            Outcome::StarttlsNotOffered | Outcome::StarttlsRefused { .. } => Some(false),
            Outcome::HandshakeFailed { .. }
            | Outcome::PlaintextAfterStarttls { .. }
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
    pub(super) fn from_reply(reply: &Reply) -> Banner {
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
    pub(super) fn from_ehlo(ehlo: &Ehlo) -> EhloSummary {
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
    /// saw (see [`super::legacy_tls`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_tls: Option<LegacyTls>,
    /// How long each step took.
    pub timings: Timings,
    /// When the session began (for the domain's `timings`).
    #[serde(skip)]
    pub started: Option<std::time::Instant>,
    #[serde(skip)]
    pub(super) chain: Vec<CertificateDer<'static>>,
    #[serde(skip)]
    pub(super) ocsp: Option<Vec<u8>>,
    /// The step running, for the whole-session bound.
    #[serde(skip)]
    pub(super) stage: Option<Stage>,
    /// Whether `outcome` is final.
    #[serde(skip)]
    pub(super) decided: bool,
    /// Whether the handshake failure is worth the legacy session.
    #[serde(skip)]
    pub(super) legacy_wanted: bool,
    /// The dialogue as it went over the wire (shown by `-v`).
    #[serde(skip)]
    pub(super) transcript: super::transcript::Transcript,
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
            started: None,
            chain: Vec::new(),
            ocsp: None,
            stage: None,
            decided: false,
            legacy_wanted: false,
            transcript: Default::default(),
        }
    }

    /// The SMTP dialogue: commands sent, replies received, escaped.
    pub fn transcript(&self) -> &super::transcript::Transcript {
        &self.transcript
    }

    pub(super) fn decide(&mut self, outcome: Outcome) {
        self.outcome = outcome;
        self.decided = true;
    }

    pub(super) fn protocol_error(&mut self, stage: Stage, failure: StepFailure) {
        self.decide(Outcome::ProtocolError {
            stage,
            kind: failure.kind,
            detail: failure.detail,
        });
    }
}
