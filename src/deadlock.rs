//! The debug-build deadlock check: a thread that asks, with a blocking call, for a shard it
//! already holds in a conflicting mode panics with the shard and both modes instead of waiting
//! forever.
//!
//! # How
//!
//! Every guard the map keeps on one thread (single-key guards, entries, and the short-lived guards
//! of `insert`, `remove`, `retain`, ...) carries a [`Token`] that adds the lock's identity (map id,
//! shard index) and mode to a thread-local list when it is made and removes it when it drops.
//! `ShardRef::read` and `ShardRef::write`, which every blocking acquisition goes through, call
//! [`check`] first: asking for a shard this thread holds exclusively, or asking exclusively for a
//! shard this thread holds at all, would never return (the lock is not reentrant for writers,
//! and a reader waits for the writer), so it panics.
//!
//! Guards that may move to another thread (the `Send` iteration items of `iter`, `iter_mut` and
//! the parallel iterators) carry no record: a record on the thread that took them would outlive
//! their move and accuse that thread of a hold it no longer has. Those holds are not seen by the
//! check (`for r in map.iter() { map.insert(..) }` still waits forever, as documented).
//!
//! Map ids come from a process-wide counter, never reused, so a record leaked with a forgotten
//! guard (`mem::forget`) can only name its own map's shard, which stays locked for good anyway.
//!
//! # Cost
//!
//! Only in builds with `debug_assertions` and without `--cfg loom` (loom runs its threads on one
//! OS thread, so a thread-local list would be shared). Elsewhere [`Token`] is zero-sized without
//! `Drop` and [`check`] is empty: release builds pay nothing.

#![deny(unsafe_code)]

pub(crate) use imp::*;

#[cfg(all(debug_assertions, not(loom)))]
mod imp {
    use core::cell::RefCell;

    use crate::lock::Slots;

    /// One recorded hold: (map id, shard index, exclusive).
    type Record = (u64, usize, bool);

    std::thread_local! {
        /// The holds of this thread's recorded guards, in the order they were taken.
        static HELD: RefCell<Vec<Record>> = const { RefCell::new(Vec::new()) };
    }

    /// A guard's entry in this thread's list of holds (or no entry, for guards that may move to
    /// another thread).
    #[derive(Debug)]
    pub(crate) struct Token(Option<Record>);

    impl Token {
        /// Records a hold of the lock behind `slots` by this thread.
        #[inline]
        pub(crate) fn record(slots: Slots<'_>, exclusive: bool) -> Self {
            let (map, shard) = slots.lock_id();
            let record = (map, shard, exclusive);
            // A thread that is exiting (its list already destroyed) records nothing.
            let _ = HELD.try_with(|held| held.borrow_mut().push(record));
            Self(Some(record))
        }

        /// No record: for a guard that may be dropped on another thread.
        #[inline]
        pub(crate) fn none() -> Self {
            Self(None)
        }

        /// The hold turned from exclusive into shared (`WriteGuard::downgrade`).
        pub(crate) fn downgrade(&mut self) {
            if let Some(record) = &mut self.0 {
                let old = *record;
                record.2 = false;
                let new = *record;
                let _ = HELD.try_with(|held| {
                    let mut held = held.borrow_mut();
                    if let Some(slot) = held.iter_mut().rev().find(|r| **r == old) {
                        *slot = new;
                    }
                });
            }
        }
    }

    impl Drop for Token {
        fn drop(&mut self) {
            if let Some(record) = self.0.take() {
                let _ = HELD.try_with(|held| {
                    let mut held = held.borrow_mut();
                    if let Some(i) = held.iter().rposition(|r| *r == record) {
                        held.swap_remove(i);
                    }
                });
            }
        }
    }

    /// Panics if this thread holds the lock behind `slots` in a mode that makes a blocking
    /// request for it (`exclusive` or shared) wait forever.
    #[inline]
    pub(crate) fn check(slots: Slots<'_>, exclusive: bool) {
        let (map, shard) = slots.lock_id();
        let conflict = HELD
            .try_with(|held| {
                held.borrow()
                    .iter()
                    .find(|&&(m, s, held_exclusive)| {
                        m == map && s == shard && (exclusive || held_exclusive)
                    })
                    .map(|r| r.2)
            })
            .ok()
            .flatten();
        if let Some(held_exclusive) = conflict {
            deadlock(shard, held_exclusive, exclusive);
        }
    }

    #[cold]
    #[inline(never)]
    fn deadlock(shard: usize, held_exclusive: bool, exclusive: bool) -> ! {
        let held = if held_exclusive {
            "an exclusive guard (a RefMut or an entry, from get_mut or entry)"
        } else {
            "a shared guard (a Ref, from get)"
        };
        let wanted = if exclusive {
            "exclusively"
        } else {
            "to read it"
        };
        panic!(
            "sharded-map: deadlock: this thread holds {held} on shard {shard} of this map and now \
             asks for that shard {wanted}, which would wait forever. Drop the guard first (copy \
             the value out), or use the entry API or a try_* method. (This check runs in debug \
             builds; a release build would hang here.)"
        );
    }
}

#[cfg(not(all(debug_assertions, not(loom))))]
mod imp {
    use crate::lock::Slots;

    /// Zero-sized: release and loom builds record nothing.
    #[derive(Debug)]
    pub(crate) struct Token;

    impl Token {
        #[inline(always)]
        pub(crate) fn record(_: Slots<'_>, _: bool) -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn none() -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn downgrade(&mut self) {}
    }

    #[inline(always)]
    pub(crate) fn check(_: Slots<'_>, _: bool) {}
}
