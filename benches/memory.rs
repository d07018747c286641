//! Memory: bytes per entry after 4M `u64 -> u64` inserts, grown and presized, and the peak while
//! growing, measured with a counting global allocator. Prints a markdown table.
//!
//! ```sh
//! cargo bench --bench memory               # 4M entries
//! cargo bench --bench memory -- --test     # 100k entries (CI)
//! ```
#![allow(missing_docs)]

#[path = "common/args.rs"]
mod args;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

type H = ahash::RandomState;
fn hasher() -> H {
    ahash::RandomState::with_seeds(1, 2, 3, 4)
}

/// Builds a map with `build`, returning (final bytes, peak bytes) above the baseline.
fn measure<T>(build: impl FnOnce() -> T) -> (usize, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let map = build();
    let fin = CURRENT.load(Ordering::Relaxed) - base;
    let peak = PEAK.load(Ordering::Relaxed) - base;
    drop(map);
    (fin, peak)
}

/// (final bytes, peak bytes) of one build.
type Usage = (usize, usize);

fn main() {
    let n: u64 = if args::parse("usage: memory [--test]", false).test {
        100_000
    } else {
        4_000_000
    };
    let grown_presized: Vec<(&str, Usage, Usage)> = vec![
        (
            "hashbrown (std HashMap)",
            measure(|| {
                let mut m = HashMap::with_hasher(hasher());
                (0..n).for_each(|k| {
                    m.insert(k, k);
                });
                m
            }),
            measure(|| {
                let mut m = HashMap::with_capacity_and_hasher(n as usize, hasher());
                (0..n).for_each(|k| {
                    m.insert(k, k);
                });
                m
            }),
        ),
        (
            "sharded-map",
            measure(|| {
                let m = sharded_map::ShardedMap::with_hasher(hasher());
                (0..n).for_each(|k| {
                    m.insert(k, k);
                });
                m
            }),
            measure(|| {
                let m = sharded_map::ShardedMap::with_capacity_and_hasher(n as usize, hasher());
                (0..n).for_each(|k| {
                    m.insert(k, k);
                });
                m
            }),
        ),
        (
            "DashMap",
            measure(|| {
                let m = dashmap::DashMap::with_hasher(hasher());
                (0..n).for_each(|k| {
                    m.insert(k, k);
                });
                m
            }),
            measure(|| {
                let m = dashmap::DashMap::with_capacity_and_hasher(n as usize, hasher());
                (0..n).for_each(|k| {
                    m.insert(k, k);
                });
                m
            }),
        ),
        (
            "scc",
            measure(|| {
                let m = scc::HashMap::with_hasher(hasher());
                (0..n).for_each(|k| {
                    let _ = m.insert_sync(k, k);
                });
                m
            }),
            measure(|| {
                let m = scc::HashMap::with_capacity_and_hasher(n as usize, hasher());
                (0..n).for_each(|k| {
                    let _ = m.insert_sync(k, k);
                });
                m
            }),
        ),
        (
            "papaya",
            measure(|| {
                let m = papaya::HashMap::builder().hasher(hasher()).build();
                (0..n).for_each(|k| {
                    m.pin().insert(k, k);
                });
                m
            }),
            measure(|| {
                let m = papaya::HashMap::builder()
                    .capacity(n as usize)
                    .hasher(hasher())
                    .build();
                (0..n).for_each(|k| {
                    m.pin().insert(k, k);
                });
                m
            }),
        ),
    ];
    let per = |b: usize| b as f64 / n as f64;
    let (floor_grown, floor_presized) = (grown_presized[0].1 .0, grown_presized[0].2 .0);
    println!("memory: {n} u64 -> u64 entries (sharded-map shards: default for this machine)");
    println!();
    println!("| map | grown B/entry | vs hashbrown | grown peak / final | presized B/entry | vs hashbrown |");
    println!("|---|---|---|---|---|---|");
    for (name, (g_fin, g_peak), (p_fin, _)) in &grown_presized {
        println!(
            "| {name} | {:.1} | {:.3}x | {:.2}x | {:.1} | {:.3}x |",
            per(*g_fin),
            *g_fin as f64 / floor_grown as f64,
            *g_peak as f64 / *g_fin as f64,
            per(*p_fin),
            *p_fin as f64 / floor_presized as f64
        );
    }
    empty_maps();
}

/// Bytes an empty map allocates (programs that keep many small maps pay this per map), and after
/// a few reads (ours allocates its reader slots when a shard first turns biased).
fn empty_maps() {
    let read_a_while = |m: &sharded_map::ShardedMap<u64, u64, H>| {
        for k in 0..64 {
            std::hint::black_box(m.get(&k));
        }
    };
    let ours = measure(|| sharded_map::ShardedMap::<u64, u64, H>::with_hasher(hasher())).0;
    let ours_read = measure(|| {
        let m = sharded_map::ShardedMap::<u64, u64, H>::with_hasher(hasher());
        read_a_while(&m);
        m
    })
    .0;
    let dash = measure(|| dashmap::DashMap::<u64, u64, H>::with_hasher(hasher())).0;
    let std_map = measure(|| std::collections::HashMap::<u64, u64, H>::with_hasher(hasher())).0;
    let shards =
        (std::thread::available_parallelism().map_or(1, usize::from) * 4).next_power_of_two();
    println!();
    println!("empty map, {shards} shards (the default here): heap bytes");
    println!();
    println!("| map | empty | after 64 reads |");
    println!("|---|---|---|");
    println!("| sharded-map | {ours} | {ours_read} |");
    println!("| DashMap | {dash} | {dash} |");
    println!("| std HashMap | {std_map} | {std_map} |");
    // With feature `metrics` each shard also carries its lock's counters, a third 64-byte line,
    // which the shard's 128-byte alignment rounds up to 256 bytes: twice DashMap's per shard.
    let (allowed, because) = if cfg!(feature = "metrics") {
        (2 * dash, " (twice DashMap's with feature `metrics`)")
    } else {
        (dash, "")
    };
    assert!(
        ours <= allowed,
        "an empty sharded-map allocates {ours} bytes, more than the {allowed} allowed{because}"
    );
}
