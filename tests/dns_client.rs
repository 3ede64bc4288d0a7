//! The scanner's DNS client against the lab's real servers: retransmission
//! after a lost datagram, failover past a resolver that swallows queries,
//! the in-flight cap reported as the scanner's problem, and the chain's
//! keys asked for once per run.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use mxtls::dns::transport::{Failure, Transport};
use mxtls::dns::wire::QueryFlags;
use mxtls::dns::{Dns, DnsConfig, Dnssec, DnssecMode, Status};
use mxtls::lab::dns::LabDns;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/lab/catalogue.toml");

async fn start_lab() -> LabDns {
    let catalogue = mxtls::lab::prepare::prepare_file(Path::new(CATALOGUE))
        .expect("the shipped catalogue parses")
        .catalogue;
    LabDns::start(&catalogue)
        .await
        .expect("the lab starts on loopback")
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a valid name")
}

/// A UDP socket on loopback that reads every query and never answers; each
/// datagram read is reported on the channel.
async fn black_hole() -> (SocketAddr, mpsc::UnboundedReceiver<()>) {
    let socket = UdpSocket::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = socket.local_addr().expect("address");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while socket.recv_from(&mut buf).await.is_ok() {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    (addr, rx)
}

async fn dns(lab: &LabDns, mode: DnssecMode, server: SocketAddr, dir: &Path) -> Dns {
    let anchor = dir.join("root.key");
    std::fs::write(&anchor, lab.trust_anchor_dnskey()).expect("write the anchor");
    Dns::new(&DnsConfig {
        mode,
        servers: vec![server],
        trust_anchor: Some(anchor),
        step_timeout: Duration::from_secs(6),
        in_flight: mxtls::dns::transport::MAX_IN_FLIGHT,
    })
    .await
    .expect("the lab's resolver passes the start-up check")
}

#[tokio::test]
async fn a_lost_datagram_is_retransmitted_and_the_answer_still_arrives() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mx = name("lossy-mx.test.");
    // Validating locally: the authoritative server loses the first query
    // and sees the retransmission.
    let validate = dns(&lab, DnssecMode::Validate, lab.authoritative(), dir.path()).await;
    let answer = validate.lookup(&mx, RecordType::MX).await;
    assert_eq!(answer.status, Status::Found, "{:?}", answer.error);
    assert_eq!(answer.dnssec, Dnssec::Secure);
    assert!(lab.queries(&mx, RecordType::MX) >= 2);
    // Trusting the AD bit: the raw client retransmits to the validating
    // resolver, which lost the first query.
    let resolver = dns(
        &lab,
        DnssecMode::Resolver,
        lab.validating_resolver(),
        dir.path(),
    )
    .await;
    let answer = resolver.lookup(&mx, RecordType::MX).await;
    assert_eq!(answer.status, Status::Found, "{:?}", answer.error);
    assert_eq!(answer.dnssec, Dnssec::Secure);
}

#[tokio::test]
async fn a_resolver_that_swallows_queries_is_passed_over_for_the_next() {
    let lab = start_lab().await;
    let (hole, mut swallowed) = black_hole().await;
    let transport = Transport::new(&[hole, lab.validating_resolver()], Duration::from_secs(6));
    let flags = QueryFlags {
        dnssec_ok: true,
        checking_disabled: false,
    };
    // Queries start at each resolver in turn: the first goes to the
    // silent one, and its retransmission to the lab's resolver.
    for _ in 0..2 {
        let reply = transport
            .query(&name("secure.test."), RecordType::MX, flags)
            .await
            .expect("the second resolver answers");
        assert!(reply.metadata.authentic_data);
        assert!(!reply.answers.is_empty());
    }
    tokio::time::timeout(Duration::from_secs(10), swallowed.recv())
        .await
        .expect("the silent resolver was asked")
        .expect("the channel is open");
}

