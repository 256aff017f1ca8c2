//! One shared table of functions, each checked against finite differences on random inputs:
//! order 1 and 2 for every entry, order 3 for the smooth ones.
//!
//! Inputs are drawn in each function's safe domain (as minitorch shifts `log`'s argument):
//! positive where a log, a division or a fractional power needs it; well separated values
//! where a max or a relu has a kink, so that the finite-difference step never straddles one.

use autograd::{check_grads, CheckOptions, Var};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tensor::conv::Conv2dParams;
use tensor::Tensor;

/// Where an input's values are drawn from.
#[derive(Clone, Copy, Debug)]
enum Domain {
    /// Uniform in [−2, 2].
    Any,
    /// Uniform in [0.5, 2.5].
    Positive,
    /// Distinct values at least 0.2 apart and at least 0.1 from zero, in random order: safe
    /// for max, max-pool, relu and abs.
    Separated,
}

fn values(domain: Domain, n: usize) -> BoxedStrategy<Vec<f64>> {
    match domain {
        Domain::Any => prop::collection::vec(-2.0..2.0f64, n).boxed(),
        Domain::Positive => prop::collection::vec(0.5..2.5f64, n).boxed(),
        Domain::Separated => Just((0..n).collect::<Vec<_>>())
            .prop_shuffle()
            .prop_map(move |ranks| {
                // A grid 0.2 apart, centred on zero and shifted so no value is within 0.1 of it.
                let centre = (n as f64 - 1.0) / 2.0;
                let shift = if n % 2 == 1 { 0.1 } else { 0.0 };
                ranks
                    .iter()
                    .map(|&r| 0.2 * (r as f64 - centre) + shift)
                    .collect()
            })
            .boxed(),
    }
}

fn tensor(domain: Domain, shape: Vec<usize>) -> BoxedStrategy<Tensor> {
    let n = shape.iter().product();
    values(domain, n)
        .prop_map(move |v| Tensor::from_vec(v, &shape).unwrap())
        .boxed()
}

/// A random shape of 1–3 axes with at most `max_numel` elements.
fn shape(max_numel: usize) -> BoxedStrategy<Vec<usize>> {
    prop::collection::vec(1usize..4, 1..4)
        .prop_filter("small enough", move |s| {
            s.iter().product::<usize>() <= max_numel
        })
        .boxed()
}

