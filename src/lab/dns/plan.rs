//! A zone before it is signed (`ZonePlan`) and the records every zone has,
//! shared by the catalogue's zones (`zone`) and the bulk set's (`bulk`).

use std::{collections::BTreeMap, net::Ipv4Addr};

use hickory_proto::{
    dnssec::rdata::DNSSECRData,
    rr::{
        LowerName, Name, RData, Record, RecordSet, RrKey,
        rdata::{A, NS, SOA},
    },
};

use super::keys::ZoneKey;
use crate::lab::{
    LabError,
    catalogue::{RECORD_TTL, RrsetSelector},
};

/// How long the lab's good signatures stay valid.
pub const SIGNATURE_VALIDITY: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// SOA timers (RFC 1912 §2.2 values; minimum = negative-caching TTL, RFC 2308).
const SOA_TIMERS: (i32, i32, i32, u32) = (3600, 900, 604_800, 300);

/// One zone before it becomes a handler.
pub struct ZonePlan {
    pub origin: Name,
    pub records: BTreeMap<RrKey, RecordSet>,
    pub key: Option<ZoneKey>,
    pub corrupt: Vec<RrsetSelector>,
    pub expire: Vec<RrsetSelector>,
    /// Many delegations: signed by `bulk::signed_large` (see there).
    pub large: bool,
    /// How long the zone's signatures are valid (from now).
    pub validity: std::time::Duration,
    /// How long ago the signatures were made, when not now.
    pub signed_ago: Option<std::time::Duration>,
    /// The records of the zone's second state, with the same SOA and NS.
    pub changed: Option<BTreeMap<RrKey, RecordSet>>,
}

/// SOA and apex NS of a zone.
pub fn zone_head(origin: &Name, ns_host: &Name) -> BTreeMap<RrKey, RecordSet> {
    let (refresh, retry, expire, minimum) = SOA_TIMERS;
    // Only a 255-octet origin could refuse the label; the SOA is then
    // still well-formed with the origin itself as mailbox.
    let hostmaster = origin
        .prepend_label("hostmaster")
        .unwrap_or_else(|_| origin.clone());
    let soa = SOA::new(
        ns_host.clone(),
        hostmaster,
        1,
        refresh,
        retry,
        expire,
        minimum,
    );
    let mut records = BTreeMap::new();
    add(
        &mut records,
        Record::from_rdata(origin.clone(), RECORD_TTL, RData::SOA(soa)),
    );
    add(&mut records, ns_record(origin, ns_host));
    records
}

pub fn ns_record(owner: &Name, ns_host: &Name) -> Record {
    Record::from_rdata(owner.clone(), RECORD_TTL, RData::NS(NS(ns_host.clone())))
}

pub fn a_record(owner: &Name) -> Record {
    Record::from_rdata(owner.clone(), RECORD_TTL, RData::A(A(Ipv4Addr::LOCALHOST)))
}

pub fn ds_record(key: &ZoneKey, child: &Name) -> Result<Record, LabError> {
    let ds = key.ds(child).map_err(|detail| LabError::Signing {
        zone: child.to_string(),
        detail,
    })?;
    Ok(Record::from_rdata(
        child.clone(),
        RECORD_TTL,
        RData::DNSSEC(DNSSECRData::DS(ds)),
    ))
}

pub fn add(records: &mut BTreeMap<RrKey, RecordSet>, record: Record) {
    let key = RrKey::new(LowerName::new(&record.name), record.record_type());
    match records.get_mut(&key) {
        Some(rrset) => {
            rrset.insert(record, 0);
        }
        None => {
            records.insert(key, RecordSet::from(record));
        }
    }
}

/// A primary zone's handler holding `records`, NSEC for denials, before
/// its signing key is added (by `zone` and by `bulk`, which signs itself).
pub fn unsigned_handler(
    origin: &Name,
    records: BTreeMap<RrKey, RecordSet>,
) -> Result<hickory_server::store::in_memory::InMemoryZoneHandler, LabError> {
    hickory_server::store::in_memory::InMemoryZoneHandler::new(
        origin.clone(),
        records,
        hickory_server::zone_handler::ZoneType::Primary,
        hickory_server::zone_handler::AxfrPolicy::Deny,
        Some(hickory_server::dnssec::NxProofKind::Nsec),
    )
    .map_err(|detail| LabError::Zone {
        zone: origin.to_string(),
        detail,
    })
}
