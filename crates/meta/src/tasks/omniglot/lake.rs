//! Lake's one-shot classification benchmark (Lake, Salakhutdinov & Tenenbaum 2015).
//!
//! Twenty *runs*, each a 20-way 1-shot problem on characters of the evaluation alphabets: 20
//! training images, one per class, and 20 test images, one drawn by another person for each
//! class. A learner labels each test image with one of the 20 classes; the score is the error
//! rate, per run and averaged over runs (people: 4.5%; Lake's Bayesian program learning: 3.3%).
//!
//! Folder layout (the repository's `all_runs`, unzipped):
//!
//! ```text
//! <runs>/run01/training/class01.png … class20.png
//! <runs>/run01/test/item01.png … item20.png
//! <runs>/run01/class_labels.txt     one line per test item:
//!                                   run01/test/item01.png run01/training/class17.png
//! ```
//!
//! Images are decoded like the data set's ([`load_image`]): 28×28, strokes 1.0. Class `classMM`
//! gets label `MM − 1`, so the support batch of a run is 20 images labelled 0..20 in order.
//!
//! The baseline here, [`nearest_neighbour`], is the simplest one: the training image nearest to
//! the test image in Euclidean distance between the 28×28 ink maps. (Lake's own demo uses a
//! modified Hausdorff distance on the 105×105 strokes; this is not that.)

use std::path::{Path, PathBuf};

use autograd::Var;
use nn::Module;
use rayon::prelude::*;
use tensor::Tensor;

use super::decode::{load_image, IMAGE_PIXELS, IMAGE_SIZE};
use super::error::{io_error, OmniglotError, Result};
use super::sampler::images_batch;
use crate::learners::{Learner, MetaParams, Tape};
use crate::tasks::Batch;

/// Classes (and test items) per run.
pub const WAYS: usize = 20;

/// One run of the benchmark.
#[derive(Clone, Debug)]
pub struct Run {
    /// Folder name, e.g. `run01`.
    pub name: String,
    /// The 20 training images as a 20-way 1-shot support set: `[20, 1, 28, 28]`, image `k` is
    /// `classMM.png` with `MM = k + 1` and has label `k`.
    pub support: Batch,
    /// The 20 test images `item01.png … item20.png`, `[20, 1, 28, 28]`.
    pub test: Tensor,
    /// The true label of each test image.
    pub labels: Vec<usize>,
}

/// Error rates in percent.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// One per run, in run order.
    pub per_run: Vec<f64>,
    /// Over all test items of all runs (the mean of `per_run`, the runs being of one size).
    pub overall: f64,
}

