//! The lab's DNS tree, seen from outside: a validating hickory resolver
//! pointed at the authoritative server, and a plain client sending raw
//! queries (DO/CD bits) to the validating resolver.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use hickory_net::{
    DnsError, NetError,
    client::Client,
    runtime::TokioRuntimeProvider,
    tcp::TcpClientStream,
    udp::UdpClientStream,
    xfer::{DnsHandle, FirstAnswer},
};
use hickory_proto::{
    dnssec::{
        Algorithm, DigestType, Proof, TrustAnchors,
        rdata::{DNSKEY, DNSSECRData, DS},
    },
    op::{DnsRequest, DnsRequestOptions, DnsResponse, Edns, Message, Query, ResponseCode},
    rr::{Name, RData, Record, RecordType},
    serialize::txt::trust_anchor::{self, Entry},
};
use hickory_resolver::{
    Resolver, TokioResolver,
    config::{NameServerConfig, ResolveHosts, ResolverConfig},
};
use mxtls::lab::dns::LabDns;

const CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/lab/catalogue.toml");

async fn start_lab() -> LabDns {
    let catalogue = mxtls::lab::prepare::prepare_file(std::path::Path::new(CATALOGUE))
        .expect("the shipped catalogue parses")
        .catalogue;
    LabDns::start(&catalogue)
        .await
        .expect("the lab starts on loopback")
}

/// A hickory resolver that validates from the lab's DNSKEY anchor and asks
/// the authoritative server directly.
fn validating_stub(lab: &LabDns) -> TokioResolver {
    let anchors: TrustAnchors = lab
        .trust_anchor_dnskey()
        .parse()
        .expect("the DNSKEY anchor text parses as a trust anchor");
    let server = lab.authoritative();
    let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
    for connection in &mut name_server.connections {
        connection.port = server.port();
    }
    let mut builder = Resolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![name_server]),
        TokioRuntimeProvider::default(),
    )
    .with_trust_anchor(Arc::new(anchors));
    builder.options_mut().use_hosts_file = ResolveHosts::Never;
    builder.options_mut().timeout = Duration::from_secs(2);
    builder.build().expect("the resolver builds")
}

fn proof_word(proof: Proof) -> &'static str {
    match proof {
        Proof::Secure => "secure",
        Proof::Insecure => "insecure",
        Proof::Bogus => "bogus",
        Proof::Indeterminate => "indeterminate",
    }
}

/// The weakest proof among the records, RRSIGs aside (they carry no proof
/// of their own unless used).
fn weakest<'a>(records: impl Iterator<Item = &'a Record>) -> &'static str {
    let proofs: Vec<Proof> = records
        .filter(|r| r.record_type() != RecordType::RRSIG)
        .map(|r| r.proof)
        .collect();
    if proofs.is_empty() {
        return "no-records";
    }
    for worst in [Proof::Bogus, Proof::Indeterminate, Proof::Insecure] {
        if proofs.contains(&worst) {
            return proof_word(worst);
        }
    }
    "secure"
}

/// What a validating hickory resolver makes of `name`/`rtype`, in words:
/// "secure", "insecure", "bogus", "nxdomain secure", "nodata insecure", "servfail".
async fn observe(resolver: &TokioResolver, name: &str, rtype: RecordType) -> String {
    match resolver.lookup(name, rtype).await {
        Ok(lookup) => weakest(lookup.answers().iter()).to_string(),
        Err(NetError::Dns(DnsError::NoRecordsFound(no_records))) => {
            let kind = match no_records.response_code {
                ResponseCode::NXDomain => "nxdomain",
                _ => "nodata",
            };
            let authorities = no_records.authorities.as_deref().unwrap_or_default();
            format!("{kind} {}", weakest(authorities.iter()))
        }
        Err(NetError::Dns(DnsError::Nsec {
            response, proof, ..
        })) => {
            let kind = match response.response_code {
                ResponseCode::NXDomain => "nxdomain",
                _ => "nodata",
            };
            format!("{kind} {}", proof_word(proof))
        }
        Err(NetError::Dns(DnsError::DnssecBogus)) => "bogus".to_string(),
        Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))) => {
            "servfail".to_string()
        }
        Err(e) => format!("error: {e}"),
    }
}

