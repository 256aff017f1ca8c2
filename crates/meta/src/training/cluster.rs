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

use crate::training::tree_sum::{assemble, TreeAdd};
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

    /// Returns once every process has called it: an exchange of nothing. Collective.
    fn barrier(&self) {
        self.all_gather(&[]);
    }

    /// Processes pair up: this one sends `mine` to `partner` and gets `partner`'s bytes
    /// back. Collective: every process calls it at the same time, each with a partner that
    /// names it in return. The default goes through [`Cluster::all_gather`] (right, but every
    /// process receives everything); a transport with point-to-point messages moves only the
    /// pair's bytes.
    fn swap(&self, partner: usize, mine: &[u8]) -> Vec<u8> {
        self.all_gather(mine).swap_remove(partner)
    }

    /// Time spent so far exchanging (the transfer, and waiting for the slowest process to
    /// arrive).
    fn exchange_time(&self) -> Duration {
        Duration::ZERO
    }

    /// Bytes this process has sent so far.
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

/// The sum along the tree of [`crate::training::tree_sum`] over `total` chunks, given this
/// process's partial sums `mine` (the tree's nodes within its [`share`] of the chunks): the
/// same value, bit for bit, on every process and as one process would compute it.
/// Collective.
///
/// When `P` processes share the chunks in whole subtrees (`P` a power of two and `total/P` one
/// too, e.g. 32 chunks among 2, 4, …, 32 processes), each holds one node of the tree, and the
/// nodes combine by recursive doubling: in round `k` process `r` swaps its sum with process
/// `r XOR 2ᵏ`, and both add the two in chunk order, the left one first — the tree's own
/// addition at that level. `log₂P` messages of one gradient each. Any other split sends every
/// process's nodes to every process ([`Cluster::all_gather`]), and each completes the tree.
pub fn tree_sum_among<R: Wire + TreeAdd>(
    cluster: &dyn Cluster,
    total: usize,
    mine: Vec<(Range<usize>, R)>,
) -> R {
    let (rank, size) = (cluster.rank(), cluster.size());
    if size == 1 {
        return assemble(total, mine);
    }
    if size.is_power_of_two() && total.is_multiple_of(size) && (total / size).is_power_of_two() {
        let [(_, mut sum)]: [(Range<usize>, R); 1] = mine.try_into().unwrap_or_else(|m: Vec<_>| {
            panic!(
                "tree_sum_among: rank {rank} holds {} nodes, not one",
                m.len()
            )
        });
        let mut span = 1;
        while span < size {
            let mut bytes = Vec::new();
            sum.write(&mut bytes);
            let received = cluster.swap(rank ^ span, &bytes);
            let mut input = received.as_slice();
            let theirs = R::read(&mut input);
            assert!(input.is_empty(), "tree_sum_among: bytes left over");
            sum = if rank & span == 0 {
                sum.add(theirs)
            } else {
                theirs.add(sum)
            };
            span *= 2;
        }
        return sum;
    }
    let mine: Vec<Node<R>> = mine
        .into_iter()
        .map(|(chunks, value)| Node { chunks, value })
        .collect();
    let all = all_gather_lists(cluster, &mine);
    assemble(
        total,
        all.into_iter().map(|n| (n.chunks, n.value)).collect(),
    )
}

/// A partial sum as it travels between processes: the chunks it covers, then its value.
struct Node<R> {
    chunks: Range<usize>,
    value: R,
}

impl<R: Wire> Wire for Node<R> {
    fn write(&self, out: &mut Vec<u8>) {
        self.chunks.start.write(out);
        self.chunks.end.write(out);
        self.value.write(out);
    }
    fn read(input: &mut &[u8]) -> Node<R> {
        let (start, end) = (usize::read(input), usize::read(input));
        Node {
            chunks: start..end,
            value: R::read(input),
        }
    }
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
