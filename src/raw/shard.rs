//! One shard, and every piece of unsafe code that touches shard data.
//!
//! A [`Shard`] is a [`RawRwLock`] around a `hashbrown::HashTable<(K, V)>` plus an entry counter.
//! This file is the engine under the safe public types: the lock guards ([`ReadGuard`],
//! [`WriteGuard`]), element handles that keep a guard alive while pointing at one entry
//! ([`ElemRef`], [`ElemMut`]), and per-shard iterators. Nothing here hands out a reference that can
//! outlive the guard it came from: element handles store raw pointers and lend them out only for
//! the lifetime of `&self` / `&mut self` (the rule DashMap broke in RUSTSEC-2022-0002).
//!
//! # Safety argument
//!
//! - **A lock is always used with its own reader slots.** `RawRwLock`'s slot-taking methods are
//!   `unsafe` with that contract. [`Shards`] makes one slot column per shard when it makes the
//!   shards, and is the only maker of [`ShardRef`] (private fields, no public constructor), the
//!   only caller of those methods; its fields are private and the shard array is never resized,
//!   so no safe code, here or above, can pair a lock with other slots.
//! - **Table access matches the lock held.** Shared access goes through [`ReadGuard`] (made only
//!   with a shared hold), exclusive access through [`WriteGuard`] (made only with the exclusive
//!   hold) or through `&mut` ([`TableMut`], [`TablesMut`], which re-sync the entry counter on
//!   drop); `table_mut` and `sync_len` are private to this file.
//! - **No reference outlives its guard, and no `&mut` is made from `&`.** Element handles and
//!   per-shard iterators keep their guard alive beside their raw pointers; `WriteGuard`'s
//!   shared `Deref` reborrows through the raw pointer.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::{self, NonNull};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use hashbrown::{hash_table, HashTable};

use crossbeam_utils::CachePadded;

use crate::deadlock::{Site, Token};
use crate::raw::lock::{RawRwLock, ReadHold, ReaderSlots, Slots};
use crate::raw::prefetch::ProbeHint;
use crate::raw::route::{shard_index, shift_for};
use crate::raw::sync::{AtomicUsize, ConstPtr, MutPtr, Ordering, UnsafeCell};

/// The table inside a shard. Keys and values live together so one probe finds both.
pub(crate) type Table<K, V> = HashTable<(K, V)>;

/// A shard on its own cache line(s), as maps store them.
pub(crate) type PaddedShard<K, V> = CachePadded<Shard<K, V>>;

/// A lock, an entry counter and a table, and the table's probe hint.
///
/// Invariant: `len` equals the table's length whenever no write guard is alive. Write guards
/// store the length when they drop (also during unwinding), so `len()` needs no lock.
///
/// Layout (`repr(C)`): what a writer modifies (the lock word, the counter, the table's header)
/// comes first, on the shard's first line; the probe hint, which every operation reads before
/// it takes the lock and writers seldom change, on a line of its own after it. On the same line,
/// a writer's read of the hint would fetch the line shared from the core that wrote last, and
/// its lock would then need a second transfer to own it.
#[repr(C)]
pub(crate) struct Shard<K, V> {
    lock: RawRwLock,
    /// The byte offset of this lock's reader slots in its map's slot table
    /// (`ReaderSlots::of(index).column()`), kept here, on the line the lock is on, so that
    /// finding the calling thread's slot costs one add. Set by `Shards::from_tables`, never
    /// changed.
    slot_column: usize,
    len: AtomicUsize,
    table: UnsafeCell<Table<K, V>>,
    /// Where the table is, for the prefetch before the lock (`prefetch.rs`).
    hint: OwnLine<ProbeHint>,
}

/// A value aligned to start a cache line (64 bytes, the line of the x86 and ARM cores this is
/// tuned on).
#[repr(align(64))]
struct OwnLine<T>(T);

impl<T> core::ops::Deref for OwnLine<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

// SAFETY: `&Shard` lets threads insert and remove pairs (moving them across threads: `Send`) and
// read them concurrently (`Sync`); the lock serializes every mutation. `Send` is automatic.
unsafe impl<K: Send + Sync, V: Send + Sync> Sync for Shard<K, V> {}

impl<K, V> Shard<K, V> {
    /// A shard holding `table`, with reader slots at `slot_column` of its map's table. Its
    /// readers start on the lock word; after a run of reads with no write they move to their
    /// reader slots (the map's slot table is allocated then, so a map that is never read that way
    /// stays small).
    fn from_table(table: Table<K, V>, slot_column: usize) -> Self {
        let hint = ProbeHint::new();
        hint.refresh(&table);
        Self {
            lock: RawRwLock::new(),
            slot_column,
            len: AtomicUsize::new(table.len()),
            table: UnsafeCell::new(table),
            hint: OwnLine(hint),
        }
    }

