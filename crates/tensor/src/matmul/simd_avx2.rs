//! A 256-bit AVX2 register of `f32` or `f64`, behind one trait, so each AVX2 kernel
//! ([`super::kernel_avx2`], [`super::small_avx2`]) is written once for both element types.
//!
//! The methods are thin wrappers over `std::arch` intrinsics, compiled with AVX2 and FMA
//! enabled and inlined into kernels compiled the same way, so they cost nothing.
//!
//! # Safety
//! Every method requires a CPU with AVX2 and FMA; the loads and stores also require their
//! pointers to be valid for the lanes they touch (all `LANES`, or the first `count` for the
//! `_first` variants, which touch no memory for the other lanes).

#![deny(unsafe_op_in_unsafe_fn)]

use std::arch::x86_64::*;

use crate::element::Element;

/// One AVX2 register of `LANES` elements of type `Elem`.
pub(crate) trait Vector: Copy {
    type Elem: Element;
    const LANES: usize;

    unsafe fn zero() -> Self;
    /// All lanes set to `*src`.
    unsafe fn splat(src: *const Self::Elem) -> Self;
    unsafe fn load(src: *const Self::Elem) -> Self;
    /// The first `count` lanes from `src`, the others zero (`count ≤ LANES`).
    unsafe fn load_first(src: *const Self::Elem, count: usize) -> Self;
    unsafe fn store(self, dst: *mut Self::Elem);
    /// Stores the first `count` lanes only (`count ≤ LANES`).
    unsafe fn store_first(self, dst: *mut Self::Elem, count: usize);
    /// `self · b + c`, rounded once (fused multiply-add).
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    unsafe fn add(self, b: Self) -> Self;
    /// The sum of the lanes, by halves: lanes `l` and `l + LANES/2` first, and so on down.
    unsafe fn sum(self) -> Self::Elem;
    /// The [`Vector::sum`]s of four vectors (added in the same order, so rounded the same),
    /// written to `dst[0..4]`, or added to what is there if `accumulate`. One transposing
    /// reduction for all four: about half the shuffles of four separate sums, and one store.
    unsafe fn sum4_into(v: [Self; 4], dst: *mut Self::Elem, accumulate: bool);
    /// Copies the `LANES × LANES` block at `src` (rows `src_stride` apart) transposed to
    /// `dst` (rows `dst_stride` apart): `dst[j·dst_stride + i] = src[i·src_stride + j]`.
    /// Loaded as `LANES` rows, transposed in registers by unpacks and lane permutes, stored
    /// as `LANES` rows.
    unsafe fn transpose_block(
        src: *const Self::Elem,
        src_stride: usize,
        dst: *mut Self::Elem,
        dst_stride: usize,
    );
}

/// Eight `f32`.
#[derive(Clone, Copy)]
pub(crate) struct F32x8(__m256);

/// Four `f64`.
#[derive(Clone, Copy)]
pub(crate) struct F64x4(__m256d);

/// A lane mask with the first `count` 32-bit lanes set.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn first_lanes_32(count: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(count as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// A lane mask with the first `count` 64-bit lanes set.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn first_lanes_64(count: usize) -> __m256i {
    _mm256_cmpgt_epi64(
        _mm256_set1_epi64x(count as i64),
        _mm256_setr_epi64x(0, 1, 2, 3),
    )
}

