//! Concurrency scenarios with more threads than cores (8 and 16 here, on 2 cores), each under a
//! watchdog that fails the test with the scenario's name instead of hanging.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{size, spawn_all, watchdog};
use sharded_map::{ShardedMap, ShardedSet, TryResult};

/// More threads than cores. Under Miri (one emulated core, and the slowest CI step) one count.
const THREAD_COUNTS: &[usize] = if cfg!(miri) { &[4] } else { &[8, 16] };
const OPS: usize = size(20_000, 20);
const LIMIT_S: u64 = 120;

fn for_thread_counts(name: &str, scenario: fn(usize)) {
    for &threads in THREAD_COUNTS {
        watchdog(&format!("{name} x{threads}"), LIMIT_S, move || {
            scenario(threads)
        });
    }
}

#[test]
fn entry_counters_sum_exactly() {
    for_thread_counts("entry counters", |threads| {
        let m = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(4));
        let m2 = m.clone();
        spawn_all(threads, move |_| {
            for i in 0..OPS as u64 {
                m2.entry(i % 10).and_modify(|v| *v += 1).or_insert(1);
            }
        });
        let total: u64 = m.iter().map(|r| *r.value()).sum();
        assert_eq!(total, (threads * OPS) as u64);
        assert_eq!(m.len(), 10);
        for k in 0..10 {
            assert_eq!(*m.get(&k).unwrap(), (threads * OPS / 10) as u64);
        }
    });
}

#[test]
fn no_lost_inserts() {
    for_thread_counts("no lost inserts", |threads| {
        let m = Arc::new(ShardedMap::<u64, u64>::new());
        let m2 = m.clone();
        spawn_all(threads, move |t| {
            for i in 0..OPS as u64 {
                let k = (t as u64) << 32 | i;
                assert_eq!(m2.insert(k, k), None);
            }
        });
        assert_eq!(m.len(), threads * OPS);
        for t in 0..threads as u64 {
            for i in 0..OPS as u64 {
                let k = t << 32 | i;
                assert_eq!(m.view(&k, |_, v| *v), Some(k));
            }
        }
        assert_eq!(m.iter().count(), threads * OPS);
    });
}

