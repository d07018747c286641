//! The problem this crate started from: deduplicate `(u32, f64)` pairs with 2 threads, every way
//! a user would try it, against a sequential std `HashMap` (same hasher), in one process.
//!
//! ```sh
//! cargo bench --features rayon --bench dedup                    # 10M pairs, 3 shapes, 5 reps
//! cargo bench --features rayon --bench dedup -- --reps 7 --shapes all_distinct
//! cargo bench --features rayon --bench dedup -- --builds 'collect,sort' --reps 9
//! cargo bench --features rayon --bench dedup -- --test          # every build once, small (CI)
//! ```
//!
//! Shapes: every key distinct (a bijection on `u32` that scatters them, so the input is not
//! already sorted), about half duplicates (`pairs / 2` possible keys) and 1,000 distinct keys.
//! Builds: the sequential map; on a rayon pool of `--threads` workers `par_sort_unstable` +
//! `dedup` (the forum's best answer, sorting in place a copy made outside the timing, as a
//! program that owns its input would), fold + reduce into std `HashMap`s, this crate's
//! partitioned `collect`, `&map` `par_extend` and `par_extend_chunked` (bounded memory); and
//! `--threads` plain threads each inserting its part one by one into one shared map: ours,
//! DashMap, scc, papaya, `RwLock<HashMap>`. No build is presized. Every build must give the
//! same pairs as the first one run, or the bench stops with a message naming it.
//!
//! Each repetition runs every build once in a freshly shuffled order. A row reports the median
//! time with min..max, and its speed-up over the sequential map and over sorting as the median
//! (min..max) of the per-repetition ratios, which cancels most of a shared machine's drift.
#![allow(missing_docs)]

#[path = "maps/adapters.rs"]
#[allow(dead_code, unused_macros)] // the comparison benches use more of the adapters than this
mod adapters;
#[path = "common/stats.rs"]
mod stats;

use std::collections::HashMap;
use std::process::exit;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use adapters::{hasher, Hasher, Rng};
use rayon::prelude::*;
use sharded_map::ShardedMap;
use stats::{shuffled, spread};

type Std = HashMap<u32, f64, Hasher>;

/// What every build returns: the distinct pairs, sorted by key (untimed), for the check.
type Pairs = Vec<(u32, f64)>;

/// `pairs` pairs with at most `distinct` keys; a value is a function of its key, as in real
/// duplicate data, so every build must agree exactly whichever duplicate it keeps.
fn data(pairs: usize, distinct: u64) -> Pairs {
    let mut rng = Rng::new(7);
    (0..pairs)
        .map(|i| {
            let k = if distinct as usize >= pairs {
                (i as u32).wrapping_mul(0x9e37_79b1)
            } else {
                (rng.next() % distinct) as u32
            };
            (k, f64::from(k) * 0.5)
        })
        .collect()
}

/// Inserts `input` from `threads` plain threads, each its own contiguous part.
fn threads_inserting<M: Sync>(
    map: &M,
    input: &[(u32, f64)],
    threads: usize,
    insert: impl Fn(&M, u32, f64) + Sync,
) {
    std::thread::scope(|s| {
        for part in input.chunks(input.len().div_ceil(threads)) {
            let insert = &insert;
            s.spawn(move || part.iter().for_each(|&(k, v)| insert(map, k, v)));
        }
    });
}

/// What a build gets: the input, its pool, and the thread count for plain threads.
struct Job<'a> {
    input: &'a [(u32, f64)],
    pool: &'a rayon::ThreadPool,
    threads: usize,
}

