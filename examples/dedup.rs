//! Deduplicate `(u32, f64)` pairs, the job this crate started from, two ways: many threads
//! inserting into one shared `ShardedMap`, and (feature `rayon`) the partitioned parallel build
//! (`collect` from a rayon iterator); both are checked against a sequential
//! `std::collections::HashMap`.
//!
//! ```sh
//! cargo run --release --features rayon --example dedup          # 10M pairs, ~5M distinct keys
//! cargo run --release --features rayon --example dedup -- --pairs 100000000 --distinct 1000
//! cargo run --release --features rayon --example dedup -- --help
//! ```
//!
//! A bad option prints one line saying what is wrong, then the usage, and exits with status 2.
//!
//! The std map and the shared map are presized for `--distinct` keys (or `--pairs`, if fewer);
//! `collect` starts empty (it cannot know the distinct count). All use the same hasher (ahash).
//!
//! The data is generated from a seed (`--seed`, default 0), so runs are repeatable. Last write wins for a key in
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
    seed: u64,
}

const USAGE: &str = "usage: dedup [--pairs N] [--distinct D] [--threads T] [--seed S]
  --pairs N     pairs to generate (default 10000000; 1 or more)
  --distinct D  at most this many distinct keys (default 5000000; 1 to 4294967295, keys are u32)
  --threads T   threads for the parallel builds (default: the core count; 1 to 1024)
  --seed S      seed of the generator (default 0; any u64)";

/// Reads the command line; an error is one line saying what is wrong.
fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        pairs: 10_000_000,
        distinct: 5_000_000,
        threads: std::thread::available_parallelism().map_or(2, usize::from),
        seed: 0,
    };
    while let Some(flag) = argv.next() {
        let mut number = |name: &str, min: u64, max: u64| -> Result<u64, String> {
            let raw = argv.next().ok_or_else(|| format!("{name} needs a value"))?;
            let value: u64 = raw
                .replace('_', "")
                .parse()
                .map_err(|_| format!("{name} needs a whole number, got `{raw}`"))?;
            if value < min || value > max {
                return Err(if max == u64::MAX || max == usize::MAX as u64 {
                    format!("{name} must be at least {min}, got {value}")
                } else {
                    format!("{name} must be between {min} and {max}, got {value}")
                });
            }
            Ok(value)
        };
        match flag.as_str() {
            "--pairs" => args.pairs = number("--pairs", 1, usize::MAX as u64)? as usize,
            "--distinct" => {
                args.distinct = number("--distinct", 1, u64::from(u32::MAX))? as u32;
            }
            "--threads" => args.threads = number("--threads", 1, 1024)? as usize,
            "--seed" => args.seed = number("--seed", 0, u64::MAX)?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(args)
}

/// A seeded xorshift generator: repeatable data without a dependency. Fails with a clear
/// message, instead of aborting, when the pairs do not fit in memory.
fn generate(pairs: usize, distinct: u32, seed: u64) -> Result<Vec<(u32, f64)>, String> {
    let mut data: Vec<(u32, f64)> = Vec::new();
    data.try_reserve_exact(pairs).map_err(|_| {
        let gib = pairs as f64 * std::mem::size_of::<(u32, f64)>() as f64 / (1u64 << 30) as f64;
        format!(
            "--pairs {pairs} needs {gib:.1} GiB for the input alone, more than can be allocated"
        )
    })?;
    // xorshift needs a non-zero state; mixing the seed in keeps every seed distinct.
    let mut state = (0x9e37_79b9_7f4a_7c15_u64 ^ seed.wrapping_mul(0xbf58_476d_1ce4_e5b9)).max(1);
    data.extend((0..pairs).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let key = (state % u64::from(distinct)) as u32;
        (key, f64::from(key) * 0.5 - 1.0)
    }));
    Ok(data)
}

fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("error: {problem}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let data = match generate(args.pairs, args.distinct, args.seed) {
        Ok(data) => data,
        Err(problem) => {
            eprintln!("error: {problem}");
            std::process::exit(2);
        }
    };
    println!(
        "dedup: {} pairs, up to {} distinct keys, seed {}, {} threads, {} cores",
        args.pairs,
        args.distinct,
        args.seed,
        args.threads,
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    // At most `--distinct` keys, and never more than there are pairs: presizing for a billion
    // distinct keys out of ten million pairs would ask for tens of GiB.
    let expected = (args.distinct as usize).min(args.pairs);
    let start = Instant::now();
    // Same hasher as the map, so the comparison is about the map, not the hash function.
    let mut sequential: HashMap<u32, f64, sharded_map::RandomState> =
        HashMap::with_capacity_and_hasher(expected, Default::default());
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
    let map = ShardedMap::with_capacity(expected);
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
