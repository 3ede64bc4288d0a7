//! The scanner's resolver: one per run, shared by every domain.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::dnssec::{Proof, TrustAnchors};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};

use super::anchor::{self, AnchorError};
use super::startup::{self, AnchorSource, StartupError};
use super::wire::{self, QueryFlags};
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
}

/// Resolver with DNSSEC status on every answer.
#[derive(Clone)]
pub struct Dns {
    mode: DnssecMode,
    servers: Arc<[SocketAddr]>,
    step: Duration,
    /// Validating resolver (validate mode only): it caches, follows CNAMEs
    /// and checks the chain of trust.
    validator: Option<Arc<TokioResolver>>,
    /// What the start-up check found worth telling the operator.
    notes: Arc<[String]>,
}

/// Longest CNAME chain followed (BIND's limit is 16; real chains are short).
const MAX_ALIASES: usize = 8;

/// Answers the validating resolver keeps (validate mode).
pub const RESPONSE_CACHE_ENTRIES: u64 = 4_096;

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
        let checked = startup::check(
            config.mode,
            &servers,
            config.servers.is_empty(),
            &anchor,
            step,
        )
        .await?;
        let validator = match checked.anchors {
            Some(anchors) if config.mode == DnssecMode::Validate => {
                Some(Arc::new(build_validator(&checked.servers, anchors, step)?))
            }
            _ => None,
        };
        Ok(Dns {
            mode: config.mode,
            servers: checked.servers.into(),
            step,
            validator,
            notes: checked.notes.into(),
        })
    }

    /// What the start-up check of the resolvers found worth telling the
    /// operator (a server left out of the run), one sentence each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    pub fn mode(&self) -> DnssecMode {
        self.mode
    }

    /// Looks up `name`/`rtype`, never failing: a failure is an `Answer`
    /// with status `Failed` saying why.
    pub async fn lookup(&self, name: &Name, rtype: RecordType) -> Answer {
        match &self.validator {
            Some(v) => self.lookup_validating(v, name, rtype, 0).await,
            None => self.lookup_wire(name, rtype).await,
        }
    }

    async fn lookup_validating(
        &self,
        v: &TokioResolver,
        name: &Name,
        rtype: RecordType,
        depth: usize,
    ) -> Answer {
        // The resolver retries on its own; the outer bound keeps a slow or
        // silent server from stretching one step beyond --timeout.
        let bound = self.step * 2;
        let result = match tokio::time::timeout(bound, v.lookup(name.clone(), rtype)).await {
            Ok(r) => r,
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
                negative(name, status, proof_status(proof), &response.answers)
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
                negative(name, status, dnssec, &[])
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
            Err(e) => Answer::failed(name, Dnssec::Indeterminate, e.to_string()),
        }
    }

    /// The target of `name` when it is a CNAME whose signature validates.
    async fn secure_alias(&self, v: &TokioResolver, name: &Name) -> Option<Name> {
        let lookup = tokio::time::timeout(self.step * 2, v.lookup(name.clone(), RecordType::CNAME))
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
        let msg = match self.ask(name, rtype, flags).await {
            Ok(m) => m,
            Err(e) => return Answer::failed(name, Dnssec::Indeterminate, e),
        };
        let dnssec = match self.mode {
            // AD=0 from a validating resolver means "not proven secure";
            // like Postfix we treat it as insecure.
            DnssecMode::Resolver if msg.metadata.authentic_data => Dnssec::Secure,
            DnssecMode::Resolver => Dnssec::Insecure,
            _ => Dnssec::Indeterminate,
        };
        match msg.metadata.response_code {
            ResponseCode::NoError => from_records(name, rtype, &msg.answers, Some(dnssec)),
            ResponseCode::NXDomain => negative(name, Status::NxDomain, dnssec, &msg.answers),
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
        match self.ask(name, rtype, flags).await {
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
            Err(e) => Answer::failed(
                name,
                Dnssec::Indeterminate,
                format!("server failure: the resolver answered SERVFAIL; retrying with CD=1: {e}"),
            ),
        }
    }

    /// One query to the first server that answers.
    async fn ask(
        &self,
        name: &Name,
        rtype: RecordType,
        flags: QueryFlags,
    ) -> Result<Message, String> {
        let mut errors = Vec::new();
        for server in self.servers.iter() {
            match wire::exchange(*server, name, rtype, flags, self.step).await {
                Ok(m) => return Ok(m),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(errors.join("; "))
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
    Answer {
        status,
        dnssec,
        records,
        canonical,
        aliases,
        error: None,
    }
}

fn negative(name: &Name, status: Status, dnssec: Dnssec, answers: &[Record]) -> Answer {
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

fn build_validator(
    servers: &[SocketAddr],
    anchors: TrustAnchors,
    step: Duration,
) -> Result<TokioResolver, DnsSetupError> {
    let mut config = ResolverConfig::from_name_servers(Vec::new());
    for s in servers {
        let mut ns = NameServerConfig::udp_and_tcp(s.ip());
        for c in ns.connections.iter_mut() {
            c.port = s.port();
        }
        config.add_name_server(ns);
    }
    let mut opts = ResolverOpts::default();
    opts.validate = true;
    opts.timeout = step;
    opts.attempts = 2;
    opts.ndots = 0;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.try_tcp_on_error = true;
    opts.edns_payload_len = 1232;
    // Bounded so that a batch's memory does not grow with its list
    // (README, "Bounds"): the entries reused across domains are few (the
    // root, the TLDs, the parents and the shared MX hosts) and stay in
    // the cache's LRU; 32 768 kept ~8 KB per domain of a 10 000-domain run.
    opts.cache_size = RESPONSE_CACHE_ENTRIES;
    // Scanning thousands of domains at once: the default (32) would queue.
    opts.max_active_requests = 1024;
    let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(opts)
        .with_trust_anchor(Arc::new(anchors));
    builder.options_mut().validate = true;
    builder
        .build()
        .map_err(|e| DnsSetupError::Build(e.to_string()))
}
