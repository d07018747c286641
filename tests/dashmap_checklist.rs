//! The DashMap 6.2.1 checklist of `docs/migrating-from-dashmap.md`, item by item, through the
//! renamed import a migration uses. Each test names the checklist group it covers; every item
//! of the group is exercised with its values checked (written from DashMap's documented
//! behaviour). Deliberate differences are asserted as such.

mod common;

use std::collections::HashMap;

use sharded_map::iter::{Iter, IterMut, OwningIter};
use sharded_map::mapref::entry::{Entry, OccupiedEntry, VacantEntry};
use sharded_map::mapref::multiple::{RefMulti, RefMutMulti};
use sharded_map::mapref::one::{MappedRef, MappedRefMut, Ref, RefMut};
use sharded_map::try_result::TryResult;
use sharded_map::{ReadOnlyView, ShardedMap as DashMap, ShardedSet as DashSet, TryReserveError};

type S = std::collections::hash_map::RandomState;

/// Checklist: `DashMap` constructors, `hasher`, `Default`, `Clone`, `Debug`.
#[test]
fn map_constructors_and_std_traits() {
    let a: DashMap<u32, u32> = DashMap::new();
    let b: DashMap<u32, u32> = DashMap::with_capacity(100);
    let c: DashMap<u32, u32> = DashMap::with_shard_amount(8);
    let d: DashMap<u32, u32> = DashMap::with_capacity_and_shard_amount(100, 4);
    let e: DashMap<u32, u32, S> = DashMap::with_hasher(S::new());
    let f: DashMap<u32, u32, S> = DashMap::with_capacity_and_hasher(100, S::new());
    let g: DashMap<u32, u32, S> = DashMap::with_hasher_and_shard_amount(S::new(), 16);
    let h: DashMap<u32, u32, S> =
        DashMap::with_capacity_and_hasher_and_shard_amount(100, S::new(), 32);
    assert!(a.is_empty() && b.capacity() >= 100 && f.capacity() >= 100 && h.capacity() >= 100);
    assert_eq!((c.shard_amount(), d.shard_amount()), (8, 4));
    assert_eq!((g.shard_amount(), h.shard_amount()), (16, 32));
    let _: &S = e.hasher();
    let default: DashMap<u32, u32> = Default::default();
    assert!(default.is_empty());
    a.insert(1, 10);
    let cloned = a.clone();
    a.insert(1, 11);
    assert_eq!(*cloned.get(&1).unwrap(), 10, "a clone is independent");
    assert_eq!(format!("{a:?}"), "{1: 11}");
}

/// Checklist: `insert`, `remove`, `remove_if`, `remove_if_mut`, `get`, `get_mut`, `try_get`,
/// `try_get_mut`, `contains_key`, `view`, `alter`, `alter_all`, `retain`, `len`, `is_empty`,
/// `clear`, `capacity`, `shrink_to_fit`, `try_reserve`, `hash_usize`, `determine_map`,
/// `determine_shard`, `into_read_only`.
#[test]
fn map_operations() {
    let map: DashMap<&str, u32> = DashMap::new();
    assert_eq!(map.insert("a", 1), None);
    assert_eq!(map.insert("a", 2), Some(1));
    map.insert("b", 3);
    map.insert("c", 4);
    assert_eq!((map.len(), map.is_empty()), (3, false));
    assert!(map.contains_key("a") && !map.contains_key("z"));
    assert_eq!(*map.get("a").unwrap(), 2);
    *map.get_mut("a").unwrap() += 1;
    assert!(matches!(map.try_get("a"), TryResult::Present(r) if *r == 3));
    assert!(map.try_get_mut("z").is_absent());
    assert_eq!(
        map.view("b", |k, v| format!("{k}{v}")),
        Some("b3".to_string())
    );
    map.alter("b", |_, v| v * 10);
    assert_eq!(*map.get("b").unwrap(), 30);
    map.alter_all(|_, v| v + 1);
    assert_eq!((*map.get("a").unwrap(), *map.get("c").unwrap()), (4, 5));
    assert_eq!(map.remove_if("a", |_, v| *v > 100), None);
    assert_eq!(map.remove_if("a", |_, v| *v == 4), Some(("a", 4)));
    assert_eq!(
        map.remove_if_mut("b", |_, v| {
            *v += 1;
            *v == 32
        }),
        Some(("b", 32))
    );
    assert_eq!(map.remove("c"), Some(("c", 5)));
    assert_eq!(map.remove("c"), None);
    for i in ["x", "y", "z"] {
        map.insert(i, 0);
    }
    map.retain(|k, _| *k != "y");
    assert_eq!(map.len(), 2);
    map.clear();
    assert!(map.is_empty());
    // Deliberate difference: try_reserve counts entries in total, not per shard, and works
    // through &self too (a `&mut self` caller compiles unchanged).
    let owned: DashMap<u64, u64> = DashMap::with_shard_amount(4);
    assert!(owned.try_reserve(1000).is_ok());
    assert!(owned.capacity() >= 1000);
    let err: TryReserveError = owned.try_reserve(usize::MAX).unwrap_err();
    assert!(err.to_string().contains("capacity"), "{err}");
    owned.shrink_to_fit();
    assert!(owned.capacity() < 1000);
    // Routing: determine_shard(hash_usize(k)) == determine_map(k), as in DashMap.
    let k = 42u64;
    assert_eq!(
        owned.determine_shard(owned.hash_usize(&k)),
        owned.determine_map(&k)
    );
    owned.insert(k, 1);
    let view: ReadOnlyView<u64, u64> = owned.into_read_only();
    assert_eq!(view.get(&k), Some(&1));
}

