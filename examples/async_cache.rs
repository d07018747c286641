//! An async service that shares one `ShardedMap` between tokio tasks on a multi-threaded
//! runtime, using only the guard-free API across `.await`:
//!
//! - a read-through cache: `get_cloned` (no guard), an async fetch on a miss, then
//!   `get_or_insert_with`, so tasks that fetched the same key concurrently all return the one
//!   value that was stored first;
//! - per-user request counters with `upsert`;
//! - a token-bucket-style rate limiter with `compute` (check and take a token in one step);
//! - in-place updates with `with_mut`.
//!
//! No call returns a guard, so nothing can be held across an `.await` (holding a `Ref` there is
//! a compile error in a spawned task anyway: tests/compile-fail/ref_across_await_in_tokio_spawn.rs).
//!
//! Run: `cargo run --example async_cache`. It takes no options.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sharded_map::{Computed, Op, ShardedMap};

const USERS: u64 = 20;
const TASKS: u64 = 64;
const REQUESTS_PER_TASK: u64 = 50;
/// Requests a user may make before the limiter refuses them.
const QUOTA: u32 = 100;

/// What the service shares between its tasks.
struct Service {
    /// user id -> profile, filled from the slow "database" on first use.
    profiles: ShardedMap<u64, Arc<String>>,
    /// user id -> requests served.
    served: ShardedMap<u64, u64>,
    /// user id -> tokens left; the entry is removed when the quota is used up and refused.
    tokens: ShardedMap<u64, u32>,
    /// Calls that reached the database.
    fetches: AtomicUsize,
}

impl Service {
    /// The slow backing store: an await point between the miss and the insert.
    async fn fetch_profile(&self, user: u64) -> Arc<String> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(2)).await;
        Arc::new(format!("profile of user {user}"))
    }

    /// A read-through cache lookup: no lock is held across the fetch.
    async fn profile(&self, user: u64) -> Arc<String> {
        if let Some(p) = self.profiles.get_cloned(&user) {
            return p;
        }
        let fetched = self.fetch_profile(user).await;
        // Another task may have stored it meanwhile: keep the first value, return what is stored.
        self.profiles.get_or_insert_with(user, || fetched)
    }

    /// Takes one token for `user`; `false` once the quota is used up.
    fn allow(&self, user: u64) -> bool {
        let outcome = self.tokens.compute(user, |left| match left {
            None => Op::Insert(QUOTA - 1), // first request: a full bucket, minus this one
            Some(0) => Op::Keep,           // used up: refuse
            Some(n) => Op::Insert(n - 1),
        });
        !matches!(outcome, Computed::Unchanged)
    }

    async fn handle(&self, user: u64) -> Option<usize> {
        if !self.allow(user) {
            return None;
        }
        let profile = self.profile(user).await;
        self.served.upsert(user, 1, |n| *n += 1);
        // An in-place update that needs the value and returns something from it.
        self.served.with_mut(&user, |_, n| *n % 10 == 0);
        Some(profile.len())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> ExitCode {
    if let Some(arg) = std::env::args().nth(1) {
        eprintln!("error: async_cache takes no options (got `{arg}`); usage: async_cache");
        return ExitCode::from(2);
    }
    let service = Arc::new(Service {
        profiles: ShardedMap::new(),
        served: ShardedMap::new(),
        tokens: ShardedMap::new(),
        fetches: AtomicUsize::new(0),
    });
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let service = Arc::clone(&service);
            tokio::spawn(async move {
                let mut refused = 0u64;
                for r in 0..REQUESTS_PER_TASK {
                    let user = (t * 7 + r) % USERS;
                    if service.handle(user).await.is_none() {
                        refused += 1;
                    }
                    tokio::task::yield_now().await;
                }
                refused
            })
        })
        .collect();
    let mut refused = 0;
    for task in tasks {
        refused += task.await.expect("task panicked");
    }

    let served: u64 = service.served.iter().map(|r| *r.value()).sum();
    let total = TASKS * REQUESTS_PER_TASK;
    println!("requests:          {total}");
    println!("served:            {served}");
    println!("refused (quota):   {refused}");
    println!("cached profiles:   {}", service.profiles.len());
    println!(
        "database fetches:  {} (concurrent misses on one key may each fetch; one value is kept)",
        service.fetches.load(Ordering::Relaxed)
    );

    // The numbers must add up: every request was served or refused, no user went over quota,
    // and every user's profile is cached exactly once.
    let ok = served + refused == total
        && service
            .served
            .iter()
            .all(|r| *r.value() <= u64::from(QUOTA))
        && service.profiles.len() == USERS as usize
        && service.fetches.load(Ordering::Relaxed) >= USERS as usize;
    if ok {
        println!("check:             ok");
        ExitCode::SUCCESS
    } else {
        eprintln!("check: FAILED (the counts above do not add up)");
        ExitCode::FAILURE
    }
}
