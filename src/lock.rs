//! The shard lock: a reader-preferring reader-writer lock in one atomic word.
//!
//! # Algorithm
//!
//! A counting reader-writer lock in the style of `parking_lot::RawRwLock`, simplified to a
//! reader-preferring policy: the uncontended paths are one atomic read-modify-write each, a
//! contended thread spins a bounded number of times and then parks on the state word's address
//! (through [`crate::sync::Parker`]); an unlock that sees [`PARKED`] wakes every parked thread and
//! lets them race again.
//!
//! # State word
//!
//! ```text
//!  usize bits:  [ 63 ........................ 2 ][    1   ][   0    ]
//!               [ number of readers (x ONE_READER) ][ WRITER ][ PARKED ]
//! ```
//!
//! - [`PARKED`] (bit 0): a thread is parked, or about to park, on this lock. It is set by a waiter
//!   (and re-checked under the parking layer's lock before sleeping); it is cleared only by a
//!   thread that then wakes every parked thread.
//! - [`WRITER`] (bit 1): a writer holds the lock. Never set while the reader count is non-zero,
//!   except transiently (see below).
//! - bits 2 and up: the reader count. A reader takes the lock with `fetch_add(ONE_READER)`; if that
//!   add finds [`WRITER`] set it gives its count back (exactly as an unlock would) and waits. So
//!   while a writer holds the lock, the count may briefly include such readers; they never touch
//!   the data.
//!
//! # Invariants
//!
//! - The lock is held exclusively iff `WRITER` is set, shared iff the count is non-zero and
//!   `WRITER` is clear.
//! - A thread only parks while it has seen `PARKED` set and the lock held in a mode that excludes
//!   it; the thread that releases that hold sees `PARKED` and wakes it.
//! - Memory ordering: every acquisition is `Acquire`, every release `Release`, so a reader sees all
//!   writes of the writer before it, and a writer sees all reads of earlier readers completed.
//!
//! The reader count has 62 bits; it cannot overflow in practice (that would take 2^62 leaked
//! guards).

use crate::sync::{AtomicUsize, Ordering, Parker, Spin};

/// A thread is parked (or about to park) on the state word.
const PARKED: usize = 0b01;
/// A writer holds the lock.
const WRITER: usize = 0b10;
/// One reader, in the reader count held in bits 2 and up.
const ONE_READER: usize = 0b100;
/// The reader-count bits.
const READERS: usize = !(PARKED | WRITER);

const _: () = assert!(ONE_READER == (PARKED | WRITER) + 1);

/// The ordering of the read-lock fast path. `--cfg planted_bug_weak_ordering` weakens it to
/// `Relaxed` (a planted bug: the loom models must catch it; see `loom-tests/`).
const READ_ACQUIRE: Ordering = if cfg!(planted_bug_weak_ordering) {
    Ordering::Relaxed
} else {
    Ordering::Acquire
};
// `downgrade` turns WRITER into one reader with a single add.
const _: () = assert!(ONE_READER - WRITER == WRITER);

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
/// Locking: see the policy above.
#[derive(Debug)]
pub struct RawRwLock {
    state: AtomicUsize,
    parker: Parker,
}

impl Default for RawRwLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RawRwLock {
    /// A new, unlocked lock.
    ///
    /// Locking: none.
    pub fn new() -> Self {
        Self {
            state: AtomicUsize::new(0),
            parker: Parker::new(),
        }
    }

    /// Takes the lock shared, blocking while a writer holds it.
    ///
    /// Locking: blocks while a writer holds the lock.
    #[inline]
    pub fn lock_shared(&self) {
        let prev = self.state.fetch_add(ONE_READER, READ_ACQUIRE);
        if prev & WRITER != 0 {
            self.lock_shared_slow();
        }
    }

    /// Takes the lock shared if no writer holds it; never blocks.
    ///
    /// Locking: never blocks.
    #[inline]
    pub fn try_lock_shared(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & WRITER != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state + ONE_READER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Releases a shared hold.
    ///
    /// # Safety
    /// The caller holds the lock shared (and gives up that hold).
    #[inline]
    pub unsafe fn unlock_shared(&self) {
        let prev = self.state.fetch_sub(ONE_READER, Ordering::Release);
        // The last reader leaves, no writer holds the lock, and someone is parked: a writer waits
        // for exactly this moment.
        if prev & (READERS | WRITER) == ONE_READER && prev & PARKED != 0 {
            self.wake_all();
        }
    }

    /// Takes the lock exclusively, blocking while anyone holds it.
    ///
    /// Locking: blocks while anyone holds the lock.
    #[inline]
    pub fn lock_exclusive(&self) {
        if self
            .state
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_exclusive_slow();
        }
    }

