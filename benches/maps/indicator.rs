//! A design probe, not a map: what a locked lookup costs with today's reader indicator (the
//! shard lock's one shared word, `fetch_add` + `fetch_sub`) against a per-thread reader slot
//! (BRAVO, Dice and Kogan 2019: the reader claims its own cache line with one CAS, checks the
//! shard word with a load, and leaves with a plain store), with no lock at all as the ceiling.
//!
//! Only the read path of the slot design is modelled (no writer ever arrives, so the shard word
//! never changes): this measures the most the slot design could gain, which is what decided
//! to build it. The `lock` row is the shard lock as built (`src/raw/lock.rs`, biased, as a read-only
//! shard stays): how close the real read path comes to the probe's `slot` row. Eight shards of `hashbrown::HashTable`, lookups of random present keys,
//! at 1 and 2 threads; a cache-resident table (64K entries) and a memory-bound one (4M).
//!
//! ```sh
//! cargo bench --bench maps -- '^indicator'
//! ```

use std::hint::black_box;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use crossbeam_utils::CachePadded;
use hashbrown::HashTable;
use sharded_map::__internal::{RawRwLock, ReaderSlots};

use crate::adapters::{hasher, keys, test_mode, timed_threads, Hasher};

const SHARDS: usize = 8;
/// Lookups per thread per measured iteration.
const OPS: usize = 4096;
/// The slot protocol's "readers may use slots, no writer" state of the shard word.
const BIAS: usize = 0b100;

struct Shard {
    /// The shard lock as built, with its readers on their slots.
    lock: RawRwLock,
    /// A word-only reader indicator: what the lock was before it had reader slots (one
    /// `fetch_add` and one `fetch_sub` per read, on a line every reader writes).
    count: AtomicUsize,
    /// The slot design's shard word (read-only here: no writer arrives).
    word: AtomicUsize,
    table: HashTable<(u64, u64)>,
}

struct Probe {
    shards: Vec<CachePadded<Shard>>,
    /// One row of slots per thread, a cache line each: row `t` slot `s` = thread `t` reads
    /// shard `s`.
    slots: Vec<CachePadded<[AtomicU8; SHARDS]>>,
    /// The real lock's reader slots.
    readers: ReaderSlots,
    hasher: Hasher,
}

#[derive(Clone, Copy)]
enum How {
    /// No synchronization: the ceiling.
    Unlocked,
    /// A shared word, as the shard lock's word path does.
    Word,
    /// A per-thread slot, as a BRAVO-style read path would.
    Slot,
    /// The same with a `SeqCst` fence between the slot CAS and the word load: the form loom can
    /// check (loom models `SeqCst` fences but treats `SeqCst` accesses as `AcqRel`).
    SlotFence,
    /// The shard lock as built.
    Lock,
}

impl Probe {
    fn new(keys: &[u64], threads: usize) -> Self {
        let hasher = hasher();
        let readers = ReaderSlots::new(SHARDS);
        let mut shards: Vec<_> = (0..SHARDS)
            .map(|_| {
                CachePadded::new(Shard {
                    lock: RawRwLock::biased(&readers),
                    count: AtomicUsize::new(0),
                    word: AtomicUsize::new(BIAS),
                    table: HashTable::new(),
                })
            })
            .collect();
        for &k in keys {
            let h = hasher.hash_one(k);
            shards[Self::shard(h)]
                .table
                .insert_unique(h, (k, k), |(k, _)| hasher.hash_one(k));
        }
        let slots = (0..threads)
            .map(|_| CachePadded::new(core::array::from_fn(|_| AtomicU8::new(0))))
            .collect();
        Self {
            shards,
            slots,
            readers,
            hasher,
        }
    }

    fn shard(hash: u64) -> usize {
        ((hash << 7) >> (64 - SHARDS.trailing_zeros())) as usize
    }

    #[inline]
    fn get(&self, how: How, row: usize, k: u64) -> u64 {
        let h = self.hasher.hash_one(k);
        let s = Self::shard(h);
        let shard = &self.shards[s];
        let find = || shard.table.find(h, |e| e.0 == k).map_or(0, |e| e.1);
        match how {
            How::Unlocked => find(),
            How::Word => {
                assert_eq!(shard.count.fetch_add(4, Ordering::Acquire) & 2, 0);
                let v = find();
                shard.count.fetch_sub(4, Ordering::Release);
                v
            }
            How::Lock => {
                // SAFETY: shard `s` uses column `s` of this map's own slot table, always.
                let hold = unsafe { shard.lock.lock_shared(self.readers.of(s)) };
                let v = find();
                // SAFETY: taken just above, with the same slots.
                unsafe { shard.lock.unlock_shared(hold) };
                v
            }
            How::Slot | How::SlotFence => {
                let slot = &self.slots[row][s];
                let claimed = slot
                    .compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok();
                if matches!(how, How::SlotFence) {
                    std::sync::atomic::fence(Ordering::SeqCst);
                }
                assert!(claimed && shard.word.load(Ordering::SeqCst) == BIAS);
                let v = find();
                slot.store(0, Ordering::Release);
                v
            }
        }
    }

    fn run(&self, how: How, threads: usize, iters: u64, lookup: &[u64]) -> Duration {
        timed_threads(threads, |t| {
            let mut i = t * lookup.len() / threads;
            let mut sum = 0u64;
            for _ in 0..iters as usize * OPS {
                i = if i + 1 == lookup.len() { 0 } else { i + 1 };
                sum = sum.wrapping_add(self.get(how, t, lookup[i]));
            }
            black_box(sum);
        })
    }
}

pub fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("indicator");
    g.sample_size(if test_mode() { 10 } else { 20 })
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let sizes: &[(&str, usize)] = if test_mode() {
        &[("64K", 1 << 10)]
    } else {
        &[("64K", 1 << 16), ("4M", 1 << 22)]
    };
    for &(size, n) in sizes {
        let present = keys(n, 3);
        let mut lookup = present.clone();
        lookup.sort_unstable_by_key(|k| k.wrapping_mul(0x2545_f491_4f6c_dd1d));
        for threads in [1usize, 2] {
            let probe = Probe::new(&present, threads);
            g.throughput(Throughput::Elements((OPS * threads) as u64));
            for (name, how) in [
                ("unlocked", How::Unlocked),
                ("word", How::Word),
                ("slot", How::Slot),
                ("slot_fence", How::SlotFence),
                ("lock", How::Lock),
            ] {
                g.bench_function(BenchmarkId::new(format!("{size}_{threads}t"), name), |b| {
                    b.iter_custom(|iters| probe.run(how, threads, iters, &lookup))
                });
            }
        }
    }
    g.finish();
}
