//! loom models of `ShardedMap` operations: 2 shards, tables sized to straddle one growth
//! (hashbrown's smallest table holds 3 entries; the 4th insert into a shard grows it).
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use sharded_map::ShardedMap;

type Map<V = u64> = ShardedMap<u64, V>;

/// A map with 2 shards and `n` keys in `key`'s shard (other than `key`), so that inserting `key`
/// makes that shard's table grow when `n == 3`.
fn map_with_neighbours(key: u64, n: usize) -> Arc<Map> {
    let mut map = Map::with_shard_amount(2);
    let shard = map.determine_map(&key);
    let neighbours: Vec<u64> = (1000..)
        .filter(|k| map.determine_map(k) == shard)
        .take(n)
        .collect();
    map.extend(neighbours.into_iter().map(|k| (k, k)));
    Arc::new(map)
}

/// A 2-shard map filled through `extend`, which takes no locks: the model's atomics start
/// fresh (loom mis-models read-modify-writes after long single-thread store histories,
/// tokio-rs/loom#252 and #389).
fn prefilled<V>(pairs: impl IntoIterator<Item = (u64, V)>) -> Arc<ShardedMap<u64, V>> {
    let mut map = ShardedMap::with_shard_amount(2);
    map.extend(pairs);
    Arc::new(map)
}

/// A key in the other shard than `key`.
fn key_in_other_shard(map: &Map, key: u64) -> u64 {
    (2000..)
        .find(|k| map.determine_map(k) != map.determine_map(&key))
        .unwrap()
}

/// A 2-shard map holding key 1 and a key in the other shard, both with value 0.
fn two_keys_in_two_shards() -> (Arc<Map>, u64, u64) {
    let a = 1;
    let mut map = Map::with_shard_amount(2);
    let b = key_in_other_shard(&map, a);
    map.extend([(a, 0), (b, 0)]);
    (Arc::new(map), a, b)
}

/// A value type that counts its drops in a loom atomic.
struct Counted(Arc<AtomicUsize>, u64);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn racing_inserts_of_one_key() {
    loom::model(|| {
        let map = map_with_neighbours(1, 3);
        let before = map.len();
        let t = {
            let map = map.clone();
            thread::spawn(move || map.insert(1, 10))
        };
        let mine = map.insert(1, 20);
        let theirs = t.join().unwrap();
        assert!(
            matches!((mine, theirs), (None, Some(20)) | (Some(10), None)),
            "exactly one insert sees None: {mine:?} {theirs:?}"
        );
        assert_eq!(map.len(), before + 1);
    });
}

#[test]
fn insert_vs_get_sees_absent_or_whole_value() {
    loom::model(|| {
        let map = prefilled((100..103).map(|k| (k, (k, k))));
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                map.insert(1, (7, 7));
            })
        };
        if let Some(v) = map.get(&1) {
            assert_eq!(*v, (7, 7));
        }
        t.join().unwrap();
        assert_eq!(*map.get(&1).unwrap(), (7, 7));
    });
}

#[test]
fn remove_waits_for_a_held_ref_before_dropping_the_value() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let map = prefilled([(1, Counted(drops.clone(), 5))]);
        let r = map.get(&1).unwrap();
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                let removed = map.remove(&1);
                assert!(removed.is_some());
            })
        };
        thread::yield_now();
        assert_eq!(r.1, 5);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "value dropped while a Ref was held"
        );
        drop(r);
        t.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn get_mut_excludes_get() {
    loom::model(|| {
        let map = prefilled([(1u64, (0u64, 0u64))]);
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                let mut w = map.get_mut(&1).unwrap();
                w.0 += 1;
                w.1 += 1;
            })
        };
        let r = map.get(&1).unwrap();
        assert_eq!(r.0, r.1, "torn read");
        drop(r);
        t.join().unwrap();
        assert_eq!(*map.get(&1).unwrap(), (1, 1));
    });
}

#[test]
fn racing_or_insert_with_runs_the_closure_once() {
    loom::model(|| {
        let map = map_with_neighbours(1, 3);
        let calls = Arc::new(AtomicUsize::new(0));
        let t = {
            let (map, calls) = (map.clone(), calls.clone());
            thread::spawn(move || {
                *map.entry(1).or_insert_with(|| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    1
                })
            })
        };
        let mine = *map.entry(1).or_insert_with(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            2
        });
        let theirs = t.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(mine, theirs);
    });
}

