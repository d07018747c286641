//! Feature `rayon`: the partitioned parallel build gives the same map as a sequential `extend`
//! (later items win), keeps the entry counters right, works through `&self` next to other
//! threads, and survives panics in `Hash` and `Eq`; the parallel iterators visit every entry
//! once and release their locks.
#![cfg(feature = "rayon")]

mod common;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use common::{assert_consistent, count, counter, watchdog, Bomb, Tracked};
use sharded_map::{ShardedMap, ShardedSet};

/// Items per test: enough that rayon splits the work into many folds.
const ITEMS: u32 = if cfg!(miri) { 300 } else { 200_000 };

/// A pool with more threads than this machine has cores, so folds really interleave (under
/// Miri, which emulates one core, two: a third worker made the suite 22% slower there).
fn pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(if cfg!(miri) { 2 } else { 8 })
        .build()
        .expect("build a rayon pool")
}

/// `(i % keys, i)` for `i` in `0..ITEMS`: every key occurs many times, each time with a
/// different value, so any reordering of the items shows up as a wrong value.
fn items(keys: u32) -> Vec<(u32, u32)> {
    pairs(ITEMS, keys)
}

/// `(i % keys, i)` for `i` in `0..n`.
fn pairs(n: u32, keys: u32) -> Vec<(u32, u32)> {
    (0..n).map(|i| (i % keys, i)).collect()
}

fn sequential(items: &[(u32, u32)]) -> HashMap<u32, u32> {
    items.iter().copied().collect()
}

fn as_std<S: std::hash::BuildHasher>(map: &ShardedMap<u32, u32, S>) -> HashMap<u32, u32> {
    map.iter().map(|r| (*r.key(), *r.value())).collect()
}

#[test]
fn collect_keeps_the_last_value_of_each_key_like_extend() {
    for keys in [1, 7, ITEMS / 3, ITEMS] {
        let items = items(keys);
        let map: ShardedMap<u32, u32> = pool().install(|| items.par_iter().copied().collect());
        assert_eq!(map.len(), keys as usize, "{keys} keys");
        assert_eq!(as_std(&map), sequential(&items), "{keys} keys");
        let per_shard: usize = (0..map.shard_amount()).map(|i| map.shard_len(i)).sum();
        assert_eq!(per_shard, keys as usize, "shard counters after the build");
        assert_consistent(&map, |i| i as u32);
    }
}

/// Each shard's table is sized for its distinct keys (counted by a sketch while partitioning),
/// not for its items: with a quarter of the items distinct and too far apart for a worker's
/// window to catch, sizing for the items would give about four times the capacity.
#[test]
fn collect_sizes_tables_for_the_distinct_keys_not_the_items() {
    let keys = ITEMS / 4;
    let items = items(keys);
    let map: ShardedMap<u32, u32> = pool().install(|| items.par_iter().copied().collect());
    assert_eq!(map.len(), keys as usize);
    let by_items = ShardedMap::<u32, u32>::with_capacity(ITEMS as usize).capacity();
    let by_keys = ShardedMap::<u32, u32>::with_capacity(keys as usize).capacity();
    assert!(
        map.capacity() <= by_keys * 2 && map.capacity() < by_items / 2,
        "capacity {} for {keys} keys of {ITEMS} items (sized for the keys: {by_keys}, \
         for the items: {by_items})",
        map.capacity()
    );
    assert_eq!(as_std(&map), sequential(&items));
}

/// Keys drawn at random from a small space, with large values (so a worker's dedup window is
/// small: under 2,000 items): more keys than a window holds, yet duplicates often enough that
/// windows keep closing into buckets that must replay in order.
#[test]
fn collect_with_windows_that_fill_and_close() {
    let space = if cfg!(miri) { 40 } else { 2_000 };
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let items: Vec<(u32, [u32; 32])> = (0..ITEMS)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state % space) as u32, [i; 32])
        })
        .collect();
    // Long folds: rayon may split finely, and a window only fills within one fold.
    let fold = if cfg!(miri) { 60 } else { 20_000 };
    let map: ShardedMap<u32, [u32; 32]> =
        pool().install(|| items.par_iter().copied().with_min_len(fold).collect());
    let expected: HashMap<u32, [u32; 32]> = items.iter().copied().collect();
    assert_eq!(map.len(), expected.len());
    for (k, v) in &expected {
        assert_eq!(map.get(k).as_deref(), Some(v), "key {k}");
    }
    assert_consistent(&map, |i| i as u32);
}