/// Checklist: `iter`, `iter_mut`, `IntoIterator` (owned and `&`), `Extend`, `FromIterator`,
/// `iter::Iter` (with `Clone`), `iter::IterMut`, `iter::OwningIter` and their parameter lists.
#[test]
fn map_iteration_and_iterator_types() {
    let map: DashMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    let it: Iter<'_, u32, u32> = map.iter();
    let again = it.clone();
    assert_eq!(it.map(|r| *r.value()).sum::<u32>(), 45);
    assert_eq!(again.count(), 10);
    let it_mut: IterMut<'_, u32, u32> = map.iter_mut();
    it_mut.for_each(|mut r| *r *= 2);
    assert_eq!((&map).into_iter().map(|r| *r).sum::<u32>(), 90);
    let mut map = map;
    map.extend([(100, 1)]);
    assert_eq!(map.len(), 11);
    let owning: OwningIter<u32, u32> = map.into_iter();
    assert_eq!(owning.len(), 11);
    // DashMap's parameter lists: the hasher and the map type may be named.
    let custom: DashMap<u32, u32, S> = DashMap::with_hasher(S::new());
    custom.insert(1, 1);
    let named: Iter<'_, u32, u32, S, DashMap<u32, u32, S>> = custom.iter();
    assert_eq!(named.count(), 1);
    let named_mut: IterMut<'_, u32, u32, S> = custom.iter_mut();
    assert_eq!(named_mut.count(), 1);
    let named_owning: OwningIter<u32, u32, S> = custom.into_iter();
    assert_eq!(named_owning.count(), 1);
}

/// Checklist: the operators on `&DashMap`: `<<` insert, `>>` get, `|` get_mut, `-` remove,
/// `&` contains_key.
#[test]
fn map_operators() {
    let map: DashMap<String, u32> = DashMap::new();
    assert_eq!(&map << ("k".to_string(), 1), None);
    assert_eq!(&map << ("k".to_string(), 2), Some(1));
    assert_eq!(*(&map >> "k"), 2);
    *(&map | "k") += 5;
    assert!(&map & "k");
    assert_eq!(&map - "k", Some(("k".to_string(), 7)));
    assert!(!(&map & "k"));
    // `>>` and `|` on an absent key panic, as DashMap's unwrap does; ours says why.
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = &map >> "absent";
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("not in the map"), "{msg}");
}

