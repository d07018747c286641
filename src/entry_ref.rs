//! The entry API for a borrowed key (DashMap 7's `entry_ref`): [`EntryRef`],
//! [`OccupiedEntryRef`], [`VacantEntryRef`], from
//! [`ShardedMap::entry_ref`](crate::ShardedMap::entry_ref).
//!
//! Like [`Entry`](crate::Entry), an `EntryRef` holds its shard's write lock until it is consumed
//! or dropped. It is looked up with a borrowed `&Q` (`&str` for `String` keys), and an owned key
//! is made with `K::from(&Q)` only when one is stored or asked for: a hit allocates nothing.
#![deny(unsafe_code)]

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use core::mem;

use equivalent::Equivalent;

use crate::deadlock::Site;
use crate::entry::{insert_reserved, Bucket, HELD};
use crate::guards::{NotSend, RefMut};
use crate::raw::route::equivalent_key;
use crate::raw::shard::{ElemMut, WriteGuard};
use crate::ShardedMap;

/// A view into one key's slot, found with a borrowed key; occupied or vacant. Holds the shard's
/// write lock.
///
/// [Locking](crate::locking): the shard stays locked exclusively until the entry, or the
/// [`RefMut`] it turns into, is dropped; a call from the same thread that needs this shard
/// meanwhile deadlocks (the deadlock check reports it).
///
/// ```
/// use sharded_map::{EntryRef, ShardedMap};
/// let map: ShardedMap<String, u32> = ShardedMap::new();
/// // Looked up by &str; the String is made only because the key is inserted.
/// *map.entry_ref("apples").or_insert(0) += 1;
/// *map.entry_ref("apples").or_insert(0) += 1;
/// assert!(matches!(map.entry_ref("apples"), EntryRef::Occupied(_)));
/// assert_eq!(map.get_cloned("apples"), Some(2));
/// ```
pub enum EntryRef<'a, 'q, K, Q: ?Sized, V> {
    /// The key is present.
    Occupied(OccupiedEntryRef<'a, 'q, K, Q, V>),
    /// The key is absent.
    Vacant(VacantEntryRef<'a, 'q, K, Q, V>),
}

impl<'a, 'q, K, Q: ?Sized, V> EntryRef<'a, 'q, K, Q, V> {
    /// Applies `f` to the value if the key is present.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.entry_ref("k").and_modify(|v| *v += 1).or_insert(5);
    /// map.entry_ref("k").and_modify(|v| *v += 1).or_insert(5);
    /// assert_eq!(map.get_cloned("k"), Some(6));
    /// ```
    pub fn and_modify(self, f: impl FnOnce(&mut V)) -> Self {
        match self {
            EntryRef::Occupied(mut e) => {
                f(e.get_mut());
                EntryRef::Occupied(e)
            }
            vacant => vacant,
        }
    }

