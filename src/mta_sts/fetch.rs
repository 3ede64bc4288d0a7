//! Fetching the MTA-STS policy over HTTPS (RFC 8461 §3.3).
//!
//! The policy of `example.com` lives at
//! `https://mta-sts.example.com/.well-known/mta-sts.txt`. This module does
//! that one GET the way a sending MTA must, and reports what it observed;
//! it does not parse the policy (that is `mta_sts::policy`).
//!
//! What RFC 8461 §3.3 asks, and how it is done here:
//! - The certificate must be valid for `mta-sts.<domain>` under the WebPKI
//!   (RFC 6125 DNS-ID only, non-expired, chaining to a trusted root). The
//!   SNI is that name. A certificate problem is
//!   [`FetchOutcome::WebPkiInvalid`], RFC 8460 result type
//!   `sts-webpki-invalid`, and says which problem it is.
//! - Only 200 is a policy. 3xx redirects MUST NOT be followed: a redirect is
//!   a fetch error naming the Location. HTTP caching MUST NOT be used: no
//!   cache exists here, each fetch opens its own connection.
//! - The suggested timeout (one minute) and size cap (64 KB, read here as
//!   65 536 bytes) are the defaults. A body over the cap is a fetch error
//!   (`too-large`): the RFC says policy hosts SHOULD stay within it. The body
//!   is read as a stream and reading stops as soon as the cap is passed, so
//!   at most the cap plus one read buffer is held.
//! - The media type is recorded, and whether it is `text/plain` (§3.2);
//!   judging it is left to the caller.
//!
//! Our choices: the caller resolves `mta-sts.<domain>` (so that the DNS
//! answer and its DNSSEC status are evidence too) and hands the addresses
//! in; the system resolver is never used. Addresses are tried in order;
//! only a failure to connect moves on to the next one (as a browser or MTA
//! would), while anything said after the TLS handshake started is final.
//! The connect time of each address is bounded by its share of the time
//! left. No proxy, no cookies, no content decoding, HTTP/1.1 only, one
//! crypto provider (ring) chosen here and never the process-wide default.
//!
//! Left out: revocation checks (RFC 8461 §3.3 makes them optional), the
//! policy cache and its refresh rules (§5.1), and rate-limiting repeated
//! fetches (the caller fetches once per scan).

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{
    WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor, verify_server_name,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use serde::{Serialize, Serializer};
use tokio::time::{Instant, timeout_at};

use crate::clock_map::Memo;
use crate::tlsrpt::report::ResultType;

/// Where the policy lives on the policy host (RFC 8461 §3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";
/// The largest policy body accepted: RFC 8461 §3.3 suggests 64 KB.
pub const MAX_POLICY_BYTES: usize = 65_536;
/// The whole-fetch timeout RFC 8461 §3.3 suggests: one minute.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// At most this many addresses are tried; a hostile DNS answer may list
/// hundreds.
pub const MAX_ADDRESSES: usize = 8;

/// Server-supplied text (Location, Content-Type) is cut after this many
/// characters before it is stored or shown.
const SHOWN_CHARS: usize = 200;
/// Error chains from the HTTP stack are cut after this many characters.
const DETAIL_CHARS: usize = 400;
const USER_AGENT: &str = "mxtls (MTA-STS policy check)";

/// How to fetch: the port, the time allowed and the roots trusted.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// TCP port of the policy host: 443, or the lab's.
    pub port: u16,
    /// Bound on the whole fetch: connecting (every address), the TLS
    /// handshake, the request and the whole body.
    pub timeout: Duration,
    /// Trust anchors of the WebPKI check.
    pub roots: Arc<RootCertStore>,
    /// Judge the certificate's dates as of this instant (`--at`), not now.
    pub at: Option<UnixTime>,
    /// The WebPKI verdicts of the run's fetches, shared by its clones.
    pub verdicts: ChainVerdicts,
}

/// Policy hosts' chains judged against the trust anchors (path, signatures
/// and dates; the host name is checked apart, each time), by (SHA-256 of
/// the chain, second judged at, trust anchors). Nothing else decides that
/// verdict, so a certificate that names the policy hosts of many domains
/// is judged once per second, not once per domain, with the same outcome.
#[derive(Clone, Debug)]
pub struct ChainVerdicts(Arc<Memo<VerdictKey, Result<(), rustls::Error>>>);

