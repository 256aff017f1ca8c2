//! Which classes a model trains, validates and is tested on.
//!
//! Omniglot's standard protocol splits by *alphabet* (Lake et al. 2015: 30 background alphabets
//! to learn from, 20 evaluation alphabets to test on), so test characters come from scripts the
//! learner has never seen. The few-shot literature (Vinyals et al. 2016, Finn et al. 2017) often
//! splits by *character* instead (1,200 training characters, the rest for testing), which is
//! easier: test characters share alphabets with training ones. Both are here, seeded.
//!
//! Santoro et al. (2016) and MAML augment the classes with rotations by multiples of 90°: each
//! rotated character is a *new class* (a "6" rotated by 180° is not a "6"). [`rotated`] applies
//! that to a list of classes — usually the training classes only, or all three lists with
//! [`Split::rotated`].

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::dataset::Omniglot;
use super::decode::IMAGE_SIZE;
use super::error::{OmniglotError, Result};

/// A counterclockwise rotation by a multiple of 90° (the direction of `numpy.rot90`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rotation {
    R0,
    R90,
    R180,
    R270,
}

impl Rotation {
    /// All four, in order.
    pub const ALL: [Rotation; 4] = [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270];

    /// Writes the rotation of the 28×28 `image` into `out`.
    ///
    /// Rotating counterclockwise by 90° sends the pixel at (row r, column c) to
    /// (n−1−c, r); read backwards, `out[r][c] = image[c][n−1−r]`.
    ///
    /// # Panics
    /// If either slice is not 28×28.
    pub fn apply(self, image: &[f32], out: &mut [f32]) {
        let n = IMAGE_SIZE;
        assert!(
            image.len() == n * n && out.len() == n * n,
            "Rotation::apply: not 28×28"
        );
        for r in 0..n {
            for c in 0..n {
                let (source_row, source_column) = match self {
                    Rotation::R0 => (r, c),
                    Rotation::R90 => (c, n - 1 - r),
                    Rotation::R180 => (n - 1 - r, n - 1 - c),
                    Rotation::R270 => (n - 1 - c, r),
                };
                out[r * n + c] = image[source_row * n + source_column];
            }
        }
    }
}

/// One class: a character of the data set, possibly rotated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Class {
    /// Index into [`Omniglot::characters`].
    pub character: usize,
    pub rotation: Rotation,
}

impl Class {
    /// The unrotated class of character `index`.
    pub fn plain(character: usize) -> Class {
        Class {
            character,
            rotation: Rotation::R0,
        }
    }
}

/// Each class in its four rotations (each a class of its own): 4× as many classes, sorted.
///
/// ```
/// use meta::omniglot::{rotated, Class, Rotation};
/// let classes = rotated(&[Class::plain(7), Class::plain(2)]);
/// assert_eq!(classes.len(), 8);
/// assert_eq!(classes[1], Class { character: 2, rotation: Rotation::R90 });
/// ```
pub fn rotated(classes: &[Class]) -> Vec<Class> {
    let all: BTreeSet<Class> = classes
        .iter()
        .flat_map(|class| {
            Rotation::ALL.map(|rotation| Class {
                character: class.character,
                rotation,
            })
        })
        .collect();
    all.into_iter().collect()
}

/// How many alphabets (or characters) go to each part of a random split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub train: usize,
    pub validation: usize,
    pub test: usize,
}

/// The classes of training, validation and test, each sorted by character index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<Class>,
    pub validation: Vec<Class>,
    pub test: Vec<Class>,
}

impl Split {
    /// A split by alphabet names. Alphabets in no list are left out; a name that is not in the
    /// data, or in two lists, is an error.
    pub fn by_alphabet_names(
        data: &Omniglot,
        train: &[&str],
        validation: &[&str],
        test: &[&str],
    ) -> Result<Split> {
        let known = data.alphabets();
        let mut seen = BTreeSet::new();
        for name in train.iter().chain(validation).chain(test) {
            if !known.contains(name) {
                return Err(OmniglotError::Invalid(format!(
                    "split: no alphabet named {name:?} (the data has {known:?})"
                )));
            }
            if !seen.insert(*name) {
                return Err(OmniglotError::Invalid(format!(
                    "split: alphabet {name:?} is listed twice"
                )));
            }
        }
        Ok(Split {
            train: classes_of_alphabets(data, train),
            validation: classes_of_alphabets(data, validation),
            test: classes_of_alphabets(data, test),
        })
    }

    /// A seeded random split by alphabet: `counts` alphabets per part, drawn without
    /// replacement; the rest are left out.
    pub fn by_alphabet(data: &Omniglot, counts: Counts, seed: u64) -> Result<Split> {
        let mut alphabets = data.alphabets();
        let parts = deal(&mut alphabets, counts, seed, "alphabets")?;
        let [train, validation, test] = parts.map(|names| classes_of_alphabets(data, &names));
        Ok(Split {
            train,
            validation,
            test,
        })
    }

    /// A seeded random split by character, ignoring alphabets: `counts` characters per part.
    pub fn by_character(data: &Omniglot, counts: Counts, seed: u64) -> Result<Split> {
        let mut characters: Vec<usize> = (0..data.characters().len()).collect();
        let parts = deal(&mut characters, counts, seed, "characters")?;
        let [train, validation, test] = parts.map(|mut indices| {
            indices.sort_unstable();
            indices.into_iter().map(Class::plain).collect()
        });
        Ok(Split {
            train,
            validation,
            test,
        })
    }

    /// The split with every part [`rotated`].
    pub fn rotated(self) -> Split {
        Split {
            train: rotated(&self.train),
            validation: rotated(&self.validation),
            test: rotated(&self.test),
        }
    }
}

/// The unrotated classes of every character of the alphabets `names`, in character order.
fn classes_of_alphabets(data: &Omniglot, names: &[&str]) -> Vec<Class> {
    (0..data.characters().len())
        .filter(|&i| names.contains(&data.characters()[i].alphabet.as_str()))
        .map(Class::plain)
        .collect()
}

/// Shuffles `items` with `seed` and deals the first `counts.train`, the next
/// `counts.validation` and the next `counts.test`.
fn deal<T: Clone>(items: &mut [T], counts: Counts, seed: u64, what: &str) -> Result<[Vec<T>; 3]> {
    let wanted = counts.train + counts.validation + counts.test;
    if wanted > items.len() {
        return Err(OmniglotError::Invalid(format!(
            "split: {wanted} {what} asked for ({counts:?}), the data has {}",
            items.len()
        )));
    }
    items.shuffle(&mut StdRng::seed_from_u64(seed));
    let (train, rest) = items.split_at(counts.train);
    let (validation, rest) = rest.split_at(counts.validation);
    Ok([
        train.to_vec(),
        validation.to_vec(),
        rest[..counts.test].to_vec(),
    ])
}
