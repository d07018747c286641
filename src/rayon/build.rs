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
//!    is stored. Items that are not deduplicated are kept grouped by the region of the shard's
//!    table they will land in ([`Regions`]). Each worker also counts each shard's distinct keys
//!    in a small sketch (HyperLogLog, [`Sketch`]).
//! 2. **Fill.** Each shard is filled by one worker, from every worker's buckets for that shard
//!    (region by region where every worker grouped its items, so the inserts stay within a
//!    cached part of the table; otherwise in iteration order), reusing the hashes. Among equal
//!    keys the order is iteration order either way. The worker first sizes the shard's table for the
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
    /// In append mode, the buckets items are appended to, one per region of the shard's table
    /// ([`Regions`]); they come after the closed ones. Empty before append mode.
    groups: Vec<Bucket<K, V>>,
    /// The shard's keys, each counted at least once (a key counted again changes nothing).
    sketch: Sketch,
}

impl<K: Eq, V> Local<K, V> {
    fn new(shards: usize) -> Self {
        Self {
            buckets: Vec::new(),
            groups: Vec::new(),
            sketch: Sketch::for_shards(shards),
        }
    }
}

/// How append mode groups a shard's items: by the region of the shard's table each will land
/// in, so that the fill inserts one region's items after another's and works within a part of
/// the table that stays in cache, instead of at random over all of it (`docs/design.md`, "The
/// parallel build"). A region is a run of the table's buckets; an item's bucket is the low bits
/// of its hash (hashbrown's `h1`), so its region is the top bits of those.
///
/// The regions are fixed before the items are seen, from the keys a shard is expected to get
/// (the input's length over the shards, where the input tells it). If the table ends up with
/// another bucket count, each group covers two regions or half of one: still grouped, a little
/// less cache-friendly. Correctness never depends on it: equal keys share a hash, so a group
/// keeps their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Regions {
    /// Right shift of a hash that brings its region's bits to the bottom.
    shift: u32,
    /// Regions - 1 (a power of two minus one; 0: one region, the whole table).
    mask: usize,
}

/// Bytes of table (buckets and control bytes) per region: half of a 1 MiB L2, so the region
/// the fill works in stays cached next to the items streaming through (measured against 256 KiB,
/// 1 MiB and the whole table in `docs/benchmarks-history.md`, "The fill by table region").
const REGION_BYTES: usize = 512 << 10;

/// At most this many regions per shard (each one an append bucket per worker and shard).
const MAX_REGIONS: usize = 64;

/// The bucket count hashbrown gives a table made for `keys` entries: the next power of two of
/// 8/7 of the keys (pinned by a test against hashbrown). Below 15 keys hashbrown sizes by the
/// layout; such tables are one region anyway, and 16 buckets stand in for them.
fn table_buckets(keys: usize) -> usize {
    keys.max(15)
        .checked_mul(8)
        .and_then(|k| (k / 7).checked_next_power_of_two())
        .unwrap_or(1 << (usize::BITS - 1))
}

impl Regions {
    /// One region: items in arrival order.
    pub(super) const WHOLE: Self = Self { shift: 0, mask: 0 };

    /// The regions of a table sized for `keys` entries of `(K, V)`, as hashbrown sizes one
    /// (buckets: the next power of two of 8/7 of the keys), of about [`REGION_BYTES`] each.
    pub(super) fn for_keys<K, V>(keys: usize) -> Self {
        Self::sized::<K, V>(keys, REGION_BYTES)
    }

    /// As [`for_keys`](Self::for_keys), with regions of about `region_bytes`.
    fn sized<K, V>(keys: usize, region_bytes: usize) -> Self {
        let buckets = table_buckets(keys);
        let table_bytes = buckets.saturating_mul(size_of::<(K, V)>() + 1);
        let regions = (table_bytes / region_bytes)
            .next_power_of_two()
            .clamp(1, MAX_REGIONS.min(buckets));
        if regions == 1 {
            return Self::WHOLE;
        }
        Self {
            shift: buckets.trailing_zeros() - regions.trailing_zeros(),
            mask: regions - 1,
        }
    }

    /// How many regions.
    fn count(self) -> usize {
        self.mask + 1
    }

    /// The region of an item with this (mixed) hash.
    #[inline]
    fn of(self, hash: u64) -> usize {
        (hash >> self.shift) as usize & self.mask
    }
}

