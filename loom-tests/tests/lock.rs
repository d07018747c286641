//! loom models of the shard lock (`RawRwLock`), 2-3 threads each.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use sharded_map::__internal::RawRwLock;

/// A value protected by the lock under test; loom checks every access to it.
struct Locked {
    lock: RawRwLock,
    data: UnsafeCell<usize>,
}

// SAFETY: `data` is only accessed under `lock`, which is what the models check.
unsafe impl Sync for Locked {}

impl Locked {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            lock: RawRwLock::new(),
            data: UnsafeCell::new(0),
        })
    }

    fn write(&self, f: impl FnOnce(&mut usize)) {
        self.lock.lock_exclusive();
        // SAFETY: exclusive lock held.
        self.data.with_mut(|p| f(unsafe { &mut *p }));
        // SAFETY: taken above.
        unsafe { self.lock.unlock_exclusive() };
    }

    fn read(&self) -> usize {
        self.lock.lock_shared();
        // SAFETY: shared lock held.
        let v = self.data.with(|p| unsafe { *p });
        // SAFETY: taken above.
        unsafe { self.lock.unlock_shared() };
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
        l.lock.lock_shared();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        // Let the writer spin out and park, in some interleavings.
        thread::yield_now();
        // SAFETY: taken above. Unlocking must wake the writer; a lost wake-up is a loom deadlock.
        unsafe { l.lock.unlock_shared() };
        t.join().unwrap();
        assert_eq!(l.read(), 1);
    });
}

#[test]
fn readers_parked_behind_a_writer_are_all_woken() {
    loom::model(|| {
        let l = Locked::new();
        l.lock.lock_exclusive();
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
        l.lock.lock_exclusive();
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
fn try_locks_never_block_and_never_wrongly_succeed() {
    loom::model(|| {
        let l = Locked::new();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v += 1))
        };
        if l.lock.try_lock_exclusive() {
            // SAFETY: exclusive lock held; loom checks no other access overlaps.
            l.data.with_mut(|p| unsafe { *p += 10 });
            // SAFETY: taken above.
            unsafe { l.lock.unlock_exclusive() };
        }
        if l.lock.try_lock_shared() {
            // SAFETY: shared lock held.
            let v = l.data.with(|p| unsafe { *p });
            assert!(matches!(v, 0 | 1 | 10 | 11));
            // SAFETY: taken above.
            unsafe { l.lock.unlock_shared() };
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
        l.lock.lock_shared();
        let t = {
            let l = l.clone();
            thread::spawn(move || l.write(|v| *v = 1))
        };
        thread::yield_now();
        l.lock.lock_shared();
        // SAFETY: two shared holds taken above.
        unsafe {
            l.lock.unlock_shared();
            l.lock.unlock_shared();
        }
        t.join().unwrap();
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
        l.lock.lock_exclusive();
        // SAFETY: exclusive lock held.
        l.data
            .with_mut(|p| unsafe { *p = if *p == 100 { 101 } else { 1 } });
        // SAFETY: held exclusively; afterwards shared.
        unsafe { l.lock.downgrade() };
        // SAFETY: shared lock held.
        let v = l.data.with(|p| unsafe { *p });
        assert!(
            v == 1 || v == 101,
            "another writer got in during downgrade: {v}"
        );
        // A reader on another thread can get in now.
        let r = {
            let l = l.clone();
            thread::spawn(move || l.read())
        };
        let seen = r.join().unwrap();
        assert!(
            seen == v,
            "reader saw {seen} while the downgraded hold kept {v}"
        );
        // SAFETY: shared hold from the downgrade.
        unsafe { l.lock.unlock_shared() };
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
