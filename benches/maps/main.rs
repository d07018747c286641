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
//! Without `--all-features` the dedup group lacks its rows for the parallel build (feature
//! `rayon`); everything else is the same.

#![allow(missing_docs)]

mod adapters;
mod dedup;
mod indicator;
mod lock;
mod mixes;
mod single;

criterion::criterion_group!(
    benches,
    single::benches,
    mixes::benches,
    dedup::benches,
    lock::benches,
    indicator::benches
);
criterion::criterion_main!(benches);
