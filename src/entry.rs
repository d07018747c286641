//! The entry API: [`Entry`], [`OccupiedEntry`], [`VacantEntry`], from
//! [`ShardedMap::entry`](crate::ShardedMap::entry).
//!
//! An entry holds its shard's write lock from `entry()` until it is consumed or dropped (and a
//! [`RefMut`] made from it keeps holding it), so "look up, then insert or modify" is atomic.
#![deny(unsafe_code)]

use core::fmt;
use core::mem;

use core::marker::PhantomData;

use crate::guards::{NotSend, RefMut};
use crate::raw::shard::{ElemMut, Table, WriteGuard};

/// The bucket was found under the lock that the entry still holds, so it cannot have moved.
pub(crate) const HELD: &str = "sharded_map: entry's bucket vanished while its shard was locked";

/// A present entry of a write-locked table: the guard and the entry's bucket index. The part
/// that [`OccupiedEntry`] and `OccupiedEntryRef` (`entry_ref.rs`) share; they add the key that
/// was asked for.
pub(crate) struct Bucket<'a, K, V> {
    guard: WriteGuard<'a, K, V>,
    index: usize,
}

impl<'a, K, V> Bucket<'a, K, V> {
    /// The entry at `index`, which the caller found in the table that `guard` locks.
    pub(crate) fn new(guard: WriteGuard<'a, K, V>, index: usize) -> Self {
        Self { guard, index }
    }

    pub(crate) fn pair(&self) -> &(K, V) {
        self.guard.get_bucket(self.index).expect(HELD)
    }

    pub(crate) fn pair_mut(&mut self) -> &mut (K, V) {
        self.guard.get_bucket_mut(self.index).expect(HELD)
    }

    /// A guard on the value; the lock passes to it.
    pub(crate) fn into_ref(self) -> RefMut<'a, K, V> {
        let index = self.index;
        RefMut::new(
            ElemMut::new(self.guard, |t| t.get_bucket_mut(index))
                .ok()
                .expect(HELD),
        )
    }

    /// Removes the entry, returning the stored pair; the lock is released.
    pub(crate) fn remove_entry(mut self) -> (K, V) {
        let index = self.index;
        let table: &mut Table<K, V> = &mut self.guard;
        table.get_bucket_entry(index).ok().expect(HELD).remove().0
    }
}

/// A view into one key's slot, occupied or vacant. Holds the shard's write lock.
///
/// [Locking](crate::locking): the shard stays locked exclusively until the entry, or the [`RefMut`] it turns into,
/// is dropped. Calling a method of the same map that needs this shard from the same thread
/// meanwhile deadlocks.
///
/// ```
/// use sharded_map::{ShardedMap, mapref::entry::Entry};
/// let map = ShardedMap::new();
/// match map.entry("k") {
///     Entry::Occupied(_) => unreachable!(),
///     Entry::Vacant(v) => { v.insert(1); }
/// }
/// assert_eq!(*map.get("k").unwrap(), 1);
/// ```
pub enum Entry<'a, K, V> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V>),
}

impl<'a, K, V> Entry<'a, K, V> {
    /// Applies `f` to the value if the key is present.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// map.entry("k").and_modify(|v| *v += 1).or_insert(0);
    /// map.entry("j").and_modify(|v| *v += 1).or_insert(0);
    /// assert_eq!((*map.get("k").unwrap(), *map.get("j").unwrap()), (2, 0));
    /// ```
    pub fn and_modify(self, f: impl FnOnce(&mut V)) -> Self {
        match self {
            Entry::Occupied(mut e) => {
                f(e.get_mut());
                Entry::Occupied(e)
            }
            vacant => vacant,
        }
    }

