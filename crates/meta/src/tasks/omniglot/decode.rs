//! One Omniglot image: a 105×105 grayscale PNG in, a 28×28 `f32` ink map out.
//!
//! The originals are 1-bit PNGs with black strokes (0) on white (1). Networks want the
//! opposite — ink as signal, background as zero — and a small image: the standard protocol
//! (Vinyals et al. 2016, Finn et al. 2017) downsamples to 28×28. So each image goes through:
//!
//! 1. decode to intensities in [0, 1] (1-bit and 8-bit grayscale are read; anything else is an
//!    error naming the file);
//! 2. invert: `ink = 1 − intensity`, so strokes are 1.0 and paper 0.0;
//! 3. shrink by *area averaging* ([`resize_area`]): each output pixel is the mean of the input
//!    area it covers, so a thin stroke becomes a faint line instead of vanishing or aliasing.
//!
//! Inverting and averaging commute (both are linear and the weights sum to 1), so the order of
//! steps 2 and 3 does not matter.

use std::io::Cursor;
use std::path::Path;

use super::error::{io_error, OmniglotError, Result};

/// Side of the images on disk.
pub const SOURCE_SIZE: usize = 105;
/// Side of the images handed to models.
pub const IMAGE_SIZE: usize = 28;
/// Pixels of one model image, `IMAGE_SIZE²`.
pub const IMAGE_PIXELS: usize = IMAGE_SIZE * IMAGE_SIZE;

/// Reads the PNG at `path` and returns its 28×28 ink map, row-major: strokes 1.0, paper 0.0,
/// values in between where a stroke covers part of an output pixel.
///
/// Errors name `path`: a missing file, a file that is not a PNG or fails to decode, a colour
/// type other than 1- or 8-bit grayscale, a size other than 105×105.
pub fn load_image(path: &Path) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    decode_image(&bytes, path)
}

/// [`load_image`] on the bytes of a file (named `path` in errors): decodes, validates and
/// shrinks one image. Any bytes give an image or an error, never a panic (it is fuzzed).
pub fn decode_image(bytes: &[u8], path: &Path) -> Result<Vec<f32>> {
    let intensity = decode_gray(bytes, path, SOURCE_SIZE as u32)?;
    let ink: Vec<f32> = intensity.iter().map(|&value| 1.0 - value).collect();
    Ok(resize_area(&ink, SOURCE_SIZE, IMAGE_SIZE))
}

/// Decodes a grayscale PNG of side `size` into intensities in [0, 1], row-major.
fn decode_gray(bytes: &[u8], path: &Path, size: u32) -> Result<Vec<f32>> {
    let decode_error = |error: png::DecodingError| OmniglotError::Decode {
        path: path.to_path_buf(),
        message: error.to_string(),
    };
    let mut reader = png::Decoder::new(Cursor::new(bytes))
        .read_info()
        .map_err(decode_error)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    let (color, depth) = (info.color_type, info.bit_depth);
    if width != size || height != size {
        return Err(OmniglotError::WrongSize {
            path: path.to_path_buf(),
            width,
            height,
            expected: size,
        });
    }
    if color != png::ColorType::Grayscale
        || !matches!(depth, png::BitDepth::One | png::BitDepth::Eight)
    {
        return Err(OmniglotError::Decode {
            path: path.to_path_buf(),
            message: format!(
                "{color:?} at {} bits per sample; expected 1- or 8-bit grayscale",
                depth as u8
            ),
        });
    }
    let buffer_size = reader.output_buffer_size().ok_or(OmniglotError::Decode {
        path: path.to_path_buf(),
        message: "image too large".into(),
    })?;
    let mut buffer = vec![0u8; buffer_size];
    let frame = reader.next_frame(&mut buffer).map_err(decode_error)?;

    let side = size as usize;
    let mut intensity = Vec::with_capacity(side * side);
    for row in buffer.chunks(frame.line_size).take(side) {
        match depth {
            // Eight pixels per byte, the first in the most significant bit; a row is padded to
            // a whole byte.
            png::BitDepth::One => intensity
                .extend((0..side).map(|column| ((row[column / 8] >> (7 - column % 8)) & 1) as f32)),
            _ => intensity.extend(row[..side].iter().map(|&byte| byte as f32 / 255.0)),
        }
    }
    Ok(intensity)
}

