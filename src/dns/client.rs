//! The scanner's resolver: one per run, shared by every domain.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{self, Shared};

use hickory_proto::dnssec::{Proof, TrustAnchors};
use hickory_proto::op::{DnsRequestOptions, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::caching_client::CachingClient;
use hickory_resolver::net::dnssec::DnssecDnsHandle;
use hickory_resolver::net::{DnsError, NetError};

use super::anchor::{self, AnchorError};
use super::chain::Chain;
use super::host_answers::HostAnswers;
use super::overload_log::OverloadLog;
use super::rrsig::{self, SignatureLog};
use super::startup::{self, AnchorSource, StartupError};
use super::transport::{Failure, Handle, Transport, overload_in};
use super::wildcard;
use super::wire::QueryFlags;
use super::{Answer, Dnssec, DnssecMode, Status};

/// How to resolve, as the user asked.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    pub mode: DnssecMode,
    /// Servers to ask; empty means the system's (/etc/resolv.conf).
    pub servers: Vec<SocketAddr>,
    /// Replaces the built-in IANA root anchors (validate mode only).
    pub trust_anchor: Option<PathBuf>,
    /// Bound on one query, retries included.
    pub step_timeout: Duration,
    /// Queries in flight to each resolver at once (`--dns-in-flight`,
    /// [`super::transport::MAX_IN_FLIGHT`] by default).
    pub in_flight: usize,
}

/// Why no resolver could be set up: nothing can be scanned.
#[derive(Debug, thiserror::Error)]
pub enum DnsSetupError {
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    #[error("cannot read the system's resolvers ({0}); name one with --resolver IP[:PORT]")]
    SystemConfig(String),
    #[error("the system configuration names no resolver; name one with --resolver IP[:PORT]")]
    NoServers,
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("cannot build the resolver: {0}")]
    Build(String),
    /// The start-up check, run beside the first queries, failed.
    #[error(transparent)]
    Checked(Arc<DnsSetupError>),
}

/// The start-up check's outcome, awaited by every lookup and by the run:
/// the notes for the operator, or why nothing can be scanned.
type Ready =
    Shared<Pin<Box<dyn Future<Output = Result<Arc<[String]>, Arc<DnsSetupError>>> + Send>>>;

type Upstream = Chain<Handle>;

/// The local validator (validate mode): hickory's response cache and CNAME
/// chasing over its DNSSEC validator over our chain cache (see `chain`).
#[derive(Clone)]
struct Validator {
    client: CachingClient<wildcard::Rejudged<DnssecDnsHandle<Upstream>>>,
    upstream: Upstream,
    options: DnsRequestOptions,
}

impl Validator {
    async fn lookup(
        &self,
        name: &Name,
        rtype: RecordType,
    ) -> Result<hickory_resolver::lookup::Lookup, NetError> {
        self.client
            .lookup(Query::query(name.clone(), rtype), self.options)
            .await
    }
}

/// Resolver with DNSSEC status on every answer.
#[derive(Clone)]
pub struct Dns {
    mode: DnssecMode,
    /// Raw queries (resolver and off modes, the CD=1 second look).
    transport: Transport,
    step: Duration,
    /// Validating resolver (validate mode only): it caches, follows CNAMEs
    /// and checks the chain of trust.
    validator: Option<Validator>,
    /// The start-up check (see `startup`), sent with the first queries.
    ready: Ready,
    /// The signed lookups of one domain's scan (`with_signature_log`).
    signature_log: Option<Arc<SignatureLog>>,
    /// The MX hosts' TLSA, A and AAAA answers, asked once per run.
    host_answers: HostAnswers,
    /// The lookups of one domain's scan lost to the scanner's own load
    /// (`with_overload_log`).
    overload_log: Option<Arc<OverloadLog>>,
}

/// Most zones of MX hosts whose chain of trust is asked ahead of their
/// addresses (`prefetch_mx_zones`); real MX sets name one or two.
const MAX_MX_ZONES: usize = 4;

