//! The engine: shards, their locks and reader slots, routing and the table algorithms that touch
//! shard data. **All of the crate's unsafe code is here**; every module above it (`map`, `set`,
//! `view`, `guards`, `entry`, `iter`, `rayon`, ...) starts with `#![deny(unsafe_code)]` and works
//! through the handles this module hands out, as hashbrown's `map` sits over its raw table.
//!
//! | module | owns |
//! |---|---|
//! | [`sync`] | the only source of atomics, `UnsafeCell`, spinning, parking and per-thread counters; a std body and a loom body |
//! | [`lock`] | `RawRwLock` (the shard lock) and `ReaderSlots` (its per-thread reader slots) |
//! | [`shard`] | `Shards` (shards paired with their slots), lock guards, `TableMut`/`TablesMut`, element handles, per-shard iterators |
//! | [`prefetch`] | `ProbeHint`: where a shard's table is, read without the lock to prefetch a key's lines before taking it |
//! | [`route`] | the one hash per operation, the shard index, `make_hasher`/`equivalent_key`, `insert_in`, `Router` (safe code) |
//!
//! # The safety argument
//!
//! Shard data is read and written only through guards that own a hold of that shard's lock, and
//! the lock is sound only if it is always used with its own reader slots. Both are established
//! here, by construction, and no safe code outside can break them:
//!
//! 1. **A lock always meets its own slots.** `RawRwLock`'s methods that take `Slots` are
//!    `unsafe` and require the lock's own. The only caller is `shard::ShardRef`, and the only
//!    maker of a `ShardRef` is `shard::Shards`, which builds each shard together with its column
//!    of one `ReaderSlots` table in `Shards::from_tables` (the column's offset, from
//!    `ReaderSlots::of`, is stored in the shard, next to its lock) and never resizes or re-pairs
//!    them (the fields are private to `shard`). Code above the engine gets `ShardRef`s, never a
//!    lock and a slot column to combine. A slot's address is the table's start plus that
//!    column plus the thread's row offset, computed only in `lock` from the table's own
//!    geometry, which every row count agrees on (one per process). The read path computes it
//!    without a null check: `lock` sets a lock's `BIAS` only after allocating the lock's table
//!    (`set_bias`, and `RawRwLock::biased`, which takes the table), and a reader that saw `BIAS`
//!    through its `Acquire` hint load sees that allocation (`Slots::mine_allocated`).
//! 2. **Data is touched only under a matching hold.** `ReadGuard`/`WriteGuard` are made only by
//!    `ShardRef` right after the lock call (their constructors are `unsafe` and private to
//!    `shard`), release exactly once in `Drop`, and hand out the table only for their own
//!    lifetime. Element handles (`ElemRef`/`ElemMut`) are built from a guard and a lookup in the
//!    table that guard locks, and keep the guard alive.
//! 3. **No `&mut` from `&`.** A `WriteGuard` reborrows the table shared through the raw pointer
//!    (`MutPtr::with`), and exclusive access through `&mut self` goes through `TableMut` /
//!    `TablesMut`, which re-sync each shard's entry counter when dropped (also on unwind).
//! 4. **Routing is safe code** (`route`): a wrong shard index can only panic on the bounds check
//!    of `Shards::get` or find nothing; it cannot pair a lock with the wrong slots (1). The hot
//!    path, `Shards::for_hash`, skips the bounds check: it computes the index itself, from the
//!    shift `Shards` derives from its own shard count (a power of two of at least 2, asserted
//!    when it is made), so the index is below the count for every hash.
//! 5. **The prefetch before the lock reads nothing.** `prefetch::ProbeHint` gives an address
//!    computed from words the shard's writers last stored (possibly stale, torn, or of a freed
//!    table) only to `PREFETCHT0`, which never faults and is not a memory access in the
//!    language's sense; the table is still read only under the lock (2).
//!
//! The lock's own protocol (the state word, the Dekker pair of the reader slots, writer priority)
//! and its invariants are documented in [`lock`]; its loom models and planted bugs are in
//! `loom-tests/` and `scripts/loom-teeth`.

// The one place the crate-wide `deny(unsafe_code)` is lifted.
#![allow(unsafe_code)]

pub(crate) mod lock;
pub(crate) mod prefetch;
pub(crate) mod route;
pub(crate) mod shard;
pub(crate) mod sync;
