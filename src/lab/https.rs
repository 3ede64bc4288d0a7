//! The lab's HTTPS server: MTA-STS policy hosts that behave well and badly.
//!
//! One TCP listener serves every policy host of the lab. The TLS
//! certificate and the HTTP behaviour are chosen by the SNI the client sent
//! (RFC 6066 §3), the way a real virtual-hosting web server does it, so one
//! socket plays `mta-sts.good.test`, `mta-sts.expired.test`,
//! `mta-sts.redirect.test`… A client whose SNI names no site (or that sends
//! none) gets no certificate: rustls aborts the handshake, which the client
//! sees as a TLS alert.
//!
//! HTTP is a minimal HTTP/1.1 written by hand (RFC 9112): one request per
//! connection, a request head of at most 8 KiB, answers with
//! `Content-Length` and `Connection: close`. Only `GET
//! /.well-known/mta-sts.txt` (RFC 8461 §3.3) gets the site's behaviour;
//! other paths get 404, other methods 405.
//!
//! Everything is bounded: at most [`MAX_CONNECTIONS`] connections at once,
//! and each connection is closed after [`CONNECTION_LIFETIME`] whatever it
//! is doing — that is also how long `Hang` and `HeadersForever` last. A
//! client with a shorter timeout sees a timeout; one with a longer timeout
//! sees the connection close without an answer. Dropping [`LabHttps`] stops
//! the listener and every connection.
//!
//! Left out: keep-alive, chunked encoding, HTTP/2, client certificates.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::ca::Issued;
use super::link::Link;

/// The one path a policy host serves (RFC 8461 §3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";
/// How long any connection may live; also how long `Hang` and
/// `HeadersForever` keep the client waiting.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(10);
/// How many connections are served at once; more are closed on accept.
/// nginx's default `worker_connections` (512): a batch scan at
/// `--concurrency 256` fetches that many policies at once.
pub const MAX_CONNECTIONS: usize = 512;
/// Size of the body that `Oversized` announces and streams: 1 MiB, sixteen
/// times RFC 8461 §3.3's suggested 64 KB cap.
pub const OVERSIZED_BYTES: usize = 1 << 20;

/// Longest request head the server reads before giving up.
const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// Pause between two header lines of `HeadersForever`.
const HEADER_DRIP: Duration = Duration::from_millis(200);
/// Size of each write of the `Oversized` body.
const OVERSIZED_PIECE: usize = 16 * 1024;

/// Why the lab's HTTPS server could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HttpsError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A site's certificate and key do not make a usable TLS identity.
    #[error("site {host}: unusable certificate or key: {source}")]
    Certificate {
        /// The site's host name.
        host: String,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
    /// Two sites have the same host name; SNI could not tell them apart.
    #[error("site {host} is given twice")]
    DuplicateSite {
        /// The host name given twice.
        host: String,
    },
    /// The TLS configuration could not be built.
    #[error("cannot configure TLS: {source}")]
    Tls {
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
}

/// What a site does when asked for its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer `status` with this body; `content_type` `None` sends no
    /// Content-Type header.
    Policy {
        /// HTTP status code sent.
        status: u16,
        /// Content-Type header value, sent as given.
        content_type: Option<String>,
        /// The body, sent as given.
        body: Vec<u8>,
    },
    /// Answer 301 with this Location.
    Redirect {
        /// Location header value, sent as given.
        location: String,
    },
    /// Complete TLS, read the request, never answer.
    Hang,
    /// Answer 200 `text/plain` with a 1 MiB body, streamed.
    Oversized,
    /// Answer a status line, then header lines one by one, slowly, never
    /// ending the head.
    HeadersForever,
    /// Read the request, wait `delay`, then behave as `then` (a slow
    /// backend: the TLS handshake is quick, the answer is not). A delay past
    /// [`CONNECTION_LIFETIME`] ends the connection without an answer.
    Slow {
        /// How long to wait after the request.
        delay: Duration,
        /// What to do then.
        then: Box<Behaviour>,
    },
}

