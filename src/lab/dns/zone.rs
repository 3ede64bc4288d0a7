//! Building and signing the lab's zones: the root ".", the TLD and one zone
//! per scenario, then breaking the signatures the catalogue asks for.
//!
//! Order per zone (each step relies on the previous one): SOA, apex NS, the
//! delegations to child zones (NS, plus a DS for signed children, RFC 4035
//! §2.4), the zone key, then signing with NSEC (RFC 4035 §2.3; NSEC3 is left
//! out because hickory's validator judges hickory-server's NSEC3 positive
//! answers bogus). Signing re-signs every RRset, so signatures are broken
//! only afterwards. An insecure delegation is an NS with no DS: the parent's
//! NSEC at the child name proves the DS absent (RFC 4035 §5.2).
//!
//! All zones name the same server, `ns.<tld>.`, with the address 127.0.0.1;
//! the root carries it as glue.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
    time::{Duration, SystemTime},
};

use hickory_proto::{
    dnssec::{
        DnssecSigner,
        rdata::{DNSSECRData, RRSIG},
    },
    rr::{DNSClass, LowerName, Name, RData, Record, RecordSet, RecordType, RrKey},
};
use hickory_server::{
    store::in_memory::InMemoryZoneHandler,
    zone_handler::{AxfrPolicy, Catalog, ZoneType},
};
use ring::rand::SystemRandom;

use crate::lab::switch::Switch;
use time::OffsetDateTime;

use super::denial::Denial;
use super::keys::ZoneKey;
use super::plan::SIGNATURE_VALIDITY;
use super::plan::{ZonePlan, a_record, add, ds_record, ns_record, zone_head};
use crate::lab::{
    LabError,
    bulk::BulkSet,
    catalogue::{Catalogue, DnssecMode, RrsetSelector},
};

/// Inception of an expired RRSIG, before now.
const EXPIRED_INCEPTION_AGO: Duration = Duration::from_secs(10 * 24 * 3600);
/// Validity of an expired RRSIG: it ended a week ago.
const EXPIRED_VALIDITY: Duration = Duration::from_secs(3 * 24 * 3600);

/// The zones, ready to serve, and what the validators need.
pub struct BuiltZones {
    /// One catalog per zone, keyed by the zone's origin.
    pub catalogs: Vec<(LowerName, Catalog, Option<Denial>)>,
    /// (owner, type) pairs answered SERVFAIL.
    pub servfail: HashSet<(LowerName, RecordType)>,
    /// (owner, type) pairs whose UDP queries are dropped every other time.
    pub lossy: HashSet<(LowerName, RecordType)>,
    /// (owner, type) pairs whose queries are never answered.
    pub silent: HashSet<(LowerName, RecordType)>,
    /// The root zone's key, the lab's trust anchor.
    pub root_key: ZoneKey,
    /// The second state of zones with a `changed_zone`, served once their
    /// switch is flipped.
    pub changed: Vec<(LowerName, Catalog, Option<Denial>, Switch)>,
    /// Those switches, by the scenario's domain.
    pub zone_switches: BTreeMap<String, Switch>,
}

