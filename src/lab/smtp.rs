//! The lab's SMTP servers: MX hosts on loopback that behave well and badly.
//!
//! Each [`SmtpServer`] listens on its own loopback address (127.0.0.x or
//! ::1); all share one port number, so the scanner reaches every one of
//! them with a single `--smtp-port`. They talk like Postfix: a `220 …
//! ESMTP Postfix` greeting, a multi-line EHLO reply, STARTTLS (RFC 3207),
//! 221 on QUIT, 502 on anything else, and a [`SmtpBehaviour`] that breaks
//! one thing on purpose: no STARTTLS, a 454 refusal, TLS 1.2 only, a
//! server that only speaks TLS < 1.2, a slow, refused, endless or oversized
//! greeting, garbage, a second greeting or a close in place of the
//! handshake, a key that does not match the certificate, only legacy cipher
//! suites.
//!
//! Everything is bounded: each server serves at most [`MAX_CONNECTIONS`]
//! connections at once (more get `421` and are closed, as Postfix does
//! when busy), each connection lives at most [`CONNECTION_LIFETIME`]
//! whatever it is doing, reads at most [`MAX_READ`] bytes per TLS phase and
//! [`MAX_COMMAND_LINE`] per command. Dropping [`LabSmtp`] stops every
//! server and connection.
//!
//! Left out: mail transactions (MAIL, RCPT, DATA get 502), AUTH, client
//! certificates, SNI-based certificate choice (one certificate per
//! address, as most MX hosts have).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, timeout};
use tokio_rustls::TlsAcceptor;

use super::link::Link;

use super::ca::Issued;
use crate::pki::facts;
use crate::smtp::legacy_hello;

/// The name every lab MX announces in its greeting and EHLO reply.
pub const HOST_NAME: &str = "mx.lab.test";
/// How long any connection may live, whatever it is doing.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(10);
/// Connections served at once by one server; more get 421.
pub const MAX_CONNECTIONS: usize = 256;
/// Longest command line read (RFC 5321 §4.5.3.1.4 says 512; Postfix
/// accepts 2048).
pub const MAX_COMMAND_LINE: usize = 2048;
/// Most bytes read from a client before TLS, and again after it.
pub const MAX_READ: u64 = 64 * 1024;
/// Length of the `HugeLine` greeting line: 1 MiB, no line end.
pub const HUGE_LINE_BYTES: usize = 1 << 20;
/// Continuation lines in the `ManyContinuations` EHLO reply.
pub const MANY_CONTINUATIONS: usize = 10_000;

/// A TLS 1.0 record holding a fatal `protocol_version` alert (RFC 5246
/// §7.2: level 2, description 70): what a server that speaks only TLS
/// 1.0/1.1 answers to a ClientHello offering 1.2 and 1.3.
const PROTOCOL_VERSION_ALERT: [u8; 7] = [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46];
/// A TLS 1.2 record holding a fatal `handshake_failure` alert (RFC 5246
/// §7.2: level 2, description 40): what OpenSSL answers when the client
/// offers none of its cipher suites ("no shared cipher").
const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
/// The legacy-only server's suites for an ECDSA key, in its order of
/// preference: what OpenSSL with `ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA`
/// offers.
const LEGACY_ECDSA_SUITES: [u16; 2] = [0xc009, 0xc00a];
/// The legacy-only server's suites for an RSA key: `AES128-SHA:AES256-SHA:DES-CBC3-SHA`
/// in OpenSSL's names, static RSA key exchange only.
const LEGACY_RSA_SUITES: [u16; 3] = [0x002f, 0x0035, 0x000a];
/// The server random of the legacy-only server: the handshake is never
/// finished, so it need not be random.
const LEGACY_SERVER_RANDOM: [u8; 32] = [0x4c; 32];
/// Pause between two lines of the endless greeting: slow enough not to
/// flood, fast enough that a client's line cap trips in about a second.
const GREETING_DRIP: Duration = Duration::from_millis(10);
/// How many times a free port is looked for when port 0 was asked.
const BIND_ATTEMPTS: usize = 8;
/// How long a misbehaving server waits for the client's ClientHello, and
/// for the client to close after the server is done.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(2);
/// Largest TLS record body read from a ClientHello (RFC 8446 §5.1: 2^14,
/// plus room for the expansion a plaintext record may not have).
const MAX_RECORD: usize = (1 << 14) + 256;

