//! The shard lock: a reader-writer lock in one atomic word, with per-thread reader slots that let
//! reads of a read-mostly lock write nothing shared. Readers nest freely; a waiting writer holds
//! back new readers, so it is never starved.
//!
//! # Algorithm
//!
//! A counting reader-writer lock in the style of `parking_lot::RawRwLock`: the uncontended paths
//! are one atomic read-modify-write each; a contended thread spins a bounded number of times and
//! then parks on the state word's address (through [`crate::raw::sync::Parker`]).
//!
//! **Policy.** A writer that finds readers inside *claims* the lock ([`WAITING`]): from then on
//! a new reader waits for that writer, but a thread that may already hold a read of this lock
//! goes in, because the writer waits for that read: a thread whose count of word-path holds (of
//! any lock, [`crate::raw::sync::read_holds`]) is not zero, or whose own slot of this lock is taken. So a thread holding a `Ref` may always read the same
//! shard again, and the writer waits only for the reads already inside and their nested reads.
//! The claimant parks on a queue of its own and is woken alone by the last reader to leave.
//!
//! On top of it, a biased read path after BRAVO (Dice and Kogan, 2019): while the word shows
//! [`BIAS`], a reader marks its own byte in a [`ReaderSlots`] table (one row of cache lines per
//! thread, one byte per lock) instead of adding to the shared word, so readers on different cores
//! write different cache lines. A claiming writer that finds `BIAS` waits for the lock's byte in
//! every row to be free, and clears `BIAS` when it takes the lock, so a lock that is being written
//! pays that scan once. Word-path readers count *ticks*; a run of [`BIAS_AFTER`] reads with no
//! write in between sets `BIAS` again. A writer that revoked `BIAS` leaves the ticks one read
//! short of the run, so a shard that was read-mostly goes back to its slots on its next read,
//! while one that is written more than read (and so seldom turns biased at all) keeps its
//! readers on the word: each bias costs the next writer a scan of the slots.
//!
//! # State word
//!
//! ```text
//!  usize bits:  [ top 8 (4 on 32-bit) ][ .... 6 ][   5   ][       4       ][    3    ][  2   ][   1    ][   0    ]
//!               [ ticks               ][readers ][ WOKEN ][ WRITER_PARKED ][ WAITING ][ BIAS ][ WRITER ][ PARKED ]
//! ```
//!
//! - [`PARKED`]: a thread is parked, or about to park, on the lock queue (held-back readers,
//!   writers behind another writer). Set by a waiter (and re-checked under the parking layer's
//!   lock before sleeping). A release that sees it wakes every parked reader and one parked
//!   writer, and clears it (under the parking layer's lock) only if nobody stays parked.
//! - [`WOKEN`]: a writer was woken while others stay parked, and has not yet taken the lock or
//!   parked again (after Go's `mutexWoken`). While it is set a writer's release wakes nobody:
//!   the woken writer is awake and competing (it spins, where other writers arriving at a
//!   lock with parked threads park at once), and either takes the lock, so that its own
//!   release wakes the queue, or clears `WOKEN` as it parks again. Without it every release
//!   under contention was a system call while writers stayed parked, and the woken writer,
//!   finding the lock taken again, parked straight back.
//! - [`WRITER`]: a writer holds the lock (or a `try_lock_exclusive` is checking the slots).
//! - [`BIAS`]: readers may take the lock through their slot.
//! - [`WAITING`]: a writer has claimed the lock and waits for the readers inside. At most one
//!   claimant; other writers wait as if the lock were held.
//! - [`WRITER_PARKED`]: the claimant is parked (or about to) on its own queue.
//! - the reader count (x [`ONE_READER`]) of word-path readers. A reader takes the lock with
//!   `fetch_add(ONE_READER + ONE_TICK)`; if that add finds [`WRITER`] (or `WAITING`, and the thread
//!   holds no read) it gives its count back (exactly as an unlock would) and waits. So the count
//!   may briefly include such readers; they never touch the data.
//! - ticks: word-path reads since the last write acquisition, modulo the field's size. A writer's
//!   acquisition resets them (to `BIAS_AFTER - 1` if it is a blocking acquisition that revoked
//!   `BIAS`, else to 0); they never affect who holds the lock.
//!
//! # The slot protocol (a Dekker pair)
//!
//! - **Slot reader.** Sees `BIAS` and neither `WRITER` nor `WAITING` (a hint), then
//!   `swap(slot, 1, SeqCst)`; if the slot was free, `load(word, SeqCst)`: still only `BIAS` of the
//!   three, the lock is held shared; otherwise it frees the slot and takes the word path. Unlock
//!   is `store(slot, 0, Release)`. A slot already taken (a nested read on the same lock,
//!   another thread on the same row, or the always-taken row 0 of a thread that has not yet
//!   settled on its own row, which it does then) sends the reader to the word path, where a
//!   nested read passes a claimant.
//! - **Claiming writer.** Its claiming CAS (`SeqCst`) sets `WAITING` and keeps `BIAS`. If `BIAS`
//!   was set it loads the lock's slot in every row (`SeqCst`) until each is free; a slot seen free
//!   stays free, since every later slot reader sees `WAITING` and backs out. Then it waits for the
//!   word's count to reach zero and turns `WAITING` into `WRITER` (clearing `BIAS`) in one CAS.
//!   It waits only for reads that were inside when it claimed: it spins, then sets
//!   `WRITER_PARKED` and parks; a slot reader's unlock (a plain store, then a plain load of the
//!   word) wakes it (see `drain_slots` for the one interleaving its backstop covers).
//! - Because both sides do a `SeqCst` write and then a `SeqCst` load of the other side's
//!   location, the single total order of `SeqCst` operations forbids both loads missing the other
//!   side's write: a reader that validated is seen by every later writer's scan, and a writer that
//!   claimed is seen by every later validation. loom does not model `SeqCst` accesses (it treats
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
//!   after validation, and `WRITER` is clear. `WRITER` is only set over a zero count: by the fast
//!   path and the claim from a free, unbiased word, and by the claimant's final CAS.
//! - `BIAS` is cleared only by a writer that saw every slot of the lock free after setting
//!   `WAITING` (or `WRITER`, in `try_lock_exclusive`); it is set only by a word-path reader that
//!   holds the lock, after it has made sure the slots are allocated (or at construction, by
//!   [`RawRwLock::biased`], which allocates them). So a writer whose claim finds `BIAS` clear
//!   needs no scan: no validated slot reader can exist; and a reader that sees `BIAS` (through
//!   an `Acquire` load; every write of the word is a read-modify-write) finds the slots there.
//! - A thread only parks while it has seen its flag (`PARKED` or `WRITER_PARKED`) set and the lock
//!   unavailable to it; the release that makes it available sees the flag and wakes that queue,
//!   unless `WOKEN` is set: then the writer woken last is awake, and clears `WOKEN` when it takes
//!   the lock (its release then wakes the queue) or before it parks again (its park re-checks
//!   the lock under the parking layer's lock, so a release between the two is not missed). A
//!   writer that is not the woken one never clears it (clearing it wrongly would only cost a
//!   wake-up; leaving it set wrongly could cost every wake-up, which
//!   `planted_bug_woken_not_cleared` plants and the loom models catch).
//! - A reader held back by a claimant (and not by a holding writer) waits at most
//!   [`HOLD_BACK_MILLIS`], then goes in beside the claimant. The count of holds per thread is
//!   exact for guards that stay on their thread; a guard moved to another thread (an iterator's
//!   shard guard) is counted on the thread that took it, and a dependency between threads (this
//!   thread holds a read and waits for another thread that reads) is invisible to the lock. The
//!   bound turns what would be a deadlock in both cases into a delay.
//! - Memory ordering: every acquisition is `Acquire` (or `SeqCst`), every release `Release`, so a
//!   reader sees all writes of the writer before it, and a writer sees all reads of earlier readers
//!   completed (through the word, or through the slot it found free).
//!
//! The reader count has 51 bits (19 on 32-bit targets); it cannot overflow in practice (that
//! would take that many live guards on one shard).

