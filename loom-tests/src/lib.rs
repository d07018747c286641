//! loom models for sharded-map live in `tests/`. Run them with:
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p loom-tests
//! ```
//!
//! This crate is also the proof that a downstream crate built with `--cfg loom` gets a
//! `ShardedMap` built on loom's primitives.
