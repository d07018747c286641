//! [`ShardedSet`]: a concurrent set, a [`ShardedMap`] with `()` values (DashSet's counterpart),
//! with its guards ([`SetRef`], [`SetRefMulti`]) and iterators ([`SetIter`], [`SetOwningIter`]).
#![deny(unsafe_code)]

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::ops::Deref;

use equivalent::Equivalent;

use crate::guards::{Ref, RefMulti};
use crate::iter::{Iter, OwningIter};
use crate::{RandomState, ShardedMap};

/// A concurrent hash set, sharded like [`ShardedMap`] (which it wraps, with `()` values). All
/// locking rules of the map apply.
///
/// [Locking](crate::locking): as [`ShardedMap`]: each method's documentation says when it blocks.
///
/// ```
/// let set = sharded_map::ShardedSet::new();
/// assert!(set.insert("a"));
/// assert!(!set.insert("a"));
/// assert!(set.contains("a"));
/// ```
pub struct ShardedSet<K, S = RandomState> {
    inner: ShardedMap<K, (), S>,
}

impl<K: Eq + Hash> ShardedSet<K, RandomState> {
    /// Creates an empty set.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            inner: ShardedMap::new(),
        }
    }

    /// Creates an empty set with room for `capacity` keys.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::with_capacity(10);
    /// assert!(set.capacity() >= 10);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: ShardedMap::with_capacity(capacity),
        }
    }

    /// Creates an empty set with `shard_amount` shards (DashSet lacks this).
    ///
    /// # Panics
    /// If `shard_amount` is not a power of two from 2 to 65,536.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::with_shard_amount(4);
    /// assert_eq!(set.shard_amount(), 4);
    /// ```
    pub fn with_shard_amount(shard_amount: usize) -> Self {
        Self {
            inner: ShardedMap::with_shard_amount(shard_amount),
        }
    }
}

impl<K, S> ShardedSet<K, S> {
    /// The map underneath (keys map to `()`), for the parallel build.
    #[cfg(feature = "rayon")]
    pub(crate) fn map(&self) -> &ShardedMap<K, (), S> {
        &self.inner
    }

    /// The map underneath, through `&mut self`.
    #[cfg(feature = "rayon")]
    pub(crate) fn map_mut(&mut self) -> &mut ShardedMap<K, (), S> {
        &mut self.inner
    }

    /// The map underneath, borrowed.
    #[cfg(feature = "typesize")]
    pub(crate) fn as_map(&self) -> &ShardedMap<K, (), S> {
        &self.inner
    }

    /// The map underneath, by value.
    pub(crate) fn into_map(self) -> ShardedMap<K, (), S> {
        self.inner
    }

