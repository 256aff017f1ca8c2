//! Omniglot (Lake, Salakhutdinov & Tenenbaum 2015): 1,623 handwritten characters from 50
//! alphabets, 20 drawings each — the standard few-shot classification benchmark.
//!
//! This is the data layer, in reading order:
//!
//! 1. `decode` — one PNG to a 28×28 ink map ([`load_image`], [`resize_area`]).
//! 2. `dataset` — all characters under one or more root folders, deduplicated and in a fixed
//!    order ([`Omniglot::load`]), optionally through a binary cache ([`Omniglot::load_cached`]).
//! 3. `split` — training / validation / test classes by alphabet or by character, and the
//!    rotation augmentation ([`Split`], [`rotated`]).
//! 4. `sampler` — seeded N-way K-shot tasks, a [`TaskSource`](crate::tasks::TaskSource)
//!    ([`Sampler`]), optionally with random affine distortions (`distort`, [`Distortion`]).
//! 5. [`lake`] — Lake's 20-way one-shot benchmark: its runs, its score, a baseline.
//!
//! ```no_run
//! use std::path::Path;
//! use meta::omniglot::{Counts, Omniglot, Split};
//!
//! let root = Path::new("../shared/data/omniglot");
//! let roots = [root.join("images_background_small1"), root.join("images_background_small2")];
//! let (data, status) = Omniglot::load_cached(&roots, Path::new("out/omniglot-cache.bin"))?;
//! println!("{} characters, {} images ({status:?})", data.characters().len(), data.image_count());
//! let counts = Counts { train: 6, validation: 1, test: 1 };
//! let split = Split::by_alphabet(&data, counts, 0)?;
//! # Ok::<(), meta::omniglot::OmniglotError>(())
//! ```

mod cache;
mod dataset;
mod decode;
mod distort;
mod error;
pub mod lake;
mod sampler;
mod split;

pub use cache::CacheStatus;
pub use dataset::{Character, Omniglot};
pub use decode::{decode_image, load_image, resize_area, IMAGE_PIXELS, IMAGE_SIZE, SOURCE_SIZE};
pub use distort::Distortion;
pub use error::{OmniglotError, Result};
pub use sampler::{Episode, Sampler};
pub use split::{rotated, Class, Counts, Rotation, Split};
