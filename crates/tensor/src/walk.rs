//! Walking several strided operands over one shape, in row-major order.
//!
//! Every element-wise kernel and many reductions need the same thing: for each index of an
//! output shape, the storage offset of that index in each operand. Computing the offset per
//! element from scratch costs a multiply per axis; an odometer does better. [`Walk`] goes
//! further and hands the kernel whole *runs* along the innermost axis, so the kernel's inner
//! loop is a plain `for i in 0..len` with a fixed stride per operand, which the compiler
//! vectorises when the stride is 1.
//!
//! Before walking, axes are *collapsed*: two neighbouring axes merge when, for every operand,
//! stepping the outer one equals stepping the inner one `size` times. A contiguous tensor
//! collapses to a single run, however many axes it has.

use std::mem::MaybeUninit;

use rayon::prelude::*;
use smallvec::SmallVec;

use crate::element::Element;
use crate::unary::PARALLEL_MIN_ELEMENTS;

/// The walk of `N` operands over a shape. Build it with [`Walk::new`], then call
/// [`Walk::for_each_run`].
pub struct Walk<const N: usize> {
    shape: SmallVec<[usize; 4]>,
    strides: [SmallVec<[usize; 4]>; N],
}

impl<const N: usize> Walk<N> {
    /// Prepares to walk `shape`, where operand `j` has `strides[j]` (all of length
    /// `shape.len()`). Axes of size 1 are dropped and mergeable axes collapsed.
    pub fn new(shape: &[usize], strides: [&[usize]; N]) -> Self {
        let mut out_shape: SmallVec<[usize; 4]> = SmallVec::new();
        let mut out_strides: [SmallVec<[usize; 4]>; N] = std::array::from_fn(|_| SmallVec::new());
        for (k, &size) in shape.iter().enumerate() {
            if size == 1 {
                continue;
            }
            let mergeable = match out_shape.last() {
                Some(_) => (0..N).all(|j| *out_strides[j].last().unwrap() == strides[j][k] * size),
                None => false,
            };
            if mergeable {
                *out_shape.last_mut().unwrap() *= size;
                for j in 0..N {
                    *out_strides[j].last_mut().unwrap() = strides[j][k];
                }
            } else {
                out_shape.push(size);
                for j in 0..N {
                    out_strides[j].push(strides[j][k]);
                }
            }
        }
        Walk {
            shape: out_shape,
            strides: out_strides,
        }
    }

    /// Length of each innermost run (1 for a scalar walk, 0 if the shape is empty).
    pub fn run_len(&self) -> usize {
        self.shape.last().copied().unwrap_or(1)
    }

    /// Stride of operand `j` along the innermost run.
    pub fn run_stride(&self, j: usize) -> usize {
        self.strides[j].last().copied().unwrap_or(0)
    }

    /// Strides of all operands along the innermost run.
    pub fn run_strides(&self) -> [usize; N] {
        std::array::from_fn(|j| self.run_stride(j))
    }

    /// How many runs the walk has (0 if the shape is empty, 1 for a scalar walk).
    pub fn runs(&self) -> usize {
        let outer = self.shape.len().saturating_sub(1);
        if self.shape.contains(&0) {
            0
        } else {
            self.shape[..outer].iter().product()
        }
    }

    /// Calls `f(offsets)` once per innermost run, with each operand's storage offset at the
    /// start of the run (starting from `start`). Runs come in row-major order.
    pub fn for_each_run(&self, start: [usize; N], f: impl FnMut([usize; N])) {
        self.for_each_run_in(start, 0..self.runs(), f);
    }

    /// [`Walk::for_each_run`] for the runs numbered `runs` only (in row-major numbering), so
    /// that separate threads can walk separate blocks of one shape.
    pub fn for_each_run_in(
        &self,
        start: [usize; N],
        runs: std::ops::Range<usize>,
        mut f: impl FnMut([usize; N]),
    ) {
        if runs.is_empty() {
            return;
        }
        if self.shape.len() == 2 {
            // One outer axis (the rows of a matrix, or column blocks cut out of one, as an
            // LSTM's gates are): a fixed step per run, without the odometer's bookkeeping,
            // which cost as much as a short run's work.
            let steps: [usize; N] = std::array::from_fn(|j| self.strides[j][0]);
            let mut offsets: [usize; N] = std::array::from_fn(|j| start[j] + runs.start * steps[j]);
            for _ in runs {
                f(offsets);
                for (offset, step) in offsets.iter_mut().zip(steps) {
                    *offset += step;
                }
            }
            return;
        }
        let outer = self.shape.len().saturating_sub(1);
        // The odometer at run `runs.start`: its digits in the mixed radix of the outer axes.
        let mut index: SmallVec<[usize; 4]> = smallvec::smallvec![0; outer];
        let mut offsets = start;
        let mut rest = runs.start;
        for axis in (0..outer).rev() {
            index[axis] = rest % self.shape[axis];
            rest /= self.shape[axis];
            for (j, offset) in offsets.iter_mut().enumerate() {
                *offset += index[axis] * self.strides[j][axis];
            }
        }
        for _ in runs {
            f(offsets);
            // Advance the odometer over the outer axes, innermost first.
            let mut axis = outer;
            loop {
                if axis == 0 {
                    break;
                }
                axis -= 1;
                index[axis] += 1;
                for (j, offset) in offsets.iter_mut().enumerate() {
                    *offset += self.strides[j][axis];
                }
                if index[axis] < self.shape[axis] {
                    break;
                }
                for (j, offset) in offsets.iter_mut().enumerate() {
                    *offset -= self.strides[j][axis] * self.shape[axis];
                }
                index[axis] = 0;
            }
        }
    }
}

