//! Cold single-thread operations, sharded-map against DashMap, in three loop shapes, both maps in
//! one process: `get` hits, `get` misses and inserts of new keys into a presized map, on a table
//! larger than the cache (the speed issue's single-thread targets; the shapes are the A/B harness
//! of "The cold `get` cell measures code layout" in docs/benchmarks-history.md).
//!
//! ```sh
//! cargo bench --bench cold_get            # 1M entries, median of 7 rounds per operation
//! cargo bench --bench cold_get -- --test  # 10k entries, one round (CI)
//! ```
//!
//! Each round times, per map and shape, 1M operations (best of 5 passes; inserts: a fresh
//! presized map per pass) and prints ours / DashMap time, lower is better; the two maps take
//! turns going first. The summary is the median ratio per shape, and the median of the three.
//! The shapes differ only in how the loop is compiled, which on this kind of memory-bound loop
//! moves the ratio by up to 25% (see the docs):
//!
//! - A: the map is a local of the measuring function and the loop is inlined there; each result
//!   goes through `black_box`.
//! - B: the map behind an `Arc`, the loop in its own function, the values summed.
//! - C: as B, with the key through `black_box` and hits counted (the criterion adapter's shape).

#[path = "common/args.rs"]
mod args;

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

/// Keys `0..n` spread by a multiplicative hash, in a shuffled order for the lookups; and `n`
/// keys that are not in the map (`n..2n` spread the same way), in their own shuffled order.
fn keys(n: usize) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
    let spread = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let present: Vec<u64> = (0..n as u64).map(spread).collect();
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut shuffled = |mut v: Vec<u64>| {
        for i in (1..v.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.swap(i, (x % (i as u64 + 1)) as usize);
        }
        v
    };
    let lookup = shuffled(present.clone());
    let absent = shuffled((n as u64..2 * n as u64).map(spread).collect());
    (present, lookup, absent)
}

/// The operations timed: a hit, a miss, an insert of a new key into a presized map.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    Hit,
    Miss,
    Insert,
}

const OPS: [(Op, &str); 3] = [
    (Op::Hit, "get hit"),
    (Op::Miss, "get miss"),
    (Op::Insert, "insert"),
];

/// The two maps behind one interface, so each shape is written once.
trait Map: Send + Sync {
    fn presized(n: usize) -> Self;
    fn put(&self, k: u64);
    /// The key's value, or 0.
    fn value(&self, k: &u64) -> u64;
    fn has(&self, k: &u64) -> bool;
}

/// The same four calls for both maps: their APIs agree on these names (sharded-map is a
/// drop-in for DashMap), so one body serves both.
macro_rules! impl_map {
    ($map:ident) => {
        impl Map for $map<u64, u64, Hasher> {
            fn presized(n: usize) -> Self {
                $map::with_capacity_and_hasher(n, hasher())
            }
            #[inline]
            fn put(&self, k: u64) {
                self.insert(k, k);
            }
            #[inline]
            fn value(&self, k: &u64) -> u64 {
                self.get(k).map_or(0, |v| *v)
            }
            #[inline]
            fn has(&self, k: &u64) -> bool {
                self.get(k).is_some()
            }
        }
    };
}
impl_map!(ShardedMap);
impl_map!(DashMap);

/// The keys of one run: those in the map, and those an operation uses.
struct Keys<'a> {
    present: &'a [u64],
    lookup: &'a [u64],
    absent: &'a [u64],
}

impl Keys<'_> {
    /// The keys `op` works on (inserts put the absent keys into a map holding none of them).
    fn of(&self, op: Op) -> &[u64] {
        match op {
            Op::Hit => self.lookup,
            Op::Miss | Op::Insert => self.absent,
        }
    }
}

/// Shape A: the map is a local here and the loop is inlined into this function; each result
/// goes through `black_box`. Inserts: a fresh presized map per pass, only the inserts timed.
fn shape_a<M: Map>(keys: &Keys<'_>, op: Op, passes: usize) -> f64 {
    let ks = keys.of(op);
    if op == Op::Insert {
        let mut best = f64::MAX;
        for _ in 0..passes {
            let map = M::presized(ks.len());
            best = best.min(best_ns(1, ks.len(), || {
                for &k in ks {
                    map.put(black_box(k));
                }
            }));
            assert!(map.has(&ks[0]), "an insert was lost");
        }
        return best;
    }
    let map = M::presized(keys.present.len());
    for &k in keys.present {
        map.put(k);
    }
    assert_eq!(map.has(&ks[0]), op == Op::Hit, "a lookup went wrong");
    best_ns(passes, ks.len(), || {
        for k in ks {
            black_box(map.has(k));
        }
    })
}

