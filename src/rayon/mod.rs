//! Rayon support (feature `rayon`), at DashMap's paths.
//!
//! - **Building**: `collect()` into a [`ShardedMap`](crate::ShardedMap) or
//!   [`ShardedSet`](crate::ShardedSet), and `par_extend` on one (owned, or through `&`), use the
//!   partitioned parallel build: workers hash the items once and bucket them by shard, dropping
//!   duplicates on the spot, then each shard is filled by one worker. No per-item locking; the
//!   item last in iteration order wins among equal keys, as with `extend`.
//!   [`ShardedMap::par_extend_chunked`](crate::ShardedMap::par_extend_chunked) (and the set's)
//!   runs the same build on one prefix of an indexed input at a time, so a large input is not
//!   held twice.
//! - **Iterating**: `map.par_iter()`, `map.par_iter_mut()` and `map.into_par_iter()` (and
//!   `set.par_iter()`, `set.into_par_iter()`) visit the shards in parallel, one worker per
//!   shard at a time, each shard under its lock for as long as a worker iterates it. The
//!   locking rules of [`ShardedMap::iter`](crate::ShardedMap::iter) and
//!   [`ShardedMap::iter_mut`](crate::ShardedMap::iter_mut) hold for each worker: do not write to
//!   the map from inside the loop.
//!
//! ```
//! use rayon::prelude::*;
//! use sharded_map::ShardedMap;
//!
//! let map: ShardedMap<u32, u64> = (0..10_000u32).into_par_iter().map(|i| (i, 0)).collect();
//! map.par_iter_mut().for_each(|mut r| *r = u64::from(*r.key()) * 2);
//! let sum: u64 = map.par_iter().map(|r| *r.value()).sum();
//! assert_eq!(sum, 2 * (0..10_000u64).sum::<u64>());
//! ```

mod build;
mod chunked;
pub mod map;
pub mod read_only;
mod reserve;
pub mod set;
mod sketch;