    /// The number of entries, without locking (a snapshot: exact when no writer is active).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// (acquisitions that had to wait, parks) of this shard's lock (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) fn lock_counters(&self) -> (usize, usize) {
        self.lock.counters()
    }

    /// The table through `&mut self` (no lock is needed), behind a guard that re-syncs the entry
    /// counter when it drops: the only way to change a table without its lock.
    #[cfg(feature = "rayon")]
    #[inline]
    pub(crate) fn exclusive(&mut self) -> TableMut<'_, K, V> {
        TableMut {
            table: self.table.get_exclusive(),
            len: &self.len,
        }
    }

    /// The table through `&mut self`. Private: callers go through [`TableMut`] or
    /// [`TablesMut`], which call `sync_len` when they drop.
    #[inline]
    fn table_mut(&mut self) -> &mut Table<K, V> {
        self.table.get_exclusive()
    }

    /// Re-establishes `len == table.len()` after changes made through `table_mut`, and the
    /// probe hint (the table may have been replaced by one of the same size).
    fn sync_len(&mut self) {
        let table = self.table.get_exclusive();
        self.len.store(table.len(), Ordering::Relaxed);
        self.hint.refresh(table);
    }

    pub(crate) fn into_table(self) -> Table<K, V> {
        self.table.into_inner()
    }
}

/// One shard's table through `&mut` (from [`Shard::exclusive`]): no lock is taken, and the
/// shard's entry counter is re-synced when this drops, also during unwinding.
#[cfg(feature = "rayon")]
pub(crate) struct TableMut<'a, K, V> {
    table: &'a mut Table<K, V>,
    len: &'a AtomicUsize,
}

#[cfg(feature = "rayon")]
impl<K, V> core::ops::Deref for TableMut<'_, K, V> {
    type Target = Table<K, V>;
    #[inline]
    fn deref(&self) -> &Table<K, V> {
        self.table
    }
}

#[cfg(feature = "rayon")]
impl<K, V> core::ops::DerefMut for TableMut<'_, K, V> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Table<K, V> {
        self.table
    }
}

#[cfg(feature = "rayon")]
impl<K, V> Drop for TableMut<'_, K, V> {
    fn drop(&mut self) {
        self.len.store(self.table.len(), Ordering::Relaxed);
    }
}

/// Every shard's table of a map through `&mut` (no lock is taken); every shard's entry counter
/// is re-synced when this drops, also during unwinding.
pub(crate) struct TablesMut<'a, K, V>(&'a mut [PaddedShard<K, V>]);

impl<'a, K, V> TablesMut<'a, K, V> {
    pub(crate) fn new(shards: &'a mut [PaddedShard<K, V>]) -> Self {
        Self(shards)
    }

    /// The number of shards.
    #[cfg(feature = "raw-api")]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Shard `index`'s table, or `None` if there is no such shard.
    #[inline]
    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Table<K, V>> {
        self.0.get_mut(index).map(|s| s.table_mut())
    }

    /// Every table, in shard order.
    #[cfg(feature = "raw-api")]
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Table<K, V>> + '_ {
        self.0.iter_mut().map(|s| s.table_mut())
    }
}

impl<K, V> Drop for TablesMut<'_, K, V> {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|s| s.sync_len());
    }
}

impl<K, V> fmt::Debug for Shard<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shard").field("len", &self.len()).finish()
    }
}

/// A map's shards and their reader slots, paired here and nowhere else: shard `i` uses column
/// `i` of the slot table. This is the only maker of [`ShardRef`] (whose fields and constructor
/// are private to this module), so no safe code can hand a lock another lock's slots, which
/// `RawRwLock`'s `unsafe` methods require. The invariant is established in `from_tables` (one
/// slot column per shard, made together and stored in the shard) and cannot change: the fields
/// are private and the shard array is never resized.
///
/// The shard count is a power of two, at least 2, and `shift` is `64 - log2(count)`, so
/// [`for_hash`](Self::for_hash)'s index is always in bounds (it skips the check).
pub(crate) struct Shards<K, V> {
    shards: Box<[PaddedShard<K, V>]>,
    readers: ReaderSlots,
    shift: u32,
}

impl<K, V> Shards<K, V> {
    /// One shard per table, each with its own column of a new reader-slot table.
    ///
    /// # Panics
    /// If the number of tables is not a power of two of at least 2.
    pub(crate) fn from_tables(tables: impl IntoIterator<Item = Table<K, V>>) -> Self {
        let tables: Vec<Table<K, V>> = tables.into_iter().collect();
        assert!(
            tables.len() >= 2 && tables.len().is_power_of_two(),
            "a map needs a power-of-two number of shards, at least 2 (got {})",
            tables.len()
        );
        let readers = ReaderSlots::new(tables.len());
        let shards: Box<[PaddedShard<K, V>]> = tables
            .into_iter()
            .enumerate()
            .map(|(i, t)| CachePadded::new(Shard::from_table(t, readers.of(i).column())))
            .collect();
        let shift = shift_for(shards.len());
        Self {
            shards,
            readers,
            shift,
        }
    }

    /// `64 - log2(len())`: what [`shard_index`] shifts by.
    #[inline]
    pub(crate) fn shift(&self) -> u32 {
        self.shift
    }

    /// The index of the shard for a mixed hash (always below [`len`](Self::len)).
    #[inline]
    pub(crate) fn index_of(&self, hash: u64) -> usize {
        shard_index(hash, self.shift)
    }

