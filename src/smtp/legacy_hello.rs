//! A TLS 1.2 ClientHello that offers what rustls does not, and a reader for
//! the server's first flight (pure: bytes in, values out).
//!
//! mxtls speaks TLS through rustls, which has no CBC, DHE, static-RSA or
//! 3DES suites, no SHA-1 handshake signatures and no RSA keys under 2048
//! bits. OpenSSL- and Go-based senders (Postfix, Exim, mox) still have some
//! of these. When a server refuses the rustls ClientHello with
//! `handshake_failure` or `insufficient_security` (RFC 5246 §7.2.2), the
//! probe asks again with [`client_hello`] — the ClientHello an OpenSSL 1.1
//! client with a broad cipher list sends — and reads the answer with
//! [`Flight`]: the ServerHello (RFC 5246 §7.4.1.3), and, because TLS ≤ 1.2
//! sends it in cleartext, the Certificate message after it (§7.4.2). The
//! handshake is never finished: nothing is encrypted, nothing is sent.
//!
//! The hello offers TLS 1.2 at most (`legacy_version` 0x0303, record
//! version 0x0301 as RFC 8446 Appendix D says clients send), no
//! supported_versions extension, so a server cannot answer with TLS 1.3.
//! Modern ECDHE AEAD suites come first: a server that chose one of them
//! here refused rustls for another reason the hello also covers (SHA-1
//! signatures, P-521, no TLS 1.3 extensions).
//!
//! The reader is bounded: at most [`MAX_FLIGHT`] bytes, records of at most
//! 2^14 bytes (RFC 5246 §6.2.1), handshake message lengths checked against
//! what arrived, at most [`MAX_CHAIN`] certificates. No input makes it
//! panic.
//!
//! Left out: TLS 1.3 (encrypted after the ServerHello, and rustls speaks
//! it), SSLv2-compatible hellos, anything after the Certificate message.

use rustls::pki_types::CertificateDer;

/// Most bytes read of the server's first flight.
pub const MAX_FLIGHT: usize = 64 * 1024;
/// Longest TLS plaintext record body (RFC 5246 §6.2.1: 2^14).
const MAX_RECORD: usize = 1 << 14;
/// Most certificates kept from a Certificate message.
pub const MAX_CHAIN: usize = 16;

/// `ContentType` values (RFC 5246 §6.2.1).
const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
/// `HandshakeType` values (RFC 5246 §7.4).
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const HANDSHAKE_SERVER_HELLO: u8 = 2;
const HANDSHAKE_CERTIFICATE: u8 = 11;
/// `ProtocolVersion` of TLS 1.2 and 1.3.
pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;
/// Extension types (RFC 6066 §3, RFC 8422 §5.1, RFC 5246 §7.4.1.4.1,
/// RFC 5746 §3.2, RFC 7627 §5.1, RFC 8446 §4.2.1).
const EXT_SERVER_NAME: u16 = 0x0000;
const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
const EXT_EC_POINT_FORMATS: u16 = 0x000b;
const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_EXTENDED_MASTER_SECRET: u16 = 0x0017;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;

/// Groups offered: rustls's three, then P-521 (RFC 8422 §5.1.1,
/// RFC 7748).
const GROUPS: [u16; 4] = [0x001d, 0x0017, 0x0018, 0x0019];
/// Signature schemes offered (RFC 8446 §4.2.3 code points), SHA-1 last, as
/// OpenSSL 1.1 sends them; rustls offers no SHA-1 for TLS 1.2.
const SIGNATURE_SCHEMES: [u16; 10] = [
    0x0403, // ecdsa_secp256r1_sha256
    0x0804, // rsa_pss_rsae_sha256
    0x0401, // rsa_pkcs1_sha256
    0x0503, // ecdsa_secp384r1_sha384
    0x0805, // rsa_pss_rsae_sha384
    0x0501, // rsa_pkcs1_sha384
    0x0806, // rsa_pss_rsae_sha512
    0x0601, // rsa_pkcs1_sha512
    0x0201, // rsa_pkcs1_sha1
    0x0203, // ecdsa_sha1
];

/// How a suite exchanges keys, which decides which senders still have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchange {
    /// ECDHE, signed with RSA or ECDSA.
    Ecdhe,
    /// Finite-field DHE (RFC 5246 §7.4.3); Go's crypto/tls never had it.
    Dhe,
    /// The premaster secret encrypted to the certificate's RSA key: no
    /// forward secrecy.
    Rsa,
}