    /// The borrowed key that was passed to `entry_ref`.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// assert_eq!(map.entry_ref("k").key(), "k");
    /// ```
    pub fn key(&self) -> &'q Q {
        match self {
            EntryRef::Occupied(e) => e.key(),
            EntryRef::Vacant(e) => e.key(),
        }
    }

    /// An owned key made from the borrowed one (`K::from(&Q)`).
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// let key: String = map.entry_ref("k").into_key();
    /// assert_eq!(key, "k");
    /// ```
    pub fn into_key(self) -> K
    where
        K: From<&'q Q>,
    {
        K::from(self.key())
    }

    /// A guard on the value, inserting `value` first (with `K::from(&Q)`) if the key is absent.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// assert_eq!(*map.entry_ref("k").or_insert(1), 1);
    /// assert_eq!(*map.entry_ref("k").or_insert(2), 1);
    /// ```
    pub fn or_insert(self, value: V) -> RefMut<'a, K, V>
    where
        K: From<&'q Q>,
    {
        self.or_insert_with(|| value)
    }

    /// Like [`or_insert`](Self::or_insert), with `V::default()`.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, Vec<u32>> = sharded_map::ShardedMap::new();
    /// map.entry_ref("k").or_default().push(1);
    /// assert_eq!(map.get_cloned("k"), Some(vec![1]));
    /// ```
    pub fn or_default(self) -> RefMut<'a, K, V>
    where
        K: From<&'q Q>,
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Like [`or_insert`](Self::or_insert), calling `f` only if the key is absent.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned
    /// guard; `f` runs under it.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// assert_eq!(*map.entry_ref("k").or_insert_with(|| 7), 7);
    /// ```
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> RefMut<'a, K, V>
    where
        K: From<&'q Q>,
    {
        match self {
            EntryRef::Occupied(e) => e.into_ref(),
            EntryRef::Vacant(e) => e.insert(f()),
        }
    }

    /// Like [`or_insert_with`](Self::or_insert_with), but `f` may fail: on `Err` nothing is
    /// inserted and the lock is released.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned
    /// guard (on `Err`, it is released); `f` runs under it.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// assert!(map.entry_ref("k").or_try_insert_with(|| "x".parse::<u32>()).is_err());
    /// assert_eq!(*map.entry_ref("k").or_try_insert_with(|| "4".parse::<u32>()).unwrap(), 4);
    /// ```
    pub fn or_try_insert_with<E>(
        self,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<RefMut<'a, K, V>, E>
    where
        K: From<&'q Q>,
    {
        Ok(match self {
            EntryRef::Occupied(e) => e.into_ref(),
            EntryRef::Vacant(e) => e.insert(f()?),
        })
    }

    /// Sets the value (inserting the key if absent) and returns a guard on it.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.entry_ref("k").insert(1);
    /// assert_eq!(*map.entry_ref("k").insert(2), 2);
    /// ```
    pub fn insert(self, value: V) -> RefMut<'a, K, V>
    where
        K: From<&'q Q>,
    {
        match self {
            EntryRef::Occupied(mut e) => {
                e.insert(value);
                e.into_ref()
            }
            EntryRef::Vacant(e) => e.insert(value),
        }
    }

    /// Sets the value (inserting the key if absent) and returns the occupied entry.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned entry.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// assert_eq!(*map.entry_ref("k").insert_entry(3).get(), 3);
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntryRef<'a, 'q, K, Q, V>
    where
        K: From<&'q Q>,
    {
        match self {
            EntryRef::Occupied(mut e) => {
                e.insert(value);
                e
            }
            EntryRef::Vacant(e) => e.insert_entry(value),
        }
    }
}

impl<K: fmt::Debug, Q: ?Sized + fmt::Debug, V: fmt::Debug> fmt::Debug
    for EntryRef<'_, '_, K, Q, V>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryRef::Occupied(e) => f.debug_tuple("Occupied").field(e).finish(),
            EntryRef::Vacant(e) => f.debug_tuple("Vacant").field(e).finish(),
        }
    }
}

/// A present key's slot, found with a borrowed key. Holds the shard's write lock.
///
/// [Locking](crate::locking): holds its key's shard exclusively until dropped or turned into a
/// [`RefMut`].
///
/// ```
/// use sharded_map::EntryRef;
/// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
/// map.insert("k".to_string(), 1);
/// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
/// assert_eq!(e.remove(), 1);
/// assert!(map.is_empty());
/// ```
pub struct OccupiedEntryRef<'a, 'q, K, Q: ?Sized, V> {
    bucket: Bucket<'a, K, V>,
    key: &'q Q,
    _not_send: NotSend,
}