    /// The shard for a mixed hash, with its own slots.
    #[inline]
    pub(crate) fn for_hash(&self, hash: u64) -> ShardRef<'_, K, V> {
        let index = self.index_of(hash);
        debug_assert!(index < self.shards.len());
        // SAFETY: `shard_index` keeps `64 - shift = log2(len)` bits of the hash (`len` is a
        // power of two of at least 2, so `shift` is below 64), so `index < len`.
        let shard = unsafe { self.shards.get_unchecked(index) };
        // Every caller probes the table for this hash next, after taking the lock.
        shard.hint.prefetch::<K, V>(hash);
        self.pair(index, shard)
    }

    /// Shard `index` with its own slots.
    #[inline]
    fn pair<'a>(&'a self, index: usize, shard: &'a PaddedShard<K, V>) -> ShardRef<'a, K, V> {
        ShardRef {
            shard,
            // SAFETY: `slot_column` was set from `self.readers.of(index)` in `from_tables`.
            slots: unsafe { self.readers.with_column(index, shard.slot_column) },
        }
    }

    /// The number of shards.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.shards.len()
    }

    /// Shard `index` with its own slots.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> ShardRef<'_, K, V> {
        self.pair(index, &self.shards[index])
    }

    /// Every shard in order, each with its own slots.
    pub(crate) fn iter(&self) -> ShardRefs<'_, K, V> {
        ShardRefs {
            shards: self.shards.iter().enumerate(),
            owner: self,
        }
    }

    /// The shards for lock-free snapshots (`len`, counters): `&Shard` cannot lock.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[PaddedShard<K, V>] {
        &self.shards
    }

    /// The shards through `&mut` (no lock needed): their tables are reached only through
    /// [`TableMut`] / [`TablesMut`], which re-sync the entry counters.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [PaddedShard<K, V>] {
        &mut self.shards
    }

    /// The tables, in shard order.
    pub(crate) fn into_tables(self) -> Vec<Table<K, V>> {
        self.shards
            .into_vec()
            .into_iter()
            .map(|s| s.into_inner().into_table())
            .collect()
    }

    /// Bytes on the heap for the shard array and the reader-slot table (feature `typesize`).
    #[cfg(feature = "typesize")]
    pub(crate) fn heap_size(&self) -> usize {
        core::mem::size_of_val(&*self.shards) + self.readers.heap_size()
    }
}

/// A shard together with its reader slots: what every lock operation needs. Only [`Shards`]
/// makes them (maps hand them out through `ShardedMap::shard_for` and `ShardedMap::shard_refs`).
pub(crate) struct ShardRef<'a, K, V> {
    shard: &'a Shard<K, V>,
    slots: Slots<'a>,
}

impl<K, V> Clone for ShardRef<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for ShardRef<'_, K, V> {}

impl<'a, K, V> ShardRef<'a, K, V> {
    /// The shard's entry count, without locking (a snapshot).
    #[cfg(feature = "raw-api")]
    #[inline]
    pub(crate) fn len(self) -> usize {
        self.shard.len()
    }

    /// Locks the shard for reading for `site`, blocking while a writer holds it. The guard must
    /// be dropped on this thread (it is recorded as a pinned hold for the deadlock check,
    /// `deadlock.rs`).
    ///
    /// # Panics
    /// With the deadlock check, if this thread holds the shard exclusively (waiting would never
    /// end).
    #[inline]
    #[cfg_attr(deadlock_check, track_caller)]
    pub(crate) fn read(self, site: Site) -> ReadGuard<'a, K, V> {
        let token = Token::checked_pinned(self.slots, false, site);
        // SAFETY (both): `self.slots` are this shard's own (`Shards::get` pairs them); `hold` is
        // a shared hold of this shard's lock, as `ReadGuard::new` requires.
        let hold = unsafe { self.shard.lock.lock_shared(self.slots) };
        unsafe { ReadGuard::new(self.shard, hold, token) }
    }

    /// Like [`read`](Self::read), for a guard that may be dropped on another thread (iterators
    /// and their items): checked, and recorded as a movable hold.
    #[inline]
    #[cfg_attr(deadlock_check, track_caller)]
    pub(crate) fn read_movable(self, site: Site) -> ReadGuard<'a, K, V> {
        let token = Token::checked_movable(self.slots, false, site);
        // SAFETY (both): `self.slots` are this shard's own (`Shards::get` pairs them); `hold` is
        // a shared hold of this shard's lock, as `ReadGuard::new` requires.
        let hold = unsafe { self.shard.lock.lock_shared(self.slots) };
        unsafe { ReadGuard::new(self.shard, hold, token) }
    }

    /// Locks the shard for reading if no writer holds it; never blocks. Recorded like `read`.
    #[inline]
    #[cfg_attr(deadlock_check, track_caller)]
    pub(crate) fn try_read(self, site: Site) -> Option<ReadGuard<'a, K, V>> {
        // SAFETY (both): `self.slots` are this shard's own (`Shards::get` pairs them); `hold` is
        // a shared hold of this shard's lock, as `ReadGuard::new` requires.
        let hold = unsafe { self.shard.lock.try_lock_shared(self.slots) }?;
        Some(unsafe { ReadGuard::new(self.shard, hold, Token::pinned(self.slots, false, site)) })
    }

    /// Locks the shard for writing for `site`, blocking while anyone holds it. The guard must be
    /// dropped on this thread (it is recorded as a pinned hold for the deadlock check).
    ///
    /// # Panics
    /// With the deadlock check, if this thread holds the shard in any mode (waiting would never
    /// end).
    #[inline]
    #[cfg_attr(deadlock_check, track_caller)]
    pub(crate) fn write(self, site: Site) -> WriteGuard<'a, K, V> {
        let token = Token::checked_pinned(self.slots, true, site);
        // SAFETY: `self.slots` are this shard's own (`Shards::get` pairs them).
        unsafe { self.shard.lock.lock_exclusive(self.slots) };
        // SAFETY: the exclusive lock was just taken, as required.
        unsafe { WriteGuard::new(self.shard, token) }
    }

    /// Like [`write`](Self::write), for a guard that may be dropped on another thread
    /// (iterators, their items, `get_disjoint_mut`): checked, and recorded as a movable hold.
    #[inline]
    #[cfg_attr(deadlock_check, track_caller)]
    pub(crate) fn write_movable(self, site: Site) -> WriteGuard<'a, K, V> {
        let token = Token::checked_movable(self.slots, true, site);
        // SAFETY: `self.slots` are this shard's own (`Shards::get` pairs them).
        unsafe { self.shard.lock.lock_exclusive(self.slots) };
        // SAFETY: the exclusive lock was just taken, as required.
        unsafe { WriteGuard::new(self.shard, token) }
    }

    /// Locks the shard for writing if nobody holds it; never blocks. Recorded like `write`.
    #[inline]
    #[cfg_attr(deadlock_check, track_caller)]
    pub(crate) fn try_write(self, site: Site) -> Option<WriteGuard<'a, K, V>> {
        // SAFETY: `self.slots` are this shard's own (`Shards::get` pairs them).
        if !unsafe { self.shard.lock.try_lock_exclusive(self.slots) } {
            return None;
        }
        // SAFETY: the exclusive lock was just taken, as required.
        Some(unsafe { WriteGuard::new(self.shard, Token::pinned(self.slots, true, site)) })
    }
}

