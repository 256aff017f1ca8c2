//! `metagrad`: the four crates of the workspace under one name, for the examples and benches.
//!
//! Read the crates in dependency order: [`tensor`] → [`autograd`] → [`nn`] → [`meta`].
//!
//! The README follows; its example runs as a doc-test.
#![doc = include_str!("../README.md")]

pub mod cli;
pub mod digits;
pub mod fuzz_entry;
pub mod nonfinite;
pub mod omniglot_model;
pub mod run_folder;
pub mod schedule;
pub mod synthetic;

pub use autograd;
pub use meta;
pub use nn;
pub use tensor;
