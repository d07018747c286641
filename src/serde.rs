//! `serde` support (feature `serde`): a [`ShardedMap`] serializes as a map, a [`ShardedSet`] as a
//! sequence.
#![deny(unsafe_code)]

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::{ShardedMap, ShardedSet};

/// Serializes shard by shard, each under its read lock in turn.
impl<K: Serialize, V: Serialize, S> Serialize for ShardedMap<K, V, S> {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for r in self.iter() {
            map.serialize_entry(r.key(), r.value())?;
        }
        map.end()
    }
}

impl<'de, K, V, S> Deserialize<'de> for ShardedMap<K, V, S>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
    S: BuildHasher + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V, S>(PhantomData<(K, V, S)>);

        impl<'de, K, V, S> Visitor<'de> for MapVisitor<K, V, S>
        where
            K: Deserialize<'de> + Eq + Hash,
            V: Deserialize<'de>,
            S: BuildHasher + Default,
        {
            type Value = ShardedMap<K, V, S>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                // Cap the presize: the hint comes from untrusted input.
                let capacity = access.size_hint().unwrap_or(0).min(1 << 16);
                let map = ShardedMap::with_capacity_and_hasher(capacity, S::default());
                while let Some((k, v)) = access.next_entry()? {
                    map.insert(k, v);
                }
                Ok(map)
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// Serializes shard by shard, each under its read lock in turn.
impl<K: Serialize, S> Serialize for ShardedSet<K, S> {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for r in self.iter() {
            seq.serialize_element(r.key())?;
        }
        seq.end()
    }
}

impl<'de, K, S> Deserialize<'de> for ShardedSet<K, S>
where
    K: Deserialize<'de> + Eq + Hash,
    S: BuildHasher + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetVisitor<K, S>(PhantomData<(K, S)>);

        impl<'de, K, S> Visitor<'de> for SetVisitor<K, S>
        where
            K: Deserialize<'de> + Eq + Hash,
            S: BuildHasher + Default,
        {
            type Value = ShardedSet<K, S>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let capacity = access.size_hint().unwrap_or(0).min(1 << 16);
                let set = ShardedSet::with_capacity_and_hasher(capacity, S::default());
                while let Some(k) = access.next_element()? {
                    set.insert(k);
                }
                Ok(set)
            }
        }

        deserializer.deserialize_seq(SetVisitor(PhantomData))
    }
}

/// Guards serialize as the value they dereference to, as DashMap's do; set guards as their key.
/// Serializing reads through the guard, which already holds its shard's lock.
mod guards {
    use serde::ser::{Serialize, Serializer};

    use crate::guards::{MappedRef, MappedRefMut, Ref, RefMulti, RefMut, RefMutMulti};
    use crate::set::{SetRef, SetRefMulti};

    macro_rules! serialize_value {
        ($($guard:ident),*) => {$(
            impl<K, V: Serialize> Serialize for $guard<'_, K, V> {
                fn serialize<Ser: Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
                    self.value().serialize(s)
                }
            }
        )*};
        ($($guard:ident<T>),*) => {$(
            impl<K, V, T: ?Sized + Serialize> Serialize for $guard<'_, K, V, T> {
                fn serialize<Ser: Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
                    self.value().serialize(s)
                }
            }
        )*};
    }

    serialize_value!(Ref, RefMut, RefMulti, RefMutMulti);
    serialize_value!(MappedRef<T>, MappedRefMut<T>);

    impl<K: Serialize> Serialize for SetRef<'_, K> {
        fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
            self.key().serialize(serializer)
        }
    }

    impl<K: Serialize> Serialize for SetRefMulti<'_, K> {
        fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
            self.key().serialize(serializer)
        }
    }
}
