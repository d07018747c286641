//! The guard-free API (`src/guard_free.rs`): values checked against what each method documents,
//! panicking closures, and contention at 8 and 16 threads (on 2 cores) under a watchdog: exact
//! sums for `compute`, `upsert` and `with_mut`, and `get_or_insert_with` running its closure
//! exactly once per key while threads race for it.

mod common;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{assert_consistent, size, spawn_all, watchdog, Colliding};
use sharded_map::{Computed, Op, ShardedMap};

const THREAD_COUNTS: [usize; 2] = [8, 16];
const LIMIT_S: u64 = 120;

/// Maps of every configuration the suite runs: shard counts {2, default}, and all keys colliding.
fn configurations() -> Vec<ShardedMap<u64, u64, Colliding>> {
    vec![
        ShardedMap::with_hasher_and_shard_amount(Colliding, 2),
        ShardedMap::with_hasher(Colliding),
    ]
}

#[test]
fn get_cloned_and_with_mut_see_and_change_the_stored_value() {
    for map in configurations() {
        for i in 0..20 {
            map.insert(i, i * 10);
        }
        assert_eq!(map.get_cloned(&7), Some(70));
        assert_eq!(map.get_cloned(&99), None);
        assert_eq!(
            map.with_mut(&7, |k, v| {
                *v += *k;
                *v
            }),
            Some(77)
        );
        assert_eq!(map.with_mut(&99, |_, v| *v), None);
        assert_eq!(map.get_cloned(&7), Some(77));
        assert_eq!(map.len(), 20);
        // No guard is held after either call: a write on the same key goes through at once.
        let v = map.get_cloned(&3).unwrap();
        map.insert(3, v + 1);
        assert_eq!(map.get_cloned(&3), Some(31));
    }
}

#[test]
fn get_or_insert_with_inserts_once_and_returns_the_stored_value() {
    for map in configurations() {
        let calls = AtomicUsize::new(0);
        let make = |v: u64| {
            calls.fetch_add(1, Ordering::SeqCst);
            v
        };
        assert_eq!(map.get_or_insert_with(1, || make(10)), 10);
        assert_eq!(map.get_or_insert_with(1, || make(20)), 10);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(map.get_cloned(&1), Some(10));

        let ok: Result<u64, &str> = map.try_get_or_insert_with(2, || Ok(5));
        assert_eq!(ok, Ok(5));
        let hit: Result<u64, &str> = map.try_get_or_insert_with(2, || Err("not called"));
        assert_eq!(hit, Ok(5));
        let err: Result<u64, &str> = map.try_get_or_insert_with(3, || Err("no"));
        assert_eq!(err, Err("no"));
        assert!(!map.contains_key(&3));
        assert_eq!(map.len(), 2);
    }
}

#[test]
fn compute_does_what_the_closure_decides() {
    for map in configurations() {
        let mut seen = Vec::new();
        let mut run = |key: u64, op: Op<u64>| {
            map.compute(key, |v| {
                seen.push(v.copied());
                op
            })
        };
        assert_eq!(run(1, Op::Keep), Computed::Unchanged);
        assert_eq!(run(1, Op::Remove), Computed::Unchanged);
        assert_eq!(run(1, Op::Insert(10)), Computed::Inserted);
        assert_eq!(run(1, Op::Keep), Computed::Unchanged);
        assert_eq!(run(1, Op::Insert(11)), Computed::Replaced(10));
        assert_eq!(run(1, Op::Remove), Computed::Removed(1, 11));
        assert_eq!(
            seen,
            [None, None, None, Some(10), Some(10), Some(11)],
            "the closure sees the value present at each call"
        );
        assert!(map.is_empty());
    }
}

#[test]
fn compute_on_a_present_key_keeps_the_stored_key() {
    // Keys equal by id but distinguishable by their second field: the stored one must stay.
    #[derive(Debug, Clone)]
    struct Key(u32, &'static str);
    impl PartialEq for Key {
        fn eq(&self, other: &Self) -> bool {
            self.0 == other.0
        }
    }
    impl Eq for Key {}
    impl std::hash::Hash for Key {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.0.hash(state)
        }
    }
    let map = ShardedMap::new();
    assert_eq!(
        map.compute(Key(1, "first"), |_| Op::Insert(1)),
        Computed::Inserted
    );
    assert_eq!(
        map.compute(Key(1, "second"), |_| Op::Insert(2)),
        Computed::Replaced(1)
    );
    assert_eq!(map.get(&Key(1, "any")).unwrap().key().1, "first");
    match map.compute(Key(1, "third"), |_| Op::Remove) {
        Computed::Removed(k, v) => assert_eq!((k.1, v), ("first", 2)),
        other => panic!("expected Removed, got {other:?}"),
    }
}

