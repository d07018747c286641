//! The partitioned parallel build: `ParallelExtend` and `FromParallelIterator` for the map and
//! the set, with no per-item locking.
//!
//! Inserting from many threads one item at a time makes every insert take a shard lock and pull
//! that shard's cache lines to its core; for bulk loads that loses to a single thread
//! (`docs/benchmarks.md`, "Dedup"). A parallel build here runs in two phases instead:
//!
//! 1. **Partition.** Rayon splits the items among its workers; each worker hashes each item once
//!    and keeps `(hash, key, value)` in its own buckets for the item's shard. Duplicates are
//!    dropped on the spot while that pays (one small cache-resident window per worker keeps the
//!    last item per key, whatever its shard), so input with few distinct keys shrinks before it
//!    is stored. Each worker also counts each shard's distinct keys in a small sketch
//!    (HyperLogLog, [`Sketch`]).
//! 2. **Fill.** Each shard is filled by one worker, from every worker's bucket for that shard in
//!    iteration order, reusing the hashes. The worker first sizes the shard's table for the
//!    sketch's estimate, so the table does not grow (and rehash) during the fill. Through
//!    `&mut ShardedMap` (and `collect`) nothing is locked; through `&ShardedMap` each shard is
//!    locked once, exclusively, for its whole fill.
//!
//! Among items with equal keys the one that comes last in the parallel iterator's order wins, as
//! with [`Extend`]: a parallel build gives the same map as a sequential one. The price is memory:
//! between the phases every item that was not deduplicated is held once more, with its hash.
//! For a large indexed input, `par_extend_chunked` ([`chunked`](super::chunked)) bounds that
//! by running both phases on one prefix of the input at a time.
//!
//! A panic in phase 1 (`Hash`, or `Eq` between two items in a window) leaves the map untouched;
//! a panic in `Eq` in phase 2 leaves the shards that were filled filled, the one that panicked
//! consistent, and every lock released. Rayon re-raises the panic on the calling thread. Either
//! way every item is dropped exactly once.
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};
use std::collections::LinkedList;

use hashbrown::{hash_table, HashTable};
use rayon::iter::plumbing::{Consumer, Folder, Reducer, UnindexedConsumer};
use rayon::iter::{FromParallelIterator, IntoParallelIterator, ParallelExtend, ParallelIterator};

use crate::deadlock::Site;
use crate::raw::route::{insert_all_in, Router};
use crate::raw::shard::Table;
use crate::{ShardedMap, ShardedSet};

use super::sketch::Sketch;

/// Items of one shard: `(hash, key, value)`. Within a bucket no key occurs twice, or the items
/// are in the order they came (see [`Local`]).
pub(super) type Bucket<K, V> = Vec<(u64, K, V)>;

/// Bytes of the window table one worker keeps (one for all shards): about a quarter of a
/// typical L2, so probing it stays a cache hit.
const WINDOW_BYTES: usize = 256 << 10;

/// Everything the workers gathered for one shard: their buckets in iteration order, and the
/// sketch of the shard's distinct keys.
pub(super) struct Incoming<K, V> {
    pub(super) buckets: Vec<Bucket<K, V>>,
    pub(super) sketch: Sketch,
}

/// One worker's items for one shard: its buckets, and the sketch of the shard's distinct keys.
/// Replayed in order, the buckets leave each key with its last value, as replaying the items
/// would (see [`Leaf`]).
pub(super) struct Local<K, V> {
    /// Closed buckets (one per closed window), oldest first.
    buckets: Vec<Bucket<K, V>>,
    /// In append mode, the bucket items are appended to; it comes after the closed ones.
    open: Bucket<K, V>,
    /// The shard's keys, each counted at least once (a key counted again changes nothing).
    sketch: Sketch,
}

impl<K: Eq, V> Local<K, V> {
    fn new(shards: usize) -> Self {
        Self {
            buckets: Vec::new(),
            open: Vec::new(),
            sketch: Sketch::for_shards(shards),
        }
    }

    /// Adds this worker's buckets and sketch for the shard to `into`.
    fn finish(mut self, into: &mut Incoming<K, V>) {
        self.buckets.push(self.open);
        into.buckets
            .extend(self.buckets.into_iter().filter(|b| !b.is_empty()));
        into.sketch.merge(&self.sketch);
    }
}