/// What we know of one cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    /// The IANA code point.
    pub code: u16,
    /// The IANA name (TLS Cipher Suites registry).
    pub name: &'static str,
    /// How it exchanges keys.
    pub kx: KeyExchange,
    /// Whether rustls (and so mxtls) implements it.
    pub rustls: bool,
    /// Whether it is 3DES (RFC 8429 §3 discourages it; Go 1.23 dropped it
    /// from its defaults).
    pub triple_des: bool,
}

const fn suite(code: u16, name: &'static str, kx: KeyExchange, rustls: bool) -> Suite {
    Suite {
        code,
        name,
        kx,
        rustls,
        triple_des: false,
    }
}

/// Every suite [`client_hello`] offers, in the order offered.
pub const OFFERED: [Suite; 19] = [
    // What rustls has for TLS 1.2: a server that picks one of these
    // refused rustls for another reason.
    suite(
        0xc02b,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        KeyExchange::Ecdhe,
        true,
    ),
    suite(
        0xc02f,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        KeyExchange::Ecdhe,
        true,
    ),
    suite(
        0xc02c,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        KeyExchange::Ecdhe,
        true,
    ),
    suite(
        0xc030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        KeyExchange::Ecdhe,
        true,
    ),
    suite(
        0xcca9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        KeyExchange::Ecdhe,
        true,
    ),
    suite(
        0xcca8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        KeyExchange::Ecdhe,
        true,
    ),
    // What rustls lacks.
    suite(
        0x009e,
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        KeyExchange::Dhe,
        false,
    ),
    suite(
        0xc009,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        KeyExchange::Ecdhe,
        false,
    ),
    suite(
        0xc013,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        KeyExchange::Ecdhe,
        false,
    ),
    suite(
        0xc00a,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        KeyExchange::Ecdhe,
        false,
    ),
    suite(
        0xc014,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        KeyExchange::Ecdhe,
        false,
    ),
    suite(
        0x0033,
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        KeyExchange::Dhe,
        false,
    ),
    suite(
        0x0039,
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        KeyExchange::Dhe,
        false,
    ),
    suite(
        0x009c,
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        KeyExchange::Rsa,
        false,
    ),
    suite(
        0x009d,
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        KeyExchange::Rsa,
        false,
    ),
    suite(
        0x003c,
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        KeyExchange::Rsa,
        false,
    ),
    suite(
        0x002f,
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        KeyExchange::Rsa,
        false,
    ),
    suite(
        0x0035,
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        KeyExchange::Rsa,
        false,
    ),
    Suite {
        triple_des: true,
        ..suite(
            0x000a,
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            KeyExchange::Rsa,
            false,
        )
    },
];

/// The suite with code point `code`, when it is one we offer.
pub fn offered_suite(code: u16) -> Option<&'static Suite> {
    OFFERED.iter().find(|s| s.code == code)
}

/// The IANA name of a suite we offer, else `0xC0FF` style hex.
pub fn suite_name(code: u16) -> String {
    offered_suite(code).map_or_else(|| format!("0x{code:04X}"), |s| s.name.to_string())
}

/// `TLSv1.2` style name of a protocol version.
pub fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSLv3".to_string(),
        0x0301 => "TLSv1.0".to_string(),
        0x0302 => "TLSv1.1".to_string(),
        TLS12 => "TLSv1.2".to_string(),
        TLS13 => "TLSv1.3".to_string(),
        other => format!("0x{other:04X}"),
    }
}

