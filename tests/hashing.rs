//! Hash once per operation, and shard selection that survives weak hashers.

mod common;

use std::sync::atomic::Ordering;

use common::{Counting, Identity};
use sharded_map::ShardedMap;

#[test]
fn every_single_key_operation_hashes_exactly_once() {
    let hashes = Counting::default();
    let m: ShardedMap<u64, u64, Counting> =
        ShardedMap::with_capacity_and_hasher_and_shard_amount(1024, hashes.clone(), 4);
    let calls = || hashes.0.swap(0, Ordering::SeqCst);
    calls();
    let check = |what: &str, f: &dyn Fn()| {
        f();
        assert_eq!(
            calls(),
            1,
            "{what} hashed the key more than once (or not at all)"
        );
    };
    check("insert (new)", &|| assert_eq!(m.insert(1, 1), None));
    check("insert (existing)", &|| assert_eq!(m.insert(1, 2), Some(1)));
    check("get", &|| assert_eq!(*m.get(&1).unwrap(), 2));
    check("get miss", &|| assert!(m.get(&99).is_none()));
    check("get_mut", &|| *m.get_mut(&1).unwrap() += 1);
    check("try_get", &|| assert!(m.try_get(&1).is_present()));
    check("try_get_mut", &|| assert!(m.try_get_mut(&1).is_present()));
    check("contains_key", &|| assert!(m.contains_key(&1)));
    check("view", &|| assert_eq!(m.view(&1, |_, v| *v), Some(3)));
    check("alter", &|| m.alter(&1, |_, v| v + 1));
    check("entry (occupied)", &|| *m.entry(1).or_insert(0) += 1);
    check("entry (vacant)", &|| {
        assert_eq!(*m.entry(2).or_insert(7), 7)
    });
    check("try_entry", &|| assert!(m.try_entry(3).is_some()));
    check("remove_if (kept)", &|| {
        assert!(m.remove_if(&1, |_, _| false).is_none())
    });
    check("remove", &|| assert_eq!(m.remove(&1), Some((1, 5))));
    check("determine_map", &|| assert!(m.determine_map(&1) < 4));
}

#[test]
fn identity_hasher_on_sequential_keys_spreads_evenly() {
    let n: u64 = if cfg!(miri) { 4_000 } else { 1_000_000 };
    let m: ShardedMap<u64, (), Identity> =
        ShardedMap::with_capacity_and_hasher_and_shard_amount(n as usize, Identity, 64);
    for k in 0..n {
        m.insert(k, ());
    }
    let lens: Vec<usize> = (0..64).map(|i| m.shard_len(i)).collect();
    let mean = n as f64 / 64.0;
    let max = *lens.iter().max().unwrap() as f64;
    let min = *lens.iter().min().unwrap() as f64;
    assert!(
        max <= 1.5 * mean,
        "fullest shard {max} > 1.5 x mean {mean}: {lens:?}"
    );
    assert!(
        min >= 0.5 * mean,
        "emptiest shard {min} < 0.5 x mean {mean}: {lens:?}"
    );
    assert_eq!(lens.iter().sum::<usize>() as u64, n);
}

#[test]
fn identity_hasher_on_high_bit_keys_spreads_evenly() {
    // Keys that differ only in their high bits would all land in one bucket group without mixing.
    let n: u64 = if cfg!(miri) { 2_000 } else { 100_000 };
    let m: ShardedMap<u64, (), Identity> = ShardedMap::with_hasher_and_shard_amount(Identity, 16);
    for k in 0..n {
        m.insert(k << 40, ());
    }
    let lens: Vec<usize> = (0..16).map(|i| m.shard_len(i)).collect();
    let mean = n as f64 / 16.0;
    assert!(
        lens.iter()
            .all(|&l| (l as f64) <= 1.5 * mean && (l as f64) >= 0.5 * mean),
        "{lens:?}"
    );
    for k in 0..n {
        assert!(m.contains_key(&(k << 40)));
    }
}

/// The routing functions agree on every target: `determine_shard(hash_usize(k))` is the shard
/// `determine_map(k)` (and `shard_of(k)`) names. On 32-bit targets `hash_usize` used to keep the
/// low half of the 64-bit hash, where no shard bits are, and `determine_shard` answered 0 for
/// every key (scripts/miri runs this file for i686-unknown-linux-gnu too).
#[test]
fn routing_functions_agree_on_this_target() {
    for shards in [2, 16, 256] {
        let map: ShardedMap<u64, ()> = ShardedMap::with_shard_amount(shards);
        let mut seen = vec![false; shards];
        for k in 0..common::size(4096, 256) as u64 {
            let shard = map.determine_map(&k);
            assert_eq!(map.determine_shard(map.hash_usize(&k)), shard, "key {k}");
            assert_eq!(map.shard_of(&k), shard, "key {k}");
            seen[shard] = true;
        }
        // Every shard is reached (the 32-bit bug sent every key to shard 0).
        let reached = seen.iter().filter(|s| **s).count();
        assert!(
            reached > shards / 2,
            "only {reached} of {shards} shards reached"
        );
    }
}
