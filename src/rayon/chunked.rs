//! The chunked parallel build: `par_extend_chunked` on the map and the set, for inputs too
//! large to hold twice.
//!
//! The partitioned build ([`build`](super::build)) holds every item that its windows did not
//! deduplicate once more between its two phases: a build over 200M distinct-heavy pairs peaks
//! at about 2.6x the finished map above its input. This build runs the same two phases on one
//! *prefix* of the input at a time, so only one chunk's items wait between them, and the next
//! chunk's buckets can reuse the memory the last one freed:
//!
//! 1. Split the input's producer at the chunk length: the chunk is a prefix of what is left.
//! 2. Partition the chunk (hash once, bucket by shard, deduplicate in windows, sketch).
//! 3. Fill each shard from its buckets under its write lock, one worker per shard. The table
//!    is reserved for the new keys the chunk brings: the shard's sketch over every chunk so
//!    far estimates the build's distinct keys, less the keys already in the table.
//!
//! A chunk holds [`MIN_CHUNK_BYTES`] (16 MiB) of items (with their hashes) or a third of the
//! bytes the map's tables hold when it starts, whichever is more. So on a large build the
//! chunks grow with the map, a chunk's items weigh at most a third of the map (or the floor),
//! and the peak stays near the input plus 1.5x the finished map (a table that grows is held
//! twice while it rehashes). Rayon splits a chunk into about [`LEAVES_PER_THREAD`] leaves per
//! thread at most.
//!
//! Chunks must be prefixes, so that a later chunk's items replace an earlier one's and the
//! last item in iteration order wins: that needs an indexed input (`IndexedParallelIterator`),
//! which can be split at a position. `collect` and `par_extend` take any parallel iterator, so
//! they cannot chunk.
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};

use rayon::iter::plumbing::{bridge_producer_consumer, Folder, Producer, ProducerCallback};
use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};

use crate::deadlock::Site;
use crate::{ShardedMap, ShardedSet};

use super::build::{fill_reserved, partition_by, Incoming, Regions};
use super::sketch::Sketch;

/// Bytes of items (each with its 8-byte hash) a chunk holds at least: large enough that a
/// chunk's fixed costs (rayon's split, every leaf's per-shard state, two rounds of waking the
/// pool, one lock per shard) stay small (10M pairs over 1,000 keys: 35 ms against 39 ms with
/// 8 MiB, 29 ms for one `collect`), small enough to be a fraction of any map worth chunking
/// for. Under Miri, small, so that the suite's small builds run in several chunks.
const MIN_CHUNK_BYTES: usize = if cfg!(miri) { 2 << 10 } else { 16 << 20 };

/// Leaves (runs of items one worker partitions in a plain loop) each thread gets per chunk,
/// about: enough to balance the work, few enough that a leaf's state (its window and per-shard
/// sketches, rebuilt for every leaf) is paid for. Rayon would split a chunk of a
/// duplicate-heavy input into many small leaves: with 16 leaves per chunk of 350K items over
/// 1,000 keys, partitioning cost 8.3 ns an item per thread where one `collect` costs 5.6.
const LEAVES_PER_THREAD: usize = 4;

/// Items of the next chunk: a third of the bytes the tables hold now, at least `min_bytes`,
/// counted as `(hash, key, value)` items.
fn chunk_len<K, V>(table_bytes: usize, min_bytes: usize) -> usize {
    let bytes = (table_bytes / 3).max(min_bytes);
    (bytes / size_of::<(u64, K, V)>()).max(1)
}

