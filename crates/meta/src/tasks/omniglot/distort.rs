//! Random affine distortions of training images (Koch, Zemel & Salakhutdinov 2015, §4.4):
//! each image of a training task is rotated, sheared, scaled and shifted by a small random
//! amount, so the few drawings of a class look like many.
//!
//! ```text
//! A = R(θ) · [[1, ρx], [ρy, 1]] · diag(sx, sy)     θ ∈ ±10°, ρ ∈ ±0.3, s ∈ [0.8, 1.2]
//! out(p) = in(A⁻¹ (p − c − t) + c)                   t ∈ ±2 px, c the image centre
//! ```
//!
//! Each output pixel reads the input at the pre-image of its centre, by bilinear interpolation
//! with zero ink outside the image. Koch et al. distort 105×105 images; the ranges here are
//! theirs but on 28×28, so a shift of 2 px is relatively about four times larger.
//!
//! NOTE: values stay in range without clamping: an interpolated pixel is a combination of at
//! most four input pixels with non-negative weights summing to at most 1 (the missing part
//! is the zero outside), so inputs in [0, 1] give outputs in [0, 1].

use rand::rngs::StdRng;
use rand::Rng;

use super::decode::IMAGE_SIZE;

/// The ranges of the distortions; each parameter is drawn uniformly from its range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distortion {
    /// Largest rotation either way, in degrees.
    pub rotation_degrees: f64,
    /// Largest shear either way, along each axis.
    pub shear: f64,
    /// Smallest and largest scale, along each axis.
    pub scale: (f64, f64),
    /// Largest shift either way, in pixels, along each axis.
    pub shift: f64,
}

impl Distortion {
    /// Koch et al.'s ranges: ±10°, shear ±0.3, scale 0.8–1.2, shift ±2 px.
    pub fn koch() -> Distortion {
        Distortion {
            rotation_degrees: 10.0,
            shear: 0.3,
            scale: (0.8, 1.2),
            shift: 2.0,
        }
    }

    /// Distorts the square image `pixels` (row-major, `IMAGE_SIZE`²) in place, drawing the
    /// parameters from `rng`; `scratch` is reused between calls.
    pub fn apply(&self, pixels: &mut [f32], scratch: &mut Vec<f32>, rng: &mut StdRng) {
        let size = IMAGE_SIZE;
        assert_eq!(
            pixels.len(),
            size * size,
            "distort: an image of {} pixels, expected {size}×{size}",
            pixels.len()
        );
        let mut uniform = |half_width: f64| rng.random_range(-half_width..=half_width);
        let angle = uniform(self.rotation_degrees).to_radians();
        let (shear_x, shear_y) = (uniform(self.shear), uniform(self.shear));
        let (shift_x, shift_y) = (uniform(self.shift), uniform(self.shift));
        let (low, high) = self.scale;
        let (scale_x, scale_y) = (rng.random_range(low..=high), rng.random_range(low..=high));

        // A = R · Shear · Scale, then its inverse (det = (1 − ρxρy)·sx·sy > 0 for these ranges).
        let (sin, cos) = angle.sin_cos();
        let shear = [[1.0, shear_x], [shear_y, 1.0]];
        let rotated_shear = [
            [
                cos * shear[0][0] - sin * shear[1][0],
                cos * shear[0][1] - sin * shear[1][1],
            ],
            [
                sin * shear[0][0] + cos * shear[1][0],
                sin * shear[0][1] + cos * shear[1][1],
            ],
        ];
        let a = [
            [rotated_shear[0][0] * scale_x, rotated_shear[0][1] * scale_y],
            [rotated_shear[1][0] * scale_x, rotated_shear[1][1] * scale_y],
        ];
        let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
        let inverse = [
            [a[1][1] / det, -a[0][1] / det],
            [-a[1][0] / det, a[0][0] / det],
        ];

        scratch.clear();
        scratch.extend_from_slice(pixels);
        let centre = (size as f64 - 1.0) / 2.0;
        for row in 0..size {
            for col in 0..size {
                let x = col as f64 - centre - shift_x;
                let y = row as f64 - centre - shift_y;
                let source_x = inverse[0][0] * x + inverse[0][1] * y + centre;
                let source_y = inverse[1][0] * x + inverse[1][1] * y + centre;
                pixels[row * size + col] = bilinear(scratch, size, source_x, source_y);
            }
        }
    }
}

/// The image `pixels` (`size`²) at the point (x, y) by bilinear interpolation, zero outside.
fn bilinear(pixels: &[f32], size: usize, x: f64, y: f64) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |row: f64, col: f64| -> f64 {
        let inside = (0.0..size as f64).contains(&row) && (0.0..size as f64).contains(&col);
        if inside {
            f64::from(pixels[row as usize * size + col as usize])
        } else {
            0.0
        }
    };
    let top = (1.0 - fx) * at(y0, x0) + fx * at(y0, x0 + 1.0);
    let bottom = (1.0 - fx) * at(y0 + 1.0, x0) + fx * at(y0 + 1.0, x0 + 1.0);
    ((1.0 - fy) * top + fy * bottom) as f32
}