use core::ptr::NonNull;

use crate::raw::sync::{
    dekker_fence, free_slot, read_hold_given, read_hold_taken, read_holds, thread_number,
    AtomicPtr, AtomicU8, AtomicUsize, Deadline, Ordering, Parker, Spin, Waiter,
};

/// Reader slots per cache block: one block (a cache line pair) holds the slots of 64 locks.
/// Under loom, 4: small blocks keep the number of loom objects per model small.
const SLOTS_PER_BLOCK: usize = if cfg!(loom) { 4 } else { 64 };

/// The number of reader-slot rows every map gets: about twice the core count, a power of two, at
/// most 64 (so a map on a very large machine stays small; threads then share rows, which is
/// correct, only slower), computed once per process, so that a thread's row offset
/// ([`row_offset`]) is the same in every table. Under loom, 2: with three threads in a
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

/// A thread is parked (or about to park) on the lock queue of the state word.
const PARKED: usize = 0b0_0001;
/// A writer holds the lock (or, in `try_lock_exclusive`, is checking the slots).
const WRITER: usize = 0b0_0010;
/// Readers may take the lock through their reader slot.
const BIAS: usize = 0b0_0100;
/// A writer has claimed the lock and waits for the readers inside to leave: new readers are held
/// back; a thread that already holds a read passes.
const WAITING: usize = 0b0_1000;
/// The claiming writer is parked (or about to park) on the claimant queue.
const WRITER_PARKED: usize = 0b1_0000;
/// A writer was woken from the lock queue and has not yet taken the lock or parked again: a
/// writer's release need not wake another one (see `unlock_exclusive`).
const WOKEN: usize = 0b10_0000;
/// One reader, in the reader count held in bits 6 and up.
const ONE_READER: usize = 0b100_0000;
/// Bits of the tick field (the top of the word).
const TICK_BITS: u32 = if usize::BITS >= 64 { 8 } else { 4 };
const TICK_SHIFT: u32 = usize::BITS - TICK_BITS;
/// One word-path read, in the tick field.
const ONE_TICK: usize = 1 << TICK_SHIFT;
/// The tick field.
const TICKS: usize = usize::MAX << TICK_SHIFT;
/// The reader-count bits.
const READERS: usize = !(PARKED | WRITER | BIAS | WAITING | WRITER_PARKED | WOKEN | TICKS);
/// Word-path reads in a row (no write between them) after which readers use their slots; after a
/// write that revoked the bias, one read. Small under loom so that the models reach the biased
/// state with a few reads.
const BIAS_AFTER: usize = if cfg!(loom) { 2 } else { 4 };
/// How long a reader that holds no read of its own waits behind a claiming writer before it goes
/// in anyway. Only matters if this thread's count of holds is wrong: a read guard that moved here
/// from another thread is not counted here, and waiting for a writer that waits for that very
/// guard would never end. Such a reader is delayed this long instead of deadlocked.
const HOLD_BACK_MILLIS: u64 = 10;
/// The backstop of a claimant parked on a reader slot (see `drain_slots`): it is woken by the
/// slot's release, and only an interleaving the unfenced release allows needs this.
const SLOT_PARK_BACKSTOP_MILLIS: u64 = 1;

const _: () = assert!(ONE_READER == (PARKED | WRITER | BIAS | WAITING | WRITER_PARKED | WOKEN) + 1);
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

/// A block of reader slots on cache lines of its own: the slots of [`SLOTS_PER_BLOCK`] locks in
/// one row. `repr(C)`: the slots start at the block's address, which the offsets below rely on.
#[repr(C, align(128))]
struct SlotBlock([AtomicU8; SLOTS_PER_BLOCK]);

/// Bytes from one block to the next, and from one slot to the next within a block.
const BLOCK_BYTES: usize = core::mem::size_of::<SlotBlock>();
const SLOT_BYTES: usize = core::mem::size_of::<AtomicU8>();

#[cfg(not(loom))]
std::thread_local!(static ROW: core::cell::Cell<usize> = const { core::cell::Cell::new(0) });

/// This thread's row in every [`ReaderSlots`] table, as a byte offset (`row * BLOCK_BYTES`):
/// 0, the table's row of slots that are always taken, until the thread's first slot read finds
/// its slot taken and calls [`settle_row`]; then `(1 + thread number % rows) * BLOCK_BYTES`.
/// A thread-local with a constant start, so the read path reads it with no first-use check: a
/// thread's first slot read fails by itself, on the always-taken row.
#[cfg(not(loom))]
#[inline]
fn row_offset() -> usize {
    ROW.with(core::cell::Cell::get)
}

/// This thread's own row, as a byte offset.
fn own_row_offset() -> usize {
    (1 + (thread_number() & (reader_rows() - 1))) * BLOCK_BYTES
}

/// Gives the calling thread its own row of reader slots, if it has none yet (see
/// [`row_offset`]). Out of line: it runs once per thread, on a path that already failed.
#[cfg(not(loom))]
#[cold]
#[inline(never)]
fn settle_row() {
    ROW.with(|row| {
        if row.get() == 0 {
            row.set(own_row_offset());
        }
    });
}

/// Under loom every thread has its own row from its first read (computed each time from loom's
/// thread index; loom threads are fresh per model), so that a model's every read can take the
/// slot path. The unsettled row's only effect, a failed slot read, is the one a shared row has,
/// which the models reach with two rows and three threads.
#[cfg(loom)]
fn row_offset() -> usize {
    own_row_offset()
}

/// Under loom, nothing: every thread starts settled.
#[cfg(loom)]
fn settle_row() {}

