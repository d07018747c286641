//! Contended writes on one lock: time per acquisition and how often a thread went to sleep, our
//! shard lock against std's `RwLock`, in one process (order shuffled per repetition).
//!
//! Every thread takes the lock exclusively and releases it `OPS` times in a loop. Besides the
//! time, each thread reads its own count of voluntary context switches (Linux,
//! `/proc/thread-self/status`) before and after its loop: a switch is a park that slept, and
//! (for ours) the futex wake that ended it. That count is the mechanism a release policy
//! changes (wake everyone, wake one writer, skip while a woken writer competes), measured
//! directly where wall-clock time on a shared 2-core machine moves by 30% between runs.
//!
//! ```sh
//! cargo bench --bench lock_wakeups               # 2, 4 and 8 threads, 1M ops each, 7 repetitions
//! cargo bench --bench lock_wakeups -- --test     # one small repetition (what CI runs)
//! cargo bench --bench lock_wakeups -- 4 8        # these thread counts only
//! ```
#![allow(missing_docs)]

#[path = "common/args.rs"]
mod args;

use std::sync::{Barrier, RwLock};
use std::time::Instant;

use crossbeam_utils::CachePadded;
use sharded_map::__internal::{RawRwLock, ReaderSlots};

/// This thread's voluntary context switches so far (`None` where `/proc` does not say).
fn switches() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))?
        .trim()
        .parse()
        .ok()
}

/// Runs `threads` threads doing `ops` lock+unlock each with `op`; returns (ns per acquisition,
/// voluntary switches per 1,000 acquisitions).
fn run(threads: usize, ops: u64, op: &(impl Fn() + Sync)) -> (f64, Option<f64>) {
    let start = Barrier::new(threads + 1);
    let (elapsed, switched) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let before = switches();
                    for _ in 0..ops {
                        op();
                    }
                    Some(switches()? - before?)
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        let switched: Option<u64> = workers.into_iter().map(|w| w.join().unwrap()).sum();
        (began.elapsed(), switched)
    });
    let acquisitions = (threads as u64 * ops) as f64;
    (
        elapsed.as_nanos() as f64 / acquisitions,
        switched.map(|n| n as f64 * 1000.0 / acquisitions),
    )
}

fn median_min_max(mut v: Vec<f64>, digits: usize) -> String {
    v.sort_by(f64::total_cmp);
    format!(
        "{:.d$} ({:.d$}..{:.d$})",
        v[v.len() / 2],
        v[0],
        v[v.len() - 1],
        d = digits
    )
}

fn main() {
    let args = args::parse("usage: lock_wakeups [--test] [THREADS ...]", true);
    let test = args.test;
    let (reps, ops, mut thread_counts): (usize, u64, Vec<usize>) = if test {
        (1, 10_000, vec![4])
    } else {
        (7, 1_000_000, vec![2, 4, 8])
    };
    // Thread counts given on the command line replace the default ones.
    if !args.counts.is_empty() {
        thread_counts = args.counts;
    }
    // Each lock on cache lines of its own, as a map's shards are (on the stack next to other
    // data, false sharing doubled the time per acquisition here).
    let ours = Box::new(CachePadded::new(RawRwLock::new()));
    let table = ReaderSlots::new(1);
    let slots = table.of(0);
    let ours_op = || {
        // SAFETY: `slots` is this lock's own column (a table made for it alone); the hold is
        // given back just after.
        unsafe { ours.lock_exclusive(slots) };
        // SAFETY: taken just above.
        unsafe { ours.unlock_exclusive() };
    };
    let std_lock = Box::new(CachePadded::new(RwLock::new(())));
    let std_op = || drop(std_lock.write().unwrap());

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "contended writes on one lock, {ops} per thread, {cores} cores, median of {reps} (min..max)\n"
    );
    println!("| threads | lock | ns per acquisition | voluntary switches per 1,000 |");
    println!("|---|---|---|---|");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for threads in thread_counts {
        let mut results: [(Vec<f64>, Vec<f64>); 2] = Default::default();
        for _ in 0..reps {
            // xorshift: which lock goes first this repetition.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let order = if seed & 1 == 0 { [0, 1] } else { [1, 0] };
            for which in order {
                let (ns, sw) = if which == 0 {
                    run(threads, ops, &ours_op)
                } else {
                    run(threads, ops, &std_op)
                };
                results[which].0.push(ns);
                results[which].1.extend(sw);
            }
        }
        for (name, (ns, sw)) in ["sharded-map", "std RwLock"].into_iter().zip(results) {
            let sw = if sw.is_empty() {
                "n/a".to_string()
            } else {
                median_min_max(sw, 3)
            };
            println!("| {threads} | {name} | {} | {sw} |", median_min_max(ns, 1));
        }
    }
}
