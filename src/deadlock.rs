//! The deadlock check: a thread that asks, with a blocking call, for a shard it already holds in
//! a conflicting mode panics with a message naming both calls instead of waiting forever.
//!
//! # How
//!
//! Every lock the map takes carries a [`Token`] that records the lock's identity (map id, shard
//! index), the mode and the [`Site`] that took it (the public method's name and, through
//! `#[track_caller]`, the caller's source location) in a thread-local list. Every blocking
//! acquisition (`ShardRef::read` and `ShardRef::write`) calls [`check`] first: asking for a
//! shard this thread holds exclusively, or asking exclusively for a shard this thread holds at
//! all, would never return (the lock is not reentrant for writers, and a reader waits for the
//! writer), so it panics.
//!
//! Two kinds of records:
//!
//! - **Pinned** ([`Token::pinned`]): the guard cannot leave its thread (single-key guards and
//!   entries are `!Send`; the short-lived locks of `insert`, `with_mut`, ... never leave the
//!   call). The token adds its record when made and removes it when dropped.
//! - **Movable** ([`Token::movable`]): the guard may move to another thread (iterators and their
//!   `Send` items, the guards of `get_disjoint_mut`, the parallel iterators). The record shares a
//!   small [`Moving`] state with the token: whether the hold is still alive (cleared when the
//!   guard drops, on whatever thread) and which thread used it last (set when the iterator yields
//!   an item and whenever an item is read, so a thread that uses an item it received registers
//!   the hold as its own). A movable record accuses only a live hold last used by the asking
//!   thread, so items moved to and dropped on (or used on) another thread are never reported.
//!   The one gap: a hold that moved back to the thread that took it and is not used there again
//!   is attributed to the thread that used it last, and is missed.
//!
//! Map ids come from a process-wide counter, never reused, so a record leaked with a forgotten
//! guard (`mem::forget`) can only name its own map's shard, which stays locked for good anyway.
//!
//! # Cost
//!
//! Compiled in under `cfg(deadlock_check)`, which `build.rs` sets in builds with debug assertions
//! or feature `deadlock-check`, and never under `--cfg loom` (loom runs its threads on one OS
//! thread, so a thread-local list would be shared). Elsewhere [`Token`] and [`Site`] are
//! zero-sized without `Drop`, [`check`] is empty and the public methods are not
//! `#[track_caller]`: those builds run the same instructions as without the check.

#![deny(unsafe_code)]

pub(crate) use imp::*;

#[cfg(deadlock_check)]
mod imp {
    use core::cell::RefCell;
    use core::panic::Location;
    use std::sync::Arc;

    use crate::raw::lock::Slots;
    use crate::raw::sync::{thread_number, AtomicBool, AtomicU64, AtomicUsize, Ordering};

