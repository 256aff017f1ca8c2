//! Resuming from a training checkpoint continues exactly where the run left off.

use meta::{
    resume_training, save_training, task_seed, Algorithm, AlphaInit, Execution, InnerLoop,
    MetaParams, MetaTrainer, Sinusoid, Tasks,
};
use nn::{mlp, Activation, Adam};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

fn trainer(algorithm: Algorithm) -> MetaTrainer {
    let inner = InnerLoop {
        algorithm,
        steps: 1,
        lr: 0.01,
        per_step_alpha: false,
    };
    let model = mlp(&[1, 8, 1], Activation::Relu);
    let meta = MetaParams::init(
        &model,
        &inner,
        AlphaInit::Uniform {
            low: 0.005,
            high: 0.1,
        },
        DType::F32,
        &mut StdRng::seed_from_u64(5),
    );
    MetaTrainer {
        model: Box::new(model),
        meta,
        inner,
        optimizer: Adam::new(1e-2),
        execution: Execution::Vectorised { chunk: 3 },
    }
}

/// Iterations `range` of a run with seed 11.
fn train(trainer: &mut MetaTrainer, range: std::ops::Range<u64>) {
    let family = Sinusoid::maml(5);
    for iteration in range {
        trainer.step_on(Tasks::Drawn {
            source: &family,
            count: 4,
            seed: task_seed(11, iteration as usize),
        });
    }
}

fn values(trainer: &MetaTrainer) -> Vec<Vec<f32>> {
    trainer
        .meta
        .flatten()
        .tensors()
        .iter()
        .map(|t| t.to_vec::<f32>())
        .collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("resume-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn resumed_run_equals_uninterrupted_run_bit_for_bit() {
    let mut straight = trainer(Algorithm::MetaSgd);
    train(&mut straight, 0..8);

    let mut first_half = trainer(Algorithm::MetaSgd);
    train(&mut first_half, 0..4);
    let path = scratch("half.safetensors");
    save_training(&path, &first_half, 4, &[("note", "test".into())]).unwrap();
    drop(first_half);

    let mut resumed = trainer(Algorithm::MetaSgd); // fresh θ, α and Adam state
    let (iteration, checkpoint) = resume_training(&path, &mut resumed).unwrap();
    assert_eq!(iteration, 4);
    assert_eq!(checkpoint.metadata("note"), Some("test"));
    train(&mut resumed, iteration..8);
    assert_eq!(values(&resumed), values(&straight));
    assert_eq!(resumed.optimizer.steps(), 8);
}

#[test]
fn a_mismatched_checkpoint_is_refused_and_changes_nothing() {
    let mut saved = trainer(Algorithm::MetaSgd);
    train(&mut saved, 0..2);
    let path = scratch("metasgd.safetensors");
    save_training(&path, &saved, 2, &[]).unwrap();

    // Another algorithm: refused, naming the file.
    let mut other = trainer(Algorithm::Maml);
    let before = values(&other);
    let err = resume_training(&path, &mut other).unwrap_err().to_string();
    assert!(
        err.contains("metasgd.safetensors") && err.contains("was trained with"),
        "{err}"
    );
    assert_eq!(values(&other), before);

    // A model of another size: refused, naming the tensor.
    let mut wider = trainer(Algorithm::MetaSgd);
    let model = mlp(&[1, 9, 1], Activation::Relu);
    wider.meta = MetaParams::init(
        &model,
        &wider.inner,
        AlphaInit::Constant(0.1),
        DType::F32,
        &mut StdRng::seed_from_u64(0),
    );
    wider.model = Box::new(model);
    let before = values(&wider);
    let err = resume_training(&path, &mut wider).unwrap_err().to_string();
    assert!(
        err.contains("meta.theta.0.weight") && err.contains("shape"),
        "{err}"
    );
    assert_eq!(values(&wider), before);
    assert!(wider.model.check(&wider.meta.theta).is_ok());

    // A missing file: an error naming it.
    let err = resume_training(scratch("missing.safetensors"), &mut other)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.safetensors"), "{err}");
}
