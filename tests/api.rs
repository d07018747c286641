//! Every public method of the map, set, guards, entries and view, with its values checked.

mod common;

use std::collections::hash_map::RandomState as StdRandomState;
use std::collections::HashMap;

use common::{Colliding, Identity};
use sharded_map::mapref::entry::Entry;
use sharded_map::{ReadOnlyView, ShardedMap, ShardedSet, TryResult};

#[test]
fn constructors_set_shards_and_capacity() {
    let m: ShardedMap<u32, u32> = ShardedMap::new();
    assert!(m.shard_amount() >= 2 && m.shard_amount().is_power_of_two());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(m.shard_amount(), (cores * 4).next_power_of_two().max(2));
    let d: ShardedMap<u32, u32> = ShardedMap::default();
    assert_eq!(d.shard_amount(), m.shard_amount());
    assert!(ShardedMap::<u32, u32>::with_capacity(1000).capacity() >= 1000);
    assert_eq!(
        ShardedMap::<u32, u32>::with_shard_amount(8).shard_amount(),
        8
    );
    let m = ShardedMap::<u32, u32>::with_capacity_and_shard_amount(500, 4);
    assert_eq!(m.shard_amount(), 4);
    assert!(m.capacity() >= 500);
    let m = ShardedMap::<u32, u32, _>::with_hasher(StdRandomState::new());
    m.insert(1, 1);
    assert_eq!(m.len(), 1);
    let m = ShardedMap::<u32, u32, _>::with_capacity_and_hasher(64, StdRandomState::new());
    assert!(m.capacity() >= 64);
    let m = ShardedMap::<u32, u32, _>::with_hasher_and_shard_amount(Identity, 16);
    assert_eq!(m.shard_amount(), 16);
    let m = ShardedMap::<u32, u32, _>::with_capacity_and_hasher_and_shard_amount(100, Identity, 2);
    assert_eq!(m.shard_amount(), 2);
    assert!(m.capacity() >= 100);
}

#[test]
fn presized_map_does_not_grow() {
    let n = common::size(100_000, 500);
    let m = ShardedMap::with_capacity(n);
    let cap = m.capacity();
    for i in 0..n as u64 {
        m.insert(i, i);
    }
    assert_eq!(
        m.capacity(),
        cap,
        "a shard grew although the map was presized for {n}"
    );
}

#[test]
fn invalid_shard_amounts_panic_with_the_value() {
    // Above the cap: the next power of two, the largest one, and usize::MAX.
    for bad in [
        0usize,
        1,
        3,
        6,
        100,
        1 << 17,
        usize::MAX / 2 + 1,
        usize::MAX,
    ] {
        let err =
            std::panic::catch_unwind(|| ShardedMap::<u8, u8>::with_shard_amount(bad)).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(
            msg.contains(&format!("got {bad}")),
            "message {msg:?} does not name {bad}"
        );
        assert!(msg.contains("power of two from 2 to 65536"), "{msg}");
    }
    // The largest allowed count works (8 MiB of shards). Not under Miri, where making 65,536
    // shards takes about a minute.
    if !cfg!(miri) {
        let map = ShardedMap::<u8, u8>::with_shard_amount(1 << 16);
        assert_eq!(map.shard_amount(), 1 << 16);
        map.insert(1, 2);
        assert_eq!(*map.get(&1).unwrap(), 2);
    }
    let err = std::panic::catch_unwind(|| ShardedSet::<u8>::with_shard_amount(12)).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("got 12"));
}

#[test]
fn shard_len_out_of_range_names_the_index_and_the_count() {
    let map = ShardedMap::<u8, u8>::with_shard_amount(4);
    let err =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| map.shard_len(4))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("shard_len(4)") && msg.contains("4 shards"),
        "{msg}"
    );
    assert_eq!(map.shard_len(3), 0);
}