    /// Takes the lock exclusively if nobody holds it; never blocks.
    ///
    /// Locking: never blocks.
    #[inline]
    pub fn try_lock_exclusive(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & (READERS | WRITER) != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state | WRITER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
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

    /// Turns an exclusive hold into a shared one without letting a writer in between.
    ///
    /// # Safety
    /// The caller holds the lock exclusively; afterwards it holds it shared.
    #[inline]
    pub unsafe fn downgrade(&self) {
        // WRITER -> ONE_READER in one add (checked by a const assertion above).
        let prev = self.state.fetch_add(ONE_READER - WRITER, Ordering::Release);
        if prev & PARKED != 0 {
            // Parked readers may now proceed; parked writers wake, find a reader and park again.
            self.wake_all();
        }
    }

    /// Whether the lock is held exclusively (a racy snapshot, for diagnostics and tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_locked_exclusive(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WRITER != 0
    }

    /// Whether the lock is held in any mode (a racy snapshot, for diagnostics and tests).
    pub(crate) fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & (READERS | WRITER) != 0
    }

    #[cold]
    fn lock_shared_slow(&self) {
        // Our optimistic add found a writer: give the count back exactly as an unlock would, so a
        // writer that parked behind our phantom count is woken.
        // SAFETY: the add in `lock_shared` counted us as a reader; this releases that count.
        unsafe { self.unlock_shared() };
        self.lock_slow(WRITER, ONE_READER);
    }

    #[cold]
    fn lock_exclusive_slow(&self) {
        self.lock_slow(READERS | WRITER, WRITER);
    }

    /// The one slow path of both modes: wait until none of the `blocked_by` bits is set, then add
    /// `add` (`ONE_READER`, or `WRITER`, which is clear at that point). Spins a bounded number of
    /// times, then sets `PARKED` and parks while the lock is still held against this mode.
    /// `PARKED` is kept when acquiring: threads still parked are woken at the next release.
    fn lock_slow(&self, blocked_by: usize, add: usize) {
        let mut spin = Spin::new();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & blocked_by == 0 {
                match self.state.compare_exchange_weak(
                    state,
                    state + add,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
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

    #[test]
    fn uncontended_modes() {
        let lock = RawRwLock::new();
        assert!(!lock.is_locked());
        lock.lock_shared();
        lock.lock_shared();
        assert!(lock.is_locked() && !lock.is_locked_exclusive());
        assert!(!lock.try_lock_exclusive());
        assert!(lock.try_lock_shared());
        // SAFETY: three shared holds were taken above.
        unsafe {
            lock.unlock_shared();
            lock.unlock_shared();
            lock.unlock_shared();
        }
        assert!(!lock.is_locked());
        lock.lock_exclusive();
        assert!(lock.is_locked_exclusive());
        assert!(!lock.try_lock_shared());
        assert!(!lock.try_lock_exclusive());
        // SAFETY: held exclusively above; afterwards held shared once.
        unsafe { lock.downgrade() };
        assert!(!lock.is_locked_exclusive() && lock.is_locked());
        assert!(lock.try_lock_shared());
        // SAFETY: two shared holds.
        unsafe {
            lock.unlock_shared();
            lock.unlock_shared();
        }
        assert_eq!(lock.state.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn writer_waits_for_reader_and_is_woken() {
        let lock = Arc::new(RawRwLock::new());
        lock.lock_shared();
        let (tx, rx) = mpsc::channel();
        let t = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                lock.lock_exclusive();
                tx.send(()).unwrap();
                // SAFETY: taken just above.
                unsafe { lock.unlock_exclusive() };
            })
        };
        let wait = std::time::Duration::from_millis(if cfg!(miri) { 1 } else { 50 });
        assert!(
            rx.recv_timeout(wait).is_err(),
            "writer got in beside a reader"
        );
        // SAFETY: taken at the top.
        unsafe { lock.unlock_shared() };
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("writer was never woken");
        t.join().unwrap();
        assert_eq!(lock.state.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn counter_under_contention() {
        const THREADS: usize = 8;
        let iters: usize = if cfg!(miri) { 20 } else { 20_000 };
        struct Shared(RawRwLock, crate::sync::UnsafeCell<usize>);
        // SAFETY: the cell is only touched under the lock.
        unsafe impl Sync for Shared {}
        let shared = Arc::new(Shared(RawRwLock::new(), crate::sync::UnsafeCell::new(0)));
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let s = shared.clone();
                std::thread::spawn(move || {
                    for _ in 0..iters {
                        if i % 2 == 0 {
                            s.0.lock_exclusive();
                            // SAFETY: exclusive lock held.
                            unsafe {
                                *s.1.get_mut().deref() += 1;
                                s.0.unlock_exclusive();
                            }
                        } else {
                            s.0.lock_shared();
                            // SAFETY: shared lock held; no writer can overlap.
                            unsafe {
                                let _ = *s.1.get().deref();
                                s.0.unlock_shared();
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
        let total = unsafe { *shared.1.get().deref() };
        assert_eq!(total, iters * THREADS / 2);
        assert_eq!(shared.0.state.load(Ordering::Relaxed), 0);
    }
}
