//! Iterators over a [`ShardedMap`]: [`Iter`] (shared), [`IterMut`] (exclusive) and
//! [`OwningIter`] (by value).
//!
//! `Iter` and `IterMut` lock one shard at a time: a shard is locked when the iterator reaches it
//! and released when the iterator moves on and every item yielded from it has been dropped.
#![deny(unsafe_code)]

use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;

use crate::deadlock::Site;
use crate::guards::{RefMulti, RefMutMulti};
use crate::raw::shard::{ShardIter, ShardIterMut, ShardRef, ShardRefs, Table};
use crate::{RandomState, ShardedMap};

/// Walks the shards in order, opening each with `open` only after the previous one is closed.
struct ShardWalk<'a, K, V, I> {
    shards: ShardRefs<'a, K, V>,
    current: Option<I>,
}

impl<K, V, I: Clone> Clone for ShardWalk<'_, K, V, I> {
    fn clone(&self) -> Self {
        Self {
            shards: self.shards.clone(),
            current: self.current.clone(),
        }
    }
}

impl<'a, K, V, I: Iterator> ShardWalk<'a, K, V, I> {
    fn next(&mut self, open: impl Fn(ShardRef<'a, K, V>) -> I) -> Option<I::Item> {
        loop {
            if let Some(item) = self.current.as_mut().and_then(Iterator::next) {
                return Some(item);
            }
            // Release this shard before locking the next one.
            self.current = None;
            self.current = Some(open(self.shards.next()?));
        }
    }
}

/// An iterator over the entries of a [`ShardedMap`], yielding [`RefMulti`] guards.
///
/// [Locking](crate::locking): holds the current shard's lock shared (see [`ShardedMap::iter`]).
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert(1, 2);
/// let it: sharded_map::iter::Iter<'_, i32, i32> = map.iter();
/// assert_eq!(it.count(), 1);
/// ```
///
/// `S` and `M` are DashMap's parameters (the hasher and the map type), kept so that code naming
/// `dashmap::iter::Iter<'a, K, V, S>` compiles after the rename; they carry no data.
pub struct Iter<'a, K, V, S = RandomState, M = ShardedMap<K, V, S>> {
    walk: ShardWalk<'a, K, V, ShardIter<'a, K, V>>,
    /// The `iter` call, for the deadlock check.
    site: Site,
    _map: PhantomData<fn() -> (S, M)>,
}

impl<'a, K, V, S> Iter<'a, K, V, S> {
    pub(crate) fn new(map: &'a ShardedMap<K, V, S>, site: Site) -> Self {
        Self {
            walk: ShardWalk {
                shards: map.shard_refs(),
                current: None,
            },
            site,
            _map: PhantomData,
        }
    }
}

impl<'a, K, V, S, M> Iterator for Iter<'a, K, V, S, M> {
    type Item = RefMulti<'a, K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        let site = self.site;
        self.walk
            .next(|shard| ShardIter::new(shard.read_movable(site)))
            .map(RefMulti::new)
    }
}

impl<K, V, S, M> FusedIterator for Iter<'_, K, V, S, M> {}

/// A clone continues from the same position, independently; it shares the current shard's read
/// lock and takes its own locks on the shards after it, as DashMap's `Iter::clone` does.
///
/// [Locking](crate::locking): never blocks; the clone holds the current shard shared too.
///
/// ```
/// let map: sharded_map::ShardedMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
/// let mut it = map.iter();
/// it.next();
/// let rest = it.clone();
/// assert_eq!(it.count(), 9);
/// assert_eq!(rest.count(), 9);
/// ```
impl<K, V, S, M> Clone for Iter<'_, K, V, S, M> {
    fn clone(&self) -> Self {
        Self {
            walk: self.walk.clone(),
            site: self.site,
            _map: PhantomData,
        }
    }
}

impl<K, V, S, M> fmt::Debug for Iter<'_, K, V, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("shards_left", &self.walk.shards.len())
            .finish_non_exhaustive()
    }
}

/// An iterator over the entries of a [`ShardedMap`] with mutable access, yielding
/// [`RefMutMulti`] guards.
///
/// [Locking](crate::locking): holds the current shard's lock exclusively (see [`ShardedMap::iter_mut`]).
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert(1, 2);
/// let it: sharded_map::iter::IterMut<'_, i32, i32> = map.iter_mut();
/// it.for_each(|mut r| *r += 1);
/// assert_eq!(*map.get(&1).unwrap(), 3);
/// ```
///
/// `S` and `M` are DashMap's parameters, kept for drop-in compatibility; they carry no data.
pub struct IterMut<'a, K, V, S = RandomState, M = ShardedMap<K, V, S>> {
    walk: ShardWalk<'a, K, V, ShardIterMut<'a, K, V>>,
    /// The `iter_mut` call, for the deadlock check.
    site: Site,
    _map: PhantomData<fn() -> (S, M)>,
}

impl<'a, K, V, S> IterMut<'a, K, V, S> {
    pub(crate) fn new(map: &'a ShardedMap<K, V, S>, site: Site) -> Self {
        Self {
            walk: ShardWalk {
                shards: map.shard_refs(),
                current: None,
            },
            site,
            _map: PhantomData,
        }
    }
}

impl<'a, K, V, S, M> Iterator for IterMut<'a, K, V, S, M> {
    type Item = RefMutMulti<'a, K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        let site = self.site;
        self.walk
            .next(|shard| ShardIterMut::new(shard.write_movable(site)))
            .map(RefMutMulti::new)
    }
}

impl<K, V, S, M> FusedIterator for IterMut<'_, K, V, S, M> {}

impl<K, V, S, M> fmt::Debug for IterMut<'_, K, V, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut")
            .field("shards_left", &self.walk.shards.len())
            .finish_non_exhaustive()
    }
}

/// An iterator that moves the entries out of a [`ShardedMap`]; from `map.into_iter()`.
///
/// [Locking](crate::locking): none (the map is owned).
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert(1, "a");
/// let pairs: Vec<(i32, &str)> = map.into_iter().collect();
/// assert_eq!(pairs, vec![(1, "a")]);
/// ```
///
/// `S` is DashMap's hasher parameter, kept for drop-in compatibility; it carries no data.
pub struct OwningIter<K, V, S = RandomState> {
    inner: core::iter::Flatten<std::vec::IntoIter<Table<K, V>>>,
    remaining: usize,
    _hasher: PhantomData<fn() -> S>,
}

impl<K, V, S> OwningIter<K, V, S> {
    pub(crate) fn new(tables: Vec<Table<K, V>>) -> Self {
        let remaining = tables.iter().map(Table::len).sum();
        Self {
            inner: tables.into_iter().flatten(),
            remaining,
            _hasher: PhantomData,
        }
    }
}

impl<K, V, S> Iterator for OwningIter<K, V, S> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        let item = self.inner.next()?;
        self.remaining -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V, S> ExactSizeIterator for OwningIter<K, V, S> {}
impl<K, V, S> FusedIterator for OwningIter<K, V, S> {}

impl<K, V, S> fmt::Debug for OwningIter<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwningIter")
            .field("remaining", &self.remaining)
            .finish()
    }
}