/// Longest CNAME chain followed (BIND's limit is 16; real chains are short).
const MAX_ALIASES: usize = 8;

/// Answers the validating resolver keeps (validate mode). Bounded so that
/// a batch's memory does not grow with its list (README, "Bounds"): the
/// entries reused across domains are few (the root, the TLDs, the parents,
/// the shared MX hosts) and stay in the LRU.
pub const RESPONSE_CACHE_ENTRIES: u64 = 4_096;

/// Validation proofs kept (validate mode), bounded for the same reason.
pub const VALIDATION_CACHE_ENTRIES: usize = 4_096;

impl Dns {
    pub async fn new(config: &DnsConfig) -> Result<Dns, DnsSetupError> {
        let servers: Vec<SocketAddr> = if config.servers.is_empty() {
            let (conf, _) = hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| DnsSetupError::SystemConfig(e.to_string()))?;
            conf.name_servers()
                .iter()
                .flat_map(|ns| {
                    let ports: Vec<u16> = ns.connections.iter().map(|c| c.port).collect();
                    let port = ports.first().copied().unwrap_or(53);
                    std::iter::once(SocketAddr::new(ns.ip, port))
                })
                .collect()
        } else {
            config.servers.clone()
        };
        if servers.is_empty() {
            return Err(DnsSetupError::NoServers);
        }
        let step = config.step_timeout;
        // The anchor file is read before any query: a typo in its name is
        // a usage error, not worth waiting for a network timeout.
        let anchor = match (&config.trust_anchor, config.mode) {
            (Some(path), DnssecMode::Validate) => AnchorSource::File {
                path: path.clone(),
                file: anchor::load(path)?,
            },
            _ => AnchorSource::BuiltIn,
        };
        let system = config.servers.is_empty();
        let mode = config.mode;
        // The anchors, when they are known without asking the network
        // (all but a DS anchor, which names keys the root serves).
        let known: Option<Option<TrustAnchors>> = match (&anchor, mode) {
            (AnchorSource::BuiltIn, DnssecMode::Validate) => Some(Some(TrustAnchors::default())),
            (AnchorSource::File { file, .. }, DnssecMode::Validate) if file.ds.is_empty() => {
                Some(Some(anchor::trust_anchors(&file.keys)))
            }
            (_, DnssecMode::Validate) => None,
            _ => Some(None),
        };
        // The check goes out with the first queries (issue 14) when nothing
        // the queries need comes from it.
        let overlap = known.is_some();
        if !overlap {
            let checked = startup::check(mode, &servers, system, &anchor, step, None).await?;
            let transport = Transport::with_cap(&checked.servers, step, config.in_flight);
            let validator = match checked.anchors {
                Some(anchors) if mode == DnssecMode::Validate => {
                    let v = build_validator(&transport, anchors);
                    if let Some(root_keys) = checked.root_keys.clone() {
                        v.upstream.seed(root_keys);
                    }
                    Some(v)
                }
                _ => None,
            };
            let notes: Arc<[String]> = checked.notes.into();
            let ready: Ready = future::ready(Ok(notes)).boxed().shared();
            return Ok(Dns::assemble(mode, transport, step, validator, ready));
        }
        let transport = Transport::with_cap(&servers, step, config.in_flight);
        let validator = known
            .flatten()
            .map(|anchors| build_validator(&transport, anchors));
        // The check's root DNSKEY query is the validator's too: it waits
        // for the check's answer instead of asking again.
        let share = match &validator {
            Some(v) => {
                let (to, from) = tokio::sync::oneshot::channel();
                v.upstream
                    .share(Query::query(Name::root(), RecordType::DNSKEY), async move {
                        from.await.ok()
                    })
                    .await;
                Some(to)
            }
            None => None,
        };
        let check = tokio::spawn({
            let servers = servers.clone();
            async move { startup::check(mode, &servers, system, &anchor, step, share).await }
        });
        let left_out = transport.clone();
        let ready: Ready = async move {
            let checked = match check.await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return Err(Arc::new(DnsSetupError::Startup(e))),
                Err(e) => return Err(Arc::new(DnsSetupError::Build(e.to_string()))),
            };
            // A resolver that gave no usable answer is asked no more.
            left_out.keep_only(&checked.servers);
            Ok(checked.notes.into())
        }
        .boxed()
        .shared();
        Ok(Dns::assemble(mode, transport, step, validator, ready))
    }

    /// A run's resolver from its parts, with no per-scan logs yet.
    fn assemble(
        mode: DnssecMode,
        transport: Transport,
        step: Duration,
        validator: Option<Validator>,
        ready: Ready,
    ) -> Dns {
        Dns {
            mode,
            transport,
            step,
            validator,
            ready,
            signature_log: None,
            host_answers: HostAnswers::default(),
            overload_log: None,
        }
    }

    /// Waits for the start-up check of the resolvers; then, what it found
    /// worth telling the operator (a server left out of the run), one
    /// sentence each. An error means no answer of this run can be trusted:
    /// the run must stop and blame its own environment, not a domain.
    pub async fn ready(&self) -> Result<Arc<[String]>, DnsSetupError> {
        self.ready.clone().await.map_err(DnsSetupError::Checked)
    }

    /// Validate mode: starts fetching the chain of trust of `domain` (the
    /// DNSKEY and DS RRsets of the name and of every zone above it that
    /// are not cached yet) before any answer has named its zone. The
    /// domain a scan starts from is nearly always a zone apex, and the
    /// validator needs these RRsets for the very first answer (its MX):
    /// asked now, they arrive with it instead of one round trip after it
    /// (issue 14). When the name is no zone apex, its two queries come
    /// back empty (NODATA) and the chain is fetched as the answers name it.
    /// Nothing to do in the other modes.
    pub fn prefetch_chain(&self, domain: &Name) {
        if let Some(v) = &self.validator {
            v.upstream.prefetch_from(domain.clone(), v.options);
        }
    }

    pub fn mode(&self) -> DnssecMode {
        self.mode
    }

    /// Looks up `name`/`rtype`, never failing: a failure is an `Answer`
    /// with status `Failed` saying why.
    pub async fn lookup(&self, name: &Name, rtype: RecordType) -> Answer {
        let answer = self.ask(name, rtype).await;
        self.log(name, rtype, &answer);
        answer
    }

    /// [`Dns::lookup`] for an MX host's A, AAAA or TLSA RRset: the domains
    /// of a run that share the host share one lookup (see `host_answers`).
    pub async fn lookup_mx_host(&self, name: &Name, rtype: RecordType) -> Answer {
        let answer = self
            .host_answers
            .get(name, rtype, || self.ask(name, rtype))
            .await;
        self.log(name, rtype, &answer);
        answer
    }

    fn log(&self, name: &Name, rtype: RecordType, answer: &Answer) {
        if let Some(log) = &self.signature_log {
            log.record(name, rtype, answer.signatures.as_ref());
        }
        if let (Some(log), true) = (&self.overload_log, answer.overloaded) {
            log.record(name, rtype);
        }
    }

    async fn ask(&self, name: &Name, rtype: RecordType) -> Answer {
        let lookup = async {
            match &self.validator {
                Some(v) => self.lookup_validating(v, name, rtype, 0).await,
                None => self.lookup_wire(name, rtype).await,
            }
        };
        // Sent together with the start-up check; not handed out before it
        // has passed, so a broken resolver is never blamed on a domain.
        let (answer, ready) = tokio::join!(lookup, self.ready.clone());
        let answer = match ready {
            Ok(_) => answer,
            Err(e) => Answer::overloaded(
                name,
                format!("not usable: the scanner's resolver failed its start-up check: {e}"),
            ),
        };
        if rtype == RecordType::MX {
            self.prefetch_mx_zones(&answer);
        }
        answer
    }

    /// This resolver, logging every lookup the scanner's own load left
    /// unanswered into a log of its own (one per domain scanned).
    pub fn with_overload_log(&self) -> (Dns, Arc<OverloadLog>) {
        let log = Arc::new(OverloadLog::default());
        let mut dns = self.clone();
        dns.overload_log = Some(Arc::clone(&log));
        (dns, log)
    }

    /// Validate mode: an MX answer names the hosts whose addresses are
    /// asked next (RFC 1035 §3.3.9 has servers add them to the answer for
    /// that reason). A host in another zone than the domain (hosted mail)
    /// needs that zone's chain of trust, which would otherwise be asked
    /// only once the addresses come back signed by it: one round trip
    /// after them. So the chain of each host's parent, the usual zone apex
    /// of a mail host, is asked now, beside the address lookups (issue
    /// 14); for hosts in the domain's own zone it is cached already and
    /// nothing is sent. At most [`MAX_MX_ZONES`] zones; the others are
    /// fetched as their answers name them.
    fn prefetch_mx_zones(&self, answer: &Answer) {
        if self.validator.is_none() {
            return;
        }
        let mut zones: Vec<Name> = Vec::new();
        for (_, host) in answer.mx_records() {
            let zone = host.base_name();
            if zones.len() >= MAX_MX_ZONES {
                break;
            }
            if !zone.is_root() && !zones.contains(&zone) {
                zones.push(zone);
            }
        }
        for zone in &zones {
            self.prefetch_chain(zone);
        }
    }

    /// This resolver, logging the signature expirations of every lookup
    /// into a log of its own (one per domain scanned).
    pub fn with_signature_log(&self) -> (Dns, Arc<SignatureLog>) {
        let log = Arc::new(SignatureLog::default());
        let mut dns = self.clone();
        dns.signature_log = Some(Arc::clone(&log));
        (dns, log)
    }

    /// A bogus verdict reached while a query of the chain of trust was lost
    /// to the scanner's own load is not the domain's: hickory calls a DNSKEY
    /// or DS it could not fetch bogus. It is the overload outcome instead
    /// (another domain's loss in the same moment counts too: under
    /// overload the scanner rather says "could not tell" than blame).
    async fn lookup_validating(
        &self,
        v: &Validator,
        name: &Name,
        rtype: RecordType,
        depth: usize,
    ) -> Answer {
        let lost = v.upstream.lost();
        let answer = self.validate_once(v, name, rtype, depth).await;
        if answer.dnssec == Dnssec::Bogus && v.upstream.lost() > lost {
            return Answer::overloaded(
                name,
                format!(
                    "DNSSEC could not be checked: a query of the chain of trust got no answer while the scanner had more queries waiting than it sends at once ({} per resolver); scan again with a lower --concurrency",
                    self.transport.cap()
                ),
            );
        }
        answer
    }

    async fn validate_once(
        &self,
        v: &Validator,
        name: &Name,
        rtype: RecordType,
        depth: usize,
    ) -> Answer {
        // The resolver retries on its own; the outer bound keeps a slow or
        // silent server from stretching one step beyond --timeout.
        let bound = self.step * 2;
        let result = match tokio::time::timeout(bound, v.lookup(name, rtype)).await {
            Ok(r) => r,
            Err(_) if v.upstream.waiting() > 0 || self.transport.busy() => {
                return Answer::overloaded(
                    name,
                    format!(
                        "no answer within {} s while the scanner had more queries waiting than it sends at once ({} per resolver); the scanner's own load is the likely cause: scan again with a lower --concurrency",
                        bound.as_secs_f64(),
                        self.transport.cap()
                    ),
                );
            }
            Err(_) => {
                return Answer::failed(
                    name,
                    Dnssec::Indeterminate,
                    format!(
                        "no answer within {} s (2 tries of --timeout {} s)",
                        bound.as_secs_f64(),
                        self.step.as_secs_f64()
                    ),
                );
            }
        };
        match result {
            Ok(lookup) => from_records(name, rtype, lookup.answers(), None),
            Err(NetError::Dns(DnsError::Nsec {
                response, proof, ..
            })) => {
                let status = if response.response_code == ResponseCode::NXDomain {
                    Status::NxDomain
                } else {
                    Status::NoData
                };
                let ttl = response.negative_ttl();
                negative(name, status, proof_status(proof), &response.answers, ttl)
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => {
                let status = if nr.response_code == ResponseCode::NXDomain {
                    Status::NxDomain
                } else {
                    Status::NoData
                };
                // Without an NSEC proof the denial is at best as strong as
                // the authority records that came with it.
                let dnssec = nr
                    .authorities
                    .as_deref()
                    .and_then(|a| a.iter().map(|r| proof_status(r.proof)).reduce(Dnssec::and))
                    .unwrap_or(Dnssec::Indeterminate);
                // hickory fills in `negative_ttl` only for some paths; the
                // SOA is in the authority records either way.
                let ttl = nr
                    .negative_ttl
                    .or_else(|| nr.authorities.as_deref().and_then(negative_ttl));
                negative(name, status, dnssec, &[], ttl)
            }
            Err(NetError::Dns(DnsError::DnssecBogus)) => {
                // hickory judges a denial behind an alias against the zone
                // of the name asked, not of the CNAME target, and calls a
                // correct answer from a recursive resolver (CNAME + the
                // target zone's NSEC) bogus. When the name is a secure
                // alias, the target's own answer is the real verdict.
                if depth < MAX_ALIASES && rtype != RecordType::CNAME {
                    if let Some(target) = self.secure_alias(v, name).await {
                        let mut answer =
                            Box::pin(self.lookup_validating(v, &target, rtype, depth + 1)).await;
                        answer.aliases.insert(0, target);
                        return answer;
                    }
                }
                Answer::failed(
                    name,
                    Dnssec::Bogus,
                    "DNSSEC validation failed (bogus): signatures do not verify or the chain of trust is broken".into(),
                )
            }
            Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))) => {
                self.tell_bogus_from_broken(name, rtype).await
            }
            Err(e) => match overload_in(&e) {
                Some(text) => Answer::overloaded(name, text),
                // No answer while queries waited for a place in front of
                // the validator: the scanner's own load, as in `transport`.
                None if !matches!(e, NetError::Dns(_))
                    && (v.upstream.waiting() > 0 || self.transport.busy()) =>
                {
                    Answer::overloaded(
                        name,
                        format!(
                            "{e}, while the scanner had more queries waiting than it sends a resolver at once ({}); the scanner's own load is the likely cause: scan again with a lower --concurrency",
                            self.transport.cap()
                        ),
                    )
                }
                None => Answer::failed(name, Dnssec::Indeterminate, e.to_string()),
            },
        }
    }

    /// The target of `name` when it is a CNAME whose signature validates.
    async fn secure_alias(&self, v: &Validator, name: &Name) -> Option<Name> {
        let lookup = tokio::time::timeout(self.step * 2, v.lookup(name, RecordType::CNAME))
            .await
            .ok()?
            .ok()?;
        lookup.answers().iter().find_map(|r| match &r.data {
            RData::CNAME(target) if r.name == *name && r.proof == Proof::Secure => {
                Some(target.0.clone())
            }
            _ => None,
        })
    }

    async fn lookup_wire(&self, name: &Name, rtype: RecordType) -> Answer {
        let flags = QueryFlags {
            dnssec_ok: self.mode == DnssecMode::Resolver,
            checking_disabled: false,
        };
        let msg = match self.transport.query(name, rtype, flags).await {
            Ok(m) => m,
            Err(Failure::Overloaded(e)) => return Answer::overloaded(name, e),
            Err(Failure::Unanswered(e)) => return Answer::failed(name, Dnssec::Indeterminate, e),
        };
        let dnssec = match self.mode {
            // AD=0 from a validating resolver means "not proven secure";
            // like Postfix we treat it as insecure.
            DnssecMode::Resolver if msg.metadata.authentic_data => Dnssec::Secure,
            DnssecMode::Resolver => Dnssec::Insecure,
            _ => Dnssec::Indeterminate,
        };
        match msg.metadata.response_code {
            ResponseCode::NoError => {
                let mut answer = from_records(name, rtype, &msg.answers, Some(dnssec));
                if answer.status == Status::NoData {
                    answer.ttl = negative_ttl(&msg.authorities);
                }
                answer
            }
            ResponseCode::NXDomain => negative(
                name,
                Status::NxDomain,
                dnssec,
                &msg.answers,
                negative_ttl(&msg.authorities),
            ),
            ResponseCode::ServFail if self.mode == DnssecMode::Resolver => {
                self.tell_bogus_from_broken(name, rtype).await
            }
            code => Answer::failed(
                name,
                Dnssec::Indeterminate,
                format!("the resolver answered {code}"),
            ),
        }
    }

    /// A SERVFAIL from a validating resolver is either its verdict "bogus" or
    /// a real failure; asking again with CD=1 tells them apart (RFC 4035
    /// §3.2.2): a bogus answer comes back unchecked, a broken server still
    /// fails.
    async fn tell_bogus_from_broken(&self, name: &Name, rtype: RecordType) -> Answer {
        let flags = QueryFlags {
            dnssec_ok: true,
            checking_disabled: true,
        };
        match self.transport.query(name, rtype, flags).await {
            Ok(m) if m.metadata.response_code == ResponseCode::NoError
                || m.metadata.response_code == ResponseCode::NXDomain =>
            {
                Answer::failed(
                    name,
                    Dnssec::Bogus,
                    "DNSSEC validation failed (bogus): the resolver answered SERVFAIL, and returned the data only with checking disabled (CD=1)".into(),
                )
            }
            Ok(m) => Answer::failed(
                name,
                Dnssec::Indeterminate,
                format!(
                    "server failure: the resolver answered SERVFAIL, and {} with checking disabled; the zone's servers are broken or unreachable",
                    m.metadata.response_code
                ),
            ),
            Err(Failure::Overloaded(e)) => Answer::overloaded(
                name,
                format!("the resolver answered SERVFAIL; retrying with CD=1: {e}"),
            ),
            Err(Failure::Unanswered(e)) => Answer::failed(
                name,
                Dnssec::Indeterminate,
                format!("server failure: the resolver answered SERVFAIL; retrying with CD=1: {e}"),
            ),
        }
    }
}

