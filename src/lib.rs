#![doc = include_str!("../README.md")]
//!
//! # Guide
//!
//! - [`ShardedMap`] is the map; its type-level docs state the locking rules, and every method
//!   has a "Locking:" line saying exactly when it blocks and when it would deadlock.
//! - [`ShardedSet`] is the set; [`ReadOnlyView`] is a frozen map read with no locking.
//! - DashMap's module paths exist too ([`mapref`], [`setref`], [`iter`], [`iter_set`],
//!   [`try_result`]), so migrating is a rename: see `docs/migrating-from-dashmap.md`.
//! - `docs/design.md` explains the sharding, the hash mixing and the lock's state machine.
//! - [`locking`] is one table of what every call locks and what a thread holding a guard may
//!   still call; every method's **Locking** line links to it.
//! - Optional features: `rayon` (the partitioned parallel build, `collect` and `par_extend`,
//!   `par_extend_chunked` for bounded memory, `par_reserve_for_keys` to presize from the keys
//!   to come, and parallel iterators, in module `sharded_map::rayon` when built with it), `serde`
//!   (`Serialize`/`Deserialize`, guards included), `metrics` (per-shard counters:
//!   `ShardedMap::shard_metrics`), `deadlock-check` (the deadlock check below, in release builds
//!   too), and DashMap's `raw-api` (one shard at a time under its lock: `ShardedMap::shards`),
//!   `arbitrary` and `typesize`.
//!
//! ## Locking in one paragraph
//!
//! A guard ([`mapref::one::Ref`], [`mapref::one::RefMut`], an entry, an iteration item) keeps
//! its key's shard locked until it is dropped. Holding only shared guards (`Ref`, items of
//! `iter`), a thread may read anything again. Holding any guard, a *writing* call on the same
//! map from the same thread may deadlock (if it needs that shard). Keep guards short:
//!
//! ```
//! let map = sharded_map::ShardedMap::new();
//! map.insert("a", 1);
//! // Copy out, drop the guard, then write.
//! let a = *map.get("a").unwrap();
//! map.insert("b", a + 1);
//! // Or do read-modify-write under one guard with the entry API.
//! *map.entry("a").or_insert(0) += 10;
//! assert_eq!((*map.get("a").unwrap(), *map.get("b").unwrap()), (11, 2));
//! ```
//!
//! The `try_*` methods never block. The guard-free calls return values and hold nothing when
//! they return: [`get_cloned`](ShardedMap::get_cloned), [`with_mut`](ShardedMap::with_mut),
//! [`get_or_insert_with`](ShardedMap::get_or_insert_with), [`compute`](ShardedMap::compute),
//! [`upsert`](ShardedMap::upsert), [`view`](ShardedMap::view), [`alter`](ShardedMap::alter).
//! To hold several keys at once, [`get_disjoint_mut`](ShardedMap::get_disjoint_mut) locks their
//! shards in a fixed order, so threads asking in different orders cannot deadlock.
//!
//! In debug builds (and with feature `deadlock-check`) a call that would wait for a lock its
//! own thread holds panics instead, naming the held guard, the call that took it, the blocked
//! call (both with source locations) and the fix. It sees every guard, entry, iterator and
//! iteration item, and the locks of closure methods while their closure runs; it never reports
//! holds that moved to another thread. Release builds without the feature run the same machine
//! code as without the check.
//!
//! ## Async
//!
//! Single-key guards and entries are `!Send`, so a future that holds one across `.await` is not
//! `Send` and cannot be spawned on a multi-threaded runtime: the classic "task parked while it
//! holds a shard lock" deadlock is a compile error. Use the guard-free calls across `.await`
//! (`examples/async_cache.rs` is a tokio service built that way):
//!
//! ```
//! # async fn fetch(_: &str) -> u32 { 7 }
//! # async fn handler(cache: &sharded_map::ShardedMap<String, u32>) {
//! let key = "user:1";
//! let value = match cache.get_cloned(key) {
//!     Some(v) => v,
//!     None => {
//!         let fetched = fetch(key).await; // no lock is held here
//!         cache.get_or_insert_with(key.to_string(), || fetched)
//!     }
//! };
//! cache.upsert(format!("hits:{key}"), 1, |n| *n += 1);
//! # let _ = value;
//! # }
//! ```
//!
//! ## Consistency
//!
//! Operations on one key are linearizable. [`ShardedMap::len`] takes no lock and sums per-shard
//! counters; [`ShardedMap::iter`] visits shards one at a time. Under concurrent writes both see
//! each shard at some moment during the call; `iter` yields every entry present for its whole
//! run exactly once and never a torn value.
//!
//! ## Performance
//!
//! One hash per operation, one atomic read-modify-write to lock and one to unlock a shard when
//! uncontended; memory per entry equals hashbrown's. Many threads inserting into one map contend
//! on cache lines; to build a map from a large batch, `collect()` or `extend()` an owned map
//! instead (no locking at all), or, with feature `rayon`, `collect()` or `par_extend()` from a
//! parallel iterator: items are bucketed by shard and each shard is filled by one worker.
//! Numbers, with their peers measured in the same run, are in `docs/benchmarks.md`.
//!
//! ## Checking your own code with loom
//!
//! Build with `RUSTFLAGS="--cfg loom"` and a `ShardedMap` is made of loom's atomics, cells and
//! parking, so your loom models check how you use the map (`docs/testing.md` has an example).
#![deny(missing_docs)]
// On docs.rs (`--cfg docsrs`, see Cargo.toml), each item gated by a feature says which one.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(unsafe_op_in_unsafe_fn, rust_2018_idioms)]
// Unsafe code is allowed in the engine (`src/raw/`) only; it lifts this for itself.
#![deny(unsafe_code)]

