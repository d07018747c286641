//! The shard lock: a reader-preferring reader-writer lock in one atomic word, with per-thread
//! reader slots that let reads of a read-mostly lock write nothing shared.
//!
//! # Algorithm
//!
//! A counting reader-writer lock in the style of `parking_lot::RawRwLock`, simplified to a
//! reader-preferring policy: the uncontended paths are one atomic read-modify-write each, a
//! contended thread spins a bounded number of times and then parks on the state word's address
//! (through [`crate::sync::Parker`]); an unlock that sees [`PARKED`] wakes every parked thread and
//! lets them race again.
//!
//! On top of it, a biased read path after BRAVO (Dice and Kogan, 2019): while the word shows
//! [`BIAS`], a reader marks its own byte in a [`ReaderSlots`] table (one row of cache lines per
//! thread, one byte per lock) instead of adding to the shared word, so readers on different cores
//! write different cache lines. A writer that finds `BIAS` scans the lock's byte in every row
//! before it proceeds, and clears `BIAS`, so a lock that is being written pays that scan once.
//! Word-path readers count *ticks*; a run of [`BIAS_AFTER`] reads with no write in between sets
//! `BIAS` again.
//!
//! # State word
//!
//! ```text
//!  usize bits:  [ top 8 (4 on 32-bit) ][ ........ 3 ][   2  ][    1   ][   0    ]
//!               [ ticks               ][ readers    ][ BIAS ][ WRITER ][ PARKED ]
//! ```
//!
//! - [`PARKED`] (bit 0): a thread is parked, or about to park, on this lock. It is set by a waiter
//!   (and re-checked under the parking layer's lock before sleeping); it is cleared only by a
//!   thread that then wakes every parked thread.
//! - [`WRITER`] (bit 1): a writer holds the lock, or is revoking the bias (see below). Never set
//!   while the reader count is non-zero, except transiently (see below).
//! - [`BIAS`] (bit 2): readers may take the lock through their slot.
//! - the reader count (x [`ONE_READER`]) of word-path readers. A reader takes the lock with
//!   `fetch_add(ONE_READER + ONE_TICK)`; if that add finds [`WRITER`] set it gives its count back
//!   (exactly as an unlock would) and waits. So while a writer holds the lock, the count may
//!   briefly include such readers; they never touch the data.
//! - ticks: word-path reads since the last write acquisition, modulo the field's size. A writer's
//!   acquisition resets them; they never affect who holds the lock.
//!
//! # The slot protocol (a Dekker pair)
//!
//! - **Slot reader.** Sees `BIAS` and no `WRITER` (a hint), then `swap(slot, 1, SeqCst)`; if the
//!   slot was free, `load(word, SeqCst)`: still `BIAS` and no `WRITER`, the lock is held shared;
//!   otherwise it frees the slot and takes the word path. Unlock is `store(slot, 0, Release)`.
//!   A slot already taken (a nested read on the same lock, or another thread on the same row)
//!   sends the reader to the word path.
//! - **Writer.** Its acquiring CAS (`SeqCst`) sets `WRITER` and keeps `BIAS`. If `BIAS` was set it
//!   loads the lock's slot in every row (`SeqCst`). All free: it clears `BIAS` and holds the lock.
//!   A slot held: it spins a little on that slot, and then **backs off** (clears `WRITER`, wakes
//!   parked threads), waits until that slot is free and starts over. Backing off is what keeps the
//!   reader-preferring promise: a thread holding a slot that reads the same lock again goes through
//!   the word path, which a backed-off writer does not block.
//! - Because both sides do a `SeqCst` write and then a `SeqCst` load of the other side's
//!   location, the single total order of `SeqCst` operations forbids both loads missing the other
//!   side's write: a reader that validated is seen by every later writer's scan, and a writer that
//!   scanned is seen by every later validation. loom does not model `SeqCst` accesses (it treats
//!   them as `AcqRel`, tokio-rs/loom#180) but does model `SeqCst` fences, so under `--cfg loom`
//!   (and under Miri, whose weak-memory emulation has the same gap for `SeqCst` accesses mixed
//!   with weaker ones, rust-lang/miri#2301) both sides also put a `fence(SeqCst)` between their
//!   two steps ([`dekker_fence`]); with the
//!   fences the same outcome is forbidden by the fence rules, so the models check this very
//!   argument. Natively the fence would be a second full barrier (the probe in
//!   `benches/maps/indicator.rs` measured its cost) and is left out.
//!
//! # Invariants
//!
//! - The lock is held exclusively iff `WRITER` is set and `BIAS` is clear (a writer clears `BIAS`
//!   before it touches the data); shared iff the count is non-zero or a slot of the lock is held
//!   after validation, and `WRITER` is clear.
//! - `BIAS` is cleared only by a writer that holds `WRITER` and saw every slot of the lock free
//!   after setting `WRITER`; it is set only by a word-path reader that holds the lock. So a writer
//!   whose CAS finds `BIAS` clear needs no scan: no validated slot reader can exist.
//! - A thread only parks while it has seen `PARKED` set and the lock held in a mode that excludes
//!   it; the thread that releases that hold sees `PARKED` and wakes it. A writer that backed off
//!   from a slot is not parked: it polls ([`Snooze`]), since a slot is released with a plain store.
//! - Memory ordering: every acquisition is `Acquire` (or `SeqCst`), every release `Release`, so a
//!   reader sees all writes of the writer before it, and a writer sees all reads of earlier readers
//!   completed (through the word, or through the slot it found free).
//!
//! The reader count has 53 bits (21 on 32-bit targets); it cannot overflow in practice (that
//! would take that many live guards on one shard).