/// The reader slots of a group of locks (a map's shards): a row of cache-line blocks per
/// thread slot, one byte per lock in each row, after row 0, whose slots are always taken. A
/// thread uses row `1 + thread number % rows` once it has settled (`row_offset`); before,
/// row 0, where every slot read fails and takes the word path.
///
/// Layout: block `(b, row)` (locks `b * 64 ..`, one row) is at position
/// `b * (rows + 1) + row`, so a slot's address is the table's start plus a per-lock *column*
/// offset ([`Slots`] carries it) plus a per-thread row offset (`row_offset`): one add on the
/// read path.
///
/// The blocks are allocated when a lock of the group first turns biased (a run of reads with no
/// write), not before: a map that is never read that way, or is dropped empty, never pays for
/// them. Size once allocated: (rows + 1) x ceil(locks / 64) x 128 bytes (640 bytes for 8 shards
/// on a 2-core machine).
///
/// [Locking](crate::locking): none (the slots are part of the locks' state).
pub struct ReaderSlots {
    /// The first of `block_count` blocks, from a `Box<[SlotBlock]>` leaked by
    /// `allocate` and reclaimed by `Drop`; null until then. Only ever goes from null to one
    /// allocation, which lives as long as `self`.
    blocks: AtomicPtr<SlotBlock>,
    /// `(rows + 1) * blocks_per_row`.
    block_count: usize,
    /// [`reader_rows`], the same for every table (so [`row_offset`] fits every table).
    rows: usize,
    /// Blocks per row: room for `blocks_per_row * SLOTS_PER_BLOCK` locks.
    blocks_per_row: usize,
    /// This table's map, for the debug-build deadlock check (`deadlock.rs`).
    #[cfg(deadlock_check)]
    map_id: u64,
}

// SAFETY: the table owns its blocks (atomics, shared by design) like a `Box<[SlotBlock]>` would.
unsafe impl Send for ReaderSlots {}
// SAFETY: as above; every access to the blocks is atomic.
unsafe impl Sync for ReaderSlots {}

impl ReaderSlots {
    /// Slots for `locks` locks, with the default number of rows (about twice the core count);
    /// nothing is allocated until a lock first turns biased.
    ///
    /// [Locking](crate::locking): none.
    pub fn new(locks: usize) -> Self {
        let rows = reader_rows();
        let blocks_per_row = locks.div_ceil(SLOTS_PER_BLOCK).max(1);
        Self {
            blocks: AtomicPtr::new(core::ptr::null_mut()),
            block_count: (rows + 1) * blocks_per_row,
            rows,
            blocks_per_row,
            #[cfg(deadlock_check)]
            map_id: crate::deadlock::next_map_id(),
        }
    }

    /// The first block, if allocated. `SeqCst`, free on x86 and what the writer's scan needs: a
    /// slot reader that validated got its slot from a table published before its `SeqCst` slot
    /// swap, which precedes the writer's claim in the `SeqCst` order, so the writer's load after
    /// that claim sees the table.
    #[inline]
    fn first_block(&self) -> Option<NonNull<SlotBlock>> {
        NonNull::new(self.blocks.load(Ordering::SeqCst))
    }

    /// Allocates the blocks if no thread has yet (all free). Racing callers agree on one table;
    /// the losers free theirs.
    #[cold]
    fn allocate(&self) {
        if self.first_block().is_some() {
            return;
        }
        // Row 0 of each block group is the always-taken row of threads not yet settled.
        let fresh: Box<[SlotBlock]> = (0..self.block_count)
            .map(|position| {
                let taken = u8::from(position % (self.rows + 1) == 0);
                SlotBlock(core::array::from_fn(|_| AtomicU8::new(taken)))
            })
            .collect();
        let first = Box::into_raw(fresh).cast::<SlotBlock>();
        if self
            .blocks
            .compare_exchange(
                core::ptr::null_mut(),
                first,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_err()
        {
            // SAFETY: `first` came from `Box::into_raw` of a slice of `block_count` blocks just
            // above and was never published (the CAS failed), so this is its only owner.
            drop(unsafe {
                Box::from_raw(core::ptr::slice_from_raw_parts_mut(first, self.block_count))
            });
        }
    }

    /// Bytes this table owns on the heap (0 until the slots are allocated).
    #[cfg(feature = "typesize")]
    pub(crate) fn heap_size(&self) -> usize {
        self.first_block()
            .map_or(0, |_| self.block_count * core::mem::size_of::<SlotBlock>())
    }

    /// The slots of lock number `index`.
    ///
    /// # Panics
    /// If `index` is not below the `locks` the table was made for (rounded up to a multiple of
    /// 64).
    ///
    /// [Locking](crate::locking): none.
    #[inline]
    pub fn of(&self, index: usize) -> Slots<'_> {
        assert!(
            index < self.blocks_per_row * SLOTS_PER_BLOCK,
            "lock {index} has no reader slots in a table for {} locks",
            self.blocks_per_row * SLOTS_PER_BLOCK
        );
        Slots {
            table: self,
            column: (index / SLOTS_PER_BLOCK) * (self.rows + 1) * BLOCK_BYTES
                + (index % SLOTS_PER_BLOCK) * SLOT_BYTES,
            #[cfg(deadlock_check)]
            index,
        }
    }

    /// The slots of lock `index` whose column is known: what [`of`](Self::of) returns, without
    /// its check and arithmetic (the shard array keeps each shard's column next to its lock).
    ///
    /// # Safety
    /// `column` is `self.of(index).column()`.
    #[inline]
    pub(in crate::raw) unsafe fn with_column(&self, index: usize, column: usize) -> Slots<'_> {
        debug_assert_eq!(column, self.of(index).column);
        let _ = index;
        Slots {
            table: self,
            column,
            #[cfg(deadlock_check)]
            index,
        }
    }

    /// The slot at byte offset `column + row_offset` from `first`.
    ///
    /// # Safety
    /// `first` is this table's first block (from [`first_block`](Self::first_block)), `column`
    /// is a column of this table (from [`of`](Self::of)) and `row_offset` is `row * BLOCK_BYTES`
    /// for a row up to `self.rows` (row 0 is the always-taken one).
    #[inline]
    unsafe fn slot_at(
        &self,
        first: NonNull<SlotBlock>,
        column: usize,
        row_offset: usize,
    ) -> &AtomicU8 {
        // SAFETY: with `column = b * (rows + 1) * BLOCK_BYTES + i * SLOT_BYTES` (`b` below
        // `blocks_per_row`, `i` below `SLOTS_PER_BLOCK`) and `row_offset = row * BLOCK_BYTES`
        // (`row <= rows`), the offset is that of slot `i` in block `b * (rows + 1) + row`,
        // below `block_count = (rows + 1) * blocks_per_row`: inside
        // the allocation `first` starts (a `repr(C)` block starts with its slots). The blocks
        // are initialized atomics, freed only by `Drop` (`&mut self`), so they outlive `&self`.
        unsafe {
            first
                .cast::<u8>()
                .add(column + row_offset)
                .cast::<AtomicU8>()
                .as_ref()
        }
    }
}

