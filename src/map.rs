//! [`ShardedMap`]: the map type, its constructors and its operations.
#![deny(unsafe_code)]

use core::fmt;
use core::hash::{BuildHasher, Hash};

use equivalent::Equivalent;
use hashbrown::HashTable;

use crate::deadlock::Site;
use crate::entry::{Entry, OccupiedEntry, VacantEntry};
use crate::guards::{Ref, RefMut};
use crate::iter::{Iter, IterMut, OwningIter};
use crate::raw::route::{equivalent_key, hash_key, insert_in, make_hasher, Router};
use crate::raw::shard::{
    self, ElemMut, ElemRef, PaddedShard, ShardRef, ShardRefs, Shards, Table, TablesMut, WriteGuard,
};
use crate::try_result::TryResult;
use crate::view::ReadOnlyView;
use crate::RandomState;

/// A concurrent hash map, sharded over N reader-writer locks, usable from `&self`.
///
/// Share it between threads with `Arc<ShardedMap<K, V>>` (or by reference in scoped threads).
/// Every method takes `&self`; single-key methods lock one shard, whole-map methods visit the
/// shards one at a time.
///
/// # Locking
///
/// Each key lives in one shard, chosen by its hash. A guard ([`Ref`], [`RefMut`], an [`Entry`],
/// an iterator item) holds its shard's lock until it is dropped:
///
/// - [`Ref`] and iteration items of [`iter`](Self::iter) hold the shard **shared**. Any number of
///   shared holds coexist: a thread holding a `Ref` may call `get`, `contains_key`, `view` or
///   `iter` again, on any key, without deadlock, even while a writer waits for that shard. (A
///   waiting writer holds back only threads that hold no read yet, so readers cannot starve it.)
/// - [`RefMut`], [`Entry`] and items of [`iter_mut`](Self::iter_mut) hold the shard
///   **exclusively**. While a thread holds any guard, a call that needs that same shard
///   exclusively (`insert`, `remove`, `get_mut`, `entry`, `alter`, `retain`, `clear`, ...)
///   **deadlocks if it comes from the same thread**, and blocks other threads until the guard is
///   dropped. Which keys share a shard is decided by their hashes, so the rule in practice is:
///   *do not call a writing method while holding a guard on the same map.* The `try_*` methods
///   never block and report [`TryResult::Locked`] instead.
/// - Whole-map methods (`len` excepted, which takes no lock) lock each shard in turn, so they
///   deadlock if the calling thread holds a guard whose shard they need in a conflicting mode.
///
/// Single-key guards are `!Send`: they cannot be held across an `.await` in a task that may move
/// between threads (a compile error instead of a runtime deadlock).
///
/// # Consistency
///
/// Operations on one key are linearizable. `len` sums per-shard counters and `iter` visits the
/// shards one after another: under concurrent writes they observe each shard at a different
/// moment, never a torn entry, and `iter` yields every entry that is present for its whole run
/// exactly once.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sharded_map::ShardedMap;
///
/// let hits = Arc::new(ShardedMap::new());
/// std::thread::scope(|s| {
///     for t in 0..4 {
///         let hits = &hits;
///         s.spawn(move || {
///             for i in 0..100 {
///                 *hits.entry(i % 10).or_insert(0) += 1;
///                 let _ = t;
///             }
///         });
///     }
/// });
/// assert_eq!(hits.len(), 10);
/// assert_eq!(*hits.get(&3).unwrap(), 40);
/// ```
pub struct ShardedMap<K, V, S = RandomState> {
    /// The shards, each paired with its own reader slots by `Shards` (see `raw/shard.rs`).
    shards: Shards<K, V>,
    hasher: S,
}

/// Splits a requested total capacity over `shards`, with slack for uneven spread (about four
/// standard deviations of a binomial count), so a presized map rarely grows.
fn per_shard_capacity(capacity: usize, shards: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let per = capacity.div_ceil(shards);
    per.saturating_add(4 * per.isqrt() + 1)
}

/// The default hasher: randomly seeded; under loom, fixed seeds (loom replays each execution and
/// needs every run to place keys identically).
fn default_hasher() -> RandomState {
    if cfg!(loom) {
        RandomState::with_seeds(1, 2, 3, 4)
    } else {
        RandomState::new()
    }
}

/// The default number of shards: `(available_parallelism * 4).next_power_of_two()`, computed
/// once per process; under loom 2, the smallest legal one (models name their shard count).
fn default_shard_amount() -> usize {
    if cfg!(loom) {
        return 2;
    }
    static AMOUNT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *AMOUNT.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (cores * 4).next_power_of_two().max(2)
    })
}