/// The shards of a map in order, each with its reader slots.
pub(crate) struct ShardRefs<'a, K, V> {
    shards: core::iter::Enumerate<core::slice::Iter<'a, PaddedShard<K, V>>>,
    owner: &'a Shards<K, V>,
}

impl<K, V> Clone for ShardRefs<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            shards: self.shards.clone(),
            owner: self.owner,
        }
    }
}

impl<'a, K, V> Iterator for ShardRefs<'a, K, V> {
    type Item = ShardRef<'a, K, V>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (index, shard) = self.shards.next()?;
        Some(self.owner.pair(index, shard))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.shards.size_hint()
    }
}

impl<K, V> ExactSizeIterator for ShardRefs<'_, K, V> {}

/// A shared lock on one shard. Dereferences to the table.
pub(crate) struct ReadGuard<'a, K, V> {
    /// Marks the access for loom; dropped before the unlock.
    table: ManuallyDrop<ConstPtr<Table<K, V>>>,
    shard: &'a Shard<K, V>,
    /// The hold the guard gives back when it drops (taken out of the `ManuallyDrop` there).
    hold: ManuallyDrop<ReadHold<'a>>,
    /// The hold's record for the debug-build deadlock check; removed after the unlock.
    held: Token,
}

// SAFETY: a read guard lends out `&K` and `&V` only (so `K: Sync, V: Sync` for either trait); the
// lock may be released from any thread.
unsafe impl<K: Sync, V: Sync> Send for ReadGuard<'_, K, V> {}
// SAFETY: as above.
unsafe impl<K: Sync, V: Sync> Sync for ReadGuard<'_, K, V> {}

impl<'a, K, V> ReadGuard<'a, K, V> {
    /// # Safety
    /// `hold` is a shared hold of `shard`'s lock; the guard owns it from now on.
    #[inline]
    unsafe fn new(shard: &'a Shard<K, V>, hold: ReadHold<'a>, held: Token) -> Self {
        Self {
            table: ManuallyDrop::new(shard.table.get()),
            shard,
            hold: ManuallyDrop::new(hold),
            held,
        }
    }

    /// The table for the shard's whole lifetime `'a`.
    ///
    /// # Safety
    /// The reference must not be used after this guard is dropped.
    #[inline]
    unsafe fn table_unbounded(&self) -> &'a Table<K, V> {
        // SAFETY: the shared lock is held, as required, so no exclusive access overlaps; the table
        // lives in the shard, which outlives `'a`; the caller keeps the use within the guard.
        unsafe { &*ptr::from_ref(ConstPtr::deref(&self.table)) }
    }
}

impl<K, V> core::ops::Deref for ReadGuard<'_, K, V> {
    type Target = Table<K, V>;
    #[inline]
    fn deref(&self) -> &Table<K, V> {
        // SAFETY: the shared lock is held, as required, for the lifetime of `&self`.
        unsafe { ConstPtr::deref(&self.table) }
    }
}

