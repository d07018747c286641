//! Parallel iterators over a [`ShardedMap`]: [`Iter`], [`IterMut`] and [`OwningIter`].
#![deny(unsafe_code)]

use core::fmt;

use rayon::iter::plumbing::UnindexedConsumer;
use rayon::iter::{IntoParallelIterator, ParallelIterator};

use crate::deadlock::Site;
use crate::guards::{RefMulti, RefMutMulti};
use crate::raw::shard::{ShardIter, ShardIterMut, ShardRef, Table};
use crate::ShardedMap;

/// Hands the shards to rayon's workers; a worker that takes one opens it with `open` (which
/// locks it) and feeds its items to the consumer. The lock is released when the worker is done
/// with the shard and every item from it has been dropped.
fn each_shard<'a, K, V, I, C>(
    shards: Vec<ShardRef<'a, K, V>>,
    consumer: C,
    open: impl Fn(ShardRef<'a, K, V>) -> I + Sync + Send,
) -> C::Result
where
    K: Send + Sync,
    V: Send + Sync,
    I: Iterator,
    I::Item: Send,
    C: UnindexedConsumer<I::Item>,
{
    shards
        .into_par_iter()
        .flat_map_iter(open)
        .drive_unindexed(consumer)
}

/// A parallel iterator over a map's entries, yielding [`RefMulti`] guards; from `map.par_iter()`.
///
/// [Locking](crate::locking): each shard is locked shared while one worker iterates it (as for
/// [`ShardedMap::iter`]); items keep their shard locked until dropped.
///
/// ```
/// use rayon::prelude::*;
/// let map: sharded_map::ShardedMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
/// let it: sharded_map::rayon::map::Iter<'_, u32, u32> = map.par_iter();
/// assert_eq!(it.filter(|r| *r.value() % 2 == 0).count(), 50);
/// ```
pub struct Iter<'a, K, V> {
    shards: Vec<ShardRef<'a, K, V>>,
}

impl<'a, K: Send + Sync, V: Send + Sync> ParallelIterator for Iter<'a, K, V> {
    type Item = RefMulti<'a, K, V>;

    fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
        each_shard(self.shards, consumer, |shard| {
            ShardIter::new(shard.read_movable(Site::new("par_iter"))).map(RefMulti::new)
        })
    }
}

impl<'a, K: Send + Sync, V: Send + Sync, S> IntoParallelIterator for &'a ShardedMap<K, V, S> {
    type Iter = Iter<'a, K, V>;
    type Item = RefMulti<'a, K, V>;

    fn into_par_iter(self) -> Iter<'a, K, V> {
        Iter {
            shards: self.shard_refs().collect(),
        }
    }
}

impl<K, V> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

/// A parallel iterator over a map's entries with mutable access, yielding [`RefMutMulti`]
/// guards; from `map.par_iter_mut()`.
///
/// [Locking](crate::locking): each shard is locked exclusively while one worker iterates it (as for
/// [`ShardedMap::iter_mut`]); items keep their shard locked until dropped.
///
/// ```
/// use rayon::prelude::*;
/// let map: sharded_map::ShardedMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
/// let it: sharded_map::rayon::map::IterMut<'_, u32, u32> = map.par_iter_mut();
/// it.for_each(|mut r| *r += 1);
/// assert_eq!(*map.get(&99).unwrap(), 100);
/// ```
pub struct IterMut<'a, K, V> {
    shards: Vec<ShardRef<'a, K, V>>,
}

impl<'a, K: Send + Sync, V: Send + Sync> ParallelIterator for IterMut<'a, K, V> {
    type Item = RefMutMulti<'a, K, V>;

    fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
        each_shard(self.shards, consumer, |shard| {
            ShardIterMut::new(shard.write_movable(Site::new("par_iter_mut"))).map(RefMutMulti::new)
        })
    }
}

impl<'a, K: Send + Sync, V: Send + Sync, S> IntoParallelIterator for &'a mut ShardedMap<K, V, S> {
    type Iter = IterMut<'a, K, V>;
    type Item = RefMutMulti<'a, K, V>;

    fn into_par_iter(self) -> IterMut<'a, K, V> {
        self.par_iter_mut()
    }
}

impl<K, V> fmt::Debug for IterMut<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl<K: Send + Sync, V: Send + Sync, S> ShardedMap<K, V, S> {
    /// A parallel iterator with mutable access to every value (feature `rayon`), yielding
    /// [`RefMutMulti`] guards; through `&self`, as DashMap's.
    ///
    /// [Locking](crate::locking): takes each shard's lock exclusively while one worker iterates it; blocks while
    /// another thread holds a guard on that shard; deadlocks if the calling thread holds any
    /// guard on this map, or if the loop body touches the map.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let map: sharded_map::ShardedMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// map.par_iter_mut().for_each(|mut r| *r *= 10);
    /// assert_eq!(*map.get(&7).unwrap(), 70);
    /// ```
    pub fn par_iter_mut(&self) -> IterMut<'_, K, V> {
        IterMut {
            shards: self.shard_refs().collect(),
        }
    }
}

/// A parallel iterator that moves the entries out of a map; from `map.into_par_iter()`.
///
/// [Locking](crate::locking): none (the map is owned).
///
/// ```
/// use rayon::prelude::*;
/// let map: sharded_map::ShardedMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
/// let it: sharded_map::rayon::map::OwningIter<u32, u32> = map.into_par_iter();
/// assert_eq!(it.map(|(_, v)| v).sum::<u32>(), 4950);
/// ```
pub struct OwningIter<K, V> {
    tables: Vec<Table<K, V>>,
}

impl<K, V> OwningIter<K, V> {
    pub(crate) fn from_tables(tables: Vec<Table<K, V>>) -> Self {
        Self { tables }
    }
}

impl<K: Send, V: Send> ParallelIterator for OwningIter<K, V> {
    type Item = (K, V);

    fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
        self.tables
            .into_par_iter()
            .flat_map_iter(Table::into_iter)
            .drive_unindexed(consumer)
    }
}

impl<K: Send, V: Send, S> IntoParallelIterator for ShardedMap<K, V, S> {
    type Iter = OwningIter<K, V>;
    type Item = (K, V);

    fn into_par_iter(self) -> OwningIter<K, V> {
        OwningIter::from_tables(self.into_parts().0)
    }
}

impl<K, V> fmt::Debug for OwningIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let remaining: usize = self.tables.iter().map(Table::len).sum();
        f.debug_struct("OwningIter")
            .field("remaining", &remaining)
            .finish()
    }
}
