//! The blocked GEMM driver: the BLIS loop nest around the micro-kernel.
//!
//! ```text
//! for jc in 0..n step NC                        B columns
//!   pack B[.., jc..] (k × NC) → B̂                 as KC-row blocks of NR-column panels
//!   for each band of rows of C                  ← split among threads
//!     for pc in 0..k step KC                    the sum over k, in order
//!       for ic in band step MC
//!         pack A[ic.., pc..] (MC × KC) → Â        in MR-row panels        (Â lives in L2)
//!         for jr in 0..NC step NR               a B̂ micro-panel, KC × NR (lives in L1)
//!           for ir in 0..MC step MR             an Â micro-panel, MR × KC (from L2)
//!             C[ic+ir.., jc+jr..] (+)= Â panel · B̂ panel    (micro-kernel: MR × NR sums
//!                                                           in registers for KC steps)
//! ```
//!
//! Each loop keeps one operand in one cache level while it is reused: the micro-kernel's
//! tile in registers across `KC` steps, a B̂ micro-panel in L1 across the `MC / MR` A
//! panels, the Â block in L2 across all `NC / NR` B panels, and a `KC × NC` block of B̂
//! in L3 while the threads' bands pass over it. The sizes come with the kernel
//! ([`MicroKernel`]); see [`super::kernel_avx2`] for how they follow from the cache sizes.
//!
//! # Threads
//! The rows of C are cut into bands, several per thread, which rayon hands out (and
//! re-balances when a thread falls behind). Each band packs its own Â blocks and reads the
//! shared, read-only B̂. The loop over `pc` — the sum over `k` — runs inside a band, in
//! order, so every entry of C is summed the same way whatever the thread count (see the
//! note in [`super::kernel`]): the results are bit-identical.
//!
//! B̂ covers all of `k` (not one `KC` block at a time, as in BLIS) so that the threads meet
//! only twice per `NC` columns — after packing B̂ and at the end — instead of twice per
//! `KC` block: on a shared machine, each meeting can cost a wait for a descheduled thread.

use std::ops::Range;

use rayon::prelude::*;

use super::gemm::{MatMut, MatRef};
use super::kernel::{MicroKernel, MAX_TILE};
use super::pack::{pack, PackBuffer};
use crate::element::Element;

