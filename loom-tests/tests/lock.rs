//! loom models of the shard lock (`RawRwLock`), 2-3 threads each.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use sharded_map::__internal::{RawRwLock, ReadHold, ReaderSlots, Slots};

/// A value protected by the lock under test; loom checks every access to it.
struct Locked {
    lock: RawRwLock,
    slots: ReaderSlots,
    data: UnsafeCell<usize>,
}

// SAFETY: `data` is only accessed under `lock`, which is what the models check.
unsafe impl Sync for Locked {}

impl Locked {
    /// A lock whose readers start on the word (biased after a run of reads).
    fn new() -> Arc<Self> {
        Self::with_bias(false)
    }

    /// A lock whose readers start on their slots.
    fn biased() -> Arc<Self> {
        Self::with_bias(true)
    }

    fn with_bias(bias: bool) -> Arc<Self> {
        let slots = ReaderSlots::new(1);
        let lock = if bias {
            RawRwLock::biased(&slots)
        } else {
            RawRwLock::new()
        };
        Arc::new(Self {
            lock,
            slots,
            data: UnsafeCell::new(0),
        })
    }

    fn s(&self) -> Slots<'_> {
        self.slots.of(0)
    }

    fn lock_shared(&self) -> ReadHold<'_> {
        // SAFETY: `self.slots` is a table made for this one lock and every call passes its
        // column 0: the lock's own slots, as required.
        unsafe { self.lock.lock_shared(self.s()) }
    }

    fn try_lock_shared(&self) -> Option<ReadHold<'_>> {
        // SAFETY: the lock's own slots, as in `lock_shared`.
        unsafe { self.lock.try_lock_shared(self.s()) }
    }

    fn lock_exclusive(&self) {
        // SAFETY: the lock's own slots, as in `lock_shared`.
        unsafe { self.lock.lock_exclusive(self.s()) }
    }

    fn try_lock_exclusive(&self) -> bool {
        // SAFETY: the lock's own slots, as in `lock_shared`.
        unsafe { self.lock.try_lock_exclusive(self.s()) }
    }

    fn unlock_shared(&self, hold: ReadHold<'_>) {
        // SAFETY: every hold the models pass here came from this lock.
        unsafe { self.lock.unlock_shared(hold) }
    }

    fn write(&self, f: impl FnOnce(&mut usize)) {
        self.lock_exclusive();
        // SAFETY: exclusive lock held.
        self.data.with_mut(|p| f(unsafe { &mut *p }));
        // SAFETY: taken above.
        unsafe { self.lock.unlock_exclusive() };
    }

    fn read(&self) -> usize {
        let hold = self.lock_shared();
        // SAFETY: shared lock held.
        let v = self.data.with(|p| unsafe { *p });
        self.unlock_shared(hold);
        v
    }
}

#[test]
fn two_writers_are_exclusive() {
    loom::model(|| {
        let l = Locked::new();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v += 1))
        };
        l.write(|v| *v += 1);
        t.join().unwrap();
        assert_eq!(l.read(), 2);
    });
}

#[test]
fn reader_sees_the_writers_whole_update() {
    // Causality: the reader sees 0 or 2, never the intermediate 1 (and loom checks the accesses
    // are ordered by the lock).
    loom::model(|| {
        let l = Locked::new();
        let t = {
            let l = l.clone();
            thread::spawn(move || {
                l.write(|v| {
                    *v = 1;
                    *v = 2;
                })
            })
        };
        let seen = l.read();
        assert!(seen == 0 || seen == 2, "saw {seen}");
        t.join().unwrap();
        assert_eq!(l.read(), 2);
    });
}

#[test]
fn two_readers_and_a_writer() {
    loom::model(|| {
        let l = Locked::new();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                thread::spawn(move || {
                    let v = l.read();
                    assert!(v == 0 || v == 5);
                })
            })
            .collect();
        l.write(|v| *v = 5);
        for r in readers {
            r.join().unwrap();
        }
    });
}

#[test]
fn writer_parked_behind_a_reader_is_woken() {
    loom::model(|| {
        let l = Locked::new();
        let hold = l.lock_shared();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        // Let the writer spin out and park, in some interleavings.
        thread::yield_now();
        // Unlocking must wake the writer; a lost wake-up is a loom deadlock.
        l.unlock_shared(hold);
        t.join().unwrap();
        assert_eq!(l.read(), 1);
    });
}

