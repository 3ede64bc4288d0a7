//! The bulk set's zones (see `lab::bulk`): `bulk.<tld>` with the four MX
//! hosts, their TLSA records and a signed delegation (NS + DS) per domain,
//! and one small signed zone per domain. Records are built directly, not
//! parsed from zone text, so ten thousand zones cost little more than
//! their signatures.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC, RRSIG};
use hickory_proto::rr::{
    DNSClass, LowerName, Name, RData, Record, RecordSet, RecordType, RrKey,
    rdata::{
        A, MX, TLSA, TXT,
        tlsa::{CertUsage, Matching, Selector},
    },
};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use time::OffsetDateTime;

use super::keys::ZoneKey;
use super::plan::{ZonePlan, add, ds_record, ns_record, zone_head};
use crate::lab::{LabError, bulk::BulkSet, catalogue::RECORD_TTL};

fn name(text: &str) -> Result<Name, LabError> {
    Name::from_ascii(format!("{text}.")).map_err(|e| LabError::Zone {
        zone: text.to_string(),
        detail: e.to_string(),
    })
}

fn record(owner: &Name, data: RData) -> Record {
    Record::from_rdata(owner.clone(), RECORD_TTL, data)
}

/// The zone plans of the bulk set, `bulk.<tld>` last; `key` signs them all.
/// Returns them with the delegation of `bulk.<tld>` (NS, DS) for the TLD.
pub fn plans(
    set: &BulkSet,
    ns_host: &Name,
    key: &ZoneKey,
) -> Result<(Vec<ZonePlan>, Vec<Record>), LabError> {
    let parent = name(&set.parent())?;
    let mut parent_records = zone_head(&parent, ns_host);
    for k in 1..=4 {
        let host = name(&set.mx_host(k))?;
        add(
            &mut parent_records,
            record(&host, RData::A(A(BulkSet::mx_ip(k)))),
        );
        if BulkSet::mx_has_tlsa(k) {
            let digest = set
                .mx_spki(k)
                .and_then(|hex| data_encoding::HEXLOWER.decode(hex.as_bytes()).ok())
                .unwrap_or_default();
            let owner = name(&format!("_25._tcp.{}", set.mx_host(k)))?;
            let tlsa = TLSA::new(CertUsage::DaneEe, Selector::Spki, Matching::Sha256, digest);
            add(&mut parent_records, record(&owner, RData::TLSA(tlsa)));
        }
    }
    let mut plans = Vec::with_capacity(set.count() + 1);
    for i in 1..=set.count() {
        let origin = name(&set.domain(i))?;
        add(&mut parent_records, ns_record(&origin, ns_host));
        add(&mut parent_records, ds_record(key, &origin)?);
        let mut records: BTreeMap<RrKey, RecordSet> = zone_head(&origin, ns_host);
        for (preference, k) in [10, 20].into_iter().zip(BulkSet::mx_of(i)) {
            let mx = MX::new(preference, name(&set.mx_host(k))?);
            add(&mut records, record(&origin, RData::MX(mx)));
        }
        let tlsrpt = origin
            .prepend_label("_tls")
            .and_then(|n| n.prepend_label("_smtp"));
        if let Ok(owner) = tlsrpt {
            let txt = TXT::new(vec![set.tlsrpt(i)]);
            add(&mut records, record(&owner, RData::TXT(txt)));
        }
        if BulkSet::has_sts(i) {
            if let Ok(owner) = origin.prepend_label("_mta-sts") {
                let txt = TXT::new(vec![BulkSet::sts_record()]);
                add(&mut records, record(&owner, RData::TXT(txt)));
            }
            if let Ok(owner) = origin.prepend_label("mta-sts") {
                add(
                    &mut records,
                    record(&owner, RData::A(A(Ipv4Addr::LOCALHOST))),
                );
            }
        }
        plans.push(ZonePlan {
            origin,
            records,
            key: Some(key.clone()),
            corrupt: Vec::new(),
            expire: Vec::new(),
            large: false,
            validity: super::plan::SIGNATURE_VALIDITY,
            signed_ago: None,
            changed: None,
        });
    }
    let delegation = vec![ns_record(&parent, ns_host), ds_record(key, &parent)?];
    plans.push(ZonePlan {
        origin: parent,
        records: parent_records,
        key: Some(key.clone()),
        corrupt: Vec::new(),
        expire: Vec::new(),
        large: true,
        validity: super::plan::SIGNATURE_VALIDITY,
        signed_ago: None,
        changed: None,
    });
    Ok((plans, delegation))
}

/// A signed handler for a zone with many delegations (`bulk.<tld>`).
///
/// hickory's NSEC generation checks each name against every delegation
/// point seen so far, which is quadratic: 10 000 delegations took twenty
/// seconds. Names in canonical order (the map's order) put everything
/// below a cut right after it, so one pass that remembers the last cut
/// makes the same chain (RFC 4035 §2.3: one NSEC per authoritative name
/// and delegation point, the last pointing back to the apex).
pub fn signed_large(
    origin: &Name,
    records: BTreeMap<RrKey, RecordSet>,
    key: &ZoneKey,
    validity: std::time::Duration,
) -> Result<InMemoryZoneHandler, LabError> {
    let fail = |detail: String| LabError::Signing {
        zone: origin.to_string(),
        detail,
    };
    let signer = key.signer(origin, validity).map_err(fail)?;
    let mut handler = super::plan::unsigned_handler(origin, records)?;
    // Publishes the DNSKEY; the signing below is ours.
    let signer_copy = key.signer(origin, validity).map_err(fail)?;
    handler
        .add_zone_signing_key_mut(signer_copy)
        .map_err(|e| fail(e.to_string()))?;
    let records = handler.records_get_mut();
    let ttl = RECORD_TTL;
    let mut names: Vec<(Name, BTreeSet<RecordType>)> = Vec::new();
    let mut cut: Option<Name> = None;
    for key in records.keys() {
        let name = Name::from(key.name());
        if cut.as_ref().is_some_and(|c| c.zone_of(&name) && *c != name) {
            continue;
        }
        if key.record_type == RecordType::NS && name != *origin {
            cut = Some(name.clone());
        }
        match names.last_mut() {
            Some((last, types)) if *last == name => {
                types.insert(key.record_type);
            }
            _ => names.push((name, BTreeSet::from([key.record_type]))),
        }
    }
    let nexts: Vec<Name> = names
        .iter()
        .skip(1)
        .map(|(n, _)| n.clone())
        .chain(std::iter::once(origin.clone()))
        .collect();
    for ((name, types), next) in names.into_iter().zip(nexts) {
        let nsec = NSEC::new_cover_self(next, types);
        let record = Record::from_rdata(name, ttl, RData::DNSSEC(DNSSECRData::NSEC(nsec)));
        let rr_key = RrKey::new(LowerName::new(&record.name), RecordType::NSEC);
        records.insert(rr_key, Arc::new(RecordSet::from(record)));
    }
    let inception = OffsetDateTime::now_utc();
    for rrset in records.values_mut() {
        let rrset = Arc::make_mut(rrset);
        rrset.clear_rrsigs();
        let rrsig = RRSIG::from_rrset(rrset, DNSClass::IN, inception, &signer)
            .map_err(|e| fail(e.to_string()))?;
        let record = Record::from_rdata(
            rrset.name().clone(),
            rrset.ttl(),
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig)),
        );
        rrset.insert_rrsig(record);
    }
    Ok(handler)
}
