//! Feature `raw-api`: shard handles, their guards and `shards_mut`, with values checked, and
//! under contention (8 and 16 threads on 2 cores, watchdog): writers through raw write guards
//! and through the map's own methods never lose an update.
#![cfg(feature = "raw-api")]

mod common;

use std::sync::Arc;

use common::{size, spawn_all, watchdog};
use sharded_map::ShardedMap as DashMap;

#[test]
fn shard_guards_see_and_change_the_map() {
    let map: DashMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
    let shards = map.shards();
    assert_eq!(shards.len(), map.shard_amount());
    let total: usize = shards.iter().map(|s| s.read().len()).sum();
    assert_eq!(total, 100);
    for (i, s) in shards.iter().enumerate() {
        assert_eq!(s.len(), map.shard_len(i), "lock-free len agrees");
    }
    // Find through a read guard with the map's own hash.
    let (shard, hash) = map.shard_and_hash(&42);
    assert_eq!(shard, map.shard_of(&42));
    assert_eq!(
        shards[shard].read().find(hash, |(k, _)| *k == 42),
        Some(&(42, 42))
    );
    // Remove through a write guard: the map's len follows when the guard drops.
    shards[shard].write().retain(|(k, _)| *k != 42);
    assert_eq!(map.len(), 99);
    assert!(!map.contains_key(&42));
    // Insert through a write guard, keyed by the map's hash: the map finds it.
    let (shard, hash) = map.shard_and_hash(&1000);
    shards[shard]
        .write()
        .insert_unique(hash, (1000, 1), |(k, _)| map.shard_and_hash(k).1);
    assert_eq!(map.get_cloned(&1000), Some(1));
    // try_ forms report the lock instead of waiting.
    let reader = shards[shard].read();
    assert!(shards[shard].try_write().is_none());
    assert!(shards[shard].try_read().is_some());
    drop(reader);
    assert!(shards[shard].try_write().is_some());
}

#[test]
fn shards_mut_and_into_shards() {
    let mut map: DashMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    {
        let mut shards = map.shards_mut();
        let rehash = shards.rehasher();
        for k in 10..1000 {
            let (shard, hash) = shards.shard_and_hash(&k);
            shards
                .get_mut(shard)
                .unwrap()
                .insert_unique(hash, (k, k), &rehash);
        }
        shards
            .iter_mut()
            .for_each(|t| t.iter_mut().for_each(|(_, v)| *v += 1));
    }
    assert_eq!(map.len(), 1000, "counts are synced when ShardsMut drops");
    assert!((0..1000).all(|k| map.get_cloned(&k) == Some(k + 1)));
    let tables = map.into_shards();
    assert_eq!(tables.iter().map(|t| t.len()).sum::<usize>(), 1000);
}

#[test]
fn a_panic_while_holding_shards_mut_still_syncs_the_counts() {
    let mut map: DashMap<u32, u32> = DashMap::with_shard_amount(2);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut shards = map.shards_mut();
        let (shard, hash) = shards.shard_and_hash(&1);
        let rehash = shards.rehasher();
        shards
            .get_mut(shard)
            .unwrap()
            .insert_unique(hash, (1, 1), rehash);
        panic!("after one insert");
    }));
    assert!(result.is_err());
    assert_eq!(map.len(), 1);
    assert_eq!(map.get_cloned(&1), Some(1));
}

const ROUNDS: usize = size(500, 3);

#[test]
fn raw_writers_and_map_writers_lose_no_update() {
    for threads in [8, 16] {
        watchdog(&format!("raw-api x{threads}"), 120, move || {
            let map = Arc::new(DashMap::<u32, u64>::with_shard_amount(4));
            for k in 0..16 {
                map.insert(k, 0);
            }
            let m = map.clone();
            spawn_all(threads, move |t| {
                for round in 0..ROUNDS {
                    let key = ((round + t) % 16) as u32;
                    if t % 2 == 0 {
                        // Through the shard: find and bump under its write lock.
                        let (shard, hash) = m.shard_and_hash(&key);
                        let shards = m.shards();
                        let mut table = shards[shard].write();
                        table.find_mut(hash, |(k, _)| *k == key).unwrap().1 += 1;
                    } else {
                        m.with_mut(&key, |_, v| *v += 1).unwrap();
                    }
                    // Readers of whole shards alongside.
                    let seen: usize = m.shards().iter().map(|s| s.read().len()).sum();
                    assert_eq!(seen, 16);
                }
            });
            let total: u64 = map.iter().map(|r| *r.value()).sum();
            assert_eq!(total, (threads * ROUNDS) as u64);
        });
    }
}
