//! Random expression graphs: compositions of several ops, checked to third order against
//! finite differences, so that interactions between ops are tested (a view feeding a
//! broadcast feeding a reduction…), not only each op alone as in the table.
//!
//! Every value in a graph has a shape that broadcasts to one base shape (each axis either the
//! base's or 1, leading axes possibly missing, 0-d included), so any two values can meet in a
//! binary op and the result keeps the property. Each step takes the value the step before it
//! made (a chain from the first input, so the output depends on every step) and makes one:
//!
//! - a smooth element-wise op, or a binary op (broadcasting) with any earlier value — an
//!   input or an intermediate, so that values are used more than once;
//! - a reduction over an axis kept as size 1, or over everything (a 0-d scalar);
//! - a view round trip — transpose, flatten, unsqueeze, reverse permutation, narrow, flip,
//!   roll, broadcast — with an element-wise op between the view and its inverse (pad,
//!   sum_to…), so the op runs on a non-contiguous or broadcast operand;
//! - a matmul round trip `x·(xᵀ·x)` on a value of 2 axes or more.
//!
//! The ops are the smooth ones (no kinks), and each keeps values bounded (binary ops halve or
//! squash), so finite differences stay accurate over any composition.

use std::fmt;

use autograd::{check_grads, CheckOptions, Var};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use tensor::Tensor;

#[derive(Clone, Copy, Debug)]
enum Unary {
    Sin,
    Tanh,
    Sigmoid,
    Softplus,
    QuarterSquare,
    ExpTanh,
    Log1pSquare,
    Erf,
    Gelu,
    Silu,
    Scale,
    Cumsum,
}

const UNARIES: [Unary; 12] = [
    Unary::Sin,
    Unary::Tanh,
    Unary::Sigmoid,
    Unary::Softplus,
    Unary::QuarterSquare,
    Unary::ExpTanh,
    Unary::Log1pSquare,
    Unary::Erf,
    Unary::Gelu,
    Unary::Silu,
    Unary::Scale,
    Unary::Cumsum,
];