/// SHA-256 of the chain, Unix second, trust anchors' address.
type VerdictKey = ([u8; 32], u64, usize);

/// Verdicts kept per run: the policy hosts' chains of the domains in
/// flight, and those of the shared providers.
const CHAIN_VERDICTS: usize = 512;

impl Default for ChainVerdicts {
    fn default() -> Self {
        ChainVerdicts(Arc::new(Memo::new(CHAIN_VERDICTS)))
    }
}

impl ChainVerdicts {
    /// Verdicts kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FetchConfig {
    /// Port 443 and the one-minute timeout of RFC 8461 §3.3, trusting `roots`.
    pub fn new(roots: Arc<RootCertStore>) -> Self {
        FetchConfig {
            port: 443,
            timeout: DEFAULT_TIMEOUT,
            roots,
            at: None,
            verdicts: ChainVerdicts::default(),
        }
    }
}

/// The Mozilla root set (webpki-roots): the "set of trusted CAs similar to
/// those in widely deployed Web browsers" of RFC 8461 §3.3.
pub fn public_roots() -> RootCertStore {
    RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned())
}

/// Which WebPKI check the policy host's certificate failed.
///
/// Serialised as its code: `untrusted`, `expired`, `not-yet-valid`,
/// `name-mismatch`, or for other problems a code such as `bad-signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// The chain does not lead to a trusted root (includes self-signed).
    Untrusted,
    /// A certificate of the chain has expired.
    Expired,
    /// A certificate of the chain is not valid yet.
    NotYetValid,
    /// The certificate has no DNS-ID matching `mta-sts.<domain>` (a CN
    /// alone does not count, RFC 8461 §3.3).
    NameMismatch,
    /// Anything else, as a kebab-case code (`bad-signature`, `revoked`,
    /// `invalid-purpose`, `bad-encoding`, `unsupported-signature-algorithm`,
    /// `unhandled-critical-extension`, `invalid-certificate`).
    Other(String),
}

impl CertProblem {
    /// The code, as used for the RFC 8460 failure-reason-code.
    pub fn as_str(&self) -> &str {
        match self {
            CertProblem::Untrusted => "untrusted",
            CertProblem::Expired => "expired",
            CertProblem::NotYetValid => "not-yet-valid",
            CertProblem::NameMismatch => "name-mismatch",
            CertProblem::Other(code) => code,
        }
    }

    /// The problem in words, completing "the certificate …".
    pub fn explain(&self) -> &'static str {
        match self {
            CertProblem::Untrusted => "does not chain to a trusted root",
            CertProblem::Expired => "has expired",
            CertProblem::NotYetValid => "is not valid yet",
            CertProblem::NameMismatch => "is not valid for the policy host name",
            CertProblem::Other(_) => "is not valid",
        }
    }

    /// Maps rustls' verdict (from webpki) to the problem it names.
    pub fn from_rustls(error: &CertificateError) -> Self {
        use CertificateError as E;
        match error {
            E::UnknownIssuer => CertProblem::Untrusted,
            E::Expired | E::ExpiredContext { .. } => CertProblem::Expired,
            E::NotValidYet | E::NotValidYetContext { .. } => CertProblem::NotYetValid,
            E::NotValidForName | E::NotValidForNameContext { .. } => CertProblem::NameMismatch,
            E::BadSignature => CertProblem::Other("bad-signature".into()),
            E::UnsupportedSignatureAlgorithmContext { .. }
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                CertProblem::Other("unsupported-signature-algorithm".into())
            }
            E::Revoked => CertProblem::Other("revoked".into()),
            E::InvalidPurpose | E::InvalidPurposeContext { .. } => {
                CertProblem::Other("invalid-purpose".into())
            }
            E::BadEncoding => CertProblem::Other("bad-encoding".into()),
            E::UnhandledCriticalExtension => {
                CertProblem::Other("unhandled-critical-extension".into())
            }
            _ => CertProblem::Other("invalid-certificate".into()),
        }
    }
}

