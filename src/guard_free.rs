//! The guard-free API: methods that do their whole job under the shard lock and return values,
//! never a guard. They are what async code and shared-state code should use: nothing they return
//! holds a lock, so nothing can be held across an `.await` or by accident.
//!
//! - [`get_cloned`](ShardedMap::get_cloned): the value, copied out.
//! - [`with_mut`](ShardedMap::with_mut): change a value in place.
//! - [`get_or_insert_with`](ShardedMap::get_or_insert_with) and
//!   [`try_get_or_insert_with`](ShardedMap::try_get_or_insert_with): a cache's "get, or compute
//!   once and insert".
//! - [`compute`](ShardedMap::compute): read the entry and decide atomically to insert, replace,
//!   remove or keep it ([`Op`], [`Computed`]).
//! - [`upsert`](ShardedMap::upsert): insert a value, or update the one present.
//!
//! Every closure here runs under its key's shard lock: it must not call the same map (the
//! deadlock check reports it in debug builds). A panicking closure leaves the map consistent and
//! every lock released; each method says what happens to the entry.
#![deny(unsafe_code)]

use core::convert::Infallible;
use core::hash::{BuildHasher, Hash};

use equivalent::Equivalent;

use crate::deadlock::Site;
use crate::raw::route::equivalent_key;
use crate::ShardedMap;

/// What [`ShardedMap::compute`] should do with an entry, decided by its closure.
///
/// [Locking](crate::locking): none (a plain value).
///
/// ```
/// use sharded_map::{Computed, Op, ShardedMap};
/// let map = ShardedMap::new();
/// // Count, and drop the key when the count would reach zero.
/// let add = |delta: i32| move |v: Option<&i32>| match v.copied().unwrap_or(0) + delta {
///     0 => Op::Remove,
///     n => Op::Insert(n),
/// };
/// assert_eq!(map.compute("k", add(1)), Computed::Inserted);
/// assert_eq!(map.compute("k", add(1)), Computed::Replaced(1));
/// assert_eq!(map.compute("k", add(-2)), Computed::Removed("k", 2));
/// assert!(map.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op<V> {
    /// Leave the entry as it is (an absent key stays absent).
    Keep,
    /// Store this value: insert it if the key is absent, replace the value if it is present.
    Insert(V),
    /// Remove the entry (nothing happens if the key is absent).
    Remove,
}

/// What [`ShardedMap::compute`] did.
///
/// [Locking](crate::locking): none (a plain value).
///
/// ```
/// use sharded_map::{Computed, Op, ShardedMap};
/// let map = ShardedMap::new();
/// assert_eq!(map.compute(1, |_| Op::<u32>::Keep), Computed::Unchanged);
/// assert_eq!(map.compute(1, |_| Op::Insert(10)), Computed::Inserted);
/// assert_eq!(map.compute(1, |_| Op::Insert(20)), Computed::Replaced(10));
/// assert_eq!(map.compute(1, |_| Op::Remove), Computed::Removed(1, 20));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Computed<K, V> {
    /// Nothing changed: the closure returned [`Op::Keep`], or [`Op::Remove`] for an absent key.
    Unchanged,
    /// The key was absent and the closure's value was inserted (with the key passed in).
    Inserted,
    /// The key was present; its value was replaced, and this is the old value.
    Replaced(V),
    /// The key was present and its entry was removed: the stored key and value.
    Removed(K, V),
}

impl<K: Eq + Hash, V, S: BuildHasher> ShardedMap<K, V, S> {
    /// A copy of `key`'s value, or `None`. The lock is released before this returns, so the
    /// result holds nothing: the way to read a value in async code, or before writing to the map.
    ///
    /// If `V::clone` panics, the lock is released and the map is unchanged.
    ///
    /// [Locking](crate::locking): takes the key's shard shared while the value is cloned (blocks while a writer
    /// holds it); see `docs/locking.md`.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("k", String::from("v"));
    /// let v: Option<String> = map.get_cloned("k");
    /// map.insert("k", v.unwrap() + "2"); // no guard held, no deadlock
    /// assert_eq!(map.get_cloned("k").as_deref(), Some("v2"));
    /// assert_eq!(map.get_cloned("x"), None);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn get_cloned<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<V>
    where
        V: Clone,
    {
        let hash = self.hash(key);
        let shard = self.shard_for(hash).read(Site::new("get_cloned"));
        shard
            .find(hash, equivalent_key(key))
            .map(|(_, v)| v.clone())
    }