fn proof_status(p: Proof) -> Dnssec {
    match p {
        Proof::Secure => Dnssec::Secure,
        Proof::Insecure => Dnssec::Insecure,
        Proof::Bogus => Dnssec::Bogus,
        Proof::Indeterminate => Dnssec::Indeterminate,
    }
}

/// Follows the CNAME chain in `answers` from `name` and keeps the records of
/// `rtype` at its end. `fixed` is the status for the whole message (AD bit);
/// otherwise each record's own proof counts.
fn from_records(
    name: &Name,
    rtype: RecordType,
    answers: &[Record],
    fixed: Option<Dnssec>,
) -> Answer {
    let (mut canonical, mut aliases, mut dnssec) = follow_aliases(name, answers, fixed);
    // hickory sometimes answers an alias from its cache with the target's
    // records but without the CNAME that leads there. The records still
    // answer our query: take their owner as the canonical name.
    if !answers
        .iter()
        .any(|r| r.record_type() == rtype && r.name == canonical)
    {
        if let Some(owner) = answers
            .iter()
            .find(|r| r.record_type() == rtype)
            .map(|r| r.name.clone())
        {
            if !aliases.contains(&owner) {
                aliases.push(owner.clone());
            }
            canonical = owner;
        }
    }
    let mut records: Vec<RData> = Vec::new();
    for r in answers {
        if r.record_type() == rtype && r.name == canonical {
            if fixed.is_none() {
                dnssec = dnssec.and(proof_status(r.proof));
            }
            records.push(r.data.clone());
        }
    }
    if dnssec == Dnssec::Bogus {
        return Answer::failed(
            name,
            Dnssec::Bogus,
            "DNSSEC validation failed (bogus)".into(),
        );
    }
    let status = if records.is_empty() {
        Status::NoData
    } else {
        Status::Found
    };
    let signatures = rrsig::earliest(
        answers,
        rtype,
        crate::datetime::unix_seconds(std::time::SystemTime::now()),
    );
    // The records used and the aliases that led to them (RFC 2181 §5.2).
    let ttl = answers
        .iter()
        .filter(|r| r.record_type() == rtype || r.record_type() == RecordType::CNAME)
        .map(|r| r.ttl)
        .min();
    Answer {
        status,
        dnssec,
        records,
        canonical,
        aliases,
        error: None,
        overloaded: false,
        signatures,
        ttl: if status == Status::Found { ttl } else { None },
    }
}