#[test]
fn upsert_inserts_or_updates() {
    for map in configurations() {
        assert!(map.upsert(1, 5, |v| *v += 100));
        assert!(!map.upsert(1, 5, |v| *v += 100));
        assert_eq!(map.get_cloned(&1), Some(105));
        assert_eq!(map.len(), 1);
    }
}

/// Runs `f`, which must panic, and returns nothing; the caller then checks the map.
fn expect_panic(f: impl FnOnce()) {
    assert!(
        catch_unwind(AssertUnwindSafe(f)).is_err(),
        "the closure should have panicked"
    );
}

#[test]
fn panicking_closures_leave_the_map_consistent_and_unlocked() {
    for map in configurations() {
        for i in 0..8 {
            map.insert(i, i);
        }
        // with_mut: the change made before the panic stays.
        expect_panic(|| {
            map.with_mut(&1, |_, v| {
                *v = 100;
                panic!("with_mut closure");
            });
        });
        assert_eq!(map.get_cloned(&1), Some(100));
        // get_or_insert_with / try_: nothing is inserted.
        expect_panic(|| {
            map.get_or_insert_with(50, || panic!("get_or_insert_with closure"));
        });
        expect_panic(|| {
            let _ = map.try_get_or_insert_with(51, || -> Result<u64, ()> { panic!("try") });
        });
        assert!(!map.contains_key(&50) && !map.contains_key(&51));
        // compute: the map is unchanged, for a present and for an absent key.
        expect_panic(|| {
            map.compute(2, |_| panic!("compute closure on a present key"));
        });
        expect_panic(|| {
            map.compute(52, |_| panic!("compute closure on an absent key"));
        });
        assert_eq!(map.get_cloned(&2), Some(2));
        assert!(!map.contains_key(&52));
        // upsert: the change made before the panic stays; the offered value is dropped.
        expect_panic(|| {
            map.upsert(3, 0, |v| {
                *v += 1;
                panic!("upsert closure");
            });
        });
        assert_eq!(map.get_cloned(&3), Some(4));
        assert_eq!(map.len(), 8);
        assert_consistent(&map, |i| i);
        // And every lock is free: a write to each key of the map goes through.
        for i in 0..8 {
            map.insert(i, 0);
        }
    }
}

#[test]
fn a_panicking_clone_leaves_nothing_inserted() {
    #[derive(Debug, PartialEq)]
    struct Fragile(u32);
    impl Clone for Fragile {
        fn clone(&self) -> Self {
            if self.0 == 13 {
                panic!("Fragile: clone panics");
            }
            Fragile(self.0)
        }
    }
    let map = ShardedMap::new();
    expect_panic(|| {
        map.get_or_insert_with("k", || Fragile(13));
    });
    assert!(map.is_empty());
    map.insert("k", Fragile(13));
    expect_panic(|| {
        map.get_cloned("k");
    });
    assert_eq!(map.get_or_insert_with("j", || Fragile(1)), Fragile(1));
    assert_eq!(map.len(), 2);
    assert!(map.try_get_mut("k").is_present(), "the shard is unlocked");
}

const KEYS: u64 = size(64, 4) as u64;
const ROUNDS: usize = size(200, 3);