impl Drop for ReaderSlots {
    fn drop(&mut self) {
        if let Some(first) = self.first_block() {
            // SAFETY: a non-null pointer is the one allocation `allocate` published, from
            // `Box::into_raw` of `block_count` blocks; `&mut self` means no slot is borrowed.
            drop(unsafe {
                Box::from_raw(core::ptr::slice_from_raw_parts_mut(
                    first.as_ptr(),
                    self.block_count,
                ))
            });
        }
    }
}

impl core::fmt::Debug for ReaderSlots {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReaderSlots")
            .field("rows", &self.rows)
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
    /// The lock's byte offset in row 0 (from [`ReaderSlots::of`]).
    column: usize,
    /// The lock's number in the table (for the deadlock check only: without it `Slots` is two
    /// words, which the read path keeps in registers).
    #[cfg(deadlock_check)]
    index: usize,
}

impl<'a> Slots<'a> {
    /// The lock's identity in the process: its map's id (never reused) and its shard index.
    #[cfg(deadlock_check)]
    pub(crate) fn lock_id(self) -> (u64, usize) {
        (self.table.map_id, self.index)
    }

    /// The lock's byte offset in table row 0 (the always-taken row): what
    /// [`ReaderSlots::with_column`] takes back.
    #[inline]
    pub(in crate::raw) fn column(self) -> usize {
        self.column
    }

