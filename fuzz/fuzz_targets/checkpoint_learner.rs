//! Fuzz target: see `fuzz_entry::checkpoint_into_learner` (`src/fuzz_entry.rs`).
#![no_main]

#[allow(dead_code)]
#[path = "../../src/digits.rs"]
mod digits;
#[allow(dead_code)]
#[path = "../../src/fuzz_entry.rs"]
mod fuzz_entry;
#[allow(dead_code)]
#[path = "../../src/omniglot_model.rs"]
mod omniglot_model;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    fuzz_entry::checkpoint_into_learner(bytes);
});