#[test]
fn get_or_insert_with_runs_its_closure_once_per_key_under_a_race() {
    for threads in THREAD_COUNTS {
        watchdog(
            &format!("get_or_insert_with x{threads}"),
            LIMIT_S,
            move || {
                let map = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(4));
                let calls = Arc::new(AtomicUsize::new(0));
                let results = Arc::new(Mutex::new(Vec::new()));
                let (m, c, r) = (map.clone(), calls.clone(), results.clone());
                spawn_all(threads, move |t| {
                    let mut mine = Vec::new();
                    // Every thread walks the keys from a different starting point.
                    for i in 0..KEYS {
                        let key = (i + t as u64 * 7) % KEYS;
                        let v = m.get_or_insert_with(key, || {
                            c.fetch_add(1, Ordering::SeqCst);
                            std::thread::yield_now(); // widen the race window
                            key * 1000 + t as u64
                        });
                        mine.push((key, v));
                    }
                    r.lock().unwrap().extend(mine);
                });
                assert_eq!(
                    calls.load(Ordering::SeqCst),
                    KEYS as usize,
                    "the closure must run exactly once per key"
                );
                let mut agreed = HashMap::new();
                for (key, v) in results.lock().unwrap().iter() {
                    assert_eq!(v / 1000, *key, "value made for another key");
                    let first = *agreed.entry(*key).or_insert(*v);
                    assert_eq!(first, *v, "threads saw different values for key {key}");
                }
                for (key, v) in agreed {
                    assert_eq!(map.get_cloned(&key), Some(v));
                }
                assert_eq!(map.len(), KEYS as usize);
            },
        );
    }
}

#[test]
fn compute_upsert_and_with_mut_are_atomic_under_contention() {
    for threads in THREAD_COUNTS {
        watchdog(&format!("compute x{threads}"), LIMIT_S, move || {
            let map = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(4));
            let m = map.clone();
            spawn_all(threads, move |t| {
                for round in 0..ROUNDS {
                    let key = (round as u64 + t as u64) % 8;
                    // Three ways to add one; each is a read-modify-write under one lock.
                    m.compute(key, |v| Op::Insert(v.copied().unwrap_or(0) + 1));
                    m.upsert(key + 8, 1, |v| *v += 1);
                    m.get_or_insert_with(key + 16, || 0);
                    m.with_mut(&(key + 16), |_, v| *v += 1).unwrap();
                    // A counter that comes and goes: +1 then -1, removed at zero.
                    let step = |delta: i64| {
                        move |v: Option<&u64>| match v.copied().unwrap_or(0) as i64 + delta {
                            0 => Op::Remove,
                            n => Op::Insert(n as u64),
                        }
                    };
                    m.compute(99, step(1));
                    m.compute(99, step(-1));
                }
            });
            let total = (threads * ROUNDS) as u64;
            for base in [0, 8, 16] {
                let sum: u64 = (base..base + 8).filter_map(|k| map.get_cloned(&k)).sum();
                assert_eq!(sum, total, "lost updates in keys {base}..{}", base + 8);
            }
            assert!(
                !map.contains_key(&99),
                "every +1 was matched by a -1, so the key must be gone"
            );
        });
    }
}

#[test]
fn get_cloned_and_try_get_or_insert_with_under_contention() {
    for threads in THREAD_COUNTS {
        watchdog(&format!("get_cloned x{threads}"), LIMIT_S, move || {
            // Values are pairs (n, 2n): a torn or lost update would break the pattern.
            let map = Arc::new(ShardedMap::<u64, (u64, u64)>::with_shard_amount(4));
            let calls = Arc::new(AtomicUsize::new(0));
            let (m, c) = (map.clone(), calls.clone());
            spawn_all(threads, move |t| {
                for round in 0..ROUNDS as u64 {
                    let key = round % KEYS;
                    if t % 2 == 0 {
                        // Writers: create the key once (counted), then step it under one lock.
                        let made: Result<_, ()> = m.try_get_or_insert_with(key, || {
                            c.fetch_add(1, Ordering::SeqCst);
                            Ok((0, 0))
                        });
                        let (n, double) = made.unwrap();
                        assert_eq!(double, 2 * n);
                        m.with_mut(&key, |_, v| *v = (v.0 + 1, v.1 + 2));
                    } else if let Some((n, double)) = m.get_cloned(&key) {
                        assert_eq!(double, 2 * n, "get_cloned saw a torn value");
                    }
                }
            });
            let writers = threads.div_ceil(2) as u64;
            let created = calls.load(Ordering::SeqCst);
            assert_eq!(
                created,
                KEYS.min(ROUNDS as u64) as usize,
                "one creation per key"
            );
            let total: u64 = (0..KEYS)
                .filter_map(|k| map.get_cloned(&k))
                .map(|v| v.0)
                .sum();
            assert_eq!(total, writers * ROUNDS as u64, "every step landed");
        });
    }
}
