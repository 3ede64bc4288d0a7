//! `--shard K/N`: the K-th of N deterministic slices of the input, so that
//! N copies of mxtls (a Kubernetes Indexed Job, a Slurm array, a CI
//! matrix) scan disjoint parts of one list with nothing coordinating them.
//!
//! A domain belongs to shard `1 + h mod N`, where `h` is the first eight
//! bytes, big-endian, of the SHA-256 of its normalised name (lowercase
//! A-labels, no trailing dot; `Domain::ascii`). SHA-256 rather than a
//! fast hasher: it is the same on every platform and version, and anyone
//! can check a domain's shard with `printf %s example.com | sha256sum`.
//! `auto/N` takes K from `JOB_COMPLETION_INDEX` (0-based, as Kubernetes
//! Indexed Jobs set it), plus one.

use std::fmt;

/// One slice of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    index: u64,
    count: u64,
}

/// The variable `auto` reads: Kubernetes Indexed Jobs set it to the pod's
/// completion index, 0 to N-1.
pub const INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";

/// Most shards accepted.
pub const MAX_SHARDS: u64 = 1_000_000;

impl Shard {
    /// Parses `K/N` (1 ≤ K ≤ N) or `auto/N`; `env` reads a variable.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let usage = || {
            format!(
                "--shard {text:?}: give K/N, the K-th of N slices (1 ≤ K ≤ N ≤ {MAX_SHARDS}, e.g. --shard 2/8), or auto/N to take K from {INDEX_VARIABLE} (0-based) + 1"
            )
        };
        let (k, n) = text.split_once('/').ok_or_else(usage)?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || count > MAX_SHARDS {
            return Err(usage());
        }
        let index = if k.trim() == "auto" {
            let raw = env(INDEX_VARIABLE).ok_or_else(|| {
                format!("--shard {text}: {INDEX_VARIABLE} is not set (it is set in the pods of a Kubernetes Indexed Job); give K/N instead")
            })?;
            let zero_based: u64 = raw
                .trim()
                .parse()
                .map_err(|_| format!("--shard {text}: {INDEX_VARIABLE}={raw:?} is not a number"))?;
            zero_based.checked_add(1).ok_or_else(usage)?
        } else {
            k.trim().parse().map_err(|_| usage())?
        };
        if index == 0 || index > count {
            return Err(format!("{}; here K is {index}", usage()));
        }
        Ok(Shard { index, count })
    }

    /// The 1-based shard a normalised domain name belongs to among `count`.
    #[must_use]
    pub fn of(domain: &str, count: u64) -> u64 {
        let digest = ring::digest::digest(&ring::digest::SHA256, domain.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest.as_ref()[..8]);
        u64::from_be_bytes(first) % count.max(1) + 1
    }

    /// Whether this shard scans the domain (normalised, `Domain::ascii`).
    #[must_use]
    pub fn holds(&self, domain: &str) -> bool {
        Self::of(domain, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_shards_partition_the_input_exactly() {
        let domains: Vec<String> = (0..5000).map(|i| format!("d{i:05}.example")).collect();
        for n in [1u64, 2, 3, 7, 16] {
            let mut seen = vec![0u32; domains.len()];
            for k in 1..=n {
                let shard = Shard::parse(&format!("{k}/{n}"), no_env).expect("valid");
                for (i, d) in domains.iter().enumerate() {
                    if shard.holds(d) {
                        seen[i] += 1;
                    }
                }
            }
            assert!(
                seen.iter().all(|c| *c == 1),
                "N={n}: every domain in exactly one shard"
            );
        }
        // Roughly even: no shard of 4 gets less than a fifth of 5000.
        for k in 1..=4 {
            let shard = Shard::parse(&format!("{k}/4"), no_env).expect("valid");
            let count = domains.iter().filter(|d| shard.holds(d)).count();
            assert!(count > 1000, "shard {k}/4 holds {count}");
        }
    }

    #[test]
    fn the_hash_is_the_documented_sha256_prefix() {
        // printf %s example.com | sha256sum → a379a6f6eeafb9a5…
        let h: u64 = 0xa379_a6f6_eeaf_b9a5;
        for n in [2u64, 7, 1000] {
            assert_eq!(Shard::of("example.com", n), h % n + 1, "N={n}");
        }
    }

    #[test]
    fn auto_reads_the_kubernetes_completion_index() {
        let env = |name: &str| (name == INDEX_VARIABLE).then(|| "2".to_string());
        assert_eq!(Shard::parse("auto/4", env).expect("set").to_string(), "3/4");
        assert!(
            Shard::parse("auto/4", no_env)
                .unwrap_err()
                .contains(INDEX_VARIABLE)
        );
        let out_of_range = |_: &str| Some("4".to_string());
        assert!(Shard::parse("auto/4", out_of_range).is_err());
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["0/4", "5/4", "1/0", "x/4", "3", "1/2/3", "-1/4"] {
            assert!(Shard::parse(bad, no_env).is_err(), "{bad}");
        }
        assert!(Shard::parse("4/4", no_env).is_ok());
    }
}
