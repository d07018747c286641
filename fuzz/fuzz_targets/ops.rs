//! Applies an arbitrary sequence of operations to a `ShardedMap` and to a std `HashMap` and
//! compares them after every operation. The configuration (shard count 2, 4 or 8; ahash or a
//! hasher under which every key collides) is drawn from the input too.
#![no_main]

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sharded_map::mapref::entry::Entry;
use sharded_map::ShardedMap;

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
