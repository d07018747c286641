//! Routing: the one hash an operation computes, which shard it picks, and the closures every
//! table call shares (hashbrown's `make_hasher` and `equivalent_key`). Safe code; the rest of the
//! engine and the API layers above all route through here.
//!
//! ```text
//! h     = mix(hasher.hash_one(key))    // folded multiply by the 64-bit golden ratio
//! shard = (h << 7) >> shift            // the log2(N) bits just below hashbrown's 7 control bits
//! table.find(h, equivalent_key(key))   // hashbrown: top 7 bits -> control byte, low -> bucket
//! ```
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};

use equivalent::Equivalent;

#[cfg(feature = "rayon")]
use crate::raw::prefetch::ProbeHint;
use crate::raw::shard::Table;

/// Mixes a user hash so that shard bits, hashbrown's control bits (top 7) and bucket bits (low)
/// are all well spread even for weak hashers: an identity hasher on sequential integers spreads
/// evenly over shards, and a hash that varies only in its high bits still reaches the bucket
/// bits. This is ahash's folded multiply with the 64-bit golden-ratio constant: one widening
/// multiply and one xor.
#[inline]
fn mix(hash: u64) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let full = u128::from(hash).wrapping_mul(u128::from(K));
    (full as u64) ^ ((full >> 64) as u64)
}

/// Hashes `key` with `hasher` and mixes the result: the one hash an operation computes.
#[inline]
pub(crate) fn hash_key<S: BuildHasher, Q: ?Sized + Hash>(hasher: &S, key: &Q) -> u64 {
    mix(hasher.hash_one(key))
}

/// The hash of a stored pair, for hashbrown when a table grows (hashbrown's `make_hasher`):
/// every caller gets this one closure type per key, value and hasher, so hashbrown's growth
/// path is compiled once for them.
#[inline]
pub(crate) fn make_hasher<K: Hash, V, S: BuildHasher>(hasher: &S) -> impl Fn(&(K, V)) -> u64 + '_ {
    move |(k, _)| hash_key(hasher, k)
}

/// Whether a stored pair's key is equivalent to `key` (hashbrown's `equivalent_key`): the one
/// lookup closure, for borrowed (`Q`) and owned (`K`, through `Equivalent`'s blanket impl) keys.
#[inline]
pub(crate) fn equivalent_key<Q: ?Sized + Equivalent<K>, K, V>(
    key: &Q,
) -> impl Fn(&(K, V)) -> bool + '_ {
    move |(k, _)| key.equivalent(k)
}

/// Inserts `(key, value)` into `table` with one probe: replaces the value (keeping the stored key)
/// and returns the old one if the key is present. `rehash` is only called if the table grows.
#[inline]
pub(crate) fn insert_in<K: Eq, V>(
    table: &mut Table<K, V>,
    hash: u64,
    key: K,
    value: V,
    rehash: impl Fn(&(K, V)) -> u64,
) -> Option<V> {
    match table.entry(hash, equivalent_key(&key), rehash) {
        hashbrown::hash_table::Entry::Occupied(mut e) => {
            Some(core::mem::replace(&mut e.get_mut().1, value))
        }
        hashbrown::hash_table::Entry::Vacant(e) => {
            e.insert((key, value));
            None
        }
    }
}

/// How many items ahead [`insert_all_in`] prefetches (of 8, 16: 8 measured best).
#[cfg(feature = "rayon")]
const FILL_PREFETCH_AHEAD: usize = 8;

/// Inserts `items` into `table` in order, as [`insert_in`] one by one (later items replace
/// earlier ones with the same key), and prefetches the home control group and bucket of the
/// item [`FILL_PREFETCH_AHEAD`] places ahead of each insert, so that on a table larger than the
/// cache (the parallel build's fill) several items' misses are in flight at once. The table's
/// layout is learned from the first insert, and again whenever the table grows.
#[cfg(feature = "rayon")]
pub(crate) fn insert_all_in<K: Eq, V>(
    table: &mut Table<K, V>,
    items: Vec<(u64, K, V)>,
    rehash: impl Fn(&(K, V)) -> u64,
) {
    let hint = ProbeHint::new();
    let mut items = items.into_iter();
    while let Some((hash, key, value)) = items.next() {
        if let Some(&(ahead, _, _)) = items.as_slice().get(FILL_PREFETCH_AHEAD) {
            hint.prefetch::<K, V>(ahead);
        }
        insert_in(table, hash, key, value, &rehash);
        hint.learn_near_if_moved(table, hash);
    }
}

/// A map's hasher and shard shift: everything needed to hash a key and pick its shard, borrowed
/// apart from the shards (so bulk paths can hold `&mut` shards and hash at the same time).
pub(crate) struct Router<'a, S> {
    hasher: &'a S,
    shift: u32,
}

impl<'a, S> Router<'a, S> {
    /// The router of a map with `hasher` and shard shift `shift` (`64 - log2(shard count)`,
    /// from [`shift_for`]).
    #[inline]
    pub(crate) fn new(hasher: &'a S, shift: u32) -> Self {
        Self { hasher, shift }
    }
}

impl<S> Clone for Router<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Router<'_, S> {}

impl<'a, S: BuildHasher> Router<'a, S> {
    /// `key`'s hash (the map's one hash per operation) and its shard index.
    #[inline]
    pub(crate) fn locate<K: ?Sized + Hash>(&self, key: &K) -> (u64, usize) {
        let hash = self.hash(key);
        (hash, self.shard_of(hash))
    }

    /// `key`'s hash alone (its shard follows from it: [`shard_of`](Self::shard_of)).
    #[inline]
    pub(crate) fn hash<K: ?Sized + Hash>(&self, key: &K) -> u64 {
        hash_key(self.hasher, key)
    }

    /// The shard of a hash from [`hash`](Self::hash) or [`locate`](Self::locate).
    #[inline]
    pub(crate) fn shard_of(&self, hash: u64) -> usize {
        shard_index(hash, self.shift)
    }

    /// The hash of a stored pair, for hashbrown when a table grows ([`make_hasher`]'s closure).
    #[inline]
    pub(crate) fn rehasher<K: Hash, V>(&self) -> impl Fn(&(K, V)) -> u64 + 'a {
        make_hasher(self.hasher)
    }
}

/// The shard for a mixed hash: the bits just below hashbrown's 7 control bits. `shift` is
/// `64 - log2(shard count)`.
#[inline]
pub(crate) fn shard_index(hash: u64, shift: u32) -> usize {
    ((hash << 7) >> shift) as usize
}

/// The shard shift of a map with `shards` shards (a power of two): `64 - log2(shards)`.
#[inline]
pub(crate) fn shift_for(shards: usize) -> u32 {
    debug_assert!(shards.is_power_of_two());
    64 - shards.trailing_zeros()
}
