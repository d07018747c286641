//! [`ReadOnlyView`]: a map frozen for lock-free reading.
#![deny(unsafe_code)]

use core::fmt;
use core::hash::{BuildHasher, Hash};

use equivalent::Equivalent;

use crate::raw::route::{equivalent_key, hash_key, shard_index};
use crate::raw::shard::Table;
use crate::ShardedMap;

/// A [`ShardedMap`] taken apart into plain tables: reads take no lock and write nothing, so any
/// number of threads can read through `&ReadOnlyView` with no cache-line traffic. From
/// [`ShardedMap::into_read_only`]; [`into_inner`](Self::into_inner) gives the map back.
///
/// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("a", 1);
/// let view = map.into_read_only();
/// std::thread::scope(|s| {
///     s.spawn(|| assert_eq!(view.get("a"), Some(&1)));
/// });
/// let map = view.into_inner();
/// map.insert("b", 2);
/// ```
pub struct ReadOnlyView<K, V, S = crate::RandomState> {
    tables: Vec<Table<K, V>>,
    shift: u32,
    hasher: S,
}

impl<K, V, S> ReadOnlyView<K, V, S> {
    pub(crate) fn new(map: ShardedMap<K, V, S>) -> Self {
        let (tables, hasher) = map.into_parts();
        let shift = 64 - tables.len().trailing_zeros();
        Self {
            tables,
            shift,
            hasher,
        }
    }

    /// The per-shard tables (feature `rayon`'s parallel iteration).
    #[cfg(feature = "rayon")]
    pub(crate) fn tables(&self) -> &[Table<K, V>] {
        &self.tables
    }

    /// Gives the map back.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 1);
    /// assert_eq!(map.into_read_only().into_inner().len(), 1);
    /// ```
    pub fn into_inner(self) -> ShardedMap<K, V, S> {
        ShardedMap::from_parts(self.tables, self.hasher)
    }

    /// The number of entries.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 1);
    /// assert_eq!(map.into_read_only().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.tables.iter().map(Table::len).sum()
    }

    /// Whether there are no entries.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::<u8, u8>::new();
    /// assert!(map.into_read_only().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(Table::is_empty)
    }

    /// The total capacity of the tables.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::<u8, u8>::with_capacity(10);
    /// assert!(map.into_read_only().capacity() >= 10);
    /// ```
    pub fn capacity(&self) -> usize {
        self.tables.iter().map(Table::capacity).sum()
    }

    /// The hasher.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let view = sharded_map::ShardedMap::<u8, u8>::new().into_read_only();
    /// let _: &ahash::RandomState = view.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    /// All entries, as plain references.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// let view = map.into_read_only();
    /// assert_eq!(view.iter().collect::<Vec<_>>(), vec![(&1, &10)]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.tables
            .iter()
            .flat_map(|t| t.iter().map(|(k, v)| (k, v)))
    }

    /// All keys.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// assert_eq!(map.into_read_only().keys().copied().collect::<Vec<_>>(), vec![1]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// All values.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// assert_eq!(map.into_read_only().values().copied().collect::<Vec<_>>(), vec![10]);
    /// ```
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> ReadOnlyView<K, V, S> {
    fn find<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<&(K, V)> {
        let hash = hash_key(&self.hasher, key);
        let table = &self.tables[shard_index(hash, self.shift)];
        table.find(hash, equivalent_key(key))
    }

    /// Whether `key` is present.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// assert!(map.into_read_only().contains_key(&1));
    /// ```
    pub fn contains_key<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> bool {
        self.find(key).is_some()
    }

    /// The value for `key`, as a plain reference.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// assert_eq!(map.into_read_only().get(&1), Some(&10));
    /// ```
    pub fn get<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<&V> {
        self.find(key).map(|(_, v)| v)
    }

    /// The stored key and the value for `key`.
    ///
    /// [Locking](crate::locking): none: a `ReadOnlyView` owns plain tables and never locks or writes shared memory.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// assert_eq!(map.into_read_only().get_key_value(&1), Some((&1, &10)));
    /// ```
    pub fn get_key_value<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<(&K, &V)> {
        self.find(key).map(|(k, v)| (k, v))
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for ReadOnlyView<K, V, S> {
    fn clone(&self) -> Self {
        Self {
            tables: self.tables.clone(),
            shift: self.shift,
            hasher: self.hasher.clone(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for ReadOnlyView<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
