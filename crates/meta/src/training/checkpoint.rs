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
//! Nothing that is not finite is saved: [`save_training`] refuses a NaN or an infinity, naming
//! the iteration and the tensor, and the previous checkpoint stays as it was. Loading checks
//! before it builds: metadata numbers are read strictly and in range, the optimiser's state is
//! checked against the parameters ([`nn::optim::check_state_against`]), and
//! [`resume_training_with`] compares the settings that define a run with those recorded.
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
    let path = path.as_ref();
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_params("meta", &trainer.meta.flatten());
    checkpoint.add_params("optimizer", &trainer.optimizer.state());
    checkpoint.add_params("buffers", &trainer.learner.buffers());
    checkpoint.set_metadata("iteration", iteration.to_string());
    describe_learner(&mut checkpoint, trainer.learner.as_ref());
    for (key, value) in metadata {
        checkpoint.set_metadata(*key, value.clone());
    }
    if let Some((tensor, value)) = checkpoint.first_non_finite() {
        return Err(error(
            path,
            format!(
                "not saved: at iteration {iteration}, `{tensor}` holds {value}; the previous \
                 checkpoint (if any) is kept"
            ),
        ));
    }
    checkpoint.save(path)
}

/// The iteration a training checkpoint reached (strictly read: a whole number).
pub fn read_iteration(checkpoint: &Checkpoint) -> Result<u64, NnError> {
    checkpoint.metadata_integer("iteration", 0..=MAX_ITERATION)
}

/// The largest iteration a checkpoint may record (2⁵³: exact in an f64, far beyond any run).
pub const MAX_ITERATION: u64 = 1 << 53;

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
    let (learner, meta) = restore_from(&checkpoint, path, model, defaults)?;
    Ok((learner, meta, checkpoint))
}

/// [`restore`] from a checkpoint already read (`path` names it in errors).
pub fn restore_from(
    checkpoint: &Checkpoint,
    path: &Path,
    model: &dyn Module,
    defaults: &Settings,
) -> Result<(Box<dyn Learner>, MetaParams), NnError> {
    let mut learner = read_learner(checkpoint, path, defaults)?;
    let template = learner.init(model, DType::F32, &mut StdRng::seed_from_u64(0));
    let flat = checkpoint.params_like("meta", &template.flatten())?;
    learner
        .load_buffers(&checkpoint.params("buffers"))
        .map_err(|e| error(path, e))?;
    if let Some((tensor, value)) = checkpoint.first_non_finite() {
        return Err(error(
            path,
            format!("`{tensor}` holds {value}: not a usable checkpoint"),
        ));
    }
    Ok((learner, template.unflatten(&flat)))
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
    resume_training_with(path, trainer, &[], false)
}

/// [`resume_training`], also comparing the settings that define the run (`run`: key and value
/// as this run would record them, e.g. `seed`, `ways`, `outer_lr`) with the checkpoint's
/// metadata. Unless `allow_changes`, any difference — in `run` or in the learner's settings —
/// is refused, each one named with both values. A different learner, or tensors of other
/// shapes, are refused always.
pub fn resume_training_with(
    path: impl AsRef<Path>,
    trainer: &mut MetaTrainer,
    run: &[(&str, String)],
    allow_changes: bool,
) -> Result<(u64, Checkpoint), NnError> {
    let path = path.as_ref();
    let checkpoint = Checkpoint::load(path)?;
    let ours = trainer.learner.as_ref();
    let theirs = read_learner(&checkpoint, path, &Settings::default())?;
    let mut changed = Vec::new();
    if theirs.name() == ours.name() {
        let settings = ours.settings();
        let learner_run: Vec<(&str, String)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        changed = run_differences(&checkpoint, &learner_run);
    }
    changed.extend(run_differences(&checkpoint, run));
    if !changed.is_empty() && !allow_changes {
        return Err(error(
            path,
            format!(
                "was written by a run with other settings; {} (pass --allow-changed-settings to \
                 resume anyway)",
                changed.join("; ")
            ),
        ));
    }
    let recorded: Vec<(String, String)> = ours
        .settings()
        .into_iter()
        .map(|(key, _)| {
            let value = checkpoint.metadata(&key).unwrap_or("(not recorded)");
            (key, value.to_string())
        })
        .collect();
    if theirs.name() != ours.name() || (recorded != ours.settings() && !allow_changes) {
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
    let iteration = read_iteration(&checkpoint)?;
    if let Some((tensor, value)) = checkpoint.first_non_finite() {
        return Err(error(
            path,
            format!("`{tensor}` holds {value}: cannot resume from it"),
        ));
    }
    let state = checkpoint.params("optimizer");
    nn::optim::check_state_against(&state, &trainer.meta.flatten())
        .map_err(|e| error(path, e.to_string()))?;
    let previous_buffers = trainer.learner.buffers();
    trainer
        .learner
        .load_buffers(&checkpoint.params("buffers"))
        .map_err(|e| error(path, e))?;
    if let Err(e) = trainer.optimizer.load_state(&state) {
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

/// Each setting of `run` whose value differs from the checkpoint's metadata, as
/// "`key`: checkpoint A, this run B".
pub fn run_differences(checkpoint: &Checkpoint, run: &[(&str, String)]) -> Vec<String> {
    run.iter()
        .filter_map(|(key, ours)| {
            let theirs = checkpoint.metadata(key).unwrap_or("(not recorded)");
            (theirs != ours).then(|| format!("`{key}`: checkpoint {theirs}, this run {ours}"))
        })
        .collect()
}