#[tokio::test]
async fn a_query_left_waiting_by_the_scanners_own_cap_is_not_blamed_on_the_name() {
    let (hole, _swallowed) = black_hole().await;
    // One query in flight at a time: the second waits for the first.
    let transport = Transport::with_cap(&[hole], Duration::from_secs(1), 1);
    let flags = QueryFlags {
        dnssec_ok: false,
        checking_disabled: false,
    };
    let (a, b) = (name("a.test."), name("b.test."));
    let (first, second) = tokio::join!(
        transport.query(&a, RecordType::MX, flags),
        transport.query(&b, RecordType::MX, flags),
    );
    // The query that went out first timed out while the other waited for
    // its place: the scanner's load. The other was sent with nobody
    // waiting behind it: an ordinary unanswered query.
    let mut results = [first, second];
    results.sort_by_key(|r| matches!(r, Err(Failure::Unanswered(_))));
    match &results[0] {
        Err(Failure::Overloaded(why)) => assert!(why.contains("--concurrency"), "{why}"),
        other => panic!("expected the scanner's overload, got {other:?}"),
    }
    assert!(
        matches!(&results[1], Err(Failure::Unanswered(_))),
        "{:?}",
        results[1]
    );
}

#[tokio::test]
async fn a_second_domain_under_the_same_zone_does_not_ask_for_its_keys_again() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let validate = dns(&lab, DnssecMode::Validate, lab.authoritative(), dir.path()).await;
    let first = validate.lookup(&name("secure.test."), RecordType::MX).await;
    assert_eq!(first.dnssec, Dnssec::Secure, "{:?}", first.error);
    // The start-up check's root DNSKEY query is the validator's too.
    let root_keys = lab.queries(&Name::root(), RecordType::DNSKEY);
    assert_eq!(root_keys, 1);
    let tld_keys = lab.queries(&name("test."), RecordType::DNSKEY);
    let tld_ds = lab.queries(&name("test."), RecordType::DS);
    assert!(tld_keys >= 1 && tld_ds >= 1);
    // Another domain under the same TLD: its own keys are fetched, the
    // TLD's and the root's are not.
    let second = validate
        .lookup(&name("dual-cert-single-key.test."), RecordType::MX)
        .await;
    assert_eq!(second.dnssec, Dnssec::Secure, "{:?}", second.error);
    assert!(lab.queries(&name("dual-cert-single-key.test."), RecordType::DNSKEY) >= 1);
    assert_eq!(lab.queries(&name("test."), RecordType::DNSKEY), tld_keys);
    assert_eq!(lab.queries(&name("test."), RecordType::DS), tld_ds);
    assert_eq!(lab.queries(&Name::root(), RecordType::DNSKEY), root_keys);
    // A second record of the first domain asks for nothing of its chain.
    let keys = lab.queries(&name("secure.test."), RecordType::DNSKEY);
    let txt = validate
        .lookup(&name("_smtp._tls.secure.test."), RecordType::TXT)
        .await;
    assert_eq!(txt.dnssec, Dnssec::Secure, "{:?}", txt.error);
    assert_eq!(lab.queries(&name("secure.test."), RecordType::DNSKEY), keys);
}

/// A resolver set up with the anchor file's `text`, validating locally.
async fn dns_with_anchor(lab: &LabDns, text: &str, dir: &Path) -> Dns {
    let anchor = dir.join("root.anchor");
    std::fs::write(&anchor, text).expect("write the anchor");
    Dns::new(&DnsConfig {
        mode: DnssecMode::Validate,
        servers: vec![lab.authoritative()],
        trust_anchor: Some(anchor),
        step_timeout: Duration::from_secs(6),
        in_flight: mxtls::dns::transport::MAX_IN_FLIGHT,
    })
    .await
    .expect("the lab's server passes the start-up check")
}

#[tokio::test]
async fn the_root_keys_are_asked_for_once_per_run_whatever_the_anchor() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A DNSKEY anchor: the start-up check goes out beside the first
    // lookups, which need the root keys before its answer is in. A DS
    // anchor: the check runs first (the keys come from its answer).
    for (kind, anchor) in [
        (
            "DNSKEY",
            LabDns::trust_anchor_dnskey as fn(&LabDns) -> String,
        ),
        ("DS", LabDns::trust_anchor_ds),
    ] {
        let lab = start_lab().await;
        let dns = dns_with_anchor(&lab, &anchor(&lab), dir.path()).await;
        // What one scan asks at once: the MX and the policy and report
        // records of two domains, then the MX host's addresses and TLSA.
        let first = [
            ("secure.test.", RecordType::MX),
            ("_smtp._tls.secure.test.", RecordType::TXT),
            ("_mta-sts.secure.test.", RecordType::TXT),
            ("dane-ee.test.", RecordType::MX),
        ];
        let names: Vec<(Name, RecordType)> = first.iter().map(|(n, t)| (name(n), *t)).collect();
        let answers =
            futures_util::future::join_all(names.iter().map(|(n, t)| dns.lookup(n, *t))).await;
        assert_eq!(
            answers[0].status,
            Status::Found,
            "{kind}: {:?}",
            answers[0].error
        );
        assert_eq!(
            answers[3].dnssec,
            Dnssec::Secure,
            "{kind}: {:?}",
            answers[3].error
        );
        let tlsa = dns
            .lookup(&name("_25._tcp.mx1.dane-ee.test."), RecordType::TLSA)
            .await;
        assert_eq!(tlsa.dnssec, Dnssec::Secure, "{kind}: {:?}", tlsa.error);
        dns.ready().await.expect("the start-up check passed");
        assert_eq!(
            lab.queries(&Name::root(), RecordType::DNSKEY),
            1,
            "{kind} anchor: the check's root DNSKEY query is the only one"
        );
    }
}