/// The most shards a map may have: 65,536, 8 MiB of empty shards (a shard is a lock and a table
/// on 128 bytes). A count far above the cores' gains nothing, and an absurd one (a typo, a
/// computed value gone wrong) would otherwise abort the process on allocation instead of
/// panicking with the value.
const MAX_SHARD_AMOUNT: usize = 1 << 16;

fn check_shard_amount(shard_amount: usize) {
    assert!(
        (2..=MAX_SHARD_AMOUNT).contains(&shard_amount) && shard_amount.is_power_of_two(),
        "sharded_map: shard amount must be a power of two from 2 to {MAX_SHARD_AMOUNT}, got \
         {shard_amount}"
    );
}

impl<K: Eq + Hash, V> ShardedMap<K, V, RandomState> {
    /// Creates an empty map with the default shard count and hasher.
    ///
    /// The default shard count is `(available_parallelism * 4).next_power_of_two()`, computed
    /// once per process.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, &str> = sharded_map::ShardedMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_capacity_and_hasher(0, default_hasher())
    }

    /// Creates an empty map with room for at least `capacity` entries before any shard grows
    /// (spread over the shards, with slack for uneven spread).
    ///
    /// Panics if the capacity overflows.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::with_capacity(1000);
    /// assert!(map.capacity() >= 1000);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, default_hasher())
    }

    /// Creates an empty map with `shard_amount` shards.
    ///
    /// # Panics
    /// If `shard_amount` is not a power of two from 2 to 65,536; the message names the value.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::with_shard_amount(8);
    /// assert_eq!(map.shard_amount(), 8);
    /// ```
    pub fn with_shard_amount(shard_amount: usize) -> Self {
        Self::with_capacity_and_hasher_and_shard_amount(0, default_hasher(), shard_amount)
    }

    /// Creates an empty map with `shard_amount` shards and room for `capacity` entries.
    ///
    /// # Panics
    /// If `shard_amount` is not a power of two from 2 to 65,536, or the capacity overflows.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> =
    ///     sharded_map::ShardedMap::with_capacity_and_shard_amount(100, 4);
    /// assert!(map.capacity() >= 100);
    /// assert_eq!(map.shard_amount(), 4);
    /// ```
    pub fn with_capacity_and_shard_amount(capacity: usize, shard_amount: usize) -> Self {
        Self::with_capacity_and_hasher_and_shard_amount(capacity, default_hasher(), shard_amount)
    }
}

