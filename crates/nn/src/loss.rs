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
    same_shape("mse", prediction, target);
    (prediction - target).square().mean_all()
}

/// Asserts that a loss's two operands have one shape (broadcasting a `[K, 1]` against a
/// `[K]` would silently compare every pair).
fn same_shape(loss: &str, prediction: &Var, target: &Var) {
    assert_eq!(
        prediction.shape(),
        target.shape(),
        "{loss}: prediction shape {:?} and target shape {:?} differ",
        prediction.shape(),
        target.shape()
    );
}

/// Mean absolute error, `mean |prediction − target|`.
// d/dp |p − t| = sign(p − t), taken as 0 where p = t (the subgradient `abs` uses).
///
/// # Panics
/// If the shapes differ.
pub fn l1(prediction: &Var, target: &Var) -> Var {
    same_shape("l1", prediction, target);
    (prediction - target).abs().mean_all()
}

/// The Huber loss, `mean h(prediction − target)` with `h(d) = ½d²` for `|d| ≤ δ` and
/// `δ(|d| − ½δ)` beyond: quadratic near 0, linear (robust to outliers) in the tails.
// d/dd h = d for |d| ≤ δ, δ·sign(d) beyond (continuous at |d| = δ; h'' jumps there).
///
/// # Panics
/// If the shapes differ or `delta` is not positive.
pub fn huber(prediction: &Var, target: &Var, delta: f64) -> Var {
    same_shape("huber", prediction, target);
    assert!(delta > 0.0, "huber: delta must be positive, got {delta}");
    let d = prediction - target;
    let inside = d
        .value()
        .abs()
        .le_mask(&tensor::Tensor::scalar_of(delta, d.dtype()));
    let quadratic = d.square().mul_scalar(0.5);
    let linear = d.abs().add_scalar(-0.5 * delta).mul_scalar(delta);
    Var::select(&inside, &quadratic, &linear).mean_all()
}

/// Binary cross-entropy from logits: `mean(−y·log σ(z) − (1 − y)·log(1 − σ(z)))` for logits
/// `z` and targets `y` in [0, 1] (labels, or soft targets), computed as
/// `mean(softplus(z) − y·z)`, which is the same quantity.
// d/dz (softplus(z) − y·z) = σ(z) − y;  d/dy = −z.
// NOTE: stable for logits of any size: softplus never exponentiates a positive number, and
// no σ(z) is ever rounded to 0 or 1 before a log (which gives −inf, and NaN gradients).
///
/// ```
/// use autograd::Var;
/// use tensor::Tensor;
/// let z = Var::leaf(Tensor::from_vec(vec![1e4f32, -1e4, 0.0], &[3])?);
/// let y = Var::constant(Tensor::from_vec(vec![1.0f32, 0.0, 1.0], &[3])?);
/// // Two certain, right answers (loss 0) and one coin flip (ln 2).
/// let loss = nn::bce_with_logits(&z, &y);
/// assert!((loss.item() - 2f64.ln() / 3.0).abs() < 1e-6);
/// # Ok::<(), tensor::TensorError>(())
/// ```
///
/// # Panics
/// If the shapes differ.
pub fn bce_with_logits(logits: &Var, targets: &Var) -> Var {
    same_shape("bce_with_logits", logits, targets);
    (&logits.softplus() - &(targets * logits)).mean_all()
}

/// The Kullback–Leibler divergence `KL(p ‖ q) = Σ p·(log p − log q)`, from `log_q` (log
/// probabilities, as `log_softmax` gives) and probabilities `p`, summed over every axis and
/// divided by the size of the first (the batch): PyTorch's `kl_div(log_q, p, "batchmean")`.
// ∂/∂log_q = −p / B;  ∂/∂p = (log p + 1 − log q) / B.
// NOTE: terms with p = 0 are 0 (the limit of p·log p). Their log is taken of 1 instead of 0,
// so no −inf·0 = NaN reaches the value or the gradient; the derivative in p at p = 0 (−∞)
// comes out as −log q / B, a finite stand-in: differentiate with respect to p only where it
// is positive.
///
/// # Panics
/// If the shapes differ or the inputs are 0-d.
pub fn kl_div(log_q: &Var, p: &Var) -> Var {
    same_shape("kl_div", log_q, p);
    assert!(
        log_q.ndim() >= 1,
        "kl_div: inputs need a batch axis, got shape {:?}",
        log_q.shape()
    );
    let positive = p
        .value()
        .gt_mask(&tensor::Tensor::scalar_of(0.0, p.dtype()));
    let one = Var::scalar(1.0, p.dtype());
    let log_p = Var::select(&positive, p, &one).log();
    let batch = log_q.shape()[0].max(1);
    (p * &(&log_p - log_q))
        .sum_all()
        .mul_scalar(1.0 / batch as f64)
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
