//! Fuzz target: see `metagrad::fuzz_entry::digits_csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    metagrad::fuzz_entry::digits_csv(bytes);
});
