//! Helpers shared by the Omniglot tests: scratch folders and PNG writers.
#![allow(dead_code)] // each test file uses a different subset

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Side of the images on disk.
pub const SIDE: usize = 105;

/// A fresh, empty scratch folder under cargo's temporary folder for integration tests.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("omniglot-{name}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a grayscale PNG with the given bit depth; `rows` are already packed for that depth.
fn write_gray(path: &Path, width: usize, height: usize, depth: png::BitDepth, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = BufWriter::new(File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, width as u32, height as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(depth);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
}

/// Writes a 1-bit PNG of `width × height` in Omniglot's convention: `ink[r·width + c]` true is a
/// black (0) pixel, false a white (1) one.
pub fn write_ink(path: &Path, width: usize, height: usize, ink: &[bool]) {
    assert_eq!(ink.len(), width * height);
    let line = width.div_ceil(8);
    let mut data = vec![0u8; line * height];
    for r in 0..height {
        for c in 0..width {
            if !ink[r * width + c] {
                data[r * line + c / 8] |= 1 << (7 - c % 8); // white is bit 1
            }
        }
    }
    write_gray(path, width, height, png::BitDepth::One, &data);
}

/// Writes an 8-bit grayscale PNG (`values` are intensities: 0 black, 255 white).
pub fn write_gray8(path: &Path, width: usize, height: usize, values: &[u8]) {
    write_gray(path, width, height, png::BitDepth::Eight, values);
}

/// A 105×105 ink map with the rectangle rows `rows`, columns `columns` inked.
pub fn rectangle(rows: std::ops::Range<usize>, columns: std::ops::Range<usize>) -> Vec<bool> {
    let mut ink = vec![false; SIDE * SIDE];
    for r in rows {
        for c in columns.clone() {
            ink[r * SIDE + c] = true;
        }
    }
    ink
}

/// Inks the union of two maps.
pub fn union(a: &[bool], b: &[bool]) -> Vec<bool> {
    a.iter().zip(b).map(|(x, y)| *x || *y).collect()
}

/// A distinct, rotation-asymmetric drawing for (character, drawing): a horizontal bar whose
/// height depends on the character and a shorter vertical bar whose column depends on the
/// drawing, both away from the centre.
pub fn drawing(character: usize, drawing: usize) -> Vec<bool> {
    let row = 4 + 9 * (character % 10);
    let column = 6 + 11 * (drawing % 8);
    union(
        &rectangle(row..row + 6, 8..70),
        &rectangle(0..30 + 3 * (character % 25), column..column + 5),
    )
}

/// Writes a data set under `root`: `alphabets[a]` has `characters` characters
/// (`character01`, …) of `drawings` drawings each; character numbers run across alphabets so
/// every character looks different.
pub fn write_dataset(root: &Path, alphabets: &[&str], characters: usize, drawings: usize) {
    for (a, alphabet) in alphabets.iter().enumerate() {
        for c in 0..characters {
            for d in 0..drawings {
                let path = root
                    .join(alphabet)
                    .join(format!("character{:02}", c + 1))
                    .join(format!("{:02}_{:02}.png", a * characters + c, d + 1));
                write_ink(&path, SIDE, SIDE, &drawing(a * characters + c, d));
            }
        }
    }
}

/// `image` rotated counterclockwise by 90° `quarters` times, the plain way (numpy's `rot90`:
/// one quarter turn maps out[r][c] = in[c][n−1−r]).
pub fn rot90(image: &[f32], quarters: usize) -> Vec<f32> {
    let n = (image.len() as f64).sqrt() as usize;
    let mut current = image.to_vec();
    for _ in 0..quarters {
        let mut next = vec![0.0; n * n];
        for r in 0..n {
            for c in 0..n {
                next[r * n + c] = current[c * n + (n - 1 - r)];
            }
        }
        current = next;
    }
    current
}

/// The two minimal background splits of the real data, if present: looked for as
/// `shared/data/omniglot` beside the workspace (CI clones the repository next to `shared/`) or
/// beside one of its parents. Prints why and returns `None` when absent.
pub fn real_roots() -> Option<[PathBuf; 2]> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    let data = workspace
        .ancestors()
        .skip(1)
        .take(3)
        .map(|folder| folder.join("shared/data/omniglot"))
        .find(|candidate| candidate.is_dir());
    match data {
        Some(data) => Some([
            data.join("images_background_small1"),
            data.join("images_background_small2"),
        ]),
        None => {
            eprintln!(
                "skipped: no shared/data/omniglot beside {}",
                workspace.display()
            );
            None
        }
    }
}
