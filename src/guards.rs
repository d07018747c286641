//! Guards on entries: [`Ref`], [`RefMut`], [`MappedRef`], [`MappedRefMut`] (one key, from `get`,
//! `get_mut` and entries) and [`RefMulti`], [`RefMutMulti`] (iteration items).
//!
//! Every guard keeps its shard locked until it drops, and lends out references whose lifetime is
//! the guard's borrow, never the map's: a reference cannot outlive its guard.
#![deny(unsafe_code)]

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::raw::shard::{ElemMut, ElemRef, ReadGuard, SingleKeyGuardsAreNotSend, WriteGuard};

/// Makes single-key guards `!Send` (holding one across an `.await` in a task that may move
/// between threads is a compile error rather than a deadlock) while leaving them `Sync`.
pub(crate) type NotSend = PhantomData<SingleKeyGuardsAreNotSend>;

macro_rules! shared_accessors {
    ($t:ident) => {
        /// The entry's key.
        ///
        /// [Locking](crate::locking): never blocks; the guard already holds its shard's lock.
        ///
        /// ```
        /// let map = sharded_map::ShardedMap::new();
        /// map.insert("k", 1);
        /// assert_eq!(*map.get("k").unwrap().key(), "k");
        /// ```
        pub fn key(&self) -> &K {
            self.inner.key()
        }

        /// The value (or the part of it this guard was mapped to).
        ///
        /// [Locking](crate::locking): never blocks; the guard already holds its shard's lock.
        ///
        /// ```
        /// let map = sharded_map::ShardedMap::new();
        /// map.insert("k", 1);
        /// assert_eq!(*map.get("k").unwrap().value(), 1);
        /// ```
        pub fn value(&self) -> &$t {
            self.inner.value()
        }

        /// The key and the value.
        ///
        /// [Locking](crate::locking): never blocks; the guard already holds its shard's lock.
        ///
        /// ```
        /// let map = sharded_map::ShardedMap::new();
        /// map.insert("k", 1);
        /// assert_eq!(map.get("k").unwrap().pair(), (&"k", &1));
        /// ```
        pub fn pair(&self) -> (&K, &$t) {
            (self.inner.key(), self.inner.value())
        }
    };
}

macro_rules! mut_accessors {
    ($t:ident) => {
        /// The value, mutably.
        ///
        /// [Locking](crate::locking): never blocks; the guard already holds its shard's lock.
        ///
        /// ```
        /// let map = sharded_map::ShardedMap::new();
        /// map.insert("k", 1);
        /// *map.get_mut("k").unwrap().value_mut() = 5;
        /// assert_eq!(*map.get("k").unwrap(), 5);
        /// ```
        pub fn value_mut(&mut self) -> &mut $t {
            self.inner.value_mut()
        }

        /// The key, and the value mutably.
        ///
        /// [Locking](crate::locking): never blocks; the guard already holds its shard's lock.
        ///
        /// ```
        /// let map = sharded_map::ShardedMap::new();
        /// map.insert("k", 1);
        /// let mut guard = map.get_mut("k").unwrap();
        /// let (k, v) = guard.pair_mut();
        /// *v += k.len();
        /// drop(guard);
        /// assert_eq!(*map.get("k").unwrap(), 2);
        /// ```
        pub fn pair_mut(&mut self) -> (&K, &mut $t) {
            self.inner.pair_mut()
        }
    };
}

macro_rules! guard_traits {
    ($name:ident $(< $($p:ident),* >)?, $t:ident) => {
        impl<K, V, $($($p: ?Sized),*)?> Deref for $name<'_, K, V $($(, $p)*)?> {
            type Target = $t;
            fn deref(&self) -> &$t {
                self.inner.value()
            }
        }

        impl<K: fmt::Debug, V, $($($p: ?Sized),*)?> fmt::Debug for $name<'_, K, V $($(, $p)*)?>
        where
            $t: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("key", self.inner.key())
                    .field("value", &self.inner.value())
                    .finish()
            }
        }
    };
}

