//! Feature `serde`: the map serializes as a map, the set as a sequence; both round-trip.
#![cfg(feature = "serde")]

use std::collections::{BTreeMap, BTreeSet};

use sharded_map::{ShardedMap, ShardedSet};

#[test]
fn map_round_trips_as_a_json_object() {
    let m: ShardedMap<String, Vec<u32>> = ShardedMap::new();
    for i in 0..50u32 {
        m.insert(format!("k{i}"), vec![i, i * 2]);
    }
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.starts_with('{') && json.ends_with('}'));
    let as_btree: BTreeMap<String, Vec<u32>> = serde_json::from_str(&json).unwrap();
    assert_eq!(as_btree.len(), 50);
    assert_eq!(as_btree["k7"], vec![7, 14]);
    let back: ShardedMap<String, Vec<u32>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
    let empty: ShardedMap<u8, u8> = serde_json::from_str("{}").unwrap();
    assert!(empty.is_empty());
    assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
}

#[test]
fn set_round_trips_as_a_json_array() {
    let s: ShardedSet<u64> = (0..100).collect();
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.starts_with('[') && json.ends_with(']'));
    let as_btree: BTreeSet<u64> = serde_json::from_str(&json).unwrap();
    assert_eq!(as_btree, (0..100).collect());
    let back: ShardedSet<u64> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    assert!(serde_json::from_str::<ShardedMap<u8, u8>>("[1, 2]").is_err());
    assert!(serde_json::from_str::<ShardedMap<u8, u8>>("{\"1\": 300}").is_err());
    assert!(serde_json::from_str::<ShardedSet<u8>>("{}").is_err());
    // Duplicate keys: last one wins, as with std's HashMap.
    let m: ShardedMap<String, u8> = serde_json::from_str("{\"a\": 1, \"a\": 2}").unwrap();
    assert_eq!(*m.get("a").unwrap(), 2);
}
