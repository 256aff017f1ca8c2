//! Evaluation: adapt to new tasks and measure the adapted model on their query sets.
//!
//! The sinusoid protocol (as in the Meta-SGD paper's Table 1 and `docs/references.md`): 600 new tasks; adapt on K random points; mean
//! squared error on 100 equally spaced points in [−5, 5]; report the mean and its 95%
//! confidence interval, 1.96·s/√n (s the sample standard deviation across tasks).

use autograd::{no_grad, Var};
use nn::Module;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;

use crate::learners::{Adapted, Learner, MetaParams, Tape};
use crate::tasks::sinusoid::Sinusoid;
use crate::tasks::{Target, Task};
use crate::training::cluster::{map_shared, Cluster};
use crate::training::wire::Wire;

/// A mean over tasks with its 95% confidence interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// Half-width of the 95% interval: 1.96 · s / √n.
    pub ci95: f64,
    pub count: usize,
}

impl Estimate {
    /// The mean of `values` and its 95% interval (normal approximation, sample deviation).
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Estimate {
            mean,
            ci95: 1.96 * variance.sqrt() / n.sqrt(),
            count: values.len(),
        }
    }
}

/// The metric of one adapted model on one query set: MSE for regression, accuracy (a fraction)
/// for classification.
pub fn query_metric(
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    adapted: &Adapted,
    task: &Task,
) -> f64 {
    no_grad(|| {
        let x = Var::constant(task.query.x.clone());
        let prediction = learner.predict(model, meta, adapted, &x);
        match &task.query.y {
            Target::Values(y) => nn::mse(&prediction, &Var::constant(y.clone())).item(),
            Target::Labels(labels) => nn::accuracy(&prediction, labels),
        }
    })
}

/// Adapts to each task with `steps` inner steps and returns the query metric per task,
/// computed in parallel. Nothing is recorded beyond what each inner step needs.
pub fn evaluate_tasks(
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    steps: usize,
    tasks: &[Task],
) -> Vec<f64> {
    // One job per task: with at least as many tasks as threads, the kernels inside a job need
    // not split their work as well (`tensor::parallel`; the results are the same).
    let saturated = tasks.len() >= rayon::current_num_threads();
    tasks
        .par_iter()
        .map(|task| {
            tensor::parallel::serial_if(saturated, || {
                let adapted = learner.adapt(model, meta, &task.support, 0, steps, Tape::Off);
                query_metric(model, learner, meta, &adapted, task)
            })
        })
        .collect()
}

/// [`evaluate_tasks`] with the tasks shared among the processes of `cluster`: each adapts to
/// its contiguous share, and every process returns the metric of every task, in task order —
/// the same numbers as one process. Collective.
pub fn evaluate_tasks_among(
    cluster: &dyn Cluster,
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    steps: usize,
    tasks: &[Task],
) -> Vec<f64> {
    map_shared(cluster, tasks, |ours| {
        evaluate_tasks(model, learner, meta, steps, ours)
    })
}

/// How a learner's predictive distribution fares on one query set: the Gaussian negative
/// log-likelihood per point, and the fraction of points within ±2σ of the mean (for a
/// calibrated Gaussian, 95.4%).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uncertainty {
    pub nll: f64,
    pub inside_2sigma: f64,
}

/// [`Uncertainty`] per task, for a learner that gives a predictive σ
/// ([`Learner::predictive_std`]) on regression tasks; `None` for any other learner.
pub fn evaluate_uncertainty(
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    tasks: &[Task],
) -> Option<Vec<Uncertainty>> {
    let saturated = tasks.len() >= rayon::current_num_threads();
    tasks
        .par_iter()
        .map(|task| {
            tensor::parallel::serial_if(saturated, || {
                let Target::Values(y) = &task.query.y else {
                    return None;
                };
                no_grad(|| {
                    let steps = learner.inner_steps();
                    let adapted = learner.adapt(model, meta, &task.support, 0, steps, Tape::Off);
                    let x = Var::constant(task.query.x.clone());
                    let sigma = learner.predictive_std(model, meta, &adapted, &x)?;
                    let p = crate::learners::Predictive {
                        mean: learner.predict(model, meta, &adapted, &x),
                        sigma,
                    };
                    let y = Var::constant(y.clone());
                    let nll = crate::learners::gaussian_nll(&p, &y).mean_all().item();
                    let (mean, sigma, y) = (
                        p.mean.value().to_vec::<f64>(),
                        p.sigma.value().to_vec::<f64>(),
                        y.value().to_vec::<f64>(),
                    );
                    let inside = (0..y.len())
                        .filter(|&i| (y[i] - mean[i]).abs() <= 2.0 * sigma[i])
                        .count();
                    Some(Uncertainty {
                        nll,
                        inside_2sigma: inside as f64 / y.len() as f64,
                    })
                })
            })
        })
        .collect()
}

/// [`evaluate_uncertainty`] with the tasks shared among the processes of `cluster`, as
/// [`evaluate_tasks_among`]. Collective.
pub fn evaluate_uncertainty_among(
    cluster: &dyn Cluster,
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    tasks: &[Task],
) -> Option<Vec<Uncertainty>> {
    map_shared(cluster, tasks, |ours| {
        match evaluate_uncertainty(model, learner, meta, ours) {
            Some(scores) => scores.into_iter().map(Some).collect(),
            None => vec![None; ours.len()],
        }
    })
    .into_iter()
    .collect()
}

impl Wire for Uncertainty {
    fn write(&self, out: &mut Vec<u8>) {
        self.nll.write(out);
        self.inside_2sigma.write(out);
    }
    fn read(input: &mut &[u8]) -> Uncertainty {
        Uncertainty {
            nll: f64::read(input),
            inside_2sigma: f64::read(input),
        }
    }
}

/// `count` evaluation tasks of `family`, seeded: K random support points and the 100-point
/// grid as the query set. The same seed gives the same tasks to every algorithm compared.
pub fn sinusoid_eval_tasks(family: &Sinusoid, count: usize, seed: u64) -> Vec<Task> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let wave = family.wave(&mut rng);
            Task {
                support: family.random_points(&wave, family.shots, &mut rng),
                query: family.grid(&wave, 100),
            }
        })
        .collect()
}
