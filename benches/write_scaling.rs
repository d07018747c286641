//! Why writes do not scale from 1 to 2 threads on a sharded map: an A/B that moves only where
//! each thread's keys live.
//!
//! ```sh
//! cargo bench --bench write_scaling                  # 2^14 and 2^22 entries, 7 reps
//! cargo bench --bench write_scaling -- --reps 9 --entries-log2 22
//! cargo bench --bench write_scaling -- --test        # every cell once, small (CI)
//! ```
//!
//! On the public Exchange and RapidGrow mixes (`benches/public_mixes.rs`), ours and DashMap run
//! at 2 threads no faster than at 1, while scc, whose locks sit in its buckets, doubles. The
//! suspect is the shard: every write changes the shard's lock word and its table's counters,
//! which share one cache line, so when two threads write the same shards that line moves
//! between the cores on about half the writes. This bench runs Exchange's operation mix (10%
//! read, 40% insert, 40% remove, 10% update, on a map prefilled to half its key pool) with each
//! thread's keys placed two ways:
//!
//! - **shared**: every thread's keys fall in every shard, as in bustle;
//! - **disjoint**: thread `t` of 2 only has keys whose shard index is `t` modulo 2, so no shard's
//!   line is ever written by both threads.
//!
//! Everything else (the maps, key counts, operation sequence per thread, table sizes) is the
//! same. The 1-thread run does both threads' work on one thread (the same keys and operations,
//! one after the other), so "2t / 1t" is the scaling. If disjoint scales and shared does not,
//! the shared shard line is the cause. The two sizes tell the cache-resident case (2^14 entries)
//! from the DRAM-bound one (2^22). Each repetition runs every cell in a freshly shuffled order;
//! scaling is the median (min..max) of the per-repetition ratios.
#![allow(missing_docs)]

#[path = "maps/adapters.rs"]
#[allow(dead_code, unused_macros)] // the comparison benches use more of the adapters than this
mod adapters;
#[path = "common/stats.rs"]
mod stats;

use std::process::exit;
use std::sync::Barrier;
use std::time::Instant;

use adapters::{BenchMap, Dash, Ours, Rng};
use stats::{shuffled, spread};

/// A map this A/B can place keys in: a [`BenchMap`] that says which shard a key goes to.
trait Sharded: BenchMap {
    fn shard(&self, key: u64) -> usize;
}

impl Sharded for Ours {
    fn shard(&self, key: u64) -> usize {
        self.0.shard_of(&key)
    }
}

/// Ours with 64 shards instead of the default (8 on 2 cores): two threads then want the same
/// shard at the same moment an eighth as often, while the chance that the other core wrote a
/// shard's line last stays one half. So this row tells waiting for a held lock from moving
/// its line.
struct Ours64(Ours);

impl BenchMap for Ours64 {
    const NAME: &'static str = "sharded-map, 64 shards";
    fn with_capacity(capacity: usize) -> Self {
        Self(Ours(
            sharded_map::ShardedMap::with_capacity_and_hasher_and_shard_amount(
                capacity,
                adapters::hasher(),
                64,
            ),
        ))
    }
    fn get(&self, key: u64) -> bool {
        self.0.get(key)
    }
    fn insert(&self, key: u64, value: u64) -> bool {
        self.0.insert(key, value)
    }
    fn remove(&self, key: u64) -> bool {
        self.0.remove(key)
    }
    fn update(&self, key: u64) -> bool {
        self.0.update(key)
    }
}

impl Sharded for Ours64 {
    fn shard(&self, key: u64) -> usize {
        self.0.shard(key)
    }
}

impl Sharded for Dash {
    /// DashMap 6's routing (`determine_shard`, public only with its `raw-api` feature): the
    /// hash's bits below the top 7, over its default shard count, which is
    /// `(available_parallelism * 4).next_power_of_two()`.
    fn shard(&self, key: u64) -> usize {
        static SHIFT: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        let shift = *SHIFT.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            usize::BITS - (cores * 4).next_power_of_two().trailing_zeros()
        });
        (self.0.hash_usize(&key) << 7) >> shift
    }
}

const THREADS: usize = 2;

/// Operations per pool at the least, so a small table's run lasts long enough (~0.1 s) that
/// starting the threads does not count.
const MIN_OPS: usize = 2_000_000;

/// Each thread's key pool: `pool` keys per thread, shared (any shard) or disjoint (thread `t`'s
/// keys all in shards `t` modulo 2).
fn pools<M: Sharded>(map: &M, pool: usize, disjoint: bool) -> Vec<Vec<u64>> {
    let mut rng = Rng::new(0x77);
    let mut pools: Vec<Vec<u64>> = (0..THREADS).map(|_| Vec::with_capacity(pool)).collect();
    while pools.iter().any(|p| p.len() < pool) {
        let key = rng.next();
        let t = if disjoint {
            map.shard(key) % THREADS
        } else {
            (key >> 7) as usize % THREADS
        };
        if pools[t].len() < pool {
            pools[t].push(key);
        }
    }
    pools
}

/// Exchange's mix on one key pool: `ops` operations in a fixed pseudo-random order.
fn exchange<M: BenchMap>(map: &M, keys: &[u64], ops: usize, seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    let mut hits = 0;
    for _ in 0..ops {
        let r = rng.next();
        let key = keys[(r >> 32) as usize % keys.len()];
        hits += usize::from(match r % 10 {
            0 => map.get(key),
            1..=4 => map.insert(key, r),
            5..=8 => map.remove(key),
            _ => map.update(key),
        });
    }
    hits
}