    /// The key: the stored one if occupied, the given one if vacant.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<&str, i32> = sharded_map::ShardedMap::new();
    /// assert_eq!(*map.entry("k").key(), "k");
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => e.key(),
        }
    }

    /// The key that was passed to `entry`.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, i32> = sharded_map::ShardedMap::new();
    /// assert_eq!(map.entry("k".to_string()).into_key(), "k");
    /// ```
    pub fn into_key(self) -> K {
        match self {
            Entry::Occupied(e) => e.into_key(),
            Entry::Vacant(e) => e.into_key(),
        }
    }

    /// The value, inserting `V::default()` first if vacant.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<&str, Vec<u8>> = sharded_map::ShardedMap::new();
    /// map.entry("k").or_default().push(1);
    /// assert_eq!(*map.get("k").unwrap(), vec![1]);
    /// ```
    pub fn or_default(self) -> RefMut<'a, K, V>
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// The value, inserting `value` first if vacant.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// *map.entry("k").or_insert(0) += 5;
    /// assert_eq!(*map.get("k").unwrap(), 5);
    /// ```
    pub fn or_insert(self, value: V) -> RefMut<'a, K, V> {
        self.or_insert_with(|| value)
    }

    /// The value, inserting `f()` first if vacant. `f` runs under the shard's lock, at most once;
    /// if it panics nothing is inserted and the lock is released.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// assert_eq!(*map.entry("k").or_insert_with(|| 3), 3);
    /// assert_eq!(*map.entry("k").or_insert_with(|| unreachable!()), 3);
    /// ```
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(e) => e.into_ref(),
            Entry::Vacant(e) => e.insert(f()),
        }
    }

    /// The value, inserting `f(&key)` first if vacant.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// assert_eq!(*map.entry("four").or_insert_with_key(|k| k.len()), 4);
    /// ```
    pub fn or_insert_with_key(self, f: impl FnOnce(&K) -> V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(e) => e.into_ref(),
            Entry::Vacant(e) => {
                let value = f(e.key());
                e.insert(value)
            }
        }
    }

    /// The value, inserting the `Ok` of `f()` first if vacant; an `Err` inserts nothing and is
    /// returned.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard (on `Err`, it is released).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// assert!(map.entry("k").or_try_insert_with(|| Err::<i32, _>("no")).is_err());
    /// assert!(map.get("k").is_none());
    /// assert_eq!(*map.entry("k").or_try_insert_with(|| Ok::<_, ()>(1)).unwrap(), 1);
    /// ```
    pub fn or_try_insert_with<E>(
        self,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<RefMut<'a, K, V>, E> {
        match self {
            Entry::Occupied(e) => Ok(e.into_ref()),
            Entry::Vacant(e) => Ok(e.insert(f()?)),
        }
    }

    /// Sets the value (replacing any), returning a guard on it.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(*map.entry("k").insert(2), 2);
    /// ```
    pub fn insert(self, value: V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(mut e) => {
                e.insert(value);
                e.into_ref()
            }
            Entry::Vacant(e) => e.insert(value),
        }
    }

    /// Sets the value (replacing any), returning the now occupied entry.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// let e = map.entry("k").insert_entry(1);
    /// assert_eq!(*e.get(), 1);
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V>
    where
        K: Clone,
    {
        match self {
            Entry::Occupied(mut e) => {
                e.insert(value);
                e
            }
            Entry::Vacant(e) => e.insert_entry(value),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Entry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(e) => f.debug_tuple("Entry").field(e).finish(),
            Entry::Vacant(e) => f.debug_tuple("Entry").field(e).finish(),
        }
    }
}

/// A present key's slot. Holds the shard's write lock.
///
/// [Locking](crate::locking): holds its key's shard exclusively until dropped or turned into a [`RefMut`]; meanwhile a call from the same thread that needs this shard deadlocks.
///
/// ```
/// use sharded_map::mapref::entry::Entry;
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", 1);
/// if let Entry::Occupied(e) = map.entry("k") {
///     assert_eq!(e.remove(), 1);
/// }
/// assert!(map.is_empty());
/// ```
pub struct OccupiedEntry<'a, K, V> {
    bucket: Bucket<'a, K, V>,
    key: K,
    _not_send: NotSend,
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    pub(crate) fn new(guard: WriteGuard<'a, K, V>, index: usize, key: K) -> Self {
        Self {
            bucket: Bucket::new(guard, index),
            key,
            _not_send: PhantomData,
        }
    }

    fn pair(&self) -> &(K, V) {
        self.bucket.pair()
    }

    fn pair_mut(&mut self) -> &mut (K, V) {
        self.bucket.pair_mut()
    }

    /// The value.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(*e.get(), 1);
    /// ```
    pub fn get(&self) -> &V {
        &self.pair().1
    }

    /// The value, mutably.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(mut e) = map.entry("k") else { unreachable!() };
    /// *e.get_mut() = 2;
    /// drop(e);
    /// assert_eq!(*map.get("k").unwrap(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.pair_mut().1
    }

    /// Replaces the value, returning the old one.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(mut e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(e.insert(2), 1);
    /// ```
    pub fn insert(&mut self, value: V) -> V {
        mem::replace(self.get_mut(), value)
    }

    /// Turns the entry into a guard on the value (the lock stays held).
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(*e.into_ref(), 1);
    /// ```
    pub fn into_ref(self) -> RefMut<'a, K, V> {
        self.bucket.into_ref()
    }

    /// The key that was passed to `entry` (the stored key is dropped with the entry's value
    /// only when removed).
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(e.into_key(), "k");
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }

    /// The stored key.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(*e.key(), "k");
    /// ```
    pub fn key(&self) -> &K {
        &self.pair().0
    }

    /// Removes the entry, returning its value.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(e.remove(), 1);
    /// assert!(map.get("k").is_none());
    /// ```
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry, returning the stored key and the value.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(e.remove_entry(), ("k", 1));
    /// ```
    pub fn remove_entry(self) -> (K, V) {
        self.bucket.remove_entry()
    }

    /// Replaces the stored key with the one passed to `entry` and the value with `value`,
    /// returning the old pair.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// let Entry::Occupied(e) = map.entry("k") else { unreachable!() };
    /// assert_eq!(e.replace_entry(2), ("k", 1));
    /// assert_eq!(*map.get("k").unwrap(), 2);
    /// ```
    pub fn replace_entry(self, value: V) -> (K, V) {
        let OccupiedEntry {
            mut bucket, key, ..
        } = self;
        mem::replace(bucket.pair_mut(), (key, value))
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for OccupiedEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", self.key())
            .field("value", self.get())
            .finish()
    }
}