impl<K, V> Drop for ReadGuard<'_, K, V> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: 1. the access marker is not used again; 2. the guard owns this shared hold of
        // the shard's lock, and `drop` runs once, so the hold is taken out and given back once.
        unsafe {
            ManuallyDrop::drop(&mut self.table);
            self.shard
                .lock
                .unlock_shared(ManuallyDrop::take(&mut self.hold));
        }
    }
}

/// An exclusive lock on one shard. Dereferences to the table; refreshes the shard's entry
/// counter when it drops.
pub(crate) struct WriteGuard<'a, K, V> {
    /// Marks the access for loom; dropped before the unlock.
    table: ManuallyDrop<MutPtr<Table<K, V>>>,
    shard: &'a Shard<K, V>,
    /// The hold's record for the debug-build deadlock check; removed after the unlock.
    held: Token,
}

// SAFETY: through a write guard pairs are moved in and out (`Send`) and lent out by reference
// (`Sync`); the lock may be released from any thread.
unsafe impl<K: Send + Sync, V: Send + Sync> Send for WriteGuard<'_, K, V> {}
// SAFETY: `&WriteGuard` only lends `&K` and `&V`.
unsafe impl<K: Sync, V: Sync> Sync for WriteGuard<'_, K, V> {}

impl<'a, K, V> WriteGuard<'a, K, V> {
    /// # Safety
    /// The caller holds `shard`'s lock exclusively and hands that hold to the guard.
    #[inline]
    unsafe fn new(shard: &'a Shard<K, V>, held: Token) -> Self {
        Self {
            table: ManuallyDrop::new(shard.table.get_mut()),
            shard,
            held,
        }
    }

    /// The table, exclusively, for the shard's whole lifetime `'a`.
    ///
    /// # Safety
    /// The reference must not be used after this guard is dropped, and no other reference to the
    /// table may be created from this guard while it is in use.
    #[inline]
    unsafe fn table_unbounded(&mut self) -> &'a mut Table<K, V> {
        // SAFETY: the exclusive lock is held, as required; the table lives in the shard, which
        // outlives `'a`; the caller keeps the use within the guard and unique.
        unsafe { &mut *ptr::from_mut(MutPtr::deref(&self.table)) }
    }

    /// Turns the exclusive lock into a shared one; no writer can get in between.
    pub(crate) fn downgrade(self) -> ReadGuard<'a, K, V> {
        let mut this = ManuallyDrop::new(self);
        this.shard.len.store(this.len(), Ordering::Relaxed);
        let shard = this.shard;
        // The record moves to the new guard (`this` is never dropped, so it must not keep it).
        let mut held = core::mem::replace(&mut this.held, Token::none());
        held.downgrade();
        // SAFETY: 1. the access marker is not used again (`this` is never dropped); 2. the guard
        // owns the exclusive hold, which `downgrade` turns into the shared hold the new guard owns.
        unsafe {
            ManuallyDrop::drop(&mut this.table);
            let hold = shard.lock.downgrade();
            ReadGuard::new(shard, hold, held)
        }
    }
}

impl<K, V> core::ops::Deref for WriteGuard<'_, K, V> {
    type Target = Table<K, V>;
    #[inline]
    fn deref(&self) -> &Table<K, V> {
        // SAFETY: the exclusive lock is held, as required, so nothing else accesses the table;
        // `&self` allows only shared use, so the reference is made shared from the raw pointer
        // (never a `&mut` from `&self`: two shared derefs of one guard must not alias `&mut`s).
        unsafe { &*self.table.with(|p| p.cast_const()) }
    }
}

impl<K, V> core::ops::DerefMut for WriteGuard<'_, K, V> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Table<K, V> {
        // SAFETY: the exclusive lock is held, as required; `&mut self` makes the borrow unique.
        unsafe { MutPtr::deref(&self.table) }
    }
}

impl<K, V> Drop for WriteGuard<'_, K, V> {
    #[inline]
    fn drop(&mut self) {
        self.shard.len.store(self.len(), Ordering::Relaxed);
        let table: &Table<K, V> = self;
        self.shard.hint.refresh_if_moved(table);
        // SAFETY: 1. the access marker is not used again; 2. the guard owns the exclusive hold.
        unsafe {
            ManuallyDrop::drop(&mut self.table);
            self.shard.lock.unlock_exclusive();
        }
    }
}

/// A guard that element handles keep alive; using a handle "touches" its guard, so the deadlock
/// check knows which thread uses a hold that may have moved (`deadlock::Token::touch`).
pub(crate) trait Hold {
    /// Notes that the current thread uses this hold (nothing in builds without the check).
    fn touch(&self);
}

impl<K, V> Hold for ReadGuard<'_, K, V> {
    #[inline(always)]
    fn touch(&self) {
        self.held.touch();
    }
}

impl<K, V> Hold for WriteGuard<'_, K, V> {
    #[inline(always)]
    fn touch(&self) {
        self.held.touch();
    }
}

impl<G: Hold> Hold for Arc<G> {
    #[inline(always)]
    fn touch(&self) {
        G::touch(self);
    }
}