impl Serialize for CertProblem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Why a policy could not be fetched. Serialised in kebab-case
/// (`http-status`, `too-large`, …), the RFC 8460 failure-reason-code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FetchErrorReason {
    /// A status other than 200 and other than a redirect.
    HttpStatus,
    /// A 3xx status: redirects MUST NOT be followed (RFC 8461 §3.3).
    Redirect,
    /// The body is larger than [`MAX_POLICY_BYTES`].
    TooLarge,
    /// The fetch did not finish within the timeout.
    Timeout,
    /// Every address refused the TCP connection.
    ConnectionRefused,
    /// The TLS handshake failed for a reason other than the certificate.
    TlsError,
    /// The caller found no address for the policy host.
    NoAddress,
    /// `mta-sts.<domain>` is not a valid DNS name.
    InvalidDomain,
    /// Anything else on the way: unreachable, reset, malformed HTTP.
    NetworkError,
}

impl FetchErrorReason {
    /// The kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchErrorReason::HttpStatus => "http-status",
            FetchErrorReason::Redirect => "redirect",
            FetchErrorReason::TooLarge => "too-large",
            FetchErrorReason::Timeout => "timeout",
            FetchErrorReason::ConnectionRefused => "connection-refused",
            FetchErrorReason::TlsError => "tls-error",
            FetchErrorReason::NoAddress => "no-address",
            FetchErrorReason::InvalidDomain => "invalid-domain",
            FetchErrorReason::NetworkError => "network-error",
        }
    }
}

/// What one policy fetch observed.
///
/// Serialised with `"outcome": "fetched" | "webpki-invalid" | "fetch-error"`
/// and snake_case fields. Text from the server (`content_type`, the
/// Location inside `detail`) is escaped and cut at 200 characters; the
/// body is serialised as text (invalid UTF-8 replaced) and the certificate
/// chain is not serialised (certificate facts are reported elsewhere).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum FetchOutcome {
    /// HTTP 200 with a body within the size cap. Whether it is a valid
    /// policy is for the policy parser to say.
    Fetched {
        /// The Content-Type header as served (escaped), if any.
        content_type: Option<String>,
        /// Whether the media type is `text/plain` (RFC 8461 §3.2),
        /// parameters such as `charset` allowed.
        media_type_ok: bool,
        /// The body as served, at most [`MAX_POLICY_BYTES`].
        #[serde(serialize_with = "lossy_text")]
        body: Vec<u8>,
        /// `body.len()`.
        bytes: usize,
        /// The address that answered.
        address: SocketAddr,
        /// Time from the start of the fetch to the end of the body.
        elapsed_ms: u64,
        /// The chain the server presented, leaf first.
        #[serde(skip)]
        chain: Vec<CertificateDer<'static>>,
    },
    /// The policy host's certificate failed the WebPKI check.
    #[serde(rename = "webpki-invalid")]
    WebPkiInvalid {
        /// Which check failed.
        reason: CertProblem,
        /// What the check said, naming the address.
        detail: String,
        /// The address whose certificate failed.
        address: SocketAddr,
        /// Time from the start of the fetch to the failure.
        elapsed_ms: u64,
        /// The chain the server presented, leaf first.
        #[serde(skip)]
        chain: Vec<CertificateDer<'static>>,
    },
    /// No policy could be fetched.
    FetchError {
        /// Why, as a code.
        reason_code: FetchErrorReason,
        /// What happened, for a human: names the address(es), the status,
        /// the Location.
        detail: String,
        /// The address that gave the final answer; `None` when no address
        /// was tried or all of them failed to connect.
        address: Option<SocketAddr>,
        /// Body bytes read before the fetch stopped (non-zero only when the
        /// body was being read: `too-large`, a timeout or a cut body).
        bytes_read: usize,
        /// Time from the start of the fetch to the failure.
        elapsed_ms: u64,
    },
}

impl FetchOutcome {
    /// The RFC 8460 result type (§4.3.2.2) of a failed fetch; `None` for a
    /// fetched body (whose validity the policy parser judges).
    pub fn result_type(&self) -> Option<ResultType> {
        match self {
            FetchOutcome::Fetched { .. } => None,
            FetchOutcome::WebPkiInvalid { .. } => Some(ResultType::StsWebpkiInvalid),
            FetchOutcome::FetchError { .. } => Some(ResultType::StsPolicyFetchError),
        }
    }

    /// The failure-reason-code to report with [`FetchOutcome::result_type`].
    pub fn failure_reason_code(&self) -> Option<&str> {
        match self {
            FetchOutcome::Fetched { .. } => None,
            FetchOutcome::WebPkiInvalid { reason, .. } => Some(reason.as_str()),
            FetchOutcome::FetchError { reason_code, .. } => Some(reason_code.as_str()),
        }
    }
}

