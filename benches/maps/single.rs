//! Single-thread overhead on a 1M-entry map: get hit, get miss, insert (growing and presized),
//! remove. Every concurrent map against `std::collections::HashMap` (hashbrown) as the floor.
//!
//! `get_hit` / `get_miss` look up every key once per iteration in a random order, so lookups
//! spread over the whole table (cache misses included, as in real use); `get_hit_hot` repeats
//! the same 1,024 keys, which stay in cache, and so isolates the per-call overhead (for a
//! locking map: the two atomic read-modify-writes of the shard lock).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};

use crate::adapters::{hasher, keys, test_mode, BenchMap, Hasher};
use crate::for_each_map;

/// Lookups per measured iteration.
const BATCH: usize = 1024;

pub fn benches(c: &mut Criterion) {
    let n = if test_mode() { 10_000 } else { 1_000_000 };
    let present = keys(n, 1);
    // `keys` is already in pseudo-random order; re-sorting by a multiplicative hash gives a
    // second, unrelated order for the lookups.
    let mut lookup = present.clone();
    lookup.sort_unstable_by_key(|k| k.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let absent = keys(2 * n, 2).split_off(n);
    let hot: Vec<u64> = present
        .iter()
        .step_by((n / BATCH).max(1))
        .take(BATCH)
        .copied()
        .collect();

    let mut g = c.benchmark_group("single");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    let floor: HashMap<u64, u64, Hasher> = present.iter().map(|&k| (k, k)).collect();
    let cases: [(&str, &[u64]); 3] = [
        ("get_hit", &lookup),
        ("get_miss", &absent),
        ("get_hit_hot", &hot),
    ];
    for (name, probe) in cases {
        g.throughput(Throughput::Elements(probe.len() as u64));
        g.bench_function(BenchmarkId::new(name, "hashbrown"), |b| {
            b.iter(|| {
                probe
                    .iter()
                    .filter(|k| floor.contains_key(black_box(k)))
                    .count()
            })
        });
    }
    drop(floor);
    for_each_map!(M => {
        let map = M::with_capacity(0);
        for &k in &present {
            map.insert(k, k);
        }
        for (name, probe) in cases {
            g.throughput(Throughput::Elements(probe.len() as u64));
            g.bench_function(BenchmarkId::new(name, M::NAME), |b| {
                b.iter(|| probe.iter().filter(|&&k| map.get(black_box(k))).count())
            });
        }
    });

    g.finish();

    // Inserts and removes: the whole key set per iteration.
    let mut g2 = c.benchmark_group("single_bulk");
    g2.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g2.throughput(Throughput::Elements(n as u64));
    g2.bench_function(BenchmarkId::new("insert_grow", "hashbrown"), |b| {
        b.iter(|| {
            let mut m: HashMap<u64, u64, Hasher> = HashMap::with_hasher(hasher());
            present.iter().for_each(|&k| {
                m.insert(k, k);
            });
            m
        })
    });
    g2.bench_function(BenchmarkId::new("insert_presized", "hashbrown"), |b| {
        b.iter(|| {
            let mut m: HashMap<u64, u64, Hasher> = HashMap::with_capacity_and_hasher(n, hasher());
            present.iter().for_each(|&k| {
                m.insert(k, k);
            });
            m
        })
    });
    g2.bench_function(BenchmarkId::new("remove", "hashbrown"), |b| {
        b.iter_batched(
            || {
                present
                    .iter()
                    .map(|&k| (k, k))
                    .collect::<HashMap<u64, u64, Hasher>>()
            },
            |mut m| {
                present.iter().for_each(|k| {
                    m.remove(k);
                });
                m
            },
            BatchSize::LargeInput,
        )
    });
    for_each_map!(M => {
        g2.bench_function(BenchmarkId::new("insert_grow", M::NAME), |b| {
            b.iter(|| {
                let m = M::with_capacity(0);
                present.iter().for_each(|&k| {
                    m.insert(k, k);
                });
                m
            })
        });
        g2.bench_function(BenchmarkId::new("insert_presized", M::NAME), |b| {
            b.iter(|| {
                let m = M::with_capacity(n);
                present.iter().for_each(|&k| {
                    m.insert(k, k);
                });
                m
            })
        });
        g2.bench_function(BenchmarkId::new("remove", M::NAME), |b| {
            b.iter_batched(
                || {
                    let m = M::with_capacity(n);
                    present.iter().for_each(|&k| {
                    m.insert(k, k);
                });
                    m
                },
                |m| {
                    present.iter().for_each(|&k| {
                        m.remove(k);
                    });
                    m
                },
                BatchSize::LargeInput,
            )
        });
    });
    g2.finish();
}