/// Phase 1: the items hashed once and bucketed by shard. One entry per shard: every worker's
/// buckets for that shard, in iteration order, and the shard's sketch.
fn partition<K, V, S, I>(router: Router<'_, S>, shards: usize, items: I) -> Vec<Incoming<K, V>>
where
    K: Eq + Hash + Send,
    V: Send,
    S: BuildHasher + Sync,
    I: IntoParallelIterator<Item = (K, V)>,
{
    partition_by(router, shards, |partitioner| {
        items.into_par_iter().drive_unindexed(partitioner)
    })
}

/// Phase 1, with the items driven through the [`Partitioner`] by `drive`: a whole parallel
/// iterator ([`partition`]), or one prefix of an indexed input's producer (the chunked build,
/// through `bridge_producer_consumer`).
pub(super) fn partition_by<'r, K, V, S>(
    router: Router<'r, S>,
    shards: usize,
    drive: impl FnOnce(Partitioner<'r, S>) -> LinkedList<Vec<Local<K, V>>>,
) -> Vec<Incoming<K, V>>
where
    K: Eq,
{
    by_shard(shards, drive(Partitioner::new::<K, V>(router, shards)))
}

/// The leaves' results, worker-major, turned shard-major: moves buckets, not items.
fn by_shard<K: Eq, V>(shards: usize, parts: LinkedList<Vec<Local<K, V>>>) -> Vec<Incoming<K, V>> {
    let mut by_shard: Vec<Incoming<K, V>> = (0..shards)
        .map(|_| Incoming {
            buckets: Vec::new(),
            sketch: Sketch::for_shards(shards),
        })
        .collect();
    for part in parts {
        for (incoming, local) in by_shard.iter_mut().zip(part) {
            local.finish(incoming);
        }
    }
    by_shard
}

/// Phase 1 as a rayon consumer. Each leaf of rayon's split tree gets a contiguous run of the
/// items and folds it into one set of [`Local`]s in a plain loop (so the per-item work inlines,
/// which a `fold` closure called per item did not: 119 instructions per item by callgrind);
/// the leaves' results are concatenated in order.
pub(super) struct Partitioner<'r, S> {
    router: Router<'r, S>,
    shards: usize,
    /// The most keys a leaf's window holds before it closes.
    window: usize,
}

impl<'r, S> Partitioner<'r, S> {
    fn new<K, V>(router: Router<'r, S>, shards: usize) -> Self {
        Self {
            router,
            shards,
            window: (WINDOW_BYTES / size_of::<(u64, K, V)>()).max(16),
        }
    }
}

impl<S> Clone for Partitioner<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Partitioner<'_, S> {}

/// One leaf's state: its `Local` per shard, and one dedup window over all shards.
///
/// Duplicate-heavy input (the dedup workload: many pairs, few keys) is deduplicated on the spot
/// in a small *window* table that holds the last item per key, whatever its shard; a full
/// window is closed into one bucket per shard. A window that caught fewer than one duplicate in
/// eight closes for good: from then on items are appended to their shard's bucket in arrival
/// order, which costs no probe. (The shards see the same mix of keys, since the shard comes
/// from the hash, so one window decides for all of them.) Either way each shard's buckets,
/// replayed in order, leave each key with its last value, as replaying the items would: a
/// window holds each key once, and its buckets come after those of earlier windows.
pub(super) struct Leaf<'r, K, V, S> {
    partitioner: Partitioner<'r, S>,
    locals: Vec<Local<K, V>>,
    window: HashTable<(u64, K, V)>,
    /// Items that went into the current window.
    seen: usize,
    /// The window did not pay: items go straight to their shard's open bucket.
    append: bool,
    /// About how many items of this leaf one shard gets: the leaf's items (as far as its
    /// iterator tells) over the shards, plus an eighth for the spread between shards.
    expected: usize,
}

/// Concatenates the leaves' results, left before right: iteration order.
pub(super) struct InOrder;

impl<T> Reducer<LinkedList<T>> for InOrder {
    fn reduce(self, mut left: LinkedList<T>, mut right: LinkedList<T>) -> LinkedList<T> {
        left.append(&mut right);
        left
    }
}