#[test]
fn insert_vs_remove_each_key_removed_once() {
    for_thread_counts("insert vs remove", |threads| {
        let m = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(8));
        let removed = Arc::new(AtomicUsize::new(0));
        let (m2, r2) = (m.clone(), removed.clone());
        let keys = OPS as u64;
        spawn_all(threads, move |t| {
            let inserters = threads / 2;
            if t < inserters {
                // Inserter t owns keys t, t + inserters, ...
                let mut k = t as u64;
                while k < keys {
                    m2.insert(k, k);
                    k += inserters as u64;
                }
            } else {
                // Removers sweep all keys until every key has been removed by someone.
                while r2.load(Ordering::SeqCst) < keys as usize {
                    for k in 0..keys {
                        if let Some((rk, rv)) = m2.remove(&k) {
                            assert_eq!((rk, rv), (k, k));
                            r2.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    std::thread::yield_now();
                }
            }
        });
        assert_eq!(
            removed.load(Ordering::SeqCst),
            keys as usize,
            "a key was removed twice or never"
        );
        assert!(m.is_empty());
        assert_eq!(m.iter().count(), 0);
    });
}

#[test]
fn retain_vs_insert_never_loses_kept_keys() {
    for_thread_counts("retain vs insert", |threads| {
        let m = Arc::new(ShardedMap::<u64, ()>::with_shard_amount(4));
        let m2 = m.clone();
        spawn_all(threads, move |t| {
            if t % 4 == 0 {
                for _ in 0..size(50, 3) {
                    m2.retain(|k, _| k % 2 == 0);
                }
            } else {
                for i in 0..OPS as u64 {
                    m2.insert((t as u64) << 32 | i, ());
                }
            }
        });
        m.retain(|k, _| k % 2 == 0);
        let writers = (0..threads).filter(|t| t % 4 != 0).count();
        assert_eq!(m.len(), writers * OPS.div_ceil(2));
        for t in (0..threads as u64).filter(|t| t % 4 != 0) {
            for i in (0..OPS as u64).step_by(2) {
                assert!(m.contains_key(&(t << 32 | i)), "even key lost by retain");
            }
        }
    });
}

#[test]
fn iteration_during_churn_yields_stable_keys_exactly_once() {
    for_thread_counts("iteration during churn", |threads| {
        let stable = size(500, 20) as u64;
        let m = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(8));
        for k in 0..stable {
            m.insert(k, k);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (m2, stop2) = (m.clone(), stop.clone());
        let iterators = 2;
        let finished = Arc::new(AtomicUsize::new(0));
        let f2 = finished.clone();
        spawn_all(threads, move |t| {
            if t < iterators {
                for _ in 0..size(20, 2) {
                    let mut seen = std::collections::HashSet::new();
                    let mut stable_seen = 0;
                    for r in m2.iter() {
                        assert!(seen.insert(*r.key()), "key {} yielded twice", r.key());
                        if *r.key() < stable {
                            assert_eq!(*r.value(), *r.key());
                            stable_seen += 1;
                        }
                    }
                    assert_eq!(stable_seen, stable, "a stable key was missed");
                }
                if f2.fetch_add(1, Ordering::SeqCst) + 1 == iterators {
                    stop2.store(true, Ordering::SeqCst);
                }
            } else {
                let mut i = 0u64;
                while !stop2.load(Ordering::SeqCst) {
                    let k = 1_000_000 + (t as u64) * 1_000_000 + i % 200;
                    if i.is_multiple_of(2) {
                        m2.insert(k, k);
                    } else {
                        m2.remove(&k);
                    }
                    i += 1;
                }
            }
        });
        assert!(m.len() >= stable as usize);
    });
}

#[test]
fn try_operations_never_block() {
    for_thread_counts("try_* never block", |threads| {
        let m = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(2));
        m.insert(7, 7);
        let held = Arc::new(Barrier::new(threads + 1));
        let release = Arc::new(Barrier::new(threads + 1));
        let checkers: Vec<_> = (0..threads)
            .map(|_| {
                let (m, held, release) = (m.clone(), held.clone(), release.clone());
                std::thread::spawn(move || {
                    held.wait();
                    for _ in 0..size(200, 5) {
                        assert!(m.try_get(&7).is_locked());
                        assert!(m.try_get_mut(&7).is_locked());
                        assert!(m.try_entry(7).is_none());
                    }
                    release.wait();
                })
            })
            .collect();
        {
            let _writer = m.get_mut(&7).unwrap();
            held.wait();
            release.wait();
        }
        for c in checkers {
            c.join().unwrap();
        }
        let value = match m.try_get(&7) {
            TryResult::Present(r) => *r,
            _ => panic!("free shard reported locked or key lost"),
        };
        assert_eq!(value, 7);
    });
}

#[test]
fn readers_never_see_torn_values() {
    for_thread_counts("no torn reads", |threads| {
        let m = Arc::new(ShardedMap::<u64, (u64, u64)>::with_shard_amount(2));
        for k in 0..4 {
            m.insert(k, (0, 0));
        }
        let m2 = m.clone();
        spawn_all(threads, move |t| {
            for i in 0..OPS as u64 {
                let k = i % 4;
                if t % 2 == 0 {
                    let mut w = m2.get_mut(&k).unwrap();
                    w.0 += 1;
                    std::hint::spin_loop();
                    w.1 += 1;
                } else {
                    let r = m2.get(&k).unwrap();
                    assert_eq!(r.0, r.1, "torn read");
                }
            }
        });
        let writes: u64 = m.iter().map(|r| r.0).sum();
        assert_eq!(writes, (threads / 2 * OPS) as u64);
    });
}

