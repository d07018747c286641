//! Deduplicate `(u32, f64)` pairs, the job this crate started from, every way a user would try
//! it, in one run: a sequential std `HashMap`; with feature `rayon`, `par_sort_unstable` +
//! `dedup` (the forum's best answer), fold + reduce into `HashMap`s, and this crate's
//! partitioned parallel build, as one `collect` and as `par_extend_chunked` (bounded memory:
//! it builds one prefix of the input at a time, so only one chunk's items wait between the
//! build's phases), the latter also after `par_reserve_for_keys` (which sizes the tables from
//! one pass over the keys); and threads inserting one by one into one shared `ShardedMap`.
//! Each result is checked against the sequential one.
//!
//! ```sh
//! cargo run --release --features rayon --example dedup          # 10M pairs, ~4.3M distinct keys
//! cargo run --release --features rayon --example dedup -- --pairs 100000000 --distinct 1000
//! cargo run --release --features rayon --example dedup -- --help
//! ```
//!
//! The table gives each build's time, its speed-up over the sequential map, its peak memory (the
//! most heap bytes it had allocated at once, counted by this program's allocator; the input is
//! not counted) and the CPU time it took in user and system mode (Linux). A bad option
//! prints one line saying what is wrong, then the usage, and exits with status 2. A build that
//! runs longer than a second says so on stderr.
//!
//! No build is told the distinct count (none can know it up front: `par_reserve_for_keys`
//! estimates it from the keys), and all hash with ahash.
//! The data is generated from a seed (`--seed`, default 0), so runs are repeatable. The generator
//! makes a value a function of its key, as real duplicate data is, so every build must agree
//! exactly, whichever duplicate it keeps.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sharded_map::ShardedMap;

/// The system allocator, counting the bytes allocated now and the most at once since the last
/// reset: each build's peak memory.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the system allocator with the caller's arguments unchanged
// and returns its result; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (so from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s contract on `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                Self::grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
        "dedup: {} pairs ({:.0} MiB), up to {} distinct keys, seed {}, {} threads, {} cores\n",
        args.pairs,
        mib(std::mem::size_of_val(data.as_slice())),
        args.distinct,
        args.seed,
        args.threads,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "{:<48} {:>10} {:>9} {:>12} {:>14} {:>10}",
        "build", "time", "speed-up", "peak memory", "CPU user/sys", "keys"
    );

    let (sequential, base) = measure("sequential std HashMap", || {
        let mut map: HashMap<u32, f64, sharded_map::RandomState> = HashMap::default();
        for &(k, v) in &data {
            map.insert(k, v);
        }
        map
    });
    let keys = sequential.len();
    base.print(keys, base.time);

    parallel_builds(&args, &data, &sequential, base.time);

    let (shared, run) = measure("threads inserting into one ShardedMap", || {
        let map = ShardedMap::new();
        std::thread::scope(|s| {
            for part in data.chunks(data.len().div_ceil(args.threads)) {
                let map = &map;
                s.spawn(move || {
                    for &(k, v) in part {
                        map.insert(k, v);
                    }
                });
            }
        });
        map
    });
    run.print(shared.len(), base.time);
    check_map(&shared, &sequential);
    println!("\nevery build gives the same {keys} keys and values");
}

/// What one build cost.
struct Run {
    name: String,
    time: Duration,
    /// The most heap bytes allocated at once during the build, above what was allocated
    /// before it.
    peak: usize,
    /// User and system CPU seconds, all threads (`None` where Linux's `/proc` is not there).
    cpu: Option<(f64, f64)>,
}

