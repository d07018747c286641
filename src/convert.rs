//! Conversions std users reach for: a map or set from an array literal, and to and from std's
//! `HashMap` / `HashSet` (keeping the hasher).
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};
use std::collections::{HashMap, HashSet};

use crate::{RandomState, ShardedMap, ShardedSet};

/// A map from an array of pairs, as `HashMap::from([(k, v), ...])`; a later pair with the same
/// key replaces the value of an earlier one.
///
/// [Locking](crate::locking): none (builds a new map).
///
/// ```
/// let map = sharded_map::ShardedMap::from([("a", 1), ("b", 2), ("a", 3)]);
/// assert_eq!((map.len(), map.get_cloned("a")), (2, Some(3)));
/// ```
impl<K: Eq + Hash, V, const N: usize> From<[(K, V); N]> for ShardedMap<K, V, RandomState> {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

/// A map with the entries and the hasher of a std `HashMap` (the hasher is cloned; no lock is
/// taken while filling).
///
/// [Locking](crate::locking): none (builds a new map).
///
/// ```
/// use std::collections::HashMap;
/// let std_map: HashMap<&str, u32> = HashMap::from([("a", 1)]);
/// let map = sharded_map::ShardedMap::from(std_map);
/// assert_eq!(map.get_cloned("a"), Some(1));
/// ```
impl<K: Eq + Hash, V, S: BuildHasher + Clone> From<HashMap<K, V, S>> for ShardedMap<K, V, S> {
    fn from(std_map: HashMap<K, V, S>) -> Self {
        let mut map = ShardedMap::with_capacity_and_hasher(std_map.len(), std_map.hasher().clone());
        map.extend(std_map);
        map
    }
}

/// A std `HashMap` with the entries and the hasher of a `ShardedMap` (moved out: the map is
/// owned, so no lock is taken).
///
/// [Locking](crate::locking): none (consumes the map).
///
/// ```
/// use std::collections::HashMap;
/// let map = sharded_map::ShardedMap::from([(1, "one")]);
/// let std_map: HashMap<_, _, _> = map.into();
/// assert_eq!(std_map[&1], "one");
/// ```
impl<K: Eq + Hash, V, S: BuildHasher> From<ShardedMap<K, V, S>> for HashMap<K, V, S> {
    fn from(map: ShardedMap<K, V, S>) -> Self {
        let (tables, hasher) = map.into_parts();
        let mut std_map =
            HashMap::with_capacity_and_hasher(tables.iter().map(|t| t.len()).sum(), hasher);
        std_map.extend(tables.into_iter().flatten());
        std_map
    }
}

/// A set from an array of keys, as `HashSet::from([k, ...])`.
///
/// [Locking](crate::locking): none (builds a new set).
///
/// ```
/// let set = sharded_map::ShardedSet::from([1, 2, 2]);
/// assert_eq!(set.len(), 2);
/// ```
impl<K: Eq + Hash, const N: usize> From<[K; N]> for ShardedSet<K, RandomState> {
    fn from(keys: [K; N]) -> Self {
        keys.into_iter().collect()
    }
}

/// A set with the keys and the hasher of a std `HashSet` (the hasher is cloned).
///
/// [Locking](crate::locking): none (builds a new set).
///
/// ```
/// use std::collections::HashSet;
/// let set = sharded_map::ShardedSet::from(HashSet::from(["a", "b"]));
/// assert!(set.contains("a"));
/// ```
impl<K: Eq + Hash, S: BuildHasher + Clone> From<HashSet<K, S>> for ShardedSet<K, S> {
    fn from(std_set: HashSet<K, S>) -> Self {
        let mut set = ShardedSet::with_capacity_and_hasher(std_set.len(), std_set.hasher().clone());
        set.extend(std_set);
        set
    }
}

/// A std `HashSet` with the keys and the hasher of a `ShardedSet`.
///
/// [Locking](crate::locking): none (consumes the set).
///
/// ```
/// use std::collections::HashSet;
/// let std_set: HashSet<_, _> = sharded_map::ShardedSet::from([1, 2]).into();
/// assert!(std_set.contains(&2));
/// ```
impl<K: Eq + Hash, S: BuildHasher> From<ShardedSet<K, S>> for HashSet<K, S> {
    fn from(set: ShardedSet<K, S>) -> Self {
        let (tables, hasher) = set.into_map().into_parts();
        let mut std_set =
            HashSet::with_capacity_and_hasher(tables.iter().map(|t| t.len()).sum(), hasher);
        std_set.extend(tables.into_iter().flatten().map(|(k, ())| k));
        std_set
    }
}