#[test]
fn capacity_overflow_is_reported() {
    let err =
        std::panic::catch_unwind(|| ShardedMap::<u64, u64>::with_capacity(usize::MAX)).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.to_lowercase().contains("capacity overflow"), "{msg}");
    let m: ShardedMap<u64, u64> = ShardedMap::new();
    let e = m.try_reserve(usize::MAX).unwrap_err();
    assert!(e.to_string().contains("capacity overflow"));
    m.try_reserve(100).unwrap();
    assert!(m.capacity() >= 100);
}

#[test]
fn insert_get_remove() {
    let m = ShardedMap::with_shard_amount(4);
    assert_eq!(m.insert("a".to_string(), 1), None);
    assert_eq!(m.insert("a".to_string(), 2), Some(1));
    assert_eq!(m.len(), 1);
    assert_eq!(*m.get("a").unwrap(), 2);
    assert!(m.get("b").is_none());
    assert!(m.contains_key("a"));
    assert!(!m.contains_key("b"));
    assert_eq!(m.remove("a"), Some(("a".to_string(), 2)));
    assert_eq!(m.remove("a"), None);
    assert!(m.is_empty());
}

#[test]
fn insert_keeps_the_stored_key() {
    // Keys equal by id but distinguishable by a tag: the first stored key must stay.
    #[derive(Debug, Clone)]
    struct K(u32, &'static str);
    impl PartialEq for K {
        fn eq(&self, o: &Self) -> bool {
            self.0 == o.0
        }
    }
    impl Eq for K {}
    impl std::hash::Hash for K {
        fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
            self.0.hash(h)
        }
    }
    let m = ShardedMap::new();
    m.insert(K(1, "first"), 1);
    m.insert(K(1, "second"), 2);
    let r = m.get(&K(1, "probe")).unwrap();
    assert_eq!((r.key().1, *r.value()), ("first", 2));
}

#[test]
fn borrowed_lookups_compile_and_work() {
    let m: ShardedMap<String, Vec<u8>> = ShardedMap::new();
    m.insert("k".into(), vec![1]);
    assert!(m.get("k").is_some());
    assert!(m.get(&"k".to_string()).is_some());
    assert!(m.get_mut("k").is_some());
    assert!(m.try_get("k").is_present());
    assert!(m.try_get_mut("k").is_present());
    assert!(m.contains_key("k"));
    assert_eq!(m.view("k", |_, v| v.len()), Some(1));
    m.alter("k", |_, mut v| {
        v.push(2);
        v
    });
    assert_eq!(*m.get("k").unwrap(), vec![1, 2]);
    assert_eq!(m.remove_if("k", |_, v| v.len() == 5), None);
    assert_eq!(
        m.remove_if_mut("k", |_, v| v.pop() == Some(2)),
        Some(("k".into(), vec![1]))
    );
    let boxed: ShardedMap<Box<str>, i32> = ShardedMap::new();
    boxed.insert("x".into(), 1);
    assert_eq!(*boxed.get("x").unwrap(), 1);
}