impl<'a, 'q, K, Q: ?Sized, V> OccupiedEntryRef<'a, 'q, K, Q, V> {
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
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
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
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(mut e) = map.entry_ref("k") else { unreachable!() };
    /// *e.get_mut() += 1;
    /// drop(e);
    /// assert_eq!(map.get_cloned("k"), Some(2));
    /// ```
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.pair_mut().1
    }

    /// Replaces the value, returning the old one.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(mut e) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(e.insert(2), 1);
    /// ```
    pub fn insert(&mut self, value: V) -> V {
        mem::replace(self.get_mut(), value)
    }

    /// A guard on the value; the lock passes to it.
    ///
    /// [Locking](crate::locking): never blocks; the lock passes to the returned guard.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(e.into_ref().key(), "k");
    /// ```
    pub fn into_ref(self) -> RefMut<'a, K, V> {
        self.bucket.into_ref()
    }

    /// The borrowed key that was passed to `entry_ref`.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(e.key(), "k");
    /// ```
    pub fn key(&self) -> &'q Q {
        self.key
    }

    /// An owned key made from the borrowed one (`K::from(&Q)`); the entry stays in the map.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(e.into_key(), "k");
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn into_key(self) -> K
    where
        K: From<&'q Q>,
    {
        K::from(self.key)
    }

    /// Removes the entry, returning the value.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(e.remove(), 1);
    /// ```
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry, returning the stored key and the value.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(e.remove_entry(), ("k".to_string(), 1));
    /// ```
    pub fn remove_entry(self) -> (K, V) {
        self.bucket.remove_entry()
    }

    /// Replaces the stored key with `K::from(&Q)` and the value with `value`, returning the old
    /// pair.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let EntryRef::Occupied(e) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(e.replace_entry(2), ("k".to_string(), 1));
    /// assert_eq!(map.get_cloned("k"), Some(2));
    /// ```
    pub fn replace_entry(mut self, value: V) -> (K, V)
    where
        K: From<&'q Q>,
    {
        let key = K::from(self.key);
        mem::replace(self.pair_mut(), (key, value))
    }
}

impl<K: fmt::Debug, Q: ?Sized, V: fmt::Debug> fmt::Debug for OccupiedEntryRef<'_, '_, K, Q, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, v) = self.pair();
        f.debug_struct("OccupiedEntryRef")
            .field("key", k)
            .field("value", v)
            .finish()
    }
}

/// An absent key's slot, found with a borrowed key. Holds the shard's write lock; room for one
/// entry is already reserved.
///
/// [Locking](crate::locking): holds its key's shard exclusively until dropped or turned into a
/// [`RefMut`].
///
/// ```
/// use sharded_map::EntryRef;
/// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
/// let EntryRef::Vacant(v) = map.entry_ref("k") else { unreachable!() };
/// v.insert(1);
/// assert_eq!(map.get_cloned("k"), Some(1));
/// ```
pub struct VacantEntryRef<'a, 'q, K, Q: ?Sized, V> {
    guard: WriteGuard<'a, K, V>,
    hash: u64,
    key: &'q Q,
    _not_send: NotSend,
}

impl<'a, 'q, K, Q: ?Sized, V> VacantEntryRef<'a, 'q, K, Q, V> {
    /// Inserts `K::from(&Q)` with `value`, returning a guard on the value.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned guard.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// let EntryRef::Vacant(v) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(*v.insert(1), 1);
    /// ```
    pub fn insert(self, value: V) -> RefMut<'a, K, V>
    where
        K: From<&'q Q>,
    {
        let (hash, pair) = (self.hash, (K::from(self.key), value));
        let elem = ElemMut::new(self.guard, |t| {
            Some(insert_reserved(t, hash, pair).into_mut())
        });
        RefMut::new(elem.ok().expect(HELD))
    }

    /// Inserts `K::from(&Q)` with `value`, returning the now occupied entry.
    ///
    /// [Locking](crate::locking): never blocks; the entry's write lock passes to the returned entry.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// let EntryRef::Vacant(v) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(v.insert_entry(1).remove_entry(), ("k".to_string(), 1));
    /// ```
    pub fn insert_entry(mut self, value: V) -> OccupiedEntryRef<'a, 'q, K, Q, V>
    where
        K: From<&'q Q>,
    {
        let pair = (K::from(self.key), value);
        let index = insert_reserved(&mut self.guard, self.hash, pair).bucket_index();
        OccupiedEntryRef {
            bucket: Bucket::new(self.guard, index),
            key: self.key,
            _not_send: PhantomData,
        }
    }