/// A zero-sized marker that is `Sync` but not `Send`. Single-key guards carry it, so the
/// compiler's error for sending one (or holding one across `.await` in a spawned task) names it:
/// the pointer inside points to the marker's own type, and rustc reports "`Send` is not
/// implemented for `*const sharded_map::raw::shard::SingleKeyGuardsAreNotSend`".
pub(crate) struct SingleKeyGuardsAreNotSend(PhantomData<*const SingleKeyGuardsAreNotSend>);

// SAFETY: the marker holds no data; only `Send` is withheld, on purpose.
unsafe impl Sync for SingleKeyGuardsAreNotSend {}

/// A shared handle on one entry: a key, a value of type `T` reached from the entry (the value
/// itself, or something inside it after `map`), and the guard `G` that keeps them locked.
///
/// `G` is a [`ReadGuard`] for single-key guards, or an `Arc` of one for iteration items.
pub(crate) struct ElemRef<G, K, T: ?Sized> {
    key: NonNull<K>,
    value: NonNull<T>,
    guard: G,
}

// SAFETY: the handle lends out `&K` and `&T` (so `Sync` bounds for both traits) and owns `G`.
unsafe impl<G: Send, K: Sync, T: ?Sized + Sync> Send for ElemRef<G, K, T> {}
// SAFETY: as above.
unsafe impl<G: Sync, K: Sync, T: ?Sized + Sync> Sync for ElemRef<G, K, T> {}

impl<'a, K, V> ElemRef<ReadGuard<'a, K, V>, K, V> {
    /// Points at the entry `locate` finds in the guarded table, or gives the guard back.
    #[inline]
    pub(crate) fn new(
        guard: ReadGuard<'a, K, V>,
        locate: impl FnOnce(&Table<K, V>) -> Option<&(K, V)>,
    ) -> Result<Self, ReadGuard<'a, K, V>> {
        match locate(&guard) {
            Some((k, v)) => Ok(Self {
                key: NonNull::from(k),
                value: NonNull::from(v),
                guard,
            }),
            None => Err(guard),
        }
    }
}

impl<G: Hold, K, T: ?Sized> ElemRef<G, K, T> {
    #[inline]
    pub(crate) fn key(&self) -> &K {
        self.guard.touch();
        // SAFETY: `key` points into the table that `guard` keeps locked (shared) and unchanged
        // for as long as `self` lives.
        unsafe { self.key.as_ref() }
    }

    #[inline]
    pub(crate) fn value(&self) -> &T {
        self.guard.touch();
        // SAFETY: as for `key`.
        unsafe { self.value.as_ref() }
    }

    /// Narrows the value to a part of it.
    #[inline]
    pub(crate) fn map<U: ?Sized>(self, f: impl FnOnce(&T) -> &U) -> ElemRef<G, K, U> {
        let value = NonNull::from(f(self.value()));
        ElemRef {
            key: self.key,
            value,
            guard: self.guard,
        }
    }

    /// Narrows the value to a part of it, if `f` finds one.
    #[inline]
    pub(crate) fn try_map<U: ?Sized>(
        self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<ElemRef<G, K, U>, Self> {
        match f(self.value()).map(NonNull::from) {
            Some(value) => Ok(ElemRef {
                key: self.key,
                value,
                guard: self.guard,
            }),
            None => Err(self),
        }
    }
}

/// An exclusive handle on one entry: like [`ElemRef`], but the value may be mutated. The key is
/// only ever lent out shared, so the table's hashing invariant holds.
pub(crate) struct ElemMut<G, K, T: ?Sized> {
    key: NonNull<K>,
    value: NonNull<T>,
    guard: G,
}

// SAFETY: the handle lends out `&K` (`Sync`) and `&mut T` (`Send`; `Sync` through `&self`).
unsafe impl<G: Send, K: Sync, T: ?Sized + Send + Sync> Send for ElemMut<G, K, T> {}
// SAFETY: `&ElemMut` lends out `&K` and `&T` only.
unsafe impl<G: Sync, K: Sync, T: ?Sized + Sync> Sync for ElemMut<G, K, T> {}

impl<'a, K, V> ElemMut<WriteGuard<'a, K, V>, K, V> {
    /// Points at the entry `locate` finds in the guarded table, or gives the guard back.
    #[inline]
    pub(crate) fn new(
        mut guard: WriteGuard<'a, K, V>,
        locate: impl FnOnce(&mut Table<K, V>) -> Option<&mut (K, V)>,
    ) -> Result<Self, WriteGuard<'a, K, V>> {
        match locate(&mut guard).map(split) {
            Some((key, value)) => Ok(Self { key, value, guard }),
            None => Err(guard),
        }
    }
}

impl<'a, K, V, T: ?Sized> ElemMut<WriteGuard<'a, K, V>, K, T> {
    /// Keeps the entry but turns the exclusive lock into a shared one.
    pub(crate) fn downgrade(self) -> ElemRef<ReadGuard<'a, K, V>, K, T> {
        ElemRef {
            key: self.key,
            value: self.value,
            guard: self.guard.downgrade(),
        }
    }
}

impl<G: Hold, K, T: ?Sized> ElemMut<G, K, T> {
    #[inline]
    pub(crate) fn key(&self) -> &K {
        self.guard.touch();
        // SAFETY: `key` points into the table that `guard` keeps locked exclusively; the key is
        // never lent out mutably, so shared borrows of it cannot conflict.
        unsafe { self.key.as_ref() }
    }