/// Shrinks a square `from × from` image (row-major) to `to × to` by area averaging: each output
/// pixel is the mean of the input over the square it covers.
///
/// Output pixel `i` covers input coordinates `[i·s, (i+1)·s)` with `s = from / to`. For Omniglot
/// `s = 105 / 28 = 3.75`, so an output pixel covers three whole input pixels and parts of one or
/// two more: output 0 covers inputs 0, 1, 2 fully and ¾ of input 3; output 1 covers the last ¼
/// of input 3, inputs 4, 5, 6 and ½ of input 7; and so on. Each input pixel is weighted by the
/// *length* of its overlap divided by `s` (the weights of one output sum to 1). In 2-d the
/// overlap of two squares is the product of the overlaps along each axis, so the resize is
/// separable: average along rows, then along columns.
///
/// NOTE: the sums run in f64. In f32 the weights 1/3.75 of a fully inked region add up to
/// 1.0000002, outside the promised [0, 1]; in f64 the error is far below f32's resolution, so
/// the result rounds to exactly 1.0. Overlaps are computed exactly in integers, measuring lengths in units of `1/to` input
/// pixel (input `k` spans `[k·to, (k+1)·to)`, output `i` spans `[i·from, (i+1)·from)`), so no
/// rounding decides which pixels an output covers.
///
/// ```
/// use meta::omniglot::resize_area;
/// // A 4×4 image with one lit pixel shrinks to 2×2: the pixel's quadrant holds its mean.
/// let mut image = vec![0.0f32; 16];
/// image[0] = 1.0;
/// assert_eq!(resize_area(&image, 4, 2), vec![0.25, 0.0, 0.0, 0.0]);
/// ```
///
/// # Panics
/// If `image.len() != from²` or `to` is 0 while `from` is not.
pub fn resize_area(image: &[f32], from: usize, to: usize) -> Vec<f32> {
    assert_eq!(
        image.len(),
        from * from,
        "resize_area: image of {} pixels is not {from}×{from}",
        image.len()
    );
    assert!(
        to > 0 || from == 0,
        "resize_area: cannot shrink {from}×{from} to 0×0"
    );
    if from == 0 {
        return Vec::new();
    }
    let weights = coverage(from, to);
    // Along rows: `from` rows of `to` averages.
    let mut rows = vec![0.0f64; from * to];
    for (input_row, output_row) in image.chunks(from).zip(rows.chunks_mut(to)) {
        for (out, covered) in output_row.iter_mut().zip(&weights) {
            *out = covered.iter().map(|&(k, w)| w * input_row[k] as f64).sum();
        }
    }
    // Along columns: average the row-averaged image's rows.
    let mut output = vec![0.0f64; to * to];
    for (output_row, covered) in output.chunks_mut(to).zip(&weights) {
        for &(k, w) in covered {
            for (out, &value) in output_row.iter_mut().zip(&rows[k * to..(k + 1) * to]) {
                *out += w * value;
            }
        }
    }
    output.into_iter().map(|value| value as f32).collect()
}

/// For each of the `to` output positions, the input positions it covers and their weights
/// (overlap length / output length).
fn coverage(from: usize, to: usize) -> Vec<Vec<(usize, f64)>> {
    (0..to)
        .map(|i| {
            let (start, end) = (i * from, (i + 1) * from);
            let (first, last) = (start / to, (end - 1) / to);
            (first..=last)
                .map(|k| {
                    let overlap = end.min((k + 1) * to) - start.max(k * to);
                    (k, overlap as f64 / from as f64)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omniglot_coverage_weights_sum_to_one_and_follow_the_3_75_stride() {
        let weights = coverage(SOURCE_SIZE, IMAGE_SIZE);
        for covered in &weights {
            let total: f64 = covered.iter().map(|&(_, w)| w).sum();
            assert!((total - 1.0).abs() < 1e-6);
        }
        // Output 0: inputs 0, 1, 2 whole (1/3.75 each) and ¾ of input 3 (0.75/3.75 = 0.2).
        let first: Vec<usize> = weights[0].iter().map(|&(k, _)| k).collect();
        assert_eq!(first, vec![0, 1, 2, 3]);
        assert!((weights[0][3].1 - 0.2).abs() < 1e-6);
        // Output 1: ¼ of input 3, inputs 4, 5, 6, ½ of input 7.
        let second: Vec<usize> = weights[1].iter().map(|&(k, _)| k).collect();
        assert_eq!(second, vec![3, 4, 5, 6, 7]);
        assert!((weights[1][0].1 - 0.25 / 3.75).abs() < 1e-6);
        assert!((weights[1][4].1 - 0.5 / 3.75).abs() < 1e-6);
        assert_eq!(weights[27].last().unwrap().0, 104);
    }
}
