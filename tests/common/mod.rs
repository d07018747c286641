//! Helpers shared by the integration tests: hashers, drop-counting values, panicking keys and a
//! watchdog for concurrency tests.
#![allow(dead_code)]

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use sharded_map::ShardedMap;

/// Scales a test size down under Miri.
pub const fn size(normal: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else {
        normal
    }
}

/// A hasher under which every key collides (all hashes are equal).
#[derive(Clone, Copy, Default, Debug)]
pub struct Colliding;

impl BuildHasher for Colliding {
    type Hasher = CollidingHasher;
    fn build_hasher(&self) -> CollidingHasher {
        CollidingHasher
    }
}

pub struct CollidingHasher;
impl Hasher for CollidingHasher {
    fn finish(&self) -> u64 {
        0x5eed
    }
    fn write(&mut self, _: &[u8]) {}
}

/// An identity ("nohash") hasher for integer keys.
#[derive(Clone, Copy, Default, Debug)]
pub struct Identity;

impl BuildHasher for Identity {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

pub struct IdentityHasher(u64);
impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

/// A hasher that counts how many hashes it computes (`finish` calls).
#[derive(Clone, Default, Debug)]
pub struct Counting(pub Arc<AtomicUsize>);

impl BuildHasher for Counting {
    type Hasher = CountingHasher;
    fn build_hasher(&self) -> CountingHasher {
        CountingHasher(ahash::AHasher::default(), self.0.clone())
    }
}

pub struct CountingHasher(ahash::AHasher, Arc<AtomicUsize>);
impl Hasher for CountingHasher {
    fn finish(&self) -> u64 {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.finish()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes)
    }
}

/// A value that counts its drops in a shared counter.
#[derive(Debug)]
pub struct Tracked {
    pub id: u64,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    pub fn new(id: u64, drops: &Arc<AtomicUsize>) -> Self {
        Self {
            id,
            drops: drops.clone(),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            drops: self.drops.clone(),
        }
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Tracked {}
impl Hash for Tracked {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

pub fn count(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::SeqCst)
}

/// A key whose `Hash` or `Eq` panics while its switch is on (`Eq`: either side's switch).
#[derive(Debug, Clone)]
pub struct Bomb {
    pub id: u64,
    pub hash_panics: Arc<AtomicBool>,
    pub eq_panics: Arc<AtomicBool>,
}

impl Bomb {
    pub fn new(id: u64, hash_panics: &Arc<AtomicBool>, eq_panics: &Arc<AtomicBool>) -> Self {
        Self {
            id,
            hash_panics: hash_panics.clone(),
            eq_panics: eq_panics.clone(),
        }
    }
}

impl Hash for Bomb {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.hash_panics.load(Ordering::SeqCst) {
            panic!("Bomb: hash panics");
        }
        self.id.hash(state)
    }
}

impl PartialEq for Bomb {
    /// Panics if either side is armed: the map may compare in either direction (it compares the
    /// probe key with the stored one, as hashbrown's `equivalent_key` does).
    fn eq(&self, other: &Self) -> bool {
        if self.eq_panics.load(Ordering::SeqCst) || other.eq_panics.load(Ordering::SeqCst) {
            panic!("Bomb: eq panics");
        }
        self.id == other.id
    }
}
impl Eq for Bomb {}

/// A value whose `Drop` panics if its flag says so.
#[derive(Debug)]
pub struct DropBomb(pub bool, pub Arc<AtomicUsize>);

impl Drop for DropBomb {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
        if self.0 && !std::thread::panicking() {
            panic!("DropBomb: drop panics");
        }
    }
}

/// Checks the invariants a map must keep whatever happened:
/// - every shard's lock is free: for every shard, a key made by `probe` that lands there can be
///   taken with `try_entry` (which never blocks);
/// - `len()` equals the number of entries iteration yields;
/// - every yielded key is found again.
pub fn assert_consistent<K, V, S>(map: &ShardedMap<K, V, S>, probe: impl Fn(u64) -> K)
where
    K: Eq + Hash + Clone + std::fmt::Debug,
    S: BuildHasher,
{
    // Probe keys until every shard was reached (a colliding hasher reaches only one shard, and
    // then no key can live, or be locked, anywhere else).
    let mut free = vec![false; map.shard_amount()];
    for i in 0..4096u64 {
        let key = probe(i);
        let shard = map.determine_map(&key);
        if !free[shard] {
            assert!(
                map.try_entry(key).is_some(),
                "shard {shard} is still locked"
            );
            free[shard] = true;
            if free.iter().all(|&f| f) {
                break;
            }
        }
    }
    let keys: Vec<K> = map.iter().map(|r| r.key().clone()).collect();
    assert_eq!(map.len(), keys.len(), "len() disagrees with iteration");
    for k in &keys {
        assert!(
            map.contains_key(k),
            "iterated key {k:?} not found by lookup"
        );
    }
}

/// Runs `f` on its own thread and fails the test with a clear message if it has not finished
/// after `secs` seconds (a deadlock or livelock), instead of hanging the suite.
pub fn watchdog<F: FnOnce() + Send + 'static>(name: &str, secs: u64, f: F) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name(format!("scenario:{name}"))
        .spawn(move || {
            f();
            let _ = tx.send(());
        })
        .expect("spawn scenario thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => handle.join().expect("scenario thread panicked"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The scenario panicked; surface its panic.
            if let Err(e) = handle.join() {
                std::panic::resume_unwind(e);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!(
                "watchdog: scenario `{name}` did not finish within {secs}s: deadlock or livelock"
            )
        }
    }
}

/// Runs `f(t)` for `t` in `0..threads`, each on its own thread, all released at once by a
/// barrier; joins them and fails the test if one panicked.
pub fn spawn_all(threads: usize, f: impl Fn(usize) + Send + Sync + 'static) {
    let f = Arc::new(f);
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (f, start) = (f.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                f(t)
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker panicked");
    }
}