impl<'r, K, V, S> Consumer<(K, V)> for Partitioner<'r, S>
where
    K: Eq + Hash + Send,
    V: Send,
    S: BuildHasher + Sync,
{
    type Folder = Leaf<'r, K, V, S>;
    type Reducer = InOrder;
    type Result = LinkedList<Vec<Local<K, V>>>;

    fn split_at(self, _index: usize) -> (Self, Self, InOrder) {
        (self, self, InOrder)
    }

    fn into_folder(self) -> Self::Folder {
        Leaf {
            partitioner: self,
            locals: (0..self.shards).map(|_| Local::new(self.shards)).collect(),
            window: HashTable::new(),
            seen: 0,
            append: false,
            expected: 0,
        }
    }

    fn full(&self) -> bool {
        false
    }
}

impl<K, V, S> UnindexedConsumer<(K, V)> for Partitioner<'_, S>
where
    K: Eq + Hash + Send,
    V: Send,
    S: BuildHasher + Sync,
{
    fn split_off_left(&self) -> Self {
        *self
    }

    fn to_reducer(&self) -> InOrder {
        InOrder
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> Leaf<'_, K, V, S> {
    /// Adds one item: to the window, or in append mode to its shard's open bucket.
    #[inline]
    fn add(&mut self, key: K, value: V) {
        let router = self.partitioner.router;
        if self.append {
            let (hash, shard) = router.locate(&key);
            let local = &mut self.locals[shard];
            local.sketch.add_allocated(hash);
            local.open.push((hash, key, value));
            return;
        }
        let hash = router.hash(&key);
        self.seen += 1;
        match self
            .window
            .entry(hash, |(_, k, _)| *k == key, |&(h, _, _)| h)
        {
            // The stored key stays, the value is replaced: what `insert` does.
            hash_table::Entry::Occupied(mut e) => e.get_mut().2 = value,
            hash_table::Entry::Vacant(e) => {
                e.insert((hash, key, value));
                let distinct = self.window.len();
                if distinct >= self.partitioner.window {
                    self.close_window();
                    self.choose_mode(distinct);
                }
            }
        }
    }

    /// Closes the window into one new bucket per shard (each key of the window once, so the
    /// order inside a bucket does not matter), counting each key in its shard's sketch.
    fn close_window(&mut self) {
        let per_shard = self.window.len() / self.locals.len();
        let mut fresh: Vec<Bucket<K, V>> = (0..self.locals.len())
            .map(|_| Vec::with_capacity(per_shard + per_shard / 4))
            .collect();
        let router = self.partitioner.router;
        for (hash, key, value) in self.window.drain() {
            let shard = router.shard_of(hash);
            self.locals[shard].sketch.add(hash);
            fresh[shard].push((hash, key, value));
        }
        for (local, bucket) in self.locals.iter_mut().zip(fresh) {
            if !bucket.is_empty() {
                local.buckets.push(bucket);
            }
        }
    }

    /// After a window closed: if it caught fewer than one duplicate in eight, switches to
    /// append mode, with each shard's append bucket allocated once for the items it is still
    /// expected to get, so that it does not grow by doubling (each doubling copies the bucket
    /// and touches fresh pages; a capacity never written to costs no page).
    fn choose_mode(&mut self, distinct: usize) {
        if distinct * 8 > self.seen * 7 {
            self.append = true;
            self.window = HashTable::new();
            for local in &mut self.locals {
                let stored: usize = local.buckets.iter().map(Vec::len).sum();
                local.open = Vec::with_capacity(self.expected.saturating_sub(stored));
                local.sketch.allocate();
            }
        }
        self.seen = 0;
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> Folder<(K, V)> for Leaf<'_, K, V, S> {
    type Result = LinkedList<Vec<Local<K, V>>>;

    fn consume(mut self, (key, value): (K, V)) -> Self {
        self.add(key, value);
        self
    }

    fn consume_iter<I: IntoIterator<Item = (K, V)>>(mut self, iter: I) -> Self {
        let iter = iter.into_iter();
        let per_shard = iter.size_hint().0 / self.partitioner.shards;
        self.expected = per_shard + per_shard / 8 + 16;
        for (key, value) in iter {
            self.add(key, value);
        }
        self
    }

    fn complete(mut self) -> Self::Result {
        if !self.window.is_empty() {
            self.close_window();
        }
        let mut list = LinkedList::new();
        list.push_back(self.locals);
        list
    }

    fn full(&self) -> bool {
        false
    }
}

/// Phase 2 for one shard: every bucket in order into `table`, later items replacing earlier ones
/// with the same key.
///
/// The table is first sized for the sketch's estimate of the distinct keys, never for more keys
/// than items (duplicate-heavy input would allocate for keys that never arrive), so it does not
/// grow while it fills.
fn fill<K: Eq + Hash, V, S: BuildHasher>(
    table: &mut Table<K, V>,
    incoming: Incoming<K, V>,
    router: Router<'_, S>,
) {
    let Incoming { buckets, sketch } = incoming;
    let items: usize = buckets.iter().map(Vec::len).sum();
    // One standard error (3%) above the estimate, so an estimate a little low still fits.
    let estimate = sketch.estimate();
    let distinct = (estimate + estimate / 32).min(items);
    // Keys already in the table may come again: reserve as std's `Extend` does then, for half.
    let additional = if table.is_empty() {
        distinct
    } else {
        distinct.div_ceil(2)
    };
    fill_reserved(table, buckets, additional, router);
}

/// Reserves room for `additional` more keys in `table`, then replays `buckets` into it in
/// order, later items replacing earlier ones with the same key.
pub(super) fn fill_reserved<K: Eq + Hash, V, S: BuildHasher>(
    table: &mut Table<K, V>,
    buckets: Vec<Bucket<K, V>>,
    additional: usize,
    router: Router<'_, S>,
) {
    table.reserve(additional, router.rehasher());
    for bucket in buckets {
        insert_all_in(table, bucket, router.rehasher());
    }
}

/// Extends the map in parallel with no locking at all (`&mut self`). Workers hash the items
/// once and bucket them by shard, dropping duplicates in small per-worker windows; then each
/// shard is filled by one worker. Among equal keys the item last in iteration order wins, as
/// with [`Extend`], and the map ends up exactly as a sequential `extend` would leave it.
/// Memory: items that were not deduplicated are held once more, with their hashes, between
/// the two phases. To bound that for a large input, use
/// [`ShardedMap::par_extend_chunked`]: it builds one prefix of an indexed input at a time,
/// so only one chunk's items are held (docs/benchmarks.md, "Dedup").
/// (`docs/design.md`, "The parallel build", has the details.)
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
        let (shards, router) = self.shards_and_router();
        rayon::iter::IndexedParallelIterator::zip(
            rayon::iter::IntoParallelRefMutIterator::par_iter_mut(shards),
            buckets,
        )
        .for_each(|(shard, incoming)| {
            // The guard re-syncs the shard's entry counter when the fill ends, also by a panic.
            fill(&mut shard.exclusive(), incoming, router);
        });
    }
}