impl Vector for F32x8 {
    type Elem = f32;
    const LANES: usize = 8;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn zero() -> Self {
        F32x8(_mm256_setzero_ps())
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn splat(src: *const f32) -> Self {
        // SAFETY: the caller guarantees `src` is readable.
        F32x8(unsafe { _mm256_broadcast_ss(&*src) })
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(src: *const f32) -> Self {
        // SAFETY: the caller guarantees 8 readable lanes.
        F32x8(unsafe { _mm256_loadu_ps(src) })
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load_first(src: *const f32, count: usize) -> Self {
        // SAFETY: the caller guarantees `count` readable lanes; masked lanes are not read.
        F32x8(unsafe { _mm256_maskload_ps(src, first_lanes_32(count)) })
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store(self, dst: *mut f32) {
        // SAFETY: the caller guarantees 8 writable lanes.
        unsafe { _mm256_storeu_ps(dst, self.0) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store_first(self, dst: *mut f32, count: usize) {
        // SAFETY: the caller guarantees `count` writable lanes; masked lanes are not written.
        unsafe { _mm256_maskstore_ps(dst, first_lanes_32(count), self.0) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        F32x8(_mm256_fmadd_ps(self.0, b.0, c.0))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn add(self, b: Self) -> Self {
        F32x8(_mm256_add_ps(self.0, b.0))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sum(self) -> f32 {
        let quad = _mm_add_ps(
            _mm256_castps256_ps128(self.0),
            _mm256_extractf128_ps(self.0, 1),
        );
        let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sum4_into(v: [Self; 4], dst: *mut f32, accumulate: bool) {
        let [a, b, c, d] = v.map(|x| x.0);
        // Halves first, as in `sum`: q_l = x_l + x_{l+4}, for a and b side by side
        // ([qa | qb]), and for c and d.
        let ab = _mm256_add_ps(
            _mm256_permute2f128_ps(a, b, 0x20),
            _mm256_permute2f128_ps(a, b, 0x31),
        );
        let cd = _mm256_add_ps(
            _mm256_permute2f128_ps(c, d, 0x20),
            _mm256_permute2f128_ps(c, d, 0x31),
        );
        // Then q0 + q2 and q1 + q3: [pa0, pa1, pc0, pc1 | pb0, pb1, pd0, pd1].
        let pairs = _mm256_add_ps(
            _mm256_shuffle_ps(ab, cd, 0b01_00_01_00),
            _mm256_shuffle_ps(ab, cd, 0b11_10_11_10),
        );
        // Then p0 + p1: [sa, sc, sa, sc | sb, sd, sb, sd], interleaved to [sa, sb, sc, sd].
        let sums = _mm256_add_ps(
            _mm256_shuffle_ps(pairs, pairs, 0b10_00_10_00),
            _mm256_shuffle_ps(pairs, pairs, 0b11_01_11_01),
        );
        let out = _mm_unpacklo_ps(_mm256_castps256_ps128(sums), _mm256_extractf128_ps(sums, 1));
        // SAFETY: the caller guarantees 4 readable and writable elements at `dst`.
        unsafe {
            let out = if accumulate {
                _mm_add_ps(_mm_loadu_ps(dst), out)
            } else {
                out
            };
            _mm_storeu_ps(dst, out);
        }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn transpose_block(
        src: *const f32,
        src_stride: usize,
        dst: *mut f32,
        dst_stride: usize,
    ) {
        // SAFETY: the caller guarantees 8 readable rows of 8 at `src`.
        let r: [__m256; 8] =
            std::array::from_fn(|i| unsafe { _mm256_loadu_ps(src.add(i * src_stride)) });
        // Rows a..h. Interleave pairs: [a0 b0 a1 b1 | a4 b4 a5 b5], [a2 b2 a3 b3 | a6 b6 a7 b7].
        let t: [__m256; 8] = std::array::from_fn(|i| {
            let (x, y) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
            if i % 2 == 0 {
                _mm256_unpacklo_ps(x, y)
            } else {
                _mm256_unpackhi_ps(x, y)
            }
        });
        // Then quads: [a0 b0 c0 d0 | a4 b4 c4 d4], [a1 b1 c1 d1 | a5 ..], [a2 ..], [a3 ..],
        // and the same for rows e..h.
        let quads = |lo: __m256, hi: __m256| {
            [
                _mm256_shuffle_ps(lo, hi, 0b01_00_01_00),
                _mm256_shuffle_ps(lo, hi, 0b11_10_11_10),
            ]
        };
        let [s0, s1] = quads(t[0], t[2]);
        let [s2, s3] = quads(t[1], t[3]);
        let [s4, s5] = quads(t[4], t[6]);
        let [s6, s7] = quads(t[5], t[7]);
        // Then halves: the low 128 bits of s_k and s_{k+4} make column k, the high ones
        // column k + 4.
        let lows = [s0, s1, s2, s3];
        let highs = [s4, s5, s6, s7];
        for k in 0..4 {
            let column = _mm256_permute2f128_ps(lows[k], highs[k], 0x20);
            let column_4 = _mm256_permute2f128_ps(lows[k], highs[k], 0x31);
            // SAFETY: the caller guarantees 8 writable rows of 8 at `dst`.
            unsafe {
                _mm256_storeu_ps(dst.add(k * dst_stride), column);
                _mm256_storeu_ps(dst.add((k + 4) * dst_stride), column_4);
            }
        }
    }
}

impl Vector for F64x4 {
    type Elem = f64;
    const LANES: usize = 4;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn zero() -> Self {
        F64x4(_mm256_setzero_pd())
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn splat(src: *const f64) -> Self {
        // SAFETY: the caller guarantees `src` is readable.
        F64x4(unsafe { _mm256_broadcast_sd(&*src) })
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(src: *const f64) -> Self {
        // SAFETY: the caller guarantees 4 readable lanes.
        F64x4(unsafe { _mm256_loadu_pd(src) })
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load_first(src: *const f64, count: usize) -> Self {
        // SAFETY: the caller guarantees `count` readable lanes; masked lanes are not read.
        F64x4(unsafe { _mm256_maskload_pd(src, first_lanes_64(count)) })
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store(self, dst: *mut f64) {
        // SAFETY: the caller guarantees 4 writable lanes.
        unsafe { _mm256_storeu_pd(dst, self.0) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store_first(self, dst: *mut f64, count: usize) {
        // SAFETY: the caller guarantees `count` writable lanes; masked lanes are not written.
        unsafe { _mm256_maskstore_pd(dst, first_lanes_64(count), self.0) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        F64x4(_mm256_fmadd_pd(self.0, b.0, c.0))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn add(self, b: Self) -> Self {
        F64x4(_mm256_add_pd(self.0, b.0))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sum(self) -> f64 {
        let pair = _mm_add_pd(
            _mm256_castpd256_pd128(self.0),
            _mm256_extractf128_pd(self.0, 1),
        );
        _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sum4_into(v: [Self; 4], dst: *mut f64, accumulate: bool) {
        let [a, b, c, d] = v.map(|x| x.0);
        // Halves first, as in `sum`: p_l = x_l + x_{l+2}: [pa0, pa1, pb0, pb1], and for c, d.
        let ab = _mm256_add_pd(
            _mm256_permute2f128_pd(a, b, 0x20),
            _mm256_permute2f128_pd(a, b, 0x31),
        );
        let cd = _mm256_add_pd(
            _mm256_permute2f128_pd(c, d, 0x20),
            _mm256_permute2f128_pd(c, d, 0x31),
        );
        // Then p0 + p1: [sa, sc, sb, sd], reordered to [sa, sb, sc, sd].
        let out = _mm256_permute4x64_pd(_mm256_hadd_pd(ab, cd), 0b11_01_10_00);
        // SAFETY: the caller guarantees 4 readable and writable elements at `dst`.
        unsafe {
            let out = if accumulate {
                _mm256_add_pd(_mm256_loadu_pd(dst), out)
            } else {
                out
            };
            _mm256_storeu_pd(dst, out);
        }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn transpose_block(
        src: *const f64,
        src_stride: usize,
        dst: *mut f64,
        dst_stride: usize,
    ) {
        // SAFETY: the caller guarantees 4 readable rows of 4 at `src`.
        let [a, b, c, d]: [__m256d; 4] =
            std::array::from_fn(|i| unsafe { _mm256_loadu_pd(src.add(i * src_stride)) });
        // [a0 b0 | a2 b2], [a1 b1 | a3 b3], and the same for c, d; then 128-bit halves.
        let (ab_even, ab_odd) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
        let (cd_even, cd_odd) = (_mm256_unpacklo_pd(c, d), _mm256_unpackhi_pd(c, d));
        let columns = [
            _mm256_permute2f128_pd(ab_even, cd_even, 0x20),
            _mm256_permute2f128_pd(ab_odd, cd_odd, 0x20),
            _mm256_permute2f128_pd(ab_even, cd_even, 0x31),
            _mm256_permute2f128_pd(ab_odd, cd_odd, 0x31),
        ];
        for (k, column) in columns.into_iter().enumerate() {
            // SAFETY: the caller guarantees 4 writable rows of 4 at `dst`.
            unsafe { _mm256_storeu_pd(dst.add(k * dst_stride), column) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernel::has_avx2_fma;
    use super::super::testing::random;
    use super::*;

    /// `sum4_into` must round exactly as four `sum`s do (the dots kernel relies on it for
    /// results that do not depend on the tile shape), with and without accumulating.
    fn sum4_matches_sums<V: Vector>() {
        for seed in 0..50 {
            let lanes: Vec<V::Elem> = random(4 * V::LANES + 4, seed);
            // SAFETY: the CPU was checked by the caller; every pointer has its lanes.
            unsafe {
                let v = [0, 1, 2, 3].map(|r| V::load(lanes.as_ptr().add(r * V::LANES)));
                for accumulate in [false, true] {
                    let mut got = lanes[4 * V::LANES..].to_vec();
                    V::sum4_into(v, got.as_mut_ptr(), accumulate);
                    for (r, &got) in got.iter().enumerate() {
                        let base = if accumulate {
                            lanes[4 * V::LANES + r]
                        } else {
                            V::Elem::ZERO
                        };
                        let want = if accumulate {
                            base + v[r].sum()
                        } else {
                            v[r].sum()
                        };
                        assert_eq!(
                            got.to_f64().to_bits(),
                            want.to_f64().to_bits(),
                            "seed {seed}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sum4_rounds_as_four_sums() {
        if !has_avx2_fma() {
            eprintln!("skipped: this CPU has no AVX2 + FMA");
            return;
        }
        sum4_matches_sums::<F32x8>();
        sum4_matches_sums::<F64x4>();
    }
}
