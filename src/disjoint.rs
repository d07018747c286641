//! Ordered multi-key locking: [`ShardedMap::get_disjoint_mut`], exclusive access to several keys
//! at once without deadlock.
#![deny(unsafe_code)]

use core::hash::{BuildHasher, Hash};

use equivalent::Equivalent;

use crate::deadlock::Site;
use crate::guards::RefMutMulti;
use crate::raw::shard;
use crate::ShardedMap;

impl<K: Eq + Hash, V, S: BuildHasher> ShardedMap<K, V, S> {
    /// Exclusive guards on several keys at once: slot `i` of the result holds `keys[i]`'s entry,
    /// or `None` if that key is absent. The guards may be used and dropped in any order; a shard
    /// stays locked until every guard on it has dropped.
    ///
    /// The shards involved are locked **in ascending shard order, one lock per shard** even when
    /// several keys share one, so threads that ask for the same keys in different orders (the
    /// classic two-account transfer) cannot deadlock each other. This is the same idea as std's
    /// `HashMap::get_disjoint_mut` and slice `get_disjoint_mut`.
    ///
    /// # Panics
    /// If two of the keys are the same present key (the message names both positions), as std
    /// does; the locks taken so far are released. Two equal *absent* keys both give `None`.
    ///
    /// [Locking](crate::locking): takes each involved shard exclusively, in ascending order, and holds it until
    /// every guard on it has dropped; blocks while another thread holds a guard on any of them.
    /// A thread that already holds a guard on one of those shards must not call this (the
    /// deadlock check reports it in debug builds); see `docs/locking.md`.
    ///
    /// ```
    /// let accounts = sharded_map::ShardedMap::new();
    /// accounts.insert("alice", 100);
    /// accounts.insert("bob", 50);
    /// // Move 30 from alice to bob atomically: both entries are locked together.
    /// let [Some(mut from), Some(mut to)] = accounts.get_disjoint_mut(["alice", "bob"]) else {
    ///     panic!("both accounts exist");
    /// };
    /// *from -= 30;
    /// *to += 30;
    /// drop((from, to));
    /// assert_eq!(accounts.get_cloned("alice"), Some(70));
    /// assert_eq!(accounts.get_cloned("bob"), Some(80));
    /// let [carol] = accounts.get_disjoint_mut(["carol"]);
    /// assert!(carol.is_none());
    /// ```
    #[cfg_attr(deadlock_check, track_caller)]
    pub fn get_disjoint_mut<Q: ?Sized + Hash + Equivalent<K>, const N: usize>(
        &self,
        keys: [&Q; N],
    ) -> [Option<RefMutMulti<'_, K, V>>; N] {
        let site = Site::new("get_disjoint_mut");
        let hashes = keys.map(|k| self.hash(k));
        let shards = hashes.map(|h| self.shard_index(h));
        let mut order = shards;
        // `--cfg planted_bug_unordered_disjoint` locks in the callers' key order instead (a
        // planted bug: the loom model of opposite orders must find the deadlock).
        if !cfg!(planted_bug_unordered_disjoint) {
            order.sort_unstable();
        }
        let mut out = [const { None }; N];
        for (i, &index) in order.iter().enumerate() {
            if order[..i].contains(&index) {
                continue; // one lock per shard
            }
            let guard = self.shard_at(index).write_movable(site);
            shard::disjoint_mut(
                guard,
                hashes,
                |j, (k, _)| shards[j] == index && keys[j].equivalent(k),
                &mut out,
            );
        }
        out.map(|elem| elem.map(RefMutMulti::new))
    }
}