#[test]
fn nested_read_completes_while_a_writer_waits() {
    for_thread_counts("nested read with waiting writer", |threads| {
        let m = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(2));
        m.insert(1, 1);
        let other = (2..100u64)
            .find(|k| m.determine_map(k) == m.determine_map(&1))
            .unwrap();
        m.insert(other, 2);
        let outer = m.get(&1).unwrap();
        // Writers queue up on the same shard.
        let writers: Vec<_> = (0..threads - 1)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || *m.get_mut(&1).unwrap() += 1)
            })
            .collect();
        std::thread::sleep(Duration::from_millis(if cfg!(miri) { 2 } else { 20 }));
        // Reader-preferring: the same thread reads the same shard again without deadlock.
        assert_eq!(*m.get(&other).unwrap(), 2);
        assert_eq!(
            *m.get(&1).unwrap(),
            1,
            "a writer got in while a reader held the shard"
        );
        drop(outer);
        for w in writers {
            w.join().unwrap();
        }
        let total = *m.get(&1).unwrap();
        assert_eq!(total, threads as u64);
    });
}

/// Readers on every other thread keep one shard busy, each holding a `Ref` and (with `nested`)
/// reading the same shard again while holding it; one writer inserts keys of that shard. A
/// claiming writer holds back new readers and lets nested ones pass, so the writer gets in
/// between reads: before that design the writer waited 0.7-18.8 s per insert here (once more
/// than 60 s), so these inserts would not finish within the watchdog.
fn writer_gets_in_between_readers(threads: usize, nested: bool) {
    let m = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(4));
    let shard = m.determine_map(&0);
    let mut keys = (0u64..).filter(|k| m.determine_map(k) == shard);
    let (a, b) = (keys.next().unwrap(), keys.next().unwrap());
    m.insert(a, 1);
    m.insert(b, 2);
    let inserts: Vec<u64> = keys.take(size(300, 2)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..threads - 1)
        .map(|_| {
            let (m, stop, reads) = (m.clone(), stop.clone(), reads.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let outer = m.get(&a).unwrap();
                    if nested {
                        assert_eq!(*m.get(&b).unwrap(), 2);
                    }
                    assert_eq!(*outer, 1);
                    drop(outer);
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Let the readers start before every insert is done.
    while reads.load(Ordering::Relaxed) < threads {
        std::thread::yield_now();
    }
    for &k in &inserts {
        m.insert(k, k);
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(m.len(), inserts.len() + 2);
    assert!(inserts.iter().all(|k| m.get(k).is_some_and(|v| *v == *k)));
}

#[test]
fn writer_gets_in_between_nesting_readers() {
    for_thread_counts("writer between nesting readers", |threads| {
        writer_gets_in_between_readers(threads, true)
    });
}

#[test]
fn writer_gets_in_between_plain_readers() {
    for_thread_counts("writer between plain readers", |threads| {
        writer_gets_in_between_readers(threads, false)
    });
}

#[test]
fn set_insert_returns_true_once_per_key() {
    for_thread_counts("set insert races", |threads| {
        let s = Arc::new(ShardedSet::<u64>::with_shard_amount(4));
        let wins = Arc::new(AtomicUsize::new(0));
        let (s2, w2) = (s.clone(), wins.clone());
        spawn_all(threads, move |_| {
            for k in 0..OPS as u64 {
                if s2.insert(k) {
                    w2.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        assert_eq!(wins.load(Ordering::SeqCst), OPS);
        assert_eq!(s.len(), OPS);
    });
}

#[test]
fn alter_all_and_clear_against_writers() {
    for_thread_counts("alter_all and clear vs writers", |threads| {
        let m = Arc::new(ShardedMap::<u64, u64>::with_shard_amount(4));
        let m2 = m.clone();
        spawn_all(threads, move |t| match t % 4 {
            0 => (0..size(20, 2)).for_each(|_| m2.alter_all(|_, v| v + 1)),
            1 => (0..size(5, 1)).for_each(|_| m2.clear()),
            _ => {
                for i in 0..OPS as u64 {
                    m2.insert((t as u64) << 32 | (i % 100), i);
                    m2.get(&((t as u64) << 32 | (i % 50)));
                }
            }
        });
        assert_eq!(m.len(), m.iter().count());
        assert!(m.len() <= (threads - threads / 4 * 2 + 1) * 100);
    });
}