    #[inline]
    pub(crate) fn value(&self) -> &T {
        self.guard.touch();
        // SAFETY: as for `key`; `&self` excludes `value_mut` for the borrow's lifetime.
        unsafe { self.value.as_ref() }
    }

    #[inline]
    pub(crate) fn value_mut(&mut self) -> &mut T {
        self.guard.touch();
        // SAFETY: the exclusive lock is held and this handle is the only one for its entry;
        // `&mut self` makes the borrow unique.
        unsafe { self.value.as_mut() }
    }

    #[inline]
    pub(crate) fn pair_mut(&mut self) -> (&K, &mut T) {
        self.guard.touch();
        // SAFETY: key and value are disjoint fields of one entry; see `key` and `value_mut`.
        unsafe { (self.key.as_ref(), self.value.as_mut()) }
    }

    #[inline]
    pub(crate) fn map<U: ?Sized>(mut self, f: impl FnOnce(&mut T) -> &mut U) -> ElemMut<G, K, U> {
        let value = NonNull::from(f(self.value_mut()));
        ElemMut {
            key: self.key,
            value,
            guard: self.guard,
        }
    }

    #[inline]
    pub(crate) fn try_map<U: ?Sized>(
        mut self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<ElemMut<G, K, U>, Self> {
        match f(self.value_mut()).map(NonNull::from) {
            Some(value) => Ok(ElemMut {
                key: self.key,
                value,
                guard: self.guard,
            }),
            None => Err(self),
        }
    }
}

/// An exclusive handle on one entry that shares its shard's write guard with other handles
/// (items of `iter_mut`, guards of `get_disjoint_mut`).
pub(crate) type SharedElemMut<'a, K, V> = ElemMut<Arc<WriteGuard<'a, K, V>>, K, V>;

/// Splits one entry into disjoint key and value pointers.
#[inline]
fn split<K, V>(entry: &mut (K, V)) -> (NonNull<K>, NonNull<V>) {
    let (k, v) = entry;
    (NonNull::from(k), NonNull::from(v))
}

/// The entries of one shard under a shared lock; items share the lock through an `Arc`, so they
/// may outlive the iterator (as DashMap's do).
pub(crate) struct ShardIter<'a, K, V> {
    // Declared before `guard`: dropped while the lock is still held.
    iter: hash_table::Iter<'a, (K, V)>,
    guard: Arc<ReadGuard<'a, K, V>>,
}

/// A clone continues from the same position and shares the lock (one more holder of the `Arc`).
impl<K, V> Clone for ShardIter<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            iter: self.iter.clone(),
            guard: Arc::clone(&self.guard),
        }
    }
}

impl<'a, K, V> ShardIter<'a, K, V> {
    pub(crate) fn new(guard: ReadGuard<'a, K, V>) -> Self {
        // SAFETY: the iterator is stored beside the guard's `Arc` and dropped first (field
        // order); items keep their own clone of the `Arc`.
        let iter = unsafe { guard.table_unbounded() }.iter();
        Self {
            iter,
            guard: Arc::new(guard),
        }
    }
}

