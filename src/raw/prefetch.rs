//! Prefetching the table lines a later insert will touch, for bulk inserts whose hashes are
//! known ahead (the parallel build's fill replays stored `(hash, key, value)` items).
//!
//! A fill into a table larger than the cache waits on two lines per insert: the control group
//! the probe starts at and the bucket the item lands in. The core overlaps only the few
//! inserts its window holds; asking for the lines of the item some distance ahead keeps more
//! of them in flight (10M distinct pairs: the fill 10-15% faster).
//!
//! hashbrown does not expose where its buckets are, so [`Prefetcher`] learns it from one
//! bucket whose index and address an insert returned: hashbrown keeps bucket `i`'s element at
//! `ctrl - (i + 1) * size_of::<T>()` and its control byte at `ctrl + i`. Were that layout to
//! change, the prefetches would fetch the wrong lines and cost a little time; they can do no
//! more (see the SAFETY comment), and a unit test checks the element part of the layout.

use core::marker::PhantomData;

/// Where the buckets of one table of `T` are, once an insert has told it
/// ([`Prefetcher::learn`]).
pub(crate) struct Prefetcher<T> {
    /// The table's control bytes, as hashbrown lays them out (null until learned).
    ctrl: *const u8,
    /// The table's bucket count less one.
    mask: usize,
    _elements: PhantomData<*const T>,
}

impl<T> Prefetcher<T> {
    /// Bytes per bucket.
    const SIZE: usize = size_of::<T>();

    /// A prefetcher that knows no table yet: it prefetches nothing until it learns one.
    pub(crate) fn new() -> Self {
        Self {
            ctrl: core::ptr::null(),
            mask: 0,
            _elements: PhantomData,
        }
    }

    /// Learns where the buckets of a table of `buckets` buckets are, from the address of the
    /// element at bucket `index` (used for arithmetic only). Call it after every insert: a
    /// table that grew has moved.
    #[inline]
    pub(crate) fn learn(&mut self, buckets: usize, index: usize, element: *const T) {
        let element = element.cast::<u8>();
        self.ctrl = element.wrapping_add((index + 1).wrapping_mul(Self::SIZE));
        self.mask = buckets.wrapping_sub(1);
    }

    /// Asks for the lines an insert of `hash` will touch first: the control group its probe
    /// starts at and the bucket there.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        if self.ctrl.is_null() || Self::SIZE == 0 {
            return;
        }
        // hashbrown's probe starts at the hash's low bits.
        let index = (hash as usize) & self.mask;
        prefetch_line(self.ctrl.wrapping_add(index));
        prefetch_line(self.ctrl.wrapping_sub((index + 1).wrapping_mul(Self::SIZE)));
    }
}

/// A hint to load the line at `at` into the cache. `at` may point anywhere.
#[inline(always)]
fn prefetch_line(at: *const u8) {
    #[cfg(all(any(target_arch = "x86_64", target_arch = "x86"), not(miri)))]
    {
        #[cfg(target_arch = "x86")]
        use core::arch::x86::{_mm_prefetch, _MM_HINT_T0};
        #[cfg(target_arch = "x86_64")]
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `_mm_prefetch` is `unsafe` only for its target feature, SSE, which every
        // x86_64 target and every x86 target Rust builds std for has. A prefetch is a hint:
        // it never faults, whatever the address (even unmapped or freed memory), reads nothing
        // the program can observe and writes nothing, so no address makes it unsound; `at` is
        // made by wrapping arithmetic and never dereferenced.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>()) };
    }
    #[cfg(not(all(any(target_arch = "x86_64", target_arch = "x86"), not(miri))))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use hashbrown::HashTable;

    use super::Prefetcher;

    /// The layout the prefetcher assumes, checked where it can be: every stored element sits
    /// at `ctrl - (index + 1) * size` for the `ctrl` learned from any one of them.
    #[test]
    fn elements_sit_where_the_learned_layout_says() {
        let mut table: HashTable<(u64, u64)> = HashTable::with_capacity(100);
        let hasher = |&(k, _): &(u64, u64)| k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for k in 0..100 {
            table.insert_unique(hasher(&(k, 0)), (k, k), hasher);
        }
        let buckets = table.num_buckets();
        let first = table.find_entry(hasher(&(0, 0)), |e| e.0 == 0).unwrap();
        let mut prefetcher = Prefetcher::<(u64, u64)>::new();
        prefetcher.learn(
            buckets,
            first.bucket_index(),
            core::ptr::from_ref(first.get()),
        );
        for k in 0..100 {
            let entry = table.find_entry(hasher(&(k, 0)), |e| e.0 == k).unwrap();
            let at = prefetcher
                .ctrl
                .wrapping_sub((entry.bucket_index() + 1) * size_of::<(u64, u64)>());
            assert_eq!(
                at,
                (entry.get() as *const (u64, u64)).cast::<u8>(),
                "key {k}"
            );
            prefetcher.prefetch(k);
        }
    }
}
