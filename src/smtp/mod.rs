//! The STARTTLS probe: one SMTP session to one MX address, recording what
//! the server says and presents.
//!
//! A session follows RFC 5321 and RFC 3207 the way a sending MTA does:
//! connect, read the 220 greeting, EHLO, STARTTLS if advertised, the TLS
//! handshake (TLS 1.2 or 1.3, SNI as asked), EHLO again to see the
//! extensions offered under TLS (REQUIRETLS among them, RFC 8689 §2), QUIT.
//! Probing observes; it never judges certificates. The chain is recorded
//! as presented and judged elsewhere (WebPKI, DANE, MTA-STS), and the
//! outcome keeps apart the cases RFC 8460 must not confuse: a failed TCP
//! connection and a temporary refusal are not `starttls-not-supported`.
//!
//! - [`reply`]: reading replies off the wire, with caps, and EHLO keywords
//! - [`verifier`]: the TLS verifier that records the chain
//! - [`session`]: what a session observed, as plain values
//! - [`route`]: whether this host has a route to an address (sends nothing)
//! - [`plaintext`]: telling plain text from TLS where the handshake belongs
//! - `quick_ack`: the connection, with Nagle off and acknowledgements at once
//! - [`client`]: the session itself: sockets, steps, timeouts; and, when a
//!   server refused rustls, a second session with a legacy ClientHello
//! - [`legacy_tls`]: when that second look is worth it and what it saw
//!   (what OpenSSL- and Go-based senders get)
//! - [`key_type`]: RSA or ECDSA, and a ClientHello limited to one of them
//! - [`legacy_hello`]: the legacy ClientHello and the reader of the
//!   server's answer (TLS wire format, pure)
//!
//! Left out: sending mail, AUTH, PIPELINING on our side (commands are sent
//! one at a time), DANE/MTA-STS verdicts, retries.

pub mod client;
pub mod key_type;
pub mod legacy_hello;
pub mod legacy_tls;
pub mod plaintext;
mod quick_ack;
pub mod reply;
pub mod route;
pub mod session;
pub mod transcript;
pub mod verifier;
