//! The validating resolver: a server socket that behaves like BIND or
//! Unbound in validating mode, answering from the lab's authoritative server.
//!
//! - Recursion available (RA=1); CNAME chains are followed across zones and
//!   returned in the answer section, as a recursive resolver does (RFC 1034
//!   §4.3.2), at most [`MAX_CNAME_HOPS`] names.
//! - Answers are validated from the lab's root key (hickory's
//!   `DnssecDnsHandle`). Secure answers and secure denials get AD=1 when the
//!   query had DO or AD set (RFC 6840 §5.7, RFC 4035 §3.2.3); insecure ones
//!   AD=0; bogus ones SERVFAIL (RFC 4035 §5.5).
//! - CD=1 (RFC 4035 §3.2.2): the answer from the authoritative server,
//!   unvalidated, with AD=0. A SERVFAIL from the authoritative server is
//!   SERVFAIL either way.
//! - RRSIG and NSEC records only when the query had DO=1 (RFC 4035 §3.2.1).
//!
//! Left out: caching (the lab's data never changes and loopback is fast),
//! iteration from the root by referrals (every zone is on one server).
//!
//! [`ValidatingResolver::forwarding`] makes the same server without
//! validation, as a plain forwarder does (dnsmasq without `--dnssec`, a home
//! router): recursion available, RRSIGs passed on for DO=1, AD never set,
//! bogus data handed out. A scanner trusting its AD bit would see every
//! signed domain as unsigned.

use std::{future::Future, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use hickory_net::{
    DnsError, NetError, NoRecords,
    dnssec::DnssecDnsHandle,
    runtime::TokioRuntimeProvider,
    xfer::{DnsHandle, FirstAnswer},
};
use hickory_proto::{
    dnssec::{Proof, PublicKeyBuf, TrustAnchors},
    op::{DnsRequestOptions, Edns, Message, MessageType, Metadata, OpCode, Query, ResponseCode},
    rr::{DNSClass, Name, RData, Record, RecordType},
};
use hickory_resolver::{
    NameServerPool, PoolContext, TlsConfig,
    config::{NameServerConfig, ResolverOpts},
};
use hickory_server::{
    net::runtime::Time,
    server::{Request, RequestHandler, ResponseHandler, ResponseInfo},
    zone_handler::MessageResponseBuilder,
};

use super::auth::{EDNS_PAYLOAD, failed_response, send_error};
use super::lossy::Lossy;
use crate::dns::wildcard::Rejudged;

/// Most names followed through a CNAME chain.
pub const MAX_CNAME_HOPS: usize = 8;
/// Most records in one answer.
pub const MAX_ANSWER_RECORDS: usize = 512;
/// Bound on the whole resolution of one query.
pub const RESOLUTION_TIMEOUT: Duration = Duration::from_secs(8);
/// Bound on one query to the authoritative server.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

type Upstream = NameServerPool<TokioRuntimeProvider>;

/// The validating resolver's request handler.
pub struct ValidatingResolver {
    /// hickory's validator, with its wildcard verdicts judged again as the
    /// scanner's are (`crate::dns::wildcard`), as Unbound judges them.
    validating: Rejudged<DnssecDnsHandle<Upstream>>,
    plain: Upstream,
    /// False for a forwarder that does not validate.
    validates: bool,
    /// RRsets whose UDP queries this server loses every other time.
    lossy: Lossy,
}

/// DNSSEC status of an answer as a whole (RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Secure,
    Insecure,
    Bogus,
}

impl Status {
    fn of_records<'a>(records: impl Iterator<Item = &'a Record>) -> Status {
        let mut status = Status::Secure;
        for record in records.filter(|r| r.record_type() != RecordType::RRSIG) {
            status = status.and(Status::of_proof(record.proof));
        }
        status
    }

    /// Indeterminate counts as not secure, like hickory's own summary.
    fn of_proof(proof: Proof) -> Status {
        match proof {
            Proof::Secure => Status::Secure,
            Proof::Bogus => Status::Bogus,
            Proof::Insecure | Proof::Indeterminate => Status::Insecure,
        }
    }

    fn and(self, other: Status) -> Status {
        match (self, other) {
            (Status::Bogus, _) | (_, Status::Bogus) => Status::Bogus,
            (Status::Secure, Status::Secure) => Status::Secure,
            _ => Status::Insecure,
        }
    }
}