    /// Creates an empty set that hashes with `hasher`.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let set: sharded_map::ShardedSet<u32, _> = sharded_map::ShardedSet::with_hasher(RandomState::new());
    /// set.insert(1);
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self {
            inner: ShardedMap::with_hasher(hasher),
        }
    }

    /// Creates an empty set with room for `capacity` keys that hashes with `hasher`.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let set: sharded_map::ShardedSet<u32, _> =
    ///     sharded_map::ShardedSet::with_capacity_and_hasher(8, RandomState::new());
    /// assert!(set.capacity() >= 8);
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self {
            inner: ShardedMap::with_capacity_and_hasher(capacity, hasher),
        }
    }

    /// Creates an empty set with `shard_amount` shards that hashes with `hasher`.
    ///
    /// # Panics
    /// If `shard_amount` is not a power of two from 2 to 65,536.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let set: sharded_map::ShardedSet<u32, _> =
    ///     sharded_map::ShardedSet::with_hasher_and_shard_amount(RandomState::new(), 2);
    /// assert_eq!(set.shard_amount(), 2);
    /// ```
    pub fn with_hasher_and_shard_amount(hasher: S, shard_amount: usize) -> Self {
        Self {
            inner: ShardedMap::with_hasher_and_shard_amount(hasher, shard_amount),
        }
    }

    /// The hasher.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::new();
    /// let _: &ahash::RandomState = set.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        self.inner.hasher()
    }

    /// The number of shards.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::with_shard_amount(8);
    /// assert_eq!(set.shard_amount(), 8);
    /// ```
    pub fn shard_amount(&self) -> usize {
        self.inner.shard_amount()
    }

    /// Which shard a hash from [`hash_usize`](Self::hash_usize) belongs to.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::new();
    /// assert_eq!(set.determine_shard(set.hash_usize(&1)), set.determine_map(&1));
    /// ```
    pub fn determine_shard(&self, hash: usize) -> usize {
        self.inner.determine_shard(hash)
    }

    /// The number of keys, without locking (see [`ShardedMap::len`]).
    ///
    /// [Locking](crate::locking): none; never blocks.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(1);
    /// assert_eq!(set.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the set is empty, without locking.
    ///
    /// [Locking](crate::locking): none; never blocks.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Removes every key.
    ///
    /// [Locking](crate::locking): each shard exclusively in turn.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(1);
    /// set.clear();
    /// assert!(set.is_empty());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn clear(&self) {
        self.inner.clear()
    }

    /// The total capacity.
    ///
    /// [Locking](crate::locking): each shard shared in turn.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::with_capacity(4);
    /// assert!(set.capacity() >= 4);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// Keeps only the keys for which `f` returns `true`.
    ///
    /// [Locking](crate::locking): each shard exclusively in turn; `f` runs under the lock.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// for i in 0..4 { set.insert(i); }
    /// set.retain(|k| k % 2 == 0);
    /// assert_eq!(set.len(), 2);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn retain(&self, mut f: impl FnMut(&K) -> bool) {
        self.inner.retain(|k, _| f(k))
    }

    /// An iterator over the keys, yielding guards (see [`ShardedMap::iter`]).
    ///
    /// [Locking](crate::locking): takes each shard's lock shared in turn (see [`ShardedMap::iter`]).
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(3);
    /// assert_eq!(set.iter().map(|k| *k).sum::<i32>(), 3);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn iter(&self) -> SetIter<'_, K, S> {
        SetIter {
            inner: self.inner.iter(),
        }
    }
}

impl<K: Eq + Hash, S: BuildHasher> ShardedSet<K, S> {
    /// The hash the set uses for `item`.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::new();
    /// assert_eq!(set.hash_usize(&1), set.hash_usize(&1));
    /// ```
    pub fn hash_usize<T: Hash>(&self, item: &T) -> usize {
        self.inner.hash_usize(item)
    }

    /// Which shard `key` lives in.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::with_shard_amount(2);
    /// assert!(set.determine_map(&1) < 2);
    /// ```
    pub fn determine_map<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> usize {
        self.inner.determine_map(key)
    }