    /// Calls `f` with `key`'s stored key and value, mutably, and returns its result; `None` if
    /// the key is absent (then `f` does not run).
    ///
    /// If `f` panics, the changes it made so far stay, the lock is released and the panic
    /// continues.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively while `f` runs; other threads' calls on that
    /// shard wait for `f`. `f` must not call this map (see `docs/locking.md`).
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert("visits", vec![1]);
    /// let len = map.with_mut("visits", |_, v| {
    ///     v.push(2);
    ///     v.len()
    /// });
    /// assert_eq!(len, Some(2));
    /// assert_eq!(map.with_mut("nobody", |_, v| v.len()), None);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn with_mut<Q: ?Sized + Hash + Equivalent<K>, R>(
        &self,
        key: &Q,
        f: impl FnOnce(&K, &mut V) -> R,
    ) -> Option<R> {
        let hash = self.hash(key);
        let mut shard = self.shard_for(hash).write(Site::new("with_mut"));
        shard
            .find_mut(hash, equivalent_key(key))
            .map(|(k, v)| f(k, v))
    }

    /// `key`'s value (a clone), inserting `f()` first if the key is absent.
    ///
    /// A hit takes only the shard's read lock. On a miss the method takes the write lock, looks
    /// again, and only if the key is still absent runs `f` and inserts its value: among threads
    /// racing for the same absent key, `f` runs once and every thread gets that value.
    ///
    /// If `f` or `V::clone` panics, nothing is inserted, the lock is released and the panic
    /// continues (the next caller for that key runs its own `f`).
    ///
    /// [Locking](crate::locking): a hit holds the key's shard shared while the value is cloned. A miss holds it
    /// **exclusively while `f` runs**: every other call that needs that shard (reads included,
    /// on any key of that shard) waits until `f` returns, so keep `f` short, or compute the value
    /// outside and use [`entry`](Self::entry)`.or_insert`. `f` must not call this map (see
    /// `docs/locking.md`).
    ///
    /// ```
    /// let cache = sharded_map::ShardedMap::new();
    /// let mut computed = 0;
    /// let a = cache.get_or_insert_with("a", || { computed += 1; 1 });
    /// let b = cache.get_or_insert_with("a", || { computed += 1; 2 });
    /// assert_eq!((a, b, computed), (1, 1, 1));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        let site = Site::new("get_or_insert_with");
        match self.get_or_try_insert_at(key, || Ok::<V, Infallible>(f()), site) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), but `f` may fail: on `Err` nothing
    /// is inserted and the error is returned.
    ///
    /// [Locking](crate::locking): as for [`get_or_insert_with`](Self::get_or_insert_with): a miss holds the key's
    /// shard exclusively while `f` runs.
    ///
    /// ```
    /// let cache = sharded_map::ShardedMap::new();
    /// let parsed: Result<u32, _> = cache.try_get_or_insert_with("n", || "42".parse());
    /// assert_eq!(parsed, Ok(42));
    /// let failed = cache.try_get_or_insert_with("bad", || "x".parse::<u32>());
    /// assert!(failed.is_err());
    /// assert!(!cache.contains_key("bad"));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn try_get_or_insert_with<E>(
        &self,
        key: K,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        V: Clone,
    {
        self.get_or_try_insert_at(key, f, Site::new("try_get_or_insert_with"))
    }

    #[cfg_attr(deadlock_check, track_caller)]
    fn get_or_try_insert_at<E>(
        &self,
        key: K,
        f: impl FnOnce() -> Result<V, E>,
        site: Site,
    ) -> Result<V, E>
    where
        V: Clone,
    {
        let hash = self.hash(&key);
        let shard = self.shard_for(hash);
        if let Some(v) = shard
            .read(site)
            .find(hash, equivalent_key(&key))
            .map(|(_, v)| v.clone())
        {
            return Ok(v);
        }
        let mut table = shard.write(site);
        if let Some((_, v)) = table.find(hash, equivalent_key(&key)) {
            return Ok(v.clone());
        }
        let value = f()?;
        let copy = value.clone();
        table.insert_unique(hash, (key, value), self.rehasher());
        Ok(copy)
    }

    /// Looks at `key`'s value (`None` if absent) and does what `f` decides, in one step: no
    /// other thread can change the entry between `f`'s look and the change. Returns what was
    /// done, with the old value where one was replaced or removed.
    ///
    /// This is Java's `ConcurrentHashMap.compute` (remove by returning [`Op::Remove`], keep by
    /// returning [`Op::Keep`]) and papaya's `compute`. On an absent key with [`Op::Insert`], the
    /// `key` passed in is stored; on a present one, the stored key is kept and `key` is dropped.
    ///
    /// If `f` panics, the map is unchanged, the lock is released and the panic continues.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively while `f` runs; other threads' calls on that
    /// shard wait for `f`. `f` must not call this map (see `docs/locking.md`).
    ///
    /// ```
    /// use sharded_map::{Computed, Op, ShardedMap};
    /// let stock = ShardedMap::new();
    /// stock.insert("apples", 3u32);
    /// // Take one apple if there is one; remove the entry when the last one goes.
    /// let take = |v: Option<&u32>| match v {
    ///     Some(1) => Op::Remove,
    ///     Some(n) => Op::Insert(n - 1),
    ///     None => Op::Keep,
    /// };
    /// assert_eq!(stock.compute("apples", take), Computed::Replaced(3));
    /// assert_eq!(stock.compute("pears", take), Computed::Unchanged);
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn compute(&self, key: K, f: impl FnOnce(Option<&V>) -> Op<V>) -> Computed<K, V> {
        let hash = self.hash(&key);
        let mut table = self.shard_for(hash).write(Site::new("compute"));
        match table.find_entry(hash, equivalent_key(&key)) {
            Ok(mut entry) => match f(Some(&entry.get().1)) {
                Op::Keep => Computed::Unchanged,
                Op::Insert(value) => {
                    Computed::Replaced(core::mem::replace(&mut entry.get_mut().1, value))
                }
                Op::Remove => {
                    let ((k, v), _) = entry.remove();
                    Computed::Removed(k, v)
                }
            },
            Err(absent) => match f(None) {
                Op::Keep | Op::Remove => Computed::Unchanged,
                Op::Insert(value) => {
                    absent
                        .into_table()
                        .insert_unique(hash, (key, value), self.rehasher());
                    Computed::Inserted
                }
            },
        }
    }

    /// Inserts `value` if `key` is absent; otherwise calls `update` on the value present (and
    /// drops `value` and `key`). Returns `true` if `value` was inserted.
    ///
    /// If `update` panics, the changes it made so far stay, the lock is released and the panic
    /// continues.
    ///
    /// [Locking](crate::locking): takes the key's shard exclusively while `update` runs. `update` must not call
    /// this map (see `docs/locking.md`).
    ///
    /// ```
    /// let words = sharded_map::ShardedMap::new();
    /// for w in ["a", "b", "a"] {
    ///     words.upsert(w, 1, |n| *n += 1);
    /// }
    /// assert_eq!(words.get_cloned("a"), Some(2));
    /// assert_eq!(words.get_cloned("b"), Some(1));
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn upsert(&self, key: K, value: V, update: impl FnOnce(&mut V)) -> bool {
        let hash = self.hash(&key);
        let mut table = self.shard_for(hash).write(Site::new("upsert"));
        match table.find_entry(hash, equivalent_key(&key)) {
            Ok(mut entry) => {
                update(&mut entry.get_mut().1);
                false
            }
            Err(absent) => {
                absent
                    .into_table()
                    .insert_unique(hash, (key, value), self.rehasher());
                true
            }
        }
    }
}