impl<K, V, S> ShardedMap<K, V, S>
where
    K: Eq + Hash + Send + Sync,
    V: Send + Sync,
    S: BuildHasher + Sync,
{
    /// Extends the map in parallel from an **indexed** parallel iterator, one chunk at a time,
    /// so that a large input is never held twice: the same map as `par_extend` (the item last
    /// in iteration order wins among equal keys, as with [`Extend`]), in bounded memory.
    ///
    /// `par_extend` and `collect` hold every item their workers did not deduplicate once more,
    /// with its hash, until they fill the tables: above the input, a build over 200M pairs
    /// with 86M distinct keys peaked at 2.6x the finished map. This method splits the input
    /// into prefixes and builds each in turn (partition, then fill), so only one chunk's items
    /// wait: a chunk holds 16 MiB of items or a third of the bytes the map's tables hold when
    /// it starts, whichever is more, and the peak stays near the input plus 1.5x the finished
    /// map (`docs/benchmarks.md`, "Dedup").
    ///
    /// The price: `par_extend` sizes each table once for the distinct keys of the whole input,
    /// where this build sees one chunk at a time, so the tables grow (and rehash) from chunk
    /// to chunk, which costs about a sixth more time on inputs of many distinct keys. A map
    /// made [`with_capacity`](ShardedMap::with_capacity) for about the distinct keys expected
    /// does not grow; when that count is not known,
    /// [`par_reserve_for_keys`](ShardedMap::par_reserve_for_keys) estimates it in one pass
    /// over the keys (one hash each) and reserves for it. Use this method when the input is
    /// large next to free memory; for inputs that fit twice, `par_extend` needs no indexed
    /// input.
    ///
    /// Any iterator that knows its length and can be split at a position is indexed: a `Vec`,
    /// a slice or a range, and `map`, `copied`, `zip`, `enumerate` over them (not `filter` or
    /// `flat_map`).
    ///
    /// A panic in `Hash` or `Eq` stops the build: the chunks before the one that panicked are
    /// in the map, the one that panicked is in it as `par_extend` leaves it (untouched, or
    /// with some shards filled), nothing after it is, and the map is consistent with every
    /// lock released. Every item is dropped exactly once.
    ///
    /// [Locking](crate::locking): takes each shard that receives items exclusively, once per
    /// chunk, one worker per shard, for the whole of that chunk's fill (hashing and bucketing
    /// happen before, without locks); blocks while another thread holds a guard on such a
    /// shard; deadlocks if the calling thread holds any guard on this map.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 0);
    /// let pairs: Vec<(u32, u32)> = (0..100_000).map(|i| (i % 1000, i)).collect();
    /// map.par_extend_chunked(pairs.into_par_iter());
    /// assert_eq!(map.len(), 1000);
    /// assert_eq!(*map.get(&1).unwrap(), 99_001); // the last of 1, 1001, ..., 99_001 wins
    /// ```
    pub fn par_extend_chunked<I>(&self, items: I)
    where
        I: IntoParallelIterator<Item = (K, V)>,
        I::Iter: IndexedParallelIterator,
    {
        extend_in_chunks(self, items.into_par_iter(), MIN_CHUNK_BYTES);
    }
}

impl<K, S> ShardedSet<K, S>
where
    K: Eq + Hash + Send + Sync,
    S: BuildHasher + Sync,
{
    /// Extends the set in parallel from an indexed parallel iterator, one chunk at a time, as
    /// [`ShardedMap::par_extend_chunked`] does: bounded memory for a large input.
    ///
    /// [Locking](crate::locking): as for the map: each shard that receives keys is locked
    /// exclusively once per chunk; deadlocks if the calling thread holds any guard on this set.
    ///
    /// ```
    /// use rayon::prelude::*;
    /// let set = sharded_map::ShardedSet::new();
    /// set.par_extend_chunked((0..10_000u32).into_par_iter().map(|i| i % 100));
    /// assert_eq!(set.len(), 100);
    /// ```
    pub fn par_extend_chunked<I>(&self, keys: I)
    where
        I: IntoParallelIterator<Item = K>,
        I::Iter: IndexedParallelIterator,
    {
        let items = keys.into_par_iter().map(|key| (key, ()));
        extend_in_chunks(self.map(), items, MIN_CHUNK_BYTES);
    }
}

/// The chunked build, with the floor of a chunk's bytes as a parameter (the unit tests lower
/// it to run small builds in many chunks).
fn extend_in_chunks<K, V, S, I>(map: &ShardedMap<K, V, S>, items: I, min_bytes: usize)
where
    K: Eq + Hash + Send + Sync,
    V: Send + Sync,
    S: BuildHasher + Sync,
    I: IndexedParallelIterator<Item = (K, V)>,
{
    let len = items.len();
    items.with_producer(Chunks {
        map,
        len,
        min_bytes,
    });
}

/// Receives the input's producer from rayon and builds from it prefix by prefix.
struct Chunks<'m, K, V, S> {
    map: &'m ShardedMap<K, V, S>,
    len: usize,
    min_bytes: usize,
}

