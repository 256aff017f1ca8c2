//! The Omniglot images of one or several root folders, decoded once and held in memory.
//!
//! Layout: `<root>/<Alphabet>/<character>/<drawing>.png` (the public repository names the
//! character folders `character01`, `character02`, … and the drawings `<id>_<drawer>.png`).
//! A *character* is identified by its alphabet and folder names. The same character may sit
//! under two roots (the two "minimal" background splits both hold Greek and Latin); it is loaded
//! once, from the first root given, so nothing is counted twice.
//!
//! Order is deterministic — alphabets, then characters, then files, each sorted by name — so a
//! character's index (what [`Class`](super::Class) refers to) and the draws of a seeded sampler
//! depend only on the data. Names starting with `.` are skipped, and so are files not ending in
//! `.png`.
//!
//! Decoding runs in parallel over files (rayon); results are gathered in file order, and when
//! several files fail the first in that order is reported, whatever the thread count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::cache::{self, CacheStatus};
use super::decode::{load_image, IMAGE_PIXELS};
use super::error::{io_error, OmniglotError, Result};

/// One character of one alphabet: all its drawings, decoded to 28×28 ink maps.
#[derive(Clone)]
pub struct Character {
    /// Alphabet folder name, e.g. `Greek`.
    pub alphabet: String,
    /// Character folder name, e.g. `character01`.
    pub name: String,
    /// The drawings, one after another, [`IMAGE_PIXELS`] values each, in file-name order.
    pixels: Vec<f32>,
}

impl std::fmt::Debug for Character {
    /// Names and counts, not the thousands of pixel values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Character({}, {} images)", self.label(), self.len())
    }
}

impl Character {
    /// Number of drawings.
    pub fn len(&self) -> usize {
        self.pixels.len() / IMAGE_PIXELS
    }

    /// Whether the character folder held no drawings.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// Drawing `index`: 28×28 values, row-major, strokes 1.0 and paper 0.0.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    pub fn image(&self, index: usize) -> &[f32] {
        &self.pixels[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }

    /// `Alphabet/character`, how errors and reports name the character.
    pub fn label(&self) -> String {
        format!("{}/{}", self.alphabet, self.name)
    }
}

/// Decoded Omniglot characters, in sorted order (alphabet, then character name).
#[derive(Clone, Debug)]
pub struct Omniglot {
    characters: Vec<Character>,
}

/// A character found on disk, before decoding.
struct Listed {
    alphabet: String,
    name: String,
    files: Vec<PathBuf>,
}

impl Omniglot {
    /// Loads every character under `roots` (see the module docs for the layout), decoding all
    /// images.
    ///
    /// Errors name the path: a missing root, a root without alphabet folders, an unreadable
    /// folder or file, a file that fails to decode, an image that is not 105×105.
    pub fn load<P: AsRef<Path>>(roots: &[P]) -> Result<Omniglot> {
        let listed = list(roots)?;
        let pixels = decode_all(&files_of(&listed))?;
        Ok(Omniglot::assemble(listed, pixels))
    }

    /// [`Omniglot::load`] through a binary cache at `cache_path` (e.g.
    /// `<out>/omniglot-cache.bin`): the decoded images are read from it when it was made from
    /// the same source files (same paths, sizes and modification times); otherwise — no cache,
    /// sources changed, or a damaged file — the images are decoded and the cache (re)written.
    /// The status says which happened.
    ///
    /// Errors: those of [`Omniglot::load`], and failing to write the cache (naming its path).
    /// A bad cache file is never an error: it is replaced.
    pub fn load_cached<P: AsRef<Path>>(
        roots: &[P],
        cache_path: &Path,
    ) -> Result<(Omniglot, CacheStatus)> {
        let listed = list(roots)?;
        let files = files_of(&listed);
        let key = cache::source_key(&files)?;
        let (pixels, status) = match cache::read(cache_path, key, files.len()) {
            Ok(pixels) => (pixels, CacheStatus::Hit),
            Err(status) => {
                let pixels = decode_all(&files)?;
                cache::write(cache_path, key, &pixels)?;
                (pixels, status)
            }
        };
        Ok((Omniglot::assemble(listed, pixels), status))
    }

