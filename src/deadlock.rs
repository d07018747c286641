//! The deadlock check: a thread that asks, with a blocking call, for a shard it already holds in
//! a conflicting mode panics with a message naming both calls instead of waiting forever.
//!
//! # How
//!
//! Every lock the map takes carries a [`Token`] that records the lock's identity (map id, shard
//! index), the mode and the [`Site`] that took it (the public method's name and, through
//! `#[track_caller]`, the caller's source location) in a thread-local list. Every blocking
//! acquisition (`ShardRef::read` and `ShardRef::write`) makes its token first
//! ([`Token::checked_pinned`], [`Token::checked_movable`]), which checks the list before it adds
//! to it: asking for a shard this thread holds exclusively, or asking exclusively for a shard
//! this thread holds at all, would never return (the lock is not reentrant for writers, and a
//! reader waits for the writer), so it panics. Check and record take one visit of the list: in
//! debug builds this runs on every operation (see `Held` for its cost).
//!
//! Two kinds of records:
//!
//! - **Pinned** ([`Token::checked_pinned`]; [`Token::pinned`] for a `try_*` that did not
//!   block): the guard cannot leave its thread (single-key guards and entries are `!Send`; the
//!   short-lived locks of `insert`, `with_mut`, ... never leave the call). The token adds its
//!   record when made and removes it when dropped.
//! - **Movable** ([`Token::checked_movable`]): the guard may move to another thread
//!   (iterators and their `Send` items, the guards of `get_disjoint_mut`, the parallel
//!   iterators). The record shares a small [`Moving`] state with the token: whether the hold
//!   is still alive (cleared when the guard drops, on whatever thread) and which thread used
//!   it last (set when the iterator yields an item and whenever an item is read, so a thread
//!   that uses an item it received registers the hold as its own). A movable record accuses
//!   only a live hold last used by the asking thread, so items moved to and dropped on (or
//!   used on) another thread are never reported. The one gap: a hold that moved back to the
//!   thread that took it and is not used there again is attributed to the thread that used it
//!   last, and is missed.
//!
//! Map ids come from a process-wide counter, never reused, so a record leaked with a forgotten
//! guard (`mem::forget`) can only name its own map's shard, which stays locked for good anyway.
//!
//! # Cost
//!
//! Compiled in under `cfg(deadlock_check)`, which `build.rs` sets in builds with debug assertions
//! or feature `deadlock-check`, and never under `--cfg loom` (loom runs its threads on one OS
//! thread, so a thread-local list would be shared). Elsewhere [`Token`] and [`Site`] are
//! zero-sized without `Drop`, the checks are empty and the public methods are not
//! `#[track_caller]`: those builds run the same instructions as without the check.

#![deny(unsafe_code)]

pub(crate) use imp::*;

#[cfg(deadlock_check)]
mod imp {
    use core::cell::{Cell, RefCell};
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