/// One policy host: its name (the SNI it answers), its certificate, its
/// behaviour.
#[derive(Debug, Clone)]
pub struct Site {
    /// Host name, e.g. `mta-sts.good.test`; matched case-insensitively
    /// against the client's SNI.
    pub host: String,
    /// Chain and key presented to clients that ask for `host`.
    pub cert: Issued,
    /// What the site does.
    pub behaviour: Behaviour,
}

/// A running lab HTTPS server. Dropping it stops the server.
#[derive(Debug)]
pub struct LabHttps {
    addr: SocketAddr,
    accept_task: JoinHandle<()>,
}

impl Drop for LabHttps {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task with it.
        self.accept_task.abort();
    }
}

impl LabHttps {
    /// Binds `bind:port` (port 0 picks a free one) and starts serving
    /// `sites` on the current tokio runtime.
    pub async fn start(bind: IpAddr, port: u16, sites: Vec<Site>) -> Result<LabHttps, HttpsError> {
        LabHttps::start_delayed(bind, port, sites, Duration::ZERO).await
    }

    /// [`LabHttps::start`] behind a slow link: everything the server sends
    /// reaches the client `delay` later (see [`super::link`]).
    pub async fn start_delayed(
        bind: IpAddr,
        port: u16,
        sites: Vec<Site>,
        delay: Duration,
    ) -> Result<LabHttps, HttpsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut certs = HashMap::new();
        let mut behaviours = HashMap::new();
        for site in sites {
            let host = site.host.to_ascii_lowercase();
            if certs.contains_key(&host) {
                return Err(HttpsError::DuplicateSite { host });
            }
            let key = CertifiedKey::from_der(site.cert.chain, site.cert.key, &provider).map_err(
                |source| HttpsError::Certificate {
                    host: host.clone(),
                    source,
                },
            )?;
            certs.insert(host.clone(), Arc::new(key));
            behaviours.insert(host, site.behaviour);
        }
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|source| HttpsError::Tls { source })?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(BySni { certs }));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let wanted = SocketAddr::new(bind, port);
        let listener = TcpListener::bind(wanted)
            .await
            .map_err(|source| HttpsError::Bind {
                addr: wanted,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| HttpsError::Bind {
            addr: wanted,
            source,
        })?;
        let accept_task =
            tokio::spawn(accept_loop(listener, acceptor, Arc::new(behaviours), delay));
        Ok(LabHttps { addr, accept_task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Picks the certificate by SNI; no SNI or an unknown name aborts the
/// handshake.
struct BySni {
    certs: HashMap<String, Arc<CertifiedKey>>,
}

impl fmt::Debug for BySni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BySni")
            .field("hosts", &self.certs.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = client_hello.server_name()?.to_ascii_lowercase();
        self.certs.get(&name).cloned()
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    behaviours: Arc<HashMap<String, Behaviour>>,
    delay: Duration,
) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                // Out of descriptors or a transient error: pause instead of
                // spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_CONNECTIONS {
            drop(stream);
            continue;
        }
        // nginx's default (`tcp_nodelay on`).
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let behaviours = Arc::clone(&behaviours);
        connections.spawn(async move {
            // The result does not matter: either way the connection is over.
            let _ = tokio::time::timeout(
                CONNECTION_LIFETIME,
                serve_connection(acceptor, Link::new(stream, delay), behaviours),
            )
            .await;
        });
    }
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    stream: Link<TcpStream>,
    behaviours: Arc<HashMap<String, Behaviour>>,
) -> io::Result<()> {
    let mut tls = acceptor.accept(stream).await?;
    // The resolver only hands out certificates for known names, so a
    // finished handshake has one; a missing entry just closes.
    let Some(mut behaviour) = tls
        .get_ref()
        .1
        .server_name()
        .and_then(|name| behaviours.get(&name.to_ascii_lowercase()))
        .cloned()
    else {
        return Ok(());
    };
    let Some((method, path)) = read_request_line(&mut tls).await? else {
        return respond(&mut tls, 400, Some("text/plain"), &[], b"bad request\n").await;
    };
    if path != POLICY_PATH {
        return respond(&mut tls, 404, Some("text/plain"), &[], b"not found\n").await;
    }
    if method != "GET" {
        return respond(&mut tls, 405, Some("text/plain"), &[("Allow", "GET")], b"").await;
    }
    while let Behaviour::Slow { delay, then } = behaviour {
        tokio::time::sleep(delay).await;
        behaviour = *then;
    }
    match behaviour {
        Behaviour::Policy {
            status,
            content_type,
            body,
        } => respond(&mut tls, status, content_type.as_deref(), &[], &body).await,
        Behaviour::Redirect { location } => {
            respond(
                &mut tls,
                301,
                Some("text/plain"),
                &[("Location", &location)],
                b"moved\n",
            )
            .await
        }
        Behaviour::Hang => {
            // The outer lifetime timeout ends this.
            std::future::pending::<()>().await;
            Ok(())
        }
        Behaviour::Oversized => stream_oversized(&mut tls).await,
        Behaviour::HeadersForever => drip_headers(&mut tls).await,
        // Unwrapped by the loop above.
        Behaviour::Slow { .. } => Ok(()),
    }
}