/// Why the lab's SMTP servers could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SmtpLabError {
    /// No server was given.
    #[error("no SMTP server to start")]
    NoServers,
    /// A server address is not a loopback address: the lab never listens
    /// anywhere else.
    #[error("{ip} is not a loopback address")]
    NotLoopback {
        /// The address given.
        ip: IpAddr,
    },
    /// Two servers were given the same address.
    #[error("two SMTP servers on {ip}")]
    DuplicateIp {
        /// The address given twice.
        ip: IpAddr,
    },
    /// A server's certificate and key do not make a TLS identity.
    #[error("server on {ip}: unusable certificate or key: {source}")]
    Certificate {
        /// The server's address.
        ip: IpAddr,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
    /// The mismatched key of `KeyMismatch` could not be made.
    #[error("server on {ip}: cannot generate a key: {source}")]
    Key {
        /// The server's address.
        ip: IpAddr,
        /// What rcgen said.
        #[source]
        source: rcgen::Error,
    },
    /// No port could be bound on every address.
    #[error("cannot listen on {addr} after {attempts} attempts: {source}")]
    Bind {
        /// The address that failed last.
        addr: SocketAddr,
        /// How many ports were tried.
        attempts: usize,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// How a lab SMTP server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpBehaviour {
    /// Everything right: STARTTLS, TLS 1.2 and 1.3.
    Good,
    /// STARTTLS not advertised (and answered 502 if sent anyway).
    NoStarttls,
    /// STARTTLS advertised, then refused with 454 (RFC 3207 §4).
    Starttls454,
    /// TLS 1.2 only.
    Tls12Only,
    /// Answers the ClientHello with a TLS 1.0 `protocol_version` alert, as
    /// a server limited to TLS 1.0/1.1 does (rustls cannot speak those).
    Tls11Only,
    /// Waits this long before the greeting (past [`CONNECTION_LIFETIME`]
    /// the connection closes without one).
    SlowGreeting(Duration),
    /// Greets with `421` and closes (a busy server).
    Greeting421,
    /// Greets with `421` and closes this many connections in a row, then
    /// serves the next as `Good`, and again: Postfix's postscreen and anvil
    /// turning away a client until it has waited and come back. In cycles,
    /// so that every scan in a test process (one lab) meets the same.
    Greeting421Cycle(u32),
    /// Greets in three lines (`220-…`, then `220 …`).
    MultiLineGreeting,
    /// Sends `220-` continuation lines forever, one every 10 ms.
    EndlessGreeting,
    /// Greets with a 1 MiB line that never ends.
    HugeLine,
    /// Answers EHLO with 10 000 `250-` lines.
    ManyContinuations,
    /// Says 220 to STARTTLS, then answers the ClientHello in plaintext.
    GarbageAfterStarttls,
    /// Says 220 to STARTTLS and, in the same write, greets again in plain
    /// text, before any ClientHello: an SMTP proxy that answers STARTTLS
    /// itself and hands the client to a fresh session without TLS.
    BannerAfterStarttls,
    /// Says 220 to STARTTLS, reads the start of the ClientHello, closes.
    CloseMidHandshake,
    /// Like `Good`, and advertises REQUIRETLS after TLS (RFC 8689 §2).
    Requiretls,
    /// Presents its certificate but signs the handshake with another key,
    /// so the handshake signature does not verify.
    KeyMismatch,
    /// Speaks only legacy suites, as OpenSSL configured with nothing else
    /// does: a ClientHello that offers none of them (rustls) gets a fatal
    /// `handshake_failure` alert; one that offers one gets a TLS 1.2
    /// ServerHello choosing it and the Certificate message, then a close.
    /// ECDHE-ECDSA CBC suites for an ECDSA key, static-RSA ones for RSA.
    LegacyTlsOnly,
}

impl SmtpBehaviour {
    /// Whether EHLO before TLS advertises STARTTLS.
    fn offers_starttls(self) -> bool {
        self != SmtpBehaviour::NoStarttls
    }
}

/// One lab MX host.
#[derive(Debug, Clone)]
pub struct SmtpServer {
    /// Where it listens: 127.0.0.x or ::1.
    pub ip: IpAddr,
    /// The chain and key it presents.
    pub cert: Issued,
    /// A second chain, for an RSA key, shown to clients that offer only RSA
    /// signature schemes (then `cert` is the ECDSA one): a server with
    /// both key types, as Postfix with two keys in `smtpd_tls_chain_files`.
    pub rsa_cert: Option<Issued>,
    /// A second chain with a new key, shown instead of `cert` once the
    /// switch is flipped (a key changed between two scans).
    pub next_cert: Option<(Issued, super::switch::Switch)>,
    /// How it behaves.
    pub behaviour: SmtpBehaviour,
}

/// The running lab SMTP servers. Dropping it stops them.
#[derive(Debug)]
pub struct LabSmtp {
    port: u16,
    addrs: Vec<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
    /// Each server's connection counters, by address.
    counters: Vec<(IpAddr, Arc<Counters>)>,
}

impl Drop for LabSmtp {
    fn drop(&mut self) {
        // Aborting an accept loop drops its JoinSet, which aborts its
        // connections.
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl LabSmtp {
    /// Starts `servers` on the current tokio runtime, all on port `port`
    /// (0 picks one that is free on every address).
    pub async fn start(port: u16, servers: Vec<SmtpServer>) -> Result<LabSmtp, SmtpLabError> {
        LabSmtp::start_delayed(port, servers, Duration::ZERO).await
    }

    /// [`LabSmtp::start`] behind a slow link: everything the servers send
    /// reaches the client `delay` later (see [`super::link`]).
    pub async fn start_delayed(
        port: u16,
        servers: Vec<SmtpServer>,
        delay: Duration,
    ) -> Result<LabSmtp, SmtpLabError> {
        if servers.is_empty() {
            return Err(SmtpLabError::NoServers);
        }
        let mut ips: Vec<IpAddr> = Vec::with_capacity(servers.len());
        for server in &servers {
            if !server.ip.is_loopback() {
                return Err(SmtpLabError::NotLoopback { ip: server.ip });
            }
            if ips.contains(&server.ip) {
                return Err(SmtpLabError::DuplicateIp { ip: server.ip });
            }
            ips.push(server.ip);
        }
        let mut served = Vec::with_capacity(servers.len());
        for server in servers {
            served.push(Arc::new(Served {
                behaviour: server.behaviour,
                accepted: std::sync::atomic::AtomicU32::new(0),
                counters: Arc::default(),
                // The legacy-only server never runs rustls (its key may
                // have no private half).
                acceptor: match server.behaviour {
                    SmtpBehaviour::LegacyTlsOnly => None,
                    _ => Some(acceptor(&server)?),
                },
                chain: server.cert.chain.clone(),
            }));
        }
        let listeners = bind_all_retrying(&ips, port).await?;
        let mut addrs = Vec::with_capacity(listeners.len());
        let mut tasks = Vec::with_capacity(listeners.len());
        let mut counters = Vec::with_capacity(listeners.len());
        for ((listener, served), ip) in listeners.into_iter().zip(served).zip(ips) {
            if let Ok(addr) = listener.local_addr() {
                addrs.push(addr);
            }
            counters.push((ip, Arc::clone(&served.counters)));
            tasks.push(tokio::spawn(accept_loop(listener, served, delay)));
        }
        let port = addrs.first().map_or(port, SocketAddr::port);
        Ok(LabSmtp {
            port,
            addrs,
            tasks,
            counters,
        })
    }

    /// The most connections the server at `ip` has had open at once, as
    /// Postfix's anvil counts them (to check a client's per-address limit).
    pub fn peak_connections(&self, ip: IpAddr) -> Option<usize> {
        self.counters
            .iter()
            .find(|(a, _)| *a == ip)
            .map(|(_, c)| c.peak.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The port every server listens on (give it to `--smtp-port`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the servers listen, in the order given.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }
}

/// Connections open now at one server, and the most open at once.
#[derive(Debug, Default)]
struct Counters {
    open: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

/// What a connection task needs to know about its server.
struct Served {
    behaviour: SmtpBehaviour,
    /// Connections accepted so far (for `Greeting421Cycle`).
    accepted: std::sync::atomic::AtomicU32,
    counters: Arc<Counters>,
    /// The TLS server, for every behaviour that completes handshakes.
    acceptor: Option<TlsAcceptor>,
    /// The chain it presents, leaf first.
    chain: Vec<CertificateDer<'static>>,
}

fn acceptor(server: &SmtpServer) -> Result<TlsAcceptor, SmtpLabError> {
    let ip = server.ip;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&'static rustls::SupportedProtocolVersion] = match server.behaviour {
        SmtpBehaviour::Tls12Only => &[&rustls::version::TLS12],
        _ => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(|source| SmtpLabError::Certificate { ip, source })?
        .with_no_client_auth();
    let load = |issued: &Issued| {
        provider
            .key_provider
            .load_private_key(issued.key.clone_key())
            .map(|signer| Arc::new(CertifiedKey::new(issued.chain.clone(), signer)))
            .map_err(|source| SmtpLabError::Certificate { ip, source })
    };
    let config = if server.behaviour == SmtpBehaviour::KeyMismatch {
        // The certificate of one key, the signatures of another.
        let other = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|source| SmtpLabError::Key { ip, source })?;
        let other = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(other.serialize_der()));
        let signer = provider
            .key_provider
            .load_private_key(other)
            .map_err(|source| SmtpLabError::Certificate { ip, source })?;
        let key = CertifiedKey::new(server.cert.chain.clone(), signer);
        builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(key)))
    } else if let Some((next, switch)) = &server.next_cert {
        builder.with_cert_resolver(Arc::new(Rotating {
            before: load(&server.cert)?,
            after: load(next)?,
            changed: switch.clone(),
        }))
    } else if let Some(rsa) = &server.rsa_cert {
        builder.with_cert_resolver(Arc::new(ByKeyType(vec![load(&server.cert)?, load(rsa)?])))
    } else {
        builder
            .with_single_cert(server.cert.chain.clone(), server.cert.key.clone_key())
            .map_err(|source| SmtpLabError::Certificate { ip, source })?
    };
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The certificate before the switch is flipped, the next one after: a
/// server whose key was replaced (a renewal with a new key).
#[derive(Debug)]
struct Rotating {
    before: Arc<CertifiedKey>,
    after: Arc<CertifiedKey>,
    changed: super::switch::Switch,
}

impl ResolvesServerCert for Rotating {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(if self.changed.is_on() {
            &self.after
        } else {
            &self.before
        }))
    }
}

/// Of a server's certificates, the first whose key can sign with a scheme
/// the client offers (RFC 8446 §4.2.3, §4.4.2.2; under TLS 1.2 rustls then
/// picks a suite for that key). When none can, the first: the handshake
/// then fails with `handshake_failure`, as on a server with one
/// certificate.
#[derive(Debug)]
struct ByKeyType(Vec<Arc<CertifiedKey>>);

impl ResolvesServerCert for ByKeyType {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let offered = hello.signature_schemes();
        self.0
            .iter()
            .find(|c| c.key.choose_scheme(offered).is_some())
            .or_else(|| self.0.first())
            .cloned()
    }
}