use crossbeam_utils::CachePadded;

use crate::sync::{
    dekker_fence, free_slot, thread_number, AtomicU8, AtomicUsize, Ordering, Parker, Snooze, Spin,
};

/// Reader slots per cache block: one block (a cache-padded line) holds the slots of 64 locks.
/// Under loom, 4: small blocks keep the number of loom objects per model small.
const SLOTS_PER_BLOCK: usize = if cfg!(loom) { 4 } else { 64 };

/// The number of reader-slot rows a map gets: about twice the core count, a power of two, at
/// most 64 (so a map on a very large machine stays small; threads then share rows, which is
/// correct, only slower), computed once per process. Under loom, 2: with three threads in a
/// model, two of them share a row, so the shared-row fallback is checked too.
fn reader_rows() -> usize {
    if cfg!(loom) {
        return 2;
    }
    static ROWS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ROWS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (cores * 2).next_power_of_two().clamp(2, 64)
    })
}

/// A thread is parked (or about to park) on the state word.
const PARKED: usize = 0b001;
/// A writer holds the lock (or is revoking the bias).
const WRITER: usize = 0b010;
/// Readers may take the lock through their reader slot.
const BIAS: usize = 0b100;
/// One reader, in the reader count held in bits 3 and up.
const ONE_READER: usize = 0b1000;
/// Bits of the tick field (the top of the word).
const TICK_BITS: u32 = if usize::BITS >= 64 { 8 } else { 4 };
const TICK_SHIFT: u32 = usize::BITS - TICK_BITS;
/// One word-path read, in the tick field.
const ONE_TICK: usize = 1 << TICK_SHIFT;
/// The tick field.
const TICKS: usize = usize::MAX << TICK_SHIFT;
/// The reader-count bits.
const READERS: usize = !(PARKED | WRITER | BIAS | TICKS);
/// Word-path reads in a row (no write between them) after which readers use their slots. Small
/// under loom so that the models reach the biased state with a few reads.
const BIAS_AFTER: usize = if cfg!(loom) { 2 } else { 4 };

const _: () = assert!(ONE_READER == (PARKED | WRITER | BIAS) + 1);
const _: () = assert!(BIAS_AFTER.is_power_of_two() && BIAS_AFTER <= 1 << TICK_BITS);
// `downgrade` turns WRITER into one reader with a single add (BIAS is clear while WRITER is held).
const _: () = assert!(ONE_READER > WRITER);

/// The ordering of the read-lock fast path. `--cfg planted_bug_weak_ordering` weakens it to
/// `Relaxed` (a planted bug: the loom models must catch it; see `loom-tests/`).
const READ_ACQUIRE: Ordering = if cfg!(planted_bug_weak_ordering) {
    Ordering::Relaxed
} else {
    Ordering::Acquire
};

/// A cache-padded block of reader slots: the slots of [`SLOTS_PER_BLOCK`] locks in one row.
type SlotBlock = CachePadded<[AtomicU8; SLOTS_PER_BLOCK]>;

