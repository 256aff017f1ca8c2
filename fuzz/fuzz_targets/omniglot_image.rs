//! Fuzz target: see `metagrad::fuzz_entry::omniglot_image`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    metagrad::fuzz_entry::omniglot_image(bytes);
});
