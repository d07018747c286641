//! Drop accounting: every key and value the map owns is dropped exactly once, at the right time.

mod common;

use common::{count, counter, Colliding, Tracked};
use sharded_map::mapref::entry::Entry;
use sharded_map::{ShardedMap, ShardedSet};

const N: u64 = common::size(1000, 40) as u64;

fn filled(drops: &std::sync::Arc<std::sync::atomic::AtomicUsize>) -> ShardedMap<Tracked, Tracked> {
    let m = ShardedMap::with_shard_amount(4);
    for i in 0..N {
        m.insert(Tracked::new(i, drops), Tracked::new(i + 1_000_000, drops));
    }
    m
}

#[test]
fn dropping_the_map_drops_every_key_and_value_once() {
    let d = counter();
    let m = filled(&d);
    assert_eq!(count(&d), 0);
    drop(m);
    assert_eq!(count(&d), 2 * N as usize);
}

#[test]
fn insert_over_existing_returns_old_value_and_drops_new_key() {
    let d = counter();
    let m = ShardedMap::new();
    m.insert(Tracked::new(1, &d), Tracked::new(10, &d));
    let old = m.insert(Tracked::new(1, &d), Tracked::new(11, &d)).unwrap();
    assert_eq!(
        count(&d),
        1,
        "the duplicate key is dropped, the stored one kept"
    );
    assert_eq!(old.id, 10);
    drop(old);
    assert_eq!(count(&d), 2);
    drop(m);
    assert_eq!(count(&d), 4);
}

#[test]
fn remove_hands_ownership_back() {
    let d = counter();
    let m = filled(&d);
    let (k, v) = m.remove(&Tracked::new(3, &d)).unwrap();
    assert_eq!(count(&d), 1, "only the probe key dropped");
    assert_eq!((k.id, v.id), (3, 1_000_003));
    drop((k, v));
    assert_eq!(count(&d), 3);
    drop(m);
    assert_eq!(count(&d), 3 + 2 * (N as usize - 1));
}

#[test]
fn clear_drops_everything_and_map_stays_usable() {
    let d = counter();
    let m = filled(&d);
    m.clear();
    assert_eq!(count(&d), 2 * N as usize);
    assert!(m.is_empty());
    m.insert(Tracked::new(1, &d), Tracked::new(2, &d));
    drop(m);
    assert_eq!(count(&d), 2 * N as usize + 2);
}

#[test]
fn retain_drops_exactly_the_rejected() {
    let d = counter();
    let m = filled(&d);
    m.retain(|k, _| k.id % 4 == 0);
    let removed = (0..N).filter(|i| i % 4 != 0).count();
    assert_eq!(count(&d), 2 * removed);
    assert_eq!(m.len(), N as usize - removed);
    drop(m);
    assert_eq!(count(&d), 2 * N as usize);
}

#[test]
fn alter_and_alter_all_drop_replaced_values() {
    let d = counter();
    let m = filled(&d);
    let dd = d.clone();
    m.alter(&Tracked::new(5, &d), |_, v| Tracked::new(v.id + 1, &dd));
    assert_eq!(count(&d), 2, "probe key and the replaced value");
    let dd = d.clone();
    m.alter_all(|_, v| Tracked::new(v.id, &dd));
    assert_eq!(count(&d), 2 + N as usize);
    drop(m);
    assert_eq!(count(&d), 2 + 3 * N as usize);
}

#[test]
fn entry_paths_drop_correctly() {
    let d = counter();
    let m: ShardedMap<Tracked, Tracked> = ShardedMap::new();
    // Vacant insert keeps both.
    m.entry(Tracked::new(1, &d)).or_insert(Tracked::new(10, &d));
    assert_eq!(count(&d), 0);
    // Occupied or_insert: the passed key and the unused default are dropped.
    m.entry(Tracked::new(1, &d)).or_insert(Tracked::new(11, &d));
    assert_eq!(count(&d), 2);
    // or_insert_with on occupied never builds the value.
    m.entry(Tracked::new(1, &d))
        .or_insert_with(|| unreachable!());
    assert_eq!(count(&d), 3);
    // Entry::insert on occupied drops the old value and the passed key.
    m.entry(Tracked::new(1, &d)).insert(Tracked::new(12, &d));
    assert_eq!(count(&d), 5);
    // replace_entry swaps in the passed key and hands back the old pair.
    let Entry::Occupied(o) = m.entry(Tracked::new(1, &d)) else {
        panic!()
    };
    let (k, v) = o.replace_entry(Tracked::new(13, &d));
    assert_eq!((k.id, v.id, count(&d)), (1, 12, 5));
    drop((k, v));
    assert_eq!(count(&d), 7);
    // remove_entry returns the stored pair; the passed key drops with the entry.
    let Entry::Occupied(o) = m.entry(Tracked::new(1, &d)) else {
        panic!()
    };
    let (k, v) = o.remove_entry();
    assert_eq!((v.id, count(&d)), (13, 8));
    drop((k, v));
    assert_eq!(count(&d), 10);
    // A vacant entry dropped without inserting drops its key only.
    drop(m.entry(Tracked::new(2, &d)));
    assert_eq!(count(&d), 11);
    assert!(m.is_empty());
}