/// `c (+)= a·b` by the blocked loop nest with `kernel`, on rayon threads when `parallel`.
/// All of `m`, `n`, `k` must be at least 1, and `c.row_stride ≥ n`.
pub(crate) fn blocked<T: Element>(
    a: MatRef<T>,
    b: MatRef<T>,
    c: MatMut<T>,
    accumulate: bool,
    kernel: &MicroKernel<T>,
    parallel: bool,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let MicroKernel { mr, nr, .. } = *kernel;
    let (kc_max, mc_max) = (kernel.kc.min(k), kernel.mc);
    // All `k` rows of a B block are packed at once, within a budget of memory.
    let budget = B_PACKED_MAX_BYTES / std::mem::size_of::<T>() / k;
    let nc_max = kernel.nc.min(budget / nr * nr).max(nr).min(n);
    let rs_c = c.row_stride;

    // Cut C into bands of rows, one per task; each band is a disjoint slice of `c.data`.
    let bands = row_bands(m, mr, mc_max, parallel);
    let mut rest = &mut c.data[..(m - 1) * rs_c + n];
    let mut band_slices = Vec::with_capacity(bands.len());
    for band in &bands {
        let len = if band.end < m {
            band.len() * rs_c
        } else {
            rest.len()
        };
        let (head, tail) = rest.split_at_mut(len);
        band_slices.push(head);
        rest = tail;
    }
    // Each task packs its Â blocks into a buffer of its own (one per rayon job).
    let longest_band = bands.iter().map(|band| band.len()).max().unwrap_or(0);
    let a_len = kc_max * longest_band.min(mc_max).next_multiple_of(mr);
    let mut b_buffer = PackBuffer::new(k * nc_max.next_multiple_of(nr));

    for jc in (0..n).step_by(nc_max) {
        let nc = nc_max.min(n - jc);
        // B[.., jc..] as one B̂ block per `pc`: block `pc` (`kc × nc`, in NR-column panels)
        // starts at `pc · nc_padded`.
        let nc_padded = nc.next_multiple_of(nr);
        let b_packed = &mut b_buffer.as_mut_slice()[..k * nc_padded];
        pack_b(b, jc, nc, kc_max, nr, b_packed, parallel);
        let b_packed = &*b_packed;

        let run_band = |a_buffer: &mut PackBuffer<T>,
                        (band, c_band): (&Range<usize>, &mut &mut [T])| {
            for pc in (0..k).step_by(kc_max) {
                let kc = kc_max.min(k - pc);
                let b_block = &b_packed[pc * nc_padded..(pc + kc) * nc_padded];
                // The first `pc` block stores into C (unless accumulating); later ones add.
                let add = accumulate || pc > 0;
                for ic in band.clone().step_by(mc_max) {
                    let mc = mc_max.min(band.end - ic);
                    let a_packed = a_buffer.as_mut_slice();
                    pack(a.submatrix(ic, pc, mc, kc), mr, a_packed, false);
                    let c_block = &mut c_band[(ic - band.start) * rs_c + jc..];
                    macro_kernel(kernel, kc, a_packed, b_block, c_block, rs_c, mc, nc, add);
                }
            }
        };
        if parallel {
            let tasks = bands.par_iter().zip(band_slices.par_iter_mut());
            tasks.for_each_init(|| PackBuffer::new(a_len), run_band);
        } else {
            let mut a_buffer = PackBuffer::new(a_len);
            let tasks = bands.iter().zip(band_slices.iter_mut());
            tasks.for_each(|task| run_band(&mut a_buffer, task));
        }
    }
}

/// At most this much packed B (`k × NC`) at a time: `NC` shrinks for a very deep `k`.
const B_PACKED_MAX_BYTES: usize = 8 << 20;

/// Packs the columns `jc .. jc + nc` of B, all `k` rows, as consecutive B̂ blocks of
/// `kc_max` rows (the last may be shorter), each in NR-column panels.
fn pack_b<T: Element>(
    b: MatRef<T>,
    jc: usize,
    nc: usize,
    kc_max: usize,
    nr: usize,
    dst: &mut [T],
    parallel: bool,
) {
    let block_len = kc_max * nc.next_multiple_of(nr);
    // B[pc.., jc..] in NR-column panels = Bᵀ's rows in NR-row panels.
    let pack_block = |(index, block): (usize, &mut [T])| {
        let pc = index * kc_max;
        let kc = kc_max.min(b.rows - pc);
        pack(b.submatrix(pc, jc, kc, nc).t(), nr, block, parallel);
    };
    if parallel {
        dst.par_chunks_mut(block_len)
            .enumerate()
            .for_each(pack_block);
    } else {
        dst.chunks_mut(block_len).enumerate().for_each(pack_block);
    }
}

/// Splits the rows `0..m` into bands for the tasks: one band when not parallel; otherwise
/// [`BANDS_PER_THREAD`] per thread (more if a band would exceed `mc` rows, fewer if there
/// are fewer panels). Bands start on multiples of `mr` and hold equal numbers of `mr`-row
/// panels (±1), since a partial panel costs the kernel as much as a full one.
fn row_bands(m: usize, mr: usize, mc: usize, parallel: bool) -> Vec<Range<usize>> {
    if !parallel {
        return std::iter::once(0..m).collect();
    }
    let panels = m.div_ceil(mr);
    let count = (BANDS_PER_THREAD * rayon::current_num_threads())
        .max(panels.div_ceil(mc / mr))
        .min(panels);
    (0..count)
        .map(|t| (t * panels / count * mr).min(m)..((t + 1) * panels / count * mr).min(m))
        .collect()
}