/// The reader slots of a group of locks (a map's shards): a row of cache-padded blocks per
/// thread slot, one byte per lock in each row. A thread uses row `thread number % rows`.
///
/// Size: rows x ceil(locks / 64) x 128 bytes (512 bytes for 8 shards on a 2-core machine).
///
/// [Locking](crate::locking): none (the slots are part of the locks' state).
pub struct ReaderSlots {
    blocks: Box<[SlotBlock]>,
    row_mask: usize,
    blocks_per_row: usize,
    /// This table's map, for the debug-build deadlock check (`deadlock.rs`).
    #[cfg(deadlock_check)]
    map_id: u64,
}

impl ReaderSlots {
    /// Slots for `locks` locks, with the default number of rows (about twice the core count).
    ///
    /// [Locking](crate::locking): none.
    pub fn new(locks: usize) -> Self {
        let rows = reader_rows();
        let blocks_per_row = locks.div_ceil(SLOTS_PER_BLOCK).max(1);
        let blocks = (0..rows * blocks_per_row)
            .map(|_| CachePadded::new(core::array::from_fn(|_| AtomicU8::new(0))))
            .collect();
        Self {
            blocks,
            row_mask: rows - 1,
            blocks_per_row,
            #[cfg(deadlock_check)]
            map_id: crate::deadlock::next_map_id(),
        }
    }

    /// Bytes this table owns on the heap.
    #[cfg(feature = "typesize")]
    pub(crate) fn heap_size(&self) -> usize {
        core::mem::size_of_val(&*self.blocks)
    }

    /// The slots of lock number `index`.
    ///
    /// # Panics
    /// If `index` is not below the `locks` the table was made for (checked in debug builds).
    ///
    /// [Locking](crate::locking): none.
    #[inline]
    pub fn of(&self, index: usize) -> Slots<'_> {
        debug_assert!(index < self.blocks_per_row * SLOTS_PER_BLOCK);
        Slots { table: self, index }
    }

    #[inline]
    fn slot(&self, row: usize, index: usize) -> &AtomicU8 {
        &self.blocks[row * self.blocks_per_row + index / SLOTS_PER_BLOCK][index % SLOTS_PER_BLOCK]
    }
}

impl core::fmt::Debug for ReaderSlots {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReaderSlots")
            .field("rows", &(self.row_mask + 1))
            .field("blocks_per_row", &self.blocks_per_row)
            .finish()
    }
}

/// The reader slots of one lock: its byte in every row of a [`ReaderSlots`] table.
///
/// [Locking](crate::locking): none.
#[derive(Clone, Copy, Debug)]
pub struct Slots<'a> {
    table: &'a ReaderSlots,
    index: usize,
}

impl<'a> Slots<'a> {
    /// The lock's identity in the process: its map's id (never reused) and its shard index.
    #[cfg(deadlock_check)]
    pub(crate) fn lock_id(self) -> (u64, usize) {
        (self.table.map_id, self.index)
    }

    /// The calling thread's slot.
    #[inline]
    fn mine(self) -> &'a AtomicU8 {
        self.table
            .slot(thread_number() & self.table.row_mask, self.index)
    }

    /// The first held slot, if any (`SeqCst` loads: the writer's side of the Dekker pair).
    #[inline]
    fn first_held(self) -> Option<&'a AtomicU8> {
        if cfg!(planted_bug_skip_slot_scan) {
            return None;
        }
        (0..=self.table.row_mask)
            .map(|row| self.table.slot(row, self.index))
            .find(|slot| slot.load(Ordering::SeqCst) != 0)
    }

    /// Whether any slot is held (a racy snapshot, for tests).
    #[cfg(all(test, not(loom)))]
    fn any_held(self) -> bool {
        (0..=self.table.row_mask)
            .any(|row| self.table.slot(row, self.index).load(Ordering::Relaxed) != 0)
    }
}

/// One shared hold of a [`RawRwLock`]: through a reader slot or through the word. Give it back
/// with [`RawRwLock::unlock_shared`].
///
/// [Locking](crate::locking): owns a shared hold.
#[must_use = "a shared hold must be given back with `unlock_shared`"]
#[derive(Debug)]
pub struct ReadHold<'a>(Option<&'a AtomicU8>);

impl ReadHold<'_> {
    /// Whether the hold is through a reader slot (for tests and diagnostics).
    ///
    /// [Locking](crate::locking): none.
    pub fn is_slot(&self) -> bool {
        self.0.is_some()
    }
}

