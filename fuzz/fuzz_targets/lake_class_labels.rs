//! Fuzz target: see `metagrad::fuzz_entry::lake_class_labels`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    metagrad::fuzz_entry::lake_class_labels(bytes);
});