    /// A new map id: distinct for every map made in the process, never reused.
    pub(crate) fn next_map_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// A public call that takes a lock: its name and where it was called from.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct Site {
        call: &'static str,
        at: &'static Location<'static>,
    }

    impl Site {
        /// The site of `call`, located at the caller (through every `#[track_caller]` frame).
        #[track_caller]
        #[inline]
        pub(crate) fn new(call: &'static str) -> Self {
            Self {
                call,
                at: Location::caller(),
            }
        }
    }

    /// The shared state of a movable hold.
    #[derive(Debug)]
    pub(crate) struct Moving {
        alive: AtomicBool,
        /// `thread_number()` of the thread that used the hold last.
        holder: AtomicUsize,
    }

    /// One recorded hold.
    #[derive(Debug)]
    struct Record {
        map: u64,
        shard: usize,
        exclusive: bool,
        site: Site,
        /// `None` for pinned holds.
        moving: Option<Arc<Moving>>,
    }

    impl Record {
        /// Whether this record is a hold by the current thread (numbered `me`).
        fn held_by(&self, me: usize) -> bool {
            self.moving.as_ref().is_none_or(|m| {
                m.alive.load(Ordering::Acquire) && m.holder.load(Ordering::Relaxed) == me
            })
        }
    }

    std::thread_local! {
        /// The holds this thread has recorded, in the order they were taken (movable records of
        /// holds that died or moved away are pruned lazily).
        static HELD: RefCell<Vec<Record>> = const { RefCell::new(Vec::new()) };
    }

    /// Adds `record` to this thread's list, dropping movable records that no longer describe a
    /// hold of this thread. A thread that is exiting (its list already destroyed) records nothing.
    fn push(record: Record) {
        let me = thread_number();
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            held.retain(|r| r.held_by(me));
            held.push(record);
        });
    }

    /// A guard's record in the thread-local list of holds.
    #[derive(Debug)]
    pub(crate) enum Token {
        /// No record (a `try_*` guard that failed, or a guard whose record moved on).
        None,
        /// A pinned record: (map, shard, exclusive, site) as pushed.
        Pinned(u64, usize, bool, Site),
        /// A movable record's shared state, plus what `touch` needs to register it elsewhere.
        Movable(Arc<Moving>, u64, usize, bool, Site),
    }

    impl Token {
        /// Records a hold, by this thread, of the lock behind `slots` that never leaves it.
        #[inline]
        pub(crate) fn pinned(slots: Slots<'_>, exclusive: bool, site: Site) -> Self {
            let (map, shard) = slots.lock_id();
            push(Record {
                map,
                shard,
                exclusive,
                site,
                moving: None,
            });
            Self::Pinned(map, shard, exclusive, site)
        }

        /// Records a hold of the lock behind `slots` that may move to another thread.
        #[inline]
        pub(crate) fn movable(slots: Slots<'_>, exclusive: bool, site: Site) -> Self {
            let (map, shard) = slots.lock_id();
            let moving = Arc::new(Moving {
                alive: AtomicBool::new(true),
                holder: AtomicUsize::new(thread_number()),
            });
            push(Record {
                map,
                shard,
                exclusive,
                site,
                moving: Some(Arc::clone(&moving)),
            });
            Self::Movable(moving, map, shard, exclusive, site)
        }

        /// No record.
        #[inline]
        pub(crate) fn none() -> Self {
            Self::None
        }

        /// Notes that the current thread uses a movable hold: if another thread used it last,
        /// the hold is now this thread's (and recorded in its list).
        #[inline]
        pub(crate) fn touch(&self) {
            if let Self::Movable(moving, map, shard, exclusive, site) = self {
                let me = thread_number();
                if moving.holder.swap(me, Ordering::Relaxed) != me {
                    push(Record {
                        map: *map,
                        shard: *shard,
                        exclusive: *exclusive,
                        site: *site,
                        moving: Some(Arc::clone(moving)),
                    });
                }
            }
        }

        /// The hold turned from exclusive into shared (`WriteGuard::downgrade`).
        pub(crate) fn downgrade(&mut self) {
            if let Self::Pinned(map, shard, exclusive, site) = self {
                let old = (*map, *shard, *exclusive, *site);
                *exclusive = false;
                let _ = HELD.try_with(|held| {
                    let mut held = held.borrow_mut();
                    if let Some(r) = held.iter_mut().rev().find(|r| r.is_pinned(old)) {
                        r.exclusive = false;
                    }
                });
            }
        }
    }

    impl Record {
        fn is_pinned(&self, (map, shard, exclusive, site): (u64, usize, bool, Site)) -> bool {
            self.moving.is_none()
                && self.map == map
                && self.shard == shard
                && self.exclusive == exclusive
                && self.site == site
        }
    }

    impl Drop for Token {
        fn drop(&mut self) {
            match self {
                Self::None => {}
                Self::Pinned(map, shard, exclusive, site) => {
                    let key = (*map, *shard, *exclusive, *site);
                    let _ = HELD.try_with(|held| {
                        let mut held = held.borrow_mut();
                        if let Some(i) = held.iter().rposition(|r| r.is_pinned(key)) {
                            held.swap_remove(i);
                        }
                    });
                }
                // Possibly on another thread: only mark the hold dead; lists prune it lazily.
                Self::Movable(moving, ..) => moving.alive.store(false, Ordering::Release),
            }
        }
    }

    /// Panics if this thread holds the lock behind `slots` in a mode that makes a blocking
    /// request for it (`exclusive` or shared, from `site`) wait forever.
    #[inline]
    #[track_caller]
    pub(crate) fn check(slots: Slots<'_>, exclusive: bool, site: Site) {
        let (map, shard) = slots.lock_id();
        let me = thread_number();
        let conflict = HELD
            .try_with(|held| {
                held.borrow()
                    .iter()
                    .find(|r| {
                        r.map == map
                            && r.shard == shard
                            && (exclusive || r.exclusive)
                            && r.held_by(me)
                    })
                    .map(|r| (r.exclusive, r.site))
            })
            .ok()
            .flatten();
        if let Some((held_exclusive, held_site)) = conflict {
            deadlock(shard, held_exclusive, held_site, exclusive, site);
        }
    }

    /// What a guard taken by `call` is, for the message.
    fn kind(call: &str) -> &'static str {
        match call {
            "get" | "try_get" => "a Ref",
            "get_mut" | "try_get_mut" => "a RefMut",
            "entry" | "try_entry" | "entry_ref" | "try_entry_ref" => {
                "an entry (or the RefMut made from it)"
            }
            "iter" | "par_iter" => "an iterator or item of iter",
            "iter_mut" | "par_iter_mut" => "an iterator or item of iter_mut",
            "get_disjoint_mut" => "a guard from get_disjoint_mut",
            _ => "the lock held while a closure runs",
        }
    }

    /// How to avoid the deadlock, given what `call` holds.
    fn fix(call: &str) -> &'static str {
        match call {
            "iter" | "iter_mut" | "par_iter" | "par_iter_mut" => {
                "Finish the iteration (collect the keys or values you need) before calling the \
                 map again on this shard, or use retain / alter_all for whole-map updates."
            }
            "get" | "try_get" | "get_mut" | "try_get_mut" | "entry" | "try_entry" | "entry_ref"
            | "try_entry_ref" | "get_disjoint_mut" => {
                "Drop the guard first (copy the value out with get_cloned, or change it with \
                 with_mut, compute or the entry API), or use a try_* method."
            }
            _ => {
                "Do not call the map from inside that closure: return what you need and act \
                 after the call."
            }
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn deadlock(shard: usize, held_exclusive: bool, held: Site, exclusive: bool, site: Site) -> ! {
        let mode = if held_exclusive {
            "an exclusive guard"
        } else {
            "a shared guard"
        };
        let wanted = if exclusive {
            "exclusively"
        } else {
            "to read it"
        };
        panic!(
            "sharded-map: deadlock: this thread holds {mode} on shard {shard} of this map ({}, \
             taken by `{}` at {}), and `{}` at {} now asks for that shard {wanted}, which would \
             wait forever. {} (This check runs in debug builds and with feature \
             `deadlock-check`; without it the call would hang.)",
            kind(held.call),
            held.call,
            held.at,
            site.call,
            site.at,
            fix(held.call),
        );
    }
}

#[cfg(not(deadlock_check))]
mod imp {
    use crate::raw::lock::Slots;

    /// Zero-sized: builds without the check record nothing.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Site;

    impl Site {
        #[inline(always)]
        pub(crate) fn new(_: &'static str) -> Self {
            Self
        }
    }

    /// Zero-sized: builds without the check record nothing.
    #[derive(Debug)]
    pub(crate) struct Token;

    impl Token {
        #[inline(always)]
        pub(crate) fn pinned(_: Slots<'_>, _: bool, _: Site) -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn movable(_: Slots<'_>, _: bool, _: Site) -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn none() -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn touch(&self) {}

        #[inline(always)]
        pub(crate) fn downgrade(&mut self) {}
    }

    #[inline(always)]
    pub(crate) fn check(_: Slots<'_>, _: bool, _: Site) {}
}