/// Checklist: `mapref::one::Ref`, `RefMut`, `MappedRef`, `MappedRefMut`: every method, `Deref`,
/// `DerefMut`, `Debug`, `MappedRef`'s `Display` and `AsRef`.
#[test]
fn single_key_guards() {
    let map: DashMap<&str, (u32, String)> = DashMap::new();
    map.insert("k", (1, "one".to_string()));
    let r: Ref<'_, &str, (u32, String)> = map.get("k").unwrap();
    assert_eq!((*r.key(), r.value().0, r.pair().1 .0), ("k", 1, 1));
    assert_eq!(r.0, 1);
    let m: MappedRef<'_, &str, (u32, String), String> = r.map(|v| &v.1);
    assert_eq!(
        (m.key(), m.value().as_str(), m.pair().1.as_str()),
        (&"k", "one", "one")
    );
    assert_eq!(format!("{m}"), "one");
    let s: &str = m.as_ref();
    assert_eq!(s, "one");
    let m2 = m.map(|s| s.as_str());
    assert_eq!(&*m2, "one");
    drop(m2);
    let bad = map.get("k").unwrap().try_map(|v| v.1.get(9..));
    assert!(bad.is_err());
    drop(bad);
    let mut w: RefMut<'_, &str, (u32, String)> = map.get_mut("k").unwrap();
    w.value_mut().0 += 1;
    w.pair_mut().1 .0 += 1;
    w.0 += 1;
    assert_eq!((*w.key(), w.value().0, w.pair().1 .0), ("k", 4, 4));
    assert!(format!("{w:?}").contains("one"));
    let mut mm: MappedRefMut<'_, &str, (u32, String), String> = w.map(|v| &mut v.1);
    mm.value_mut().push('!');
    mm.pair_mut().1.push('!');
    assert_eq!(
        (*mm.key(), mm.value().as_str(), mm.pair().1.as_str()),
        ("k", "one!!", "one!!")
    );
    let mm = mm
        .try_map(|s| s.get_mut(0..3))
        .unwrap_or_else(|_| unreachable!());
    assert_eq!(&*mm, "one");
    drop(mm);
    let down = map.get_mut("k").unwrap().downgrade();
    assert_eq!(down.0, 4);
    assert!(
        map.try_get_mut("k").is_locked(),
        "a downgraded guard still excludes writers"
    );
}

/// Checklist: `mapref::multiple::RefMulti`, `RefMutMulti`: `key`, `value`, `value_mut`, `pair`,
/// `pair_mut`, `Deref`, `DerefMut`.
#[test]
fn iteration_guards() {
    let map: DashMap<u32, u32> = DashMap::from([(1, 10)]);
    for r in map.iter() {
        let r: RefMulti<'_, u32, u32> = r;
        assert_eq!((*r.key(), *r.value(), r.pair(), *r), (1, 10, (&1, &10), 10));
    }
    for r in map.iter_mut() {
        let mut r: RefMutMulti<'_, u32, u32> = r;
        *r.value_mut() += 1;
        *r.pair_mut().1 += 1;
        *r += 1;
        assert_eq!((*r.key(), *r.value(), r.pair()), (1, 13, (&1, &13)));
    }
}

