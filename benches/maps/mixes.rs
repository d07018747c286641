//! The conc-map-bench / bustle workloads on a table of about 4M entries, at 1, 2 and 4 threads
//! (4 oversubscribes the 2-core development machine), plus a ceiling row: a frozen, shared
//! hashbrown map read by the same threads with no synchronization at all.
//!
//! | mix | read | insert | remove | update |
//! |---|---|---|---|---|
//! | ReadHeavy | 98 | 1 | 1 | 0 |
//! | Exchange | 10 | 40 | 40 | 10 |
//! | RapidGrow | 5 | 80 | 5 | 10 |
//!
//! Keys are drawn from twice the prefilled key space, so reads hit about half the time and
//! Exchange keeps the size steady; RapidGrow inserts fresh keys and grows the table.
//!
//! One more group, `mix_ReadHeavy_64K`, runs ReadHeavy on a table of 64K entries that stays in
//! cache: there the cost of the reader indicator is not hidden behind memory latency (a shared
//! cache or registry, as opposed to a large memory-bound table).

use std::collections::HashMap;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};

use crate::adapters::{hasher, test_mode, timed_threads, BenchMap, Hasher, Rng};
use crate::for_each_map;

#[derive(Clone, Copy)]
pub struct Mix {
    pub name: &'static str,
    read: u8,
    insert: u8,
    remove: u8,
}

pub const MIXES: [Mix; 3] = [
    Mix {
        name: "ReadHeavy",
        read: 98,
        insert: 1,
        remove: 1,
    },
    Mix {
        name: "Exchange",
        read: 10,
        insert: 40,
        remove: 40,
    },
    Mix {
        name: "RapidGrow",
        read: 5,
        insert: 80,
        remove: 5,
    },
];

pub const THREADS: [usize; 3] = [1, 2, 4];

fn sizes() -> (u64, u64) {
    if test_mode() {
        (10_000, 1_000)
    } else {
        (4_000_000, 100_000)
    }
}

/// Runs `ops` operations of `mix` on `threads` threads, `iters` times over, and returns the
/// wall time of the measured part.
fn run<M: BenchMap>(
    map: &M,
    mix: Mix,
    threads: usize,
    iters: u64,
    space: u64,
    ops: u64,
) -> Duration {
    let fresh = std::sync::atomic::AtomicU64::new(space * 4);
    timed_threads(threads, |t| {
        let mut rng = Rng::new(1000 + t as u64);
        for _ in 0..iters * ops {
            let r = rng.next();
            let key = (r >> 8) % (2 * space);
            let dice = (r % 100) as u8;
            if dice < mix.read {
                std::hint::black_box(map.get(key));
            } else if dice < mix.read + mix.insert {
                let key = if mix.name == "RapidGrow" {
                    fresh.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                } else {
                    key
                };
                map.insert(key, r);
            } else if dice < mix.read + mix.insert + mix.remove {
                map.remove(key);
            } else {
                map.update(key);
            }
        }
    })
}

fn prefill<M: BenchMap>(space: u64) -> M {
    let map = M::with_capacity(0);
    for k in 0..space {
        map.insert(k * 2, k);
    }
    map
}

/// The ceiling row: the same key stream read from a frozen std `HashMap` with no synchronization.
fn ceiling(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    space: u64,
    ops: u64,
    threads: usize,
) {
    let frozen: HashMap<u64, u64, Hasher> = {
        let mut m = HashMap::with_hasher(hasher());
        (0..space).for_each(|k| {
            m.insert(k * 2, k);
        });
        m
    };
    g.bench_with_input(
        BenchmarkId::new("frozen hashbrown (ceiling)", threads),
        &threads,
        |b, &threads| {
            b.iter_custom(|iters| {
                timed_threads(threads, |t| {
                    let mut rng = Rng::new(1000 + t as u64);
                    for _ in 0..iters * ops {
                        let key = (rng.next() >> 8) % (2 * space);
                        std::hint::black_box(frozen.contains_key(&key));
                    }
                })
            })
        },
    );
}

/// One group: `mix` on a table prefilled with `space` keys, at each of `threads`.
fn group(c: &mut Criterion, name: &str, mix: Mix, space: u64, ops: u64, threads: &[usize]) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for &threads in threads {
        g.throughput(Throughput::Elements(ops * threads as u64));
        for_each_map!(M => {
            let map: M = prefill(space);
            g.bench_with_input(BenchmarkId::new(M::NAME, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| run(&map, mix, threads, iters, space, ops))
            });
        });
        if mix.name == "ReadHeavy" {
            ceiling(&mut g, space, ops, threads);
        }
    }
    g.finish();
}

pub fn benches(c: &mut Criterion) {
    let (space, ops) = sizes();
    for mix in MIXES {
        group(c, &format!("mix_{}", mix.name), mix, space, ops, &THREADS);
    }
    let hot = if test_mode() { 1 << 10 } else { 1 << 16 };
    group(c, "mix_ReadHeavy_64K", MIXES[0], hot, ops, &THREADS);
}