    /// The calling thread's own slot, if the slots are allocated and the thread has settled on
    /// a row (before, it has no slot of its own, and holds none).
    #[inline]
    fn mine(self) -> Option<&'a AtomicU8> {
        let first = self.table.first_block()?;
        let row_offset = row_offset();
        if row_offset == 0 {
            return None;
        }
        // SAFETY: `first` is the table's, `column` came from `of`, and `row_offset` is
        // `row * BLOCK_BYTES` for a row up to `reader_rows()`, the table's `rows`.
        Some(unsafe { self.table.slot_at(first, self.column, row_offset) })
    }

    /// Every slot of the lock that a reader can hold, one per thread row (none if the slots
    /// are not allocated; the always-taken row 0 left out).
    #[inline]
    fn all(self) -> impl Iterator<Item = &'a AtomicU8> {
        let table = self.table;
        table.first_block().into_iter().flat_map(move |first| {
            (1..=table.rows).map(move |row| {
                // SAFETY: as in `mine`, with `row` at most the table's `rows`.
                unsafe { table.slot_at(first, self.column, row * BLOCK_BYTES) }
            })
        })
    }

    /// The calling thread's slot, in a table known to be allocated: the slot path's
    /// [`mine`](Self::mine), without the null check.
    ///
    /// # Safety
    /// The caller saw `BIAS` in the word of the lock these slots belong to, through an `Acquire`
    /// load (or a read-modify-write). `BIAS` is only ever set after this table was allocated
    /// (`set_bias` allocates first, `RawRwLock::biased` at construction), every write of the
    /// word is a read-modify-write (so the release sequence of the write that set `BIAS`
    /// reaches the caller's load), and the table is never freed while `&self` lives: the
    /// allocation happens before the caller's load, and this load sees it.
    #[inline]
    unsafe fn mine_allocated(self) -> &'a AtomicU8 {
        let first = self.table.blocks.load(Ordering::Relaxed);
        debug_assert!(
            !first.is_null(),
            "BIAS set before the reader slots were allocated"
        );
        // SAFETY: `first` is not null by the caller's guarantee (above), and is the table's
        // first block; `column` came from `of` and `row_offset()` is that of a row up to the
        // table's `rows` (0 before the thread settles), as in `mine`.
        unsafe {
            self.table
                .slot_at(NonNull::new_unchecked(first), self.column, row_offset())
        }
    }

    /// Makes sure the slots exist (a lock turning biased).
    #[cold]
    fn allocate(self) {
        self.table.allocate();
    }

    /// The first held slot, if any (`SeqCst` loads: the writer's side of the Dekker pair). No
    /// slots allocated: none held.
    #[inline]
    fn first_held(self) -> Option<&'a AtomicU8> {
        if cfg!(planted_bug_skip_slot_scan) {
            return None;
        }
        self.all().find(|slot| slot.load(Ordering::SeqCst) != 0)
    }

    /// Whether any slot is held (a racy snapshot, for tests).
    #[cfg(all(test, not(loom)))]
    fn any_held(self) -> bool {
        self.all().any(|slot| slot.load(Ordering::Relaxed) != 0)
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
/// - **Readers nest; writers are not starved.** A reader gets the lock whenever no writer holds
///   it and none has claimed it; a thread that already holds a read gets it even while a writer
///   waits, so a thread holding a `Ref` may read the same shard again. A waiting writer claims
///   the lock, which holds back new readers: it waits only for the reads already inside.
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
        Self::with_state(0)
    }

    /// A new, unlocked lock whose readers use their slots from the first read; allocates the
    /// slots of `table`, which must be the table of the [`Slots`] this lock is used with (as
    /// every locking method requires), so that a reader that sees `BIAS` finds its slot.
    ///
    /// [Locking](crate::locking): none.
    pub fn biased(table: &ReaderSlots) -> Self {
        table.allocate();
        Self::with_state(BIAS)
    }

    fn with_state(state: usize) -> Self {
        Self {
            state: AtomicUsize::new(state),
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

    /// Counts one park (nothing without feature `metrics`).
    #[inline]
    fn count_park(&self) {
        #[cfg(feature = "metrics")]
        self.counters[1].fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the lock shared, blocking while a writer holds it, and while a writer waits for it
    /// unless this thread already holds a read (which may be of this lock: a nested read never
    /// waits for a writer that waits for it).
    ///
    /// [Locking](crate::locking): blocks while a writer holds the lock or (for a thread that holds
    /// no read) waits for it.
    ///
    /// # Safety
    /// `slots` are this lock's own: the same [`Slots`] (table and index) on every call on this
    /// lock, used for no other lock. With another lock's slots a writer would miss a reader
    /// that holds this lock through its slot (a data race).
    #[inline]
    pub unsafe fn lock_shared<'s>(&self, slots: Slots<'s>) -> ReadHold<'s> {
        if let Some(hold) = self.try_lock_shared_slot(slots) {
            return hold;
        }
        let prev = self.state.fetch_add(ONE_READER + ONE_TICK, READ_ACQUIRE);
        if prev & (WRITER | WAITING) != 0 {
            self.lock_shared_slow(slots, prev);
        } else if (prev >> TICK_SHIFT) % BIAS_AFTER == BIAS_AFTER - 1 && prev & BIAS == 0 {
            self.set_bias(slots);
        }
        read_hold_taken();
        ReadHold(None)
    }

    /// Whether a reader that finds `state` may go in now. `held_back`: a claiming writer still
    /// holds this reader back (it holds no read, and has not waited out `HOLD_BACK_MILLIS`).
    #[inline]
    fn reader_may_enter(state: usize, held_back: bool) -> bool {
        state & WRITER == 0 && (state & WAITING == 0 || !held_back)
    }

    /// Whether this thread may hold a read of this lock, so that a claiming writer must not hold
    /// it back: it holds a word-path read (of any lock: the per-thread count), or its own slot of
    /// this lock is taken (by itself, or by another thread on its row: letting that one pass too
    /// only weakens the writer's priority a little). Slot holds are not counted, so the slot
    /// path stays free of the count. `--cfg planted_bug_hold_back_nested` says no (a planted bug:
    /// a nested read then waits for a writer that waits for the outer read; the loom models must
    /// catch it).
    #[cold]
    fn holds_a_read(slots: Slots<'_>) -> bool {
        !cfg!(planted_bug_hold_back_nested)
            && (read_holds() != 0 || slots.mine().is_some_and(|s| s.load(Ordering::Relaxed) != 0))
    }

    /// Takes the lock shared if that needs no waiting (no writer holds it, and none waits for it
    /// unless this thread already holds a read); never blocks.
    ///
    /// [Locking](crate::locking): never blocks.
    ///
    /// # Safety
    /// `slots` are this lock's own: the same [`Slots`] (table and index) on every call on this
    /// lock, used for no other lock. With another lock's slots a writer would miss a reader
    /// that holds this lock through its slot (a data race).
    #[inline]
    pub unsafe fn try_lock_shared<'s>(&self, slots: Slots<'s>) -> Option<ReadHold<'s>> {
        if let Some(hold) = self.try_lock_shared_slot(slots) {
            return Some(hold);
        }
        let held_back = !Self::holds_a_read(slots);
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if !Self::reader_may_enter(state, held_back) {
                return None;
            }
            match self.state.compare_exchange_weak(
                state,
                state + ONE_READER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    read_hold_taken();
                    return Some(ReadHold(None));
                }
                Err(now) => state = now,
            }
        }
    }

    /// The slot path: a hold through the calling thread's slot, held and validated, or `None`
    /// (take the word path). Never blocks. (It returns the hold, not the slot: an
    /// `Option<&AtomicU8>` would make the caller test the computed slot address for null, which
    /// the compiler cannot rule out; `Option<ReadHold>` is a flag it folds away.)
    #[inline]
    fn try_lock_shared_slot<'s>(&self, slots: Slots<'s>) -> Option<ReadHold<'s>> {
        // `Acquire` (a plain load on x86): it makes the slots' allocation visible (see
        // `mine_allocated`).
        if self.state.load(Ordering::Acquire) & (BIAS | WRITER | WAITING) != BIAS {
            return None;
        }
        // SAFETY: BIAS was just seen through an `Acquire` load of this lock's word, and `slots`
        // are this lock's own (the callers' contract).
        let slot = unsafe { slots.mine_allocated() };
        if slot.swap(1, Ordering::SeqCst) != 0 {
            // Held by this thread already (a nested read), by another thread on the same row,
            // or the always-taken slot of a thread not yet settled on a row, which settles now;
            // writing 1 over 1 changed nothing.
            settle_row();
            return None;
        }
        dekker_fence();
        if self.state.load(Ordering::SeqCst) & (BIAS | WRITER | WAITING) == BIAS {
            return Some(ReadHold(Some(slot)));
        }
        free_slot(slot);
        None
    }

    /// A word-path reader ended a run of reads with no write: readers may use their slots.
    #[cold]
    fn set_bias(&self, slots: Slots<'_>) {
        // The slots exist before any reader can see BIAS (the first bias of the group allocates
        // them; a reader that finds none takes the word path all the same).
        slots.allocate();
        // We hold the lock shared, so no writer holds it and none can clear BIAS before it has
        // waited for us. (If one claimed the lock meanwhile, slot readers still see WAITING and
        // stay out, and its acquisition clears BIAS again.)
        self.state.fetch_or(BIAS, Ordering::Release);
    }

    /// Releases a shared hold.
    ///
    /// # Safety
    /// `hold` is a shared hold of this lock (taken with the same slots).
    #[inline]
    pub unsafe fn unlock_shared(&self, hold: ReadHold<'_>) {
        match hold.0 {
            Some(slot) => {
                free_slot(slot);
                // A claimant parked on a slot waits for this (see `drain_slots`).
                dekker_fence();
                if self.state.load(Ordering::Relaxed) & WRITER_PARKED != 0
                    && !cfg!(planted_bug_slot_release_no_wake)
                {
                    self.wake_claimant();
                }
            }
            None => {
                read_hold_given();
                self.unlock_shared_word();
            }
        }
    }

    /// Gives back one word-path reader count.
    #[inline]
    fn unlock_shared_word(&self) {
        let prev = self.state.fetch_sub(ONE_READER, Ordering::Release);
        // The last reader leaves and the claiming writer sleeps: it waits for exactly this.
        if prev & (READERS | WRITER_PARKED) == ONE_READER | WRITER_PARKED {
            self.wake_claimant();
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
        // in a lock without slots. Word-path reads since the last write leave tick bits alone:
        // a second CAS from the value the first one returned takes the lock and clears them,
        // as the slow path would, without its call (no extra load: the line is already this
        // core's). Anything else (BIAS, holders, a lost race) takes the cold path.
        if let Err(state) =
            self.state
                .compare_exchange(0, WRITER, Ordering::SeqCst, Ordering::Relaxed)
        {
            if state & !TICKS != 0
                || self
                    .state
                    .compare_exchange(state, WRITER, Ordering::SeqCst, Ordering::Relaxed)
                    .is_err()
            {
                self.lock_exclusive_slow(slots);
            }
        }
    }

    /// The writer's slow path in two phases. **Claim**: wait until no writer holds or claims the
    /// lock, then either take it (free and unbiased) or set `WAITING`, which holds back every
    /// new reader but those that already hold a read. **Drain**: wait for the readers inside to
    /// leave, through their slots and through the word, then turn `WAITING` into `WRITER` (and
    /// clear `BIAS`) in one CAS.
    #[cold]
    fn lock_exclusive_slow(&self, slots: Slots<'_>) {
        let mut spin = Spin::new();
        let mut waited = false;
        // Whether this writer came back from the lock queue (and so may be the woken one).
        let mut woken = false;
        let mut state = self.state.load(Ordering::Relaxed);
        let claimed = loop {
            if state & (WRITER | WAITING) == 0 {
                // Taking or claiming the lock ends the woken writer's turn: its release wakes
                // the queue. (A writer that came back from the queue without being the one
                // woken clears WOKEN too; that only costs a wake-up.) Other writers leave it:
                // while the woken one is awake, their releases need not wake another.
                let woken_bit = if woken { WOKEN } else { 0 };
                let free = state & (READERS | BIAS) == 0;
                let new = if free {
                    (state & !(TICKS | woken_bit)) | WRITER
                } else {
                    (state & !woken_bit) | WAITING
                };
                match self.state.compare_exchange_weak(
                    state,
                    new,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) if free => {
                        self.count_wait(waited);
                        return;
                    }
                    Ok(_) => break state,
                    Err(now) => {
                        state = now;
                        continue;
                    }
                }
            }
            waited = true;
            // A writer spins while nobody is parked, and the woken writer spins as well: while
            // it is awake (WOKEN), releases do not wake another one, so it competes for the
            // lock as an arriving writer would instead of parking straight away.
            if (state & PARKED == 0 || woken) && spin.spin() {
                state = self.state.load(Ordering::Relaxed);
                continue;
            }
            // Parking: set PARKED, and clear WOKEN, so that the release we now wait for wakes
            // a writer. `--cfg planted_bug_woken_not_cleared` leaves WOKEN set (a planted bug:
            // that release then wakes nobody; the loom models must catch it).
            let clear = if cfg!(planted_bug_woken_not_cleared) {
                0
            } else {
                WOKEN
            };
            if state & (PARKED | clear) != PARKED {
                if let Err(now) = self.state.compare_exchange_weak(
                    state,
                    (state | PARKED) & !clear,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    state = now;
                    continue;
                }
            }
            self.count_park();
            self.parker.park(
                &self.state,
                Waiter::Writer,
                || {
                    let state = self.state.load(Ordering::Relaxed);
                    state & PARKED != 0 && state & (WRITER | WAITING) != 0
                },
                None,
            );
            woken = true;
            spin.reset();
            state = self.state.load(Ordering::Relaxed);
        };
        // We are the claimant. If BIAS was set when we claimed, slot readers may be inside: wait
        // for each slot to be free. (If BIAS was clear, none can be: BIAS is cleared only by a
        // writer that saw every slot free, and a reader that sets it later finds WAITING.)
        if claimed & BIAS != 0 {
            waited |= self.drain_slots(slots);
        }
        waited |= self.drain_word_readers();
        self.count_wait(waited);
    }

    /// Called by the claimant with `BIAS` set: waits until every slot of the lock is free. New
    /// slot readers validate against `WAITING` and stay out, so each slot, once seen free, stays
    /// free for good (a reader that sets it and backs out only delays the scan). Returns whether
    /// it had to wait.
    ///
    /// A held slot: spin a little, then set `WRITER_PARKED` and park on the claimant queue. A slot
    /// reader's unlock stores 0 and then loads the word; seeing `WRITER_PARKED` it wakes the
    /// claimant ([`RawRwLock::unlock_shared`]). That store and load are plain (a fence would cost
    /// every read a barrier), so the load may be served before the store is visible, in the very
    /// moment the claimant sets the flag and sees the slot still held: the park has a backstop of
    /// [`SLOT_PARK_BACKSTOP_MILLIS`] for that one interleaving. Under loom and Miri the two sides
    /// carry `SeqCst` fences ([`dekker_fence`]), and the models check that no wake-up is lost.
    #[cold]
    fn drain_slots(&self, slots: Slots<'_>) -> bool {
        // The writer's side of the Dekker pair: WAITING was set (SeqCst CAS), now the slots.
        dekker_fence();
        let mut spin = Spin::new();
        let mut waited = false;
        while let Some(slot) = slots.first_held() {
            waited = true;
            if spin.spin() {
                continue;
            }
            let state = self.state.load(Ordering::Relaxed);
            if state & WRITER_PARKED == 0
                && self
                    .state
                    .compare_exchange_weak(
                        state,
                        state | WRITER_PARKED,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_err()
            {
                continue;
            }
            // Pairs with the fence in `unlock_shared`: either the reader sees WRITER_PARKED and
            // wakes us, or we see its slot free in `validate`.
            dekker_fence();
            self.count_park();
            self.parker.park(
                &self.state,
                Waiter::Claimant,
                || {
                    self.state.load(Ordering::Relaxed) & WRITER_PARKED != 0
                        && slot.load(Ordering::Relaxed) != 0
                },
                Some(Deadline::after_millis(SLOT_PARK_BACKSTOP_MILLIS)),
            );
            spin.reset();
        }
        waited
    }

    /// Called by the claimant once no slot is held: waits until the word's reader count is zero
    /// (readers that passed `WAITING` because they hold a read, and readers that added their
    /// count optimistically and are giving it back), then takes the lock. Returns whether it
    /// had to wait.
    fn drain_word_readers(&self) -> bool {
        let mut spin = Spin::new();
        let mut waited = false;
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & READERS == 0 {
                // WAITING -> WRITER; BIAS is cleared (every slot was seen free after WAITING was
                // set, and none can be validated since). Ticks reset; if the lock was biased,
                // to one read short of the threshold, so that the next word-path read biases
                // it again.
                let ticks = if state & BIAS != 0 {
                    (BIAS_AFTER - 1) * ONE_TICK
                } else {
                    0
                };
                let new = (state & !(WAITING | WRITER_PARKED | BIAS | TICKS)) | ticks | WRITER;
                match self.state.compare_exchange_weak(
                    state,
                    new,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return waited,
                    Err(now) => {
                        state = now;
                        continue;
                    }
                }
            }
            waited = true;
            if state & WRITER_PARKED == 0 {
                if spin.spin() {
                    state = self.state.load(Ordering::Relaxed);
                    continue;
                }
                if let Err(now) = self.state.compare_exchange_weak(
                    state,
                    state | WRITER_PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    state = now;
                    continue;
                }
            }
            self.count_park();
            self.parker.park(
                &self.state,
                Waiter::Claimant,
                || {
                    let state = self.state.load(Ordering::Relaxed);
                    state & WRITER_PARKED != 0 && state & READERS != 0
                },
                None,
            );
            spin.reset();
            state = self.state.load(Ordering::Relaxed);
        }
    }

    /// Takes the lock exclusively if nobody holds or claims it; never blocks.
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
            if state & (READERS | WRITER | WAITING) != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                (state & (PARKED | BIAS)) | WRITER,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return state & BIAS == 0 || self.try_revoke_bias(slots),
                Err(now) => state = now,
            }
        }
    }

    /// Called by `try_lock_exclusive` with `WRITER` just set over `BIAS`: if every slot of the
    /// lock is free, clears `BIAS` (`true`: the caller holds the lock); otherwise backs off
    /// (`false`: `WRITER` is clear again, and threads that parked behind it meanwhile are woken).
    #[cold]
    fn try_revoke_bias(&self, slots: Slots<'_>) -> bool {
        dekker_fence();
        if slots.first_held().is_some() {
            let prev = self.state.fetch_sub(WRITER, Ordering::Release);
            if prev & PARKED != 0 {
                self.wake_all();
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
        // With a woken writer still awake (WOKEN), no wake-up: that writer takes the lock (and
        // its release wakes the queue) or clears WOKEN before it parks again, and its park
        // re-checks the lock under the parking layer's lock. So parked readers and writers
        // wait at most one more critical section, and a release under contention costs no
        // system call while the woken writer competes.
        if prev & (PARKED | WOKEN) == PARKED && !cfg!(planted_bug_lost_wakeup) {
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
        read_hold_taken();
        if prev & PARKED != 0 {
            // Parked readers may now proceed; parked writers wake, one claims the lock.
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

    /// The read path's slow path: our optimistic add found a writer holding or claiming the lock.
    #[cold]
    fn lock_shared_slow(&self, slots: Slots<'_>, prev: usize) {
        // A writer claims the lock but does not hold it, and this thread holds a read (perhaps of
        // this lock, which the writer then waits for): keep the count and go in.
        if prev & WRITER == 0 && Self::holds_a_read(slots) {
            return;
        }
        // Give the count back exactly as an unlock would, so a claimant that parked behind our
        // phantom count is woken. (Its tick stays: ticks are a heuristic, and the writer's
        // acquisition resets them.)
        self.unlock_shared_word();
        let mut spin = Spin::new();
        let mut held_back = true;
        let mut deadline = None;
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if Self::reader_may_enter(state, held_back) {
                match self.state.compare_exchange_weak(
                    state,
                    state + ONE_READER,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break,
                    Err(now) => {
                        state = now;
                        continue;
                    }
                }
            }
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
            // Held back by a claimant only (no writer holds the lock): wait at most
            // HOLD_BACK_MILLIS in all (see there), then go in beside it.
            let until = if state & WRITER == 0 {
                Some(*deadline.get_or_insert_with(|| Deadline::after_millis(HOLD_BACK_MILLIS)))
            } else {
                None
            };
            self.count_park();
            let timed_out = self.parker.park(
                &self.state,
                Waiter::Reader,
                || {
                    let state = self.state.load(Ordering::Relaxed);
                    state & PARKED != 0 && !Self::reader_may_enter(state, held_back)
                },
                until,
            );
            if timed_out {
                held_back = false;
            }
            spin.reset();
            state = self.state.load(Ordering::Relaxed);
        }
        self.count_wait(true);
    }

    /// Wakes every reader and one writer parked on the lock queue (they re-check the state, and
    /// park again if the lock is still unavailable to them), and clears `PARKED` if nobody stays
    /// parked. Readers all may go in at once; writers would only race for the next claim and all
    /// but one park again, so one is woken per release.
    #[cold]
    fn wake_all(&self) {
        // PARKED is cleared inside the parking layer's critical section, only if no thread stays
        // parked: a thread that parks later must first set PARKED again by its own CAS, and its
        // `validate` (which re-checks PARKED) runs under the same lock.
        self.parker
            .unpark_readers_and_a_writer(&self.state, |more_parked, writer_woken| {
                if !more_parked {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                } else if writer_woken {
                    // Others stay parked: until the woken writer takes the lock or parks
                    // again, a writer's release need not wake another one.
                    self.state.fetch_or(WOKEN, Ordering::Relaxed);
                }
            });
    }

    /// Clears `WRITER_PARKED` and wakes the claimant. Called by the reader whose release left
    /// the count at zero; the claimant re-checks and takes the lock.
    #[cold]
    fn wake_claimant(&self) {
        if cfg!(planted_bug_lost_claimant_wakeup) {
            return;
        }
        // As in `wake_all`: a claimant that parks after the clear must set WRITER_PARKED again
        // first, and validates under the parking layer's lock.
        self.state.fetch_and(!WRITER_PARKED, Ordering::Relaxed);
        self.parker.unpark_claimant(&self.state);
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

    /// A lock whose readers start on their slots (`bias`) or on the word.
    fn lock_with_bias(bias: bool, table: &ReaderSlots) -> RawRwLock {
        if bias {
            RawRwLock::biased(table)
        } else {
            RawRwLock::new()
        }
    }

    /// Takes `lock` shared with `s` and releases it at once; whether the hold was a slot hold.
    fn read_once(lock: &RawRwLock, s: Slots<'_>) -> bool {
        let hold = lock.lock_shared_own(s);
        let slot = hold.is_slot();
        // SAFETY: taken just above, with the same slots.
        unsafe { lock.unlock_shared(hold) };
        slot
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
    fn every_lock_and_row_has_its_own_slot_inside_the_table() {
        // 130 locks: three blocks per row, the last one partly used.
        let locks = 2 * SLOTS_PER_BLOCK + 2;
        let slots = ReaderSlots::new(locks);
        slots.allocate();
        let first = slots.first_block().unwrap().as_ptr() as usize;
        let end = first + slots.block_count * BLOCK_BYTES;
        let mut seen = std::collections::HashSet::new();
        for index in 0..locks {
            let all: Vec<&AtomicU8> = slots.of(index).all().collect();
            assert_eq!(all.len(), slots.rows);
            for slot in all {
                let addr = core::ptr::from_ref(slot) as usize;
                assert!((first..end).contains(&addr), "slot outside the table");
                assert!(seen.insert(addr), "two (lock, row) pairs share a slot");
            }
        }
        // Setting one lock's slot in one row is seen by that lock only.
        let taken = slots.of(SLOTS_PER_BLOCK + 1).all().last().unwrap();
        taken.store(1, Ordering::Relaxed);
        for index in 0..locks {
            assert_eq!(slots.of(index).any_held(), index == SLOTS_PER_BLOCK + 1);
        }
        // The calling thread's slot is one of its lock's, once it has settled on a row.
        settle_row();
        let mine = core::ptr::from_ref(slots.of(3).mine().unwrap());
        assert!(slots.of(3).all().any(|s| core::ptr::eq(s, mine)));
    }

    #[test]
    fn a_thread_reads_through_the_word_until_its_first_slot_read_settles_its_row() {
        // A fresh thread: its first read of a biased lock lands on the always-taken row, goes
        // through the word, and gives the thread its own row; its next read takes its slot.
        let slots = Arc::new(ReaderSlots::new(2));
        let lock = Arc::new(RawRwLock::biased(&slots));
        let (lock2, slots2) = (lock.clone(), slots.clone());
        std::thread::spawn(move || {
            assert_eq!(row_offset(), 0);
            assert!(
                slots2.of(1).mine().is_none(),
                "an unsettled thread has no slot"
            );
            let first = lock2.lock_shared_own(slots2.of(1));
            assert!(!first.is_slot());
            assert_eq!(held_bits(&lock2), BIAS | ONE_READER);
            // SAFETY: taken just above.
            unsafe { lock2.unlock_shared(first) };
            assert_ne!(row_offset(), 0);
            let second = lock2.lock_shared_own(slots2.of(1));
            assert!(second.is_slot());
            assert_eq!(held_bits(&lock2), BIAS);
            let own = slots2.of(1).mine().expect("settled");
            assert!(core::ptr::eq(
                own,
                slots2
                    .of(1)
                    .all()
                    .find(|s| s.load(Ordering::Relaxed) != 0)
                    .unwrap()
            ));
            // SAFETY: taken just above.
            unsafe { lock2.unlock_shared(second) };
        })
        .join()
        .unwrap();
        // The always-taken row is never seen as a reader: a writer gets in at once.
        assert!(lock.try_lock_exclusive_own(slots.of(1)));
        // SAFETY: taken just above.
        unsafe { lock.unlock_exclusive() };
    }

    #[test]
    #[should_panic(expected = "has no reader slots")]
    fn slots_of_a_lock_beyond_the_table_panic() {
        let _ = ReaderSlots::new(3).of(SLOTS_PER_BLOCK);
    }

    #[test]
    fn a_run_of_reads_biases_and_a_write_revokes() {
        settle_row();
        let slots = ReaderSlots::new(3);
        let s = slots.of(2);
        let lock = RawRwLock::new();
        for _ in 0..BIAS_AFTER {
            assert!(!read_once(&lock, s), "biased before the run was complete");
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
        assert!(!read_once(&lock, s));
        // The other locks' slots were never touched.
        assert!((0..3).all(|i| i == 2 || !slots.of(i).any_held()));
    }

    #[test]
    fn a_write_that_revokes_the_bias_leaves_the_lock_one_read_from_biased() {
        settle_row();
        let slots = ReaderSlots::new(1);
        let s = slots.of(0);
        let lock = RawRwLock::new();
        let read = |expect_slot: bool| assert_eq!(read_once(&lock, s), expect_slot);
        let write = || {
            lock.lock_exclusive_own(s);
            // SAFETY: taken just above.
            unsafe { lock.unlock_exclusive() };
        };
        // An unbiased lock: a write resets the run, which then takes BIAS_AFTER reads.
        read(false);
        write();
        for _ in 0..BIAS_AFTER {
            read(false);
        }
        assert_eq!(held_bits(&lock), BIAS);
        read(true);
        // A write that revokes the bias: one word-path read biases the lock again.
        write();
        assert_eq!(held_bits(&lock), 0);
        read(false);
        assert_eq!(held_bits(&lock), BIAS);
        read(true);
        // A write after a write (no read between): the run starts over.
        write();
        write();
        for _ in 0..BIAS_AFTER {
            read(false);
        }
        read(true);
    }

    #[test]
    fn writer_waits_for_reader_and_is_woken() {
        settle_row();
        for bias in [false, true] {
            let slots = Arc::new(ReaderSlots::new(1));
            let lock = Arc::new(lock_with_bias(bias, &slots));
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
        settle_row();
        let slots = Arc::new(ReaderSlots::new(1));
        let lock = Arc::new(RawRwLock::biased(&slots));
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

    /// Spins until `lock`'s state has `bit` set (a writer has reached that step).
    fn wait_for_bit(lock: &RawRwLock, bit: usize) {
        let start = std::time::Instant::now();
        while lock.state.load(Ordering::Relaxed) & bit == 0 {
            assert!(start.elapsed().as_secs() < 30, "bit {bit:#b} never set");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_claiming_writer_holds_back_new_readers_and_lets_nested_ones_pass() {
        for bias in [false, true] {
            let slots = Arc::new(ReaderSlots::new(1));
            let lock = Arc::new(lock_with_bias(bias, &slots));
            let outer = lock.lock_shared_own(slots.of(0));
            let (t, rx) = spawn_writer(&lock, &slots);
            wait_for_bit(&lock, WAITING);
            // This thread holds a read: its nested reads pass the claimant, on both paths.
            let nested = lock
                .try_lock_shared_own(slots.of(0))
                .expect("a nested try-read was held back");
            let blocking = lock.lock_shared_own(slots.of(0));
            assert!(!nested.is_slot() && !blocking.is_slot());
            // A thread that holds nothing is held back (and a try-writer finds it claimed).
            let other = {
                let (lock, slots) = (lock.clone(), slots.clone());
                std::thread::spawn(move || {
                    let held_back = lock.try_lock_shared_own(slots.of(0)).is_none();
                    (held_back, lock.try_lock_exclusive_own(slots.of(0)))
                })
            };
            assert_eq!(other.join().unwrap(), (true, false), "bias: {bias}");
            assert!(rx.try_recv().is_err(), "writer got in beside readers");
            // SAFETY: the three holds were taken above.
            unsafe {
                lock.unlock_shared(nested);
                lock.unlock_shared(blocking);
                lock.unlock_shared(outer);
            }
            rx.recv_timeout(std::time::Duration::from_secs(30))
                .expect("writer never got the lock after the readers left");
            t.join().unwrap();
            assert_eq!(held_bits(&lock), 0, "bias: {bias}");
        }
    }

    #[test]
    fn a_reader_held_back_by_a_claimant_is_delayed_not_deadlocked() {
        // This thread holds a read and waits for another thread's read of the same lock, with a
        // writer claiming in between (a dependency the lock cannot see; also what a read guard
        // moved between threads looks like). The other reader goes in after HOLD_BACK_MILLIS.
        let slots = Arc::new(ReaderSlots::new(1));
        let lock = Arc::new(RawRwLock::new());
        let outer = lock.lock_shared_own(slots.of(0));
        let (t, rx) = spawn_writer(&lock, &slots);
        wait_for_bit(&lock, WAITING);
        let started = std::time::Instant::now();
        let reader = {
            let (lock, slots) = (lock.clone(), slots.clone());
            std::thread::spawn(move || {
                let hold = lock.lock_shared_own(slots.of(0));
                // SAFETY: taken just above.
                unsafe { lock.unlock_shared(hold) };
            })
        };
        reader.join().unwrap();
        if !cfg!(miri) {
            assert!(started.elapsed() >= std::time::Duration::from_millis(HOLD_BACK_MILLIS));
        }
        assert!(rx.try_recv().is_err(), "writer got in beside a reader");
        // SAFETY: taken at the top.
        unsafe { lock.unlock_shared(outer) };
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("writer never got the lock after the reader left");
        t.join().unwrap();
        assert_eq!(held_bits(&lock), 0);
    }

    #[test]
    fn counter_under_contention() {
        const THREADS: usize = 8;
        let iters: usize = if cfg!(miri) { 20 } else { 20_000 };
        struct Shared(RawRwLock, ReaderSlots, crate::raw::sync::UnsafeCell<usize>);
        // SAFETY: the cell is only touched under the lock.
        unsafe impl Sync for Shared {}
        let shared = Arc::new(Shared(
            RawRwLock::new(),
            ReaderSlots::new(1),
            crate::raw::sync::UnsafeCell::new(0),
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
