//! [`TryResult`]: the answer of the non-blocking `try_*` lookups.
#![deny(unsafe_code)]

/// The result of a `try_get` / `try_get_mut`: the guard, or why there is none.
///
/// [Locking](crate::locking): none; a `Present` guard holds its shard's lock like any guard.
///
/// ```
/// use sharded_map::{ShardedMap, TryResult};
/// let map = ShardedMap::new();
/// map.insert(1, 1);
/// assert!(matches!(map.try_get(&1), TryResult::Present(_)));
/// assert!(matches!(map.try_get(&2), TryResult::Absent));
/// ```
#[derive(Debug)]
pub enum TryResult<R> {
    /// The key is present; here is its guard.
    Present(R),
    /// The key is absent.
    Absent,
    /// The shard was locked in a conflicting mode; nothing was waited for.
    Locked,
}

impl<R> TryResult<R> {
    /// Whether this is `Present`.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 1);
    /// assert!(map.try_get(&1).is_present());
    /// ```
    pub fn is_present(&self) -> bool {
        matches!(self, TryResult::Present(_))
    }

    /// Whether this is `Absent`.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::<i32, i32>::new();
    /// assert!(map.try_get(&1).is_absent());
    /// ```
    pub fn is_absent(&self) -> bool {
        matches!(self, TryResult::Absent)
    }

    /// Whether this is `Locked`.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 1);
    /// let w = map.get_mut(&1).unwrap();
    /// assert!(map.try_get(&1).is_locked());
    /// # drop(w);
    /// ```
    pub fn is_locked(&self) -> bool {
        matches!(self, TryResult::Locked)
    }

    /// The guard.
    ///
    /// # Panics
    /// If this is `Absent` or `Locked`; the message says which.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::new();
    /// map.insert(1, 5);
    /// assert_eq!(*map.try_get(&1).unwrap(), 5);
    /// ```
    #[track_caller]
    pub fn unwrap(self) -> R {
        match self {
            TryResult::Present(r) => r,
            TryResult::Absent => panic!("called `TryResult::unwrap()` on an `Absent` value"),
            TryResult::Locked => panic!("called `TryResult::unwrap()` on a `Locked` value"),
        }
    }

    /// The guard if present.
    ///
    /// [Locking](crate::locking): none.
    ///
    /// ```
    /// let map = sharded_map::ShardedMap::<i32, i32>::new();
    /// assert!(map.try_get(&1).try_unwrap().is_none());
    /// ```
    pub fn try_unwrap(self) -> Option<R> {
        match self {
            TryResult::Present(r) => Some(r),
            _ => None,
        }
    }
}