/// Phase 1: the items hashed once and bucketed by shard. One entry per shard: every worker's
/// buckets for that shard, in iteration order, and the shard's sketch.
fn partition<K, V, S, I>(
    router: Router<'_, S>,
    shards: usize,
    keys_before: usize,
    items: I,
) -> Vec<Incoming<K, V>>
where
    K: Eq + Hash + Send,
    V: Send,
    S: BuildHasher + Sync,
    I: IntoParallelIterator<Item = (K, V)>,
{
    let items = items.into_par_iter();
    let regions = items.opt_len().map_or(Regions::WHOLE, |len| {
        Regions::for_keys::<K, V>(keys_before + len / shards)
    });
    partition_by(router, shards, regions, |partitioner| {
        items.drive_unindexed(partitioner)
    })
}

/// Phase 1, with the items driven through the [`Partitioner`] by `drive`: a whole parallel
/// iterator ([`partition`]), or one prefix of an indexed input's producer (the chunked build,
/// through `bridge_producer_consumer`).
pub(super) fn partition_by<'r, K, V, S>(
    router: Router<'r, S>,
    shards: usize,
    regions: Regions,
    drive: impl FnOnce(Partitioner<'r, S>) -> LinkedList<Vec<Local<K, V>>>,
) -> Vec<Incoming<K, V>>
where
    K: Eq,
{
    by_shard(
        shards,
        regions,
        drive(Partitioner::new::<K, V>(router, shards, regions)),
    )
}

/// The leaves' results, worker-major, turned shard-major: moves buckets, not items.
///
/// A shard's buckets must replay every leaf's items in leaf order where keys are equal. When no
/// leaf kept a closed bucket for the shard (every one that had items grouped them all), equal
/// keys can only meet within one region's groups, so the groups go region by region (each
/// region's groups in leaf order): the fill then walks the table once. Otherwise leaf by leaf,
/// each leaf's closed buckets, then its groups.
fn by_shard<K: Eq, V>(
    shards: usize,
    regions: Regions,
    parts: LinkedList<Vec<Local<K, V>>>,
) -> Vec<Incoming<K, V>> {
    let mut per_shard: Vec<Vec<Local<K, V>>> = (0..shards).map(|_| Vec::new()).collect();
    for part in parts {
        for (locals, local) in per_shard.iter_mut().zip(part) {
            locals.push(local);
        }
    }
    per_shard
        .into_iter()
        .map(|locals| {
            let mut incoming = Incoming {
                buckets: Vec::new(),
                sketch: Sketch::for_shards(shards),
            };
            for local in &locals {
                incoming.sketch.merge(&local.sketch);
            }
            let buckets = &mut incoming.buckets;
            if regions.count() > 1 && locals.iter().all(|l| l.buckets.is_empty()) {
                let mut groups: Vec<_> = locals.into_iter().map(|l| l.groups.into_iter()).collect();
                for _ in 0..regions.count() {
                    buckets.extend(groups.iter_mut().filter_map(Iterator::next));
                }
            } else {
                for local in locals {
                    buckets.extend(local.buckets);
                    buckets.extend(local.groups);
                }
            }
            buckets.retain(|b| !b.is_empty());
            incoming
        })
        .collect()
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
    /// How append mode groups each shard's items.
    regions: Regions,
}

