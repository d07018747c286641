//! The debug-build deadlock check (`src/deadlock.rs`): a blocking call for a shard the calling
//! thread already holds in a conflicting mode panics with a clear message instead of hanging;
//! everything that does not deadlock keeps working; after the panic the map is consistent and
//! its locks are released. The check is compiled in debug builds and with feature
//! `deadlock-check` (scripts/test-all runs this file in release with the feature too).
#![cfg(any(debug_assertions, feature = "deadlock-check"))]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use common::watchdog;
use sharded_map::{ShardedMap, TryResult};

const LIMIT_S: u64 = 60;

/// A map with keys 0..64, and two keys: `a`, and `b` in another shard than `a`.
fn map_and_keys() -> (ShardedMap<u32, u32>, u32, u32) {
    let map: ShardedMap<u32, u32> = (0..64).map(|i| (i, i)).collect();
    let a = 0;
    let b = (1..64)
        .find(|k| map.determine_map(k) != map.determine_map(&a))
        .expect("64 keys over several shards");
    (map, a, b)
}

/// Runs `f` (which must panic) under a watchdog and returns its panic message.
fn panic_message(name: &str, f: impl FnOnce() + Send + 'static) -> String {
    let (tx, rx) = mpsc::channel();
    watchdog(name, LIMIT_S, move || {
        let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a deadlock panic");
        tx.send(message(&*err)).unwrap();
    });
    rx.recv().unwrap()
}

/// A panic payload's message (empty if it is neither a `String` nor a `&str`).
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn assert_deadlock_message(msg: &str, held: &str, wanted: &str) {
    assert!(
        msg.starts_with("sharded-map: deadlock: this thread holds"),
        "unexpected message: {msg}"
    );
    assert!(
        msg.contains(held),
        "message should name the held guard ({held}): {msg}"
    );
    assert!(
        msg.contains(wanted),
        "message should name the request ({wanted}): {msg}"
    );
}

#[test]
fn write_while_holding_a_ref_panics_and_leaves_the_map_usable() {
    let msg = panic_message("get then insert", || {
        let (map, a, _) = map_and_keys();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let r = map.get(&a).unwrap();
            map.insert(a, *r + 1); // same shard, exclusive: would wait forever
        }));
        // The Ref was dropped by the unwinding; the shard is free and unchanged.
        assert_eq!(*map.get(&a).unwrap(), a);
        *map.get_mut(&a).unwrap() += 100;
        assert_eq!(*map.get(&a).unwrap(), a + 100);
        assert_eq!(map.len(), 64);
        if let Err(e) = outcome {
            std::panic::resume_unwind(e);
        }
    });
    assert_deadlock_message(&msg, "a shared guard", "exclusively");
}

#[test]
fn every_blocking_request_that_would_wait_for_this_thread_panics() {
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        fn(&ShardedMap<u32, u32>, u32),
    );
    let cases: [Case; 8] = [
        (
            "get then get_mut",
            "a shared guard",
            "exclusively",
            |m, a| {
                let _r = m.get(&a);
                let _w = m.get_mut(&a);
            },
        ),
        (
            "get then remove",
            "a shared guard",
            "exclusively",
            |m, a| {
                let _r = m.get(&a);
                m.remove(&a);
            },
        ),
        ("get then entry", "a shared guard", "exclusively", |m, a| {
            let _r = m.get(&a);
            let _e = m.entry(a);
        }),
        (
            "get_mut then get",
            "an exclusive guard",
            "to read it",
            |m, a| {
                let _w = m.get_mut(&a);
                let _r = m.get(&a);
            },
        ),
        (
            "entry then contains_key",
            "an exclusive guard",
            "to read it",
            |m, a| {
                let _e = m.entry(a);
                m.contains_key(&a);
            },
        ),
        (
            "mapped Ref then insert",
            "a shared guard",
            "exclusively",
            |m, a| {
                let _r = m.get(&a).unwrap().map(|v| v);
                m.insert(a, 0);
            },
        ),
        (
            "get_mut then iter",
            "an exclusive guard",
            "to read it",
            |m, a| {
                let _w = m.get_mut(&a);
                for _ in m.iter() {}
            },
        ),
        ("get then clear", "a shared guard", "exclusively", |m, a| {
            let _r = m.get(&a);
            m.clear();
        }),
    ];
    for (name, held, wanted, case) in cases {
        let msg = panic_message(name, move || {
            let (map, a, _) = map_and_keys();
            case(&map, a);
        });
        assert_deadlock_message(&msg, held, wanted);
    }
}