/// The ClientHello record: TLS 1.2 at most, the suites of [`OFFERED`],
/// SNI when `sni` is a DNS name (RFC 6066 §3: no IP literals, no trailing
/// dot), supported_groups, ec_point_formats, signature_algorithms,
/// extended_master_secret and an empty renegotiation_info (RFC 5746 §3.4).
/// `random` is the 32-byte client random.
pub fn client_hello(sni: Option<&str>, random: &[u8; 32]) -> Vec<u8> {
    let mut suites = Vec::with_capacity(OFFERED.len() * 2);
    for s in &OFFERED {
        suites.extend_from_slice(&s.code.to_be_bytes());
    }
    let mut extensions = Vec::new();
    if let Some(name) = sni.map(|n| n.strip_suffix('.').unwrap_or(n))
        && is_dns_name(name)
    {
        // ServerNameList with one host_name (type 0).
        let mut entry = vec![0u8];
        push_vec16(&mut entry, name.as_bytes());
        let mut list = Vec::new();
        push_vec16(&mut list, &entry);
        push_extension(&mut extensions, EXT_SERVER_NAME, &list);
    }
    let mut groups = Vec::new();
    for g in GROUPS {
        groups.extend_from_slice(&g.to_be_bytes());
    }
    let mut body = Vec::new();
    push_vec16(&mut body, &groups);
    push_extension(&mut extensions, EXT_SUPPORTED_GROUPS, &body);
    // One format: uncompressed (RFC 8422 §5.1.2).
    push_extension(&mut extensions, EXT_EC_POINT_FORMATS, &[1, 0]);
    let mut schemes = Vec::new();
    for s in SIGNATURE_SCHEMES {
        schemes.extend_from_slice(&s.to_be_bytes());
    }
    let mut body = Vec::new();
    push_vec16(&mut body, &schemes);
    push_extension(&mut extensions, EXT_SIGNATURE_ALGORITHMS, &body);
    push_extension(&mut extensions, EXT_EXTENDED_MASTER_SECRET, &[]);
    push_extension(&mut extensions, EXT_RENEGOTIATION_INFO, &[0]);

    let mut hello = Vec::new();
    hello.extend_from_slice(&TLS12.to_be_bytes());
    hello.extend_from_slice(random);
    hello.push(0); // no session to resume
    push_vec16(&mut hello, &suites);
    hello.extend_from_slice(&[1, 0]); // compression: null only
    push_vec16(&mut hello, &extensions);

    let mut handshake = vec![HANDSHAKE_CLIENT_HELLO];
    push_u24(&mut handshake, hello.len());
    handshake.extend_from_slice(&hello);

    let mut record = vec![CONTENT_HANDSHAKE, 0x03, 0x01];
    push_vec16(&mut record, &handshake);
    record
}

/// Whether `name` can go in SNI: letters, digits, hyphens and dots, not an
/// IPv4 literal, at most 255 octets (RFC 1035 §2.3.4).
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// Appends a u16 length and `data` (which the caller keeps under 64 KiB).
fn push_vec16(out: &mut Vec<u8>, data: &[u8]) {
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
}

fn push_u24(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    out.extend_from_slice(&len[1..]);
}

fn push_extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_vec16(out, body);
}

/// An alert in RFC 8446 §6 spelling: `ProtocolVersion` →
/// `protocol_version`; `unknown(250)` for codes rustls has no name for.
pub fn alert_name(alert: rustls::AlertDescription) -> String {
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

/// What the server chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version: `server_version`, or the supported_versions
    /// extension when a server sent one anyway.
    pub version: u16,
    /// The chosen suite's code point.
    pub cipher: u16,
    /// The Certificate message's chain, leaf first; empty when none came
    /// (TLS 1.3, a close, an alert, another message after the hello).
    pub chain: Vec<CertificateDer<'static>>,
}

/// How the server answered the hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello (and the chain, when it came).
    Hello(ServerHello),
    /// An alert before any ServerHello (RFC 5246 §7.2).
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// The AlertDescription.
        description: u8,
    },
}

/// Why the answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlightError {
    /// The first bytes are no TLS record header (an SMTP reply, say).
    #[error("the server answered with bytes that are not TLS (first byte 0x{first:02x})")]
    NotTls {
        /// The first byte of the offending record header.
        first: u8,
    },
    /// A record longer than TLS allows.
    #[error("a TLS record of {len} bytes, over the 16384 TLS allows")]
    RecordTooLong {
        /// The length the header claims.
        len: usize,
    },
    /// A record of a type that cannot come before the ServerHello.
    #[error("a TLS record of content type {content_type} before the ServerHello")]
    UnexpectedRecord {
        /// The content type.
        content_type: u8,
    },
    /// A handshake message other than the ServerHello came first.
    #[error("handshake message type {kind} where the ServerHello was expected")]
    UnexpectedMessage {
        /// The HandshakeType.
        kind: u8,
    },
    /// A message or record whose fields do not add up.
    #[error("malformed {what}")]
    Malformed {
        /// Which structure.
        what: &'static str,
    },
    /// More than [`MAX_FLIGHT`] bytes without an answer.
    #[error("no complete ServerHello within the first {MAX_FLIGHT} bytes")]
    TooLarge,
    /// The connection closed before the server answered.
    #[error("the server closed the connection without answering")]
    Closed,
}

