//! A distinct-count sketch (HyperLogLog) over the hashes of one shard's items, so that the
//! parallel build can size each shard's table for its final key count before filling it.
//!
//! Up to 1,024 one-byte registers (1 KiB, allocated with the first hash): a standard error of
//! about 3% (1.04 / sqrt(1024)). Maps with many shards get fewer registers per shard (at least
//! 64, a 13% error), so that one worker's sketches stay within 64 KiB (and under Miri, 64
//! always). Each register keeps the
//! longest run of trailing zeros seen among the hashes that pick it; sketches merge by keeping
//! the larger register. The register comes from the hash's low bits and the run from the 40 bits
//! above them, so the bits that pick the shard (just below the top 7) do not enter the estimate:
//! within one shard they are all equal.
#![deny(unsafe_code)]

/// log2 of the most and the fewest registers per sketch. Under Miri every sketch has the fewest:
/// the parallel-build suite runs many small builds there, and merging and estimating 1,024
/// registers per shard doubled its time.
const MAX_INDEX_BITS: u32 = if cfg!(miri) { MIN_INDEX_BITS } else { 10 };
const MIN_INDEX_BITS: u32 = 6;
/// Register bytes one worker spends over all shards, at most (above the fewest per shard).
const WORKER_BYTES: usize = 64 << 10;
/// Bits above the index that the run of zeros is counted in.
const RUN_BITS: u32 = 40;

/// A HyperLogLog sketch of distinct 64-bit hashes.
pub(super) struct Sketch {
    /// Empty until the first hash arrives (most shards of a small build see few items).
    registers: Vec<u8>,
    /// log2 of the register count.
    index_bits: u32,
}

impl Sketch {
    /// An empty sketch sized for a map of `shards` shards.
    pub(super) fn for_shards(shards: usize) -> Self {
        let per_shard = (WORKER_BYTES / shards.max(1)).max(1);
        Self {
            registers: Vec::new(),
            index_bits: per_shard.ilog2().clamp(MIN_INDEX_BITS, MAX_INDEX_BITS),
        }
    }

    /// One empty sketch per shard of a map of `shards` shards.
    pub(super) fn per_shard(shards: usize) -> Vec<Self> {
        (0..shards).map(|_| Self::for_shards(shards)).collect()
    }

    /// The estimate's relative standard error: 1.04 / sqrt(registers), 3.25% with 1,024
    /// registers, 13% with 64.
    pub(super) fn standard_error(&self) -> f64 {
        1.04 / f64::from(1u32 << self.index_bits).sqrt()
    }

    /// Allocates the registers if they are not yet: what [`add_allocated`](Self::add_allocated)
    /// needs.
    pub(super) fn allocate(&mut self) {
        if self.registers.is_empty() {
            self.registers = vec![0; 1 << self.index_bits];
        }
    }

    /// Counts `hash`.
    #[inline]
    pub(super) fn add(&mut self, hash: u64) {
        self.allocate();
        self.add_allocated(hash);
    }

    /// Counts `hash` in a sketch whose registers were allocated ([`allocate`](Self::allocate)):
    /// [`add`](Self::add) without its check, for the per-item loop of a build.
    ///
    /// # Panics
    /// If the registers were not allocated (an index out of bounds).
    #[inline]
    pub(super) fn add_allocated(&mut self, hash: u64) {
        let index = (hash as usize) & (self.registers.len() - 1);
        // A sentinel bit caps the run at RUN_BITS + 1.
        let run = ((hash >> self.index_bits) | (1 << RUN_BITS)).trailing_zeros() as u8 + 1;
        let register = &mut self.registers[index];
        if run > *register {
            *register = run;
        }
    }