#[test]
fn guards_ref_and_refmut() {
    let m = ShardedMap::new();
    m.insert(1, (10, String::from("ten")));
    {
        let r = m.get(&1).unwrap();
        assert_eq!(*r.key(), 1);
        assert_eq!(r.value().0, 10);
        assert_eq!(r.pair(), (&1, &(10, "ten".to_string())));
        assert_eq!(r.0, 10); // Deref
        assert!(format!("{r:?}").contains("ten"));
        // Reader-preferring: a second read of the same shard from the same thread.
        let again = m.get(&1).unwrap();
        assert_eq!(again.0, 10);
    }
    {
        let mut w = m.get_mut(&1).unwrap();
        assert_eq!(*w.key(), 1);
        w.value_mut().0 = 11;
        w.0 += 1; // DerefMut
        let (k, v) = w.pair_mut();
        v.1.push_str(&k.to_string());
        assert_eq!(w.pair().1 .0, 12);
        assert_eq!(w.value().1, "ten1");
    }
    let mapped = m.get(&1).unwrap().map(|v| &v.1);
    assert_eq!(mapped.key(), &1);
    assert_eq!(mapped.value(), "ten1");
    assert_eq!(mapped.pair().1, "ten1");
    assert_eq!(format!("{mapped}"), "ten1");
    let as_str: &str = mapped.as_ref();
    assert_eq!(as_str, "ten1");
    let len = mapped.map(|s| s.as_bytes()).map(|b| &b[0]);
    assert_eq!(*len, b't');
    drop(len);
    assert!(m.get(&1).unwrap().try_map(|_| None::<&u8>).is_err());
    let tm = m.get(&1).unwrap().try_map(|v| Some(&v.0)).unwrap();
    assert_eq!(*tm, 12);
    assert!(tm.try_map(|_| None::<&u8>).is_err());

    let mut mm = m.get_mut(&1).unwrap().map(|v| &mut v.1);
    mm.push('!');
    assert_eq!(mm.key(), &1);
    assert_eq!(mm.value(), "ten1!");
    mm.value_mut().push('?');
    let (_, s) = mm.pair_mut();
    s.push('.');
    assert_eq!(mm.pair().1, "ten1!?.");
    let mut deeper = mm.map(|s| s);
    deeper.truncate(6);
    deeper.push('x');
    drop(deeper);
    assert_eq!(m.get(&1).unwrap().1, "ten1!?x");
    assert!(m.get_mut(&1).unwrap().try_map(|_| None::<&mut u8>).is_err());
    let t = m.get_mut(&1).unwrap().try_map(|v| Some(&mut v.0)).unwrap();
    assert!(t.try_map(|_| None::<&mut u8>).is_err());

    // downgrade keeps the entry and lets other readers in.
    let w = m.get_mut(&1).unwrap();
    let r = w.downgrade();
    assert_eq!(m.get(&1).unwrap().0, 12);
    assert!(m.try_get_mut(&1).is_locked());
    drop(r);
    assert!(m.try_get_mut(&1).is_present());
}

#[test]
fn try_results() {
    let m = ShardedMap::with_shard_amount(2);
    m.insert(1, 1);
    assert!(m.try_get(&1).is_present());
    assert!(m.try_get(&2).is_absent());
    assert!(m.try_get_mut(&2).is_absent());
    assert_eq!(*m.try_get(&1).unwrap(), 1);
    assert!(m.try_get(&2).try_unwrap().is_none());
    {
        let _w = m.get_mut(&1).unwrap();
        let r = m.try_get(&1);
        assert!(r.is_locked() && !r.is_present() && !r.is_absent());
        assert!(m.try_get_mut(&1).is_locked());
        assert!(m.try_entry(1).is_none());
    }
    {
        let _r = m.get(&1).unwrap();
        assert!(m.try_get(&1).is_present(), "readers do not exclude readers");
        assert!(m.try_get_mut(&1).is_locked());
    }
    let err = std::panic::catch_unwind(|| TryResult::<()>::Absent.unwrap()).unwrap_err();
    assert!(err.downcast_ref::<&str>().unwrap().contains("Absent"));
    let err = std::panic::catch_unwind(|| TryResult::<()>::Locked.unwrap()).unwrap_err();
    assert!(err.downcast_ref::<&str>().unwrap().contains("Locked"));
    assert_eq!(TryResult::Present(3).try_unwrap(), Some(3));
}

