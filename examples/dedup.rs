//! Deduplicate `(u32, f64)` pairs, the job this crate started from: many threads insert into one
//! shared `ShardedMap`, checked against a sequential `std::collections::HashMap`.
//!
//! ```sh
//! cargo run --release --example dedup                      # 10M pairs, ~5M distinct keys
//! cargo run --release --example dedup -- --pairs 100000000 --distinct 1000 --threads 8
//! ```
//!
//! Both maps are presized for `--distinct` keys and use the same hasher (ahash).
//!
//! The data is generated from a fixed seed, so runs are repeatable. Last write wins for a key in
//! the sequential run; the parallel run keeps whichever write came last in time, so the check
//! compares key sets, and values only where every pair of a key carries the same value (the
//! generator makes a value a function of its key, as real duplicate data is).

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

    assert_eq!(map.len(), sequential.len(), "key counts differ");
    for (k, v) in &sequential {
        assert_eq!(map.view(k, |_, x| *x), Some(*v), "key {k} differs");
    }
    println!("  results agree");
}