/// Binds every address on one port; with port 0, retries with another
/// free port when a later address has the first one taken.
async fn bind_all_retrying(ips: &[IpAddr], port: u16) -> Result<Vec<TcpListener>, SmtpLabError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match bind_all(ips, port).await {
            Ok(listeners) => return Ok(listeners),
            Err((_, source))
                if port == 0
                    && source.kind() == io::ErrorKind::AddrInUse
                    && attempt < BIND_ATTEMPTS => {}
            Err((addr, source)) => {
                return Err(SmtpLabError::Bind {
                    addr,
                    attempts: attempt,
                    source,
                });
            }
        }
    }
}

async fn bind_all(ips: &[IpAddr], port: u16) -> Result<Vec<TcpListener>, (SocketAddr, io::Error)> {
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(ips.len());
    let mut port = port;
    for &ip in ips {
        let addr = SocketAddr::new(ip, port);
        let listener = TcpListener::bind(addr).await.map_err(|e| (addr, e))?;
        // The first bind picks the port when 0 was asked; the rest follow.
        port = listener.local_addr().map_err(|e| (addr, e))?.port();
        listeners.push(listener);
    }
    Ok(listeners)
}

async fn accept_loop(listener: TcpListener, served: Arc<Served>, delay: Duration) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                // Out of descriptors or a transient error: pause instead
                // of spinning.
                sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_CONNECTIONS {
            // What Postfix says when every smtpd process is busy; a
            // non-blocking write, so a flood cannot pile up tasks.
            let _ = stream.try_write(b"421 4.3.2 All server ports are busy\r\n");
            continue;
        }
        let served = Arc::clone(&served);
        use std::sync::atomic::Ordering::Relaxed;
        let now_open = served.counters.open.fetch_add(1, Relaxed) + 1;
        served.counters.peak.fetch_max(now_open, Relaxed);
        connections.spawn(async move {
            // Either way the connection is over; errors are the client's
            // doing and of no interest to the lab.
            let _ = stream.set_nodelay(true);
            let link = Link::new(stream, delay);
            let _ = timeout(CONNECTION_LIFETIME, serve(link, Arc::clone(&served))).await;
            served.counters.open.fetch_sub(1, Relaxed);
        });
    }
}

