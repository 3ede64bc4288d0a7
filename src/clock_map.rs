//! A map bounded by entries whose eviction costs O(1) amortised: the
//! CLOCK ("second chance") approximation of least-recently-used.
//!
//! The run's caches hold what many domains share (a TLD's keys, a large
//! provider's sessions) beside what one domain needs for a moment (its own
//! zone's keys). Finding the entry to drop by scanning the whole map on
//! every insert made a 10 000-domain batch spend an eighth of its CPU there;
//! CLOCK keeps a queue in insertion order and gives an entry read since its
//! last turn one more round, so shared entries stay and one-off entries
//! leave first.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// At most `capacity` entries; see the module text.
pub struct ClockMap<K, V> {
    entries: HashMap<K, (V, bool)>,
    /// Keys in the order they came in; may hold keys removed since (skipped
    /// and compacted away).
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> ClockMap<K, V> {
    pub fn new(capacity: usize) -> ClockMap<K, V> {
        ClockMap {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value for `key`, marked as used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        self.entries.get_mut(key).map(|(value, used)| {
            *used = true;
            &*value
        })
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key).map(|(value, _)| value)
    }

    /// Inserts or replaces; when full, drops the first entry in turn that
    /// `stale` says is worthless or that was not used since its last turn.
    pub fn insert(&mut self, key: K, value: V, stale: impl Fn(&V) -> bool) {
        match self.entries.entry(key.clone()) {
            Entry::Occupied(mut slot) => {
                slot.insert((value, false));
                return;
            }
            Entry::Vacant(_) => {}
        }
        if self.entries.len() >= self.capacity {
            self.evict_one(&stale);
        }
        self.entries.insert(key.clone(), (value, false));
        self.order.push_back(key);
        if self.order.len() > 2 * self.capacity {
            // Keys removed since they came in: at most one pass per
            // `capacity` inserts, so still O(1) amortised.
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
    }

    fn evict_one(&mut self, stale: &impl Fn(&V) -> bool) {
        // Each key is seen at most twice (its flag cleared on the first
        // pass), so the loop ends; a key queued twice is dropped on sight
        // of its first copy, which only makes it leave a little early.
        let mut turns = 2 * self.order.len() + 1;
        while turns > 0 {
            turns -= 1;
            let Some(key) = self.order.pop_front() else {
                return;
            };
            let Some((value, used)) = self.entries.get_mut(&key) else {
                continue;
            };
            if *used && !stale(value) {
                *used = false;
                self.order.push_back(key);
                continue;
            }
            self.entries.remove(&key);
            return;
        }
    }
}

/// A [`ClockMap`] shared behind a lock, for values that are a function of
/// their key alone (a parsed certificate by its digest, a verdict by what
/// it judged): the kept value is handed out, or computed and kept.
pub struct Memo<K, V>(Mutex<ClockMap<K, V>>);

impl<K: Hash + Eq + Clone, V: Clone> Memo<K, V> {
    pub fn new(capacity: usize) -> Memo<K, V> {
        Memo(Mutex::new(ClockMap::new(capacity)))
    }

    /// The value kept for `key`, else `compute()`, kept. The lock is not
    /// held while computing: two callers may compute the same value once
    /// each, which costs time, not correctness.
    pub fn get_or_insert_with(&self, key: K, compute: impl FnOnce() -> V) -> V {
        if let Some(value) = self.lock().get(&key) {
            return value.clone();
        }
        let value = compute();
        self.lock().insert(key, value.clone(), |_| false);
        value
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, ClockMap<K, V>> {
        // No map operation panics half-way: a poisoned map is whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K, V> std::fmt::Debug for Memo<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &u32) -> bool {
        false
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let mut map = ClockMap::new(8);
        for i in 0..1000u32 {
            map.insert(i, i, never);
            assert!(map.len() <= 8);
        }
        assert!(map.order.len() <= 16);
    }

    #[test]
    fn an_entry_read_between_inserts_outlives_entries_never_read() {
        let mut map = ClockMap::new(4);
        map.insert(0u32, 0u32, never);
        for i in 1..100u32 {
            assert_eq!(map.get(&0), Some(&0), "the shared entry was evicted at {i}");
            map.insert(i, i, never);
        }
        assert!(map.get(&1).is_none(), "one-off entries leave first");
    }

    #[test]
    fn a_stale_entry_goes_first_even_when_used() {
        let mut map = ClockMap::new(3);
        for i in 0..3u32 {
            map.insert(i, i, never);
            map.get(&i);
        }
        map.insert(3, 3, |v| *v == 2);
        assert!(map.get(&2).is_none());
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn a_memo_computes_a_value_once_while_it_is_kept() {
        let memo = Memo::new(2);
        let mut computed = 0;
        for _ in 0..3 {
            let v = memo.get_or_insert_with("a", || {
                computed += 1;
                1
            });
            assert_eq!(v, 1);
        }
        assert_eq!(computed, 1);
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn replacing_a_value_keeps_one_entry() {
        let mut map = ClockMap::new(2);
        map.insert("a", 1, |_| false);
        map.insert("a", 2, |_| false);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(&"a"), Some(&2));
        assert_eq!(map.remove(&"a"), Some(2));
        assert!(map.is_empty());
    }
}
