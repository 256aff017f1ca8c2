//! Random image batches for the cost and memory examples: what a batch of Omniglot images
//! costs depends on its shapes, not on its pixels, so these measure without the data folder.

use meta::{Batch, Target};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use tensor::Tensor;

/// `ways` classes × `per_class` images of 28×28 uniform [0, 1) pixels, labels shuffled.
pub fn random_images(rng: &mut StdRng, ways: usize, per_class: usize) -> Batch {
    let mut labels: Vec<usize> = (0..ways).flat_map(|c| vec![c; per_class]).collect();
    labels.shuffle(rng);
    let pixels: Vec<f32> = (0..labels.len() * 28 * 28)
        .map(|_| rng.random_range(0.0..1.0))
        .collect();
    Batch {
        x: Tensor::from_vec(pixels, &[labels.len(), 1, 28, 28]).expect("one image per label"),
        y: Target::Labels(labels),
    }
}
