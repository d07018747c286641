//! Rayon support (feature `rayon`): building or extending a map or set from a parallel iterator
//! with no per-item locking.
//!
//! Inserting from many threads one item at a time makes every insert take a shard lock and pull
//! that shard's cache lines to its core; for bulk loads that loses to a single thread
//! (`docs/benchmarks.md`, "Dedup"). A parallel build here runs in two phases instead:
//!
//! 1. **Partition.** Rayon splits the items among its workers; each worker hashes each item once
//!    and appends `(hash, key, value)` to its own bucket for the item's shard.
//! 2. **Fill.** Each shard is filled by one worker, from every worker's bucket for that shard in
//!    iteration order, reusing the hashes. Through `&mut ShardedMap` (and `collect`) nothing is
//!    locked; through `&ShardedMap` each shard is locked once, exclusively, for its whole fill.
//!
//! Among items with equal keys the one that comes last in the parallel iterator's order wins, as
//! with [`Extend`]: a parallel build gives the same map as a sequential one. The price is memory:
//! between the phases every item is held once more, with its hash.
//!
//! A panic in `Hash` (phase 1) leaves the map untouched; a panic in `Eq` (phase 2) leaves the
//! shards that were filled filled, the one that panicked consistent, and every lock released.
//! Rayon re-raises the panic on the calling thread.
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};

use rayon::iter::{FromParallelIterator, IntoParallelIterator, ParallelExtend, ParallelIterator};

use crate::map::{insert_in, Router};
use crate::shard::{PaddedShard, Table};
use crate::{ShardedMap, ShardedSet};

/// Items of one shard: `(hash, key, value)` in the order they came.
type Bucket<K, V> = Vec<(u64, K, V)>;

/// Phase 1: the items hashed once and bucketed by shard. One entry per shard: every worker's
/// bucket for that shard, in iteration order (rayon's `collect` keeps the order of the folds,
/// and each fold covers a contiguous run of the items).
fn partition<K, V, S, I>(router: Router<'_, S>, shards: usize, items: I) -> Vec<Vec<Bucket<K, V>>>
where
    K: Hash + Send,
    V: Send,
    S: BuildHasher + Sync,
    I: IntoParallelIterator<Item = (K, V)>,
{
    let parts: Vec<Vec<Bucket<K, V>>> = items
        .into_par_iter()
        .fold(
            || (0..shards).map(|_| Vec::new()).collect::<Vec<_>>(),
            |mut buckets, (key, value)| {
                let (hash, shard) = router.locate(&key);
                buckets[shard].push((hash, key, value));
                buckets
            },
        )
        .collect();
    // Worker-major to shard-major: moves buckets, not items.
    let mut by_shard: Vec<Vec<Bucket<K, V>>> = (0..shards)
        .map(|_| Vec::with_capacity(parts.len()))
        .collect();
    for part in parts {
        for (runs, bucket) in by_shard.iter_mut().zip(part) {
            if !bucket.is_empty() {
                runs.push(bucket);
            }
        }
    }
    by_shard
}

/// Phase 2 for one shard: every bucket in order into `table`, later items replacing earlier ones
/// with the same key. No reserve up front: with duplicate-heavy input the item count says little
/// about the final size, and reserving for it would allocate for keys that never arrive.
fn fill<K: Eq + Hash, V, S: BuildHasher>(
    table: &mut Table<K, V>,
    buckets: Vec<Bucket<K, V>>,
    router: Router<'_, S>,
) {
    for bucket in buckets {
        for (hash, key, value) in bucket {
            insert_in(table, hash, key, value, |pair| router.rehash(pair));
        }
    }
}

/// Re-establishes a shard's entry counter when its fill ends, also by a panic.
struct SyncLen<'a, K, V>(&'a mut PaddedShard<K, V>);

impl<K, V> Drop for SyncLen<'_, K, V> {
    fn drop(&mut self) {
        self.0.sync_len();
    }
}

/// Extends the map in parallel with no locking at all (`&mut self`), shard by shard; see the
/// [module docs](self) for how.
///
/// ```
/// use rayon::prelude::*;
/// let mut map = sharded_map::ShardedMap::new();
/// map.par_extend((0..1000u32).into_par_iter().map(|i| (i % 10, i)));
/// assert_eq!(map.len(), 10);
/// assert_eq!(*map.get(&3).unwrap(), 993); // the last of 3, 13, ..., 993 wins
/// ```
impl<K, V, S> ParallelExtend<(K, V)> for ShardedMap<K, V, S>
where
    K: Eq + Hash + Send,
    V: Send,
    S: BuildHasher + Sync,
{
    fn par_extend<I: IntoParallelIterator<Item = (K, V)>>(&mut self, par_iter: I) {
        let buckets = partition(self.router(), self.shard_amount(), par_iter);
        let (shards, router) = self.shards_mut();
        rayon::iter::IndexedParallelIterator::zip(
            rayon::iter::IntoParallelRefMutIterator::par_iter_mut(shards),
            buckets,
        )
        .for_each(|(shard, buckets)| {
            let shard = SyncLen(shard);
            fill(shard.0.table_mut(), buckets, router);
        });
    }
}

