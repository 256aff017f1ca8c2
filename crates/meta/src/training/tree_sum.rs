//! The order in which a meta-batch's chunk results are added: one fixed binary tree over the
//! chunk indices, whoever computes what.
//!
//! Floating-point addition is not associative, so "the sum of the chunks" is only defined
//! once its order is. A left fold, ((c₀ + c₁) + c₂) + …, pins the order but forces whoever
//! adds to hold every chunk: processes sharing a meta-batch would each have to receive all
//! the others' chunk gradients. A tree lets each process add the subtrees that lie within
//! its own chunks and exchange only those partial sums, and the root is the same bits as a
//! single process adding everything along the same tree.
//!
//! The tree over chunks `[lo, hi)`, for `hi − lo ≥ 2`, splits at `lo + h`, with `h` the
//! largest power of two below `hi − lo`:
//!
//! ```text
//!   [0, 5)  =  [0, 4) + [4, 5)        [0, 4) = [0, 2) + [2, 4)        [0, 3) = [0, 2) + [2, 3)
//! ```
//!
//! With two or three chunks this is the left fold. A process that owns chunks `[a, b)`
//! sends the maximal nodes inside `[a, b)`: at most about 2·log₂(b − a) of them, one when the
//! range is a whole subtree (two processes sharing 32 chunks send one partial sum each).

use std::collections::HashMap;
use std::ops::Range;

/// A value with the tree's addition: `left.add(right)`, left the lower chunk indices.
pub trait TreeAdd {
    fn add(self, right: Self) -> Self;
}

/// Where node `[lo, hi)` (`hi − lo ≥ 2`) splits.
fn split(lo: usize, hi: usize) -> usize {
    lo + (hi - lo).next_power_of_two() / 2
}

/// The maximal nodes of the tree over `total` chunks that lie inside `own`, each with the
/// tree sum of its chunks, in chunk order. `values` are the chunks of `own`, in order.
pub fn partial_sums<T: TreeAdd>(
    total: usize,
    own: Range<usize>,
    values: Vec<T>,
) -> Vec<(Range<usize>, T)> {
    assert!(
        own.end <= total && own.len() == values.len(),
        "partial_sums: chunks {own:?} of {total} with {} values",
        values.len()
    );
    let mut slots: Vec<Option<T>> = values.into_iter().map(Some).collect();
    let mut nodes = Vec::new();
    if !own.is_empty() {
        collect(0, total, &own, &mut slots, &mut nodes);
    }
    nodes
}

/// Appends to `nodes` the maximal nodes of the subtree `[lo, hi)` inside `own`.
fn collect<T: TreeAdd>(
    lo: usize,
    hi: usize,
    own: &Range<usize>,
    slots: &mut [Option<T>],
    nodes: &mut Vec<(Range<usize>, T)>,
) {
    if hi <= own.start || lo >= own.end {
        return;
    }
    if own.start <= lo && hi <= own.end {
        nodes.push((lo..hi, fold(lo, hi, own.start, slots)));
        return;
    }
    let mid = split(lo, hi);
    collect(lo, mid, own, slots, nodes);
    collect(mid, hi, own, slots, nodes);
}

/// The tree sum of chunks `[lo, hi)`, all present in `slots` (indexed from `offset`).
fn fold<T: TreeAdd>(lo: usize, hi: usize, offset: usize, slots: &mut [Option<T>]) -> T {
    if hi - lo == 1 {
        return slots[lo - offset].take().expect("each chunk is added once");
    }
    let mid = split(lo, hi);
    let left = fold(lo, mid, offset, slots);
    left.add(fold(mid, hi, offset, slots))
}

/// The root of the tree over `total` chunks from the partial sums of every process (the
/// nodes [`partial_sums`] gave for a partition of `[0, total)` into ranges).
pub fn assemble<T: TreeAdd>(total: usize, nodes: Vec<(Range<usize>, T)>) -> T {
    assert!(total > 0, "assemble: no chunks");
    let mut nodes: HashMap<(usize, usize), T> = nodes
        .into_iter()
        .map(|(range, value)| ((range.start, range.end), value))
        .collect();
    let root = combine(0, total, &mut nodes);
    assert!(
        nodes.is_empty(),
        "assemble: partial sums {:?} are not nodes of the tree over {total} chunks",
        nodes.keys().collect::<Vec<_>>()
    );
    root
}

fn combine<T: TreeAdd>(lo: usize, hi: usize, nodes: &mut HashMap<(usize, usize), T>) -> T {
    if let Some(value) = nodes.remove(&(lo, hi)) {
        return value;
    }
    assert!(hi - lo >= 2, "assemble: nothing covers chunk {lo}");
    let mid = split(lo, hi);
    let left = combine(lo, mid, nodes);
    left.add(combine(mid, hi, nodes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::cluster::share;

    /// A sum whose bits depend on the order of its additions, and which records that order.
    #[derive(Clone, Debug, PartialEq)]
    struct Sum {
        value: f32,
        shape: String,
    }

    impl TreeAdd for Sum {
        fn add(self, right: Sum) -> Sum {
            Sum {
                value: self.value + right.value,
                shape: format!("({} {})", self.shape, right.shape),
            }
        }
    }

    fn chunks(range: Range<usize>) -> Vec<Sum> {
        range
            .map(|i| Sum {
                // Magnitudes 1e-3 … 1e5: adding them in another order changes the bits.
                value: 10f32.powi((i % 9) as i32 - 3) * if i % 2 == 0 { 1.0 } else { -0.7 },
                shape: i.to_string(),
            })
            .collect()
    }

    #[test]
    fn any_partition_among_processes_gives_the_single_process_sum_bit_for_bit() {
        for total in 1..=40 {
            let alone = assemble(total, partial_sums(total, 0..total, chunks(0..total)));
            for size in 1..=6 {
                let nodes: Vec<_> = (0..size)
                    .flat_map(|rank| {
                        let own = share(total, rank, size);
                        partial_sums(total, own.clone(), chunks(own))
                    })
                    .collect();
                let shared = assemble(total, nodes);
                assert_eq!(
                    shared.shape, alone.shape,
                    "{total} chunks, {size} processes"
                );
                assert_eq!(shared.value.to_bits(), alone.value.to_bits());
            }
        }
    }

    #[test]
    fn the_tree_splits_at_powers_of_two_and_is_the_left_fold_up_to_three_chunks() {
        let shape = |total| assemble(total, partial_sums(total, 0..total, chunks(0..total))).shape;
        assert_eq!(shape(1), "0");
        assert_eq!(shape(2), "(0 1)");
        assert_eq!(shape(3), "((0 1) 2)");
        assert_eq!(shape(4), "((0 1) (2 3))");
        assert_eq!(shape(5), "(((0 1) (2 3)) 4)");
        assert_eq!(shape(6), "(((0 1) (2 3)) (4 5))");
    }

    #[test]
    fn a_process_sends_few_partial_sums() {
        // Two processes sharing 32 chunks: one whole subtree each.
        assert_eq!(partial_sums(32, 0..16, chunks(0..16)).len(), 1);
        assert_eq!(partial_sums(32, 16..32, chunks(16..32)).len(), 1);
        // An unaligned range: the maximal nodes inside it, in chunk order.
        let nodes = partial_sums(32, 3..13, chunks(3..13));
        let ranges: Vec<_> = nodes.iter().map(|(r, _)| r.clone()).collect();
        assert_eq!(ranges, vec![3..4, 4..8, 8..12, 12..13]);
    }
}
