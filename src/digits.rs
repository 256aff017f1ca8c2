//! The 8×8 handwritten digits as CSV (`p0` … `p63`, then `label`; one image per row): the
//! reader behind the learned-optimiser example, strict so that a damaged file is an error naming
//! the line, not a network trained on NaN pixels or label 18446744073709551615.

use std::path::Path;

/// Pixels per image.
pub const PIXELS: usize = 64;
/// Largest pixel intensity in the file (pixels are scaled by it to [0, 1]).
pub const MAX_INTENSITY: u32 = 16;
/// Classes (digits 0–9).
pub const CLASSES: usize = 10;

/// Images as rows of [`PIXELS`] intensities in [0, 1], and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitsTable {
    pub pixels: Vec<f32>,
    pub labels: Vec<usize>,
}

/// Parses the text of a digits CSV (named `path` in errors).
///
/// # Errors
/// A header other than `p0,…,p63,label`; a row without 65 fields; a pixel that is not a whole
/// number from 0 to 16; a label that is not a digit 0–9; no rows at all. Each names the line.
pub fn parse(text: &str, path: &Path) -> Result<DigitsTable, String> {
    let at = |line: usize, message: String| format!("{}: line {line}: {message}", path.display());
    let mut lines = text.lines().enumerate();
    let expected: Vec<String> = (0..PIXELS)
        .map(|k| format!("p{k}"))
        .chain(["label".to_string()])
        .collect();
    match lines.next() {
        Some((_, header))
            if header
                .trim_end_matches('\r')
                .split(',')
                .eq(expected.iter().map(String::as_str)) => {}
        Some((_, header)) => {
            let shown: String = header.chars().take(40).collect();
            return Err(at(1, format!("header {shown:?}…, expected p0,…,p63,label")));
        }
        None => return Err(format!("{}: empty file", path.display())),
    }
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for (k, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != PIXELS + 1 {
            return Err(at(
                k + 1,
                format!(
                    "{} fields, expected {} (p0 … p63, label)",
                    fields.len(),
                    PIXELS + 1
                ),
            ));
        }
        for (column, field) in fields[..PIXELS].iter().enumerate() {
            let value = whole(field)
                .filter(|&v| v <= MAX_INTENSITY)
                .ok_or_else(|| {
                    at(
                        k + 1,
                        format!("p{column} is {field:?}, expected a whole number 0–16"),
                    )
                })?;
            pixels.push(value as f32 / MAX_INTENSITY as f32);
        }
        let label = fields[PIXELS];
        let label = whole(label)
            .filter(|&v| (v as usize) < CLASSES)
            .ok_or_else(|| at(k + 1, format!("label is {label:?}, expected a digit 0–9")))?;
        labels.push(label as usize);
    }
    if labels.is_empty() {
        return Err(format!("{}: no images after the header", path.display()));
    }
    Ok(DigitsTable { pixels, labels })
}

/// A whole number written in ASCII digits (surrounding spaces allowed), at most 9 digits.
fn whole(field: &str) -> Option<u32> {
    let digits = field.trim();
    (!digits.is_empty() && digits.len() <= 9 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}