impl<K, V, S> ShardedMap<K, V, S> {
    /// Creates an empty map that hashes with `hasher`.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: sharded_map::ShardedMap<u32, u32, RandomState> =
    ///     sharded_map::ShardedMap::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// assert_eq!(*map.get(&1).unwrap(), 2);
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// Creates an empty map with room for `capacity` entries that hashes with `hasher`.
    ///
    /// Panics if the capacity overflows.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: sharded_map::ShardedMap<u32, u32, _> =
    ///     sharded_map::ShardedMap::with_capacity_and_hasher(64, RandomState::new());
    /// assert!(map.capacity() >= 64);
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self::with_capacity_and_hasher_and_shard_amount(capacity, hasher, default_shard_amount())
    }

    /// Creates an empty map with `shard_amount` shards that hashes with `hasher`.
    ///
    /// # Panics
    /// If `shard_amount` is not a power of two from 2 to 65,536.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: sharded_map::ShardedMap<u32, u32, _> =
    ///     sharded_map::ShardedMap::with_hasher_and_shard_amount(RandomState::new(), 2);
    /// assert_eq!(map.shard_amount(), 2);
    /// ```
    pub fn with_hasher_and_shard_amount(hasher: S, shard_amount: usize) -> Self {
        Self::with_capacity_and_hasher_and_shard_amount(0, hasher, shard_amount)
    }

    /// Creates an empty map with `shard_amount` shards, room for `capacity` entries, hashing with
    /// `hasher`. Every other constructor calls this one.
    ///
    /// # Panics
    /// If `shard_amount` is not a power of two from 2 to 65,536, or the capacity overflows.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: sharded_map::ShardedMap<u32, u32, _> =
    ///     sharded_map::ShardedMap::with_capacity_and_hasher_and_shard_amount(10, RandomState::new(), 16);
    /// assert_eq!(map.shard_amount(), 16);
    /// ```
    pub fn with_capacity_and_hasher_and_shard_amount(
        capacity: usize,
        hasher: S,
        shard_amount: usize,
    ) -> Self {
        check_shard_amount(shard_amount);
        let per_shard = per_shard_capacity(capacity, shard_amount);
        Self {
            shards: Shards::from_tables(
                (0..shard_amount).map(|_| HashTable::with_capacity(per_shard)),
            ),
            hasher,
        }
    }

    /// Builds a map from per-shard tables whose entries were placed with this crate's hashing.
    /// `Shards::from_tables` checks the shard count.
    pub(crate) fn from_parts(tables: Vec<Table<K, V>>, hasher: S) -> Self {
        Self {
            shards: Shards::from_tables(tables),
            hasher,
        }
    }

    /// Takes the map apart into its per-shard tables and hasher.
    pub(crate) fn into_parts(self) -> (Vec<Table<K, V>>, S) {
        (self.shards.into_tables(), self.hasher)
    }

    /// The hasher the map was built with.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::new();
    /// let _hasher: &ahash::RandomState = map.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    /// The number of shards (a power of two from 2 to 65,536).
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::with_shard_amount(4);
    /// assert_eq!(map.shard_amount(), 4);
    /// ```
    pub fn shard_amount(&self) -> usize {
        self.shards.len()
    }

    /// The number of entries in shard `index`, without locking (a snapshot). This replaces
    /// DashMap's `shards()[index].read().len()`.
    ///
    /// # Panics
    /// If `index >= self.shard_amount()`; the message names both.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::with_shard_amount(4);
    /// map.insert("a", 1);
    /// let total: usize = (0..map.shard_amount()).map(|i| map.shard_len(i)).sum();
    /// assert_eq!(total, 1);
    /// ```
    #[track_caller]
    pub fn shard_len(&self, index: usize) -> usize {
        let shards = self.shards.as_slice();
        match shards.get(index) {
            Some(shard) => shard.len(),
            None => panic!(
                "sharded_map: shard_len({index}) on a map of {} shards (indices 0 to {})",
                shards.len(),
                shards.len() - 1
            ),
        }
    }

    /// The number of entries, without locking: the sum of per-shard counters that writers keep
    /// under their lock. Exact when no write is in progress; under concurrent writes each shard
    /// is counted at some moment during the call.
    ///
    /// [Locking](crate::locking): none; never blocks.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, "one");
    /// map.insert(2, "two");
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.shards.as_slice().iter().map(|s| s.len()).sum()
    }

    /// Whether the map has no entries (see [`len`](Self::len) for the guarantee).
    ///
    /// [Locking](crate::locking): none; never blocks.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.shards.as_slice().iter().all(|s| s.len() == 0)
    }

    /// Which shard a hash from [`hash_usize`](Self::hash_usize) belongs to.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<&str, u32> = sharded_map::ShardedMap::new();
    /// let hash = map.hash_usize(&"key");
    /// assert_eq!(map.determine_shard(hash), map.determine_map(&"key"));
    /// ```
    pub fn determine_shard(&self, hash: usize) -> usize {
        // `hash_usize` keeps the top `usize::BITS` bits of the 64-bit hash, where the shard
        // bits are (just below hashbrown's 7 control bits): put them back in place.
        self.shard_index((hash as u64) << (u64::BITS - usize::BITS))
    }

    #[inline]
    pub(crate) fn shard_index(&self, hash: u64) -> usize {
        self.shards.index_of(hash)
    }

    #[inline]
    pub(crate) fn shard_for(&self, hash: u64) -> ShardRef<'_, K, V> {
        self.shards.for_hash(hash)
    }

    /// The shards themselves (for lock-free snapshots such as `shard_metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) fn shards_slice(&self) -> &[PaddedShard<K, V>] {
        self.shards.as_slice()
    }

    /// Bytes on the heap for the shard array and the reader-slot table (feature `typesize`).
    #[cfg(feature = "typesize")]
    pub(crate) fn shards_heap_size(&self) -> usize {
        self.shards.heap_size()
    }

    /// Shard number `index`, with its reader slots.
    #[inline]
    pub(crate) fn shard_at(&self, index: usize) -> ShardRef<'_, K, V> {
        self.shards.get(index)
    }

    /// Every shard in order, each with its reader slots.
    pub(crate) fn shard_refs(&self) -> ShardRefs<'_, K, V> {
        self.shards.iter()
    }

    /// What picks a key's hash and shard, without the shards: shareable across threads that
    /// must not share the map itself (the parallel build hashes on many threads).
    #[cfg(feature = "rayon")]
    pub(crate) fn router(&self) -> Router<'_, S> {
        Router::new(&self.hasher, self.shards.shift())
    }

    /// The shards through `&mut self` (no locking needed) next to the router, borrowed apart.
    /// Tables are reached through `TablesMut` or `Shard::exclusive`, which re-sync the counters.
    pub(crate) fn shards_and_router(&mut self) -> (&mut [PaddedShard<K, V>], Router<'_, S>) {
        let Self { shards, hasher } = self;
        let shift = shards.shift();
        (shards.as_mut_slice(), Router::new(hasher, shift))
    }

    /// Removes every entry. Capacity is kept. Values are dropped under each shard's lock, one
    /// shard at a time.
    ///
    /// [Locking](crate::locking): takes each shard's lock exclusively in turn; blocks while another thread holds a
    /// guard on that shard; deadlocks if the calling thread holds any guard on this map.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 1);
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn clear(&self) {
        let site = Site::new("clear");
        for shard in self.shard_refs() {
            // `drain` drops the remaining entries even if one `Drop` panics.
            shard.write(site).drain().for_each(drop);
        }
    }

    /// The number of entries the map can hold before some shard must grow (the sum over shards).
    ///
    /// [Locking](crate::locking): takes each shard's lock shared in turn.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::with_capacity(100);
    /// assert!(map.capacity() >= 100);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn capacity(&self) -> usize {
        let site = Site::new("capacity");
        self.shard_refs().map(|s| s.read(site).capacity()).sum()
    }

    /// An iterator over all entries. Each shard is read-locked while the iterator, or any item
    /// it yielded from that shard, is alive; shards are visited one after another.
    ///
    /// [Locking](crate::locking): takes each shard's lock shared in turn; blocks while a writer holds the shard it
    /// reaches; deadlocks if the calling thread holds a [`RefMut`] or [`Entry`] on this map.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// map.insert(2, 20);
    /// let sum: i32 = map.iter().map(|r| *r.value()).sum();
    /// assert_eq!(sum, 30);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter::new(self, Site::new("iter"))
    }

    /// Every key, cloned: `HashMap::keys` for a concurrent map. The iterator holds each shard's
    /// read lock in turn, as [`iter`](Self::iter) does; the keys it yields are owned, so nothing
    /// is held once the iterator is dropped (collect them to write to the map afterwards).
    ///
    /// [Locking](crate::locking): takes each shard's lock shared in turn while the iterator is
    /// on it; blocks while a writer holds the shard it reaches; a thread holding a `RefMut` or
    /// entry on this map must not call it.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([("a", 1), ("b", 2)]);
    /// let mut keys: Vec<&str> = map.keys().collect();
    /// keys.sort();
    /// assert_eq!(keys, ["a", "b"]);
    /// for k in keys {
    ///     map.remove(k); // no guard held: writing is fine
    /// }
    /// assert!(map.is_empty());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn keys(&self) -> impl Iterator<Item = K> + '_
    where
        K: Clone,
    {
        self.iter().map(|r| r.key().clone())
    }

    /// Every value, cloned: `HashMap::values` for a concurrent map. Locks as
    /// [`keys`](Self::keys) does; the values yielded hold nothing.
    ///
    /// [Locking](crate::locking): takes each shard's lock shared in turn while the iterator is
    /// on it (as [`keys`](Self::keys)).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([("a", 1), ("b", 2)]);
    /// assert_eq!(map.values().sum::<i32>(), 3);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn values(&self) -> impl Iterator<Item = V> + '_
    where
        V: Clone,
    {
        self.iter().map(|r| r.value().clone())
    }

    /// An iterator over all entries with mutable access to the values. Each shard is
    /// write-locked while the iterator, or any item it yielded from that shard, is alive.
    ///
    /// [Locking](crate::locking): takes each shard's lock exclusively in turn; blocks while another thread holds a
    /// guard on the shard it reaches; deadlocks if the calling thread holds any guard on this
    /// map.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("a", 1);
    /// for mut r in map.iter_mut() {
    ///     *r.value_mut() += 1;
    /// }
    /// assert_eq!(*map.get("a").unwrap(), 2);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn iter_mut(&self) -> IterMut<'_, K, V, S> {
        IterMut::new(self, Site::new("iter_mut"))
    }

    /// Keeps only the entries for which `f` returns `true`.
    ///
    /// If `f` panics, the entries already visited keep the verdicts given, the rest stay, and
    /// the shard's lock is released.
    ///
    /// [Locking](crate::locking): takes each shard's lock exclusively in turn; `f` runs under that lock, so it must
    /// not call back into this map for a key in the same shard (deadlock).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// for i in 0..10 { map.insert(i, i); }
    /// map.retain(|k, _| k % 2 == 0);
    /// assert_eq!(map.len(), 5);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn retain(&self, mut f: impl FnMut(&K, &mut V) -> bool) {
        let site = Site::new("retain");
        for shard in self.shard_refs() {
            shard.write(site).retain(|(k, v)| f(k, v));
        }
    }

    /// Replaces every value `v` with `f(&key, v)`, in place (no rehash).
    ///
    /// If `f` panics, the entry whose value it was given is removed (that value was moved into
    /// `f`), every other entry stays, the locks are released and the panic continues. (DashMap
    /// aborts the process here.)
    ///
    /// [Locking](crate::locking): takes each shard's lock exclusively in turn; `f` runs under that lock.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("a", 1);
    /// map.insert("b", 2);
    /// map.alter_all(|_, v| v * 10);
    /// assert_eq!(*map.get("b").unwrap(), 20);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn alter_all(&self, mut f: impl FnMut(&K, V) -> V) {
        let site = Site::new("alter_all");
        for shard in self.shard_refs() {
            shard::alter_all_in(&mut shard.write(site), &mut f);
        }
    }

    /// Consumes the map into a [`ReadOnlyView`], which reads without any locking.
    ///
    /// [Locking](crate::locking): none (the map is owned, so no guard can exist).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, "one");
    /// let view = map.into_read_only();
    /// assert_eq!(view.get(&1), Some(&"one"));
    /// ```
    pub fn into_read_only(self) -> ReadOnlyView<K, V, S> {
        ReadOnlyView::new(self)
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> ShardedMap<K, V, S> {
    /// Hashes `key` once with the map's hasher and mixes the result; that value picks the shard
    /// and is handed to the shard's table.
    #[inline]
    pub(crate) fn hash<Q: ?Sized + Hash>(&self, key: &Q) -> u64 {
        hash_key(&self.hasher, key)
    }

    /// The rehash function handed to a shard's table when it grows.
    #[inline]
    pub(crate) fn rehasher(&self) -> impl Fn(&(K, V)) -> u64 + '_ {
        make_hasher(&self.hasher)
    }

    /// The hash the map uses for `item`, as a `usize` (the mixed hash; on 32-bit targets its top
    /// 32 bits, which hold the shard bits), so that
    /// `determine_shard(hash_usize(&k)) == determine_map(&k)` on every target.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::new();
    /// assert_eq!(map.hash_usize(&7), map.hash_usize(&7));
    /// ```
    pub fn hash_usize<T: Hash>(&self, item: &T) -> usize {
        (self.hash(item) >> (u64::BITS - usize::BITS)) as usize
    }

    /// Which shard `key` lives in.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::with_shard_amount(4);
    /// assert!(map.determine_map(&1) < 4);
    /// ```
    pub fn determine_map<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> usize {
        self.shard_index(self.hash(key))
    }

    /// Inserts `key` with `value`. If the key was present, its value is replaced and the old one
    /// returned; the stored key is kept (the new `key` is dropped).
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively; blocks while another thread holds a guard on
    /// that shard; deadlocks if the calling thread holds any guard on that shard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// assert_eq!(map.insert("k", 1), None);
    /// assert_eq!(map.insert("k", 2), Some(1));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let hash = self.hash(&key);
        let mut shard = self.shard_for(hash).write(Site::new("insert"));
        insert_in(&mut shard, hash, key, value, self.rehasher())
    }

    /// Removes `key`, returning the stored key and value.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively (see [`insert`](Self::insert)).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(map.remove("k"), Some(("k", 1)));
    /// assert_eq!(map.remove("k"), None);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn remove<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<(K, V)> {
        self.remove_where(key, |_, _| true, Site::new("remove"))
    }

    /// Removes `key` if `f` returns `true` for its entry.
    ///
    /// If `f` panics, the entry stays and the lock is released.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively; `f` runs under that lock.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(map.remove_if("k", |_, v| *v > 5), None);
    /// assert_eq!(map.remove_if("k", |_, v| *v == 1), Some(("k", 1)));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn remove_if<Q: ?Sized + Hash + Equivalent<K>>(
        &self,
        key: &Q,
        f: impl FnOnce(&K, &V) -> bool,
    ) -> Option<(K, V)> {
        self.remove_where(key, |k, v| f(k, v), Site::new("remove_if"))
    }

    /// Removes `key` if `f`, which may also change the value, returns `true`.
    ///
    /// If `f` panics, the entry stays (with any change `f` made) and the lock is released.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively; `f` runs under that lock.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(map.remove_if_mut("k", |_, v| { *v += 1; false }), None);
    /// assert_eq!(*map.get("k").unwrap(), 2);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn remove_if_mut<Q: ?Sized + Hash + Equivalent<K>>(
        &self,
        key: &Q,
        f: impl FnOnce(&K, &mut V) -> bool,
    ) -> Option<(K, V)> {
        self.remove_where(key, f, Site::new("remove_if_mut"))
    }

    /// Removes `key` if `f` returns `true`, taking the lock for `site`.
    #[cfg_attr(deadlock_check, track_caller)]
    fn remove_where<Q: ?Sized + Hash + Equivalent<K>>(
        &self,
        key: &Q,
        f: impl FnOnce(&K, &mut V) -> bool,
        site: Site,
    ) -> Option<(K, V)> {
        let hash = self.hash(key);
        let mut shard = self.shard_for(hash).write(site);
        let mut entry = shard.find_entry(hash, equivalent_key(key)).ok()?;
        let (k, v) = entry.get_mut();
        if f(k, v) {
            Some(entry.remove().0)
        } else {
            None
        }
    }

    /// A shared guard on `key`'s entry, or `None`.
    ///
    /// [Locking](crate::locking): takes the key's shard shared until the guard drops; blocks while a writer holds
    /// it; deadlocks if the calling thread holds a [`RefMut`], [`Entry`] or `iter_mut` item on
    /// that shard. Holding other [`Ref`]s is fine (nested reads pass a waiting writer).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(String::from("k"), 1);
    /// assert_eq!(*map.get("k").unwrap(), 1);
    /// assert!(map.get("x").is_none());
    /// ```
    #[inline]
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn get<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<Ref<'_, K, V>> {
        let hash = self.hash(key);
        let guard = self.shard_for(hash).read(Site::new("get"));
        ElemRef::new(guard, |t| t.find(hash, equivalent_key(key)))
            .ok()
            .map(Ref::new)
    }

    /// An exclusive guard on `key`'s entry, or `None`.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively until the guard drops; blocks while another
    /// thread holds a guard on it; deadlocks if the calling thread holds any guard on that shard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// *map.get_mut("k").unwrap() += 1;
    /// assert_eq!(*map.get("k").unwrap(), 2);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn get_mut<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<RefMut<'_, K, V>> {
        let hash = self.hash(key);
        let guard = self.shard_for(hash).write(Site::new("get_mut"));
        ElemMut::new(guard, |t| t.find_mut(hash, equivalent_key(key)))
            .ok()
            .map(RefMut::new)
    }

    /// Like [`get`](Self::get), but never blocks: [`TryResult::Locked`] if a writer holds the
    /// shard.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(*map.try_get("k").unwrap(), 1);
    /// let _writer = map.get_mut("k").unwrap();
    /// assert!(map.try_get("k").is_locked());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_get<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> TryResult<Ref<'_, K, V>> {
        let hash = self.hash(key);
        let Some(guard) = self.shard_for(hash).try_read(Site::new("try_get")) else {
            return TryResult::Locked;
        };
        match ElemRef::new(guard, |t| t.find(hash, equivalent_key(key))) {
            Ok(elem) => TryResult::Present(Ref::new(elem)),
            Err(_) => TryResult::Absent,
        }
    }

    /// Like [`get_mut`](Self::get_mut), but never blocks: [`TryResult::Locked`] if anyone holds
    /// the shard.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let reader = map.get("k").unwrap();
    /// assert!(map.try_get_mut("k").is_locked());
    /// drop(reader);
    /// assert!(map.try_get_mut("k").is_present());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_get_mut<Q: ?Sized + Hash + Equivalent<K>>(
        &self,
        key: &Q,
    ) -> TryResult<RefMut<'_, K, V>> {
        let hash = self.hash(key);
        let Some(guard) = self.shard_for(hash).try_write(Site::new("try_get_mut")) else {
            return TryResult::Locked;
        };
        match ElemMut::new(guard, |t| t.find_mut(hash, equivalent_key(key))) {
            Ok(elem) => TryResult::Present(RefMut::new(elem)),
            Err(_) => TryResult::Absent,
        }
    }

    /// Whether `key` is present.
    ///
    /// [Locking](crate::locking): takes the key's shard shared for the call (see [`get`](Self::get)).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, ());
    /// assert!(map.contains_key(&1));
    /// assert!(!map.contains_key(&2));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn contains_key<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> bool {
        let hash = self.hash(key);
        let shard = self.shard_for(hash).read(Site::new("contains_key"));
        shard.find(hash, equivalent_key(key)).is_some()
    }

    /// Calls `f` on `key`'s entry, if present, and returns its result; no guard escapes.
    ///
    /// [Locking](crate::locking): takes the key's shard shared while `f` runs (see [`get`](Self::get)).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", String::from("value"));
    /// assert_eq!(map.view("k", |_, v| v.len()), Some(5));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn view<Q: ?Sized + Hash + Equivalent<K>, R>(
        &self,
        key: &Q,
        f: impl FnOnce(&K, &V) -> R,
    ) -> Option<R> {
        let hash = self.hash(key);
        let shard = self.shard_for(hash).read(Site::new("view"));
        shard.find(hash, equivalent_key(key)).map(|(k, v)| f(k, v))
    }

    /// Replaces `key`'s value `v` with `f(&key, v)`, if the key is present.
    ///
    /// If `f` panics, the entry is removed (its value was moved into `f`), the lock is released
    /// and the panic continues. (DashMap aborts the process here.)
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively while `f` runs.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// map.alter("k", |_, v| v + 1);
    /// assert_eq!(*map.get("k").unwrap(), 2);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn alter<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q, f: impl FnOnce(&K, V) -> V) {
        let hash = self.hash(key);
        let mut shard = self.shard_for(hash).write(Site::new("alter"));
        if let Ok(entry) = shard.find_entry(hash, equivalent_key(key)) {
            // Take the entry out; if `f` panics it is simply gone. The freed slot takes it back
            // without growing or rehashing.
            let ((k, v), vacant) = entry.remove();
            let v = f(&k, v);
            vacant.insert((k, v));
        }
    }

    /// The entry for `key`, for in-place manipulation.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively until the entry (or the [`RefMut`] made from
    /// it) drops; blocks while another thread holds a guard on that shard; deadlocks if the
    /// calling thread holds any guard on that shard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// *map.entry("hits").or_insert(0) += 1;
    /// *map.entry("hits").or_insert(0) += 1;
    /// assert_eq!(*map.get("hits").unwrap(), 2);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn entry(&self, key: K) -> Entry<'_, K, V> {
        let hash = self.hash(&key);
        self.entry_in(self.shard_for(hash).write(Site::new("entry")), hash, key)
    }

    /// Like [`entry`](Self::entry), but `None` instead of blocking when anyone holds the shard.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::with_shard_amount(2);
    /// map.insert(1, 1);
    /// let reader = map.get(&1).unwrap();
    /// assert!(map.try_entry(1).is_none());
    /// drop(reader);
    /// assert!(map.try_entry(1).is_some());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_entry(&self, key: K) -> Option<Entry<'_, K, V>> {
        let hash = self.hash(&key);
        let guard = self.shard_for(hash).try_write(Site::new("try_entry"))?;
        Some(self.entry_in(guard, hash, key))
    }

    fn entry_in<'a>(
        &'a self,
        mut guard: WriteGuard<'a, K, V>,
        hash: u64,
        key: K,
    ) -> Entry<'a, K, V> {
        match guard.find_bucket_index(hash, equivalent_key(&key)) {
            Some(index) => Entry::Occupied(OccupiedEntry::new(guard, index, key)),
            None => {
                // Reserve now, while the hasher is at hand, so inserting through the entry never
                // needs it.
                guard.reserve(1, self.rehasher());
                Entry::Vacant(VacantEntry::new(guard, hash, key))
            }
        }
    }

    /// Shrinks every shard's table as much as possible.
    ///
    /// [Locking](crate::locking): takes each shard's lock exclusively in turn.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::with_capacity(10_000);
    /// map.insert(1, 1);
    /// map.shrink_to_fit();
    /// assert!(map.capacity() < 10_000);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn shrink_to_fit(&self) {
        let site = Site::new("shrink_to_fit");
        for shard in self.shard_refs() {
            shard.write(site).shrink_to_fit(self.rehasher());
        }
    }

    /// Reserves room for `additional` more entries in total: `ceil(additional / shards)` plus
    /// slack for uneven spread, in every shard. (DashMap reserves `additional` in *each* shard;
    /// this takes `&self` and means what `HashMap::try_reserve` means.)
    ///
    /// # Errors
    /// [`TryReserveError`] if the capacity overflows or the allocator fails; shards reserved
    /// before the failing one keep their new capacity.
    ///
    /// [Locking](crate::locking): takes each shard's lock exclusively in turn.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u64, u64> = sharded_map::ShardedMap::new();
    /// map.try_reserve(1000).unwrap();
    /// assert!(map.capacity() >= 1000);
    /// assert!(map.try_reserve(usize::MAX).is_err());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_reserve(&self, additional: usize) -> Result<(), TryReserveError> {
        let site = Site::new("try_reserve");
        let per_shard = per_shard_capacity(additional, self.shards.len());
        for shard in self.shard_refs() {
            shard
                .write(site)
                .try_reserve(per_shard, self.rehasher())
                .map_err(|e| TryReserveError {
                    kind: match e {
                        hashbrown::TryReserveError::CapacityOverflow => {
                            TryReserveErrorKind::CapacityOverflow
                        }
                        hashbrown::TryReserveError::AllocError { .. } => {
                            TryReserveErrorKind::AllocError
                        }
                    },
                })?;
        }
        Ok(())
    }

    /// Inserts every pair, like `extend` but through `&self` (one lock per insert).
    pub(crate) fn extend_from<I: IntoIterator<Item = (K, V)>>(&self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }

    /// Inserts every pair through `&mut self`: exclusive access, so no lock is taken at all.
    /// The per-shard counters are refreshed at the end, also if a `Hash` or `Eq` panics.
    pub(crate) fn extend_exclusive<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let (shards, router) = self.shards_and_router();
        // Re-syncs every shard's counter when the loop ends, also if a `Hash` or `Eq` panics.
        let mut tables = TablesMut::new(shards);
        for (key, value) in iter {
            let (hash, index) = router.locate(&key);
            let table = tables.get_mut(index).expect("shard index in range");
            insert_in(table, hash, key, value, router.rehasher());
        }
    }
}