/// Checklist: `Entry` (also at the crate root), `OccupiedEntry`, `VacantEntry`: every method.
#[test]
fn entries() {
    let map: DashMap<String, u32> = DashMap::new();
    let e: sharded_map::Entry<'_, String, u32> = map.entry("a".into());
    assert_eq!(e.key(), "a");
    assert_eq!(e.into_key(), "a");
    *map.entry("a".into()).or_default() += 1;
    *map.entry("a".into()).or_insert(100) += 1;
    *map.entry("b".into()).or_insert_with(|| 5) += 1;
    assert!(map
        .entry("c".into())
        .or_try_insert_with(|| Err::<u32, _>("no"))
        .is_err());
    map.entry("a".into()).and_modify(|v| *v *= 10).or_insert(0);
    assert_eq!(*map.entry("d".into()).insert(7), 7);
    assert_eq!(*map.entry("d".into()).insert_entry(8).get(), 8);
    assert_eq!(map.get_cloned("a"), Some(20));
    assert_eq!(map.get_cloned("b"), Some(6));
    match map.entry("a".into()) {
        Entry::Occupied(mut o) => {
            let o: &mut OccupiedEntry<'_, String, u32> = &mut o;
            assert_eq!((o.key().as_str(), *o.get()), ("a", 20));
            *o.get_mut() += 1;
            assert_eq!(o.insert(30), 21);
        }
        Entry::Vacant(_) => unreachable!(),
    }
    let Entry::Occupied(o) = map.entry("a".into()) else {
        unreachable!()
    };
    assert_eq!(*o.into_ref(), 30);
    let Entry::Occupied(o) = map.entry("a".into()) else {
        unreachable!()
    };
    assert_eq!(o.into_key(), "a");
    let Entry::Occupied(o) = map.entry("a".into()) else {
        unreachable!()
    };
    assert_eq!(o.replace_entry(31), ("a".to_string(), 30));
    let Entry::Occupied(o) = map.entry("a".into()) else {
        unreachable!()
    };
    assert_eq!(o.remove(), 31);
    let Entry::Occupied(o) = map.entry("b".into()) else {
        unreachable!()
    };
    assert_eq!(o.remove_entry(), ("b".to_string(), 6));
    let Entry::Vacant(v) = map.entry("e".into()) else {
        unreachable!()
    };
    let v: VacantEntry<'_, String, u32> = v;
    assert_eq!(v.key(), "e");
    assert_eq!(*v.insert(1), 1);
    let Entry::Vacant(v) = map.entry("f".into()) else {
        unreachable!()
    };
    assert_eq!(v.insert_entry(2).remove(), 2);
    let Entry::Vacant(v) = map.entry("g".into()) else {
        unreachable!()
    };
    assert_eq!(v.into_key(), "g");
    assert!(map.try_entry("h".into()).is_some());
    let held = map.get("e").unwrap();
    assert!(map.try_entry("e".into()).is_none());
    drop(held);
    // The root re-exports are the same types.
    let _: Option<sharded_map::OccupiedEntry<'_, String, u32>> = None;
    let _: Option<sharded_map::VacantEntry<'_, String, u32>> = None;
}

