//! Fuzz target: see `metagrad::fuzz_entry::checkpoint_into_learner`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    metagrad::fuzz_entry::checkpoint_into_learner(bytes);
});