#[test]
fn readers_parked_behind_a_writer_are_all_woken() {
    loom::model(|| {
        let l = Locked::new();
        l.lock_exclusive();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                thread::spawn(move || l.read())
            })
            .collect();
        // SAFETY: exclusive lock held.
        l.data.with_mut(|p| unsafe { *p = 7 });
        // SAFETY: taken above.
        unsafe { l.lock.unlock_exclusive() };
        for r in readers {
            assert_eq!(r.join().unwrap(), 7);
        }
    });
}

#[test]
fn parked_bit_race_with_unlock() {
    // A writer sets PARKED while the holder unlocks; it must not sleep forever.
    loom::model(|| {
        let l = Locked::new();
        l.lock_exclusive();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v += 1))
        };
        // SAFETY: taken above.
        unsafe { l.lock.unlock_exclusive() };
        l.write(|v| *v += 1);
        t.join().unwrap();
        assert_eq!(l.read(), 2);
    });
}

#[test]
fn a_woken_writer_that_parks_again_is_woken_by_the_next_release() {
    // Two writers park behind the holder; its release wakes one and marks it WOKEN (the other
    // stays parked). The holder takes the lock again before the woken one, which then parks
    // again: it must clear WOKEN first, or the next release wakes nobody (a loom deadlock).
    loom::model(|| {
        let l = Locked::new();
        l.lock_exclusive();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                thread::spawn(move || l.write(|v| *v += 1))
            })
            .collect();
        // SAFETY: taken above.
        unsafe { l.lock.unlock_exclusive() };
        // Take it again and hold it while the woken writer spins out and parks.
        l.lock_exclusive();
        thread::yield_now();
        thread::yield_now();
        // SAFETY: exclusive lock held.
        l.data.with_mut(|p| unsafe { *p += 1 });
        // SAFETY: taken above.
        unsafe { l.lock.unlock_exclusive() };
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(l.read(), 3);
    });
}

#[test]
fn try_locks_never_block_and_never_wrongly_succeed() {
    loom::model(|| {
        let l = Locked::new();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v += 1))
        };
        if l.try_lock_exclusive() {
            // SAFETY: exclusive lock held; loom checks no other access overlaps.
            l.data.with_mut(|p| unsafe { *p += 10 });
            // SAFETY: taken above.
            unsafe { l.lock.unlock_exclusive() };
        }
        if let Some(hold) = l.try_lock_shared() {
            // SAFETY: shared lock held.
            let v = l.data.with(|p| unsafe { *p });
            assert!(matches!(v, 0 | 1 | 10 | 11));
            l.unlock_shared(hold);
        }
        t.join().unwrap();
        let v = l.read();
        assert!(v == 1 || v == 11, "{v}");
    });
}

#[test]
fn nested_read_completes_while_a_writer_waits() {
    // Reader-preferring: a thread holding a read lock takes another one even though a writer is
    // (possibly) parked, instead of deadlocking behind it.
    loom::model(|| {
        let l = Locked::new();
        let outer = l.lock_shared();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        thread::yield_now();
        let inner = l.lock_shared();
        l.unlock_shared(inner);
        l.unlock_shared(outer);
        t.join().unwrap();
        assert_eq!(l.read(), 1);
    });
}

#[test]
fn nested_read_passes_a_claiming_writer_and_a_new_reader_waits_its_turn() {
    // A writer claims the lock behind a reader (WAITING); a new reader on a third thread is held
    // back, the first thread's nested read passes (it holds a read: were it held back too, the
    // writer and it would wait for each other, a deadlock loom reports). Every read sees the
    // value from before or after the write, never during it.
    loom::model(|| {
        let l = Locked::new();
        let outer = l.lock_shared();
        let w = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        let n = {
            let l = l.clone();
            thread::spawn(move || {
                let v = l.read();
                assert!(v == 0 || v == 1, "{v}");
            })
        };
        thread::yield_now();
        let inner = l.lock_shared();
        // SAFETY: shared lock held (twice), so the writer cannot have written.
        assert_eq!(l.data.with(|p| unsafe { *p }), 0);
        l.unlock_shared(inner);
        l.unlock_shared(outer);
        w.join().unwrap();
        n.join().unwrap();
        assert_eq!(l.read(), 1);
    });
}