/// Large distinct input, big enough that each shard's items are grouped by table region and
/// the fill replays them region by region (here 2 shards of about 4 MiB of table each, 16
/// regions; under Miri small enough for one region): every key comes twice, the second time
/// in a later fold, so a region's groups replayed out of fold order show as a stale value.
#[test]
fn par_extend_grouped_by_table_region_keeps_the_last_value() {
    let keys: u32 = if cfg!(miri) { 150 } else { 40_000 };
    let items: Vec<(u32, [u64; 8])> = (0..2 * keys)
        .map(|i| ((i % keys).wrapping_mul(0x9e37_79b1), [u64::from(i); 8]))
        .collect();
    let fold = if cfg!(miri) { 50 } else { 5_000 };
    let map: ShardedMap<u32, [u64; 8]> = pool().install(|| {
        let mut map = ShardedMap::with_shard_amount(2);
        map.par_extend(items.par_iter().copied().with_min_len(fold));
        map
    });
    let expected: HashMap<u32, [u64; 8]> = items.iter().copied().collect();
    assert_eq!(map.len(), keys as usize);
    for (k, v) in &expected {
        assert_eq!(map.get(k).as_deref(), Some(v), "key {k:#x}");
    }
    assert_consistent(&map, |i| (i as u32).wrapping_mul(0x9e37_79b1));
}

#[test]
fn par_extend_on_a_non_empty_map_overwrites_and_adds() {
    let keys = ITEMS / 4;
    let mut map: ShardedMap<u32, u32> = ShardedMap::with_shard_amount(16);
    for k in 0..keys / 2 {
        map.insert(k, u32::MAX);
    }
    let items = items(keys);
    pool().install(|| map.par_extend(items.par_iter().copied()));
    let mut expected: HashMap<u32, u32> = (0..keys / 2).map(|k| (k, u32::MAX)).collect();
    expected.extend(items.iter().copied());
    assert_eq!(as_std(&map), expected);
    assert_eq!(map.len(), keys as usize);
    assert_consistent(&map, |i| i as u32);
}

/// Four threads writing (and reading back) keys from `base` up, which the caller's bulk
/// operation never touches, until `stop` is set; `join` them to surface their panics.
fn spawn_writers(
    map: &Arc<ShardedMap<u32, u32>>,
    base: u32,
) -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let writers = (0..4u32)
        .map(|t| {
            let (map, stop) = (map.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) || i < 100 {
                    let key = base + t * 1_000_000 + i % 1000;
                    map.insert(key, i);
                    assert_eq!(map.get(&key).map(|r| *r), Some(i));
                    if i.is_multiple_of(3) {
                        map.remove(&key);
                    }
                    i += 1;
                }
            })
        })
        .collect();
    (stop, writers)
}

fn join(stop: &AtomicBool, writers: Vec<std::thread::JoinHandle<()>>) {
    stop.store(true, Ordering::Relaxed);
    writers
        .into_iter()
        .for_each(|h| h.join().expect("writer thread"));
}

/// Adaptors such as `filter` feed the build one item at a time (rayon's `Folder::consume`),
/// which takes another path through the window and the groups than a leaf's loop: the same
/// map comes out, with the last value of each key. Values of 512 bytes make the window small
/// (about 500 keys), so that leaves fill it, close it and switch to appends.
#[test]
fn collect_fed_item_by_item_through_filter_keeps_the_last_value() {
    let n = if cfg!(miri) { 120 } else { 60_000 };
    for keys in [7, n / 3, n] {
        let items: Vec<(u32, [u32; 128])> = pairs(n, keys)
            .into_iter()
            .map(|(k, v)| (k, [v; 128]))
            .collect();
        let odd_values = |&(_, v): &(u32, [u32; 128])| v[0] % 2 == 1;
        let map: ShardedMap<u32, [u32; 128]> =
            pool().install(|| items.par_iter().copied().filter(odd_values).collect());
        let built: HashMap<u32, u32> = map.iter().map(|r| (*r.key(), r.value()[0])).collect();
        let kept: Vec<(u32, u32)> = items
            .iter()
            .filter(|item| odd_values(item))
            .map(|&(k, v)| (k, v[0]))
            .collect();
        assert_eq!(built, sequential(&kept), "keys: {keys}");
        assert_eq!(map.len(), built.len());
    }
}