    /// The borrowed key that was passed to `entry_ref`.
    ///
    /// [Locking](crate::locking): never blocks; the entry already holds its shard's write lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// let EntryRef::Vacant(v) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(v.key(), "k");
    /// ```
    pub fn key(&self) -> &'q Q {
        self.key
    }

    /// An owned key made from the borrowed one (`K::from(&Q)`); nothing is inserted.
    ///
    /// [Locking](crate::locking): never blocks; consumes the entry, releasing its shard's lock.
    ///
    /// ```
    /// use sharded_map::EntryRef;
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// let EntryRef::Vacant(v) = map.entry_ref("k") else { unreachable!() };
    /// assert_eq!(v.into_key(), "k");
    /// assert!(map.is_empty());
    /// ```
    pub fn into_key(self) -> K
    where
        K: From<&'q Q>,
    {
        K::from(self.key)
    }
}

impl<K, Q: ?Sized + fmt::Debug, V> fmt::Debug for VacantEntryRef<'_, '_, K, Q, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VacantEntryRef")
            .field("key", &self.key)
            .finish()
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> ShardedMap<K, V, S> {
    /// The entry for a borrowed key (DashMap 7's `entry_ref`): looked up with `&Q` (`&str` for
    /// `String` keys, any `Q: Hash + Equivalent<K>`), and an owned key is made with
    /// `K::from(&Q)` only when one is inserted. A hit allocates no key.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively until the entry (or the
    /// [`RefMut`] made from it) drops; blocks while another thread holds a guard on that shard;
    /// deadlocks if the calling thread holds any guard on that shard.
    ///
    /// ```
    /// let counts: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// for word in "a b a".split(' ') {
    ///     *counts.entry_ref(word).or_insert(0) += 1;
    /// }
    /// assert_eq!(counts.get_cloned("a"), Some(2));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn entry_ref<'a, 'q, Q: ?Sized + Hash + Equivalent<K>>(
        &'a self,
        key: &'q Q,
    ) -> EntryRef<'a, 'q, K, Q, V> {
        let hash = self.hash(key);
        let guard = self.shard_for(hash).write(Site::new("entry_ref"));
        self.entry_ref_in(guard, hash, key)
    }

    /// Like [`entry_ref`](Self::entry_ref), but `None` instead of blocking when anyone holds
    /// the shard.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// ```
    /// let map: sharded_map::ShardedMap<String, u32> = sharded_map::ShardedMap::new();
    /// map.insert("k".to_string(), 1);
    /// let reader = map.get("k").unwrap();
    /// assert!(map.try_entry_ref("k").is_none());
    /// drop(reader);
    /// assert!(map.try_entry_ref("k").is_some());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_entry_ref<'a, 'q, Q: ?Sized + Hash + Equivalent<K>>(
        &'a self,
        key: &'q Q,
    ) -> Option<EntryRef<'a, 'q, K, Q, V>> {
        let hash = self.hash(key);
        let guard = self.shard_for(hash).try_write(Site::new("try_entry_ref"))?;
        Some(self.entry_ref_in(guard, hash, key))
    }

    fn entry_ref_in<'a, 'q, Q: ?Sized + Equivalent<K>>(
        &'a self,
        mut guard: WriteGuard<'a, K, V>,
        hash: u64,
        key: &'q Q,
    ) -> EntryRef<'a, 'q, K, Q, V> {
        let found = guard.find_bucket_index(hash, equivalent_key(key));
        if found.is_none() {
            // Reserve now, while the hasher is at hand, so inserting never needs it.
            guard.reserve(1, self.rehasher());
        }
        match found {
            Some(index) => EntryRef::Occupied(OccupiedEntryRef {
                bucket: Bucket::new(guard, index),
                key,
                _not_send: PhantomData,
            }),
            None => EntryRef::Vacant(VacantEntryRef {
                guard,
                hash,
                key,
                _not_send: PhantomData,
            }),
        }
    }
}