/// Builds, signs and breaks every zone of the catalogue, and the bulk
/// set's zones when there is one.
pub fn build(catalogue: &Catalogue, bulk: Option<&BulkSet>) -> Result<BuiltZones, LabError> {
    let rng = SystemRandom::new();
    let new_key = |zone: &Name| {
        ZoneKey::generate(&rng).map_err(|detail| LabError::Signing {
            zone: zone.to_string(),
            detail,
        })
    };

    let root = Name::root();
    let tld = Name::from_ascii(format!("{}.", catalogue.tld())).map_err(|e| LabError::Zone {
        zone: catalogue.tld().to_string(),
        detail: e.to_string(),
    })?;
    let ns_host = tld.prepend_label("ns").map_err(|e| LabError::Zone {
        zone: tld.to_string(),
        detail: e.to_string(),
    })?;

    let mut plans = Vec::new();
    let mut servfail = HashSet::new();
    let mut lossy = HashSet::new();
    let mut silent = HashSet::new();
    let mut tld_records = zone_head(&tld, &ns_host);
    add(&mut tld_records, a_record(&ns_host));

    for scenario in catalogue.scenarios() {
        for selector in scenario.servfail() {
            servfail.insert((LowerName::new(selector.owner()), selector.record_type()));
        }
        for selector in scenario.lossy() {
            lossy.insert((LowerName::new(selector.owner()), selector.record_type()));
        }
        for selector in scenario.silent() {
            silent.insert((LowerName::new(selector.owner()), selector.record_type()));
        }
        let origin = scenario.origin().clone();
        let key = match scenario.dnssec() {
            DnssecMode::Absent => continue,
            DnssecMode::Insecure => None,
            DnssecMode::Secure | DnssecMode::BogusDs => Some(new_key(&origin)?),
        };
        add(&mut tld_records, ns_record(&origin, &ns_host));
        let ds = match (scenario.dnssec(), &key) {
            (DnssecMode::Secure, Some(key)) => Some(ds_record(key, &origin)?),
            // A DS made from a key the zone does not use (RFC 4035 §5.2).
            (DnssecMode::BogusDs, _) => Some(ds_record(&new_key(&origin)?, &origin)?),
            _ => None,
        };
        if let Some(ds) = ds {
            add(&mut tld_records, ds);
        }

        let mut records = zone_head(&origin, &ns_host);
        for rrset in scenario.records().values() {
            for record in rrset.records_without_rrsigs() {
                add(&mut records, record.clone());
            }
        }
        let changed = scenario.changed_records().map(|changed| {
            let mut all = zone_head(&origin, &ns_host);
            for rrset in changed.values() {
                for record in rrset.records_without_rrsigs() {
                    add(&mut all, record.clone());
                }
            }
            all
        });
        plans.push(ZonePlan {
            origin,
            records,
            key,
            corrupt: scenario.corrupt().to_vec(),
            expire: scenario.expire().to_vec(),
            large: false,
            validity: scenario.signature_days().map_or(SIGNATURE_VALIDITY, |d| {
                Duration::from_secs(u64::from(d) * 24 * 3600)
            }),
            signed_ago: scenario
                .signed_days_ago()
                .map(|d| Duration::from_secs(u64::from(d) * 24 * 3600)),
            changed,
        });
    }

    if let Some(set) = bulk.filter(|s| s.count() > 0) {
        let key = new_key(&tld)?;
        let (bulk_plans, delegation) = super::bulk::plans(set, &ns_host, &key)?;
        plans.extend(bulk_plans);
        for record in delegation {
            add(&mut tld_records, record);
        }
    }

    let tld_key = new_key(&tld)?;
    let root_key = new_key(&root)?;
    let mut root_records = zone_head(&root, &ns_host);
    add(&mut root_records, ns_record(&tld, &ns_host));
    add(&mut root_records, ds_record(&tld_key, &tld)?);
    add(&mut root_records, a_record(&ns_host));

    plans.push(ZonePlan {
        origin: tld,
        records: tld_records,
        key: Some(tld_key),
        corrupt: Vec::new(),
        expire: Vec::new(),
        large: false,
        validity: SIGNATURE_VALIDITY,
        signed_ago: None,
        changed: None,
    });

    let mut changed_catalogs = Vec::new();
    let mut zone_switches = BTreeMap::new();
    for plan in &mut plans {
        if let Some(changed) = plan.changed.take() {
            // The same key signs both states: the DS in the parent holds.
            let second = ZonePlan {
                origin: plan.origin.clone(),
                records: changed,
                key: plan.key.clone(),
                corrupt: Vec::new(),
                expire: Vec::new(),
                large: false,
                validity: plan.validity,
                signed_ago: plan.signed_ago,
                changed: None,
            };
            let switch = Switch::default();
            let domain = plan.origin.to_ascii().trim_end_matches('.').to_string();
            zone_switches.insert(domain, switch.clone());
            let (name, catalog, denial) = serve(second)?;
            changed_catalogs.push((name, catalog, denial, switch));
        }
    }
    let mut catalogs = serve_all(plans)?;
    let root_signer = root_key
        .signer(&root, SIGNATURE_VALIDITY)
        .map_err(|detail| LabError::Signing {
            zone: root.to_string(),
            detail,
        })?;
    let mut root_handler = signed_handler(&root, root_records, root_signer)?;
    let denial = Denial::from_zone(&root, root_handler.records_get_mut());
    let (name, root_catalog) = catalog(&root, root_handler);
    catalogs.push((name, root_catalog, Some(denial)));

    Ok(BuiltZones {
        catalogs,
        servfail,
        lossy,
        silent,
        root_key,
        changed: changed_catalogs,
        zone_switches,
    })
}

