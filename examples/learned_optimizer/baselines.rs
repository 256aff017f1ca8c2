//! Running any optimiser on a problem, and the hand-designed baselines with their learning
//! rates grid-searched on training problems (as Andrychowicz et al. tune theirs).

use autograd::grad;
use nn::optim::{Momentum, RmsProp, Sgd};
use nn::{Adam, Optimizer};

use crate::optimisee::Problem;

/// The baselines, by the names the last lines print.
pub const BASELINES: [&str; 4] = ["sgd", "nesterov", "rmsprop", "adam"];

/// The learning rates tried: 10⁻⁴ … 3, two per decade.
pub const GRID: [f64; 10] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0];

/// A fresh baseline optimiser `name` with learning rate `lr`.
pub fn baseline(name: &str, lr: f64) -> Box<dyn Optimizer> {
    match name {
        "sgd" => Box::new(Sgd::new(lr)),
        "nesterov" => Box::new(Sgd::new(lr).with_momentum(Momentum::Nesterov(0.9))),
        "rmsprop" => Box::new(RmsProp::new(lr)),
        "adam" => Box::new(Adam::new(lr)),
        other => panic!("no baseline `{other}`"),
    }
}

/// The reported loss at steps 0 … `steps` of `optimizer` on `problem`. A loss that is not
/// finite stays infinite from then on (the run diverged).
pub fn trajectory(optimizer: &mut dyn Optimizer, problem: &dyn Problem, steps: usize) -> Vec<f64> {
    let mut theta = problem.theta();
    let mut losses = vec![problem.report(&theta)];
    for t in 0..steps {
        let loss = problem.loss(t, &theta);
        let g = grad(&[&loss], &theta.vars(), false).expect("θ are leaves");
        theta = optimizer.step(&theta, &theta.gradients(&g));
        let reported = problem.report(&theta);
        if !reported.is_finite() {
            losses.resize(steps + 1, f64::INFINITY);
            break;
        }
        losses.push(reported);
    }
    losses
}

/// Element-wise mean of several trajectories.
pub fn mean(curves: &[Vec<f64>]) -> Vec<f64> {
    let n = curves.len() as f64;
    (0..curves[0].len())
        .map(|t| curves.iter().map(|c| c[t]).sum::<f64>() / n)
        .collect()
}

/// The learning rate of `name` whose mean loss after `steps` steps on the `problems` is
/// lowest, with that loss.
pub fn grid_search(name: &str, problems: &[&dyn Problem], steps: usize) -> (f64, f64) {
    GRID.iter()
        .map(|&lr| {
            let curves: Vec<Vec<f64>> = problems
                .iter()
                .map(|p| trajectory(baseline(name, lr).as_mut(), *p, steps))
                .collect();
            let last = mean(&curves)[steps];
            (
                lr,
                if last.is_finite() {
                    last
                } else {
                    f64::INFINITY
                },
            )
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a non-empty grid")
}
