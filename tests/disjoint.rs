//! `get_disjoint_mut` (`src/disjoint.rs`): values, keys sharing a shard, repeated keys, and two
//! groups of threads locking the same keys in opposite orders (more threads than cores, under a
//! watchdog): no deadlock, and transfers conserve the total.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use common::{assert_consistent, size, spawn_all, watchdog};
use sharded_map::ShardedMap;

#[test]
fn each_slot_gets_its_key_or_none() {
    for shards in [2, 32] {
        let map: ShardedMap<u32, u32> = ShardedMap::with_shard_amount(shards);
        for i in 0..16 {
            map.insert(i, i * 10);
        }
        let [a, missing, b, c] = map.get_disjoint_mut([&3, &99, &0, &15]);
        assert!(missing.is_none());
        let (mut a, mut b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
        assert_eq!((*a.key(), *b.key(), *c.key()), (3, 0, 15));
        *a += 1;
        *b += 2;
        drop(c);
        drop(b);
        drop(a);
        assert_eq!(map.get_cloned(&3), Some(31));
        assert_eq!(map.get_cloned(&0), Some(2));
        assert_eq!(map.get_cloned(&15), Some(150));
        assert_consistent(&map, |i| i as u32);
    }
}

#[test]
fn keys_in_one_shard_share_one_lock() {
    let map: ShardedMap<u32, u32> = ShardedMap::with_shard_amount(2);
    for i in 0..64 {
        map.insert(i, 0);
    }
    let shard = map.determine_map(&0);
    let same: Vec<u32> = (1..64).filter(|k| map.determine_map(k) == shard).collect();
    let [x, y, z] = map.get_disjoint_mut([&0, &same[0], &same[1]]);
    let (mut x, mut y, z) = (x.unwrap(), y.unwrap(), z.unwrap());
    *x = 1;
    *y = 2;
    // The shard stays locked while any of its guards lives, and is free after the last.
    drop((x, y));
    assert!(map.try_get(&0).is_locked());
    drop(z);
    assert_eq!(map.get_cloned(&0), Some(1));
    assert_eq!(map.get_cloned(&same[0]), Some(2));
}

#[test]
fn a_repeated_present_key_panics_and_releases_every_lock() {
    let map: ShardedMap<u32, u32> = (0..32).map(|i| (i, i)).collect();
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _ = map.get_disjoint_mut([&1, &2, &1]);
    }))
    .expect_err("a repeated key must panic");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("keys 0 and 2 are the same key"),
        "unexpected message: {msg}"
    );
    assert_consistent(&map, |i| i as u32);
    // A repeated absent key is no conflict: both slots are empty, as in std.
    let [p, q] = map.get_disjoint_mut([&100, &100]);
    assert!(p.is_none() && q.is_none());
}

const ROUNDS: usize = size(2_000, 4);

#[test]
fn opposite_key_orders_do_not_deadlock_and_conserve_the_total() {
    for threads in [8, 16] {
        watchdog(&format!("transfers x{threads}"), 120, move || {
            // Two shards and four accounts: every pair of keys conflicts often.
            let map = Arc::new(ShardedMap::<u32, i64>::with_shard_amount(2));
            for k in 0..4 {
                map.insert(k, 1_000);
            }
            let m = map.clone();
            spawn_all(threads, move |t| {
                for round in 0..ROUNDS {
                    let (a, b) = ((round % 4) as u32, ((round + 1) % 4) as u32);
                    // Half the threads name the keys in one order, half in the other.
                    let (from, to) = if t % 2 == 0 { (a, b) } else { (b, a) };
                    let [Some(mut x), Some(mut y)] = m.get_disjoint_mut([&from, &to]) else {
                        panic!("accounts exist");
                    };
                    *x -= 1;
                    *y += 1;
                }
            });
            let total: i64 = map.iter().map(|r| *r.value()).sum();
            assert_eq!(total, 4_000, "a transfer was torn");
        });
    }
}
