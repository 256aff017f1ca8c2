//! The loader on the real data: the two minimal background splits of Omniglot, which share
//! Greek and Latin. Looked for as `shared/data/omniglot` beside the workspace (CI clones the
//! repository next to `shared/`) or beside one of its parent folders; when it is absent the
//! tests say so and pass.

mod omniglot_common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use meta::omniglot::{CacheStatus, Class, Counts, Episode, Omniglot, Sampler, Split};
use meta::{Target, TaskSource};
use rand::rngs::StdRng;
use rand::SeedableRng;

const ALPHABETS: [&str; 8] = [
    "Balinese",
    "Early_Aramaic",
    "Greek",
    "Japanese_(katakana)",
    "Korean",
    "Latin",
    "Sanskrit",
    "Tagalog",
];

#[test]
fn both_minimal_splits_hold_8_alphabets_242_characters_4840_images() {
    let Some(roots) = omniglot_common::real_roots() else {
        return;
    };
    let start = Instant::now();
    let data = Omniglot::load(&roots).unwrap();
    eprintln!(
        "decoded {} images in {:.2?}",
        data.image_count(),
        start.elapsed()
    );

    assert_eq!(data.alphabets(), ALPHABETS);
    assert_eq!(data.characters().len(), 242);
    assert_eq!(data.image_count(), 4840);
    assert!(data.characters().iter().all(|c| c.len() == 20));

    // Ink maps: in [0, 1], mostly paper, strokes reaching full ink.
    let (mut low, mut high, mut total) = (f32::INFINITY, f32::NEG_INFINITY, 0.0f64);
    for character in data.characters() {
        for i in 0..character.len() {
            for &v in character.image(i) {
                low = low.min(v);
                high = high.max(v);
                total += v as f64;
            }
        }
    }
    let mean = total / (4840.0 * 784.0);
    eprintln!("pixel range [{low}, {high}], mean ink {mean:.4}");
    assert_eq!(low, 0.0);
    assert!((0.99..=1.0).contains(&high), "max {high}");
    assert!(mean > 0.02 && mean < 0.3, "mean ink {mean}");

    // A seeded 5-way 1-shot task from a split by alphabet.
    let data = Arc::new(data);
    let split = Split::by_alphabet_names(
        &data,
        &[
            "Balinese",
            "Early_Aramaic",
            "Greek",
            "Japanese_(katakana)",
            "Korean",
            "Latin",
        ],
        &["Sanskrit"],
        &["Tagalog"],
    )
    .unwrap();
    assert_eq!(
        split.train.len() + split.validation.len() + split.test.len(),
        242
    );
    let episode = Episode {
        ways: 5,
        shots: 1,
        queries: 15,
    };
    let sampler = Sampler::new(data.clone(), split.train.clone(), episode).unwrap();
    let task = sampler.sample(&mut StdRng::seed_from_u64(0));
    assert_eq!(task.support.x.shape(), &[5, 1, 28, 28]);
    assert_eq!(task.query.x.shape(), &[75, 1, 28, 28]);
    let Target::Labels(support) = &task.support.y else {
        panic!("labels")
    };
    let mut sorted = support.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2, 3, 4]);
    let Target::Labels(query) = &task.query.y else {
        panic!("labels")
    };
    assert_eq!(query.len(), 75);
    assert!((0..5).all(|label| query.iter().filter(|&&l| l == label).count() == 15));

    // Rotations: 4× the training classes, and 20-way 5-shot still fits every class.
    let rotated = Split::by_alphabet(
        &data,
        Counts {
            train: 6,
            validation: 1,
            test: 1,
        },
        0,
    )
    .unwrap()
    .rotated();
    let twenty = Episode {
        ways: 20,
        shots: 5,
        queries: 15,
    };
    let sampler = Sampler::new(data.clone(), rotated.train.clone(), twenty).unwrap();
    let (task, classes) = sampler.draw(&mut StdRng::seed_from_u64(1));
    assert_eq!(task.support.x.shape(), &[100, 1, 28, 28]);
    assert!(classes.iter().all(|c: &Class| rotated.train.contains(c)));
}

#[test]
fn the_cache_makes_the_second_load_fast() {
    let Some(roots) = omniglot_common::real_roots() else {
        return;
    };
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("omniglot-real/omniglot-cache.bin");
    let _ = std::fs::remove_file(&cache);
    let start = Instant::now();
    let (first, status) = Omniglot::load_cached(&roots, &cache).unwrap();
    let decoding = start.elapsed();
    assert_eq!(status, CacheStatus::Missing);
    let start = Instant::now();
    let (second, status) = Omniglot::load_cached(&roots, &cache).unwrap();
    let cached = start.elapsed();
    assert_eq!(status, CacheStatus::Hit);
    eprintln!("decode + write cache {decoding:.2?}, from cache {cached:.2?}");
    assert_eq!(second.image_count(), 4840);
    for (a, b) in first.characters().iter().zip(second.characters()) {
        assert_eq!(a.label(), b.label());
        assert!((0..a.len()).all(|i| a.image(i) == b.image(i)));
    }
}