impl<'r, S> Partitioner<'r, S> {
    fn new<K, V>(router: Router<'r, S>, shards: usize, regions: Regions) -> Self {
        Self {
            router,
            shards,
            window: (WINDOW_BYTES / size_of::<(u64, K, V)>()).max(16),
            regions,
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
    /// The window did not pay: items go straight to their shard's group for their region.
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
    type Folder = BoxedLeaf<'r, K, V, S>;
    type Reducer = InOrder;
    type Result = LinkedList<Vec<Local<K, V>>>;

    fn split_at(self, _index: usize) -> (Self, Self, InOrder) {
        (self, self, InOrder)
    }

    fn into_folder(self) -> Self::Folder {
        BoxedLeaf(Box::new(Leaf {
            partitioner: self,
            locals: (0..self.shards).map(|_| Local::new(self.shards)).collect(),
            window: HashTable::new(),
            seen: 0,
            append: false,
            expected: 0,
        }))
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
    /// Adds one item: to the window, or in append mode to its shard's group for its region.
    /// (The path of [`Folder::consume`], which rayon calls per item behind adaptors such as
    /// `filter`; [`add_all`](Self::add_all) is the loop.)
    #[inline]
    fn add(&mut self, key: K, value: V) {
        if self.append {
            self.append(key, value);
            return;
        }
        self.seen += 1;
        let (router, limit) = (self.partitioner.router, self.partitioner.window);
        if Self::into_window(&mut self.window, router, limit, key, value) {
            self.window_full();
        }
    }

    /// Adds every item of `iter`: to the window while it pays, then in append mode to each
    /// shard's group for the item's region. Two loops, not one loop that checks the mode per
    /// item: with the window's loop on its own, its state stays in registers, and the append
    /// loop carries no window code (docs/benchmarks-history.md, "The window's loop on its own":
    /// 12-20% off each dedup shape on the Xeon VM).
    fn add_all(&mut self, mut iter: impl Iterator<Item = (K, V)>) {
        if !self.append {
            self.deduplicate(&mut iter);
        }
        if self.append {
            // The `Local`s as a local too: behind `self` the compiler reloads them after every
            // push that may reallocate (10% slower on appends, measured). A panic in `Hash`
            // drops them, each item once.
            let mut locals = core::mem::take(&mut self.locals);
            for (key, value) in iter {
                Self::append_to(&mut locals, self.partitioner, key, value);
            }
            self.locals = locals;
        }
    }

    /// Appends one item to its shard's group for its region (append mode).
    #[inline]
    fn append(&mut self, key: K, value: V) {
        Self::append_to(&mut self.locals, self.partitioner, key, value);
    }

    /// [`append`](Self::append), with the `Local`s passed in.
    #[inline(always)]
    fn append_to(locals: &mut [Local<K, V>], partitioner: Partitioner<'_, S>, key: K, value: V) {
        let (hash, shard) = partitioner.router.locate(&key);
        let local = &mut locals[shard];
        local.sketch.add_allocated(hash);
        local.groups[partitioner.regions.of(hash)].push((hash, key, value));
    }

    /// The window's loop: adds items from `iter` to the window until the leaf switches to
    /// append mode (then returns, the rest of `iter` left for the append loop) or `iter` ends.
    /// The window, its count and its limit are locals here, so the loop keeps them in
    /// registers instead of reloading them through `self` for every item. (A panic in `Hash`
    /// or `Eq` drops the local window with its items, once, and leaves `self.window` empty.)
    fn deduplicate(&mut self, iter: &mut impl Iterator<Item = (K, V)>) {
        let (router, limit) = (self.partitioner.router, self.partitioner.window);
        let mut window = core::mem::take(&mut self.window);
        let mut seen = self.seen;
        for (key, value) in iter {
            seen += 1;
            if Self::into_window(&mut window, router, limit, key, value) {
                self.window = window;
                self.seen = seen;
                self.window_full();
                if self.append {
                    return;
                }
                window = core::mem::take(&mut self.window);
                seen = self.seen;
            }
        }
        self.window = window;
        self.seen = seen;
    }

    /// Puts one item into `window`, replacing the value of an equal key there (the stored key
    /// stays, as with `insert`). Returns whether the window now holds `limit` keys.
    #[inline(always)]
    fn into_window(
        window: &mut HashTable<(u64, K, V)>,
        router: Router<'_, S>,
        limit: usize,
        key: K,
        value: V,
    ) -> bool {
        let hash = router.hash(&key);
        match window.entry(hash, |(_, k, _)| *k == key, |&(h, _, _)| h) {
            hash_table::Entry::Occupied(mut e) => {
                e.get_mut().2 = value;
                false
            }
            hash_table::Entry::Vacant(e) => {
                e.insert((hash, key, value));
                window.len() >= limit
            }
        }
    }

    /// The window is full: closes it, and decides whether the next items go to a new window
    /// or, from now on, straight to the groups.
    fn window_full(&mut self) {
        let distinct = self.window.len();
        self.close_window();
        self.choose_mode(distinct);
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
    /// append mode, with each shard's append buckets (one per region) allocated once for the
    /// items they are still expected to get, so that they do not grow by doubling (each
    /// doubling copies the bucket and touches fresh pages; a capacity never written to costs no
    /// page). The closed buckets' items move into the groups, in order, so that the shard's
    /// items from this leaf are all grouped by region.
    fn choose_mode(&mut self, distinct: usize) {
        if distinct * 8 > self.seen * 7 {
            self.append = true;
            self.window = HashTable::new();
            let regions = self.partitioner.regions;
            for local in &mut self.locals {
                let stored: usize = local.buckets.iter().map(Vec::len).sum();
                let each = self.expected.saturating_sub(stored) / regions.count();
                local.groups = (0..regions.count())
                    .map(|_| Vec::with_capacity(each))
                    .collect();
                for bucket in local.buckets.drain(..) {
                    for item in bucket {
                        local.groups[regions.of(item.0)].push(item);
                    }
                }
                local.sketch.allocate();
            }
        }
        self.seen = 0;
    }
}

/// A [`Leaf`] as rayon's folder. Boxed: rayon moves the folder by value for every item that
/// an adaptor such as `filter` or `flat_map` feeds it one by one, and a `Leaf` is some 150
/// bytes (docs/benchmarks-history.md, "The window's loop on its own").
pub(super) struct BoxedLeaf<'r, K, V, S>(Box<Leaf<'r, K, V, S>>);

impl<'r, K, V, S> core::ops::Deref for BoxedLeaf<'r, K, V, S> {
    type Target = Leaf<'r, K, V, S>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<K, V, S> core::ops::DerefMut for BoxedLeaf<'_, K, V, S> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> Folder<(K, V)> for BoxedLeaf<'_, K, V, S> {
    type Result = LinkedList<Vec<Local<K, V>>>;

    fn consume(mut self, (key, value): (K, V)) -> Self {
        self.add(key, value);
        self
    }

    fn consume_iter<I: IntoIterator<Item = (K, V)>>(mut self, iter: I) -> Self {
        let iter = iter.into_iter();
        let per_shard = iter.size_hint().0 / self.partitioner.shards;
        self.expected = per_shard + per_shard / 8 + 16;
        self.add_all(iter);
        self
    }

    fn complete(self) -> Self::Result {
        let mut leaf = self.0;
        if !leaf.window.is_empty() {
            leaf.close_window();
        }
        let mut list = LinkedList::new();
        list.push_back(leaf.locals);
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
        let shards = self.shard_amount();
        let buckets = partition(self.router(), shards, self.len() / shards, par_iter);
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
        let shards = map.shard_amount();
        let buckets = partition(map.router(), shards, map.len() / shards, par_iter);
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

    use super::{by_shard, table_buckets, Partitioner, Regions, REGION_BYTES};
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
            ..Partitioner::new::<u32, u32>(map.router(), map.shard_amount(), Regions::WHOLE)
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
                assert_eq!(local.groups.len(), 1);
                assert!(local.groups[0].capacity() >= expected - window);
                local.groups[0].as_ptr()
            })
            .collect();
        for i in window as u32..total {
            leaf.add(i, i);
        }
        let mut keys = Vec::new();
        for (local, start) in leaf.locals.iter().zip(starts) {
            assert_eq!(local.groups[0].as_ptr(), start, "an append bucket grew");
            assert!(
                local.buckets.is_empty(),
                "a closed bucket stayed beside the groups"
            );
            keys.extend(local.groups.iter().flatten().map(|&(_, k, v)| {
                assert_eq!(k, v);
                k
            }));
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
            ..Partitioner::new::<u32, u32>(router, 4, Regions::WHOLE)
        };
        let mut leaf = Consumer::<(u32, u32)>::into_folder(partitioner);
        for i in 0..16u32 {
            leaf.add(i, i);
        }
        assert!(leaf.append);
        leaf.add(3, 333);
        let parts = Folder::complete(leaf);
        let mut by_shard = by_shard(4, Regions::WHOLE, parts);
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
        let partitioner = Partitioner::new::<u32, u32>(router, 4, Regions::WHOLE);
        let mut leaf = Consumer::<(u32, u32)>::into_folder(partitioner);
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

    /// The regions follow hashbrown's sizing: a table made for `keys` entries has the bucket
    /// count `table_buckets` says, and a hash's region is the top bits of its bucket index.
    #[test]
    fn regions_are_runs_of_the_table_hashbrown_makes() {
        for keys in [15, 16, 100, 1000, 4096, 70_000] {
            let table = hashbrown::HashTable::<(u64, u64)>::with_capacity(keys);
            let buckets = table_buckets(keys);
            assert_eq!(table.capacity(), buckets / 8 * 7, "{keys} keys");
        }
        assert_eq!(Regions::for_keys::<u32, u32>(1000), Regions::WHOLE);
        let keys = 1 << 20;
        let buckets = table_buckets(keys);
        let regions = Regions::for_keys::<u64, u64>(keys);
        let bytes = buckets * 17;
        assert_eq!(
            regions.count(),
            (bytes / REGION_BYTES).min(super::MAX_REGIONS)
        );
        let small = Regions::sized::<u64, u64>(keys, 1 << 12);
        assert_eq!(small.count(), super::MAX_REGIONS, "at most MAX_REGIONS");
        let run = buckets / regions.count();
        for hash in [
            0u64,
            1,
            run as u64 - 1,
            run as u64,
            u64::MAX,
            0x9e37_79b9_7f4a_7c15,
        ] {
            let bucket = hash as usize & (buckets - 1);
            assert_eq!(regions.of(hash), bucket / run, "hash {hash:#x}");
        }
    }

    /// Two leaves in append mode with four regions: a shard's buckets come region by region,
    /// each region's groups in leaf order, so a key that both leaves saw (and one that the
    /// second leaf's closed window held before its switch) replays in input order.
    #[test]
    fn grouped_leaves_replay_region_by_region_in_leaf_order() {
        let map = fixed_map(2);
        let router = map.router();
        let regions = Regions::sized::<u32, u32>(4096, 8192 * 9 / 4);
        assert_eq!(regions.count(), 4);
        let partitioner = Partitioner {
            window: 16,
            ..Partitioner::new::<u32, u32>(router, 2, regions)
        };
        let mut first = Consumer::<(u32, u32)>::into_folder(partitioner);
        let mut second = Consumer::<(u32, u32)>::into_folder(partitioner);
        for i in 0..400u32 {
            first.add(i, i);
        }
        // The second leaf's window holds key 7 when it closes; 7 then comes once more.
        for i in 0..16u32 {
            second.add(i, i + 1000);
        }
        second.add(7, 2000);
        for i in 400..800u32 {
            second.add(i, i);
        }
        assert!(first.append && second.append);
        let mut parts = Folder::complete(first);
        parts.append(&mut Folder::complete(second));
        let mut replayed = Vec::new();
        for (shard, incoming) in by_shard(2, regions, parts).into_iter().enumerate() {
            let mut last_region = 0;
            for &(hash, k, v) in incoming.buckets.iter().flatten() {
                assert_eq!(router.shard_of(hash), shard);
                let region = regions.of(hash);
                assert!(region >= last_region, "region {region} after {last_region}");
                last_region = region;
                replayed.push((k, v));
            }
        }
        let values = |key: u32| -> Vec<u32> {
            replayed
                .iter()
                .filter(|p| p.0 == key)
                .map(|p| p.1)
                .collect()
        };
        assert_eq!(values(7), [7, 1007, 2000]);
        assert_eq!(values(15), [15, 1015]);
        assert_eq!(values(500), [500]);
        assert_eq!(replayed.len(), 400 + 16 + 1 + 400);
    }

    /// A leaf that never switched to appends keeps closed buckets: the shard's items then replay
    /// leaf by leaf (closed buckets, then groups), not region by region, so its later value
    /// still wins over the grouped leaf's earlier one.
    #[test]
    fn a_leaf_with_closed_buckets_makes_the_replay_go_leaf_by_leaf() {
        let map = fixed_map(2);
        let router = map.router();
        let regions = Regions::sized::<u32, u32>(4096, 8192 * 9 / 4);
        let partitioner = Partitioner {
            window: 16,
            ..Partitioner::new::<u32, u32>(router, 2, regions)
        };
        let mut grouped = Consumer::<(u32, u32)>::into_folder(partitioner);
        for i in 0..400u32 {
            grouped.add(i, i);
        }
        let mut windowed = Consumer::<(u32, u32)>::into_folder(partitioner);
        for i in 0..64u32 {
            windowed.add(i % 4 * 100, 5000 + i);
        }
        assert!(grouped.append && !windowed.append);
        let mut parts = Folder::complete(grouped);
        parts.append(&mut Folder::complete(windowed));
        let replayed: Vec<(u32, u32)> = by_shard(2, regions, parts)
            .into_iter()
            .flat_map(|incoming| incoming.buckets.into_iter().flatten())
            .map(|(_, k, v)| (k, v))
            .collect();
        for key in [0, 100, 200, 300] {
            let values: Vec<u32> = replayed
                .iter()
                .filter(|p| p.0 == key)
                .map(|p| p.1)
                .collect();
            assert_eq!(values, [key, 5060 + key / 100], "key {key}");
        }
        assert_eq!(replayed.len(), 400 + 4);
    }
}
