//! Single-thread overhead on a 1M-entry map: get hit, get miss, insert (growing and presized),
//! remove. Every concurrent map against `std::collections::HashMap` (hashbrown) as the floor.

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
    let absent = keys(n + BATCH, 2).split_off(n);
    let probe: Vec<u64> = present
        .iter()
        .step_by((n / BATCH).max(1))
        .take(BATCH)
        .copied()
        .collect();

    let mut g = c.benchmark_group("single");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    // Lookups: BATCH per iteration.
    g.throughput(Throughput::Elements(BATCH as u64));
    let floor: HashMap<u64, u64, Hasher> = present.iter().map(|&k| (k, k)).collect();
    g.bench_function(BenchmarkId::new("get_hit", "hashbrown"), |b| {
        b.iter(|| {
            probe
                .iter()
                .filter(|k| floor.contains_key(black_box(k)))
                .count()
        })
    });
    g.bench_function(BenchmarkId::new("get_miss", "hashbrown"), |b| {
        b.iter(|| {
            absent
                .iter()
                .filter(|k| floor.contains_key(black_box(k)))
                .count()
        })
    });
    drop(floor);
    for_each_map!(M => {
        let map = M::with_capacity(0);
        for &k in &present {
            map.insert(k, k);
        }
        g.bench_function(BenchmarkId::new("get_hit", M::NAME), |b| {
            b.iter(|| probe.iter().filter(|&&k| map.get(black_box(k))).count())
        });
        g.bench_function(BenchmarkId::new("get_miss", M::NAME), |b| {
            b.iter(|| absent.iter().filter(|&&k| map.get(black_box(k))).count())
        });
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
                present.iter().for_each(|&k| m.insert(k, k));
                m
            })
        });
        g2.bench_function(BenchmarkId::new("insert_presized", M::NAME), |b| {
            b.iter(|| {
                let m = M::with_capacity(n);
                present.iter().for_each(|&k| m.insert(k, k));
                m
            })
        });
        g2.bench_function(BenchmarkId::new("remove", M::NAME), |b| {
            b.iter_batched(
                || {
                    let m = M::with_capacity(n);
                    present.iter().for_each(|&k| m.insert(k, k));
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
