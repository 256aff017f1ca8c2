//! [`MetaParams`]: everything meta-training learns, as two named collections.

use autograd::Var;
use nn::Params;

/// What meta-training learns: the initialisation θ, and everything else a learner learns
/// beside it in one named collection — Meta-SGD's rates `alpha.*`, MAML++'s per-layer,
/// per-step rates `lslr.*`, a similarity rule's constants `similarity.*`. Each learner names its
/// own entries under its own prefix, so a checkpoint says what it holds.
#[derive(Clone, Debug)]
pub struct MetaParams {
    pub theta: Params,
    pub learned: Params,
}

impl MetaParams {
    /// All learned tensors as one collection: `theta.*`, then the `learned` entries as named.
    pub fn flatten(&self) -> Params {
        let mut all = Params::new();
        all.extend_prefixed("theta", &self.theta);
        for (name, var) in self.learned.iter() {
            all.insert(name, var.clone());
        }
        all
    }

    /// The `Var`s of [`MetaParams::flatten`], in its order, without building its names.
    pub fn vars(&self) -> Vec<&Var> {
        let learned = self.learned.iter().map(|(_, v)| v);
        self.theta.iter().map(|(_, v)| v).chain(learned).collect()
    }

    /// The inverse of [`MetaParams::flatten`], for a collection with the same layout as `self`.
    pub fn unflatten(&self, all: &Params) -> MetaParams {
        let learned = self
            .learned
            .names()
            .map(|name| (name, all.expect(name).clone()))
            .collect();
        MetaParams {
            theta: all.scoped("theta"),
            learned,
        }
    }

    /// The same values as fresh leaves (the start of a meta-step).
    pub fn to_leaves(&self) -> MetaParams {
        MetaParams {
            theta: self.theta.to_leaves(),
            learned: self.learned.to_leaves(),
        }
    }

    /// The same values as constants (for evaluation).
    pub fn detach(&self) -> MetaParams {
        MetaParams {
            theta: self.theta.detach(),
            learned: self.learned.detach(),
        }
    }

    /// θ given a leading task axis of size `tasks` (a broadcast view): the parameters of a
    /// stacked pass, one set per task, all tied to the same θ. The gradient of the stacked
    /// support loss then has one slice per task: each task's own inner gradient.
    ///
    /// The learned entries keep their shapes: an update rule broadcasts them over the task
    /// axis of the gradient by itself (`θ − α ⊙ g`), so a view of them would only add nodes
    /// to the graph.
    pub fn per_task(&self, tasks: usize) -> MetaParams {
        let theta = self.theta.map(|_, v| {
            // Broadcasting adds the leading axis itself: one view node per tensor.
            let mut shape = vec![tasks];
            shape.extend_from_slice(v.shape());
            v.broadcast_to(&shape)
        });
        MetaParams {
            theta,
            learned: self.learned.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensor::{DType, Tensor};

    fn leaf(value: f64) -> Var {
        Var::leaf(Tensor::full(&[2], value, DType::F64))
    }

    /// `vars` lists the same `Var`s as `flatten`, in the same order, and `unflatten` inverts
    /// `flatten`.
    #[test]
    fn vars_are_flatten_in_order_and_unflatten_inverts_it() {
        let meta = MetaParams {
            theta: Params::from_iter([("w", leaf(1.0)), ("b", leaf(2.0))]),
            learned: Params::from_iter([("alpha.w", leaf(0.1)), ("alpha.b", leaf(0.2))]),
        };
        let flat = meta.flatten();
        assert_eq!(
            flat.names().collect::<Vec<_>>(),
            ["theta.w", "theta.b", "alpha.w", "alpha.b"]
        );
        let (listed, expected) = (meta.vars(), flat.vars());
        assert_eq!(listed.len(), expected.len());
        assert!(listed.iter().zip(&expected).all(|(a, b)| a.same(b)));
        let back = meta.unflatten(&flat);
        assert!(back.vars().iter().zip(meta.vars()).all(|(a, b)| a.same(b)));
    }
}