/// Elements per block when [`collect_runs`] splits an output across threads: large enough
/// that a block is tens of microseconds of work, small enough that two threads share the
/// blocks of a mid-sized tensor evenly.
const BLOCK_ELEMENTS: usize = 1 << 14;

/// The `numel` values of an element-wise kernel over `walk`'s shape, computed piece by piece:
/// `piece(offsets, dst)` fills `dst` (a piece of one run, each slot to be written once, e.g.
/// with [`crate::buffer::write_run`]) from the operands at `offsets`, stepping each operand by
/// its [`Walk::run_strides`] entry per slot. A large output is cut into blocks of whole runs,
/// or long runs into pieces, filled on rayon's threads; an element's value does not depend on
/// the cut, so the result is the same on any number of threads.
pub(crate) fn collect_runs<T: Element, const N: usize>(
    walk: &Walk<N>,
    start: [usize; N],
    numel: usize,
    piece: impl Fn([usize; N], &mut [MaybeUninit<T>]) + Sync,
) -> Vec<T> {
    let mut out = crate::buffer::with_capacity::<T>(numel);
    let (len, runs, strides) = (walk.run_len(), walk.runs(), walk.run_strides());
    assert_eq!(len * runs, numel, "walk of {numel} elements");
    if numel == 0 {
        return out;
    }
    let spare = &mut out.spare_capacity_mut()[..numel];
    // Whole runs `first..`, one per `len` slots of `block`.
    let fill = |first: usize, block: &mut [MaybeUninit<T>]| {
        let count = block.len() / len;
        let mut slots = block.chunks_exact_mut(len);
        walk.for_each_run_in(start, first..first + count, |offsets| {
            piece(offsets, slots.next().expect("one block slot per run"));
        });
    };
    if !crate::parallel::split(numel >= PARALLEL_MIN_ELEMENTS) {
        fill(0, spare);
    } else if len < BLOCK_ELEMENTS {
        let block_runs = BLOCK_ELEMENTS.div_ceil(len);
        spare
            .par_chunks_mut(block_runs * len)
            .enumerate()
            .for_each(|(b, block)| fill(b * block_runs, block));
    } else {
        // Long runs (a contiguous tensor is one run): each run cut into pieces.
        spare.par_chunks_mut(len).enumerate().for_each(|(r, run)| {
            let mut at = start;
            walk.for_each_run_in(start, r..r + 1, |offsets| at = offsets);
            run.par_chunks_mut(BLOCK_ELEMENTS)
                .enumerate()
                .for_each(|(p, dst)| {
                    let skip = p * BLOCK_ELEMENTS;
                    piece(std::array::from_fn(|j| at[j] + skip * strides[j]), dst);
                });
        });
    }
    // SAFETY: the pieces cover the first `numel` slots exactly once, and `piece` writes every
    // slot it is handed (`write_run` asserts it).
    unsafe { out.set_len(numel) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(shape: &[usize], strides: &[usize]) -> Vec<usize> {
        let walk = Walk::new(shape, [strides]);
        let mut out = vec![];
        let (len, step) = (walk.run_len(), walk.run_stride(0));
        walk.for_each_run([0], |[o]| out.extend((0..len).map(|i| o + i * step)));
        out
    }

    #[test]
    fn contiguous_collapses_to_one_run() {
        let walk = Walk::new(&[2, 3, 4], [&[12, 4, 1]]);
        assert_eq!(walk.run_len(), 24);
        assert_eq!(
            offsets(&[2, 3, 4], &[12, 4, 1]),
            (0..24).collect::<Vec<_>>()
        );
    }

    #[test]
    fn transposed_walks_column_major() {
        // A 2×3 row-major matrix seen transposed (3×2): strides [1, 3].
        assert_eq!(offsets(&[3, 2], &[1, 3]), vec![0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn broadcast_axis_repeats() {
        assert_eq!(offsets(&[2, 3], &[0, 1]), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(offsets(&[2, 3], &[1, 0]), vec![0, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn empty_and_scalar() {
        assert_eq!(offsets(&[2, 0, 3], &[0, 3, 1]), Vec::<usize>::new());
        assert_eq!(offsets(&[], &[]), vec![0]);
    }

    /// Any block of runs, walked by the two-axis shortcut and by the odometer (three axes),
    /// starts each run at the offset the strides give, for every operand.
    #[test]
    fn a_block_of_runs_starts_where_the_strides_say() {
        // Column block 20..40 of a [7, 80] matrix, against a contiguous [7, 20] one; and the
        // same with a leading axis of 3 (7 runs per outer index) that does not collapse.
        let two = Walk::new(&[7, 20], [&[80, 1], &[20, 1]]);
        let three = Walk::new(&[3, 7, 20], [&[1000, 80, 1], &[140, 20, 1]]);
        for (walk, expected) in [
            (
                &two,
                (0..7).map(|r| [20 + 80 * r, 20 * r]).collect::<Vec<_>>(),
            ),
            (
                &three,
                (0..21)
                    .map(|r| {
                        [
                            20 + 1000 * (r / 7) + 80 * (r % 7),
                            140 * (r / 7) + 20 * (r % 7),
                        ]
                    })
                    .collect(),
            ),
        ] {
            for (first, last) in [(0, walk.runs()), (2, 5), (3, walk.runs())] {
                let mut seen = vec![];
                walk.for_each_run_in([20, 0], first..last, |offsets| seen.push(offsets));
                assert_eq!(seen, expected[first..last]);
            }
        }
    }
}