/// Extends the map in parallel through a shared reference: each shard is locked exclusively
/// once, for the whole of its fill, by one worker.
///
/// [Locking](crate::locking): takes every shard that receives items exclusively, one worker
/// per shard, for the whole of that shard's fill (other threads' reads of that shard wait
/// meanwhile; hashing and bucketing happen before, without locks); blocks while another thread
/// holds a guard on such a shard; deadlocks if the calling thread holds any guard on this map.
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
        shards.into_par_iter().for_each(|(shard, incoming)| {
            if !incoming.buckets.is_empty() {
                fill(
                    &mut shard.write(Site::new("par_extend")),
                    incoming,
                    map.router(),
                );
            }
        });
    }
}

/// Builds a map in parallel with no locking, as `par_extend` on an empty map does (the same
/// result as a sequential `collect`). Its memory is `par_extend`'s: for a large input,
/// [`ShardedMap::par_extend_chunked`] on an empty map holds only one chunk's items at a time.
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
/// [Locking](crate::locking): as for `&ShardedMap`: each shard that receives keys is locked
/// exclusively once; deadlocks if the calling thread holds any guard on this set.
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

#[cfg(test)]
mod tests {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::BuildHasherDefault;

    use rayon::iter::plumbing::{Consumer, Folder};

    use super::{by_shard, Partitioner};
    use crate::ShardedMap;

