//! Send and Sync hold exactly where they should.

use std::cell::Cell;
use std::rc::Rc;

use sharded_map::iter::{Iter, IterMut, OwningIter};
use sharded_map::mapref::entry::{Entry, OccupiedEntry, VacantEntry};
use sharded_map::mapref::multiple::{RefMulti, RefMutMulti};
use sharded_map::mapref::one::{MappedRef, MappedRefMut, Ref, RefMut};
use sharded_map::{ReadOnlyView, ShardedMap, ShardedSet};
use static_assertions::{assert_impl_all, assert_not_impl_any};

// The containers: Send + Sync for ordinary types.
assert_impl_all!(ShardedMap<u64, String>: Send, Sync);
assert_impl_all!(ShardedSet<u64>: Send, Sync);
assert_impl_all!(ReadOnlyView<u64, String>: Send, Sync);
assert_impl_all!(OwningIter<u64, String>: Send, Sync);

// A map of `Rc` is neither: sharing it would let two threads touch one reference count.
assert_not_impl_any!(ShardedMap<Rc<u8>, u8>: Send, Sync);
assert_not_impl_any!(ShardedMap<u8, Rc<u8>>: Send, Sync);
assert_not_impl_any!(ShardedSet<Rc<u8>>: Send, Sync);
// `Cell` is Send but not Sync: the map may be sent, not shared.
assert_impl_all!(ShardedMap<u8, Cell<u8>>: Send);
assert_not_impl_any!(ShardedMap<u8, Cell<u8>>: Sync);

// Single-key guards and entries are !Send (no holding them across `.await` in a spawned task)
// but Sync.
assert_not_impl_any!(Ref<'static, u64, u64>: Send);
assert_not_impl_any!(RefMut<'static, u64, u64>: Send);
assert_not_impl_any!(MappedRef<'static, u64, u64, u64>: Send);
assert_not_impl_any!(MappedRefMut<'static, u64, u64, u64>: Send);
assert_not_impl_any!(Entry<'static, u64, u64>: Send);
assert_not_impl_any!(OccupiedEntry<'static, u64, u64>: Send);
assert_not_impl_any!(VacantEntry<'static, u64, u64>: Send);
assert_not_impl_any!(sharded_map::setref::one::Ref<'static, u64>: Send);
assert_impl_all!(Ref<'static, u64, u64>: Sync);
assert_impl_all!(RefMut<'static, u64, u64>: Sync);
assert_not_impl_any!(Ref<'static, u64, Cell<u64>>: Sync);

// Iterators and their items may move between threads (as DashMap's), with the right bounds.
assert_impl_all!(Iter<'static, u64, u64>: Send, Sync);
assert_impl_all!(IterMut<'static, u64, u64>: Send, Sync);
assert_impl_all!(RefMulti<'static, u64, u64>: Send, Sync);
assert_impl_all!(RefMutMulti<'static, u64, u64>: Send, Sync);
assert_not_impl_any!(RefMulti<'static, u64, Cell<u64>>: Send, Sync);
assert_not_impl_any!(Iter<'static, Rc<u8>, u8>: Send, Sync);

#[test]
fn assertions_above_compiled() {
    // The checks are compile-time; this test exists so the file shows up in the test run.
    let m: ShardedMap<u8, u8> = ShardedMap::new();
    std::thread::scope(|s| {
        s.spawn(|| m.insert(1, 1));
    });
    assert_eq!(m.len(), 1);
}
