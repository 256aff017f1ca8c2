//! One shared table of functions, each checked against finite differences on random inputs:
//! order 1 and 2 for every entry, order 3 for the smooth ones.
//!
//! Inputs are drawn in each function's safe domain (as minitorch shifts `log`'s argument):
//! positive where a log, a division or a fractional power needs it; well separated values
//! where a max or a relu has a kink, so that the finite-difference step never straddles one.
//!
//! The table is cut by family: `pointwise.rs` (element-wise and fused primitives),
//! `shapes.rs` (reductions, movement, linear algebra), `layers.rs` (normalisation,
//! convolution, pooling, composites); `strategies.rs` draws the inputs. `graphs.rs` checks
//! random compositions of ops to third order; `coverage.rs` checks the table against the
//! list of primitives in `ops/mod.rs`.

mod coverage;
mod graphs;
mod layers;
mod pointwise;
mod shapes;
mod strategies;

use autograd::{check_grads, CheckOptions, Var};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tensor::Tensor;

/// One function to check: how to draw its inputs, the function, how far to differentiate.
pub struct Case {
    pub name: &'static str,
    pub inputs: fn() -> BoxedStrategy<Vec<Tensor>>,
    pub f: fn(&[Var]) -> Var,
    /// Highest order checked: 2, or 3 for smooth functions.
    pub order: usize,
}

/// The whole table, family by family.
fn table() -> Vec<Case> {
    let mut cases = pointwise::cases();
    cases.extend(shapes::cases());
    cases.extend(layers::cases());
    cases
}

/// Runs every case that goes up to `order` through `check_grads` (which checks each order
/// from 1 to `order`), on a few random inputs each.
fn check_table_at(order: usize) {
    let options = CheckOptions::default();
    for case in table().into_iter().filter(|c| c.order >= order) {
        let mut runner = TestRunner::new(Config {
            cases: 6,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&(case.inputs)(), |inputs| {
            check_grads(case.f, &inputs, order, &options)
                .map_err(|e| TestCaseError::fail(e.to_string()))
        });
        if let Err(e) = result {
            panic!("{} at order {order}: {e}", case.name);
        }
    }
}

#[test]
fn orders_1_and_2() {
    check_table_at(2);
}

#[test]
fn orders_1_to_3_for_smooth_functions() {
    check_table_at(3);
}

#[test]
fn table_size() {
    // (function, order) pairs checked: every entry at orders 1 and 2, the smooth ones at 3.
    let cases = table();
    let pairs: usize = cases.iter().map(|c| c.order).sum();
    assert!(
        cases.len() >= 50 && pairs >= 140,
        "{} functions, {pairs} pairs",
        cases.len()
    );
}
