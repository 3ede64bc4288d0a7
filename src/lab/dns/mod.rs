//! The lab's DNS: a signed tree served in-process on loopback.
//!
//! [`LabDns::start`] builds a fake root ".", the catalogue's TLD and one
//! zone per scenario, signs them with fresh ECDSA P-256 keys and NSEC
//! (RFC 4033–4035, RFC 6605), breaks the signatures the catalogue asks for,
//! and serves them from three servers on 127.0.0.1:
//!
//! - the authoritative server ([`LabDns::authoritative`]): every zone behind
//!   one UDP+TCP port, answers with AA=1 (see `auth`);
//! - a validating resolver in front of it ([`LabDns::validating_resolver`]),
//!   which answers like a validating BIND or Unbound (see `validating`);
//! - a forwarder in front of it that does not validate
//!   ([`LabDns::forwarding_resolver`]): AD is never set.
//!
//! The root key is the lab's trust anchor, given out as DNSKEY and DS text.
//! Dropping [`LabDns`] stops the servers.

mod auth;
mod bulk;
mod delayed;
mod denial;
mod keys;
mod lossy;
mod plan;
mod query_log;
mod validating;
mod zone;

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use hickory_proto::rr::{Name, RecordType};

use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use self::{
    auth::AuthRouter, delayed::Delayed, lossy::Lossy, query_log::QueryLog,
    validating::ValidatingResolver,
};
use super::{LabError, bulk::BulkSet, catalogue::Catalogue};

/// How many ephemeral ports are tried before giving up on a UDP+TCP pair.
const BIND_ATTEMPTS: usize = 32;
/// Idle time after which the servers close a TCP connection.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Responses buffered per TCP connection.
const TCP_RESPONSE_BUFFER: usize = 32;

/// The lab's running DNS servers.
pub struct LabDns {
    authoritative: SocketAddr,
    validating_resolver: SocketAddr,
    forwarding_resolver: SocketAddr,
    trust_anchor_dnskey: String,
    trust_anchor_ds: String,
    auth_server: Server<Delayed<AuthRouter>>,
    /// The authoritative server as the lab's resolvers reach it: without
    /// the delay, so that a query to a resolver costs one delay (a warm
    /// resolver cache), not several. Only when there is a delay.
    inner_auth_server: Option<Server<Delayed<AuthRouter>>>,
    resolver_server: Server<Delayed<ValidatingResolver>>,
    forwarder_server: Server<Delayed<ValidatingResolver>>,
    queries: Arc<QueryLog>,
    /// Switches to the second state of zones with a `changed_zone`.
    zone_switches: std::collections::BTreeMap<String, crate::lab::switch::Switch>,
}

impl LabDns {
    /// Serves `domain`'s `changed_zone` from now on; false when it has none.
    pub fn change_zone(&self, domain: &str) -> bool {
        self.zone_switches
            .get(domain)
            .map(crate::lab::switch::Switch::flip)
            .is_some()
    }
}

impl LabDns {
    /// Builds, signs and serves every zone of the catalogue; binds UDP and
    /// TCP on the same port of 127.0.0.1 (ephemeral) for each server.
    pub async fn start(catalogue: &Catalogue) -> Result<LabDns, LabError> {
        Self::start_full(catalogue, None, Duration::ZERO).await
    }

    /// [`LabDns::start`] behind a slow link: every reply to a client of
    /// the lab leaves `delay` after its query arrived (`delayed`).
    pub async fn start_delayed(catalogue: &Catalogue, delay: Duration) -> Result<LabDns, LabError> {
        Self::start_full(catalogue, None, delay).await
    }

    /// Like [`LabDns::start`], with the bulk set's zones as well.
    pub async fn start_with_bulk(
        catalogue: &Catalogue,
        bulk: Option<&BulkSet>,
    ) -> Result<LabDns, LabError> {
        Self::start_full(catalogue, bulk, Duration::ZERO).await
    }

