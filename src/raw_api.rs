//! Feature `raw-api`: work on one shard at a time, under its lock, as DashMap's feature of the
//! same name allows, without handing out anything that could break the lock's invariants.
//!
//! - [`ShardedMap::shards`] gives a [`RawShard`] per shard (indexable, like DashMap's slice);
//!   [`RawShard::read`] / [`RawShard::write`] lock it and dereference to the shard's
//!   [`hashbrown::HashTable`] of `(K, V)` pairs. Each handle carries its own shard's reader
//!   slots, paired inside the crate: no safe code can make a handle from parts.
//! - [`ShardedMap::shards_mut`] gives every table through `&mut self` with no locking;
//!   [`ShardedMap::into_shards`] takes them out.
//! - [`ShardedMap::shard_and_hash`] gives a key's shard index and the hash its table is keyed
//!   by, from one hash computation (for `HashTable::find`, `insert_unique`, ...).
//!
//! The tables are keyed by the map's hashes: insert with [`ShardedMap::shard_and_hash`]'s hash
//! into the shard it names, or lookups will not find the entry (a logic error, never memory
//! unsafety). Entry counts (`len`) follow every change made through these guards.
#![deny(unsafe_code)]

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use equivalent::Equivalent;
use hashbrown::HashTable;

use crate::deadlock::Site;
use crate::guards::NotSend;
use crate::raw::route::Router;
use crate::raw::shard::{ReadGuard, ShardRef, TablesMut, WriteGuard};
use crate::ShardedMap;

/// One shard of a map and its lock (feature `raw-api`), from [`ShardedMap::shards`].
///
/// [Locking](crate::locking): the handle itself holds nothing; its guards lock the shard.
///
/// ```
/// let map = sharded_map::ShardedMap::with_shard_amount(4);
/// map.insert("a", 1);
/// let total: usize = map.shards().iter().map(|s| s.read().len()).sum();
/// assert_eq!(total, 1);
/// ```
pub struct RawShard<'a, K, V> {
    shard: ShardRef<'a, K, V>,
}

impl<K, V> Clone for RawShard<'_, K, V> {
    fn clone(&self) -> Self {
        Self { shard: self.shard }
    }
}

impl<'a, K, V> RawShard<'a, K, V> {
    /// Locks the shard shared; the guard dereferences to its table.
    ///
    /// [Locking](crate::locking): takes the shard shared until the guard drops; blocks while a
    /// writer holds it (as `get`).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([(1, 10)]);
    /// let shard = map.shard_of(&1);
    /// let table = map.shards()[shard].read();
    /// assert_eq!(table.iter().map(|(_, v)| *v).sum::<i32>(), 10);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn read(&self) -> RawReadGuard<'a, K, V> {
        RawReadGuard {
            guard: self.shard.read(Site::new("RawShard::read")),
            _not_send: PhantomData,
        }
    }

    /// Locks the shard exclusively; the guard dereferences mutably to its table.
    ///
    /// [Locking](crate::locking): takes the shard exclusively until the guard drops; blocks
    /// while anyone holds it (as `get_mut`).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([(1, 10), (2, 20)]);
    /// for shard in map.shards() {
    ///     shard.write().retain(|(_, v)| *v > 15);
    /// }
    /// assert_eq!(map.len(), 1);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn write(&self) -> RawWriteGuard<'a, K, V> {
        RawWriteGuard {
            guard: self.shard.write(Site::new("RawShard::write")),
            _not_send: PhantomData,
        }
    }

    /// Like [`read`](Self::read), but `None` instead of blocking while a writer holds the shard.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([(1, 10)]);
    /// let shard = &map.shards()[map.shard_of(&1)];
    /// let writer = shard.write();
    /// assert!(shard.try_read().is_none());
    /// drop(writer);
    /// assert!(shard.try_read().is_some());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_read(&self) -> Option<RawReadGuard<'a, K, V>> {
        Some(RawReadGuard {
            guard: self.shard.try_read(Site::new("RawShard::try_read"))?,
            _not_send: PhantomData,
        })
    }

    /// Like [`write`](Self::write), but `None` instead of blocking while anyone holds the shard.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([(1, 10)]);
    /// let shard = &map.shards()[map.shard_of(&1)];
    /// let reader = shard.read();
    /// assert!(shard.try_write().is_none());
    /// drop(reader);
    /// assert!(shard.try_write().is_some());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_write(&self) -> Option<RawWriteGuard<'a, K, V>> {
        Some(RawWriteGuard {
            guard: self.shard.try_write(Site::new("RawShard::try_write"))?,
            _not_send: PhantomData,
        })
    }

    /// The shard's entry count, without locking (a snapshot).
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([(1, 10)]);
    /// assert_eq!(map.shards()[map.shard_of(&1)].len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shard.len()
    }

    /// Whether the shard is empty, without locking (a snapshot).
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<u8, u8> = sharded_map::ShardedMap::with_shard_amount(2);
    /// assert!(map.shards()[0].is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K, V> fmt::Debug for RawShard<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawShard")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// A shard locked shared (feature `raw-api`); dereferences to its table. `!Send`, like `Ref`.
