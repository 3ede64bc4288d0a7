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
mod denial;
mod keys;
mod plan;
mod validating;
mod zone;

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    time::Duration,
};

use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use self::{auth::AuthRouter, validating::ValidatingResolver};
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
    auth_server: Server<AuthRouter>,
    resolver_server: Server<ValidatingResolver>,
    forwarder_server: Server<ValidatingResolver>,
}

impl LabDns {
    /// Builds, signs and serves every zone of the catalogue; binds UDP and
    /// TCP on the same port of 127.0.0.1 (ephemeral) for each server.
    pub async fn start(catalogue: &Catalogue) -> Result<LabDns, LabError> {
        Self::start_with_bulk(catalogue, None).await
    }

    /// Like [`LabDns::start`], with the bulk set's zones as well.
    pub async fn start_with_bulk(
        catalogue: &Catalogue,
        bulk: Option<&BulkSet>,
    ) -> Result<LabDns, LabError> {
        let zones = zone::build(catalogue, bulk)?;
        let signing_error = |detail| LabError::Signing {
            zone: ".".to_string(),
            detail,
        };
        let trust_anchor_dnskey = zones.root_key.anchor_dnskey_line();
        let trust_anchor_ds = zones.root_key.anchor_ds_line().map_err(signing_error)?;

        let (auth_udp, auth_tcp, authoritative) = bind_pair("authoritative server").await?;
        let mut auth_server = Server::new(AuthRouter::new(zones.catalogs, zones.servfail));
        auth_server.register_socket(auth_udp);
        auth_server.register_listener(auth_tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);

        let resolver = ValidatingResolver::new(authoritative, zones.root_key.public_key())
            .map_err(|e| signing_error(e.to_string()))?;
        let (res_udp, res_tcp, validating_resolver) = bind_pair("validating resolver").await?;
        let mut resolver_server = Server::new(resolver);
        resolver_server.register_socket(res_udp);
        resolver_server.register_listener(res_tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);

        let forwarder = ValidatingResolver::forwarding(authoritative, zones.root_key.public_key())
            .map_err(|e| signing_error(e.to_string()))?;
        let (fwd_udp, fwd_tcp, forwarding_resolver) = bind_pair("forwarding resolver").await?;
        let mut forwarder_server = Server::new(forwarder);
        forwarder_server.register_socket(fwd_udp);
        forwarder_server.register_listener(fwd_tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);

        Ok(LabDns {
            authoritative,
            validating_resolver,
            forwarding_resolver,
            trust_anchor_dnskey,
            trust_anchor_ds,
            auth_server,
            resolver_server,
            forwarder_server,
        })
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
