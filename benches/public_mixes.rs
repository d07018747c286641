//! The public configuration users compare concurrent maps with: conc-map-bench's three mixes,
//! driven by the `bustle` 0.5 harness, every map of a cell in one process.
//!
//! ```sh
//! cargo bench --bench public_mixes                      # 2^22 slots, 1/2/4 threads, 5 reps
//! cargo bench --bench public_mixes -- --full            # conc-map-bench's own size: 2^25, 1x ops
//! cargo bench --bench public_mixes -- --reps 7 --threads 2 --mixes Exchange
//! cargo bench --bench public_mixes -- --test            # every map and mix once, small (CI)
//! # one map, one cell, a chosen operation multiple: for cachegrind or a profiler
//! cargo bench --bench public_mixes -- --maps sharded-map --mixes Exchange --threads 1 --reps 1 --ops 5
//! ```
//!
//! | mix | read | insert | remove | update | prefill | operations (default / `--full`) |
//! |---|---|---|---|---|---|---|
//! | ReadHeavy | 98 | 1 | 1 | 0 | 75% | 4x / 1x the capacity |
//! | Exchange | 10 | 40 | 40 | 10 | 75% | 2.5x / 1x |
//! | RapidGrow | 5 | 80 | 5 | 10 | 0% | 1.5x / 1x |
//!
//! Keys and values are `u64`, every map hashes with ahash (fixed seeds) and otherwise keeps its
//! default settings, and gets bustle's initial capacity. Each repetition gives every map the
//! same bustle seed (so the same keys and operation order) and runs the maps in a freshly
//! shuffled order. A cell reports each map's median throughput with min..max over the
//! repetitions, and its ratio to DashMap: the median of the per-repetition ratios, which cancels
//! most of a shared, noisy machine's drift.
//!
//! ReadHeavy has one more row, the ceiling: a frozen std `HashMap` (hashbrown) that the same
//! threads read with no synchronization at all. A frozen map cannot take bustle's 2% writes, so
//! the ceiling replays bustle's key generation, prefill and read order itself and performs every
//! operation as a read; a map's share of it is how much of the machine's read throughput the
//! map's synchronization leaves.
#![allow(missing_docs)]

#[path = "maps/adapters.rs"]
#[allow(dead_code, unused_macros)] // the comparison benches use more of the adapters than this
mod adapters;
#[path = "common/stats.rs"]
mod stats;

use std::collections::HashMap;
use std::hint::black_box;
use std::process::exit;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use adapters::{hasher, BenchMap, Dash, Hasher, Ours, Papaya, Rng, RwLockStd, Scc};
use bustle::{Collection, CollectionHandle, Mix, Workload};
use stats::{shuffled, spread};

/// A map as bustle drives it: each thread holds a clone of the `Arc`.
struct Table<M>(Arc<M>);

impl<M> Clone for Table<M> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<M: BenchMap> Collection for Table<M> {
    type Handle = Self;
    fn with_capacity(capacity: usize) -> Self {
        Self(Arc::new(M::with_capacity(capacity)))
    }
    fn pin(&self) -> Self {
        self.clone()
    }
}

impl<M: BenchMap> CollectionHandle for Table<M> {
    type Key = u64;
    #[inline]
    fn get(&mut self, key: &u64) -> bool {
        self.0.get(*key)
    }
    #[inline]
    fn insert(&mut self, key: &u64) -> bool {
        self.0.insert(*key, 0)
    }
    #[inline]
    fn remove(&mut self, key: &u64) -> bool {
        self.0.remove(*key)
    }
    #[inline]
    fn update(&mut self, key: &u64) -> bool {
        self.0.update(*key)
    }
}

/// One conc-map-bench mix, with the operation multiple this machine's default run uses.
#[derive(Clone, Copy)]
struct PublicMix {
    name: &'static str,
    mix: Mix,
    prefill: f64,
    /// Operations as a multiple of the capacity (conc-map-bench itself: 1.0).
    ops: f64,
}

const MIXES: [PublicMix; 3] = [
    PublicMix {
        name: "ReadHeavy",
        mix: Mix {
            read: 98,
            insert: 1,
            remove: 1,
            update: 0,
            upsert: 0,
        },
        prefill: 0.75,
        ops: 4.0,
    },
    PublicMix {
        name: "Exchange",
        mix: Mix {
            read: 10,
            insert: 40,
            remove: 40,
            update: 10,
            upsert: 0,
        },
        prefill: 0.75,
        ops: 2.5,
    },
    PublicMix {
        name: "RapidGrow",
        mix: Mix {
            read: 5,
            insert: 80,
            remove: 5,
            update: 10,
            upsert: 0,
        },
        prefill: 0.0,
        ops: 1.5,
    },
];

/// Operations per second of one bustle run of `M`.
fn measure<M: BenchMap>(w: &Workload) -> f64 {
    w.run_silently::<Table<M>>().throughput
}

/// Runs one bustle workload on one map type and returns operations per second.
type Runner = fn(&Workload) -> f64;