///
/// [Locking](crate::locking): holds the shard shared until dropped.
///
/// ```
/// let map = sharded_map::ShardedMap::from([(1, 10)]);
/// let (shard, hash) = map.shard_and_hash(&1);
/// let table = map.shards()[shard].read();
/// assert_eq!(table.find(hash, |(k, _)| *k == 1), Some(&(1, 10)));
/// ```
pub struct RawReadGuard<'a, K, V> {
    guard: ReadGuard<'a, K, V>,
    _not_send: NotSend,
}

impl<K, V> Deref for RawReadGuard<'_, K, V> {
    type Target = HashTable<(K, V)>;
    fn deref(&self) -> &HashTable<(K, V)> {
        &self.guard
    }
}

impl<K, V> fmt::Debug for RawReadGuard<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawReadGuard")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// A shard locked exclusively (feature `raw-api`); dereferences mutably to its table, and
/// updates the shard's entry count when dropped. `!Send`, like `RefMut`.
///
/// [Locking](crate::locking): holds the shard exclusively until dropped.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// let (shard, hash) = map.shard_and_hash(&7);
/// map.shards()[shard]
///     .write()
///     .insert_unique(hash, (7, "seven"), |(k, _)| map.shard_and_hash(k).1);
/// assert_eq!(map.get_cloned(&7), Some("seven"));
/// assert_eq!(map.len(), 1);
/// ```
pub struct RawWriteGuard<'a, K, V> {
    guard: WriteGuard<'a, K, V>,
    _not_send: NotSend,
}

impl<K, V> Deref for RawWriteGuard<'_, K, V> {
    type Target = HashTable<(K, V)>;
    fn deref(&self) -> &HashTable<(K, V)> {
        &self.guard
    }
}

impl<K, V> DerefMut for RawWriteGuard<'_, K, V> {
    fn deref_mut(&mut self) -> &mut HashTable<(K, V)> {
        &mut self.guard
    }
}

impl<K, V> fmt::Debug for RawWriteGuard<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawWriteGuard")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// Every shard's table through `&mut` (feature `raw-api`), from [`ShardedMap::shards_mut`]:
/// [`get_mut`](Self::get_mut) by shard index, or [`iter_mut`](Self::iter_mut). No lock is taken
/// (the map is borrowed exclusively); the shards' entry counts are updated when this drops, also
/// during a panic.
///
/// [Locking](crate::locking): none.
///
/// ```
/// let mut map = sharded_map::ShardedMap::from([(1, 1), (2, 2)]);
/// {
///     let mut shards = map.shards_mut();
///     let (shard, hash) = shards.shard_and_hash(&3);
///     let rehash = shards.rehasher();
///     shards.get_mut(shard).unwrap().insert_unique(hash, (3, 3), rehash);
/// }
/// assert_eq!(map.len(), 3);
/// assert_eq!(map.get_cloned(&3), Some(3));
/// ```
pub struct ShardsMut<'a, K, V, S> {
    tables: TablesMut<'a, K, V>,
    router: Router<'a, S>,
}

impl<'a, K, V, S: BuildHasher> ShardsMut<'a, K, V, S> {
    /// A key's shard index and the hash its table is keyed by (see
    /// [`ShardedMap::shard_and_hash`]).
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let mut map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::new();
    /// let expected = map.shard_and_hash(&5);
    /// assert_eq!(map.shards_mut().shard_and_hash(&5), expected);
    /// ```
    pub fn shard_and_hash<Q: ?Sized + Hash>(&self, key: &Q) -> (usize, u64) {
        let (hash, index) = self.router.locate(key);
        (index, hash)
    }

    /// The hash function of stored pairs, for `HashTable` calls that may grow a table
    /// (`insert_unique`, `entry`, `reserve`). It borrows only the map's hasher, so it can be
    /// used while a table is borrowed mutably.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let mut map: sharded_map::ShardedMap<u32, u32> = sharded_map::ShardedMap::new();
    /// let mut shards = map.shards_mut();
    /// let rehash = shards.rehasher();
    /// let (shard, hash) = shards.shard_and_hash(&1);
    /// assert_eq!(rehash(&(1, 0)), hash);
    /// shards.get_mut(shard).unwrap().reserve(100, rehash);
    /// ```
    pub fn rehasher(&self) -> impl Fn(&(K, V)) -> u64 + 'a
    where
        K: Hash,
    {
        self.router.rehasher()
    }
}