#[tokio::test]
async fn validating_stub_sees_the_proof_each_scenario_publishes() {
    let lab = start_lab().await;
    let resolver = validating_stub(&lab);
    let rows: &[(&str, &str, RecordType, &str)] = &[
        ("signed zone, MX", "secure.test.", RecordType::MX, "secure"),
        (
            "signed zone, A",
            "mx1.secure.test.",
            RecordType::A,
            "secure",
        ),
        (
            "signed zone, AAAA",
            "mx1.secure.test.",
            RecordType::AAAA,
            "secure",
        ),
        (
            "signed zone, TLSRPT",
            "_smtp._tls.secure.test.",
            RecordType::TXT,
            "secure",
        ),
        (
            "signed zone, TLSA",
            "_25._tcp.mx1.secure.test.",
            RecordType::TLSA,
            "secure",
        ),
        (
            "signed zone, absent type is a secure NODATA",
            "secure.test.",
            RecordType::CAA,
            "nodata secure",
        ),
        (
            "signed zone, absent name is a secure NXDOMAIN",
            "nohost.secure.test.",
            RecordType::A,
            "nxdomain secure",
        ),
        (
            "unsigned zone without DS, MX",
            "insecure.test.",
            RecordType::MX,
            "insecure",
        ),
        (
            "unsigned zone without DS, TLSA",
            "_25._tcp.mx1.insecure.test.",
            RecordType::TLSA,
            "insecure",
        ),
        (
            "unsigned zone, absent name",
            "nohost.insecure.test.",
            RecordType::A,
            "nxdomain insecure",
        ),
        (
            "flipped RRSIG byte on MX",
            "bogus-rrsig.test.",
            RecordType::MX,
            "bogus",
        ),
        (
            "flipped RRSIG leaves other RRsets secure",
            "mx1.bogus-rrsig.test.",
            RecordType::A,
            "secure",
        ),
        (
            "expired RRSIG on MX",
            "bogus-expired.test.",
            RecordType::MX,
            "bogus",
        ),
        (
            "DS from an unrelated key",
            "bogus-ds.test.",
            RecordType::MX,
            "bogus",
        ),
        (
            "DS from an unrelated key, host",
            "mx1.bogus-ds.test.",
            RecordType::A,
            "bogus",
        ),
        (
            "absent zone is a secure NXDOMAIN from the TLD",
            "nxdomain.test.",
            RecordType::MX,
            "nxdomain secure",
        ),
        (
            "implicit MX: no MX is a secure NODATA",
            "implicit.test.",
            RecordType::MX,
            "nodata secure",
        ),
        (
            "implicit MX: apex A",
            "implicit.test.",
            RecordType::A,
            "secure",
        ),
        ("null MX", "nullmx.test.", RecordType::MX, "secure"),
        (
            "MX host behind a cross-zone CNAME",
            "mail.mx-cname.test.",
            RecordType::A,
            "secure",
        ),
        (
            "TLSRPT RRSIG flipped",
            "_smtp._tls.tlsrpt-bogus.test.",
            RecordType::TXT,
            "bogus",
        ),
        (
            "TLSRPT answered SERVFAIL",
            "_smtp._tls.tlsrpt-servfail.test.",
            RecordType::TXT,
            "servfail",
        ),
        (
            "TLSRPT missing is a secure NXDOMAIN",
            "_smtp._tls.tlsrpt-missing.test.",
            RecordType::TXT,
            "nxdomain secure",
        ),
        (
            "TLSA RRSIG flipped",
            "_25._tcp.mx1.tlsa-bogus.test.",
            RecordType::TLSA,
            "bogus",
        ),
        (
            "MX host in the insecure zone",
            "mx1.insecure.test.",
            RecordType::A,
            "insecure",
        ),
        (
            "host A RRSIG expired",
            "mx1.mx-host-expired.test.",
            RecordType::A,
            "bogus",
        ),
        (
            "host AAAA beside the expired A",
            "mx1.mx-host-expired.test.",
            RecordType::AAAA,
            "secure",
        ),
        ("the root's own DNSKEY", ".", RecordType::DNSKEY, "secure"),
        (
            "the TLD's DS in the root",
            "test.",
            RecordType::DS,
            "secure",
        ),
        (
            "no DS for the insecure zone",
            "insecure.test.",
            RecordType::DS,
            "nodata secure",
        ),
    ];
    let mut failures = Vec::new();
    for (rule, name, rtype, want) in rows {
        let got = observe(&resolver, name, *rtype).await;
        if got != *want {
            failures.push(format!(
                "{rule}: {name} {rtype}: want {want:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn null_mx_is_preference_zero_to_the_root() {
    let lab = start_lab().await;
    let resolver = validating_stub(&lab);
    let lookup = resolver
        .mx_lookup("nullmx.test.")
        .await
        .expect("nullmx.test has an MX");
    let mx: Vec<(u16, Name)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(mx) => Some((mx.preference, mx.exchange.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        mx,
        vec![(0, Name::root())],
        "answers: {:?}",
        lookup.answers()
    );
}

#[tokio::test]
async fn multi_string_txt_arrives_as_separate_strings() {
    let lab = start_lab().await;
    let resolver = validating_stub(&lab);
    let lookup = resolver
        .txt_lookup("_smtp._tls.secure.test.")
        .await
        .expect("secure.test publishes TLSRPT");
    let strings: Vec<Vec<String>> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(
        strings,
        vec![vec![
            "v=TLSRPTv1; rua=mailto:tlsrpt@".to_string(),
            "secure.test".to_string()
        ]],
        "answers: {:?}",
        lookup.answers()
    );
}

/// Sends one query with the given DO and CD bits, over UDP or TCP.
/// `bits` lists the flags to set: "DO" (EDNS DNSSEC OK), "CD", "AD".
async fn raw_query(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    bits: &str,
    tcp: bool,
) -> Result<DnsResponse, NetError> {
    let flags: Vec<&str> = bits.split_whitespace().collect();
    let provider = TokioRuntimeProvider::default();
    let client = if tcp {
        let (stream, handle) =
            TcpClientStream::new(server, None, Some(Duration::from_secs(2)), provider);
        let (client, bg) = Client::<TokioRuntimeProvider>::new(stream.await?, handle);
        tokio::spawn(bg);
        client
    } else {
        let stream = UdpClientStream::builder(server, provider)
            .with_timeout(Some(Duration::from_secs(2)))
            .build();
        let (client, bg) = Client::<TokioRuntimeProvider>::from_sender(stream);
        tokio::spawn(bg);
        client
    };
    let name = Name::from_ascii(name).map_err(|e| NetError::from(e.to_string()))?;
    let mut message = Message::query();
    message.add_query(Query::query(name, rtype));
    message.metadata.recursion_desired = true;
    message.metadata.checking_disabled = flags.contains(&"CD");
    message.metadata.authentic_data = flags.contains(&"AD");
    let mut edns = Edns::new();
    edns.set_max_payload(1232)
        .set_dnssec_ok(flags.contains(&"DO"));
    message.set_edns(edns);
    client
        .send(DnsRequest::new(message, DnsRequestOptions::default()))
        .first_answer()
        .await
}

/// Rcode, AD bit, the types in the answer section (in order) and the
/// authority section (sorted), in words.
fn describe(response: &DnsResponse) -> String {
    let mut types: Vec<String> = response
        .answers
        .iter()
        .map(|r| r.record_type().to_string())
        .collect();
    types.dedup();
    let mut authority: Vec<String> = response
        .authorities
        .iter()
        .map(|r| r.record_type().to_string())
        .collect();
    authority.sort();
    authority.dedup();
    format!(
        "{} ad={} [{}] {{{}}}",
        response.response_code,
        u8::from(response.authentic_data),
        types.join(" "),
        authority.join(" ")
    )
}

#[tokio::test]
async fn validating_resolver_answers_like_a_validating_recursor() {
    let lab = start_lab().await;
    let server = lab.validating_resolver();
    // (rule, name, type, flags set in the query, want)
    let rows: &[(&str, &str, RecordType, &str, &str)] = &[
        (
            "secure answer has AD with DO",
            "secure.test.",
            RecordType::MX,
            "DO",
            "No Error ad=1 [MX RRSIG] {}",
        ),
        (
            "secure answer without DO: AD only when asked, no RRSIG",
            "secure.test.",
            RecordType::MX,
            "",
            "No Error ad=0 [MX] {}",
        ),
        (
            "secure TLSA has AD",
            "_25._tcp.mx1.secure.test.",
            RecordType::TLSA,
            "DO",
            "No Error ad=1 [TLSA RRSIG] {}",
        ),
        (
            "AD in the query asks for AD without DO (RFC 6840 5.7)",
            "secure.test.",
            RecordType::MX,
            "AD",
            "No Error ad=1 [MX] {}",
        ),
        (
            "no DO and no AD: no AD",
            "secure.test.",
            RecordType::MX,
            "",
            "No Error ad=0 [MX] {}",
        ),
        (
            "secure NXDOMAIN without DO: SOA, no NSEC",
            "nxdomain.test.",
            RecordType::MX,
            "AD",
            "Non-Existent Domain ad=1 [] {SOA}",
        ),
        (
            "insecure answer has no AD",
            "insecure.test.",
            RecordType::MX,
            "DO",
            "No Error ad=0 [MX] {}",
        ),
        (
            "insecure TLSA has no AD",
            "_25._tcp.mx1.insecure.test.",
            RecordType::TLSA,
            "DO",
            "No Error ad=0 [TLSA] {}",
        ),
        (
            "bogus RRSIG is SERVFAIL",
            "bogus-rrsig.test.",
            RecordType::MX,
            "DO",
            "Server Failure ad=0 [] {}",
        ),
        (
            "expired RRSIG is SERVFAIL",
            "bogus-expired.test.",
            RecordType::MX,
            "DO",
            "Server Failure ad=0 [] {}",
        ),
        (
            "bogus DS is SERVFAIL",
            "bogus-ds.test.",
            RecordType::MX,
            "DO",
            "Server Failure ad=0 [] {}",
        ),
        (
            "bogus TXT is SERVFAIL",
            "_smtp._tls.tlsrpt-bogus.test.",
            RecordType::TXT,
            "DO",
            "Server Failure ad=0 [] {}",
        ),
        (
            "bogus with CD=1 gives the data, AD=0",
            "bogus-rrsig.test.",
            RecordType::MX,
            "DO CD",
            "No Error ad=0 [MX RRSIG] {}",
        ),
        (
            "bogus DS with CD=1 gives the data",
            "bogus-ds.test.",
            RecordType::MX,
            "DO CD",
            "No Error ad=0 [MX RRSIG] {}",
        ),
        (
            "expired with CD=1 gives the data",
            "mx1.mx-host-expired.test.",
            RecordType::A,
            "DO CD",
            "No Error ad=0 [A RRSIG] {}",
        ),
        (
            "server SERVFAIL stays SERVFAIL",
            "_smtp._tls.tlsrpt-servfail.test.",
            RecordType::TXT,
            "DO",
            "Server Failure ad=0 [] {}",
        ),
        (
            "server SERVFAIL stays SERVFAIL with CD=1",
            "_smtp._tls.tlsrpt-servfail.test.",
            RecordType::TXT,
            "DO CD",
            "Server Failure ad=0 [] {}",
        ),
        (
            "secure NXDOMAIN has AD",
            "nxdomain.test.",
            RecordType::MX,
            "DO",
            "Non-Existent Domain ad=1 [] {NSEC RRSIG SOA}",
        ),
        (
            "secure NODATA has AD",
            "implicit.test.",
            RecordType::MX,
            "DO",
            "No Error ad=1 [] {NSEC RRSIG SOA}",
        ),
        (
            "insecure NXDOMAIN has no AD",
            "nohost.insecure.test.",
            RecordType::A,
            "DO",
            "Non-Existent Domain ad=0 [] {SOA}",
        ),
        (
            "CNAME chain is followed across zones",
            "mail.mx-cname.test.",
            RecordType::A,
            "DO",
            "No Error ad=1 [CNAME RRSIG A RRSIG] {}",
        ),
        (
            "secure to insecure CNAME target is not AD",
            "mx1.insecure.test.",
            RecordType::A,
            "DO",
            "No Error ad=0 [A] {}",
        ),
    ];
    let mut failures = Vec::new();
    for (rule, name, rtype, bits, want) in rows {
        let got = match raw_query(server, name, *rtype, bits, false).await {
            Ok(response) => describe(&response),
            Err(e) => format!("error: {e}"),
        };
        if got != *want {
            failures.push(format!(
                "{rule}: {name} {rtype} [{bits}]: want {want:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn both_servers_answer_over_tcp() {
    let lab = start_lab().await;
    let rows: &[(&str, SocketAddr, &str, RecordType, &str)] = &[
        (
            "authoritative over TCP, with AA",
            lab.authoritative(),
            "secure.test.",
            RecordType::DNSKEY,
            "aa=1 No Error [DNSKEY RRSIG]",
        ),
        (
            "validating resolver over TCP",
            lab.validating_resolver(),
            "secure.test.",
            RecordType::MX,
            "aa=0 No Error [MX RRSIG]",
        ),
    ];
    for (rule, server, name, rtype, want) in rows {
        let response = raw_query(*server, name, *rtype, "DO", true)
            .await
            .unwrap_or_else(|e| panic!("{rule}: {name} {rtype} over TCP: {e}"));
        let mut types: Vec<String> = response
            .answers
            .iter()
            .map(|r| r.record_type().to_string())
            .collect();
        types.dedup();
        let got = format!(
            "aa={} {} [{}]",
            u8::from(response.authoritative),
            response.response_code,
            types.join(" ")
        );
        assert_eq!(&got, want, "{rule}: {name} {rtype}");
    }
}

/// The DNSKEY of a one-line anchor, through hickory's trust anchor parser.
fn parse_dnskey_anchor(text: &str) -> DNSKEY {
    let entries = trust_anchor::Parser::new(text)
        .parse()
        .unwrap_or_else(|e| panic!("anchor {text:?} does not parse: {e}"));
    match entries.as_slice() {
        [Entry::DNSKEY(record)] if record.name().is_root() => record.data().clone(),
        other => panic!("anchor {text:?} is not one root DNSKEY: {other:?}"),
    }
}

/// The DS of a one-line anchor `. TTL IN DS tag alg digest-type HEX`;
/// hickory's zone parser refuses DS text, so it is read by hand here.
fn parse_ds_anchor(text: &str) -> DS {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [".", _ttl, "IN", "DS", tag, algorithm, digest_type, hex] = fields.as_slice() else {
        panic!("anchor {text:?} is not `. TTL IN DS tag alg type hex`");
    };
    let number = |s: &str| -> u16 { s.parse().unwrap_or_else(|_| panic!("{s:?} in {text:?}")) };
    let digest: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16)
                .unwrap_or_else(|_| panic!("digest of {text:?} is not hex"))
        })
        .collect();
    DS::new(
        number(tag),
        Algorithm::from_u8(number(algorithm) as u8),
        DigestType::from(number(digest_type) as u8),
        digest,
    )
}

#[tokio::test]
async fn ds_anchor_digest_matches_the_dnskey_anchor() {
    let lab = start_lab().await;
    let dnskey_text = lab.trust_anchor_dnskey();
    let ds_text = lab.trust_anchor_ds();
    assert!(
        dnskey_text.starts_with(". 3600 IN DNSKEY 257 3 13 ") && dnskey_text.ends_with('\n'),
        "DNSKEY anchor: {dnskey_text:?}"
    );
    assert!(
        ds_text.starts_with(". 3600 IN DS ")
            && ds_text.contains(" 13 2 ")
            && ds_text.ends_with('\n'),
        "DS anchor: {ds_text:?}"
    );
    let dnskey = parse_dnskey_anchor(&dnskey_text);
    let ds = parse_ds_anchor(&ds_text);
    assert_eq!(dnskey.flags(), 257, "anchor {dnskey_text:?} is a KSK");
    assert!(
        ds.covers(&Name::root(), &dnskey).expect("digest computes"),
        "DS {ds_text:?} does not cover DNSKEY {dnskey_text:?}"
    );
    assert_eq!(
        ds.key_tag(),
        dnskey.calculate_key_tag().expect("key tag computes"),
        "key tags of {ds_text:?} and {dnskey_text:?}"
    );
    // The served root DNSKEY is the anchor.
    let response = raw_query(lab.authoritative(), ".", RecordType::DNSKEY, "", false)
        .await
        .expect("root DNSKEY query");
    let served: Vec<&DNSKEY> = response
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key),
            _ => None,
        })
        .collect();
    assert_eq!(
        served,
        vec![&dnskey],
        "served root DNSKEY vs anchor {dnskey_text:?}"
    );
}

#[tokio::test]
async fn the_other_scenario_zones_answer_their_records() {
    let lab = start_lab().await;
    let resolver = validating_stub(&lab);
    let rows: &[(&str, &str, RecordType, &str)] = &[
        (
            "null MX beside a real MX",
            "nullmx-mixed.test.",
            RecordType::MX,
            "0 . | 10 mx1.nullmx-mixed.test.",
        ),
        (
            "MX to an IP literal",
            "mx-ip-literal.test.",
            RecordType::MX,
            "10 127.0.0.1.",
        ),
        (
            "MX to a CNAME",
            "mx-cname.test.",
            RecordType::MX,
            "10 mail.mx-cname.test.",
        ),
        (
            "MX to a host in the insecure zone",
            "mx-insecure-host.test.",
            RecordType::MX,
            "10 mx1.insecure.test.",
        ),
        (
            "two TLSRPT records",
            "_smtp._tls.tlsrpt-multiple.test.",
            RecordType::TXT,
            "v=TLSRPTv1; rua=https://tlsrpt.tlsrpt-multiple.test/report | v=TLSRPTv1; rua=mailto:tlsrpt@tlsrpt-multiple.test",
        ),
        (
            "TLSRPT without rua",
            "_smtp._tls.tlsrpt-invalid.test.",
            RecordType::TXT,
            "v=TLSRPTv1;",
        ),
        (
            "TLSRPT near miss",
            "_smtp._tls.tlsrpt-nearmiss.test.",
            RecordType::TXT,
            "v=TLSRPTv1 ; rua=mailto:tlsrpt@tlsrpt-nearmiss.test",
        ),
    ];
    for (rule, name, rtype, want) in rows {
        let lookup = resolver
            .lookup(*name, *rtype)
            .await
            .unwrap_or_else(|e| panic!("{rule}: {name} {rtype}: {e}"));
        let mut values: Vec<String> = lookup
            .answers()
            .iter()
            .filter(|r| r.record_type() == *rtype)
            .map(|r| {
                assert_eq!(r.proof, Proof::Secure, "{rule}: {r}");
                match &r.data {
                    RData::TXT(txt) => txt
                        .txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>(),
                    other => other.to_string(),
                }
            })
            .collect();
        values.sort();
        assert_eq!(values.join(" | "), *want, "{rule}: {name} {rtype}");
    }
}

#[tokio::test]
async fn start_up_time_is_printed() {
    let catalogue = mxtls::lab::prepare::prepare_file(std::path::Path::new(CATALOGUE))
        .expect("the shipped catalogue parses")
        .catalogue;
    let started = Instant::now();
    let lab = LabDns::start(&catalogue).await.expect("the lab starts");
    let elapsed = started.elapsed();
    println!(
        "lab DNS start-up: {elapsed:?} for {} scenarios (authoritative {}, resolver {})",
        catalogue.scenarios().len(),
        lab.authoritative(),
        lab.validating_resolver()
    );
    lab.shutdown().await;
}

/// Sends raw bytes over UDP; the reply's rcode, or `None` when none came.
async fn send_bytes(server: SocketAddr, bytes: &[u8]) -> Option<ResponseCode> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("a loopback UDP socket binds");
    socket.send_to(bytes, server).await.expect("loopback send");
    let mut buffer = vec![0u8; 4096];
    let received =
        tokio::time::timeout(Duration::from_millis(300), socket.recv_from(&mut buffer)).await;
    let (len, _) = received.ok()?.ok()?;
    Message::from_vec(&buffer[..len])
        .ok()
        .map(|m| m.metadata.response_code)
}

fn query_bytes(edit: impl FnOnce(&mut Message)) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.id = 7;
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(
        Name::from_ascii("secure.test.").expect("valid name"),
        RecordType::MX,
    ));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    message.set_edns(edns);
    edit(&mut message);
    message.to_vec().expect("the test query encodes")
}