/// Reads the request head (up to the blank line, at most
/// [`MAX_REQUEST_HEAD`] bytes) and returns the method and path of its
/// request line; `None` when the head is too long, cut short or not
/// HTTP/1.x.
async fn read_request_line(
    tls: &mut TlsStream<Link<TcpStream>>,
) -> io::Result<Option<(String, String)>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = find(&head, b"\r\n\r\n") {
            head.truncate(end);
            break;
        }
        if head.len() >= MAX_REQUEST_HEAD {
            return Ok(None);
        }
        let want = buf.len().min(MAX_REQUEST_HEAD - head.len());
        let n = tls.read(&mut buf[..want]).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line_end = find(&head, b"\r\n").unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..line_end]);
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(path), Some(version), None) if version.starts_with("HTTP/1.") => {
            Ok(Some((method.to_string(), path.to_string())))
        }
        _ => Ok(None),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

async fn respond(
    tls: &mut TlsStream<Link<TcpStream>>,
    status: u16,
    content_type: Option<&str>,
    extra: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    tls.write_all(head.as_bytes()).await?;
    tls.write_all(body).await?;
    tls.shutdown().await
}

async fn stream_oversized(tls: &mut TlsStream<Link<TcpStream>>) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {OVERSIZED_BYTES}\r\nConnection: close\r\n\r\n"
    );
    tls.write_all(head.as_bytes()).await?;
    // Policy-looking lines, so a client that does not cap the size would
    // go on to parse them.
    let line = b"mx: padding.oversized.test\n";
    let piece: Vec<u8> = line.iter().copied().cycle().take(OVERSIZED_PIECE).collect();
    let mut sent = 0;
    while sent < OVERSIZED_BYTES {
        let n = piece.len().min(OVERSIZED_BYTES - sent);
        tls.write_all(&piece[..n]).await?;
        sent += n;
    }
    tls.shutdown().await
}

