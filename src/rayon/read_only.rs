//! Parallel iteration over a [`ReadOnlyView`] (feature `rayon`), at DashMap's path
//! `rayon::read_only`: `view.par_iter()` yields [`Ref`] items (no lock: the view owns plain
//! tables), `view.into_par_iter()` yields owned pairs.
#![deny(unsafe_code)]

use core::fmt;
use core::ops::Deref;

use rayon::iter::plumbing::UnindexedConsumer;
use rayon::iter::{IntoParallelIterator, ParallelIterator};

use crate::raw::shard::Table;
use crate::rayon::map::OwningIter;
use crate::ReadOnlyView;

/// One entry of a [`ReadOnlyView`], yielded by `view.par_iter()`: the accessors of DashMap's
/// `RefMulti` (`key`, `value`, `pair`, `Deref` to the value) over plain references, since a view
/// holds no locks.
///
/// [Locking](crate::locking): none.
///
/// ```
/// use rayon::prelude::*;
/// let view = sharded_map::ShardedMap::from([(1, 10), (2, 20)]).into_read_only();
/// let sum: i32 = view.par_iter().map(|r| *r.key() + *r.value()).sum();
/// assert_eq!(sum, 33);
/// ```
pub struct Ref<'a, K, V> {
    key: &'a K,
    value: &'a V,
}

impl<'a, K, V> Ref<'a, K, V> {
    /// The entry's key.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let view = sharded_map::ShardedMap::from([(1, 10)]).into_read_only();
    /// view.par_iter().for_each(|r| assert_eq!(*r.key(), 1));
    /// ```
    pub fn key(&self) -> &'a K {
        self.key
    }

    /// The entry's value.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let view = sharded_map::ShardedMap::from([(1, 10)]).into_read_only();
    /// view.par_iter().for_each(|r| assert_eq!(*r.value(), 10));
    /// ```
    pub fn value(&self) -> &'a V {
        self.value
    }

    /// The key and the value.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let view = sharded_map::ShardedMap::from([(1, 10)]).into_read_only();
    /// view.par_iter().for_each(|r| assert_eq!(r.pair(), (&1, &10)));
    /// ```
    pub fn pair(&self) -> (&'a K, &'a V) {
        (self.key, self.value)
    }
}

impl<K, V> Clone for Ref<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for Ref<'_, K, V> {}

impl<K, V> Deref for Ref<'_, K, V> {
    type Target = V;
    fn deref(&self) -> &V {
        self.value
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Ref<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ref")
            .field("key", self.key)
            .field("value", self.value)
            .finish()
    }
}

/// A parallel iterator over a [`ReadOnlyView`]'s entries, yielding [`Ref`]; from
/// `view.par_iter()` or `(&view).into_par_iter()`.
///
/// [Locking](crate::locking): none.
///
/// ```
/// use rayon::prelude::*;
/// let view = sharded_map::ShardedMap::from([(1, 10), (2, 20)]).into_read_only();
/// let it: sharded_map::rayon::read_only::Iter<'_, i32, i32> = view.par_iter();
/// assert_eq!(it.count(), 2);
/// ```
pub struct Iter<'a, K, V> {
    tables: &'a [Table<K, V>],
}

impl<'a, K: Sync, V: Sync> ParallelIterator for Iter<'a, K, V> {
    type Item = Ref<'a, K, V>;

    fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
        self.tables
            .into_par_iter()
            .flat_map_iter(|table| table.iter().map(|(key, value)| Ref { key, value }))
            .drive_unindexed(consumer)
    }
}

impl<K, V> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("shards", &self.tables.len())
            .finish_non_exhaustive()
    }
}

/// `view.par_iter()` and `(&view).into_par_iter()`: every entry, in parallel, with no locking.
///
/// [Locking](crate::locking): none.
///
/// ```
/// use rayon::prelude::*;
/// let view = sharded_map::ShardedMap::from([(1, 1), (2, 2)]).into_read_only();
/// assert_eq!((&view).into_par_iter().map(|r| *r.value()).sum::<i32>(), 3);
/// ```
impl<'a, K: Sync, V: Sync, S> IntoParallelIterator for &'a ReadOnlyView<K, V, S> {
    type Iter = Iter<'a, K, V>;
    type Item = Ref<'a, K, V>;

    fn into_par_iter(self) -> Iter<'a, K, V> {
        Iter {
            tables: self.tables(),
        }
    }
}

/// `view.into_par_iter()`: moves the entries out, in parallel.
///
/// [Locking](crate::locking): none (the view is owned).
///
/// ```
/// use rayon::prelude::*;
/// let view = sharded_map::ShardedMap::from([(1, 1), (2, 2)]).into_read_only();
/// let mut pairs: Vec<(i32, i32)> = view.into_par_iter().collect();
/// pairs.sort();
/// assert_eq!(pairs, [(1, 1), (2, 2)]);
/// ```
impl<K: Send, V: Send, S> IntoParallelIterator for ReadOnlyView<K, V, S> {
    type Iter = OwningIter<K, V>;
    type Item = (K, V);

    fn into_par_iter(self) -> OwningIter<K, V> {
        OwningIter::from_tables(self.into_inner().into_parts().0)
    }
}