/// The maps of every cell, DashMap (the reference of every ratio) included.
const MAPS: [(&str, Runner); 5] = [
    (Ours::NAME, measure::<Ours>),
    (Dash::NAME, measure::<Dash>),
    (Scc::NAME, measure::<Scc>),
    (Papaya::NAME, measure::<Papaya>),
    (RwLockStd::NAME, measure::<RwLockStd>),
];
const OURS: usize = 0;
const DASH: usize = 1;
const CEILING: &str = "frozen hashbrown (ceiling)";

/// The run's settings, from the command line.
struct Config {
    cap_log2: u8,
    /// `None`: each mix's own multiple (default run); `Some(x)`: every mix runs x (`--full`: 1).
    ops: Option<f64>,
    reps: usize,
    threads: Vec<usize>,
    mixes: Vec<PublicMix>,
    /// Indices into [`MAPS`] to run (`None`: all of them, and the ceiling). Without DashMap
    /// there are no ratios; one map alone is what a profiler or cachegrind run wants.
    maps: Option<Vec<usize>>,
}

const USAGE: &str = "usage: public_mixes [--full] [--test] [--reps N] [--threads 1,2,4] \
[--mixes ReadHeavy,Exchange,RapidGrow] [--maps sharded-map,DashMap,scc,papaya,RwLock<HashMap>] \
[--cap-log2 N] [--ops MULTIPLE]";

fn bad_usage(msg: &str) -> ! {
    eprintln!("error: {msg}\n{USAGE}");
    exit(2)
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> T {
    let value = value.unwrap_or_else(|| bad_usage(&format!("{flag} needs a value")));
    value
        .parse()
        .unwrap_or_else(|_| bad_usage(&format!("{flag}: `{value}` is not a valid number")))
}

fn parse_args() -> Config {
    let mut c = Config {
        cap_log2: 22,
        ops: None,
        reps: 5,
        threads: vec![1, 2, 4],
        mixes: MIXES.to_vec(),
        maps: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "--test" => {
                c.cap_log2 = 12;
                c.reps = 1;
                c.threads = vec![1, 2];
            }
            "--full" => {
                c.cap_log2 = 25;
                c.ops = Some(1.0);
            }
            "--ops" => {
                let ops: f64 = number("--ops", args.next());
                if !(ops > 0.0 && ops <= 64.0) {
                    bad_usage("--ops must be above 0 and at most 64");
                }
                c.ops = Some(ops);
            }
            "--reps" => c.reps = number("--reps", args.next()),
            "--cap-log2" => c.cap_log2 = number("--cap-log2", args.next()),
            "--threads" => {
                let list = args.next().unwrap_or_default();
                c.threads = list
                    .split(',')
                    .map(|t| number("--threads", Some(t.to_string())))
                    .collect();
            }
            "--mixes" => {
                let list = args.next().unwrap_or_default();
                c.mixes = list
                    .split(',')
                    .map(|name| {
                        *MIXES
                            .iter()
                            .find(|m| m.name.eq_ignore_ascii_case(name))
                            .unwrap_or_else(|| bad_usage(&format!("--mixes: no mix `{name}`")))
                    })
                    .collect();
            }
            "--maps" => {
                let list = args.next().unwrap_or_default();
                let mut maps: Vec<usize> = list
                    .split(',')
                    .map(|name| {
                        MAPS.iter()
                            .position(|m| m.0.eq_ignore_ascii_case(name))
                            .unwrap_or_else(|| bad_usage(&format!("--maps: no map `{name}`")))
                    })
                    .collect();
                maps.sort_unstable();
                maps.dedup();
                c.maps = Some(maps);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                exit(0)
            }
            other => bad_usage(&format!("unknown option `{other}`")),
        }
    }
    if c.reps == 0 {
        bad_usage("--reps must be at least 1");
    }
    if c.threads.contains(&0) {
        bad_usage("--threads: every count must be at least 1");
    }
    if !(6..=30).contains(&c.cap_log2) {
        bad_usage("--cap-log2 must be between 6 and 30");
    }
    c
}

