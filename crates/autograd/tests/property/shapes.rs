//! Reductions, movement (views, broadcasts, concatenation) and linear algebra.

use autograd::Var;
use tensor::Tensor;

use crate::strategies::{
    fixed, same_shape,
    Domain::{Any, Separated},
};
use crate::Case;

pub fn cases() -> Vec<Case> {
    vec![
        // ----- reductions and movement -----
        Case {
            name: "sum",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].sum(&[0], false).square(),
            order: 3,
        },
        Case {
            name: "sum keepdim",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].sum(&[-1], true).exp(),
            order: 3,
        },
        Case {
            name: "mean",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].mean_all().sin(),
            order: 3,
        },
        Case {
            name: "max",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].max(&[-1], false).square(),
            order: 2,
        },
        Case {
            name: "min",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].min(&[0], true).square(),
            order: 2,
        },
        Case {
            name: "cumsum",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].cumsum(1).square(),
            order: 3,
        },
        Case {
            name: "cumsum over a leading axis",
            inputs: || fixed(&[(&[3, 1, 2], Any)]),
            f: |x| x[0].cumsum(-3).sin(),
            order: 3,
        },
        Case {
            name: "prod",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].prod(&[-1], false),
            order: 3,
        },
        Case {
            // Two axes of 5 and 3 (odd lengths at every level of the tree), one element held
            // at 0, where the derivatives are products of the others.
            name: "prod over two axes, through a zero",
            inputs: || fixed(&[(&[5, 2, 3], Any)]),
            f: |x| {
                let mask =
                    Tensor::from_vec((0..30).map(|k| f64::from(k != 7)).collect(), &[5, 2, 3]);
                (&x[0] * &Var::constant(mask.unwrap())).prod(&[0, 2], true)
            },
            order: 3,
        },
        Case {
            name: "var (unbiased)",
            inputs: || fixed(&[(&[3, 4], Any)]),
            f: |x| x[0].var(&[1], 1, false),
            order: 3,
        },
        Case {
            name: "var (population, all axes)",
            inputs: || same_shape(&[Any]),
            f: |x| {
                let axes: Vec<isize> = (0..x[0].ndim() as isize).collect();
                x[0].var(&axes, 0, true).add_scalar(0.1).log()
            },
            order: 3,
        },
        Case {
            name: "std",
            inputs: || fixed(&[(&[2, 4], Any)]),
            f: |x| x[0].std(&[-1], 1, true),
            order: 3,
        },
        Case {
            name: "norm p = 1",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].norm(1.0, &[0], false),
            order: 3,
        },
        Case {
            name: "norm p = 2",
            inputs: || fixed(&[(&[3, 2], Any)]),
            f: |x| x[0].norm(2.0, &[0, 1], false),
            order: 3,
        },
        Case {
            // Shifted off the grid's symmetry, so no two |x| tie.
            name: "norm p = ∞",
            inputs: || same_shape(&[Separated]),
            f: |x| {
                x[0].add_scalar(0.03)
                    .norm(f64::INFINITY, &[-1], true)
                    .square()
            },
            order: 3,
        },
        Case {
            name: "flip",
            inputs: || fixed(&[(&[2, 3, 2], Any)]),
            f: |x| (&x[0].flip(&[0, 2]) * &x[0]).sin(),
            order: 3,
        },
        Case {
            name: "roll",
            inputs: || fixed(&[(&[2, 5], Any)]),
            f: |x| (&x[0].roll(-7, 1) * &x[0]).tanh(),
            order: 3,
        },
        Case {
            name: "repeat",
            inputs: || fixed(&[(&[2, 1], Any)]),
            f: |x| x[0].repeat(&[2, 2, 3]).cumsum(-1).square(),
            order: 3,
        },
        Case {
            name: "where_mask",
            inputs: || fixed(&[(&[2, 3], Any), (&[3], Any)]),
            f: |x| {
                let mask = [true, false, false, true, true, false];
                Var::where_mask(&mask, &[2, 3], &x[0], &x[1]).square()
            },
            order: 3,
        },
        Case {
            name: "masked_fill",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].masked_fill(&[false, true, false], &[3], -1.5).exp(),
            order: 3,
        },
        Case {
            // Bounds offset from the grid of x so that no two of the three ever tie.
            name: "clamp_between (tensor bounds)",
            inputs: || same_shape(&[Separated, Separated, Separated]),
            f: |x| {
                let low = x[1].mul_scalar(1.01).add_scalar(-0.35);
                let high = x[2].mul_scalar(1.01).add_scalar(0.45);
                x[0].clamp_between(&low, &high).square()
            },
            order: 3,
        },
        Case {
            name: "reshape",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].reshape(&[3, 2]).square().matmul(&x[0]),
            order: 3,
        },
        Case {
            name: "permute",
            inputs: || fixed(&[(&[2, 3, 1], Any)]),
            f: |x| x[0].permute(&[2, 0, 1]).sin(),
            order: 3,
        },
        Case {
            name: "broadcast_to",
            inputs: || fixed(&[(&[3, 1], Any)]),
            f: |x| x[0].broadcast_to(&[2, 3, 4]).square(),
            order: 3,
        },
        Case {
            name: "sum_to",
            inputs: || fixed(&[(&[2, 3, 2], Any)]),
            f: |x| x[0].sum_to(&[3, 1]).square(),
            order: 3,
        },
        Case {
            name: "narrow",
            inputs: || fixed(&[(&[4, 2], Any)]),
            f: |x| x[0].narrow(0, 1, 2).exp(),
            order: 3,
        },
        Case {
            name: "pad",
            inputs: || fixed(&[(&[2, 2], Any)]),
            f: |x| x[0].pad(&[(1, 0), (0, 2)]).square().add_scalar(1.0).log(),
            order: 3,
        },
        Case {
            name: "concat",
            inputs: || fixed(&[(&[2, 2], Any), (&[1, 2], Any)]),
            f: |x| Var::concat(&[&x[0], &x[1]], 0).square(),
            order: 3,
        },
        Case {
            name: "stack",
            inputs: || fixed(&[(&[3], Any), (&[3], Any)]),
            f: |x| Var::stack(&[&x[0], &x[1]], 1).tanh(),
            order: 3,
        },
        Case {
            name: "take",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].take(&[5, 0, 0, 3], &[2, 2]).square(),
            order: 3,
        },
        Case {
            name: "scatter_add",
            inputs: || fixed(&[(&[4], Any)]),
            f: |x| x[0].scatter_add(&[2, 0, 2, 1], &[3]).square(),
            order: 3,
        },
        Case {
            name: "gather",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].gather(1, &[2, 0, 1, 1], &[2, 2]).exp(),
            order: 3,
        },
        Case {
            name: "index_select",
            inputs: || fixed(&[(&[3, 2], Any)]),
            f: |x| x[0].index_select(0, &[2, 2, 0]).sin(),
            order: 3,
        },
        // ----- linear algebra -----
        Case {
            name: "matmul",
            inputs: || fixed(&[(&[2, 3], Any), (&[3, 2], Any)]),
            f: |x| x[0].matmul(&x[1]),
            order: 3,
        },
        Case {
            name: "batched matmul (broadcast)",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[3, 2], Any)]),
            f: |x| x[0].matmul(&x[1]).tanh(),
            order: 3,
        },
        Case {
            name: "matmul chain",
            inputs: || fixed(&[(&[2, 3], Any), (&[3, 3], Any), (&[3, 1], Any)]),
            f: |x| x[0].matmul(&x[1]).tanh().matmul(&x[2]),
            order: 3,
        },
        Case {
            name: "transposed matmul",
            inputs: || fixed(&[(&[3, 2], Any), (&[2, 3], Any)]),
            f: |x| x[0].t().matmul(&x[1].t()).sin(),
            order: 3,
        },
        Case {
            name: "matmul_nt (x·Wᵀ)",
            inputs: || fixed(&[(&[2, 3], Any), (&[4, 3], Any)]),
            f: |x| x[0].matmul_nt(&x[1]).tanh(),
            order: 3,
        },
        Case {
            name: "matmul_tn (Aᵀ·B)",
            inputs: || fixed(&[(&[3, 2], Any), (&[3, 4], Any)]),
            f: |x| x[0].matmul_tn(&x[1]).sin(),
            order: 3,
        },
        Case {
            name: "matmul_tt (Aᵀ·Bᵀ)",
            inputs: || fixed(&[(&[3, 2], Any), (&[4, 3], Any)]),
            f: |x| x[0].matmul_tt(&x[1]).sin(),
            order: 3,
        },
        Case {
            name: "batched matmul_nt (broadcast weight)",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[4, 3], Any)]),
            f: |x| x[0].matmul_nt(&x[1]).tanh(),
            order: 3,
        },
        Case {
            name: "batched matmul_tn (broadcast input)",
            inputs: || fixed(&[(&[3, 2], Any), (&[2, 3, 2], Any)]),
            f: |x| x[0].matmul_tn(&x[1]).sin(),
            order: 3,
        },
        Case {
            name: "linear (x·Wᵀ + b)",
            inputs: || fixed(&[(&[2, 3], Any), (&[4, 3], Any), (&[4], Any)]),
            f: |x| x[0].linear(&x[1], Some(&x[2])).tanh(),
            order: 3,
        },
        Case {
            name: "linear, one weight and bias per task",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[2, 4, 3], Any), (&[2, 4], Any)]),
            f: |x| x[0].linear(&x[1], Some(&x[2])).tanh(),
            order: 3,
        },
        Case {
            name: "linear, weight and bias broadcast over tasks",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[4, 3], Any), (&[4], Any)]),
            f: |x| x[0].linear(&x[1], Some(&x[2])).sin(),
            order: 3,
        },
        // A `broadcast_to` node that is not differentiated by is looked through by the engine,
        // and the shared operand's gradient folds the sum over tasks into one product.
        Case {
            name: "linear, weight and bias broadcast over tasks by broadcast_to nodes",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[4, 3], Any), (&[4], Any)]),
            f: |x| {
                let w = x[1].broadcast_to(&[2, 4, 3]);
                let b = x[2].broadcast_to(&[2, 4]);
                x[0].linear(&w, Some(&b)).sin()
            },
            order: 3,
        },
        Case {
            name: "batched matmul, B broadcast over tasks by a broadcast_to node",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[3, 4], Any)]),
            f: |x| x[0].matmul(&x[1].broadcast_to(&[2, 3, 4])).tanh(),
            order: 3,
        },
        Case {
            name: "batched matmul_nt, B broadcast over tasks by a broadcast_to node",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[4, 3], Any)]),
            f: |x| x[0].matmul_nt(&x[1].broadcast_to(&[2, 4, 3])).sin(),
            order: 3,
        },
    ]
}