async fn drip_headers(tls: &mut TlsStream<Link<TcpStream>>) -> io::Result<()> {
    tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
        .await?;
    tls.flush().await?;
    let mut n: u64 = 0;
    loop {
        tokio::time::sleep(HEADER_DRIP).await;
        n += 1;
        tls.write_all(format!("X-Lab-Waiting-{n}: still here\r\n").as_bytes())
            .await?;
        tls.flush().await?;
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use rustls::ClientConfig;
    use rustls::pki_types::ServerName;
    use tokio_rustls::TlsConnector;

    use super::*;
    use crate::lab::ca::LabCa;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const HOST: &str = "mta-sts.raw.test";

    /// Sends `request` as raw bytes to the lab as `HOST` and returns all it
    /// answered, or the error that ended the exchange.
    async fn exchange(ca: &LabCa, addr: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
        let roots = ca.root_store().expect("lab root store");
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        let connector = TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from(HOST).expect("valid test host");
        let mut tls = connector.connect(name, tcp).await?;
        tls.write_all(request).await?;
        let mut answer = Vec::new();
        tls.read_to_end(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn requests_outside_the_policy_get_their_http_errors() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let site = Site {
            host: HOST.into(),
            cert: ca.good_leaf(HOST).expect("leaf"),
            behaviour: Behaviour::Policy {
                status: 200,
                content_type: Some("text/plain".into()),
                body: b"version: STSv1\n".to_vec(),
            },
        };
        let server = LabHttps::start(LOOPBACK, 0, vec![site])
            .await
            .expect("lab HTTPS");
        let long_head = format!(
            "GET {POLICY_PATH} HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(9000)
        );
        for (rule, request, want) in [
            (
                "the policy path gets the behaviour",
                format!("GET {POLICY_PATH} HTTP/1.1\r\nHost: {HOST}\r\n\r\n"),
                "HTTP/1.1 200 OK\r\n",
            ),
            (
                "another path is 404",
                format!("GET /index.html HTTP/1.1\r\nHost: {HOST}\r\n\r\n"),
                "HTTP/1.1 404 ",
            ),
            (
                "another method is 405",
                format!("POST {POLICY_PATH} HTTP/1.1\r\nHost: {HOST}\r\n\r\n"),
                "HTTP/1.1 405 ",
            ),
            (
                "a request line that is not HTTP/1 is 400",
                "HELLO\r\n\r\n".to_string(),
                "HTTP/1.1 400 ",
            ),
            (
                "a request head over 8 KiB is 400",
                long_head,
                "HTTP/1.1 400 ",
            ),
        ] {
            let answer = tokio::time::timeout(
                Duration::from_secs(5),
                exchange(&ca, server.addr(), request.as_bytes()),
            )
            .await
            .expect("the lab answers within 5 s")
            .expect("the exchange completes");
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with(want), "{rule}: {text:?}");
            assert!(text.contains("Connection: close\r\n"), "{rule}: {text:?}");
        }
    }

    #[tokio::test]
    async fn a_slow_site_answers_its_policy_after_the_delay() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let delay = Duration::from_millis(300);
        let site = Site {
            host: HOST.into(),
            cert: ca.good_leaf(HOST).expect("leaf"),
            behaviour: Behaviour::Slow {
                delay,
                then: Box::new(Behaviour::Policy {
                    status: 200,
                    content_type: Some("text/plain".into()),
                    body: b"version: STSv1\n".to_vec(),
                }),
            },
        };
        let server = LabHttps::start(LOOPBACK, 0, vec![site])
            .await
            .expect("lab HTTPS");
        let request = format!("GET {POLICY_PATH} HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            exchange(&ca, server.addr(), request.as_bytes()),
        )
        .await
        .expect("the lab answers within 5 s")
        .expect("the exchange completes");
        let took = started.elapsed();
        let text = String::from_utf8_lossy(&answer);
        assert!(took >= delay, "answered after {took:?}, before the delay");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?}");
        assert!(text.ends_with("version: STSv1\n"), "{text:?}");
    }

    #[tokio::test]
    async fn two_sites_with_one_name_are_refused() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let site = |host: &str| Site {
            host: host.into(),
            cert: ca.good_leaf(HOST).expect("leaf"),
            behaviour: Behaviour::Hang,
        };
        let sites = vec![site(HOST), site(&HOST.to_ascii_uppercase())];
        match LabHttps::start(LOOPBACK, 0, sites).await {
            Err(HttpsError::DuplicateSite { host }) => assert_eq!(host, HOST),
            other => panic!("want a duplicate-site error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_certificate_with_the_wrong_key_is_refused() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let mut cert = ca.good_leaf(HOST).expect("leaf");
        cert.key = ca.good_leaf(HOST).expect("leaf").key;
        let sites = vec![Site {
            host: HOST.into(),
            cert,
            behaviour: Behaviour::Hang,
        }];
        match LabHttps::start(LOOPBACK, 0, sites).await {
            Err(error @ HttpsError::Certificate { .. }) => {
                assert!(error.to_string().contains(HOST), "{error}")
            }
            other => panic!("want a certificate error, got {other:?}"),
        }
    }
}