#[test]
fn par_extend_through_a_shared_reference_next_to_other_writers() {
    watchdog("par_extend next to writers", 120, || {
        let map: Arc<ShardedMap<u32, u32>> = Arc::new(ShardedMap::new());
        let (stop, writers) = spawn_writers(&map, ITEMS);
        let items = items(ITEMS / 4);
        pool().install(|| (&*map).par_extend(items.par_iter().copied()));
        join(&stop, writers);
        let built: HashMap<u32, u32> = as_std(&map)
            .into_iter()
            .filter(|&(k, _)| k < ITEMS)
            .collect();
        assert_eq!(built, sequential(&items));
        assert_consistent(&map, |i| i as u32);
    });
}

#[test]
fn set_collect_and_par_extend() {
    let set: ShardedSet<u32> =
        pool().install(|| (0..ITEMS).into_par_iter().map(|i| i % 97).collect());
    assert_eq!(set.len(), 97);
    let mut set = set;
    pool().install(|| set.par_extend((0..200u32).into_par_iter()));
    assert_eq!(set.len(), 200);
    let shared = ShardedSet::new();
    pool().install(|| (&shared).par_extend((0..ITEMS).into_par_iter().map(|i| i / 2)));
    assert_eq!(shared.len(), (ITEMS / 2) as usize);
    assert!(shared.contains(&(ITEMS / 2 - 1)));
}

fn expect_panic(f: impl FnOnce()) {
    assert!(
        catch_unwind(AssertUnwindSafe(f)).is_err(),
        "expected a panic"
    );
}

#[test]
fn a_panicking_hash_leaves_the_map_untouched() {
    let (off, hash_on) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(true)),
    );
    let mut map: ShardedMap<Bomb, u64> = ShardedMap::new();
    for i in 0..50 {
        map.insert(Bomb::new(i, &off, &off), i);
    }
    let items: Vec<(Bomb, u64)> = (0..200)
        .map(|i| {
            let switch = if i == 150 { &hash_on } else { &off };
            (Bomb::new(i, switch, &off), 1000 + i)
        })
        .collect();
    expect_panic(|| pool().install(|| map.par_extend(items.clone().into_par_iter())));
    assert_eq!(map.len(), 50);
    assert!(map.iter().all(|r| *r.value() == r.key().id));
    expect_panic(|| pool().install(|| (&map).par_extend(items.into_par_iter())));
    assert_eq!(map.len(), 50);
    assert_consistent(&map, |i| Bomb::new(i + 1_000_000, &off, &off));
}

#[test]
fn a_panicking_eq_leaves_the_map_consistent_and_unlocked() {
    let off = Arc::new(AtomicBool::new(false));
    for shared in [false, true] {
        // The stored keys' `Eq` panics once armed; the build's duplicates of them call it.
        let armed = Arc::new(AtomicBool::new(false));
        let mut map: ShardedMap<Bomb, u64> = ShardedMap::new();
        for i in 0..50 {
            map.insert(Bomb::new(i, &off, &armed), i);
        }
        armed.store(true, Ordering::SeqCst);
        let items: Vec<(Bomb, u64)> = (0..400)
            .map(|i| (Bomb::new(i, &off, &off), 1000 + i))
            .collect();
        if shared {
            expect_panic(|| pool().install(|| (&map).par_extend(items.into_par_iter())));
        } else {
            expect_panic(|| pool().install(|| map.par_extend(items.into_par_iter())));
        }
        armed.store(false, Ordering::SeqCst);
        for i in 0..50 {
            assert!(
                map.contains_key(&Bomb::new(i, &off, &off)),
                "stored key {i} lost"
            );
        }
        assert_consistent(&map, |i| Bomb::new(i + 1_000_000, &off, &off));
    }
}