/// Serves every plan, signing on every core when there are many (the bulk
/// set): signing is nearly all of the lab's start-up.
fn serve_all(plans: Vec<ZonePlan>) -> Result<Vec<(LowerName, Catalog, Option<Denial>)>, LabError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if plans.len() < 64 || threads < 2 {
        return plans.into_iter().map(serve).collect();
    }
    let per_thread = plans.len().div_ceil(threads);
    let mut chunks: Vec<Vec<ZonePlan>> = Vec::new();
    let mut plans = plans.into_iter().peekable();
    while plans.peek().is_some() {
        chunks.push(plans.by_ref().take(per_thread).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || chunk.into_iter().map(serve).collect::<Result<Vec<_>, _>>())
            })
            .collect();
        let mut out = Vec::new();
        for handle in handles {
            let part = handle.join().map_err(|_| LabError::Zone {
                zone: ".".into(),
                detail: "a signing thread panicked".into(),
            })??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// Turns a plan into a catalog holding that one zone.
fn serve(plan: ZonePlan) -> Result<(LowerName, Catalog, Option<Denial>), LabError> {
    let ZonePlan {
        origin,
        records,
        key,
        corrupt,
        expire,
        large,
        validity,
        signed_ago,
        changed: _,
    } = plan;
    let Some(key) = key else {
        let handler = InMemoryZoneHandler::new(
            origin.clone(),
            records,
            ZoneType::Primary,
            AxfrPolicy::Deny,
            None,
        )
        .map_err(|detail| LabError::Zone {
            zone: origin.to_string(),
            detail,
        })?;
        let (name, catalog) = catalog(&origin, handler);
        return Ok((name, catalog, None));
    };
    let signing_error = |detail: String| LabError::Signing {
        zone: origin.to_string(),
        detail,
    };
    let mut handler = if large {
        super::bulk::signed_large(&origin, records, &key, validity)?
    } else {
        let signer = key.signer(&origin, validity).map_err(signing_error)?;
        signed_handler(&origin, records, signer)?
    };

    let zone_records = handler.records_get_mut();
    if let Some(ago) = signed_ago {
        // Signed then and not since: the same end, an inception `ago`.
        let signer = key.signer(&origin, validity + ago).map_err(signing_error)?;
        let inception = OffsetDateTime::from(SystemTime::now() - ago);
        for rrset in zone_records.values_mut() {
            let rrset = Arc::make_mut(rrset);
            if rrset.rrsigs().is_empty() {
                continue;
            }
            resign(rrset, inception, &signer).map_err(signing_error)?;
        }
    }
    for selector in &corrupt {
        let rrset = rrset_mut(zone_records, selector, &origin)?;
        let flipped = rrset.rrsigs().iter().map(corrupt_rrsig).collect::<Vec<_>>();
        rrset.set_rrsigs(flipped);
    }
    if !expire.is_empty() {
        let short = key
            .signer(&origin, EXPIRED_VALIDITY)
            .map_err(signing_error)?;
        let inception = OffsetDateTime::from(SystemTime::now() - EXPIRED_INCEPTION_AGO);
        for selector in &expire {
            let rrset = rrset_mut(zone_records, selector, &origin)?;
            resign(rrset, inception, &short).map_err(signing_error)?;
        }
    }
    let denial = Denial::from_zone(&origin, handler.records_get_mut());
    let (name, catalog) = catalog(&origin, handler);
    Ok((name, catalog, Some(denial)))
}

/// Replaces the RRSIGs of `rrset` with one made at `inception` by `signer`
/// (valid for the signer's period from then).
fn resign(
    rrset: &mut RecordSet,
    inception: OffsetDateTime,
    signer: &DnssecSigner,
) -> Result<(), String> {
    let rrsig =
        RRSIG::from_rrset(rrset, DNSClass::IN, inception, signer).map_err(|e| e.to_string())?;
    let record = Record::from_rdata(
        rrset.name().clone(),
        rrset.ttl(),
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)),
    );
    rrset.set_rrsigs(vec![record]);
    Ok(())
}

/// A zone handler with the key added and every RRset signed, NSEC chain made.
fn signed_handler(
    origin: &Name,
    records: BTreeMap<RrKey, RecordSet>,
    signer: DnssecSigner,
) -> Result<InMemoryZoneHandler, LabError> {
    let signing_error = |detail: String| LabError::Signing {
        zone: origin.to_string(),
        detail,
    };
    let mut handler = super::plan::unsigned_handler(origin, records)?;
    handler
        .add_zone_signing_key_mut(signer)
        .map_err(|e| signing_error(e.to_string()))?;
    handler
        .secure_zone_mut()
        .map_err(|e| signing_error(e.to_string()))?;
    Ok(handler)
}

fn catalog(origin: &Name, handler: InMemoryZoneHandler) -> (LowerName, Catalog) {
    let name = LowerName::new(origin);
    let mut catalog = Catalog::new();
    catalog.upsert(name.clone(), vec![Arc::new(handler)]);
    (name, catalog)
}

fn rrset_mut<'z>(
    records: &'z mut BTreeMap<RrKey, Arc<RecordSet>>,
    selector: &RrsetSelector,
    origin: &Name,
) -> Result<&'z mut RecordSet, LabError> {
    let key = RrKey::new(LowerName::new(selector.owner()), selector.record_type());
    // The catalogue checked that the selected RRset exists in the zone.
    let rrset = records.get_mut(&key).ok_or_else(|| LabError::Zone {
        zone: origin.to_string(),
        detail: format!("no RRset {selector}"),
    })?;
    Ok(Arc::make_mut(rrset))
}

/// The same RRSIG with the last signature byte flipped: well-formed, but
/// it no longer verifies (RFC 4035 §5.3.3).
fn corrupt_rrsig(record: &Record) -> Record {
    let mut record = record.clone();
    if let RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) = &record.data {
        let mut sig = rrsig.sig().to_vec();
        if let Some(last) = sig.last_mut() {
            *last ^= 0xff;
        }
        record.data = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
            rrsig.input().clone(),
            sig,
        )));
    }
    record
}