impl Run {
    fn print(&self, keys: usize, base: Duration) {
        let peak = format!("{:.0} MiB", mib(self.peak));
        let cpu = self
            .cpu
            .map_or("n/a".to_string(), |(u, s)| format!("{u:.2}/{s:.2} s"));
        println!(
            "{:<48} {:>10} {:>8.2}x {:>12} {:>14} {:>10}",
            self.name,
            format!("{:.1?}", self.time),
            base.as_secs_f64() / self.time.as_secs_f64(),
            peak,
            cpu,
            keys
        );
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// Runs `build` and measures it (heap bytes allocated before the call do not count). A build
/// that takes longer than a second is announced on stderr, with its time so far every ten
/// seconds.
fn measure<T>(name: &str, build: impl FnOnce() -> T) -> (T, Run) {
    let live_before = LIVE.load(Ordering::Relaxed);
    PEAK.store(live_before, Ordering::Relaxed);
    let cpu_before = cpu_seconds();
    let (done, finished) = mpsc::channel::<()>();
    let start = Instant::now();
    let result = std::thread::scope(|s| {
        s.spawn(move || {
            let mut wait = Duration::from_secs(1);
            while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(wait) {
                eprintln!("  ... {name}: {:.0?} so far", start.elapsed());
                wait = Duration::from_secs(10);
            }
        });
        let result = build();
        drop(done);
        result
    });
    let time = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(live_before);
    let cpu = cpu_before
        .zip(cpu_seconds())
        .map(|((u0, s0), (u1, s1))| (u1 - u0, s1 - s0));
    let run = Run {
        name: name.to_string(),
        time,
        peak,
        cpu,
    };
    (result, run)
}

/// User and system CPU seconds of the whole process so far, from `/proc/self/stat` (Linux;
/// clock ticks of 1/100 s, the value on every common Linux).
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok().map(|t| t / 100.0);
    Some((ticks(11)?, ticks(12)?))
}

/// The builds that need feature `rayon`.
#[cfg(feature = "rayon")]
fn parallel_builds(
    args: &Args,
    data: &[(u32, f64)],
    sequential: &HashMap<u32, f64, sharded_map::RandomState>,
    base: Duration,
) {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .expect("build a rayon pool");

    // The sort works in place in a copy of the input, made before the measurement starts (a
    // program that owns its input sorts that); so neither its time nor its memory counts.
    let mut pairs = data.to_vec();
    let (sorted, run) = measure("rayon par_sort_unstable + dedup (in a copy)", || {
        pool.install(|| pairs.par_sort_unstable_by_key(|p| p.0));
        pairs.dedup_by_key(|p| p.0);
        pairs
    });
    run.print(sorted.len(), base);
    assert_eq!(
        sorted.len(),
        sequential.len(),
        "sort + dedup: key counts differ"
    );
    for (k, v) in &sorted {
        assert_eq!(sequential.get(k), Some(v), "sort + dedup: key {k} differs");
    }
    drop(sorted);

    type Std = HashMap<u32, f64, sharded_map::RandomState>;
    let (folded, run) = measure("rayon fold + reduce into HashMaps", || {
        pool.install(|| {
            data.par_iter()
                .fold(Std::default, |mut map, &(k, v)| {
                    map.insert(k, v);
                    map
                })
                .reduce(Std::default, |a, b| {
                    let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                    big.extend(small);
                    big
                })
        })
    });
    run.print(folded.len(), base);
    assert!(&folded == sequential, "fold + reduce: results differ");
    drop(folded);

    let (map, run) = measure("ShardedMap rayon collect", || {
        pool.install(|| data.par_iter().copied().collect::<ShardedMap<u32, f64>>())
    });
    run.print(map.len(), base);
    check_map(&map, sequential);
    drop(map);

    // Bounded memory: the same build, one prefix of the input at a time, so that only one
    // chunk's items wait between the build's two phases (and the next chunk can reuse that
    // memory). The tables grow from chunk to chunk instead of being sized once.
    let (map, run) = measure("ShardedMap rayon par_extend_chunked", || {
        let map = ShardedMap::new();
        pool.install(|| map.par_extend_chunked(data.par_iter().copied()));
        map
    });
    run.print(map.len(), base);
    check_map(&map, sequential);
    drop(map);

    // The same, with the tables sized first for the distinct keys, estimated in one pass that
    // only hashes the keys: no table grows, at the price of hashing each key twice.
    let (map, run) = measure("  the same, par_reserve_for_keys first", || {
        let map = ShardedMap::new();
        pool.install(|| {
            map.par_reserve_for_keys(data.par_iter().map(|(k, _)| k));
            map.par_extend_chunked(data.par_iter().copied());
        });
        map
    });
    run.print(map.len(), base);
    check_map(&map, sequential);
}

#[cfg(not(feature = "rayon"))]
fn parallel_builds(
    _: &Args,
    _: &[(u32, f64)],
    _: &HashMap<u32, f64, sharded_map::RandomState>,
    _: Duration,
) {
    println!("(sort, fold + reduce and collect need `--features rayon`)");
}

fn check_map(map: &ShardedMap<u32, f64>, sequential: &HashMap<u32, f64, sharded_map::RandomState>) {
    assert_eq!(map.len(), sequential.len(), "key counts differ");
    for (k, v) in sequential {
        assert_eq!(map.view(k, |_, x| *x), Some(*v), "key {k} differs");
    }
}