fn lossy_text<S: Serializer>(body: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(body))
}

/// Fetches the MTA-STS policy of `domain` (an A-label; one trailing dot is
/// dropped) from `addrs`, the addresses of `mta-sts.<domain>` the caller
/// resolved, at port `cfg.port`. Never fails: every problem is an outcome.
pub async fn fetch(domain: &str, addrs: &[IpAddr], cfg: &FetchConfig) -> FetchOutcome {
    let started = Instant::now();
    let deadline = started + cfg.timeout;
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let host = format!("mta-sts.{}", domain.to_ascii_lowercase());
    let elapsed = || elapsed_ms(started);

    // ServerName accepts a trailing dot ("mta-sts." for an empty domain):
    // refuse empty and dotted ends here.
    let well_formed = !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && matches!(
            ServerName::try_from(host.as_str()),
            Ok(ServerName::DnsName(_))
        );
    if !well_formed {
        return fetch_error(
            FetchErrorReason::InvalidDomain,
            format!("{} is not a valid host name", escape(&host)),
            None,
            0,
            elapsed(),
        );
    }
    if addrs.is_empty() {
        return fetch_error(
            FetchErrorReason::NoAddress,
            format!("{host} has no address to connect to"),
            None,
            0,
            elapsed(),
        );
    }
    let url = if cfg.port == 443 {
        format!("https://{host}{POLICY_PATH}")
    } else {
        format!("https://{host}:{}{POLICY_PATH}", cfg.port)
    };
    let target = Target {
        host: &host,
        url: &url,
        cfg,
        started,
        deadline,
    };

    let tried = &addrs[..addrs.len().min(MAX_ADDRESSES)];
    let mut failures: Vec<(SocketAddr, ConnectFailure)> = Vec::new();
    for (index, ip) in tried.iter().enumerate() {
        let addr = SocketAddr::new(*ip, cfg.port);
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        // Each address may spend its share of the time left connecting, so
        // one black-holed address does not starve the others.
        let left = u32::try_from(tried.len() - index).unwrap_or(u32::MAX);
        let connect_budget = (deadline - now) / left;
        match attempt(&target, addr, connect_budget).await {
            Attempt::Final(outcome) => return outcome,
            Attempt::Next(failure) => failures.push((addr, failure)),
        }
    }
    all_addresses_failed(&host, addrs.len(), tried.len(), &failures, cfg, elapsed())
}

/// What stays the same across the addresses tried.
struct Target<'a> {
    host: &'a str,
    url: &'a str,
    cfg: &'a FetchConfig,
    started: Instant,
    deadline: Instant,
}

/// The result of one address.
enum Attempt {
    /// The server answered (or the TLS handshake failed): this is the outcome.
    Final(FetchOutcome),
    /// The address could not be reached: try the next one.
    Next(ConnectFailure),
}

/// Why an address could not be reached.
struct ConnectFailure {
    reason: FetchErrorReason,
    detail: String,
}

