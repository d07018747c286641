// A user's own loom model with a ShardedMap inside: this file appears verbatim in
// docs/testing.md, and tests/doc_example.rs checks that it still does.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use sharded_map::ShardedMap;

/// Page-hit counting through the entry API: the increment happens under the shard lock, so
/// no interleaving loses one.
#[test]
fn entry_increments_are_never_lost() {
    loom::model(|| {
        let hits = Arc::new(ShardedMap::new());
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let hits = hits.clone();
                thread::spawn(move || *hits.entry("/index").or_insert(0) += 1)
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(*hits.get("/index").unwrap(), 2);
    });
}

/// The same counter written as "read, then write back": loom finds the interleaving in which
/// both threads read 0 and one increment is lost.
#[test]
#[should_panic(expected = "lost update")]
fn get_then_insert_loses_updates() {
    loom::model(|| {
        let hits = Arc::new(ShardedMap::new());
        hits.insert("/index", 0);
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let hits = hits.clone();
                thread::spawn(move || {
                    let seen = *hits.get("/index").unwrap();
                    hits.insert("/index", seen + 1);
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(*hits.get("/index").unwrap(), 2, "lost update");
    });
}