/// A raw reader-writer lock that guards one shard.
///
/// # Policy
///
/// - **Reader-preferring.** A reader gets the lock whenever no writer holds it, even while writers
///   wait. Consequently a thread that already holds a read lock can always take another read lock
///   on the same lock (a thread holding a `Ref` may `get` again from the same shard), and a steady
///   stream of readers can delay a writer indefinitely.
/// - **Not reentrant for writers.** A thread that holds the lock in any mode and asks for it
///   exclusively waits for itself forever.
/// - **No thread affinity.** A lock taken on one thread may be released on another.
///
/// Every method that may take or revoke a slot takes the lock's [`Slots`] and is `unsafe`: a
/// lock must always be used with its own slots (with another lock's, a writer could miss a reader
/// that holds this lock through its slot). The map pairs them in one place, `shard::Shards`,
/// which is the only maker of the handles that call these methods.
///
/// [Locking](crate::locking): see the policy above.
#[derive(Debug)]
pub struct RawRwLock {
    state: AtomicUsize,
    parker: Parker,
    /// Acquisitions that had to wait, and parks (feature `metrics`; `ShardedMap::shard_metrics`).
    #[cfg(feature = "metrics")]
    counters: [AtomicUsize; 2],
}

impl Default for RawRwLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RawRwLock {
    /// A new, unlocked lock; readers use the word until a run of `BIAS_AFTER` reads.
    ///
    /// [Locking](crate::locking): none.
    pub fn new() -> Self {
        Self::with_bias(false)
    }

    /// A new, unlocked lock; with `bias`, readers use their slots from the start.
    ///
    /// [Locking](crate::locking): none.
    pub fn with_bias(bias: bool) -> Self {
        Self {
            state: AtomicUsize::new(if bias { BIAS } else { 0 }),
            parker: Parker::new(),
            #[cfg(feature = "metrics")]
            counters: [AtomicUsize::new(0), AtomicUsize::new(0)],
        }
    }

    /// (acquisitions that had to wait, parks) so far: relaxed snapshots.
    #[cfg(feature = "metrics")]
    pub(crate) fn counters(&self) -> (usize, usize) {
        let [waits, parks] = &self.counters;
        (waits.load(Ordering::Relaxed), parks.load(Ordering::Relaxed))
    }

    /// Counts one acquisition that had to wait (nothing without feature `metrics`).
    #[inline]
    fn count_wait(&self, waited: bool) {
        #[cfg(feature = "metrics")]
        if waited {
            self.counters[0].fetch_add(1, Ordering::Relaxed);
        }
        let _ = waited;
    }