    /// The bulk set's zones too when given, every reply `delay` late.
    pub async fn start_full(
        catalogue: &Catalogue,
        bulk: Option<&BulkSet>,
        delay: Duration,
    ) -> Result<LabDns, LabError> {
        let zones = zone::build(catalogue, bulk)?;
        let signing_error = |detail| LabError::Signing {
            zone: ".".to_string(),
            detail,
        };
        let trust_anchor_dnskey = zones.root_key.anchor_dnskey_line();
        let trust_anchor_ds = zones.root_key.anchor_ds_line().map_err(signing_error)?;

        let (auth_udp, auth_tcp, authoritative) = bind_pair("authoritative server").await?;
        let zone_switches = zones.zone_switches;
        let queries = Arc::new(QueryLog::default());
        let router = Arc::new(
            AuthRouter::new(
                zones.catalogs,
                zones.servfail,
                Lossy::new(&zones.lossy).with_silent(&zones.silent),
                queries.clone(),
            )
            .with_changed(zones.changed),
        );
        let mut auth_server = Server::new(Delayed::new(Arc::clone(&router), delay));
        auth_server.register_socket(auth_udp);
        auth_server.register_listener(auth_tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        let (upstream, inner_auth_server) = if delay.is_zero() {
            (authoritative, None)
        } else {
            let (udp, tcp, addr) = bind_pair("authoritative server (inner)").await?;
            let mut inner = Server::new(Delayed::new(router, Duration::ZERO));
            inner.register_socket(udp);
            inner.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
            (addr, Some(inner))
        };

        let resolver = ValidatingResolver::new(upstream, zones.root_key.public_key())
            .map_err(|e| signing_error(e.to_string()))?
            .with_lossy(Lossy::new(&zones.lossy).with_silent(&zones.silent));
        let (res_udp, res_tcp, validating_resolver) = bind_pair("validating resolver").await?;
        let mut resolver_server = Server::new(Delayed::new(Arc::new(resolver), delay));
        resolver_server.register_socket(res_udp);
        resolver_server.register_listener(res_tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);

        let forwarder = ValidatingResolver::forwarding(upstream, zones.root_key.public_key())
            .map_err(|e| signing_error(e.to_string()))?
            .with_lossy(Lossy::new(&zones.lossy).with_silent(&zones.silent));
        let (fwd_udp, fwd_tcp, forwarding_resolver) = bind_pair("forwarding resolver").await?;
        let mut forwarder_server = Server::new(Delayed::new(Arc::new(forwarder), delay));
        forwarder_server.register_socket(fwd_udp);
        forwarder_server.register_listener(fwd_tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);

        Ok(LabDns {
            authoritative,
            validating_resolver,
            forwarding_resolver,
            trust_anchor_dnskey,
            trust_anchor_ds,
            auth_server,
            inner_auth_server,
            resolver_server,
            forwarder_server,
            queries,
            zone_switches,
        })
    }

    /// How many queries for `name`/`rtype` the authoritative server has
    /// received (UDP and TCP, lost ones included).
    #[must_use]
    pub fn queries(&self, name: &Name, rtype: RecordType) -> u64 {
        self.queries.count(name, rtype)
    }

    /// The authoritative server (all zones behind one socket, UDP and TCP).
    #[must_use]
    pub fn authoritative(&self) -> SocketAddr {
        self.authoritative
    }

    /// The validating resolver in front of the authoritative server.
    #[must_use]
    pub fn validating_resolver(&self) -> SocketAddr {
        self.validating_resolver
    }

    /// A forwarder in front of the authoritative server that does not
    /// validate (never sets AD), like dnsmasq without `--dnssec`.
    #[must_use]
    pub fn forwarding_resolver(&self) -> SocketAddr {
        self.forwarding_resolver
    }

    /// Zone-file text of the root key: `". 3600 IN DNSKEY 257 3 13 <base64>\n"`.
    #[must_use]
    pub fn trust_anchor_dnskey(&self) -> String {
        self.trust_anchor_dnskey.clone()
    }

    /// Zone-file text of the root key's DS: `". 3600 IN DS <tag> 13 2 <HEX>\n"`.
    #[must_use]
    pub fn trust_anchor_ds(&self) -> String {
        self.trust_anchor_ds.clone()
    }

    /// Stops the servers and waits for their tasks to end. Dropping the
    /// lab stops them too, without waiting.
    pub async fn shutdown(mut self) {
        // Errors here only say a socket task had already ended.
        let _ = self.forwarder_server.shutdown_gracefully().await;
        let _ = self.resolver_server.shutdown_gracefully().await;
        let _ = self.auth_server.shutdown_gracefully().await;
        if let Some(mut inner) = self.inner_auth_server.take() {
            let _ = inner.shutdown_gracefully().await;
        }
    }
}

/// Binds UDP on an ephemeral port of 127.0.0.1, then TCP on the same port;
/// tries another port when the TCP one is taken.
async fn bind_pair(server: &'static str) -> Result<(UdpSocket, TcpListener, SocketAddr), LabError> {
    let mut last_error = io::Error::other("no attempt made");
    for _ in 0..BIND_ATTEMPTS {
        let udp = match UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await {
            Ok(udp) => udp,
            Err(e) => {
                last_error = e;
                continue;
            }
        };
        let addr = match udp.local_addr() {
            Ok(addr) => addr,
            Err(e) => {
                last_error = e;
                continue;
            }
        };
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp, addr)),
            Err(e) => last_error = e,
        }
    }
    Err(LabError::Bind {
        server,
        attempts: BIND_ATTEMPTS,
        source: last_error,
    })
}
