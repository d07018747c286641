//! The shard lock alone: uncontended read and write lock/unlock, and 2 and 4 threads contending
//! (4 oversubscribes the 2-core development machine), against `std::sync::RwLock`.

use std::sync::RwLock;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use sharded_map::__internal::{RawRwLock, ReaderSlots};

use crate::adapters::{test_mode, timed_threads};

const OPS: u64 = 10_000;

fn contended(threads: usize, iters: u64, op: impl Fn() + Sync) -> Duration {
    timed_threads(threads, |_| {
        for _ in 0..iters * OPS {
            op();
        }
    })
}

pub fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock");
    g.sample_size(if test_mode() { 10 } else { 30 })
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(1));
    // A lock that starts unbiased: reads go through the word until a run of reads biases it;
    // the write benches revoke the bias on each write, as a shard that is written does.
    let ours = RawRwLock::new();
    let slots = ReaderSlots::new(1);
    let slots = slots.of(0);
    let std_lock = RwLock::new(());
    g.bench_function(BenchmarkId::new("read_uncontended", "sharded-map"), |b| {
        b.iter(|| {
            // SAFETY: `slots` is this lock's own column (one table made for it); the hold is
            // given back just after.
            let hold = unsafe { ours.lock_shared(slots) };
            // SAFETY: taken just above.
            unsafe { ours.unlock_shared(hold) };
        })
    });
    g.bench_function(BenchmarkId::new("read_uncontended", "std RwLock"), |b| {
        b.iter(|| drop(std_lock.read()))
    });
    g.bench_function(BenchmarkId::new("write_uncontended", "sharded-map"), |b| {
        b.iter(|| {
            // SAFETY: `slots` is this lock's own column.
            unsafe { ours.lock_exclusive(slots) };
            // SAFETY: taken just above.
            unsafe { ours.unlock_exclusive() };
        })
    });
    g.bench_function(BenchmarkId::new("write_uncontended", "std RwLock"), |b| {
        b.iter(|| drop(std_lock.write()))
    });
    for threads in [2usize, 4] {
        g.throughput(Throughput::Elements(OPS * threads as u64));
        g.bench_with_input(
            BenchmarkId::new(format!("write_contended_{threads}t"), "sharded-map"),
            &threads,
            |b, &t| {
                b.iter_custom(|iters| {
                    contended(t, iters, || {
                        // SAFETY: `slots` is this lock's own column.
                        unsafe { ours.lock_exclusive(slots) };
                        // SAFETY: taken just above.
                        unsafe { ours.unlock_exclusive() };
                    })
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new(format!("write_contended_{threads}t"), "std RwLock"),
            &threads,
            |b, &t| b.iter_custom(|iters| contended(t, iters, || drop(std_lock.write()))),
        );
        g.bench_with_input(
            BenchmarkId::new(format!("read_contended_{threads}t"), "sharded-map"),
            &threads,
            |b, &t| {
                b.iter_custom(|iters| {
                    contended(t, iters, || {
                        // SAFETY: `slots` is this lock's own column.
                        let hold = unsafe { ours.lock_shared(slots) };
                        // SAFETY: taken just above.
                        unsafe { ours.unlock_shared(hold) };
                    })
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new(format!("read_contended_{threads}t"), "std RwLock"),
            &threads,
            |b, &t| b.iter_custom(|iters| contended(t, iters, || drop(std_lock.read()))),
        );
    }
    g.finish();
}
