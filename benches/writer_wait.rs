//! Writer wait: how long one writer waits for each insert into a shard that reader threads keep
//! reading, ours against DashMap in one process (maps alternated, order shuffled per repetition).
//!
//! Two reader shapes: *nested* (each reader holds a `Ref` and reads the same shard again while
//! holding it, the nesting both maps promise never blocks) and *plain* (one `Ref` at a time). The
//! writer inserts `INSERTS` keys of that shard one by one and records each insert's latency. The
//! table gives, per map and shape, the worst single insert and the total, median over the
//! repetitions with min..max. More reader threads than cores is the point: a reader that is
//! descheduled while it holds a `Ref` is what a waiting writer must not be starved behind.
//!
//! ```sh
//! cargo bench --bench writer_wait               # 4 and 6 readers, 1,000 inserts, 5 repetitions
//! cargo bench --bench writer_wait -- --test     # one small repetition (what CI runs)
//! ```
#![allow(missing_docs)]

#[path = "common/args.rs"]
mod args;

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

type H = ahash::RandomState;

fn hasher() -> H {
    ahash::RandomState::with_seeds(1, 2, 3, 4)
}

/// What the bench needs of a map: a held read, and an insert.
trait Map: Sync {
    const NAME: &'static str;
    fn new() -> Self;
    fn shard_of(&self, k: u64) -> usize;
    /// Reads `a`; with `nested`, reads `b` (same shard) while still holding `a`. Spins `hold`
    /// iterations while holding.
    fn read(&self, a: u64, b: u64, nested: bool, hold: u32);
    fn insert(&self, k: u64);
}

fn spin(n: u32) {
    for i in 0..n {
        black_box(i);
    }
}

impl Map for sharded_map::ShardedMap<u64, u64, H> {
    const NAME: &'static str = "sharded-map";
    fn new() -> Self {
        Self::with_hasher(hasher())
    }
    fn shard_of(&self, k: u64) -> usize {
        self.determine_map(&k)
    }
    fn read(&self, a: u64, b: u64, nested: bool, hold: u32) {
        let ra = self.get(&a);
        spin(hold);
        if nested {
            let rb = self.get(&b);
            spin(hold);
            black_box(rb.map(|r| *r));
        }
        black_box(ra.map(|r| *r));
    }
    fn insert(&self, k: u64) {
        self.insert(k, k);
    }
}

impl Map for dashmap::DashMap<u64, u64, H> {
    const NAME: &'static str = "DashMap";
    fn new() -> Self {
        Self::with_hasher(hasher())
    }
    /// DashMap's `determine_map` is behind its `raw-api` feature; this is its formula
    /// (`(hash << 7) >> shift`) with its default shard count.
    fn shard_of(&self, k: u64) -> usize {
        let shards =
            (std::thread::available_parallelism().map_or(1, usize::from) * 4).next_power_of_two();
        (self.hash_usize(&k) << 7) >> (usize::BITS - shards.trailing_zeros())
    }
    fn read(&self, a: u64, b: u64, nested: bool, hold: u32) {
        let ra = self.get(&a);
        spin(hold);
        if nested {
            let rb = self.get(&b);
            spin(hold);
            black_box(rb.map(|r| *r));
        }
        black_box(ra.map(|r| *r));
    }
    fn insert(&self, k: u64) {
        self.insert(k, k);
    }
}

/// One run: (worst insert, total, reads done meanwhile) for `readers` reader threads and
/// `inserts` inserts.
fn run<M: Map>(readers: usize, inserts: usize, nested: bool) -> (Duration, Duration, u64) {
    let map = M::new();
    // Keys of the shard of key 0: the readers' pair, then the writer's keys.
    let target = map.shard_of(0);
    let mut same_shard = (0u64..).filter(|&k| map.shard_of(k) == target);
    let (a, b) = (same_shard.next().unwrap(), same_shard.next().unwrap());
    map.insert(a);
    map.insert(b);
    let keys: Vec<u64> = same_shard.take(inserts).collect();
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let start = Barrier::new(readers + 1);
    let r = std::thread::scope(|s| {
        for _ in 0..readers {
            s.spawn(|| {
                start.wait();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    map.read(a, b, nested, 200);
                    n += 1;
                }
                reads.fetch_add(n, Ordering::Relaxed);
            });
        }
        start.wait();
        std::thread::sleep(Duration::from_millis(5));
        let began = Instant::now();
        let mut worst = Duration::ZERO;
        for &k in &keys {
            let t = Instant::now();
            map.insert(k);
            worst = worst.max(t.elapsed());
        }
        let total = began.elapsed();
        stop.store(true, Ordering::Relaxed);
        (worst, total)
    });
    // Every reader adds its count when it stops: all reads of the run, a check that the readers
    // did run beside the writer.
    (r.0, r.1, reads.load(Ordering::Relaxed))
}

fn median_min_max(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "{:.2} ms ({:.2}..{:.2})",
        ms(v[v.len() / 2]),
        ms(v[0]),
        ms(v[v.len() - 1])
    )
}

fn main() {
    let test = args::parse("usage: writer_wait [--test]", false).test;
    let (reps, inserts, reader_counts): (usize, usize, &[usize]) = if test {
        (1, 20, &[2])
    } else {
        (5, 1_000, &[4, 6])
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "writer wait per insert, {inserts} inserts, {cores} cores, median of {reps} (min..max)\n"
    );
    println!("| readers | shape | map | worst insert | all inserts | reads in the run |");
    println!("|---|---|---|---|---|---|");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for &readers in reader_counts {
        for nested in [true, false] {
            let mut ours = (Vec::new(), Vec::new(), Vec::new());
            let mut theirs = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..reps {
                // xorshift: which map goes first this repetition.
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let order = if seed & 1 == 0 { [0, 1] } else { [1, 0] };
                for m in order {
                    let (slot, (w, t, n)) = if m == 0 {
                        let r =
                            run::<sharded_map::ShardedMap<u64, u64, H>>(readers, inserts, nested);
                        (&mut ours, r)
                    } else {
                        let r = run::<dashmap::DashMap<u64, u64, H>>(readers, inserts, nested);
                        (&mut theirs, r)
                    };
                    slot.0.push(w);
                    slot.1.push(t);
                    slot.2.push(n);
                }
            }
            let shape = if nested { "nested" } else { "plain" };
            for (name, (w, t, mut n)) in [
                (<sharded_map::ShardedMap<u64, u64, H> as Map>::NAME, ours),
                (<dashmap::DashMap<u64, u64, H> as Map>::NAME, theirs),
            ] {
                n.sort_unstable();
                println!(
                    "| {readers} | {shape} | {name} | {} | {} | {} |",
                    median_min_max(w),
                    median_min_max(t),
                    n[n.len() / 2]
                );
            }
        }
    }
}
