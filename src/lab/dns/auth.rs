//! The authoritative server: every lab zone behind one socket.
//!
//! Each zone sits in its own hickory `Catalog`; this router picks the zone
//! for each query. A single catalog holding parent and child would answer
//! `DS child.` from the child (the deepest zone), which breaks the chain of
//! trust: the DS RRset lives in the parent (RFC 4035 §3.1.4.1). So queries
//! go to the deepest zone containing the name, except DS queries, which go
//! to the deepest zone containing the parent name.
//!
//! Queries for the (owner, type) pairs the catalogue lists under `servfail`
//! are answered SERVFAIL, as a broken server would.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    pin::Pin,
};

use std::sync::Arc;

use super::denial::Denial;
use super::lossy::Lossy;
use super::query_log::QueryLog;
use crate::lab::switch::Switch;
use hickory_proto::{
    op::{Edns, Header, HeaderCounts, Metadata, ResponseCode},
    rr::{LowerName, Name, Record, RecordType},
};
use hickory_server::{
    net::runtime::Time,
    server::{Request, RequestHandler, ResponseHandler, ResponseInfo},
    zone_handler::{Catalog, MessageResponseBuilder},
};

/// EDNS payload size the lab advertises (the DNS flag day 2020 value).
pub const EDNS_PAYLOAD: u16 = 1232;

/// Routes each query to the catalog of the zone that must answer it.
pub struct AuthRouter {
    zones: HashMap<LowerName, (Catalog, Option<Denial>)>,
    servfail: HashSet<(LowerName, RecordType)>,
    lossy: Lossy,
    log: Arc<QueryLog>,
    /// Second states of zones, answering instead once their switch is on.
    changed: HashMap<LowerName, (Catalog, Option<Denial>, Switch)>,
}

impl AuthRouter {
    /// A router over these zones; `servfail` lists the broken (owner, type) pairs.
    pub fn new(
        zones: impl IntoIterator<Item = (LowerName, Catalog, Option<Denial>)>,
        servfail: HashSet<(LowerName, RecordType)>,
        lossy: Lossy,
        log: Arc<QueryLog>,
    ) -> AuthRouter {
        AuthRouter {
            zones: zones.into_iter().map(|(n, c, d)| (n, (c, d))).collect(),
            servfail,
            lossy,
            log,
            changed: HashMap::new(),
        }
    }

    /// Zones with a second state, served once their switch is flipped.
    pub fn with_changed(
        mut self,
        changed: impl IntoIterator<Item = (LowerName, Catalog, Option<Denial>, Switch)>,
    ) -> AuthRouter {
        self.changed = changed
            .into_iter()
            .map(|(n, c, d, s)| (n, (c, d, s)))
            .collect();
        self
    }

    /// The deepest zone at or above `name`; for DS, at or above its parent.
    /// Walks at most one step per label (at most 127).
    fn zone_for(
        &self,
        name: &LowerName,
        query_type: RecordType,
    ) -> Option<(&Catalog, Option<&Denial>)> {
        let mut candidate = if query_type == RecordType::DS && !name.is_root() {
            name.base_name()
        } else {
            name.clone()
        };
        loop {
            if let Some((catalog, denial, switch)) = self.changed.get(&candidate) {
                if switch.is_on() {
                    return Some((catalog, denial.as_ref()));
                }
            }
            if let Some((catalog, denial)) = self.zones.get(&candidate) {
                return Some((catalog, denial.as_ref()));
            }
            if candidate.is_root() {
                return None;
            }
            candidate = candidate.base_name();
        }
    }

    async fn route<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let target = match request.request_info() {
            Ok(info) => {
                let name = info.query.name();
                let query_type = info.query.query_type();
                self.log.record(name, query_type);
                if self.lossy.drops(name, query_type, request.protocol()) {
                    return failed_response(request);
                }
                if self.servfail.contains(&(name.clone(), query_type)) {
                    return send_error(request, ResponseCode::ServFail, &mut response_handle).await;
                }
                let zone = self.zone_for(name, query_type);
                let dnssec_ok = request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
                let zone_denial = zone.and_then(|(_, d)| d);
                let wildcard =
                    zone_denial.and_then(|d| d.wildcard(&Name::from(name), query_type, dnssec_ok));
                if let Some(w) = wildcard {
                    return send_authoritative(
                        request,
                        ResponseCode::NoError,
                        &w.answers,
                        &w.authority,
                        &mut response_handle,
                    )
                    .await;
                }
                let denial = zone_denial.and_then(|d| d.nxdomain(&Name::from(name), dnssec_ok));
                if let Some(authority) = denial {
                    return send_authoritative(
                        request,
                        ResponseCode::NXDomain,
                        &[],
                        &authority,
                        &mut response_handle,
                    )
                    .await;
                }
                zone.map(|(c, _)| c)
            }
            // Let the root catalog answer malformed requests (FORMERR).
            Err(_) => self
                .zones
                .get(&LowerName::from(hickory_proto::rr::Name::root()))
                .map(|(c, _)| c),
        };
        match target {
            Some(catalog) => {
                catalog
                    .handle_request::<R, T>(request, response_handle)
                    .await
            }
            None => send_error(request, ResponseCode::Refused, &mut response_handle).await,
        }
    }
}

/// Sends an empty answer with `code`, echoing EDNS when the query had it.
pub async fn send_error<R: ResponseHandler>(
    request: &Request,
    code: ResponseCode,
    response_handle: &mut R,
) -> ResponseInfo {
    let edns = response_edns(request).map(|mut edns| {
        // Extended RCODEs such as BADVERS keep their high bits in EDNS
        // (RFC 6891 §6.1.3).
        edns.set_rcode_high(code.high());
        edns
    });
    let response = MessageResponseBuilder::new(&request.queries, edns.as_ref())
        .error_msg(&request.metadata, code);
    match response_handle.send_response(response).await {
        Ok(info) => info,
        Err(_) => failed_response(request),
    }
}

/// The EDNS record of a response: echoed when the query had one (RFC 6891
/// §7), with our payload size and the query's DO bit.
fn response_edns(request: &Request) -> Option<Edns> {
    request.edns.as_ref().map(|req| {
        let mut edns = Edns::new();
        edns.set_max_payload(req.max_payload().clamp(512, EDNS_PAYLOAD))
            .set_dnssec_ok(req.flags().dnssec_ok);
        edns
    })
}

/// Sends an authoritative answer the lab makes itself (NXDOMAIN, or a
/// wildcard's) with these answer and authority sections.
async fn send_authoritative<R: ResponseHandler>(
    request: &Request,
    code: ResponseCode,
    answers: &[Record],
    authority: &[Record],
    response_handle: &mut R,
) -> ResponseInfo {
    let edns = response_edns(request);
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.authoritative = true;
    metadata.response_code = code;
    let response = MessageResponseBuilder::new(&request.queries, edns.as_ref()).build(
        metadata,
        answers.iter(),
        authority.iter(),
        std::iter::empty(),
        std::iter::empty(),
    );
    match response_handle.send_response(response).await {
        Ok(info) => info,
        Err(_) => failed_response(request),
    }
}

/// What the server logs when a response could not be sent.
pub fn failed_response(request: &Request) -> ResponseInfo {
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = ResponseCode::ServFail;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}

// `RequestHandler` is declared with `async_trait`; this is its expansion,
// written out so the lab needs no macro crate.
impl RequestHandler for AuthRouter {
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
        Box::pin(self.route::<R, T>(request, response_handle))
    }
}