#[test]
fn what_does_not_deadlock_is_not_reported() {
    watchdog("allowed patterns", LIMIT_S, || {
        let (map, a, b) = map_and_keys();
        // Nested reads of one shard (the lock prefers readers).
        let r1 = map.get(&a).unwrap();
        let r2 = map.get(&a).unwrap();
        assert_eq!(*r1 + *r2, 2 * a);
        // Writes to another shard while holding a Ref.
        map.insert(b, 7);
        assert_eq!(*map.get(&b).unwrap(), 7);
        // Non-blocking calls report the lock instead of panicking.
        assert!(matches!(map.try_get_mut(&a), TryResult::Locked));
        assert!(map.try_entry(a).is_none());
        drop((r1, r2));
        // Once the guards are gone, the shard is free for writers again.
        *map.get_mut(&a).unwrap() += 1;
        {
            let w = map.get_mut(&a).unwrap();
            // A downgraded guard reads like a Ref: more reads are fine...
            let r = w.downgrade();
            assert_eq!(*map.get(&a).unwrap(), *r);
            // ...and try_get_mut still sees the lock.
            assert!(map.try_get_mut(&a).is_locked());
        }
        map.insert(a, 0);
        assert_eq!(*map.get(&a).unwrap(), 0);
        // A failed try_map hands the guard back; its record stays until it drops.
        let r = map.get(&a).unwrap().try_map(|_| None::<&u32>).unwrap_err();
        drop(r);
        map.insert(a, 1);
    });
}

#[test]
fn a_downgraded_guard_still_blocks_writes_from_its_thread() {
    let msg = panic_message("downgrade then insert", || {
        let (map, a, _) = map_and_keys();
        let _r = map.get_mut(&a).unwrap().downgrade();
        map.insert(a, 1);
    });
    assert_deadlock_message(&msg, "a shared guard", "exclusively");
}

#[test]
fn a_guard_on_another_thread_makes_this_thread_wait_not_panic() {
    watchdog("wait for another thread's Ref", LIMIT_S, || {
        let (map, a, _) = map_and_keys();
        let (held_tx, held_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let map = &map;
            s.spawn(move || {
                let r = map.get(&a).unwrap();
                held_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                drop(r);
            });
            held_rx.recv().unwrap();
            let writer = s.spawn(move || map.insert(a, 99));
            std::thread::sleep(Duration::from_millis(20));
            release_tx.send(()).unwrap();
            writer.join().expect("the writer waits, it does not panic");
        });
        assert_eq!(*map.get(&a).unwrap(), 99);
    });
}

#[test]
fn iteration_items_moved_to_another_thread_do_not_accuse_this_one() {
    watchdog("iteration items sent away", LIMIT_S, || {
        let (map, a, _) = map_and_keys();
        // Items of `iter` are `Send`: collect them here, drop them on another thread.
        let items: Vec<_> = map.iter().collect();
        std::thread::scope(|s| {
            s.spawn(move || drop(items));
        });
        // This thread holds nothing now, so a write is neither blocked nor reported.
        map.insert(a, 5);
        assert_eq!(*map.get(&a).unwrap(), 5);
    });
}

#[test]
fn a_forgotten_guard_names_only_its_own_map() {
    watchdog("forgotten guard", LIMIT_S, || {
        let (first, a, _) = map_and_keys();
        std::mem::forget(first.get(&a).unwrap()); // first's shard stays read-locked for good
        drop(first);
        // A new map (possibly at the same address) is not confused with the old one.
        let (second, a, _) = map_and_keys();
        second.insert(a, 1);
        assert_eq!(*second.get(&a).unwrap(), 1);
    });
}

