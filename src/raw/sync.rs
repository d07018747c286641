//! The one place the crate takes its synchronization primitives from, and only primitives:
//! atomics, the `UnsafeCell` that holds shard data, spinning, parking and thread numbers. Policy
//! (slot geometry, default shard count and hasher, map ids) lives in the modules that own it,
//! with `cfg!(loom)` where a model needs other values. The
//! module has two bodies: the normal one (std atomics, `parking_lot_core` for parking) and, under
//! `--cfg loom`, one built on loom, so that loom model-checks the real lock state machine and every
//! access to shard data. No other file imports `std::sync::atomic` or `core::cell::UnsafeCell`.
//!
//! The std body mirrors loom's API (`UnsafeCell::get` returning a pointer object whose lifetime marks
//! the access), not the other way round, so the code above is written once.

pub(crate) use imp::*;

/// An atomic word that neither loom nor the deadlock check tracks, for hints no correctness rests
/// on (`prefetch::ProbeHint`): under loom a tracked word would make each read of it a scheduling
/// point of every model.
pub(crate) use core::sync::atomic::AtomicUsize as HintWord;

#[cfg(not(loom))]
mod imp {
    use core::marker::PhantomData;
    #[cfg(deadlock_check)]
    pub(crate) use core::sync::atomic::{AtomicBool, AtomicU64};
    pub(crate) use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};

    /// A cell whose accesses are marked by the lifetime of the pointer objects it hands out.
    ///
    /// In the std build this is `core::cell::UnsafeCell` with loom's method names; under loom the
    /// pointer objects tell the model checker when an access starts and ends.
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[inline]
        pub(crate) fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        #[inline]
        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Exclusive access proven by `&mut self`: no lock and no tracking needed.
        #[inline]
        pub(crate) fn get_exclusive(&mut self) -> &mut T {
            self.0.get_mut()
        }

        /// Starts a shared access; it lasts as long as the returned `ConstPtr`.
        #[inline]
        pub(crate) fn get(&self) -> ConstPtr<T> {
            ConstPtr(self.0.get(), PhantomData)
        }

        /// Starts an exclusive access; it lasts as long as the returned `MutPtr`.
        #[inline]
        pub(crate) fn get_mut(&self) -> MutPtr<T> {
            MutPtr(self.0.get(), PhantomData)
        }
    }

    /// A shared access to the contents of an [`UnsafeCell`].
    #[derive(Debug)]
    pub(crate) struct ConstPtr<T: ?Sized>(*const T, PhantomData<*const ()>);

    impl<T: ?Sized> ConstPtr<T> {
        /// # Safety
        /// No exclusive access to the same cell may overlap the returned reference.
        #[inline]
        pub(crate) unsafe fn deref(&self) -> &T {
            // SAFETY: the caller guarantees no overlapping exclusive access; the pointer came from
            // a live `UnsafeCell`, which outlives `self` by construction.
            unsafe { &*self.0 }
        }
    }

    /// An exclusive access to the contents of an [`UnsafeCell`].
    #[derive(Debug)]
    pub(crate) struct MutPtr<T: ?Sized>(*mut T, PhantomData<*const ()>);

    impl<T: ?Sized> MutPtr<T> {
        /// # Safety
        /// No other access to the same cell may overlap the returned reference.
        #[inline]
        #[allow(clippy::mut_from_ref)]
        pub(crate) unsafe fn deref(&self) -> &mut T {
            // SAFETY: the caller guarantees exclusivity for the lifetime of the reference.
            unsafe { &mut *self.0 }
        }

        /// Calls `f` with the raw pointer (loom's API), for a shared reborrow that must not go
        /// through a `&mut` (`WriteGuard`'s `Deref`).
        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0)
        }
    }

    /// Bounded spinning before a thread parks (exponential `spin_loop`, then a few yields).
    pub(crate) struct Spin(parking_lot_core::SpinWait);

    impl Spin {
        #[inline]
        pub(crate) fn new() -> Self {
            Self(parking_lot_core::SpinWait::new())
        }

        /// Spins once more; `false` once the budget is spent and the caller should park.
        #[inline]
        pub(crate) fn spin(&mut self) -> bool {
            self.0.spin()
        }

        #[inline]
        pub(crate) fn reset(&mut self) {
            self.0.reset()
        }
    }

    /// The `SeqCst` fence the reader-slot protocol puts between its two Dekker steps, for the
    /// checkers only. Natively the steps are themselves `SeqCst`, which in the C++20 model
    /// already forbids the outcome the fence rules out (see `lock.rs`), so this is nothing.
    /// Under Miri it is a real fence: Miri's weak-memory emulation follows the pre-C++20 rules
    /// for `SeqCst` accesses mixed with weaker ones on the same location and produces outcomes
    /// C++20 forbids (rust-lang/miri#2301, #5104), which it then reports as data races; with
    /// the fences the pattern is the classic fence-based one it models correctly. (loom has the
    /// same need, see the loom body.)
    #[inline(always)]
    pub(crate) fn dekker_fence() {
        if cfg!(miri) {
            core::sync::atomic::fence(Ordering::SeqCst);
        }
    }

    /// Frees a reader slot: a plain release store (no locked instruction).
    #[inline(always)]
    pub(crate) fn free_slot(slot: &AtomicU8) {
        slot.store(0, Ordering::Release);
    }

    /// This thread's number, handed out round-robin on first use; maps take it modulo their row
    /// count to pick the thread's row of reader slots.
    #[inline]
    pub(crate) fn thread_number() -> usize {
        use core::cell::Cell;
        use core::sync::atomic::AtomicUsize;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        std::thread_local!(static NUMBER: Cell<usize> = const { Cell::new(usize::MAX) });
        NUMBER.with(|n| {
            let mut v = n.get();
            if v == usize::MAX {
                v = NEXT.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1);
                n.set(v);
            }
            v
        })
    }

    std::thread_local!(static READ_HOLDS: Cell<usize> = const { Cell::new(0) });
    use core::cell::Cell;

    /// Word-path read holds this thread has taken and not given back, on any lock (wrapping: a hold that
    /// moved to another thread is counted where it was taken and given back where it dropped).
    #[inline]
    pub(crate) fn read_holds() -> usize {
        READ_HOLDS.with(Cell::get)
    }

    /// Counts a read hold taken on this thread.
    #[inline]
    pub(crate) fn read_hold_taken() {
        READ_HOLDS.with(|n| n.set(n.get().wrapping_add(1)));
    }

    /// Counts a read hold given back on this thread.
    #[inline]
    pub(crate) fn read_hold_given() {
        READ_HOLDS.with(|n| n.set(n.get().wrapping_sub(1)));
    }

    /// When a parked thread stops waiting whether or not it was woken.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Deadline(std::time::Instant);

    impl Deadline {
        /// `millis` milliseconds from now.
        #[cold]
        pub(crate) fn after_millis(millis: u64) -> Self {
            Self(std::time::Instant::now() + std::time::Duration::from_millis(millis))
        }
    }

    /// Who parks on a lock. Readers and writers share the lock's queue (keyed by the state
    /// word's address) and are told apart by their park token, so a release can wake every reader
    /// and one writer; the claimant (the writer that claimed the lock and waits for the readers
    /// inside) has a queue of its own, woken alone by the last reader to leave.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Waiter {
        /// A reader waiting for a writer to release or give up the lock.
        Reader,
        /// A writer waiting for another writer to release or give up the lock.
        Writer,
        /// The claimant.
        Claimant,
    }

    const READER_TOKEN: parking_lot_core::ParkToken = parking_lot_core::ParkToken(1);
    const WRITER_TOKEN: parking_lot_core::ParkToken = parking_lot_core::ParkToken(2);

    /// Parks threads on the address of a lock's state word (the claimant on the next address),
    /// through `parking_lot_core`.
    ///
    /// Zero-sized here; under loom it carries a mutex, a list of parked threads and condition
    /// variables.
    #[derive(Debug, Default)]
    pub(crate) struct Parker;

    impl Parker {
        #[inline]
        pub(crate) fn new() -> Self {
            Parker
        }

        /// Parks the calling thread as `waiter` if `validate` returns `true`, until it is woken
        /// or `deadline` passes; `true` if the deadline passed. `validate` runs atomically with
        /// respect to the `unpark` calls on the same `word`, so a wake-up between the caller's
        /// last check and its sleep cannot be lost.
        #[cold]
        pub(crate) fn park(
            &self,
            word: &AtomicUsize,
            waiter: Waiter,
            validate: impl FnOnce() -> bool,
            deadline: Option<Deadline>,
        ) -> bool {
            let token = if waiter == Waiter::Writer {
                WRITER_TOKEN
            } else {
                READER_TOKEN
            };
            // SAFETY: `park` requires that `validate` and `before_sleep` do not panic or call into
            // the parking lot: `validate` only loads an atomic, `before_sleep` does nothing. The key
            // is the state word's address (strict provenance: `addr`, no integer-to-pointer cast),
            // plus one for the claimant: no other lock's word has that address.
            let result = unsafe {
                parking_lot_core::park(
                    key(word, waiter == Waiter::Claimant),
                    validate,
                    || {},
                    |_, _| {},
                    token,
                    deadline.map(|d| d.0),
                )
            };
            result == parking_lot_core::ParkResult::TimedOut
        }

        /// Wakes every reader and at most one writer parked on `word`'s lock queue, then calls
        /// `after` with whether threads stay parked there and whether a writer was woken,
        /// atomically with respect to `park`'s `validate` (so `after` may clear or set the
        /// caller's flags).
        #[cold]
        pub(crate) fn unpark_readers_and_a_writer(
            &self,
            word: &AtomicUsize,
            after: impl FnOnce(bool, bool),
        ) {
            let writer_woken = core::cell::Cell::new(false);
            // SAFETY: the key is the one `park` uses for the lock queue; the filter and the
            // callback neither panic nor call into the parking lot (`after` only does atomics).
            unsafe {
                parking_lot_core::unpark_filter(
                    key(word, false),
                    |token| {
                        if token != WRITER_TOKEN {
                            parking_lot_core::FilterOp::Unpark
                        } else if !writer_woken.get() && !cfg!(planted_bug_wake_no_writer) {
                            writer_woken.set(true);
                            parking_lot_core::FilterOp::Unpark
                        } else {
                            parking_lot_core::FilterOp::Skip
                        }
                    },
                    |result| {
                        after(result.have_more_threads, writer_woken.get());
                        parking_lot_core::DEFAULT_UNPARK_TOKEN
                    },
                );
            }
        }

        /// Wakes the claimant parked on `word`, if any.
        #[cold]
        pub(crate) fn unpark_claimant(&self, word: &AtomicUsize) {
            // SAFETY: as in `unpark_readers_and_a_writer`; the callback only returns the token.
            unsafe {
                parking_lot_core::unpark_one(key(word, true), |_| {
                    parking_lot_core::DEFAULT_UNPARK_TOKEN
                });
            }
        }
    }

    #[inline]
    fn key(word: &AtomicUsize, claimant: bool) -> usize {
        core::ptr::from_ref(word).addr() + usize::from(claimant)
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::{ConstPtr, MutPtr};
    pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};

    /// loom's `UnsafeCell`, plus the `&mut self` accessor the std body has.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(loom::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::cell::UnsafeCell::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }

        pub(crate) fn get(&self) -> ConstPtr<T> {
            self.0.get()
        }

        pub(crate) fn get_exclusive(&mut self) -> &mut T {
            // SAFETY: `&mut self` proves no other access exists; the reference does not outlive
            // that borrow.
            self.0.with_mut(|p| unsafe { &mut *p })
        }

        pub(crate) fn get_mut(&self) -> MutPtr<T> {
            self.0.get_mut()
        }
    }

    /// Under loom spinning is a yield, and the budget is one, so models stay small.
    pub(crate) struct Spin(bool);

    impl Spin {
        pub(crate) fn new() -> Self {
            Self(false)
        }

        pub(crate) fn spin(&mut self) -> bool {
            if self.0 {
                return false;
            }
            self.0 = true;
            loom::thread::yield_now();
            true
        }

        pub(crate) fn reset(&mut self) {
            self.0 = false;
        }
    }

    /// The fence loom needs to see the reader-slot Dekker pair (see the std body).
    pub(crate) fn dekker_fence() {
        if !cfg!(planted_bug_no_dekker_fence) {
            loom::sync::atomic::fence(Ordering::SeqCst);
        }
    }

    /// Under loom a slot is freed with a read-modify-write. loom orders a plain store and a
    /// concurrent read-modify-write only partially, and then lets the read-modify-write read a
    /// value that is not the newest (tokio-rs/loom#252): another thread's `swap(1)` could read
    /// the `1` from before our store and leave the slot taken forever, which the C++ model rules
    /// out (a read-modify-write always reads the last value in modification order, whatever
    /// kind of write made it). So `swap(0, Release)` has the same meaning natively and lets loom
    /// check the protocol instead of its own artefact.
    pub(crate) fn free_slot(slot: &AtomicU8) {
        slot.swap(0, Ordering::Release);
    }

    /// loom's thread index (0 for the model's main thread, then in spawn order), read from its
    /// `Debug` form, the only way loom exposes it. Deterministic, and it adds no loom objects
    /// (a shared counter would add interleavings to every model).
    pub(crate) fn thread_number() -> usize {
        let id = format!("{:?}", loom::thread::current().id());
        id.bytes()
            .filter(u8::is_ascii_digit)
            .fold(0, |n, d| n * 10 + usize::from(d - b'0'))
    }

    loom::thread_local!(static READ_HOLDS: core::cell::Cell<usize> = core::cell::Cell::new(0));

    /// As in the std body: read holds this thread has taken and not given back.
    pub(crate) fn read_holds() -> usize {
        READ_HOLDS.with(core::cell::Cell::get)
    }

    pub(crate) fn read_hold_taken() {
        READ_HOLDS.with(|n| n.set(n.get().wrapping_add(1)));
    }

    pub(crate) fn read_hold_given() {
        READ_HOLDS.with(|n| n.set(n.get().wrapping_sub(1)));
    }

    /// Under loom there is no time: a deadline never passes, so the models check that nobody
    /// relies on one to make progress.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Deadline;

    impl Deadline {
        pub(crate) fn after_millis(_millis: u64) -> Self {
            Deadline
        }
    }

    /// As in the std body.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Waiter {
        Reader,
        Writer,
        Claimant,
    }

    /// The threads parked on a lock's queue, in arrival order: (ticket, is a writer).
    #[derive(Debug, Default)]
    struct Parked {
        next: u64,
        queue: Vec<(u64, bool)>,
    }

    /// The parking layer built from loom primitives: `validate` runs under the mutex that the
    /// `unpark` calls also take, which is the same guarantee `parking_lot_core` gives with its
    /// bucket lock. Parked readers and writers are listed, and a thread sleeps until an unpark
    /// takes it off the list, so a thread the filter skips stays asleep (a lost wake-up is a
    /// deadlock the models report). The claimant has a condition variable of its own.
    #[derive(Debug)]
    pub(crate) struct Parker {
        parked: loom::sync::Mutex<Parked>,
        lock: loom::sync::Condvar,
        claimant: loom::sync::Condvar,
    }

    impl Parker {
        pub(crate) fn new() -> Self {
            Self {
                parked: loom::sync::Mutex::new(Parked::default()),
                lock: loom::sync::Condvar::new(),
                claimant: loom::sync::Condvar::new(),
            }
        }

        pub(crate) fn park(
            &self,
            _word: &AtomicUsize,
            waiter: Waiter,
            validate: impl FnOnce() -> bool,
            _deadline: Option<Deadline>,
        ) -> bool {
            let mut parked = self.parked.lock().unwrap();
            if !validate() {
                return false;
            }
            if waiter == Waiter::Claimant {
                drop(self.claimant.wait(parked).unwrap());
                return false;
            }
            let ticket = parked.next;
            parked.next += 1;
            parked.queue.push((ticket, waiter == Waiter::Writer));
            while parked.queue.iter().any(|&(t, _)| t == ticket) {
                parked = self.lock.wait(parked).unwrap();
            }
            false
        }

        pub(crate) fn unpark_readers_and_a_writer(
            &self,
            _word: &AtomicUsize,
            after: impl FnOnce(bool, bool),
        ) {
            let mut parked = self.parked.lock().unwrap();
            let mut writer_woken = false;
            parked.queue.retain(|&(_, writer)| {
                if !writer {
                    false
                } else if !writer_woken && !cfg!(planted_bug_wake_no_writer) {
                    writer_woken = true;
                    false
                } else {
                    true
                }
            });
            after(!parked.queue.is_empty(), writer_woken);
            self.lock.notify_all();
        }

        pub(crate) fn unpark_claimant(&self, _word: &AtomicUsize) {
            let _parked = self.parked.lock().unwrap();
            self.claimant.notify_one();
        }
    }
}
