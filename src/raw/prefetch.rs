//! The probe hint: where a shard's table keeps its control bytes, and its bucket mask, readable
//! without the shard's lock, so that a keyed operation can prefetch the two cache lines its probe
//! will read first (the key's control group and its home bucket) before it takes the lock.
//!
//! # Why
//!
//! Taking a shard lock is a locked instruction, a full barrier on x86: the table lines of one
//! operation cannot be fetched while the lock of the next is being taken, so on a table larger
//! than the cache every operation pays its two misses one after the other, plus the barrier. The
//! prefetches are not ordered by the barrier: issued before it, the misses overlap the lock and
//! the end of the previous operation. Measured in `docs/benchmarks-history.md` ("Prefetching the
//! probe before the lock").
//!
//! # What it assumes, and what it does not rest on
//!
//! The addresses come from hashbrown's table layout (0.17): control byte `i` at `ctrl + i`,
//! bucket `i`'s element at `ctrl - (i + 1) * size_of::<T>()`, and a probe that starts at
//! `hash as usize & mask`. A unit test pins these facts for the version in `Cargo.lock`, so an
//! update that changes them fails a test instead of silently losing the speed.
//!
//! No correctness rests on the hint. A prefetch never faults and changes no memory, so a stale
//! hint (a table freed or grown since), a torn one (the two words from different refreshes) or
//! one that never learned its table only costs the prefetch's benefit. The hint's words are
//! therefore atomics the model checkers do not track (`sync::HintWord`), read and written
//! `Relaxed`; under Miri the hint is not even read (nothing would be prefetched).

use super::sync::{HintWord, Ordering};
use hashbrown::HashTable;

/// A shard's probe hint (see the module docs).
///
/// Refreshed by the shard's writers, under its exclusive lock, whenever the table's bucket count
/// differs from the one the hint was learned for ([`refresh_if_moved`](Self::refresh_if_moved)),
/// and whenever the table changes without the lock ([`refresh`](Self::refresh)). A table
/// replaced by another of the same bucket count inside one write guard (possible through the raw
/// API) keeps the old hint until its size next changes: its prefetches miss, nothing else.
pub(crate) struct ProbeHint {
    /// The address of the table's control bytes; while the hint has learned no table, that of
    /// [`UNLEARNED`].
    ctrl: HintWord,
    /// The table's bucket mask when `ctrl` was learned; 0 while unlearned. With `ctrl` at
    /// `UNLEARNED`, every prefetch then goes to that one line, which stays in the cache (any
    /// address would be safe, but a random one can cost a page walk). 0 is also the mask of the
    /// empty table (one bucket, nothing to learn); any other table's mask differs from it, so
    /// the next write tries to learn again.
    mask: HintWord,
}

/// Where an unlearned hint points: a line of its own, so its prefetches hit the cache.
#[repr(C, align(64))]
struct Line {
    _bytes: [u8; 64],
}
static UNLEARNED: Line = Line { _bytes: [0; 64] };

/// The most buckets per element a table may have for the hint to learn it (see `refresh`).
const SPARSEST: usize = 1024;

impl ProbeHint {
    /// A hint that has learned no table yet.
    pub(crate) fn new() -> Self {
        Self {
            ctrl: HintWord::new(unlearned()),
            mask: HintWord::new(0),
        }
    }

    /// Prefetches the lines a probe for `hash` reads first in the `(K, V)` table the hint last
    /// learned: the control group at the home position, and the key of the home bucket. Two
    /// plain loads and two prefetches; no lock, no fault.
    #[inline(always)]
    pub(crate) fn prefetch<K, V>(&self, hash: u64) {
        // Under Miri nothing is prefetched, so the two loads would only cost time: Miri checks
        // every atomic access, and this runs on every keyed operation of the whole suite.
        if cfg!(miri) {
            return;
        }
        let ctrl = self.ctrl.load(Ordering::Relaxed);
        let mask = self.mask.load(Ordering::Relaxed);
        // hashbrown's probe start (`h1(hash) & bucket_mask`); 0 while unlearned.
        let home = (hash as usize) & mask;
        let group = ctrl.wrapping_add(home);
        let key = ctrl
            .wrapping_sub(
                home.wrapping_add(1)
                    .wrapping_mul(core::mem::size_of::<(K, V)>()),
            )
            .wrapping_add(core::mem::offset_of!((K, V), 0));
        prefetch_line(group);
        prefetch_line(key);
    }

    /// Learns `table` again if its bucket count is not the one the hint has: after a write,
    /// under the shard's exclusive lock. One compare when nothing moved.
    #[inline(always)]
    pub(crate) fn refresh_if_moved<T>(&self, table: &HashTable<T>) {
        if self.moved(table) {
            self.refresh(table);
        }
    }

    /// Whether `table`'s bucket count is not the one the hint was learned for (an unlearned
    /// hint has the empty table's, which no table with an element has). One load, one compare.
    #[inline(always)]
    fn moved<T>(&self, table: &HashTable<T>) -> bool {
        table.num_buckets().wrapping_sub(1) != self.mask.load(Ordering::Relaxed)
    }