/// Bands of C per thread. More than one, so that rayon can even out the threads' shares
/// when one runs slower (on a shared machine, another process may hold its core); the
/// cost of a smaller band is only that each B̂ micro-panel, loaded into L1, serves fewer
/// A panels.
const BANDS_PER_THREAD: usize = 4;

/// The two inner loops: `C[..mc, ..nc] (+)= Â · B̂` for one packed A block (`mc × kc`) and
/// one packed B block (`kc × nc`), tile by tile. `c` starts at the block's top-left entry.
#[allow(clippy::too_many_arguments)]
fn macro_kernel<T: Element>(
    kernel: &MicroKernel<T>,
    kc: usize,
    a_packed: &[T],
    b_packed: &[T],
    c: &mut [T],
    rs_c: usize,
    mc: usize,
    nc: usize,
    accumulate: bool,
) {
    let (mr, nr) = (kernel.mr, kernel.nr);
    let a_panels = a_packed.chunks_exact(mr * kc).take(mc.div_ceil(mr));
    let b_panels = b_packed.chunks_exact(nr * kc).take(nc.div_ceil(nr));
    // Edge tiles (fewer than MR rows or NR columns of C) go through this scratch tile.
    let mut edge = [T::ZERO; MAX_TILE];
    for (jr, b_panel) in b_panels.enumerate() {
        let (j, cols) = (jr * nr, nr.min(nc - jr * nr));
        for (ir, a_panel) in a_panels.clone().enumerate() {
            let (i, rows) = (ir * mr, mr.min(mc - ir * mr));
            let tile = &mut c[i * rs_c + j..];
            if rows == mr && cols == nr {
                assert!((mr - 1) * rs_c + nr <= tile.len() && rs_c >= nr);
                // SAFETY: the panels hold `mr·kc` and `nr·kc` elements (`chunks_exact`); the
                // C tile's rows `i·rs_c .. i·rs_c + nr`, `i < mr`, lie in `tile` (asserted)
                // and do not overlap (`rs_c ≥ nr`); the kernel suits this CPU (`select`).
                unsafe {
                    (kernel.run)(
                        kc,
                        a_panel.as_ptr(),
                        b_panel.as_ptr(),
                        tile.as_mut_ptr(),
                        rs_c,
                        accumulate,
                    );
                }
            } else {
                assert!(mr * nr <= MAX_TILE);
                // SAFETY: as above for the panels; the scratch tile holds `mr·nr` elements
                // (asserted) with row stride `nr`.
                unsafe {
                    (kernel.run)(
                        kc,
                        a_panel.as_ptr(),
                        b_panel.as_ptr(),
                        edge.as_mut_ptr(),
                        nr,
                        false,
                    );
                }
                // NOTE: `c + sum` here rounds exactly like the kernel's own update, so an
                // entry comes out the same whether it fell in an edge tile or a full one.
                for (r, sums) in edge.chunks_exact(nr).take(rows).enumerate() {
                    let c_row = &mut tile[r * rs_c..r * rs_c + cols];
                    for (c_ij, &sum) in c_row.iter_mut().zip(sums) {
                        *c_ij = if accumulate { *c_ij + sum } else { sum };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use super::*;

    const SHAPES: [(usize, usize, usize); 5] = [
        (1, 1, 1),
        (7, 300, 9),
        (13, 257, 33),
        (50, 600, 70),
        (130, 40, 5),
    ];

    fn portable_matches_naive<T: Element>() {
        let kernel = MicroKernel::<T>::portable();
        for shape in SHAPES {
            for (b_transposed, parallel) in [(false, false), (true, true)] {
                check::<T>(shape, b_transposed, |a, b, c| {
                    blocked(a, b, c, false, &kernel, parallel)
                });
            }
        }
    }

    /// The blocked driver with the portable kernel, which `select` passes over on a CPU
    /// with AVX2 (so the integration tests may never run it).
    #[test]
    fn portable_kernel_matches_naive() {
        portable_matches_naive::<f32>();
        portable_matches_naive::<f64>();
    }
}
