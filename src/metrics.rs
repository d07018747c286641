//! Shard metrics: which shard a key lives in ([`ShardedMap::shard_of`]) and, with feature
//! `metrics`, per-shard counters ([`ShardedMap::shard_metrics`]) to spot a bad shard count or a
//! weak hasher. Without the feature the lock keeps no counters: zero cost.
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};

use equivalent::Equivalent;

use crate::ShardedMap;

impl<K: Eq + Hash, V, S: BuildHasher> ShardedMap<K, V, S> {
    /// The index of the shard that holds (or would hold) `key`, in `0..shard_amount()`. The
    /// same as DashMap's [`determine_map`](Self::determine_map), under a clearer name.
    ///
    /// [Locking](crate::locking): none (hashes the key).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::with_shard_amount(8);
    /// map.insert("k", 1);
    /// let shard = map.shard_of("k");
    /// assert!(shard < 8);
    /// assert_eq!(map.shard_len(shard), 1);
    /// ```
    pub fn shard_of<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> usize {
        self.shard_index(self.hash(key))
    }
}

/// One shard's counters, from [`ShardedMap::shard_metrics`] (feature `metrics`).
///
/// [Locking](crate::locking): none (a plain value).
///
/// ```
/// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::with_shard_amount(2);
/// let m: sharded_map::ShardMetrics = map.shard_metrics()[0];
/// assert_eq!((m.len, m.waits, m.parks), (0, 0, 0));
/// ```
#[cfg(feature = "metrics")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardMetrics {
    /// Entries in the shard.
    pub len: usize,
    /// Lock acquisitions on this shard that found it held against them and had to wait (spin,
    /// park, or, for a writer, wait for a reader's slot), since the map was made.
    pub waits: usize,
    /// Times a thread went to park (sleep) waiting for this shard's lock.
    pub parks: usize,
}

#[cfg(feature = "metrics")]
impl<K, V, S> ShardedMap<K, V, S> {
    /// Every shard's counters, in shard order: entries, acquisitions that had to wait, parks.
    /// Snapshots taken without locking, one shard after another.
    ///
    /// How to read them: entries far above the mean in a few shards mean a weak hasher (or keys
    /// that hash alike); `waits` that are a large share of your operations mean threads collide
    /// on shards, so more shards (`with_shard_amount`) or shorter guards help; `parks` mean
    /// guards are held long (a thread slept waiting).
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::hash::{BuildHasher, Hasher};
    /// use sharded_map::ShardedMap;
    ///
    /// // A hasher that ignores its input: the worst possible, every key hashes alike.
    /// #[derive(Clone, Default)]
    /// struct Constant;
    /// struct ConstantHasher;
    /// impl Hasher for ConstantHasher {
    ///     fn finish(&self) -> u64 { 42 }
    ///     fn write(&mut self, _: &[u8]) {}
    /// }
    /// impl BuildHasher for Constant {
    ///     type Hasher = ConstantHasher;
    ///     fn build_hasher(&self) -> ConstantHasher { ConstantHasher }
    /// }
    ///
    /// let map = ShardedMap::with_hasher_and_shard_amount(Constant, 16);
    /// for i in 0..1000 {
    ///     map.insert(i, i);
    /// }
    /// let metrics = map.shard_metrics();
    /// let mean = map.len() / metrics.len();
    /// let fullest = metrics.iter().map(|m| m.len).max().unwrap();
    /// // A good hasher keeps every shard near the mean; here one shard has everything.
    /// assert!(fullest > 4 * mean, "spot the weak hasher: {fullest} vs mean {mean}");
    /// assert_eq!(metrics.iter().filter(|m| m.len > 0).count(), 1);
    /// ```
    pub fn shard_metrics(&self) -> Vec<ShardMetrics> {
        self.shards_slice()
            .iter()
            .map(|shard| {
                let (waits, parks) = shard.lock_counters();
                ShardMetrics {
                    len: shard.len(),
                    waits,
                    parks,
                }
            })
            .collect()
    }
}