#[test]
fn retain_vs_insert_in_the_same_and_another_shard() {
    loom::model(|| {
        // Key 2 (even) goes into a shard that already holds odd keys; `odd` goes into the other
        // shard. retain(keep even) races with both inserts.
        let mut map = Map::with_shard_amount(2);
        let shard_of_2 = map.determine_map(&2);
        let odd = (3..)
            .step_by(2)
            .find(|k| map.determine_map(k) != shard_of_2)
            .unwrap();
        let odd_neighbours: Vec<u64> = (1001..)
            .step_by(2)
            .filter(|k| map.determine_map(k) == shard_of_2)
            .take(2)
            .collect();
        map.extend(odd_neighbours.iter().map(|&k| (k, k)));
        let map = Arc::new(map);
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                map.insert(2, 2);
                map.insert(odd, odd);
            })
        };
        map.retain(|k, _| k % 2 == 0);
        t.join().unwrap();
        assert!(map.contains_key(&2), "retain removed an even key");
        for k in &odd_neighbours {
            assert!(
                !map.contains_key(k),
                "retain kept odd key {k} that was present all along"
            );
        }
        // `odd` survives exactly when its insert came after retain passed its shard; either way
        // nothing else is present and the counter agrees with the table.
        let keys: Vec<u64> = map.iter().map(|r| *r.key()).collect();
        assert!(keys.iter().all(|&k| k == 2 || k == odd), "{keys:?}");
        assert_eq!(map.len(), keys.len());
    });
}

#[test]
fn iter_vs_insert_and_remove() {
    loom::model(|| {
        let stable = [10u64, 11];
        let map = prefilled([(10, 10), (11, 11), (20, 20)]);
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                map.insert(21, 21);
                map.remove(&20);
            })
        };
        let mut seen: Vec<u64> = map.iter().map(|r| *r.key()).collect();
        seen.sort_unstable();
        let before = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), before, "a key was yielded twice");
        for k in stable {
            assert!(seen.contains(&k), "untouched key {k} was not yielded");
        }
        t.join().unwrap();
    });
}

#[test]
fn guards_on_two_shards_with_readers_only_never_deadlock() {
    // The documented rule, safe side: holding Refs (shared) on one shard and reading another is
    // fine even while another thread writes to both shards one at a time.
    loom::model(|| {
        let (map, a, b) = two_keys_in_two_shards();
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                *map.get_mut(&b).unwrap() += 1;
                *map.get_mut(&a).unwrap() += 1;
            })
        };
        let ra = map.get(&a).unwrap();
        let rb = map.get(&b).unwrap();
        assert!(*ra <= 1 && *rb <= 1);
        drop((ra, rb));
        t.join().unwrap();
        assert_eq!((*map.get(&a).unwrap(), *map.get(&b).unwrap()), (1, 1));
    });
}

#[test]
fn exclusive_guards_taken_in_opposite_orders_would_deadlock() {
    // The documented rule, unsafe side: two threads that each hold a RefMut and then ask for the
    // other's shard. With the non-blocking `try_get_mut` as the second step, loom explores every
    // interleaving; in some of them both second steps are refused while both first guards are
    // held, which is exactly the state in which the blocking `get_mut` deadlocks.
    static BOTH_REFUSED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    loom::model(|| {
        let (map, a, b) = two_keys_in_two_shards();
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                let _gb = map.get_mut(&b).unwrap();
                map.try_get_mut(&a).is_locked()
            })
        };
        let refused_here = {
            let _ga = map.get_mut(&a).unwrap();
            map.try_get_mut(&b).is_locked()
        };
        let refused_there = t.join().unwrap();
        if refused_here && refused_there {
            BOTH_REFUSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(
        BOTH_REFUSED.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "loom found no interleaving where both threads hold one shard and want the other's"
    );
}

#[test]
fn racing_get_or_insert_with_runs_the_closure_once() {
    // The guard-free form: a hit reads, a miss re-checks under the write lock before `f` runs,
    // so among racing threads `f` runs once and both return the stored value. Key 1's shard
    // grows on the insert.
    loom::model(|| {
        let map = map_with_neighbours(1, 3);
        let calls = Arc::new(AtomicUsize::new(0));
        let t = {
            let (map, calls) = (map.clone(), calls.clone());
            thread::spawn(move || {
                map.get_or_insert_with(1, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    1
                })
            })
        };
        let mine = map.get_or_insert_with(1, || {
            calls.fetch_add(1, Ordering::SeqCst);
            2
        });
        let theirs = t.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(mine, theirs);
        assert_eq!(map.get_cloned(&1), Some(mine));
    });
}

#[test]
fn get_disjoint_mut_in_opposite_key_orders_never_deadlocks() {
    // Two threads each lock the same two keys (in different shards), naming them in opposite
    // orders. Shards are locked in ascending order, so loom finds no interleaving in which both
    // wait for each other (it reports a deadlock if one exists: see scripts/loom-teeth,
    // planted_bug_unordered_disjoint), and both increments land.
    loom::model(|| {
        let (map, a, b) = two_keys_in_two_shards();
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                let [Some(mut x), Some(mut y)] = map.get_disjoint_mut([&b, &a]) else {
                    panic!("both keys are present");
                };
                *x += 1;
                *y += 1;
            })
        };
        {
            let [Some(mut x), Some(mut y)] = map.get_disjoint_mut([&a, &b]) else {
                panic!("both keys are present");
            };
            *x += 1;
            *y += 1;
        }
        t.join().unwrap();
        assert_eq!((map.get_cloned(&a), map.get_cloned(&b)), (Some(2), Some(2)));
    });
}