macro_rules! guard_deref_mut {
    ($name:ident $(< $($p:ident),* >)?, $t:ident) => {
        impl<K, V, $($($p: ?Sized),*)?> DerefMut for $name<'_, K, V $($(, $p)*)?> {
            fn deref_mut(&mut self) -> &mut $t {
                self.inner.value_mut()
            }
        }
    };
}

/// A shared guard on one entry, from [`ShardedMap::get`](crate::ShardedMap::get). Dereferences to
/// the value.
///
/// Holds the entry's shard locked shared until dropped. `!Send`.
///
/// [Locking](crate::locking): holds its key's shard shared until dropped. The same thread may still read (`get`, `iter`, ... on any key); a writing call that needs this shard deadlocks.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", 1);
/// let r = map.get("k").unwrap();
/// assert_eq!((*r.key(), *r), ("k", 1));
/// ```
pub struct Ref<'a, K, V> {
    inner: ElemRef<ReadGuard<'a, K, V>, K, V>,
    _not_send: NotSend,
}

impl<'a, K, V> Ref<'a, K, V> {
    pub(crate) fn new(inner: ElemRef<ReadGuard<'a, K, V>, K, V>) -> Self {
        Self {
            inner,
            _not_send: PhantomData,
        }
    }

    shared_accessors!(V);

    /// Narrows the guard to a part of the value.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", (1, String::from("x")));
    /// let s = map.get("k").unwrap().map(|v| &v.1);
    /// assert_eq!(&*s, "x");
    /// ```
    pub fn map<F, T: ?Sized>(self, f: F) -> MappedRef<'a, K, V, T>
    where
        F: FnOnce(&V) -> &T,
    {
        MappedRef {
            inner: self.inner.map(f),
            _not_send: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` finds one; otherwise gives it back.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", vec![1, 2]);
    /// assert!(map.get("k").unwrap().try_map(|v| v.get(5)).is_err());
    /// assert_eq!(*map.get("k").unwrap().try_map(|v| v.get(1)).unwrap(), 2);
    /// ```
    pub fn try_map<F, T: ?Sized>(self, f: F) -> Result<MappedRef<'a, K, V, T>, Self>
    where
        F: FnOnce(&V) -> Option<&T>,
    {
        self.inner
            .try_map(f)
            .map(|inner| MappedRef {
                inner,
                _not_send: PhantomData,
            })
            .map_err(Self::new)
    }
}

guard_traits!(Ref, V);

/// An exclusive guard on one entry, from [`ShardedMap::get_mut`](crate::ShardedMap::get_mut) or
/// an entry. Dereferences (mutably) to the value.
///
/// Holds the entry's shard locked exclusively until dropped. `!Send`.
///
/// [Locking](crate::locking): holds its key's shard exclusively until dropped. Any call from the same thread that needs this shard deadlocks.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", 1);
/// *map.get_mut("k").unwrap() += 1;
/// assert_eq!(*map.get("k").unwrap(), 2);
/// ```
pub struct RefMut<'a, K, V> {
    inner: ElemMut<WriteGuard<'a, K, V>, K, V>,
    _not_send: NotSend,
}

impl<'a, K, V> RefMut<'a, K, V> {
    pub(crate) fn new(inner: ElemMut<WriteGuard<'a, K, V>, K, V>) -> Self {
        Self {
            inner,
            _not_send: PhantomData,
        }
    }

    shared_accessors!(V);
    mut_accessors!(V);

    /// Turns the exclusive guard into a shared one without releasing the entry: no writer can
    /// get in between.
    ///
    /// [Locking](crate::locking): never blocks; afterwards other readers of the shard may proceed, writers still wait.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// let r = map.entry("k").or_insert(1).downgrade();
    /// assert_eq!(*map.get("k").unwrap(), *r); // other readers may now proceed
    /// ```
    pub fn downgrade(self) -> Ref<'a, K, V> {
        Ref::new(self.inner.downgrade())
    }