/// Extends the map in parallel through a shared reference: each shard is locked exclusively
/// once, for the whole of its fill, by one worker.
///
/// Locking: takes every shard that receives items exclusively, one worker per shard; blocks
/// while another thread holds a guard on such a shard; deadlocks if the calling thread holds any
/// guard on this map.
///
/// ```
/// use rayon::prelude::*;
/// let map = sharded_map::ShardedMap::new();
/// map.insert(0, "old");
/// (&map).par_extend([(0, "new"), (1, "one")].into_par_iter());
/// assert_eq!((*map.get(&0).unwrap(), map.len()), ("new", 2));
/// ```
impl<K, V, S> ParallelExtend<(K, V)> for &ShardedMap<K, V, S>
where
    K: Eq + Hash + Send + Sync,
    V: Send + Sync,
    S: BuildHasher + Sync,
{
    fn par_extend<I: IntoParallelIterator<Item = (K, V)>>(&mut self, par_iter: I) {
        let map: &ShardedMap<K, V, S> = self;
        let buckets = partition(map.router(), map.shard_amount(), par_iter);
        let shards: Vec<_> = map.shard_refs().zip(buckets).collect();
        shards.into_par_iter().for_each(|(shard, buckets)| {
            if !buckets.is_empty() {
                fill(&mut shard.write(), buckets, map.router());
            }
        });
    }
}

/// Builds a map in parallel with no locking; see the [module docs](self) for how.
///
/// ```
/// use rayon::prelude::*;
/// let map: sharded_map::ShardedMap<u32, u32> =
///     (0..10_000u32).into_par_iter().map(|i| (i, i * 2)).collect();
/// assert_eq!(map.len(), 10_000);
/// assert_eq!(*map.get(&4321).unwrap(), 8642);
/// ```
impl<K, V, S> FromParallelIterator<(K, V)> for ShardedMap<K, V, S>
where
    K: Eq + Hash + Send,
    V: Send,
    S: BuildHasher + Default + Sync,
{
    fn from_par_iter<I: IntoParallelIterator<Item = (K, V)>>(par_iter: I) -> Self {
        let mut map = Self::default();
        map.par_extend(par_iter);
        map
    }
}

/// Extends the set in parallel with no locking, as the map does.
///
/// ```
/// use rayon::prelude::*;
/// let mut set = sharded_map::ShardedSet::new();
/// set.par_extend((0..1000u32).into_par_iter().map(|i| i % 7));
/// assert_eq!(set.len(), 7);
/// ```
impl<K, S> ParallelExtend<K> for ShardedSet<K, S>
where
    K: Eq + Hash + Send,
    S: BuildHasher + Sync,
{
    fn par_extend<I: IntoParallelIterator<Item = K>>(&mut self, par_iter: I) {
        self.map_mut()
            .par_extend(par_iter.into_par_iter().map(|key| (key, ())));
    }
}

/// Extends the set in parallel through a shared reference, as the map does.
///
/// Locking: as for `&ShardedMap`: each shard that receives keys is locked exclusively once;
/// deadlocks if the calling thread holds any guard on this set.
///
/// ```
/// use rayon::prelude::*;
/// let set = sharded_map::ShardedSet::new();
/// (&set).par_extend((0..100u32).into_par_iter());
/// assert!(set.contains(&99));
/// ```
impl<K, S> ParallelExtend<K> for &ShardedSet<K, S>
where
    K: Eq + Hash + Send + Sync,
    S: BuildHasher + Sync,
{
    fn par_extend<I: IntoParallelIterator<Item = K>>(&mut self, par_iter: I) {
        let mut map = self.map();
        map.par_extend(par_iter.into_par_iter().map(|key| (key, ())));
    }
}

/// Builds a set in parallel with no locking.
///
/// ```
/// use rayon::prelude::*;
/// let set: sharded_map::ShardedSet<u32> = (0..100u32).into_par_iter().map(|i| i / 2).collect();
/// assert_eq!(set.len(), 50);
/// ```
impl<K, S> FromParallelIterator<K> for ShardedSet<K, S>
where
    K: Eq + Hash + Send,
    S: BuildHasher + Default + Sync,
{
    fn from_par_iter<I: IntoParallelIterator<Item = K>>(par_iter: I) -> Self {
        let mut set = Self::default();
        set.par_extend(par_iter);
        set
    }
}
