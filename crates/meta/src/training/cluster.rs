//! Sharing a meta-batch (or an evaluation) among processes: the seam between the trainer and a
//! transport such as MPI.
//!
//! A meta-step is a sum over fixed-size chunks of the meta-batch
//! ([`crate::training::trainer`]):
//!
//! ```text
//!     G = (1/B) · (g_0 + g_1 + … + g_{C−1})      g_c = Σ_{tasks t of chunk c} ∇ L_t
//! ```
//!
//! added along one fixed binary tree over the chunk indices ([`crate::training::tree_sum`]).
//! Floating-point addition is not associative, so the sum is bit for bit the same as a single
//! process's only if every process adds the same g_c in the same order. Each of the `P`
//! processes therefore computes the chunks of a contiguous range ([`share`]), adds the
//! subtrees that lie within it, and all processes exchange those partial sums
//! ([`Cluster::all_gather`]); each then completes the tree as one process would. With `P` a
//! power of two dividing `C` that is one partial sum per process. Nothing is averaged on the
//! wire, and every process ends the step with the same θ, the same learned tensors and the
//! same optimiser state.
//!
//! `meta` knows nothing of MPI: a transport implements [`Cluster`] (the `distributed` crate
//! does, over MPI), and [`SingleProcess`] is the trivial cluster of one.

use std::ops::Range;
use std::time::Duration;

use crate::training::wire::Wire;

/// The processes that share the work, as seen from one of them.
///
/// Every method that exchanges data is *collective*: every process of the cluster calls it,
/// in the same order, or the program waits forever. A failed exchange ends the whole job:
/// there is no partial result a process could continue from.
pub trait Cluster: Send + Sync {
    /// This process's number, `0..size()`. Process 0 writes files and prints.
    fn rank(&self) -> usize;

    /// How many processes there are.
    fn size(&self) -> usize;

    /// Every process passes its own bytes; every process gets back all of them, indexed by
    /// rank.
    fn all_gather(&self, mine: &[u8]) -> Vec<Vec<u8>>;

    /// Time spent so far inside [`Cluster::all_gather`] (the transfer, and waiting for the
    /// slowest process to arrive).
    fn exchange_time(&self) -> Duration {
        Duration::ZERO
    }

    /// Bytes this process has sent so far through [`Cluster::all_gather`].
    fn bytes_sent(&self) -> u64 {
        0
    }
}

/// A cluster of one: the exchange hands a process its own bytes back.
#[derive(Clone, Copy, Debug, Default)]
pub struct SingleProcess;

impl Cluster for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn all_gather(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        vec![mine.to_vec()]
    }
}

/// The contiguous part of `0..count` that process `rank` of `size` takes:
/// `⌊count·rank/size⌋ .. ⌊count·(rank+1)/size⌋`. The parts cover `0..count` in rank order and
/// differ in length by at most one.
pub fn share(count: usize, rank: usize, size: usize) -> Range<usize> {
    assert!(rank < size, "share: rank {rank} of a cluster of {size}");
    count * rank / size..count * (rank + 1) / size
}

/// Runs `work` on this process's [`share`] of `items` and returns the results of all items, in
/// item order, on every process. `work` must return one result per item it is given.
/// Collective (see [`Cluster`]).
pub fn map_shared<T, R: Wire>(
    cluster: &dyn Cluster,
    items: &[T],
    work: impl FnOnce(&[T]) -> Vec<R>,
) -> Vec<R> {
    if cluster.size() == 1 {
        return work(items);
    }
    let part = share(items.len(), cluster.rank(), cluster.size());
    let expected = part.len();
    let results = work(&items[part]);
    assert_eq!(
        results.len(),
        expected,
        "map_shared: {} results for {expected} items",
        results.len()
    );
    all_gather_lists(cluster, &results)
}

/// Every process's `mine`, concatenated in rank order, on every process. Collective.
pub fn all_gather_lists<R: Wire>(cluster: &dyn Cluster, mine: &[R]) -> Vec<R> {
    let mut bytes = Vec::new();
    (mine.len() as u64).write(&mut bytes);
    for item in mine {
        item.write(&mut bytes);
    }
    let mut all = Vec::new();
    for (rank, received) in cluster.all_gather(&bytes).iter().enumerate() {
        let mut input = received.as_slice();
        let count = u64::read(&mut input) as usize;
        all.extend((0..count).map(|_| R::read(&mut input)));
        assert!(
            input.is_empty(),
            "all_gather_lists: {} bytes left over from rank {rank}",
            input.len()
        );
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_range_in_order_and_are_balanced() {
        for count in [0, 1, 5, 32, 33] {
            for size in 1..6 {
                let parts: Vec<_> = (0..size).map(|rank| share(count, rank, size)).collect();
                assert_eq!(parts[0].start, 0);
                assert_eq!(parts[size - 1].end, count);
                for pair in parts.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "{count} over {size}: {parts:?}");
                }
                let lengths: Vec<_> = parts.iter().map(|p| p.len()).collect();
                let (min, max) = (lengths.iter().min(), lengths.iter().max());
                assert!(
                    max.unwrap() - min.unwrap() <= 1,
                    "{count} over {size}: {lengths:?}"
                );
            }
        }
    }

    #[test]
    fn a_single_process_maps_everything_itself() {
        let doubled = map_shared(&SingleProcess, &[1.0, 2.5], |part: &[f64]| {
            part.iter().map(|x| 2.0 * x).collect()
        });
        assert_eq!(doubled, vec![2.0, 5.0]);
    }
}
