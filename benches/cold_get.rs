//! Cold single-thread `get`, sharded-map against DashMap, in three loop shapes, both maps in one
//! process (the A/B harness of "The cold `get` cell measures code layout" in
//! docs/benchmarks.md).
//!
//! ```sh
//! cargo bench --bench cold_get            # 1M entries, median of 7 rounds
//! cargo bench --bench cold_get -- --test  # 10k entries, one round (CI)
//! ```
//!
//! Each round times 1M random hits on a 1M-entry map per map and shape (best of 7 passes) and
//! prints ours / DashMap; the summary is the median ratio per shape. The shapes differ only in
//! how the loop is compiled, which on this kind of memory-bound loop moves the ratio by up to
//! 25% (see the docs):
//!
//! - A: the map is a local of the measuring function and the loop is inlined there; each result
//!   goes through `black_box`.
//! - B: the map behind an `Arc`, the loop in its own function, the values summed.
//! - C: as B, with the key through `black_box` and hits counted (the criterion adapter's shape).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use dashmap::DashMap;
use sharded_map::ShardedMap;

type Hasher = ahash::RandomState;

fn hasher() -> Hasher {
    Hasher::with_seeds(0x51, 0x52, 0x53, 0x54)
}

/// Nanoseconds per item of the fastest of `passes` runs of `f` over `n` items.
fn best_ns(passes: usize, n: usize, mut f: impl FnMut()) -> f64 {
    (0..passes)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .fold(f64::MAX, f64::min)
}

/// Keys `0..n` spread by a multiplicative hash, in a shuffled order for the lookups.
fn keys(n: usize) -> (Vec<u64>, Vec<u64>) {
    let present: Vec<u64> = (0..n as u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect();
    let mut lookup = present.clone();
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for i in (1..lookup.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lookup.swap(i, (x % (i as u64 + 1)) as usize);
    }
    (present, lookup)
}

/// Shape A: both maps are locals here and the loops are inlined into this function.
fn shape_a(present: &[u64], lookup: &[u64], passes: usize) -> f64 {
    let ours = ShardedMap::with_hasher(hasher());
    let dash = DashMap::with_hasher(hasher());
    for &k in present {
        ours.insert(k, k);
        dash.insert(k, k);
    }
    let n = lookup.len();
    let a = best_ns(passes, n, || {
        for k in lookup {
            black_box(ours.get(k).is_some());
        }
    });
    let b = best_ns(passes, n, || {
        for k in lookup {
            black_box(dash.get(k).is_some());
        }
    });
    a / b
}

#[inline(never)]
fn sum_ours(map: &ShardedMap<u64, u64, Hasher>, keys: &[u64]) -> u64 {
    keys.iter()
        .fold(0u64, |s, k| s.wrapping_add(map.get(k).map_or(0, |v| *v)))
}

#[inline(never)]
fn sum_dash(map: &DashMap<u64, u64, Hasher>, keys: &[u64]) -> u64 {
    keys.iter()
        .fold(0u64, |s, k| s.wrapping_add(map.get(k).map_or(0, |v| *v)))
}

#[inline(never)]
fn count_ours(map: &ShardedMap<u64, u64, Hasher>, keys: &[u64]) -> usize {
    keys.iter()
        .filter(|&k| map.get(black_box(k)).is_some())
        .count()
}

#[inline(never)]
fn count_dash(map: &DashMap<u64, u64, Hasher>, keys: &[u64]) -> usize {
    keys.iter()
        .filter(|&k| map.get(black_box(k)).is_some())
        .count()
}

/// Shapes B and C: the maps behind `Arc`s, the loops in their own functions.
fn shapes_b_c(present: &[u64], lookup: &[u64], passes: usize) -> (f64, f64) {
    let ours = Arc::new(ShardedMap::with_hasher(hasher()));
    let dash = Arc::new(DashMap::with_hasher(hasher()));
    for &k in present {
        ours.insert(k, k);
        dash.insert(k, k);
    }
    let n = lookup.len();
    let expected: u64 = present.iter().fold(0, |s, &k| s.wrapping_add(k));
    let check_sum = |s: u64| assert_eq!(s, expected, "a lookup missed");
    let check_count = |c: usize| assert_eq!(c, n, "a lookup missed");
    let b = best_ns(passes, n, || check_sum(sum_ours(black_box(&ours), lookup)))
        / best_ns(passes, n, || check_sum(sum_dash(black_box(&dash), lookup)));
    let c = best_ns(passes, n, || {
        check_count(count_ours(black_box(&ours), lookup))
    }) / best_ns(passes, n, || {
        check_count(count_dash(black_box(&dash), lookup))
    });
    (b, c)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let test = std::env::args().any(|a| a == "--test");
    let (n, rounds, passes) = if test {
        (10_000, 1, 1)
    } else {
        (1 << 20, 7, 7)
    };
    let (present, lookup) = keys(n);
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        a.push(shape_a(&present, &lookup, passes));
        let (rb, rc) = shapes_b_c(&present, &lookup, passes);
        b.push(rb);
        c.push(rc);
        println!(
            "round {round}: ours / DashMap  A {:.2}  B {:.2}  C {:.2}",
            a[a.len() - 1],
            rb,
            rc
        );
    }
    println!(
        "median of {rounds}, {n} gets on a {n}-entry map: A {:.2}  B {:.2}  C {:.2}",
        median(a),
        median(b),
        median(c)
    );
}