    /// Adds `key`; `true` if it was not present (an existing key is kept).
    ///
    /// [Locking](crate::locking): the key's shard exclusively (see [`ShardedMap::insert`]).
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// assert!(set.insert(1));
    /// assert!(!set.insert(1));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn insert(&self, key: K) -> bool {
        self.inner.insert(key, ()).is_none()
    }

    /// Removes `key`, returning the stored key.
    ///
    /// [Locking](crate::locking): the key's shard exclusively.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(1);
    /// assert_eq!(set.remove(&1), Some(1));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn remove<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<K> {
        self.inner.remove(key).map(|(k, ())| k)
    }

    /// Removes `key` if `f` returns `true` for it.
    ///
    /// [Locking](crate::locking): the key's shard exclusively; `f` runs under the lock.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(1);
    /// assert_eq!(set.remove_if(&1, |k| *k > 1), None);
    /// assert_eq!(set.remove_if(&1, |k| *k == 1), Some(1));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn remove_if<Q: ?Sized + Hash + Equivalent<K>>(
        &self,
        key: &Q,
        f: impl FnOnce(&K) -> bool,
    ) -> Option<K> {
        self.inner.remove_if(key, |k, ()| f(k)).map(|(k, ())| k)
    }

    /// A guard on the stored key, or `None`.
    ///
    /// [Locking](crate::locking): the key's shard shared until the guard drops (see [`ShardedMap::get`]).
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(String::from("a"));
    /// assert_eq!(set.get("a").unwrap().key(), "a");
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn get<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<SetRef<'_, K>> {
        self.inner.get(key).map(|inner| SetRef { inner })
    }

    /// Whether `key` is present.
    ///
    /// [Locking](crate::locking): the key's shard shared for the call.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(1);
    /// assert!(set.contains(&1));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn contains<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> bool {
        self.inner.contains_key(key)
    }

    /// Shrinks every shard as much as possible.
    ///
    /// [Locking](crate::locking): each shard exclusively in turn.
    ///
    /// ```
    /// let set: sharded_map::ShardedSet<u32> = sharded_map::ShardedSet::with_capacity(1000);
    /// set.shrink_to_fit();
    /// assert!(set.capacity() < 1000);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn shrink_to_fit(&self) {
        self.inner.shrink_to_fit()
    }
}

impl<K: Eq + Hash, S: Default + BuildHasher> Default for ShardedSet<K, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: Clone, S: Clone> Clone for ShardedSet<K, S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K: fmt::Debug, S> fmt::Debug for ShardedSet<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(|r| DebugKey(r)))
            .finish()
    }
}

struct DebugKey<'a, K>(SetRefMulti<'a, K>);
impl<K: fmt::Debug> fmt::Debug for DebugKey<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.key().fmt(f)
    }
}

impl<K: Eq + Hash, S: BuildHasher> PartialEq for ShardedSet<K, S> {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl<K: Eq + Hash, S: BuildHasher> Eq for ShardedSet<K, S> {}

impl<K: Eq + Hash, S: BuildHasher> Extend<K> for ShardedSet<K, S> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, iter: I) {
        self.inner.extend(iter.into_iter().map(|k| (k, ())))
    }
}

impl<K: Eq + Hash, S: BuildHasher> Extend<K> for &ShardedSet<K, S> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, iter: I) {
        self.inner.extend_from(iter.into_iter().map(|k| (k, ())))
    }
}

impl<K: Eq + Hash, S: BuildHasher + Default> FromIterator<K> for ShardedSet<K, S> {
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        let mut set = Self::default();
        set.extend(iter);
        set
    }
}

impl<K, S> IntoIterator for ShardedSet<K, S> {
    type Item = K;
    type IntoIter = SetOwningIter<K, S>;
    fn into_iter(self) -> SetOwningIter<K, S> {
        SetOwningIter {
            inner: self.inner.into_iter(),
        }
    }
}

impl<'a, K, S> IntoIterator for &'a ShardedSet<K, S> {
    type Item = SetRefMulti<'a, K>;
    type IntoIter = SetIter<'a, K, S>;
    #[cfg_attr(deadlock_check, track_caller)]
    fn into_iter(self) -> SetIter<'a, K, S> {
        self.iter()
    }
}

/// A shared guard on one key of a [`ShardedSet`], from [`ShardedSet::get`]. `!Send`.
///
/// [Locking](crate::locking): holds the key's shard shared until dropped (see [`Ref`]).
///
/// ```
/// let set = sharded_map::ShardedSet::new();
/// set.insert(1);
/// let r: sharded_map::setref::one::Ref<'_, i32> = set.get(&1).unwrap();
/// assert_eq!(*r, 1);
/// ```
pub struct SetRef<'a, K> {
    inner: Ref<'a, K, ()>,
}

impl<K> SetRef<'_, K> {
    /// The stored key.
    ///
    /// [Locking](crate::locking): never blocks; the guard already holds its shard's lock.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(1);
    /// assert_eq!(*set.get(&1).unwrap().key(), 1);
    /// ```
    pub fn key(&self) -> &K {
        self.inner.key()
    }
}