/// The negative TTL of a denial (RFC 2308 §5): the SOA's TTL, at most its
/// MINIMUM field; `None` without an SOA.
fn negative_ttl(authorities: &[Record]) -> Option<u32> {
    authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
        _ => None,
    })
}

fn negative(
    name: &Name,
    status: Status,
    dnssec: Dnssec,
    answers: &[Record],
    ttl: Option<u32>,
) -> Answer {
    let (canonical, aliases, chain) = follow_aliases(name, answers, Some(dnssec));
    let dnssec = dnssec.and(chain);
    // A denial that does not validate proves nothing: the name may well
    // exist. Senders treat it as a failed lookup (RFC 4035 §5.5).
    if dnssec == Dnssec::Bogus {
        return Answer::failed(
            name,
            Dnssec::Bogus,
            "DNSSEC validation failed (bogus): the denial of existence does not verify".into(),
        );
    }
    Answer {
        status,
        dnssec,
        records: Vec::new(),
        canonical,
        aliases,
        error: None,
        overloaded: false,
        signatures: None,
        ttl,
    }
}

fn follow_aliases(
    name: &Name,
    answers: &[Record],
    fixed: Option<Dnssec>,
) -> (Name, Vec<Name>, Dnssec) {
    let mut canonical = name.clone();
    let mut aliases = Vec::new();
    let mut dnssec = fixed.unwrap_or(Dnssec::Secure);
    while aliases.len() < MAX_ALIASES {
        let next = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(target) if r.name == canonical => Some((target.0.clone(), r.proof)),
            _ => None,
        });
        let Some((target, proof)) = next else { break };
        if fixed.is_none() {
            dnssec = dnssec.and(proof_status(proof));
        }
        aliases.push(target.clone());
        canonical = target;
    }
    (canonical, aliases, dnssec)
}

fn build_validator(transport: &Transport, anchors: TrustAnchors) -> Validator {
    // Under hickory's validator, the same transport as the raw queries:
    // retransmission with backoff, failover, the in-flight cap per
    // resolver (see `transport`); `Chain` keeps the chain's keys.
    let upstream = Chain::new(
        Handle(transport.clone()),
        transport.cap() * transport.len().max(1),
    );
    let validating = DnssecDnsHandle::with_trust_anchor(upstream.clone(), Arc::new(anchors))
        // Bounded like every cache of a run; a proof is kept for its
        // RRset's TTL, at most MAX_AGE (RRSIG validity is rechecked when
        // the chain cache fetches the keys again).
        .validation_cache_size(VALIDATION_CACHE_ENTRIES)
        .positive_validation_ttl(Duration::ZERO..=super::chain::MAX_AGE);
    let mut options = DnsRequestOptions::default();
    options.use_edns = true;
    options.edns_set_dnssec_ok = true;
    options.edns_payload_len = 1232;
    options.recursion_desired = true;
    Validator {
        client: CachingClient::new(
            RESPONSE_CACHE_ENTRIES,
            wildcard::Rejudged(validating),
            false,
        ),
        upstream,
        options,
    }
}
