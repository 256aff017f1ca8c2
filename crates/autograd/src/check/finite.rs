//! Central finite differences: `(f(x + ε·v) − f(x − ε·v)) / 2ε`, accurate to O(ε²).

use tensor::{DType, Tensor};

use crate::var::Var;

/// The function being checked, on `f64` leaves.
pub(super) type CheckedFn<'a> = dyn Fn(&[Var]) -> Var + 'a;

/// `f(xs)` as a flat `f64` vector. The inputs are leaves that require gradients, so a
/// function that differentiates internally (the higher-order checks) works on them.
pub(super) fn eval(f: &CheckedFn, xs: &[Tensor]) -> Vec<f64> {
    let leaves: Vec<Var> = xs.iter().map(|x| Var::leaf(x.clone())).collect();
    f(&leaves).value().to_vec::<f64>()
}

/// The directional derivative of `f` along `v` applied to input `k` only.
pub(super) fn directional(f: &CheckedFn, xs: &[Tensor], k: usize, v: &[f64], eps: f64) -> Vec<f64> {
    let shifted = |sign: f64| {
        let mut moved = xs.to_vec();
        let x = xs[k].to_vec::<f64>();
        let data = x
            .iter()
            .zip(v)
            .map(|(xi, vi)| xi + sign * eps * vi)
            .collect();
        moved[k] = Tensor::from_vec::<f64>(data, xs[k].shape()).expect("same shape");
        eval(f, &moved)
    };
    let (plus, minus) = (shifted(1.0), shifted(-1.0));
    plus.iter()
        .zip(&minus)
        .map(|(p, m)| (p - m) / (2.0 * eps))
        .collect()
}

/// The partial derivatives of every output by element `j` of input `k`.
pub(super) fn partial(f: &CheckedFn, xs: &[Tensor], k: usize, j: usize, eps: f64) -> Vec<f64> {
    let mut basis = vec![0.0; xs[k].numel()];
    basis[j] = 1.0;
    directional(f, xs, k, &basis, eps)
}

/// The inputs as contiguous `f64` tensors.
pub(super) fn to_f64(inputs: &[Tensor]) -> Vec<Tensor> {
    inputs
        .iter()
        .map(|x| x.to_dtype(DType::F64).contiguous())
        .collect()
}

/// The multi-index of row-major position `flat` in `shape`.
pub(super) fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &size) in index.iter_mut().zip(shape).rev() {
        *slot = flat % size.max(1);
        flat /= size.max(1);
    }
    index
}
