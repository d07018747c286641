//! The comparison benches: one criterion entry that registers the groups of the modules below.
//! Every map uses the same hasher and key/value types; see `docs/benchmarks.md` for results and
//! `scripts/bench-report` for the tables and chart.
//!
//! ```sh
//! cargo bench --bench maps                 # everything (about 25 minutes here)
//! cargo bench --bench maps -- single       # one group
//! cargo bench --bench maps -- --test       # each bench once, small sizes (what CI runs)
//! ```
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