/// Hazards added with the complete check: iteration holds (the iterator or an item kept alive),
/// holds of closure methods, and multi-key guards. Each message names the held guard's kind, the
/// call that took it and the call that would block, with their source locations in this file.
#[test]
fn iteration_closure_and_multi_key_holds_are_reported_with_both_calls() {
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        fn(&ShardedMap<u32, u32>, u32),
    );
    let cases: [Case; 10] = [
        (
            "iter then insert",
            "an iterator or item of iter",
            "`insert`",
            |m, a| {
                for r in m.iter() {
                    if *r.key() == a {
                        m.insert(a, 0);
                    }
                }
            },
        ),
        (
            "iter then remove",
            "an iterator or item of iter",
            "`remove`",
            |m, a| {
                for r in m.iter() {
                    if *r.key() == a {
                        m.remove(&a);
                    }
                }
            },
        ),
        (
            "iter then get_mut",
            "an iterator or item of iter",
            "`get_mut`",
            |m, a| {
                for r in m.iter() {
                    if *r.key() == a {
                        let _ = m.get_mut(&a);
                    }
                }
            },
        ),
        (
            "iter then entry",
            "an iterator or item of iter",
            "`entry`",
            |m, a| {
                for r in m.iter() {
                    if *r.key() == a {
                        let _ = m.entry(a);
                    }
                }
            },
        ),
        (
            "iter_mut then get",
            "an iterator or item of iter_mut",
            "`get`",
            |m, a| {
                for r in m.iter_mut() {
                    if *r.key() == a {
                        let _ = m.get(&a);
                    }
                }
            },
        ),
        (
            "an item kept after its iterator",
            "an iterator or item of iter",
            "`insert`",
            |m, a| {
                let item = m.iter().find(|r| *r.key() == a).unwrap();
                m.insert(*item.key(), 1);
            },
        ),
        (
            "with_mut closure calls get",
            "a closure runs",
            "`get`",
            |m, a| {
                m.with_mut(&a, |_, _| {
                    let _ = m.get(&a);
                });
            },
        ),
        (
            "get_or_insert_with closure inserts",
            "a closure runs",
            "`insert`",
            |m, _| {
                m.get_or_insert_with(1000, || m.insert(1000, 0).unwrap_or(0));
            },
        ),
        (
            "compute closure reads",
            "a closure runs",
            "`get_cloned`",
            |m, a| {
                m.compute(a, |v| {
                    let _ = m.get_cloned(&a);
                    sharded_map::Op::Insert(v.copied().unwrap_or(0))
                });
            },
        ),
        (
            "get_disjoint_mut then get",
            "get_disjoint_mut",
            "`get`",
            |m, a| {
                let _held = m.get_disjoint_mut([&a]);
                let _ = m.get(&a);
            },
        ),
    ];
    for (name, held, blocked, case) in cases {
        let msg = panic_message(name, move || {
            let (map, a, _) = map_and_keys();
            case(&map, a);
        });
        assert!(
            msg.starts_with("sharded-map: deadlock: this thread holds"),
            "{name}: {msg}"
        );
        assert!(
            msg.contains(held),
            "{name}: should name the held guard ({held}): {msg}"
        );
        assert!(
            msg.contains(blocked),
            "{name}: should name the blocked call: {msg}"
        );
        assert_eq!(
            msg.matches("tests/deadlock_check.rs:").count(),
            2,
            "{name}: should give both calls' locations in this file: {msg}"
        );
    }
}

#[test]
fn the_message_names_the_calls_where_they_were_made() {
    let (line_get, line_insert) = (line!() + 3, line!() + 4);
    let msg = panic_message("locations", move || {
        let (map, a, _) = map_and_keys();
        let r = map.get(&a).unwrap();
        map.insert(a, *r);
    });
    assert!(
        msg.contains(&format!(
            "taken by `get` at tests/deadlock_check.rs:{line_get}:"
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "`insert` at tests/deadlock_check.rs:{line_insert}:"
        )),
        "{msg}"
    );
    assert!(msg.contains("Drop the guard first"), "{msg}");
}

#[test]
fn iteration_patterns_that_do_not_deadlock_are_not_reported() {
    watchdog("allowed iteration patterns", LIMIT_S, || {
        let (map, a, b) = map_and_keys();
        // Nested reads: iterate while iterating, and get while iterating.
        let mut pairs = 0;
        for r in map.iter() {
            for s in map.iter() {
                pairs += usize::from(*s.key() == *r.key());
            }
            assert!(map.get(r.key()).is_some());
            assert_eq!(map.get_cloned(r.key()), Some(*r.value()));
        }
        assert_eq!(pairs, 64);
        // A write to another shard than the one being iterated goes through.
        let mut it = map.iter();
        let first = it.next().unwrap();
        let other = if map.determine_map(first.key()) == map.determine_map(&a) {
            b
        } else {
            a
        };
        map.insert(other, 7);
        drop((first, it));
        // After the iteration ends, writes anywhere go through.
        for r in map.iter() {
            let _ = r;
        }
        map.insert(a, 1);
        assert_eq!(map.get_cloned(&a), Some(1));
    });
}

