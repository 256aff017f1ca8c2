//! Losses and metrics. Each loss is a composite of autograd primitives, so its derivatives of
//! every order come for free (and are gradchecked in `tests/`).

use autograd::Var;

use crate::params::Params;

/// Mean squared error, `mean((prediction − target)²)`.
///
/// # Panics
/// If the shapes differ (broadcasting here is almost always a bug: `[K, 1]` against `[K]`
/// would silently compare every pair).
pub fn mse(prediction: &Var, target: &Var) -> Var {
    assert_eq!(
        prediction.shape(),
        target.shape(),
        "mse: prediction shape {:?} and target shape {:?} differ",
        prediction.shape(),
        target.shape()
    );
    (prediction - target).square().mean_all()
}

/// Negative log-likelihood: `−mean_i log_probs[i, labels[i]]`, for `log_probs` of shape
/// `[…, C]` (leading axes flattened in row-major order, matching `labels`).
///
/// # Panics
/// If `labels` does not have one entry per row, or a label is `≥ C`.
pub fn nll(log_probs: &Var, labels: &[usize]) -> Var {
    let classes = *log_probs
        .shape()
        .last()
        .expect("nll: log_probs must have a class axis");
    let rows = log_probs.numel() / classes.max(1);
    assert_eq!(
        labels.len(),
        rows,
        "nll: {} labels for {rows} rows of log-probabilities {:?}",
        labels.len(),
        log_probs.shape()
    );
    if let Some((i, &bad)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
        panic!("nll: label {bad} (row {i}) is out of range for {classes} classes");
    }
    let picked = log_probs
        .reshape(&[rows, classes])
        .gather(1, labels, &[rows, 1]);
    picked.mean_all().neg()
}

/// Cross-entropy from logits: `nll(log_softmax(logits), labels)`. Stable for any logits: the
/// log-softmax shifts by the maximum first, so logits of ±1e4 neither overflow nor give NaN.
///
/// ```
/// use autograd::Var;
/// use tensor::Tensor;
/// let logits = Var::leaf(Tensor::from_vec(vec![1e4f32, 0.0, -1e4, 0.0, 0.0, 0.0], &[2, 3])?);
/// let loss = nn::cross_entropy(&logits, &[0, 2]);
/// // Row 0 is certain and right (loss 0); row 1 is uniform (loss ln 3).
/// assert!((loss.item() - 3f64.ln() / 2.0).abs() < 1e-6);
/// # Ok::<(), tensor::TensorError>(())
/// ```
pub fn cross_entropy(logits: &Var, labels: &[usize]) -> Var {
    nll(&logits.log_softmax(-1), labels)
}

/// The fraction of rows whose largest logit is at the label.
pub fn accuracy(logits: &Var, labels: &[usize]) -> f64 {
    let predicted = logits.value().argmax(-1);
    assert_eq!(
        predicted.len(),
        labels.len(),
        "accuracy: {} predictions for {} labels",
        predicted.len(),
        labels.len()
    );
    let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    correct as f64 / labels.len().max(1) as f64
}

/// `weight · Σ ‖p‖²` over all parameters: weight decay written as a loss term.
pub fn l2_penalty(params: &Params, weight: f64) -> Var {
    let mut terms = params.iter().map(|(_, p)| p.square().sum_all());
    let first = terms.next().expect("l2_penalty: no parameters");
    terms.fold(first, |sum, t| &sum + &t).mul_scalar(weight)
}