/// What one query to the authoritative server gave.
enum Hop {
    Answer {
        answers: Vec<Record>,
        /// The NSEC records proving a wildcard expansion (RFC 4035
        /// §3.1.3.3), passed on as Unbound does.
        proofs: Vec<Record>,
        status: Status,
    },
    Negative {
        code: ResponseCode,
        authorities: Vec<Record>,
        status: Status,
    },
    Failed,
}

/// The resolver's answer before it is encoded.
struct Outcome {
    code: ResponseCode,
    answers: Vec<Record>,
    authorities: Vec<Record>,
    status: Status,
}

impl Outcome {
    fn servfail() -> Outcome {
        Outcome {
            code: ResponseCode::ServFail,
            answers: Vec::new(),
            authorities: Vec::new(),
            status: Status::Insecure,
        }
    }
}

impl ValidatingResolver {
    /// A resolver that asks `authoritative` and trusts only `root_key`.
    pub fn new(authoritative: SocketAddr, root_key: &PublicKeyBuf) -> Result<Self, NetError> {
        let mut options = ResolverOpts::default();
        options.timeout = UPSTREAM_TIMEOUT;
        options.attempts = 1;
        options.edns_payload_len = EDNS_PAYLOAD;
        options.recursion_desired = false;
        let context = Arc::new(PoolContext::new(options, TlsConfig::new()?));
        let mut server = NameServerConfig::udp_and_tcp(authoritative.ip());
        for connection in &mut server.connections {
            connection.port = authoritative.port();
        }
        let plain = NameServerPool::from_config([server], context, TokioRuntimeProvider::default());
        let mut anchors = TrustAnchors::empty();
        anchors.insert(root_key);
        let validating = Rejudged(DnssecDnsHandle::with_trust_anchor(
            plain.clone(),
            Arc::new(anchors),
        ));
        Ok(ValidatingResolver {
            validating,
            plain,
            validates: true,
            lossy: Lossy::default(),
        })
    }

    /// A forwarder to `authoritative` that does not validate: AD is never
    /// set and bogus data is handed out.
    pub fn forwarding(
        authoritative: SocketAddr,
        root_key: &PublicKeyBuf,
    ) -> Result<Self, NetError> {
        Ok(ValidatingResolver {
            validates: false,
            ..ValidatingResolver::new(authoritative, root_key)?
        })
    }

    /// The same server, losing UDP queries as `lossy` says.
    #[must_use]
    pub fn with_lossy(self, lossy: Lossy) -> Self {
        ValidatingResolver { lossy, ..self }
    }

