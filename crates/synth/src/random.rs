//! Seeded randomness: per-purpose ChaCha8 generators, per-row streams, weighted tables and a
//! keyed permutation of row indices.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a generator is used for. Each purpose gets its own key, so adding draws to one
/// purpose never shifts the values of another.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Schools = 1,
    StudentSlots = 2,
    StudentRows = 3,
    TeacherSlots = 4,
    TeacherRows = 5,
    CertNumbers = 6,
}

/// A generator keyed by (seed, purpose). Row generators clone it and select the row's
/// stream with [`row_rng`], which gives random access to any row in O(1).
pub(crate) fn rng_for(seed: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(purpose as u64).to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// The independent stream of row `index`. `base` must be unused (as returned by
/// [`rng_for`]), so that selecting the stream does not depend on earlier draws.
pub(crate) fn row_rng(base: &ChaCha8Rng, index: u64) -> ChaCha8Rng {
    let mut rng = base.clone();
    rng.set_stream(index);
    rng
}

/// The SplitMix64 finaliser: a fast, well-mixing bijection on u64.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniformly chosen element, drawn through u32 so that results do not depend on the
/// platform's pointer width.
pub(crate) fn choose<'s, T>(rng: &mut impl Rng, items: &'s [T]) -> Option<&'s T> {
    if items.is_empty() {
        return None;
    }
    let len = u32::try_from(items.len()).unwrap_or(u32::MAX);
    items.get(rng.gen_range(0..len) as usize)
}

/// A static table of items with integer weights.
pub(crate) struct Weighted<T: 'static> {
    entries: &'static [(T, u32)],
    total: u32,
}

impl<T: Copy> Weighted<T> {
    /// Fails to compile (in a `const`) if the table is empty or all weights are zero, which
    /// is what makes [`Weighted::pick`] total.
    pub(crate) const fn new(entries: &'static [(T, u32)]) -> Self {
        let mut total = 0;
        let mut i = 0;
        while i < entries.len() {
            total += entries[i].1;
            i += 1;
        }
        assert!(total > 0, "a weighted table needs a positive total weight");
        Weighted { entries, total }
    }

    pub(crate) fn pick(&self, rng: &mut impl Rng) -> T {
        let mut r = rng.gen_range(0..self.total);
        // Non-empty: checked when the table was built.
        let mut chosen = self.entries[0].0;
        for &(item, weight) in self.entries {
            chosen = item;
            if r < weight {
                break;
            }
            r -= weight;
        }
        chosen
    }
}

/// A keyed pseudo-random permutation of `0..domain`: a balanced Feistel network on the
/// smallest even number of bits that covers the domain, with cycle walking to stay inside
/// it. Mapping row indices through it spreads consecutive rows over the whole slot space
/// while keeping distinct rows on distinct slots.
pub(crate) struct Permutation {
    domain: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    pub(crate) fn new(domain: u64, rng: &mut impl Rng) -> Permutation {
        let bits = 64 - domain.saturating_sub(1).leading_zeros();
        Permutation {
            domain,
            half_bits: bits.div_ceil(2).max(1),
            keys: [
                rng.next_u64(),
                rng.next_u64(),
                rng.next_u64(),
                rng.next_u64(),
            ],
        }
    }

    pub(crate) fn domain(&self) -> u64 {
        self.domain
    }

    /// The image of `index`, which must be below the domain size (anything else is
    /// returned unchanged, as the walk might not come back into the domain).
    pub(crate) fn apply(&self, index: u64) -> u64 {
        if index >= self.domain {
            return index;
        }
        // The network is a permutation of 0..2^(2h) ⊇ 0..domain, so following the cycle of
        // `index` reaches a value inside the domain (at worst `index` itself); as the
        // domain covers more than a quarter of 2^(2h), that takes under four steps on
        // average.
        let mut x = index;
        loop {
            x = self.network(x);
            if x < self.domain {
                return x;
            }
        }
    }

    fn network(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for key in self.keys {
            let f = mix(right ^ key) & mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half_bits) | right
    }
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::*;

    #[test]
    fn permutation_is_a_bijection_on_odd_sized_domains() {
        for domain in [1u64, 2, 3, 5, 17, 1000, 4097, 65_537] {
            let perm = Permutation::new(domain, &mut rng_for(7, Purpose::Schools));
            let mut seen = vec![false; domain as usize];
            for i in 0..domain {
                let j = perm.apply(i);
                assert!(j < domain);
                assert!(!seen[j as usize], "{j} twice in domain {domain}");
                seen[j as usize] = true;
            }
        }
    }

    #[test]
    fn row_streams_are_independent_of_order() {
        let base = rng_for(1, Purpose::StudentRows);
        let a: u64 = row_rng(&base, 5).r#gen();
        let _ = row_rng(&base, 4).next_u64();
        let b: u64 = row_rng(&base, 5).r#gen();
        assert_eq!(a, b);
        assert_ne!(a, row_rng(&base, 6).next_u64());
    }
}