/// Inputs of one shape each, from the given domains.
fn same_shape(domains: &'static [Domain]) -> BoxedStrategy<Vec<Tensor>> {
    shape(6)
        .prop_flat_map(move |s| {
            domains
                .iter()
                .map(|&d| tensor(d, s.clone()))
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// Two inputs whose shapes broadcast against each other (some axes of the second set to 1,
/// leading axes possibly dropped).
fn broadcast_pair(domains: &'static [Domain; 2]) -> BoxedStrategy<Vec<Tensor>> {
    (shape(6), prop::collection::vec(any::<bool>(), 3), 0usize..2)
        .prop_flat_map(move |(s, ones, drop)| {
            let mut other: Vec<usize> = s
                .iter()
                .zip(&ones)
                .map(|(&n, &one)| if one { 1 } else { n })
                .collect();
            other.drain(..drop.min(other.len() - 1));
            vec![tensor(domains[0], s), tensor(domains[1], other)]
        })
        .boxed()
}

/// Fixed shapes (for ops with structural constraints: matmul, conv, pooling).
fn fixed(shapes: &'static [(&'static [usize], Domain)]) -> BoxedStrategy<Vec<Tensor>> {
    shapes
        .iter()
        .map(|&(s, d)| tensor(d, s.to_vec()))
        .collect::<Vec<_>>()
        .boxed()
}

struct Case {
    name: &'static str,
    inputs: fn() -> BoxedStrategy<Vec<Tensor>>,
    f: fn(&[Var]) -> Var,
    /// Highest order checked: 2, or 3 for smooth functions.
    order: usize,
}

use Domain::{Any, Positive, Separated};

fn table() -> Vec<Case> {
    vec![
        // ----- element-wise primitives -----
        Case {
            name: "neg",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].neg(),
            order: 3,
        },
        Case {
            name: "exp",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].exp(),
            order: 3,
        },
        Case {
            name: "log",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].log(),
            order: 3,
        },
        Case {
            name: "sin",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].sin(),
            order: 3,
        },
        Case {
            name: "cos",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].cos(),
            order: 3,
        },
        Case {
            name: "tanh",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].tanh(),
            order: 3,
        },
        Case {
            name: "sigmoid",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].sigmoid(),
            order: 3,
        },
        Case {
            name: "relu",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].relu(),
            order: 2,
        },
        Case {
            name: "powf 2.5",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].powf(2.5),
            order: 3,
        },
        Case {
            name: "powf −1.5",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].powf(-1.5),
            order: 3,
        },
        Case {
            name: "add_scalar",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].add_scalar(0.7),
            order: 3,
        },
        Case {
            name: "mul_scalar",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].mul_scalar(-1.3),
            order: 3,
        },
        Case {
            name: "add",
            inputs: || broadcast_pair(&[Any, Any]),
            f: |x| &x[0] + &x[1],
            order: 3,
        },
        Case {
            name: "sub",
            inputs: || broadcast_pair(&[Any, Any]),
            f: |x| &x[0] - &x[1],
            order: 3,
        },
        Case {
            name: "mul",
            inputs: || broadcast_pair(&[Any, Any]),
            f: |x| &x[0] * &x[1],
            order: 3,
        },
        Case {
            name: "div",
            inputs: || broadcast_pair(&[Any, Positive]),
            f: |x| &x[0] / &x[1],
            order: 3,
        },
        Case {
            name: "select",
            inputs: || same_shape(&[Separated, Any, Any]),
            f: |x| {
                let mask = x[0].value().gt_mask(&Tensor::scalar(0.0f64));
                Var::select(&mask, &x[1], &x[2])
            },
            order: 3,
        },
        // ----- fused primitives -----
        Case {
            name: "sub_mul",
            inputs: || same_shape(&[Any, Any, Any]),
            f: |x| x[0].sub_mul(&x[1], &x[2]),
            order: 3,
        },
        Case {
            name: "sub_mul (broadcast step size)",
            inputs: || fixed(&[(&[2, 3], Any), (&[3], Any), (&[2, 3], Any)]),
            f: |x| x[0].sub_mul(&x[1], &x[2]).square(),
            order: 3,
        },
        Case {
            name: "sub_mul, step size broadcast over tasks by a broadcast_to node",
            inputs: || fixed(&[(&[2, 3], Any), (&[3], Any), (&[2, 3], Any)]),
            f: |x| x[0].sub_mul(&x[1].broadcast_to(&[2, 3]), &x[2]).square(),
            order: 3,
        },
        Case {
            name: "mul_sum_to (per channel)",
            inputs: || fixed(&[(&[2, 3, 2, 2], Any), (&[2, 3, 2, 2], Any)]),
            f: |x| x[0].mul_sum_to(&x[1], &[1, 3, 1, 1]).square(),
            order: 3,
        },
        Case {
            name: "mul_sum_to (over a leading task axis)",
            inputs: || fixed(&[(&[3, 2, 4], Any), (&[3, 2, 4], Any)]),
            f: |x| x[0].mul_sum_to(&x[1], &[2, 4]).square(),
            order: 3,
        },
        Case {
            name: "mul_sum_to (a broadcast factor)",
            inputs: || fixed(&[(&[2, 3], Any), (&[3], Any)]),
            f: |x| x[0].mul_sum_to(&x[1], &[3]).square(),
            order: 3,
        },
        Case {
            name: "relu_backward",
            inputs: || same_shape(&[Any, Separated]),
            f: |x| x[0].relu_backward(x[1].value()).square(),
            order: 3,
        },
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
        // ----- normalisation -----
        Case {
            name: "normalize_channels",
            inputs: || fixed(&[(&[3, 2, 2], Any)]),
            f: |x| x[0].normalize_channels(1e-3).sin(),
            order: 3,
        },
        Case {
            name: "normalize_channels, 4-d with an affine map",
            inputs: || fixed(&[(&[2, 3, 2, 2], Any), (&[1, 3, 1, 1], Any)]),
            f: |x| (&x[0].normalize_channels(0.1) * &x[1]).tanh(),
            order: 3,
        },
        // ----- convolution and pooling -----
        Case {
            name: "conv2d",
            inputs: || fixed(&[(&[1, 2, 4, 4], Any), (&[2, 2, 3, 3], Any)]),
            f: |x| x[0].conv2d(&x[1], Conv2dParams::new(1, 1)).tanh(),
            order: 3,
        },
        Case {
            name: "conv2d stride 2",
            inputs: || fixed(&[(&[2, 1, 5, 5], Any), (&[2, 1, 3, 3], Any)]),
            f: |x| x[0].conv2d(&x[1], Conv2dParams::new(2, 1)).square(),
            order: 3,
        },
        Case {
            name: "max_pool2d",
            inputs: || fixed(&[(&[1, 2, 4, 4], Separated)]),
            f: |x| x[0].max_pool2d((2, 2), (2, 2), (0, 0)).square(),
            order: 2,
        },
        Case {
            name: "avg_pool2d",
            inputs: || fixed(&[(&[1, 1, 4, 4], Any)]),
            f: |x| x[0].avg_pool2d((2, 2), (1, 1), (1, 1)).square(),
            order: 3,
        },
        // ----- composites -----
        Case {
            name: "square",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].square(),
            order: 3,
        },
        Case {
            name: "sqrt",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].sqrt(),
            order: 3,
        },
        Case {
            name: "abs",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].abs().square(),
            order: 2,
        },
        Case {
            name: "leaky_relu",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].leaky_relu(0.1).square(),
            order: 2,
        },
        Case {
            name: "maximum",
            inputs: || same_shape(&[Separated, Separated]),
            f: |x| {
                x[0].maximum(&x[1].mul_scalar(1.01).add_scalar(0.05))
                    .square()
            },
            order: 2,
        },
        Case {
            name: "softmax",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].softmax(-1),
            order: 3,
        },
        Case {
            name: "log_softmax",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].log_softmax(-1),
            order: 3,
        },
        Case {
            name: "logsumexp",
            inputs: || fixed(&[(&[3, 2], Any)]),
            f: |x| x[0].logsumexp(&[0], false),
            order: 3,
        },
        Case {
            name: "mse",
            inputs: || fixed(&[(&[4, 1], Any), (&[4, 1], Any)]),
            f: |x| (&x[0] - &x[1]).square().mean_all(),
            order: 3,
        },
        Case {
            name: "cross-entropy",
            inputs: || fixed(&[(&[3, 4], Any)]),
            f: |x| {
                // −mean log p(label): labels 2, 0, 3.
                let log_p = x[0].log_softmax(-1);
                log_p.gather(1, &[2, 0, 3], &[3, 1]).mean_all().neg()
            },
            order: 3,
        },
        Case {
            name: "batch-norm normalisation",
            inputs: || fixed(&[(&[4, 2], Any), (&[2], Positive), (&[2], Any)]),
            f: |x| {
                // (x − mean) / √(var + ε) · γ + β over the batch axis.
                let mean = x[0].mean(&[0], true);
                let centered = &x[0] - &mean;
                let var = centered.square().mean(&[0], true);
                let normalised = &centered / &var.add_scalar(1e-5).sqrt();
                &(&normalised * &x[1]) + &x[2]
            },
            order: 3,
        },
        Case {
            name: "two-layer MLP",
            inputs: || fixed(&[(&[3, 1], Any), (&[1, 4], Any), (&[4], Any), (&[4, 1], Any)]),
            f: |x| {
                let hidden = (&x[0].matmul(&x[1]) + &x[2]).tanh();
                hidden.matmul(&x[3]).square().mean_all()
            },
            order: 3,
        },
    ]
}

/// Runs every case that goes up to `order` through `check_grads` (which checks each order
/// from 1 to `order`), on a few random inputs each.
fn check_table_at(order: usize) {
    let options = CheckOptions::default();
    for case in table().into_iter().filter(|c| c.order >= order) {
        let mut runner = TestRunner::new(Config {
            cases: 6,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&(case.inputs)(), |inputs| {
            check_grads(case.f, &inputs, order, &options)
                .map_err(|e| TestCaseError::fail(e.to_string()))
        });
        if let Err(e) = result {
            panic!("{} at order {order}: {e}", case.name);
        }
    }
}

#[test]
fn orders_1_and_2() {
    check_table_at(2);
}

#[test]
fn orders_1_to_3_for_smooth_functions() {
    check_table_at(3);
}

#[test]
fn table_size() {
    // (function, order) pairs checked: every entry at orders 1 and 2, the smooth ones at 3.
    let cases = table();
    let pairs: usize = cases.iter().map(|c| c.order).sum();
    assert!(
        cases.len() >= 50 && pairs >= 140,
        "{} functions, {pairs} pairs",
        cases.len()
    );
}
