//! Feature `arbitrary`: maps and sets from fuzzer input, as DashMap's feature of the same name.
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};

use arbitrary::{Arbitrary, Unstructured};

use crate::{ShardedMap, ShardedSet};

/// A map of arbitrary pairs (later pairs replace earlier ones with the same key).
///
/// [Locking](crate::locking): none (builds a new map).
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// let mut u = Unstructured::new(&[1, 2, 3, 4, 5, 6, 7, 8]);
/// let map = sharded_map::ShardedMap::<u8, u8>::arbitrary(&mut u).unwrap();
/// assert!(map.len() <= 4);
/// ```
impl<'a, K, V, S> Arbitrary<'a> for ShardedMap<K, V, S>
where
    K: Eq + Hash + Arbitrary<'a>,
    V: Arbitrary<'a>,
    S: Default + BuildHasher,
{
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        u.arbitrary_iter()?.collect()
    }
}

/// A set of arbitrary keys.
///
/// [Locking](crate::locking): none (builds a new set).
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// let mut u = Unstructured::new(&[1, 2, 3, 4]);
/// let set = sharded_map::ShardedSet::<u8>::arbitrary(&mut u).unwrap();
/// assert!(set.len() <= 4);
/// ```
impl<'a, K, S> Arbitrary<'a> for ShardedSet<K, S>
where
    K: Eq + Hash + Arbitrary<'a>,
    S: Default + BuildHasher,
{
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        u.arbitrary_iter()?.collect()
    }
}
