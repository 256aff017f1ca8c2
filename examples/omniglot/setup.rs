//! What `train`, `eval` and `lake` share: the data, the split, the network, the inner loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use meta::omniglot::{rotated, Class, Episode, Omniglot, Sampler, Split};
use meta::{Cluster, Learner, MetaParams, RateInit, Settings};
use nn::layers::Sequential;
use nn::Checkpoint;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::{DataArgs, EpisodeArgs};

/// The data folders: those given, or the minimal splits beside the repository.
pub fn roots(args: &DataArgs) -> Result<Vec<PathBuf>, String> {
    if !args.data.is_empty() {
        return Ok(args.data.clone());
    }
    let shared = Path::new("../shared/data/omniglot");
    let defaults = [
        shared.join("images_background_small1"),
        shared.join("images_background_small2"),
    ];
    if defaults.iter().all(|p| p.is_dir()) {
        Ok(defaults.to_vec())
    } else {
        Err(format!(
            "no --data given and the default folders {} are missing; point --data at an Omniglot \
             folder (https://github.com/brendenlake/omniglot, python/images_background.zip)",
            defaults
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        ))
    }
}

/// Loads the images (through a cache in `cache_dir`, if given) and prints what was found.
pub fn load(args: &DataArgs, cache_dir: Option<&Path>) -> Result<Arc<Omniglot>, String> {
    let roots = roots(args)?;
    let (data, status) = match cache_dir {
        Some(dir) => {
            let (data, status) = Omniglot::load_cached(&roots, &dir.join("omniglot-cache.bin"))
                .map_err(|e| e.to_string())?;
            (data, format!("{status:?}"))
        }
        None => (
            Omniglot::load(&roots).map_err(|e| e.to_string())?,
            "none".to_string(),
        ),
    };
    println!(
        "data: {} alphabets, {} characters, {} images (cache: {status})",
        data.alphabets().len(),
        data.characters().len(),
        data.image_count()
    );
    Ok(Arc::new(data))
}

/// [`load`] on every rank of `cluster`, rank 0 first: it writes the image cache, which the
/// others then read (two processes writing one cache file at once could clash). Collective.
pub fn load_in_turn(
    args: &DataArgs,
    cache_dir: Option<&Path>,
    cluster: &dyn Cluster,
) -> Result<Arc<Omniglot>, String> {
    let first = (cluster.rank() == 0).then(|| load(args, cache_dir));
    cluster.barrier(); // rank 0 has loaded
    first.unwrap_or_else(|| load(args, cache_dir))
}

/// The classes of each part of the split.
pub struct Classes {
    pub train: Vec<Class>,
    pub validation: Vec<Class>,
    pub test: Vec<Class>,
}

/// Training, validation and test classes: the test alphabets held out; 10% of the remaining
/// characters (seeded) held out for validation; training characters augmented with 90°, 180°
/// and 270° rotations as new classes, as MAML does.
pub fn classes(data: &Omniglot, args: &DataArgs, seed: u64) -> Result<Classes, String> {
    let test: Vec<&str> = args.test_alphabets.iter().map(String::as_str).collect();
    let train: Vec<&str> = data
        .alphabets()
        .into_iter()
        .filter(|a| !test.contains(a))
        .collect();
    let split = Split::by_alphabet_names(data, &train, &[], &test).map_err(|e| e.to_string())?;
    let mut train_classes = split.train;
    train_classes.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x5EED_5A11));
    let validation = train_classes.split_off(train_classes.len() - train_classes.len() / 10);
    Ok(Classes {
        train: rotated(&train_classes),
        validation,
        test: split.test,
    })
}

/// A task sampler over `classes`, with errors that say which part of the split is short.
pub fn sampler(
    data: &Arc<Omniglot>,
    classes: Vec<Class>,
    episode: &EpisodeArgs,
    part: &str,
) -> Result<Sampler, String> {
    let shape = Episode {
        ways: episode.ways,
        shots: episode.shots,
        queries: episode.queries,
    };
    Sampler::new(Arc::clone(data), classes, shape).map_err(|e| format!("{part} classes: {e}"))
}

/// MAML's Omniglot network for `ways` classes with `hidden` filters.
pub fn network(hidden: usize, ways: usize) -> Sequential {
    metagrad::omniglot_model::network(hidden, ways)
}

/// This example's defaults for learner `algo` on `ways`-way tasks and a run of `iters`
/// meta-iterations: MAML's inner rate (0.4 up to 5 ways, else 0.1) and one inner step; Meta-SGD's
/// α starts at that rate everywhere; MAML++ takes 5 steps of 0.1 (its paper's setting), the
/// first third of the run first order, the multi-step loss annealed over the first tenth;
/// Reptile takes 5 steps.
pub fn defaults(algo: &str, ways: usize, iters: u64) -> Settings {
    let lr = if ways <= 5 { 0.4 } else { 0.1 };
    let base = Settings {
        inner_steps: 1,
        inner_lr: lr,
        alpha_init: RateInit::Constant(lr),
        multi_step_iters: iters / 10,
        first_order_iters: iters / 3,
        ..Settings::default()
    };
    match algo {
        "mamlpp" => Settings {
            inner_steps: 5,
            inner_lr: 0.1,
            ..base
        },
        "reptile" => Settings {
            inner_steps: 5,
            ..base
        },
        _ => base,
    }
}

/// The learner a checkpoint was trained with, what it learned, and its network (from the
/// metadata, checked against the tensors before anything is built).
pub fn from_checkpoint(
    path: &Path,
) -> Result<(Box<dyn Learner>, MetaParams, Sequential, usize), String> {
    let checkpoint = Checkpoint::load(path).map_err(|e| e.to_string())?;
    let ways = checkpoint
        .metadata_integer("ways", 1..=metagrad::omniglot_model::MAX_WAYS)
        .map_err(|e| e.to_string())? as usize;
    metagrad::omniglot_model::restore(&checkpoint, path, &defaults("", ways, 0))
}