    /// Cuts `pixels` (all images in listing order) into the listed characters.
    fn assemble(listed: Vec<Listed>, pixels: Vec<f32>) -> Omniglot {
        let mut rest = pixels.as_slice();
        let characters = listed
            .into_iter()
            .map(|c| {
                let (own, tail) = rest.split_at(c.files.len() * IMAGE_PIXELS);
                rest = tail;
                Character {
                    alphabet: c.alphabet,
                    name: c.name,
                    pixels: own.to_vec(),
                }
            })
            .collect();
        Omniglot { characters }
    }

    /// The characters, sorted by alphabet then name; [`Class::character`](super::Class)
    /// indexes this slice.
    pub fn characters(&self) -> &[Character] {
        &self.characters
    }

    /// The distinct alphabet names, sorted.
    pub fn alphabets(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .characters
            .iter()
            .map(|c| c.alphabet.as_str())
            .collect();
        names.dedup(); // characters are sorted by alphabet
        names
    }

    /// Total number of drawings.
    pub fn image_count(&self) -> usize {
        self.characters.iter().map(Character::len).sum()
    }
}

/// All files of the listed characters, in order.
fn files_of(listed: &[Listed]) -> Vec<&Path> {
    listed
        .iter()
        .flat_map(|c| c.files.iter().map(PathBuf::as_path))
        .collect()
}

/// Decodes `files` in parallel into one buffer, images in file order. The first failure in file
/// order is returned, whatever the thread count.
fn decode_all(files: &[&Path]) -> Result<Vec<f32>> {
    let decoded: Vec<Result<Vec<f32>>> = files.par_iter().map(|f| load_image(f)).collect();
    let mut pixels = Vec::with_capacity(files.len() * IMAGE_PIXELS);
    for image in decoded {
        pixels.extend(image?);
    }
    Ok(pixels)
}

/// The characters under `roots` and their files, deduplicated by (alphabet, character) with the
/// first root winning, in sorted order.
fn list<P: AsRef<Path>>(roots: &[P]) -> Result<Vec<Listed>> {
    let mut found: BTreeMap<(String, String), Vec<PathBuf>> = BTreeMap::new();
    for root in roots {
        let root = root.as_ref();
        if !root.is_dir() {
            return Err(OmniglotError::MissingRoot(root.to_path_buf()));
        }
        let alphabets = subfolders(root)?;
        if alphabets.is_empty() {
            return Err(OmniglotError::NoAlphabets(root.to_path_buf()));
        }
        for (alphabet, alphabet_path) in alphabets {
            for (character, character_path) in subfolders(&alphabet_path)? {
                let key = (alphabet.clone(), character);
                if found.contains_key(&key) {
                    continue; // the same character under an earlier root
                }
                found.insert(key, png_files(&character_path)?);
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|((alphabet, name), files)| Listed {
            alphabet,
            name,
            files,
        })
        .collect())
}

/// What a folder entry is, for the listing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Folder,
    File,
    Other,
}

/// Sorted entries of `folder` of the given kind, as (name, path), skipping hidden ones.
///
/// NOTE: the kind comes from the directory entry itself where the platform provides it, which
/// saves a `stat` per file (thousands of them); symbolic links are followed.
fn entries(folder: &Path, wanted: Kind) -> Result<Vec<(String, PathBuf)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(io_error(folder))? {
        let entry = entry.map_err(io_error(folder))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type().map_err(io_error(&path))?;
        let kind = if file_type.is_dir() || (file_type.is_symlink() && path.is_dir()) {
            Kind::Folder
        } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
            Kind::File
        } else {
            Kind::Other
        };
        if kind == wanted {
            entries.push((name, path));
        }
    }
    entries.sort();
    Ok(entries)
}

fn subfolders(folder: &Path) -> Result<Vec<(String, PathBuf)>> {
    entries(folder, Kind::Folder)
}

fn png_files(folder: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(folder, Kind::File)?
        .into_iter()
        .filter(|(_, path)| {
            path.extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("png"))
        })
        .map(|(_, path)| path)
        .collect())
}