#[test]
fn holds_used_on_another_thread_make_this_thread_wait_not_panic() {
    watchdog("items and iterators used elsewhere", LIMIT_S, || {
        let (map, a, _) = map_and_keys();
        // Items taken here, then used and kept alive by another thread for a while: this
        // thread's write waits for them instead of being reported.
        let items: Vec<_> = map.iter().filter(|r| *r.key() == a).collect();
        let (used_tx, used_rx) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(move || {
                let sum: u32 = items.iter().map(|r| *r.value()).sum();
                used_tx.send(sum).unwrap();
                std::thread::sleep(Duration::from_millis(50));
                drop(items);
            });
            assert_eq!(used_rx.recv().unwrap(), a);
            map.insert(a, 9);
        });
        assert_eq!(map.get_cloned(&a), Some(9));
        // An iterator moved to another thread and advanced there.
        let mut it = map.iter_mut();
        let _ = it.next();
        std::thread::scope(|s| {
            s.spawn(move || {
                for mut r in it {
                    *r += 1;
                }
            });
        });
        map.insert(a, 2);
        assert_eq!(map.get_cloned(&a), Some(2));
    });
}

/// Whether `f` panics with the deadlock check's message.
fn reports_deadlock(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => false,
        Err(err) => {
            let msg = message(&*err);
            assert!(
                msg.starts_with("sharded-map: deadlock:"),
                "another panic than the check's: {msg}"
            );
            true
        }
    }
}

/// More holds at once than a thread keeps inline (four), dropped out of order, and a
/// downgrade among them: every hold is found, and none is reported once it is gone.
#[test]
fn many_holds_at_once_are_each_checked_and_forgotten_when_dropped() {
    watchdog("many holds", LIMIT_S, || {
        let map: ShardedMap<u32, u32> = ShardedMap::with_shard_amount(16);
        let mut keys: Vec<u32> = Vec::new();
        for k in 0u32.. {
            if keys.len() == 6 {
                break;
            }
            if keys
                .iter()
                .all(|j| map.determine_map(j) != map.determine_map(&k))
            {
                map.insert(k, k);
                keys.push(k);
            }
        }
        // Six shared holds on six shards: each one blocks a write of its own shard only.
        let mut refs: Vec<Option<_>> = keys.iter().map(|k| Some(map.get(k).unwrap())).collect();
        for &k in &keys {
            assert!(
                reports_deadlock(|| {
                    map.insert(k, 0);
                }),
                "key {k}"
            );
            assert_eq!(*map.get(&k).unwrap(), k, "a nested read is fine");
        }
        // Dropped out of order: a middle one, the last, the first.
        for i in [1, 5, 0] {
            refs[i] = None;
            map.insert(keys[i], 100 + keys[i]);
        }
        for &k in &keys[2..5] {
            assert!(
                reports_deadlock(|| {
                    map.insert(k, 0);
                }),
                "key {k}"
            );
        }
        refs.clear();
        for &k in &keys {
            map.insert(k, k);
        }
        // Five exclusive holds, the fifth downgraded: reads of its shard are fine then, writes
        // are not; reads of the other four shards are reported.
        let mut guards: Vec<_> = keys[..4].iter().map(|k| map.get_mut(k).unwrap()).collect();
        let shared = map.get_mut(&keys[4]).unwrap().downgrade();
        assert_eq!(*map.get(&keys[4]).unwrap(), keys[4]);
        assert!(reports_deadlock(|| {
            map.insert(keys[4], 0);
        }));
        for k in &keys[..4] {
            assert!(reports_deadlock(|| drop(map.get(k))), "key {k}");
        }
        *guards[0] += 1;
        guards.clear();
        drop(shared);
        for &k in &keys {
            map.insert(k, 7);
        }
        assert_eq!(*map.get(&keys[0]).unwrap(), 7);
    });
}
