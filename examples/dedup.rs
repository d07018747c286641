//! Deduplicate `(u32, f64)` pairs, the job this crate started from, two ways: many threads
//! inserting into one shared `ShardedMap`, and (feature `rayon`) the partitioned parallel build
//! (`collect` from a rayon iterator); both are checked against a sequential
//! `std::collections::HashMap`.
//!
//! ```sh
//! cargo run --release --features rayon --example dedup          # 10M pairs, ~5M distinct keys
//! cargo run --release --features rayon --example dedup -- --pairs 100000000 --distinct 1000
//! ```
//!
//! The std map and the shared map are presized for `--distinct` keys; `collect` starts empty
//! (it cannot know the distinct count). All use the same hasher (ahash).
//!
//! The data is generated from a fixed seed, so runs are repeatable. Last write wins for a key in
//! the sequential run and in `collect`; the threads inserting one by one keep whichever write
//! came last in time. The generator makes a value a function of its key, as real duplicate data
//! is, so all three must agree exactly.

use std::collections::HashMap;
use std::time::Instant;

use sharded_map::ShardedMap;

struct Args {
    pairs: usize,
    distinct: u32,
    threads: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        pairs: 10_000_000,
        distinct: 5_000_000,
        threads: std::thread::available_parallelism().map_or(2, usize::from),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a positive integer value"))
        };
        match flag.as_str() {
            "--pairs" => args.pairs = value("--pairs"),
            "--distinct" => {
                args.distinct = u32::try_from(value("--distinct")).expect("--distinct fits in u32")
            }
            "--threads" => args.threads = value("--threads"),
            "-h" | "--help" => {
                println!("usage: dedup [--pairs N] [--distinct D] [--threads T]");
                std::process::exit(0);
            }
            other => panic!("unknown argument {other:?} (try --help)"),
        }
    }
    assert!(
        args.pairs > 0 && args.distinct > 0 && args.threads > 0,
        "all values must be positive"
    );
    args
}

/// A fixed-seed xorshift generator: repeatable data without a dependency.
fn generate(pairs: usize, distinct: u32) -> Vec<(u32, f64)> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..pairs)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = (state % u64::from(distinct)) as u32;
            (key, f64::from(key) * 0.5 - 1.0)
        })
        .collect()
}

fn main() {
    let args = parse_args();
    let data = generate(args.pairs, args.distinct);
    println!(
        "dedup: {} pairs, up to {} distinct keys, {} threads, {} cores",
        args.pairs,
        args.distinct,
        args.threads,
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    let start = Instant::now();
    // Same hasher as the map, so the comparison is about the map, not the hash function.
    let mut sequential: HashMap<u32, f64, sharded_map::RandomState> =
        HashMap::with_capacity_and_hasher(args.distinct as usize, Default::default());
    for &(k, v) in &data {
        sequential.insert(k, v);
    }
    let t_seq = start.elapsed();
    println!(
        "  sequential std HashMap (ahash):    {:>8.1?}  {} keys",
        t_seq,
        sequential.len()
    );

    let start = Instant::now();
    let map = ShardedMap::with_capacity(args.distinct as usize);
    let chunk = data.len().div_ceil(args.threads);
    std::thread::scope(|s| {
        for part in data.chunks(chunk) {
            let map = &map;
            s.spawn(move || {
                for &(k, v) in part {
                    map.insert(k, v);
                }
            });
        }
    });
    let t_par = start.elapsed();
    println!(
        "  ShardedMap, {} threads inserting: {:>8.1?}  {} keys  ({:.2}x sequential)",
        args.threads,
        t_par,
        map.len(),
        t_seq.as_secs_f64() / t_par.as_secs_f64()
    );

    check(&map, &sequential);
    partitioned(&args, &data, t_seq, &sequential);
    println!("  results agree");
}

/// The partitioned parallel build (feature `rayon`): items bucketed by shard, each shard filled
/// by one worker, no per-item locking.
#[cfg(feature = "rayon")]
fn partitioned(
    args: &Args,
    data: &[(u32, f64)],
    t_seq: std::time::Duration,
    sequential: &HashMap<u32, f64, sharded_map::RandomState>,
) {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .expect("build a rayon pool");
    let start = Instant::now();
    let map: ShardedMap<u32, f64> = pool.install(|| data.par_iter().copied().collect());
    let t = start.elapsed();
    println!(
        "  ShardedMap, rayon collect ({} threads): {:>8.1?}  {} keys  ({:.2}x sequential)",
        args.threads,
        t,
        map.len(),
        t_seq.as_secs_f64() / t.as_secs_f64()
    );
    check(&map, sequential);
}

#[cfg(not(feature = "rayon"))]
fn partitioned(
    _: &Args,
    _: &[(u32, f64)],
    _: std::time::Duration,
    _: &HashMap<u32, f64, sharded_map::RandomState>,
) {
    println!("  (the partitioned build needs `--features rayon`)");
}

fn check(map: &ShardedMap<u32, f64>, sequential: &HashMap<u32, f64, sharded_map::RandomState>) {
    assert_eq!(map.len(), sequential.len(), "key counts differ");
    for (k, v) in sequential {
        assert_eq!(map.view(k, |_, x| *x), Some(*v), "key {k} differs");
    }
}