impl<K, V, S> ProducerCallback<(K, V)> for Chunks<'_, K, V, S>
where
    K: Eq + Hash + Send + Sync,
    V: Send + Sync,
    S: BuildHasher + Sync,
{
    type Output = ();

    fn callback<P: Producer<Item = (K, V)>>(self, producer: P) {
        let Self {
            map,
            mut len,
            min_bytes,
        } = self;
        let shards = map.shard_amount();
        // Each shard's sketch over every chunk so far: the build's distinct keys there.
        let mut seen = Sketch::per_shard(shards);
        let mut rest = producer;
        while len > 0 {
            let take = chunk_len::<K, V>(table_bytes(map), min_bytes).min(len);
            // What is left after a panic below is dropped with `tail`, each item once.
            let (chunk, tail) = rest.split_at(take);
            let leaves = Leaves {
                inner: chunk,
                min_len: take / (LEAVES_PER_THREAD * rayon::current_num_threads()),
            };
            // Not grouped by table region: the tables grow from chunk to chunk, and grouping
            // measured slower here (docs/benchmarks-history.md, "The fill by table region").
            let incoming = partition_by(map.router(), shards, Regions::WHOLE, |partitioner| {
                bridge_producer_consumer(take, leaves, partitioner)
            });
            fill_chunk(map, incoming, &mut seen);
            rest = tail;
            len -= take;
        }
    }
}

/// A chunk's producer, split no finer than `min_len` items (see [`LEAVES_PER_THREAD`]).
struct Leaves<P> {
    inner: P,
    min_len: usize,
}

impl<P: Producer> Producer for Leaves<P> {
    type Item = P::Item;
    type IntoIter = P::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.inner.into_iter()
    }

    fn min_len(&self) -> usize {
        self.inner.min_len().max(self.min_len)
    }

    fn max_len(&self) -> usize {
        self.inner.max_len()
    }

    fn split_at(self, index: usize) -> (Self, Self) {
        let (left, right) = self.inner.split_at(index);
        let min_len = self.min_len;
        (
            Self {
                inner: left,
                min_len,
            },
            Self {
                inner: right,
                min_len,
            },
        )
    }

    fn fold_with<F: Folder<Self::Item>>(self, folder: F) -> F {
        self.inner.fold_with(folder)
    }
}

/// Bytes the map's tables hold now (each shard read-locked in turn).
fn table_bytes<K, V, S>(map: &ShardedMap<K, V, S>) -> usize {
    let site = Site::new("par_extend_chunked");
    map.shard_refs()
        .map(|shard| shard.read(site).allocation_size())
        .sum()
}

/// Phase 2 for one chunk: each shard that receives items is write-locked once and filled, one
/// worker per shard.
fn fill_chunk<K, V, S>(
    map: &ShardedMap<K, V, S>,
    incoming: Vec<Incoming<K, V>>,
    seen: &mut [Sketch],
) where
    K: Eq + Hash + Send + Sync,
    V: Send + Sync,
    S: BuildHasher + Sync,
{
    let work: Vec<_> = map.shard_refs().zip(incoming).zip(seen).collect();
    work.into_par_iter().for_each(|((shard, incoming), seen)| {
        let Incoming { buckets, sketch } = incoming;
        if buckets.is_empty() {
            return;
        }
        let items: usize = buckets.iter().map(Vec::len).sum();
        seen.merge(&sketch);
        let mut table = shard.write(Site::new("par_extend_chunked"));
        // The build's distinct keys so far, less those already in: the keys this chunk adds
        // (an estimate, within the sketch's few percent; keys the map held before the build
        // make it low).
        let additional = seen
            .estimate()
            .saturating_sub(table.len())
            .min(sketch.estimate())
            .min(items);
        fill_reserved(&mut table, buckets, additional, map.router());
    });
}

#[cfg(test)]
mod tests {
    use core::hash::{Hash, Hasher};
    use std::collections::HashMap;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::{Arc, Mutex};

    use rayon::prelude::*;

    use super::{chunk_len, extend_in_chunks};
    use crate::ShardedMap;