/// Reads every `runNN` folder of `folder`, in name order.
///
/// Errors name the path: no run folders, a missing or undecodable image, a `class_labels.txt`
/// that is missing, has a line not of the form `runNN/test/itemMM.png runNN/training/classKK.png`
/// (naming the line), names another run, or does not name each item exactly once.
pub fn read_runs(folder: &Path) -> Result<Vec<Run>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(io_error(folder))? {
        let entry = entry.map_err(io_error(folder))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("run") && entry.path().is_dir() {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(OmniglotError::Invalid(format!(
            "{}: no run folders (run01, run02, …)",
            folder.display()
        )));
    }
    names.sort();
    names
        .par_iter()
        .map(|name| read_run(folder, name))
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// The class of each test item of run `name`, from the text of its `class_labels.txt` (named
/// `labels_path` in errors): `labels[k]` is the training class (0-based) of `itemK+1`.
///
/// Errors name the file and line: a line not of the form
/// `runNN/test/itemMM.png runNN/training/classKK.png`, another run's name, a number outside
/// 01..20, an item labelled twice or not at all.
pub fn parse_class_labels(text: &str, name: &str, labels_path: &Path) -> Result<Vec<usize>> {
    let mut labels: Vec<Option<usize>> = vec![None; WAYS];
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let malformed = |message: String| OmniglotError::Malformed {
            path: labels_path.to_path_buf(),
            line: number + 1,
            message,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [item, class] = fields[..] else {
            return Err(malformed(format!(
                "expected `{name}/test/itemNN.png {name}/training/classMM.png`, found {line:?}"
            )));
        };
        let item = numbered(item, name, "test/item")
            .ok_or_else(|| malformed(format!("{item:?} is not {name}/test/itemNN.png")))?;
        let class = numbered(class, name, "training/class")
            .ok_or_else(|| malformed(format!("{class:?} is not {name}/training/classMM.png")))?;
        if !(1..=WAYS).contains(&item) || !(1..=WAYS).contains(&class) {
            return Err(malformed(format!("numbers must be 01..{WAYS}")));
        }
        if labels[item - 1].replace(class - 1).is_some() {
            return Err(malformed(format!("item{item:02} is labelled twice")));
        }
    }
    let labels = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            label.ok_or_else(|| OmniglotError::Malformed {
                path: labels_path.to_path_buf(),
                line: text.lines().count(),
                message: format!("no label for item{:02}", i + 1),
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    Ok(labels)
}

fn read_run(folder: &Path, name: &str) -> Result<Run> {
    let run = folder.join(name);
    let labels_path = run.join("class_labels.txt");
    let text = std::fs::read_to_string(&labels_path).map_err(io_error(&labels_path))?;
    let labels = parse_class_labels(&text, name, &labels_path)?;

    let images = |subfolder: &str, stem: &str| -> Result<Vec<f32>> {
        let mut pixels = Vec::with_capacity(WAYS * IMAGE_PIXELS);
        for n in 1..=WAYS {
            let path: PathBuf = run.join(subfolder).join(format!("{stem}{n:02}.png"));
            pixels.extend(load_image(&path)?);
        }
        Ok(pixels)
    };
    let support = images_batch(images("training", "class")?, (0..WAYS).collect());
    let test = Tensor::from_vec(images("test", "item")?, &[WAYS, 1, IMAGE_SIZE, IMAGE_SIZE])
        .expect("20 images");
    Ok(Run {
        name: name.to_string(),
        support,
        test,
        labels,
    })
}

/// The `NN` of `<run>/<stem>NN.png`, if `path` has that form.
fn numbered(path: &str, run: &str, stem: &str) -> Option<usize> {
    let rest = path
        .strip_prefix(run)?
        .strip_prefix('/')?
        .strip_prefix(stem)?;
    let digits = rest.strip_suffix(".png")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Adapts `meta` to each run's 20 training images — one 20-way 1-shot task — with `learner`
/// taking `steps` inner steps, and classifies the run's 20 test images. Runs are independent
/// and are adapted in parallel.
pub fn predict(
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    steps: usize,
    runs: &[Run],
) -> Vec<Vec<usize>> {
    runs.par_iter()
        .map(|run| {
            let adapted = learner.adapt(model, meta, &run.support, 0, steps, Tape::Off);
            let test = Var::constant(run.test.clone());
            autograd::no_grad(|| learner.predict(model, meta, &adapted, &test))
                .value()
                .argmax(-1)
        })
        .collect()
}

/// The error rates of `predictions` (one label per test item, per run).
///
/// # Panics
/// If there is not one prediction list per run, or one prediction per test item.
pub fn score(runs: &[Run], predictions: &[Vec<usize>]) -> Score {
    assert_eq!(
        runs.len(),
        predictions.len(),
        "lake::score: {} prediction lists for {} runs",
        predictions.len(),
        runs.len()
    );
    let (mut wrong_total, mut items_total) = (0, 0);
    let per_run = runs
        .iter()
        .zip(predictions)
        .map(|(run, predicted)| {
            assert_eq!(
                predicted.len(),
                run.labels.len(),
                "lake::score: {}: {} predictions for {} test items",
                run.name,
                predicted.len(),
                run.labels.len()
            );
            let wrong = run
                .labels
                .iter()
                .zip(predicted)
                .filter(|(a, b)| a != b)
                .count();
            wrong_total += wrong;
            items_total += run.labels.len();
            100.0 * wrong as f64 / run.labels.len() as f64
        })
        .collect();
    Score {
        per_run,
        overall: 100.0 * wrong_total as f64 / items_total.max(1) as f64,
    }
}

/// The pixel-space nearest-neighbour baseline: each test image gets the label of the training
/// image at the smallest Euclidean distance (ties go to the lower label).
pub fn nearest_neighbour(runs: &[Run]) -> Vec<Vec<usize>> {
    runs.par_iter()
        .map(|run| {
            let training = run.support.x.to_vec::<f32>();
            let test = run.test.to_vec::<f32>();
            test.chunks(IMAGE_PIXELS)
                .map(|item| {
                    let squared_distance = |class: &[f32]| -> f32 {
                        item.iter().zip(class).map(|(a, b)| (a - b) * (a - b)).sum()
                    };
                    let mut best = (0, f32::INFINITY);
                    for (label, class) in training.chunks(IMAGE_PIXELS).enumerate() {
                        let distance = squared_distance(class);
                        if distance < best.1 {
                            best = (label, distance);
                        }
                    }
                    best.0
                })
                .collect()
        })
        .collect()
}
