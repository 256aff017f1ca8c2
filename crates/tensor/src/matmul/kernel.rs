//! The micro-kernel: the innermost piece of the GEMM, and the only one that does arithmetic.
//!
//! It multiplies one packed `MR × kc` panel of A by one packed `kc × NR` panel of B into an
//! `MR × NR` tile of C:
//!
//! ```text
//! C[i, j] (+)= Σ_{p < kc} Â[p·MR + i] · B̂[p·NR + j]        i < MR, j < NR
//! ```
//!
//! Â and B̂ are the panels laid out by [`super::pack`]: for each `p`, the `MR` entries of a
//! column of A side by side, then the `NR` entries of a row of B. So step `p` is one rank-1
//! update of the tile (an outer product), reading both operands sequentially. The tile's
//! `MR·NR` partial sums live in registers for the whole loop over `p`; C is read and written
//! once per tile, at the end.
//!
//! [`MicroKernel`] bundles a kernel with its tile shape and the cache block sizes the driver
//! uses around it ([`super::driver`]). [`MicroKernel::select`] picks, once per process, the
//! AVX2+FMA kernels of [`super::kernel_avx2`] when the CPU has them, else the portable one
//! below, which any `T: Element` can use and the compiler vectorises as well as it can.
//!
//! NOTE: every kernel computes each entry of the tile the same way — a running sum over `p`
//! in increasing order, started from zero, then added to (or stored into) C once — whatever
//! the tile's position in C. That is what lets the driver split C among threads any way it
//! likes and still produce bit-identical results.

use std::sync::OnceLock;

use crate::element::{DType, Element};

/// `kernel(kc, a, b, c, rs_c, accumulate)`: `C[i·rs_c + j] (+)= Σ_p a[p·MR + i]·b[p·NR + j]`
/// for the kernel's `MR × NR` tile; `=` when `accumulate` is false, `+=` when true.
///
/// # Safety
/// `a` must be valid for `kc·MR` reads, `b` for `kc·NR` reads, and `c` for reads and writes
/// at `i·rs_c + j` for all `i < MR`, `j < NR`, with `rs_c ≥ NR` (rows do not overlap).
/// Kernels with `#[target_feature]` also require the CPU to have those features.
pub(crate) type KernelFn<T> =
    unsafe fn(kc: usize, a: *const T, b: *const T, c: *mut T, rs_c: usize, accumulate: bool);

/// The largest tile (`MR·NR`) of any kernel: the driver's scratch tile for edges.
pub(crate) const MAX_TILE: usize = 96;

/// A micro-kernel, its tile shape (`mr × nr`) and the cache blocking around it: the driver
/// multiplies `mc × kc` blocks of A by `kc × nc` blocks of B.
#[derive(Clone, Copy)]
pub(crate) struct MicroKernel<T> {
    pub mr: usize,
    pub nr: usize,
    pub kc: usize,
    pub mc: usize,
    pub nc: usize,
    pub run: KernelFn<T>,
}

impl<T: Element> MicroKernel<T> {
    /// The fastest kernel for `T` on this CPU. The CPU check runs once per process.
    pub fn select() -> MicroKernel<T> {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            return super::kernel_avx2::kernel::<T>();
        }
        Self::portable()
    }

    /// The portable kernel, for CPUs without AVX2 (and for tests of the driver).
    ///
    /// Sizes for a baseline x86_64 (16 SSE registers of 16 bytes) or AArch64 (32 NEON
    /// registers): a 4 × 8 tile of f32 is 8 vector accumulators, a 4 × 4 tile of f64 is 8;
    /// room is left for the operands. `kc = 256` keeps a B panel (`kc·nr` elements, 8 KiB)
    /// in a 32 KiB L1 with the A panel beside it; `mc = 128` keeps the A block (`mc·kc`
    /// elements, 128–256 KiB) in L2; `nc` only bounds the packed B block (it lives in L3).
    pub fn portable() -> MicroKernel<T> {
        let (mr, nr, run): (usize, usize, KernelFn<T>) = match T::DTYPE {
            DType::F32 => (4, 8, portable_kernel::<T, 4, 8>),
            DType::F64 => (4, 4, portable_kernel::<T, 4, 4>),
        };
        MicroKernel {
            mr,
            nr,
            kc: 256,
            mc: 128,
            nc: 4096,
            run,
        }
    }
}

/// Whether this CPU has AVX2 and FMA (checked once, then cached).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    })
}

/// The portable `MR × NR` kernel: the tile is a local array the compiler keeps in registers
/// (it is small and fully unrolled), and each step `p` is `MR·NR` multiply-adds.
///
/// # Safety
/// As for [`KernelFn`].
unsafe fn portable_kernel<T: Element, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    b: *const T,
    c: *mut T,
    rs_c: usize,
    accumulate: bool,
) {
    // SAFETY: the caller guarantees `kc·MR` readable elements at `a` and `kc·NR` at `b`.
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, kc * MR),
            std::slice::from_raw_parts(b, kc * NR),
        )
    };
    let mut tile = [[T::ZERO; NR]; MR];
    for (a_col, b_row) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (tile_row, &a_ip) in tile.iter_mut().zip(a_col) {
            for (t, &b_pj) in tile_row.iter_mut().zip(b_row) {
                *t += a_ip * b_pj;
            }
        }
    }
    for (i, tile_row) in tile.iter().enumerate() {
        // SAFETY: row `i` of the C tile is `NR` elements at `c + i·rs_c`, valid for reads
        // and writes by the caller's guarantee; rows do not overlap since `rs_c ≥ NR`.
        let c_row = unsafe { std::slice::from_raw_parts_mut(c.add(i * rs_c), NR) };
        for (c_ij, &t) in c_row.iter_mut().zip(tile_row) {
            *c_ij = if accumulate { *c_ij + t } else { t };
        }
    }
}