impl<K, V, S> ShardsMut<'_, K, V, S> {
    /// The number of shards.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let mut map: sharded_map::ShardedMap<u8, u8> = sharded_map::ShardedMap::with_shard_amount(4);
    /// assert_eq!(map.shards_mut().len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Always `false`: a map has at least two shards.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let mut map: sharded_map::ShardedMap<u8, u8> = sharded_map::ShardedMap::new();
    /// assert!(!map.shards_mut().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tables.len() == 0
    }

    /// Every table, mutably, in shard order.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let mut map = sharded_map::ShardedMap::from([(1, 1), (2, 2)]);
    /// map.shards_mut().iter_mut().for_each(|t| t.iter_mut().for_each(|(_, v)| *v *= 10));
    /// assert_eq!(map.get_cloned(&2), Some(20));
    /// ```
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut HashTable<(K, V)>> + '_ {
        self.tables.iter_mut()
    }

    /// Shard `index`'s table, mutably; `None` if there is no such shard.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let mut map = sharded_map::ShardedMap::from([(1, 1)]);
    /// let shard = map.shard_of(&1);
    /// let mut shards = map.shards_mut();
    /// assert_eq!(shards.get_mut(shard).unwrap().len(), 1);
    /// assert!(shards.get_mut(1000).is_none());
    /// ```
    pub fn get_mut(&mut self, index: usize) -> Option<&mut HashTable<(K, V)>> {
        self.tables.get_mut(index)
    }
}

impl<K, V, S> fmt::Debug for ShardsMut<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardsMut")
            .field("shards", &self.tables.len())
            .finish_non_exhaustive()
    }
}

impl<K, V, S> ShardedMap<K, V, S> {
    /// A handle on every shard, in shard order (feature `raw-api`); `map.shards()[i]` is shard
    /// `i`, as in DashMap. Lock one with [`RawShard::read`] or [`RawShard::write`].
    ///
    /// [Locking](crate::locking): none (the handles lock when asked).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::with_shard_amount(8);
    /// map.insert(1, 1);
    /// assert_eq!(map.shards().len(), 8);
    /// assert_eq!(map.shards()[map.shard_of(&1)].read().len(), 1);
    /// ```
    ///
    /// This allocates a `Vec` per call (DashMap returns a slice of its shards; ours pairs each
    /// shard with its reader slots on the way out). To reach one shard in a loop, use
    /// [`shard`](Self::shard), which does not allocate.
    pub fn shards(&self) -> Vec<RawShard<'_, K, V>> {
        self.shard_refs().map(|shard| RawShard { shard }).collect()
    }

    /// A handle on shard `index` (feature `raw-api`), or `None` if the map has no such shard:
    /// `map.shards()[index]` without allocating.
    ///
    /// [Locking](crate::locking): none (the handle locks when asked).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::with_shard_amount(8);
    /// map.insert(1, 1);
    /// let shard = map.shard(map.shard_of(&1)).unwrap();
    /// assert_eq!(shard.read().len(), 1);
    /// assert!(map.shard(8).is_none());
    /// ```
    pub fn shard(&self, index: usize) -> Option<RawShard<'_, K, V>> {
        (index < self.shard_amount()).then(|| RawShard {
            shard: self.shard_at(index),
        })
    }

    /// Every shard's table through `&mut self` (feature `raw-api`): no locking, since nothing
    /// else can hold the map.
    ///
    /// [Locking](crate::locking): none (the map is borrowed exclusively).
    ///
    /// ```
    /// let mut map = sharded_map::ShardedMap::from([(1, 1)]);
    /// let shard = map.shard_of(&1);
    /// assert_eq!(map.shards_mut().get_mut(shard).unwrap().len(), 1);
    /// ```
    pub fn shards_mut(&mut self) -> ShardsMut<'_, K, V, S> {
        let (shards, router) = self.shards_and_router();
        ShardsMut {
            tables: TablesMut::new(shards),
            router,
        }
    }

    /// Takes the map apart into its shard tables, in shard order (feature `raw-api`).
    ///
    /// [Locking](crate::locking): none (consumes the map).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([(1, 1), (2, 2)]);
    /// let tables = map.into_shards();
    /// assert_eq!(tables.iter().map(|t| t.len()).sum::<usize>(), 2);
    /// ```
    pub fn into_shards(self) -> Box<[HashTable<(K, V)>]> {
        self.into_parts().0.into_boxed_slice()
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> ShardedMap<K, V, S> {
    /// `key`'s shard index and the hash its shard's table is keyed by, from one hash
    /// computation (feature `raw-api`; DashMap's `determine_map` and `hash_usize` in one).
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::from([("k", 1)]);
    /// let (shard, hash) = map.shard_and_hash("k");
    /// assert_eq!(shard, map.shard_of("k"));
    /// assert!(map.shards()[shard].read().find(hash, |(k, _)| *k == "k").is_some());
    /// ```
    pub fn shard_and_hash<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> (usize, u64) {
        let hash = self.hash(key);
        (self.shard_index(hash), hash)
    }
}
