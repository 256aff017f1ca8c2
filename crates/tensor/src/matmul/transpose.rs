//! A transposing copy of a strided matrix, with the AVX2 block transpose when the CPU has it.
//!
//! The GEMM's direct path uses the AVX2 routine on raw pointers ([`super::transpose_avx2`]);
//! other kernels that need a matrix turned around (the convolution's weight gradient reads
//! the output gradient as `[positions, channels]`, NCHW stores it as `[channels, positions]`)
//! call [`transpose_into`], which checks the bounds and picks the routine.

use crate::element::Element;

/// `dst[p·n + j] = src[j·ld + p]` for `j < n`, `p < k`: the `n × k` matrix whose rows start
/// `ld` apart in `src` (entries contiguous), written transposed into `dst` as a row-major
/// `k × n` matrix.
///
/// Rows may overlap (`ld < k`, even 0 for a broadcast): they are only read.
///
/// # Panics
/// If `src` is too short for the matrix or `dst` has fewer than `k·n` elements.
pub(crate) fn transpose_into<T: Element>(src: &[T], ld: usize, n: usize, k: usize, dst: &mut [T]) {
    if n == 0 || k == 0 {
        return;
    }
    assert!(
        src.len() >= (n - 1) * ld + k && dst.len() >= k * n,
        "transpose_into: a {n} × {k} matrix with rows {ld} apart in {} elements, into {}",
        src.len(),
        dst.len()
    );
    #[cfg(target_arch = "x86_64")]
    if super::kernel::has_avx2_fma() {
        use super::simd_avx2::{F32x8, F64x4};
        use super::transpose_avx2::transpose;
        use crate::element::DType;
        let (src, dst) = (src.as_ptr(), dst.as_mut_ptr());
        // SAFETY: the bounds are asserted above (entry `(j, p)` of the source is at
        // `j·ld + p ≤ (n − 1)·ld + k − 1`, of the destination at `p·n + j < k·n`), a shared
        // and a mutable slice cannot overlap, `T` is the element type matched on, and the
        // CPU was checked.
        unsafe {
            match T::DTYPE {
                DType::F32 => transpose::<F32x8>(src.cast(), ld, n, k, dst.cast()),
                DType::F64 => transpose::<F64x4>(src.cast(), ld, n, k, dst.cast()),
            }
        }
        return;
    }
    for j in 0..n {
        for (p, &value) in src[j * ld..j * ld + k].iter().enumerate() {
            dst[p * n + j] = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Element>() {
        // Whole blocks of both vector widths (8 and 4), ragged edges in either dimension,
        // rows with a gap between them, and rows that overlap (a broadcast, `ld = 0`).
        let shapes = [
            (1, 1, 1),
            (8, 8, 8),
            (40, 40, 40),
            (3, 2, 5),
            (3, 5, 7),
            (13, 11, 11),
            (9, 17, 17),
            (9, 17, 20),
            (64, 49, 49),
            (13, 8, 20),
            (9, 9, 0),
        ];
        for (n, k, ld) in shapes {
            let src: Vec<T> = (0..(n - 1) * ld + k)
                .map(|i| T::from_f64(i as f64))
                .collect();
            let mut dst = vec![T::from_f64(-1.0); k * n];
            transpose_into(&src, ld, n, k, &mut dst);
            for j in 0..n {
                for p in 0..k {
                    assert_eq!(
                        dst[p * n + j],
                        src[j * ld + p],
                        "({n}, {k}, {ld}) at ({j}, {p})"
                    );
                }
            }
        }
    }

    #[test]
    fn transposes_f32_and_f64() {
        check::<f32>();
        check::<f64>();
    }

    #[test]
    #[should_panic(expected = "transpose_into")]
    fn a_short_source_is_refused() {
        let mut dst = [0.0f32; 6];
        transpose_into(&[0.0f32; 5], 3, 2, 3, &mut dst);
    }
}