/// A build: runs the timed part and returns its time and (untimed) its sorted result.
type Build = fn(&Job<'_>) -> (Duration, Pairs);

/// Times `build`, including dropping what it built (a user's program pays that too), then
/// hands the untimed `extract` the built value for the check.
fn timed<T>(build: impl FnOnce() -> T, extract: impl FnOnce(&T) -> Pairs) -> (Duration, Pairs) {
    let start = Instant::now();
    let built = build();
    let time = start.elapsed();
    let mut pairs = extract(&built);
    let dropping = Instant::now();
    drop(built);
    let time = time + dropping.elapsed();
    pairs.sort_unstable_by_key(|p| p.0);
    (time, pairs)
}

fn from_std(m: &Std) -> Pairs {
    m.iter().map(|(&k, &v)| (k, v)).collect()
}

fn from_ours(m: &ShardedMap<u32, f64, Hasher>) -> Pairs {
    m.iter().map(|r| (*r.key(), *r.value())).collect()
}

const SEQUENTIAL: &str = "sequential std HashMap";
const SORT: &str = "rayon par_sort_unstable + dedup";

/// Every build, by name. The first is the baseline; the second is the one to beat.
const BUILDS: [(&str, Build); 11] = [
    (SEQUENTIAL, |j| {
        timed(
            || {
                let mut m = Std::with_hasher(hasher());
                j.input.iter().for_each(|&(k, v)| {
                    m.insert(k, v);
                });
                m
            },
            from_std,
        )
    }),
    (SORT, |j| {
        let mut pairs = j.input.to_vec();
        timed(
            || {
                j.pool.install(|| pairs.par_sort_unstable_by_key(|p| p.0));
                pairs.dedup_by_key(|p| p.0);
                pairs
            },
            Clone::clone,
        )
    }),
    ("rayon fold + reduce into HashMaps", |j| {
        let empty = || Std::with_hasher(hasher());
        timed(
            || {
                j.pool.install(|| {
                    j.input
                        .par_iter()
                        .fold(empty, |mut m, &(k, v)| {
                            m.insert(k, v);
                            m
                        })
                        .reduce(empty, |a, b| {
                            let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                            big.extend(small);
                            big
                        })
                })
            },
            from_std,
        )
    }),
    ("sharded-map collect", |j| {
        timed(
            || {
                j.pool.install(|| {
                    j.input
                        .par_iter()
                        .copied()
                        .collect::<ShardedMap<u32, f64, Hasher>>()
                })
            },
            from_ours,
        )
    }),
    ("sharded-map &map par_extend", |j| {
        timed(
            || {
                let m = ShardedMap::with_hasher(hasher());
                j.pool
                    .install(|| (&m).par_extend(j.input.par_iter().copied()));
                m
            },
            from_ours,
        )
    }),
    ("sharded-map par_extend_chunked", |j| {
        timed(
            || {
                let m = ShardedMap::with_hasher(hasher());
                j.pool
                    .install(|| m.par_extend_chunked(j.input.par_iter().copied()));
                m
            },
            from_ours,
        )
    }),
    ("threads inserting: sharded-map", |j| {
        timed(
            || {
                let m = ShardedMap::with_hasher(hasher());
                threads_inserting(&m, j.input, j.threads, |m, k, v| {
                    m.insert(k, v);
                });
                m
            },
            from_ours,
        )
    }),
    ("threads inserting: DashMap", |j| {
        timed(
            || {
                let m = dashmap::DashMap::with_hasher(hasher());
                threads_inserting(&m, j.input, j.threads, |m, k, v| {
                    m.insert(k, v);
                });
                m
            },
            |m| m.iter().map(|r| (*r.key(), *r.value())).collect(),
        )
    }),
    ("threads inserting: scc", |j| {
        timed(
            || {
                let m = scc::HashMap::with_hasher(hasher());
                threads_inserting(&m, j.input, j.threads, |m, k, v| {
                    m.upsert_sync(k, v);
                });
                m
            },
            |m| {
                let mut pairs = Vec::with_capacity(m.len());
                m.iter_sync(|&k, &v| {
                    pairs.push((k, v));
                    true
                });
                pairs
            },
        )
    }),
    ("threads inserting: papaya", |j| {
        timed(
            || {
                let m = papaya::HashMap::builder().hasher(hasher()).build();
                threads_inserting(&m, j.input, j.threads, |m, k, v| {
                    m.pin().insert(k, v);
                });
                m
            },
            |m| m.pin().iter().map(|(&k, &v)| (k, v)).collect(),
        )
    }),
    ("threads inserting: RwLock<HashMap>", |j| {
        timed(
            || {
                let m = RwLock::new(Std::with_hasher(hasher()));
                threads_inserting(&m, j.input, j.threads, |m, k, v| {
                    m.write().unwrap().insert(k, v);
                });
                m
            },
            |m| from_std(&m.read().unwrap()),
        )
    }),
];

const SHAPES: [&str; 3] = ["all_distinct", "half_duplicates", "1000_keys"];

struct Config {
    pairs: usize,
    reps: usize,
    threads: usize,
    shapes: Vec<&'static str>,
    /// Indices into [`BUILDS`]; always holds the sequential baseline and the sort.
    builds: Vec<usize>,
}

const USAGE: &str = "usage: dedup [--test] [--reps N] [--pairs N] [--threads T] \
[--shapes all_distinct,half_duplicates,1000_keys] [--builds NAME,...] \
(a build is picked by any part of its name, e.g. collect, DashMap)";

fn bad_usage(msg: &str) -> ! {
    eprintln!("error: {msg}\n{USAGE}");
    exit(2)
}

fn number(flag: &str, value: Option<String>, min: usize) -> usize {
    let value = value.unwrap_or_else(|| bad_usage(&format!("{flag} needs a value")));
    match value.replace('_', "").parse() {
        Ok(n) if n >= min => n,
        Ok(_) => bad_usage(&format!("{flag} must be at least {min}, got {value}")),
        Err(_) => bad_usage(&format!("{flag}: `{value}` is not a whole number")),
    }
}

fn parse_args() -> Config {
    let mut c = Config {
        pairs: 10_000_000,
        reps: 5,
        threads: 2,
        shapes: SHAPES.to_vec(),
        builds: (0..BUILDS.len()).collect(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "--test" => {
                c.pairs = 10_000;
                c.reps = 1;
            }
            "--reps" => c.reps = number("--reps", args.next(), 1),
            "--pairs" => {
                c.pairs = number("--pairs", args.next(), 1);
                if c.pairs as u64 > u64::from(u32::MAX) {
                    bad_usage("--pairs must be at most 4294967295 (the keys are u32)");
                }
            }
            "--threads" => c.threads = number("--threads", args.next(), 1),
            "--shapes" => {
                c.shapes = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|name| {
                        *SHAPES
                            .iter()
                            .find(|s| s.eq_ignore_ascii_case(name))
                            .unwrap_or_else(|| bad_usage(&format!("--shapes: no shape `{name}`")))
                    })
                    .collect();
            }
            "--builds" => {
                let mut builds = vec![0, 1];
                for part in args.next().unwrap_or_default().split(',') {
                    let found: Vec<usize> = (0..BUILDS.len())
                        .filter(|&i| {
                            BUILDS[i]
                                .0
                                .to_lowercase()
                                .contains(&part.trim().to_lowercase())
                        })
                        .collect();
                    if part.trim().is_empty() || found.is_empty() {
                        bad_usage(&format!("--builds: no build named like `{part}`"));
                    }
                    builds.extend(found);
                }
                builds.sort_unstable();
                builds.dedup();
                c.builds = builds;
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

/// The median (min..max) of the per-repetition ratios `base / time`.
fn speed_up(times: &[f64], base: &[f64]) -> String {
    let ratios: Vec<f64> = base.iter().zip(times).map(|(b, t)| b / t).collect();
    let (m, lo, hi) = spread(&ratios);
    format!("{m:.2}x ({lo:.2}..{hi:.2})")
}

fn main() {
    let config = parse_args();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .expect("a rayon pool");
    println!(
        "dedup: {} (u32, f64) pairs, {} threads, {cores} cores, {} repetitions; \
         ms median (min..max); speed-ups: per-repetition median (min..max)",
        config.pairs, config.threads, config.reps
    );
    let mut order_rng = Rng::new(0x5eed);
    for &shape in &config.shapes {
        let distinct = match shape {
            "all_distinct" => config.pairs as u64,
            "half_duplicates" => config.pairs as u64 / 2,
            _ => 1000,
        };
        let input = data(config.pairs, distinct);
        let job = Job {
            input: &input,
            pool: &pool,
            threads: config.threads,
        };
        let mut times = vec![Vec::new(); BUILDS.len()];
        let mut expected: Option<Pairs> = None;
        for _ in 0..config.reps {
            for i in shuffled(config.builds.len(), &mut order_rng) {
                let b = config.builds[i];
                let (name, build) = BUILDS[b];
                let (time, result) = build(&job);
                match &expected {
                    None => expected = Some(result),
                    Some(e) => assert!(
                        *e == result,
                        "{name} on {shape}: a different result ({} keys, expected {})",
                        result.len(),
                        e.len()
                    ),
                }
                times[b].push(time.as_secs_f64());
            }
            eprint!(".");
        }
        eprintln!();
        let keys = expected.map_or(0, |e| e.len());
        println!(
            "\n{shape}: {keys} distinct keys\n\n| build | ms | vs sequential | vs sort |\n|---|---|---|---|"
        );
        for &b in &config.builds {
            let (m, lo, hi) = spread(&times[b]);
            // Three significant digits or more: 1234, 123, 12.3, 1.23.
            let digits = (2 - (m * 1e3).max(1.0).log10().floor() as i32).max(0) as usize;
            println!(
                "| {} | {:.digits$} ({:.digits$}..{:.digits$}) | {} | {} |",
                BUILDS[b].0,
                m * 1e3,
                lo * 1e3,
                hi * 1e3,
                speed_up(&times[b], &times[0]),
                speed_up(&times[b], &times[1]),
            );
        }
        let ours = BUILDS.iter().position(|b| b.0.ends_with("sharded-map"));
        let dash = BUILDS.iter().position(|b| b.0.ends_with("DashMap"));
        if let (Some(o), Some(d)) = (ours, dash) {
            if config.builds.contains(&o) && config.builds.contains(&d) {
                println!(
                    "\nthreads inserting, sharded-map vs DashMap: {}",
                    speed_up(&times[o], &times[d])
                );
            }
        }
    }
}
