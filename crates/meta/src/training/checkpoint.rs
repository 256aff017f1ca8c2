//! Saving, restoring and resuming meta-training.
//!
//! A training checkpoint is one safetensors file holding
//!
//! - `meta.theta.*` and the learner's learned tensors (`meta.alpha.*`, `meta.lslr.*`, …);
//! - `optimizer.*`, the outer optimiser's state (Adam's moments and step count);
//! - `buffers.*`, what the learner keeps that is not learned by gradient (the similarity
//!   rule's memory of task embeddings);
//! - metadata: `learner` (its registry name), the learner's settings, the iteration reached,
//!   and whatever the program adds (the example's task settings).
//!
//! Because every iteration's tasks are drawn from a seed derived from the run seed and the
//! iteration number ([`task_seed`](crate::task_seed)), resuming from iteration `i` continues
//! exactly as the uninterrupted run would have — the same tasks, the same updates, bit for bit.

use std::path::Path;

use nn::{Checkpoint, Module, NnError};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

use crate::learners::{registry, Learner, MetaParams, Settings};
use crate::training::trainer::MetaTrainer;

fn error(path: &Path, message: String) -> NnError {
    NnError::Checkpoint {
        path: path.to_path_buf(),
        tensor: None,
        message,
    }
}

/// Writes what is learned, the optimiser state, the learner's buffers, the iteration reached
/// and `metadata` to `path` (atomically: an interrupted save leaves any previous checkpoint
/// intact).
pub fn save_training(
    path: impl AsRef<Path>,
    trainer: &MetaTrainer,
    iteration: u64,
    metadata: &[(&str, String)],
) -> Result<(), NnError> {
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_params("meta", &trainer.meta.flatten());
    checkpoint.add_params("optimizer", &trainer.optimizer.state());
    checkpoint.add_params("buffers", &trainer.learner.buffers());
    checkpoint.set_metadata("iteration", iteration.to_string());
    describe_learner(&mut checkpoint, trainer.learner.as_ref());
    for (key, value) in metadata {
        checkpoint.set_metadata(*key, value.clone());
    }
    checkpoint.save(path)
}

/// The learner's name and settings, as checkpoint metadata.
pub fn describe_learner(checkpoint: &mut Checkpoint, learner: &dyn Learner) {
    checkpoint.set_metadata("learner", learner.name());
    for (key, value) in learner.settings() {
        checkpoint.set_metadata(key, value);
    }
}

/// The learner a checkpoint was trained with: its name from the metadata (`learner`, or
/// `algorithm` in checkpoints written before learners were open), built from `defaults` with
/// the recorded settings in place.
pub fn read_learner(
    checkpoint: &Checkpoint,
    path: &Path,
    defaults: &Settings,
) -> Result<Box<dyn Learner>, NnError> {
    let name = checkpoint
        .metadata("learner")
        .or_else(|| checkpoint.metadata("algorithm"))
        .ok_or_else(|| {
            error(
                path,
                "no `learner` in the metadata: not a meta-training checkpoint".into(),
            )
        })?;
    let read = |key: &str| checkpoint.metadata(key).map(str::to_string);
    let settings = defaults.with_recorded(&read).map_err(|e| error(path, e))?;
    registry::build(name, &settings).map_err(|e| error(path, e))
}

/// Reads a checkpoint written by [`save_training`] (or by a program that saved `meta.*` and
/// described its learner) for `model`: the learner, with its buffers, and what it learned.
pub fn restore(
    path: impl AsRef<Path>,
    model: &dyn Module,
    defaults: &Settings,
) -> Result<(Box<dyn Learner>, MetaParams, Checkpoint), NnError> {
    let path = path.as_ref();
    let checkpoint = Checkpoint::load(path)?;
    let mut learner = read_learner(&checkpoint, path, defaults)?;
    let template = learner.init(model, DType::F32, &mut StdRng::seed_from_u64(0));
    let flat = checkpoint.params_like("meta", &template.flatten())?;
    learner
        .load_buffers(&checkpoint.params("buffers"))
        .map_err(|e| error(path, e))?;
    Ok((learner, template.unflatten(&flat), checkpoint))
}

/// "`name` (key=value, …)": a learner as messages name it.
pub fn learner_label(name: &str, settings: &[(String, String)]) -> String {
    let listed: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("`{name}` ({})", listed.join(", "))
}

/// Restores θ, the learned tensors, the optimiser state, the learner's buffers and the
/// iteration saved by [`save_training`] into `trainer`, whose model and learner must match the
/// checkpoint's, and returns the iteration reached. Everything is checked first: on error
/// `trainer` is unchanged.
pub fn resume_training(
    path: impl AsRef<Path>,
    trainer: &mut MetaTrainer,
) -> Result<(u64, Checkpoint), NnError> {
    let path = path.as_ref();
    let checkpoint = Checkpoint::load(path)?;
    let ours = trainer.learner.as_ref();
    let theirs = read_learner(&checkpoint, path, &Settings::default())?;
    let recorded: Vec<(String, String)> = ours
        .settings()
        .into_iter()
        .map(|(key, _)| {
            let value = checkpoint.metadata(&key).unwrap_or("(not recorded)");
            (key, value.to_string())
        })
        .collect();
    if theirs.name() != ours.name() || recorded != ours.settings() {
        return Err(error(
            path,
            format!(
                "was trained with learner {}, but this run asks for {}",
                learner_label(theirs.name(), &theirs.settings()),
                learner_label(ours.name(), &ours.settings())
            ),
        ));
    }
    let flat = checkpoint.params_like("meta", &trainer.meta.flatten())?;
    let iteration = checkpoint
        .metadata("iteration")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| error(path, "no readable `iteration` in the metadata".into()))?;
    let previous_buffers = trainer.learner.buffers();
    trainer
        .learner
        .load_buffers(&checkpoint.params("buffers"))
        .map_err(|e| error(path, e))?;
    if let Err(e) = trainer
        .optimizer
        .load_state(&checkpoint.params("optimizer"))
    {
        trainer
            .learner
            .load_buffers(&previous_buffers)
            .expect("the buffers it had");
        return Err(e);
    }
    // Everything read: now change the rest of the trainer.
    trainer.meta = trainer.meta.unflatten(&flat);
    trainer.iteration = iteration;
    Ok((iteration, checkpoint))
}