/// Reads the server's first flight as it arrives: records, then the
/// handshake messages they carry, up to the Certificate message.
#[derive(Debug, Default)]
pub struct Flight {
    /// Bytes received and not yet framed into records.
    pending: Vec<u8>,
    /// Handshake bytes from the records, not yet a whole message.
    handshake: Vec<u8>,
    /// Bytes fed in all.
    total: usize,
    /// The ServerHello, once read.
    hello: Option<ServerHello>,
}

impl Flight {
    /// A reader that has seen nothing yet.
    pub fn new() -> Flight {
        Flight::default()
    }

    /// Takes the next bytes. `Ok(Some)` once the answer is complete (an
    /// alert; a ServerHello and what follows it), `Ok(None)` when more is
    /// needed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Answer>, FlightError> {
        self.total = self.total.saturating_add(bytes.len());
        if self.total > MAX_FLIGHT {
            return Err(FlightError::TooLarge);
        }
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        let result = loop {
            let Some(header) = self.pending.get(at..at + 5) else {
                break Ok(None);
            };
            let (content_type, major) = (header[0], header[1]);
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if !matches!(content_type, 20..=24) || major != 3 {
                break Err(FlightError::NotTls { first: header[0] });
            }
            if len > MAX_RECORD {
                break Err(FlightError::RecordTooLong { len });
            }
            let Some(body) = self.pending.get(at + 5..at + 5 + len) else {
                break Ok(None);
            };
            let body = body.to_vec();
            at += 5 + len;
            match self.record(content_type, &body) {
                Ok(None) => {}
                other => break other,
            }
        };
        self.pending.drain(..at.min(self.pending.len()));
        result
    }

    /// The connection closed: what was read is all there is.
    pub fn finish(self) -> Result<Answer, FlightError> {
        match self.hello {
            Some(hello) => Ok(Answer::Hello(hello)),
            None => Err(FlightError::Closed),
        }
    }

    fn record(&mut self, content_type: u8, body: &[u8]) -> Result<Option<Answer>, FlightError> {
        match content_type {
            CONTENT_ALERT => match (body, self.hello.take()) {
                // After the hello, an alert ends the flight: the chain is
                // what came (nothing).
                (_, Some(hello)) => Ok(Some(Answer::Hello(hello))),
                ([level, description], None) => Ok(Some(Answer::Alert {
                    level: *level,
                    description: *description,
                })),
                (_, None) => Err(FlightError::Malformed { what: "alert" }),
            },
            CONTENT_HANDSHAKE if !body.is_empty() => {
                self.handshake.extend_from_slice(body);
                self.messages()
            }
            CONTENT_HANDSHAKE => Err(FlightError::Malformed {
                what: "empty handshake record",
            }),
            other => match self.hello.take() {
                Some(hello) => Ok(Some(Answer::Hello(hello))),
                None => Err(FlightError::UnexpectedRecord {
                    content_type: other,
                }),
            },
        }
    }

    /// Takes whole handshake messages off the buffer.
    fn messages(&mut self) -> Result<Option<Answer>, FlightError> {
        loop {
            let Some(&[kind, a, b, c]) = self.handshake.get(..4) else {
                return Ok(None);
            };
            let len = u32::from_be_bytes([0, a, b, c]) as usize;
            if len > MAX_FLIGHT {
                return Err(FlightError::Malformed {
                    what: "handshake message length",
                });
            }
            let Some(body) = self.handshake.get(4..4 + len) else {
                return Ok(None);
            };
            let body = body.to_vec();
            self.handshake.drain(..4 + len);
            match self.hello.take() {
                None if kind == HANDSHAKE_SERVER_HELLO => {
                    let hello = parse_server_hello(&body)?;
                    if hello.version >= TLS13 {
                        // The rest is encrypted.
                        return Ok(Some(Answer::Hello(hello)));
                    }
                    self.hello = Some(hello);
                }
                None => return Err(FlightError::UnexpectedMessage { kind }),
                Some(mut hello) if kind == HANDSHAKE_CERTIFICATE => {
                    hello.chain = parse_certificate(&body)?;
                    return Ok(Some(Answer::Hello(hello)));
                }
                Some(hello) => return Ok(Some(Answer::Hello(hello))),
            }
        }
    }
}

/// Reads a whole first flight at once (see [`Flight`]).
pub fn read_flight(bytes: &[u8]) -> Result<Answer, FlightError> {
    let mut flight = Flight::new();
    match flight.feed(bytes)? {
        Some(answer) => Ok(answer),
        None => flight.finish(),
    }
}