#[tokio::test]
async fn malformed_queries_get_errors_and_leave_both_servers_running() {
    let lab = start_lab().await;
    let header_only_claiming_a_question = {
        let mut bytes = query_bytes(|_| {});
        bytes.truncate(12);
        bytes
    };
    let truncated_mid_name = {
        let mut bytes = query_bytes(|_| {});
        bytes.truncate(16);
        bytes
    };
    let compression_loop = {
        // One question whose name is a pointer to itself.
        let mut bytes = query_bytes(|m| m.edns = None);
        bytes.truncate(12);
        bytes.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01]);
        bytes
    };
    // (rule, bytes, rcode the validating resolver must answer; None = no reply)
    let rows: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
        ("empty datagram", Vec::new(), None),
        ("three bytes", vec![0, 1, 2], None),
        (
            "header claiming a missing question",
            header_only_claiming_a_question,
            Some(ResponseCode::FormErr),
        ),
        (
            "question cut inside the name",
            truncated_mid_name,
            Some(ResponseCode::FormErr),
        ),
        (
            "name compression loop",
            compression_loop,
            Some(ResponseCode::FormErr),
        ),
        (
            "no question",
            query_bytes(|m| m.queries.clear()),
            Some(ResponseCode::FormErr),
        ),
        (
            "two questions",
            query_bytes(|m| {
                m.add_query(Query::query(Name::root(), RecordType::NS));
            }),
            Some(ResponseCode::FormErr),
        ),
        (
            "class CH",
            query_bytes(|m| {
                if let Some(q) = m.queries.first_mut() {
                    q.set_query_class(hickory_proto::rr::DNSClass::CH);
                }
            }),
            Some(ResponseCode::NotImp),
        ),
        (
            "EDNS version 1",
            query_bytes(|m| {
                if let Some(edns) = m.edns.as_mut() {
                    edns.set_version(1);
                }
            }),
            Some(ResponseCode::BADVERS),
        ),
        (
            "opcode NOTIFY",
            query_bytes(|m| m.metadata.op_code = hickory_proto::op::OpCode::Notify),
            Some(ResponseCode::NotImp),
        ),
        (
            "zone transfer",
            query_bytes(|m| {
                if let Some(q) = m.queries.first_mut() {
                    q.set_query_type(RecordType::AXFR);
                }
            }),
            Some(ResponseCode::Refused),
        ),
    ];
    for (rule, bytes, want) in &rows {
        let got = send_bytes(lab.validating_resolver(), bytes).await;
        // Compared as numbers: BADVERS and BADSIG share the value 16 (RFC 6891 §9).
        assert_eq!(
            got.map(u16::from),
            want.map(u16::from),
            "validating resolver, {rule}: got {got:?}, want {want:?}: {bytes:02x?}"
        );
        // The authoritative server must survive the same bytes.
        let _ = send_bytes(lab.authoritative(), bytes).await;
    }
    for (server, name) in [
        (lab.authoritative(), "authoritative"),
        (lab.validating_resolver(), "validating resolver"),
    ] {
        let response = raw_query(server, "secure.test.", RecordType::MX, "DO", false)
            .await
            .unwrap_or_else(|e| panic!("{name} stopped answering after malformed queries: {e}"));
        assert_eq!(response.response_code, ResponseCode::NoError, "{name}");
    }
}

#[tokio::test]
async fn dropping_or_shutting_down_the_lab_closes_its_sockets() {
    for how in ["drop", "shutdown"] {
        let lab = start_lab().await;
        let servers = [lab.authoritative(), lab.validating_resolver()];
        for server in servers {
            tokio::net::TcpStream::connect(server)
                .await
                .unwrap_or_else(|e| panic!("{how}: {server} accepts TCP while running: {e}"));
        }
        match how {
            "drop" => drop(lab),
            _ => lab.shutdown().await,
        }
        // Aborted tasks release their sockets when the runtime next runs them.
        tokio::time::sleep(Duration::from_millis(50)).await;
        for server in servers {
            let connected = tokio::net::TcpStream::connect(server).await;
            assert!(connected.is_err(), "{how}: {server} still accepts TCP");
        }
    }
}
