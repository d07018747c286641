//! The comparison benches: one criterion entry that registers the groups of the modules below.
//! Every map uses the same hasher and key/value types; see `docs/benchmarks.md` for results and
//! `scripts/bench-report` for the tables and chart.
//!
//! ```sh
//! cargo bench --all-features --bench maps            # everything (about 30 minutes here)
//! cargo bench --bench maps -- single                  # one group
//! cargo bench --all-features --bench maps -- --test   # each bench once, small (what CI runs)
//! ```
//!
//! The dedup comparison is its own bench (`benches/dedup.rs`): its builds take seconds each, and
//! it alternates them in one process instead of timing one after another.

#![allow(missing_docs)]

mod adapters;
mod indicator;
mod lock;
mod mixes;
mod single;

criterion::criterion_group!(
    benches,
    single::benches,
    mixes::benches,
    lock::benches,
    indicator::benches
);
criterion::criterion_main!(benches);