#[test]
fn removing_while_a_value_is_borrowed_is_impossible_so_drop_waits_for_the_ref() {
    // A Ref keeps the shard read-locked, so a remove from another thread waits and the value is
    // dropped only after the Ref is gone.
    let d = counter();
    let m = ShardedMap::with_shard_amount(2);
    m.insert(1u64, Tracked::new(1, &d));
    let r = m.get(&1).unwrap();
    std::thread::scope(|s| {
        let h = s.spawn(|| m.remove(&1).map(|(_, v)| v.id));
        std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
            5
        } else {
            50
        }));
        assert_eq!(count(&d), 0, "value dropped while a Ref to it was alive");
        assert_eq!(r.id, 1);
        drop(r);
        assert_eq!(h.join().unwrap(), Some(1));
    });
    assert_eq!(count(&d), 1);
}

#[test]
fn into_iter_moves_out_and_a_partial_iterator_drops_the_rest() {
    let d = counter();
    let m = filled(&d);
    let mut it = m.into_iter();
    let taken: Vec<_> = it.by_ref().take(10).collect();
    assert_eq!(count(&d), 0);
    drop(it);
    assert_eq!(count(&d), 2 * (N as usize - 10));
    drop(taken);
    assert_eq!(count(&d), 2 * N as usize);
}

#[test]
fn clone_and_read_only_view_own_independent_copies() {
    let d = counter();
    let m = filled(&d);
    let c = m.clone();
    drop(m);
    assert_eq!(count(&d), 2 * N as usize);
    let v = c.into_read_only();
    assert_eq!(count(&d), 2 * N as usize);
    let back = v.into_inner();
    assert_eq!(back.len(), N as usize);
    drop(back);
    assert_eq!(count(&d), 4 * N as usize);
}

#[test]
fn remove_if_rejected_keeps_the_entry() {
    let d = counter();
    let m = filled(&d);
    assert!(m.remove_if(&Tracked::new(1, &d), |_, _| false).is_none());
    assert_eq!(count(&d), 1);
    let got = m.remove_if_mut(&Tracked::new(1, &d), |_, v| v.id == 1_000_001);
    assert_eq!(count(&d), 2);
    drop(got);
    assert_eq!(count(&d), 4);
    drop(m);
    assert_eq!(count(&d), 2 * N as usize + 2);
}

#[test]
fn colliding_hasher_growth_and_shrink_do_not_drop() {
    let d = counter();
    let m = ShardedMap::with_hasher_and_shard_amount(Colliding, 2);
    let n = common::size(300, 30) as u64;
    for i in 0..n {
        m.insert(Tracked::new(i, &d), i);
    }
    assert_eq!(count(&d), 0, "growth must move, not drop");
    for i in 0..n / 2 {
        m.remove(&Tracked::new(i, &d));
    }
    m.shrink_to_fit();
    assert_eq!(count(&d), 2 * (n / 2) as usize);
    drop(m);
    assert_eq!(count(&d), n as usize + (n / 2) as usize);
}

#[test]
fn set_drops_keys_once() {
    let d = counter();
    let s = ShardedSet::new();
    for i in 0..N {
        assert!(s.insert(Tracked::new(i, &d)));
    }
    assert!(!s.insert(Tracked::new(0, &d)));
    assert_eq!(count(&d), 1);
    let k = s.remove(&Tracked::new(1, &d)).unwrap();
    assert_eq!(count(&d), 2);
    drop(k);
    drop(s);
    assert_eq!(count(&d), 3 + (N as usize - 1));
}

#[test]
fn guards_and_iterators_do_not_drop_entries() {
    let d = counter();
    let m = filled(&d);
    for r in m.iter() {
        let _ = r.value().id;
    }
    for mut r in m.iter_mut() {
        r.value_mut().id += 0;
    }
    let mapped = m.get(&Tracked::new(2, &d)).unwrap().map(|v| &v.id);
    assert_eq!(*mapped, 1_000_002);
    drop(mapped);
    let down = m.get_mut(&Tracked::new(2, &d)).unwrap().downgrade();
    drop(down);
    assert_eq!(count(&d), 2, "only the two probe keys");
    drop(m);
    assert_eq!(count(&d), 2 + 2 * N as usize);
}