    /// Adds everything `other` counted. Both are sized for the same shard count.
    pub(super) fn merge(&mut self, other: &Sketch) {
        assert_eq!(
            self.index_bits, other.index_bits,
            "sketches of different sizes"
        );
        if other.registers.is_empty() {
            return;
        }
        if self.registers.is_empty() {
            self.registers = other.registers.clone();
            return;
        }
        for (mine, theirs) in self.registers.iter_mut().zip(&other.registers) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// A count the true number of distinct hashes seldom exceeds: the estimate plus two
    /// [standard errors](Self::standard_error) of it, plus 4, which covers the rounding and
    /// chance collisions of small counts. 0 for an empty sketch.
    pub(super) fn upper_estimate(&self) -> usize {
        let estimate = self.estimate();
        if estimate == 0 {
            return 0;
        }
        estimate + (2.0 * self.standard_error() * estimate as f64).ceil() as usize + 4
    }

    /// The estimated number of distinct hashes counted (0 for an empty sketch).
    pub(super) fn estimate(&self) -> usize {
        if self.registers.is_empty() {
            return 0;
        }
        let m = self.registers.len() as f64;
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| f64::from(r).exp2().recip())
            .sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        // Small counts: linear counting over the empty registers is more exact.
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Well-spread hashes, as the map's mixed hashes are (splitmix64 of a counter).
    fn hash(i: u64) -> u64 {
        let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn within(estimate: usize, exact: usize, tolerance: f64) -> bool {
        (estimate as f64 - exact as f64).abs() <= exact as f64 * tolerance
    }

    /// Four standard errors of a sketch with the most registers (0.13 for 1,024).
    fn four_errors() -> f64 {
        4.0 * 1.04 / f64::from(1u32 << MAX_INDEX_BITS).sqrt()
    }

    #[test]
    fn estimates_distinct_counts_within_a_few_percent() {
        // Small sizes under Miri (the loop is slow there); the tolerance is four standard errors.
        let sizes: &[usize] = if cfg!(miri) {
            &[0, 1, 100, 5_000]
        } else {
            &[0, 1, 100, 5_000, 100_000, 2_000_000]
        };
        for &n in sizes {
            let mut sketch = Sketch::for_shards(8);
            for i in 0..n as u64 {
                sketch.add(hash(i));
            }
            let estimate = sketch.estimate();
            assert!(
                within(estimate, n, four_errors()),
                "{n} distinct hashes estimated as {estimate}"
            );
        }
    }

    #[test]
    fn the_upper_estimate_covers_the_count_with_a_bounded_margin() {
        let sizes: &[u64] = if cfg!(miri) {
            &[1, 7, 300]
        } else {
            &[1, 7, 300, 20_000, 500_000]
        };
        for &shards in &[8, 1 << 20] {
            for &n in sizes {
                let mut sketch = Sketch::for_shards(shards);
                for i in 0..n {
                    sketch.add(hash(i + n * 1000));
                }
                let upper = sketch.upper_estimate() as f64;
                // At least the count, and above it by at most five standard errors and the 4.
                let n = n as f64;
                assert!(
                    upper >= n && upper <= n * (1.0 + 5.0 * sketch.standard_error()) + 5.0,
                    "{n} hashes, {shards} shards: upper estimate {upper}"
                );
            }
        }
        assert_eq!(Sketch::for_shards(8).upper_estimate(), 0);
    }

    #[test]
    fn duplicates_do_not_count_and_merging_is_a_union() {
        let n = if cfg!(miri) { 2_000 } else { 50_000 };
        let (mut a, mut b) = (Sketch::for_shards(8), Sketch::for_shards(8));
        // a: 0..n three times over; b: n/2..3n/2. The union has 3n/2 distinct hashes.
        for _ in 0..3 {
            for i in 0..n {
                a.add(hash(i));
            }
        }
        for i in n / 2..n + n / 2 {
            b.add(hash(i));
        }
        assert!(
            within(a.estimate(), n as usize, four_errors()),
            "{}",
            a.estimate()
        );
        let mut empty = Sketch::for_shards(8);
        empty.merge(&a);
        assert_eq!(
            empty.estimate(),
            a.estimate(),
            "merging into an empty sketch copies"
        );
        a.merge(&b);
        a.merge(&Sketch::for_shards(8));
        let union = (n + n / 2) as usize;
        assert!(
            within(a.estimate(), union, four_errors()),
            "union of {union} estimated as {}",
            a.estimate()
        );
    }

    #[test]
    fn many_shards_get_fewer_registers_and_a_wider_error() {
        assert_eq!(Sketch::for_shards(1).index_bits, MAX_INDEX_BITS);
        assert_eq!(Sketch::for_shards(64).index_bits, MAX_INDEX_BITS);
        assert_eq!(Sketch::for_shards(256).index_bits, 8.min(MAX_INDEX_BITS));
        assert_eq!(Sketch::for_shards(1 << 20).index_bits, MIN_INDEX_BITS);
        let n = if cfg!(miri) { 2_000 } else { 100_000 };
        let mut small = Sketch::for_shards(1 << 20);
        for i in 0..n {
            small.add(hash(i));
        }
        // 64 registers: a 13% standard error; four of them.
        assert!(
            within(small.estimate(), n as usize, 0.52),
            "{}",
            small.estimate()
        );
    }
}