/// Waits (bounded) until the lab has received a query for each of `rrsets`.
async fn asked(lab: &LabDns, rrsets: &[(Name, RecordType)]) -> bool {
    for _ in 0..200 {
        if rrsets.iter().all(|(n, t)| lab.queries(n, *t) >= 1) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_domains_chain_of_trust_is_asked_before_any_answer_names_its_zone() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let validate = dns(&lab, DnssecMode::Validate, lab.authoritative(), dir.path()).await;
    let domain = name("dane-ee.test.");
    let chain = [
        (domain.clone(), RecordType::DNSKEY),
        (domain.clone(), RecordType::DS),
        (name("test."), RecordType::DNSKEY),
        (name("test."), RecordType::DS),
    ];
    // No lookup of the domain yet: nothing names its zone, and still its
    // keys and those above it are asked for.
    validate.prefetch_chain(&domain);
    assert!(
        asked(&lab, &chain).await,
        "{:?}",
        chain
            .iter()
            .map(|(n, t)| (n.to_string(), *t, lab.queries(n, *t)))
            .collect::<Vec<_>>()
    );
    assert_eq!(lab.queries(&domain, RecordType::MX), 0);
    // The lookups that need them find them: asked once each.
    let mx = validate.lookup(&domain, RecordType::MX).await;
    assert_eq!(mx.dnssec, Dnssec::Secure, "{:?}", mx.error);
    let host = validate
        .lookup(&name("mx1.dane-ee.test."), RecordType::A)
        .await;
    assert_eq!(host.dnssec, Dnssec::Secure, "{:?}", host.error);
    for (n, t) in &chain {
        assert_eq!(lab.queries(n, *t), 1, "{n} {t}");
    }
    assert_eq!(lab.queries(&Name::root(), RecordType::DNSKEY), 1);
}

#[tokio::test]
async fn an_mx_host_in_another_zone_has_its_chain_asked_before_its_addresses() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let validate = dns(&lab, DnssecMode::Validate, lab.authoritative(), dir.path()).await;
    // An unsigned MX RRset naming mx1.secure.test: nothing the MX lookup
    // itself needs is signed by secure.test.
    let mx = validate
        .lookup(&name("dane-insecure-mx.test."), RecordType::MX)
        .await;
    assert_eq!(mx.status, Status::Found, "{:?}", mx.error);
    let zone = name("secure.test.");
    let chain = [
        (zone.clone(), RecordType::DNSKEY),
        (zone.clone(), RecordType::DS),
    ];
    assert!(
        asked(&lab, &chain).await,
        "{:?}",
        chain
            .iter()
            .map(|(n, t)| (*t, lab.queries(n, *t)))
            .collect::<Vec<_>>()
    );
    let host = name("mx1.secure.test.");
    assert_eq!(lab.queries(&host, RecordType::A), 0);
    // The address lookup finds them: asked once.
    let a = validate.lookup(&host, RecordType::A).await;
    assert_eq!(a.dnssec, Dnssec::Secure, "{:?}", a.error);
    for (n, t) in &chain {
        assert_eq!(lab.queries(n, *t), 1, "{n} {t}");
    }
}