async fn attempt(target: &Target<'_>, addr: SocketAddr, connect_budget: Duration) -> Attempt {
    let elapsed = || elapsed_ms(target.started);
    let verifier = match RecordingVerifier::new(target.cfg) {
        Ok(verifier) => Arc::new(verifier),
        Err(detail) => {
            return Attempt::Final(fetch_error(
                FetchErrorReason::TlsError,
                detail,
                None,
                0,
                elapsed(),
            ));
        }
    };
    let client = match build_client(target, addr, connect_budget, Arc::clone(&verifier)) {
        Ok(client) => client,
        Err(detail) => {
            return Attempt::Final(fetch_error(
                FetchErrorReason::NetworkError,
                detail,
                None,
                0,
                elapsed(),
            ));
        }
    };

    let sent = timeout_at(target.deadline, client.get(target.url).send()).await;
    let mut response = match sent {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => return classify_error(&error, &verifier, addr, target),
        Err(_elapsed) => return timed_out(&verifier, addr, target, "no complete answer", 0),
    };

    let address = response.remote_addr().unwrap_or(addr);
    let status = response.status().as_u16();
    let header_text = |name| {
        response
            .headers()
            .get(name)
            .map(|value: &reqwest::header::HeaderValue| {
                escape(&String::from_utf8_lossy(value.as_bytes()))
            })
    };
    let content_type_raw = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let content_type = header_text(CONTENT_TYPE);
    let declared_length = header_text(CONTENT_LENGTH);

    if (300..400).contains(&status) {
        let location = header_text(LOCATION)
            .map(|location| format!("to {location}"))
            .unwrap_or_else(|| "without a Location header".to_string());
        return Attempt::Final(fetch_error(
            FetchErrorReason::Redirect,
            format!(
                "{address} answered HTTP {status}, a redirect {location}; RFC 8461 §3.3 forbids following it"
            ),
            Some(address),
            0,
            elapsed(),
        ));
    }
    if status != 200 {
        return Attempt::Final(fetch_error(
            FetchErrorReason::HttpStatus,
            format!("{address} answered HTTP {status}; only 200 is a policy (RFC 8461 §3.3)"),
            Some(address),
            0,
            elapsed(),
        ));
    }

    // Read as a stream and stop as soon as the cap is passed: at most the
    // cap plus one chunk is ever held.
    let mut body = Vec::new();
    let mut read = 0usize;
    loop {
        let chunk = match timeout_at(target.deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => break,
            Ok(Err(error)) if error.is_timeout() => {
                return timed_out(&verifier, address, target, "body not complete", read);
            }
            Ok(Err(error)) => {
                return Attempt::Final(fetch_error(
                    FetchErrorReason::NetworkError,
                    format!(
                        "{address}: the body broke off after {read} bytes: {}",
                        error_chain_text(&error)
                    ),
                    Some(address),
                    read,
                    elapsed(),
                ));
            }
            Err(_elapsed) => {
                return timed_out(&verifier, address, target, "body not complete", read);
            }
        };
        read = read.saturating_add(chunk.len());
        if read > MAX_POLICY_BYTES {
            let declared = declared_length
                .map(|length| format!(" (Content-Length: {length})"))
                .unwrap_or_default();
            return Attempt::Final(fetch_error(
                FetchErrorReason::TooLarge,
                format!(
                    "{address} sent more than {MAX_POLICY_BYTES} bytes{declared}; reading stopped at {read} bytes (RFC 8461 §3.3 suggests 64 KB at most)"
                ),
                Some(address),
                read,
                elapsed(),
            ));
        }
        body.extend_from_slice(&chunk);
    }

    Attempt::Final(FetchOutcome::Fetched {
        media_type_ok: content_type_raw.as_deref().is_some_and(is_text_plain),
        content_type,
        bytes: body.len(),
        body,
        address,
        elapsed_ms: elapsed(),
        chain: verifier.chain(),
    })
}

fn build_client(
    target: &Target<'_>,
    addr: SocketAddr,
    connect_budget: Duration,
    verifier: Arc<RecordingVerifier>,
) -> Result<reqwest::Client, String> {
    let mut tls = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("cannot configure TLS: {error}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let left = target.deadline.saturating_duration_since(Instant::now());
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // The URL's host maps to this one address; nothing else is resolved.
        .resolve_to_addrs(target.host, &[addr])
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .referer(false)
        .https_only(true)
        .http1_only()
        .pool_max_idle_per_host(0)
        // reqwest's default, stated: the request must not wait for Nagle.
        .tcp_nodelay(true)
        .connect_timeout(connect_budget)
        .timeout(left)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|error| {
            format!(
                "cannot build the HTTPS client: {}",
                error_chain_text(&error)
            )
        })
}

/// rustls with ring, built once: every fetch's client and verifier use it.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: std::sync::OnceLock<Arc<CryptoProvider>> = std::sync::OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())))
}