#[test]
fn par_iter_yields_every_entry_once_and_releases_the_locks() {
    let map: ShardedMap<u32, u32> = (0..ITEMS).map(|i| (i, i * 3)).collect();
    let mut seen: Vec<(u32, u32)> =
        pool().install(|| map.par_iter().map(|r| (*r.key(), *r.value())).collect());
    seen.sort_unstable();
    assert_eq!(seen, (0..ITEMS).map(|i| (i, i * 3)).collect::<Vec<_>>());
    // Guards collected on the workers and dropped here, on another thread.
    let guards: Vec<_> = pool().install(|| map.par_iter().collect());
    assert_eq!(guards.len(), ITEMS as usize);
    drop(guards);
    assert_consistent(&map, |i| i as u32);
}

#[test]
fn par_iter_mut_and_into_par_iter() {
    let mut map: ShardedMap<u32, u64> = (0..ITEMS).map(|i| (i, 1)).collect();
    pool().install(|| {
        map.par_iter_mut()
            .for_each(|mut r| *r += u64::from(*r.key()))
    });
    pool().install(|| (&mut map).into_par_iter().for_each(|mut r| *r *= 2));
    assert_consistent(&map, |i| i as u32);
    let mut pairs: Vec<(u32, u64)> = pool().install(|| map.into_par_iter().collect());
    pairs.sort_unstable();
    let expected: Vec<(u32, u64)> = (0..ITEMS).map(|i| (i, 2 * (1 + u64::from(i)))).collect();
    assert_eq!(pairs, expected);
}

#[test]
fn set_par_iter_and_into_par_iter() {
    let set: ShardedSet<u32> = (0..ITEMS).collect();
    let sum: u64 = pool().install(|| set.par_iter().map(|k| u64::from(*k)).sum());
    assert_eq!(sum, (0..u64::from(ITEMS)).sum::<u64>());
    let mut keys: Vec<u32> = pool().install(|| set.into_par_iter().collect());
    keys.sort_unstable();
    assert_eq!(keys, (0..ITEMS).collect::<Vec<_>>());
}

/// Readers iterate in parallel while writers churn other keys: every key present for the
/// whole run is seen exactly once, and nothing hangs.
#[test]
fn par_iter_next_to_writers() {
    watchdog("par_iter next to writers", 120, || {
        let stable = ITEMS / 4;
        let map: Arc<ShardedMap<u32, u32>> = Arc::new((0..stable).map(|i| (i, i)).collect());
        let (stop, writers) = spawn_writers(&map, stable);
        for _ in 0..3 {
            let mut seen: Vec<u32> = pool().install(|| {
                map.par_iter()
                    .map(|r| *r.key())
                    .filter(|&k| k < stable)
                    .collect()
            });
            seen.sort_unstable();
            assert_eq!(seen, (0..stable).collect::<Vec<_>>());
        }
        join(&stop, writers);
        assert_consistent(&map, |i| i as u32);
    });
}

/// Every key and value the build receives is dropped exactly once: the duplicates during the
/// build (the incoming key and the replaced value), the rest with the map. Miri's leak check
/// cannot see this suite's leaks (rayon's pools outlive the tests), so this test does.
#[test]
fn every_item_is_dropped_exactly_once() {
    let n = u64::from(ITEMS / 10);
    let keys = (n / 3).min(97);
    for shared in [false, true] {
        let drops = counter();
        let items: Vec<(Tracked, Tracked)> = (0..n)
            .map(|i| (Tracked::new(i % keys, &drops), Tracked::new(i, &drops)))
            .collect();
        let map: ShardedMap<Tracked, Tracked> = if shared {
            let map = ShardedMap::new();
            pool().install(|| (&map).par_extend(items.into_par_iter()));
            map
        } else {
            pool().install(|| items.into_par_iter().collect())
        };
        assert_eq!(map.len() as u64, keys);
        assert_eq!(
            count(&drops) as u64,
            2 * (n - keys),
            "dropped during the build"
        );
        // The last value of each key won.
        assert!(map
            .iter()
            .all(|r| r.value().id % keys == r.key().id && r.value().id >= n - keys));
        drop(map);
        assert_eq!(count(&drops), 2 * n as usize, "dropped in all");
    }
}