/// An absent key's slot. Holds the shard's write lock; room for one entry is already reserved.
///
/// [Locking](crate::locking): holds its key's shard exclusively until dropped or turned into a [`RefMut`]; meanwhile a call from the same thread that needs this shard deadlocks.
///
/// ```
/// use sharded_map::mapref::entry::Entry;
/// let map = sharded_map::ShardedMap::new();
/// if let Entry::Vacant(v) = map.entry("k") {
///     v.insert(1);
/// }
/// assert_eq!(*map.get("k").unwrap(), 1);
/// ```
pub struct VacantEntry<'a, K, V> {
    guard: WriteGuard<'a, K, V>,
    hash: u64,
    key: K,
    _not_send: NotSend,
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    pub(crate) fn new(guard: WriteGuard<'a, K, V>, hash: u64, key: K) -> Self {
        Self {
            guard,
            hash,
            key,
            _not_send: PhantomData,
        }
    }

    /// Inserts `value`, returning a guard on it (the lock stays held).
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// let Entry::Vacant(v) = map.entry("k") else { unreachable!() };
    /// assert_eq!(*v.insert(1), 1);
    /// ```
    pub fn insert(self, value: V) -> RefMut<'a, K, V> {
        let (hash, pair) = (self.hash, (self.key, value));
        let elem = ElemMut::new(self.guard, |t| {
            Some(insert_reserved(t, hash, pair).into_mut())
        });
        RefMut::new(elem.ok().expect(HELD))
    }

    /// Inserts `value`, returning the now occupied entry.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map = sharded_map::ShardedMap::new();
    /// let Entry::Vacant(v) = map.entry("k") else { unreachable!() };
    /// assert_eq!(v.insert_entry(1).remove_entry(), ("k", 1));
    /// ```
    pub fn insert_entry(mut self, value: V) -> OccupiedEntry<'a, K, V>
    where
        K: Clone,
    {
        let key = self.key.clone();
        let index = insert_reserved(&mut self.guard, self.hash, (self.key, value)).bucket_index();
        OccupiedEntry::new(self.guard, index, key)
    }

    /// The key that was passed to `entry`, given back.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map: sharded_map::ShardedMap<&str, i32> = sharded_map::ShardedMap::new();
    /// let Entry::Vacant(v) = map.entry("k") else { unreachable!() };
    /// assert_eq!(v.into_key(), "k");
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }

    /// The key that was passed to `entry`.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// use sharded_map::mapref::entry::Entry;
    /// let map: sharded_map::ShardedMap<&str, i32> = sharded_map::ShardedMap::new();
    /// let Entry::Vacant(v) = map.entry("k") else { unreachable!() };
    /// assert_eq!(*v.key(), "k");
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }
}

/// Inserts into a table that `entry()` already reserved room in, so the rehash closure is never
/// called.
pub(crate) fn insert_reserved<K, V>(
    table: &mut Table<K, V>,
    hash: u64,
    pair: (K, V),
) -> hashbrown::hash_table::OccupiedEntry<'_, (K, V)> {
    debug_assert!(
        table.capacity() > table.len(),
        "entry() reserves before handing out a VacantEntry"
    );
    table.insert_unique(hash, pair, |_| {
        unreachable!("sharded_map: room was reserved by entry()")
    })
}

impl<K: fmt::Debug, V> fmt::Debug for VacantEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VacantEntry")
            .field("key", self.key())
            .finish()
    }
}
