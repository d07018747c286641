//! DashMap's operator shorthands on `&ShardedMap`: `map << (k, v)` inserts, `map >> &k` gets,
//! `map | &k` gets mutably, `map - &k` removes, `map & &k` tests membership. Each is exactly the
//! named method (with `>>` and `|` unwrapping, as DashMap's do).
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};
use core::ops::{BitAnd, BitOr, Shl, Shr, Sub};

use equivalent::Equivalent;

use crate::guards::{Ref, RefMut};
use crate::ShardedMap;

/// `map << (key, value)` is [`map.insert(key, value)`](ShardedMap::insert).
///
/// [Locking](crate::locking): as `insert`.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// assert_eq!(&map << ("k", 1), None);
/// assert_eq!(&map << ("k", 2), Some(1));
/// ```
impl<K: Eq + Hash, V, S: BuildHasher> Shl<(K, V)> for &ShardedMap<K, V, S> {
    type Output = Option<V>;

    #[cfg_attr(deadlock_check, track_caller)]
    fn shl(self, (key, value): (K, V)) -> Option<V> {
        self.insert(key, value)
    }
}

/// `map >> &key` is [`map.get(&key)`](ShardedMap::get), unwrapped.
///
/// # Panics
/// If the key is absent (DashMap panics too); the message says so and where.
///
/// [Locking](crate::locking): as `get`: the returned `Ref` holds the key's shard shared.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", 1);
/// assert_eq!(*(&map >> "k"), 1);
/// ```
impl<'a, K: Eq + Hash, V, S: BuildHasher, Q: ?Sized + Hash + Equivalent<K>> Shr<&Q>
    for &'a ShardedMap<K, V, S>
{
    type Output = Ref<'a, K, V>;

    #[track_caller]
    fn shr(self, key: &Q) -> Ref<'a, K, V> {
        match self.get(key) {
            Some(r) => r,
            None => absent(">>"),
        }
    }
}

/// `map | &key` is [`map.get_mut(&key)`](ShardedMap::get_mut), unwrapped.
///
/// # Panics
/// If the key is absent (DashMap panics too); the message says so and where.
///
/// [Locking](crate::locking): as `get_mut`: the returned `RefMut` holds the key's shard
/// exclusively.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", 1);
/// *(&map | "k") += 1;
/// assert_eq!(map.get_cloned("k"), Some(2));
/// ```
impl<'a, K: Eq + Hash, V, S: BuildHasher, Q: ?Sized + Hash + Equivalent<K>> BitOr<&Q>
    for &'a ShardedMap<K, V, S>
{
    type Output = RefMut<'a, K, V>;

    #[track_caller]
    fn bitor(self, key: &Q) -> RefMut<'a, K, V> {
        match self.get_mut(key) {
            Some(r) => r,
            None => absent("|"),
        }
    }
}

/// `map - &key` is [`map.remove(&key)`](ShardedMap::remove).
///
/// [Locking](crate::locking): as `remove`.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", 1);
/// assert_eq!(&map - "k", Some(("k", 1)));
/// assert_eq!(&map - "k", None);
/// ```
impl<K: Eq + Hash, V, S: BuildHasher, Q: ?Sized + Hash + Equivalent<K>> Sub<&Q>
    for &ShardedMap<K, V, S>
{
    type Output = Option<(K, V)>;

    #[cfg_attr(deadlock_check, track_caller)]
    fn sub(self, key: &Q) -> Option<(K, V)> {
        self.remove(key)
    }
}

/// `map & &key` is [`map.contains_key(&key)`](ShardedMap::contains_key).
///
/// [Locking](crate::locking): as `contains_key`.
///
/// ```
/// let map = sharded_map::ShardedMap::new();
/// map.insert("k", 1);
/// assert!(&map & "k");
/// assert!(!(&map & "x"));
/// ```
impl<K: Eq + Hash, V, S: BuildHasher, Q: ?Sized + Hash + Equivalent<K>> BitAnd<&Q>
    for &ShardedMap<K, V, S>
{
    type Output = bool;

    #[cfg_attr(deadlock_check, track_caller)]
    fn bitand(self, key: &Q) -> bool {
        self.contains_key(key)
    }
}

#[cold]
#[track_caller]
fn absent(op: &str) -> ! {
    panic!(
        "sharded-map: `map {op} &key`: the key is not in the map (use get / get_mut for an Option)"
    )
}
