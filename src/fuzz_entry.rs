//! The loaders that read files a user did not necessarily write, as functions of raw bytes:
//! the bodies of the fuzz targets in `fuzz/` (run with `cargo +nightly fuzz run <target>`), and
//! of `tests/fuzz_corpora.rs`, which replays the committed corpora and every crash once found
//! on each `cargo test`. Each returns whether the input was accepted; any input must give
//! `Ok` or a clear error — never a panic, an abort or an enormous allocation.

use std::path::Path;

use meta::Settings;
use nn::{mlp, Activation, Checkpoint, Optimizer};

/// Bytes of a checkpoint file, loaded into a learner as both examples do: the sinusoid MLP
/// (learner from the metadata), then the Omniglot network (size from the metadata, checked
/// against the tensors), then the optimiser state checked against what was learned.
pub fn checkpoint_into_learner(bytes: &[u8]) -> bool {
    let path = Path::new("fuzzed.safetensors");
    let Ok(checkpoint) = Checkpoint::from_bytes(bytes, path) else {
        return false;
    };
    let sinusoid = mlp(&[1, 40, 40, 1], Activation::Relu);
    let restored = meta::restore_from(&checkpoint, path, &sinusoid, &Settings::default());
    let omniglot = crate::omniglot_model::restore(&checkpoint, path, &Settings::default());
    let mut accepted = false;
    for meta in [restored.ok().map(|r| r.1), omniglot.ok().map(|r| r.1)]
        .into_iter()
        .flatten()
    {
        let state = checkpoint.params("optimizer");
        if nn::optim::check_state_against(&state, &meta.flatten()).is_ok() {
            let _ = nn::Adam::new(1e-3).load_state(&state);
        }
        let _ = meta::read_iteration(&checkpoint);
        accepted = true;
    }
    accepted
}

/// Bytes of an Omniglot PNG, decoded and validated.
pub fn omniglot_image(bytes: &[u8]) -> bool {
    match meta::omniglot::decode_image(bytes, Path::new("fuzzed.png")) {
        Ok(image) => {
            assert_eq!(image.len(), meta::omniglot::IMAGE_PIXELS);
            assert!(
                image.iter().all(|v| (0.0..=1.0).contains(v)),
                "ink outside [0, 1]"
            );
            true
        }
        Err(_) => false,
    }
}

/// Bytes of a Lake run folder's `class_labels.txt`.
pub fn lake_class_labels(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let path = Path::new("run01/class_labels.txt");
    match meta::omniglot::lake::parse_class_labels(&text, "run01", path) {
        Ok(labels) => {
            assert_eq!(labels.len(), meta::omniglot::lake::WAYS);
            assert!(labels.iter().all(|&l| l < meta::omniglot::lake::WAYS));
            true
        }
        Err(_) => false,
    }
}

/// Bytes of a digits CSV.
pub fn digits_csv(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    match crate::digits::parse(&text, Path::new("digits.csv")) {
        Ok(table) => {
            assert_eq!(
                table.pixels.len(),
                table.labels.len() * crate::digits::PIXELS
            );
            assert!(table.labels.iter().all(|&l| l < crate::digits::CLASSES));
            true
        }
        Err(_) => false,
    }
}