#[test]
fn entry_api() {
    let m: ShardedMap<String, i32> = ShardedMap::new();
    assert_eq!(*m.entry("a".into()).or_insert(1), 1);
    assert_eq!(*m.entry("a".into()).or_insert(5), 1);
    assert_eq!(*m.entry("b".into()).or_insert_with(|| 2), 2);
    assert_eq!(
        *m.entry("cc".into()).or_insert_with_key(|k| k.len() as i32),
        2
    );
    assert_eq!(*m.entry("d".into()).or_default(), 0);
    assert_eq!(
        m.entry("e".into())
            .or_try_insert_with(|| Err::<i32, &str>("no"))
            .unwrap_err(),
        "no"
    );
    assert!(!m.contains_key("e"));
    assert_eq!(
        *m.entry("e".into())
            .or_try_insert_with(|| Ok::<_, ()>(7))
            .unwrap(),
        7
    );
    assert_eq!(
        *m.entry("e".into())
            .or_try_insert_with(|| Err::<i32, ()>(()))
            .unwrap(),
        7
    );
    m.entry("a".into()).and_modify(|v| *v += 10).or_insert(0);
    assert_eq!(*m.get("a").unwrap(), 11);
    m.entry("z".into()).and_modify(|v| *v += 10).or_insert(3);
    assert_eq!(*m.get("z").unwrap(), 3);
    assert_eq!(m.entry("a".into()).key(), "a");
    assert_eq!(m.entry("new".into()).key(), "new");
    assert_eq!(m.entry("new".into()).into_key(), "new");
    assert_eq!(m.entry("a".into()).into_key(), "a");
    assert!(!m.contains_key("new"));
    assert_eq!(*m.entry("a".into()).insert(100), 100);
    assert_eq!(*m.entry("f".into()).insert(6), 6);
    let e = m.entry("a".into()).insert_entry(101);
    assert_eq!(*e.get(), 101);
    drop(e);
    let e = m.entry("g".into()).insert_entry(8);
    assert_eq!((e.key().as_str(), *e.get()), ("g", 8));
    drop(e);

    match m.entry("a".into()) {
        Entry::Occupied(mut o) => {
            assert_eq!(o.key(), "a");
            assert_eq!(*o.get(), 101);
            *o.get_mut() += 1;
            assert_eq!(o.insert(200), 102);
            assert!(format!("{o:?}").contains("200"));
            let r = o.into_ref();
            assert_eq!(*r, 200);
        }
        Entry::Vacant(_) => panic!("a is present"),
    }
    match m.entry("a".into()) {
        Entry::Occupied(o) => assert_eq!(o.remove(), 200),
        Entry::Vacant(_) => panic!(),
    }
    match m.entry("b".into()) {
        Entry::Occupied(o) => assert_eq!(o.remove_entry(), ("b".into(), 2)),
        Entry::Vacant(_) => panic!(),
    }
    match m.entry("cc".into()) {
        Entry::Occupied(o) => {
            assert_eq!(o.replace_entry(9), ("cc".into(), 2));
        }
        Entry::Vacant(_) => panic!(),
    }
    assert_eq!(*m.get("cc").unwrap(), 9);
    match m.entry("vac".into()) {
        Entry::Vacant(v) => {
            assert_eq!(v.key(), "vac");
            assert!(format!("{v:?}").contains("vac"));
            assert_eq!(*v.insert(1), 1);
        }
        Entry::Occupied(_) => panic!(),
    }
    match m.entry("vac2".into()) {
        Entry::Vacant(v) => {
            let o = v.insert_entry(2);
            assert_eq!(o.into_key(), "vac2");
        }
        Entry::Occupied(_) => panic!(),
    }
    match m.entry("vac3".into()) {
        Entry::Vacant(v) => assert_eq!(v.into_key(), "vac3"),
        Entry::Occupied(_) => panic!(),
    }
    assert!(!m.contains_key("vac3"));
    let mut expected: Vec<(String, i32)> = vec![
        ("cc".into(), 9),
        ("d".into(), 0),
        ("e".into(), 7),
        ("z".into(), 3),
        ("f".into(), 6),
        ("g".into(), 8),
        ("vac".into(), 1),
        ("vac2".into(), 2),
    ];
    expected.sort();
    let mut got: Vec<(String, i32)> = m.iter().map(|r| (r.key().clone(), *r.value())).collect();
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn whole_map_operations() {
    let m = ShardedMap::with_shard_amount(4);
    for i in 0..100u32 {
        m.insert(i, i);
    }
    m.retain(|k, v| {
        *v += 1;
        k % 2 == 0
    });
    assert_eq!(m.len(), 50);
    assert!(m
        .iter()
        .all(|r| r.key() % 2 == 0 && *r.value() == r.key() + 1));
    m.alter_all(|k, v| v + k);
    assert!(m.iter().all(|r| *r.value() == 2 * r.key() + 1));
    for mut r in m.iter_mut() {
        *r.value_mut() = 0;
        assert_eq!(r.pair_mut().1, &0);
        assert_eq!(r.pair().1, &0);
        assert_eq!(*r.value(), 0);
        *r += 1;
    }
    assert_eq!(m.iter().map(|r| *r).sum::<u32>(), 50);
    let cap = m.capacity();
    assert!(cap >= 50);
    m.clear();
    assert!(m.is_empty());
    assert!(
        m.capacity() >= cap,
        "clear keeps the allocation (and reclaims tombstones)"
    );
    m.shrink_to_fit();
    assert!(m.capacity() < cap);
    let total: usize = (0..m.shard_amount()).map(|i| m.shard_len(i)).sum();
    assert_eq!(total, 0);
}

#[test]
fn iteration_items_may_outlive_the_iterator() {
    let m = ShardedMap::with_shard_amount(4);
    for i in 0..20 {
        m.insert(i, i * 2);
    }
    let items: Vec<_> = m.iter().collect();
    assert_eq!(items.len(), 20);
    // Every shard is read-locked while items live: readers still get in, writers do not.
    assert_eq!(*m.get(&3).unwrap(), 6);
    assert!(m.try_get_mut(&3).is_locked());
    drop(items);
    assert!(m.try_get_mut(&3).is_present());
    let mut_items: Vec<_> = m.iter_mut().collect();
    assert!(m.try_get(&3).is_locked());
    drop(mut_items);
    let it = m.iter();
    assert!(format!("{it:?}").contains("Iter"));
}

#[test]
fn hashing_introspection() {
    let m: ShardedMap<u64, u64> = ShardedMap::with_shard_amount(8);
    for k in 0..100u64 {
        let h = m.hash_usize(&k);
        assert_eq!(h, m.hash_usize(&k));
        assert_eq!(m.determine_shard(h), m.determine_map(&k));
        assert!(m.determine_map(&k) < 8);
    }
    for k in 0..100u64 {
        m.insert(k, k);
    }
    for k in 0..100u64 {
        let shard = m.determine_map(&k);
        assert!(m.shard_len(shard) > 0);
    }
    let _: &sharded_map::RandomState = m.hasher();
}

#[test]
fn traits() {
    let m: ShardedMap<u32, String> = (0..10).map(|i| (i, i.to_string())).collect();
    assert_eq!(m.len(), 10);
    let c = m.clone();
    assert_eq!(c, m);
    c.insert(3, "x".into());
    assert_ne!(c, m);
    c.remove(&3);
    assert_ne!(c, m);
    let mut e = ShardedMap::new();
    e.extend([(1u32, "a".to_string())]);
    (&e).extend([(2u32, "b".to_string())]);
    assert_eq!(e.len(), 2);
    let dbg = format!("{e:?}");
    assert!(dbg.starts_with('{') && dbg.contains("1: \"a\"") && dbg.contains("2: \"b\""));
    let mut by_ref: Vec<u32> = (&m).into_iter().map(|r| *r.key()).collect();
    by_ref.sort();
    assert_eq!(by_ref, (0..10).collect::<Vec<_>>());
    let owned: HashMap<u32, String> = m.into_iter().collect();
    assert_eq!(owned.len(), 10);
    assert_eq!(owned[&7], "7");
    let it = e.clone().into_iter();
    assert_eq!(it.len(), 2);
    assert!(format!("{it:?}").contains("remaining"));
    assert_eq!(e, e);
}

#[test]
fn read_only_view() {
    let m = ShardedMap::with_shard_amount(4);
    for i in 0..50u32 {
        m.insert(i, i * 3);
    }
    let v: ReadOnlyView<u32, u32> = m.into_read_only();
    assert_eq!(v.len(), 50);
    assert!(!v.is_empty());
    assert!(v.capacity() >= 50);
    assert_eq!(v.get(&4), Some(&12));
    assert_eq!(v.get(&400), None);
    assert_eq!(v.get_key_value(&5), Some((&5, &15)));
    assert!(v.contains_key(&49));
    assert!(!v.contains_key(&50));
    assert_eq!(v.iter().count(), 50);
    assert_eq!(v.keys().copied().sum::<u32>(), (0..50).sum());
    assert_eq!(
        v.values().copied().sum::<u32>(),
        (0..50).map(|i| i * 3).sum()
    );
    let _: &sharded_map::RandomState = v.hasher();
    let v2 = v.clone();
    assert!(format!("{v2:?}").contains("4: 12"));
    let back = v.into_inner();
    assert_eq!(back.shard_amount(), 4);
    back.insert(100, 1);
    assert_eq!(back.len(), 51);
    assert_eq!(*back.get(&4).unwrap(), 12);
}

#[test]
fn set_api() {
    let s: ShardedSet<String> = ShardedSet::new();
    assert!(s.is_empty());
    assert!(s.insert("a".into()));
    assert!(!s.insert("a".into()));
    assert!(s.insert("b".into()));
    assert_eq!(s.len(), 2);
    assert!(s.contains("a"));
    assert_eq!(s.get("a").unwrap().key(), "a");
    assert_eq!(&*s.get("b").unwrap(), "b");
    assert!(format!("{:?}", s.get("b").unwrap()).contains('b'));
    assert!(s.get("c").is_none());
    assert_eq!(s.remove("a"), Some("a".to_string()));
    assert_eq!(s.remove("a"), None);
    assert_eq!(s.remove_if("b", |k| k == "x"), None);
    assert_eq!(s.remove_if("b", |k| k == "b"), Some("b".to_string()));
    for i in 0..10 {
        s.insert(i.to_string());
    }
    s.retain(|k| k.parse::<u32>().unwrap() < 5);
    assert_eq!(s.len(), 5);
    let mut keys: Vec<String> = s.iter().map(|r| r.key().clone()).collect();
    keys.sort();
    assert_eq!(keys, ["0", "1", "2", "3", "4"]);
    assert_eq!((&s).into_iter().count(), 5);
    assert!(s.iter().all(|r| r.len() == 1)); // Deref to the key
    assert!(s.capacity() >= 5);
    assert_eq!(
        s.hash_usize(&"0".to_string()),
        s.hash_usize(&"0".to_string())
    );
    assert_eq!(
        s.determine_shard(s.hash_usize(&"0".to_string())),
        s.determine_map("0")
    );
    let _: &sharded_map::RandomState = s.hasher();
    let c = s.clone();
    assert_eq!(c, s);
    assert!(format!("{c:?}").starts_with('{'));
    let mut e: ShardedSet<String> = ShardedSet::default();
    e.extend(["x".to_string()]);
    (&e).extend(["y".to_string()]);
    assert_eq!(e.len(), 2);
    let f: ShardedSet<u8> = [1u8, 2, 2, 3].into_iter().collect();
    assert_eq!(f.len(), 3);
    let mut owned: Vec<u8> = f.into_iter().collect();
    owned.sort();
    assert_eq!(owned, [1, 2, 3]);
    s.clear();
    assert!(s.is_empty());
    s.shrink_to_fit();
    let s4 = ShardedSet::<u8>::with_shard_amount(4);
    assert_eq!(s4.shard_amount(), 4);
    assert!(ShardedSet::<u8>::with_capacity(9).capacity() >= 9);
    let sh = ShardedSet::<u8, _>::with_hasher(StdRandomState::new());
    sh.insert(1);
    assert!(
        ShardedSet::<u8, _>::with_capacity_and_hasher(9, StdRandomState::new()).capacity() >= 9
    );
    assert_eq!(
        ShardedSet::<u8, _>::with_hasher_and_shard_amount(Colliding, 2).shard_amount(),
        2
    );
    let it = sh.iter();
    assert!(format!("{it:?}").contains("SetIter"));
}
