//! One interface over every map in the comparison, all with the same hasher (ahash, fixed
//! seeds) and `u64` keys and values, each with its default settings otherwise.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

pub type Hasher = ahash::RandomState;

pub fn hasher() -> Hasher {
    ahash::RandomState::with_seeds(0x51, 0x52, 0x53, 0x54)
}

/// What the workloads need from a concurrent map.
pub trait BenchMap: Send + Sync + 'static {
    const NAME: &'static str;
    fn with_capacity(capacity: usize) -> Self;
    fn get(&self, key: u64) -> bool;
    /// Inserts or replaces; returns whether the key was new.
    fn insert(&self, key: u64, value: u64) -> bool;
    fn remove(&self, key: u64) -> bool;
    /// Adds one to the value if present.
    fn update(&self, key: u64) -> bool;
}

pub struct Ours(pub sharded_map::ShardedMap<u64, u64, Hasher>);
impl BenchMap for Ours {
    const NAME: &'static str = "sharded-map";
    fn with_capacity(capacity: usize) -> Self {
        Self(sharded_map::ShardedMap::with_capacity_and_hasher(
            capacity,
            hasher(),
        ))
    }
    #[inline]
    fn get(&self, key: u64) -> bool {
        self.0.get(&key).is_some()
    }
    #[inline]
    fn insert(&self, key: u64, value: u64) -> bool {
        self.0.insert(key, value).is_none()
    }
    #[inline]
    fn remove(&self, key: u64) -> bool {
        self.0.remove(&key).is_some()
    }
    #[inline]
    fn update(&self, key: u64) -> bool {
        self.0.get_mut(&key).map(|mut v| *v += 1).is_some()
    }
}

pub struct Dash(pub dashmap::DashMap<u64, u64, Hasher>);
impl BenchMap for Dash {
    const NAME: &'static str = "DashMap";
    fn with_capacity(capacity: usize) -> Self {
        Self(dashmap::DashMap::with_capacity_and_hasher(
            capacity,
            hasher(),
        ))
    }
    #[inline]
    fn get(&self, key: u64) -> bool {
        self.0.get(&key).is_some()
    }
    #[inline]
    fn insert(&self, key: u64, value: u64) -> bool {
        self.0.insert(key, value).is_none()
    }
    #[inline]
    fn remove(&self, key: u64) -> bool {
        self.0.remove(&key).is_some()
    }
    #[inline]
    fn update(&self, key: u64) -> bool {
        self.0.get_mut(&key).map(|mut v| *v += 1).is_some()
    }
}

pub struct RwLockStd(pub RwLock<HashMap<u64, u64, Hasher>>);
impl BenchMap for RwLockStd {
    const NAME: &'static str = "RwLock<HashMap>";
    fn with_capacity(capacity: usize) -> Self {
        Self(RwLock::new(HashMap::with_capacity_and_hasher(
            capacity,
            hasher(),
        )))
    }
    #[inline]
    fn get(&self, key: u64) -> bool {
        self.0.read().unwrap().contains_key(&key)
    }
    #[inline]
    fn insert(&self, key: u64, value: u64) -> bool {
        self.0.write().unwrap().insert(key, value).is_none()
    }
    #[inline]
    fn remove(&self, key: u64) -> bool {
        self.0.write().unwrap().remove(&key).is_some()
    }
    #[inline]
    fn update(&self, key: u64) -> bool {
        self.0
            .write()
            .unwrap()
            .get_mut(&key)
            .map(|v| *v += 1)
            .is_some()
    }
}

pub struct MutexStd(pub Mutex<HashMap<u64, u64, Hasher>>);
impl BenchMap for MutexStd {
    const NAME: &'static str = "Mutex<HashMap>";
    fn with_capacity(capacity: usize) -> Self {
        Self(Mutex::new(HashMap::with_capacity_and_hasher(
            capacity,
            hasher(),
        )))
    }
    #[inline]
    fn get(&self, key: u64) -> bool {
        self.0.lock().unwrap().contains_key(&key)
    }
    #[inline]
    fn insert(&self, key: u64, value: u64) -> bool {
        self.0.lock().unwrap().insert(key, value).is_none()
    }
    #[inline]
    fn remove(&self, key: u64) -> bool {
        self.0.lock().unwrap().remove(&key).is_some()
    }
    #[inline]
    fn update(&self, key: u64) -> bool {
        self.0
            .lock()
            .unwrap()
            .get_mut(&key)
            .map(|v| *v += 1)
            .is_some()
    }
}

pub struct Scc(pub scc::HashMap<u64, u64, Hasher>);
impl BenchMap for Scc {
    const NAME: &'static str = "scc";
    fn with_capacity(capacity: usize) -> Self {
        Self(scc::HashMap::with_capacity_and_hasher(capacity, hasher()))
    }
    #[inline]
    fn get(&self, key: u64) -> bool {
        self.0.read_sync(&key, |_, _| ()).is_some()
    }
    #[inline]
    fn insert(&self, key: u64, value: u64) -> bool {
        self.0.upsert_sync(key, value).is_none()
    }
    #[inline]
    fn remove(&self, key: u64) -> bool {
        self.0.remove_sync(&key).is_some()
    }
    #[inline]
    fn update(&self, key: u64) -> bool {
        self.0.update_sync(&key, |_, v| *v += 1).is_some()
    }
}

pub struct Papaya(pub papaya::HashMap<u64, u64, Hasher>);
impl BenchMap for Papaya {
    const NAME: &'static str = "papaya";
    fn with_capacity(capacity: usize) -> Self {
        Self(
            papaya::HashMap::builder()
                .capacity(capacity)
                .hasher(hasher())
                .build(),
        )
    }
    #[inline]
    fn get(&self, key: u64) -> bool {
        self.0.pin().get(&key).is_some()
    }
    #[inline]
    fn insert(&self, key: u64, value: u64) -> bool {
        self.0.pin().insert(key, value).is_none()
    }
    #[inline]
    fn remove(&self, key: u64) -> bool {
        self.0.pin().remove(&key).is_some()
    }
    #[inline]
    fn update(&self, key: u64) -> bool {
        self.0.pin().update(key, |v| v + 1).is_some()
    }
}

/// A fixed-seed xorshift generator: repeatable keys without a dependency.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `n` distinct pseudo-random keys.
pub fn keys(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let k = rng.next();
        if seen.insert(k) {
            out.push(k);
        }
    }
    out
}

/// Whether criterion runs in test mode (`cargo bench -- --test`): then sizes shrink.
pub fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// Calls `$body` with `$M` bound to each concurrent map type in the comparison.
#[macro_export]
macro_rules! for_each_map {
    ($M:ident => $body:block) => {{
        {
            type $M = $crate::adapters::Ours;
            $body
        }
        {
            type $M = $crate::adapters::Dash;
            $body
        }
        {
            type $M = $crate::adapters::RwLockStd;
            $body
        }
        {
            type $M = $crate::adapters::MutexStd;
            $body
        }
        {
            type $M = $crate::adapters::Scc;
            $body
        }
        {
            type $M = $crate::adapters::Papaya;
            $body
        }
    }};
}

/// Runs `body(t)` on `threads` scoped threads released together by a barrier, and returns the
/// time from the release until every thread has finished (the scope joins them all).
pub fn timed_threads(threads: usize, body: impl Fn(usize) + Sync) -> std::time::Duration {
    let start = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (start, body) = (&start, &body);
            s.spawn(move || {
                start.wait();
                body(t);
            });
        }
        start.wait();
        std::time::Instant::now()
    })
    .elapsed()
}