/// Sorts a failed request into a certificate verdict, a final fetch error,
/// or "try the next address".
fn classify_error(
    error: &reqwest::Error,
    verifier: &RecordingVerifier,
    addr: SocketAddr,
    target: &Target<'_>,
) -> Attempt {
    let elapsed = elapsed_ms(target.started);
    // The verifier's own record is exact; the error chain is the fallback.
    let tls_error = verifier
        .error()
        .or_else(|| find_rustls_error(error).cloned());
    match tls_error {
        Some(rustls::Error::InvalidCertificate(problem)) => {
            let reason = CertProblem::from_rustls(&problem);
            return Attempt::Final(FetchOutcome::WebPkiInvalid {
                detail: format!(
                    "the certificate {} presented at {addr} {} ({})",
                    target.host,
                    reason.explain(),
                    crate::sanitize::for_terminal(&problem.to_string(), DETAIL_CHARS)
                ),
                reason,
                address: addr,
                elapsed_ms: elapsed,
                chain: verifier.chain(),
            });
        }
        Some(other) => {
            return Attempt::Final(fetch_error(
                FetchErrorReason::TlsError,
                format!(
                    "TLS handshake with {addr} failed: {}",
                    escape(&other.to_string())
                ),
                Some(addr),
                0,
                elapsed,
            ));
        }
        None => {}
    }
    if error.is_timeout() {
        return timed_out(verifier, addr, target, "no complete answer", 0);
    }
    let text = error_chain_text(error);
    if find_io_kind(error) == Some(io::ErrorKind::ConnectionRefused) {
        return Attempt::Next(ConnectFailure {
            reason: FetchErrorReason::ConnectionRefused,
            detail: "connection refused".to_string(),
        });
    }
    if error.is_connect() && !verifier.saw_certificate() {
        return Attempt::Next(ConnectFailure {
            reason: FetchErrorReason::NetworkError,
            detail: text,
        });
    }
    Attempt::Final(fetch_error(
        FetchErrorReason::NetworkError,
        format!("{addr}: {text}"),
        Some(addr),
        0,
        elapsed,
    ))
}

/// A timeout is final once the server has shown its certificate (it is
/// there, just not answering); before that it is a connect failure.
fn timed_out(
    verifier: &RecordingVerifier,
    addr: SocketAddr,
    target: &Target<'_>,
    what: &str,
    read: usize,
) -> Attempt {
    if verifier.saw_certificate() {
        Attempt::Final(fetch_error(
            FetchErrorReason::Timeout,
            format!(
                "{addr}: {what} within {} s ({read} body bytes read)",
                seconds(target.cfg.timeout)
            ),
            Some(addr),
            read,
            elapsed_ms(target.started),
        ))
    } else {
        Attempt::Next(ConnectFailure {
            reason: FetchErrorReason::Timeout,
            detail: "no TLS session within the time allowed".to_string(),
        })
    }
}

fn all_addresses_failed(
    host: &str,
    given: usize,
    tried: usize,
    failures: &[(SocketAddr, ConnectFailure)],
    cfg: &FetchConfig,
    elapsed: u64,
) -> FetchOutcome {
    let untried = tried - failures.len();
    let reason = if untried > 0
        || failures
            .iter()
            .any(|(_, f)| f.reason == FetchErrorReason::Timeout)
    {
        FetchErrorReason::Timeout
    } else if failures
        .iter()
        .all(|(_, f)| f.reason == FetchErrorReason::ConnectionRefused)
    {
        FetchErrorReason::ConnectionRefused
    } else {
        FetchErrorReason::NetworkError
    };
    let mut detail = format!("cannot reach {host}:");
    for (addr, failure) in failures {
        let _ = write!(detail, " {addr}: {};", failure.detail);
    }
    if untried > 0 {
        let _ = write!(
            detail,
            " {untried} address(es) not tried: the {} s allowed ran out;",
            seconds(cfg.timeout)
        );
    }
    if given > tried {
        let _ = write!(
            detail,
            " only the first {tried} of {given} addresses are tried;"
        );
    }
    detail.pop();
    fetch_error(reason, detail, None, 0, elapsed)
}

fn fetch_error(
    reason_code: FetchErrorReason,
    detail: String,
    address: Option<SocketAddr>,
    bytes_read: usize,
    elapsed_ms: u64,
) -> FetchOutcome {
    FetchOutcome::FetchError {
        reason_code,
        detail,
        address,
        bytes_read,
        elapsed_ms,
    }
}

/// Whether a Content-Type value is `text/plain`, parameters allowed
/// (RFC 8461 §3.2; media types are case-insensitive, RFC 9110 §8.3.1).
pub fn is_text_plain(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("text/plain"))
}

