//! A batch of independent problems unrolled as shards (`meta::unroll::unroll_shards`): the
//! summed meta-gradient is the whole batch's, at both orders, whatever the cut; the shards'
//! end states are the batch's, cut; and the bits depend on the cut, not on the threads.

use autograd::{grad, Var};
use meta::unroll::{unroll, unroll_shards, ShardState};
use meta::{run_on_pool, Tape};
use nn::learned::CoordinatewiseLstm;
use nn::Params;
use rand::{rngs::StdRng, SeedableRng};
use tensor::{DType, Tensor};

const FUNCTIONS: usize = 5;
const DIM: usize = 3;
const STEPS: usize = 3;

fn lstm() -> CoordinatewiseLstm {
    // Steps of order 1, so that the second-order term matters.
    CoordinatewiseLstm {
        hidden: 4,
        output_scale: 1.0,
        ..CoordinatewiseLstm::default()
    }
}

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

fn weights() -> Params {
    let mut rng = StdRng::seed_from_u64(17);
    lstm().init(DType::F64, &mut rng).map(|name, w| match name {
        "out.weight" => Var::leaf(w.value().mul_scalar(30.0)),
        _ => w.clone(),
    })
}

fn flat(vars: &[Var]) -> Vec<f64> {
    vars.iter()
        .flat_map(|v| v.value().to_vec::<f64>())
        .collect()
}

/// The batch as one tape: meta-gradient and end θ.
fn whole(batch: &Batch, weights: &Params, tape: Tape) -> (Vec<f64>, Vec<f64>) {
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

fn assert_close(a: &[f64], b: &[f64], what: &str) {
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
        let (g, theta) = whole(&batch, &weights, tape);
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
            assert_close(&gs, &g, &format!("{tape:?}, cuts {cuts:?}: meta-gradient"));
            assert_close(&thetas, &theta, &format!("{tape:?}, cuts {cuts:?}: end θ"));
        }
    }
}

#[test]
fn one_shard_is_the_plain_unroll_to_the_bit() {
    let (batch, weights) = (Batch::new(), weights());
    let (g, theta) = whole(&batch, &weights, Tape::SecondOrder);
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