/// The error [`ShardedMap::try_reserve`] returns.
///
/// [Locking](crate::locking): none.
///
/// ```
/// let map: sharded_map::ShardedMap<u64, u64> = sharded_map::ShardedMap::new();
/// let err = map.try_reserve(usize::MAX).unwrap_err();
/// assert!(err.to_string().contains("capacity overflow"));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TryReserveError {
    kind: TryReserveErrorKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TryReserveErrorKind {
    CapacityOverflow,
    AllocError,
}

impl fmt::Display for TryReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            TryReserveErrorKind::CapacityOverflow => {
                "memory allocation failed because the computed capacity exceeded the collection's maximum (capacity overflow)"
            }
            TryReserveErrorKind::AllocError => "memory allocation failed because the memory allocator returned an error",
        })
    }
}

impl std::error::Error for TryReserveError {}

impl<K: Eq + Hash, V, S: BuildHasher + Default> Default for ShardedMap<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

/// Clones shard by shard, each under its read lock in turn.
impl<K: Clone, V: Clone, S: Clone> Clone for ShardedMap<K, V, S> {
    fn clone(&self) -> Self {
        let site = Site::new("clone");
        let tables = self.shard_refs().map(|s| s.read(site).clone()).collect();
        Self::from_parts(tables, self.hasher.clone())
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for ShardedMap<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for r in self.iter() {
            map.entry(r.key(), r.value());
        }
        map.finish()
    }
}