    async fn respond<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        if request.metadata.message_type != MessageType::Query {
            return send_error(request, ResponseCode::FormErr, &mut response_handle).await;
        }
        if request.metadata.op_code != OpCode::Query {
            return send_error(request, ResponseCode::NotImp, &mut response_handle).await;
        }
        if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
            return send_error(request, ResponseCode::BADVERS, &mut response_handle).await;
        }
        let Ok(info) = request.request_info() else {
            return send_error(request, ResponseCode::FormErr, &mut response_handle).await;
        };
        let query_type = info.query.query_type();
        if self
            .lossy
            .drops(info.query.name(), query_type, request.protocol())
        {
            return failed_response(request);
        }
        if info.query.query_class() != DNSClass::IN {
            return send_error(request, ResponseCode::NotImp, &mut response_handle).await;
        }
        if matches!(
            query_type,
            RecordType::AXFR | RecordType::IXFR | RecordType::OPT
        ) {
            return send_error(request, ResponseCode::Refused, &mut response_handle).await;
        }
        let name = Name::from(info.query.name());
        let dnssec_ok = request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
        // A forwarder that does not validate answers as if every query had
        // CD=1: unchecked data, no AD.
        let checking_disabled = request.metadata.checking_disabled || !self.validates;

        let outcome = tokio::time::timeout(
            RESOLUTION_TIMEOUT,
            self.resolve(name.clone(), query_type, !checking_disabled),
        )
        .await
        .unwrap_or_else(|_| Outcome::servfail());

        let mut outcome = if !checking_disabled && outcome.status == Status::Bogus {
            // RFC 4035 §5.5: bogus data is not handed out unless CD=1.
            Outcome::servfail()
        } else {
            outcome
        };
        if outcome.answers.len() + outcome.authorities.len() > MAX_ANSWER_RECORDS {
            outcome = Outcome::servfail();
        }

        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.recursion_available = true;
        metadata.response_code = outcome.code;
        metadata.authentic_data = !checking_disabled
            && outcome.code != ResponseCode::ServFail
            && outcome.status == Status::Secure
            && (dnssec_ok || request.metadata.authentic_data);

        // RFC 4035 §3.2.1: DNSSEC records only for DO=1, unless asked for.
        let mut message = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
        message.add_query(Query::query(name, query_type));
        message.answers = outcome.answers;
        message.authorities = outcome.authorities;
        let message = message.maybe_strip_dnssec_records(dnssec_ok);

        let edns = request.edns.as_ref().map(|req| {
            let mut edns = Edns::new();
            edns.set_max_payload(req.max_payload().clamp(512, EDNS_PAYLOAD))
                .set_dnssec_ok(dnssec_ok);
            edns
        });
        let response = MessageResponseBuilder::new(&request.queries, edns.as_ref()).build(
            metadata,
            message.answers.iter(),
            message.authorities.iter(),
            std::iter::empty(),
            std::iter::empty(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(_) => failed_response(request),
        }
    }

    /// Follows the CNAME chain from `name`, validating each step when asked.
    async fn resolve(&self, name: Name, query_type: RecordType, validate: bool) -> Outcome {
        let chase = !matches!(query_type, RecordType::CNAME | RecordType::ANY);
        let mut answers: Vec<Record> = Vec::new();
        let mut proofs: Vec<Record> = Vec::new();
        let mut status = Status::Secure;
        let mut visited: Vec<Name> = Vec::new();
        let mut current = name;
        for _ in 0..MAX_CNAME_HOPS {
            visited.push(current.clone());
            let hop = if validate {
                self.ask(&self.validating, &current, query_type).await
            } else {
                self.ask(&self.plain, &current, query_type).await
            };
            match hop {
                Hop::Failed => return Outcome::servfail(),
                Hop::Negative {
                    code,
                    authorities,
                    status: hop_status,
                } => {
                    return Outcome {
                        code,
                        answers,
                        authorities,
                        status: status.and(hop_status),
                    };
                }
                Hop::Answer {
                    answers: hop_answers,
                    proofs: hop_proofs,
                    status: hop_status,
                } => {
                    status = status.and(hop_status);
                    proofs.extend(hop_proofs);
                    let next = if chase {
                        next_name(&hop_answers, &current, query_type)
                    } else {
                        None
                    };
                    answers.extend(hop_answers);
                    match next {
                        Some(next) if visited.contains(&next) => return Outcome::servfail(),
                        Some(next) => current = next,
                        None => {
                            return Outcome {
                                code: ResponseCode::NoError,
                                answers,
                                authorities: proofs,
                                status,
                            };
                        }
                    }
                }
            }
            if answers.len() > MAX_ANSWER_RECORDS {
                return Outcome::servfail();
            }
        }
        Outcome::servfail()
    }

    /// One query to the authoritative server, through `handle`.
    async fn ask<H: DnsHandle>(&self, handle: &H, name: &Name, query_type: RecordType) -> Hop {
        let mut options = DnsRequestOptions::default();
        options.use_edns = true;
        options.edns_set_dnssec_ok = true;
        options.edns_payload_len = EDNS_PAYLOAD;
        options.recursion_desired = false;
        let query = Query::query(name.clone(), query_type);
        let result = handle.lookup(query, options).first_answer().await;
        match result {
            Ok(response) => {
                let message = response.into_message();
                let answers: Vec<Record> = message.answers;
                if answers.iter().any(|r| r.record_type() != RecordType::RRSIG) {
                    Hop::Answer {
                        status: Status::of_records(answers.iter()),
                        proofs: wildcard_proofs(&message.authorities),
                        answers,
                    }
                } else {
                    Hop::Negative {
                        code: message.metadata.response_code,
                        status: Status::of_records(message.authorities.iter()),
                        authorities: message.authorities,
                    }
                }
            }
            // A denial hickory could not prove secure: insecure or bogus.
            Err(NetError::Dns(DnsError::Nsec {
                response, proof, ..
            })) => {
                let message = response.into_message();
                Hop::Negative {
                    code: message.metadata.response_code,
                    authorities: message.authorities,
                    status: Status::of_proof(proof),
                }
            }
            // A denial through the plain path (NXDOMAIN or NODATA).
            Err(NetError::Dns(DnsError::NoRecordsFound(NoRecords {
                response_code,
                soa,
                authorities,
                ..
            }))) if matches!(
                response_code,
                ResponseCode::NoError | ResponseCode::NXDomain
            ) =>
            {
                let authorities = match (authorities, soa) {
                    (Some(authorities), _) => authorities.to_vec(),
                    (None, Some(soa)) => vec![soa.into_record_of_rdata()],
                    (None, None) => Vec::new(),
                };
                Hop::Negative {
                    code: response_code,
                    status: Status::of_records(authorities.iter()),
                    authorities,
                }
            }
            Err(NetError::Dns(DnsError::DnssecBogus)) => Hop::Negative {
                code: ResponseCode::ServFail,
                authorities: Vec::new(),
                status: Status::Bogus,
            },
            Err(_) => Hop::Failed,
        }
    }
}

