//! Presizing from the keys to come: `par_reserve_for_keys` on the map and the set.
//!
//! One parallel pass hashes each key (the map's one hash per key, as an insert computes it) into
//! a distinct-count sketch of its shard ([`Sketch`]); then each shard's table is reserved, under
//! its write lock, for its estimate plus two standard errors ([`Sketch::upper_estimate`]), so
//! that the inserts that follow do not grow (and rehash) it. The keys are only hashed: nothing
//! is stored or compared, so the pass needs no memory beyond a few KiB of sketch per worker,
//! whatever the input's size.
#![deny(unsafe_code)]

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

use rayon::iter::{IntoParallelIterator, ParallelIterator};

use crate::deadlock::Site;
use crate::{ShardedMap, ShardedSet};

use super::sketch::Sketch;

impl<K, V, S> ShardedMap<K, V, S>
where
    K: Eq + Hash + Send + Sync,
    V: Send + Sync,
    S: BuildHasher + Sync,
{
    /// Reserves room, shard by shard, for the distinct keys among `keys`, estimated in one
    /// parallel pass that only hashes them: so that inserting those keys afterwards, from any
    /// number of threads or with [`par_extend_chunked`](Self::par_extend_chunked), does not
    /// grow (and rehash) any table.
    ///
    /// Use it when the distinct count is not known up front (if it is, use
    /// [`with_capacity`](Self::with_capacity)) and the keys can be read once before the build:
    /// `map.par_reserve_for_keys(pairs.par_iter().map(|(k, _)| k))`. The estimate comes from a
    /// HyperLogLog sketch per shard, within about 3% for maps of up to 64 shards (up to 13%
    /// with more shards, whose sketches are smaller), and each table is reserved for two
    /// standard errors more (and a few keys, for small counts): the keys seldom outgrow it.
    /// The pass costs one hash per key (0.8 s for 200M `u32` keys on 2 threads, about what
    /// the tables' growth costs `par_extend_chunked`) and a few KiB per worker; it allocates
    /// nothing per key. What it saves is the system time and memory of tables allocated
    /// twice (`docs/benchmarks.md`, "Dedup").
    ///
    /// Keys already in the map are counted as new: on a map that holds many of them, the
    /// tables get more room than they need. Items may be `K` or `&K`. A panic in `Hash`
    /// propagates before anything is reserved.
    ///
    /// [Locking](crate::locking): the pass takes no lock; then each shard that gets keys is
    /// locked exclusively once, for its reservation, one worker per shard. Blocks while another
    /// thread holds a guard on such a shard; deadlocks if the calling thread holds any guard on
    /// this map.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let pairs: Vec<(u32, u32)> = (0..100_000).map(|i| (i % 40_000, i)).collect();
    /// let map = sharded_map::ShardedMap::new();
    /// map.par_reserve_for_keys(pairs.par_iter().map(|(k, _)| k));
    /// assert!(map.capacity() >= 40_000);
    /// let before = map.capacity();
    /// map.par_extend_chunked(pairs.into_par_iter());
    /// assert_eq!(map.len(), 40_000);
    /// assert_eq!(map.capacity(), before); // no table grew
    /// ```
    pub fn par_reserve_for_keys<I>(&self, keys: I)
    where
        I: IntoParallelIterator,
        I::Item: Borrow<K>,
    {
        let router = self.router();
        let shards = self.shard_amount();
        let fresh = || Sketch::per_shard(shards);
        let sketches = keys
            .into_par_iter()
            .fold(fresh, |mut sketches, key| {
                let (hash, shard) = router.locate(key.borrow());
                sketches[shard].add(hash);
                sketches
            })
            .reduce(fresh, |mut left, right| {
                for (l, r) in left.iter_mut().zip(&right) {
                    l.merge(r);
                }
                left
            });
        let work: Vec<_> = self.shard_refs().zip(sketches).collect();
        work.into_par_iter().for_each(|(shard, sketch)| {
            let room = sketch.upper_estimate();
            if room == 0 {
                return;
            }
            let mut table = shard.write(Site::new("par_reserve_for_keys"));
            table.reserve(room, router.rehasher());
        });
    }
}

impl<K, S> ShardedSet<K, S>
where
    K: Eq + Hash + Send + Sync,
    S: BuildHasher + Sync,
{
    /// Reserves room, shard by shard, for the distinct keys among `keys`, estimated in one
    /// parallel pass that only hashes them, as [`ShardedMap::par_reserve_for_keys`] does.
    ///
    /// [Locking](crate::locking): as for the map: no lock during the pass, then each shard
    /// that gets keys is locked exclusively once; deadlocks if the calling thread holds any
    /// guard on this set.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let keys: Vec<u64> = (0..50_000).map(|i| i % 20_000).collect();
    /// let set = sharded_map::ShardedSet::new();
    /// set.par_reserve_for_keys(keys.par_iter());
    /// let before = set.capacity();
    /// assert!(before >= 20_000);
    /// set.par_extend_chunked(keys.into_par_iter());
    /// assert_eq!((set.len(), set.capacity()), (20_000, before));
    /// ```
    pub fn par_reserve_for_keys<I>(&self, keys: I)
    where
        I: IntoParallelIterator,
        I::Item: Borrow<K>,
    {
        self.map().par_reserve_for_keys(keys);
    }
}