/// `par_extend_chunked` through the public API, with values large enough that the input spans
/// several chunks (a chunk holds at least 16 MiB of items; 2 KiB under Miri), into a map that
/// already holds keys: the same map as a sequential `extend`. Then a set.
#[test]
fn par_extend_chunked_gives_the_same_map_as_extend() {
    // Under Miri, 60 items of 272 bytes: about 8 chunks of the 2 KiB floor.
    let n = if cfg!(miri) { 60 } else { ITEMS };
    let keys = n / 3;
    let items: Vec<(u32, [u64; 32])> = (0..n).map(|i| (i % keys, [u64::from(i); 32])).collect();
    let map = ShardedMap::new();
    for k in 0..keys / 2 {
        map.insert(k, [u64::MAX; 32]);
    }
    pool().install(|| map.par_extend_chunked(items.par_iter().copied()));
    let mut expected: HashMap<u32, [u64; 32]> =
        (0..keys / 2).map(|k| (k, [u64::MAX; 32])).collect();
    expected.extend(items.iter().copied());
    assert_eq!(map.len(), expected.len());
    for (k, v) in &expected {
        assert_eq!(map.get(k).as_deref(), Some(v), "key {k}");
    }
    assert_consistent(&map, |i| i as u32);

    let set = ShardedSet::new();
    pool().install(|| set.par_extend_chunked((0..n).into_par_iter().map(|i| i / 2)));
    assert_eq!(set.len(), (n / 2) as usize);
    assert!(set.contains(&(n / 2 - 1)));
}

#[test]
fn par_reserve_for_keys_sizes_the_tables_so_inserting_the_keys_does_not_grow_them() {
    // Under Miri fewer items than ITEMS: each step of this test takes seconds there.
    let n = if cfg!(miri) { 128 } else { ITEMS };
    let keys = n / 4;
    let items = pairs(n, keys);
    let map = ShardedMap::new();
    let pool = pool();
    pool.install(|| map.par_reserve_for_keys(items.par_iter().map(|(k, _)| k)));
    let reserved = map.capacity();
    let by_keys = ShardedMap::<u32, u32>::with_capacity(keys as usize).capacity();
    let by_items = ShardedMap::<u32, u32>::with_capacity(n as usize).capacity();
    assert!(
        reserved >= keys as usize && reserved <= by_keys * 2 && reserved < by_items / 2,
        "reserved {reserved} for {keys} keys of {n} items (sized for the keys: {by_keys}, \
         for the items: {by_items})"
    );
    assert!(map.is_empty(), "reserving inserts nothing");
    // Inserted one by one (the chunked build's own test is above; under Miri this is faster).
    for &(k, v) in &items {
        map.insert(k, v);
    }
    assert_eq!(
        map.capacity(),
        reserved,
        "a table grew while the keys went in"
    );
    assert_eq!(as_std(&map), sequential(&items));
    assert_consistent(&map, |i| i as u32);

    // No keys: nothing reserved. Owned keys work as well as borrowed ones.
    let set = ShardedSet::<u32>::new();
    set.par_reserve_for_keys(Vec::<u32>::new());
    assert_eq!(set.capacity(), 0);
    pool.install(|| set.par_reserve_for_keys((0..keys).into_par_iter()));
    assert!(set.capacity() >= keys as usize);
}

#[test]
fn a_panicking_hash_while_reserving_changes_nothing_and_releases_every_lock() {
    let (off, on) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(true)),
    );
    let map: ShardedMap<Bomb, u64> = ShardedMap::new();
    for i in 0..20 {
        map.insert(Bomb::new(i, &off, &off), i);
    }
    let capacity = map.capacity();
    let keys: Vec<Bomb> = (0..100)
        .map(|i| Bomb::new(i, if i == 70 { &on } else { &off }, &off))
        .collect();
    expect_panic(|| pool().install(|| map.par_reserve_for_keys(keys.par_iter())));
    assert_eq!((map.len(), map.capacity()), (20, capacity));
    assert_consistent(&map, |i| Bomb::new(i + 1_000_000, &off, &off));
}