/// The NSEC and NSEC3 records of a positive answer's authority section,
/// with their RRSIGs: the proof of a wildcard expansion.
fn wildcard_proofs(authorities: &[Record]) -> Vec<Record> {
    let proof = |t: RecordType| matches!(t, RecordType::NSEC | RecordType::NSEC3);
    authorities
        .iter()
        .filter(|r| match &r.data {
            RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(sig)) => {
                proof(sig.input().type_covered)
            }
            _ => proof(r.record_type()),
        })
        .cloned()
        .collect()
}

/// Where a CNAME chain in `answers` leaves off: the last target when the
/// answers hold no `query_type` RRset at the end of the chain, else `None`.
fn next_name(answers: &[Record], start: &Name, query_type: RecordType) -> Option<Name> {
    let mut current = start.clone();
    // Each step consumes one CNAME, so the walk ends within answers.len() steps.
    for _ in 0..=answers.len() {
        if answers
            .iter()
            .any(|r| r.name == current && r.record_type() == query_type)
        {
            return None;
        }
        let target = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(cname) if r.name == current => Some(cname.0.clone()),
            _ => None,
        });
        let Some(target) = target else {
            // The chain stops here: ask for the last name unless nothing moved.
            return if &current == start {
                None
            } else {
                Some(current)
            };
        };
        if &target == start {
            return None;
        }
        current = target;
    }
    // More steps than records: the answers loop on themselves.
    None
}

// `RequestHandler` is declared with `async_trait`; this is its expansion,
// written out so the lab needs no macro crate.
impl RequestHandler for ValidatingResolver {
    fn handle_request<'life0, 'life1, 'async_trait, R, T>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: 'async_trait + ResponseHandler,
        T: 'async_trait + Time,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.respond(request, response_handle))
    }
}