/// Shape B's loop: the map behind an `Arc`, the loop in its own function, the values summed
/// (inserts: the loop inserts, then the map's sum of one key is returned).
#[inline(never)]
fn loop_b<M: Map>(map: &Arc<M>, ks: &[u64], op: Op) -> u64 {
    if op == Op::Insert {
        for &k in ks {
            map.put(k);
        }
        return map.value(&ks[0]);
    }
    ks.iter().fold(0u64, |s, k| s.wrapping_add(map.value(k)))
}

/// Shape C's loop: as B, with each key through `black_box` and hits counted.
#[inline(never)]
fn loop_c<M: Map>(map: &Arc<M>, ks: &[u64], op: Op) -> usize {
    if op == Op::Insert {
        for k in ks {
            map.put(*black_box(k));
        }
        return usize::from(map.has(&ks[0]));
    }
    ks.iter().filter(|&k| map.has(black_box(k))).count()
}

/// Shapes B and C: ns per operation of each.
fn shapes_b_c<M: Map>(keys: &Keys<'_>, op: Op, passes: usize) -> (f64, f64) {
    let ks = keys.of(op);
    let n = ks.len();
    if op == Op::Insert {
        let (mut b, mut c) = (f64::MAX, f64::MAX);
        for _ in 0..passes {
            let map = Arc::new(M::presized(n));
            b = b.min(best_ns(1, n, || {
                assert_eq!(loop_b(black_box(&map), ks, op), ks[0], "an insert was lost");
            }));
            let map = Arc::new(M::presized(n));
            c = c.min(best_ns(1, n, || {
                assert_eq!(loop_c(black_box(&map), ks, op), 1, "an insert was lost");
            }));
        }
        return (b, c);
    }
    let map = Arc::new(M::presized(keys.present.len()));
    for &k in keys.present {
        map.put(k);
    }
    let (sum, count) = if op == Op::Hit {
        (keys.present.iter().fold(0u64, |s, &k| s.wrapping_add(k)), n)
    } else {
        (0, 0)
    };
    let b = best_ns(passes, n, || {
        assert_eq!(loop_b(black_box(&map), ks, op), sum, "a lookup went wrong");
    });
    let c = best_ns(passes, n, || {
        assert_eq!(
            loop_c(black_box(&map), ks, op),
            count,
            "a lookup went wrong"
        );
    });
    (b, c)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let test = args::parse("usage: cold_get [--test]", false).test;
    let (n, rounds, passes) = if test {
        (10_000, 1, 1)
    } else {
        (1 << 20, 7, 5)
    };
    let (present, lookup, absent) = keys(n);
    let keys = Keys {
        present: &present,
        lookup: &lookup,
        absent: &absent,
    };
    type Ours = ShardedMap<u64, u64, Hasher>;
    type Dash = DashMap<u64, u64, Hasher>;
    for (op, name) in OPS {
        let mut ratios: [Vec<f64>; 3] = Default::default();
        for round in 1..=rounds {
            // Ours and DashMap alternate, which one goes first alternating by round.
            let (ours, dash) = if round % 2 == 1 {
                let o = (
                    shape_a::<Ours>(&keys, op, passes),
                    shapes_b_c::<Ours>(&keys, op, passes),
                );
                (
                    o,
                    (
                        shape_a::<Dash>(&keys, op, passes),
                        shapes_b_c::<Dash>(&keys, op, passes),
                    ),
                )
            } else {
                let d = (
                    shape_a::<Dash>(&keys, op, passes),
                    shapes_b_c::<Dash>(&keys, op, passes),
                );
                (
                    (
                        shape_a::<Ours>(&keys, op, passes),
                        shapes_b_c::<Ours>(&keys, op, passes),
                    ),
                    d,
                )
            };
            let r = [
                ours.0 / dash.0,
                ours.1 .0 / dash.1 .0,
                ours.1 .1 / dash.1 .1,
            ];
            for (v, x) in ratios.iter_mut().zip(r) {
                v.push(x);
            }
            println!(
                "{name}, round {round}: ours / DashMap time  A {:.2}  B {:.2}  C {:.2}  (ours {:.1} {:.1} {:.1} ns)",
                r[0], r[1], r[2], ours.0, ours.1 .0, ours.1 .1
            );
        }
        let [a, b, c] = ratios.map(median);
        println!(
            "{name}: median of {rounds}, {n} operations, map of {n}: ours / DashMap time  A {a:.2}  B {b:.2}  C {c:.2}  (median of the shapes {:.2})",
            median(vec![a, b, c])
        );
    }
}