    /// Learns `table`'s control bytes from the address and index of one of its elements, the
    /// first one a scan from bucket 0 finds. A table with fewer than one element per
    /// [`SPARSEST`] buckets is not learned (the hint is reset to unlearned, and the next write
    /// tries again): the scan would be long (a presized table of 2^27 buckets holding one element
    /// would hold its writer's lock for milliseconds), and a table that empty gains little from
    /// a prefetch. Otherwise the scan reads about `SPARSEST / 16` control groups.
    #[cold]
    #[inline(never)]
    pub(crate) fn refresh<T>(&self, table: &HashTable<T>) {
        let dense_enough = table.len().saturating_mul(SPARSEST) >= table.num_buckets();
        let first = dense_enough.then(|| table.iter_buckets().next()).flatten();
        let learned = first.and_then(|index| located(table, index));
        let (ctrl, mask) = learned.unwrap_or((unlearned(), 0));
        self.set(ctrl, mask);
    }

    /// Learns `table` from an element a probe for `hash` meets: call it right after inserting
    /// a key with that hash (then there is one; if not, the hint is left as it was). Expected
    /// O(1), where [`refresh`](Self::refresh) scans from bucket 0.
    #[cfg(any(feature = "rayon", all(test, not(loom))))]
    pub(crate) fn learn_near<T>(&self, table: &HashTable<T>, hash: u64) {
        let near = table.iter_hash_buckets(hash).next();
        if let Some((ctrl, mask)) = near.and_then(|index| located(table, index)) {
            self.set(ctrl, mask);
        }
    }

    /// [`learn_near`](Self::learn_near) if `table` [moved](Self::moved): after each insert of a
    /// fill, so the first insert and every growth re-learn.
    #[cfg(feature = "rayon")]
    #[inline(always)]
    pub(crate) fn learn_near_if_moved<T>(&self, table: &HashTable<T>, hash: u64) {
        if self.moved(table) {
            self.learn_near(table, hash);
        }
    }

    fn set(&self, ctrl: usize, mask: usize) {
        self.ctrl.store(ctrl, Ordering::Relaxed);
        self.mask.store(mask, Ordering::Relaxed);
    }

    /// The learned `(ctrl, mask)`, if any (for tests).
    #[cfg(all(test, not(loom)))]
    pub(super) fn learned(&self) -> Option<(usize, usize)> {
        let (ctrl, mask) = (
            self.ctrl.load(Ordering::Relaxed),
            self.mask.load(Ordering::Relaxed),
        );
        if ctrl == unlearned() {
            assert_eq!(mask, 0, "an unlearned hint prefetches one line only");
            return None;
        }
        Some((ctrl, mask))
    }
}

/// `table`'s `(ctrl, mask)`, from its element at `index` (hashbrown keeps element `i` at
/// `ctrl - (i + 1) * size_of::<T>()`); `None` if that bucket is empty.
fn located<T>(table: &HashTable<T>, index: usize) -> Option<(usize, usize)> {
    let element = table.get_bucket(index)? as *const T as usize;
    let ctrl = element.wrapping_add((index + 1).wrapping_mul(core::mem::size_of::<T>()));
    Some((ctrl, table.num_buckets() - 1))
}

/// The address an unlearned hint points at.
fn unlearned() -> usize {
    core::ptr::addr_of!(UNLEARNED) as usize
}

impl core::fmt::Debug for ProbeHint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProbeHint").finish_non_exhaustive()
    }
}

