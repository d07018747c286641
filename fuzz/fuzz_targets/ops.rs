//! Applies an arbitrary sequence of operations (the guard API, the guard-free API,
//! `get_disjoint_mut` and `entry_ref` included) to a `ShardedMap` and to a std `HashMap` and
//! compares them after every operation. The configuration (shard count 2, 4 or 8; ahash or a
//! hasher under which every key collides) is drawn from the input too.
#![no_main]

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sharded_map::mapref::entry::Entry;
use sharded_map::{Computed, EntryRef, Op as MapOp, ShardedMap};

#[derive(Clone, Copy, Default)]
struct Colliding;
struct CollidingHasher;
impl Hasher for CollidingHasher {
    fn finish(&self) -> u64 {
        7
    }
    fn write(&mut self, _: &[u8]) {}
}
impl BuildHasher for Colliding {
    type Hasher = CollidingHasher;
    fn build_hasher(&self) -> CollidingHasher {
        CollidingHasher
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Insert(u8, u16),
    Get(u8),
    GetMut(u8, u16),
    Remove(u8),
    RemoveIf(u8, bool),
    EntryOrInsert(u8, u16),
    EntryOrInsertWith(u8, u16),
    EntryAndModify(u8),
    EntryInsert(u8, u16),
    EntryRemove(u8),
    EntryReplace(u8, u16),
    Retain(u8),
    Alter(u8, u16),
    AlterAll(u16),
    Len,
    Iter,
    IterMut(u16),
    Clear,
    ShrinkToFit,
    ContainsKey(u8),
    GetCloned(u8),
    WithMut(u8, u16),
    GetOrInsertWith(u8, u16),
    /// `compute` with the closure's choice drawn from the input: 0 keep, 1 insert, 2 remove.
    Compute(u8, u8, u16),
    Upsert(u8, u16),
    /// Two keys through `get_disjoint_mut`, each bumped by the value. A repeated present key
    /// is skipped: it panics by contract (tests/disjoint.rs checks that), and libFuzzer's panic
    /// hook aborts on any panic.
    Disjoint(u8, u8, u16),
    /// `entry_ref` (a borrowed key): replace the value if occupied (inserting would need
    /// `K: From<&Q>`, which `u8` lacks).
    EntryRefReplace(u8, u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    shards_log2: u8,
    colliding: bool,
    ops: Vec<Op>,
}

fn check<S: BuildHasher>(map: ShardedMap<u8, u16, S>, ops: &[Op]) {
    let mut model: HashMap<u8, u16> = HashMap::new();
    for op in ops {
        match *op {
            Op::Insert(k, v) => assert_eq!(map.insert(k, v), model.insert(k, v)),
            Op::Get(k) => assert_eq!(map.get(&k).map(|r| *r), model.get(&k).copied()),
            Op::GetMut(k, v) => {
                let ours = map.get_mut(&k).map(|mut r| std::mem::replace(&mut *r, v));
                assert_eq!(ours, model.get_mut(&k).map(|x| std::mem::replace(x, v)));
            }
            Op::Remove(k) => assert_eq!(map.remove(&k), model.remove_entry(&k)),
            Op::RemoveIf(k, yes) => {
                let theirs = if yes { model.remove_entry(&k) } else { None };
                assert_eq!(map.remove_if(&k, |_, _| yes), theirs);
            }
            Op::EntryOrInsert(k, v) => {
                assert_eq!(*map.entry(k).or_insert(v), *model.entry(k).or_insert(v))
            }
            Op::EntryOrInsertWith(k, v) => {
                assert_eq!(
                    *map.entry(k).or_insert_with(|| v),
                    *model.entry(k).or_insert_with(|| v)
                )
            }
            Op::EntryAndModify(k) => {
                map.entry(k).and_modify(|x| *x = x.wrapping_add(1));
                model.entry(k).and_modify(|x| *x = x.wrapping_add(1));
            }
            Op::EntryInsert(k, v) => {
                assert_eq!(*map.entry(k).insert(v), v);
                model.insert(k, v);
            }
            Op::EntryRemove(k) => {
                let ours = match map.entry(k) {
                    Entry::Occupied(o) => Some(o.remove_entry()),
                    Entry::Vacant(_) => None,
                };
                assert_eq!(ours, model.remove_entry(&k));
            }
            Op::EntryReplace(k, v) => {
                let ours = match map.entry(k) {
                    Entry::Occupied(o) => Some(o.replace_entry(v)),
                    Entry::Vacant(_) => None,
                };
                let theirs = model.get_mut(&k).map(|x| (k, std::mem::replace(x, v)));
                assert_eq!(ours, theirs);
            }
            Op::Retain(m) => {
                let m = m.max(1);
                map.retain(|k, _| k % m == 0);
                model.retain(|k, _| k % m == 0);
            }
            Op::Alter(k, v) => {
                map.alter(&k, |_, x| x ^ v);
                if let Some(x) = model.get_mut(&k) {
                    *x ^= v;
                }
            }
            Op::AlterAll(v) => {
                map.alter_all(|_, x| x.wrapping_add(v));
                model.values_mut().for_each(|x| *x = x.wrapping_add(v));
            }
            Op::Len => assert_eq!(map.len(), model.len()),
            Op::Iter => {
                let ours: HashMap<u8, u16> = map.iter().map(|r| (*r.key(), *r.value())).collect();
                assert_eq!(ours, model);
            }
            Op::IterMut(v) => {
                map.iter_mut().for_each(|mut r| *r = r.wrapping_sub(v));
                model.values_mut().for_each(|x| *x = x.wrapping_sub(v));
            }
            Op::Clear => {
                map.clear();
                model.clear();
            }
            Op::ShrinkToFit => map.shrink_to_fit(),
            Op::ContainsKey(k) => assert_eq!(map.contains_key(&k), model.contains_key(&k)),
            Op::GetCloned(k) => assert_eq!(map.get_cloned(&k), model.get(&k).copied()),
            Op::WithMut(k, v) => {
                let ours = map.with_mut(&k, |_, x| std::mem::replace(x, v));
                assert_eq!(ours, model.get_mut(&k).map(|x| std::mem::replace(x, v)));
            }
            Op::GetOrInsertWith(k, v) => {
                assert_eq!(
                    map.get_or_insert_with(k, || v),
                    *model.entry(k).or_insert(v)
                )
            }
            Op::Compute(k, choice, v) => {
                let before = model.get(&k).copied();
                let ours = map.compute(k, |x| {
                    assert_eq!(x.copied(), before, "compute sees the stored value");
                    match choice % 3 {
                        0 => MapOp::Keep,
                        1 => MapOp::Insert(v),
                        _ => MapOp::Remove,
                    }
                });
                let theirs = match (choice % 3, before) {
                    (1, None) => Computed::Inserted,
                    (1, Some(old)) => Computed::Replaced(old),
                    (2, Some(old)) => Computed::Removed(k, old),
                    _ => Computed::Unchanged,
                };
                match choice % 3 {
                    1 => {
                        model.insert(k, v);
                    }
                    2 => {
                        model.remove(&k);
                    }
                    _ => {}
                }
                assert_eq!(ours, theirs);
            }
            Op::Upsert(k, v) => {
                let inserted = map.upsert(k, v, |x| *x = x.wrapping_add(v));
                assert_eq!(inserted, !model.contains_key(&k));
                model
                    .entry(k)
                    .and_modify(|x| *x = x.wrapping_add(v))
                    .or_insert(v);
            }
            Op::Disjoint(a, b, v) => {
                if !(a == b && model.contains_key(&a)) {
                    let [x, y] = map.get_disjoint_mut([&a, &b]);
                    assert_eq!(x.is_some(), model.contains_key(&a));
                    assert_eq!(y.is_some(), model.contains_key(&b));
                    for (mut guard, key) in [(x, a), (y, b)]
                        .into_iter()
                        .filter_map(|(g, k)| Some((g?, k)))
                    {
                        *guard = guard.wrapping_add(v);
                        let m = model.get_mut(&key).unwrap();
                        *m = m.wrapping_add(v);
                    }
                }
            }
            Op::EntryRefReplace(k, v) => {
                let ours = match map.entry_ref(&k) {
                    EntryRef::Occupied(mut o) => Some(o.insert(v)),
                    EntryRef::Vacant(e) => {
                        assert_eq!(*e.key(), k);
                        None
                    }
                };
                assert_eq!(ours, model.get_mut(&k).map(|x| std::mem::replace(x, v)));
            }
        }
        assert_eq!(map.len(), model.len());
    }
    let ours: HashMap<u8, u16> = map.into_iter().collect();
    assert_eq!(ours, model);
}

fuzz_target!(|input: Input| {
    let shards = 2usize << (input.shards_log2 % 3);
    if input.colliding {
        check(
            ShardedMap::with_hasher_and_shard_amount(Colliding, shards),
            &input.ops,
        );
    } else {
        check(ShardedMap::with_shard_amount(shards), &input.ops);
    }
});
