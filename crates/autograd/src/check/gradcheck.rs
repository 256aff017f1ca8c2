//! First-order check: the engine's Jacobian against finite differences.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

use super::finite::{directional, partial, to_f64, unravel, CheckedFn};
use super::{CheckError, CheckOptions};
use crate::engine::{grad_with, GradOptions};
use crate::var::Var;

/// [`gradcheck`](super::gradcheck) with explicit options.
pub fn gradcheck_with(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    options: &CheckOptions,
) -> Result<(), CheckError> {
    check_level(&f, &to_f64(inputs), options, 1)
}

/// The worst disagreement seen so far.
struct Worst(Option<CheckError>);

impl Worst {
    /// Records a comparison; keeps the one that exceeds its tolerance by the most.
    fn compare(&mut self, candidate: CheckError) {
        let excess = |e: &CheckError| (e.analytic - e.numeric).abs() - e.tolerance;
        let exceeds =
            excess(&candidate) > 0.0 || candidate.analytic.is_nan() != candidate.numeric.is_nan();
        if exceeds
            && self
                .0
                .as_ref()
                .is_none_or(|w| excess(&candidate) > excess(w))
        {
            self.0 = Some(candidate);
        }
    }

    fn into_result(self) -> Result<(), CheckError> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Checks the first derivatives of `f` at `xs` (already `f64`), reporting failures as
/// derivatives of order `order` (`f` may itself be a derivative of the user's function).
pub(super) fn check_level(
    f: &CheckedFn,
    xs: &[Tensor],
    options: &CheckOptions,
    order: usize,
) -> Result<(), CheckError> {
    let leaves: Vec<Var> = xs.iter().map(|x| Var::leaf(x.clone())).collect();
    let y = f(&leaves);
    let inputs: usize = xs.iter().map(Tensor::numel).sum();
    if y.numel() * inputs <= options.full_jacobian_limit {
        full_jacobian(f, xs, &leaves, &y, options, order)
    } else {
        projections(f, xs, &leaves, &y, options, order)
    }
}

fn tolerance(options: &CheckOptions, numeric: f64) -> f64 {
    options.atol + options.rtol * numeric.abs()
}

/// Every element of the Jacobian: one finite-difference column per input element, one
/// reverse pass per output element.
fn full_jacobian(
    f: &CheckedFn,
    xs: &[Tensor],
    leaves: &[Var],
    y: &Var,
    options: &CheckOptions,
    order: usize,
) -> Result<(), CheckError> {
    let numeric: Vec<Vec<Vec<f64>>> = (0..xs.len())
        .map(|k| {
            (0..xs[k].numel())
                .map(|j| partial(f, xs, k, j, options.eps))
                .collect()
        })
        .collect();
    let inputs: Vec<&Var> = leaves.iter().collect();
    let mut worst = Worst(None);
    for i in 0..y.numel() {
        let mut seed = vec![0.0; y.numel()];
        seed[i] = 1.0;
        let seed = Var::constant(Tensor::from_vec(seed, y.shape()).expect("output shape"));
        let rows = grad_with(&[y], &[&seed], &inputs, GradOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        for (k, row) in rows.iter().enumerate() {
            for (j, &analytic) in row.value().to_vec::<f64>().iter().enumerate() {
                let numeric = numeric[k][j][i];
                worst.compare(CheckError {
                    order,
                    input: k,
                    location: format!(
                        "Jacobian element (output {:?}, input element {:?})",
                        unravel(i, y.shape()),
                        unravel(j, xs[k].shape())
                    ),
                    analytic,
                    numeric,
                    tolerance: tolerance(options, numeric),
                });
            }
        }
    }
    worst.into_result()
}

/// Random projections `uᵀ·J·v` for each input: the VJP with a random `u`, dotted with a random
/// direction `v`, against `u` dotted with the directional difference along `v`.
fn projections(
    f: &CheckedFn,
    xs: &[Tensor],
    leaves: &[Var],
    y: &Var,
    options: &CheckOptions,
    order: usize,
) -> Result<(), CheckError> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let inputs: Vec<&Var> = leaves.iter().collect();
    let mut worst = Worst(None);
    for p in 0..options.projections {
        let u = Tensor::rand_normal(y.shape(), 0.0, 1.0, DType::F64, &mut rng);
        let seed = Var::constant(u.clone());
        let vjps = grad_with(&[y], &[&seed], &inputs, GradOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let u = u.to_vec::<f64>();
        for (k, vjp) in vjps.iter().enumerate() {
            let v =
                Tensor::rand_normal(xs[k].shape(), 0.0, 1.0, DType::F64, &mut rng).to_vec::<f64>();
            let analytic: f64 = vjp
                .value()
                .to_vec::<f64>()
                .iter()
                .zip(&v)
                .map(|(a, b)| a * b)
                .sum();
            let along = directional(f, xs, k, &v, options.eps);
            let numeric: f64 = u.iter().zip(&along).map(|(a, b)| a * b).sum();
            worst.compare(CheckError {
                order,
                input: k,
                location: format!("random projection {p}"),
                analytic,
                numeric,
                tolerance: tolerance(options, numeric),
            });
        }
    }
    worst.into_result()
}
