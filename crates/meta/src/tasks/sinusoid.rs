//! Sinusoid regression, the toy problem of MAML (Finn et al. 2017) and Meta-SGD (Li et al.
//! 2017): each task is a sine wave `y = A·sin(ω·x − φ)`, and the learner sees `K` points of it.
//!
//! | family | amplitude A | phase φ | frequency ω | x |
//! |---|---|---|---|---|
//! | [`Sinusoid::maml`] | U[0.1, 5] | U[0, π] | 1 | U[−5, 5] |
//! | [`Sinusoid::meta_sgd`] | U[0.1, 5] | U[0, π] | U[0.8, 1.2] | U[−5, 5] |
//!
//! (The Meta-SGD frequency range is taken from a reimplementation; see `docs/references.md`.)

use rand::rngs::StdRng;
use rand::Rng;
use tensor::{with_dtype, DType, Element, Tensor};

use crate::tasks::{Batch, Target, Task, TaskSource};

/// A family of sine-wave regression tasks.
#[derive(Clone, Debug)]
pub struct Sinusoid {
    pub amplitude: (f64, f64),
    pub phase: (f64, f64),
    pub frequency: (f64, f64),
    pub x_range: (f64, f64),
    /// Support points per task (the K of K-shot).
    pub shots: usize,
    /// Query points per task during meta-training.
    pub queries: usize,
    pub dtype: DType,
}

/// One sine wave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wave {
    pub amplitude: f64,
    pub phase: f64,
    pub frequency: f64,
}

impl Wave {
    pub fn at(&self, x: f64) -> f64 {
        self.amplitude * crate::tasks::fast_sin::sin(self.frequency * x - self.phase)
    }
}

impl Sinusoid {
    /// MAML's family, K-shot, with K query points (as MAML's code draws them).
    pub fn maml(shots: usize) -> Sinusoid {
        Sinusoid {
            amplitude: (0.1, 5.0),
            phase: (0.0, std::f64::consts::PI),
            frequency: (1.0, 1.0),
            x_range: (-5.0, 5.0),
            shots,
            queries: shots,
            dtype: DType::F32,
        }
    }

    /// Meta-SGD's family: MAML's with the frequency drawn from [0.8, 1.2].
    pub fn meta_sgd(shots: usize) -> Sinusoid {
        Sinusoid {
            frequency: (0.8, 1.2),
            ..Sinusoid::maml(shots)
        }
    }

    fn uniform(rng: &mut StdRng, (low, high): (f64, f64)) -> f64 {
        if low == high {
            low
        } else {
            rng.random_range(low..high)
        }
    }

    /// Draws a wave.
    pub fn wave(&self, rng: &mut StdRng) -> Wave {
        Wave {
            amplitude: Sinusoid::uniform(rng, self.amplitude),
            phase: Sinusoid::uniform(rng, self.phase),
            frequency: Sinusoid::uniform(rng, self.frequency),
        }
    }

    /// `count` random points of `wave`, as a batch of shape `[count, 1]`.
    pub fn random_points(&self, wave: &Wave, count: usize, rng: &mut StdRng) -> Batch {
        let xs: Vec<f64> = (0..count)
            .map(|_| Sinusoid::uniform(rng, self.x_range))
            .collect();
        self.batch(wave, &xs)
    }

    /// `count` equally spaced points of `wave` over the whole input range (the evaluation
    /// grid: 100 points in [−5, 5]).
    pub fn grid(&self, wave: &Wave, count: usize) -> Batch {
        let (low, high) = self.x_range;
        let step = if count > 1 {
            (high - low) / (count - 1) as f64
        } else {
            0.0
        };
        let xs: Vec<f64> = (0..count).map(|i| low + step * i as f64).collect();
        self.batch(wave, &xs)
    }

    /// The points `xs` of `wave`.
    pub fn batch(&self, wave: &Wave, xs: &[f64]) -> Batch {
        let ys: Vec<f64> = xs.iter().map(|&x| wave.at(x)).collect();
        self.values_batch(xs, &ys, &[xs.len(), 1])
    }

    /// Inputs `xs` and targets `ys` (computed in `f64`) as tensors of `shape` in this
    /// family's element type.
    fn values_batch(&self, xs: &[f64], ys: &[f64], shape: &[usize]) -> Batch {
        let tensor = |v: &[f64]| {
            with_dtype!(self.dtype, T => {
                let values: Vec<T> = v.iter().map(|&x| T::from_f64(x)).collect();
                Tensor::from_vec(values, shape).expect("length matches")
            })
        };
        Batch {
            x: tensor(xs),
            y: Target::Values(tensor(ys)),
        }
    }
}

impl Sinusoid {
    /// One task's draws, in the one order both [`TaskSource`] methods use: the wave, then the
    /// support inputs, then the query inputs. Appends inputs and targets to `support` and
    /// `query` (`(xs, ys)` each).
    fn draw_task(&self, rng: &mut StdRng, support: &mut Columns, query: &mut Columns) {
        let wave = self.wave(rng);
        for (count, (xs, ys)) in [(self.shots, support), (self.queries, query)] {
            for _ in 0..count {
                let x = Sinusoid::uniform(rng, self.x_range);
                xs.push(x);
                ys.push(wave.at(x));
            }
        }
    }
}

/// Inputs and targets, in `f64`, before they become a [`Batch`].
type Columns = (Vec<f64>, Vec<f64>);

impl TaskSource for Sinusoid {
    fn sample(&self, rng: &mut StdRng) -> Task {
        let (mut support, mut query) = (Columns::default(), Columns::default());
        self.draw_task(rng, &mut support, &mut query);
        Task {
            support: self.values_batch(&support.0, &support.1, &[self.shots, 1]),
            query: self.values_batch(&query.0, &query.1, &[self.queries, 1]),
        }
    }

    /// The draws of [`Sinusoid::sample`], task after task, written into `[tasks, K, 1]` and
    /// `[tasks, Q, 1]` buffers directly.
    fn sample_stacked(&self, rngs: &mut [StdRng]) -> (Batch, Batch) {
        let (tasks, shots, queries) = (rngs.len(), self.shots, self.queries);
        let with_room = |n: usize| (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut support, mut query) = (with_room(tasks * shots), with_room(tasks * queries));
        for rng in rngs {
            self.draw_task(rng, &mut support, &mut query);
        }
        (
            self.values_batch(&support.0, &support.1, &[tasks, shots, 1]),
            self.values_batch(&query.0, &query.1, &[tasks, queries, 1]),
        )
    }
}
