//! Resuming from a training checkpoint continues exactly where the run left off.

use meta::{
    registry, resume_training, save_training, task_seed, Execution, Learner, MetaTrainer, Settings,
    Sinusoid, Tasks,
};
use nn::{mlp, Activation, Adam};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

fn learner(name: &str) -> Box<dyn Learner> {
    registry::build(name, &Settings::default()).unwrap()
}

fn trainer(name: &str) -> MetaTrainer {
    MetaTrainer::new(
        Box::new(mlp(&[1, 8, 1], Activation::Relu)),
        learner(name),
        Box::new(Adam::new(1e-2)),
        Execution::Vectorised { chunk: 3 },
        DType::F32,
        &mut StdRng::seed_from_u64(5),
    )
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
    let mut straight = trainer("metasgd");
    train(&mut straight, 0..8);

    let mut first_half = trainer("metasgd");
    train(&mut first_half, 0..4);
    let path = scratch("half.safetensors");
    save_training(&path, &first_half, 4, &[("note", "test".into())]).unwrap();
    drop(first_half);

    let mut resumed = trainer("metasgd"); // fresh θ, α and Adam state
    let (iteration, checkpoint) = resume_training(&path, &mut resumed).unwrap();
    assert_eq!(iteration, 4);
    assert_eq!(checkpoint.metadata("note"), Some("test"));
    train(&mut resumed, iteration..8);
    assert_eq!(values(&resumed), values(&straight));
    assert_eq!(resumed.iteration, 8);
    let step = resumed
        .optimizer
        .state()
        .expect("step")
        .value()
        .to_vec::<f64>();
    assert_eq!(step, [8.0]);
}

#[test]
fn a_mismatched_checkpoint_is_refused_and_changes_nothing() {
    let mut saved = trainer("metasgd");
    train(&mut saved, 0..2);
    let path = scratch("metasgd.safetensors");
    save_training(&path, &saved, 2, &[]).unwrap();

    // Another learner: refused, naming the file and both learners.
    let mut other = trainer("maml");
    let before = values(&other);
    let err = resume_training(&path, &mut other).unwrap_err().to_string();
    assert!(
        err.contains("metasgd.safetensors")
            && err.contains("was trained with learner `metasgd`")
            && err.contains("asks for `maml`"),
        "{err}"
    );
    assert_eq!(values(&other), before);

    // A model of another size: refused, naming the tensor.
    let mut wider = MetaTrainer::new(
        Box::new(mlp(&[1, 9, 1], Activation::Relu)),
        learner("metasgd"),
        Box::new(Adam::new(1e-2)),
        Execution::Vectorised { chunk: 3 },
        DType::F32,
        &mut StdRng::seed_from_u64(0),
    );
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