/// One cell: a fresh map prefilled with half of each pool, then `ops` operations per pool, on
/// `threads` threads (1: both pools on one thread). Returns operations per second.
fn cell<M: Sharded>(entries: usize, ops: usize, disjoint: bool, threads: usize) -> f64 {
    let map = M::with_capacity(entries);
    let pools = pools(&map, entries, disjoint);
    for pool in &pools {
        for &k in &pool[..pool.len() / 2] {
            map.insert(k, k);
        }
    }
    let barrier = Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|s| {
        let per_thread = THREADS / threads;
        for (t, part) in pools.chunks(per_thread).enumerate() {
            let (map, barrier) = (&map, &barrier);
            s.spawn(move || {
                barrier.wait();
                // Each pool's operations are seeded by the pool, whichever thread runs it.
                for (i, keys) in part.iter().enumerate() {
                    let seed = (t * per_thread + i) as u64 + 1;
                    std::hint::black_box(exchange(map, keys, ops, seed));
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    });
    (ops * THREADS) as f64 / elapsed.as_secs_f64()
}

type Runner = fn(usize, usize, bool, usize) -> f64;

const MAPS: [(&str, Runner); 3] = [
    (Ours::NAME, cell::<Ours>),
    (Ours64::NAME, cell::<Ours64>),
    (Dash::NAME, cell::<Dash>),
];

struct Config {
    sizes: Vec<u32>,
    reps: usize,
    /// Operations per thread's pool, as a multiple of the entries (at least [`MIN_OPS`]).
    ops: usize,
    test: bool,
}

impl Config {
    /// Operations per pool for a table of `entries`.
    fn ops(&self, entries: usize) -> usize {
        (entries * self.ops).max(if self.test { 0 } else { MIN_OPS })
    }
}

const USAGE: &str = "usage: write_scaling [--test] [--reps N] [--entries-log2 14,22]";

fn bad_usage(msg: &str) -> ! {
    eprintln!("error: {msg}\n{USAGE}");
    exit(2)
}

fn parse_args() -> Config {
    let mut c = Config {
        sizes: vec![14, 22],
        reps: 7,
        ops: 4,
        test: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "--test" => {
                c.sizes = vec![10];
                c.reps = 1;
                c.test = true;
            }
            "--reps" => {
                let value = args.next().unwrap_or_default();
                c.reps = match value.parse() {
                    Ok(n) if n >= 1 => n,
                    _ => bad_usage(&format!("--reps needs a whole number >= 1, got `{value}`")),
                };
            }
            "--entries-log2" => {
                let value = args.next().unwrap_or_default();
                c.sizes = value
                    .split(',')
                    .map(|s| match s.parse() {
                        Ok(n) if (6..=26).contains(&n) => n,
                        _ => bad_usage(&format!("--entries-log2: each size is 6 to 26, got `{s}`")),
                    })
                    .collect();
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                exit(0)
            }
            other => bad_usage(&format!("unknown option `{other}`")),
        }
    }
    c
}

fn main() {
    let config = parse_args();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "Exchange mix (10/40/40/10), u64 keys, ahash; {} repetitions, {cores} cores; \
         Mop/s median (min..max); 2t / 1t: per-repetition median (min..max)",
        config.reps
    );
    let mut order_rng = Rng::new(0x5eed);
    for &log2 in &config.sizes {
        let entries = 1usize << log2;
        // Cells: (map, disjoint, threads).
        let cells: Vec<(usize, bool, usize)> = (0..MAPS.len())
            .flat_map(|m| [false, true].map(move |d| (m, d)))
            .flat_map(|(m, d)| [1, THREADS].map(move |t| (m, d, t)))
            .collect();
        let mut results = vec![Vec::new(); cells.len()];
        for _ in 0..config.reps {
            for c in shuffled(cells.len(), &mut order_rng) {
                let (m, disjoint, threads) = cells[c];
                results[c].push(MAPS[m].1(entries, config.ops(entries), disjoint, threads));
            }
            eprint!(".");
        }
        eprintln!();
        println!(
            "\n2^{log2} keys in each thread's pool, half of them in the map; {} operations per pool\n\n\
             | map | keys | 1 thread | 2 threads | 2t / 1t |\n|---|---|---|---|---|",
            config.ops(entries)
        );
        // Cells come in pairs: 1 thread, then 2, for one map and placement.
        for (i, pair) in results.chunks(2).enumerate() {
            let (m, disjoint, _) = cells[2 * i];
            let (one, two) = (&pair[0], &pair[1]);
            let (o, olo, ohi) = spread(one);
            let (t, tlo, thi) = spread(two);
            let ratios: Vec<f64> = two.iter().zip(one).map(|(b, a)| b / a).collect();
            let (r, rlo, rhi) = spread(&ratios);
            println!(
                "| {} | {} | {:.1} ({:.1}..{:.1}) | {:.1} ({:.1}..{:.1}) | {r:.2}x ({rlo:.2}..{rhi:.2}) |",
                MAPS[m].0,
                if disjoint { "disjoint" } else { "shared" },
                o / 1e6,
                olo / 1e6,
                ohi / 1e6,
                t / 1e6,
                tlo / 1e6,
                thi / 1e6,
            );
        }
    }
}