async fn serve(mut stream: Link<TcpStream>, served: Arc<Served>) -> io::Result<()> {
    let behaviour = served.behaviour;
    let banner = format!("220 {HOST_NAME} ESMTP Postfix\r\n");
    let nth = served
        .accepted
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let behaviour = match behaviour {
        SmtpBehaviour::Greeting421Cycle(k) if nth % (k + 1) < k => SmtpBehaviour::Greeting421,
        SmtpBehaviour::Greeting421Cycle(_) => SmtpBehaviour::Good,
        other => other,
    };
    match behaviour {
        SmtpBehaviour::SlowGreeting(delay) => {
            sleep(delay).await;
            stream.write_all(banner.as_bytes()).await?;
        }
        SmtpBehaviour::Greeting421 => {
            let refusal =
                format!("421 4.3.2 {HOST_NAME} Service not available, too many connections\r\n");
            stream.write_all(refusal.as_bytes()).await?;
            return linger(stream).await;
        }
        SmtpBehaviour::MultiLineGreeting => {
            let greeting = format!(
                "220-{HOST_NAME} ESMTP Postfix\r\n220-Unauthorised use is prohibited.\r\n220 {HOST_NAME} ESMTP ready\r\n"
            );
            stream.write_all(greeting.as_bytes()).await?;
        }
        SmtpBehaviour::EndlessGreeting => {
            stream
                .write_all(format!("220-{HOST_NAME} ESMTP Postfix\r\n").as_bytes())
                .await?;
            let mut n: u64 = 0;
            // Ends when the client leaves or the lifetime runs out.
            loop {
                sleep(GREETING_DRIP).await;
                n += 1;
                stream
                    .write_all(format!("220-still greeting, line {n}\r\n").as_bytes())
                    .await?;
            }
        }
        SmtpBehaviour::HugeLine => {
            stream.write_all(b"220 ").await?;
            let piece = [b'x'; 16 * 1024];
            let mut sent = 0;
            while sent < HUGE_LINE_BYTES {
                let n = piece.len().min(HUGE_LINE_BYTES - sent);
                stream.write_all(&piece[..n]).await?;
                sent += n;
            }
            // No line end, ever: hold until the client gives up.
            return linger(stream).await;
        }
        _ => stream.write_all(banner.as_bytes()).await?,
    }

    let mut plain = BufReader::new(stream);
    if command_loop(&mut plain, behaviour, false).await? != End::StartTls {
        return Ok(());
    }
    // Anything the client pipelined after STARTTLS is dropped, as Postfix
    // does since CVE-2011-0411.
    let mut stream = plain.into_inner();
    match behaviour {
        SmtpBehaviour::Tls11Only => {
            let _ = read_client_hello(&mut stream).await?;
            stream.write_all(&PROTOCOL_VERSION_ALERT).await?;
            return linger(stream).await;
        }
        SmtpBehaviour::GarbageAfterStarttls => {
            let _ = read_client_hello(&mut stream).await?;
            stream.write_all(b"500 5.5.2 Error: bad syntax\r\n").await?;
            return linger(stream).await;
        }
        SmtpBehaviour::BannerAfterStarttls => {
            // Whatever the client sends now is not SMTP; wait for it to
            // give up.
            return linger(stream).await;
        }
        SmtpBehaviour::CloseMidHandshake => {
            let mut start = [0u8; 5];
            let _ = timeout(HANDSHAKE_WAIT, stream.read_exact(&mut start)).await;
            return Ok(());
        }
        SmtpBehaviour::LegacyTlsOnly => {
            let hello = read_client_hello(&mut stream).await?;
            stream
                .write_all(&legacy_answer(&hello, &served.chain))
                .await?;
            return linger(stream).await;
        }
        _ => {}
    }
    let Some(acceptor) = &served.acceptor else {
        return Ok(());
    };
    let tls = acceptor.accept(stream).await?;
    let mut secure = BufReader::new(tls);
    if command_loop(&mut secure, behaviour, true).await? == End::Quit {
        secure.get_mut().shutdown().await?;
    }
    Ok(())
}

/// What the legacy-only server answers to `hello` (one record): the
/// ServerHello and Certificate when the client offers one of its suites,
/// else a `handshake_failure` alert.
fn legacy_answer(hello: &[u8], chain: &[CertificateDer<'static>]) -> Vec<u8> {
    let rsa = chain
        .first()
        .and_then(|leaf| facts::rsa_modulus_bits(leaf.as_ref()))
        .is_some();
    let ours: &[u16] = if rsa {
        &LEGACY_RSA_SUITES
    } else {
        &LEGACY_ECDSA_SUITES
    };
    let offered = legacy_hello::offered_suites(hello).unwrap_or_default();
    match ours.iter().find(|suite| offered.contains(suite)) {
        Some(&suite) => {
            let ders: Vec<&[u8]> = chain.iter().map(|c| c.as_ref()).collect();
            legacy_hello::server_flight(legacy_hello::TLS12, suite, &LEGACY_SERVER_RANDOM, &ders)
        }
        None => HANDSHAKE_FAILURE_ALERT.to_vec(),
    }
}

/// Reads one TLS record (the ClientHello) off the stream, so that closing
/// afterwards does not turn into a reset that could overtake our answer,
/// and returns it (header and body; a body over [`MAX_RECORD`] is cut).
async fn read_client_hello(stream: &mut Link<TcpStream>) -> io::Result<Vec<u8>> {
    let read = async {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).await?;
        let len = usize::from(u16::from_be_bytes([header[3], header[4]])).min(MAX_RECORD);
        let mut record = vec![0u8; 5 + len];
        record[..5].copy_from_slice(&header);
        stream.read_exact(&mut record[5..]).await?;
        Ok::<Vec<u8>, io::Error>(record)
    };
    timeout(HANDSHAKE_WAIT, read)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no ClientHello"))?
}

/// Ends our side, then waits (briefly) for the client to close, so what we
/// sent last is read before the connection goes away.
async fn linger(mut stream: Link<TcpStream>) -> io::Result<()> {
    stream.shutdown().await?;
    let mut sink = [0u8; 1024];
    let drain = async {
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    };
    let _ = timeout(HANDSHAKE_WAIT, drain).await;
    Ok(())
}

/// How a command loop ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Quit,
    Closed,
    StartTls,
}