    /// Narrows the guard to a part of the value.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", (1, 2));
    /// *map.get_mut("k").unwrap().map(|v| &mut v.1) = 5;
    /// assert_eq!(*map.get("k").unwrap(), (1, 5));
    /// ```
    pub fn map<F, T: ?Sized>(self, f: F) -> MappedRefMut<'a, K, V, T>
    where
        F: FnOnce(&mut V) -> &mut T,
    {
        MappedRefMut {
            inner: self.inner.map(f),
            _not_send: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` finds one; otherwise gives it back.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", vec![1]);
    /// *map.get_mut("k").unwrap().try_map(|v| v.get_mut(0)).unwrap() = 7;
    /// assert_eq!(map.get("k").unwrap()[0], 7);
    /// ```
    pub fn try_map<F, T: ?Sized>(self, f: F) -> Result<MappedRefMut<'a, K, V, T>, Self>
    where
        F: FnOnce(&mut V) -> Option<&mut T>,
    {
        self.inner
            .try_map(f)
            .map(|inner| MappedRefMut {
                inner,
                _not_send: PhantomData,
            })
            .map_err(Self::new)
    }
}

guard_traits!(RefMut, V);
guard_deref_mut!(RefMut, V);

/// A shared guard on a part of one entry's value, from [`Ref::map`]. `!Send`.
///
/// [Locking](crate::locking): like [`Ref`]: holds the shard shared until dropped.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", String::from("hello"));
/// let s: sharded_map::mapref::one::MappedRef<'_, &str, String, str> =
///     map.get("k").unwrap().map(|s| s.as_str());
/// assert_eq!(&*s, "hello");
/// ```
pub struct MappedRef<'a, K, V, T: ?Sized> {
    inner: ElemRef<ReadGuard<'a, K, V>, K, T>,
    _not_send: NotSend,
}

impl<'a, K, V, T: ?Sized> MappedRef<'a, K, V, T> {
    shared_accessors!(T);

    /// Narrows further.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", ((1, 2), 3));
    /// let r = map.get("k").unwrap().map(|v| &v.0).map(|v| &v.1);
    /// assert_eq!(*r, 2);
    /// ```
    pub fn map<F, T2: ?Sized>(self, f: F) -> MappedRef<'a, K, V, T2>
    where
        F: FnOnce(&T) -> &T2,
    {
        MappedRef {
            inner: self.inner.map(f),
            _not_send: PhantomData,
        }
    }

    /// Narrows further if `f` finds a part; otherwise gives the guard back.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", (vec![1], 0));
    /// let r = map.get("k").unwrap().map(|v| &v.0);
    /// assert!(r.try_map(|v| v.get(3)).is_err());
    /// ```
    pub fn try_map<F, T2: ?Sized>(self, f: F) -> Result<MappedRef<'a, K, V, T2>, Self>
    where
        F: FnOnce(&T) -> Option<&T2>,
    {
        match self.inner.try_map(f) {
            Ok(inner) => Ok(MappedRef {
                inner,
                _not_send: PhantomData,
            }),
            Err(inner) => Err(MappedRef {
                inner,
                _not_send: PhantomData,
            }),
        }
    }
}

guard_traits!(MappedRef<T>, T);

impl<K, V, T: ?Sized + fmt::Display> fmt::Display for MappedRef<'_, K, V, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.value(), f)
    }
}

impl<K, V, T: ?Sized + AsRef<U>, U: ?Sized> AsRef<U> for MappedRef<'_, K, V, T> {
    fn as_ref(&self) -> &U {
        self.value().as_ref()
    }
}

/// An exclusive guard on a part of one entry's value, from [`RefMut::map`]. `!Send`.
///
/// [Locking](crate::locking): like [`RefMut`]: holds the shard exclusively until dropped.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", (0, 0));
/// let mut r = map.get_mut("k").unwrap().map(|v| &mut v.0);
/// *r += 1;
/// drop(r);
/// assert_eq!(*map.get("k").unwrap(), (1, 0));
/// ```
pub struct MappedRefMut<'a, K, V, T: ?Sized> {
    inner: ElemMut<WriteGuard<'a, K, V>, K, T>,
    _not_send: NotSend,
}