mod convert;
mod deadlock;
mod disjoint;
mod entry;
mod entry_ref;
mod guard_free;
mod guards;
mod map;
mod metrics;
mod ops;
mod raw;
mod set;

pub mod try_result;
mod view;

#[cfg(feature = "arbitrary")]
mod arbitrary;
#[cfg(feature = "raw-api")]
mod raw_api;
#[cfg(feature = "rayon")]
pub mod rayon;
#[cfg(feature = "serde")]
mod serde;
#[cfg(feature = "typesize")]
mod typesize;

/// Internals for this repository's loom models and lock benchmarks. Not part of the API: no
/// stability promise, may change in any release.
#[doc(hidden)]
pub mod __internal {
    pub use crate::raw::lock::{RawRwLock, ReadHold, ReaderSlots, Slots};
}

/// The default hasher: [`ahash::RandomState`].
///
/// [Locking](crate::locking): none.
///
/// ```
/// use sharded_map::{RandomState, ShardedMap};
/// // What `ShardedMap::new()` uses; named here for a map type spelled out in full.
/// let map: ShardedMap<&str, u32, RandomState> = ShardedMap::with_hasher(RandomState::new());
/// map.insert("k", 1);
/// assert_eq!(*map.get("k").unwrap(), 1);
/// ```
pub type RandomState = ahash::RandomState;

pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use entry_ref::{EntryRef, OccupiedEntryRef, VacantEntryRef};
pub use equivalent::Equivalent;
pub use guard_free::{Computed, Op};
pub use map::{ShardedMap, TryReserveError};
#[cfg(feature = "metrics")]
pub use metrics::ShardMetrics;
#[cfg(feature = "raw-api")]
pub use raw_api::{RawReadGuard, RawShard, RawWriteGuard, ShardsMut};
pub use set::ShardedSet;
pub use try_result::TryResult;
pub use view::ReadOnlyView;

/// Guards on map entries, under DashMap's module paths.
pub mod mapref {
    /// Guards on one entry: from `get`, `get_mut` and entries.
    pub mod one {
        pub use crate::guards::{MappedRef, MappedRefMut, Ref, RefMut};
    }
    /// Guards yielded by iteration.
    pub mod multiple {
        pub use crate::guards::{RefMulti, RefMutMulti};
    }
    /// The entry API.
    pub mod entry {
        pub use crate::entry::{Entry, OccupiedEntry, VacantEntry};
    }
    /// The entry API for borrowed keys (DashMap 7's `entry_ref`).
    pub mod entry_ref {
        pub use crate::entry_ref::{EntryRef, OccupiedEntryRef, VacantEntryRef};
    }
}

/// Guards on set keys, under DashMap's module paths.
pub mod setref {
    /// A guard on one key, from `get`.
    pub mod one {
        pub use crate::set::SetRef as Ref;
    }
    /// A guard yielded by iteration.
    pub mod multiple {
        pub use crate::set::SetRefMulti as RefMulti;
    }
}

pub mod iter;

#[doc = include_str!("../docs/locking.md")]
pub mod locking {}

/// Iterators over a [`ShardedSet`].
pub mod iter_set {
    pub use crate::set::{SetIter as Iter, SetOwningIter as OwningIter};
}
