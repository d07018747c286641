//! What the benches that alternate their contenders share: a shuffled visiting order per
//! repetition, and the median with min..max of what the repetitions measured.

use crate::adapters::Rng;

/// Median, min and max of a non-empty sample.
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// A freshly shuffled visiting order of `0..n` (Fisher-Yates).
pub fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    order
}