#[test]
fn claimant_parked_behind_two_readers_is_woken_by_the_last() {
    // Two readers on two threads; the writer claims the lock and parks on its own queue. Which
    // reader leaves last varies; that one must wake the writer (a lost wake-up is a deadlock).
    loom::model(|| {
        let l = Locked::new();
        let first = l.lock_shared();
        let r = {
            let l = l.clone();
            thread::spawn(move || {
                let hold = l.lock_shared();
                thread::yield_now();
                l.unlock_shared(hold);
            })
        };
        let w = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        thread::yield_now();
        l.unlock_shared(first);
        r.join().unwrap();
        w.join().unwrap();
        assert_eq!(l.read(), 1);
    });
}

#[test]
fn downgrade_keeps_writers_out_and_lets_readers_in() {
    loom::model(|| {
        let l = Locked::new();
        let writer_done = Arc::new(AtomicBool::new(false));
        let t = {
            let (l, done) = (l.clone(), writer_done.clone());
            thread::spawn(move || {
                l.write(|v| *v = 100);
                done.store(true, Ordering::SeqCst);
            })
        };
        l.lock_exclusive();
        // SAFETY: exclusive lock held.
        l.data
            .with_mut(|p| unsafe { *p = if *p == 100 { 101 } else { 1 } });
        // SAFETY: held exclusively; afterwards shared.
        let hold = unsafe { l.lock.downgrade() };
        // SAFETY: shared lock held.
        let v = l.data.with(|p| unsafe { *p });
        assert!(
            v == 1 || v == 101,
            "another writer got in during downgrade: {v}"
        );
        // A reader on another thread gets in beside the downgraded hold, or (if the writer
        // claimed the lock meanwhile: a new reader waits behind a claiming writer) after the
        // writer.
        let r = {
            let l = l.clone();
            thread::spawn(move || l.read())
        };
        thread::yield_now();
        l.unlock_shared(hold);
        let seen = r.join().unwrap();
        assert!(
            seen == v || (v == 1 && seen == 100),
            "reader saw {seen} beside a downgraded hold of {v}"
        );
        t.join().unwrap();
        assert!(writer_done.load(Ordering::SeqCst));
    });
}

#[test]
fn guard_is_released_on_unwind() {
    loom::model(|| {
        let map = Arc::new(sharded_map::ShardedMap::<u8, u8>::with_shard_amount(2));
        map.insert(1, 1);
        let t = {
            let map = map.clone();
            thread::spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _g = map.get_mut(&1).unwrap();
                    panic!("while holding a RefMut");
                }));
                assert!(r.is_err());
            })
        };
        *map.get_mut(&1).unwrap() += 1;
        t.join().unwrap();
        assert_eq!(*map.get(&1).unwrap(), 2);
    });
}

#[test]
fn readers_count_back_down_to_zero() {
    // Many short read holds from two threads, then a writer: the count must return to zero.
    loom::model(|| {
        let l = Locked::new();
        let hits = Arc::new(AtomicUsize::new(0));
        let t = {
            let (l, hits) = (l.clone(), hits.clone());
            thread::spawn(move || {
                l.read();
                hits.fetch_add(1, Ordering::SeqCst);
            })
        };
        l.read();
        t.join().unwrap();
        l.write(|v| *v = 3);
        assert_eq!(l.read(), 3);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    });
}

// ---- The reader-slot protocol (see `src/lock.rs`, "The slot protocol") ----

#[test]
fn slot_reader_sees_the_writers_whole_update() {
    // A biased lock: the reader takes its slot, the writer must revoke the bias first. The reader
    // sees 0 or 2, never 1, and loom checks that the data accesses never overlap (with the Dekker
    // pair broken, `planted_bug_skip_slot_scan` or `planted_bug_no_dekker_fence`, they do).
    loom::model(|| {
        let l = Locked::biased();
        let t = {
            let l = l.clone();
            thread::spawn(move || {
                l.write(|v| {
                    *v = 1;
                    *v = 2;
                })
            })
        };
        let hold = l.lock_shared();
        // SAFETY: shared lock held.
        let seen = l.data.with(|p| unsafe { *p });
        l.unlock_shared(hold);
        assert!(seen == 0 || seen == 2, "saw {seen}");
        t.join().unwrap();
        assert_eq!(l.read(), 2);
    });
}

