//! Reading a learner's settings back from a checkpoint's metadata, strictly.
//!
//! A checkpoint is a file from anywhere: its metadata decides how large the learner's tensors
//! are (`cnp_width`, `lstm_hidden`) and how long adaptation runs (`inner_steps`) before any
//! tensor is compared. So every value must parse in full (`"2.7"` is not 2, `"-3"` is not a
//! count, `" 3"` is not 3) and lie in a range no real run leaves, or it is an error naming the
//! key and the value — never a huge allocation or a silent reinterpretation.

use std::ops::RangeInclusive;

use super::registry::Settings;

/// Bounds of the recorded counts: far above any setting used, far below what would exhaust
/// memory or time when the learner is built.
const INNER_STEPS: RangeInclusive<u64> = 0..=10_000;
const WIDTH: RangeInclusive<u64> = 1..=1024;
const LSTM_HIDDEN: RangeInclusive<u64> = 1..=1024;
const LSTM_LAYERS: RangeInclusive<u64> = 1..=16;
const SIMILARITY_MEMORY: RangeInclusive<u64> = 1..=1_000_000;
const ITERATIONS: RangeInclusive<u64> = 0..=(1 << 53);

/// A recorded whole number: ASCII digits only, within `range`.
fn integer(key: &str, value: &str, range: RangeInclusive<u64>) -> Result<u64, String> {
    let parsed = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.parse::<u64>().ok())
        .flatten()
        .filter(|n| range.contains(n));
    parsed.ok_or_else(|| {
        format!(
            "metadata `{key}` is `{value}`, expected a whole number from {} to {}",
            range.start(),
            range.end()
        )
    })
}

/// A recorded real number: finite, and above 0 if `positive`.
fn real(key: &str, value: &str, positive: bool) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(x) if x.is_finite() && (!positive || x > 0.0) && value.trim() == value => Ok(x),
        _ => Err(format!(
            "metadata `{key}` is `{value}`, expected a finite number{}",
            if positive { " above 0" } else { "" }
        )),
    }
}

fn boolean(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "metadata `{key}` is `{value}`, expected true or false"
        )),
    }
}

impl Settings {
    /// These settings with the values a checkpoint's metadata records (the keys of
    /// [`crate::Learner::settings`]) put in place; `read(key)` looks a key up.
    ///
    /// # Errors
    /// If a recorded value is not exactly a value of its kind in its range; the message names
    /// the key and the value.
    pub fn with_recorded(&self, read: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let mut s = self.clone();
        let count = |key: &str, range: RangeInclusive<u64>, into: &mut usize| {
            if let Some(v) = read(key) {
                *into = integer(key, &v, range)? as usize;
            }
            Ok::<(), String>(())
        };
        count("inner_steps", INNER_STEPS, &mut s.inner_steps)?;
        count(
            "similarity_memory",
            SIMILARITY_MEMORY,
            &mut s.similarity_memory,
        )?;
        count("cnp_width", WIDTH, &mut s.cnp_width)?;
        count("lstm_hidden", LSTM_HIDDEN, &mut s.lstm_hidden)?;
        count("lstm_layers", LSTM_LAYERS, &mut s.lstm_layers)?;
        for (key, into) in [
            ("multi_step_iters", &mut s.multi_step_iters),
            ("first_order_iters", &mut s.first_order_iters),
        ] {
            if let Some(v) = read(key) {
                *into = integer(key, &v, ITERATIONS)?;
            }
        }
        for (key, into, positive) in [
            ("inner_lr", &mut s.inner_lr, true),
            ("similarity_d", &mut s.similarity_d, true),
            ("lstm_output_scale", &mut s.lstm_output_scale, false),
        ] {
            if let Some(v) = read(key) {
                *into = real(key, &v, positive)?;
            }
        }
        if let Some(v) = read("similarity_c") {
            s.similarity_c = Some(real("similarity_c", &v, true)?);
        }
        for (key, into) in [
            ("per_step_alpha", &mut s.per_step_alpha),
            ("learn_similarity", &mut s.learn_similarity),
        ] {
            if let Some(v) = read(key) {
                *into = boolean(key, &v)?;
            }
        }
        Ok(s)
    }
}
