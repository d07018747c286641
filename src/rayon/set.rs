//! Parallel iterators over a [`ShardedSet`]: [`Iter`] and [`OwningIter`].
#![deny(unsafe_code)]

use core::fmt;

use rayon::iter::plumbing::UnindexedConsumer;
use rayon::iter::{IntoParallelIterator, ParallelIterator};

use crate::set::SetRefMulti;
use crate::ShardedSet;

/// A parallel iterator over a set's keys, yielding guards; from `set.par_iter()`.
///
/// [Locking](crate::locking): each shard is locked shared while one worker iterates it (as for
/// [`ShardedSet::iter`]).
///
/// ```
/// use rayon::prelude::*;
/// let set: sharded_map::ShardedSet<u32> = (0..100).collect();
/// let it: sharded_map::rayon::set::Iter<'_, u32> = set.par_iter();
/// assert_eq!(it.map(|k| *k).sum::<u32>(), 4950);
/// ```
pub struct Iter<'a, K> {
    inner: super::map::Iter<'a, K, ()>,
}

impl<'a, K: Send + Sync> ParallelIterator for Iter<'a, K> {
    type Item = SetRefMulti<'a, K>;

    fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
        self.inner.map(SetRefMulti::new).drive_unindexed(consumer)
    }
}

impl<'a, K: Send + Sync, S> IntoParallelIterator for &'a ShardedSet<K, S> {
    type Iter = Iter<'a, K>;
    type Item = SetRefMulti<'a, K>;

    fn into_par_iter(self) -> Iter<'a, K> {
        Iter {
            inner: self.map().into_par_iter(),
        }
    }
}

impl<K> fmt::Debug for Iter<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Iter").field(&self.inner).finish()
    }
}

/// A parallel iterator that moves the keys out of a set; from `set.into_par_iter()`.
///
/// [Locking](crate::locking): none (the set is owned).
///
/// ```
/// use rayon::prelude::*;
/// let set: sharded_map::ShardedSet<u32> = (0..100).collect();
/// let it: sharded_map::rayon::set::OwningIter<u32> = set.into_par_iter();
/// assert_eq!(it.sum::<u32>(), 4950);
/// ```
pub struct OwningIter<K> {
    inner: super::map::OwningIter<K, ()>,
}

impl<K: Send> ParallelIterator for OwningIter<K> {
    type Item = K;

    fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
        self.inner.map(|(key, ())| key).drive_unindexed(consumer)
    }
}

impl<K: Send, S> IntoParallelIterator for ShardedSet<K, S> {
    type Iter = OwningIter<K>;
    type Item = K;

    fn into_par_iter(self) -> OwningIter<K> {
        OwningIter {
            inner: self.into_map().into_par_iter(),
        }
    }
}

impl<K> fmt::Debug for OwningIter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwningIter").field(&self.inner).finish()
    }
}