    /// What a record says of its hold: which lock, in which mode, taken where.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct Hold {
        map: u64,
        shard: usize,
        exclusive: bool,
        site: Site,
    }

    impl Hold {
        /// A hold of the lock behind `slots`.
        fn new(slots: Slots<'_>, exclusive: bool, site: Site) -> Self {
            let (map, shard) = slots.lock_id();
            Self {
                map,
                shard,
                exclusive,
                site,
            }
        }

        /// Whether a blocking request for `map`'s `shard` (`exclusive` or shared) would wait
        /// for this hold forever, were it this thread's.
        fn blocks(&self, map: u64, shard: usize, exclusive: bool) -> bool {
            self.map == map && self.shard == shard && (exclusive || self.exclusive)
        }
    }

    /// A record kept in [`Held::more`]: a pinned hold beyond the inline ones, or a movable hold.
    #[derive(Debug)]
    struct Record {
        hold: Hold,
        /// `None` for pinned holds.
        moving: Option<Arc<Moving>>,
    }

    impl Record {
        /// Whether this record, in the current thread's list, is a hold by the current thread.
        /// (A pinned one always is; only a movable one needs the thread's number.)
        fn held_here(&self) -> bool {
            self.moving.as_ref().is_none_or(|m| {
                m.alive.load(Ordering::Acquire)
                    && m.holder.load(Ordering::Relaxed) == thread_number()
            })
        }
    }

    /// How many pinned holds a thread keeps inline (plain cells, no allocation, no borrow
    /// flag). Most threads hold none or one: an operation's own lock, or a guard and the call
    /// made while holding it.
    const INLINE: usize = 4;

    /// This thread's holds. Split in two because the check runs on every operation of a debug
    /// build: the common case (no hold, or the operation's own) is a few loads and stores of
    /// cells. The earlier single `RefCell<Vec>`, visited three times per operation, was 55% of
    /// a `get`'s time under Miri (which runs the whole test suite in debug builds); this form
    /// is 31% of a `get` that takes 36% less time.
    struct Held {
        /// The first pinned holds, `inline[..len]`, in no particular order.
        inline: [Cell<Option<Hold>>; INLINE],
        len: Cell<usize>,
        /// Whether `more` has records (read without borrowing it).
        any_more: Cell<bool>,
        /// Pinned holds that found `inline` full, and every movable hold (pruned of holds that
        /// died or moved away whenever a request looks here).
        more: RefCell<Vec<Record>>,
    }

    std::thread_local! {
        static HELD: Held = const {
            Held {
                inline: [const { Cell::new(None) }; INLINE],
                len: Cell::new(0),
                any_more: Cell::new(false),
                more: RefCell::new(Vec::new()),
            }
        };
    }

    impl Held {
        /// A hold of this thread's that a blocking request for `map`'s `shard` (`exclusive` or
        /// shared) would wait for forever, if any.
        fn conflict(&self, map: u64, shard: usize, exclusive: bool) -> Option<Hold> {
            let len = self.len.get();
            let mut i = 0;
            while i < len {
                if let Some(hold) = self.inline[i].get() {
                    if hold.blocks(map, shard, exclusive) {
                        return Some(hold);
                    }
                }
                i += 1;
            }
            if !self.any_more.get() {
                return None;
            }
            let mut more = self.more.borrow_mut();
            more.retain(Record::held_here);
            self.any_more.set(!more.is_empty());
            more.iter()
                .map(|r| r.hold)
                .find(|hold| hold.blocks(map, shard, exclusive))
        }

        fn push_pinned(&self, hold: Hold) {
            let len = self.len.get();
            if len < INLINE {
                self.inline[len].set(Some(hold));
                self.len.set(len + 1);
            } else {
                self.push_more(Record { hold, moving: None });
            }
        }

        fn push_movable(&self, hold: Hold, moving: &Arc<Moving>) {
            self.push_more(Record {
                hold,
                moving: Some(Arc::clone(moving)),
            });
        }

        fn push_more(&self, record: Record) {
            let mut more = self.more.borrow_mut();
            more.retain(Record::held_here);
            more.push(record);
            self.any_more.set(true);
        }

        /// Where the latest inline record of the pinned `hold` is, if inline. (If the same hold
        /// was taken twice the records are equal, so which one is found does not matter.)
        fn inline_index(&self, hold: Hold) -> Option<usize> {
            let mut i = self.len.get();
            while i > 0 {
                i -= 1;
                if self.inline[i].get() == Some(hold) {
                    return Some(i);
                }
            }
            None
        }

        /// Where the latest record of the pinned `hold` is in `more`, if there.
        fn more_index(more: &[Record], hold: Hold) -> Option<usize> {
            more.iter()
                .rposition(|r| r.moving.is_none() && r.hold == hold)
        }

        /// Removes one pinned record of `hold`.
        fn remove_pinned(&self, hold: Hold) {
            if let Some(i) = self.inline_index(hold) {
                // The last inline record moves into the freed cell.
                let last = self.len.get() - 1;
                self.inline[i].set(self.inline[last].get());
                self.inline[last].set(None);
                self.len.set(last);
            } else if self.any_more.get() {
                let mut more = self.more.borrow_mut();
                if let Some(i) = Self::more_index(&more, hold) {
                    more.swap_remove(i);
                }
                self.any_more.set(!more.is_empty());
            }
        }

        /// Marks one pinned record of `hold` shared (`WriteGuard::downgrade`).
        fn downgrade_pinned(&self, hold: Hold) {
            let shared = Hold {
                exclusive: false,
                ..hold
            };
            if let Some(i) = self.inline_index(hold) {
                self.inline[i].set(Some(shared));
            } else if self.any_more.get() {
                let mut more = self.more.borrow_mut();
                if let Some(i) = Self::more_index(&more, hold) {
                    more[i].hold = shared;
                }
            }
        }
    }

    /// The blocking acquisitions' check and record, in one visit of this thread's list: panics
    /// if this thread holds the lock behind `slots` in a mode that makes a blocking request for
    /// it (`exclusive` or shared, from `site`) wait forever; otherwise records the hold the
    /// request is about to take (movable if `moving`, pinned otherwise). Called just before the
    /// request, so the record is there while the request waits, which changes nothing: only
    /// this thread reads its list. A thread that is exiting (its list already destroyed)
    /// checks and records nothing.
    #[inline]
    #[track_caller]
    fn check_and_push(
        slots: Slots<'_>,
        exclusive: bool,
        site: Site,
        moving: Option<&Arc<Moving>>,
    ) -> Hold {
        let hold = Hold::new(slots, exclusive, site);
        let conflict = HELD
            .try_with(|held| {
                let conflict = held.conflict(hold.map, hold.shard, exclusive);
                if conflict.is_none() {
                    match moving {
                        None => held.push_pinned(hold),
                        Some(moving) => held.push_movable(hold, moving),
                    }
                }
                conflict
            })
            .ok()
            .flatten();
        if let Some(held) = conflict {
            deadlock(hold.shard, held.exclusive, held.site, exclusive, site);
        }
        hold
    }

    /// A guard's record in the thread-local list of holds.
    #[derive(Debug)]
    pub(crate) enum Token {
        /// No record (a `try_*` guard that failed, or a guard whose record moved on).
        None,
        /// A pinned record of this hold.
        Pinned(Hold),
        /// A movable record's shared state, plus what `touch` needs to register it elsewhere.
        Movable(Arc<Moving>, Hold),
    }

    impl Token {
        /// For a blocking request, just before it is made: checks that the request can be
        /// granted (panics if it would wait forever on this thread's own hold), then records the
        /// hold it takes as [`pinned`](Self::pinned).
        #[inline]
        #[track_caller]
        pub(crate) fn checked_pinned(slots: Slots<'_>, exclusive: bool, site: Site) -> Self {
            Self::Pinned(check_and_push(slots, exclusive, site, None))
        }

        /// For a blocking request, just before it is made: as
        /// [`checked_pinned`](Self::checked_pinned), for a hold that may move to another thread
        /// (see the module docs).
        #[inline]
        #[track_caller]
        pub(crate) fn checked_movable(slots: Slots<'_>, exclusive: bool, site: Site) -> Self {
            let moving = Arc::new(Moving {
                alive: AtomicBool::new(true),
                holder: AtomicUsize::new(thread_number()),
            });
            let hold = check_and_push(slots, exclusive, site, Some(&moving));
            Self::Movable(moving, hold)
        }

        /// Records a hold, by this thread, of the lock behind `slots` that never leaves it (a
        /// request that did not block: `try_*`).
        #[inline]
        pub(crate) fn pinned(slots: Slots<'_>, exclusive: bool, site: Site) -> Self {
            let hold = Hold::new(slots, exclusive, site);
            let _ = HELD.try_with(|held| held.push_pinned(hold));
            Self::Pinned(hold)
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
            if let Self::Movable(moving, hold) = self {
                let me = thread_number();
                if moving.holder.swap(me, Ordering::Relaxed) != me {
                    let _ = HELD.try_with(|held| held.push_movable(*hold, moving));
                }
            }
        }

        /// The hold turned from exclusive into shared (`WriteGuard::downgrade`).
        pub(crate) fn downgrade(&mut self) {
            if let Self::Pinned(hold) = self {
                let old = *hold;
                hold.exclusive = false;
                let _ = HELD.try_with(|held| held.downgrade_pinned(old));
            }
        }
    }

    impl Drop for Token {
        fn drop(&mut self) {
            match self {
                Self::None => {}
                Self::Pinned(hold) => {
                    let _ = HELD.try_with(|held| held.remove_pinned(*hold));
                }
                // Possibly on another thread: only mark the hold dead; lists prune it lazily.
                Self::Movable(moving, ..) => moving.alive.store(false, Ordering::Release),
            }
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
        pub(crate) fn checked_pinned(_: Slots<'_>, _: bool, _: Site) -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn checked_movable(_: Slots<'_>, _: bool, _: Site) -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn pinned(_: Slots<'_>, _: bool, _: Site) -> Self {
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
}