    /// A map of `shards` shards with a fixed hasher, so every run routes the keys alike.
    fn fixed_map(shards: usize) -> ShardedMap<u32, u32, BuildHasherDefault<DefaultHasher>> {
        ShardedMap::with_hasher_and_shard_amount(BuildHasherDefault::default(), shards)
    }

    /// Distinct keys close the first window into every shard's buckets and switch the leaf to
    /// appends; each shard's append bucket then holds every further item without reallocating,
    /// and nothing is lost or counted twice.
    #[test]
    fn distinct_keys_close_the_window_and_each_shard_appends_into_one_allocation() {
        let map = fixed_map(8);
        let (window, expected, total) = (16, 1000, 600);
        let partitioner = Partitioner {
            window,
            ..Partitioner::new::<u32, u32>(map.router(), map.shard_amount())
        };
        let mut leaf = Consumer::<(u32, u32)>::into_folder(partitioner);
        leaf.expected = expected;
        for i in 0..window as u32 {
            leaf.add(i, i);
        }
        assert!(leaf.append, "a window of distinct keys did not pay");
        assert!(leaf.window.is_empty());
        let starts: Vec<_> = leaf
            .locals
            .iter()
            .map(|local| {
                assert!(local.open.capacity() >= expected - window);
                local.open.as_ptr()
            })
            .collect();
        for i in window as u32..total {
            leaf.add(i, i);
        }
        let mut keys = Vec::new();
        for (local, start) in leaf.locals.iter().zip(starts) {
            assert_eq!(local.open.as_ptr(), start, "an append bucket grew");
            keys.extend(
                local
                    .buckets
                    .iter()
                    .chain([&local.open])
                    .flatten()
                    .map(|&(_, k, v)| {
                        assert_eq!(k, v);
                        k
                    }),
            );
        }
        keys.sort_unstable();
        assert_eq!(keys, (0..total).collect::<Vec<_>>());
    }

    /// A key that came in a closed window and comes again after the switch to appends: its
    /// shard's buckets, as the fill receives them, hold the window's value first and the
    /// appended one after it, so the appended (later) one wins.
    #[test]
    fn an_appended_item_replays_after_the_closed_windows() {
        let map = fixed_map(4);
        let router = map.router();
        let partitioner = Partitioner {
            window: 16,
            ..Partitioner::new::<u32, u32>(router, 4)
        };
        let mut leaf = Consumer::<(u32, u32)>::into_folder(partitioner);
        for i in 0..16u32 {
            leaf.add(i, i);
        }
        assert!(leaf.append);
        leaf.add(3, 333);
        let parts = Folder::complete(leaf);
        let mut by_shard = by_shard(4, parts);
        let shard = router.shard_of(router.hash(&3u32));
        let replayed: Vec<u32> = by_shard
            .swap_remove(shard)
            .buckets
            .into_iter()
            .flatten()
            .filter(|&(_, k, _)| k == 3)
            .map(|(_, _, v)| v)
            .collect();
        assert_eq!(replayed, [3, 333]);
    }

    /// A window that catches duplicates stays open: the leaf keeps only the last value per key,
    /// and a window closed at the end goes to each key's own shard.
    #[test]
    fn duplicate_keys_stay_in_the_window_and_keep_their_last_value() {
        let map = fixed_map(4);
        let router = map.router();
        let mut leaf = Consumer::<(u32, u32)>::into_folder(Partitioner::new::<u32, u32>(router, 4));
        for i in 0..1000u32 {
            leaf.add(i % 10, i);
        }
        assert!(!leaf.append);
        assert_eq!(leaf.window.len(), 10);
        let locals = Folder::complete(leaf).pop_front().expect("one leaf");
        let mut pairs = Vec::new();
        for (shard, local) in locals.iter().enumerate() {
            for &(hash, k, v) in local.buckets.iter().flatten() {
                assert_eq!(router.shard_of(hash), shard, "key {k} in the wrong shard");
                pairs.push((k, v));
            }
        }
        pairs.sort_unstable();
        assert_eq!(pairs, (990..1000).map(|i| (i % 10, i)).collect::<Vec<_>>());
    }
}