impl Unary {
    fn apply(self, x: &Var) -> Var {
        match self {
            Unary::Sin => x.sin(),
            Unary::Tanh => x.tanh(),
            Unary::Sigmoid => x.sigmoid(),
            Unary::Softplus => x.softplus(),
            Unary::QuarterSquare => x.square().mul_scalar(0.25),
            Unary::ExpTanh => x.tanh().exp(),
            Unary::Log1pSquare => x.square().log1p(),
            Unary::Erf => x.erf(),
            Unary::Gelu => x.gelu(),
            Unary::Silu => x.silu(),
            Unary::Scale => x.mul_scalar(-0.7).add_scalar(0.3),
            // Along the last axis, scaled down so that running sums stay small.
            Unary::Cumsum if x.ndim() > 0 => x.cumsum(-1).mul_scalar(0.5),
            Unary::Cumsum => x.mul_scalar(0.5),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Binary {
    /// `(a + b)/2`
    Mean,
    /// `(a − b)/2`
    HalfDifference,
    /// `a·tanh(b)`
    Mul,
    /// `a/(1 + b²)`
    Div,
    /// `a − tanh(a)·sin(b)`, one `sub_mul`
    SubMul,
}

const BINARIES: [Binary; 5] = [
    Binary::Mean,
    Binary::HalfDifference,
    Binary::Mul,
    Binary::Div,
    Binary::SubMul,
];

impl Binary {
    fn apply(self, a: &Var, b: &Var) -> Var {
        match self {
            Binary::Mean => (a + b).mul_scalar(0.5),
            Binary::HalfDifference => (a - b).mul_scalar(0.5),
            Binary::Mul => a * &b.tanh(),
            Binary::Div => a / &b.square().add_scalar(1.0),
            Binary::SubMul => a.sub_mul(&a.tanh(), &b.sin()),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Reduce {
    Sum,
    Mean,
    Prod,
    Var,
}

const REDUCES: [Reduce; 4] = [Reduce::Sum, Reduce::Mean, Reduce::Prod, Reduce::Var];

#[derive(Clone, Copy, Debug)]
enum View {
    Transpose,
    Flatten,
    Unsqueeze,
    ReversePermute,
    NarrowPad,
    Flip,
    Roll,
    Broadcast,
}

const VIEWS: [View; 8] = [
    View::Transpose,
    View::Flatten,
    View::Unsqueeze,
    View::ReversePermute,
    View::NarrowPad,
    View::Flip,
    View::Roll,
    View::Broadcast,
];

impl View {
    /// `inverse(u(view(x)))`: the same shape as `x`. `base` is the graph's base shape.
    fn round_trip(self, x: &Var, u: Unary, base: &[usize]) -> Var {
        let n = x.ndim();
        let shape = x.shape().to_vec();
        match self {
            View::Transpose if n >= 2 => u.apply(&x.t()).t(),
            View::Flatten => u.apply(&x.reshape(&[x.numel()])).reshape(&shape),
            View::Unsqueeze => u.apply(&x.unsqueeze(0)).squeeze(0),
            View::ReversePermute if n >= 2 => {
                let perm: Vec<usize> = (0..n).rev().collect();
                u.apply(&x.permute(&perm)).permute(&perm)
            }
            View::NarrowPad => match (0..n).find(|&a| shape[a] >= 2) {
                Some(a) => {
                    let mut padding = vec![(0, 0); n];
                    padding[a] = (1, 0);
                    u.apply(&x.narrow(a as isize, 1, shape[a] - 1))
                        .pad(&padding)
                }
                None => u.apply(x),
            },
            View::Flip if n >= 1 => u.apply(&x.flip(&[0])).flip(&[0]),
            View::Roll if n >= 1 => u.apply(&x.roll(1, -1)),
            View::Broadcast => u
                .apply(&x.broadcast_to(base))
                .sum_to(&shape)
                .mul_scalar(0.5),
            _ => u.apply(x),
        }
    }
}

/// One step, applied to the value the previous step made (the first step to the first
/// input), so that the output depends on every step.
#[derive(Clone, Copy, Debug)]
enum Step {
    Unary(Unary),
    /// With any earlier value (an input or an intermediate) as the second operand.
    Binary(Binary, Index),
    /// Over one axis (picked among the value's), kept as size 1.
    Reduce(Reduce, Index),
    /// `mean_all`: a 0-d scalar.
    ReduceAll,
    View(View, Unary),
    /// `x·(xᵀ·x)/4` for a value of 2 axes or more.
    MatmulRoundTrip,
}

/// A random graph: its base shape, the shapes of its inputs and its steps.
#[derive(Clone)]
struct Graph {
    base: Vec<usize>,
    steps: Vec<Step>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "base shape {:?}", self.base)?;
        for (k, step) in self.steps.iter().enumerate() {
            writeln!(f, "  step {k}: {step:?}")?;
        }
        Ok(())
    }
}

impl Graph {
    /// The output: the last value computed.
    fn run(&self, inputs: &[Var]) -> Var {
        let mut values: Vec<Var> = inputs.to_vec();
        let mut x = inputs[0].clone();
        for step in &self.steps {
            x = match step {
                Step::Unary(u) => u.apply(&x),
                Step::Binary(b, j) => b.apply(&x, &values[j.index(values.len())]),
                Step::Reduce(_, _) if x.ndim() == 0 => x.sin(),
                Step::Reduce(r, axis) => {
                    let axis = [axis.index(x.ndim()) as isize];
                    match r {
                        Reduce::Sum => x.sum(&axis, true).mul_scalar(0.5),
                        Reduce::Mean => x.mean(&axis, true),
                        Reduce::Prod => x.tanh().prod(&axis, true),
                        Reduce::Var => x.var(&axis, 0, true),
                    }
                }
                Step::ReduceAll => x.mean_all(),
                Step::View(v, u) => v.round_trip(&x, *u, &self.base),
                Step::MatmulRoundTrip if x.ndim() >= 2 => {
                    x.matmul(&x.matmul_tn(&x)).mul_scalar(0.25)
                }
                Step::MatmulRoundTrip => x.cos(),
            };
            values.push(x.clone());
        }
        x
    }
}

fn step() -> BoxedStrategy<Step> {
    let unary = (0..UNARIES.len()).prop_map(|k| UNARIES[k]);
    prop_oneof![
        3 => unary.clone().prop_map(Step::Unary),
        4 => (0..BINARIES.len(), any::<Index>()).prop_map(|(b, j)| Step::Binary(BINARIES[b], j)),
        2 => (0..REDUCES.len(), any::<Index>()).prop_map(|(r, a)| Step::Reduce(REDUCES[r], a)),
        1 => Just(Step::ReduceAll),
        4 => (0..VIEWS.len(), unary).prop_map(|(v, u)| Step::View(VIEWS[v], u)),
        1 => Just(Step::MatmulRoundTrip),
    ]
    .boxed()
}

/// A shape that broadcasts to `base`: each axis kept or set to 1, and `drop` leading axes
/// removed (all of them gives a 0-d input).
fn input_shape(base: &[usize], ones: &[bool], drop: usize) -> Vec<usize> {
    let kept: Vec<usize> = base
        .iter()
        .zip(ones)
        .map(|(&n, &one)| if one { 1 } else { n })
        .collect();
    kept[drop.min(kept.len())..].to_vec()
}

/// A graph and values for its inputs (uniform in [−1.5, 1.5]).
fn graph_and_inputs() -> BoxedStrategy<(Graph, Vec<Tensor>)> {
    let base = prop::collection::vec(1usize..=3, 0..=3)
        .prop_filter("small", |s| s.iter().product::<usize>() <= 8);
    let inputs = prop::collection::vec(
        (
            prop::collection::vec(prop::bool::weighted(0.3), 3),
            0usize..=3,
        ),
        1..=3,
    );
    (base, inputs, prop::collection::vec(step(), 3..=8))
        .prop_flat_map(|(base, inputs, steps)| {
            let tensors: Vec<BoxedStrategy<Tensor>> = inputs
                .iter()
                .map(|(ones, drop)| {
                    // Drop leading axes rarely, so that most inputs keep the base's rank.
                    let drop = match drop {
                        4 => base.len(),
                        3 => 1,
                        _ => 0,
                    };
                    let shape = input_shape(&base, ones, drop);
                    let n: usize = shape.iter().product();
                    prop::collection::vec(-1.5..1.5f64, n)
                        .prop_map(move |v| Tensor::from_vec(v, &shape).unwrap())
                        .boxed()
                })
                .collect();
            let graph = Graph { base, steps };
            (Just(graph), tensors)
        })
        .boxed()
}

#[test]
fn random_expression_graphs_to_third_order() {
    let mut runner = TestRunner::new(Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    });
    let options = CheckOptions::default();
    let result = runner.run(&graph_and_inputs(), |(graph, inputs)| {
        check_grads(|x: &[Var]| graph.run(x), &inputs, 3, &options)
            .map_err(|e| TestCaseError::fail(e.to_string()))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
