//! Feature `typesize`: the memory a map or set owns, as DashMap's feature of the same name
//! reports it (the shards, the tables' allocations, and what keys and values own), plus the
//! reader-slot table this crate adds. The hasher is not asked (DashMap requires
//! `S: TypeSize`, which the default ahash hasher does not implement; hashers own no heap
//! memory in practice).
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};

use typesize::TypeSize;

use crate::deadlock::Site;
use crate::{ShardedMap, ShardedSet};

/// [Locking](crate::locking): takes each shard's lock shared in turn, like `iter`.
///
/// ```
/// use typesize::TypeSize;
/// let map = sharded_map::ShardedMap::<u64, u64>::with_shard_amount(4);
/// let empty = map.get_size();
/// for i in 0..1000 {
///     map.insert(i, i);
/// }
/// assert!(map.get_size() >= empty + 1000 * 16);
/// ```
impl<K, V, S> TypeSize for ShardedMap<K, V, S>
where
    K: TypeSize + Eq + Hash,
    V: TypeSize,
    S: BuildHasher,
{
    fn extra_size(&self) -> usize {
        let site = Site::new("get_size");
        let shards: usize = self
            .shard_refs()
            .map(|shard| {
                let table = shard.read(site);
                let owned: usize = table
                    .iter()
                    .map(|(k, v)| k.extra_size() + v.extra_size())
                    .sum();
                table.allocation_size() + owned
            })
            .sum();
        self.shards_heap_size() + shards
    }

    typesize::if_typesize_details! {
        fn get_collection_item_count(&self) -> Option<usize> {
            Some(self.len())
        }
    }
}

/// [Locking](crate::locking): takes each shard's lock shared in turn, like `iter`.
///
/// ```
/// use typesize::TypeSize;
/// let set = sharded_map::ShardedSet::<u64>::new();
/// set.insert(1);
/// assert!(set.get_size() > core::mem::size_of::<sharded_map::ShardedSet<u64>>());
/// ```
impl<K, S> TypeSize for ShardedSet<K, S>
where
    K: TypeSize + Eq + Hash,
    S: BuildHasher,
{
    fn extra_size(&self) -> usize {
        self.as_map().extra_size()
    }

    typesize::if_typesize_details! {
        fn get_collection_item_count(&self) -> Option<usize> {
            Some(self.len())
        }
    }
}
