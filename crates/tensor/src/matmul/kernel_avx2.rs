//! AVX2 + FMA micro-kernels for x86_64: 6 × 16 for `f32`, 6 × 8 for `f64` — one kernel,
//! written once over [`Vector`] (a 256-bit register of 8 f32 or 4 f64).
//!
//! # Why these tile shapes
//! AVX2 has 16 vector registers of 256 bits (8 f32 or 4 f64). The tile of C is held in
//! registers for the whole loop over `p`, so it must leave room for the operands:
//!
//! - 6 rows × 2 vectors = 12 accumulators, + 2 registers for the row of B̂ (two vectors),
//!   + 1 for the broadcast entry of Â = 15 of 16 registers.
//! - Each step `p` issues 12 FMAs against 8 loads (2 of B̂, 6 broadcasts of Â): the FMA units
//!   (two per core on Zen 3 and Haswell-class cores) stay the bottleneck, not the loads.
//! - An FMA has a latency of 4–5 cycles and two issue each cycle, so at least 8–10
//!   independent accumulator chains must be in flight; there are 12.
//!
//! The same arithmetic gives 6 × 16 f32 (96 entries) and 6 × 8 f64 (48 entries).
//!
//! # Why these block sizes (for a 32 KiB L1d, 512 KiB L2, large shared L3, as on Zen 3)
//! - `kc`: the B̂ micro-panel (`kc × NR`) is reused by every A panel of the block, so it
//!   should stay in L1 with room for the A panel streaming past: `kc = 256` gives
//!   256·16·4 B = 16 KiB of B̂ (f32) or 256·8·8 B = 16 KiB (f64), half of L1.
//! - `mc`: the packed A block (`mc × kc`) is re-read once per B̂ micro-panel, from L2:
//!   `mc = 144` gives 144·256·4 B = 144 KiB (f32), `mc = 72` gives 144 KiB (f64), well
//!   within a 512 KiB L2 alongside the B̂ micro-panels passing through it.
//! - `nc`: each `kc × nc` block of B̂ is re-read once per A block, from L3: `nc = 4080` (a
//!   multiple of 16 and 8) makes it 4 MiB (f32) or 8 MiB (f64), within a 32 MiB L3. (The
//!   driver packs all `k` rows of B̂ at once, and narrows `nc` to keep that under 8 MiB.)
//!
//! Measured on one Zen 3 core, these sizes give ≈ 88–93 GFLOP/s (f32) and ≈ 46 (f64),
//! level with OpenBLAS on the same core; `kc` from 128 to 512 and `mc` from 48 to 288
//! change that by a few percent at most.
//!
//! # Unsafe
//! The kernels read and write through raw pointers, as [`KernelFn`] requires: the driver
//! checks the panel lengths and the C tile bounds before each call.

#![deny(unsafe_op_in_unsafe_fn)]

use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};

use super::kernel::{KernelFn, MicroKernel};
use super::simd_avx2::{F32x8, F64x4, Vector};
use crate::element::{DType, Element};

/// Rows of the tile; its columns are two registers, `NR = 2·LANES`.
const MR: usize = 6;

/// The AVX2 kernel for `T`. Only call when the CPU has AVX2 and FMA.
pub(crate) fn kernel<T: Element>() -> MicroKernel<T> {
    let (nr, mc, run): (usize, usize, KernelFn<T>) = match T::DTYPE {
        DType::F32 => (2 * F32x8::LANES, 144, packed_as::<T, F32x8>),
        DType::F64 => (2 * F64x4::LANES, 72, packed_as::<T, F64x4>),
    };
    MicroKernel {
        mr: MR,
        nr,
        kc: 256,
        mc,
        nc: 4080,
        run,
    }
}

/// [`packed`] as a [`KernelFn<T>`]; [`kernel`] hands it out only when `T` is `V::Elem`.
///
/// # Safety
/// As for [`KernelFn`]; `T` must be `V::Elem` and the CPU must have AVX2 and FMA.
unsafe fn packed_as<T, V: Vector>(
    kc: usize,
    a: *const T,
    b: *const T,
    c: *mut T,
    rs_c: usize,
    accumulate: bool,
) {
    // SAFETY: `T` is `V::Elem` (checked by `kernel` through `T::DTYPE`), so the pointer
    // casts change nothing; the rest is the caller's guarantee.
    unsafe { packed::<V>(kc, a.cast(), b.cast(), c.cast(), rs_c, accumulate) }
}

/// `C[6 × 2·LANES] (+)= Â[6 × kc] · B̂[kc × 2·LANES]`: 6 × 16 for f32, 6 × 8 for f64.
///
/// # Safety
/// As for [`KernelFn`] with `MR = 6`, `NR = 2·LANES`; the CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn packed<V: Vector>(
    kc: usize,
    a: *const V::Elem,
    b: *const V::Elem,
    c: *mut V::Elem,
    rs_c: usize,
    accumulate: bool,
) {
    let (lanes, nr) = (V::LANES, 2 * V::LANES);
    for i in 0..MR {
        // SAFETY: prefetching is only a hint; the addresses are inside the C tile.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(c.add(i * rs_c).cast());
            _mm_prefetch::<_MM_HINT_T0>(c.add(i * rs_c + nr - 1).cast());
        }
    }
    // SAFETY (whole block): `p < kc` and `i < MR`, so every read is inside the panels
    // `a[.. kc·MR]` and `b[.. kc·NR]`, and every write inside the C tile, as the caller
    // vouched; the CPU has AVX2 and FMA.
    unsafe {
        let mut tile = [[V::zero(); 2]; MR];
        for p in 0..kc {
            let b_row = b.add(p * nr);
            let (b0, b1) = (V::load(b_row), V::load(b_row.add(lanes)));
            let a_col = a.add(p * MR);
            for (i, row) in tile.iter_mut().enumerate() {
                let a_ip = V::splat(a_col.add(i));
                row[0] = a_ip.mul_add(b0, row[0]);
                row[1] = a_ip.mul_add(b1, row[1]);
            }
        }
        for (i, row) in tile.iter().enumerate() {
            for (half, &sum) in row.iter().enumerate() {
                let dst = c.add(i * rs_c + half * lanes);
                let value = if accumulate {
                    V::load(dst).add(sum)
                } else {
                    sum
                };
                value.store(dst);
            }
        }
    }
}
