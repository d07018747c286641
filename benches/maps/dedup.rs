//! The problem this crate started from: deduplicate `(u32, f64)` pairs by inserting them from 2
//! threads into one map, against a sequential std `HashMap` (same hasher). Three data shapes of
//! 10M pairs: all keys distinct, about half duplicates, and 1,000 distinct keys. With feature
//! `rayon`, the partitioned parallel build (`collect` and `&map` `par_extend` on a 2-thread pool)
//! joins them, next to what a user would otherwise try on the same pool: `par_sort_unstable` +
//! `dedup`, and fold + reduce into std `HashMap`s.

use std::collections::HashMap;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};

use crate::adapters::{hasher, test_mode, Hasher, Rng};

fn data(pairs: usize, distinct: u64) -> Vec<(u32, f64)> {
    let mut rng = Rng::new(7);
    (0..pairs)
        .map(|i| {
            // All distinct: a bijection on u32 that scatters the keys, so the input is not
            // already sorted (sorting presorted input is a different, much cheaper job).
            let k = if distinct as usize >= pairs {
                u64::from((i as u32).wrapping_mul(0x9e37_79b1))
            } else {
                rng.next() % distinct
            };
            (k as u32, k as f64 * 0.5)
        })
        .collect()
}

/// Inserts `pairs` from `threads` threads through `insert`.
fn parallel<M: Sync>(
    map: &M,
    pairs: &[(u32, f64)],
    threads: usize,
    insert: impl Fn(&M, u32, f64) + Sync,
) {
    std::thread::scope(|s| {
        for part in pairs.chunks(pairs.len().div_ceil(threads)) {
            let insert = &insert;
            s.spawn(move || part.iter().for_each(|&(k, v)| insert(map, k, v)));
        }
    });
}

pub fn benches(c: &mut Criterion) {
    let pairs = if test_mode() { 10_000 } else { 10_000_000 };
    let shapes = [
        ("all_distinct", pairs as u64),
        ("half_duplicates", pairs as u64 / 2),
        ("1000_keys", 1000),
    ];
    let mut g = c.benchmark_group("dedup");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(pairs as u64));
    for (shape, distinct) in shapes {
        let input = data(pairs, distinct);
        g.bench_function(BenchmarkId::new("sequential std HashMap", shape), |b| {
            b.iter(|| {
                let mut m: HashMap<u32, f64, Hasher> = HashMap::with_hasher(hasher());
                input.iter().for_each(|&(k, v)| {
                    m.insert(k, v);
                });
                m
            })
        });
        g.bench_function(BenchmarkId::new("sharded-map 2 threads", shape), |b| {
            b.iter(|| {
                let m = sharded_map::ShardedMap::with_hasher(hasher());
                parallel(&m, &input, 2, |m, k, v| {
                    m.insert(k, v);
                });
                m
            })
        });
        #[cfg(feature = "rayon")]
        {
            use rayon::iter::{IntoParallelRefIterator, ParallelExtend, ParallelIterator};
            use rayon::slice::ParallelSliceMut;
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .expect("a 2-thread rayon pool");
            g.bench_function(
                BenchmarkId::new("sharded-map collect 2 threads", shape),
                |b| {
                    b.iter(|| {
                        pool.install(|| {
                            input
                                .par_iter()
                                .copied()
                                .collect::<sharded_map::ShardedMap<u32, f64, Hasher>>()
                        })
                    })
                },
            );
            // The forum's best answer: sort in place (in a copy made outside the timing, as a
            // program that owns its input would sort that), then drop adjacent duplicates.
            g.bench_function(
                BenchmarkId::new("rayon par_sort_unstable + dedup 2 threads", shape),
                |b| {
                    b.iter_batched(
                        || input.clone(),
                        |mut pairs| {
                            pool.install(|| pairs.par_sort_unstable_by_key(|p| p.0));
                            pairs.dedup_by_key(|p| p.0);
                            pairs
                        },
                        criterion::BatchSize::LargeInput,
                    )
                },
            );
            g.bench_function(
                BenchmarkId::new("rayon fold + reduce 2 threads", shape),
                |b| {
                    type Std = HashMap<u32, f64, Hasher>;
                    let empty = || Std::with_hasher(hasher());
                    b.iter(|| {
                        pool.install(|| {
                            input
                                .par_iter()
                                .fold(empty, |mut m, &(k, v)| {
                                    m.insert(k, v);
                                    m
                                })
                                .reduce(empty, |a, b| {
                                    let (mut big, small) =
                                        if a.len() >= b.len() { (a, b) } else { (b, a) };
                                    big.extend(small);
                                    big
                                })
                        })
                    })
                },
            );
            g.bench_function(
                BenchmarkId::new("sharded-map &map par_extend 2 threads", shape),
                |b| {
                    b.iter(|| {
                        let m = sharded_map::ShardedMap::with_hasher(hasher());
                        pool.install(|| (&m).par_extend(input.par_iter().copied()));
                        m
                    })
                },
            );
        }
        g.bench_function(BenchmarkId::new("DashMap 2 threads", shape), |b| {
            b.iter(|| {
                let m = dashmap::DashMap::with_hasher(hasher());
                parallel(&m, &input, 2, |m, k, v| {
                    m.insert(k, v);
                });
                m
            })
        });
        g.bench_function(BenchmarkId::new("RwLock<HashMap> 2 threads", shape), |b| {
            b.iter(|| {
                let m = std::sync::RwLock::new(HashMap::<u32, f64, Hasher>::with_hasher(hasher()));
                parallel(&m, &input, 2, |m, k, v| {
                    m.write().unwrap().insert(k, v);
                });
                m
            })
        });
        g.bench_function(BenchmarkId::new("scc 2 threads", shape), |b| {
            b.iter(|| {
                let m = scc::HashMap::with_hasher(hasher());
                parallel(&m, &input, 2, |m, k, v| {
                    m.upsert_sync(k, v);
                });
                m
            })
        });
        g.bench_function(BenchmarkId::new("papaya 2 threads", shape), |b| {
            b.iter(|| {
                let m = papaya::HashMap::builder().hasher(hasher()).build();
                parallel(&m, &input, 2, |m, k, v| {
                    m.pin().insert(k, v);
                });
                m
            })
        });
    }
    g.finish();
}