impl<'a, K, V, T: ?Sized> MappedRefMut<'a, K, V, T> {
    shared_accessors!(T);
    mut_accessors!(T);

    /// Narrows further.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", ((0, 0), 0));
    /// *map.get_mut("k").unwrap().map(|v| &mut v.0).map(|v| &mut v.1) = 9;
    /// assert_eq!(*map.get("k").unwrap(), ((0, 9), 0));
    /// ```
    pub fn map<F, T2: ?Sized>(self, f: F) -> MappedRefMut<'a, K, V, T2>
    where
        F: FnOnce(&mut T) -> &mut T2,
    {
        MappedRefMut {
            inner: self.inner.map(f),
            _not_send: PhantomData,
        }
    }

    /// Narrows further if `f` finds a part; otherwise gives the guard back.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard (or stays with this one).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", (vec![0], 0));
    /// let r = map.get_mut("k").unwrap().map(|v| &mut v.0);
    /// assert!(r.try_map(|v| v.get_mut(4)).is_err());
    /// ```
    pub fn try_map<F, T2: ?Sized>(self, f: F) -> Result<MappedRefMut<'a, K, V, T2>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut T2>,
    {
        match self.inner.try_map(f) {
            Ok(inner) => Ok(MappedRefMut {
                inner,
                _not_send: PhantomData,
            }),
            Err(inner) => Err(MappedRefMut {
                inner,
                _not_send: PhantomData,
            }),
        }
    }
}

guard_traits!(MappedRefMut<T>, T);
guard_deref_mut!(MappedRefMut<T>, T);

/// A shared guard on one entry, yielded by [`ShardedMap::iter`](crate::ShardedMap::iter).
///
/// It shares its shard's read lock with the iterator and the other items from that shard; the
/// shard stays read-locked while any of them lives (so collecting items keeps shards locked).
///
/// [Locking](crate::locking): shares its shard's read lock with the iterator; the shard stays read-locked until the iterator has moved on and every item from that shard is dropped.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert(1, "a");
/// for r in map.iter() {
///     assert_eq!(r.pair(), (&1, &"a"));
/// }
/// ```
pub struct RefMulti<'a, K, V> {
    inner: ElemRef<Arc<ReadGuard<'a, K, V>>, K, V>,
}

impl<'a, K, V> RefMulti<'a, K, V> {
    pub(crate) fn new(inner: ElemRef<Arc<ReadGuard<'a, K, V>>, K, V>) -> Self {
        Self { inner }
    }

    shared_accessors!(V);
}

guard_traits!(RefMulti, V);

/// An exclusive guard on one entry, yielded by
/// [`ShardedMap::iter_mut`](crate::ShardedMap::iter_mut). Shares its shard's write lock with the
/// iterator and the other items from that shard.
///
/// [Locking](crate::locking): shares its shard's write lock with the iterator; the shard stays write-locked until the iterator has moved on and every item from that shard is dropped.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert(1, 1);
/// for mut r in map.iter_mut() {
///     *r *= 10;
/// }
/// assert_eq!(*map.get(&1).unwrap(), 10);
/// ```
pub struct RefMutMulti<'a, K, V> {
    inner: ElemMut<Arc<WriteGuard<'a, K, V>>, K, V>,
}

impl<'a, K, V> RefMutMulti<'a, K, V> {
    pub(crate) fn new(inner: ElemMut<Arc<WriteGuard<'a, K, V>>, K, V>) -> Self {
        Self { inner }
    }

    shared_accessors!(V);
    mut_accessors!(V);
}

guard_traits!(RefMutMulti, V);
guard_deref_mut!(RefMutMulti, V);
