//! N-way K-shot classification tasks drawn from a list of Omniglot classes.
//!
//! A task (Vinyals et al. 2016; Finn et al. 2017): pick N distinct classes, then K + Q distinct
//! drawings of each; the first K of a class go to the support set, the other Q to the query
//! set. Labels are 0..N, assigned to the picked classes in a fresh random order per task, so
//! no class keeps a label across tasks and the learner cannot memorise class→label: it has to
//! learn from the support set.
//!
//! Rows are grouped by class (the K support images of the first picked class, then the next
//! class's…); the labels carry the shuffled mapping.
//!
//! A sampler may [distort](Sampler::with_distortion) every image it draws (for training). The
//! distortions come from a generator seeded by the task's own generator after everything else
//! is drawn, so a task has the same classes and drawings with or without them, and a seed
//! gives the same images whatever the thread count.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::{index, SliceRandom};
use rand::{Rng, SeedableRng};
use tensor::Tensor;

use super::dataset::Omniglot;
use super::decode::{IMAGE_PIXELS, IMAGE_SIZE};
use super::distort::Distortion;
use super::error::{OmniglotError, Result};
use super::split::Class;
use crate::tasks::{Batch, Target, Task, TaskSource};

/// The size of a task: N classes, K support and Q query images per class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Episode {
    /// N, the number of classes per task.
    pub ways: usize,
    /// K, support images per class.
    pub shots: usize,
    /// Q, query images per class.
    pub queries: usize,
}

/// Draws [`Episode`]-shaped tasks from `classes`: support `x` is `[N·K, 1, 28, 28]`, query `x`
/// is `[N·Q, 1, 28, 28]` (f32), both with [`Target::Labels`].
///
/// ```no_run
/// use std::sync::Arc;
/// use meta::omniglot::{Class, Episode, Omniglot, Sampler};
/// use meta::TaskSource;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let data = Arc::new(Omniglot::load(&["../shared/data/omniglot/images_background_small1"])?);
/// let classes = (0..data.characters().len()).map(Class::plain).collect();
/// let episode = Episode { ways: 5, shots: 1, queries: 15 };
/// let sampler = Sampler::new(data, classes, episode)?;
/// let task = sampler.sample(&mut StdRng::seed_from_u64(0));
/// assert_eq!(task.support.x.shape(), &[5, 1, 28, 28]);
/// assert_eq!(task.query.x.shape(), &[75, 1, 28, 28]);
/// # Ok::<(), meta::omniglot::OmniglotError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sampler {
    data: Arc<Omniglot>,
    classes: Vec<Class>,
    episode: Episode,
    distortion: Option<Distortion>,
}

impl Sampler {
    /// A sampler of `episode`-shaped tasks over `classes` of `data`.
    ///
    /// Errors: N or K of 0, fewer than N classes, a class index outside the data, and a class
    /// with fewer than K + Q images (naming the class).
    pub fn new(data: Arc<Omniglot>, classes: Vec<Class>, episode: Episode) -> Result<Sampler> {
        let Episode {
            ways,
            shots,
            queries,
        } = episode;
        if ways == 0 || shots == 0 {
            return Err(OmniglotError::Invalid(format!(
                "sampler: {ways}-way {shots}-shot tasks are empty"
            )));
        }
        if classes.len() < ways {
            return Err(OmniglotError::Invalid(format!(
                "sampler: {ways}-way tasks need {ways} classes, {} given",
                classes.len()
            )));
        }
        for class in &classes {
            let character = data.characters().get(class.character).ok_or_else(|| {
                OmniglotError::Invalid(format!(
                    "sampler: class {class:?} is not in the data ({} characters)",
                    data.characters().len()
                ))
            })?;
            if character.len() < shots + queries {
                return Err(OmniglotError::TooFewImages {
                    class: format!("{} ({:?})", character.label(), class.rotation),
                    images: character.len(),
                    needed: shots + queries,
                });
            }
        }
        Ok(Sampler {
            data,
            classes,
            episode,
            distortion: None,
        })
    }

    /// The same sampler, distorting every image it draws with random `distortion`s.
    pub fn with_distortion(mut self, distortion: Distortion) -> Sampler {
        self.distortion = Some(distortion);
        self
    }

    /// The classes tasks are drawn from.
    pub fn classes(&self) -> &[Class] {
        &self.classes
    }

    pub fn episode(&self) -> Episode {
        self.episode
    }

    /// Draws a task and returns it with the class behind each label (`classes[label]`).
    pub fn draw(&self, rng: &mut StdRng) -> (Task, Vec<Class>) {
        let Episode {
            ways,
            shots,
            queries,
        } = self.episode;
        let picked: Vec<Class> = index::sample(rng, self.classes.len(), ways)
            .into_iter()
            .map(|i| self.classes[i])
            .collect();
        let mut labels: Vec<usize> = (0..ways).collect();
        labels.shuffle(rng);

        let mut support = Vec::with_capacity(ways * shots * IMAGE_PIXELS);
        let mut query = Vec::with_capacity(ways * queries * IMAGE_PIXELS);
        let (mut support_labels, mut query_labels) = (Vec::new(), Vec::new());
        for (class, &label) in picked.iter().zip(&labels) {
            let character = &self.data.characters()[class.character];
            let drawings = index::sample(rng, character.len(), shots + queries);
            for (n, drawing) in drawings.into_iter().enumerate() {
                let (pixels, targets) = if n < shots {
                    (&mut support, &mut support_labels)
                } else {
                    (&mut query, &mut query_labels)
                };
                let start = pixels.len();
                pixels.resize(start + IMAGE_PIXELS, 0.0);
                class
                    .rotation
                    .apply(character.image(drawing), &mut pixels[start..]);
                targets.push(label);
            }
        }

        if let Some(distortion) = &self.distortion {
            let mut distort_rng = StdRng::seed_from_u64(rng.random());
            let mut scratch = Vec::with_capacity(IMAGE_PIXELS);
            for image in support
                .chunks_mut(IMAGE_PIXELS)
                .chain(query.chunks_mut(IMAGE_PIXELS))
            {
                distortion.apply(image, &mut scratch, &mut distort_rng);
            }
        }

        let mut by_label = vec![picked[0]; ways];
        for (class, &label) in picked.iter().zip(&labels) {
            by_label[label] = *class;
        }
        let task = Task {
            support: images_batch(support, support_labels),
            query: images_batch(query, query_labels),
        };
        (task, by_label)
    }
}

/// A batch `[n, 1, 28, 28]` of the images in `pixels` with their labels.
pub(super) fn images_batch(pixels: Vec<f32>, labels: Vec<usize>) -> Batch {
    let shape = [labels.len(), 1, IMAGE_SIZE, IMAGE_SIZE];
    Batch {
        x: Tensor::from_vec(pixels, &shape).expect("one image per label"),
        y: Target::Labels(labels),
    }
}

impl TaskSource for Sampler {
    fn sample(&self, rng: &mut StdRng) -> Task {
        self.draw(rng).0
    }
}