/// Equal when both hold the same keys with equal values. Reads both maps shard by shard (shared
/// locks only), so comparing a map with itself, or two maps from two threads in opposite orders,
/// cannot deadlock.
impl<K: Eq + Hash, V: PartialEq, S: BuildHasher> PartialEq for ShardedMap<K, V, S> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|r| other.view(r.key(), |_, v| v == r.value()).unwrap_or(false))
    }
}

impl<K: Eq + Hash, V: Eq, S: BuildHasher> Eq for ShardedMap<K, V, S> {}

/// Through `&mut self` no other thread can hold the map, so this inserts without locking.
impl<K: Eq + Hash, V, S: BuildHasher> Extend<(K, V)> for ShardedMap<K, V, S> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.extend_exclusive(iter)
    }
}

/// Extends through a shared reference, so several threads may extend one map.
impl<K: Eq + Hash, V, S: BuildHasher> Extend<(K, V)> for &ShardedMap<K, V, S> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.extend_from(iter)
    }
}

impl<K: Eq + Hash, V, S: BuildHasher + Default> FromIterator<(K, V)> for ShardedMap<K, V, S> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut map = Self::with_capacity_and_hasher(iter.size_hint().0, S::default());
        map.extend_exclusive(iter);
        map
    }
}

impl<K, V, S> IntoIterator for ShardedMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = OwningIter<K, V, S>;

    fn into_iter(self) -> OwningIter<K, V, S> {
        OwningIter::new(self.into_parts().0)
    }
}

impl<'a, K, V, S> IntoIterator for &'a ShardedMap<K, V, S> {
    type Item = crate::guards::RefMulti<'a, K, V>;
    type IntoIter = Iter<'a, K, V, S>;

    #[cfg_attr(deadlock_check, track_caller)]
    fn into_iter(self) -> Iter<'a, K, V, S> {
        self.iter()
    }
}