/// The ceiling: bustle's key generation, prefill and read order on a frozen std `HashMap`, with
/// every operation a read and no synchronization. Returns operations per second.
fn ceiling(cap_log2: u8, mix: &PublicMix, ops_multiple: f64, threads: usize, seed: u64) -> f64 {
    // The sizes bustle derives from the same settings (bustle 0.5, `Workload::run_silently`).
    let capacity = 1usize << cap_log2;
    let total_ops = (capacity as f64 * ops_multiple) as usize;
    let prefill = (capacity as f64 * mix.prefill) as usize;
    let writes = usize::from(mix.mix.insert + mix.mix.upsert);
    let insert_keys = capacity.max(total_ops.div_ceil(100) * writes) + prefill;
    let keys_per_thread = insert_keys.div_ceil(threads).next_power_of_two();
    let prefill_per_thread = prefill / threads;
    let ops_per_thread = total_ops / threads;

    let keys: Vec<Vec<u64>> = (0..threads)
        .map(|t| {
            let mut rng = Rng::new(seed ^ ((t as u64 + 1) << 32));
            (0..keys_per_thread).map(|_| rng.next()).collect()
        })
        .collect();
    let mut frozen: HashMap<u64, u64, Hasher> =
        HashMap::with_capacity_and_hasher(capacity, hasher());
    for k in keys.iter().flat_map(|k| &k[..prefill_per_thread]) {
        frozen.insert(*k, 0);
    }
    let frozen = &frozen;
    let barrier = Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|s| {
        for keys in &keys {
            let barrier = &barrier;
            s.spawn(move || {
                // bustle's linear congruential walk over the thread's keys.
                let (a, c, mask) = (keys.len() / 2 + 1, keys.len() / 4 - 1, keys.len() - 1);
                let mut find_seq = 0;
                barrier.wait();
                for _ in 0..ops_per_thread {
                    black_box(frozen.contains_key(&keys[find_seq]));
                    find_seq = (a * find_seq + c) & mask;
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    });
    total_ops as f64 / elapsed.as_secs_f64()
}

fn main() {
    let config = parse_args();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "bustle 0.5, initial capacity 2^{}, {} repetitions, {cores} cores; \
         Mop/s median (min..max); ratio: per-repetition median (min..max)",
        config.cap_log2, config.reps
    );
    let mut order_rng = Rng::new(0x5eed);
    // (cell, ours / DashMap median) for the summary.
    let mut ratios: Vec<(String, usize, f64)> = Vec::new();
    for mix in &config.mixes {
        let ops = config.ops.unwrap_or(mix.ops);
        for &threads in &config.threads {
            let mut workload = Workload::new(threads, mix.mix);
            workload
                .initial_capacity_log2(config.cap_log2)
                .prefill_fraction(mix.prefill)
                .operations(ops);
            let with_ceiling = mix.name == "ReadHeavy" && config.maps.is_none();
            // Rows: indices into MAPS, and MAPS.len() for the ceiling.
            let mut rows: Vec<usize> = config
                .maps
                .clone()
                .unwrap_or_else(|| (0..MAPS.len()).collect());
            if with_ceiling {
                rows.push(MAPS.len());
            }
            // throughput[row][rep]; rows not selected stay empty.
            let mut throughput = vec![Vec::with_capacity(config.reps); MAPS.len() + 1];
            for rep in 0..config.reps {
                let seed = 0x9e37_79b9 ^ ((rep as u64) << 8);
                let mut bytes = [0u8; 32];
                bytes[..8].copy_from_slice(&seed.to_le_bytes());
                workload.seed(bytes);
                for i in shuffled(rows.len(), &mut order_rng) {
                    let row = rows[i];
                    let t = match MAPS.get(row) {
                        Some((_, run)) => run(&workload),
                        None => ceiling(config.cap_log2, mix, ops, threads, seed),
                    };
                    throughput[row].push(t);
                }
                eprint!(".");
            }
            eprintln!();
            let over = if threads > cores {
                ", oversubscribed"
            } else {
                ""
            };
            println!(
                "\n{} x{ops}, {threads} thread(s){over}\n\n| map | Mop/s | vs DashMap |\n|---|---|---|",
                mix.name
            );
            for &row in &rows {
                let t = &throughput[row];
                let name = MAPS.get(row).map_or(CEILING, |m| m.0);
                let (med, lo, hi) = spread(t);
                let per_rep: Vec<f64> = t
                    .iter()
                    .zip(&throughput[DASH])
                    .map(|(a, d)| a / d)
                    .collect();
                let ratio = if per_rep.is_empty() {
                    "-".to_string()
                } else {
                    let (r, rlo, rhi) = spread(&per_rep);
                    if row == OURS {
                        ratios.push((mix.name.to_string(), threads, r));
                    }
                    format!("{r:.2}x ({rlo:.2}..{rhi:.2})")
                };
                println!(
                    "| {name} | {:.2} ({:.2}..{:.2}) | {ratio} |",
                    med / 1e6,
                    lo / 1e6,
                    hi / 1e6
                );
            }
            if with_ceiling {
                let ceiling = &throughput[MAPS.len()];
                for row in [OURS, DASH] {
                    let shares: Vec<f64> = throughput[row]
                        .iter()
                        .zip(ceiling)
                        .map(|(a, c)| a / c)
                        .collect();
                    let (s, lo, hi) = spread(&shares);
                    println!(
                        "\n{} reaches {:.0}% ({:.0}..{:.0}%) of the ceiling",
                        MAPS[row].0,
                        s * 100.0,
                        lo * 100.0,
                        hi * 100.0
                    );
                }
            }
        }
    }
    let counted: Vec<&(String, usize, f64)> = ratios.iter().filter(|(_, t, _)| *t <= 2).collect();
    if !counted.is_empty() {
        let geomean = (counted.iter().map(|c| c.2.ln()).sum::<f64>() / counted.len() as f64).exp();
        let worst = counted.iter().min_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
        println!(
            "\nsharded-map vs DashMap over the {} cells at 1 and 2 threads: geometric mean {geomean:.2}x, \
             lowest {:.2}x ({} at {} thread(s))",
            counted.len(),
            worst.2,
            worst.0,
            worst.1
        );
    }
}