#[tokio::test]
async fn an_unsigned_zone_is_asked_for_its_name_servers_once_however_many_lookups_prove_it_insecure()
 {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let validate = dns(&lab, DnssecMode::Validate, lab.authoritative(), dir.path()).await;
    // What a scan asks of an unsigned domain at once: each answer is
    // proven insecure by finding the zone cut (NS) and its missing DS.
    let names = [
        ("insecure.test.", RecordType::MX),
        ("_mta-sts.insecure.test.", RecordType::TXT),
        ("_smtp._tls.insecure.test.", RecordType::TXT),
        ("mta-sts.insecure.test.", RecordType::A),
        ("mta-sts.insecure.test.", RecordType::AAAA),
    ];
    let names: Vec<(Name, RecordType)> = names.iter().map(|(n, t)| (name(n), *t)).collect();
    let answers =
        futures_util::future::join_all(names.iter().map(|(n, t)| validate.lookup(n, *t))).await;
    assert_eq!(
        answers[0].dnssec,
        Dnssec::Insecure,
        "{:?}",
        answers[0].error
    );
    for owner in ["insecure.test.", "test."] {
        let asked = lab.queries(&name(owner), RecordType::NS);
        assert!(asked <= 1, "NS of {owner} asked {asked} times");
    }
    assert_eq!(
        lab.queries(&name("insecure.test."), RecordType::NS),
        1,
        "the zone cut was looked for"
    );
}

#[tokio::test]
async fn a_chain_query_that_waited_for_its_place_and_got_no_answer_counts_as_the_scanners_loss() {
    use futures_util::StreamExt;
    use hickory_proto::op::{DnsRequest, DnsRequestOptions, Query};
    use hickory_resolver::net::xfer::DnsHandle;
    use mxtls::dns::chain::Chain;
    use mxtls::dns::transport::Handle;

    let (hole, _swallowed) = black_hole().await;
    // The validator's upstream with one query in flight: the second DS
    // query waits for the first, which the silent server never answers.
    // (DS, not DNSKEY: a zone's keys are asked together with its DS.)
    let chain = Chain::new(
        Handle(Transport::with_cap(&[hole], Duration::from_secs(1), 100)),
        1,
    );
    let ask = |zone: &str| {
        let request = DnsRequest::from_query(
            Query::query(name(zone), RecordType::DS),
            DnsRequestOptions::default(),
        );
        let mut responses = chain.send(request);
        async move { responses.next().await }
    };
    let (first, second) = tokio::join!(ask("a.test."), ask("b.test."));
    assert!(matches!(first, Some(Err(_))), "{first:?}");
    assert!(matches!(second, Some(Err(_))), "{second:?}");
    // The query sent at once is the server's silence; the one that waited
    // behind it is the scanner's load (a bogus verdict reached meanwhile
    // is reported as inconclusive, not as the domain's broken DNSSEC).
    assert_eq!(chain.lost(), 1);
    assert_eq!(chain.sent(), 2);
}

#[tokio::test]
async fn a_zones_keys_are_handed_to_the_validator_only_with_its_ds() {
    use futures_util::StreamExt;
    use hickory_proto::op::{DnsRequest, DnsRequestOptions, Query};
    use hickory_resolver::net::xfer::DnsHandle;
    use mxtls::dns::chain::Chain;
    use mxtls::dns::transport::Handle;

    let lab = start_lab().await;
    let chain = Chain::new(
        Handle(Transport::with_cap(
            &[lab.authoritative()],
            Duration::from_secs(3),
            100,
        )),
        100,
    );
    let ask = |zone: Name, rtype: RecordType| {
        let request =
            DnsRequest::from_query(Query::query(zone, rtype), DnsRequestOptions::default());
        let mut responses = chain.send(request);
        async move { responses.next().await }
    };
    // The validator checks keys against the DS next: when the keys come
    // back, the DS has been asked and answered too, so every lookup waiting
    // on the keys finds the whole proof and checks it once.
    let zone = name("secure.test.");
    let keys = ask(zone.clone(), RecordType::DNSKEY).await;
    assert!(matches!(keys, Some(Ok(_))), "{keys:?}");
    assert_eq!(lab.queries(&zone, RecordType::DS), 1);
    assert_eq!(chain.sent(), 2);
    // Kept and ready: no wait, no second query.
    let ds = futures_util::FutureExt::now_or_never(ask(zone.clone(), RecordType::DS));
    assert!(matches!(ds, Some(Some(Ok(_)))), "{ds:?}");
    assert_eq!(lab.queries(&zone, RecordType::DS), 1);
    // The root has no DS to ask for.
    let root = ask(Name::root(), RecordType::DNSKEY).await;
    assert!(matches!(root, Some(Ok(_))), "{root:?}");
    assert_eq!(lab.queries(&Name::root(), RecordType::DS), 0);
}
