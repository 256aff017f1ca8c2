//! The learned optimiser's meta-gradient through a short unroll (3 steps on a 2-d quadratic),
//! against central finite differences in f64: the full meta-gradient against the meta-loss
//! itself, the first-order one against the meta-loss with the optimisee's gradients frozen.
//!
//! Then a batch of independent problems unrolled as shards (`unroll_shards`): the summed
//! meta-gradient is the whole batch's, at both orders, whatever the cut; the shards' end
//! states are the batch's, cut; and the bits depend on the cut, not on the threads.

use autograd::{grad, Var};
use meta::unroll::{unroll, unroll_shards, ShardState};
use meta::{run_on_pool, Tape};
use nn::learned::CoordinatewiseLstm;
use nn::Params;
use rand::{rngs::StdRng, SeedableRng};
use tensor::{DType, Tensor};

const STEPS: usize = 3;

fn lstm() -> CoordinatewiseLstm {
    // Steps of order 1 (scale 1): the Hessian term is then far from negligible.
    CoordinatewiseLstm {
        hidden: 4,
        output_scale: 1.0,
        ..CoordinatewiseLstm::default()
    }
}

/// f(θ) = ‖Wθ − y‖² for a fixed 2×2 W and y.
fn quadratic(theta: &Params) -> Var {
    let w = Var::constant(Tensor::from_vec(vec![1.2f64, -0.4, 0.3, 0.8], &[2, 2]).unwrap());
    let y = Var::constant(Tensor::from_vec(vec![0.5f64, -1.0], &[2, 1]).unwrap());
    let t = theta.expect("theta").reshape(&[2, 1]);
    (&w.matmul(&t) - &y).square().sum_all()
}

fn theta0() -> Params {
    [(
        "theta",
        Var::leaf(Tensor::from_vec(vec![0.7f64, -0.2], &[2]).unwrap()),
    )]
    .into_iter()
    .collect()
}

fn weights() -> Params {
    let mut rng = StdRng::seed_from_u64(11);
    // A read-out 30 times its initial size: steps of order 1.
    lstm().init(DType::F64, &mut rng).map(|name, w| match name {
        "out.weight" => Var::leaf(w.value().mul_scalar(30.0)),
        _ => w.clone(),
    })
}

/// The meta-loss of a 3-step unroll with `weights`, and its meta-gradient under `tape`.
fn meta_loss_and_grad(weights: &Params, tape: Tape) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let lstm = lstm();
    let out = unroll(
        &lstm,
        weights,
        &theta0(),
        &lstm.zero_state(2, DType::F64),
        STEPS,
        tape,
        &mut |_, theta| quadratic(theta),
    );
    let g = grad(&[&out.meta_loss], &weights.vars(), false).unwrap();
    // The optimisee's gradient at each step, for the first-order replay.
    let mut theta = theta0();
    let mut state = lstm.zero_state(2, DType::F64);
    let mut grads = Vec::new();
    for _ in 0..STEPS {
        let leaves = theta.to_leaves();
        let g = grad(&[&quadratic(&leaves)], &leaves.vars(), false).unwrap();
        let g = leaves.gradients(&g);
        grads.push(g.expect("theta").value().to_vec::<f64>());
        (theta, state) = lstm.step(weights, &leaves.detach(), &g, &state);
    }
    (out.meta_loss.item(), flat(&g), grads)
}

/// The meta-loss with `weights`; with `frozen` gradients, step t reads `frozen[t]` instead of
/// ∇f(θₜ) (the function whose gradient the first-order meta-gradient is).
fn meta_loss(weights: &Params, frozen: Option<&[Vec<f64>]>) -> f64 {
    let lstm = lstm();
    let mut theta = theta0().detach();
    let mut state = lstm.zero_state(2, DType::F64);
    let mut total = 0.0;
    for t in 0..STEPS {
        let g = match frozen {
            Some(gs) => Var::constant(Tensor::from_vec(gs[t].clone(), &[2]).unwrap()),
            None => {
                let leaves = theta.to_leaves();
                grad(&[&quadratic(&leaves)], &leaves.vars(), false).unwrap()[0].detach()
            }
        };
        let g: Params = [("theta", g)].into_iter().collect();
        (theta, state) = lstm.step(weights, &theta, &g, &state);
        total += quadratic(&theta).item();
    }
    total
}