impl<'a, K, V> Iterator for ShardIter<'a, K, V> {
    type Item = ElemRef<Arc<ReadGuard<'a, K, V>>, K, V>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (k, v) = self.iter.next()?;
        self.guard.touch();
        Some(ElemRef {
            key: NonNull::from(k),
            value: NonNull::from(v),
            guard: Arc::clone(&self.guard),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

/// The entries of one shard under an exclusive lock, shared by the yielded items through an
/// `Arc`. Each item is the only handle on its entry.
pub(crate) struct ShardIterMut<'a, K, V> {
    // Declared before `guard`: dropped while the lock is still held.
    iter: hash_table::IterMut<'a, (K, V)>,
    guard: Arc<WriteGuard<'a, K, V>>,
}

impl<'a, K, V> ShardIterMut<'a, K, V> {
    pub(crate) fn new(mut guard: WriteGuard<'a, K, V>) -> Self {
        // SAFETY: the iterator is stored beside the guard's `Arc` and dropped first (field
        // order); the guard is never dereferenced again until it drops, so this borrow is the
        // only one; items keep their own clone of the `Arc`.
        let iter = unsafe { guard.table_unbounded() }.iter_mut();
        Self {
            iter,
            guard: Arc::new(guard),
        }
    }
}

impl<'a, K, V> Iterator for ShardIterMut<'a, K, V> {
    type Item = SharedElemMut<'a, K, V>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = split(self.iter.next()?);
        self.guard.touch();
        Some(ElemMut {
            key,
            value,
            guard: Arc::clone(&self.guard),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

/// Exclusive handles on the entries that `eq` picks out of one locked shard, for
/// `ShardedMap::get_disjoint_mut`: slot `i` of `out` gets the entry whose hash is `hashes[i]` and
/// for which `eq(i, entry)` holds, if any. The handles share `guard` through an `Arc`, so the
/// shard stays locked until the last of them drops (at once, if none was found).
///
/// # Panics
/// If two slots pick the same entry, with a message naming both slots; the guard is released.
pub(crate) fn disjoint_mut<'a, K, V, const N: usize>(
    mut guard: WriteGuard<'a, K, V>,
    hashes: [u64; N],
    mut eq: impl FnMut(usize, &(K, V)) -> bool,
    out: &mut [Option<SharedElemMut<'a, K, V>>; N],
) {
    // Find first with shared probes only, to name a repeated key before hashbrown's
    // `get_disjoint_mut` (which panics without saying which).
    let mut found: [Option<*const (K, V)>; N] = [None; N];
    for (i, slot) in found.iter_mut().enumerate() {
        *slot = guard.find(hashes[i], |e| eq(i, e)).map(ptr::from_ref);
    }
    for i in 0..N {
        for j in i + 1..N {
            if found[i].is_some() && found[i] == found[j] {
                panic!(
                    "sharded-map: get_disjoint_mut: keys {i} and {j} are the same key; each \
                     key may appear once (like std's HashMap::get_disjoint_mut)"
                );
            }
        }
    }
    let entries = guard.get_disjoint_mut(hashes, eq).map(|e| e.map(split));
    // Invariant of `ElemMut` (what its unsafe accessors rely on): each handle points at a
    // distinct entry (hashbrown checked it) of the table `guard` keeps locked exclusively, and
    // from here on the table is reached only through these handles (the `Arc` lends the guard
    // out shared, and nothing here dereferences it again).
    let guard = Arc::new(guard);
    for (slot, entry) in out.iter_mut().zip(entries) {
        if let Some((key, value)) = entry {
            *slot = Some(ElemMut {
                key,
                value,
                guard: Arc::clone(&guard),
            });
        }
    }
}

/// Replaces every value `v` with `f(&k, v)`, in place (no rehash).
///
/// If `f` panics, the entry it was given is removed (its value was moved into `f` and is gone),
/// every other entry stays, and the panic resumes after the table is consistent again.
pub(crate) fn alter_all_in<K, V>(table: &mut Table<K, V>, mut f: impl FnMut(&K, V) -> V) {
    let mut panic = None;
    let failed = table.extract_if(|entry| {
        if panic.is_some() {
            return false;
        }
        let (k, v) = entry;
        // SAFETY: the value is moved out and, unless `f` panics, a new one is written back before
        // anything else can observe the slot. If `f` panics the entry is extracted (returned
        // `true`) and its stale value is forgotten below, so it is never read or dropped again.
        let old = unsafe { ptr::read(v) };
        match catch_unwind(AssertUnwindSafe(|| f(k, old))) {
            Ok(new) => {
                // SAFETY: the slot holds a moved-out value; writing does not drop it.
                unsafe { ptr::write(v, new) };
                false
            }
            Err(payload) => {
                panic = Some(payload);
                true
            }
        }
    });
    for (key, stale_value) in failed {
        core::mem::forget(stale_value);
        drop(key);
    }
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn hash_of(key: u64) -> u64 {
        key.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// The `(ctrl, mask)` a hint should hold for `table`, from one of its elements.
    fn expected_hint(table: &Table<u64, u64>) -> (usize, usize) {
        let index = table.iter_buckets().next().expect("a table with elements");
        let element = table.get_bucket(index).unwrap() as *const (u64, u64) as usize;
        let size = core::mem::size_of::<(u64, u64)>();
        (element + (index + 1) * size, table.num_buckets() - 1)
    }

    /// The hint that `for_hash` prefetches through follows the shard's table: learned by the
    /// first write that leaves the shard non-empty, and again by every write that grows it.
    #[test]
    fn write_guards_keep_the_probe_hint_on_the_table() {
        let shards: Shards<u64, u64> = Shards::from_tables((0..2).map(|_| Table::new()));
        let shard = shards.get(0);
        assert_eq!(
            shard.shard.hint.learned(),
            None,
            "an empty table teaches nothing"
        );
        let mut masks = Vec::new();
        let keys = if cfg!(miri) { 200 } else { 2_000 };
        for key in 0..keys {
            let mut table = shard.write(Site::new("test"));
            table.insert_unique(hash_of(key), (key, key), |&(k, _)| hash_of(k));
            drop(table);
            let table = shard.read(Site::new("test"));
            assert_eq!(
                shard.shard.hint.learned(),
                Some(expected_hint(&table)),
                "after inserting key {key}"
            );
            masks.push(table.num_buckets());
        }
        masks.dedup();
        assert!(masks.len() > 4, "the table grew several times: {masks:?}");
    }

    /// A map built from filled tables (the parallel build, conversions) prefetches from the
    /// start.
    #[test]
    fn shards_built_from_filled_tables_start_with_their_hints() {
        let tables = (0..2).map(|shard| {
            let mut table = Table::new();
            for key in (0..500).filter(|k| k % 2 == shard) {
                table.insert_unique(hash_of(key), (key, key), |&(k, _)| hash_of(k));
            }
            table
        });
        let shards: Shards<u64, u64> = Shards::from_tables(tables);
        for shard in shards.iter() {
            let table = shard.read(Site::new("test"));
            assert_eq!(shard.shard.hint.learned(), Some(expected_hint(&table)));
        }
    }
}