/// A cursor over a message body that never reads past its end.
struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FlightError> {
        if n > self.rest.len() {
            return Err(FlightError::Malformed { what: self.what });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, FlightError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FlightError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Result<usize, FlightError> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]) as usize)
    }
}

/// RFC 5246 §7.4.1.3: version, random, session_id, cipher_suite,
/// compression_method, then optional extensions that must fill the rest.
fn parse_server_hello(body: &[u8]) -> Result<ServerHello, FlightError> {
    let mut r = Reader {
        rest: body,
        what: "ServerHello",
    };
    let mut version = r.u16()?;
    r.take(32)?;
    let session_id = usize::from(r.u8()?);
    if session_id > 32 {
        return Err(FlightError::Malformed {
            what: "ServerHello session_id",
        });
    }
    r.take(session_id)?;
    let cipher = r.u16()?;
    r.u8()?;
    if !r.rest.is_empty() {
        let len = usize::from(r.u16()?);
        if len != r.rest.len() {
            return Err(FlightError::Malformed {
                what: "ServerHello extensions",
            });
        }
        while !r.rest.is_empty() {
            let kind = r.u16()?;
            let len = usize::from(r.u16()?);
            let data = r.take(len)?;
            if kind == EXT_SUPPORTED_VERSIONS
                && let &[a, b] = data
            {
                version = u16::from_be_bytes([a, b]);
            }
        }
    }
    Ok(ServerHello {
        version,
        cipher,
        chain: Vec::new(),
    })
}

/// RFC 5246 §7.4.2: a u24 list of u24-length DER certificates, exactly
/// filling the body. At most [`MAX_CHAIN`] are kept.
fn parse_certificate(body: &[u8]) -> Result<Vec<CertificateDer<'static>>, FlightError> {
    let mut r = Reader {
        rest: body,
        what: "Certificate message",
    };
    let len = r.u24()?;
    if len != r.rest.len() {
        return Err(FlightError::Malformed {
            what: "Certificate list length",
        });
    }
    let mut chain = Vec::new();
    while !r.rest.is_empty() {
        let len = r.u24()?;
        if len == 0 {
            return Err(FlightError::Malformed {
                what: "empty certificate",
            });
        }
        let der = r.take(len)?;
        if chain.len() < MAX_CHAIN {
            chain.push(CertificateDer::from(der.to_vec()));
        }
    }
    Ok(chain)
}

/// The records a server sends to accept a hello (pure; the lab's
/// legacy-only server uses it): a ServerHello choosing `cipher` at
/// `version`, then a Certificate message with `chain`, each in its own
/// record.
pub fn server_flight(version: u16, cipher: u16, random: &[u8; 32], chain: &[&[u8]]) -> Vec<u8> {
    let mut hello = Vec::new();
    hello.extend_from_slice(&version.to_be_bytes());
    hello.extend_from_slice(random);
    hello.push(0);
    hello.extend_from_slice(&cipher.to_be_bytes());
    hello.push(0);
    let mut extensions = Vec::new();
    push_extension(&mut extensions, EXT_RENEGOTIATION_INFO, &[0]);
    push_extension(&mut extensions, EXT_EC_POINT_FORMATS, &[1, 0]);
    push_vec16(&mut hello, &extensions);
    let mut certs = Vec::new();
    for der in chain {
        push_u24(&mut certs, der.len());
        certs.extend_from_slice(der);
    }
    let mut certificate = Vec::new();
    push_u24(&mut certificate, certs.len());
    certificate.extend_from_slice(&certs);

    let mut out = Vec::new();
    for (kind, body) in [
        (HANDSHAKE_SERVER_HELLO, hello),
        (HANDSHAKE_CERTIFICATE, certificate),
    ] {
        let mut message = vec![kind];
        push_u24(&mut message, body.len());
        message.extend_from_slice(&body);
        // Records hold at most 2^14 bytes: split long messages.
        for piece in message.chunks(MAX_RECORD) {
            out.extend_from_slice(&[CONTENT_HANDSHAKE, 0x03, 0x03]);
            push_vec16(&mut out, piece);
        }
    }
    out
}

