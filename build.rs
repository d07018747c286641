//! Sets `cfg(deadlock_check)` where the deadlock check (`src/deadlock.rs`) is compiled in: builds
//! with debug assertions, or with feature `deadlock-check`, and never under `--cfg loom` (loom
//! runs its threads on one OS thread, so a thread-local list of holds would be shared).
//!
//! Also the hook of `scripts/loom-teeth`: `SHARDED_MAP_PLANTED_BUG=planted_bug_x` under
//! `--cfg loom` compiles that planted bug into this crate only (through `RUSTFLAGS` it would
//! rebuild every dependency for each bug). Anything but a known bug name, or the variable without
//! `--cfg loom`, stops the build.

/// The planted bugs: test-only defects the loom models must catch (see `scripts/loom-teeth`).
const PLANTED_BUGS: [&str; 10] = [
    "planted_bug_weak_ordering",
    "planted_bug_lost_wakeup",
    "planted_bug_skip_slot_scan",
    "planted_bug_no_dekker_fence",
    "planted_bug_unordered_disjoint",
    "planted_bug_hold_back_nested",
    "planted_bug_lost_claimant_wakeup",
    "planted_bug_wake_no_writer",
    "planted_bug_slot_release_no_wake",
    "planted_bug_woken_not_cleared",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(deadlock_check)");
    for bug in PLANTED_BUGS {
        println!("cargo::rustc-check-cfg=cfg({bug})");
    }
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=SHARDED_MAP_PLANTED_BUG");
    let on = |name: &str| std::env::var_os(name).is_some();
    let wanted = on("CARGO_CFG_DEBUG_ASSERTIONS") || on("CARGO_FEATURE_DEADLOCK_CHECK");
    if wanted && !on("CARGO_CFG_LOOM") {
        println!("cargo::rustc-cfg=deadlock_check");
    }
    if let Ok(bug) = std::env::var("SHARDED_MAP_PLANTED_BUG") {
        if bug.is_empty() {
            return;
        }
        if !PLANTED_BUGS.contains(&bug.as_str()) {
            panic!(
                "SHARDED_MAP_PLANTED_BUG={bug:?} is not a planted bug; known: {}",
                PLANTED_BUGS.join(", ")
            );
        }
        if !on("CARGO_CFG_LOOM") {
            panic!("SHARDED_MAP_PLANTED_BUG is for the loom models only (build with --cfg loom)");
        }
        println!("cargo::rustc-cfg={bug}");
    }
}
