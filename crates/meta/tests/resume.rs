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

#[test]
fn a_checkpoint_restores_its_learner_settings_and_memory() {
    let settings = Settings {
        inner_steps: 3,
        inner_lr: 0.02,
        similarity_memory: 7,
        ..Settings::default()
    };
    for name in ["mamlpp", "similarity-metasgd", "reptile"] {
        let mut saved = MetaTrainer::new(
            Box::new(mlp(&[1, 8, 1], Activation::Relu)),
            registry::build(name, &settings).unwrap(),
            Box::new(Adam::new(1e-2)),
            Execution::Vectorised { chunk: 3 },
            DType::F32,
            &mut StdRng::seed_from_u64(5),
        );
        train(&mut saved, 0..3);
        let path = scratch(&format!("{name}.safetensors"));
        save_training(&path, &saved, 3, &[]).unwrap();

        // Restored from the file alone (defaults that differ from what was saved).
        let model = mlp(&[1, 8, 1], Activation::Relu);
        let (learner, meta, _) = meta::restore(&path, &model, &Settings::default()).unwrap();
        assert_eq!(learner.name(), name);
        assert_eq!(learner.settings(), saved.learner.settings(), "{name}");
        assert_eq!(learner.inner_steps(), 3);
        let flat = |m: &meta::MetaParams| {
            m.flatten()
                .tensors()
                .iter()
                .map(|t| t.to_vec::<f32>())
                .collect::<Vec<_>>()
        };
        assert_eq!(flat(&meta), flat(&saved.meta), "{name}");
        let buffers = |l: &dyn Learner| {
            l.buffers()
                .tensors()
                .iter()
                .map(|t| t.to_vec::<f64>())
                .collect::<Vec<_>>()
        };
        assert_eq!(buffers(learner.as_ref()), buffers(saved.learner.as_ref()));
        if name == "similarity-metasgd" {
            // 3 steps of 4 tasks, capacity 7: the memory holds the last 7 embeddings.
            assert_eq!(learner.buffers().expect("similarity.memory").shape()[0], 7);
        }
    }
}

#[test]
fn an_unknown_learner_in_a_checkpoint_is_a_clear_error() {
    let mut checkpoint = nn::Checkpoint::new();
    checkpoint.set_metadata("learner", "mamal");
    let path = scratch("unknown-learner.safetensors");
    checkpoint.save(&path).unwrap();
    let model = mlp(&[1, 8, 1], Activation::Relu);
    let err = meta::restore(&path, &model, &Settings::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("unknown-learner.safetensors") && err.contains("unknown learner `mamal`"),
        "{err}"
    );
}

#[test]
fn checkpoints_written_before_learners_were_open_still_load() {
    // The closed-enum code wrote `algorithm` (not `learner`) and the inner loop's settings.
    let trained = trainer("metasgd");
    let mut checkpoint = nn::Checkpoint::new();
    checkpoint.add_params("meta", &trained.meta.flatten());
    for (key, value) in [
        ("algorithm", "metasgd"),
        ("inner_steps", "2"),
        ("inner_lr", "0.01"),
        ("per_step_alpha", "false"),
    ] {
        checkpoint.set_metadata(key, value);
    }
    let path = scratch("closed-enum.safetensors");
    checkpoint.save(&path).unwrap();
    let model = mlp(&[1, 8, 1], Activation::Relu);
    let (learner, meta, _) = meta::restore(&path, &model, &Settings::default()).unwrap();
    assert_eq!((learner.name(), learner.inner_steps()), ("metasgd", 2));
    assert_eq!(
        meta.learned.tensors()[0].to_vec::<f32>(),
        trained.meta.learned.tensors()[0].to_vec::<f32>()
    );
}
