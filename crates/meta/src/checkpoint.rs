//! Saving and resuming meta-training.
//!
//! A training checkpoint is one safetensors file holding θ and α (`meta.theta.*`,
//! `meta.alpha.*`), the outer optimiser's state (`optimizer.*`: Adam's moments and step count),
//! and metadata: the iteration reached and the inner loop's settings. Because every
//! iteration's tasks are drawn from a seed derived from the run seed and the iteration number
//! ([`task_seed`](crate::task_seed)), resuming from iteration `i` continues exactly as the
//! uninterrupted run would have — the same tasks, the same updates, bit for bit.

use std::path::Path;

use nn::{Checkpoint, NnError, Optimizer};

use crate::learner::{Algorithm, InnerLoop};
use crate::trainer::MetaTrainer;

/// Writes θ, α, the optimiser state, the iteration reached and `metadata` to `path`
/// (atomically: an interrupted save leaves any previous checkpoint intact).
pub fn save_training(
    path: impl AsRef<Path>,
    trainer: &MetaTrainer,
    iteration: u64,
    metadata: &[(&str, String)],
) -> Result<(), NnError> {
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_params("meta", &trainer.meta.flatten());
    checkpoint.add_params("optimizer", &trainer.optimizer.state());
    checkpoint.set_metadata("iteration", iteration.to_string());
    describe_inner(&mut checkpoint, &trainer.inner);
    for (key, value) in metadata {
        checkpoint.set_metadata(*key, value.clone());
    }
    checkpoint.save(path)
}

/// The inner loop's settings, as checkpoint metadata.
pub fn describe_inner(checkpoint: &mut Checkpoint, inner: &InnerLoop) {
    checkpoint.set_metadata("algorithm", inner.algorithm.name());
    checkpoint.set_metadata("inner_steps", inner.steps.to_string());
    checkpoint.set_metadata("inner_lr", inner.lr.to_string());
    checkpoint.set_metadata("per_step_alpha", inner.per_step_alpha.to_string());
}

/// The inner loop's settings from checkpoint metadata written by [`describe_inner`].
pub fn read_inner(checkpoint: &Checkpoint, path: &Path) -> Result<InnerLoop, NnError> {
    let missing = |key: &str| NnError::Checkpoint {
        path: path.to_path_buf(),
        tensor: None,
        message: format!("no `{key}` in the metadata: not a meta-training checkpoint"),
    };
    let field = |key: &str| checkpoint.metadata(key).ok_or_else(|| missing(key));
    let bad = |key: &str, value: &str| NnError::Checkpoint {
        path: path.to_path_buf(),
        tensor: None,
        message: format!("metadata `{key}` has the unreadable value `{value}`"),
    };
    let algorithm = field("algorithm")?;
    let steps = field("inner_steps")?;
    let lr = field("inner_lr")?;
    Ok(InnerLoop {
        algorithm: Algorithm::parse(algorithm).ok_or_else(|| bad("algorithm", algorithm))?,
        steps: steps.parse().map_err(|_| bad("inner_steps", steps))?,
        lr: lr.parse().map_err(|_| bad("inner_lr", lr))?,
        per_step_alpha: field("per_step_alpha")? == "true",
    })
}

/// Restores θ, α and the optimiser state saved by [`save_training`] into `trainer` (whose
/// model and inner loop must match the checkpoint's), and returns the iteration reached.
/// Everything is checked first: on error `trainer` is unchanged.
pub fn resume_training(
    path: impl AsRef<Path>,
    trainer: &mut MetaTrainer,
) -> Result<(u64, Checkpoint), NnError> {
    let path = path.as_ref();
    let checkpoint = Checkpoint::load(path)?;
    let inner = read_inner(&checkpoint, path)?;
    let (ours, theirs) = (trainer.inner, inner);
    if (ours.algorithm, ours.steps, ours.per_step_alpha)
        != (theirs.algorithm, theirs.steps, theirs.per_step_alpha)
        || ours.lr != theirs.lr
    {
        return Err(NnError::Checkpoint {
            path: path.to_path_buf(),
            tensor: None,
            message: format!("was trained with {theirs:?}, but this run asks for {ours:?}"),
        });
    }
    let flat = checkpoint.params_like("meta", &trainer.meta.flatten())?;
    let iteration = checkpoint
        .metadata("iteration")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| NnError::Checkpoint {
            path: path.to_path_buf(),
            tensor: None,
            message: "no readable `iteration` in the metadata".into(),
        })?;
    let mut optimizer = trainer.optimizer.clone();
    optimizer.load_state(&checkpoint.params("optimizer"))?;
    // Everything read: now change the trainer.
    trainer.meta = trainer.meta.unflatten(&flat);
    trainer.optimizer = optimizer;
    Ok((iteration, checkpoint))
}