#[test]
fn writer_after_a_slot_reader_sees_its_read_finished() {
    // The hand-off the other way: the reader's read happens before the writer's write (loom
    // reports a data race otherwise), and the writer's revocation must wait for the slot.
    loom::model(|| {
        let l = Locked::biased();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.read())
        };
        l.write(|v| *v = 5);
        let seen = t.join().unwrap();
        assert!(seen == 0 || seen == 5, "saw {seen}");
        assert_eq!(l.read(), 5);
    });
}

#[test]
fn nested_read_while_a_writer_revokes_the_bias() {
    // The outer read holds a slot; a writer sets WRITER and finds the slot held; the inner read
    // finds its slot taken and goes through the word. The writer must back off (or this is a
    // deadlock, which loom reports), and get the lock once both reads are over.
    loom::model(|| {
        let l = Locked::biased();
        let outer = l.lock_shared();
        assert!(outer.is_slot());
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        thread::yield_now();
        let inner = l.lock_shared();
        assert!(!inner.is_slot());
        // SAFETY: shared lock held (twice).
        assert_eq!(l.data.with(|p| unsafe { *p }), 0);
        l.unlock_shared(inner);
        l.unlock_shared(outer);
        t.join().unwrap();
        assert_eq!(l.read(), 1);
    });
}

#[test]
fn try_write_fails_beside_a_slot_reader_and_leaves_the_bias() {
    loom::model(|| {
        let l = Locked::biased();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.read())
        };
        if l.try_lock_exclusive() {
            // SAFETY: exclusive lock held; loom checks no read overlaps.
            l.data.with_mut(|p| unsafe { *p = 9 });
            // SAFETY: taken above.
            unsafe { l.lock.unlock_exclusive() };
        }
        let seen = t.join().unwrap();
        assert!(seen == 0 || seen == 9, "saw {seen}");
        // Whatever happened, the lock is free and consistent: a write and a read go through.
        l.write(|v| *v += 1);
        let v = l.read();
        assert!(v == 1 || v == 10, "{v}");
    });
}

#[test]
fn rebias_races_a_writer() {
    // Unbiased start; the reader's two word-path reads set BIAS (BIAS_AFTER is 2 under loom) and
    // its third read uses the slot, while a writer writes twice, revoking whatever bias it finds.
    loom::model(|| {
        let l = Locked::new();
        let t = {
            let l = l.clone();
            thread::spawn(move || {
                let mut last = 0;
                for _ in 0..3 {
                    let v = l.read();
                    assert!(v >= last && v <= 2, "went from {last} to {v}");
                    last = v;
                }
            })
        };
        l.write(|v| *v += 1);
        l.write(|v| *v += 1);
        t.join().unwrap();
        assert_eq!(l.read(), 2);
    });
}

#[test]
fn two_slot_readers_on_one_row_and_a_writer() {
    // Three threads, two rows: the main thread and the second spawned thread share row 0, so one
    // of them may find its slot taken by the other and read through the word.
    loom::model(|| {
        let l = Locked::biased();
        let w = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 4))
        };
        let r = {
            let l = l.clone();
            thread::spawn(move || l.read())
        };
        let mine = l.read();
        let theirs = r.join().unwrap();
        w.join().unwrap();
        assert!(mine == 0 || mine == 4, "{mine}");
        assert!(theirs == 0 || theirs == 4, "{theirs}");
        assert_eq!(l.read(), 4);
    });
}

#[test]
fn slot_table_allocated_by_racing_readers_beside_a_writer() {
    // The slot table is allocated when the lock first turns biased. Two threads end runs of
    // reads at once (both may allocate: one table wins, the other is freed) while a writer
    // writes; every read sees 0 or 1, and a table freed or published wrongly is a loom error.
    loom::model(|| {
        let l = Locked::new();
        let reader = {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    let v = l.read();
                    assert!(v == 0 || v == 1, "{v}");
                }
            })
        };
        let writer = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        for _ in 0..2 {
            let v = l.read();
            assert!(v == 0 || v == 1, "{v}");
        }
        reader.join().unwrap();
        writer.join().unwrap();
        assert_eq!(l.read(), 1);
    });
}
