//! Sets `cfg(deadlock_check)` where the deadlock check (`src/deadlock.rs`) is compiled in: builds
//! with debug assertions, or with feature `deadlock-check`, and never under `--cfg loom` (loom
//! runs its threads on one OS thread, so a thread-local list of holds would be shared).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(deadlock_check)");
    println!("cargo::rerun-if-changed=build.rs");
    let on = |name: &str| std::env::var_os(name).is_some();
    let wanted = on("CARGO_CFG_DEBUG_ASSERTIONS") || on("CARGO_FEATURE_DEADLOCK_CHECK");
    if wanted && !on("CARGO_CFG_LOOM") {
        println!("cargo::rustc-cfg=deadlock_check");
    }
}
