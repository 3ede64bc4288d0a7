//! Zone keys of the lab: one ECDSA P-256 key per signed zone (algorithm 13,
//! RFC 6605), generated with ring at start-up and never stored.
//!
//! Each zone has a single key that signs everything (a "combined signing
//! key"), published with flags 257 (zone key + secure entry point, RFC 4034
//! §2.1.1) so the root key can be given to validators as a trust anchor in
//! the usual `DNSKEY 257 3 13` form. DS records use SHA-256 (RFC 4509).
//! RSA keys are left out: ring cannot generate them.

use std::time::Duration;

use hickory_proto::{
    dnssec::{
        Algorithm, DigestType, DnssecSigner, PublicKeyBuf, SigningKey,
        crypto::EcdsaSigningKey,
        rdata::{DNSKEY, DS},
    },
    rr::Name,
};
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};

/// TTL written in the trust anchor lines.
pub const ANCHOR_TTL: u32 = 3600;

/// A zone's key pair, kept as PKCS#8 so that several signers can be made
/// from it (the zone's own, and one with a short validity for expired RRSIGs).
/// Cloned to sign the bulk set's zones with one key.
#[derive(Clone)]
pub struct ZoneKey {
    pkcs8: Vec<u8>,
    dnskey: DNSKEY,
}

impl ZoneKey {
    /// Generates a fresh ECDSA P-256 key.
    pub fn generate(rng: &SystemRandom) -> Result<ZoneKey, String> {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, rng)
            .map_err(|_| "cannot generate an ECDSA P-256 key".to_string())?
            .as_ref()
            .to_vec();
        let public = signing_key(&pkcs8)?
            .to_public_key()
            .map_err(|e| format!("cannot read the public key: {e}"))?;
        Ok(ZoneKey {
            dnskey: DNSKEY::from_key(&public),
            pkcs8,
        })
    }

    /// The public key, as a trust anchor holds it.
    pub fn public_key(&self) -> &PublicKeyBuf {
        self.dnskey.public_key()
    }

    /// A signer for `zone` whose signatures are valid for `validity` from
    /// their inception.
    pub fn signer(&self, zone: &Name, validity: Duration) -> Result<DnssecSigner, String> {
        Ok(DnssecSigner::new(
            self.dnskey.clone(),
            Box::new(signing_key(&self.pkcs8)?),
            zone.clone(),
            validity,
        ))
    }

    /// The DS record data for this key as the DNSKEY of `zone` (SHA-256).
    pub fn ds(&self, zone: &Name) -> Result<DS, String> {
        DS::from_key(self.public_key(), zone, DigestType::SHA256)
            .map_err(|e| format!("cannot make the DS record: {e}"))
    }

    /// The zone-file line of this key as the root trust anchor:
    /// `. 3600 IN DNSKEY 257 3 13 <base64>`.
    pub fn anchor_dnskey_line(&self) -> String {
        format!(". {ANCHOR_TTL} IN DNSKEY {}\n", self.dnskey)
    }

    /// The zone-file line of this key's DS as the root trust anchor:
    /// `. 3600 IN DS <tag> 13 2 <HEX>`.
    pub fn anchor_ds_line(&self) -> Result<String, String> {
        Ok(format!(
            ". {ANCHOR_TTL} IN DS {}\n",
            self.ds(&Name::root())?
        ))
    }
}

fn signing_key(pkcs8: &[u8]) -> Result<EcdsaSigningKey, String> {
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|e| format!("cannot load the ECDSA key: {e}"))?;
    Ok(EcdsaSigningKey::from_ecdsa(
        pair,
        Algorithm::ECDSAP256SHA256,
    ))
}