/// Makes server-supplied text safe to store and show: C0 controls and DEL
/// as `\xNN`, C1 controls, bidi and zero-width characters as `\u{NNNN}`,
/// cut after 200 characters with a visible marker.
pub fn escape(text: &str) -> String {
    crate::sanitize::for_terminal(text, SHOWN_CHARS)
}

/// The messages of an error and its sources, joined with ": ", escaped and
/// cut: reqwest's own message alone says little ("error sending request").
fn error_chain_text(error: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    for (depth, level) in error_chain(error).enumerate() {
        if depth > 0 {
            text.push_str(": ");
        }
        let _ = write!(text, "{level}");
        if text.chars().count() > DETAIL_CHARS {
            break;
        }
    }
    crate::sanitize::for_terminal(&text, DETAIL_CHARS)
}

/// Walks an error and its sources. `io::Error::source` skips the error it
/// wraps, so the walk looks inside `io::Error` itself: that is where
/// tokio-rustls puts the `rustls::Error`.
fn error_chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(error);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
        Some(current)
    })
    // Error chains are short; a cycle or a pathological chain stops here.
    .take(32)
}

fn find_rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    error_chain(error).find_map(|level| level.downcast_ref::<rustls::Error>())
}

fn find_io_kind(error: &(dyn StdError + 'static)) -> Option<io::ErrorKind> {
    error_chain(error).find_map(|level| level.downcast_ref::<io::Error>().map(io::Error::kind))
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64())
}

/// The WebPKI verifier of rustls, wrapped to remember the chain the server
/// presented and the verdict, for the outcome.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Seen>,
    /// `--at`: the instant the dates are judged at instead of now.
    at: Option<UnixTime>,
    verdicts: ChainVerdicts,
    /// The trust anchors `inner` judges against.
    roots: Arc<RootCertStore>,
}

#[derive(Debug, Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    error: Option<rustls::Error>,
    called: bool,
}

