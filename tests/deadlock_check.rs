//! The debug-build deadlock check (`src/deadlock.rs`): a blocking call for a shard the calling
//! thread already holds in a conflicting mode panics with a clear message instead of hanging;
//! everything that does not deadlock keeps working; after the panic the map is consistent and
//! its locks are released. Release builds do not have the check, so neither does this file.
#![cfg(debug_assertions)]

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
        let msg = err
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        tx.send(msg).unwrap();
    });
    rx.recv().unwrap()
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