    /// Items per build, and the floor of a chunk's bytes: about 40 items of `(u64, u32, u32)`,
    /// so every build below runs in many chunks.
    const ITEMS: u32 = if cfg!(miri) { 200 } else { 20_000 };
    const MIN_BYTES: usize = 40 * 16;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("build a rayon pool")
    }

    fn as_std<K: Copy + Eq + Hash, V: Copy>(map: &ShardedMap<K, V>) -> HashMap<K, V> {
        map.iter().map(|r| (*r.key(), *r.value())).collect()
    }

    #[test]
    fn a_chunk_is_a_third_of_the_tables_at_least_the_floor() {
        assert_eq!(chunk_len::<u32, u32>(0, 1600), 100);
        assert_eq!(chunk_len::<u32, u32>(3 * 16_000, 1600), 1000);
        assert_eq!(
            chunk_len::<u32, u32>(0, 0),
            1,
            "a chunk holds at least one item"
        );
    }

    /// Every key comes many times with a different value each time, in chunks far smaller
    /// than the input: a chunk filled out of order, or one that is not a prefix, leaves a
    /// wrong value. Pools of 1 to 8 threads, 2 shards and the default.
    #[test]
    fn chunks_give_the_same_map_as_a_sequential_extend() {
        let threads: &[usize] = if cfg!(miri) { &[1, 3] } else { &[1, 2, 3, 8] };
        for keys in [1, 7, ITEMS / 3, ITEMS] {
            let items: Vec<(u32, u32)> = (0..ITEMS).map(|i| (i % keys, i)).collect();
            let mut expected: HashMap<u32, u32> = (0..keys / 2).map(|k| (k, u32::MAX)).collect();
            expected.extend(items.iter().copied());
            assert!(chunk_len::<u32, u32>(0, MIN_BYTES) < items.len() / 4);
            for &threads in threads {
                for shards in [2, ShardedMap::<u32, u32>::new().shard_amount()] {
                    let map = ShardedMap::with_shard_amount(shards);
                    for k in 0..keys / 2 {
                        map.insert(k, u32::MAX);
                    }
                    pool(threads).install(|| {
                        extend_in_chunks(&map, items.par_iter().copied(), MIN_BYTES);
                    });
                    let context = format!("{keys} keys, {threads} threads, {shards} shards");
                    assert_eq!(as_std(&map), expected, "{context}");
                    let counted: usize = (0..shards).map(|i| map.shard_len(i)).sum();
                    assert_eq!(
                        (map.len(), counted),
                        (expected.len(), expected.len()),
                        "{context}"
                    );
                }
            }
        }
    }

    /// A key that counts its drops and can be armed to panic when hashed.
    struct Key {
        id: u32,
        bomb: bool,
        drops: Arc<Mutex<usize>>,
    }

    impl Hash for Key {
        fn hash<H: Hasher>(&self, state: &mut H) {
            assert!(!self.bomb, "the planted Hash panic");
            self.id.hash(state);
        }
    }

    impl PartialEq for Key {
        fn eq(&self, other: &Self) -> bool {
            self.id == other.id
        }
    }

    impl Eq for Key {}

    impl Drop for Key {
        fn drop(&mut self) {
            // (A mutex, not an atomic: atomics come from `raw::sync` alone.)
            *self.drops.lock().unwrap() += 1;
        }
    }

    /// A panic in `Hash` in a late chunk: the chunks before it are in the map, nothing at or
    /// after the panicking item is, the map stays usable, and every key is dropped once,
    /// those the build never reached included.
    #[test]
    fn a_panic_in_a_later_chunk_keeps_the_earlier_chunks_and_drops_every_item_once() {
        let drops = Arc::new(Mutex::new(0));
        let (n, keys, bomb) = (ITEMS, ITEMS / 4, ITEMS * 3 / 4);
        let items: Vec<(Key, u32)> = (0..n)
            .map(|i| {
                let key = Key {
                    id: i % keys,
                    bomb: i == bomb,
                    drops: Arc::clone(&drops),
                };
                (key, i)
            })
            .collect();
        let map: ShardedMap<Key, u32> = ShardedMap::with_shard_amount(4);
        let build = catch_unwind(AssertUnwindSafe(|| {
            pool(3).install(|| extend_in_chunks(&map, items.into_par_iter(), MIN_BYTES));
        }));
        assert!(build.is_err(), "the planted panic did not surface");
        // The first chunk is in; nothing from the panicking item on is.
        assert!(map.len() >= chunk_len::<Key, u32>(0, MIN_BYTES).min(keys as usize));
        assert!(map
            .iter()
            .all(|r| *r.value() < bomb && *r.value() % keys == r.key().id));
        let counted: usize = (0..4).map(|i| map.shard_len(i)).sum();
        assert_eq!(counted, map.len());
        let stored = map.len();
        drop(map);
        let dropped = *drops.lock().unwrap();
        assert_eq!(dropped, n as usize, "{stored} keys were stored");
    }
}