impl<K> Deref for SetRef<'_, K> {
    type Target = K;
    fn deref(&self) -> &K {
        self.key()
    }
}

impl<K: fmt::Debug> fmt::Debug for SetRef<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.key().fmt(f)
    }
}

/// A shared guard on one key, yielded by [`ShardedSet::iter`].
///
/// [Locking](crate::locking): shares its shard's read lock with the iterator (see [`RefMulti`]).
///
/// ```
/// let set = sharded_map::ShardedSet::new();
/// set.insert(1);
/// for r in set.iter() {
///     let r: sharded_map::setref::multiple::RefMulti<'_, i32> = r;
///     assert_eq!(*r.key(), 1);
/// }
/// ```
pub struct SetRefMulti<'a, K> {
    inner: RefMulti<'a, K, ()>,
}

impl<'a, K> SetRefMulti<'a, K> {
    /// The set guard for a map guard of the set's underlying map.
    pub(crate) fn new(inner: RefMulti<'a, K, ()>) -> Self {
        Self { inner }
    }

    /// The stored key.
    ///
    /// [Locking](crate::locking): never blocks; the guard already holds its shard's lock.
    ///
    /// ```
    /// let set = sharded_map::ShardedSet::new();
    /// set.insert(1);
    /// assert_eq!(*set.iter().next().unwrap().key(), 1);
    /// ```
    pub fn key(&self) -> &K {
        self.inner.key()
    }
}

impl<K> Deref for SetRefMulti<'_, K> {
    type Target = K;
    fn deref(&self) -> &K {
        self.key()
    }
}

impl<K: fmt::Debug> fmt::Debug for SetRefMulti<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.key().fmt(f)
    }
}

/// An iterator over a [`ShardedSet`]'s keys, yielding guards.
///
/// [Locking](crate::locking): holds the current shard's lock shared (see [`ShardedMap::iter`]).
///
/// ```
/// let set = sharded_map::ShardedSet::new();
/// set.insert(1);
/// let it: sharded_map::iter_set::Iter<'_, i32> = set.iter();
/// assert_eq!(it.count(), 1);
/// ```
///
/// `S` and `M` are DashMap's parameters (`dashmap::iter_set::Iter<'a, K, S, M>`), kept for drop-in
/// compatibility; they carry no data.
pub struct SetIter<'a, K, S = RandomState, M = ShardedMap<K, (), S>> {
    inner: Iter<'a, K, (), S, M>,
}

impl<'a, K, S, M> Iterator for SetIter<'a, K, S, M> {
    type Item = SetRefMulti<'a, K>;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(SetRefMulti::new)
    }
}

impl<K, S, M> FusedIterator for SetIter<'_, K, S, M> {}

impl<K, S, M> fmt::Debug for SetIter<'_, K, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SetIter").field(&self.inner).finish()
    }
}

/// An iterator that moves the keys out of a [`ShardedSet`].
///
/// [Locking](crate::locking): none (the set is owned).
///
/// ```
/// let set = sharded_map::ShardedSet::new();
/// set.insert(1);
/// let keys: Vec<i32> = set.into_iter().collect();
/// assert_eq!(keys, vec![1]);
/// ```
///
/// `S` is DashMap's hasher parameter (`dashmap::iter_set::OwningIter<K, S>`), kept for drop-in
/// compatibility; it carries no data.
pub struct SetOwningIter<K, S = RandomState> {
    inner: OwningIter<K, (), S>,
}

impl<K, S> Iterator for SetOwningIter<K, S> {
    type Item = K;
    fn next(&mut self) -> Option<K> {
        self.inner.next().map(|(k, ())| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, S> ExactSizeIterator for SetOwningIter<K, S> {}
impl<K, S> FusedIterator for SetOwningIter<K, S> {}

impl<K, S> fmt::Debug for SetOwningIter<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SetOwningIter").field(&self.inner).finish()
    }
}