/// Reads and answers commands until QUIT, STARTTLS accepted, the client
/// closes, or a read cap is hit.
async fn command_loop<S: AsyncRead + AsyncWrite + Unpin>(
    reader: &mut BufReader<S>,
    behaviour: SmtpBehaviour,
    tls: bool,
) -> io::Result<End> {
    let mut budget = MAX_READ;
    loop {
        let mut line = Vec::new();
        let cap = budget.min(MAX_COMMAND_LINE as u64);
        let n = (&mut *reader)
            .take(cap)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(End::Closed);
        }
        budget = budget.saturating_sub(n as u64);
        if !line.ends_with(b"\n") {
            send(reader, b"500 5.5.0 Error: line too long\r\n").await?;
            return Ok(End::Closed);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        let (verb, argument) = text.split_once(' ').unwrap_or((text, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" if argument.trim().is_empty() => {
                send(reader, b"501 5.5.4 Syntax: EHLO hostname\r\n").await?;
            }
            "EHLO" => send(reader, &ehlo_reply(behaviour, tls)).await?,
            "HELO" => send(reader, format!("250 {HOST_NAME}\r\n").as_bytes()).await?,
            "STARTTLS" if tls => {
                send(reader, b"554 5.5.1 Error: TLS already active\r\n").await?;
            }
            "STARTTLS" => match behaviour {
                SmtpBehaviour::NoStarttls => {
                    send(reader, b"502 5.5.1 Error: command not implemented\r\n").await?;
                }
                SmtpBehaviour::Starttls454 => {
                    send(
                        reader,
                        b"454 4.7.0 TLS not available due to local problem\r\n",
                    )
                    .await?;
                }
                SmtpBehaviour::BannerAfterStarttls => {
                    // One write: the client finds the banner already read
                    // with the 220, where its ClientHello's answer belongs.
                    let both = format!(
                        "220 2.0.0 Ready to start TLS\r\n220 {HOST_NAME} ESMTP Postfix\r\n"
                    );
                    send(reader, both.as_bytes()).await?;
                    return Ok(End::StartTls);
                }
                _ => {
                    send(reader, b"220 2.0.0 Ready to start TLS\r\n").await?;
                    return Ok(End::StartTls);
                }
            },
            "NOOP" | "RSET" => send(reader, b"250 2.0.0 Ok\r\n").await?,
            "QUIT" => {
                send(reader, b"221 2.0.0 Bye\r\n").await?;
                return Ok(End::Quit);
            }
            _ => send(reader, b"502 5.5.2 Error: command not recognized\r\n").await?,
        }
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    reader: &mut BufReader<S>,
    reply: &[u8],
) -> io::Result<()> {
    let stream = reader.get_mut();
    stream.write_all(reply).await?;
    stream.flush().await
}

/// The EHLO reply, Postfix style: the host name, then one extension per
/// line (RFC 5321 §4.1.1.1). STARTTLS only before TLS (RFC 3207 §4.2),
/// REQUIRETLS only after it (RFC 8689 §2).
fn ehlo_reply(behaviour: SmtpBehaviour, tls: bool) -> Vec<u8> {
    let mut lines: Vec<String> = vec![
        HOST_NAME.to_string(),
        "PIPELINING".to_string(),
        "SIZE 10240000".to_string(),
    ];
    if behaviour == SmtpBehaviour::ManyContinuations && !tls {
        lines.extend((1..=MANY_CONTINUATIONS).map(|n| format!("X-LAB-PADDING-{n}")));
    }
    if !tls && behaviour.offers_starttls() {
        lines.push("STARTTLS".to_string());
    }
    lines.push("ENHANCEDSTATUSCODES".to_string());
    lines.push("8BITMIME".to_string());
    if tls && behaviour == SmtpBehaviour::Requiretls {
        lines.push("REQUIRETLS".to_string());
    }
    let last = lines.len() - 1;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let separator = if i == last { ' ' } else { '-' };
        out.extend_from_slice(format!("250{separator}{line}\r\n").as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::time::Instant;

    use serde_json::{Value, json};

    use super::*;
    use crate::lab::ca::{IssueSpec, LabCa};
    use crate::smtp::client::{ProbeConfig, probe};
    use crate::smtp::session::{Connect, Outcome, Session};

    const SNI: &str = "mx.lab.test";

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
    }

    fn config(port: u16, step: Duration) -> ProbeConfig {
        ProbeConfig {
            port,
            step_timeout: step,
            ehlo_name: "scanner.example".to_string(),
        }
    }

    /// Whether `got` has everything `want` has: objects key by key,
    /// arrays element by element contained, the rest equal.
    fn contains(got: &Value, want: &Value) -> bool {
        match (got, want) {
            (Value::Object(got), Value::Object(want)) => want
                .iter()
                .all(|(k, w)| got.get(k).is_some_and(|g| contains(g, w))),
            (Value::Array(got), Value::Array(want)) => {
                want.iter().all(|w| got.iter().any(|g| contains(g, w)))
            }
            _ => got == want,
        }
    }

    /// Probes with a bound the test itself cannot outlive.
    async fn probe_bounded(ip: IpAddr, cfg: &ProbeConfig) -> Session {
        timeout(Duration::from_secs(60), probe(ip, Some(SNI), cfg))
            .await
            .expect("a probe ends within its own bound")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_behaviour_ends_in_its_outcome() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let cert = ca.good_leaf(SNI).expect("leaf");
        let secs = Duration::from_secs;
        // (rule, behaviour, address, step timeout, expected JSON subset,
        //  chain length, at most this long)
        type Row = (
            &'static str,
            Option<SmtpBehaviour>,
            IpAddr,
            Duration,
            Value,
            usize,
            Duration,
        );
        let rows: Vec<Row> = vec![
            (
                "good server: TLS up, REQUIRETLS not claimed",
                Some(SmtpBehaviour::Good),
                v4(10),
                secs(5),
                json!({"connect": "ok", "outcome": {"status": "tls-established"},
                       "tls": {"version": "TLSv1.3"}, "ehlo_tls_error": null}),
                1,
                secs(5),
            ),
            (
                "good server on [::1]",
                Some(SmtpBehaviour::Good),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                secs(5),
                json!({"connect": "ok", "outcome": {"status": "tls-established"}}),
                1,
                secs(5),
            ),
            (
                "nothing listening is a refused connection",
                None,
                v4(99),
                secs(5),
                json!({"connect": "refused", "outcome": {"status": "connect-failed"},
                       "banner": null}),
                0,
                secs(5),
            ),
            (
                "no STARTTLS in EHLO",
                Some(SmtpBehaviour::NoStarttls),
                v4(11),
                secs(5),
                json!({"outcome": {"status": "starttls-not-offered"},
                       "ehlo": {"keywords": ["PIPELINING", "8BITMIME"]}}),
                0,
                secs(5),
            ),
            (
                "STARTTLS answered 454",
                Some(SmtpBehaviour::Starttls454),
                v4(12),
                secs(5),
                json!({"outcome": {"status": "starttls-refused", "code": 454,
                       "text": "4.7.0 TLS not available due to local problem"}}),
                0,
                secs(5),
            ),
            (
                "TLS 1.2 only still succeeds, with TLS 1.2",
                Some(SmtpBehaviour::Tls12Only),
                v4(13),
                secs(5),
                json!({"outcome": {"status": "tls-established"}, "tls": {"version": "TLSv1.2"}}),
                1,
                secs(5),
            ),
            (
                "TLS below 1.2 is a protocol-version handshake failure",
                Some(SmtpBehaviour::Tls11Only),
                v4(14),
                secs(5),
                json!({"outcome": {"status": "handshake-failed", "alert": "protocol_version",
                       "protocol_version": true}, "tls": null}),
                0,
                secs(5),
            ),
            (
                "a slow greeting within the step timeout succeeds",
                Some(SmtpBehaviour::SlowGreeting(secs(3))),
                v4(15),
                secs(5),
                json!({"outcome": {"status": "tls-established"}}),
                1,
                secs(8),
            ),
            (
                "a slow greeting past the step timeout is a greeting timeout",
                Some(SmtpBehaviour::SlowGreeting(secs(3))),
                v4(16),
                secs(1),
                json!({"connect": "ok", "outcome": {"status": "protocol-error",
                       "stage": "greeting", "kind": "timeout"}}),
                0,
                secs(3),
            ),
            (
                "a 421 greeting is inconclusive, not starttls-not-supported",
                Some(SmtpBehaviour::Greeting421),
                v4(17),
                secs(5),
                json!({"outcome": {"status": "inconclusive", "stage": "greeting", "code": 421},
                       "banner": {"domain": null}}),
                0,
                secs(5),
            ),
            (
                "a multi-line greeting is read whole",
                Some(SmtpBehaviour::MultiLineGreeting),
                v4(18),
                secs(5),
                json!({"outcome": {"status": "tls-established"},
                       "banner": {"lines": 3, "domain": "mx.lab.test"}}),
                1,
                secs(5),
            ),
            (
                "an endless greeting trips the line-count cap quickly",
                Some(SmtpBehaviour::EndlessGreeting),
                v4(19),
                secs(5),
                json!({"outcome": {"status": "protocol-error", "stage": "greeting",
                       "kind": "too-many-lines"}}),
                0,
                secs(4),
            ),
            (
                "a greeting line that never ends trips the line cap",
                Some(SmtpBehaviour::HugeLine),
                v4(20),
                secs(5),
                json!({"outcome": {"status": "protocol-error", "stage": "greeting",
                       "kind": "line-too-long"}}),
                0,
                secs(2),
            ),
            (
                "10 000 EHLO lines trip the line-count cap",
                Some(SmtpBehaviour::ManyContinuations),
                v4(21),
                secs(5),
                json!({"outcome": {"status": "protocol-error", "stage": "ehlo",
                       "kind": "too-many-lines"}}),
                0,
                secs(2),
            ),
            (
                "a 500 in answer to the ClientHello is plain text after STARTTLS",
                Some(SmtpBehaviour::GarbageAfterStarttls),
                v4(22),
                secs(5),
                json!({"outcome": {"status": "plaintext-after-starttls",
                       "text": "500 5.5.2 Error: bad syntax", "before_client_hello": false},
                       "tls": null}),
                0,
                secs(5),
            ),
            (
                "a greeting pushed behind the 220 to STARTTLS is plain text after STARTTLS",
                Some(SmtpBehaviour::BannerAfterStarttls),
                v4(28),
                secs(5),
                json!({"outcome": {"status": "plaintext-after-starttls",
                       "text": "220 mx.lab.test ESMTP Postfix", "before_client_hello": true},
                       "tls": null}),
                0,
                secs(5),
            ),
            (
                "a close in the handshake is a handshake failure",
                Some(SmtpBehaviour::CloseMidHandshake),
                v4(23),
                secs(5),
                json!({"outcome": {"status": "handshake-failed", "protocol_version": false},
                       "legacy_tls": {"status": "refused", "alert": null}}),
                0,
                secs(5),
            ),
            (
                "legacy suites only: rustls is refused, the legacy hello gets the suite and chain",
                Some(SmtpBehaviour::LegacyTlsOnly),
                v4(26),
                secs(5),
                json!({"outcome": {"status": "handshake-failed", "alert": "handshake_failure",
                       "protocol_version": false},
                       "tls": null,
                       "legacy_tls": {"status": "accepted", "version": "TLSv1.2",
                       "cipher": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "rustls_suite": false,
                       "key": "ECDSA P-256", "chain_presented": true, "chain_len": 1}}),
                0,
                secs(5),
            ),
            (
                "REQUIRETLS is seen after TLS",
                Some(SmtpBehaviour::Requiretls),
                v4(24),
                secs(5),
                json!({"outcome": {"status": "tls-established"},
                       "ehlo_tls": {"keywords": ["REQUIRETLS"]}}),
                1,
                secs(5),
            ),
            (
                "a bad handshake signature fails, the chain is still recorded",
                Some(SmtpBehaviour::KeyMismatch),
                v4(25),
                secs(5),
                json!({"outcome": {"status": "handshake-failed", "protocol_version": false}}),
                1,
                secs(5),
            ),
        ];
        let servers = rows
            .iter()
            .filter_map(|(_, behaviour, ip, ..)| {
                behaviour.map(|behaviour| SmtpServer {
                    ip: *ip,
                    cert: cert.clone(),
                    rsa_cert: None,
                    next_cert: None,
                    behaviour,
                })
            })
            .collect();
        let lab = LabSmtp::start(0, servers).await.expect("lab SMTP starts");
        let port = lab.port();
        let mut probes = JoinSet::new();
        for (rule, _, ip, step, want, chain_len, within) in rows {
            probes.spawn(async move {
                let started = Instant::now();
                let session = probe_bounded(ip, &config(port, step)).await;
                (rule, want, chain_len, within, started.elapsed(), session)
            });
        }
        let mut seen = 0;
        while let Some(done) = probes.join_next().await {
            let (rule, want, chain_len, within, took, session) = done.expect("probe task");
            let got = serde_json::to_value(&session).expect("sessions serialise");
            assert!(contains(&got, &want), "{rule}: want {want}, got {got:#}");
            // The second, legacy session runs only when a row expects it.
            assert_eq!(
                got.get("legacy_tls").is_some(),
                want.get("legacy_tls").is_some(),
                "{rule}: legacy session in {got:#}"
            );
            assert_eq!(session.chain().len(), chain_len, "{rule}: chain length");
            assert!(
                took <= within,
                "{rule}: took {took:?}, more than {within:?}"
            );
            seen += 1;
        }
        assert_eq!(seen, 20, "every row ran");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_two_key_server_shows_each_client_the_certificate_it_can_verify() {
        use crate::smtp::client::probe_limited;
        use crate::smtp::key_type::KeyType;
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let spec = IssueSpec::good(SNI).through_intermediate();
        let ecdsa = ca.issue(&spec).expect("ECDSA leaf");
        let rsa = ca.issue_rsa(&spec).expect("RSA leaf");
        let server = |ip, behaviour, rsa_cert: Option<&Issued>| SmtpServer {
            ip,
            cert: ecdsa.clone(),
            rsa_cert: rsa_cert.cloned(),
            next_cert: None,
            behaviour,
        };
        let servers = vec![
            server(v4(30), SmtpBehaviour::Good, Some(&rsa)),
            server(v4(31), SmtpBehaviour::Tls12Only, Some(&rsa)),
            server(v4(32), SmtpBehaviour::Good, None),
            server(v4(33), SmtpBehaviour::Tls12Only, None),
        ];
        let lab = LabSmtp::start(0, servers).await.expect("lab SMTP");
        let cfg = config(lab.port(), Duration::from_secs(5));
        // (server, offered, the leaf's key, or the alert refusing it)
        let rows = [
            (30, None, Ok("ECDSA P-256")),
            (30, Some(KeyType::Ecdsa), Ok("ECDSA P-256")),
            (30, Some(KeyType::Rsa), Ok("RSA 2048")),
            (31, None, Ok("ECDSA P-256")),
            (31, Some(KeyType::Rsa), Ok("RSA 2048")),
            (31, Some(KeyType::Ecdsa), Ok("ECDSA P-256")),
            (32, Some(KeyType::Ecdsa), Ok("ECDSA P-256")),
            (32, Some(KeyType::Rsa), Err("handshake_failure")),
            (33, Some(KeyType::Rsa), Err("handshake_failure")),
        ];
        for (last, only, want) in rows {
            let s = timeout(
                Duration::from_secs(60),
                probe_limited(v4(last), Some(SNI), &cfg, only),
            )
            .await
            .expect("a probe ends within its own bound");
            let got = match &s.outcome {
                Outcome::TlsEstablished => Ok(crate::pki::facts::facts(s.chain()[0].as_ref())
                    .expect("leaf parses")
                    .key),
                Outcome::HandshakeFailed { alert, .. } => Err(alert.clone().unwrap_or_default()),
                other => panic!("127.0.0.{last} offered {only:?}: {other:?}"),
            };
            let want = want.map(str::to_string).map_err(str::to_string);
            assert_eq!(got, want, "127.0.0.{last} offered {only:?}");
            assert!(
                s.legacy_tls.is_none(),
                "a limited probe asks no legacy question"
            );
        }
    }

    #[tokio::test]
    async fn a_good_server_shows_everything_a_report_needs() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let issued = ca
            .issue(&IssueSpec::good(SNI).through_intermediate())
            .expect("leaf");
        let server = SmtpServer {
            ip: v4(2),
            cert: issued.clone(),
            rsa_cert: None,
            next_cert: None,
            behaviour: SmtpBehaviour::Good,
        };
        let lab = LabSmtp::start(0, vec![server]).await.expect("lab SMTP");
        let started = Instant::now();
        let s = probe_bounded(v4(2), &config(lab.port(), Duration::from_secs(5))).await;
        println!("one good probe took {:?}", started.elapsed());

        assert_eq!(s.outcome, Outcome::TlsEstablished, "{s:?}");
        assert_eq!(s.connect, Connect::Ok);
        assert!(
            s.local_addr.is_some_and(|a| a.ip().is_loopback()),
            "local address {:?}",
            s.local_addr
        );
        assert_eq!(s.sni.as_deref(), Some(SNI));
        let banner = s.banner.as_ref().expect("banner");
        assert_eq!(banner.text, "mx.lab.test ESMTP Postfix");
        assert_eq!(banner.raw, "mx.lab.test ESMTP Postfix");
        assert_eq!(banner.domain.as_deref(), Some("mx.lab.test"));
        let ehlo = s.ehlo.as_ref().expect("EHLO before TLS");
        assert_eq!(ehlo.domain, "mx.lab.test");
        assert_eq!(
            ehlo.keywords,
            [
                "PIPELINING",
                "SIZE",
                "STARTTLS",
                "ENHANCEDSTATUSCODES",
                "8BITMIME"
            ]
        );
        assert!(ehlo.lines.contains(&"SIZE 10240000".to_string()));
        let ehlo_tls = s.ehlo_tls.as_ref().expect("EHLO after TLS");
        assert_eq!(
            ehlo_tls.keywords,
            ["PIPELINING", "SIZE", "ENHANCEDSTATUSCODES", "8BITMIME"],
            "no STARTTLS once TLS is up"
        );
        assert_eq!(s.requiretls(), Some(false));
        assert!(s.ehlo_tls_error.is_none());
        let tls = s.tls.as_ref().expect("TLS facts");
        assert_eq!(tls.version, "TLSv1.3");
        assert!(tls.cipher.starts_with("TLS13_"), "cipher {}", tls.cipher);
        assert!(tls.group.is_some(), "key exchange group");
        assert_eq!(tls.chain_len, 2);
        assert!(!tls.ocsp_stapled);
        assert_eq!(
            s.chain(),
            &issued.chain[..],
            "leaf then intermediate, as served"
        );
        assert_eq!(s.chain()[0], issued.chain[0], "the leaf is the lab's");
        assert!(s.ocsp_staple().is_none());
        let t = &s.timings;
        for (step, ms) in [
            ("connect", t.connect_ms),
            ("greeting", t.greeting_ms),
            ("ehlo", t.ehlo_ms),
            ("starttls", t.starttls_ms),
            ("handshake", t.handshake_ms),
            ("ehlo after TLS", t.ehlo_tls_ms),
        ] {
            assert!(ms.is_some(), "{step} timed");
        }
        let json = serde_json::to_value(&s).expect("serialise");
        assert!(json.get("chain").is_none(), "DER stays out of the JSON");
        assert_eq!(json["outcome"]["status"], "tls-established");
    }

    #[tokio::test]
    async fn a_legacy_server_with_a_weak_rsa_key_shows_the_key_and_static_rsa() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let weak = ca
            .issue_weak_rsa(&IssueSpec::good(SNI).through_intermediate())
            .expect("weak RSA leaf");
        let servers = vec![SmtpServer {
            ip: v4(27),
            cert: weak.clone(),
            rsa_cert: None,
            next_cert: None,
            behaviour: SmtpBehaviour::LegacyTlsOnly,
        }];
        let lab = LabSmtp::start(0, servers).await.expect("lab SMTP");
        let s = probe_bounded(v4(27), &config(lab.port(), Duration::from_secs(5))).await;
        let got = serde_json::to_value(&s).expect("serialise");
        let want = json!({"outcome": {"status": "handshake-failed", "alert": "handshake_failure"},
            "legacy_tls": {"status": "accepted", "version": "TLSv1.2",
                "cipher": "TLS_RSA_WITH_AES_128_CBC_SHA", "key": "RSA 1024", "key_bits": 1024,
                "chain_presented": true, "chain_len": 2}});
        assert!(contains(&got, &want), "want {want}, got {got:#}");
        let legacy = s
            .legacy_tls
            .as_ref()
            .and_then(|l| l.accepted())
            .expect("accepted");
        assert_eq!(legacy.chain(), &weak.chain[..], "the chain as served");
        assert!(legacy.rsa_key_too_short());
        assert!(s.chain().is_empty(), "rustls saw no certificate");
    }

    #[test]
    fn the_legacy_server_answers_by_what_the_hello_offers() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let ecdsa = ca.good_leaf(SNI).expect("leaf").chain;
        let rsa = ca
            .issue_weak_rsa(&IssueSpec::good(SNI))
            .expect("weak leaf")
            .chain;
        let hello = legacy_hello::client_hello(Some(SNI), &[1; 32]);
        let suite_of = |answer: &[u8]| match legacy_hello::read_flight(answer) {
            Ok(legacy_hello::Answer::Hello(h)) => Some(h.cipher),
            _ => None,
        };
        assert_eq!(suite_of(&legacy_answer(&hello, &ecdsa)), Some(0xc009));
        assert_eq!(suite_of(&legacy_answer(&hello, &rsa)), Some(0x002f));
        // A hello with only modern suites, like rustls's, and garbage.
        // A ClientHello offering only what rustls has.
        let modern = {
            let mut body = vec![3, 3];
            body.extend_from_slice(&[2; 32]);
            body.extend_from_slice(&[0, 0, 4, 0x13, 0x01, 0xc0, 0x2b, 1, 0, 0, 0]);
            let mut record = vec![22, 3, 1, 0, (body.len() + 4) as u8, 1, 0, 0];
            record.push(body.len() as u8);
            record.extend_from_slice(&body);
            record
        };
        assert_eq!(
            legacy_hello::offered_suites(&modern),
            Some(vec![0x1301, 0xc02b]),
            "the modern hello parses"
        );
        for (rule, hello) in [
            ("modern suites only", modern),
            ("not a ClientHello", b"EHLO x\r\n".to_vec()),
        ] {
            assert_eq!(
                legacy_answer(&hello, &ecdsa),
                HANDSHAKE_FAILURE_ALERT.to_vec(),
                "{rule}"
            );
        }
    }

    #[tokio::test]
    async fn starting_refuses_what_the_lab_must_not_do() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let cert = ca.good_leaf(SNI).expect("leaf");
        let server = |ip: IpAddr| SmtpServer {
            ip,
            cert: cert.clone(),
            rsa_cert: None,
            next_cert: None,
            behaviour: SmtpBehaviour::Good,
        };
        let public = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        type Check = fn(&SmtpLabError) -> bool;
        let rows: [(&str, Vec<SmtpServer>, Check); 3] = [
            ("no servers", vec![], |e| {
                matches!(e, SmtpLabError::NoServers)
            }),
            ("a non-loopback address", vec![server(public)], |e| {
                matches!(e, SmtpLabError::NotLoopback { .. })
            }),
            (
                "one address twice",
                vec![server(v4(3)), server(v4(3))],
                |e| matches!(e, SmtpLabError::DuplicateIp { .. }),
            ),
        ];
        for (rule, servers, check) in rows {
            match LabSmtp::start(0, servers).await {
                Err(e) => assert!(check(&e), "{rule}: {e}"),
                Ok(lab) => panic!("{rule}: started on {:?}", lab.addrs()),
            }
        }
    }

    #[tokio::test]
    async fn all_servers_share_one_port() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let cert = ca.good_leaf(SNI).expect("leaf");
        let ips = [v4(4), v4(5), IpAddr::V6(Ipv6Addr::LOCALHOST)];
        let servers = ips
            .iter()
            .map(|&ip| SmtpServer {
                ip,
                cert: cert.clone(),
                rsa_cert: None,
                next_cert: None,
                behaviour: SmtpBehaviour::NoStarttls,
            })
            .collect();
        let lab = LabSmtp::start(0, servers).await.expect("lab SMTP");
        assert_ne!(lab.port(), 0);
        let got: Vec<SocketAddr> = lab.addrs().to_vec();
        let want: Vec<SocketAddr> = ips
            .iter()
            .map(|&ip| SocketAddr::new(ip, lab.port()))
            .collect();
        assert_eq!(got, want);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_server_answers_421_and_the_probe_says_inconclusive() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let server = SmtpServer {
            ip: v4(6),
            cert: ca.good_leaf(SNI).expect("leaf"),
            rsa_cert: None,
            next_cert: None,
            behaviour: SmtpBehaviour::SlowGreeting(Duration::from_secs(8)),
        };
        let lab = LabSmtp::start(0, vec![server]).await.expect("lab SMTP");
        let addr = SocketAddr::new(v4(6), lab.port());
        let mut held = Vec::with_capacity(MAX_CONNECTIONS);
        for _ in 0..MAX_CONNECTIONS {
            held.push(TcpStream::connect(addr).await.expect("connect"));
        }
        // Let the accept loop take them all before the next one.
        sleep(Duration::from_millis(200)).await;
        let s = probe_bounded(v4(6), &config(lab.port(), Duration::from_secs(5))).await;
        let got = serde_json::to_value(&s.outcome).expect("serialise");
        assert!(
            contains(
                &got,
                &json!({"status": "inconclusive", "stage": "greeting", "code": 421})
            ),
            "{got}"
        );
        drop(held);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn throughput_of_concurrent_probes() {
        const PROBES: usize = 200;
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let server = SmtpServer {
            ip: v4(7),
            cert: ca.good_leaf(SNI).expect("leaf"),
            rsa_cert: None,
            next_cert: None,
            behaviour: SmtpBehaviour::Good,
        };
        let lab = LabSmtp::start(0, vec![server]).await.expect("lab SMTP");
        let cfg = Arc::new(config(lab.port(), Duration::from_secs(10)));
        let started = Instant::now();
        let mut probes = JoinSet::new();
        for _ in 0..PROBES {
            let cfg = Arc::clone(&cfg);
            probes.spawn(async move { probe_bounded(v4(7), &cfg).await });
        }
        let mut established = 0;
        while let Some(done) = probes.join_next().await {
            if done.expect("probe task").outcome == Outcome::TlsEstablished {
                established += 1;
            }
        }
        let took = started.elapsed();
        println!(
            "{PROBES} concurrent probes: {established} established in {took:?}, {:.0} probes/s",
            PROBES as f64 / took.as_secs_f64()
        );
    }
}
