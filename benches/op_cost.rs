//! Deterministic per-operation cost: the program `scripts/op-cost` runs under cachegrind to count
//! instructions and simulated cache misses per `get` hit, `get` miss and presized `insert`, for
//! ours, DashMap and hashbrown, with the same hasher, keys and order.
//!
//! ```sh
//! scripts/op-cost                                   # the table (cachegrind, a few minutes)
//! cargo bench --bench op_cost -- MAP OP N PASSES     # one run: what the script measures
//! cargo bench --bench op_cost -- --test              # every map and op once, small (CI)
//! ```
//!
//! MAP is `sharded-map`, `dashmap` or `hashbrown`; OP is `get_hit`, `get_miss`, `insert` or
//! `exchange` (conc-map-bench's Exchange mix on one thread). The
//! program fills a map with N keys (for `insert`: only reserves room for them), then runs PASSES
//! passes of OP over N keys in a scattered order. The script runs it with two pass counts and
//! divides the difference by N, so building, start-up and exit cancel out.
#![allow(missing_docs)]

use std::hint::black_box;

type H = ahash::RandomState;

fn hasher() -> H {
    ahash::RandomState::with_seeds(1, 2, 3, 4)
}

/// Key `i` of a pass: a bijection on 0..n that scatters consecutive `i` (so consecutive
/// operations hit unrelated buckets, as random keys do).
fn scattered(i: u64, n: u64) -> u64 {
    // n is a power of two in practice; for other n this still covers 0..n with an odd stride.
    (i.wrapping_mul(0x9e37_79b9_7f4a_7c15 | 1)) % n
}

/// The operations, on any of the three maps.
trait Map {
    fn with_capacity(n: usize) -> Self;
    fn put(&mut self, k: u64);
    fn hit(&self, k: u64) -> u64;
    fn take(&mut self, k: u64) -> u64;
    fn bump(&mut self, k: u64) -> u64;
}

impl Map for sharded_map::ShardedMap<u64, u64, H> {
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, hasher())
    }
    fn put(&mut self, k: u64) {
        self.insert(k, k);
    }
    fn hit(&self, k: u64) -> u64 {
        self.get(&k).map_or(0, |r| *r)
    }
    fn take(&mut self, k: u64) -> u64 {
        self.remove(&k).map_or(0, |(_, v)| v)
    }
    fn bump(&mut self, k: u64) -> u64 {
        self.get_mut(&k).map_or(0, |mut v| {
            *v += 1;
            *v
        })
    }
}

impl Map for dashmap::DashMap<u64, u64, H> {
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, hasher())
    }
    fn put(&mut self, k: u64) {
        self.insert(k, k);
    }
    fn hit(&self, k: u64) -> u64 {
        self.get(&k).map_or(0, |r| *r)
    }
    fn take(&mut self, k: u64) -> u64 {
        self.remove(&k).map_or(0, |(_, v)| v)
    }
    fn bump(&mut self, k: u64) -> u64 {
        self.get_mut(&k).map_or(0, |mut v| {
            *v += 1;
            *v
        })
    }
}

impl Map for hashbrown::HashMap<u64, u64, H> {
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, hasher())
    }
    fn put(&mut self, k: u64) {
        self.insert(k, k);
    }
    fn hit(&self, k: u64) -> u64 {
        self.get(&k).copied().unwrap_or(0)
    }
    fn take(&mut self, k: u64) -> u64 {
        self.remove(&k).unwrap_or(0)
    }
    fn bump(&mut self, k: u64) -> u64 {
        self.get_mut(&k).map_or(0, |v| {
            *v += 1;
            *v
        })
    }
}

fn run<M: Map>(op: &str, n: u64, passes: u64) -> u64 {
    let mut map = M::with_capacity(n as usize);
    let mut sum = 0u64;
    match op {
        "insert" => {
            for _ in 0..passes.min(1) {
                for i in 0..n {
                    map.put(black_box(scattered(i, n)));
                }
            }
        }
        "get_hit" | "get_miss" => {
            for k in 0..n {
                map.put(k);
            }
            // Misses look up keys above every stored one.
            let offset = if op == "get_miss" { n } else { 0 };
            for _ in 0..passes {
                for i in 0..n {
                    sum = sum.wrapping_add(map.hit(black_box(scattered(i, n) + offset)));
                }
            }
        }
        "exchange" => {
            // conc-map-bench's Exchange mix on one thread: 10% reads, 40% inserts, 40% removes,
            // 10% updates, keys from twice the prefilled space.
            for k in 0..n {
                map.put(k);
            }
            let mut x = 0x2545_f491_4f6c_dd1du64;
            for _ in 0..passes {
                for _ in 0..n {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let k = black_box((x >> 8) % (2 * n));
                    let r = match x % 10 {
                        0 => map.hit(k),
                        1..=4 => {
                            map.put(k);
                            0
                        }
                        5..=8 => map.take(k),
                        _ => map.bump(k),
                    };
                    sum = sum.wrapping_add(r);
                }
            }
        }
        other => usage(&format!("unknown operation `{other}`")),
    }
    black_box(&map);
    sum
}

fn usage(problem: &str) -> ! {
    eprintln!("error: {problem}");
    eprintln!("usage: op_cost MAP OP N PASSES  (MAP: sharded-map | dashmap | hashbrown; OP: get_hit | get_miss | insert | exchange)");
    eprintln!("       op_cost --test");
    std::process::exit(2);
}

fn one(map: &str, op: &str, n: u64, passes: u64) -> u64 {
    match map {
        "sharded-map" => run::<sharded_map::ShardedMap<u64, u64, H>>(op, n, passes),
        "dashmap" => run::<dashmap::DashMap<u64, u64, H>>(op, n, passes),
        "hashbrown" => run::<hashbrown::HashMap<u64, u64, H>>(op, n, passes),
        other => usage(&format!("unknown map `{other}`")),
    }
}

fn main() {
    // cargo bench passes `--bench`; ignore flags other than --test.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a == "--test" || !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some("--test") {
        for map in ["sharded-map", "dashmap", "hashbrown"] {
            // Every key hits once per pass; misses never do.
            let n = 1024;
            let all: u64 = (0..n).sum();
            assert_eq!(one(map, "get_hit", n, 2), 2 * all, "{map}");
            assert_eq!(one(map, "get_miss", n, 2), 0, "{map}");
            one(map, "insert", n, 1);
            one(map, "exchange", n, 1);
        }
        println!("op_cost: every map and operation ran");
        return;
    }
    let [map, op, n, passes] = args.as_slice() else {
        usage("expected four arguments");
    };
    let n: u64 = n
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or_else(|| usage(&format!("N must be a positive integer, not `{n}`")));
    let passes: u64 = passes
        .parse()
        .unwrap_or_else(|_| usage(&format!("PASSES must be an integer, not `{passes}`")));
    println!("{}", one(map, op, n, passes));
}
