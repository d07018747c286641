//! Feature `metrics`: `shard_of` agrees with where entries land, and the per-shard counters see
//! a writer that waited (and parked) behind another thread's guard on that shard only.
#![cfg(feature = "metrics")]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::watchdog;
use sharded_map::ShardedMap;

#[test]
fn shard_of_and_len_agree_with_where_entries_land() {
    let map: ShardedMap<u32, u32> = ShardedMap::with_shard_amount(8);
    for i in 0..500 {
        map.insert(i, i);
    }
    let mut counted = [0usize; 8];
    for i in 0..500 {
        assert_eq!(map.shard_of(&i), map.determine_map(&i));
        counted[map.shard_of(&i)] += 1;
    }
    let metrics = map.shard_metrics();
    assert_eq!(metrics.len(), 8);
    for (i, m) in metrics.iter().enumerate() {
        assert_eq!(m.len, counted[i], "shard {i}");
        assert_eq!((m.waits, m.parks), (0, 0), "nothing waited on one thread");
    }
}

#[test]
fn a_writer_blocked_by_a_guard_counts_a_wait_and_a_park_on_that_shard() {
    watchdog("metrics wait", 60, || {
        let map: ShardedMap<u32, u32> = (0..64).map(|i| (i, i)).collect();
        let shard = map.shard_of(&0);
        let (held_tx, held_rx) = mpsc::channel();
        std::thread::scope(|s| {
            let map = &map;
            s.spawn(move || {
                let guard = map.get_mut(&0).unwrap();
                held_tx.send(()).unwrap();
                // Hold until the writer has spun out and parked (the counters are read without
                // a lock), not for a guessed time.
                while map.shard_metrics()[shard].parks == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                drop(guard);
            });
            held_rx.recv().unwrap();
            map.insert(0, 100);
        });
        let metrics = map.shard_metrics();
        assert!(metrics[shard].waits >= 1, "{:?}", metrics[shard]);
        assert!(metrics[shard].parks >= 1, "{:?}", metrics[shard]);
        for (i, m) in metrics.iter().enumerate().filter(|(i, _)| *i != shard) {
            assert_eq!((m.waits, m.parks), (0, 0), "shard {i} saw no contention");
        }
        assert_eq!(map.get_cloned(&0), Some(100));
    });
}