/// Central differences of `f` in every element of `weights`.
fn finite_differences(weights: &Params, f: &dyn Fn(&Params) -> f64) -> Vec<f64> {
    let eps = 1e-6;
    let flat: Vec<Vec<f64>> = weights.iter().map(|(_, v)| v.value().to_vec()).collect();
    let mut out = Vec::new();
    for (k, (name, v)) in weights.iter().enumerate() {
        for i in 0..flat[k].len() {
            let shifted = |delta: f64| {
                let mut values = flat[k].clone();
                values[i] += delta;
                weights.map(|n, w| {
                    if n == name {
                        Var::leaf(Tensor::from_vec(values.clone(), v.shape()).unwrap())
                    } else {
                        w.clone()
                    }
                })
            };
            out.push((f(&shifted(eps)) - f(&shifted(-eps))) / (2.0 * eps));
        }
    }
    out
}

fn assert_close(analytic: &[f64], numeric: &[f64], what: &str) {
    assert_eq!(analytic.len(), numeric.len());
    for (k, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-6 + 1e-4 * n.abs(),
            "{what}: element {k}: analytic {a}, numeric {n}"
        );
    }
}

#[test]
fn full_meta_gradient_matches_finite_differences_of_the_meta_loss() {
    let weights = weights();
    let (loss, analytic, _) = meta_loss_and_grad(&weights, Tape::SecondOrder);
    assert!((loss - meta_loss(&weights, None)).abs() < 1e-12);
    let numeric = finite_differences(&weights, &|w| meta_loss(w, None));
    assert_close(&analytic, &numeric, "second order");
}

#[test]
fn first_order_meta_gradient_is_that_of_the_meta_loss_with_frozen_gradients() {
    let weights = weights();
    let (_, first, frozen) = meta_loss_and_grad(&weights, Tape::FirstOrder);
    let numeric = finite_differences(&weights, &|w| meta_loss(w, Some(&frozen)));
    assert_close(&first, &numeric, "first order");
    // And it is not the full meta-gradient: the Hessian term it drops is visible here.
    let (_, full, _) = meta_loss_and_grad(&weights, Tape::SecondOrder);
    let gap = first
        .iter()
        .zip(&full)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(gap > 1e-3, "first and second order agree to {gap}");
}

// A batch of independent quadratics, whole and cut into shards (`unroll_shards`).

const FUNCTIONS: usize = 5;
const DIM: usize = 3;

/// FUNCTIONS quadratics Σ_b ‖W_b θ_b − y_b‖² in f64, and their starting θ [FUNCTIONS, DIM].
struct Batch {
    w: Tensor,
    y: Tensor,
    theta: Tensor,
}

impl Batch {
    fn new() -> Batch {
        let mut rng = StdRng::seed_from_u64(3);
        let mut normal =
            |shape: &[usize]| Tensor::rand_normal(shape, 0.0, 1.0, DType::F64, &mut rng);
        Batch {
            w: normal(&[FUNCTIONS, DIM, DIM]),
            y: normal(&[FUNCTIONS, DIM, 1]),
            theta: normal(&[FUNCTIONS, DIM]),
        }
    }

    /// Functions [start, start + len) as one problem: its loss and its starting point.
    fn loss(&self, start: usize, len: usize, theta: &Params) -> Var {
        let w = Var::constant(self.w.narrow(0, start, len));
        let y = Var::constant(self.y.narrow(0, start, len));
        let t = theta.expect("theta").unsqueeze(-1);
        (&w.matmul(&t) - &y).square().sum_all()
    }

    fn start(&self, start: usize, len: usize) -> ShardState {
        let theta: Params = [("theta", Var::leaf(self.theta.narrow(0, start, len)))]
            .into_iter()
            .collect();
        ShardState {
            state: lstm().zero_state(theta.numel(), DType::F64),
            theta,
        }
    }
}

fn flat(vars: &[Var]) -> Vec<f64> {
    vars.iter()
        .flat_map(|v| v.value().to_vec::<f64>())
        .collect()
}