/// Asks the CPU to bring the line holding `address` into its caches. Any address: a prefetch
/// never faults and changes nothing. Nothing on targets without a stable prefetch instruction,
/// and under Miri.
#[inline(always)]
fn prefetch_line(address: usize) {
    #[cfg(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse",
        not(miri)
    ))]
    {
        #[cfg(target_arch = "x86")]
        use core::arch::x86::{_mm_prefetch, _MM_HINT_T0};
        #[cfg(target_arch = "x86_64")]
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `_mm_prefetch` needs SSE, which this cfg requires. `PREFETCHT0` reads and
        // writes no memory in the language's sense and never faults, whatever the address
        // (Intel SDM, "PREFETCHh"): no address it is given can cause undefined behaviour.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address as *const i8) };
    }
    let _ = address;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use hashbrown::HashTable;

    fn hash_of(key: u64) -> u64 {
        // Any spread of the keys over the buckets will do.
        key.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn table_of(keys: impl IntoIterator<Item = u64>) -> HashTable<(u64, u64)> {
        let mut table = HashTable::new();
        for key in keys {
            table.insert_unique(hash_of(key), (key, key), |&(k, _)| hash_of(k));
        }
        table
    }

    /// The layout facts the prefetch addresses come from, for the hashbrown in `Cargo.lock`:
    /// every element at `ctrl - (index + 1) * size`, for one `ctrl` learned from any of them.
    /// If a hashbrown update breaks this, the prefetches miss (nothing unsafe happens) and this
    /// test says so.
    #[test]
    fn the_hint_finds_every_element_of_the_table() {
        let keys = if cfg!(miri) { 300 } else { 5_000 };
        let table = table_of(0..keys);
        let hint = ProbeHint::new();
        hint.refresh(&table);
        let (ctrl, mask) = hint.learned().expect("a full table is learned");
        assert_eq!(mask, table.num_buckets() - 1);
        let size = core::mem::size_of::<(u64, u64)>();
        for key in 0..keys {
            let index = table
                .find_bucket_index(hash_of(key), |&(k, _)| k == key)
                .unwrap();
            let element = table.get_bucket(index).unwrap() as *const (u64, u64) as usize;
            assert_eq!(element, ctrl - (index + 1) * size, "key {key}");
        }
    }

    /// Learning from the element just inserted agrees with learning by a scan, in a table
    /// far too sparse for the scan's threshold.
    #[test]
    fn learning_near_an_inserted_key_finds_the_table() {
        let mut table: HashTable<(u64, u64)> = HashTable::with_capacity(1 << 12);
        table.insert_unique(hash_of(7), (7, 7), |&(k, _)| hash_of(k));
        let near = ProbeHint::new();
        near.learn_near(&table, hash_of(7));
        let (ctrl, mask) = near.learned().expect("learned from the one element");
        assert_eq!(mask, table.num_buckets() - 1);
        let index = table.find_bucket_index(hash_of(7), |_| true).unwrap();
        let element = table.get_bucket(index).unwrap() as *const (u64, u64) as usize;
        assert_eq!(
            element,
            ctrl - (index + 1) * core::mem::size_of::<(u64, u64)>()
        );
        // A hash no element has: nothing to learn from, the hint stays as it was.
        let empty = ProbeHint::new();
        empty.learn_near(&HashTable::<(u64, u64)>::new(), hash_of(7));
        assert_eq!(empty.learned(), None);
    }

    /// The probe's start: in a table with one element, that element sits at its home position,
    /// `hash & mask` (the first bucket a probe for it reads).
    #[test]
    fn a_lone_element_sits_at_its_home_position() {
        for key in 0..if cfg!(miri) { 20 } else { 200 } {
            let mut table: HashTable<(u64, u64)> = HashTable::with_capacity(1_000);
            table.insert_unique(hash_of(key), (key, key), |&(k, _)| hash_of(k));
            let index = table.find_bucket_index(hash_of(key), |_| true).unwrap();
            assert_eq!(index, hash_of(key) as usize & (table.num_buckets() - 1));
        }
    }

    /// A presized table is learned once it holds one element per `SPARSEST` buckets, not
    /// before (its first element could be far from bucket 0).
    #[test]
    fn a_sparse_table_is_learned_once_it_fills_a_little() {
        let hint = ProbeHint::new();
        let mut table: HashTable<(u64, u64)> = HashTable::with_capacity(1 << 14);
        let buckets = table.num_buckets();
        let mut key = 0;
        while (table.len() + 1) * SPARSEST < buckets {
            table.insert_unique(hash_of(key), (key, key), |&(k, _)| hash_of(k));
            key += 1;
            hint.refresh_if_moved(&table);
            assert_eq!(
                hint.learned(),
                None,
                "{} elements in {buckets} buckets",
                table.len()
            );
        }
        table.insert_unique(hash_of(key), (key, key), |&(k, _)| hash_of(k));
        hint.refresh_if_moved(&table);
        assert_eq!(hint.learned().map(|(_, mask)| mask), Some(buckets - 1));
    }

    #[test]
    fn an_empty_table_is_not_learned_and_a_resize_is() {
        let hint = ProbeHint::new();
        let mut table = table_of(core::iter::empty());
        hint.refresh_if_moved(&table);
        assert_eq!(hint.learned(), None);
        // An allocated but empty table: nothing to learn from yet.
        table.reserve(100, |&(k, _)| hash_of(k));
        hint.refresh_if_moved(&table);
        assert_eq!(hint.learned(), None);
        table.insert_unique(hash_of(1), (1, 1), |&(k, _)| hash_of(k));
        hint.refresh_if_moved(&table);
        let (_, mask) = hint.learned().unwrap();
        assert_eq!(mask, table.num_buckets() - 1);
        // Growing moves the table: the next check learns the new one.
        for key in 2..if cfg!(miri) { 100 } else { 1_000 } {
            table.insert_unique(hash_of(key), (key, key), |&(k, _)| hash_of(k));
        }
        hint.refresh_if_moved(&table);
        let (ctrl, mask) = hint.learned().unwrap();
        assert_eq!(mask, table.num_buckets() - 1);
        let index = table
            .find_bucket_index(hash_of(1), |&(k, _)| k == 1)
            .unwrap();
        let element = table.get_bucket(index).unwrap() as *const (u64, u64) as usize;
        assert_eq!(
            element,
            ctrl - (index + 1) * core::mem::size_of::<(u64, u64)>()
        );
        // Emptied and shrunk: back to unlearned, prefetching its one cached line (`learned`
        // checks the mask is 0), not the freed table nor random addresses.
        table.clear();
        table.shrink_to_fit(|&(k, _)| hash_of(k));
        hint.refresh_if_moved(&table);
        assert_eq!(hint.learned(), None);
    }
}
