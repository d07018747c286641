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
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn, rust_2018_idioms)]

mod entry;
mod guards;
mod lock;
mod map;
mod set;
mod shard;
mod sync;

pub mod try_result;
mod view;

#[cfg(feature = "serde")]
mod serde;

/// Internals for this repository's loom models and lock benchmarks. Not part of the API: no
/// stability promise, may change in any release.
#[doc(hidden)]
pub mod __internal {
    pub use crate::lock::RawRwLock;
}

/// The default hasher: [`ahash::RandomState`].
///
/// Locking: none.
pub type RandomState = ahash::RandomState;

pub use equivalent::Equivalent;
pub use map::{ShardedMap, TryReserveError};
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

/// Iterators over a [`ShardedSet`].
pub mod iter_set {
    pub use crate::set::{SetIter as Iter, SetOwningIter as OwningIter};
}