/// The batch as one tape: meta-gradient and end θ.
fn whole_batch(batch: &Batch, weights: &Params, tape: Tape) -> (Vec<f64>, Vec<f64>) {
    let start = batch.start(0, FUNCTIONS);
    let out = unroll(
        &lstm(),
        weights,
        &start.theta,
        &start.state,
        STEPS,
        tape,
        &mut |_, theta| batch.loss(0, FUNCTIONS, theta),
    );
    let g = grad(&[&out.meta_loss], &weights.vars(), false).unwrap();
    (flat(&g), out.theta.expect("theta").value().to_vec())
}

/// The batch cut at `cuts` (shard k is functions cuts[k]..cuts[k+1]).
fn sharded(batch: &Batch, weights: &Params, tape: Tape, cuts: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let starts: Vec<ShardState> = cuts
        .windows(2)
        .map(|c| batch.start(c[0], c[1] - c[0]))
        .collect();
    let out = unroll_shards(&lstm(), weights, &starts, STEPS, tape, &|k, _, theta| {
        batch.loss(cuts[k], cuts[k + 1] - cuts[k], theta)
    });
    let theta = out
        .ends
        .iter()
        .flat_map(|e| e.theta.expect("theta").value().to_vec::<f64>())
        .collect();
    (flat(&out.gradient.expect("finite")), theta)
}

fn assert_same(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-10 * (1.0 + y.abs()),
            "{what}: element {k}: sharded {x}, whole {y}"
        );
    }
}

#[test]
fn shards_sum_to_the_whole_batch_meta_gradient_at_both_orders() {
    let (batch, weights) = (Batch::new(), weights());
    for tape in [Tape::FirstOrder, Tape::SecondOrder] {
        let (g, theta) = whole_batch(&batch, &weights, tape);
        assert!(
            g.iter().any(|v| v.abs() > 1e-3),
            "{tape:?}: a vanishing gradient"
        );
        for cuts in [
            &[0, FUNCTIONS][..],
            &[0, 2, FUNCTIONS],
            &[0, 1, 3, FUNCTIONS],
        ] {
            let (gs, thetas) = sharded(&batch, &weights, tape, cuts);
            assert_same(&gs, &g, &format!("{tape:?}, cuts {cuts:?}: meta-gradient"));
            assert_same(&thetas, &theta, &format!("{tape:?}, cuts {cuts:?}: end θ"));
        }
    }
}

#[test]
fn one_shard_is_the_plain_unroll_to_the_bit() {
    let (batch, weights) = (Batch::new(), weights());
    let (g, theta) = whole_batch(&batch, &weights, Tape::SecondOrder);
    let (gs, thetas) = sharded(&batch, &weights, Tape::SecondOrder, &[0, FUNCTIONS]);
    assert_eq!(gs, g);
    assert_eq!(thetas, theta);
}

#[test]
fn the_bits_depend_on_the_cut_not_on_the_threads() {
    let (batch, weights) = (Batch::new(), weights());
    let cuts = [0, 2, FUNCTIONS];
    let on = |threads| {
        run_on_pool(Some(threads), || {
            sharded(&batch, &weights, Tape::SecondOrder, &cuts)
        })
        .unwrap()
    };
    let one = on(1);
    assert_eq!(on(2), one);
    assert_eq!(on(3), one);
}

#[test]
fn a_diverged_shard_leaves_no_gradient() {
    let (batch, weights) = (Batch::new(), weights());
    let starts = vec![batch.start(0, 2), batch.start(2, 3)];
    let out = unroll_shards(
        &lstm(),
        &weights,
        &starts,
        2,
        Tape::FirstOrder,
        &|k, _, theta| {
            let loss = batch.loss(2 * k, 2 + k, theta);
            // Shard 1's loss is infinite; shard 0's is fine.
            if k == 1 {
                loss.mul_scalar(f64::INFINITY)
            } else {
                loss
            }
        },
    );
    assert!(
        out.gradient.is_none(),
        "a gradient was summed over a diverged shard"
    );
    assert_eq!(out.ends.len(), 2);
}