/// The cipher suites a ClientHello record offers, in order; `None` when
/// the bytes are no ClientHello (pure; the lab's legacy-only server uses
/// it). Only the first record is read: our hellos fit in one.
pub fn offered_suites(record: &[u8]) -> Option<Vec<u16>> {
    let mut r = Reader {
        rest: record,
        what: "ClientHello",
    };
    if r.u8().ok()? != CONTENT_HANDSHAKE || r.u8().ok()? != 3 {
        return None;
    }
    r.u8().ok()?;
    let len = usize::from(r.u16().ok()?);
    let mut r = Reader {
        rest: r.take(len).ok()?,
        what: "ClientHello",
    };
    if r.u8().ok()? != HANDSHAKE_CLIENT_HELLO {
        return None;
    }
    r.u24().ok()?;
    r.take(2 + 32).ok()?;
    let session_id = usize::from(r.u8().ok()?);
    r.take(session_id).ok()?;
    let len = usize::from(r.u16().ok()?);
    let suites = r.take(len).ok()?;
    Some(
        suites
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: [u8; 32] = [7; 32];

    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![content_type, 3, 3];
        push_vec16(&mut out, body);
        out
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        push_u24(&mut out, body.len());
        out.extend_from_slice(body);
        out
    }

    fn hello_body(version: u16, cipher: u16, extensions: Option<&[u8]>) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&RANDOM);
        b.push(32);
        b.extend_from_slice(&[1; 32]);
        b.extend_from_slice(&cipher.to_be_bytes());
        b.push(0);
        if let Some(e) = extensions {
            push_vec16(&mut b, e);
        }
        b
    }

    #[test]
    fn the_hello_is_a_tls12_client_hello_with_the_legacy_suites() {
        let hello = client_hello(Some("mx1.example.test."), &RANDOM);
        assert_eq!(&hello[..3], &[22, 3, 1], "handshake record, version 0x0301");
        let len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        assert_eq!(hello.len(), 5 + len, "one whole record");
        assert_eq!(hello[5], HANDSHAKE_CLIENT_HELLO);
        assert_eq!(&hello[9..11], &[3, 3], "legacy_version TLS 1.2");
        assert_eq!(&hello[11..43], &RANDOM);
        let suites = offered_suites(&hello).expect("our own hello parses");
        for code in [
            0x002f, 0x0035, 0x003c, 0x009c, 0x009d, 0x009e, 0x0033, 0x0039, 0xc013, 0xc014, 0xc009,
            0xc00a, 0x000a,
        ] {
            assert!(suites.contains(&code), "offers 0x{code:04x}");
            assert!(
                !offered_suite(code).expect("named").rustls,
                "0x{code:04x} is one rustls lacks"
            );
        }
        let text = String::from_utf8_lossy(&hello);
        assert!(
            text.contains("mx1.example.test") && !text.contains("mx1.example.test."),
            "SNI without the trailing dot"
        );
        let has_ext = |kind: u16| hello.windows(2).any(|w| w == kind.to_be_bytes());
        for (what, kind) in [
            ("supported_groups", EXT_SUPPORTED_GROUPS),
            ("signature_algorithms", EXT_SIGNATURE_ALGORITHMS),
            ("rsa_pkcs1_sha1", 0x0201),
            ("renegotiation_info", EXT_RENEGOTIATION_INFO),
        ] {
            assert!(has_ext(kind), "has {what}");
        }
        assert!(
            !has_ext(EXT_SUPPORTED_VERSIONS),
            "no supported_versions: TLS 1.3 cannot be chosen"
        );
    }

    #[test]
    fn sni_is_left_out_for_addresses_and_odd_names() {
        let bare = client_hello(None, &RANDOM);
        for (rule, sni) in [
            ("an IPv4 literal", "192.0.2.1"),
            ("an IPv6 literal", "2001:db8::1"),
            ("a name with a space", "a b"),
            ("empty", ""),
        ] {
            assert_eq!(client_hello(Some(sni), &RANDOM).len(), bare.len(), "{rule}");
        }
        assert!(client_hello(Some("mx.example"), &RANDOM).len() > bare.len());
    }

    #[test]
    fn suites_and_versions_have_their_iana_names() {
        for (code, want) in [
            (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
            (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
            (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
            (0xc0ff, "0xC0FF"),
        ] {
            assert_eq!(suite_name(code), want);
        }
        for (v, want) in [(0x0301, "TLSv1.0"), (0x0303, "TLSv1.2"), (0x7f1c, "0x7F1C")] {
            assert_eq!(version_name(v), want);
        }
        assert!(offered_suite(0x000a).is_some_and(|s| s.triple_des));
        let mut codes: Vec<u16> = OFFERED.iter().map(|s| s.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), OFFERED.len(), "no suite offered twice");
    }

    #[test]
    fn flights_read_to_their_answers() {
        let leaf = vec![0x30, 0x03, 1, 2, 3];
        let inter = vec![0x30, 0x01, 9];
        let server = server_flight(TLS12, 0xc009, &RANDOM, &[&leaf, &inter]);
        let hello = |version, cipher, chain: Vec<Vec<u8>>| {
            Ok(Answer::Hello(ServerHello {
                version,
                cipher,
                chain: chain.into_iter().map(CertificateDer::from).collect(),
            }))
        };
        let plain_hello = record(22, &message(2, &hello_body(TLS12, 0x002f, None)));
        let mut coalesced = message(2, &hello_body(TLS12, 0x002f, None));
        coalesced.extend(message(11, &[0, 0, 4, 0, 0, 1, 0x30]));
        let mut tls13 = Vec::new();
        push_extension(&mut tls13, EXT_SUPPORTED_VERSIONS, &[3, 4]);
        type Row = (&'static str, Vec<u8>, Result<Answer, FlightError>);
        let rows: Vec<Row> = vec![
            (
                "hello and chain, one record each",
                server.clone(),
                hello(TLS12, 0xc009, vec![leaf.clone(), inter.clone()]),
            ),
            (
                "hello and certificate in one record",
                record(22, &coalesced),
                hello(TLS12, 0x002f, vec![vec![0x30]]),
            ),
            (
                "hello then a close: no chain",
                plain_hello.clone(),
                hello(TLS12, 0x002f, vec![]),
            ),
            (
                "hello then an alert: no chain",
                [plain_hello.clone(), record(21, &[2, 40])].concat(),
                hello(TLS12, 0x002f, vec![]),
            ),
            (
                "hello then ServerHelloDone: no chain",
                [plain_hello.clone(), record(22, &message(14, &[]))].concat(),
                hello(TLS12, 0x002f, vec![]),
            ),
            (
                "TLS 1.0 hello",
                record(22, &message(2, &hello_body(0x0301, 0x002f, None))),
                hello(0x0301, 0x002f, vec![]),
            ),
            (
                "supported_versions says TLS 1.3: stop at the hello",
                [
                    record(22, &message(2, &hello_body(TLS12, 0x1301, Some(&tls13)))),
                    record(23, &[0; 20]),
                ]
                .concat(),
                hello(TLS13, 0x1301, vec![]),
            ),
            (
                "a fatal handshake_failure alert",
                record(21, &[2, 40]),
                Ok(Answer::Alert {
                    level: 2,
                    description: 40,
                }),
            ),
            ("a close before anything", vec![], Err(FlightError::Closed)),
            (
                "an SMTP reply instead of TLS",
                b"500 5.5.2 Error: bad syntax\r\n".to_vec(),
                Err(FlightError::NotTls { first: b'5' }),
            ),
            (
                "a record over 2^14 bytes",
                vec![22, 3, 3, 0x40, 0x01],
                Err(FlightError::RecordTooLong { len: 0x4001 }),
            ),
            (
                "application data first",
                record(23, &[1, 2, 3]),
                Err(FlightError::UnexpectedRecord { content_type: 23 }),
            ),
            (
                "a certificate before the hello",
                record(22, &message(11, &[0, 0, 0])),
                Err(FlightError::UnexpectedMessage { kind: 11 }),
            ),
            (
                "a three-byte alert",
                record(21, &[2, 40, 0]),
                Err(FlightError::Malformed { what: "alert" }),
            ),
            (
                "an empty handshake record",
                record(22, &[]),
                Err(FlightError::Malformed {
                    what: "empty handshake record",
                }),
            ),
            (
                "a hello cut short inside its message",
                record(22, &message(2, &[3, 3, 1, 2])),
                Err(FlightError::Malformed {
                    what: "ServerHello",
                }),
            ),
            (
                "a session id over 32 bytes",
                record(
                    22,
                    &message(2, &{
                        let mut b = hello_body(TLS12, 0x002f, None);
                        b[34] = 33;
                        b
                    }),
                ),
                Err(FlightError::Malformed {
                    what: "ServerHello session_id",
                }),
            ),
            (
                "extensions that do not fill the hello",
                record(22, &message(2, &hello_body(TLS12, 0x002f, Some(&[0, 1])))),
                Err(FlightError::Malformed {
                    what: "ServerHello",
                }),
            ),
            (
                "a certificate list longer than its message",
                [
                    plain_hello.clone(),
                    record(22, &message(11, &[0, 0, 9, 0, 0, 1, 0x30])),
                ]
                .concat(),
                Err(FlightError::Malformed {
                    what: "Certificate list length",
                }),
            ),
            (
                "a certificate longer than the list",
                [
                    plain_hello.clone(),
                    record(22, &message(11, &[0, 0, 4, 0, 0, 9, 0x30])),
                ]
                .concat(),
                Err(FlightError::Malformed {
                    what: "Certificate message",
                }),
            ),
            (
                "a zero-length certificate",
                [
                    plain_hello.clone(),
                    record(22, &message(11, &[0, 0, 3, 0, 0, 0])),
                ]
                .concat(),
                Err(FlightError::Malformed {
                    what: "empty certificate",
                }),
            ),
            (
                "a handshake length past the flight cap",
                record(22, &[2, 0x10, 0, 0]),
                Err(FlightError::Malformed {
                    what: "handshake message length",
                }),
            ),
        ];
        for (rule, bytes, want) in rows {
            assert_eq!(read_flight(&bytes), want, "{rule}");
        }
    }

    #[test]
    fn answers_split_anywhere_read_the_same() {
        let server = server_flight(TLS12, 0xc013, &RANDOM, &[&[0x30, 0x02, 5, 5]]);
        let whole = read_flight(&server);
        for cut in 0..server.len() {
            let mut flight = Flight::new();
            let first = flight.feed(&server[..cut]).expect("a prefix is no error");
            assert_eq!(first, None, "cut at {cut}: not complete yet");
            let answer = match flight.feed(&server[cut..]).expect("the rest reads") {
                Some(answer) => Ok(answer),
                None => flight.finish(),
            };
            assert_eq!(answer, whole, "cut at {cut}");
        }
        // A message split over two records.
        let message = message(2, &hello_body(TLS12, 0x0035, None));
        let (a, b) = message.split_at(10);
        let split = [record(22, a), record(22, b)].concat();
        assert!(matches!(
            read_flight(&split),
            Ok(Answer::Hello(ServerHello { cipher: 0x0035, .. }))
        ));
    }

    #[test]
    fn long_chains_are_cut_and_long_flights_refused() {
        let certs: Vec<Vec<u8>> = (0..MAX_CHAIN + 4).map(|i| vec![0x30, i as u8]).collect();
        let refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
        match read_flight(&server_flight(TLS12, 0x002f, &RANDOM, &refs)) {
            Ok(Answer::Hello(h)) => assert_eq!(h.chain.len(), MAX_CHAIN),
            other => panic!("{other:?}"),
        }
        // A chain of 40 KiB spans several records and still reads.
        let big = vec![0x30; 40 * 1024];
        match read_flight(&server_flight(TLS12, 0x002f, &RANDOM, &[&big])) {
            Ok(Answer::Hello(h)) => assert_eq!(h.chain[0].as_ref().len(), big.len()),
            other => panic!("{other:?}"),
        }
        let huge = vec![0x30; MAX_FLIGHT];
        assert_eq!(
            read_flight(&server_flight(TLS12, 0x002f, &RANDOM, &[&huge])),
            Err(FlightError::TooLarge)
        );
        // A ServerHello that claims 65 535 bytes, fed in records: the cap
        // ends it, never a wait for more.
        let mut flight = Flight::new();
        assert_eq!(flight.feed(&record(22, &[2, 0, 0xff, 0xff])), Ok(None));
        let mut outcome = Ok(None);
        for _ in 0..20 {
            outcome = flight.feed(&record(22, &[0u8; 4096]));
            if outcome.is_err() {
                break;
            }
        }
        assert_eq!(outcome, Err(FlightError::TooLarge));
    }

    #[test]
    fn garbage_never_panics() {
        // Deterministic pseudo-random inputs, plus every prefix of a real
        // flight with one byte flipped.
        let mut state: u32 = 0x1234_5678;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 300) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(first) = bytes.first_mut() {
                *first = [21, 22, 23][(next() % 3) as usize];
            }
            if bytes.len() > 1 {
                bytes[1] = 3;
            }
            let _ = read_flight(&bytes);
            let _ = offered_suites(&bytes);
        }
        let server = server_flight(TLS12, 0xc013, &RANDOM, &[&[0x30, 0x02, 5, 5]]);
        for i in 0..server.len() {
            let mut bad = server.clone();
            bad[i] ^= 0xff;
            let _ = read_flight(&bad);
            let _ = read_flight(&server[..i]);
        }
        let hello = client_hello(Some("mx.example"), &RANDOM);
        for i in 0..hello.len() {
            let _ = offered_suites(&hello[..i]);
        }
    }
}