impl RecordingVerifier {
    fn new(cfg: &FetchConfig) -> Result<Self, String> {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::clone(&cfg.roots), provider())
            .build()
            .map_err(|error| format!("cannot set up the WebPKI check: {error}"))?;
        Ok(RecordingVerifier {
            inner,
            seen: Mutex::new(Seen::default()),
            at: cfg.at,
            verdicts: cfg.verdicts.clone(),
            roots: Arc::clone(&cfg.roots),
        })
    }

    /// The chain judged against the trust anchors at `at`, or the run's
    /// verdict on the same chain at the same second.
    fn chain_verdict(
        &self,
        cert: &ParsedCertificate<'_>,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        at: UnixTime,
    ) -> Result<(), rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(AsRef::as_ref);
        let key = (
            crate::pki::webpki::chain_digest(chain),
            at.as_secs(),
            Arc::as_ptr(&self.roots) as usize,
        );
        self.verdicts.0.get_or_insert_with(key, || {
            verify_server_cert_signed_by_trust_anchor(
                cert,
                &self.roots,
                intermediates,
                at,
                provider().signature_verification_algorithms.all,
            )
        })
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        // A panic while holding the lock cannot leave `Seen` half-written
        // in a way that matters: take it as it is.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.seen().chain.clone()
    }

    fn error(&self) -> Option<rustls::Error> {
        self.seen().error.clone()
    }

    fn saw_certificate(&self) -> bool {
        self.seen().called
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let at = self.at.unwrap_or(now);
        // What rustls' WebPKI verifier does (no revocation lists here):
        // the chain to a trust anchor, then the name.
        let verdict = ParsedCertificate::try_from(end_entity).and_then(|cert| {
            self.chain_verdict(&cert, end_entity, intermediates, at)?;
            verify_server_name(&cert, server_name)?;
            Ok(ServerCertVerified::assertion())
        });
        let mut seen = self.seen();
        seen.called = true;
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|cert| cert.clone().into_owned())
            .collect();
        seen.error = verdict.as_ref().err().cloned();
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_is_text_plain_with_any_parameters_and_any_case() {
        for (content_type, want) in [
            ("text/plain", true),
            ("text/plain; charset=utf-8", true),
            ("TEXT/Plain;charset=us-ascii", true),
            ("text/plain ; charset=utf-8", true),
            ("text/html", false),
            ("text/plain-extended", false),
            ("text/plainx; charset=utf-8", false),
            ("application/octet-stream", false),
            ("", false),
        ] {
            assert_eq!(is_text_plain(content_type), want, "{content_type:?}");
        }
    }

    #[test]
    fn server_text_is_escaped_and_cut() {
        let long = "a".repeat(250);
        let cut = format!("{}…[cut]", "a".repeat(200));
        for (input, want) in [
            ("https://elsewhere.test/", "https://elsewhere.test/"),
            ("a\tb", "a\\x09b"),
            ("a\x1b[31mred", "a\\x1b[31mred"),
            ("cr\r\nlf", "cr\\x0d\\x0alf"),
            ("del\x7f", "del\\x7f"),
            ("x\u{202e}y", "x\\u{202e}y"),
            ("c1\u{85}", "c1\\u{0085}"),
            ("caf\u{e9}", "caf\u{e9}"),
            (long.as_str(), cut.as_str()),
        ] {
            assert_eq!(escape(input), want, "{input:?}");
        }
    }

    #[test]
    fn certificate_errors_map_to_the_problem_they_name() {
        use CertificateError as E;
        for (error, want) in [
            (E::UnknownIssuer, "untrusted"),
            (E::Expired, "expired"),
            (E::NotValidYet, "not-yet-valid"),
            (E::NotValidForName, "name-mismatch"),
            (E::BadSignature, "bad-signature"),
            (E::Revoked, "revoked"),
            (E::InvalidPurpose, "invalid-purpose"),
            (E::BadEncoding, "bad-encoding"),
            (
                E::UnsupportedSignatureAlgorithmForPublicKeyContext {
                    signature_algorithm_id: Vec::new(),
                    public_key_algorithm_id: Vec::new(),
                },
                "unsupported-signature-algorithm",
            ),
            (
                E::UnhandledCriticalExtension,
                "unhandled-critical-extension",
            ),
            (E::ApplicationVerificationFailure, "invalid-certificate"),
        ] {
            assert_eq!(CertProblem::from_rustls(&error).as_str(), want, "{error:?}");
        }
    }

    #[test]
    fn failures_carry_their_rfc8460_result_type_and_fetched_bodies_none() {
        let addr: SocketAddr = "192.0.2.1:443".parse().expect("literal address");
        let fetched = FetchOutcome::Fetched {
            content_type: None,
            media_type_ok: false,
            body: Vec::new(),
            bytes: 0,
            address: addr,
            elapsed_ms: 1,
            chain: Vec::new(),
        };
        let webpki = FetchOutcome::WebPkiInvalid {
            reason: CertProblem::Expired,
            detail: String::new(),
            address: addr,
            elapsed_ms: 1,
            chain: Vec::new(),
        };
        let failed = fetch_error(FetchErrorReason::TooLarge, String::new(), None, 0, 1);
        for (outcome, want_type, want_code) in [
            (&fetched, None, None),
            (&webpki, Some("sts-webpki-invalid"), Some("expired")),
            (&failed, Some("sts-policy-fetch-error"), Some("too-large")),
        ] {
            assert_eq!(
                outcome.result_type().map(ResultType::as_str),
                want_type,
                "{outcome:?}"
            );
            assert_eq!(outcome.failure_reason_code(), want_code, "{outcome:?}");
        }
    }

    #[test]
    fn reason_codes_serialise_as_their_kebab_case_names() {
        for reason in [
            FetchErrorReason::HttpStatus,
            FetchErrorReason::Redirect,
            FetchErrorReason::TooLarge,
            FetchErrorReason::Timeout,
            FetchErrorReason::ConnectionRefused,
            FetchErrorReason::TlsError,
            FetchErrorReason::NoAddress,
            FetchErrorReason::InvalidDomain,
            FetchErrorReason::NetworkError,
        ] {
            let json = serde_json::to_string(&reason).expect("a unit variant serialises");
            assert_eq!(json, format!("\"{}\"", reason.as_str()), "{reason:?}");
        }
    }

    #[test]
    fn io_errors_are_looked_inside_for_the_rustls_error() {
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::Expired),
        );
        assert_eq!(
            find_rustls_error(&wrapped),
            Some(&rustls::Error::InvalidCertificate(
                CertificateError::Expired
            )),
            "{wrapped:?}"
        );
        let plain = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(find_rustls_error(&plain), None, "{plain:?}");
        assert_eq!(find_io_kind(&plain), Some(io::ErrorKind::ConnectionRefused));
    }
}