    /// Takes the lock shared, blocking while a writer holds it.
    ///
    /// [Locking](crate::locking): blocks while a writer holds the lock.
    ///
    /// # Safety
    /// `slots` are this lock's own: the same [`Slots`] (table and index) on every call on this
    /// lock, used for no other lock. With another lock's slots a writer would miss a reader
    /// that holds this lock through its slot (a data race).
    #[inline]
    pub unsafe fn lock_shared<'s>(&self, slots: Slots<'s>) -> ReadHold<'s> {
        if let Some(slot) = self.try_lock_shared_slot(slots) {
            return ReadHold(Some(slot));
        }
        let prev = self.state.fetch_add(ONE_READER + ONE_TICK, READ_ACQUIRE);
        if prev & WRITER != 0 {
            self.lock_shared_slow();
        } else if (prev >> TICK_SHIFT) % BIAS_AFTER == BIAS_AFTER - 1 && prev & BIAS == 0 {
            self.set_bias();
        }
        ReadHold(None)
    }

    /// Takes the lock shared if no writer holds it; never blocks.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// # Safety
    /// `slots` are this lock's own: the same [`Slots`] (table and index) on every call on this
    /// lock, used for no other lock. With another lock's slots a writer would miss a reader
    /// that holds this lock through its slot (a data race).
    #[inline]
    pub unsafe fn try_lock_shared<'s>(&self, slots: Slots<'s>) -> Option<ReadHold<'s>> {
        if let Some(slot) = self.try_lock_shared_slot(slots) {
            return Some(ReadHold(Some(slot)));
        }
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & WRITER != 0 {
                return None;
            }
            match self.state.compare_exchange_weak(
                state,
                state + ONE_READER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(ReadHold(None)),
                Err(now) => state = now,
            }
        }
    }

    /// The slot path: the calling thread's slot, held and validated, or `None` (take the word
    /// path). Never blocks.
    #[inline]
    fn try_lock_shared_slot<'s>(&self, slots: Slots<'s>) -> Option<&'s AtomicU8> {
        if self.state.load(Ordering::Relaxed) & (BIAS | WRITER) != BIAS {
            return None;
        }
        let slot = slots.mine();
        if slot.swap(1, Ordering::SeqCst) != 0 {
            // Held by this thread already (a nested read) or by another thread on the same row;
            // writing 1 over 1 changed nothing.
            return None;
        }
        dekker_fence();
        if self.state.load(Ordering::SeqCst) & (BIAS | WRITER) == BIAS {
            return Some(slot);
        }
        free_slot(slot);
        None
    }

    /// A word-path reader ended a run of reads with no write: readers may use their slots.
    #[cold]
    fn set_bias(&self) {
        // We hold the lock shared, so no writer holds it and none can clear BIAS meanwhile.
        self.state.fetch_or(BIAS, Ordering::Relaxed);
    }

    /// Releases a shared hold.
    ///
    /// # Safety
    /// `hold` is a shared hold of this lock (taken with the same slots).
    #[inline]
    pub unsafe fn unlock_shared(&self, hold: ReadHold<'_>) {
        match hold.0 {
            Some(slot) => free_slot(slot),
            None => self.unlock_shared_word(),
        }
    }

    /// Gives back one word-path reader count.
    #[inline]
    fn unlock_shared_word(&self) {
        let prev = self.state.fetch_sub(ONE_READER, Ordering::Release);
        // The last reader leaves, no writer holds the lock, and someone is parked: a writer waits
        // for exactly this moment.
        if prev & (READERS | WRITER) == ONE_READER && prev & PARKED != 0 {
            self.wake_all();
        }
    }

    /// Takes the lock exclusively, blocking while anyone holds it.
    ///
    /// [Locking](crate::locking): blocks while anyone holds the lock.
    ///
    /// # Safety
    /// `slots` are this lock's own: the same [`Slots`] (table and index) on every call on this
    /// lock, used for no other lock. With another lock's slots a writer would miss a reader
    /// that holds this lock through its slot (a data race).
    #[inline]
    pub unsafe fn lock_exclusive(&self, slots: Slots<'_>) {
        // The word of a shard that only writers touched since the last write is 0: one CAS, as
        // in a lock without slots. Anything else (ticks, BIAS, holders) takes the cold path.
        if self
            .state
            .compare_exchange(0, WRITER, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            self.lock_exclusive_slow(slots);
        }
    }

    #[cold]
    fn lock_exclusive_slow(&self, slots: Slots<'_>) {
        let mut waited = false;
        loop {
            let (prev, blocked) = self.lock_slow(READERS | WRITER, WRITER);
            waited |= blocked;
            if prev & BIAS == 0 || self.revoke_bias(slots, true) {
                self.count_wait(waited);
                return;
            }
            waited = true; // backed off from a reader slot
        }
    }

    /// Takes the lock exclusively if nobody holds it; never blocks.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// # Safety
    /// `slots` are this lock's own: the same [`Slots`] (table and index) on every call on this
    /// lock, used for no other lock. With another lock's slots a writer would miss a reader
    /// that holds this lock through its slot (a data race).
    #[inline]
    pub unsafe fn try_lock_exclusive(&self, slots: Slots<'_>) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & (READERS | WRITER) != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                (state & (PARKED | BIAS)) | WRITER,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return state & BIAS == 0 || self.revoke_bias(slots, false),
                Err(now) => state = now,
            }
        }
    }

    /// Called with `WRITER` just set over `BIAS`: waits for every slot of the lock to be free and
    /// clears `BIAS` (`true`: the caller holds the lock), or backs off (`false`: `WRITER` is clear
    /// again; with `wait`, the slot that was held has been seen free since, so the caller may try
    /// again).
    #[cold]
    fn revoke_bias(&self, slots: Slots<'_>, wait: bool) -> bool {
        dekker_fence();
        let mut spin = Spin::new();
        while let Some(slot) = slots.first_held() {
            if wait && spin.spin() {
                continue;
            }
            // Back off: a reader holding that slot may be waiting for us to go (a nested read
            // through the word), so spinning with WRITER set could wait forever.
            let prev = self.state.fetch_sub(WRITER, Ordering::Release);
            if prev & PARKED != 0 {
                self.wake_all();
            }
            if wait {
                let mut snooze = Snooze::new();
                while slot.load(Ordering::Relaxed) != 0 {
                    snooze.snooze();
                }
            }
            return false;
        }
        // Every slot was free after WRITER was set; no slot reader can validate while it stays
        // set, and we are the only thread that may clear BIAS now.
        self.state.fetch_sub(BIAS, Ordering::Relaxed);
        true
    }

    /// Releases an exclusive hold.
    ///
    /// # Safety
    /// The caller holds the lock exclusively (and gives up that hold).
    #[inline]
    pub unsafe fn unlock_exclusive(&self) {
        let prev = self.state.fetch_sub(WRITER, Ordering::Release);
        if prev & PARKED != 0 && !cfg!(planted_bug_lost_wakeup) {
            self.wake_all();
        }
    }

    /// Turns an exclusive hold into a shared one (through the word) without letting a writer in
    /// between.
    ///
    /// # Safety
    /// The caller holds the lock exclusively; afterwards it holds it shared, and owns the
    /// returned hold.
    #[inline]
    pub unsafe fn downgrade(&self) -> ReadHold<'static> {
        // WRITER -> ONE_READER in one add (BIAS is clear while a writer holds the lock).
        let prev = self.state.fetch_add(ONE_READER - WRITER, Ordering::Release);
        if prev & PARKED != 0 {
            // Parked readers may now proceed; parked writers wake, find a reader and park again.
            self.wake_all();
        }
        ReadHold(None)
    }

    /// Whether the lock is held exclusively (a racy snapshot, for diagnostics and tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_locked_exclusive(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WRITER != 0
    }

    /// Whether the lock is held in any mode (a racy snapshot, for tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_locked(&self, slots: Slots<'_>) -> bool {
        self.state.load(Ordering::Relaxed) & (READERS | WRITER) != 0 || slots.any_held()
    }

    #[cold]
    fn lock_shared_slow(&self) {
        // Our optimistic add found a writer: give the count back exactly as an unlock would, so a
        // writer that parked behind our phantom count is woken. (Its tick stays: ticks are a
        // heuristic, and the writer's acquisition resets them.)
        self.unlock_shared_word();
        let (_, waited) = self.lock_slow(WRITER, ONE_READER);
        self.count_wait(waited);
    }

    /// The one slow path of both modes: wait until none of the `blocked_by` bits is set, then add
    /// `add` (`ONE_READER`, or `WRITER`, which is clear at that point; a writer also resets the
    /// ticks) and return the state it replaced. Spins a bounded number of times, then sets
    /// `PARKED` and parks while the lock is still held against this mode. `PARKED` is kept when
    /// acquiring: threads still parked are woken at the next release. Also says whether it found
    /// the lock held against it at least once (it had to wait).
    fn lock_slow(&self, blocked_by: usize, add: usize) -> (usize, bool) {
        let mut spin = Spin::new();
        let mut state = self.state.load(Ordering::Relaxed);
        let mut waited = false;
        loop {
            if state & blocked_by == 0 {
                let (new, order) = if add == WRITER {
                    ((state & !TICKS) | WRITER, Ordering::SeqCst)
                } else {
                    (state + add, Ordering::Acquire)
                };
                match self
                    .state
                    .compare_exchange_weak(state, new, order, Ordering::Relaxed)
                {
                    Ok(_) => return (state, waited),
                    Err(now) => {
                        state = now;
                        continue;
                    }
                }
            }
            waited = true;
            if state & PARKED == 0 {
                if spin.spin() {
                    state = self.state.load(Ordering::Relaxed);
                    continue;
                }
                if let Err(now) = self.state.compare_exchange_weak(
                    state,
                    state | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    state = now;
                    continue;
                }
            }
            #[cfg(feature = "metrics")]
            self.counters[1].fetch_add(1, Ordering::Relaxed);
            self.parker.park(&self.state, || {
                let state = self.state.load(Ordering::Relaxed);
                state & PARKED != 0 && state & blocked_by != 0
            });
            spin.reset();
            state = self.state.load(Ordering::Relaxed);
        }
    }

    /// Clears `PARKED` and wakes every parked thread; they re-check the state and re-park if the
    /// lock is still unavailable to them.
    #[cold]
    fn wake_all(&self) {
        // Clearing first is safe: a waiter that parks after this point must first see PARKED set
        // again by its own CAS, and its `validate` runs under the parking layer's lock, which
        // `unpark_all` takes too, so it is either woken below or does not sleep.
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
        self.parker.unpark_all(&self.state);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::{mpsc, Arc};

    /// Safe wrappers for these tests. Each test makes one `ReaderSlots` table per lock and passes
    /// only that lock's column (`slots.of(0)`), which is the pairing the `unsafe` methods
    /// require.
    trait OwnSlots {
        fn lock_shared_own<'s>(&self, s: Slots<'s>) -> ReadHold<'s>;
        fn try_lock_shared_own<'s>(&self, s: Slots<'s>) -> Option<ReadHold<'s>>;
        fn lock_exclusive_own(&self, s: Slots<'_>);
        fn try_lock_exclusive_own(&self, s: Slots<'_>) -> bool;
    }

    impl OwnSlots for RawRwLock {
        fn lock_shared_own<'s>(&self, s: Slots<'s>) -> ReadHold<'s> {
            // SAFETY: the tests pass this lock's own slots (see the trait).
            unsafe { self.lock_shared(s) }
        }
        fn try_lock_shared_own<'s>(&self, s: Slots<'s>) -> Option<ReadHold<'s>> {
            // SAFETY: as above.
            unsafe { self.try_lock_shared(s) }
        }
        fn lock_exclusive_own(&self, s: Slots<'_>) {
            // SAFETY: as above.
            unsafe { self.lock_exclusive(s) }
        }
        fn try_lock_exclusive_own(&self, s: Slots<'_>) -> bool {
            // SAFETY: as above.
            unsafe { self.try_lock_exclusive(s) }
        }
    }

    /// The state word without its ticks (which count reads and never affect who holds the lock).
    fn held_bits(lock: &RawRwLock) -> usize {
        lock.state.load(Ordering::Relaxed) & !TICKS
    }

    /// A thread that takes `lock` exclusively, reports on the returned channel, and unlocks.
    fn spawn_writer(
        lock: &Arc<RawRwLock>,
        slots: &Arc<ReaderSlots>,
    ) -> (std::thread::JoinHandle<()>, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let (lock, slots) = (lock.clone(), slots.clone());
        let t = std::thread::spawn(move || {
            lock.lock_exclusive_own(slots.of(0));
            tx.send(()).unwrap();
            // SAFETY: taken just above.
            unsafe { lock.unlock_exclusive() };
        });
        (t, rx)
    }

    #[test]
    fn uncontended_modes() {
        let slots = ReaderSlots::new(1);
        let s = slots.of(0);
        let lock = RawRwLock::new();
        assert!(!lock.is_locked(s));
        let a = lock.lock_shared_own(s);
        let b = lock.lock_shared_own(s);
        assert!(!a.is_slot() && !b.is_slot());
        assert!(lock.is_locked(s) && !lock.is_locked_exclusive());
        assert!(!lock.try_lock_exclusive_own(s));
        let c = lock
            .try_lock_shared_own(s)
            .expect("a reader may join readers");
        // SAFETY: three shared holds were taken above.
        unsafe {
            lock.unlock_shared(a);
            lock.unlock_shared(b);
            lock.unlock_shared(c);
        }
        assert!(!lock.is_locked(s));
        lock.lock_exclusive_own(s);
        assert!(lock.is_locked_exclusive());
        assert!(lock.try_lock_shared_own(s).is_none());
        assert!(!lock.try_lock_exclusive_own(s));
        // SAFETY: held exclusively above; afterwards held shared once.
        let d = unsafe { lock.downgrade() };
        assert!(!lock.is_locked_exclusive() && lock.is_locked(s));
        let e = lock
            .try_lock_shared_own(s)
            .expect("a reader may join a downgraded writer");
        // SAFETY: two shared holds.
        unsafe {
            lock.unlock_shared(d);
            lock.unlock_shared(e);
        }
        assert_eq!(held_bits(&lock), 0);
    }

    #[test]
    fn a_run_of_reads_biases_and_a_write_revokes() {
        let slots = ReaderSlots::new(3);
        let s = slots.of(2);
        let lock = RawRwLock::new();
        for _ in 0..BIAS_AFTER {
            let hold = lock.lock_shared_own(s);
            assert!(!hold.is_slot(), "biased before the run was complete");
            // SAFETY: taken just above.
            unsafe { lock.unlock_shared(hold) };
        }
        assert_eq!(held_bits(&lock), BIAS);
        let slot_hold = lock.lock_shared_own(s);
        assert!(slot_hold.is_slot());
        assert_eq!(held_bits(&lock), BIAS, "a slot reader wrote the word");
        assert!(lock.is_locked(s));
        // A writer cannot get in beside a slot reader; it backs off leaving BIAS set.
        assert!(!lock.try_lock_exclusive_own(s));
        assert_eq!(held_bits(&lock), BIAS);
        // A nested read on the same lock finds its slot taken and uses the word.
        let nested = lock.try_lock_shared_own(s).expect("readers share");
        assert!(!nested.is_slot());
        assert_eq!(held_bits(&lock), BIAS | ONE_READER);
        // SAFETY: both holds were taken above.
        unsafe {
            lock.unlock_shared(nested);
            lock.unlock_shared(slot_hold);
        }
        assert!(!lock.is_locked(s));
        // Now the writer revokes the bias: readers go back to the word.
        lock.lock_exclusive_own(s);
        assert_eq!(held_bits(&lock), WRITER);
        // SAFETY: taken just above.
        unsafe { lock.unlock_exclusive() };
        let hold = lock.lock_shared_own(s);
        assert!(!hold.is_slot());
        // SAFETY: taken just above.
        unsafe { lock.unlock_shared(hold) };
        // The other locks' slots were never touched.
        assert!((0..3).all(|i| i == 2 || !slots.of(i).any_held()));
    }

    #[test]
    fn writer_waits_for_reader_and_is_woken() {
        for bias in [false, true] {
            let slots = Arc::new(ReaderSlots::new(1));
            let lock = Arc::new(RawRwLock::with_bias(bias));
            let hold = lock.lock_shared_own(slots.of(0));
            assert_eq!(hold.is_slot(), bias);
            let (t, rx) = spawn_writer(&lock, &slots);
            let wait = std::time::Duration::from_millis(if cfg!(miri) { 1 } else { 50 });
            assert!(
                rx.recv_timeout(wait).is_err(),
                "writer got in beside a reader (bias: {bias})"
            );
            // SAFETY: taken at the top.
            unsafe { lock.unlock_shared(hold) };
            rx.recv_timeout(std::time::Duration::from_secs(30))
                .expect("writer never got the lock after the reader left");
            t.join().unwrap();
            assert_eq!(held_bits(&lock), 0);
        }
    }

    #[test]
    fn nested_read_through_the_word_while_a_writer_revokes() {
        // A thread holds a slot; a writer starts revoking; the first thread reads the same lock
        // again. The writer must back off, or both would wait for each other forever.
        let slots = Arc::new(ReaderSlots::new(1));
        let lock = Arc::new(RawRwLock::with_bias(true));
        let outer = lock.lock_shared_own(slots.of(0));
        assert!(outer.is_slot());
        let (t, rx) = spawn_writer(&lock, &slots);
        std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
            1
        } else {
            20
        }));
        let inner = lock.lock_shared_own(slots.of(0));
        assert!(!inner.is_slot());
        assert!(rx.try_recv().is_err(), "writer got in beside two readers");
        // SAFETY: both holds were taken above.
        unsafe {
            lock.unlock_shared(inner);
            lock.unlock_shared(outer);
        }
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("writer never got the lock after the readers left");
        t.join().unwrap();
        assert_eq!(held_bits(&lock), 0);
    }

    #[test]
    fn counter_under_contention() {
        const THREADS: usize = 8;
        let iters: usize = if cfg!(miri) { 20 } else { 20_000 };
        struct Shared(RawRwLock, ReaderSlots, crate::sync::UnsafeCell<usize>);
        // SAFETY: the cell is only touched under the lock.
        unsafe impl Sync for Shared {}
        let shared = Arc::new(Shared(
            RawRwLock::new(),
            ReaderSlots::new(1),
            crate::sync::UnsafeCell::new(0),
        ));
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let s = shared.clone();
                std::thread::spawn(move || {
                    let slots = s.1.of(0);
                    for n in 0..iters {
                        // Mostly reads, in runs long enough to bias the lock, and some writes.
                        if i % 2 == 0 && n.is_multiple_of(2 * BIAS_AFTER) {
                            s.0.lock_exclusive_own(slots);
                            // SAFETY: exclusive lock held.
                            unsafe {
                                *s.2.get_mut().deref() += 1;
                                s.0.unlock_exclusive();
                            }
                        } else {
                            let hold = s.0.lock_shared_own(slots);
                            // SAFETY: shared lock held; no writer can overlap.
                            unsafe {
                                let _ = *s.2.get().deref();
                                s.0.unlock_shared(hold);
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        // SAFETY: all threads joined.
        let total = unsafe { *shared.2.get().deref() };
        let writes_per_writer = iters.div_ceil(2 * BIAS_AFTER);
        assert_eq!(total, writes_per_writer * THREADS / 2);
        assert!(!shared.0.is_locked(shared.1.of(0)));
    }
}
