//! The property table against the primitive table of `ops/mod.rs`: every primitive listed
//! there is recorded by some case of the table (in its forward pass or in a derivative the
//! case is checked to), and every operation the cases record is listed there. Adding a
//! primitive without a property case, or without a row in the docs, fails here.

use std::collections::BTreeSet;

use autograd::{grad_with, GradOptions, Var};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use tensor::{DType, Tensor};

use crate::table;

/// The primitive names of the table in `ops/mod.rs`: the first cell of each row, in
/// backticks.
fn documented_primitives() -> BTreeSet<String> {
    let source = include_str!("../../src/ops/mod.rs");
    source
        .lines()
        .filter_map(|line| line.strip_prefix("//! | `"))
        .map(|rest| {
            rest.split('`')
                .next()
                .expect("a closing backtick")
                .to_string()
        })
        .collect()
}

/// Every operation recorded by `f` at `inputs`, and by its derivatives up to `order` (each a
/// recorded VJP of the one below, with a random cotangent, as `check_grads` builds them).
fn recorded_ops(f: fn(&[Var]) -> Var, inputs: &[Tensor], order: usize) -> BTreeSet<&'static str> {
    let leaves: Vec<Var> = inputs.iter().map(|x| Var::leaf(x.clone())).collect();
    let refs: Vec<&Var> = leaves.iter().collect();
    let mut level = f(&leaves);
    let mut ops: BTreeSet<&'static str> = level.graph_ops().into_iter().collect();
    let mut rng = <tensor::rand::rngs::StdRng as tensor::rand::SeedableRng>::seed_from_u64(7);
    let record = GradOptions {
        create_graph: true,
        ..GradOptions::default()
    };
    for _ in 1..=order {
        let seed = Var::constant(Tensor::rand_normal(
            level.shape(),
            0.0,
            1.0,
            DType::F64,
            &mut rng,
        ));
        let grads = grad_with(&[&level], &[&seed], &refs, record).unwrap_or_else(|e| panic!("{e}"));
        for g in &grads {
            ops.extend(g.graph_ops());
        }
        let flat: Vec<Var> = grads.iter().map(|g| g.reshape(&[g.numel()])).collect();
        level = Var::concat(&flat.iter().collect::<Vec<_>>(), 0);
    }
    ops
}

#[test]
fn every_primitive_is_in_the_property_table_and_every_recorded_op_is_documented() {
    let documented = documented_primitives();
    assert!(documented.len() >= 40, "parsed {documented:?}");
    let mut runner = TestRunner::deterministic();
    let mut exercised = BTreeSet::new();
    for case in table() {
        let inputs = (case.inputs)()
            .new_tree(&mut runner)
            .expect("inputs are drawn")
            .current();
        for op in recorded_ops(case.f, &inputs, case.order) {
            assert!(
                documented.contains(op),
                "case `{}` records `{op}`, which is missing from the primitive table of \
                 ops/mod.rs",
                case.name
            );
            exercised.insert(op.to_string());
        }
    }
    let missing: Vec<&String> = documented.difference(&exercised).collect();
    assert!(
        missing.is_empty(),
        "primitives with no case in the property table: {missing:?}"
    );
}