/// Checklist: `DashSet`: every method, `IntoIterator`, `Extend`, `FromIterator`, `Clone`,
/// `Default`, `Debug`; `setref::one::Ref`, `setref::multiple::RefMulti`; `iter_set::Iter`,
/// `iter_set::OwningIter` and their parameter lists.
#[test]
fn sets() {
    let mut set: DashSet<u32> = DashSet::new();
    let _: DashSet<u32> = DashSet::with_capacity(10);
    let hashed: DashSet<u32, S> = DashSet::with_hasher(S::new());
    let _: DashSet<u32, S> = DashSet::with_capacity_and_hasher(10, S::new());
    assert!(set.insert(1) && !set.insert(1));
    set.insert(2);
    set.insert(3);
    let r: sharded_map::setref::one::Ref<'_, u32> = set.get(&2).unwrap();
    assert_eq!((*r.key(), *r), (2, 2));
    drop(r);
    assert!(set.contains(&3));
    assert_eq!(set.remove(&3), Some(3));
    assert_eq!(set.remove_if(&2, |k| *k == 9), None);
    assert_eq!(set.remove_if(&2, |k| *k == 2), Some(2));
    set.extend([4, 5, 6]);
    set.retain(|k| *k != 5);
    assert_eq!((set.len(), set.is_empty()), (3, false));
    let it: sharded_map::iter_set::Iter<'_, u32> = set.iter();
    let sum: u32 = it
        .map(|r: sharded_map::setref::multiple::RefMulti<'_, u32>| *r.key() + *r - *r)
        .sum();
    assert_eq!(sum, 1 + 4 + 6);
    assert_eq!(
        set.determine_shard(set.hash_usize(&4)),
        set.determine_map(&4)
    );
    let cloned = set.clone();
    assert_eq!(format!("{:?}", DashSet::from([7])), "{7}");
    set.shrink_to_fit();
    assert!(set.capacity() >= 3);
    set.clear();
    assert!(set.is_empty() && cloned.len() == 3);
    let owning: sharded_map::iter_set::OwningIter<u32> = cloned.into_iter();
    assert_eq!(owning.count(), 3);
    let default: DashSet<u32> = Default::default();
    assert!(default.is_empty());
    let collected: DashSet<u32> = (0..5).collect();
    assert_eq!(collected.len(), 5);
    hashed.insert(1);
    let named: sharded_map::iter_set::Iter<'_, u32, S, DashMap<u32, (), S>> = hashed.iter();
    assert_eq!(named.count(), 1);
    let named_owning: sharded_map::iter_set::OwningIter<u32, S> = hashed.into_iter();
    assert_eq!(named_owning.count(), 1);
}

/// Checklist: `ReadOnlyView`: `into_inner`, `len`, `is_empty`, `capacity`, `contains_key`, `get`,
/// `get_key_value`, `iter`, `keys`, `values`, `Clone`, `Debug`.
#[test]
fn read_only_view() {
    let view = DashMap::from([(1, "a"), (2, "b")]).into_read_only();
    assert_eq!((view.len(), view.is_empty()), (2, false));
    assert!(view.capacity() >= 2);
    assert!(view.contains_key(&1) && !view.contains_key(&3));
    assert_eq!(view.get(&2), Some(&"b"));
    assert_eq!(view.get_key_value(&1), Some((&1, &"a")));
    let mut pairs: Vec<_> = view.iter().map(|(k, v)| (*k, *v)).collect();
    pairs.sort();
    assert_eq!(pairs, [(1, "a"), (2, "b")]);
    assert_eq!(view.keys().sum::<i32>(), 3);
    assert_eq!(view.values().count(), 2);
    let cloned = view.clone();
    assert!(format!("{cloned:?}").contains("\"a\""));
    let map = view.into_inner();
    map.insert(3, "c");
    assert_eq!(map.len(), 3);
}

/// Checklist: `try_result::TryResult`: `is_present`, `is_absent`, `is_locked`, `unwrap`,
/// `try_unwrap`.
#[test]
fn try_results() {
    let map = DashMap::from([(1, 1)]);
    let present = map.try_get(&1);
    assert!(present.is_present() && !present.is_absent() && !present.is_locked());
    assert_eq!(*present.unwrap(), 1);
    assert!(map.try_get(&2).try_unwrap().is_none());
    let w = map.get_mut(&1).unwrap();
    assert!(map.try_get(&1).is_locked());
    drop(w);
    assert_eq!(map.try_get(&1).try_unwrap().map(|r| *r), Some(1));
}

/// Checklist: std habits of `HashMap` users: `From<[(K, V); N]>`, from and into std `HashMap`
/// and `HashSet` (keeping the hasher), `keys()` and `values()`.
#[test]
fn std_conversions() {
    let map = DashMap::from([(1, "a"), (2, "b"), (1, "c")]);
    assert_eq!((map.len(), map.get_cloned(&1)), (2, Some("c")));
    let std_map: HashMap<i32, &str, sharded_map::RandomState> = map.into();
    assert_eq!(std_map[&2], "b");
    let back: DashMap<i32, &str, sharded_map::RandomState> = DashMap::from(std_map);
    assert_eq!(back.get_cloned(&1), Some("c"));
    let hashed: HashMap<i32, i32, S> = HashMap::from_iter([(1, 1)]);
    let map: DashMap<i32, i32, S> = hashed.into();
    assert_eq!(map.get_cloned(&1), Some(1));
    // keys() and values(): owned clones, so the map can be written right after.
    let map = DashMap::from([(1, "a"), (2, "b")]);
    let mut keys: Vec<i32> = map.keys().collect();
    keys.sort();
    assert_eq!(keys, [1, 2]);
    let mut values: Vec<&str> = map.values().collect();
    values.sort();
    assert_eq!(values, ["a", "b"]);
    for k in keys {
        map.insert(k, "z");
    }
    assert!(map.values().all(|v| v == "z"));
    let set = DashSet::from([1, 2, 2]);
    let std_set: std::collections::HashSet<i32, sharded_map::RandomState> = set.into();
    assert_eq!(std_set.len(), 2);
    let back = DashSet::from(std_set);
    assert!(back.contains(&1));
}

/// Checklist: `entry_ref` / `try_entry_ref` (DashMap 7) and the `EntryRef` family: a borrowed
/// key, the owned key made only on insert.
#[test]
fn entry_refs() {
    use sharded_map::mapref::entry_ref::{EntryRef, OccupiedEntryRef, VacantEntryRef};
    let map: DashMap<String, u32> = DashMap::new();
    match map.entry_ref("a") {
        EntryRef::Vacant(v) => {
            let v: VacantEntryRef<'_, '_, String, str, u32> = v;
            assert_eq!(v.key(), "a");
            assert_eq!(*v.insert(1), 1);
        }
        EntryRef::Occupied(_) => unreachable!(),
    }
    match map.entry_ref("a") {
        EntryRef::Occupied(mut o) => {
            let o: &mut OccupiedEntryRef<'_, '_, String, str, u32> = &mut o;
            assert_eq!((o.key(), *o.get()), ("a", 1));
            assert_eq!(o.insert(2), 1);
        }
        EntryRef::Vacant(_) => unreachable!(),
    }
    *map.entry_ref("a").or_insert(0) += 1;
    *map.entry_ref("b").or_default() += 4;
    map.entry_ref("a").and_modify(|v| *v *= 10);
    assert_eq!(map.get_cloned("a"), Some(30));
    assert_eq!(map.get_cloned("b"), Some(4));
    assert_eq!(map.entry_ref("z").into_key(), "z");
    assert!(
        !map.contains_key("z"),
        "into_key on a vacant entry inserts nothing"
    );
    let EntryRef::Occupied(o) = map.entry_ref("b") else {
        unreachable!()
    };
    assert_eq!(o.remove_entry(), ("b".to_string(), 4));
    let held = map.get("a").unwrap();
    assert!(map.try_entry_ref("a").is_none());
    drop(held);
    assert!(map.try_entry_ref("a").is_some());
}

/// `entry_ref`: owned keys are made only when stored or asked for, and every key and value is
/// dropped exactly once (counted through `Drop`).
#[test]
fn entry_ref_drop_accounting() {
    use sharded_map::EntryRef;
    use std::borrow::Borrow;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    static KEYS_MADE: AtomicUsize = AtomicUsize::new(0);
    static KEYS_DROPPED: AtomicUsize = AtomicUsize::new(0);
    /// An owned key that counts how often it is made from a borrowed `u64` and dropped. Its
    /// derived `Hash` of one field hashes like the `u64` it borrows as.
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Key(u64);
    impl From<&u64> for Key {
        fn from(k: &u64) -> Self {
            KEYS_MADE.fetch_add(1, SeqCst);
            Key(*k)
        }
    }
    impl Borrow<u64> for Key {
        fn borrow(&self) -> &u64 {
            &self.0
        }
    }
    impl Drop for Key {
        fn drop(&mut self) {
            KEYS_DROPPED.fetch_add(1, SeqCst);
        }
    }

    let values = common::counter();
    let value = |id| common::Tracked::new(id, &values);
    {
        let map: DashMap<Key, common::Tracked> = DashMap::new();
        drop(map.entry_ref(&1).or_insert(value(1))); // vacant: one key made
        assert_eq!(KEYS_MADE.load(SeqCst), 1);
        drop(map.entry_ref(&1).or_insert(value(2))); // occupied: no key made; value 2 dropped
        assert_eq!((KEYS_MADE.load(SeqCst), common::count(&values)), (1, 1));
        drop(map.entry_ref(&1).insert(value(3))); // replaces (drops) value 1
        assert_eq!(common::count(&values), 2);
        let k = map.entry_ref(&2).into_key(); // vacant into_key: a key for the caller only
        drop(k);
        assert!(!map.contains_key(&2));
        let EntryRef::Occupied(o) = map.entry_ref(&1) else {
            unreachable!()
        };
        let (old_key, old_value) = o.replace_entry(value(4)); // a new key replaces the old
        assert_eq!((old_key.0, old_value.id), (1, 3));
        drop((old_key, old_value));
        let EntryRef::Vacant(v) = map.entry_ref(&5) else {
            unreachable!()
        };
        drop(v.insert_entry(value(5)).remove_entry());
        assert_eq!(map.len(), 1);
    } // the map drops key 1 (made by replace_entry) and value 4
    assert_eq!(
        KEYS_MADE.load(SeqCst),
        KEYS_DROPPED.load(SeqCst),
        "every key made was dropped once"
    );
    assert_eq!(KEYS_MADE.load(SeqCst), 4);
    assert_eq!(common::count(&values), 5, "every value dropped once");
}

/// Checklist, deliberate differences that are still source-compatible: `Ref`/`RefMut` are
/// `!Send` (asserted in tests/send_sync.rs and tests/compile-fail/), the default hasher is
/// ahash's, `Map` and the `raw-api` lock types are not provided. This test pins what *is*
/// the same: `Sync` guards and `Send` iteration items.
#[test]
fn deliberate_differences_keep_what_users_rely_on() {
    fn sync<T: Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let map = DashMap::from([(1, 1)]);
    sync(&map.get(&1).unwrap());
    send(map.iter().next().unwrap());
    let _: DashMap<u8, u8, sharded_map::RandomState> = DashMap::new();
}

/// Feature `serde`: every guard serializes as its value (set guards as their key), and the JSON
/// reads back as that value.
#[cfg(feature = "serde")]
#[test]
fn serde_guards_round_trip() {
    type Value = (u32, String);
    let value: Value = (2, "three".to_string());
    let map = DashMap::from([(1, value.clone())]);
    let back = |json: String| serde_json::from_str::<Value>(&json).unwrap();
    let json = |v: &dyn erased::Ser| v.json();
    assert_eq!(back(json(&map.get(&1).unwrap())), value);
    assert_eq!(back(json(&map.get_mut(&1).unwrap())), value);
    assert_eq!(back(json(&map.iter().next().unwrap())), value);
    assert_eq!(back(json(&map.iter_mut().next().unwrap())), value);
    let mapped = json(&map.get(&1).unwrap().map(|v| &v.0));
    assert_eq!(serde_json::from_str::<u32>(&mapped).unwrap(), 2);
    let mapped_mut = json(&map.get_mut(&1).unwrap().map(|v| &mut v.1));
    assert_eq!(
        serde_json::from_str::<String>(&mapped_mut).unwrap(),
        "three"
    );
    let set = DashSet::from(["k".to_string()]);
    let key = json(&set.get("k").unwrap());
    assert_eq!(serde_json::from_str::<String>(&key).unwrap(), "k");
    let key = json(&set.iter().next().unwrap());
    assert_eq!(serde_json::from_str::<String>(&key).unwrap(), "k");
}

#[cfg(feature = "serde")]
mod erased {
    /// Serializes any `Serialize` guard to JSON behind one object-safe trait.
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

/// Feature `rayon`: `ReadOnlyView`'s `par_iter` and `into_par_iter`.
#[cfg(feature = "rayon")]
#[test]
fn rayon_read_only_view() {
    use rayon::prelude::*;
    let map: DashMap<u32, u32> = (0..100u32).map(|i| (i, i)).collect();
    let view = map.into_read_only();
    assert_eq!(
        view.par_iter().map(|r| *r.key() + *r.value()).sum::<u32>(),
        9900
    );
    assert_eq!((&view).into_par_iter().map(|r| *r).sum::<u32>(), 4950);
    let mut pairs: Vec<(u32, u32)> = view.into_par_iter().collect();
    pairs.sort();
    assert_eq!(pairs.len(), 100);
    assert_eq!(pairs[99], (99, 99));
}

/// Feature `arbitrary`: maps and sets from fuzzer bytes.
#[cfg(feature = "arbitrary")]
#[test]
fn arbitrary_maps() {
    use arbitrary::{Arbitrary, Unstructured};
    // The same input gives the same entries as std's collections (which collect the same
    // arbitrary sequence).
    for seed in 0u8..8 {
        let bytes: Vec<u8> = (0..256u32)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect();
        let map = DashMap::<u8, u8>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
        let std_map = HashMap::<u8, u8>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
        assert_eq!(map.len(), std_map.len());
        assert!(std_map.iter().all(|(k, v)| map.get_cloned(k) == Some(*v)));
        let set = DashSet::<u16>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
        let std_set =
            std::collections::HashSet::<u16>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
        assert_eq!(set.len(), std_set.len());
        assert!(std_set.iter().all(|k| set.contains(k)));
    }
}

/// Feature `typesize`: what a map owns grows with its entries and what they own.
#[cfg(feature = "typesize")]
#[test]
fn typesize_counts_owned_memory() {
    use typesize::TypeSize;
    let map: DashMap<u64, String> = DashMap::with_shard_amount(4);
    let empty = map.get_size();
    map.insert(1, "x".repeat(1000));
    assert!(
        map.get_size() >= empty + 1000,
        "the value's heap bytes are counted"
    );
    let set: DashSet<u64> = DashSet::from([1, 2, 3]);
    assert!(set.get_size() > std::mem::size_of::<DashSet<u64>>());
}
